"""Rule packs: TOML read with `tomllib`, validated into frozen dataclasses.

Every problem in every pack is gathered and reported at once (file, rule id,
what is wrong, what is allowed) as one `RuleError`; a pack is never half
loaded. Regexes are checked with Polars itself because Polars (Rust `regex`)
is what runs them: look-arounds and backreferences are rejected here rather
than at detection time.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeVar

import polars as pl

from incidentlog.errors import RuleError
from incidentlog.schema import Category, EventAction, HealthStatus, Level, Severity

__all__ = [
    "ENGINE_FIELDS",
    "Fix",
    "Rule",
    "RuleSet",
    "Source",
    "When",
    "check_rules",
    "load_rules",
    "pattern_groups",
    "rule_sources_key",
]


class Source(StrEnum):
    """What a rule reads: log messages, health-probe output, or lifecycle rows."""

    LOGS = "logs"
    PROBE = "probe"
    EVENTS = "events"
    INFERRED = "inferred"
    """Matched by one of the engine's inference steps (`infer`), not by patterns."""


INFERENCES: Mapping[str, str] = {
    "banner-repeats": "a container's first line (its start-up banner) repeats after errors",
    "server-errors": "a container's access log answers a share of its requests with a 5xx",
    "target-errors": "the error records of a service others fail to reach, when no rule knew them",
    "unrecognized-errors": "error records that repeat, when nothing else lasting was found",
}
"""The engine's inference steps an `inferred` rule can name in `infer`."""


class Fix(StrEnum):
    """The kind of action a finding implies, so the action plan can group commands."""

    REBUILD_IMAGE = "rebuild-image"
    RESTART = "restart"
    CHANGE_CONFIG = "change-config"
    CHANGE_CODE = "change-code"
    INVESTIGATE = "investigate"


ENGINE_FIELDS: Mapping[Source, frozenset[str]] = {
    Source.LOGS: frozenset({"file", "line"}),
    Source.PROBE: frozenset({"file", "line", "streak"}),
    Source.EVENTS: frozenset(
        {"exit_code", "restarts", "times", "exit_codes", "interval", "streak", "closed", "signal"}
    ),
    Source.INFERRED: frozenset(
        {
            "restarts",
            "times",
            "banner",
            "interval",
            "closed",
            "status",
            "reason",
            "answered",
            "next",
            "errors",
            "since",
        }
    ),
}
"""Fields the engine adds itself, usable as placeholders besides capture groups."""

_E = TypeVar("_E", bound=StrEnum)

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_.-]*)+$")
_PACK_KEYS = frozenset({"name", "description"})
_RULE_KEYS = frozenset(
    {
        "id",
        "category",
        "severity",
        "source",
        "any",
        "patterns",
        "ignore_case",
        "min_level",
        "exclude",
        "subject",
        "title",
        "remediation",
        "fix",
        "when",
        "infer",
    }
)
_WHEN_KEYS = frozenset({"action", "exit_code", "exit_code_not", "status", "oom"})


@dataclass(frozen=True)
class When:
    """Conditions on an events row; every given condition must hold."""

    action: tuple[EventAction, ...] = ()
    exit_code: tuple[int, ...] = ()
    exit_code_not: tuple[int, ...] = ()
    status: tuple[HealthStatus, ...] = ()
    oom: bool | None = None
    """Extension: true = an oom event for the same container within 60 s (or
    OOMKilled in its inspect state) accompanies the row; false = none does."""


@dataclass(frozen=True)
class Rule:
    """One failure signature; see incidentlog/rules/README.md for each key."""

    id: str
    pack: str
    path: str
    category: Category
    severity: Severity
    title: str
    remediation: str
    fix: Fix
    source: Source = Source.LOGS
    any: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    ignore_case: bool = False
    min_level: Level | None = None
    exclude: tuple[str, ...] = ()
    subject: str | None = None
    when: When | None = None
    infer: str | None = None
    """For source `inferred`: the inference step that matches it (INFERENCES)."""
    groups: tuple[str, ...] = field(default=())
    """Named capture groups of `patterns`, in first-seen order."""


@dataclass(frozen=True)
class RuleSet:
    """Validated rules of every loaded pack, in load order (built-ins first)."""

    rules: tuple[Rule, ...]
    packs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.rules)

    def by_source(self, *sources: Source) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.source in sources)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(values)


