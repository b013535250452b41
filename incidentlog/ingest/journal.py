"""Parse container logs read from the host's journal or syslog, not from compose.

    Dec 04 22:10:01 node-2 shop-web-1[812]: message              (journalctl; journald driver, tag {{.Name}})
    Dec  4 22:10:01 node-2 3f2a1b4c5d6e[812]: message            (syslog; the default tag, the container id)
    2025-12-04T22:10:01.123456+00:00 node-2 docker/web[812]: msg (rsyslog's RFC 3339; a tag with a path)
    Thu 2025-12-04 22:10:01 UTC node-2 web[812]: message         (journalctl -o short-full)
    -- Boot 4c1d… --                                             (journalctl's own line)

Hosts that ship container logs to journald or syslog (`logging: driver: journald`)
have no `docker compose logs`: what people paste is `journalctl` output. Its
identifier is the container's log tag (the name, or the id by default), its host
the machine, its time the journal's. The short formats print no year and no zone:
the year is the one the messages' own dates say, else the latest one that puts the
line before the end journalctl's header names (`-- Logs begin at … CEST, end at …`), or
before now; the zone is the one that header names, else `--log-tz`.
Lines without the prefix (a message's wrapped rest) join the record before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from incidentlog.ingest.apptime import MONTH
from incidentlog.ingest.compose import (
    ANSI,
    ANSI_STARTS,
    COMPOSE_SERVICE,
    parse_compose_lines,
    parse_timestamp,
    service_from_container,
)
from incidentlog.schema import TS_DTYPE

__all__ = [
    "JOURNAL_LINE",
    "ZONE_ABBREVIATIONS",
    "JournalHeader",
    "journal_header",
    "parse_journal_lines",
]

_SHORT: Final = rf"{MONTH} [ 0-3]?\d \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,9}})?"
"""journalctl's `short` and `short-precise`, syslog's RFC 3164 (`Dec  4 22:10:01`)."""
_ISO: Final = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})"
"""journalctl's `short-iso(-precise)`, rsyslog's RFC 3339 format."""
_FULL: Final = (
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})? [A-Z]{3,5}"
)
"""journalctl's `short-full` (`Thu 2025-12-04 22:10:01 UTC`)."""

JOURNAL_LINE: Final = (
    rf"^(?P<stamp>{_SHORT}|{_ISO}|{_FULL}) (?P<host>[^\s\[\]:]+) "
    r"(?P<ident>[^\s\[\]:]+)(?:\[\d+\])?:(?: (?P<message>.*))?$"
)
"""A journal or syslog line: time, host, identifier (`[pid]` optional: `kernel:` has
none), message."""
_OWN: Final = r"^-- (?:Boot [0-9a-f]+|Logs begin at|Journal begins at|No entries|Reboot).*--\s*$|^-- No entries --"
"""journalctl's own lines: a boot boundary, the journal's span, nothing found."""
_HEADER: Final = re.compile(
    rb"^-- (?:Logs begin at|Journal begins at) [A-Z][a-z]{2} \d{4}-\d\d-\d\d "
    rb"\d\d:\d\d:\d\d (?P<zone>[A-Z]{2,5})\b"
    rb"(?:, ends? at [A-Z][a-z]{2} (?P<end>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d))?",
    re.MULTILINE,
)
"""journalctl's first line, which names the zone its short times are printed in and the
last one's date (`-- Logs begin at Mon 2024-06-10 09:12:01 CEST, end at Mon 2024-06-10
09:20:44 CEST. --`)."""
ZONE_ABBREVIATIONS: Final = {
    "UTC": "UTC",
    "GMT": "UTC",
    "WET": "Etc/GMT",
    "WEST": "Etc/GMT-1",
    "BST": "Etc/GMT-1",
    "CET": "Etc/GMT-1",
    "CEST": "Etc/GMT-2",
    "MET": "Etc/GMT-1",
    "MEST": "Etc/GMT-2",
    "EET": "Etc/GMT-2",
    "EEST": "Etc/GMT-3",
    "MSK": "Etc/GMT-3",
    "HKT": "Etc/GMT-8",
    "SGT": "Etc/GMT-8",
    "AWST": "Etc/GMT-8",
    "JST": "Etc/GMT-9",
    "KST": "Etc/GMT-9",
    "AEST": "Etc/GMT-10",
    "AEDT": "Etc/GMT-11",
    "NZST": "Etc/GMT-12",
    "NZDT": "Etc/GMT-13",
    "EST": "Etc/GMT+5",
    "EDT": "Etc/GMT+4",
    "CDT": "Etc/GMT+5",
    "MST": "Etc/GMT+7",
    "MDT": "Etc/GMT+6",
    "PST": "Etc/GMT+8",
    "PDT": "Etc/GMT+7",
    "AKST": "Etc/GMT+9",
    "AKDT": "Etc/GMT+8",
    "HST": "Etc/GMT+10",
}
"""Zone abbreviations journalctl prints that name one offset (`CST` and `IST` name
several, and are left to `--log-tz`): the offset, as a zone Polars reads."""
_FUTURE: Final = timedelta(days=1)
"""How far past now a year-less time may be (clocks differ) before it is last year's."""


