"""Template mining: mask the variable parts of messages, group, merge near-duplicates.

Three steps, and only the first touches every message:

1. **Mask** (vectorised): a fixed list of Rust-syntax regexes (`MASKS`) runs as
   a chain of `str.replace_all` over the whole column: URLs, UUIDs, IPv6,
   timestamps, IPv4 with ports, MACs, paths, hex, sizes, durations, booleans,
   numbers (also inside words: `worker-3` -> `worker-<NUM>`), quoted words,
   then whitespace and control characters collapse to one space.
2. **Group** (vectorised): identical masked texts are one candidate template;
   `group_by` counts them. Real logs have few of these (hundreds to thousands
   per million lines).
3. **Merge** (Python over the distinct masked texts only, never per line):
   masked texts with the same token count are grouped by their longest common
   pattern (the tokens that share the most frequent (position, token) count,
   as in Brain, Yu et al. 2023), then each group is split on positions that
   hold a few distinct plain words (`get`/`post`, `started`/`stopped`) and
   generalised to `<*>` on positions that hold many (user names, host names)
   or a bare placeholder.

The same settings serve every input: there is no per-source tuning.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Final

import polars as pl

from incidentlog.redact import REDACTION_HINTS, redact_expr, redact_series

__all__ = [
    "MASKS",
    "MAX_CONSTANT_VALUES",
    "MAX_MESSAGE_CHARS",
    "PATTERN_COLUMNS",
    "REDACTION_HINTS",
    "SUMMARY_COLUMNS",
    "WILDCARD",
    "mask_expr",
    "merge_templates",
    "mine_patterns",
    "pattern_id",
    "redact_hinted",
    "summarize_patterns",
]

WILDCARD: Final = "<*>"
"""What a merged variable position becomes in a template."""

MAX_CONSTANT_VALUES: Final = 3
"""A token position holding at most this many distinct plain words is part of the
template (one template per word); more distinct words make it a variable."""

MAX_MESSAGE_CHARS: Final = 2000
"""Only the first this-many characters of a record are mined (long tracebacks)."""

_UNITS_SIZE: Final = r"(?:[KMGTP]i?B|bytes?|B)"
_UNITS_TIME: Final = r"(?:ns|us|µs|ms|s|sec|secs|seconds?|mins?|minutes?|h|hours?)"
_MONTH: Final = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"

_H: Final = r"[0-9a-fA-F]{1,4}"
_IPV6_FORMS: Final = (
    rf"\[?\b(?:{_H}:){{7}}{_H}",  # 2001:db8:0:0:0:0:0:1
    rf"\[?\b(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?",  # 2001:db8::1, fe80::
    rf"(^|[^\w:\[])(?:\[::\]|:::\d{{1,5}}\b|\[?::(?:ffff:)?{_H}(?::{_H}){{0,6}})",  # ::1, [::]
)
_IPV6: Final = (
    "(?:" + "|".join(_IPV6_FORMS) + ")"
    r"(?:\.\d{1,3}){0,3}(?:%[0-9A-Za-z]+)?\]?(?::\d{1,5}\b)?"  # ::ffff:10.0.0.1, %eth0, ]:80
)
"""An IPv6 address (full, or with `::`; a MAC or a time has neither), with a
zone, brackets and port (`[::1]:80`, `:::8080`); before timestamps, which
would take `12:34:56`. A bare `::` (`x :: Int`) and `std::vector` stay."""

MASKS: Final[tuple[tuple[str, str, str], ...]] = (
    # (name, Rust regex, replacement); order matters: specific shapes before numbers.
    ("url", r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+", "<URL>"),
    (
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "<UUID>",
    ),
    ("ipv6", _IPV6, "${1}<IP>"),
    (
        "timestamp",
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        r"|\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?"
        + _MONTH
        + r"\s+\d{1,2},?\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+\d{4})?\b"
        r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b",
        "<TS>",
    ),
    ("ip", r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b", "<IP>"),
    ("mac", r"\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b", "<MAC>"),
    ("path", r"(^|[\s=:(\[\"'])(?:/[\w.@%+\-]+)+/?", "${1}<PATH>"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b", "<HEX>"),
    (
        "size",
        r"<?\b\d+(?:\.\d+)?\s?"
        + _UNITS_SIZE
        + r"\b(?:\s\(\d+(?:\.\d+)?\s?"
        + _UNITS_SIZE
        + r"\))?",
        "<SIZE>",
    ),
    ("duration", r"<?\b\d+(?:\.\d+)?\s?" + _UNITS_TIME + r"\b|\b\d{1,2}:\d{2}\b", "<DUR>"),
    ("boolean", r"\b(?:true|false|True|False|TRUE|FALSE)\b", "<BOOL>"),
    ("sign", r"(^|[^0-9A-Za-z])[-+](\d)", "${1}${2}"),
    ("number", r"\b\d+(?:\.\d+)*\b", "<NUM>"),
    ("hex-id", r"\b(?:[0-9a-f]{8,}|[0-9A-F]{8,})\b", "<HEX>"),
    ("digits", r"\d+", "<NUM>"),
    # A quoted word is a value unless a `:` follows it (a JSON key stays).
    ("double-quoted", r"(^|[\s=:(\[{,])\"[^\"\s<]*\"([\s,;)}\]]|$)", '${1}"<STR>"${2}'),
    ("single-quoted", r"(^|[\s=:(\[{,])'[^'\s<]*'([\s,;:.)}\]]|$)", "${1}'<STR>'${2}"),
    # Control characters (C0, DEL, C1) and runs of blanks become one space; single
    # spaces are left alone (far fewer matches).
    ("space", r"[\x00-\x1f\x7f-\x9f][\x00-\x20\x7f-\x9f]*| [\x00-\x20\x7f-\x9f]+", " "),
)
"""The masking chain: every variable shape incidentlog recognises, in order."""

PATTERN_COLUMNS: Final = ("pattern_id", "template")
SUMMARY_COLUMNS: Final = (
    "pattern_id",
    "template",
    "count",
    "first_seen",
    "last_seen",
    "services",
    "levels",
    "example",
)

_PLACEHOLDER: Final = re.compile(r"^(?:\W*|[\w.\-]+[=:])<[A-Z*]+>\W*$")
"""A token that is a placeholder, perhaps in punctuation or after a key:
`<NUM>`, `(<IP>)`, `'<STR>'`, `rhost=<IP>`, `ret:<BOOL>`."""


def mask_expr(expr: pl.Expr) -> pl.Expr:
    """`expr` (a String column) with every variable part masked and spaces collapsed
    (`mine_patterns` redacts secrets first: masking would hide their shape)."""
    out = expr.str.slice(0, MAX_MESSAGE_CHARS)
    for _name, pattern, replacement in MASKS:
        out = out.str.replace_all(pattern, replacement)
    return out.str.strip_chars(" ")


def redact_hinted(messages: pl.Series) -> pl.Series:
    """`messages` with secrets redacted as `redact_expr` does, running its regex only on
    the messages that contain a family's literal (few do): `redact.redact_series`."""
    return redact_series(messages)


