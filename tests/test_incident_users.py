"""What the access logs say about users: requests and 5xx per service, in the
formats servers really print."""

from __future__ import annotations

from pathlib import Path

from incidentlog.incident.users import http_counts
from incidentlog.ingest import read_inputs


def test_quoted_and_bare_access_lines_are_both_counted(tmp_path: Path) -> None:
    lines = [
        # combined format (nginx) and morgan's `dev`/`tiny` formats (express)
        'proxy-1  | 172.18.0.1 - - [01/Aug/2025:12:00:00 +0000] "GET /shop HTTP/1.1" 200 612 "-" "-"',
        'proxy-1  | 172.18.0.1 - - [01/Aug/2025:12:00:01 +0000] "GET /shop HTTP/1.1" 502 157 "-" "-"',
        "api-1    | POST /v1/sessions 500 3.112 ms - 21",
        "api-1    | GET /v1/items 200 12 - 3.1 ms",
        "api-1    | GET /healthz 503 0.4 ms - 2",
        "api-1    | POST /v1/sessions 500 2.9ms",
        # prose that names a method and a number is no request
        "api-1    | retrying GET /v1/items 3 times",
        # JSON access logs: Caddy, Traefik
        'caddy-1  | {"level":"error","logger":"http.log.access","msg":"handled request",'
        '"request":{"method":"GET","uri":"/login?next=/"},"status":500}',
        'caddy-1  | {"level":"info","msg":"handled request","request":{"method":"GET",'
        '"uri":"/"},"status":200}',
        'traefik-1 | {"RequestMethod":"POST","RequestPath":"/api","DownstreamStatus":502}',
        # a JSON line with a status and no method is no request
        'caddy-1  | {"level":"info","msg":"certificate obtained","status":200}',
        # frameworks' own lines: Rails, Phoenix
        "web-1    | I, [2025-03-03T07:42:02.131552 #1]  INFO -- : [c2f1a9d0] Completed 500"
        " Internal Server Error in 13ms (ActiveRecord: 2.9ms)",
        "web-1    | I, [2025-03-03T07:42:03.131552 #1]  INFO -- : [c2f1a9d1] Completed 200 OK in 5ms",
        "phx-1    | 04:13:07.403 request_id=GCx9c3d4 [info] Sent 500 in 2074ms",
        "web-1    | Completed 3 of 7 jobs in 2 minutes",
    ]
    path = tmp_path / "compose.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logs = read_inputs([str(path)]).logs
    counts = http_counts(logs, {"api": "curl -f http://localhost:3000/healthz", "proxy": None})
    assert (counts["proxy"].requests, counts["proxy"].server_errors) == (2, 1)
    api = counts["api"]
    assert (api.requests, api.server_errors) == (3, 2)
    assert (api.probes, api.failed_probes, api.probe_status) == (1, 1, "503")
    assert (counts["caddy"].requests, counts["caddy"].server_errors) == (2, 1)
    assert (counts["traefik"].requests, counts["traefik"].server_errors) == (1, 1)
    assert (counts["web"].requests, counts["web"].server_errors) == (2, 1)
    assert (counts["phx"].requests, counts["phx"].server_errors) == (1, 1)
