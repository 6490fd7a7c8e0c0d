"""ReAct: think, act, observe. One model call and one environment step per step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Strategy
from .parsing import parse_react

if TYPE_CHECKING:
    from ..core.session import Session
    from ..core.tree import Node


class ReAct(Strategy):
    name = "react"

    async def astep(self, session: Session) -> Node:
        parent = session.tree.current
        path = session.tree.path()
        messages = self.messages(session, path)
        used_edits = session.take_used_edits()
        call = await session.call_model(messages, parent)
        return session.execute(parent, parse_react(call.response), [call], used_edits=used_edits)
