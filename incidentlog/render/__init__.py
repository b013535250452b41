"""Render: the view layer. Models in, text out (Markdown, HTML, JSON, terminal text).

Escaping is a concern of this layer only: `markdown` makes untrusted text safe
in Markdown, `templates` is the one Jinja environment (user templates first,
then the built-ins), `plain` turns models into JSON-ready data. Models handed
to it hold raw facts; nothing below this layer writes Markdown.
"""
