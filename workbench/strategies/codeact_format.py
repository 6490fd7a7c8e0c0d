"""CodeAct's answer format and prompt pieces (Wang et al., ICML 2024); the strategy is in `codeact`.

`parse_codeact(text)` reads an optional thought and one `<execute>code</execute>` or
`<solution>answer</solution>` block (a bare ```python fence counts as code) and never raises;
`signature` writes a kernel function's Python signature from a JSON schema for the system prompt;
`choose_level` applies the sandbox safety rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .labels import CODEACT_LABEL  # noqa: F401 (re-exported)
from .parsing import Parsed, parse_react

STOP = "</execute>"
LEVEL_CHOICES = ("auto", "bwrap", "process")
NOTE_CHARS = 2000  # stdout/stderr kept in info["code"]
FORMAT_HELP = """At each turn, first write one or two sentences of reasoning (`Thought: ...`), then one of:

1. Python code to run, inside <execute> and </execute>:
Thought: I compute the sum first.
<execute>
total = sum([4, 8, 6])
print(total)
</execute>
The code runs in a persistent IPython kernel: variables, imports and functions stay from one turn to
the next. The next observation shows what it printed, the value of its last line, or the traceback.

2. Your final answer, inside <solution> and </solution>:
Thought: The output confirms it.
<solution>the answer</solution>"""
ACT_SPEC = {
    "name": "act",
    "description": "Take one action in the environment and return the observation that follows it.",
    "parameters": {
        "type": "object",
        "properties": {"action": {"type": "string", "description": "one text action"}},
        "required": ["action"],
    },
}
_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list"}


# ------------------------------------------------------------------------------------ answers
@dataclass
class CodeAnswer:
    """One answer read in the CodeAct format (never raises: a bad answer has `error`)."""

    thought: str = ""
    code: str | None = None
    solution: str | None = None
    error: str | None = None
    raw: str = ""  # the answer with `</execute>` put back when the stop cut it
    plan: list[dict[str, Any]] | None = None
    subgoal: str | None = None


@dataclass
class CodeParsed(Parsed):
    """A `Parsed` whose tool (for breakpoints) is `execute` or `solution`."""

    kind: str = "execute"

    @property
    def tool(self) -> str | None:
        return self.kind if self.action else None


_BLOCK = re.compile(r"<(execute|solution)>(.*?)(</\1>|\Z)", re.S | re.I)
_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I)
_THOUGHT_TAG = re.compile(r"<thought>(.*?)(?:</thought>|\Z)", re.S | re.I)


def _strip_fence(code: str) -> str:
    fenced = _FENCE.search(code)
    return fenced.group(1) if fenced else code


def parse_codeact(text: Any) -> CodeAnswer:
    """Thought and an `<execute>` or `<solution>` block (the first one counts) from an answer.

    An answer cut by the stop (no `</execute>`) still counts; a bare ```python fence counts as code."""
    text = "" if text is None else str(text)
    out = CodeAnswer(raw=text)
    block = _BLOCK.search(text)
    if block is None:
        fence = _FENCE.search(text)
        if fence is None or not fence.group(1).strip():
            out.error = (
                "The answer had no <execute> block and no <solution> block, so nothing was run.\n\n"
                + FORMAT_HELP
            )
            rest = text
        else:
            out.code = fence.group(1).strip("\n")
            rest = text[: fence.start()] + text[fence.end() :]
    else:
        kind, body, closing = block.group(1).lower(), block.group(2), block.group(3)
        rest = text[: block.start()] + text[block.end() :]
        if kind == "execute":
            out.code = _strip_fence(body).strip("\n")
            if not closing:
                out.raw = text.rstrip() + "\n" + STOP
            if not out.code.strip():
                out.code, out.error = None, "The <execute> block was empty, so nothing was run."
        else:
            out.solution = body.strip()
    tagged = _THOUGHT_TAG.search(rest)
    react = parse_react(_THOUGHT_TAG.sub("", rest))
    out.plan, out.subgoal = react.plan, react.subgoal
    if tagged:
        out.thought = " ".join(tagged.group(1).split())
    elif react.thought:
        out.thought = react.thought
    else:
        before = text[: block.start()] if block is not None else ""
        out.thought = " ".join(before.split())
    return out


# ------------------------------------------------------------------------------------ safety
def choose_level(levels: list[str], simulated: bool, requested: str) -> str:
    """The sandbox level to use: `requested` when it works; "auto" -> bwrap where it works, else
    "process" only for the simulated demo model (a real model must opt in with sandbox="process")."""
    if requested not in LEVEL_CHOICES:
        raise ConfigError(f"sandbox must be one of {', '.join(map(repr, LEVEL_CHOICES))}, not {requested!r}")
    if requested == "process":
        return "process"
    if "bwrap" in levels:
        return "bwrap"
    if requested == "bwrap":
        raise ConfigError(
            "sandbox='bwrap' does not work here: install bubblewrap (apt-get install -y bubblewrap) and "
            "allow user namespaces, or opt in to sandbox='process' (no file or network isolation)"
        )
    if simulated:
        return "process"
    raise ConfigError(
        "CodeAct runs the model's code, and bubblewrap does not work here; the 'process' level has no "
        "file or network isolation (the code can read your files and reach your network). Opt in with "
        "sandbox='process' if that is acceptable, or install bubblewrap (apt-get install -y bubblewrap)"
    )


# ------------------------------------------------------------------------------------ host calls
def _py_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(_PY_TYPES.get(k, "dict" if k == "object" else "None") for k in kind)
    return _PY_TYPES.get(str(kind), "dict" if kind == "object" else "Any")


def signature(name: str, parameters: dict[str, Any]) -> str:
    """`name(a: str, b: int = None) -> str` from a JSON schema, for the system prompt."""
    props = parameters.get("properties") or {}
    required = set(parameters.get("required") or ())
    args = []
    for key, prop in props.items():
        text = f"{key}: {_py_type(prop)}"
        if key not in required:
            text += f" = {prop['default']!r}" if "default" in prop else " = None"
        args.append(text)
    return f"{name}({', '.join(args)}) -> str"
