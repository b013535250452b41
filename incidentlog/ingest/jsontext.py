"""JSON documents from inputs, read without letting their shape crash a reader.

Python's JSON parser recurses once per nesting level: a hostile or broken
document nested a few thousand levels deep raises RecursionError, which no
caller expects. `loads` turns it into the JSONDecodeError every caller
already handles (a rejected line, an invalid document).
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str) -> Any:
    """`json.loads(text)`; nesting too deep to parse is a JSONDecodeError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text[:80], 0) from None