def pattern_id(template: str) -> str:
    """The stable id of a template: 16 hex digits of its BLAKE2b hash."""
    return hashlib.blake2b(template.encode("utf-8"), digest_size=8).hexdigest()


def mine_patterns(messages: pl.Series | pl.DataFrame, *, column: str = "message") -> pl.DataFrame:
    """The template of every message.

    Contract (the digest and the report rely on it):

    - `messages` is a String Series, or a frame whose `column` holds the messages.
    - The result has one row per message, in input order, with the columns
      `pattern_id` (String: 16 hex digits) and `template` (String). A null
      message has the template of the empty message.
    - `template` is the message with its variable parts masked (`<NUM>`, `<IP>`,
      `<UUID>`, `<PATH>`, `<URL>`, `<TS>`, `<HEX>`, `<SIZE>`, `<DUR>`, `'<STR>'`,
      `<MAC>`, `<BOOL>`, and `<*>` for positions found variable by comparing messages),
      whitespace collapsed to single spaces, secrets redacted.
    - `pattern_id` is a hash of the template text alone, so the same template
      has the same id in every run, store and batch. Which messages share a
      template depends on the batch (merging compares them), so mine one
      batch per question (e.g. one digest period), not line by line.
    """
    series = messages.get_column(column) if isinstance(messages, pl.DataFrame) else messages
    text = series.cast(pl.String).fill_null("").str.slice(0, MAX_MESSAGE_CHARS)
    frame = redact_hinted(text).to_frame("message")
    masked = frame.select(mask_expr(pl.col("message")).alias("masked"))
    distinct = masked.group_by("masked").len().sort("masked")
    texts = distinct.get_column("masked").to_list()
    templates = merge_templates(texts, distinct.get_column("len").to_list())
    table = pl.DataFrame(
        {"masked": texts, "template": templates},
        schema={"masked": pl.String, "template": pl.String},
    )
    unique = table.get_column("template").unique().sort().to_list()
    ids = pl.DataFrame(
        {"template": unique, "pattern_id": [pattern_id(t) for t in unique]},
        schema={"template": pl.String, "pattern_id": pl.String},
    )
    table = table.join(ids, on="template", how="left")
    return masked.join(table, on="masked", how="left", maintain_order="left").select(
        PATTERN_COLUMNS
    )


