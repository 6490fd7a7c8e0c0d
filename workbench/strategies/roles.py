"""Pieces shared by the strategies whose steps involve several roles (`plan-execute`, `umi`,
`reflexion`): a role's prompt over the memory's history, and nodes that end a run without an env action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..core.prompt import Prompt
from .base import valid_actions_note

if TYPE_CHECKING:
    from ..core.tree import Node
    from .base import Strategy
    from .context import StepContext


def env_instructions(session: StepContext) -> str:
    return str(getattr(session.env, "instructions", "") or "").strip()


def role_prompt(
    strategy: Strategy, session: StepContext, path: list[Node], system: str, slot: str, tail: str = ""
) -> Prompt:
    """System prompt `system`, the memory's history of `path`, then the valid actions and `tail` (one
    user message). The memory policy renders the history, so its edits, pins and notes apply."""
    valid = valid_actions_note(session, path[-1])
    last = "\n\n".join(part for part in (valid, tail) if part)
    session.memory.set_frame([system, last])
    history = session.memory.render(session.tree, path)
    return Prompt.of(
        strategy._message(f"{slot}:system", "system", system),
        history,
        strategy._message(f"{slot}:last", "user", last) if last else [],
    )


def ending(observation: str, reward: float, kind: str) -> Callable[[Any], Awaitable[Any]]:
    """A `step=` for `aexecute` that ends the run without touching the env: a terminal node of `kind`
    (a final answer, giving up) with `reward`. It records no env actions, so a replay skips it."""

    async def step(_action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        return observation, float(reward), True, False, {"node_kind": kind, "env_actions": []}

    return step


def strip_label(text: str, label: str) -> str:
    """`text` without a leading `label` (case-insensitive), stripped."""
    text = text.strip()
    return text[len(label) :].strip() if text.lower().startswith(label.lower()) else text
