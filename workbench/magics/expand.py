"""`$name` and `{expr}` in `%agent` lines: an object where an object is wanted, text elsewhere.

IPython expands `$name` / `{expr}` in a magic's line into their `str()` before the magic sees it,
which would turn an env object into the text of its repr. `%agent` opts out (`@no_var_expand`) and
does it here, in two passes over the raw line:

1. object slots (the values of `--env`, `--strategy`, `--memory`, `--tools`, `--recall`, and the SESSION of
   `adopt` and the POLICY of `memory use`) written as `$name` (a dotted name) or `{expr}` are
   evaluated in the user's namespace and replaced by a placeholder word; after parsing, the
   placeholder becomes the object itself (a str result stays a str: a name, as before);
2. everything else gets IPython's own expansion (`DollarFormatter`: `$x`, `{x}`, `$$` for a
   literal `$`), and, as in IPython, a line it cannot expand is left as written.

An undefined name or an expression that raises is a one-line `UsageError` that says which.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError
from IPython.utils.text import DollarFormatter

from .args import one_line

OBJECT_OPTIONS = ("--env", "--strategy", "--memory", "--tools", "--recall")
# commands whose positional argument at this word index (0 = the command) is an object slot
OBJECT_POSITIONALS = {("adopt",): 1, ("memory", "use"): 2}
DOLLAR_NAME = re.compile(r"^\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


@dataclass
class Expanded:
    """A line ready for the parser, and the objects its placeholders stand for."""

    line: str
    values: dict[str, Any] = field(default_factory=dict)  # placeholder -> object
    sources: dict[str, str] = field(default_factory=dict)  # placeholder -> what the user wrote

    def restore(self, text: str) -> str:
        """`text` (an error message) with each placeholder turned back into what the user wrote."""
        for key, source in self.sources.items():
            text = text.replace(key, source)
        return text

    def resolve(self, args: argparse.Namespace) -> argparse.Namespace:
        """Put the objects in place of their placeholders; `args.sources` maps each such argument
        to what the user wrote (`{"env": "$myenv"}`)."""
        sources: dict[str, str] = {}
        for attr, value in vars(args).items():
            if isinstance(value, str) and value in self.values:
                setattr(args, attr, self.values[value])
                sources[attr] = self.sources[value]
        args.sources = sources
        return args


def _skip_string(line: str, i: int) -> int:
    """The index after the Python string literal that starts at `line[i]` (a quote), or -1."""
    quote = line[i]
    end = quote * 3 if line[i : i + 3] == quote * 3 else quote
    j = i + len(end)
    while j < len(line):
        if line[j] == "\\":
            j += 2
        elif line.startswith(end, j):
            return j + len(end)
        else:
            j += 1
    return -1


def _expression_end(line: str, i: int) -> int:
    """The index after the `{...}` that starts at `line[i]`, brackets and strings balanced, or -1."""
    stack: list[str] = []
    j = i
    while 0 <= j < len(line):
        c = line[j]
        if c in "'\"":
            j = _skip_string(line, j)
            continue
        if c in _PAIRS:
            stack.append(_PAIRS[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                return -1
            if not stack:
                return j + 1
        j += 1
    return -1


def _word_end(line: str, i: int) -> int:
    """The index after the shell-style word (quotes kept in it) that starts at `line[i]`."""
    j = i
    while j < len(line) and not line[j].isspace():
        c = line[j]
        if c in "'\"":
            close = line.find(c, j + 1)
            j = len(line) if close < 0 else close + 1
        elif c == "\\":
            j += 2
        elif c == "{" and (j == i or line[j - 1] == "=") and _expression_end(line, j) > 0:
            j = _expression_end(line, j)
        else:
            j += 1
    return min(j, len(line))


def words(line: str) -> list[tuple[int, int]]:
    """(start, end) of each word of `line`; a `{expr}` word may hold spaces and quotes."""
    spans, i = [], 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        end = _word_end(line, i)
        spans.append((i, end))
        i = end
    return spans


def evaluate(source: str, what: str, namespace: Mapping[str, Any]) -> Any:
    """The value of `$name` or `{expr}` (`source`) in `namespace`; `what` names the slot in errors."""
    match = DOLLAR_NAME.match(source)
    expression = match.group(1) if match else source[1:-1].strip()
    try:
        return eval(expression, dict(namespace))  # noqa: S307 - the user's own notebook code
    except NameError as exc:
        name = getattr(exc, "name", None) or expression
        raise UsageError(
            f"{what} {source}: {name!r} is not defined in the notebook; define it first (myenv = ...)"
        ) from None
    except SyntaxError as exc:
        raise UsageError(one_line(f"{what} {source}: not a Python expression ({exc.msg})")) from None
    except Exception as exc:
        raise UsageError(one_line(f"{what} {source} raised {type(exc).__name__}: {exc}")) from None


def _is_reference(text: str) -> bool:
    return bool(DOLLAR_NAME.match(text)) or (len(text) > 1 and text[0] == "{" and text[-1] == "}")


def _slots(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(start, end, what) of each object value in the line that is a `$name` or `{expr}`."""
    found: list[tuple[int, int, str]] = []
    texts = [line[a:b] for a, b in spans]
    for head, index in OBJECT_POSITIONALS.items():
        if tuple(texts[: len(head)]) == head and len(texts) > index:
            found.append((*spans[index], " ".join(head)))
    for n, text in enumerate(texts):
        option, eq, _ = text.partition("=")
        if eq and option in OBJECT_OPTIONS:
            start = spans[n][0] + len(option) + 1
            found.append((start, spans[n][1], option))
        elif text in OBJECT_OPTIONS and n + 1 < len(spans):
            found.append((*spans[n + 1], text))
    return [(a, b, what) for a, b, what in found if _is_reference(line[a:b])]


def expand(line: str, namespace: Mapping[str, Any]) -> Expanded:
    """The raw `%agent` line with object slots evaluated (placeholders) and the rest expanded by
    IPython's rules; see the module docstring."""
    result = Expanded(line)
    pieces, last = [], 0
    for n, (start, end, what) in enumerate(sorted(_slots(line, words(line)))):
        source = line[start:end]
        key = f"\u27e8object{n}\u27e9"
        result.values[key] = evaluate(source, what, namespace)
        result.sources[key] = source
        pieces += [line[last:start], key]
        last = end
    pieces.append(line[last:])
    text = "".join(pieces)
    with contextlib.suppress(Exception):  # as in IPython: a line it cannot expand stays as written
        text = DollarFormatter().vformat(text, args=[], kwargs=dict(namespace))
    result.line = text
    return result
