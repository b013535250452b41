"""Untrusted text made safe in Markdown, and Markdown made into HTML.

Log text, service names and probe output come from whatever the stack
printed: here they become inline text that renders as itself (`md_text`),
code spans and fences longer than any backtick run inside (`md_code`,
`md_fence`) and table cells (`md_cell`); `md_prose` marks up model prose
(words escaped, code segments as code spans). Every helper also shows control
characters visibly (`redact.visible`: `^[`, `<U+009B>`), so a report printed to
a terminal cannot drive it. `markdown_to_html` renders with raw HTML disabled,
so nothing from the logs reaches a page as markup.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Final, NewType

from incidentlog.redact import visible
from incidentlog.text import Code, Prose

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = [
    "Markdown",
    "markdown_to_html",
    "md_cell",
    "md_code",
    "md_fence",
    "md_markup",
    "md_prose",
    "md_text",
]

Markdown = NewType("Markdown", str)
"""Text that is already safe Markdown (escaped, or built by this module)."""

_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>&~])")
_CODE_SPAN: Final = re.compile(r"(`[^`\n]+`)")


def md_text(text: object) -> Markdown:
    """Untrusted text as inline Markdown that renders as itself (one line)."""
    return Markdown(_MD_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", visible(str(text)))))


def md_markup(text: object) -> Markdown:
    """Rule text with `code` spans: the spans kept, everything else escaped (one line)."""
    flat = " ".join(visible(str(text)).split())
    parts = _CODE_SPAN.split(flat)
    return Markdown("".join(p if i % 2 else md_text(p) for i, p in enumerate(parts)))


def md_prose(text: Prose) -> Markdown:
    """Prose as inline Markdown: the words escaped, each code segment a code span (one line)."""
    return Markdown(
        "".join(md_code(s.text) if isinstance(s, Code) else md_text(s) for s in text.segments)
    )


def md_code(text: object) -> Markdown:
    """Untrusted text as one inline code span, fenced longer than any backtick run inside."""
    flat = " ".join(visible(str(text)).split())
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return Markdown(f"{fence}{pad}{flat}{pad}{fence}")


def md_cell(text: object) -> Markdown:
    """Markdown (already safe inline) as one table cell: pipes escaped, one line."""
    flat = re.sub(r"\s+", " ", visible(str(text))).strip()
    return Markdown(flat.replace("|", "\\|") or " ")


def md_fence(text: str, info: str = "") -> Markdown:
    """`text` in a fenced code block whose fence is longer than any backtick run inside."""
    body = visible(text).strip("\n")
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markdown(f"{fence}{info}\n{body}\n{fence}\n")


@cache
def _markdown() -> MarkdownIt:
    """The parser, made on first use (importing it costs a Markdown report 70 ms)."""
    from markdown_it import MarkdownIt

    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable("table")
        .enable("strikethrough")
    )


def markdown_to_html(markdown: str) -> str:
    """CommonMark + GFM tables; raw HTML in the input is shown as text, never passed through."""
    return str(_markdown().render(markdown))
