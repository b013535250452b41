"""`docker compose logs` / `up` text: prefixes, timestamps, colours and compose's own lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from incidentlog.ingest import InputFormat, read_inputs
from incidentlog.ingest.reading import _ComposeLineClock
from incidentlog.ingest.summary import SourceSummary
from incidentlog.schema import LOGS_SCHEMA, TS_DTYPE


def ingest(tmp_path: Path, text: str, name: str = "compose.log", **kwargs: str) -> pl.DataFrame:
    path = tmp_path / name
    path.write_bytes(text.encode())
    result = read_inputs([path], host="testhost", **kwargs)
    assert result.logs.schema == LOGS_SCHEMA
    return result.logs.sort("seq")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


V2_TIMESTAMPS = (
    "staff-frontend-1  | 2025-08-01T12:30:00.123456789Z ready on 0.0.0.0:3000\n"
    "web-1             | 2025-08-01T12:30:01.5Z GET /health 200\n"
    "my_app_1          | 2025-08-01T14:30:02.25+02:00 offset stamp\n"
    "db-1              | 2025-08-01T12:30:03Z no fraction\n"
)


def test_v2_prefixes_with_timestamps(tmp_path: Path) -> None:
    logs = ingest(tmp_path, V2_TIMESTAMPS)
    assert logs.select("container", "service", "message").rows() == [
        ("staff-frontend-1", "staff-frontend", "ready on 0.0.0.0:3000"),
        ("web-1", "web", "GET /health 200"),
        ("my_app_1", "my_app", "offset stamp"),
        ("db-1", "db", "no fraction"),
    ]
    stamps = logs.get_column("ts").to_list()
    assert stamps[1:] == [
        ts("2025-08-01T12:30:01.500+00:00"),
        ts("2025-08-01T12:30:02.250+00:00"),  # +02:00 converted to UTC
        ts("2025-08-01T12:30:03+00:00"),
    ]
    # all nine digits survive (Python datetimes stop at microseconds)
    nanos = logs.get_column("ts").dt.nanosecond().to_list()
    assert nanos[0] == 123456789
    assert logs.get_column("host").unique().to_list() == ["testhost"]


def test_v1_prefixes_without_timestamps_keep_order(tmp_path: Path) -> None:
    text = (
        "web_1     | Listening on :8080\n"
        "my_app_1  | worker started\n"
        "db_1      | LOG:  database system is ready to accept connections\n"
        "web_1     | GET / 200\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.get_column("ts").null_count() == 4
    assert logs.select("service", "message").rows() == [
        ("web", "Listening on :8080"),
        ("my_app", "worker started"),
        ("db", "LOG:  database system is ready to accept connections"),
        ("web", "GET / 200"),
    ]
    assert logs.get_column("seq").to_list() == [0, 1, 2, 3]


def test_service_names_with_dashes_underscores_and_replicas(tmp_path: Path) -> None:
    text = (
        "staff-frontend-1   | a\n"
        "staff-frontend-2   | b\n"
        "a2a-communication-1 | c\n"
        "my_app_1           | d\n"
        "git_worktree_12    | e\n"
        "redis-7-1          | f\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.select("container", "service").rows() == [
        ("staff-frontend-1", "staff-frontend"),
        ("staff-frontend-2", "staff-frontend"),
        ("a2a-communication-1", "a2a-communication"),
        ("my_app_1", "my_app"),
        ("git_worktree_12", "git_worktree"),
        ("redis-7-1", "redis-7"),
    ]


def test_message_keeps_its_own_pipes_and_padding(tmp_path: Path) -> None:
    # compose puts exactly one space after `|`; the rest is the message's own
    text = "web-1  | a | b\nweb-1  |    indented text\n"
    logs = ingest(tmp_path, text)
    assert logs.get_column("message").to_list() == ["a | b", "   indented text"]


def test_ansi_colours_are_stripped(tmp_path: Path) -> None:
    # compose v2 without --no-color colours the prefix; apps colour their text
    text = (
        "\x1b[36mweb-1  | \x1b[0m2025-08-01T12:30:00.000000001Z \x1b[32mINFO\x1b[0m started\n"
        "\x1b[33mdb-1   | \x1b[0mready\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.select("container", "message").rows() == [
        ("web-1", "INFO started"),
        ("db-1", "ready"),
    ]
    assert (
        logs.get_column("ts")[0]
        == pl.Series([1754051400000000001]).cast(pl.Datetime("ns", "UTC")).item()
    )
    assert logs.get_column("level").to_list() == ["info", "unknown"]
    assert not logs.get_column("message").str.contains("\x1b", literal=True).any()


def test_compose_v1_colours_reset_after_the_bar(tmp_path: Path) -> None:
    # v1 colours `name  |` and resets before the space: the prefix still names the container
    text = (
        "\x1b[32mredis_1      |\x1b[0m 1:M 14 Feb 2023 19:02:11.210 * Ready to accept connections\n"
        "\x1b[36mweb_1        |\x1b[0m started\n"
    )
    logs = ingest(tmp_path, text, name="toot-up.log")
    assert logs.select("container", "service").rows() == [("redis_1", "redis"), ("web_1", "web")]


@pytest.mark.parametrize("escape", ["\u2190", "^["], ids=["windows-console", "caret"])
def test_colour_codes_made_visible_by_a_copy_are_stripped(tmp_path: Path, escape: str) -> None:
    """Copied from a Windows console, ESC shows as `←`; `cat -v` and `less` show it
    as `^[`. The prefix must still name the container (not the file)."""
    text = (
        f"{escape}[36mweb-1  | {escape}[0m2025-08-01T12:30:00.000000001Z "
        f"{escape}[32mINFO{escape}[0m started\n"
        f"{escape}[33mdb-1   | {escape}[0mready\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.select("container", "service", "message").rows() == [
        ("web-1", "web", "INFO started"),
        ("db-1", "db", "ready"),
    ]


@pytest.mark.parametrize(
    "margin", ["    ", "\t", "> ", ">   "], ids=["code-block", "tab", "quote", "quote-indented"]
)
def test_a_block_pasted_indented_or_quoted_keeps_its_prefixes(tmp_path: Path, margin: str) -> None:
    """Copied from a Markdown code block, an issue quote or an e-mail, every line
    carries the same margin; it hid the `name |` prefix (the file's name became
    the service). Lines inside keep their own indentation."""
    text = "".join(
        margin + line + "\n"
        for line in [
            "web-1  | 2025-08-01T10:00:00.000000000Z Traceback (most recent call last):",
            'web-1  | 2025-08-01T10:00:00.000000000Z   File "app.py", line 1',
            "",
            "db-1   | 2025-08-01T10:00:01.000000000Z ready",
        ]
    )
    logs = ingest(tmp_path, text, name="pasted.txt")
    assert logs.select("service", "message").rows() == [
        ("web", 'Traceback (most recent call last):\n  File "app.py", line 1'),
        ("db", "ready"),
    ]
    assert logs.get_column("ts").null_count() == 0


def test_a_log_with_lines_at_the_first_column_loses_no_indentation(tmp_path: Path) -> None:
    text = "web-1  | start\n    web-1  | not a margin: one line starts at column 0\n"
    assert ingest(tmp_path, text).get_column("message").to_list() == [
        "start\n    web-1  | not a margin: one line starts at column 0"
    ]
    from incidentlog.ingest.sniff import paste_margin

    assert paste_margin(text.encode()) == b""
    assert paste_margin(b"  a\n\n    b\n   \n") == b"  "


def test_markdown_fences_of_a_paste_are_not_joined_to_records(tmp_path: Path) -> None:
    text = "```log\nweb-1  | ERROR boom\nweb-1 exited with code 2\n```\n"
    path = tmp_path / "compose.log"
    path.write_text(text, encoding="utf-8")
    from incidentlog.ingest import read_inputs

    result = read_inputs([str(path)])
    messages = result.logs.sort("seq").get_column("message").to_list()
    assert messages == ["ERROR boom", "web-1 exited with code 2"]
    # (the paste is cut at its fences: they are counted, not read)
    assert "read as 1 input (2 fence lines not read)" in " ".join(result.summary.notes)
    assert result.summary.rejected_lines == 0


def test_a_fence_line_read_with_a_forced_format_is_rejected_as_a_fence(tmp_path: Path) -> None:
    """An input read as a forced format (or too large to be a paste) is not cut: a fence
    line in it is rejected, and counted as such."""
    from incidentlog.ingest import read_inputs

    path = tmp_path / "compose.log"
    path.write_text("```\nweb-1  | ERROR boom\n```\n", encoding="utf-8")
    result = read_inputs([str(path)], fmt="compose")
    assert result.logs.get_column("message").to_list() == ["ERROR boom"]
    rejected = result.summary.sources[0].rejected
    assert sum(r.count for r in rejected.values()) == 2
    assert all("Markdown code fence" in reason for reason in rejected)


def test_text_that_only_looks_like_a_visible_escape_is_kept(tmp_path: Path) -> None:
    text = "web-1  | grep -E '^[[:space:]]+x' and \u2190[back] ^[[ok]\n"
    assert ingest(tmp_path, text).get_column("message").to_list() == [
        "grep -E '^[[:space:]]+x' and \u2190[back] ^[[ok]"
    ]


COMPOSE_OWN = [
    "Attaching to agent-monitor-1, frontend-1, staff-frontend-1",
    "frontend-1 exited with code 1",
    "agent-monitor-1 exited with code 137",
    "dependency failed to start: container app-db-1 is unhealthy",
    'ERROR: for web  Container "abc" is unhealthy.',
    "Gracefully stopping... (press Ctrl+C again to force)",
    "Aborting on container exit...",
    # compose-file, dependency and pull errors (compose v2 / compose-go, and v1)
    'service "api" depends on undefined service "cache": invalid compose project',
    'service "migrate" didn\'t complete successfully: exit 1',
    '✘ Container shop-migrate-1  service "migrate" didn\'t complete successfully: exit 2',
    "dependency failed to start: container shop-db-1 has no healthcheck configured",
    "validating /srv/shop/compose.yaml: services.api Additional property healtcheck is not allowed",
    "parsing /srv/shop/compose.yaml: yaml: line 9: mapping values are not allowed in this context",
    "yaml: line 21: did not find expected key",
    'invalid interpolation format for services.api.environment.[]: "HASH=$2b$x"',
    "env file /srv/shop/.env.local not found: stat /srv/shop/.env.local: no such file or directory",
    "services.db.healthcheck value Additional properties are not allowed ('start_interval' was unexpected)",
    "Unsupported config option for services.db: 'healthcheck'",
    "no matching manifest for linux/arm64/v8 in the manifest list entries",
    "api Error manifest for shop/api:9.9 not found: manifest unknown: manifest unknown",
    "error while interpolating services.db.environment.[]: required variable PGPASS is missing a value",
    "application not healthy after 2m0s",
    "network edge declared as external, but could not be found",
    "container shop-api-1 is unhealthy",
    "no configuration file provided: not found",
    'failed to read /srv/shop/.env: line 2: unexpected character "-" in variable name "A-B=1"',
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon"
    " running?",
    "no such service: wrokers",
    "v View in Docker Desktop   o View Config   w Enable Watch",
    'Creating network "billing_default" with the default driver',
    # v1 leaves a container as it was, and pulls an image with its layers
    "shop_db_1 is up-to-date",
    # v1 pads the names of its progress lines to one width
    "Pulling web       ... done",
    "Creating shop_db_1  ... done",
    "Pulling db (postgres:16-alpine)...",
    "a1b2c3d4e5f6: Pulling fs layer",
    "a1b2c3d4e5f6: Pull complete",
    "Digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "Status: Downloaded newer image for postgres:16-alpine",
]


ABOUT = {
    "frontend-1 exited with code 1": "frontend",
    "agent-monitor-1 exited with code 137": "agent-monitor",
    "dependency failed to start: container app-db-1 is unhealthy": "app-db",
    'ERROR: for web  Container "abc" is unhealthy.': "web",
    'service "api" depends on undefined service "cache": invalid compose project': "api",
    'service "migrate" didn\'t complete successfully: exit 1': "migrate",
    '✘ Container shop-migrate-1  service "migrate" didn\'t complete successfully: exit 2': "migrate",
    "dependency failed to start: container shop-db-1 has no healthcheck configured": "shop-db",
    "api Error manifest for shop/api:9.9 not found: manifest unknown: manifest unknown": "api",
    "container shop-api-1 is unhealthy": "shop-api",
    "shop_db_1 is up-to-date": "shop_db",
    "Creating shop_db_1  ... done": "shop_db",
    "Pulling db (postgres:16-alpine)...": "db",
}
"""Compose's lines that name a container or service count for that service (the
others stay records of `compose`). Without a compose file or other containers
of the project, `shop-db-1` can only be `shop-db`."""


@pytest.mark.parametrize("line", COMPOSE_OWN)
def test_compose_own_lines_are_records_of_container_compose(tmp_path: Path, line: str) -> None:
    text = f"web-1  | before\n{line}\nweb-1  | after\n"
    logs = ingest(tmp_path, text)
    own = logs.filter(pl.col("container") == "compose")
    assert own.select("service", "message").rows() == [(ABOUT.get(line, "compose"), line)]
    assert logs.filter(pl.col("container") == "web-1").get_column("message").to_list() == [
        "before",
        "after",
    ]


def test_compose_lines_name_the_service_the_logs_print(tmp_path: Path) -> None:
    text = (
        "db-1   | FATAL: out of disk\n"
        " ✔ Container shop-db-1  Created\n"
        "Error response from daemon: failed to set up container networking\n"
        "dependency failed to start: container shop-db-1 is unhealthy\n"
        "api-1  | waiting for db\n"
        "api-1  | started on 3000api-1 exited with code 3\n"
        'ERROR: for worker  Cannot start service worker: exec: "celery": not found\n'
    )
    logs = ingest(tmp_path, text)
    own = logs.filter(pl.col("container") == "compose").select("service", "message").rows()
    assert own == [
        ("db", " ✔ Container shop-db-1  Created"),
        ("db", "Error response from daemon: failed to set up container networking"),
        ("db", "dependency failed to start: container shop-db-1 is unhealthy"),
        ("api", "api-1 exited with code 3"),
        ("worker", 'ERROR: for worker  Cannot start service worker: exec: "celery": not found'),
    ]
    assert logs.filter(pl.col("container") == "api-1").get_column("message").to_list() == [
        "waiting for db",
        "started on 3000",
    ]
    assert set(logs.filter(pl.col("service") == "db").get_column("project").to_list()) == {"shop"}


def test_pull_progress_lines_name_their_service(tmp_path: Path) -> None:
    """v2's pull progress (`✘ reports Error …`) is compose's line about `reports`, not an
    application line of a service named after the file; layer lines name no service."""
    text = (
        "[+] Running 2/3\n"
        " ✔ queue Pulled                                             4.0s\n"
        "   ✔ 0a1b2c3d4e5f Pull complete                             1.2s\n"
        " ⠿ reports Pulling                                         31.5s\n"
        " ✘ reports Error failed to register layer: mkdir /var/lib/docker/tmp/x: no space left on device\n"
    )
    logs = ingest(tmp_path, text, name="diskpull.log")
    assert set(logs.get_column("container").to_list()) == {"compose"}
    assert logs.select("service").to_series().to_list() == [
        "compose",
        "queue",
        "compose",
        "reports",
        "reports",
    ]


@pytest.mark.parametrize(
    "progress",
    [" ⠿ search Pulling                    2.2s", "Pulling search (opensearch:2.11)..."],
)
def test_a_bare_pull_error_is_about_the_image_being_pulled(tmp_path: Path, progress: str) -> None:
    """`no matching manifest for …` names no service: it is the one compose was pulling."""
    text = (
        " ✔ cache Pulled                    1.0s\n"
        f"{progress}\n"
        "no matching manifest for linux/arm64/v8 in the manifest list entries\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.get_column("service").to_list()[-1] == "search"


def test_compose_own_lines_between_timestamped_lines(tmp_path: Path) -> None:
    text = (
        "Attaching to web-1\n"
        "web-1  | 2025-08-01T12:30:00.000000000Z boom\n"
        "web-1 exited with code 1\n"
    )
    result = read_inputs([_write(tmp_path, text)])
    logs = result.logs.sort("seq")
    assert logs.select("service", "message").rows() == [
        ("compose", "Attaching to web-1"),
        ("web", "boom"),
        ("web", "web-1 exited with code 1"),
    ]
    # the exit line takes the time of the dated line before it; nothing dates `Attaching`
    assert logs.get_column("ts").to_list() == [
        None,
        ts("2025-08-01T12:30:00Z"),
        ts("2025-08-01T12:30:00Z"),
    ]
    assert result.summary.sources[0].rejected_lines == 0
    assert result.summary.sources[0].placed_compose_times == 1


def test_compose_lines_are_placed_after_the_last_dated_line_of_an_earlier_batch() -> None:
    clock = _ComposeLineClock()
    summary = SourceSummary(source="x", format=InputFormat.COMPOSE)
    first = pl.DataFrame(
        {
            "container": ["web-1", "web-1"],
            "ts": [ts("2025-08-01T12:00:00Z"), ts("2025-08-01T12:49:59Z")],
        },
        schema={"container": pl.String, "ts": TS_DTYPE},
    )
    second = pl.DataFrame(
        {"container": ["compose"], "ts": [None]}, schema={"container": pl.String, "ts": TS_DTYPE}
    )
    clock.place(first, summary)
    placed = clock.place(second, summary)
    assert placed.get_column("ts").to_list() == [ts("2025-08-01T12:49:59Z")]
    assert summary.placed_compose_times == 1


def test_a_time_printed_before_the_compose_prefix_is_the_line_time(tmp_path: Path) -> None:
    text = (
        "2025-08-01T12:30:00.000000000Z redis-1  | Fatal error loading the DB. Exiting.\n"
        "2025-08-01T12:30:01Z redis-1 exited with code 1\n"
        "2025-08-01T12:30:02Z api-1  | 2025-08-01T12:30:02.5Z refused\n"
        "2025-08-01T12:30:03Z plain continuation of api\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.select("container", "service", "message").rows() == [
        ("redis-1", "redis", "Fatal error loading the DB. Exiting."),
        ("compose", "redis", "redis-1 exited with code 1"),
        ("api-1", "api", "refused\n2025-08-01T12:30:03Z plain continuation of api"),
    ]
    assert logs.get_column("ts").to_list() == [
        ts("2025-08-01T12:30:00Z"),
        ts("2025-08-01T12:30:01Z"),
        ts("2025-08-01T12:30:02.5Z"),  # the message's own time wins
    ]


def test_v1_error_line_is_an_error(tmp_path: Path) -> None:
    logs = ingest(tmp_path, 'web_1  | x\nERROR: for web  Container "abc" is unhealthy.\n')
    row = logs.filter(pl.col("container") == "compose")
    assert row.select("service", "level").rows() == [("web", "error")]


def test_no_log_prefix_input_takes_service_option(tmp_path: Path) -> None:
    text = "2025-08-01T12:30:00.123456789Z INFO: started\nplain line without time\n"
    path = _write(tmp_path, text, "frontend.log")
    result = read_inputs([path], service="frontend", fmt="raw")
    logs = result.logs.sort("seq")
    assert logs.select("service", "container", "message").rows() == [
        ("frontend", "frontend", "INFO: started"),
        ("frontend", "frontend", "plain line without time"),
    ]
    assert logs.get_column("ts").is_null().to_list() == [False, True]
    assert result.summary.sources[0].note == ""


def test_raw_input_is_sniffed_and_named_after_the_file(tmp_path: Path) -> None:
    result = read_inputs([_write(tmp_path, "hello\nworld\n", "api.log")])
    source = result.summary.sources[0]
    assert source.format is InputFormat.RAW
    assert result.logs.get_column("service").unique().to_list() == ["api"]
    assert "--service" in source.note


def test_unprefixed_lines_join_the_record_before_them(tmp_path: Path) -> None:
    """A wrapped or pasted line that lost its `name |` prefix continues the record
    before it; lines before any prefix are kept under service `unknown`; both counted."""
    text = (
        "copied from the terminal:\n"
        "web-1  | a\n"
        "api-1  | ERROR connection to db:5432 failed:\n"
        "Connection refused (is the server running?)\n"
        "web-1  | c\n"
    )
    result = read_inputs([_write(tmp_path, text)])
    source = result.summary.sources[0]
    assert (source.lines, source.kept_lines, source.rejected_lines) == (5, 5, 0)
    assert (source.joined_lines, source.unattributed_lines) == (1, 1)
    logs = result.logs.sort("seq")
    assert logs.select("service", "message").rows() == [
        ("unknown", "copied from the terminal:"),
        ("web", "a"),
        ("api", "ERROR connection to db:5432 failed:\nConnection refused (is the server running?)"),
        ("web", "c"),
    ]
    described = result.summary.describe()
    assert "joined 1 lines without a `name |` prefix to the record before them" in described
    assert "kept 1 lines before any `name |` prefix under service `unknown`" in described


def test_the_rest_of_a_wrapped_line_goes_on_without_a_line_break(tmp_path: Path) -> None:
    """A terminal or a ticket wraps a long line: its rest has no prefix and starts inside
    a word, at the one space between words, or at punctuation. It continues the line, so
    the exception names its host and its last words whole (the report quotes the last
    line of a traceback). A line that starts like a line of its own (a capital, a time),
    or follows a short line, still starts a new line of the record."""
    error = (
        'psycopg2.OperationalError: connection to server at "db.internal" (10.0.0.5), '
        "port 5432 failed: FATAL:  sorry, too many clients already"
    )
    line = "web-1  | " + error
    rows = [line[i : i + 80] for i in range(0, len(line), 80)]  # an 80-column terminal...
    rows += ["web-1  | " + "x" * 80, "xx and so on"]  # ...or 89
    assert rows[1].startswith("0.5), port") and len(rows) == 4
    text = "web-1  | Traceback (most recent call last):\n" + "\n".join(rows) + "\n"
    text += (
        f"web-1  | {'y' * 80}\n"
        " and the next words\n"
        f"web-1  | {'y' * 80}\n"
        "Connection refused (a line of its own)\n"
        f"web-1  | {'y' * 80}\n"
        "2026-03-04 10:00:00 UTC another source's line\n"
        "api-1  | short line\n"
        "lowercase after a short line\n"
    )
    messages = ingest(tmp_path, text).get_column("message").to_list()
    assert messages == [
        f"Traceback (most recent call last):\n{error}",
        "x" * 82 + " and so on",
        "y" * 80 + " and the next words",
        "y" * 80 + "\nConnection refused (a line of its own)",
        "y" * 80 + "\n2026-03-04 10:00:00 UTC another source's line",
        "short line\nlowercase after a short line",
    ]


def test_a_wrapped_rest_that_holds_a_bar_is_no_container(tmp_path: Path) -> None:
    """The rest of a wrapped line can hold ` | ` (logfmt-ish `key=v | key=v`): `EPORT |`
    is no container when compose's padding puts every other `|` elsewhere and the name
    only ever follows a terminal-long line; a container printed once is one."""
    head = (
        "sonar-1  | 2024.03.11 09:14:07 INFO  ce[AY4k][o.s.c.t.CeWorkerImpl] Executed task | type=R"
    )
    text = (
        "db-1     | 2024-03-11 09:02:10.481 UTC [1] LOG:  database system is ready\n"
        f"{head}\n"
        "EPORT | branch=main | status=FAILED | time=83122ms\n"
        "sonar-1  | short line\n"
        "cache-1  | a container seen once, after a short line\n"
    )
    logs = ingest(tmp_path, text)
    assert sorted(logs.get_column("container").unique()) == ["cache-1", "db-1", "sonar-1"]
    sonar = logs.filter(pl.col("container") == "sonar-1").get_column("message").to_list()
    assert sonar[0].endswith("type=REPORT | branch=main | status=FAILED | time=83122ms")


def test_crlf_line_endings(tmp_path: Path) -> None:
    logs = ingest(tmp_path, "web-1  | a\r\nweb-1  | b\r\n")
    assert logs.get_column("message").to_list() == ["a", "b"]


def test_ids_are_stable_and_distinct(tmp_path: Path) -> None:
    # the same line twice without time: distinct ids (occurrence), stable on re-read
    text = "web-1  | same\nweb-1  | same\nweb-1  | 2025-08-01T12:30:00Z x\nweb-1  | 2025-08-01T12:30:00Z x\n"
    first = ingest(tmp_path, text)
    second = ingest(tmp_path, text)
    assert first.get_column("id").n_unique() == 4
    assert first.get_column("id").to_list() == second.get_column("id").to_list()


def test_host_is_part_of_the_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "web-1  | 2025-08-01T12:30:00Z x\n")
    a = read_inputs([path], host="a").logs.get_column("id").item()
    b = read_inputs([path], host="b").logs.get_column("id").item()
    assert a != b


def test_seed_capture_compose_log(repo_root: Path) -> None:
    """The compose v1 log captured from a real engine (tests/compose/seed-incident)."""
    path = repo_root / "tests/compose/seed-incident/captured/compose.log"
    result = read_inputs([path])
    source = result.summary.sources[0]
    assert source.format is InputFormat.COMPOSE
    assert source.rejected_lines == 0
    assert source.lines == len(path.read_text().splitlines())
    assert {"agent-monitor", "frontend", "cloudflare-tunnel", "compose"} <= source.services
    assert (
        result.logs.get_column("ts").null_count()
        == result.logs.filter(pl.col("service") == "compose").height
    )


def _write(tmp_path: Path, text: str, name: str = "compose.log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_stamp_shaped_text_that_is_no_time_stays_in_the_message(tmp_path: Path) -> None:
    logs = ingest(tmp_path, "web-1  | 0000-00-00T00:00:00Z is not a time\nweb-1  | ok\n")
    assert logs.get_column("message").to_list() == ["0000-00-00T00:00:00Z is not a time", "ok"]
    assert logs.get_column("ts").null_count() == 2


BUILDKIT = """\
[+] Building 16.4s (10/12)
 => [web internal] load build definition from Dockerfile              0.0s
 => CACHED [web 2/6] WORKDIR /srv/app                                 0.0s
 => ERROR [web 4/6] RUN npm ci --omit=dev                            14.6s
