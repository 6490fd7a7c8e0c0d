"""Helpers for the widget and background tests: a gated model and a recording comm.

`GatedModel` answers like `ScriptedModel` but each call waits until the test opens the gate, so a
test can act (pause, stop, edit) while a step is provably in flight, without sleeping.
`RecordingComm` stands in for the kernel's comm (as ipywidgets' own tests do): it keeps every
message a widget sends, and `front_event` / `front_state` deliver messages as the browser would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from comm.base_comm import BaseComm

from workbench.llm.scripted import ScriptedModel


class GatedModel(ScriptedModel):
    """A scripted model whose calls block until `open_gate()`; `entered` is set when one is waiting."""

    def __init__(self, answers: Sequence[str] | Any, **kwargs: Any) -> None:
        super().__init__(answers, **kwargs)
        self._gate: asyncio.Event | None = None
        self._entered: asyncio.Event | None = None
        self.auto_open = False  # True: answer at once (after the first gate, for example)
        self.fail_with: BaseException | None = None

    def _events(self) -> tuple[asyncio.Event, asyncio.Event]:
        if self._gate is None or self._entered is None:
            self._gate, self._entered = asyncio.Event(), asyncio.Event()
        return self._gate, self._entered

    async def wait_entered(self) -> None:
        """Wait until a call is blocked at the gate."""
        await self._events()[1].wait()

    def open_gate(self) -> None:
        """Let the waiting call (and later ones) through. Call it on the model's loop."""
        self._events()[0].set()

    def close_gate(self) -> None:
        gate, entered = self._events()
        gate.clear()
        entered.clear()

    async def acomplete(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        gate, entered = self._events()
        entered.set()
        if not self.auto_open:
            await gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return await super().acomplete(messages, **kwargs)


class RecordingComm(BaseComm):
    """A comm that records what the widget sends instead of publishing it to a kernel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> None:
        self.sent.append((msg_type, data or {}))

    def updates(self) -> list[dict[str, Any]]:
        """The state updates sent (one dict of trait values per message)."""
        return [d["state"] for t, d in self.sent if t == "comm_msg" and d.get("method") == "update"]

    def customs(self) -> list[Any]:
        return [d["content"] for t, d in self.sent if t == "comm_msg" and d.get("method") == "custom"]


def front_event(widget: Any, event: str, **args: Any) -> None:
    """Deliver a custom message from the browser, the way the comm does."""
    content = {"event": event, **args}
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def front_state(widget: Any, **state: Any) -> None:
    """Deliver a state change from the browser (`model.set(...); model.save_changes()`)."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})
