"""Rule packs: built-ins load, invalid packs report every problem at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import incidentlog
from incidentlog.detect import Source, check_rule_packs, check_rules, load_rules
from incidentlog.errors import RuleError
from incidentlog.schema import Category, EventAction, Severity

GOOD = """
[pack]
name = "mine"

[[rules]]
id = "mine.curl-missing"
category = "missing-binary"
severity = "critical"
any = ["not found"]
patterns = ['sh: (?:\\d+: )?(?P<binary>[\\w.-]+): not found']
title = "{binary} missing in {service}"
remediation = "install {binary}; see {{braces}}"
fix = "rebuild-image"

[[rules]]
id = "mine.die-2"
category = "crash-loop"
severity = "high"
source = "events"
when = { action = ["die"], exit_code = [2] }
title = "exit {exit_code}"
remediation = "restart {service} ({restarts} exits)"
fix = "restart"
"""

BAD = """
[pack]
name = "bad"

[[rules]]
id = "bad.one"
category = "not-a-category"
severity = "urgent"
patterns = ['(?<=foo)bar']
title = "x {nope}"
remediation = "y"
fix = "reboot"
colour = "red"

[[rules]]
id = "bad.two"
category = "timeout"
severity = "low"
source = "stdin"
patterns = ['(?P<host>\\w+) timed out', '(a)\\1']
subject = "container"
title = "t"
remediation = "r"
fix = "investigate"

[[rules]]
id = "bad.two"
category = "timeout"
severity = "low"
patterns = ['ok']
title = "t"
remediation = "r"
fix = "investigate"

[[rules]]
id = "bad.events"
category = "crash-loop"
severity = "high"
source = "events"
when = { action = ["explode"], exit_code = "one" }
title = "t"
remediation = "r"
fix = "restart"

[[rules]]
id = "bad.nopattern"
category = "timeout"
severity = "low"
title = "t"
remediation = "r"
fix = "investigate"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_packs_load_and_use_the_taxonomy() -> None:
    rules = load_rules()
    assert "core" in rules.packs
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids))
    for rule in rules.rules:
        assert rule.category in set(Category)
        assert rule.severity in set(Severity)
    core = {r.id: r for r in rules.rules if r.pack == "core"}
    exit127 = core["core.exit-127-command-not-found"]
    assert exit127.source is Source.EVENTS
    assert exit127.when is not None and exit127.when.exit_code == (127,)
    assert exit127.when.action == (EventAction.DIE,)
    assert core["core.exit-137-oom"].when is not None
    assert core["core.exit-137-oom"].when.oom is True


def test_user_pack_file_and_directory(tmp_path: Path) -> None:
    pack = write(tmp_path, "mine.toml", GOOD)
    from_file = load_rules([pack], builtin=False)
    from_dir = load_rules([tmp_path], builtin=False)
    assert [r.id for r in from_file.rules] == ["mine.curl-missing", "mine.die-2"]
    assert from_dir.rules == from_file.rules
    curl = from_file.rules[0]
    assert curl.groups == ("binary",)
    assert curl.any == ("not found",)
    with_builtins = load_rules([pack])
    assert len(with_builtins) == len(load_rules()) + 2


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.toml", BAD)
    with pytest.raises(RuleError) as caught:
        load_rules([bad], builtin=False)
    message = str(caught.value)
    problems = check_rules([bad])
    for expected in [
        "rule bad.one: unknown category 'not-a-category' (allowed: missing-binary,",
        "rule bad.one: unknown severity 'urgent' (allowed: info, low, medium, high, critical)",
        "rule bad.one: unknown fix 'reboot' (allowed: rebuild-image, restart,",
        "rule bad.one: invalid regex '(?<=foo)bar': look-around",
        "rule bad.one: unknown key `colour`",
        "rule bad.one: title placeholder {nope} names no capture group",
        "rule bad.two: unknown source 'stdin' (allowed: logs, probe, events, inferred)",
        "rule bad.two: invalid regex '(a)\\\\1'",
        "rule bad.two: subject 'container' names no capture group of `patterns` (groups: host)",
        "rule bad.two: duplicate id (first defined in",
        "rule bad.events: unknown when.action 'explode'",
        "rule bad.events: `when.exit_code` must be a list of integers",
        "rule bad.nopattern: `patterns` must hold at least one regex",
    ]:
        assert expected in message, expected
        assert any(expected in p for p in problems), expected
    assert all(p.startswith(str(bad)) for p in problems)
    assert message.startswith(f"{len(problems)} problems in rule packs: ")


