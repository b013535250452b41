"""Arbitrary text through every output path (hypothesis, bounded so it runs in seconds).

Whatever a log line, a service name or a probe prints: text output never carries
a raw control character and keeps its line structure, JSON gives back the exact
text, Markdown gains no markup, and a value filled into a printed command is one
shell word that bash reads back as the value.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from incidentlog.detect import detect_findings, load_rules, summarize_findings
from incidentlog.detect.rules import RuleSet
from incidentlog.ingest.sniff import InputFormat
from incidentlog.ingest.summary import IngestSummary, SourceSummary
from incidentlog.live.status import StatusReport, judge, render_json, render_text
from incidentlog.redact import json_safe, one_line, shell_word, shell_word_expr, visible
from incidentlog.redact.terminal import CONTROLS, visible_expr
from incidentlog.render.findings import detect_json, detect_jsonl, detect_text
from incidentlog.render.markdown import md_cell, md_code, md_fence, md_text
from incidentlog.render.records import grep_json, grep_jsonl, grep_text
from incidentlog.render.report import generate_report
from incidentlog.schema import LOGS_SCHEMA
from incidentlog.search import GrepResult

RAW = re.compile("[" + re.escape("".join(CONTROLS)) + "]")
T0 = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
"""Any Unicode text (surrogates cannot be encoded); controls are drawn often enough."""
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list("`$'\"\\;|&<>(){}*!\n\r\t\x1b\x9b\x07\x08\u202e-")),
    ),
    max_size=40,
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bash_words(words: str) -> list[str]:
    done = subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-c", f"printf '%s\\0' {words}"],
        env={"PATH": "/nonexistent"},
        capture_output=True,
        timeout=10,
        check=True,
    )
    return done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


# ---- the helpers ------------------------------------------------------------------------


@FAST
@given(HOSTILE.filter(lambda t: "\0" not in t))
def test_a_shell_word_is_read_back_as_the_value(value: str) -> None:
    word = shell_word(value)
    assert _bash_words(word) == [value]
    assert not RAW.search(word) and "\n" not in word and "`" not in word
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    assert frame.select(shell_word_expr(pl.col("v"))).item() == word


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_visible_text_has_no_control_character(text: str) -> None:
    shown = visible(text)
    assert not RAW.search(shown)
    assert shown.count("\n") == text.count("\n") and shown.count("\t") == text.count("\t")
    assert "\n" not in one_line(text) and not RAW.search(one_line(text))
    frame = pl.DataFrame({"t": [text]}, schema={"t": pl.String})
    assert frame.select(visible_expr("t")).item() == shown
    assert frame.select(visible_expr("t", newlines=False)).item() == one_line(text)
    document = json_safe(json.dumps({"t": text}, ensure_ascii=False))
    assert not RAW.search(document) and json.loads(document) == {"t": text}


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_markdown_helpers_make_no_markup_and_no_control(text: str) -> None:
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    for markdown in (md_text(text), md_code(text), md_cell(md_text(text)), md_fence(text, "text")):
        assert not RAW.search(markdown)
        kinds = {t.type for tok in parser.parse(markdown) for t in [tok, *(tok.children or [])]}
        assert not kinds & {"html_inline", "html_block"}, markdown


# ---- printed commands from rule texts ------------------------------------------------------

PACK = r"""
[pack]
name = "fuzz"

