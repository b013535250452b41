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

from typing import Final

import polars as pl

from incidentlog.schema import TS_DTYPE

__all__ = ["AppTimes", "read_app_times"]

_MONTHS: Final = {
    name: f"{number:02d}"
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_MONTH_NAME: Final = "|".join(_MONTHS)
_CLOCK: Final = r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?"
_OFFSET: Final = r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)"
_ABBREVIATION: Final = r"(?P<a>[A-Z]{3,5})\b"

ZONE_ABBREVIATIONS: Final = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "BST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "SGT": "+08:00",
    "HKT": "+08:00",
    "AWST": "+08:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "ACST": "+09:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
    "HST": "-10:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "CDT": "-05:00",
    "EST": "-05:00",
    "EDT": "-04:00",
}
"""Abbreviations that name one offset (as Postgres and `date` print them)."""
AMBIGUOUS_ZONES: Final = frozenset({"IST", "CST", "AST", "ADT"})
"""Abbreviations of two or more zones hours apart (India/Ireland/Israel, US/China, …)."""

_LEADING: Final = (
    # 2025-08-01 10:00:01,234 INFO · [2025-08-01T10:00:01.123+0000] · … 10:00:01.123 UTC [1] LOG
    rf"^\[?(?P<Y>\d{{4}})-(?P<M>\d{{2}})-(?P<D>\d{{2}})[T ]{_CLOCK}(?: ?{_OFFSET}| {_ABBREVIATION})?",
    # nginx's error log, Go's log package: 2025/08/01 10:00:01
    rf"^\[?(?P<Y>\d{{4}})/(?P<M>\d{{2}})/(?P<D>\d{{2}})[ T]{_CLOCK}",
    # Redis: 1:M 01 Aug 2025 10:00:01.123 *
    rf"^\d+:[A-Z] (?P<D>\d{{1,2}}) (?P<N>{_MONTH_NAME}) (?P<Y>\d{{4}}) {_CLOCK}",
    # Tomcat and other Java: 01-Aug-2025 10:00:01.123 INFO
    rf"^\[?(?P<D>\d{{1,2}})-(?P<N>{_MONTH_NAME})-(?P<Y>\d{{4}})[ :]{_CLOCK}(?: {_OFFSET})?",
    # Apache's error log: [Fri Aug 01 10:00:01.123456 2025] [core:error]
    rf"^\[[A-Z][a-z]{{2}} (?P<N>{_MONTH_NAME}) (?P<D>\d{{1,2}}) {_CLOCK} (?P<Y>\d{{4}})\]",
    # Ruby's Logger (Rails, Sidekiq): I, [2025-08-01T10:00:01.123456 #1]  INFO -- :
    rf"^[A-Z], \[(?P<Y>\d{{4}})-(?P<M>\d{{2}})-(?P<D>\d{{2}})T{_CLOCK} #",
    # an access log (nginx, Apache, Traefik): 172.18.0.1 - - [01/Aug/2025:10:00:01 +0000] "GET
    rf"^\S+ \S+ \S+ \[(?P<D>\d{{2}})/(?P<N>{_MONTH_NAME})/(?P<Y>\d{{4}}):{_CLOCK} {_OFFSET}\]",
    # JSON and logfmt: {"time":"2025-08-01T10:00:01Z" · ts=2025-08-01T10:00:01.1Z · {"t":{"$date":…
    r'(?:^|[\s{,])"?(?:@timestamp|timestamp|time|ts|t|datetime)"?\s*[:=]\s*'
    r'(?:\{\s*"\$date"\s*:\s*)?"?'
    rf"(?P<Y>\d{{4}})-(?P<M>\d{{2}})-(?P<D>\d{{2}})[T ]{_CLOCK}{_OFFSET}?",
)
"""Shapes of an application's time, tried in order on lines not dated yet."""

_EPOCH: Final = (
    r'(?:^|[\s{,])"?(?:timestamp|time|ts|t)"?\s*[:=]\s*'
    r"(?P<e>1\d{9}(?:\d{3}|\d{6}|\d{9})?)(?:\.(?P<f>\d{1,9}))?(?:[\s,}]|$)"
)
"""A number of seconds (zap, Go's slog), milliseconds (pino, bunyan), micro- or
nanoseconds since 1970 in a JSON or logfmt field (2001 to 2286)."""