_CHECKED: dict[str, list[str]] = {}
"""Regexes known to be valid (as Polars compiles them) -> their named groups."""


def pattern_groups(pattern: str) -> list[str]:
    """Named groups of a Rust-syntax regex, asking Polars (raises on invalid syntax)."""
    if pattern in _CHECKED:
        return _CHECKED[pattern]
    fields = pl.Series([""], dtype=pl.String).str.extract_groups(pattern).struct.fields
    return [f for f in fields if not f.isdigit()]


def _check_at_once(patterns: Iterable[str]) -> None:
    """Compile many regexes in one Polars query (its schema names each one's
    groups) and remember them: one query per regex cost 1 s for the built-in
    packs, on every command that detects. When one is invalid, nothing is
    remembered and each is then checked alone, which names it."""
    todo = sorted({p for p in patterns if p not in _CHECKED})
    if not todo:
        return
    frame = pl.LazyFrame({"s": [""]}, schema={"s": pl.String})
    groups = (pl.col("s").str.extract_groups(p).alias(str(i)) for i, p in enumerate(todo))
    try:
        schema = frame.select(groups).collect_schema()
    except pl.exceptions.PolarsError:
        return
    for i, pattern in enumerate(todo):
        fields = schema[str(i)].fields  # type: ignore[attr-defined]
        _CHECKED[pattern] = [f.name for f in fields if not f.name.isdigit()]


def _raw_patterns(data: dict[str, Any]) -> Iterator[str]:
    """The regexes of a parsed pack as written (and flagged, for ignore_case rules)."""
    raw_rules = data.get("rules")
    for raw in raw_rules if isinstance(raw_rules, list) else []:
        if not isinstance(raw, dict):
            continue
        for key in ("patterns", "exclude"):
            value = raw.get(key)
            for pattern in [value] if isinstance(value, str) else value or []:
                if isinstance(pattern, str):
                    yield pattern
                    if raw.get("ignore_case") is True:
                        yield f"(?i){pattern}"


def _regex_problem(pattern: str, ignore_case: bool) -> str | None:
    flagged = f"(?i){pattern}" if ignore_case else pattern
    if flagged in _CHECKED:
        return None
    try:
        pl.Series([""], dtype=pl.String).str.contains(flagged)
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
        reason = lines[0].removeprefix("error:").strip() if lines else str(exc).splitlines()[0]
        return f"invalid regex {pattern!r}: {reason} (Rust regex syntax: no look-around, no backreferences)"
    return None


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.seen: dict[str, str] = {}
        """Rule id -> file of its first definition (valid or not)."""

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


def _str_list(value: Any, key: str, where: str, out: _Collector) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        out.add(where, f"`{key}` must be a list of non-empty strings")
        return ()
    return tuple(value)


def _enum_value(enum: type[_E], value: Any, key: str, where: str, out: _Collector) -> _E | None:
    try:
        return enum(value)
    except ValueError:
        out.add(
            where,
            f"unknown {key} {value!r} (allowed: {_allowed(m.value for m in enum)})",
        )
        return None


def _parse_when(value: Any, where: str, out: _Collector) -> When | None:
    if not isinstance(value, dict):
        out.add(where, '`when` must be a table such as { action = ["die"], exit_code = [127] }')
        return None
    for key in sorted(set(value) - _WHEN_KEYS):
        out.add(where, f"unknown key when.{key} (allowed: {_allowed(sorted(_WHEN_KEYS))})")
    actions: list[EventAction] = []
    for a in _str_list(value.get("action"), "when.action", where, out):
        act = _enum_value(EventAction, a, "when.action", where, out)
        if act is not None:
            actions.append(act)
    statuses: list[HealthStatus] = []
    for s in _str_list(value.get("status"), "when.status", where, out):
        st = _enum_value(HealthStatus, s, "when.status", where, out)
        if st is not None:
            statuses.append(st)
    codes: dict[str, tuple[int, ...]] = {}
    for key in ("exit_code", "exit_code_not"):
        raw = value.get(key, [])
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = [raw]
        if not isinstance(raw, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in raw
        ):
            out.add(where, f"`when.{key}` must be a list of integers")
            raw = []
        codes[key] = tuple(raw)
    oom = value.get("oom")
    if oom is not None and not isinstance(oom, bool):
        out.add(where, "`when.oom` must be true or false")
        oom = None
    when = When(tuple(actions), codes["exit_code"], codes["exit_code_not"], tuple(statuses), oom)
    if when == When():
        out.add(where, "`when` names no condition (action, exit_code, exit_code_not, status, oom)")
    return when