def merge_templates(masked: Sequence[str], counts: Sequence[int]) -> list[str]:
    """The template of each distinct masked text (`counts`: how many messages had it).

    Runs over distinct texts, not messages; its cost grows with their number.
    """
    tokens = [text.split(" ") for text in masked]
    out = [""] * len(tokens)
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, words in enumerate(tokens):
        by_length[len(words)].append(index)
    for members in by_length.values():
        for group in _common_pattern_groups(tokens, counts, members):
            _split(tokens, group, out)
    return out


def _common_pattern_groups(
    tokens: Sequence[list[str]], counts: Sequence[int], members: list[int]
) -> list[list[int]]:
    """Texts of one length grouped by their longest common pattern: the positions
    whose (position, token) pair occurs equally often, the largest such set."""
    frequency: dict[tuple[int, str], int] = defaultdict(int)
    for index in members:
        for position, token in enumerate(tokens[index]):
            frequency[(position, token)] += counts[index]
    groups: dict[tuple[tuple[int, str], ...], list[int]] = defaultdict(list)
    for index in members:
        words = tokens[index]
        by_frequency: dict[int, list[int]] = defaultdict(list)
        for position, token in enumerate(words):
            by_frequency[frequency[(position, token)]].append(position)
        best = max(by_frequency, key=lambda f: (len(by_frequency[f]), f))
        key = tuple((position, words[position]) for position in by_frequency[best])
        groups[key].append(index)
    return list(groups.values())


def _is_placeholder(token: str) -> bool:
    return _PLACEHOLDER.match(token) is not None


def _split_position(tokens: Sequence[list[str]], group: list[int]) -> int | None:
    """The position to split `group` on: the one with the fewest distinct plain
    words (the first position always splits, as in Drain's prefix tree)."""
    best: tuple[int, int] | None = None
    for position in range(len(tokens[group[0]])):
        values = {tokens[index][position] for index in group}
        if len(values) < 2 or any(_is_placeholder(v) for v in values):
            continue
        if len(values) > MAX_CONSTANT_VALUES and position > 0:
            continue
        if best is None or len(values) < best[1]:
            best = (position, len(values))
    return None if best is None else best[0]


def _split(tokens: Sequence[list[str]], group: list[int], out: list[str]) -> None:
    stack = [group]
    while stack:
        members = stack.pop()
        position = _split_position(tokens, members)
        if position is not None:
            parts: dict[str, list[int]] = defaultdict(list)
            for index in members:
                parts[tokens[index][position]].append(index)
            stack.extend(parts.values())
            continue
        first = tokens[members[0]]
        words = [
            word if all(tokens[index][p] == word for index in members) else WILDCARD
            for p, word in enumerate(first)
        ]
        template = " ".join(words)
        for index in members:
            out[index] = template


def summarize_patterns(logs: pl.DataFrame, *, mined: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per template of `logs` (a `logs` frame: ts, service, level, message),
    most frequent first.

    Columns: `pattern_id`, `template`, `count` (UInt32), `first_seen`/`last_seen`
    (the ts range; null when no record had a time), `services` (sorted list of
    String), `levels` (sorted list of the level names seen), `example` (the
    first record's message, redacted). Ties in count go to the earliest first
    seen, then to the pattern id, so the order is deterministic. Pass `mined`
    (the result of `mine_patterns` on `logs`) to reuse it.
    """
    patterns = mined if mined is not None else mine_patterns(logs.get_column("message"))
    frame = pl.concat(
        [
            logs.select(
                pl.col("ts"),
                pl.col("service"),
                pl.col("level").cast(pl.String),
                pl.col("message"),
            ),
            patterns.select(PATTERN_COLUMNS),
        ],
        how="horizontal",
    ).with_row_index("_row")
    summary = frame.group_by("pattern_id").agg(
        pl.col("template").first(),
        pl.len().alias("count"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("service").unique().sort().alias("services"),
        pl.col("level").unique().sort().alias("levels"),
        pl.col("message")
        .sort_by(pl.col("ts"), pl.col("_row"), nulls_last=True)
        .first()
        .alias("example"),
    )
    return (
        summary.with_columns(redact_expr("example"))
        .sort(
            ["count", "first_seen", "pattern_id"],
            descending=[True, False, False],
            nulls_last=True,
        )
        .select(SUMMARY_COLUMNS)
    )
