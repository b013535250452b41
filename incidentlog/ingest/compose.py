"""Parse `docker compose logs` / `docker compose up` text (compose v1 and v2).

    web-1      | 2025-08-01T12:30:00.123456789Z message      (v2, --timestamps)
    web_1      | message                                     (v1)
    web-1 exited with code 1                                 (compose's own line)

One regex extraction per batch splits prefix, timestamp and message; compose's
own status lines are kept as records of the `compose` service because they
are evidence (exits, unhealthy dependencies).
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

from incidentlog.schema import TS_DTYPE

COMPOSE_SERVICE = "compose"

ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]|(?:\u2190|\^\[)\[[0-9;]*[mK]"
"""Colour and cursor codes; also colour codes made visible by a copy from a
Windows console (`←[36m`) or in caret notation (`^[[36m`, from `cat -v` or
`less`), which would otherwise hide the `name |` prefix."""
ANSI_STARTS = ["\x1b", "\u2190[", "^[["]

_MARKS = r"[ ✔✘⠀-⣿√×✓✗\\|/-]"
"""What compose prints before a progress line: done, failed, a spinner frame (braille on a
terminal, `-\\|/` on a console without them)."""

PODMAN_ECHO: Final = (
    r"podman-compose(?:r)? version:? |using podman version: |\['podman', |"
    r"podman (?:--[\w-]+(?:[ =]\S+)? )*(?:start|create|run|pod|network|volume|stop|rm|kill"
    r"|restart|build|pull|logs|ps|inspect|exec|wait|image|version|--version)\b"
)
"""podman-compose's own words: its version banners and the podman commands it echoes
before running them (`podman start -a shop_web_1`, `['podman', 'network', 'exists', …]`)."""
PODMAN_OWN: Final = (
    PODMAN_ECHO + r"|\*\* (?:excluding|merged):|exit code: -?\d+\s*$|Error: |"
    r"recreating: \.\.\.|Sending termination signal|container did not shut down|"
    # what podman prints for the commands it runs: a pull, the id of a container it created
    r"Trying to pull |Getting image source signatures|Copying (?:blob|config) |"
    r"Writing manifest to image destination|Storing signatures|[0-9a-f]{64}\s*$"
)
"""podman-compose's own lines and those of the podman commands it runs (`exit code: 1`
after each, podman's `Error: …`)."""

_PULL_MARK: Final = r"[✔✘⠀-⣿√×✓✗]"
"""A mark compose v2 prints before a pull's progress line (done, failed, a spinner frame);
unlike `_MARKS`, no space or ASCII spinner, so an application line never reads as one."""
_PULL_STATES: Final = (
    r"(?:Pulled|Pulling|Error|Warning|Skipped|Waiting|Interrupted|Downloading|Extracting"
    r"|Verifying Checksum|Download complete|Pull complete|Already exists)\b"
)
"""The states of a pull's progress line (`✔ db Pulled`, `✘ api Error …`)."""
_PULLING: Final = r"(?:(?:Pulled|Error|Warning|Skipped|Interrupted)\b|Pulling(?: +[\d.]+s)?\s*$)"
"""The states only a service's pull line has: a layer's line (`✔ 3f9c1a7be2d0 Pull
complete`, `⠿ 3f9c1a7be2d0 Pulling fs layer`) names no service."""

