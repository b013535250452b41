"""Every command takes the shared options with one spelling and one meaning.

`TABLE` is the contract (the README's usage section says the same): which
command accepts which shared option. The tests check it against the Typer
app, check that each shared option is declared identically wherever it is
accepted (same flags, same help), and then check the meaning by running the
commands: a bad time or format is one `Error:` line with exit 2, `-o FILE`
writes the file, `--rules` adds findings wherever findings are made.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from incidentlog.cli import app

runner = CliRunner()

SHARED = (
    "--store",
    "--since",
    "--until",
    "--service",
    "--rules",
    "--format",
    "--input-format",
    "--output",
    "--no-redact",
    "--project",
    "--lake",
    "--log-tz",
)
READING = {
    "--store",
    "--since",
    "--until",
    "--service",
    "--input-format",
    "--output",
    "--project",
    "--lake",
    "--log-tz",
}
TABLE: dict[str, set[str]] = {
    "ingest": {
        "--store",
        "--service",
        "--format",
        "--input-format",
        "--output",
        "--project",
        "--log-tz",
    },
    "detect": READING | {"--rules", "--format", "--no-redact"},
    "report": READING | {"--rules", "--format", "--no-redact"},
    "grep": READING | {"--rules", "--format", "--no-redact"},
    "patterns": READING | {"--format"},
    "digest": {"--store", "--since", "--rules", "--format", "--output", "--lake"},
    "collect": {"--store", "--since", "--rules", "--project"},
    "status": {"--format", "--project"},
    "store info": {"--store", "--format", "--output", "--lake"},
    "store compact": {"--store"},
    "store check": {"--store", "--format", "--output"},
    "store prune": {"--store", "--format"},
    "rules list": {"--rules", "--format"},
}
FORMATS = {
    "ingest": ("text", "json"),
    "detect": ("text", "json", "jsonl"),
    "report": ("md", "html", "json"),
    "grep": ("text", "json", "jsonl"),
    "patterns": ("text", "json", "jsonl"),
    "digest": ("md", "html", "json"),
    "store info": ("text", "json"),
    "store check": ("text", "json"),
    "store prune": ("text", "json"),
    "rules list": ("text", "json"),
}
PACK = """
[pack]
name = "extra"

