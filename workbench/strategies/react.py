"""ReAct: think, act, observe. One model call and one environment step per step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Strategy
from .parsing import parse_answer

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext


class ReAct(Strategy):
    name = "react"

    async def astep(self, session: StepContext) -> Node:
        parent = session.tree.current
        path = session.tree.path(copy=False)  # read at once, never changed
        messages = self.messages(session, path)
        used_edits = session.take_used_edits()
        tools = self.tools_for(session)
        call = await session.call_model(messages, parent, **({"tools": tools} if tools else {}))
        parsed = parse_answer(call, getattr(session.env, "tools", None))
        return await session.aexecute(parent, parsed, [call], used_edits=used_edits)