------
 > [web 4/6] RUN npm ci --omit=dev:
4.117 npm error code EUSAGE
------
Dockerfile:9
--------------------
   9 | >>> RUN npm ci --omit=dev
--------------------
failed to solve: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1
"""

CLASSIC_BUILD = """\
Creating network "billing_default" with the default driver
Building worker
Step 4/7 : RUN pip install -r requirements.txt
 ---> Running in 5e8b0c2d7f19
ERROR: No matching distribution found for billing-sdk==2.9.1
The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1
ERROR: Service 'worker' failed to build : Build failed
"""


@pytest.mark.parametrize(("text", "service"), [(BUILDKIT, "web"), (CLASSIC_BUILD, "worker")])
def test_an_image_build_is_the_service_it_builds(tmp_path: Path, text: str, service: str) -> None:
    result = read_inputs([_write(tmp_path, text)])
    assert result.summary.sources[0].format is InputFormat.COMPOSE
    logs = result.logs.sort("seq")
    # every line is kept; the step's output and compose's last words are the service's
    assert "\n".join(logs.get_column("message")).count("\n") + 1 == len(text.splitlines())
    services = set(logs.filter(pl.col("service") != "compose").get_column("service"))
    assert services == {service}
    last = logs.row(-1, named=True)
    assert last["service"] == service
    failing = logs.filter(pl.col("message").str.contains("npm error|No matching distribution"))
    assert failing.get_column("service").to_list() == [service]
    # the Dockerfile excerpt (`   9 | >>> RUN`) is no container named 9
    assert "9" not in set(logs.get_column("container"))


def test_a_one_word_line_without_a_bar_is_no_container(tmp_path: Path) -> None:
    """`canceled` (compose after Ctrl-C) or `Killed`: a line, not a container named so."""
    text = "web-1  | x\nweb-1 exited with code 0\ncanceled\n"
    result = read_inputs([_write(tmp_path, text)])
    logs = result.logs.sort("seq")
    assert "canceled" not in set(logs.get_column("container"))
    assert logs.get_column("message").null_count() == 0
    assert logs.get_column("message").to_list()[-1] == "web-1 exited with code 0\ncanceled"
    assert result.summary.sources[0].joined_lines == 1


SWARM = (
    "2026-12-04T22:10:01.000000000Z shop_web.1.k2x8j3mq0v1z@node-2    | Starting gunicorn 21.2.0\n"
    "2026-12-04T22:10:02.000000000Z shop_db.1.p9q8r7s6t5u4@node-1    | database system is ready\n"
    "2026-12-04T22:10:03.000000000Z shop_web.2.a1b2c3d4e5f6@node-3    | ModuleNotFoundError: x\n"
    "2026-12-04T22:10:04.000000000Z shop_web.1.v9u8t7s6r5q4@node-3    | Starting gunicorn 21.2.0\n"
)


def test_swarm_service_logs_name_the_task_and_its_node(tmp_path: Path) -> None:
    # `docker service logs -t`: the time comes first, the task is
    # `<stack>_<service>.<slot>.<task id>@<node>`; the slot is the replica, the node the host
    logs = ingest(tmp_path, SWARM)
    assert logs.select("container", "service", "host", "project", "message").rows() == [
        ("shop_web.1", "web", "node-2", "shop", "Starting gunicorn 21.2.0"),
        ("shop_db.1", "db", "node-1", "shop", "database system is ready"),
        ("shop_web.2", "web", "node-3", "shop", "ModuleNotFoundError: x"),
        # the swarm started a new task in slot 1 (on another node): the replica again
        ("shop_web.1", "web", "node-3", "shop", "Starting gunicorn 21.2.0"),
    ]
    assert logs.get_column("ts").to_list()[0] == ts("2026-12-04T22:10:01Z")


@pytest.mark.parametrize(
    "prefix",
    [
        "shop_web.1@node-2",  # --no-task-ids
        "shop_web.1.k2x8j3mq0v1zr9b7f3wq2xlp0@node-2",  # --no-trunc
        "shop_web.1.k2x8j3mq0v1z@node-2.example.com",
    ],
)
def test_swarm_task_names_in_every_form(tmp_path: Path, prefix: str) -> None:
    logs = ingest(tmp_path, f"{prefix}    | listening\n{prefix}    | error: boom\n")
    assert logs.select("container", "service", "project").unique().rows() == [
        ("shop_web.1", "web", "shop")
    ]
    assert logs.get_column("host").unique().to_list() == [prefix.split("@")[1]]


def test_compose_names_keep_the_host_option(tmp_path: Path) -> None:
    logs = ingest(tmp_path, "web-1  | up\nnode@2  | not a task\n")
    assert logs.get_column("host").unique().to_list() == ["testhost"]


def test_an_application_stamp_with_padding_starts_a_record(tmp_path: Path) -> None:
    """Spring Boot 3 pads its ISO time (`…105Z  WARN 1 ---`): the line after a stack
    trace is a record of its own with its time, not an indented line of the trace. After
    the engine's stamp the text is kept as printed, indent and all."""
    text = (
        "w-1  | 2025-05-07T10:22:37.105Z  WARN 1 --- [main] o.a.k.NetworkClient : no node\n"
        "w-1  | java.net.UnknownHostException: kafka: Name or service not known\n"
        "w-1  | \tat java.base/java.net.InetAddress.getAllByName(InetAddress.java:1300)\n"
        "w-1  | 2025-05-07T10:22:38.214Z  WARN 1 --- [main] o.a.k.ClientUtils : no server\n"
        "w-1  | 2025-05-07T10:22:39.000000000Z   at the engine's stamp, indented\n"
    )
    logs = ingest(tmp_path, text)
    assert logs.select("ts", "message").rows() == [
        (ts("2025-05-07T10:22:37.105Z"), "WARN 1 --- [main] o.a.k.NetworkClient : no node"),
        (
            None,
            "java.net.UnknownHostException: kafka: Name or service not known\n"
            "\tat java.base/java.net.InetAddress.getAllByName(InetAddress.java:1300)",
        ),
        (
            ts("2025-05-07T10:22:38.214Z"),
            "WARN 1 --- [main] o.a.k.ClientUtils : no server\n  at the engine's stamp, indented",
        ),
    ]
