"""Users answered with a 5xx and no cause in the text: the `server-errors` inference, and
the report it makes when the access log is all the evidence there is."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from incidentlog.detect import detect_findings, load_rules
from incidentlog.ingest import read_inputs
from incidentlog.render.report import generate_report


def _access(status_of: dict[int, int], total: int = 40, fmt: str = "combined") -> list[str]:
    """`total` requests of a proxy one per 10 s from 11:10, request i answered status_of.get(i, 200)."""
    lines = []
    for i in range(total):
        minute, second = 10 + i // 6, (i % 6) * 10
        status = status_of.get(i, 200)
        if fmt == "combined":
            lines.append(
                f"proxy-1  | 172.18.0.1 - - [30/Nov/2026:11:{minute:02d}:{second:02d} +0000] "
                f'"GET /api/orders/{i} HTTP/1.1" {status} 157 "-" "Mozilla/5.0"'
            )
        elif fmt == "gin":
            lines.append(
                f"proxy-1  | [GIN] 2026/11/30 - 11:{minute:02d}:{second:02d} | {status} |"
                f'    1.2ms |  172.18.0.1 | GET      "/api/orders/{i}"'
            )
        elif fmt == "logfmt":
            lines.append(
                f"proxy-1  | time=2026-11-30T11:{minute:02d}:{second:02d}Z level=info"
                f" msg=request method=GET path=/api/orders/{i} status={status}"
            )
    return lines


def _findings(tmp_path: Path, lines: list[str]) -> pl.DataFrame:
    path = tmp_path / "compose.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingested = read_inputs([str(path)])
    return detect_findings(ingested.logs, ingested.events, load_rules())


def _answers(found: pl.DataFrame) -> pl.DataFrame:
    return found.filter(pl.col("rule") == "core.server-errors")


def test_a_burst_of_502s_is_one_finding_per_answer_with_status_and_share(tmp_path: Path) -> None:
    found = _answers(_findings(tmp_path, _access({i: 502 for i in range(12, 31)})))
    assert found.height == 19
    assert set(found.get_column("service")) == {"proxy"}
    assert found.get_column("category").unique().to_list() == ["unhandled-exception"]
    fields = json.loads(found.get_column("fields")[0])
    assert fields == {"status": "502", "reason": "Bad Gateway", "answered": "19 of 40 requests"}
    remediation = found.get_column("remediation")[0]
    # a gateway status sends the reader to the upstream, from a minute before the first 502
    assert "upstream" in remediation and "--since 2026-11-30T11:11:00Z" in remediation


def test_gin_and_logfmt_access_lines_are_read_too(tmp_path: Path) -> None:
    for fmt in ("gin", "logfmt"):
        found = _answers(_findings(tmp_path, _access({i: 500 for i in range(5)}, fmt=fmt)))
        assert found.height == 5, fmt
        fields = json.loads(found.get_column("fields")[0])
        assert fields["answered"] == "5 of 40 requests", fmt
        # a 500 is the service's own failure: its own error log, not an upstream
        assert "its own error log" in found.get_column("remediation")[0], fmt


def test_a_few_or_a_tiny_share_of_5xx_is_no_finding(tmp_path: Path) -> None:
    assert _answers(_findings(tmp_path, _access({3: 500, 9: 502}))).is_empty()
    # 3 of 120 (2.5 %) is a finding, 3 of 480 (0.6 %) is under the share
    assert _answers(_findings(tmp_path, _access({3: 500, 9: 500, 15: 500}, total=120))).height == 3
    many = _access({3: 500, 9: 500, 15: 500}, total=240)
    many += [line.replace("/api/orders/", "/api/items/") for line in _access({}, total=240)]
    assert _answers(_findings(tmp_path, many)).is_empty()


def test_probe_paths_are_no_users_requests(tmp_path: Path) -> None:
    failing = _access({i: 503 for i in range(10)})
    for path in ("/healthz?n=", "/-/health/live/", "/api/health/", "/actuator/health/"):
        lines = [line.replace("/api/orders/", path) for line in failing]
        assert _answers(_findings(tmp_path, lines)).is_empty(), path


def test_requests_a_container_sends_itself_are_probes(tmp_path: Path) -> None:
    failing = _access({i: 503 for i in range(10)})
    lines = [line.replace("172.18.0.1 -", "127.0.0.1 -") for line in failing]
    assert _answers(_findings(tmp_path, lines)).is_empty()


def test_beside_a_lasting_cause_the_answers_are_its_impact_not_a_finding(tmp_path: Path) -> None:
    lines = _access({i: 502 for i in range(12, 31)})
    lines.append(
        "api-1    | 2026-11-30T11:11:00Z ERROR OSError: [Errno 28] No space left on device"
    )
    found = _findings(tmp_path, lines)
    assert _answers(found).is_empty()
    assert "disk-full" in set(found.get_column("category"))


def test_a_report_of_an_access_log_alone_names_the_answers(tmp_path: Path) -> None:
    path = tmp_path / "compose.log"
    path.write_text("\n".join(_access({i: 502 for i in range(12, 31)})) + "\n", encoding="utf-8")
    report = generate_report([path])
    assert not report.startswith("# No incident found")
    assert "| **Root causes** | 502 Bad Gateway answers (proxy) |" in report
    # the title names its service: no "(proxy)" after it
    assert "### 1. proxy answered 19 of 40 requests with 502 Bad Gateway\n" in report
    assert "19 of them answered with a 5xx status (11:12:00 to 11:15:00)" in report
