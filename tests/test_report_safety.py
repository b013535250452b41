"""Log text is untrusted: it never breaks the Markdown, never reaches the HTML as markup,
never escapes a printed shell command, and secrets are redacted by default."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from incidentlog.render.markdown import (
    md_cell,
    md_code,
    md_fence,
    md_markup,
    md_prose,
    md_text,
)
from incidentlog.render.report import generate_report
from incidentlog.text import Code, Prose

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
SCRIPT = "<script>document.title='PWNED'</script>"
SECRETS = ("hunter2", "s3cr3tPassw0rd", "ghp_" + "a" * 36)
PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def _hostile_log(path: Path) -> Path:
    """A crash-looping Python service whose log carries HTML, fences, pipes and secrets."""
    stamp = "2025-08-01T12:00:0{}.000000000Z"
    lines = [
        f"INFO boot {SCRIPT} | a|b ```` fence ```` password=hunter2",
        "INFO db postgres://app:s3cr3tPassw0rd@db:5432/app token " + SECRETS[2],
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 9, in <module>',
        f"    asyncio.run(main())  # {SCRIPT} ```",
        '  File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run',
        "    raise RuntimeError(",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
    ]
    text = "".join(f"web-1  | {stamp.format(min(i, 9))} {line}\n" for i, line in enumerate(lines))
    path.write_text(text)
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return _hostile_log(tmp_path / "compose.log")


def _html_tokens(markdown: str) -> list[str]:
    found: list[str] = []
    for token in PARSER.parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_block", "html_inline"):
                found.append(t.content)
    return found


def test_markdown_keeps_log_text_inside_code(hostile: Path) -> None:
    md = generate_report([str(hostile)], now=NOW)
    assert "RuntimeError: asyncio.run() cannot be called" in md  # the excerpt is there
    assert SCRIPT in md  # shown as text ...
    assert _html_tokens(md) == []  # ... never as HTML, even for a renderer that allows HTML
    fences = [t for t in PARSER.parse(md) if t.type == "fence" and t.info == "text"]
    assert any(SCRIPT in f.content and "````" in f.content for f in fences)


def test_html_report_has_no_markup_from_logs(hostile: Path) -> None:
    page = generate_report([str(hostile)], fmt="html", now=NOW)
    assert "<script" not in page
    assert "&lt;script&gt;document.title=" in page


def test_json_prose_is_raw_and_markdown_prose_is_safe(hostile: Path) -> None:
    """The source line of the traceback reaches JSON as it is, and Markdown as a code span."""
    issue = json.loads(generate_report([str(hostile)], fmt="json", now=NOW))["issues"][0]
    assert f"asyncio.run(main())  # {SCRIPT} ```" in issue["root_cause"]
    md = generate_report([str(hostile)], now=NOW)
    cause = next(line for line in md.splitlines() if line.startswith("- **Root cause**"))
    inline = next(t for t in PARSER.parse(cause) if t.type == "inline")
    codes = [c.content for c in inline.children or [] if c.type == "code_inline"]
    assert f"asyncio.run(main()) # {SCRIPT} ```" in codes
    assert _html_tokens(md) == []


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_secrets_are_redacted_by_default(hostile: Path, fmt: str) -> None:
    text = generate_report([str(hostile)], fmt=fmt, now=NOW)
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked into the {fmt} report"
    assert "***" in text


def test_no_redact_shows_secrets(hostile: Path) -> None:
    text = generate_report([str(hostile)], fmt="json", now=NOW, redact=False)
    assert json.loads(text)["redacted"] is False
    assert "hunter2" in text


def test_service_names_are_shell_quoted_in_commands(tmp_path: Path) -> None:
    raw = tmp_path / "app.log"
    raw.write_text(
        "2025-08-01T12:00:00Z Traceback (most recent call last):\n"
        '  File "/app/main.py", line 9, in <module>\n'
        "    asyncio.run(main())\n"
        "RuntimeError: asyncio.run() cannot be called from a running event loop\n"
    )
    evil = "web;touch /tmp/pwned"
    data = json.loads(generate_report([str(raw)], fmt="json", now=NOW, services=[evil]))
    commands = [c for p in data["action_plan"] for s in p["steps"] for c in s["commands"]]
    assert commands, "the report printed no commands"
    for command in commands:
        if evil in command:
            assert shlex.quote(evil) in command
            assert shlex.split(command).count(evil) >= 1


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from("`\n\t~")
        ),
        max_size=80,
    )
)
def test_fence_holds_any_text(text: str) -> None:
    body = text.replace("\r", "")
    tokens = [t for t in PARSER.parse(md_fence(body, "text")) if t.type == "fence"]
    assert len(tokens) == 1
    assert tokens[0].content.rstrip("\n") == body.strip("\n").rstrip("\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab `|<>*_[]\\&~#!\n-")), max_size=40))
def test_inline_helpers_render_as_themselves(text: str) -> None:
    flat = " ".join(text.split())
    inline = next(t for t in PARSER.parse("x " + md_code(text)) if t.type == "inline")
    codes = [c for c in inline.children or [] if c.type == "code_inline"]
    if flat:
        assert [c.content for c in codes] == [flat]
    escaped = PARSER.renderInline(md_text(text))
    assert "<" not in escaped.replace("&lt;", "")  # no tags, only escaped text
    assert _html_tokens(md_markup(text)) == []


INLINE = st.text(alphabet=st.sampled_from(list("ab `|<>*_[]\\&~#!\n-")), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(INLINE.filter(lambda t: t.strip() != ""), INLINE), max_size=4))
def test_prose_renders_as_itself(parts: list[tuple[str, str]]) -> None:
    """Words stay words and each code segment is one code span, whatever they contain
    (code segments are separated by words, as the model writes them)."""
    prose = Prose.of(*(p for word, code in parts for p in (word, Code(code))))
    inline = next(t for t in PARSER.parse("x " + md_prose(prose)) if t.type == "inline")
    children = inline.children or []
    assert not [c for c in children if c.type in ("html_inline", "link_open", "image")]
    got = [c.content for c in children if c.type == "code_inline"]
    want = [" ".join(code.split()) for _, code in parts]
    assert [g.strip() for g in got] == [w.strip() for w in want]
    words = [word for word, _ in parts]
    assert str(Prose.of(*words)) == "".join(words)  # the plain form: nothing escaped


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab `|<>*_[]\\&~#!\n-")), max_size=40))
def test_rule_text_as_prose_renders_like_markup(text: str) -> None:
    """Rule titles and remediations parsed into prose render as `md_markup` rendered them
    (code spans with spaces at their ends aside: none of the built-in rules has one)."""
    spans = re.findall(r"`([^`\n]+)`", " ".join(text.split()))
    assume(all(s == s.strip() for s in spans))
    assert md_prose(Prose.markup(text)) == md_markup(text)


def test_table_cell_escapes_pipes_and_newlines() -> None:
    row = f"| {md_cell(md_text('a|b' + chr(10) + 'c'))} | {md_cell(md_code('x | y'))} |"
    md = "| h1 | h2 |\n|---|---|\n" + row + "\n"
    tokens = PARSER.parse(md)
    cells = [t for t in tokens if t.type == "inline"][2:]
    assert len(cells) == 2
    assert "a|b c" in PARSER.renderInline(cells[0].content)