COMPOSE_OWN = (
    r"^(?:Attaching to |Gracefully stopping|Aborting on container exit|"
    r"\S+ exited with code -?\d+|dependency failed to start|"
    r"ERROR: for |ERROR: |WARNING: |WARN\[\d+\]|\[\+\] |"
    r"(?:Creating|Starting|Stopping|Removing|Recreating|Killing|Pulling|Building) \S+ +\.\.\.|"
    # v1: a container left as it was, an image pulled (`Pulling db (postgres:15)...`, the
    # layers, the digest, the status)
    r"\S+ is up-to-date\s*$|Pulling \S+ \([^)\s]*\)\.\.\.|"
    r"[0-9a-f]{12}: (?:Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete"
    r"|Extracting|Pull complete|Already exists)|Digest: sha256:[0-9a-f]+\s*$|"
    r"Status: (?:Downloaded newer image|Image is up to date) for |"
    r"(?:Creating|Removing) (?:network|volume) |"
    # the CLI's own words: no daemon, a wrong service name, the attached menu (2.27+)
    r"Cannot connect to the Docker daemon at |error during connect: |no such service: |"
    r"permission denied while trying to connect to the Docker daemon socket|"
    r"Couldn't connect to Docker daemon|"
    r"unable to prepare context: |\s*v View in Docker Desktop|\s*w Enable Watch|"
    rf"{_MARKS}*\s*(?:Container|Network|Volume|Image) \S+\s+"
    r"(?:Creating|Created|Starting|Started|Stopping|Stopped|Removing|Removed|Recreate|Recreated|"
    r"Waiting|Healthy|Running|Error|Exited|Killing|Killed|Pulling|Pulled|Built|Building)|"
    r"(?:Error response from daemon|"
    r"service \S+ .*(?:failed|didn't complete successfully|invalid compose project|undefined service)|"
    rf"{_MARKS}*\s*Container \S+ .*(?:unhealthy|exited|didn't complete successfully|failed to start))|"
    # compose file problems: v2 (compose-go) and v1 (the lines after "is invalid because:")
    r"validating \S+: |(?:parsing \S+: )?yaml: |invalid interpolation format |"
    r"error while interpolating |required variable \S+ is missing a value|application not healthy after |"
    r"network \S+ declared as external|container \S+ is unhealthy|no configuration file provided|"
    r"container \S+ exited \(-?\d+\)\s*$|"  # (`up --wait`: a container that stopped)
    r"failed to read \S*\.env\S*: |"
    r"env file \S+ not found|Failed to load \S*\.env|Unsupported config option for |"
    r"\(root\) Additional propert|services\.\S+ (?:value |contains |must |Additional |additional |is |does )|"
    # image builds: BuildKit progress (`=> ERROR [web 4/6] RUN ...`, `> [web 4/6] ...:`,
    # `#12 [web 4/6] ...`), its last words, and v1's classic builder
    r"\s*=> |\s*> \[[\w.-]+ |#\d+ \[[\w.-]+ |(?:ERROR: |target \S+: )?failed to solve:|"
    r"Building [\w.-]+\s*$|ERROR: Service '[\w.-]+' failed to build|"
    # image pulls: bare v2 errors and the `✘ api Error ...` progress line
    r"no matching manifest for |manifest for \S+ not found|pull access denied for |"
    r"\s*[✔✘⠿]?\s*[\w.-]+ +(?:Error|Warning) +(?:pull access denied|manifest|no matching manifest)|"
    # v2's pull progress names the service after a mark (`✔ db Pulled`, `⠿ api Pulling`,
    # `✘ api Error failed to register layer: …`); a layer's own line names its id
    rf"\s*{_PULL_MARK}\s*[\w.-]+ +{_PULL_STATES}|" + PODMAN_OWN + ")"
)
"""Lines compose itself prints around the service logs (v1 and v2, podman-compose):
progress and status lines, compose-file and image-pull errors."""

LOGRUS = r'^time="[^"]+" level=(?:trace|debug|info|warning|error|fatal|panic) msg='
"""Compose (and the docker CLI) warn in logrus format: `time="…" level=warning msg="…"`."""

_BUILD_STEP = r"^\s*(?:=> (?:[A-Z]+ )?|> |#\d+ )\[([A-Za-z0-9][\w.-]*) "
"""BuildKit's progress and step lines name the service first in brackets (`=> ERROR [web
4/6] RUN …`, `> [web 4/6] RUN …:`, `#12 [web internal] …`)."""
_V1_BUILDING = r"^Building ([A-Za-z0-9][\w.-]*)\s*$"
"""Compose v1 before the classic builder's steps."""

