"""Redaction families: each masks its corpus secrets on its own and in the joined regex;
ordinary log text is left alone; a private key printed one record per line is masked as a
block within its container; the fast paths agree with the plain expression."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hostile.corpus import Secret, private_key_lines, secrets
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.redact import (
    FAMILIES,
    HINTS,
    MASK,
    REDACTIONS,
    mask_key_blocks_expr,
    redact,
    redact_expr,
    redact_records_expr,
    redact_series,
)

CORPUS = secrets()
REPO = Path(__file__).resolve().parent.parent


def test_every_family_has_corpus_secrets() -> None:
    covered = {s.family for s in CORPUS}
    assert {f.name for f in FAMILIES} <= covered
    assert covered <= {f.name for f in FAMILIES}


@pytest.mark.parametrize("entry", CORPUS, ids=lambda s: s.family)
def test_a_family_masks_its_secret_alone_and_joined(entry: Secret) -> None:
    pattern, replacement = next((p, r) for n, p, r in REDACTIONS if n == entry.family)
    alone = pl.select(pl.lit(entry.line).str.replace_all(pattern, replacement)).item()
    assert entry.secret not in alone
    joined = redact(entry.line)
    assert entry.secret not in joined and MASK in joined
    if entry.kept is not None:
        assert entry.kept in joined
    assert redact(joined) == joined


@pytest.mark.parametrize(
    "text",
    [
        'FATAL:  password authentication failed for user "app"',
        "bypass=true compass: north",
        "max_tokens: 4096 token_count=12 tokens: 3",
        "secret_name: db-credentials",
        "session: started for user 42",
        "monkey=1 keyboard: us turkey: 2",
        "Skipping disk-check; risk-free task-runner",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "GET /api/v1/items?page=2&sort=asc HTTP/1.1 200",
        "ssh://git@github.com/acme/shop.git",
        "mysql -h db -u root shop",
        "curl -sf http://api:8000/health",
        "authorization failed for user bob",
        "pw changed by admin",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_sample_logs_keep_their_lines() -> None:
    """Real-shaped evidence: redaction touches only the few lines that show a credential
    (`amqp://guest:**@`, `POSTGRES_PASSWORD=password`, `using password: YES`, an OAuth
    `?code=` in a request line)."""
    files = [*REPO.glob("sample_logs/**/*.log"), *REPO.glob("tests/corpus/**/*.log")]
    lines = [ln for f in files for ln in f.read_text(errors="replace").splitlines()]
    assert len(lines) > 1000
    frame = pl.DataFrame({"m": lines}, schema={"m": pl.String})
    changed = frame.filter(redact_expr("m") != pl.col("m")).get_column("m").to_list()
    # a handful (19 in session 16's corpus): the cases that show a credential URL or ?code=
    assert len(changed) <= 30
    assert all("password" in line.lower() or "://" in line or "?code=" in line for line in changed)


def _records(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "host": ["h"] * len(rows),
            "container": [c for c, _ in rows],
            "message": [m for _, m in rows],
        }
    )


def test_a_key_printed_line_by_line_is_masked_within_its_container() -> None:
    key = private_key_lines()
    rows: list[tuple[str, str]] = [("app-1", "loading key")]
    for n, line in enumerate(key):
        rows += [
            ("app-1", line),
            ("db-1", "QmFzZTY0QmFzZTY0QmFzZTY0QmFzZTY0" if n == 3 else f"tick {n}"),
        ]
    rows += [("app-1", "listening on :443"), ("app-1", "Zm9v")]
    out = _records(*rows).with_columns(redact_records_expr("message"))
    app = out.filter(pl.col("container") == "app-1").get_column("message").to_list()
    assert app[0] == "loading key"
    assert app[1] == key[0] + MASK
    assert set(app[2:-3]) == {MASK}
    assert app[-3] == MASK + key[-1]
    assert app[-2:] == ["listening on :443", "Zm9v"]  # after END: left alone
    db = out.filter(pl.col("container") == "db-1").get_column("message").to_list()
    assert "QmFzZTY0QmFzZTY0QmFzZTY0QmFzZTY0" in db  # another container's line: not key material


def test_a_key_block_ends_at_a_line_that_is_not_key_material() -> None:
    key = private_key_lines()
    rows = [("a", key[0]), ("a", key[1]), ("a", "panic: cannot parse key"), ("a", "Zm9vYmFy")]
    out = _records(*rows).with_columns(mask_key_blocks_expr("message")).get_column("message")
    assert out.to_list() == [key[0], MASK, "panic: cannot parse key", "Zm9vYmFy"]


def test_a_lone_line_of_key_material_is_masked_without_context() -> None:
    """A filter can cut a key's lines from their BEGIN line (`grep -F` on one of them)."""
    body = private_key_lines()[3]
    assert redact(body) == MASK
    assert redact("  " + body + "  ") == MASK


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([s.line for s in CORPUS]) | st.text(max_size=80), max_size=12))
def test_the_hinted_path_agrees_with_the_expression(messages: list[str]) -> None:
    series = pl.Series("m", messages, dtype=pl.String)
    expected = series.to_frame().select(redact_expr("m")).to_series()
    assert redact_series(series).to_list() == expected.to_list()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_redacted_once_and_for_all(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    lowered = text.lower()
    if not any(h in lowered for h in HINTS) and len(text.strip()) < 40:
        assert once == text  # no family's literal, too short to be key material: untouched


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CORPUS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_a_secret_anywhere_in_a_line_is_masked(entry: Secret, before: str, after: str) -> None:
    line = f"{before} {entry.line} {after}"
    assert entry.secret not in redact(line)
