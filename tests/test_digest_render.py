"""Digest output: Markdown, HTML and JSON through the command line, untrusted text kept inert."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_digest import at, event, log_line, shop_history, write_store
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.digest import SPARK_CHARS
from incidentlog.render.digest import run_digest

HOSTILE = "KeyError: 'x' | `rm -rf /` <script>alert(1)</script> ``` [click](javascript:alert(1)) password=hunter2"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs, events = shop_history()
    logs.append(log_line("api-1", at(13, 55), "ERROR", HOSTILE))
    return write_store(tmp_path_factory.mktemp("render"), logs, events)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["digest", *args])
    return result.exit_code, result.stdout, result.stderr


def cells(row: str) -> int:
    """Table cells in a Markdown row: pipes not escaped with a backslash."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


def test_markdown_digest(store: Path) -> None:
    code, out, err = run("--hour", "2025-08-02T13", "--store", str(store))
    assert code == 0, err
    assert out.startswith("# Error digest: 2025-08-02 13:00–14:00 UTC\n")
    assert "## Services" in out and "## New signatures" in out and "## Top error patterns" in out
    assert "## Went silent" in out and "**worker**" in out
    assert "healthy → **unhealthy**" in out
    assert "**db**: 1 restart, 1 OOM kill" in out
    api = next(line for line in out.splitlines() if line.startswith("| api |"))
    spark = re.search(r"`([" + SPARK_CHARS + "]{24})`", api)
    assert spark and spark.group(1)[-1] == SPARK_CHARS[-1]
    assert "| api | 25 | +21 | +18 |" in api  # 24 + the hostile line; 4 before; 7 a day earlier


def test_untrusted_text_cannot_break_tables_or_inject(store: Path) -> None:
    _, out, _ = run("--hour", "2025-08-02T13", "--store", str(store))
    assert "hunter2" not in out
    for block in out.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            assert len({cells(row) for row in rows}) == 1, block
    prose = re.sub(r"(`+).+?\1", "", out)  # code spans show text as it is
    assert "<script>" not in prose and "](javascript:" not in prose
    _, page, _ = run("--hour", "2025-08-02T13", "--store", str(store), "--format", "html")
    assert "<script" not in page.lower() and "<a " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "hunter2" not in page