_SUBJECTS = (
    r'\bservice "([A-Za-z0-9][\w.-]*)"',
    r"^/?([A-Za-z0-9][\w.-]*) exited with code",
    rf"^\s*{_MARKS}*\s*Container /?([A-Za-z0-9][\w.-]*)\s",
    r"(?i)dependency failed to start: container /?([A-Za-z0-9][\w.-]*)",
    r"^ERROR: for /?([A-Za-z0-9][\w.-]*)\s",
    r"Cannot start service ([A-Za-z0-9][\w.-]*):",
    r'^service "?([A-Za-z0-9][\w.-]*)"? ',
    r"^(?:Creating|Starting|Recreating|Stopping|Killing|Removing) /?([A-Za-z0-9][\w.-]*) +\.\.\.",
    r"^/?([A-Za-z0-9][\w.-]*) is up-to-date\s*$",
    r"(?i)\bcontainer /?([A-Za-z0-9][\w.-]*) (?:is unhealthy|exited)",
    r"^\s*[✔✘⠿]?\s*([A-Za-z0-9][\w.-]*) +(?:Error|Warning) +",
    rf"^\s*{_PULL_MARK}\s*([A-Za-z0-9][\w.-]*) +{_PULLING}",
    r"^Pulling ([A-Za-z0-9][\w.-]*) \([^)\s]*\)\.\.\.",
    _BUILD_STEP,
    r"^target ([A-Za-z0-9][\w.-]*): failed to solve",
    _V1_BUILDING,
    r"^ERROR: Service '([A-Za-z0-9][\w.-]*)' failed to build",
    rf"^\s*{_MARKS}*\s*(?:Image|Service) /?([A-Za-z0-9][\w.-]*)\s+(?:Building|Built)",
    r"^podman (?:create|run) (?:\S+ )*?--name[= ]([A-Za-z0-9][\w.-]*)",
    r"^podman start (?:-a )?([A-Za-z0-9][\w.-]*)\s*$",
)
"""The container or service a compose line is about (first capture of the first match)."""
_AFTER_START = (
    r"^(?:Error response from daemon|Error: |ERROR: (?:for )?[^f]|(?:ERROR: )?failed to solve"
    r"|no matching manifest for |manifest for \S+ not found|pull access denied for )"
)
"""Daemon, build and pull errors that name nothing: they are about the container compose
was starting, the image it was building, or the one it was pulling."""
_UNFINISHED = (
    r"\bContainer \S+\s+(?:Starting|Creating|Recreating|Waiting|Error)\b|^\s*✘\s*Container"
    rf"|^\s*{_PULL_MARK}\s*[\w.-]+ +(?:Error\b|Pulling(?: +[\d.]+s)?\s*$)"
)
"""A progress line of a container compose did not get running (`✘ … Error`, `Starting`)."""
_STARTING = (
    r"(?:\bContainer \S+\s+(?:Creat|Start|Recreat)|^(?:Creating|Starting|Recreating) \S+ +\.\.\."
    r"|^podman (?:create|run|start) "
    rf"|^\s*{_PULL_MARK}\s*[\w.-]+ +Pulling(?: +[\d.]+s)?\s*$|^Pulling \S+ \([^)\s]*\)\.\.\."
    rf"|{_BUILD_STEP}|{_V1_BUILDING}|\b(?:Image|Service) \S+\s+Building)"
)


def strip_ansi(text: pl.Expr) -> pl.Expr:
    """Remove colour codes (runs without --no-color); cheap when there are none."""
    return (
        pl.when(text.str.contains_any(ANSI_STARTS))
        .then(text.str.replace_all(ANSI, ""))
        .otherwise(text)
    )


def parse_timestamp(stamp: pl.Expr) -> pl.Expr:
    """RFC 3339 (any fraction, `Z` or offset, `T` or space) to UTC nanoseconds."""
    normal = stamp.str.replace(" ", "T", literal=True).str.replace(",", ".", literal=True)
    normal = normal.str.replace(r"Z$", "+00:00")
    return normal.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="ns", time_zone="UTC", strict=False
    ).cast(TS_DTYPE)


def parse_timestamps(stamps: pl.Series) -> pl.Series:
    """`parse_timestamp` for a whole column.

    Engine stamps (`2025-08-01T12:30:00.123456789Z`, fixed width) come in
    time order, so their seconds change only every few thousand lines: the
    seconds are parsed once per run of equal values and the nanoseconds added
    as integers. Anything else takes the general path.
    """
    present = stamps.drop_nulls()
    if present.is_empty():
        return pl.repeat(None, stamps.len(), dtype=TS_DTYPE, eager=True).alias(stamps.name)
    if (present.str.len_bytes() == _ENGINE_STAMP_BYTES).all() and present.str.ends_with("Z").all():
        ts = _engine_times(stamps.str.slice(0, 19), stamps.str.slice(20, 9))
        if ts.null_count() == stamps.null_count():
            return ts.alias(stamps.name)
    fast = stamps.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.fZ", time_unit="ns", time_zone="UTC", strict=False
    ).cast(TS_DTYPE)
    if fast.null_count() == stamps.null_count():
        return fast
    return pl.select(parse_timestamp(pl.lit(stamps))).to_series()


_ENGINE_STAMP_BYTES = len("2025-08-01T12:30:00.123456789Z")


def _engine_times(seconds: pl.Series, nanos: pl.Series) -> pl.Series:
    """UTC times from the `2025-08-01T12:30:00` and `123456789` parts of engine
    stamps. Lines come in time order, so the seconds change only every few
    thousand lines: they are parsed once per run of equal values."""
    starts = seconds.ne_missing(seconds.shift(1))
    firsts = starts.arg_true()
    parsed = seconds.gather(firsts).str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S", time_unit="ns", time_zone="UTC", strict=False
    )
    run = (
        starts.to_frame("start")
        .select(pl.when("start").then(pl.int_range(pl.len(), dtype=pl.UInt32)).forward_fill())
        .to_series()
    )
    first_of_run = pl.repeat(None, seconds.len(), dtype=TS_DTYPE, eager=True).scatter(
        firsts, parsed.cast(TS_DTYPE)
    )
    return pl.select(
        pl.lit(first_of_run).gather(pl.lit(run))
        + pl.duration(nanoseconds=pl.lit(nanos.cast(pl.Int64, strict=False)))
    ).to_series()


