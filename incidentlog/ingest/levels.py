"""Infer a record's level from the shapes real software prints.

One expression, compiled once: a few leftmost-match regex extractions over
the head of each message (structured fields first, then fixed layouts, then
a level word), mapped to the canonical `Level` enum. Most specific wins.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from incidentlog.schema import LEVEL_DTYPE, Level

HEAD_CHARS = 160
"""Only the start of a record decides its level: a word deep inside a
message or a stack trace ("... ERROR ...") must not change it."""

_WORDS: dict[str, Level] = {
    "trace": Level.TRACE,
    "trc": Level.TRACE,
    "debug": Level.DEBUG,
    "dbg": Level.DEBUG,
    "dbug": Level.DEBUG,  # log15 / geth
    "verbose": Level.DEBUG,
    "info": Level.INFO,
    "inf": Level.INFO,
    "information": Level.INFO,
    "notice": Level.INFO,
    "log": Level.INFO,
    "warn": Level.WARN,
    "warning": Level.WARN,
    "wrn": Level.WARN,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "eror": Level.ERROR,
    "severe": Level.ERROR,
    "fatal": Level.FATAL,
    "ftl": Level.FATAL,
    "critical": Level.FATAL,
    "crit": Level.FATAL,
    "fail": Level.ERROR,
    "trce": Level.TRACE,
    "silly": Level.TRACE,
    "alert": Level.FATAL,
    "emerg": Level.FATAL,
    "emergency": Level.FATAL,
    "panic": Level.FATAL,
    "dpanic": Level.FATAL,
    # single letters: glog/klog (`E0801 ...`) and redis (`#` warning, `*` notice)
    "t": Level.TRACE,
    "d": Level.DEBUG,
    "i": Level.INFO,
    "w": Level.WARN,
    "e": Level.ERROR,
    "f": Level.FATAL,
    ".": Level.DEBUG,
    "-": Level.DEBUG,
    "*": Level.INFO,
    "#": Level.WARN,
    # pino / bunyan numeric levels
    "10": Level.TRACE,
    "20": Level.DEBUG,
    "30": Level.INFO,
    "40": Level.WARN,
    "50": Level.ERROR,
    "60": Level.FATAL,
}

_STRUCTURED = (
    r'(?i:(?:"(?:level|severity|lvl|loglevel|log\.level|levelname|@l)"[ \t]*:[ \t]*"?|'
    r"\b(?:level|lvl|severity)=\"?)([a-z]+|[1-6]0)\b)"
)
"""JSON (`"level":"error"`, pino `"level":50`) and logfmt (`level=error`)."""

_LAYOUT = (
    r"^(?:([IWEF])[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}"  # glog / klog: E0801 12:30:00.123456 ...
    r"|[0-9]+:[XCSM] [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:.]+ ([.*#-]) )"  # redis: 1:M 01 Aug 2025 12:30:00.123 # ...
)

_START = (
    r"^(?:(Traceback \(most recent call last\)|Exception in thread|"
    r"(?:[A-Za-z_][0-9A-Za-z_$]*\.)*(?:[A-Z][0-9A-Za-z_$]*)?(?:Error|Exception)(?::|$))"  # ValueError: x, Error: y
    r"|(panic: |fatal error: ))"  # Go runtime
)

_UPPER_WORDS = [
    "TRACE",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARN",
    "WARNING",
    "ERROR",
    "ERR",
    "FATAL",
    "CRITICAL",
    "CRIT",
    "PANIC",
    "SEVERE",
    "EMERG",
    "ALERT",
    "LOG",
    "TRC",
    "DBG",
    "INF",
    "WRN",
    "FTL",
]
_BRACKET_WORDS = [
    "trace",
    "debug",
    "info",
    "notice",
    "warn",
    "warning",
    "error",
    "crit",
    "alert",
    "emerg",
    "fatal",
]

_PREFIX: Final = r"(?:\[[^\]\n]{1,64}\][ \t]*|[0-9][0-9:.,/TZ+-]{4,}[ \t]+){1,3}"
"""What may come before a lower-case level word and colon at the start of a line: up to
three bracketed tags or times (`[2024-11-02 20:41:03] error: `, `[MASTER] error: `,
`2024-11-02 20:41:03 warn: `), nothing else: `got error: x` and `[api] got error: x` are prose."""
DOTNET_LEVELS: Final = "trce|dbug|info|warn|fail|crit"
""".NET's console logger's level words (`fail: Microsoft.AspNetCore.Server.Kestrel[13]`)."""
_WORD = (
    rf"\b({'|'.join(_UPPER_WORDS)})\b|\[(?i:({'|'.join(_BRACKET_WORDS)}))\]"
    r"|(?:^| )\[([TDIWEF])\] "
    rf"|^({DOTNET_LEVELS}|error|debug|verbose|silly): "
    rf"|^{_PREFIX}(error|warn|info|debug|verbose|silly):[ \t]"
)
"""An upper-case level word (Python logging, uvicorn `ERROR:`, postgres
`FATAL:`, Java, logrus text, zerolog console `INF`/`ERR` as cloudflared prints),
a bracketed one in any case (nginx `[error]`), a bracketed capital letter
between spaces (Gitea and Forgejo: `…migrations.go:71:EnsureUpToDate() [F] …`), or a
lower-case word and colon that starts the line: .NET's console logger (`fail: Microsoft.…[1]`,
`dbug:`, `crit:`) and winston's default format (`error: …`, `verbose: …`), also after a
time or bracketed tags the application printed before it (zigbee2mqtt's `[2024-11-02
20:41:03] error: …`, a cluster worker's `[MASTER] error: …`)."""


def _canonical(token: pl.Expr) -> pl.Expr:
    return token.str.to_lowercase().replace_strict(
        {k: v.value for k, v in _WORDS.items()}, default=None, return_dtype=pl.String
    )


_ALL = f"{_LAYOUT}|{_START}|{_STRUCTURED}|{_WORD}".replace(r"\b", r"(?-u:\b)").replace(
    "(?i:", "(?i-u:"
)
"""One leftmost-first pass: anchored layouts win at position 0; otherwise the
first level-bearing token in the head decides. Classes and word boundaries
are ASCII (level words are), which keeps the regex automaton small."""


def _level_from_groups(groups: pl.Expr) -> pl.Expr:
    field = groups.struct.field
    word = pl.coalesce(
        field("1"),
        field("2"),
        field("5"),
        field("6"),
        field("7"),
        field("8"),
        field("9"),
        field("10"),
    )
    return (
        pl.coalesce(
            _canonical(word),
            pl.when(field("3").is_not_null())
            .then(pl.lit(Level.ERROR.value))
            .when(field("4").is_not_null())
            .then(pl.lit(Level.FATAL.value)),
            pl.lit(Level.UNKNOWN.value),
        )
        .cast(LEVEL_DTYPE)
        .alias("level")
    )


def with_level(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """`frame` with a `level` column inferred from `column` (as `level_expr`).

    Capturing groups of the whole alternation cost far more than finding its
    matches, and a batch holds few distinct matches (`INFO`, `[error]`,
    `"level":"info`, ...): so the leftmost match is found without groups, and
    only the distinct matches are taken apart with groups, on their few
    characters, then mapped back.
    """
    head = frame.get_column(column).str.slice(0, HEAD_CHARS)
    match = head.str.extract_all(_ALL).list.first()
    distinct = match.unique().drop_nulls()
    level = match.replace_strict(
        distinct, _levels_of(distinct), default=None, return_dtype=LEVEL_DTYPE
    )
    return frame.with_columns(level.fill_null(Level.UNKNOWN.value).alias("level"))


def _levels_of(text: pl.Series) -> pl.Series:
    """Levels from the groups of `_ALL` (the same mapping as `level_expr`)."""
    return pl.select(_level_from_groups(pl.lit(text.str.extract_groups(_ALL)))).to_series()


def level_expr(message: pl.Expr) -> pl.Expr:
    """The `level` of records whose text is `message`, as one expression
    (same result as `with_level`, which is faster on large frames)."""
    return _level_from_groups(message.str.slice(0, HEAD_CHARS).str.extract_groups(_ALL))
