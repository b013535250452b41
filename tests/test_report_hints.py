"""The failing service's own advice (`you can force it with -i base`) quoted beside the fix,
and only advice that is about the failure: its service, its time, not an update notice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from report_helpers import report_json, report_md

from incidentlog.render.report import generate_report

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

ERP = """\
web-1  | 2026-12-02T08:15:20.441000000Z 2026-12-02 08:15:20,441 1 ERROR erp odoo.modules.loading: \
Database erp not initialized, you can force it with `-i base`
web-1  | 2026-12-02T08:15:20.447000000Z 2026-12-02 08:15:20,447 1 ERROR erp odoo.sql_db: bad query: \
SELECT latest_version FROM ir_module_module WHERE name='base'
web-1  | 2026-12-02T08:15:20.448000000Z ERROR: relation "ir_module_module" does not exist
"""


def _first_fix(md: str) -> str:
    return next(line for line in md.splitlines() if line.startswith("1. **"))


def test_the_services_own_remedy_is_quoted_beside_the_rules_fix(tmp_path: Path) -> None:
    fix = _first_fix(report_md(tmp_path, ERP, NOW))
    assert "run the migrations" in fix  # the rule's fix stays
    assert fix.endswith(
        "web's own log says: `` Database erp not initialized, you can force it with `-i base` ``"
    )
    data = report_json(tmp_path, ERP, NOW)
    assert data["issues"][0]["fix"].endswith(
        "web's own log says: `` Database erp not initialized, you can force it with `-i base` ``"
    )


def test_advice_of_another_service_an_hour_before_or_an_update_notice_is_not_quoted(
    tmp_path: Path,
) -> None:
    noise = (
        "web-1  | 2026-12-02T07:00:00.000000000Z npm notice Run `npm install -g npm@11` to update!\n"
        "web-1  | 2026-12-02T07:00:01.000000000Z WARN please set TZ, you should use UTC\n"
        "cron-1 | 2026-12-02T08:15:19.000000000Z ERROR please run `cron --fix` now\n"
    )
    text = noise + ERP.replace(", you can force it with `-i base`", "")
    fix = _first_fix(report_md(tmp_path, text, NOW))
    assert "own log says" not in fix


def test_a_quoted_remedy_is_redacted_and_cannot_break_out_of_its_code_span(
    tmp_path: Path,
) -> None:
    hostile = ERP.replace(
        "you can force it with `-i base`",
        "please set `` <img src=x onerror=alert(1)> `` and DATABASE_URL=postgres://erp:S3cretPw@db/erp",
    )
    log = tmp_path / "up.log"
    log.write_text(hostile, encoding="utf-8")
    md = generate_report([str(log)], fmt="md", now=NOW)
    html = generate_report([str(log)], fmt="html", now=NOW)
    fix = _first_fix(md)
    assert "own log says" in fix and "S3cretPw" not in md and "S3cretPw" not in html
    assert fix.endswith(
        "please set `` <img src=x onerror=alert(1)> `` and DATABASE_URL=postgres://erp:***@db/erp```"
    )
    assert "own log says: ```Database erp" in fix  # a fence longer than the `` inside
    assert "<img src=x" not in html and "<code>Database erp" in html  # escaped: &lt;img
