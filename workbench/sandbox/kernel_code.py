"""Code the host runs (silently) inside each fresh kernel: an output cap and the tool stubs.

Both are plain source text built here and executed in the kernel; nothing is imported from
`workbench` there, so the kernel needs no access to the host's package state.
"""

from __future__ import annotations

import json
from typing import Any

CUT_MIME = "application/x-workbench-cut+json"

_OUTPUT_CAP = r"""
def __wb_cap_output(cap, tail_n, mime):
    import sys
    from IPython import get_ipython
    from IPython.display import publish_display_data

    states = {}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if getattr(stream, "_wb_capped", False):
            continue
        original = stream.write
        state = {"n": 0, "dropped": 0, "tail": ""}

        def write(s, _original=original, _state=state):
            if not isinstance(s, str):
                return _original(s)
            size = len(s)
            room = cap - _state["n"]
            if room >= size:
                _state["n"] += size
                return _original(s)
            if room > 0:
                _original(s[:room])
                _state["n"] = cap
                s = s[room:]
            tail = _state["tail"] + s[-tail_n:]
            _state["dropped"] += len(s) - len(s[-tail_n:]) + max(0, len(tail) - tail_n)
            _state["tail"] = tail[-tail_n:]
            return size

        stream.write = write
        stream._wb_capped = True
        states[name] = state

    def reset(*_args):
        for state in states.values():
            state.update(n=0, dropped=0, tail="")

    def report(*_args):
        for name, state in states.items():
            if state["dropped"] or state["tail"]:
                note = {"name": name, "dropped": state["dropped"], "tail": state["tail"]}
                publish_display_data({mime: note})
        reset()

    events = get_ipython().events
    events.register("pre_run_cell", reset)
    events.register("post_run_cell", report)


__wb_cap_output({cap}, {tail}, {mime!r})
del __wb_cap_output
"""

_TOOLS = r'''
class ToolError(Exception):
    """A tool failed on the host; the message says why."""


def __wb_make_tool(name, params, required, strict, doc, marker):
    import builtins
    import json

    def tool(*args, **kwargs):
        if len(args) > len(params):
            raise TypeError(f"{name}() takes {len(params)} positional arguments but {len(args)} were given")
        arguments = dict(zip(params, args))
        for key, value in kwargs.items():
            if key in arguments:
                raise TypeError(f"{name}() got multiple values for argument {key!r}")
            if strict and key not in params:
                raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
            arguments[key] = value
        missing = [p for p in required if p not in arguments]
        if missing:
            raise TypeError(f"{name}() missing required argument(s): {', '.join(map(repr, missing))}")
        ordered = {p: arguments[p] for p in params if p in arguments}  # the schema's order
        ordered.update((k, v) for k, v in arguments.items() if k not in ordered)
        request = json.dumps({"name": name, "arguments": ordered}, default=str)
        reply = json.loads(builtins.input(marker + request))
        if "error" in reply:
            raise ToolError(reply["error"])
        return reply["result"]

    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = doc
    return tool


for __wb_spec in {specs}:
    globals()[__wb_spec["name"]] = __wb_make_tool(
        __wb_spec["name"], __wb_spec["params"], __wb_spec["required"], __wb_spec["strict"],
        __wb_spec["doc"], {marker!r},
    )
del __wb_spec, __wb_make_tool
'''


def output_cap_code(cap: int, tail: int) -> str:
    """Cap each of stdout/stderr at `cap` characters per cell in the kernel itself; the last `tail`
    characters and the count of the rest go to the host in one display message after the cell."""
    return (
        _OUTPUT_CAP.replace("{cap}", str(cap))
        .replace("{tail}", str(tail))
        .replace("{mime!r}", repr(CUT_MIME))
    )


def tool_specs(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalise tool specs ({"name", "description", "parameters"}) to what the stubs need."""
    out = []
    for spec in specs:
        name = spec["name"]
        if not str(name).isidentifier():
            raise ValueError(f"tool name {name!r} is not a Python identifier")
        schema = spec.get("parameters") or {}
        props = schema.get("properties") or {}
        params = list(props)
        doc = spec.get("description") or ""
        if params:
            lines = [
                f"    {p}: {props[p].get('type', 'any')}  {props[p].get('description', '')}".rstrip()
                for p in params
            ]
            doc = doc + "\n\nParameters:\n" + "\n".join(lines)
        out.append(
            {
                "name": name,
                "params": params,
                "required": list(schema.get("required") or []),
                "strict": bool(params) and schema.get("additionalProperties") is not True,
                "doc": doc,
            }
        )
    return out


def tools_code(specs: list[dict[str, Any]], marker: str) -> str:
    """Define `ToolError` and one function per tool; each call asks the host through `input()`."""
    literal = json.dumps(tool_specs(specs))
    # JSON literals are Python literals once true/false/null are spelled the Python way
    literal = repr(json.loads(literal))
    return _TOOLS.replace("{specs}", literal).replace("{marker!r}", repr(marker))
