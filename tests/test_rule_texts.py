"""The human texts of every built-in rule are well-formed.

A rule's title and remediation reach the on-call engineer as they are written,
with placeholders filled from what the patterns captured. A placeholder the rule
cannot fill reads "the data_version" in the report; an odd backtick turns the
rest of the advice into code; a command that is not valid shell cannot be pasted.
These checks run over every rule of every built-in pack, so a new rule is held to
them as soon as it is added.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import pytest

from incidentlog.detect.rules import ENGINE_FIELDS, Rule, Source, load_rules, pattern_groups
from incidentlog.detect.summary import FALLBACKS

RULES: tuple[Rule, ...] = load_rules().rules
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_COMPOSE_COMMANDS = frozenset(
    {
        "build",
        "config",
        "cp",
        "create",
        "down",
        "events",
        "exec",
        "images",
        "kill",
        "logs",
        "ls",
        "pause",
        "port",
        "ps",
        "pull",
        "push",
        "restart",
        "rm",
        "run",
        "start",
        "stop",
        "top",
        "unpause",
        "up",
        "version",
        "wait",
        "watch",
        "stats",
        "attach",
    }
)
"""`docker compose` subcommands (v2)."""


def _unescaped(text: str) -> str:
    """The text with `{{`/`}}` (literal braces) taken out."""
    return text.replace("{{", "").replace("}}", "")


def _texts(rule: Rule) -> Iterator[tuple[str, str]]:
    yield "title", rule.title
    yield "remediation", rule.remediation


def _ids(rules: tuple[Rule, ...]) -> list[str]:
    return [r.id for r in rules]


@pytest.mark.parametrize("rule", RULES, ids=_ids(RULES))
def test_every_placeholder_is_one_the_rule_can_fill(rule: Rule) -> None:
    known = set(rule.groups) | ENGINE_FIELDS[rule.source] | {"service"}
    for key, text in _texts(rule):
        unknown = set(_PLACEHOLDER.findall(_unescaped(text))) - known
        assert not unknown, f"{rule.id} {key}: {sorted(unknown)} (allowed: {sorted(known)})"


_TEXT_SOURCES = (Source.LOGS, Source.PROBE)


@pytest.mark.parametrize(
    "rule",
    [r for r in RULES if r.source in _TEXT_SOURCES],
    ids=_ids(tuple(r for r in RULES if r.source in _TEXT_SOURCES)),
)
def test_a_placeholder_without_fallback_is_captured_by_every_pattern(rule: Rule) -> None:
    """A capture group some patterns lack renders as "the <name>" when one of those
    matched: that reads as English for a plain word ("the exception", "the node"), not
    for a compound name ("the data_version"), which needs a neutral fallback text
    (`summary.FALLBACKS`) or a capture in every pattern."""
    used = {n for _, text in _texts(rule) for n in _PLACEHOLDER.findall(_unescaped(text))}
    compound = {n for n in used if "_" in n}
    needed = (compound & set(rule.groups)) - set(FALLBACKS) - ENGINE_FIELDS[rule.source]
    for pattern in rule.patterns:
        missing = needed - set(pattern_groups(pattern))
        assert not missing, f"{rule.id}: {sorted(missing)} not captured by {pattern!r}"


@pytest.mark.parametrize("rule", RULES, ids=_ids(RULES))
def test_backticks_and_braces_are_balanced(rule: Rule) -> None:
    for key, text in _texts(rule):
        assert text.count("`") % 2 == 0, f"{rule.id} {key}: odd number of backticks"
        stray = _PLACEHOLDER.sub("", _unescaped(text))
        assert "{" not in stray and "}" not in stray, (
            f"{rule.id} {key}: a single brace (write {{{{ and }}}} for literal braces)"
        )
        for opening, closing in ("()", "[]"):
            prose = _CODE_SPAN.sub("", text)
            assert prose.count(opening) == prose.count(closing), (
                f"{rule.id} {key}: unbalanced {opening}{closing} outside code spans"
            )


@pytest.mark.parametrize("rule", RULES, ids=_ids(RULES))
def test_sentences_end_properly(rule: Rule) -> None:
    assert rule.title == rule.title.strip() and rule.title, rule.id
    assert not rule.title.endswith((".", ":", ";", ",")), f"{rule.id}: title ends with a stop"
    assert rule.title[0].isalnum() or rule.title[0] in "{`.", rule.id
    text = rule.remediation
    assert text == text.strip(), f"{rule.id}: remediation has surrounding space"
    # (an engine field may end it: `{next}` is a sentence of its own)
    ends_with_field = any(text.endswith("{" + f + "}") for f in ENGINE_FIELDS[rule.source])
    assert text.endswith((".", ".)", "?", '."')) or ends_with_field, (
        f"{rule.id}: remediation does not end a sentence: {text[-40:]!r}"
    )
    for key, body in _texts(rule):
        assert "  " not in body, f"{rule.id} {key}: double space"
        assert not re.search(r"\s[,.;:](?:\s|$)", _CODE_SPAN.sub("x", body)), (
            f"{rule.id} {key}: space before punctuation"
        )
        assert not re.search(r"\.\.(?!\.)", _CODE_SPAN.sub("x", body)), f"{rule.id} {key}: '..'"


def _commands(rule: Rule) -> Iterator[str]:
    """The code spans of the remediation that are shell commands."""
    for span in _CODE_SPAN.findall(rule.remediation):
        if re.match(r"(?:sudo )?(?:docker|docker-compose|chown|chmod|sysctl|mkdir) ", span):
            yield span


_COMMAND_RULES = tuple(r for r in RULES if any(True for _ in _commands(r)))


@pytest.mark.parametrize("rule", _COMMAND_RULES, ids=_ids(_COMMAND_RULES))
def test_commands_are_valid_shell_words(rule: Rule) -> None:
    for command in _commands(rule):
        filled = _PLACEHOLDER.sub("x", command.replace("{{", "{").replace("}}", "}"))
        try:
            words = shlex.split(filled)
        except ValueError as e:
            pytest.fail(f"{rule.id}: `{command}` is not valid shell: {e}")
        if words[:2] == ["docker", "compose"]:
            sub = next((w for w in words[2:] if not w.startswith("-")), "")
            assert sub in _COMPOSE_COMMANDS, f"{rule.id}: `{command}`: no compose command {sub!r}"
        assert "<" not in filled.replace("<", "", 0) or re.search(r"<[\w .:/|-]+>", filled), (
            f"{rule.id}: `{command}`: a stray '<'"
        )


def test_texts_are_checked_for_every_pack() -> None:
    packs = {r.pack for r in RULES}
    assert len(packs) >= 20 and len(RULES) >= 300
