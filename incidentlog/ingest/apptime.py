"""Times the applications write themselves, for lines the engine did not date.

`docker compose logs` without `-t` (the usual paste) and plain `docker logs`
carry no engine time: the only times are those each application prints at
the start of its lines (Postgres, Python's logging, nginx, Redis, Go's log
package, Java, Kafka) or in its structured fields (JSON and logfmt loggers).
They date records that would otherwise be undated, so a report can say since
when. The text is kept as written: the stamp is the application's.

A stamp with a zone (`Z`, `+02:00`, `+0000`, `UTC`, `CEST`) is exact. One
without a zone is read in the zone the caller gives (UTC by default: what a
container runs in unless its image sets `TZ`) and counted as naive, so the
reader is told. A zone abbreviation that names two zones (`IST`, `CST`) dates
nothing: a guess would be hours wrong.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

import polars as pl

from incidentlog.schema import TS_DTYPE

__all__ = ["MONTH", "AppTimes", "read_app_times"]

MONTH: Final = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLOCK: Final = r"(?P<c>\d{2}:\d{2}:\d{2})"
_FRACTION: Final = r"(?:[.,](?P<f>\d{1,9}))?"
_OFFSET: Final = r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)"
_ABBREVIATION: Final = r"(?P<a>[A-Z]{3,5})\b"
_ISO_DATE: Final = r"(?P<d>\d{4}-\d{2}-\d{2})"

ZONE_ABBREVIATIONS: Final = {
    "UTC": 0,
    "GMT": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "SGT": 480,
    "HKT": 480,
    "AWST": 480,
    "JST": 540,
    "KST": 540,
    "ACST": 570,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "HST": -600,
    "AKST": -540,
    "AKDT": -480,
    "PST": -480,
    "PDT": -420,
    "MST": -420,
    "MDT": -360,
    "CDT": -300,
    "EST": -300,
    "EDT": -240,
}
"""Minutes east of UTC of the abbreviations that name one offset (as Postgres and
`date` print them)."""
AMBIGUOUS_ZONES: Final = frozenset({"IST", "CST", "AST", "ADT"})
"""Abbreviations of two or more zones hours apart (India/Ireland/Israel, US/China, …)."""


class _Shape(NamedTuple):
    regex: str
    """Named parts: `d` the date, `c` the clock (`10:00:01`), optional `y` (a year
    after the clock), `f` the fraction, `z` an offset, `a` a zone abbreviation."""
    format: str
    """strptime format of `d`, then `y` if the shape has it, then `c`, space-joined."""


_FIELDS: Final = _Shape(
    # JSON and logfmt: {"time":"2025-08-01T10:00:01Z" · ts=2025-08-01T10:00:01.1Z · {"t":{"$date":…
    r'(?:^|[\s{,])"?(?:@timestamp|timestamp|time|ts|t|datetime)"?\s*[:=]\s*'
    r'(?:\{\s*"\$date"\s*:\s*)?"?'
    rf"{_ISO_DATE}[T ]{_CLOCK}{_FRACTION}{_OFFSET}?",
    "%Y-%m-%d %H:%M:%S",
)
_LEADING: Final = (
    # 2025-08-01 10:00:01,234 INFO · [2025-08-01T10:00:01.123+0000] · … 10:00:01.123 UTC [1] LOG
    # (also behind a bracketed tag: [mediagrab] 2024-05-02T10:00:01Z)
    _Shape(
        rf"^(?:\[[\w.:-]{{1,40}}\] )?\[?{_ISO_DATE}[T ]{_CLOCK}{_FRACTION}"
        rf"(?: ?{_OFFSET}| {_ABBREVIATION})?",
        "%Y-%m-%d %H:%M:%S",
    ),
    # SonarQube and other dotted dates: 2024.03.11 09:14:07 INFO
    _Shape(rf"^(?P<d>\d{{4}}\.\d{{2}}\.\d{{2}}) {_CLOCK}{_FRACTION}", "%Y.%m.%d %H:%M:%S"),
    # nginx's error log, Go's log package: 2025/08/01 10:00:01
    _Shape(rf"^\[?(?P<d>\d{{4}}/\d{{2}}/\d{{2}})[ T]{_CLOCK}{_FRACTION}", "%Y/%m/%d %H:%M:%S"),
    # Redis: 1:M 01 Aug 2025 10:00:01.123 *
    _Shape(rf"^\d+:[A-Z] (?P<d>\d{{2}} {MONTH} \d{{4}}) {_CLOCK}{_FRACTION}", "%d %b %Y %H:%M:%S"),
    # Tomcat and other Java, PHP-FPM: 01-Aug-2025 10:00:01.123 INFO · [01-Aug-2025 10:00:01]
    _Shape(
        rf"^\[?(?P<d>\d{{2}}-{MONTH}-\d{{4}})[ :]{_CLOCK}{_FRACTION}(?: {_OFFSET})?",
        "%d-%b-%Y %H:%M:%S",
    ),
    # Apache's error log: [Fri Aug 01 10:00:01.123456 2025] [core:error]
    _Shape(
        rf"^\[[A-Z][a-z]{{2}} (?P<d>{MONTH} \d{{2}}) {_CLOCK}{_FRACTION} (?P<y>\d{{4}})\]",
        "%b %d %Y %H:%M:%S",
    ),
    # Ruby's Logger (Rails, Sidekiq): I, [2025-08-01T10:00:01.123456 #1]  INFO -- :
    _Shape(rf"^[A-Z], \[{_ISO_DATE}T{_CLOCK}{_FRACTION} #", "%Y-%m-%d %H:%M:%S"),
    # an access log (nginx, Apache, Traefik): 172.18.0.1 - - [01/Aug/2025:10:00:01 +0000] "GET
    _Shape(
        rf"^\S+ \S+ \S+ \[(?P<d>\d{{2}}/{MONTH}/\d{{4}}):{_CLOCK} {_OFFSET}\]",
        "%d/%b/%Y %H:%M:%S",
    ),
    # PostgREST and others printing the access-log date bare: 03/Feb/2025:19:02:31 +0000:
    _Shape(
        rf"^(?P<d>\d{{2}}/{MONTH}/\d{{4}}):{_CLOCK}{_FRACTION}(?: {_OFFSET})?",
        "%d/%b/%Y %H:%M:%S",
    ),
    # Postgres with the client's host first in log_line_prefix (`%h %m`, `%r %m`):
    # 172.19.0.5 2025-02-03 19:02:21.309 UTC [58] · [local] 2025-02-03 19:02:21.309 UTC
    _Shape(
        rf"^(?:\d{{1,3}}(?:\.\d{{1,3}}){{3}}(?:\(\d+\))?|\[local\]) {_ISO_DATE} {_CLOCK}{_FRACTION}"
        rf"(?: ?{_OFFSET}| {_ABBREVIATION})?",
        "%Y-%m-%d %H:%M:%S",
    ),
    _FIELDS,
)
"""Shapes of an application's time, tried in order on lines not dated yet."""

