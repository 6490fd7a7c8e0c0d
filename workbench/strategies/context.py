"""What a strategy may use of the engine: a narrow step context instead of the whole `Session`.

`Session` implements it; strategies import only this protocol, so they depend on no engine module
and a test can drive a strategy with any object that has these members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..core.plan import Plan
    from ..core.tree import LLMCall, Node, Run
    from ..memory.base import Memory
    from .parsing import Parsed


class StepContext(Protocol):
    """The engine as a strategy sees it during one step."""

    tree: Run
    env: Any
    memory: Memory
    plan: Plan
    events: Any  # publish(event): the session's event bus
    budgets: dict[str, Any]
    concurrency: int

    @property
    def run_id(self) -> str: ...

    def tool_mode(self) -> str | None:
        """ "native", "text" or None: how tools are offered to the model on this step."""
        ...

    def valid_actions(self, node: Node) -> list[str] | None:
        """The env's valid actions in `node`'s state, when the env lists them and is in that state."""
        ...

    def take_used_edits(self) -> list[str]: ...

    def recall_note(self, node: Node) -> str:
        """Examples the session's recall adds to the prompt of a step from `node` ("" for none)."""
        ...

    async def call_model(
        self,
        messages: list[dict[str, Any]],
        parent: Node,
        *,
        purpose: str = "act",
        model: Any = None,
        role: str = "",
        **kwargs: Any,
    ) -> LLMCall:
        """One model call; `model` answers it instead of the session's model, `role` is recorded on it."""
        ...

    def call_limit(self) -> asyncio.Semaphore: ...

    async def aexecute(
        self,
        parent: Node,
        parsed: Parsed,
        calls: list[LLMCall],
        *,
        used_edits: list[str] | None = None,
        move_cursor: bool = True,
        step: Callable[[Any], Awaitable[Any]] | None = None,
        info: dict[str, Any] | None = None,
    ) -> Node: ...

    def propose(
        self, parent: Node, parsed: Parsed, calls: list[LLMCall], *, prior: float | None = None, **info: Any
    ) -> Node: ...

    async def arealize(self, node: Node) -> Node: ...

    def update_node(self, node: Node, provenance: str = "agent", **fields: Any) -> Node: ...

    def is_destructive(self, action: str | None) -> bool: ...

    def approved_for_replay(self, nodes: list[Node], target: int, *, consume: bool = False) -> None:
        """Raise when re-running `nodes` would repeat actions a person approved, without consent."""
        ...

    def mark_diverged(self, node: Node, replayed: str, why: str) -> None:
        """Record that replaying `node` gave `replayed` instead of its recorded observation."""
        ...
