"""User rule packs that load without --rules: the config file, its rules/ folder, and $INCIDENTLOG_RULES."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentlog.detect import load_rules
from incidentlog.errors import RuleError

PACK = """
[pack]
name = "{name}"
description = "site-specific"

[[rules]]
id = "{name}.payment-gateway-down"
category = "connection-refused"
severity = "high"
source = "logs"
any = ["payment gateway unreachable"]
patterns = ['payment gateway unreachable at (?P<host>[\\w.-]+)']
title = "payment gateway {{host}} unreachable"
remediation = "Check {{host}}."
fix = "investigate"
"""


def _pack(folder: Path, name: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(PACK.format(name=name))
    return path


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCIDENTLOG_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("INCIDENTLOG_RULES", raising=False)
    return tmp_path


def _ids() -> set[str]:
    return {rule.id for rule in load_rules().rules}


def test_config_file_packs_load_by_themselves(config_dir: Path) -> None:
    (config_dir / "packs").mkdir()
    _pack(config_dir / "packs", "site")
    (config_dir / "config.toml").write_text('[rules]\npacks = ["packs/site.toml"]\n')
    assert "site.payment-gateway-down" in _ids()


def test_rules_folder_beside_config_and_env(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config_dir / "rules").mkdir()
    _pack(config_dir / "rules", "folder")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("INCIDENTLOG_RULES", str(_pack(elsewhere, "envpack")))
    ids = _ids()
    assert {"folder.payment-gateway-down", "envpack.payment-gateway-down"} <= ids


def test_without_config_only_builtins(config_dir: Path) -> None:
    ids = _ids()
    assert ids and not any(i.startswith(("site.", "folder.", "envpack.")) for i in ids)


def test_invalid_config_is_an_error_not_ignored(config_dir: Path) -> None:
    (config_dir / "config.toml").write_text("[rules]\npacks = 3\n")
    with pytest.raises(RuleError, match=r"config\.toml: \[rules\] packs must be a list"):
        load_rules()
