"""The one Jinja environment: the user's `--template DIR` first, then the built-ins.

Built-in templates ship inside the wheel (`incidentlog/templates/`), or are
the checkout's top-level `templates/` in an editable install. Undefined
values are errors (StrictUndefined), HTML is autoescaped, and every template
problem becomes one `TemplateError` line naming the file. What a template
renders never carries a raw control character: a value that went through no
filter is shown visibly too (`redact.visible`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2

from incidentlog.errors import TemplateError
from incidentlog.redact import one_line, redact, shell_word, visible
from incidentlog.render.markdown import md_cell, md_code, md_fence, md_text
from incidentlog.text import format_duration, plural

__all__ = ["FILTERS", "builtin_templates", "render_template", "template_environment"]

PROBE_TEMPLATE: Final = "report.md.j2"
"""A built-in template whose presence tells that a folder holds the built-ins."""

FILTERS: Final[Mapping[str, Callable[..., Any]]] = {
    "md": md_text,
    "code": md_code,
    "cell": md_cell,
    "fence": md_fence,
    "duration": format_duration,
    "plural": plural,
    "visible": visible,
    "one_line": one_line,
    "shell": shell_word,
    "redact": redact,
}
"""Filters every template may use: untrusted text made safe (`md`, `code`, `cell`, `fence`;
`visible`/`one_line` show control characters as `^[`; `shell` quotes a shell word;
`redact` masks secrets), counts and durations."""


def builtin_templates() -> Path:
    """The built-in templates: inside the installed package, else the checkout's `templates/`."""
    packaged = resources.files("incidentlog") / "templates"
    if packaged.is_dir() and (packaged / PROBE_TEMPLATE).is_file():
        return Path(str(packaged))
    import incidentlog

    checkout = Path(incidentlog.__file__).resolve().parent.parent / "templates"
    if (checkout / PROBE_TEMPLATE).is_file():
        return checkout
    raise TemplateError(f"the built-in templates are missing (looked in {packaged} and {checkout})")


def template_environment(
    template_dir: Path | None = None,
    *,
    html: bool = False,
    filters: Mapping[str, Callable[..., Any]] | None = None,
) -> jinja2.Environment:
    """ChoiceLoader (user dir, then built-ins, also as `builtin/…`), StrictUndefined,
    autoescape for HTML, the shared `FILTERS` plus the view's own."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise TemplateError(f"--template {template_dir}: not a directory")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    builtin = jinja2.FileSystemLoader(str(builtin_templates()))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"builtin": builtin}))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_compiled_templates(html),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters.update(filters or {})
    return env


def _compiled_templates(html: bool) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user cache (`incidentlog.usercache`; Jinja checks
    each entry against its template's source): compiling the report's templates costs
    every report and digest 70-80 ms. One folder per environment whose settings change
    the compiled code (autoescape), so HTML never runs a Markdown compilation."""
    from incidentlog.usercache import cache_dir

    folder = cache_dir() / f"templates-{jinja2.__version__}-{'html' if html else 'text'}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # no cache, same answer
        return None
    return _QuietBytecodeCache(str(folder))


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A cache entry that cannot be read or written is no entry (the template is
    compiled), never an error."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged entry (Jinja checks magic and checksum itself)
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def render_template(env: jinja2.Environment, name: str, model: str, **context: Any) -> str:
    """`name` rendered with `context`; template problems as one TemplateError line.

    `model` names what the templates receive (`incident model`, `digest`), for
    the message when a template asks for a value it does not have.
    """
    try:
        return visible(str(env.get_template(name).render(**context)))
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or exc.name or name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{name}: {exc.message} (the {model} has no such value)") from None