LEADING_STAMP = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2}))(?: |$)"
)
"""Any RFC 3339 stamp that starts a text, followed by a space or the end."""


def leading_stamps(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The stamp that starts each text as UTC ns, and how many characters to cut
    with it (the stamp and its space; 0 when there is none or it is no real time,
    like `0000-00-00T...`, which then stays in the text)."""
    stamp = texts.str.extract(LEADING_STAMP, 1)
    ts = parse_timestamps(stamp)
    after = pl.lit(texts).str.slice(pl.lit(stamp).str.len_bytes() + 1)
    # Spring Boot 3 pads the level after its own ISO time (`…105Z  WARN 1 ---`): that
    # padding goes with the stamp. Any other indent is the output's own (a traceback's
    # `  File …` after a stamp), kept.
    padded = after.str.contains(_PADDED_LEVEL).fill_null(False)
    padding = after.str.len_bytes() - after.str.strip_chars_start(" ").str.len_bytes()
    chars = pl.select(
        pl.when(pl.lit(ts).is_not_null())
        .then(
            pl.lit(stamp).str.len_bytes()
            + 1
            + pl.when(padded).then(padding).otherwise(0).cast(pl.UInt32)
        )
        .otherwise(0)
    ).to_series()
    return ts, chars


_PADDED_LEVEL: Final = r"^ {1,4}(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) "
"""A level word right-aligned to five characters, as logback's `%5p` prints it."""


def with_timestamp(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Split a leading engine timestamp off `column` into `ts` (UTC ns); the rest stays."""
    ts, cut = leading_stamps(frame.get_column(column))
    return frame.with_columns(ts=ts, **{column: pl.col(column).str.slice(pl.lit(cut))})


def service_from_container(container: pl.Expr, project: pl.Expr | None = None) -> pl.Expr:
    """Compose service of a container name: `web-1` (v2), `web_1` (v1) or `web.1` (a
    swarm task) → `web`.

    With the project known, its prefix goes too: `shop-web-1` / `shop_web_1` → `web`.
    """
    service = (
        pl.when(container.str.contains(r"-\d+$"))
        .then(container.str.replace(r"-\d+$", ""))
        .otherwise(container.str.replace(r"[_.]\d+$", ""))
    )
    if project is None:
        return service
    prefixed = service.str.starts_with(project + "-") | service.str.starts_with(project + "_")
    return (
        pl.when(prefixed.fill_null(False))
        .then(service.str.slice(project.str.len_chars() + 1))
        .otherwise(service)
    )


def services_of(containers: pl.Series) -> pl.Series:
    """`service_from_container` over a column, computed once per distinct name."""
    distinct = containers.unique().drop_nulls()
    services = pl.select(service_from_container(pl.lit(distinct))).to_series()
    return containers.replace_strict(distinct, services, default=None, return_dtype=pl.String)


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""A container name as compose prints it before `|` (padding stripped)."""

SWARM_TASK: Final = r"^([A-Za-z0-9][\w.-]*?\.\d+)(?:\.[a-z0-9]{12,25})?@([A-Za-z0-9][\w.-]*)$"
"""How `docker service logs` names what printed a line: `<stack>_<service>.<slot>`, the
task's id unless `--no-task-ids`, then `@<node>` (`shop_web.1.k2x8j3mq0v1z@node-2`). The
task is kept as `shop_web.1`, the replica of compose's `shop-web-1`: a task the swarm
started again in the slot after a crash is the same replica restarted; the node is the
record's host."""

_ENGINE_STAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z(?: |$)"
"""The fixed-width stamp `docker compose logs --timestamps` prints, and its space."""


def parse_compose_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """From `line` (+ `seq`) to container, service, ts, text and a `reject` reason.

    A line is rejected only when it has no `name |` prefix and is not one of
    compose's own lines; blank lines between records are kept as text.
    Regex captures cost far more per line than a plain match, so the prefix
    is found with literal searches and slices, the timestamp is recognised
    by a match and cut at its known width (captures only for the rare
    stamps of other widths), and per-name work runs once per distinct name.
    """
    text = lines.get_column("line")
    if text.str.contains_any(ANSI_STARTS).any():
        text = text.str.replace_all(ANSI, "")
    if text.str.contains("\r", literal=True).any():  # a terminal shows what follows the last CR
        text = text.str.replace(r"^[^\n]*\r", "")
    lead_ts = None
    if text.str.contains(LEADING_STAMP).any():
        text, lead_ts = _lift_leading_stamps(text)
    bar = text.str.find("|", literal=True)
    # what follows `|`: compose's space, then maybe an engine stamp and its space
    after_bar = pl.select(
        pl.lit(text).str.slice(pl.lit(bar) + 1, 1 + _ENGINE_STAMP_BYTES + 1)
    ).to_series()
    spaced = after_bar.str.starts_with(" ").fill_null(False).cast(pl.UInt32)
    cut = pl.select(bar + 1 + spaced).to_series()
    # (no `|`, no prefix: a one-word line such as `canceled` or `Killed` is no container)
    before_bar = pl.select(
        pl.when(pl.lit(bar).is_not_null()).then(pl.lit(text).str.slice(0, pl.lit(bar)))
    ).to_series()
    container, service, host = _containers_and_services(before_bar)
    wrapped_prefix = _wrapped_prefixes(container, bar, lines.get_column("line"))
    if wrapped_prefix.any():
        container, service, host = (
            pl.select(pl.when(~pl.lit(wrapped_prefix)).then(pl.lit(c))).to_series()
            for c in (container, service, host)
        )
    prefixed = container.is_not_null()
    window = pl.select(
        pl.lit(after_bar).str.slice(pl.lit(spaced), _ENGINE_STAMP_BYTES + 1)
    ).to_series()
    ts, stamp_chars = _leading_timestamps(text, cut, window, prefixed)
    prefix = pl.select(pl.when(pl.lit(prefixed)).then(pl.lit(cut)).otherwise(0)).to_series()
    text = pl.select(pl.lit(text).str.slice(pl.lit(prefix) + pl.lit(stamp_chars))).to_series()
    frame = lines.with_columns(text=text, container=container, service=service, ts=ts, host=host)
    if lead_ts is not None:  # (a stamp when the line was printed: `_dated_by_application`)
        frame = frame.with_columns(printed_ts=lead_ts)
    unprefixed = container.is_null()
    if not unprefixed.any():
        return _split_glued_exits(frame).with_columns(
            joined=pl.lit(False), wrapped=pl.lit(False), reject=pl.lit(None, dtype=pl.String)
        )
    runner = unprefixed & text.str.contains(CI_RUNNER)
    own = unprefixed & ~runner & (text.str.contains(COMPOSE_OWN) | text.str.contains(LOGRUS))
    blank = unprefixed & ~own & (text.str.strip_chars() == "")
    fence = unprefixed & ~own & text.str.contains(_FENCE)
    orphan = unprefixed & ~own & ~blank & ~fence & ~runner
    line = lines.get_column("line")
    wrapped = pl.select(
        pl.lit(orphan)
        & (
            pl.lit(wrapped_prefix)
            | (
                (pl.lit(line).str.len_chars().shift(1) >= WRAP_WIDTH)
                & pl.lit(text).str.contains(_WRAP_CONTINUES)
                & ~pl.lit(text).str.contains(_TIME_FIRST)
            )
        )
    ).to_series()
    frame = frame.with_columns(
        _own=own,
        _orphan=orphan,
        _blank=blank,
        _fence=fence,
        _runner=runner,
        wrapped=wrapped.fill_null(False),
    ).with_columns(_about(pl.col("text"), pl.col("_own")).alias("_subject"))
    return _podman_exits(
        _split_glued_exits(
            frame.with_columns(
                container=pl.when("_own")
                .then(pl.lit(COMPOSE_SERVICE))
                .otherwise(pl.col("container")),
                # compose's line about a container counts for that container's service (the
                # printed name here; ingest resolves it to the compose service)
                service=pl.when("_own")
                .then(pl.coalesce("_subject", pl.lit(COMPOSE_SERVICE)))
                .otherwise(pl.col("service")),
                joined=pl.col("_orphan"),
                reject=pl.when("_blank")
                .then(pl.lit("blank line"))
                .when("_fence")
                .then(pl.lit("a Markdown code fence (the paste's, not the log's)"))
                .when("_runner")
                .then(pl.lit(CI_RUNNER_LINE))
                .otherwise(None),
            ).drop("_own", "_orphan", "_blank", "_fence", "_runner", "_subject")
        )
    )


_PODMAN_EXIT: Final = r"^exit code: (-?\d+)\s*$"
_ATTACHED: Final = r"^podman start -a ([A-Za-z0-9][\w.-]*)\s*$"
"""podman-compose `up` runs `podman start -a NAME` for each container, all at once, and
prints `exit code: N` when one of them returns: that container's exit."""


def _podman_exits(frame: pl.DataFrame) -> pl.DataFrame:
    """podman-compose's `exit code: N` lines about a container it attached to, said in
    compose's words (`api exited with code 3 (podman-compose: exit code: 3)`), so that
    they count as the exit of that container, not of the tool.

    The line names nothing: it is the exit of the one attached container that prints
    nothing after it, or, of several, the one that printed last (a container's last
    words come right before its exit). The code after any other echoed command (`podman
    create`, `podman network exists`) is that command's, left as it is. Such lines are
    few: the walk is a Python loop over the echoed commands and exit lines only."""
    text = pl.col("text")
    own = pl.col("container") == COMPOSE_SERVICE
    exits = own & text.str.contains(_PODMAN_EXIT)
    if not frame.select(exits.any()).item():
        return frame
    printer = pl.when(~own & pl.col("container").is_not_null()).then(pl.col("container"))
    marked = frame.with_columns(
        _printer=printer.forward_fill(),
        _printed=pl.when(~own & pl.col("container").is_not_null())
        .then(pl.col("seq"))
        .forward_fill(),
    )
    steps = marked.filter(own & (exits | text.str.contains("^" + PODMAN_ECHO)))
    last_words = dict(
        frame.filter(~own & pl.col("container").is_not_null())
        .group_by("container")
        .agg(pl.col("seq").max())
        .iter_rows()
    )
    attached: list[str] = []
    pending: int | None = None  # (the seq of an echoed command whose code is not seen yet)
    said: dict[int, tuple[str, str]] = {}
    for seq, line, printer_name, printed in steps.select(
        "seq", "text", "_printer", "_printed"
    ).iter_rows():
        start = re.match(_ATTACHED, line)
        if start:
            attached.append(start.group(1))
            continue
        code = re.match(_PODMAN_EXIT, line)
        if code is None:
            pending = seq
            continue
        if pending is not None and (printed is None or printed < pending):
            pending = None  # (the echoed command's own code)
            continue
        pending = None
        # (a container that prints after the line is still running: not the one)
        done = [
            a
            for a in attached
            if not any(_same_container(a, p) and last > seq for p, last in last_words.items())
        ]
        name = _attached_printer(done, printer_name)
        if name is None:
            continue
        attached.remove(name)
        shown = printer_name if printer_name and _same_container(name, printer_name) else name
        said[seq] = (shown, f"{shown} exited with code {code.group(1)} (podman-compose: {line})")
    if not said:
        return frame
    fixes = pl.DataFrame(
        {
            "seq": pl.Series(list(said), dtype=frame.schema["seq"]),
            "_name": [n for n, _ in said.values()],
            "_said": [t for _, t in said.values()],
        }
    )
    return (
        frame.join(fixes, on="seq", how="left", maintain_order="left")
        .with_columns(text=pl.coalesce("_said", "text"), service=pl.coalesce("_name", "service"))
        .drop("_name", "_said")
    )


def _attached_printer(attached: list[str], printer: str | None) -> str | None:
    """Which attached container an `exit code` line is about: the only one, or the one
    that printed last."""
    if len(attached) == 1:
        return attached[0]
    matched = [a for a in attached if printer and _same_container(a, printer)]
    return matched[0] if len(matched) == 1 else None


def _same_container(container: str, printed: str) -> bool:
    """`shop_api_1` is what `[api]` or `api_1` printed (podman-compose prefixes a
    container's lines with its service, or its name without the project)."""
    if container == printed:
        return True
    base = re.sub(r"[_-]\d+$", "", container)
    short = re.sub(r"[_-]\d+$", "", printed)
    return base == short or base.endswith(("_" + short, "-" + short))


def _wrapped_prefixes(container: pl.Series, bar: pl.Series, line: pl.Series) -> pl.Series:
    """Lines whose `name |` is the rest of a wrapped line (`…type=R` / `EPORT | branch=…`):
    a name compose did not number, seen only right after a line as long as a terminal,
    its `|` never where the line before had it (compose pads every prefix of an output
    alike)."""
    frame = pl.DataFrame({"container": container, "bar": bar, "length": line.str.len_chars()})
    suspect = (
        pl.col("container").is_not_null()
        & ~pl.col("container").str.contains(r"[-_.]\d+$")
        & (pl.col("length").shift(1) >= WRAP_WIDTH)
        & (pl.col("bar") != pl.col("bar").shift(1))
    ).fill_null(False)
    marked = frame.with_columns(suspect.alias("_suspect"))
    names = (
        marked.filter(pl.col("container").is_not_null())
        .group_by("container")
        .agg(pl.col("_suspect").all())
        .filter("_suspect")
        .get_column("container")
    )
    if names.is_empty():
        return pl.repeat(False, len(line), eager=True)
    return container.is_in(names.implode()).fill_null(False)


_PREFIX_OR_OWN: Final = r"^\s*\[?[A-Za-z0-9][\w.@-]*\]?\s*\|"


def _lift_leading_stamps(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """`<time> web-1 | msg` and `<time> web-1 exited with code 1`: the time is cut
    off where what follows is a compose line, and kept as the line's time unless the
    message carries its own. Other lines (a stamped continuation) stay whole."""
    ts, chars = leading_stamps(text)
    rest = pl.select(pl.lit(text).str.slice(pl.lit(chars))).to_series()
    lifted = (
        (chars > 0) & (rest.str.contains(_PREFIX_OR_OWN) | rest.str.contains(COMPOSE_OWN))
    ).fill_null(False)
    frame = pl.DataFrame({"text": text, "rest": rest, "ts": ts, "lifted": lifted})
    out = frame.select(
        text=pl.when("lifted").then("rest").otherwise("text"),
        ts=pl.when("lifted").then("ts"),
    )
    return out.get_column("text"), out.get_column("ts")


_FENCE: Final = r"^\s*(?:```|~~~)[\w+-]*\s*$"
CI_RUNNER: Final = (
    r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z )?(?:##\[(?:group|endgroup|error|warning"
    r"|notice|debug|command|section)\]|section_(?:start|end):\d+:|\[Pipeline\] "
    r"|Finished: (?:SUCCESS|FAILURE|UNSTABLE|ABORTED|NOT_BUILT)\s*$"
    r"|ERROR: script returned exit code \d+\s*$"
    # GitLab's runner: its header, its stages, its verdict
    r"|Running with gitlab-runner |  on \S+ \S+(?:, system ID: \S+)?\s*$"
    r"|Preparing the \"[\w-]+\" executor|Preparing environment\s*$|Running on runner-"
    r"|Using (?:docker image|Docker executor) |Getting source from Git repository\s*$"
    r"|Fetching changes|Checking out [0-9a-f]+ as |Skipping Git submodules"
    r"|Executing \"[\w-]+\" stage of the job script|Cleaning up project directory"
    r"|Uploading artifacts|ERROR: Job failed: |Job succeeded\s*$)"
)
"""A CI runner's own line in a job's log: GitHub Actions' and Azure Pipelines' `##[group]`,
`##[error]Process completed with exit code 1.`, GitLab's `section_start:…` markers,
Jenkins's `[Pipeline] sh`, `ERROR: script returned exit code 1`, `Finished: FAILURE`."""
CI_RUNNER_LINE: Final = "a CI runner's own line (##[group], [Pipeline], section_start, …)"

WRAP_WIDTH: Final = 80
"""The narrowest terminal a paste is usually wrapped at: a line without a prefix after a
line at least this long, going on with a word or phrase (`_WRAP_CONTINUES`), is the rest
of that line, which the terminal or the ticket wrapped (`"postgres.i` / `nternal"`)."""
_WRAP_CONTINUES: Final = r"^(?:[a-z0-9]| [^ \t]|[\"'),.:;/_=\]}>-])"
"""How the rest of a wrapped line starts: inside a word, at the one space between words,
or at punctuation. A line of its own starts otherwise (`Traceback`, `  File`, `[`, a
capital, a time: `_TIME_FIRST`)."""
_TIME_FIRST: Final = r"^(?:[0-9]{4}[-/.][0-9]{2}[-/.][0-9]{2}|[0-9]{2}[-/.][0-9]{2}[-/.][0-9]{2,4}|[0-9]{2}:[0-9]{2}:[0-9]{2})"
"""A Markdown code fence line: logs pasted into an issue or a chat keep them."""


def _about(text: pl.Expr, own: pl.Expr) -> pl.Expr:
    """What each of compose's own lines is about (null for the others and for lines about
    nothing); a daemon error that names nothing is about the container being started."""
    subject = pl.coalesce([text.str.extract(p, 1) for p in _SUBJECTS])
    starting = pl.when(own & text.str.contains(_STARTING)).then(subject)
    last_started = starting.forward_fill()
    # in the progress block the error ends, the one container left unfinished is the one
    # that failed (`Starting` beside others already `Started`)
    block = (~own).cum_sum()
    unfinished = pl.when(own & text.str.contains(_UNFINISHED)).then(subject)
    stuck = unfinished.forward_fill().over(block)
    return (
        pl.when(own)
        .then(
            pl.coalesce(
                subject,
                pl.when(text.str.contains(_AFTER_START)).then(pl.coalesce(stuck, last_started)),
            )
        )
        .otherwise(None)
    )


_GLUED_EXIT = r"\S(/?[A-Za-z0-9][\w.-]*) exited with code (-?\d+)(?: \(restarting\))?\s*$"
"""`…last outputweb-1 exited with code 1`: compose's exit line glued to a record that
ended without a newline."""


def _split_glued_exits(frame: pl.DataFrame) -> pl.DataFrame:
    """Compose's exit lines glued to the end of a record become lines of their own.

    Only names this batch prints as containers count, so a message that merely
    ends in `… exited with code 3` stays whole. Such lines are rare: the split
    is a Python loop over them only."""
    prefixed = frame.filter(
        pl.col("container").is_not_null()
        & (pl.col("container") != COMPOSE_SERVICE)
        & pl.col("text").str.contains(_GLUED_EXIT)
    )
    if prefixed.is_empty():
        return frame
    names = set(frame.get_column("container").drop_nulls().unique().to_list())
    rows = []
    for row in prefixed.iter_rows(named=True):
        text = row["text"]
        cut = text.rfind(" exited with code ")
        for name in sorted(names, key=len, reverse=True):
            if text[:cut].endswith(name) and len(text[:cut]) > len(name):
                rows.append((row["seq"], text[: cut - len(name)], text[cut - len(name) :], name))
                break
    if not rows:
        return frame
    seqs = pl.Series([r[0] for r in rows], dtype=frame.schema["seq"])
    head = pl.DataFrame({"seq": seqs, "_head": [r[1] for r in rows]})
    tails = (
        frame.join(
            pl.DataFrame(
                {"seq": seqs, "text": [r[2] for r in rows], "_name": [r[3] for r in rows]}
            ),
            on="seq",
        )
        .with_columns(
            pl.col("text_right").alias("text"),
            pl.lit(COMPOSE_SERVICE).alias("container"),
            pl.col("_name").alias("service"),
            pl.lit(None, dtype=frame.schema["ts"]).alias("ts"),
        )
        .select(frame.columns)
    )
    fixed = (
        frame.join(head, on="seq", how="left")
        .with_columns(text=pl.coalesce("_head", "text"))
        .drop("_head")
    )
    return pl.concat([fixed, tails]).sort("seq", maintain_order=True)


def _containers_and_services(prefixes: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Container names (null where the text before `|` is no name), their compose
    services and the swarm node a task ran on (null for compose's names), worked out
    once per distinct padded prefix and spread back with one join."""
    distinct = prefixes.unique().drop_nulls()
    printed = (
        pl.col("prefix")
        .str.strip_chars_end(" \t")  # (podman-compose prints `[web_1]      | …`)
        .str.strip_prefix("[")
        .str.strip_suffix("]")
    )
    task = printed.str.extract_groups(SWARM_TASK)
    mapping = (
        pl.DataFrame({"prefix": distinct})
        .with_columns(
            container=pl.coalesce(task.struct.field("1"), printed),
            host=task.struct.field("2"),
        )
        .filter(pl.col("container").str.contains(_NAME))
        .with_columns(service=service_from_container(pl.col("container")))
    )
    joined = prefixes.to_frame("prefix").join(
        mapping, on="prefix", how="left", maintain_order="left"
    )
    return joined.get_column("container"), joined.get_column("service"), joined.get_column("host")


def _leading_timestamps(
    text: pl.Series, cut: pl.Series, window: pl.Series, prefixed: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """`leading_stamps` of the messages (at `cut`) of prefixed lines. Engine
    stamps are matched in `window`, the message's first characters (a short
    string matches faster than the line), and sliced at their fixed offsets;
    only other lines get a wider window and a capture."""
    engine = window.str.contains(_ENGINE_STAMP) & prefixed
    parts = pl.DataFrame({"window": window, "engine": engine}).select(
        seconds=pl.when("engine").then(pl.col("window").str.slice(0, 19)),
        nanos=pl.when("engine").then(pl.col("window").str.slice(20, 9)),
    )
    ts = _engine_times(parts.get_column("seconds"), parts.get_column("nanos"))
    chars = pl.select(
        pl.when(pl.lit(ts).is_not_null()).then(_ENGINE_STAMP_BYTES + 1).otherwise(0)
    ).to_series()
    rest = (~engine & prefixed).arg_true()
    if rest.len():  # other stamps (any RFC 3339 width), or none
        after = (
            pl.DataFrame({"text": text.gather(rest), "cut": cut.gather(rest)})
            .select(pl.col("text").str.slice(pl.col("cut"), 64))
            .to_series()
        )
        other, taken = leading_stamps(after)
        ts = ts.scatter(rest, other)
        chars = chars.scatter(rest, taken.cast(chars.dtype))
    return ts, chars


def parse_raw_lines(lines: pl.DataFrame, service: str) -> pl.DataFrame:
    """Lines with no compose prefix (`--no-log-prefix`, a plain log file): one service."""
    frame = lines.with_columns(
        text=strip_ansi(pl.col("line")),
        container=pl.lit(service),
        service=pl.lit(service),
    ).with_columns(
        reject=pl.when(pl.col("text").str.contains(CI_RUNNER)).then(pl.lit(CI_RUNNER_LINE)),
    )
    return with_timestamp(frame, "text")
