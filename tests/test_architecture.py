"""The layers of ARCHITECTURE.md: no module imports a layer above its own.

Every `import incidentlog.…` in the package (at module level, inside
functions, or for type checking) is checked against the table, so a model
that starts rendering Markdown, or an ingest step that reaches for the
incident model, fails here before it becomes a habit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import incidentlog

PACKAGE = Path(incidentlog.__file__).parent
LAYERS = {
    "base": ("errors", "schema", "timespec", "redact", "text", "progress", "usercache"),
    "input": ("ingest", "store", "lake", "topology", "detect.rules"),
    "evidence": ("sources",),
    "analysis": ("detect", "patterns", "search", "follow"),
    "models": ("incident", "digest"),
    "view": ("render",),
    "live": ("live",),
    "commands": ("commands", "cli", "__main__"),
}
ORDER = list(LAYERS)
"""Each layer may import itself and the layers before it. `detect.rules` (rule
packs read from TOML) is input: the evidence loader loads the `--rules` packs."""


def _layer(module: str) -> str:
    name = module.removeprefix("incidentlog.")
    best = ("", "")
    for layer, names in LAYERS.items():
        for prefix in names:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (layer, prefix)
    assert best[0], f"{module}: not in any layer of ARCHITECTURE.md"
    return best[0]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1:
            found[".".join(parts)] = path
    return found


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m.startswith("incidentlog.")}


def test_every_module_has_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for module, path in sorted(_modules().items()):
        mine = ORDER.index(_layer(module))
        for imported in sorted(_imports(path)):
            theirs = ORDER.index(_layer(imported))
            if theirs > mine:
                wrong.append(f"{module} ({ORDER[mine]}) imports {imported} ({ORDER[theirs]})")
    assert not wrong, "\n".join(wrong)
