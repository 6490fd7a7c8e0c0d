"""What the `workbench` command lines share: printing, argument types and the import path.

`out` and `err` pass everything through secret redaction and show control characters as visible
escapes, so a terminal never acts on text from a task, an observation or a model. The argument
types fail with one line that says what is valid.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from .safety.redact import redact
from .safety.text import terminal_safe


def out(text: str = "") -> None:
    print(terminal_safe(redact(text)), flush=True)


def err(text: str) -> None:
    print(terminal_safe(redact(text)), file=sys.stderr, flush=True)


def importable_cwd() -> None:
    """Let `module:attr` specs find modules in the current folder, as `python -m` does."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


# --- argument types: each error is one line that says what is valid --------------------------------
def _number(kind: Callable[[str], Any], low: float, what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


positive_int = _number(int, 1, "a positive integer")
non_negative_float = _number(float, 0, "a non-negative number")


def rounds(text: str) -> int | str:
    """Search rounds: a positive integer or `terminal`."""
    if text == "terminal":
        return text
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'terminal', got {text!r}") from None


def fraction(text: str) -> float:
    value = _number(float, 0, "a number from 0 to 1")(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value