[[rules]]
id = "extra.pebkac"
category = "config-error"
severity = "high"
title = "The operator typed the wrong thing"
patterns = ['PEBKAC detected in (?P<file>\\S+)']
remediation = "Read the manual."
fix = "change-config"
"""
LOG = (
    "api-1  | 2025-08-01T12:30:00.000000000Z started\n"
    "api-1  | 2025-08-01T12:30:01.000000000Z ERROR PEBKAC detected in settings.yaml\n"
    "db-1   | 2025-08-01T12:30:02.000000000Z ready\n"
)


def _commands() -> dict[str, Any]:
    root = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        for sub, leaf in getattr(command, "commands", {}).items():
            found[f"{name} {sub}"] = leaf
        if not hasattr(command, "commands"):
            found[name] = command
    return found


def _options(command: Any) -> dict[str, Any]:
    return {flag: p for p in command.params for flag in p.opts if flag.startswith("--")}


def test_the_table_is_what_the_app_accepts() -> None:
    commands = _commands()
    for name, wanted in TABLE.items():
        have = set(_options(commands[name])) & set(SHARED)
        assert have == wanted, f"{name}: accepts {sorted(have)}, the table says {sorted(wanted)}"


@pytest.mark.parametrize(
    "option",
    [
        "--store",
        "--until",
        "--service",
        "--rules",
        "--input-format",
        "--output",
        "--no-redact",
        "--log-tz",
    ],
)
def test_each_shared_option_is_declared_once(option: str) -> None:
    """Same flags and help wherever it is accepted, so it cannot mean two things."""
    declared = {
        (tuple(p.opts), p.help)
        for name, command in _commands().items()
        if name in TABLE and (p := _options(command).get(option)) is not None
    }
    assert len(declared) == 1, declared


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "compose.log"
    path.write_text(LOG, encoding="utf-8")
    return path


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "extra.toml"
    path.write_text(PACK, encoding="utf-8")
    return path


def _args(command: str, log: Path, store: Path) -> list[str]:
    """A runnable call of `command` on the small log (or on a store made from it)."""
    if command in ("ingest", "detect", "report", "patterns"):
        return [*command.split(), str(log)]
    if command == "grep":
        return ["grep", "PEBKAC", str(log)]
    runner.invoke(app, ["ingest", str(log), "--store", str(store)])
    if command == "digest":
        return ["digest", "--store", str(store), "--hour", "2025-08-01T12"]
    if command in ("store info", "store check"):
        return [*command.split(), "--store", str(store)]
    if command == "store prune":
        return ["store", "prune", "--before", "1000d", "--store", str(store)]
    return command.split()


@pytest.mark.parametrize("command", sorted(FORMATS))
def test_format_is_the_output_format_everywhere(command: str, log: Path, tmp_path: Path) -> None:
    args = _args(command, log, tmp_path / "store")
    bad = runner.invoke(app, [*args, "--format", "yaml"])
    assert bad.exit_code == 2
    assert bad.stderr == (
        f"Error: --format 'yaml' is not supported by {command} "
        f"(allowed: {', '.join(FORMATS[command])})\n"
    )
    if "json" in FORMATS[command]:
        good = runner.invoke(app, [*args, "--format", "json"])
        assert good.exit_code in (0, 1), good.output  # grep: 1 = no match
        json.loads(good.stdout)


@pytest.mark.parametrize("command", sorted(c for c, opts in TABLE.items() if "--output" in opts))
def test_output_writes_the_file(command: str, log: Path, tmp_path: Path) -> None:
    args = _args(command, log, tmp_path / "store")
    if command == "ingest":
        args = [*args, "--store", str(tmp_path / "other")]
    target = tmp_path / "out.txt"
    result = runner.invoke(app, [*args, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command", sorted(c for c, opts in TABLE.items() if "--since" in opts and c != "collect")
)
@pytest.mark.parametrize("value", ["yesterday-ish", "1000000d"])
def test_a_bad_time_is_a_usage_error(command: str, value: str, log: Path, tmp_path: Path) -> None:
    args = _args(command, log, tmp_path / "store")
    result = runner.invoke(app, [*args, "--since", value])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_rules_add_findings_to_detect_report_and_grep(log: Path, pack: Path) -> None:
    plain = runner.invoke(app, ["detect", str(log), "--format", "jsonl"])
    extra = runner.invoke(app, ["detect", str(log), "--format", "jsonl", "--rules", str(pack)])
    rules = {json.loads(line)["rule"] for line in extra.stdout.splitlines()}
    assert "extra.pebkac" in rules
    assert "extra.pebkac" not in plain.stdout
    report = runner.invoke(app, ["report", str(log), "--format", "json", "--rules", str(pack)])
    assert "extra.pebkac" in json.dumps(json.loads(report.stdout)["issues"])
    grep = runner.invoke(
        app, ["grep", "", str(log), "--rule", "extra.pebkac", "--rules", str(pack)]
    )
    assert grep.exit_code == 0, grep.output
    assert "PEBKAC detected" in grep.stdout and "ready" not in grep.stdout
    unknown = runner.invoke(app, ["grep", "", str(log), "--rule", "extra.pebkac"])
    assert unknown.exit_code == 2 and "is not a loaded rule" in unknown.stderr


def test_rules_add_findings_to_the_digest(log: Path, pack: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    runner.invoke(app, ["ingest", str(log), "--store", str(store)])
    args = ["digest", "--store", str(store), "--hour", "2025-08-01T12", "--format", "json"]
    plain = json.loads(runner.invoke(app, args).stdout)
    extra = json.loads(runner.invoke(app, [*args, "--rules", str(pack)]).stdout)
    ids = {s["id"] for s in extra["new_signatures"]}
    assert "extra.pebkac" in ids
    assert "extra.pebkac" not in {s["id"] for s in plain["new_signatures"]}


def test_service_globs_select_records(log: Path) -> None:
    result = runner.invoke(app, ["grep", "", str(log), "--service", "a*", "--format", "jsonl"])
    assert {json.loads(x)["service"] for x in result.stdout.splitlines()} == {"api"}


def test_usage_errors_are_one_line_never_a_box() -> None:
    for args in (["grep"], ["grep", "x", "--nope"], ["report", "--format"], ["nosuchcommand"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, args
        assert "╭" not in result.output


def test_version_without_loading_polars() -> None:
    code = (
        "import sys\n"
        "from incidentlog.cli import app\n"
        "try:\n"
        "    app(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('polars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("incidentlog ") and lines[-1] == "False"


def test_a_bug_is_one_line_not_a_traceback(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import incidentlog.detect

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("shop-api")

    monkeypatch.setattr(incidentlog.detect, "run_detect", broken)
    result = runner.invoke(app, ["detect", str(log)])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: internal error (KeyError: 'shop-api'); please report it, with the traceback "
        "that INCIDENTLOG_DEBUG=1 prints\n"
    )
    monkeypatch.setenv("INCIDENTLOG_DEBUG", "1")
    assert isinstance(runner.invoke(app, ["detect", str(log)]).exception, KeyError)


# ---- --help: examples, choices, environment variables ----------------------------

ENV_SHOWN = {
    "--store": "INCIDENTLOG_STORE",
    "--rules": "INCIDENTLOG_RULES",
    "--webhook": "INCIDENTLOG_WEBHOOK_URL",
    "--docker-host": "DOCKER_HOST, DOCKER_CONTEXT",
    "--log-tz": "INCIDENTLOG_LOG_TZ",
}
"""Options whose help names the variable the code reads (collect's -p is its own option)."""
PROJECT_FROM_ENV = ("ingest", "detect", "report", "grep", "patterns")
CHOICES = {
    "--input-format": ("compose", "raw", "json-file", "journal", "events", "inspect", "ps"),
    "--webhook-format": ("slack", "json"),
    "--level": ("trace", "debug", "info", "warn", "error", "fatal", "unknown"),
    "--fail-on": ("info", "low", "medium", "high", "critical"),
    "--color": ("auto", "always", "never"),
    "--dataset": ("logs", "events"),
}


def _help(command: str) -> str:
    """`incidentlog COMMAND --help` as rendered, wide enough that nothing wraps."""
    result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_help_has_an_example(command: str) -> None:
    examples = [line for line in _help(command).splitlines() if f"incidentlog {command} " in line]
    assert examples, f"{command} --help shows no example"


@pytest.mark.parametrize("command", sorted(_commands()))
def test_help_shows_fixed_choices_and_environment(command: str) -> None:
    text = _help(command)
    options = _options(_commands()[command])
    if command in FORMATS or command == "status":
        allowed = FORMATS.get(command, ("text", "json"))
        assert "[" + "|".join(allowed) + "]" in text, f"{command}: --format choices not shown"
    for option, values in CHOICES.items():
        if option in options:
            assert "[" + "|".join(values) + "]" in text, f"{command}: {option} choices"
    for option, variable in ENV_SHOWN.items():
        if option in options:
            assert f"[env var: {variable}]" in text, f"{command}: {option} env var not shown"
    if command in PROJECT_FROM_ENV:
        assert "[env var: COMPOSE_PROJECT_NAME]" in text


def test_the_choices_shown_are_the_ones_the_library_takes() -> None:
    from incidentlog.commands import options
    from incidentlog.ingest.sniff import InputFormat
    from incidentlog.schema import Level, Severity

    assert tuple(f.value for f in InputFormat) == options.INPUT_FORMATS
    assert tuple(level.value for level in Level) == options.LEVELS
    assert tuple(s.value for s in Severity) == options.SEVERITIES


def test_the_root_help_lists_the_environment() -> None:
    text = _help("")
    for variable in (
        "INCIDENTLOG_STORE",
        "INCIDENTLOG_RULES",
        "INCIDENTLOG_CONFIG",
        "INCIDENTLOG_CACHE",
        "INCIDENTLOG_WEBHOOK_URL",
        "COMPOSE_PROJECT_NAME",
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "NO_COLOR",
        "INCIDENTLOG_DEBUG",
    ):
        assert variable in text


def test_showing_an_environment_variable_does_not_make_click_read_it(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$INCIDENTLOG_STORE is only the default store: PATHs given without --store are read,
    not added to it (Click reading it as --store would add them)."""
    store = tmp_path / "env-store"
    monkeypatch.setenv("INCIDENTLOG_STORE", str(store))
    result = runner.invoke(app, ["grep", "PEBKAC", str(log)])
    assert result.exit_code == 0, result.output
    assert not store.exists()
