"""Parsing model answers in the ReAct text format. Never raises: any text gives a `Parsed`.

    Subgoal: open the door            (optional, HiAgent)
    Thought: the key is two tiles north
    Action: go north
    Action Input: {"city": "Paris"}   (optional: a tool's JSON arguments, when the action names a tool)
    Plan:                             (optional: replaces the plan)
    1. [x] find the key
    2. [>] open the door
    3. [ ] reach the goal

Markers are case-insensitive, may be bold (`**Action:**`) and may sit in a code fence. When an
answer holds several actions, the first one counts (one action per step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Both patterns run on one stripped line and have no two adjacent quantifiers that can trade the same
# characters, so a match attempt is linear in the line (no `\s*X?\s*`, no `.+?\s*$`, no `[*_]+$`).
_MARKER = re.compile(
    r"(?:[*_#>]+\s*)?(thought|action input|action|subgoal|plan)\s*(?:[*_]+\s*)?:\s*(?:[*_]+\s*)?(.*)",
    re.I | re.S,
)
_PLAN_ITEM = re.compile(r"(?:\d+[.)]|[-*•])\s*(?:\[(.?)\]\s*)?(.+)", re.S)
_STATUS_MARKS = {
    " ": "todo",
    "": "todo",
    "x": "done",
    "X": "done",
    ">": "doing",
    "-": "skipped",
    "~": "doing",
}

FORMAT_HELP = (
    "Answer in exactly this format:\n"
    "Thought: <one or two sentences of reasoning>\n"
    "Action: <exactly one action>"
)
TOOL_FORMAT_HELP = (
    "Answer in exactly this format:\n"
    "Thought: <one or two sentences of reasoning>\n"
    "Action: <a tool name (or an action)>\n"
    "Action Input: <the tool's arguments as one JSON object>"
)


@dataclass
class Parsed:
    thought: str = ""
    action: str | None = None
    subgoal: str | None = None
    plan: list[dict[str, Any]] | None = None
    error: str | None = None
    extra_actions: list[str] = field(default_factory=list)
    action_input: str | None = None  # the text after `Action Input:` (a tool's JSON arguments)
    tool_calls: list[Any] | None = None  # `ToolCall`s when the answer calls tools (native or text)

    @property
    def tool(self) -> str | None:
        """The action's verb or tool name: `go` for `go north`, `search` for `search[x]`."""
        if self.tool_calls:
            return self.tool_calls[0].name
        if not self.action:
            return None
        match = re.match(r"\s*([A-Za-z_][\w-]*)", self.action)
        return match.group(1).lower() if match else None


def _clean_action(text: str) -> str:
    return text.strip().strip("`").strip().strip("*_").strip()


def parse_react(text: Any) -> Parsed:
    """Split a model answer into thought, action, optional subgoal and plan."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    parsed = Parsed()
    thought_lines: list[str] = []
    input_lines: list[str] | None = None
    plan_items: list[dict[str, Any]] | None = None
    section = None
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            continue
        marker = _MARKER.match(stripped)
        if marker:
            section, rest = marker.group(1).lower(), marker.group(2).strip()
            if section == "thought":
                thought_lines = [rest] if rest else []
            elif section == "action":
                action = _clean_action(rest)
                if parsed.action is None and action:
                    parsed.action = action
                elif action:
                    parsed.extra_actions.append(action)
            elif section == "action input":
                if input_lines is None:
                    input_lines = [rest] if rest else []
                else:
                    section = None  # a second Action Input belongs to an action that is ignored
            elif section == "subgoal":
                if parsed.subgoal is None and rest:
                    parsed.subgoal = rest
            elif section == "plan":
                plan_items = []
            continue
        if section == "thought" and line.strip():
            thought_lines.append(line.strip())
        elif section == "action" and parsed.action is None and line.strip():
            parsed.action = _clean_action(line)
        elif section == "action input" and input_lines is not None:
            input_lines.append(line)
        elif section == "plan" and plan_items is not None:
            item = _PLAN_ITEM.match(stripped)
            if item and item.group(2).strip():
                status = _STATUS_MARKS.get(item.group(1) if item.group(1) is not None else "", "todo")
                plan_items.append({"text": item.group(2).strip(), "status": status, "provenance": "agent"})
    parsed.thought = " ".join(thought_lines).strip()
    if input_lines is not None:
        parsed.action_input = "\n".join(input_lines).strip()
    if plan_items:
        parsed.plan = plan_items
    if not parsed.action:
        if not text.strip():
            parsed.error = "The answer was empty. " + FORMAT_HELP
        else:
            parsed.error = "The answer had no `Action:` line, so nothing was done. " + FORMAT_HELP
    return parsed


def parse_answer(call: Any, tools: Any = None) -> Parsed:
    """A model call's answer as a `Parsed`: its native tool calls, or the text format.

    With native calls the text (if any) gives the thought and plan, and no `Action:` line is needed.
    In the text format an `Action:` that names one of `tools` becomes a tool call with the JSON of
    `Action Input:`; any other action stays a text action for the environment."""
    from ..tools.env import calls_from_native, calls_from_text

    parsed = parse_react(getattr(call, "response", call))
    native = getattr(call, "tool_calls", None)
    if native:
        parsed.tool_calls = calls_from_native(native)
        parsed.error = None
    elif tools and parsed.action:
        parsed.tool_calls = calls_from_text(parsed.action, parsed.action_input, tools)
    if parsed.tool_calls:
        parsed.action = "; ".join(c.text() for c in parsed.tool_calls)
    return parsed