_EPOCH: Final = (
    r'(?:^|[\s{,])"?(?:timestamp|time|ts|t)"?\s*[:=]\s*'
    r"(?P<e>1\d{9}(?:\d{3}|\d{6}|\d{9})?)(?:\.(?P<f>\d{1,9}))?(?:[\s,}]|$)"
)
"""A number of seconds (zap, Go's slog), milliseconds (pino, bunyan), micro- or
nanoseconds since 1970 in a JSON or logfmt field (2001 to 2286)."""

_EPOCH_FIRST: Final = r"^(?P<e>1\d{9})(?:\.(?P<f>\d{1,9}))?: "
"""Seconds since 1970 first on the line, then a colon: Mosquitto's `1718541600: …`."""

_ANY: Final = "|".join(
    re.sub(r"\(\?P<\w+>", "(?:", regex)
    for regex in (*(s.regex for s in _LEADING), _EPOCH, _EPOCH_FIRST)
)
"""Every shape at once (one pass over the lines; the shapes' own names dropped): only
lines it matches try the shapes one by one."""
_HEAD: Final = 400
"""Characters looked at: a structured line's time field is among its first."""


class AppTimes:
    """Per text: its application's time in UTC (null where none) and whether that
    time had no zone (read in the given zone)."""

    def __init__(self, ts: pl.Series, naive: pl.Series) -> None:
        self.ts = ts
        self.naive = naive