_CLUE: Final = r"\d:\d\d:\d\d|[:=]\s*1\d{9}"
"""What every shape holds (a clock, an epoch number): lines without it skip the shapes."""
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
    todo = head.str.contains(_CLUE).fill_null(False).arg_true()
    # a match is cheap, a capture is not: each shape captures only the lines it matches
    for shape in _LEADING:
        if not todo.len():
            break
        matched = head.gather(todo).str.contains(shape)
        rows = todo.filter(matched)
        todo = todo.filter(~matched)
        if rows.len():
            found = _parse(head.gather(rows).str.extract_groups(shape), naive_zone)
            ts = ts.scatter(rows, found.get_column("ts"))
            naive = naive.scatter(rows, found.get_column("naive"))
    if todo.len():
        matched = head.gather(todo).str.contains(_EPOCH)
        rows = todo.filter(matched)
        if rows.len():
            ts = ts.scatter(rows, _epoch(head.gather(rows).str.extract_groups(_EPOCH)))
    naive = naive & ts.is_not_null()
    return AppTimes(ts.alias("ts"), naive.alias("naive"))


def _parse(groups: pl.Series, naive_zone: str) -> pl.DataFrame:
    """`ts` (UTC) and `naive` from the named parts one shape matched."""
    parts = groups.struct.unnest()
    for name in ("M", "N", "f", "z", "a"):
        if name not in parts.columns:
            parts = parts.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    month = pl.coalesce(pl.col("M"), pl.col("N").replace_strict(_MONTHS, default=None))
    day = pl.col("D").str.zfill(2)
    clock = pl.concat_str(
        pl.col("h"), pl.lit(":"), pl.col("m"), pl.lit(":"), pl.col("s"), pl.lit("."),
        pl.col("f").fill_null("0"),
    )  # fmt: skip
    local = pl.concat_str(pl.col("Y"), pl.lit("-"), month, pl.lit("-"), day, pl.lit("T"), clock)
    offset = _offset(pl.col("z"), pl.col("a"))
    ambiguous = pl.col("a").is_in(list(AMBIGUOUS_ZONES)).fill_null(False)
    zoned = (local + offset).str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="ns", time_zone="UTC", strict=False
    )
    unzoned = (
        local.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f", time_unit="ns", strict=False)
        .dt.replace_time_zone(naive_zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return parts.select(
        ts=pl.when(ambiguous)
        .then(None)
        .when(offset.is_not_null())
        .then(zoned)
        .otherwise(unzoned)
        .cast(TS_DTYPE),
        naive=offset.is_null() & ~ambiguous,
    )


def _offset(z: pl.Expr, abbreviation: pl.Expr) -> pl.Expr:
    """`+HH:MM` of an offset (`Z`, `+02`, `+0200`, `+02:00`) or a known abbreviation;
    null for none (an abbreviation not known is a word after the time, like `INFO`)."""
    digits = z.str.replace_all(":", "", literal=True)
    numeric = (
        pl.when(z == "Z")
        .then(pl.lit("+00:00"))
        .when(digits.str.len_bytes() == 3)
        .then(digits + ":00")
        .otherwise(digits.str.slice(0, 3) + ":" + digits.str.slice(3, 2))
    )
    named = abbreviation.replace_strict(ZONE_ABBREVIATIONS, default=None)
    return pl.when(z.is_not_null()).then(numeric).otherwise(named)


def _epoch(groups: pl.Series) -> pl.Series:
    """UTC times of epoch numbers: their digits say the unit (10 s, 13 ms, 16 µs, 19 ns)."""
    parts = groups.struct.unnest()
    digits = pl.col("e").str.len_bytes()
    whole = pl.col("e").cast(pl.Int64, strict=False)
    fraction = (pl.col("f").fill_null("0") + "000000000").str.slice(0, 9).cast(pl.Int64)
    nanos = (
        pl.when(digits == 10)
        .then(whole * 1_000_000_000 + fraction)
        .when(digits == 13)
        .then(whole * 1_000_000)
        .when(digits == 16)
        .then(whole * 1_000)
        .otherwise(whole)
    )
    return parts.select(nanos.cast(TS_DTYPE).alias("ts")).to_series()