@dataclass
class _RuleReader:
    """Reads one `[[rules]]` table, adding every problem to `out` (none is fatal)."""

    raw: dict[str, Any]
    where: str
    out: _Collector

    def problem(self, message: str) -> None:
        self.out.add(self.where, message)

    def rule_id(self, index: int, path: str) -> str:
        rid = self.raw.get("id")
        if not isinstance(rid, str) or not rid:
            self.problem("missing `id` (a unique `pack.slug` string)")
            return f"<rules[{index}]>"
        if not _RULE_ID.match(rid):
            self.problem(f"id {rid!r} is not of the form `pack.slug` (lowercase, digits, - _ .)")
        elif rid in self.out.seen:
            self.problem(f"duplicate id (first defined in {self.out.seen[rid]})")
        else:
            self.out.seen[rid] = path
        return rid

    def unknown_keys(self) -> None:
        for key in sorted(set(self.raw) - _RULE_KEYS):
            self.problem(f"unknown key `{key}` (allowed: {_allowed(sorted(_RULE_KEYS))})")

    def required_str(self, key: str) -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(f"missing or empty `{key}`")
            return ""
        return value

    def enum(self, enum: type[_E], key: str, default: Any = None) -> _E | None:
        return _enum_value(enum, self.raw.get(key, default), key, self.where, self.out)

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self.problem(f"`{key}` must be true or false")
            return False
        return value

    def min_level(self) -> Level | None:
        if "min_level" not in self.raw:
            return None
        level = self.enum(Level, "min_level")
        if level is Level.UNKNOWN:
            self.problem("min_level `unknown` filters nothing; use trace..fatal")
        return level

    def strings(self, key: str) -> tuple[str, ...]:
        return _str_list(self.raw.get(key), key, self.where, self.out)

    def groups(
        self, patterns: tuple[str, ...], exclude: tuple[str, ...], ignore_case: bool
    ) -> list[str]:
        """The named groups of `patterns` (every regex checked, `exclude` too)."""
        groups: list[str] = []
        for pattern in (*patterns, *exclude):
            problem = _regex_problem(pattern, ignore_case)
            if problem is not None:
                self.problem(problem)
            elif pattern in patterns:
                groups.extend(g for g in pattern_groups(pattern) if g not in groups)
        return groups

    def subject(self, groups: list[str]) -> str | None:
        subject = self.raw.get("subject")
        if subject is not None and (not isinstance(subject, str) or subject not in groups):
            self.problem(
                f"subject {subject!r} names no capture group of `patterns` "
                f"(groups: {_allowed(groups) or 'none'})"
            )
        return subject

    def infer(self, source: Source | None) -> str | None:
        value = self.raw.get("infer")
        if source is not Source.INFERRED:
            if value is not None:
                self.problem('`infer` applies only to source = "inferred"')
            return None
        if value not in INFERENCES:
            self.problem(f"`infer` must name an inference (allowed: {_allowed(INFERENCES)})")
            return None
        return str(value)

    def when(self, source: Source | None, patterns: tuple[str, ...]) -> When | None:
        if source is Source.INFERRED:
            if "when" in self.raw or patterns:
                self.problem('source "inferred" takes neither `when` nor `patterns`')
            return None
        if source is Source.EVENTS:
            if "when" in self.raw:
                return _parse_when(self.raw["when"], self.where, self.out)
            self.problem("source `events` needs `when` (action, exit_code, exit_code_not, status)")
            return None
        if "when" in self.raw:
            self.problem('`when` applies only to source = "events"')
        if not patterns:
            self.problem("`patterns` must hold at least one regex")
        return None

    def placeholders(self, source: Source | None, groups: list[str]) -> None:
        """Every `{name}` in title and remediation must be a field the rule can have."""
        if source is None:
            return
        known = set(groups) | ENGINE_FIELDS[source] | {"service"}
        for key in ("title", "remediation"):
            text = self.raw.get(key)
            if not isinstance(text, str):
                continue
            for name in _PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")):
                if name not in known:
                    self.problem(
                        f"{key} placeholder {{{name}}} names no capture group "
                        f"(allowed: {_allowed(sorted(known))})"
                    )


