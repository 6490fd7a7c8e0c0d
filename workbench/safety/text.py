"""Text that enters the workbench is valid Unicode that encodes as UTF-8.

A lone surrogate (`os.fsdecode(b"report\\xff.txt")` gives `"report\\udcff.txt"`; a provider's JSON
may hold `"caf\\ud800e"`) cannot be encoded: SQLite, the HTTP client and the JSON writers all raise
on it. `valid_text` replaces each surrogate code point with U+FFFD (the replacement character) at the
boundaries where text comes in (env observations and info, model answers, user edits), so the run
tree, the store and every prompt only ever hold text that encodes.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the same object when there is none)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)


def valid_obj(obj: Any) -> Any:
    """A JSON-like object with `valid_text` applied to every string (keys too); others unchanged."""
    if isinstance(obj, str):
        return valid_text(obj)
    if isinstance(obj, dict):
        return {valid_text(k) if isinstance(k, str) else k: valid_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [valid_obj(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(valid_obj(v) for v in obj)
    return obj


# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides/isolates that reorder
# what a terminal shows (a task `\x1b]0;pwned\x07` would retitle the terminal; `\u202e` reverses text)
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every control character a terminal would act on shown as a visible `\\uXXXX`
    (newlines and tabs kept). Inside a JSON string the escape decodes back to the same character."""
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