def test_duplicate_of_a_builtin_id_and_pack_name(tmp_path: Path) -> None:
    clash = GOOD.replace('name = "mine"', 'name = "core"').replace("mine.die-2", "core.oom-event")
    path = write(tmp_path, "clash.toml", clash)
    problems = check_rules([path])
    assert any(
        "rule core.oom-event: duplicate id (first defined in incidentlog/rules/core.toml)" in p
        for p in problems
    )
    assert any(
        "pack name 'core' already used by incidentlog/rules/core.toml" in p for p in problems
    )


def test_unreadable_inputs(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.toml", "[pack\nname=")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    problems = check_rules([broken, empty_dir, tmp_path / "missing.toml"])
    assert any(p.startswith(f"{broken}: not valid TOML") for p in problems)
    assert f"{empty_dir}: directory holds no *.toml rule pack" in problems
    assert f"{tmp_path / 'missing.toml'}: no such file or directory" in problems


def test_rules_check_command(tmp_path: Path) -> None:
    problems, ruleset = check_rule_packs([write(tmp_path, "mine.toml", GOOD)])
    assert problems == [] and ruleset is not None and len(ruleset) > 0
    problems, ruleset = check_rule_packs([write(tmp_path, "bad.toml", BAD)])
    assert ruleset is None
    assert problems == list(check_rules([tmp_path / "bad.toml"])) and problems


def test_a_copy_of_the_builtin_packs_is_read_once(tmp_path: Path) -> None:
    """`rules check incidentlog/rules` (the source checkout's packs) checks them, it does
    not report each of their rules as a duplicate of itself."""
    packaged = Path(incidentlog.__file__).parent / "rules"
    copy = tmp_path / "rules"
    shutil.copytree(packaged, copy)
    assert check_rules([copy]) == []
    assert len(load_rules([copy])) == len(load_rules())
    # an edited copy is a pack of its own: its ids clash with the built-ins'
    core = copy / "core.toml"
    core.write_text(core.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert any("duplicate id" in p for p in check_rules([copy]))


def test_parsed_packs_are_kept_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load reads the cache entry (no TOML parsed, no regex checked) and
    gives the same rules; a changed pack is a new entry; a broken pack is never kept."""
    import tomllib

    from incidentlog.detect import rules as rules_module

    monkeypatch.setenv("INCIDENTLOG_CACHE", str(tmp_path / "cache"))
    pack = write(tmp_path, "mine.toml", GOOD)
    first = load_rules([pack])
    entries = list((tmp_path / "cache").glob("rule-packs-*"))
    assert len(entries) == 1

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    with monkeypatch.context() as patched:
        patched.setattr(tomllib, "loads", no_parsing)
        patched.setattr(rules_module, "_check_at_once", no_parsing)
        again = load_rules([pack])
    assert again == first

    write(tmp_path, "mine.toml", GOOD.replace("curl-missing", "curl-gone"))
    changed = load_rules([pack])
    assert "mine.curl-gone" in [r.id for r in changed.rules]
    assert [e.name for e in (tmp_path / "cache").glob("rule-packs-*")] != [entries[0].name]

    broken = write(tmp_path, "broken.toml", "this is = = not toml")
    for _ in range(2):  # reported every time: a problem is never read from the cache
        with pytest.raises(RuleError, match="not valid TOML"):
            load_rules([broken])


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("INCIDENTLOG_CACHE", str(blocked / "cache"))
    assert load_rules() == load_rules()
