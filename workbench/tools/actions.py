"""A text environment's actions as tools, so the built-in games can be played by function calling.

    Session(env="game24-tools")      # combine(a, op, b) and answer(expression) instead of text actions
    Session(env="gridworld-tools")   # go(direction), pick_up_key(), open_door()

An action tool turns its checked arguments into the env's own text action (`combine(a="4", op="*",
b="6")` -> "4 * 6") and steps the inner env with it; the node records that text action
(`info["env_actions"]`), so rewinding and replaying work exactly as for text actions. The demo model
knows these tools (see `workbench.demo.tools`); a real model reads their specs like any others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Tool
from .env import ToolEnv


def action_tool(
    name: str, description: str, properties: dict[str, Any], template: Callable[[dict[str, Any]], str]
) -> Tool:
    """A tool whose call is the env action `template(arguments)` (see the module docstring)."""
    t = Tool(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        },
    )
    t.env_action = template  # type: ignore[attr-defined]
    return t


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def game24_tools(**options: Any) -> ToolEnv:
    """Game of 24 played through `combine` and `answer` tools."""
    from ..envs.game24 import Game24

    tools = [
        action_tool(
            "combine",
            "Combine two of the numbers left with an operator; both are replaced by the result.",
            {
                "a": _str('a number left, e.g. "8" or "8/3"'),
                "op": _str("the operator", enum=["+", "-", "*", "/"]),
                "b": _str("another number left"),
            },
            lambda a: f"{a['a']} {a['op']} {a['b']}",
        ),
        action_tool(
            "answer",
            "Finish at once with an expression that uses every number left exactly once.",
            {"expression": _str('e.g. "(4 + 8) * (6 - 4)"')},
            lambda a: f"answer: {a['expression']}",
        ),
    ]
    return ToolEnv(tools, env=Game24(**options), name="game24-tools", instructions=_TOOL_NOTE)


def gridworld_tools(**options: Any) -> ToolEnv:
    """GridWorld played through `go`, `pick_up_key` and `open_door` tools."""
    from ..envs.gridworld import GridWorld

    tools = [
        action_tool(
            "go",
            "Move one cell (north is up on the map).",
            {"direction": _str("where to", enum=["north", "south", "east", "west"])},
            lambda a: f"go {a['direction']}",
        ),
        action_tool("pick_up_key", "Take the key from a cell next to you.", {}, lambda a: "pick up key"),
        action_tool(
            "open_door", "Unlock the door next to you; you must hold the key.", {}, lambda a: "open door"
        ),
    ]
    return ToolEnv(tools, env=GridWorld(**options), name="gridworld-tools", instructions=_GRID_NOTE)


_TOOL_NOTE = (
    "Play by calling the tools: combine(a, op, b) for one step, answer(expression) to finish at once. "
    "The game ends when one number is left: you win if it is 24."
)
_GRID_NOTE = (
    "Play by calling the tools go(direction), pick_up_key() and open_door(). Walls (#), the key (K) "
    "and a locked door (D) block movement. Stepping onto the goal G ends the episode."
)
