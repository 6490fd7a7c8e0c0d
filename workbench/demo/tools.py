"""How the SIMULATED demo model calls tools: the built-in games' action tools, in either format.

The demo decides a text action as always (`policy`), then writes it as a call of the action tool
that performs it (`workbench.tools.actions`: `combine`, `answer`, `go`, `pick_up_key`, `open_door`):
as native `tool_calls` when the request offers `tools=`, or as `Action: <tool>` plus
`Action Input: <JSON>` when the system prompt asks for the text tool format. It knows no other tools:
offered only unknown tools, it says so through `final_answer` (it never pretends to use them).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .reading import Conversation

_MOVE = re.compile(r"^\s*(-?[\d/]+)\s*([-+*/])\s*(-?[\d/]+)\s*$")
_GO = re.compile(r"^go (north|south|east|west)$")
UNKNOWN_TOOLS = (
    "I am the simulated demo model: I know only the built-in environments and their action tools, "
    "not these tools. Use a real model (model='openai/...', or any litellm model) to try them."
)


def action_call(action: str, names: set[str]) -> tuple[str, dict[str, Any]] | None:
    """(tool name, arguments) of the built-in action tool that performs `action`, if offered."""
    action = action.strip()
    if action.lower().startswith("answer:") and "answer" in names:
        return "answer", {"expression": action.split(":", 1)[1].strip()}
    move = _MOVE.match(action)
    if move and "combine" in names:
        return "combine", {"a": move.group(1), "op": move.group(2), "b": move.group(3)}
    go = _GO.match(action)
    if go and "go" in names:
        return "go", {"direction": go.group(1)}
    if action == "pick up key" and "pick_up_key" in names:
        return "pick_up_key", {}
    if action == "open door" and "open_door" in names:
        return "open_door", {}
    return None


def _split(text: str) -> tuple[list[str], str | None, list[str]]:
    """(lines before the Action line, the action, lines after it) of a ReAct answer."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("Action:"):
            return lines[:i], line[len("Action:") :].strip(), lines[i + 1 :]
    return lines, None, []


def text_tool_answer(text: str, conv: Conversation) -> str:
    """`text` with its action rewritten as `Action: tool` + `Action Input: {...}` when asked for."""
    system = conv.system
    if "Action Input:" not in system:
        return text
    names = set(re.findall(r"(?m)^- ([A-Za-z_][\w-]*)\(", system))
    before, action, after = _split(text)
    mapped = action_call(action, names) if action is not None else None
    if mapped is None:
        return text
    name, args = mapped
    return "\n".join([*before, f"Action: {name}", f"Action Input: {json.dumps(args)}", *after])


def native_answer(
    text: str, tools: list[dict[str, Any]], conv: Conversation
) -> tuple[str, list[dict[str, Any]] | None]:
    """(content, tool calls) for a request that offers `tools` (OpenAI-style specs)."""
    names = {str((t.get("function") or t).get("name")) for t in tools if isinstance(t, dict)}
    before, action, after = _split(text)
    mapped = action_call(action, names) if action is not None else None
    if mapped is not None:
        name, args = mapped
        return "\n".join([*before, *after]).strip(), [_call(name, args, conv)]
    if "final_answer" in names and not _known_game(conv):
        return "Thought: these tools are new to me.", [_call("final_answer", {"answer": UNKNOWN_TOOLS}, conv)]
    return text, None  # a text action for the env below the tools, or a malformed answer


def _known_game(conv: Conversation) -> bool:
    obs = conv.observation
    return "Numbers left:" in obs or "Legend:" in obs


def _call(name: str, args: dict[str, Any], conv: Conversation) -> dict[str, Any]:
    digest = hashlib.sha256(f"{conv.fingerprint}{name}".encode()).hexdigest()[:12]
    return {"id": f"call_{digest}", "name": name, "arguments": json.dumps(args)}
