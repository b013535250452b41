"""The report's advice in isolation: probe fixes an image can run, asyncio fixes that fit
the traceback's frames, excerpt lines that say what happened, compose durations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incidentlog.incident.advice import _asyncio_run_fix, telling_line
from incidentlog.incident.excerpts import CodeFrame, _brief
from incidentlog.incident.model import ExcerptLine
from incidentlog.incident.probes import ProbeService, busybox_shell, probe_fix, probe_url
from incidentlog.topology import duration_seconds


def _svc(
    name: str,
    image: str | None,
    command: str | None,
    output: str | None,
    built: bool | None = True,
) -> ProbeService:
    return ProbeService(name, image, built, command, output)


def test_busybox_image_gets_a_wget_probe_with_its_own_url() -> None:
    web = _svc(
        "web", "shop-web", "curl -fsS http://localhost:8080/healthz", "/bin/sh: curl: not found"
    )
    found = probe_fix("curl", [web])
    assert found.kind == "change-config"
    text = str(found.fix)
    assert '"wget -q --spider http://localhost:8080/healthz || exit 1"' in text
    assert "BusyBox" in text and "PORT" not in text


def test_alpine_image_name_counts_as_busybox() -> None:
    api = _svc("api", "node:20-alpine", "curl -f http://127.0.0.1:3000/", None, built=False)
    assert "wget -q --spider http://127.0.0.1:3000/" in str(probe_fix("curl", [api]).fix)


def test_debian_shell_gets_apt_in_a_rebuild() -> None:
    api = _svc("api", "shop-api", "curl -f http://localhost:8000/", "/bin/sh: 1: curl: not found")
    found = probe_fix("curl", [api])
    assert found.kind == "rebuild-image"
    assert "apt-get install -y --no-install-recommends curl" in str(found.fix)
    assert "apk add" not in str(found.fix)


def test_own_health_command_in_exec_form_with_the_probe_port() -> None:
    tunnel = _svc(
        "tunnel",
        "docker.io/cloudflare/cloudflared:2025.7.0",
        "wget --spider -q http://localhost:49312/ready",
        'OCI runtime exec failed: exec: "wget": executable file not found in $PATH',
        built=False,
    )
    text = str(probe_fix("wget", [tunnel]).fix)
    assert '["CMD", "cloudflared", "tunnel", "--metrics", "localhost:49312", "ready"]' in text
    assert "no shell" in text


def test_unknown_image_never_gets_a_placeholder() -> None:
    odd = _svc("odd;rm -rf /", "vendor/thing:1", "probe-tool --check", "exec failed", built=False)
    text = str(probe_fix("probe-tool", [odd]).fix)
    assert "PORT" not in text and "<service>" not in text
    assert "docker compose exec 'odd;rm -rf /' sh -c" in text  # the name is shell-quoted


@pytest.mark.parametrize(
    ("command", "port"),
    [
        ("curl -f http://localhost:3000/ || exit 1", 3000),
        ("wget -q --spider http://localhost/nginx-health || exit 1", 80),
        ("curl -k https://127.0.0.1/health", 443),
    ],
)
def test_probe_url_port(command: str, port: int) -> None:
    found = probe_url(command)
    assert found is not None and found[1] == port


def test_busybox_and_dash_wordings() -> None:
    assert busybox_shell("/bin/sh: curl: not found\n")
    assert not busybox_shell("/bin/sh: 1: curl: not found")
    assert not busybox_shell("bash: curl: command not found")


def test_asyncio_fix_when_the_caller_calls_it_without_await() -> None:
    caller = CodeFrame("/app/svc/loop.py", "35", "self.refresh()", "sync_forever")
    frame = CodeFrame(
        "/app/svc/loop.py", "28", "rows = asyncio.run(self._load())", "refresh", caller
    )
    text = str(_asyncio_run_fix(frame))
    assert "`async def refresh`" in text and "`rows = await self._load()`" in text
    assert "`await self.refresh()`" in text and "already async" not in text


def test_asyncio_fix_when_the_caller_awaits_it() -> None:
    caller = CodeFrame("/app/main.py", "12", "data = await fetch_all()", "main")
    frame = CodeFrame("/app/main.py", "7", "return asyncio.run(load())", "fetch_all", caller)
    text = str(_asyncio_run_fix(frame))
    assert text.startswith("`return await load()` instead of `return asyncio.run(load())`")
    assert "async def" not in text


def test_brief_keeps_the_app_frames_and_the_error() -> None:
    at = datetime(2025, 8, 1, tzinfo=UTC)
    texts = [
        "ERROR sync failed",
        "Traceback (most recent call last):",
        '  File "/app/svc/loop.py", line 35, in sync_forever',
        "    self.refresh()",
        '  File "/app/svc/loop.py", line 28, in refresh',
        "    rows = asyncio.run(self._load())",
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^",
        '  File "/usr/local/lib/python3.11/asyncio/runners.py", line 186, in run',
        "    raise RuntimeError(",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
    ]
    record = [ExcerptLine(at if n == 0 else None, t, True) for n, t in enumerate(texts)]
    brief = [x.text for x in _brief(record)]
    assert brief == [
        "ERROR sync failed",
        "…",
        '  File "/app/svc/loop.py", line 35, in sync_forever',
        "    self.refresh()",
        '  File "/app/svc/loop.py", line 28, in refresh',
        "    rows = asyncio.run(self._load())",
        "…",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
    ]


def test_brief_keeps_a_go_panics_innermost_application_frame() -> None:
    """Go prints the panicking goroutine's innermost frame first: the brief keeps it and
    the function it names, not only the panic and net/http's last frame."""
    at = datetime(2025, 8, 1, tzinfo=UTC)
    texts = [
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6d1f52]",
        "",
        "goroutine 87 [running]:",
        "example.com/ledger/internal/fx.(*RateCache).Lookup(0x0, {0xc0001b4a20, 0x3})",
        "\t/src/internal/fx/cache.go:58 +0x32",
        "example.com/ledger/internal/api.(*Handler).Quote(0xc000120080, {0x8a4f20, 0xc0002})",
        "\t/src/internal/api/quote.go:41 +0x9c",
        "net/http.HandlerFunc.ServeHTTP(0xc000116030, {0x8a4f20, 0xc0002}, 0xc000170000)",
        "\t/usr/local/go/src/net/http/server.go:2166 +0x29",
        "net/http.(*conn).serve(0xc0001a2000, {0x8a5a58, 0xc000108f90})",
        "\t/usr/local/go/src/net/http/server.go:3285 +0x4b4",
    ]
    record = [ExcerptLine(at if n == 0 else None, t, True) for n, t in enumerate(texts)]
    brief = [x.text for x in _brief(record)]
    assert brief == [
        texts[0],
        "…",
        texts[4],
        texts[5],
        "…",
        texts[-1],
    ]


