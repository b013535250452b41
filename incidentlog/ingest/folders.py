"""Evidence folders: what people collect during an incident, read as they collect it.

A folder given as an input is walked (hidden files and folders left out, a
few levels deep): every file is sniffed and used when incidentlog
understands it — compose logs, json-file logs (also rotated `*.gz`), docker
events, inspect and ps output, compose files (topology) — and every other
file is listed once with why it was skipped (a README, an image, a `.env`).
Plain text is read as a log only when it is named like one (`*.log`,
`*.out`, `api.txt`…); give such a file explicitly to read it anyway. Files
given explicitly are always read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from incidentlog.errors import InputError
from incidentlog.ingest.lines import STDIN, open_input
from incidentlog.ingest.sessions import PROMPT
from incidentlog.ingest.sniff import SNIFF_BYTES, InputFormat, looks_binary, sniff_format
from incidentlog.topology import compose_files_in, is_compose_file, looks_like_compose

__all__ = ["MAX_DEPTH", "MAX_FILES", "Expanded", "expand_inputs"]

MAX_DEPTH: Final = 4
"""Folders below an evidence folder read this deep."""
MAX_FILES: Final = 2000
"""Files of one evidence folder looked at, at most (the rest is noted)."""
_DOCUMENTS: Final = frozenset(
    {".md", ".markdown", ".rst", ".adoc", ".html", ".htm", ".pdf", ".doc", ".docx", ".odt"}
)
_DOCUMENT_NAMES: Final = frozenset({"readme", "notes", "license", "changelog", "todo", "copying"})
_MEDIA: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico", ".mp4", ".mov", ".webm"}
)
_ARCHIVES: Final = frozenset({".zip", ".tar", ".tgz", ".xz", ".bz2", ".7z", ".rar"})
_LOG_NAME: Final = re.compile(r"(?i)(?:\.(?:log|out|err|txt)(?:\.\d+)?(?:\.gz)?$|log)")
"""Names of plain-text files that are read as logs in a folder."""


@dataclass
class Expanded:
    """The inputs a list of paths stands for."""

    inputs: list[str] = field(default_factory=list)
    """Files (or `-`) to read as logs, events, inspect or ps, in order."""
    compose: list[Path] = field(default_factory=list)
    """Compose files: topology, not logs."""
    skipped: list[str] = field(default_factory=list)
    """One line per file of a folder that was not used, with the reason."""


def _is_compose(path: Path) -> bool:
    if is_compose_file(path):
        return True
    if path.suffix.lower() not in (".yml", ".yaml"):
        return False
    try:
        with path.open("rb") as stream:
            return looks_like_compose(stream.read(SNIFF_BYTES))
    except OSError:
        return False


def _why_not(path: Path) -> str | None:
    """Why a file of an evidence folder is not read (None: read it)."""
    suffix = path.suffix.lower()
    if suffix in _DOCUMENTS or path.stem.lower() in _DOCUMENT_NAMES:
        return "a document, not evidence"
    if suffix in _MEDIA:
        return "an image or video"
    if suffix in _ARCHIVES:
        return "an archive (unpack it first)"
    if path.name == ".env" or suffix == ".env":
        return "an environment file (it may hold secrets; not read)"
    if suffix in (".yml", ".yaml"):
        return "YAML, but not a compose file"
    try:
        stream = open_input(str(path))
        try:
            head = stream.read(SNIFF_BYTES)
        finally:
            stream.close()
    except (InputError, OSError, EOFError) as exc:
        return f"cannot read it ({exc})"
    if not head.strip():
        return "empty"
    if looks_binary(head):
        return "binary data"
    if PROMPT.search(head):
        return None  # a pasted terminal session: its sections are read (sessions.py)
    fmt = sniff_format(head)
    if fmt is None:
        return "not a format incidentlog reads"
    if fmt is InputFormat.RAW and not _LOG_NAME.search(path.name):
        return "plain text not named like a log (give it explicitly to read it)"
    return None


def _walk(folder: Path, out: Expanded) -> None:
    files: list[Path] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") and part != ".env" for part in relative.parts):
            continue
        if len(relative.parts) > MAX_DEPTH or not path.is_file():
            continue
        files.append(path)
    if len(files) > MAX_FILES:
        out.skipped.append(f"{folder}: {len(files) - MAX_FILES} more files not looked at")
        files = files[:MAX_FILES]
    if not files:
        out.skipped.append(f"{folder}: an empty folder")
    compose = [p for p in files if _is_compose(p)]
    for parent in sorted({p.parent for p in compose}):
        used, others = compose_files_in(parent)  # base and override, as compose reads them
        unnamed = [p for p in compose if p.parent == parent and p not in used and p not in others]
        out.compose.extend([*used, *unnamed] if used or unnamed else others[:1])
        out.skipped.extend(
            f"{p}: a compose file compose would not read by default (give it to merge it)"
            for p in others
            if p not in out.compose
        )
    for path in files:
        if path in compose:
            continue
        reason = _why_not(path)
        if reason is None:
            out.inputs.append(str(path))
        else:
            out.skipped.append(f"{path}: {reason}")


def expand_inputs(paths: Sequence[str | Path]) -> Expanded:
    """Folders walked, compose files set apart; other paths kept as given."""
    out = Expanded()
    for given in paths:
        text = str(given)
        path = Path(text)
        if text == STDIN:
            out.inputs.append(text)
        elif path.is_dir():
            _walk(path, out)
        elif path.is_file() and _is_compose(path):
            out.compose.append(path)
        else:
            out.inputs.append(text)
    return out
