"""The stack and its services: who is there, what each did, and its state at the end.

`read_stack` reads the evidence once (services, projects, containers, configs
and one row of statistics per service, all vectorised); `service_states` and
`ServiceGroups` say, once the issues are known, which services need attention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import polars as pl

from incidentlog.incident.health import probe_of, service_detail, unhealthy_after
from incidentlog.incident.model import Issue, ServiceState
from incidentlog.incident.ports import listening_ports
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.ingest.events import drop_repeated_ooms
from incidentlog.ingest.names import HOST_PROCESSES
from incidentlog.schema import Category, EventAction, Level
from incidentlog.sources import Evidence
from incidentlog.topology import ContainerConfig

__all__ = [
    "ServiceGroups",
    "ServiceStats",
    "Stack",
    "healthy_servers",
    "peak",
    "read_stack",
    "service_groups",
    "service_states",
]

UTC_NS = pl.Datetime("ns", "UTC")


@dataclass(frozen=True)
class ServiceStats:
    """What the evidence says about one service (one row of `_service_frame`)."""

    service: str
    state: str
    """restarting / exited / unhealthy / healthy / running / unknown at the end."""
    state_text: str
    """The last `docker ps` (or inspect) status line, when there is one."""
    restarts: int
    """The engine's RestartCount, its start events after the first, the exits compose
    printed that the container logged on after, or the restarts inferred from its start-up
    line repeating after errors, whichever says more."""
    errors: int
    first_unhealthy: datetime | None
    recovered_at: datetime | None
    unhealthy_seconds: float
    exits: int = 0
    """die events (or compose's `exited with code` lines, when they say more)."""
    restarts_from_logs: bool = False
    """`restarts` counts what the logs show (compose's exit lines the container logged on
    after, its start-up line repeating after errors), more than the engine's RestartCount or
    its start events say."""
    started_at: datetime | None = None
    """The first start event."""
    first_exit: datetime | None = None
    last_exit: datetime | None = None
    exit_codes: tuple[int, ...] = ()
    last_probe: datetime | None = None
    """The last probe result in the evidence (inspect keeps 5)."""
    last_probe_output: str | None = None
    last_probe_exit: int | None = None
    ooms: int = 0
    """Kernel OOM kills (one per kill, whatever the sources)."""
    first_oom: datetime | None = None


@dataclass(frozen=True)
class Stack:
    """The evidence (redacted as asked) and what it says about the stack."""

    logs: pl.DataFrame
    events: pl.DataFrame
    findings: pl.DataFrame
    summary: pl.DataFrame
    services: list[str]
    """Sorted; the compose file's services when there is one (plus any the engine reported)."""
    projects: list[str]
    window_start: datetime | None
    window_end: datetime | None
    undated_records: int
    """Log records without a time (in partly dated evidence, kept in input order)."""
    stats: dict[str, ServiceStats]
    configs: dict[str, ContainerConfig]
    """By service (inspect's container names mapped to their services)."""
    containers: dict[str, str]
    """Container name -> service, as the logs and events pair them."""
    container_names: dict[str, list[str]]
    """Service -> its containers as the engine named them (sorted)."""
    depends_on: dict[str, list[str]]
    compose_services: list[str]
    listening: dict[int, list[str]]
    """Port -> the services listening on it (their start-up lines, else their image's port)."""

    @property
    def names(self) -> frozenset[str]:
        """Every name the stack answers to on its networks: services, containers."""
        return frozenset(
            [*self.services, *self.compose_services, *self.containers]
            + [c for names in self.container_names.values() for c in names]
        )


def read_stack(
    evidence: Evidence, findings: pl.DataFrame, summary: pl.DataFrame, events: pl.DataFrame
) -> Stack:
    """The stack as the evidence shows it (`events` possibly redacted, like the findings)."""
    logs = evidence.logs
    ts_all = pl.concat([logs.select("ts"), events.select("ts")]).get_column("ts").drop_nulls()
    window_start: datetime | None = ts_all.min()  # type: ignore[assignment]
    window_end: datetime | None = ts_all.max()  # type: ignore[assignment]
    # The compose file's services, and any other the logs or the engine reported; beside
    # services that logged, also one only a finding names (compose's `services.api.
    # healthcheck …` is about api, which logged nothing). Compose's lines alone show none.
    from_logs = set(logs.get_column("service").drop_nulls().unique().to_list())
    named = set(summary.get_column("service").drop_nulls().unique().to_list())
    services = sorted(
        (
            set(evidence.compose_services)
            | from_logs
            | set(events.get_column("service").drop_nulls().unique().to_list())
            | (named if from_logs - {COMPOSE_SERVICE} else set())
        )
        - {COMPOSE_SERVICE}
        - (HOST_PROCESSES - named)  # the engine's lines in a journal paste: no service
    )
    projects = sorted(
        set(logs.get_column("project").drop_nulls().unique().to_list())
        | set(events.get_column("project").drop_nulls().unique().to_list())
    )
    frame = _service_frame(logs, events, services, window_end, summary)
    stats = {
        r["service"]: ServiceStats(
            service=r["service"],
            state=r["state"],
            state_text=r["state_text"],
            restarts=r["restarts"],
            restarts_from_logs=r["restarts_from_logs"],
            errors=r["errors"],
            first_unhealthy=r["first_unhealthy"],
            recovered_at=r["recovered_at"],
            unhealthy_seconds=r["unhealthy_seconds"],
            exits=r["exits"],
            started_at=r["started_at"],
            first_exit=r["first_exit"],
            last_exit=r["last_exit"],
            exit_codes=tuple(r["exit_codes"] or ()),
            last_probe=r["last_probe"],
            last_probe_output=r["last_probe_output"],
            last_probe_exit=r["last_probe_exit"],
            ooms=r["ooms"],
            first_oom=r["first_oom"],
        )
        for r in frame.iter_rows(named=True)
    }
    containers = dict(
        pl.concat([logs.select("container", "service"), events.select("container", "service")])
        .drop_nulls()
        .unique()
        .iter_rows()
    )
    engine_names = (
        events.select("service", "container")
        .drop_nulls()
        .unique()
        .group_by("service")
        .agg(pl.col("container").sort())
    )
    configs = _service_configs(evidence.configs, containers)
    return Stack(
        logs=logs,
        events=events,
        findings=findings,
        summary=summary,
        services=services,
        projects=projects,
        window_start=window_start,
        window_end=window_end,
        undated_records=logs.get_column("ts").null_count(),
        stats=stats,
        configs=configs,
        containers=containers,
        container_names=dict(engine_names.iter_rows()),
        depends_on=evidence.depends_on,
        compose_services=evidence.compose_services,
        listening=listening_ports(logs, configs, services, findings),
    )


# --------------------------------------------------------------------------- per service


def _service_frame(
    logs: pl.DataFrame,
    events: pl.DataFrame,
    services: list[str],
    data_end: datetime | None,
    summary: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per service: errors, health intervals, restarts, final state (all vectorised);
    restarts the logs alone show (`summary`'s inferred ones) count as well."""
    base = pl.DataFrame({"service": services}, schema={"service": pl.String})
    errors = (
        logs.filter(pl.col("level").is_in([Level.ERROR.value, Level.FATAL.value]))
        .group_by("service")
        .agg(pl.len().cast(pl.Int64).alias("errors"))
    )
    probe_rows = events.filter(pl.col("action") == EventAction.PROBE.value).sort("ts", "seq")
    probes = probe_rows.group_by("service").agg(
        pl.col("ts")
        .filter(pl.col("exit_code").fill_null(0) != 0)
        .min()
        .alias("first_failed_probe"),
        pl.col("ts").last().alias("last_probe"),
        pl.col("output").last().str.strip_chars().alias("last_probe_output"),
        pl.col("exit_code").last().cast(pl.Int64).alias("last_probe_exit"),
    )
    frame = (
        base.join(errors, on="service", how="left")
        .join(_health(events, data_end), on="service", how="left")
        .join(probes, on="service", how="left")
        .join(_lifecycle(events), on="service", how="left")
        .join(_snapshots(events), on="service", how="left")
        .join(_ooms(events), on="service", how="left")
        .join(_compose_says(logs), on="service", how="left")
        .join(_inferred_restarts(summary), on="service", how="left")
    )
    engine_restarts = pl.max_horizontal(
        pl.col("_restart_count").fill_null(0), (pl.col("_starts").fill_null(0) - 1).clip(0)
    )
    restarts = pl.max_horizontal(
        engine_restarts,
        pl.col("_compose_restarts").fill_null(0),
        pl.col("_inferred_restarts").fill_null(0),
    )
    return frame.with_columns(
        _state().alias("state"),
        _status_text().alias("state_text"),
        restarts.alias("restarts"),
        (restarts > engine_restarts).alias("restarts_from_logs"),
        pl.col("errors").fill_null(0),
        pl.col("unhealthy_seconds").fill_null(0.0),
        pl.coalesce("first_unhealthy", "first_failed_probe").alias("first_unhealthy"),
        pl.coalesce("first_exit", "_compose_first_exit").alias("first_exit"),
        pl.coalesce("last_exit", "_compose_last_exit").alias("last_exit"),
        pl.max_horizontal(pl.col("_dies").fill_null(0), pl.col("_compose_exits").fill_null(0))
        .cast(pl.Int64)
        .alias("exits"),
        pl.when(pl.col("_dies").fill_null(0) > 0)
        .then(pl.col("exit_codes"))
        .otherwise(pl.col("_compose_codes"))
        .alias("exit_codes"),
        pl.col("ooms").fill_null(0),
    ).select(
        "service",
        "state",
        "state_text",
        "restarts",
        "restarts_from_logs",
        "errors",
        "first_unhealthy",
        "recovered_at",
        "unhealthy_seconds",
        "exits",
        "started_at",
        "first_exit",
        "last_exit",
        "exit_codes",
        "last_probe",
        "last_probe_output",
        "last_probe_exit",
        "ooms",
        "first_oom",
    )


def _inferred_restarts(summary: pl.DataFrame | None) -> pl.DataFrame:
    """Per service: the restarts a finding inferred from its logs (the banner-repeats
    inference: its `banner` and `restarts` fields; no other rule has a banner), for
    evidence with no engine count."""
    empty = pl.DataFrame(schema={"service": pl.String, "_inferred_restarts": pl.Int64})
    if summary is None or summary.is_empty() or "fields" not in summary.columns:
        return empty
    restarts = pl.col("fields").str.json_path_match("$.restarts").cast(pl.Int64, strict=False)
    banner = pl.col("fields").str.json_path_match("$.banner").is_not_null()
    return (
        summary.filter(
            (pl.col("category") == Category.CRASH_LOOP.value)
            & (pl.col("source") == "logs")
            & banner
        )
        .select("service", restarts.alias("_inferred_restarts"))
        .drop_nulls()
        .group_by("service")
        .agg(pl.col("_inferred_restarts").max())
    )


def _ooms(events: pl.DataFrame) -> pl.DataFrame:
    """Per service: kernel OOM kills, one per kill (inspect's OOMKilled and the oom event of
    one death count once)."""
    return (
        drop_repeated_ooms(events)
        .filter(pl.col("action") == EventAction.OOM.value)
        .group_by("service")
        .agg(pl.len().cast(pl.Int64).alias("ooms"), pl.col("ts").min().alias("first_oom"))
    )


def _health(events: pl.DataFrame, data_end: datetime | None) -> pl.DataFrame:
    """Per service: first unhealthy, healthy again after the last unhealthy, time unhealthy."""
    end = pl.lit(data_end, dtype=UTC_NS)
    health = (
        events.filter(
            (pl.col("action") == EventAction.HEALTH_STATUS.value) & pl.col("ts").is_not_null()
        )
        .sort("container", "ts", "seq")
        .with_columns(pl.col("ts").shift(-1).over("container").fill_null(end).alias("_next"))
    )
    unhealthy = pl.col("status") == "unhealthy"
    last_bad = pl.col("ts").filter(unhealthy).max()
    return health.group_by("service").agg(
        pl.col("ts").filter(unhealthy).min().alias("first_unhealthy"),
        pl.col("ts")
        .filter((pl.col("status") == "healthy") & (pl.col("ts") > last_bad))
        .min()
        .alias("recovered_at"),
        (pl.col("_next") - pl.col("ts"))
        .filter(unhealthy)
        .dt.total_milliseconds()
        .sum()
        .truediv(1000.0)
        .alias("unhealthy_seconds"),
        pl.col("status").sort_by("ts", "seq").last().cast(pl.String).alias("last_health"),
    )


def _lifecycle(events: pl.DataFrame) -> pl.DataFrame:
    """Per service: starts, deaths (when, exit codes), the engine's restart count, the last
    start or die."""
    died = pl.col("action") == EventAction.DIE.value
    return events.group_by("service").agg(
        (pl.col("action") == EventAction.START.value).sum().cast(pl.Int64).alias("_starts"),
        died.sum().cast(pl.Int64).alias("_dies"),
        pl.col("ts").filter(pl.col("action") == EventAction.START.value).min().alias("started_at"),
        pl.col("ts").filter(died).min().alias("first_exit"),
        pl.col("ts").filter(died).max().alias("last_exit"),
        pl.col("exit_code")
        .filter(died)
        .drop_nulls()
        .unique()
        .sort()
        .cast(pl.Int64)
        .alias("exit_codes"),
        pl.col("restart_count").max().cast(pl.Int64).alias("_restart_count"),
        pl.col("action")
        .filter(pl.col("action").is_in([EventAction.START.value, EventAction.DIE.value]))
        .sort_by(pl.col("ts").filter(pl.col("action").is_in(["start", "die"])))
        .last()
        .cast(pl.String)
        .alias("_last_lifecycle"),
    )


def _snapshots(events: pl.DataFrame) -> pl.DataFrame:
    """Per service: the last `docker ps` line, the last inspect status and health."""
    snaps = events.filter(pl.col("action") == EventAction.SNAPSHOT.value)
    return snaps.group_by("service").agg(
        pl.col("output").filter(pl.col("ts").is_null()).last().alias("_ps_text"),
        pl.col("output").filter(pl.col("ts").is_not_null()).last().alias("_inspect_text"),
        pl.col("status").drop_nulls().cast(pl.String).last().alias("_snap_health"),
    )


def _service_configs(
    configs: Mapping[str, ContainerConfig], containers: Mapping[str, str]
) -> dict[str, ContainerConfig]:
    """Configs by service: inspect's (keyed by container name) and the compose file's (keyed by
    service) merged field by field; the compose file says how the image is made, inspect what
    the container ran with."""
    inspected: dict[str, ContainerConfig] = {}
    composed: dict[str, ContainerConfig] = {}
    for key, conf in configs.items():
        if key in containers and containers[key] != key:
            inspected.setdefault(containers[key], conf)
        else:
            composed[key] = conf
    out: dict[str, ContainerConfig] = {}
    for service in inspected.keys() | composed.keys():
        first, second = composed.get(service), inspected.get(service)
        if first is None or second is None:
            out[service] = first or second  # type: ignore[assignment]
            continue
        built = {f: getattr(first, f) for f in _COMPOSE_FIRST if getattr(first, f) is not None}
        out[service] = replace(second, **built)
    return out


_COMPOSE_FIRST: Final = ("image", "built_here", "healthcheck", "volumes")


_TOOK: Final = r"(?:\s+\d+(?:\.\d+)?m?s)?\s*$"
_DAEMON_REFUSED: Final = (
    r"^Error response from daemon: .*(?:failed to create task|OCI runtime|shim"
    r"|failed programming external connectivity|port is already allocated|address already in use)"
)
"""The engine created the container and could not start it (its process, its ports)."""
"""The time a step took, which compose's progress lines end with (`Healthy   11.3s`)."""
_EXIT: Final = (
    r"(?:exited with code |didn't complete successfully: exit(?: code)? |^container \S+ exited \()"
    r"(-?\d+)"
)
_COMPOSE_STATES: Final = (
    (_EXIT.replace("(-?", "(?:-?"), "exited"),
    (r"is unhealthy", "unhealthy"),
    (r"\bHealthy" + _TOOK, "healthy"),
    (r"\b(?:Started|Running)" + _TOOK, "running"),
    (r"\b(?:Stopped|Exited)" + _TOOK, "exited"),
    (r"\bCreated" + _TOOK, "created"),
    (_DAEMON_REFUSED, "created"),
    (r"^(?:ERROR: |target \S+: )?failed to solve:|failed to build", "build failed"),
)
"""Compose's own lines about a service (`docker compose up` output) and the state they tell."""


_dependency_failed: Final = pl.col("message").str.contains("didn't complete successfully")
_exit_line: Final = pl.col("message").str.contains(_EXIT)


def _compose_says(logs: pl.DataFrame) -> pl.DataFrame:
    """Per service: the state compose's last line about it tells (`worker-1 exited with code 1`,
    `Container shop-postgres-1  Healthy`) and the exits it printed, for evidence without
    engine events or snapshots."""
    logged_after = _own_lines(logs)
    said = _compose_lines(logs)
    # one compose last called `Created` that logs after that line is running, and one it
    # last saw exit that logs later than that line, by time, was restarted (a policy; `up`
    # prints a one-shot's output after its exit too, all undated)
    later = pl.col("_own_last") > pl.col("_said_at")
    running = (
        ((pl.col("_compose_state") == "created") & later)
        | (
            (pl.col("_compose_state") == "exited")
            & later
            & (pl.col("_own_last_ts") > pl.col("_said_ts"))
        )
    ).fill_null(False)
    return (
        said.join(logged_after, on="service", how="left")
        .join(_restarts_from_exit_lines(logs, logged_after), on="service", how="left")
        .with_columns(
            _compose_state=pl.when(running).then(pl.lit("running")).otherwise("_compose_state"),
            _compose_text=pl.when(running).then(pl.lit("running")).otherwise("_compose_text"),
        )
        .drop("_own_last", "_own_last_ts", "_own_containers", "_said_at", "_said_ts")
    )


def _own_lines(logs: pl.DataFrame) -> pl.DataFrame:
    """Per service: where its containers' own output ends (in the input and in time), and
    how many containers printed it."""
    return (
        logs.filter(pl.col("container") != COMPOSE_SERVICE)
        .group_by("service")
        .agg(
            pl.col("seq").max().alias("_own_last"),
            pl.col("ts").max().alias("_own_last_ts"),
            pl.col("container").n_unique().alias("_own_containers"),
        )
    )


def _compose_lines(logs: pl.DataFrame) -> pl.DataFrame:
    """Per service: what compose's own lines about it said, last state first, and the exits
    and exit codes they printed."""
    state: pl.Expr = pl.lit(None, dtype=pl.String)
    for pattern, name in reversed(_COMPOSE_STATES):
        state = pl.when(pl.col("message").str.contains(pattern)).then(pl.lit(name)).otherwise(state)
    return (
        logs.filter(
            (pl.col("container") == COMPOSE_SERVICE) & (pl.col("service") != COMPOSE_SERVICE)
        )
        .with_columns(state.alias("_compose_state"))
        .drop_nulls("_compose_state")
        .sort("seq")
        .group_by("service")
        .agg(
            pl.col("_compose_state").last(),
            _last_said().alias("_compose_text"),
            # one exit per `exited with code` line; a progress line (`Stopped`, `Exited`)
            # counts only where no such line says it; `up` prints a failed dependency
            # twice (its progress line, then the error)
            pl.max_horizontal(
                (_exit_line & ~_dependency_failed).sum(),
                pl.when((_exit_line & ~_dependency_failed).any())
                .then(0)
                .otherwise(((pl.col("_compose_state") == "exited") & ~_dependency_failed).sum()),
                _dependency_failed.any(),
            )
            .cast(pl.Int64)
            .alias("_compose_exits"),
            pl.col("message")
            .str.extract(_EXIT)
            .drop_nulls()
            .cast(pl.Int64)
            .unique()
            .sort()
            .alias("_compose_codes"),
            pl.col("seq").last().alias("_said_at"),
            pl.col("ts").last().alias("_said_ts"),
            # (compose's lines carry the time of the engine-dated line before them)
            pl.col("ts").filter(_exit_line).min().alias("_compose_first_exit"),
            pl.col("ts").filter(_exit_line).max().alias("_compose_last_exit"),
        )
    )


def _last_said() -> pl.Expr:
    """Compose's last line about a service, as a status: `exited with code 1 (restarting)`,
    `image build failed`, or the line without its container name and timing."""
    last = pl.col("message").last()
    return (
        pl.when(last.str.contains(_EXIT))
        .then(
            pl.lit("exited with code ")
            + last.str.extract(_EXIT)
            # (`restart:` policies: compose says the container comes back)
            + pl.when(last.str.contains(r"\(restarting\)\s*$"))
            .then(pl.lit(" (restarting)"))
            .otherwise(pl.lit(""))
        )
        .when(pl.col("_compose_state").last() == "build failed")
        .then(pl.lit("image build failed"))
        .when(last.str.contains(_DAEMON_REFUSED))
        .then(pl.lit("created, not started (the engine could not start it)"))
        .otherwise(
            last.str.replace(_TOOK, "")
            .str.replace(r"^[^\w\[]*(?:Container\s+\S+\s+)?", "")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
        )
    )


def _restarts_from_exit_lines(logs: pl.DataFrame, logged_after: pl.DataFrame) -> pl.DataFrame:
    """Per service: the exits compose printed that its container logged on after (later in
    the input, and later in time where both are dated): restarts. Only for a service of
    one container (an exit of `api-1` followed by `api-2`'s output is no restart of `api-1`)."""
    return (
        logs.filter(
            (pl.col("container") == COMPOSE_SERVICE)
            & (pl.col("service") != COMPOSE_SERVICE)
            & _exit_line
            & ~_dependency_failed
        )
        .join(logged_after.filter(pl.col("_own_containers") == 1), on="service")
        .group_by("service")
        .agg(
            (
                (pl.col("seq") < pl.col("_own_last"))
                & (
                    pl.col("ts").is_null()
                    | pl.col("_own_last_ts").is_null()
                    | (pl.col("ts") < pl.col("_own_last_ts"))
                )
            )
            .sum()
            .cast(pl.Int64)
            .alias("_compose_restarts")
        )
    )


def _status_text() -> pl.Expr:
    return pl.coalesce("_ps_text", "_inspect_text", "_compose_text").fill_null("")


def _state() -> pl.Expr:
    """The state at the end: snapshots first, then health events, then lifecycle events, then
    what compose's own lines said."""
    lower = _status_text().str.to_lowercase()
    health_now = pl.coalesce("_snap_health", "last_health")
    return (
        pl.when(lower.str.contains("restarting"))
        .then(pl.lit("restarting"))
        .when(lower.str.contains(r"exited|dead") | (pl.col("_last_lifecycle") == "die"))
        .then(pl.lit("exited"))
        .when((health_now == "unhealthy") | lower.str.contains(r"\(unhealthy\)"))
        .then(pl.lit("unhealthy"))
        .when(health_now == "healthy")
        .then(pl.lit("healthy"))
        .when(lower.str.contains(r"^up\b|running") | (pl.col("_last_lifecycle") == "start"))
        .then(pl.lit("running"))
        .when(lower.str.contains(r"^created\b"))
        .then(pl.lit("created"))
        .otherwise(pl.coalesce("_compose_state", pl.lit("unknown")))
    )


def peak(intervals: Sequence[tuple[datetime, datetime]]) -> tuple[int, datetime | None]:
    """Most services failing at once (sweep over +1/-1 at interval ends)."""
    frame = pl.DataFrame(intervals, schema={"start": UTC_NS, "end": UTC_NS}, orient="row")
    if frame.is_empty():
        return 0, None
    deltas = pl.concat(
        [
            frame.select(pl.col("start").alias("ts"), pl.lit(1).alias("d")),
            frame.select(pl.col("end").alias("ts"), pl.lit(-1).alias("d")),
        ]
    ).sort("ts", "d", descending=[False, True])  # (an interval ending as another starts:
    swept = deltas.with_columns(pl.col("d").cum_sum().alias("n"))  # both at that instant)
    best = swept.sort("n", "ts", descending=[True, False]).row(0, named=True)
    return int(best["n"]), best["ts"]


# --------------------------------------------------------------------------- states


def service_states(
    stack: Stack,
    issues: Sequence[Issue],
    transient: set[str],
    finding_count: Mapping[str, int],
) -> list[ServiceState]:
    """Each service at the end of the evidence, and whether it still needs attention."""
    issue_of: dict[str, list[int]] = {}
    for issue in issues:
        for s in issue.services:
            issue_of.setdefault(s, []).append(issue.id)
        for y in issue.symptoms:
            ids = issue_of.setdefault(y.service, [])
            if y.service not in issue.services and issue.id not in ids:
                ids.append(issue.id)
    state_of = {name: st.state for name, st in stack.stats.items()}
    open_issue = {
        x for i in issues if i.ongoing for x in set(i.services) - healthy_servers(i, state_of)
    }
    open_symptoms = {y.service for i in issues if i.ongoing for y in i.symptoms}
    states: list[ServiceState] = []
    for s in stack.services:
        st = stack.stats[s]
        ids = issue_of.get(s, [])
        bad_state = st.state in ("unhealthy", "restarting") or (st.state == "exited" and bool(ids))
        attention = (
            bad_state
            or s in open_issue
            or (s in open_symptoms and st.state not in ("healthy", "running"))
        )
        conf = stack.configs.get(s)
        probe = probe_of(st, conf)
        states.append(
            ServiceState(
                name=s,
                state=st.state,
                state_text=st.state_text,
                needs_attention=attention,
                reason=_reason(st.state, ids, attention=attention, transient=s in transient),
                first_unhealthy=st.first_unhealthy,
                recovered_at=st.recovered_at,
                unhealthy_seconds=float(st.unhealthy_seconds),
                restarts=int(st.restarts),
                errors=int(st.errors),
                findings=finding_count.get(s, 0),
                issues=ids,
                transient=s in transient,
                started_at=st.started_at,
                failing_since=min(
                    (t for t in (st.first_unhealthy, st.first_exit, st.first_oom) if t),
                    default=None,
                ),
                exits=int(st.exits),
                unhealthy_after_seconds=unhealthy_after(st),
                probe=probe,
                restart_policy=conf.restart_policy if conf else None,
                mounts=list(conf.mounts) if conf and conf.mounts is not None else None,
                detail=service_detail(st, probe),
            )
        )
    return states


def _reason(state: str, ids: list[int], *, attention: bool, transient: bool) -> str:
    refs = ", ".join(f"#{i}" for i in ids)
    if attention:
        return state + (f"; issue {refs}" if ids else "")
    if ids:
        return "recovered; issue " + refs
    return "recovered on its own" if transient else ""


@dataclass(frozen=True)
class ServiceGroups:
    """The services by what happened to them (each list sorted)."""

    affected: list[str]
    """A health-check failure, a crash loop, an issue or a symptom."""
    unhealthy: list[str]
    crash_looping: list[str]
    recovered: list[str]
    """Transient services that failed a health check and recovered on their own."""
    healthy: list[str]
    needs_attention: list[str]


def service_groups(
    states: Sequence[ServiceState],
    issues: Sequence[Issue],
    transient: Iterable[str],
    crash_loops: set[str],
) -> ServiceGroups:
    """`crash_loops`: services with crash-loop findings."""
    by_name = {s.name: s for s in states}
    in_issues = sorted({s for i in issues for s in i.services})
    # (a service that runs but still fails through an ongoing issue is not healthy)
    failing_downstream = {y.service for i in issues if i.ongoing for y in i.symptoms}
    crash_looping = sorted(s for s in in_issues if s in crash_loops)
    unhealthy = sorted(
        s.name for s in states if s.first_unhealthy is not None or s.state == "unhealthy"
    )
    affected = sorted(
        set(unhealthy)
        | set(crash_looping)
        | set(in_issues)
        | {y.service for i in issues for y in i.symptoms if y.service in by_name}
    )
    return ServiceGroups(
        affected=affected,
        unhealthy=unhealthy,
        crash_looping=crash_looping,
        recovered=sorted(s for s in transient if by_name[s].first_unhealthy is not None),
        healthy=sorted(
            s.name
            for s in states
            if not s.needs_attention
            and s.state in ("healthy", "running")
            and s.name not in failing_downstream
        ),
        needs_attention=sorted(s.name for s in states if s.needs_attention),
    )


REFUSED_REQUESTS: Final = frozenset({"postgres.database-missing"})
"""Rules of a request a server refused and logged like its clients (a database that does
not exist): as with a refused login, the server needs no attention of its own."""

FAILED_STATES: Final = frozenset({"exited", "restarting", "unhealthy", "dead"})
"""States at the end of a service that crashed, exited or failed its probes."""


def healthy_servers(issue: Issue, state_of: Mapping[str, str]) -> set[str]:
    """The services of a failed login that kept serving while the others failed: the server
    that refused it (a database still `Up (healthy)`, or one that only logged the refusals
    while its client exited). The fix is a password on one side or the other; a server
    that merely refused requests needs no attention and no restart of its own."""
    refused = issue.category == Category.AUTH_FAILURE.value or bool(
        REFUSED_REQUESTS.intersection(issue.rules)
    )
    if not refused or len(issue.services) < 2:
        return set()
    services = set(issue.services)
    healthy = {s for s in services if state_of.get(s) == "healthy"}
    failed = {s for s in services if state_of.get(s) in FAILED_STATES}
    standing = healthy | (services - failed if failed else set())
    return standing if standing != services else set()