def test_html_page_has_an_offline_chart(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "digest.html"
    code, out, _ = run(
        "--hour", "2025-08-02T13", "--store", str(store), "--format", "html", "-o", str(target)
    )
    assert code == 0 and out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1
    svg = page[page.index("<svg") : page.index("</svg>")]
    # one row per service with errors, each hour a cell with its count
    assert ">api</text>" in svg and svg.count("<rect ") == 24 * svg.count('text-anchor="end"')
    assert "<title>api: 25</title>" in svg
    assert "<script" not in svg and "<!--" not in svg
    assert not re.search(
        r"""(src|href)\s*=\s*["']?(https?:|//)""", page
    )  # nothing from the network


def test_json_contract(store: Path) -> None:
    code, out, _ = run("--hour", "2025-08-02T13", "--store", str(store), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["period"]["start"] == "2025-08-02T13:00:00Z"
    assert doc["period"]["end"] == "2025-08-02T14:00:00Z"
    services = {s["service"]: s for s in doc["services"]}
    for row in doc["services"]:
        assert {"service", "errors", "warnings", "errors_previous", "restarts"} <= set(row)
    assert (services["api"]["errors"], services["api"]["errors_previous"]) == (25, 4)
    assert services["db"]["restarts"] == 1
    assert isinstance(doc["new_signatures"], list) and doc["new_signatures"]
    assert isinstance(doc["top_patterns"], list) and doc["top_patterns"][0]["count"] == 20
    assert doc["unchanged"] is False
    assert "hunter2" not in out


def test_time_zone_for_display(store: Path) -> None:
    code, out, _ = run(
        "--hour",
        "2025-08-02T15",
        "--tz",
        "Europe/Berlin",
        "--store",
        str(store),
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["period"] == {
        "start": "2025-08-02T13:00:00Z",
        "end": "2025-08-02T14:00:00Z",
        "tz": "Europe/Berlin",
    }
    _, md, _ = run("--hour", "2025-08-02T15", "--tz", "Europe/Berlin", "--store", str(store))
    assert md.startswith("# Error digest: 2025-08-02 15:00–16:00 CEST\n")
    assert "| 15:30:00 | web |" in md  # the 13:30 UTC health change, shown in Berlin time


def test_unchanged_is_one_line_and_quiet_prints_nothing(tmp_path: Path) -> None:
    logs = []
    for hour in (10, 11, 12):
        logs += [
            log_line("api-1", at(hour, 5 * i), "ERROR", f"cache miss for key {i}") for i in range(6)
        ]
    store = write_store(tmp_path, logs, [])
    code, out, _ = run("--hour", "2025-08-02T12", "--store", str(store))
    assert code == 0
    assert out.count("\n") == 1 and out.startswith(
        "No change in 2025-08-02 12:00–13:00 UTC: 6 errors"
    )
    target = tmp_path / "quiet.md"
    code, out, _ = run(
        "--hour", "2025-08-02T12", "--store", str(store), "--quiet-if-unchanged", "-o", str(target)
    )
    assert (code, out) == (0, "")
    assert not target.exists()
    code, out, _ = run(
        "--hour", "2025-08-02T12", "--store", str(store), "--quiet-if-unchanged", "--format", "json"
    )
    assert (code, out) == (0, "")


def test_a_period_before_the_history(store: Path) -> None:
    code, out, _ = run("--hour", "2025-07-01T13", "--store", str(store))
    assert code == 0
    assert (
        out
        == "2025-07-01 13:00–14:00 UTC: before the history, which starts at 2025-08-01 00:00:00 UTC; nothing to compare.\n"
    )
    assert run("--hour", "2025-07-01T13", "--store", str(store), "--quiet-if-unchanged")[1] == ""


def test_errors_are_one_line(store: Path, tmp_path: Path) -> None:
    for args, text in [
        (
            ["--format", "pdf"],
            "Error: --format 'pdf' is not supported by digest (allowed: md, html, json)",
        ),
        (["--tz", "Nowhere/City"], "Error: --tz 'Nowhere/City' is not a time zone"),
        (["--hour", "yesterday"], "Error: --hour 'yesterday' is not an hour"),
        (["--since", "1h", "--hour", "2025-08-02T13"], "Error: give --since or --hour, not both"),
    ]:
        code, out, err = run(*args, "--store", str(store))
        assert code == 2, args
        assert out == "" and err.startswith(text) and err.count("\n") == 1
    code, _, err = run("--store", str(tmp_path / "none"))
    assert code == 1 and "no incidentlog store" in err and err.count("\n") == 1


def test_a_period_after_the_history_ends_says_so(store: Path) -> None:
    """The history ends at 14:45 on Aug 2 (the last cache ping): a day later, the digest
    points at the gap."""
    code, out, _ = run("--hour", "2025-08-03T13", "--store", str(store))
    assert code == 0
    assert out == (
        "2025-08-03 13:00–14:00 UTC: nothing recorded since 2025-08-02 14:45:00 UTC, "
        "where the history ends (is ingest or collect still running?).\n"
    )


SHOP_PACK = """
[pack]
name = "shop"
description = "The shop's own failures, which the built-in packs do not know."

[[rules]]
id = "shop.customer-id-missing"
category = "config-error"
severity = "high"
any = ["KeyError: 'customer_id'"]
patterns = ["KeyError: 'customer_id'"]
title = "a request without customer_id reached {service}"
remediation = "send customer_id from the checkout"
fix = "change-code"

[[rules]]
id = "shop.card-declined"
category = "auth-failure"
severity = "medium"
any = ["card declined"]
patterns = ["payment failed: card declined"]
title = "cards declined in {service}"
remediation = "check the payment provider"
fix = "investigate"
"""


def test_extra_rule_packs_add_findings(tmp_path: Path) -> None:
    """`run_digest(rule_paths=...)` (`--rules`) detects with the extra packs too: in the
    period, in the previous one and in the history before it."""
    store = write_store(tmp_path, *shop_history())
    pack = tmp_path / "shop.toml"
    pack.write_text(SHOP_PACK, encoding="utf-8")

    def findings(doc: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in doc[key] if s["kind"] == "finding"}

    plain = json.loads(run_digest(hour="2025-08-02T13", fmt="json", store=store))
    extra = json.loads(run_digest(hour="2025-08-02T13", fmt="json", store=store, rule_paths=[pack]))
    keys = ("new_signatures", "vanished_signatures", "top_movers")
    assert not [s for key in keys for s in plain[key] if s["id"].startswith("shop.")]
    new = findings(extra, "new_signatures")
    assert set(findings(plain, "new_signatures")) < set(new)  # the built-in findings stay
    customer = new["shop.customer-id-missing"]
    assert customer == customer | {
        "service": "api",
        "category": "config-error",
        "count": 3,
        "first_seen": "2025-08-02T13:41:00Z",
    }
    # Card declines are a finding of the pack now, seen on Aug 1 (not new), and they
    # moved from 4 in the previous hour to 20.
    assert "shop.card-declined" not in new
    declined = findings(extra, "top_movers")["shop.card-declined"]
    assert (declined["count"], declined["count_previous"]) == (20, 4)

    markdown = run_digest(hour="2025-08-02T13", store=store, rule_paths=[pack])
    assert "`shop.customer-id-missing`" in markdown
    assert "shop.customer-id-missing" not in run_digest(hour="2025-08-02T13", store=store)


def test_the_chart_writes_service_names_as_text(tmp_path: Path) -> None:
    """A service named by hostile events labels is text in the SVG, never markup."""
    from incidentlog.ingest import ingest_into_store

    store = tmp_path / "store"
    raw = tmp_path / "raw.log"
    raw.write_text(
        "\n".join(f"2025-08-02T13:{m:02d}:00Z ERROR boom {m}" for m in range(3)) + "\n",
        encoding="utf-8",
    )
    ingest_into_store([raw], store=store, service='x"><svg onload=alert(1)>', fmt="raw")
    page = run_digest(hour="2025-08-02T13", store=store, fmt="html")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<svg onload" not in page and "onload=alert(1)&gt;" in svg


def test_each_restarting_service_is_its_own_list_item(tmp_path: Path) -> None:
    """Two services restarting and a health change: one bullet per line, then the table
    after a blank line (the bullets ran together and swallowed the table)."""
    logs = [log_line("api-1", at(hour, 10), "INFO", "ready") for hour in (11, 12, 13)]
    events = [
        event("db", at(0), "start"),
        event("db", at(13, 20, 1), "die", exitCode="1"),
        event("db", at(13, 21), "start"),
        event("worker", at(0), "start"),
        event("worker", at(13, 30), "oom"),
        event("worker", at(13, 30, 1), "die", exitCode="137"),
        event("worker", at(13, 31), "start"),
        event("web", at(13, 40), "health_status: unhealthy"),
    ]
    store = write_store(tmp_path, logs, events)
    code, out, err = run("--hour", "2025-08-02T13", "--store", str(store))
    assert code == 0, err
    section = out.split("## Restarts, OOM kills and health\n\n", 1)[1]
    lines = section.splitlines()
    assert lines[:3] == [
        "- **db**: 1 restart",
        "- **worker**: 1 restart, 1 OOM kill",
        "",
    ], section
    assert lines[3].startswith("| time | service | container | health |")


def test_an_hour_across_a_dst_change_names_both_zones(tmp_path: Path) -> None:
    """Berlin's 01:00 CET hour on 2026-03-29 ends at 03:00 CEST: one hour, not "01:00–03:00
    CET"; the repeated 02:00 in October ends at 02:00 CET, not "02:00–02:00 CEST"."""
    spring = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    autumn = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    logs = [log_line("api-1", moment, "ERROR", "boom") for moment in (spring, autumn)]
    store = write_store(tmp_path, logs, [])
    for hour, label in (
        ("2026-03-29T01", "2026-03-29 01:00 CET–03:00 CEST"),
        ("2026-10-25T02", "2026-10-25 02:00 CEST–02:00 CET"),
    ):
        code, out, err = run("--hour", hour, "--tz", "Europe/Berlin", "--store", str(store))
        assert code == 0, err
        assert out.startswith(f"# Error digest: {label}\n"), out


def test_the_first_hour_of_the_history_claims_no_change(tmp_path: Path) -> None:
    """Nothing before the period: the headline, the patterns and Slack say no change (they
    said "+3 on the previous hour" against an hour with no data)."""
    from incidentlog.render.digest import digest_of
    from incidentlog.render.slack import slack_payload

    logs = [log_line("api-1", at(13, 10 + i), "ERROR", f"KeyError: 'k{i}'") for i in range(3)]
    store = write_store(tmp_path, logs, [])
    code, out, err = run("--hour", "2025-08-02T13", "--store", str(store))
    assert code == 0, err
    assert "3 errors (the history starts in this hour)" in out.splitlines()[2]
    patterns = out.split("## Top error patterns", 1)[1]
    assert "| api | 3 | — |" in patterns and "+3" not in patterns
    digest = digest_of(hour="2025-08-02T13", store=store)
    text = json.dumps(slack_payload(digest))
    assert "3 errors" in text and "(+3)" not in text


def test_one_off_patterns_that_vanished_are_counted_not_listed(tmp_path: Path) -> None:
    """A service whose errors are one-offs drops many patterns each hour: the Markdown lists
    the patterns that recurred (3 or more in the previous hour) and counts the rest in a
    line; JSON lists them all (before: every one-off in the table, ~30 rows an hour)."""
    one_offs = [
        "TypeError: cannot read 'total' of undefined",
        "ZeroDivisionError: division by zero in tax",
        "IndexError: list index out of range in cart",
        "ValueError: invalid literal for int() with base 10",
    ]
    logs = [
        log_line("api-1", at(12, 5, i), "ERROR", f"lock timeout on order {i}") for i in range(3)
    ]
    logs += [log_line("api-1", at(12, 20 + i), "ERROR", text) for i, text in enumerate(one_offs)]
    logs += [log_line("api-1", at(h, 30), "INFO", "ready") for h in (11, 12, 13)]
    store = write_store(tmp_path, logs, [event("api", at(0), "start")])
    code, out, err = run("--hour", "2025-08-02T13", "--store", str(store))
    assert code == 0, err
    section = out.split("## Vanished\n", 1)[1].split("\n## ", 1)[0]
    assert "lock timeout on order" in section
    assert not [t for t in one_offs if t.split(":")[0] in section]
    assert "4 more, error patterns seen only once or twice in the previous period" in section
    code, out, err = run("--hour", "2025-08-02T13", "--store", str(store), "--format", "json")
    assert len(json.loads(out)["vanished_signatures"]) == 5