def parse_journal_lines(
    lines: pl.DataFrame, zone: str, now: datetime | None = None
) -> pl.DataFrame:
    """From `line` (+ `seq`) to the columns `parse_compose_lines` gives: container (the
    identifier's last path part: `docker/shop-web-1` -> `shop-web-1`), service, host, ts
    (the journal's time; year-less times in the last year before `now`, naive ones in
    `zone`), text, and `joined` for lines without the prefix."""
    text = lines.get_column("line")
    if text.str.contains_any(ANSI_STARTS).any():
        text = text.str.replace_all(ANSI, "")
    parts = text.str.extract_groups(JOURNAL_LINE).struct.unnest()
    ident = parts.get_column("ident").str.extract(r"([^/]+)$", 1)
    ts = _times(parts.get_column("stamp"), zone, now or datetime.now(UTC))
    ts = _with_messages_year(ts, parts.get_column("stamp"), parts.get_column("message"))
    prefixed = ident.is_not_null()
    blank = ~prefixed & (text.str.strip_chars() == "")
    own = ~prefixed & (text.str.contains(_OWN) | text.str.contains(_PROMPT))
    parsed = lines.with_columns(
        text=pl.select(
            pl.when(pl.lit(prefixed))
            .then(pl.lit(parts.get_column("message")).fill_null(""))
            .otherwise(pl.lit(text))
        ).to_series(),
        container=ident,
        service=pl.select(service_from_container(pl.lit(ident))).to_series(),
        ts=ts,
        host=parts.get_column("host"),
        joined=~prefixed & ~blank & ~own,
        wrapped=pl.lit(False),
        reject=pl.select(
            pl.when(pl.lit(blank))
            .then(pl.lit("blank line"))
            .when(pl.lit(own))
            .then(pl.lit("journalctl's own line (a boot, the journal's span, the command)"))
            .otherwise(None)
        ).to_series(),
    )
    runner = ident.is_in(list(COMPOSE_RUNNERS)).fill_null(False)
    return _compose_run(parsed, runner, ident) if runner.any() else parsed


COMPOSE_RUNNERS: Final = frozenset(
    {"docker-compose", "docker", "compose", "podman-compose", "podman", "docker-compose-up"}
)
"""Identifiers under which a systemd unit running `docker compose up` logs what compose
prints (its program's name: `docker-compose[1234]:`, `docker[1234]:`)."""