[[rules]]
id = "fuzz.exec"
category = "missing-binary"
severity = "critical"
any = ["executable file not found"]
patterns = ['exec: "(?P<binary>[^"\n]+)": executable file not found']
title = "{binary} missing in {service}"
remediation = "install {binary} in {service}: `docker compose build {service}` after `RUN apk add {binary}`; `{{literal}}` stays"
fix = "rebuild-image"
"""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    path = tmp_path_factory.mktemp("pack") / "fuzz.toml"
    path.write_text(PACK, encoding="utf-8")
    return load_rules([path], builtin=False)


def _logs(service: str, message: str) -> pl.DataFrame:
    row: dict[str, Any] = {
        "ts": T0,
        "seq": 1,
        "host": "h",
        "project": "p",
        "service": service,
        "container": f"{service}-1",
        "stream": "stdout",
        "level": "error",
        "message": message,
        "id": 1,
    }
    return pl.DataFrame([row], schema=LOGS_SCHEMA)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    service=HOSTILE.filter(lambda t: t and "\0" not in t and "\n" not in t),
    binary=HOSTILE.filter(lambda t: t.strip() and '"' not in t and "\n" not in t and "\0" not in t),
)
# the private characters the filling uses for braces, in the log text itself (found by hypothesis)
@example(service="\ue000", binary="0")
@example(service="a\ue002\ue004b", binary="\ue001\ue002\ue003{x}")
def test_a_filled_command_reads_back_the_values(pack: RuleSet, service: str, binary: str) -> None:
    assume(not binary.startswith("-") and not service.startswith("-"))
    summary = summarize_findings(
        detect_findings(_logs(service, f'exec: "{binary}": executable file not found'), None, pack)
    )
    (row,) = summary.iter_rows(named=True)
    value = json.loads(row["fields"])["binary"]  # the field as captured (and redacted)
    spans = re.findall(r"`([^`\n]+)`", row["remediation"])
    assert len(spans) == 3, row["remediation"]  # no value opened or closed a code span
    assert _bash_words(spans[0].removeprefix("docker compose build ")) == [service]
    assert _bash_words(spans[1].removeprefix("RUN apk add ")) == [value]
    assert spans[2] == "{literal}"


# ---- views over arbitrary records ----------------------------------------------------------


def _grep_result(rows: list[tuple[str, str]]) -> GrepResult:
    records = pl.DataFrame(
        [
            {
                "ts": T0 + timedelta(seconds=n),
                "seq": n,
                "host": "h",
                "project": None,
                "service": container,
                "container": container,
                "stream": "stdout",
                "level": "error",
                "message": message,
                "id": n,
            }
            for n, (container, message) in enumerate(rows)
        ],
        schema=LOGS_SCHEMA,
    ).with_columns(pl.lit(True).alias("match"))
    counts = records.group_by("service").agg(pl.len().cast(pl.UInt32).alias("count"))
    return GrepResult(records=records, counts=counts, highlight="e")


@FAST
@given(st.lists(st.tuples(HOSTILE.filter(bool), HOSTILE), min_size=1, max_size=5), st.booleans())
def test_grep_output_is_safe_and_exact(rows: list[tuple[str, str]], color: bool) -> None:
    result = _grep_result(rows)
    text = "".join(grep_text(result, color=color, redact=False))
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text) if color else text
    assert not RAW.search(plain)
    assert text.count("\n") == sum(m.count("\n") + 1 for _c, m in rows)  # a line per line
    decoded = [
        json.loads(line)["message"]
        for line in "".join(grep_jsonl(result, redact=False)).splitlines()
    ]
    assert decoded == [m for _c, m in rows]
    assert not RAW.search(grep_json(result, redact=False))


@FAST
@given(service=HOSTILE.filter(bool), message=HOSTILE, title=HOSTILE)
def test_detect_views_are_safe_and_exact(service: str, message: str, title: str) -> None:
    from incidentlog.detect.columns import SUMMARY_COLUMNS

    summary = pl.DataFrame(
        [
            {
                "service": service,
                "category": "timeout",
                "rule": "r",
                "severity": "high",
                "count": 1,
                "first_seen": T0,
                "last_seen": T0,
                "containers": [service],
                "fields": "{}",
                "evidence": message,
                "title": title,
                "remediation": f"`x {title}`",
                "fix": "investigate",
                "transient": False,
                "source": "logs",
                "pack": "p",
            }
        ],
        schema=SUMMARY_COLUMNS,
    )
    text = detect_text(summary)
    assert not RAW.search(text)
    # service, finding, evidence (when there is one), fix: nothing split a line
    assert len(text.splitlines()) == 3 + bool(message)
    for document in (detect_json(summary), detect_jsonl(summary)):
        assert not RAW.search(document)
        (record,) = json.loads(document) if document.startswith("[") else [json.loads(document)]
        assert (record["service"], record["evidence"], record["title"]) == (service, message, title)


@FAST
@given(name=HOSTILE.filter(bool), probe=HOSTILE, host=HOSTILE)
def test_status_views_are_safe(name: str, probe: str, host: str) -> None:
    document = {
        "Id": "0" * 64,
        "Name": f"/{name}",
        "State": {
            "Status": "running",
            "Health": {
                "Status": "unhealthy",
                "FailingStreak": 1,
                "Log": [{"ExitCode": 1, "Output": probe}],
            },
        },
        "Config": {"Labels": {"com.docker.compose.service": name}},
    }
    report = StatusReport(host=host, project=None, services=judge([document]))
    text = render_text(report)
    assert not RAW.search(text) and len(text.splitlines()) == 3
    assert not RAW.search(render_json(report))
    assert json.loads(render_json(report))["services"][0]["service"] == name


@FAST
@given(source=HOSTILE, service=HOSTILE, sample=HOSTILE, note=HOSTILE)
def test_ingest_summary_is_safe(source: str, service: str, sample: str, note: str) -> None:
    part = SourceSummary(
        source=source, format=InputFormat.COMPOSE, lines=2, kept_lines=1, note=note
    )
    part.services.add(service)
    part.reject("no prefix", 1, 2, sample)
    summary = IngestSummary(sources=[part], notes=[note], skipped=[source])
    text = summary.describe()
    assert not RAW.search(text)
    assert len(text.splitlines()) == 6 + bool(note)
    assert json.loads(json_safe(json.dumps(summary.to_dict(), ensure_ascii=False)))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=4))
def test_report_of_arbitrary_lines_is_safe(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    log = folder / "compose.log"
    text = "".join(
        f"web-1  | 2025-08-01T12:00:0{n}.000000000Z ERROR Connection refused {line}\n"
        for n, line in enumerate(" ".join(x.splitlines()) for x in lines)
    )
    log.write_text(text, encoding="utf-8")
    now = datetime(2025, 8, 1, 13, 0, tzinfo=UTC)
    markdown = generate_report([log], fmt="md", now=now)
    assert not RAW.search(markdown)
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    assert not [t for t in parser.parse(markdown) if t.type in ("html_block", "html_inline")]
    page = generate_report([log], fmt="html", now=now)
    assert not RAW.search(page) and "<script" not in page.lower()


def test_the_fuzz_helpers_work(tmp_path: Path) -> None:
    """`_bash_words` is the judge above: it must split and decode as bash does."""
    assert _bash_words("a 'b c' $'d\\x1be'") == ["a", "b c", "d\x1be"]
    assert not (tmp_path / "x").exists()
