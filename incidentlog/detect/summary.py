"""Findings aggregated per (service, rule), with rule texts filled from their fields."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Final

import polars as pl

from incidentlog.detect.columns import FIELD_PREFIX, SUMMARY_COLUMNS, fields_json
from incidentlog.ingest.compose import COMPOSE_SERVICE
from incidentlog.redact import redact_expr, shell_word_expr

__all__ = ["FALLBACKS", "summarize_findings"]


def _field_names(findings: pl.DataFrame) -> list[str]:
    keys = (
        findings.select(pl.col("fields").str.extract_all(r'[{,]"[A-Za-z0-9_]+":').explode())
        .get_column("fields")
        .drop_nulls()
        .str.slice(2)
        .str.head(-2)
        .unique()
        .sort()
    )
    return keys.to_list()


FALLBACKS = {
    "binary": "the missing executable",
    "module": "the missing module",
    "host": "the target host",
    "port": "the port",
    "path": "the path",
    "env": "the variable",
    "user": "the user",
    "container": "the container",
    "file": "the application code",
    "exit_code": "a non-zero code",
    "interval": "unknown (one exit)",
    "times": "once",
    "data_version": "another major version",
    "runtime_version": "an older release",
    "class_version": "of a newer release",
    "need": "the version it needs",
    "service": "the affected service",
}
"""What a placeholder reads when its field was not extracted for that finding."""


_CODE_SPAN: Final = re.compile(r"`[^`]+`")
"""A code span of a rule text (the views split prose the same way, `text.Prose.markup`)."""
_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_OPEN, _CLOSE = "\ue000", "\ue001"
"""Braces inside filled values and `{{`/`}}` escapes while placeholders are filled: a
value is never read as a placeholder (a service named `{binary}` stays itself)."""


def _mark_commands(template: str) -> str:
    """`{name}` inside a code span becomes `{!name}` (filled as a shell word); `{{`/`}}`
    become the private braces."""
    escaped = template.replace("{{", _OPEN).replace("}}", _CLOSE)
    return _CODE_SPAN.sub(lambda m: _PLACEHOLDER.sub(r"{!\1}", m.group(0)), escaped)


def _as_word(value: pl.Expr, name: str) -> pl.Expr:
    """A field inside a command: one shell word. A value that would read as an option
    (`-rf`) is not printed as an argument: the command names `'<name>'` instead."""
    word = shell_word_expr(value)
    return pl.when(value.str.starts_with("-")).then(pl.lit(f"'<{name}>'")).otherwise(word)


def _marked(frame: pl.DataFrame, column: str) -> tuple[pl.Expr, set[str]]:
    """`column`'s rule texts with commands marked (`_mark_commands` on each distinct text:
    there are as many as rules, not records), and the placeholder names they hold: only
    those are filled (each name costs a dozen replacements of the whole column)."""
    texts = frame.get_column(column).drop_nulls().unique().to_list()
    marked = {t: _mark_commands(t) for t in texts}
    held = {m.group(1) for text in marked.values() for m in _HELD.finditer(text)}
    return pl.col(column).replace(marked), held


_HELD: Final = re.compile(r"\{!?([A-Za-z_][A-Za-z0-9_]*)\}")


_ESCAPE: Final = "\ue002"
_ESCAPED: Final = (("\ue002", "\ue003"), (_OPEN, "\ue004"), (_CLOSE, "\ue005"))
"""A value (log text) may hold the private characters themselves: each is written
as `_ESCAPE` + a code, and read back after the braces (`_restore`)."""


def _private_braces(value: pl.Expr) -> pl.Expr:
    for char, code in _ESCAPED:
        value = value.str.replace_all(char, _ESCAPE + code, literal=True)
    return value.str.replace_all("{", _OPEN, literal=True).str.replace_all(
        "}", _CLOSE, literal=True
    )


def _restore(text: pl.Expr) -> pl.Expr:
    """Braces back, then the escaped private characters (the escape's own last: an
    escaped escape is always followed by its code, never by another's)."""
    text = text.str.replace_all(_OPEN, "{", literal=True).str.replace_all(_CLOSE, "}", literal=True)
    for char, code in reversed(_ESCAPED):
        text = text.str.replace_all(_ESCAPE + code, char, literal=True)
    return text


def _prose(value: pl.Expr) -> pl.Expr:
    """A value in prose: backticks as `'` (it cannot open or close a code span)."""
    return _private_braces(value.str.replace_all("`", "'", literal=True))


_ADDRESS: Final = "{host}:{port}"


def _address(names: Sequence[str]) -> pl.Expr:
    """`{host}:{port}` in prose: both when both were extracted, the host alone without
    a port, and one fallback without either ("the target host", not "the target
    host:the port")."""
    if "host" not in names:
        return pl.lit(FALLBACKS["host"])
    host = _prose(pl.col(FIELD_PREFIX + "host"))
    if "port" not in names:
        return pl.coalesce(host, pl.lit(FALLBACKS["host"]))
    port = _prose(pl.col(FIELD_PREFIX + "port"))
    return (
        pl.when(host.is_null())
        .then(pl.lit(FALLBACKS["host"]))
        .when(port.is_null())
        .then(host)
        .otherwise(host + ":" + port)
    )


def _service() -> pl.Expr:
    """The finding's service; none for compose's own line that names no service (a bare
    `no matching manifest for …`), whose advice must not treat the compose tool as one."""
    return pl.when(pl.col("service") != COMPOSE_SERVICE).then(pl.col("service"))


def _fill(template: pl.Expr, names: Sequence[str], held: Collection[str] | None = None) -> pl.Expr:
    """Placeholders of a `_marked` rule text filled from fields (fallback text when
    missing); `{{`/`}}` are braces. With `held` (the names the texts hold), only those.

    Inside a code span (a command, a config line) a value is a shell word
    (`shell_word`: quoted when it is not a plain name); in prose it is the value,
    with backticks as `'` so it cannot open or close a code span.
    """
    held = set(FALLBACKS) | set(names) if held is None else set(held)
    if {"host", "port"} <= held:
        template = template.str.replace_all(_ADDRESS, _address(names), literal=True)
    for name in (n for n in names if n in held):
        value = _service() if name == "service" else pl.col(FIELD_PREFIX + name)
        fallback = pl.lit(FALLBACKS.get(name, f"the {name}"))
        prose = _prose(value)
        word = _private_braces(_as_word(value, name))
        template = _unfilled(template, name, value.is_null())
        template = template.str.replace_all(
            "{!" + name + "}",
            pl.when(value.is_null()).then(pl.lit(f"<{name}>")).otherwise(word),
            literal=True,
        ).str.replace_all(
            "{" + name + "}", pl.when(value.is_null()).then(fallback).otherwise(prose), literal=True
        )
    for name, text in ((n, t) for n, t in FALLBACKS.items() if n in held):
        template = _unfilled(template, name, pl.lit(True))
        template = template.str.replace_all("{!" + name + "}", f"<{name}>", literal=True)
        template = template.str.replace_all("{" + name + "}", text, literal=True)
    template = template.str.replace_all(r"\{!([A-Za-z_][A-Za-z0-9_]*)\}", "<$1>")
    template = template.str.replace_all(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", "the $1")
    return _restore(template)


def _unfilled(template: pl.Expr, name: str, missing: pl.Expr) -> pl.Expr:
    """Where `name` has no value: a code span that is only it (`` `{host}` ``) reads as
    prose ("the target host", not a host of that name), `host {host}` as the fallback
    alone ("Cannot resolve the target host"), and ` at {file}:{line}` as nothing (a
    traceback whose frames are all a library's has no place to name). Elsewhere in a
    code span (a command) it becomes `<host>`, a slot to fill in (done by the caller).
    (`template` appears once in the result: used twice per name, the expression would
    double with each name.)"""
    for old, new in (
        ("`{!" + name + "}`", "{" + name + "}"),
        (f"{name} {{{name}}}", f"{{{name}}}"),
        (f" at {{{name}}}:{{line}}", ""),  # (no frame of the application's: no place)
    ):
        template = template.str.replace_all(
            old, pl.when(missing).then(pl.lit(new)).otherwise(pl.lit(old)), literal=True
        )
    return template


def summarize_findings(findings: pl.DataFrame, *, redact: bool = True) -> pl.DataFrame:
    """Findings aggregated per (service, rule), most severe first (SUMMARY_COLUMNS);
    the evidence (the first matched record) and the fields with secrets masked unless
    `redact` is off; rule texts filled, commands in them from shell words."""
    if findings.is_empty():
        return pl.DataFrame(schema=SUMMARY_COLUMNS)
    names = _field_names(findings)
    ordered = findings.with_row_index("_order")
    keys = ["service", "rule"]
    aggregated = ordered.group_by(keys).agg(
        pl.col("category").first(),
        pl.col("severity").max(),
        pl.len().alias("count"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("container").drop_nulls().unique().sort().alias("containers"),
        pl.col("message").sort_by("_order").first().alias("evidence"),
        pl.col("title").first(),
        pl.col("remediation").first(),
        pl.col("fix").first(),
        pl.col("transient").all(),
        pl.col("source").first(),
        pl.col("pack").first(),
        pl.col("_order").min(),
    )
    if names:
        dtype = pl.Struct({n: pl.String for n in names})
        long = (
            ordered.select(*keys, "_order", pl.col("fields").str.json_decode(dtype).alias("_f"))
            .unnest("_f")
            .unpivot(index=[*keys, "_order"], on=names, variable_name="_key", value_name="_value")
            .drop_nulls("_value")
            .group_by(*keys, "_key", "_value")
            .agg(pl.len().alias("_n"), pl.col("_order").min().alias("_at"))
            .sort("_n", "_at", descending=[True, False])
            .group_by(*keys, "_key", maintain_order=True)
            .first()
        )
        if redact:  # a field can hold a secret (a captured URL, a user:password)
            long = long.with_columns(redact_expr("_value"))  # (one column: one regex)
        wide = long.pivot(on="_key", index=keys, values="_value")
        wide = wide.rename({n: FIELD_PREFIX + n for n in names if n in wide.columns})
        for n in names:
            if FIELD_PREFIX + n not in wide.columns:
                wide = wide.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
        aggregated = aggregated.join(wide, on=keys, how="left")
    for n in names:
        if FIELD_PREFIX + n not in aggregated.columns:
            aggregated = aggregated.with_columns(pl.lit(None, pl.String).alias(FIELD_PREFIX + n))
    placeholders = sorted({*names, "service"})
    title, title_held = _marked(aggregated, "title")
    remediation, remediation_held = _marked(aggregated, "remediation")
    aggregated = aggregated.with_columns(
        fields_json(aggregated).alias("fields"),
        (
            redact_expr(pl.col("evidence").str.strip_chars_end())
            if redact
            else pl.col("evidence").str.strip_chars_end()
        ).alias("evidence"),
        _fill(title, placeholders, title_held).alias("title"),
        _fill(remediation, placeholders, remediation_held).alias("remediation"),
    )
    aggregated = aggregated.sort(
        pl.col("severity").to_physical(), "count", "_order", descending=[True, True, False]
    )
    return aggregated.select(pl.col(n).cast(t) for n, t in SUMMARY_COLUMNS.items())