def _compose_run(parsed: pl.DataFrame, runner: pl.Series, ident: pl.Series) -> pl.DataFrame:
    """The lines of compose run by a systemd unit (`journalctl -u myapp.service`):
    `Dec 06 02:11:09 host docker-compose[1234]: web-1  | text` is web-1's line, timed by
    the journal (or by the engine's stamp in it, under `--timestamps`), on that host;
    compose's own lines are compose's, and what else it printed (no `name |`) too, not
    a service called `docker-compose`. The unit's own lines (`systemd[1]: myapp.service:
    Main process exited`) are about the compose run: compose's."""
    rows = runner.arg_true()
    inner = parse_compose_lines(
        pl.DataFrame(
            {
                "seq": parsed.get_column("seq").gather(rows),
                "line": parsed.get_column("text").gather(rows),
            }
        )
    )
    as_compose = inner.with_columns(
        container=pl.coalesce("container", pl.lit(COMPOSE_SERVICE)),
        service=pl.coalesce("service", pl.lit(COMPOSE_SERVICE)),
        # (a line compose could not place is still compose's output, not a continuation)
        joined=pl.lit(False),
        reject=pl.when(pl.col("reject") == "blank line").then("reject"),
    ).select(
        "seq",
        "text",
        "container",
        "service",
        "joined",
        "wrapped",
        "reject",
        pl.col("ts").alias("_engine_ts"),
        pl.col("host").alias("_node"),
    )
    unit = (ident == "systemd").fill_null(False)  # (its lines about the unit running compose)
    merged = parsed.join(as_compose, on="seq", how="left", suffix="_c", maintain_order="left")
    is_run = pl.col("container_c").is_not_null()
    return merged.with_columns(
        text=pl.when(is_run).then("text_c").otherwise("text"),
        container=pl.when(is_run).then("container_c").otherwise("container"),
        service=pl.when(is_run)
        .then("service_c")
        .when(pl.lit(unit))
        .then(pl.lit(COMPOSE_SERVICE))
        .otherwise("service"),
        ts=pl.coalesce("_engine_ts", "ts"),
        host=pl.coalesce("_node", "host"),
        joined=pl.when(is_run).then("joined_c").otherwise("joined"),
        wrapped=pl.when(is_run).then("wrapped_c").otherwise("wrapped"),
        reject=pl.when(is_run).then("reject_c").otherwise("reject"),
    ).select(parsed.columns)


@dataclass(frozen=True)
class JournalHeader:
    """What journalctl's first line says about the times below it."""

    abbreviation: str
    """The zone as printed (`CEST`)."""
    zone: str | None
    """That zone as Polars reads it, when the abbreviation names one offset."""
    end: datetime | None
    """The last line's time (naive, in that zone): its year is the short times' year."""


def journal_header(head: bytes) -> JournalHeader | None:
    """journalctl's header line at the start of `head`, read."""
    found = _HEADER.search(head[:4096])
    if found is None:
        return None
    end = datetime.strptime(found["end"].decode(), "%Y-%m-%d %H:%M:%S") if found["end"] else None
    abbreviation = found["zone"].decode()
    return JournalHeader(abbreviation, ZONE_ABBREVIATIONS.get(abbreviation), end)


def _times(stamps: pl.Series, zone: str, now: datetime) -> pl.Series:
    """The journal's times in UTC: RFC 3339 as they say; `short-full` in the zone it
    names (when the abbreviation names one offset), else in `zone`; the year-less short
    ones in `zone`, in the latest year that is not in the future."""
    iso = stamps.str.contains(r"^\d{4}-").fill_null(False)
    full = stamps.str.contains(r"^[A-Z][a-z]{2} \d{4}-").fill_null(False)
    frame = pl.DataFrame({"stamp": stamps, "iso": iso, "full": full})
    naive_full = (
        pl.col("stamp").str.slice(4).str.replace(r" [A-Z]{3,5}$", "")
    )  # `Thu 2025-12-04 22:10:01 UTC` -> `2025-12-04 22:10:01`
    short = pl.col("stamp").str.replace_all(r" +", " ")
    this_year = _local(pl.lit(f"{now.year} ") + short, "%Y %b %d %H:%M:%S%.f", zone)
    last_year = _local(pl.lit(f"{now.year - 1} ") + short, "%Y %b %d %H:%M:%S%.f", zone)
    limit = pl.lit(now + _FUTURE).cast(TS_DTYPE)
    out = frame.select(
        pl.when("iso")
        .then(parse_timestamp(pl.col("stamp")))
        .when("full")
        .then(_named_zone(stamps.filter(full), naive_full, zone))
        .otherwise(pl.when(this_year <= limit).then(this_year).otherwise(last_year))
        .alias("ts")
    )
    return out.get_column("ts").cast(TS_DTYPE)