def _parse_rule(raw: Any, pack: str, path: str, index: int, out: _Collector) -> Rule | None:
    if not isinstance(raw, dict):
        out.add(f"{path}: rules[{index}]", "each [[rules]] entry must be a table")
        return None
    rid = raw.get("id")
    where = f"{path}: rule {rid}" if isinstance(rid, str) and rid else f"{path}: rules[{index}]"
    before = len(out.problems)
    reader = _RuleReader(raw, where, out)
    rule_id = reader.rule_id(index, path)
    reader.unknown_keys()
    category = reader.enum(Category, "category")
    severity = reader.enum(Severity, "severity")
    fix = reader.enum(Fix, "fix")
    source = reader.enum(Source, "source", "logs")
    title = reader.required_str("title")
    remediation = reader.required_str("remediation")
    if "\n" in title:
        reader.problem("`title` must be one line")
    ignore_case = reader.flag("ignore_case")
    min_level = reader.min_level()
    literals = reader.strings("any")
    patterns = reader.strings("patterns")
    exclude = reader.strings("exclude")
    groups = reader.groups(patterns, exclude, ignore_case)
    subject = reader.subject(groups)
    when = reader.when(source, patterns)
    infer = reader.infer(source)
    reader.placeholders(source, groups)
    if len(out.problems) > before or None in (category, severity, fix, source):
        return None
    assert category is not None and severity is not None and fix is not None
    assert source is not None
    return Rule(
        id=rule_id,
        pack=pack,
        path=path,
        category=category,
        severity=severity,
        title=title,
        remediation=remediation,
        fix=fix,
        source=source,
        any=literals,
        patterns=patterns,
        ignore_case=ignore_case,
        min_level=min_level,
        exclude=exclude,
        subject=subject,
        when=when,
        infer=infer,
        groups=tuple(groups),
    )


def _read_pack(text: str, path: str, out: _Collector) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.add(path, f"not valid TOML: {exc}")
        return None


def _parse_pack(data: dict[str, Any], path: str, out: _Collector) -> tuple[str, list[Rule]]:
    for key in sorted(set(data) - {"pack", "rules"}):
        out.add(path, f"unknown top-level key `{key}` (allowed: pack, rules)")
    pack = data.get("pack")
    name = path
    if not isinstance(pack, dict) or not isinstance(pack.get("name"), str) or not pack["name"]:
        out.add(path, "missing [pack] table with a `name`")
    else:
        name = pack["name"]
        for key in sorted(set(pack) - _PACK_KEYS):
            out.add(path, f"unknown key pack.{key} (allowed: {_allowed(sorted(_PACK_KEYS))})")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        out.add(path, "`rules` must be an array of tables ([[rules]])")
        return name, []
    rules = [_parse_rule(r, name, path, i, out) for i, r in enumerate(raw_rules)]
    return name, [r for r in rules if r is not None]