def test_telling_line_of_a_traceback_is_its_last() -> None:
    assert telling_line("Traceback (most recent call last):\n  File x\nKeyError: 'A'\n") == (
        "KeyError: 'A'"
    )
    assert telling_line("ERROR boom\nmore") == "ERROR boom"


def test_telling_line_finds_the_exception_under_a_heading() -> None:
    """Django's runner and loggers put a heading before the traceback; Java says it in its
    last `Caused by:`; Node prints the source line first and the error after it."""
    django = (
        "Exception in thread django-main-thread:\nTraceback (most recent call last):\n"
        '  File "/app/manage.py", line 22, in <module>\n'
        "django.db.utils.OperationalError: FATAL:  password authentication failed\n"
    )
    assert telling_line(django).startswith("django.db.utils.OperationalError:")
    java = (
        "org.springframework.beans.factory.BeanCreationException: Error creating bean\n"
        "\tat org.springframework.Foo.bar(Foo.java:1)\n"
        "Caused by: org.hibernate.HibernateException: dialect\n"
        "\tat org.hibernate.Baz.qux(Baz.java:2)\n"
        "Caused by: java.net.ConnectException: Connection refused\n"
        "\t... 40 more\n"
    )
    assert telling_line(java) == "Caused by: java.net.ConnectException: Connection refused"
    node = (
        "node:internal/modules/cjs/loader:1080\n  throw err;\n  ^\n\n"
        "Error: Cannot find module 'express'\nRequire stack:\n- /app/server.js\n"
    )
    assert telling_line(node) == "Error: Cannot find module 'express'"
    node_app = (
        "/app/server.js:12\n    db.query(sql)\n       ^\n\nTypeError: db.query is not a function\n"
    )
    assert telling_line(node_app) == "TypeError: db.query is not a function"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("40s", 40.0), ("1m30s", 90.0), ("500ms", 0.5), (15, 15.0), ("1h", 3600.0), ("soon", None)],
)
def test_compose_durations(value: object, seconds: float | None) -> None:
    assert duration_seconds(value) == seconds