def read_app_times(texts: pl.Series, naive_zone: str = "UTC") -> AppTimes:
    """The application's own time of each text (its first line), where it has one."""
    n = texts.len()
    ts = pl.repeat(None, n, dtype=TS_DTYPE, eager=True)
    naive = pl.repeat(False, n, dtype=pl.Boolean, eager=True)
    head = texts.str.slice(0, _HEAD)
    todo = head.str.contains(_ANY).fill_null(False).arg_true()
    if not todo.len():
        return AppTimes(ts.alias("ts"), naive.alias("naive"))
    # which shape each line has, the first that matches (matches in one query: cheap);
    # then each shape captures only its own lines (captures are not)
    lines = head.gather(todo)
    regexes = [*(shape.regex for shape in _LEADING), _EPOCH, _EPOCH_FIRST]
    which = (
        lines.to_frame("line")
        .select(
            pl.coalesce(
                pl.when(pl.col("line").str.contains(regex)).then(pl.lit(i, dtype=pl.UInt8))
                for i, regex in enumerate(regexes)
            )
        )
        .to_series()
    )
    for i, shape in enumerate(_LEADING):
        mine = which == i
        if mine.any():
            found = _parse(lines.filter(mine).str.extract_groups(shape.regex), shape, naive_zone)
            ts = ts.scatter(todo.filter(mine), found.get_column("ts"))
            naive = naive.scatter(todo.filter(mine), found.get_column("naive"))
    for i, regex in enumerate((_EPOCH, _EPOCH_FIRST), start=len(_LEADING)):
        mine = which == i
        if mine.any():
            ts = ts.scatter(todo.filter(mine), _epoch(lines.filter(mine).str.extract_groups(regex)))
    naive = naive & ts.is_not_null()
    return AppTimes(ts.alias("ts"), naive.alias("naive"))


def _parse(groups: pl.Series, shape: _Shape, naive_zone: str) -> pl.DataFrame:
    """`ts` (UTC) and `naive` from the named parts one shape matched (integer
    nanoseconds: cheaper than durations and zone conversions on every row)."""
    parts = groups.struct.unnest()
    for name in ("f", "z", "a"):
        if name not in parts.columns:
            parts = parts.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    text = [pl.col("d"), *([pl.col("y")] if "y" in parts.columns else []), pl.col("c")]
    local = pl.concat_str(text, separator=" ").str.to_datetime(
        format=shape.format, time_unit="ns", strict=False
    )
    offset = _offset_minutes(pl.col("z"), pl.col("a"))
    if naive_zone != "UTC":  # a naive time's offset is that of its zone at that time
        utc = local.dt.replace_time_zone(naive_zone, ambiguous="earliest", non_existent="null")
        zone_offset = (local.cast(pl.Int64) - utc.cast(pl.Int64)) // 60_000_000_000
        offset = pl.coalesce(offset, zone_offset)
    nanoseconds = (
        local.cast(pl.Int64)
        + _nanoseconds(pl.col("f"))
        - offset.fill_null(0).cast(pl.Int64) * 60_000_000_000
    )
    ambiguous = pl.col("a").is_in(list(AMBIGUOUS_ZONES)).fill_null(False)
    return parts.select(
        ts=pl.when(ambiguous).then(None).otherwise(nanoseconds).cast(TS_DTYPE),
        naive=_offset_minutes(pl.col("z"), pl.col("a")).is_null() & ~ambiguous,
    )


def _nanoseconds(fraction: pl.Expr) -> pl.Expr:
    """`123` (of `.123`) as nanoseconds; 0 without a fraction."""
    return (fraction.fill_null("") + "000000000").str.slice(0, 9).cast(pl.Int64)


def _offset_minutes(z: pl.Expr, abbreviation: pl.Expr) -> pl.Expr:
    """Minutes east of UTC of an offset (`Z`, `+02`, `+0200`, `+02:00`) or a known
    abbreviation; null for none (an abbreviation not known is a word after the time,
    like `INFO`)."""
    digits = z.str.replace_all(":", "", literal=True)
    sign = pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    numeric = pl.when(z == "Z").then(0).otherwise(sign * (hours * 60 + minutes))
    named = abbreviation.replace_strict(ZONE_ABBREVIATIONS, default=None, return_dtype=pl.Int64)
    return pl.when(z.is_not_null()).then(numeric).otherwise(named)


def _epoch(groups: pl.Series) -> pl.Series:
    """UTC times of epoch numbers: their digits say the unit (10 s, 13 ms, 16 µs, 19 ns)."""
    parts = groups.struct.unnest()
    digits = pl.col("e").str.len_bytes()
    whole = pl.col("e").cast(pl.Int64, strict=False)
    nanos = (
        pl.when(digits == 10)
        .then(whole * 1_000_000_000 + _nanoseconds(pl.col("f")))
        .when(digits == 13)
        .then(whole * 1_000_000)
        .when(digits == 16)
        .then(whole * 1_000)
        .otherwise(whole)
    )
    return parts.select(nanos.cast(TS_DTYPE).alias("ts")).to_series()