def _builtin_sources() -> list[tuple[str, str]]:
    root = resources.files("incidentlog") / "rules"
    found = [
        (f"incidentlog/rules/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    ]
    return sorted(found)


def _user_sources(
    paths: Sequence[Path | str], out: _Collector, builtin: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """The packs at `paths`; a copy of one of the `builtin` packs read with them (`rules
    check incidentlog/rules`, `--rules` naming the packaged folder) is that pack, read once."""
    known = {body for _, body in builtin}
    found: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.toml"))
            if not files:
                out.add(str(path), "directory holds no *.toml rule pack")
        elif path.is_file():
            files = [path]
        else:
            out.add(str(path), "no such file or directory")
            continue
        for file in files:
            try:
                body = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                out.add(str(file), f"cannot read rule pack: {exc}")
                continue
            if body not in known:
                found.append((str(file), body))
    return found


CONFIG_ENV = "INCIDENTLOG_CONFIG"
RULES_ENV = "INCIDENTLOG_RULES"


def config_path() -> Path:
    """`$INCIDENTLOG_CONFIG`, else `config.toml` in the user's config directory."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("incidentlog")) / "config.toml"


def configured_rule_paths(out: _Collector) -> list[Path]:
    """User packs that load by themselves: the config file's `[rules] packs`,
    a `rules/` folder beside it, and `$INCIDENTLOG_RULES` (os.pathsep-separated).

    A config file that exists but is invalid is an error, never ignored.
    """
    paths: list[Path] = []
    config = config_path()
    if config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            out.add(str(config), f"invalid config file: {exc}")
            data = {}
        packs = (
            data.get("rules", {}).get("packs", []) if isinstance(data.get("rules"), dict) else None
        )
        if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
            out.add(str(config), "[rules] packs must be a list of paths (strings)")
        else:
            paths += [config.parent / p for p in packs]
    folder = config.parent / "rules"
    if folder.is_dir() and any(folder.glob("*.toml")):
        paths.append(folder)
    paths += [Path(p) for p in os.environ.get(RULES_ENV, "").split(os.pathsep) if p]
    return paths


_PACKS_CACHE: Final = "rule-packs-1"
"""The user cache's entries of parsed and checked packs (the number is the format's)."""


def _read_packs(
    sources: list[tuple[str, str]], out: _Collector
) -> list[tuple[str, dict[str, Any] | None]]:
    """Each pack's TOML, parsed, with its regexes checked: kept in the user's cache
    (`incidentlog.usercache`) when every pack was sound, for the same texts and the
    same Polars (whose regex engine checked them). Parsing and checking the built-in
    packs costs every command that detects 0.3-0.4 s; reading the entry, 10 ms."""
    import json

    from incidentlog.usercache import entry_name, read_entry, write_entry

    name = entry_name(_PACKS_CACHE, pl.__version__, *(f"{p}\0{t}" for p, t in sources))
    kept = read_entry(name)
    if kept is not None:
        try:
            entry = json.loads(kept)
            packs, checked = entry["packs"], entry["checked"]
            if len(packs) == len(sources) and isinstance(checked, dict):
                _CHECKED.update(checked)
                return [(path, data) for (path, _), data in zip(sources, packs, strict=True)]
        except (ValueError, KeyError, TypeError):
            pass
    before = len(out.problems)
    read = [(path, _read_pack(text, path, out)) for path, text in sources]
    patterns = {p for _, data in read if data is not None for p in _raw_patterns(data)}
    _check_at_once(patterns)
    if len(out.problems) == before and all(p in _CHECKED for p in patterns):
        try:
            text = json.dumps(
                {
                    "packs": [data for _, data in read],
                    "checked": {p: _CHECKED[p] for p in sorted(patterns)},
                }
            )
        except (TypeError, ValueError):  # (a TOML date: not JSON, not cached)
            return read
        write_entry(name, text, replaces=_PACKS_CACHE)
    return read


def _build(sources: list[tuple[str, str]], out: _Collector) -> RuleSet:
    rules: list[Rule] = []
    packs: list[str] = []
    pack_files: dict[str, str] = {}
    read = _read_packs(sources, out)
    for path, data in read:
        name, parsed = _parse_pack(data, path, out) if data is not None else (path, [])
        if name in pack_files:
            out.add(path, f"pack name {name!r} already used by {pack_files[name]}")
        pack_files[name] = path
        packs.append(name)
        rules.extend(parsed)
    return RuleSet(tuple(rules), tuple(packs))


def load_rules(extra_paths: Sequence[Path | str] = (), *, builtin: bool = True) -> RuleSet:
    """Built-in packs plus user packs (files or directories of *.toml).

    Raises `RuleError` listing every problem of every pack at once.
    """
    out = _Collector()
    sources = _builtin_sources() if builtin else []
    configured = configured_rule_paths(out) if builtin else []
    sources += _user_sources([*configured, *extra_paths], out, sources)
    ruleset = _build(sources, out)
    if out.problems:
        count = len(out.problems)
        raise RuleError(
            f"{count} problem{'s' if count > 1 else ''} in rule packs: " + "; ".join(out.problems)
        )
    return ruleset


def rule_sources_key(extra_paths: Sequence[Path | str] = (), *, builtin: bool = True) -> str:
    """A hash of the text of every pack `load_rules` would read, without parsing or
    compiling them: the key of caches of detection results (the digest's)."""
    import hashlib

    out = _Collector()
    sources = _builtin_sources() if builtin else []
    configured = configured_rule_paths(out) if builtin else []
    sources += _user_sources([*configured, *extra_paths], out, sources)
    text = "\0".join([*(f"{path}\0{body}" for path, body in sources), *out.problems])
    return hashlib.sha256(text.encode()).hexdigest()


def check_rules(paths: Sequence[Path | str] = ()) -> list[str]:
    """Every problem in the given packs (checked together with the built-ins), or []."""
    out = _Collector()
    builtin = _builtin_sources()
    sources = builtin + _user_sources(paths, out, builtin)
    _build(sources, out)
    return out.problems