_DATED: Final = r"^.{0,40}?\b((?:19|20)\d\d)-(\d\d)-(\d\d)[T ]\d\d:\d\d"
"""A full date the message itself starts with (the application's own time)."""


def _with_messages_year(ts: pl.Series, stamps: pl.Series, messages: pl.Series) -> pl.Series:
    """Year-less times in the year the messages' own dates say, where they say one on
    the same month and day (a paste of last year's journal is not dated this year)."""
    short = ~stamps.str.contains(r"^\d{4}-|^[A-Z][a-z]{2} \d{4}-").fill_null(True)
    if not short.any():
        return ts
    dated = messages.str.extract_groups(_DATED).struct.rename_fields(["y", "m", "d"])
    frame = pl.DataFrame({"ts": ts, "short": short, "_date": dated}).with_columns(
        pl.col("_date").struct.field("y").cast(pl.Int32, strict=False),
        pl.col("_date").struct.field("m").cast(pl.Int8, strict=False),
        pl.col("_date").struct.field("d").cast(pl.Int8, strict=False),
    )
    same_day = (pl.col("m") == pl.col("ts").dt.month()) & (pl.col("d") == pl.col("ts").dt.day())
    years = frame.filter(pl.col("short") & same_day).select(
        (pl.col("y") - pl.col("ts").dt.year()).alias("delta")
    )
    if years.is_empty():
        return ts
    delta = int(years.get_column("delta").mode().sort()[0])
    if delta == 0:
        return ts
    return frame.select(
        pl.when("short").then(pl.col("ts").dt.offset_by(f"{delta}y")).otherwise("ts")
    ).to_series()


_PROMPT: Final = r"^[^\s$#%>]{0,160}[$#%>] +(?:sudo +)?(?:journalctl|tail|cat|less|grep|zcat)\b"
"""The command that printed the journal, pasted with it (`$ journalctl -u docker …`)."""


_ABBREVIATION: Final = r" ([A-Z]{3,5})$"


def _named_zone(full: pl.Series, naive: pl.Expr, zone: str) -> pl.Expr:
    """`short-full`'s times (`full`: those stamps) read in the zone their abbreviation
    names, else in `zone` (one conversion per abbreviation the input holds)."""
    named = pl.col("stamp").str.extract(_ABBREVIATION, 1)
    fallback = _local(naive, "%Y-%m-%d %H:%M:%S%.f", zone)
    present = full.str.extract(_ABBREVIATION, 1).drop_nulls().unique().sort().to_list()
    known = [a for a in present if a in ZONE_ABBREVIATIONS]
    return pl.coalesce(
        *(
            pl.when(named == a).then(_local(naive, "%Y-%m-%d %H:%M:%S%.f", ZONE_ABBREVIATIONS[a]))
            for a in known
        ),
        fallback,
    )


def _local(text: pl.Expr, fmt: str, zone: str) -> pl.Expr:
    """`text` read with `fmt` as a wall-clock time in `zone`, in UTC."""
    naive = text.str.to_datetime(format=fmt, time_unit="ns", strict=False)
    return (
        naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(TS_DTYPE)
    )


def looks_like_journal(line: str) -> bool:
    """Whether `line` is a journal or syslog line (for the sniffer): not an application's
    `<time> LEVEL component: message`, whose level is no host."""
    match = _LINE.match(line)
    return match is not None and match["host"].upper() not in _LEVEL_WORDS


_LINE: Final = re.compile(JOURNAL_LINE)
_LEVEL_WORDS: Final = frozenset(
    {"TRACE", "DEBUG", "DBG", "INFO", "INF", "NOTICE", "WARN", "WRN", "WARNING", "ERROR"}
    | {"ERR", "FATAL", "FTL", "CRIT", "CRITICAL", "PANIC", "ALERT", "EMERG", "SEVERE"}
)
