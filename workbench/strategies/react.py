"""ReAct: think, act, observe. One model call and one environment step per step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Strategy

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext


class ReAct(Strategy):
    name = "react"

    async def astep(self, session: StepContext) -> Node:
        return await self.act(session)
