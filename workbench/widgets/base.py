"""What every workbench widget shares: a thin adapter from session events to synced traits.

- Events arrive on whatever thread changed the session. The adapter only notes which parts of the
  widget are stale ("header", "plan", ...) and refreshes them later on that thread's event loop,
  at most every `min_interval` seconds (per-part `part_intervals` may be slower), all traits of one
  refresh in one message (`hold_sync`). So a fast run sends tens of messages a second, never the
  thousands the Jupyter server would silently drop. Ends of runs (`Paused`, `RunFinished`, `Error`)
  refresh at once, so the last state always arrives. Without a running loop it refreshes at once.
- The front end sends intents as custom messages `{"event": NAME, ...arguments}`. `intents` maps
  each NAME to a plain public method (`on_step_clicked`, `on_edit`, ...) that Python code and tests
  call directly. Handlers run on the event loop the widget was made on (`call_soon_threadsafe`),
  because in JupyterLab 4.6 with ipykernel 7 comm callbacks may arrive on a subshell thread;
  intents listed in `immediate` (pause) run at once on the receiving thread and must be thread-safe.
- A user mistake (`WorkbenchError`) in a handler becomes the widget's `notice`; any other exception
  also fills `detail` with its traceback, so nothing fails silently.
- `_repr_mimebundle_` adds a static `text/html` rendering (`static_html`) so a saved notebook reads
  without a kernel (`fallback.StaticFallback`, shared with `SweepView`). All state goes through `safe` (secret values from the environment redacted).
  Displayed in a notebook, that rendering is its own output instead, refreshed as the session
  changes (`fallback.py` says why).
- anywidget loads a widget's `_esm` as one self-contained module, so the front-end code shared by
  the widgets (`static/dom.js`) is concatenated in front of each widget's own file, not imported:
  `_esm = static_module("dom.js", "x.js")`.
- A notebook saved with widget state (JupyterLab's "Save Widget State Automatically"; nbclient,
  papermill and `nbconvert --execute` by default) brings the widgets back without a kernel behind
  them: their state as last seen, often older than the run, with controls that do nothing. Each
  widget (`KnowsItsModel`) syncs its own model id, so its view asks the widget manager whether its
  model has a kernel connection and, if not, hides itself in favour of the fallback output after it
  (`markLive` in `static/dom.js`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from ..core import events as ev
from ..core.background import Runner, runner_for
from ..core.tree import Node
from ..errors import WorkbenchError
from . import fallback
from .cards import call_details, safe

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

_END_EVENTS = (ev.Paused, ev.RunFinished, ev.Error, ev.BreakpointHit)


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _queued_so_far(loop: asyncio.AbstractEventLoop) -> None:
    """Return after every callback queued on `loop` before this call has run (FIFO order)."""
    marker = loop.create_future()
    loop.call_soon(marker.set_result, None)
    await marker


@functools.cache
def module_source(names: tuple[str, ...]) -> str:
    """The files `names` of `static/`, concatenated in order into one ES module (read once, on first use)."""
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in names)


def static_module(*names: str) -> property:
    """An `_esm` made of several static files (`module_source`), read when the first widget opens."""
    return property(lambda _self: module_source(names))


class KnowsItsModel(anywidget.AnyWidget):
    """An anywidget whose front end knows its model id (`_self_id`), to tell a view restored from
    saved widget state (no kernel behind it) from a live one."""

    _self_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        model_id = kwargs.pop("model_id", None) or uuid.uuid4().hex  # the comm id, as ipywidgets makes it
        super().__init__(model_id=model_id, _self_id=model_id, **kwargs)


class SessionWidget(fallback.StaticFallback, KnowsItsModel):
    """Base class: one widget over one `Session`."""

    notice = traitlets.Unicode("").tag(sync=True)  # one line for the user: a mistake, an error, a state
    detail = traitlets.Unicode("").tag(sync=True)  # the traceback of an unexpected error

    min_interval: ClassVar[float] = 1 / 30  # seconds between two refreshes (about 30 Hz at most)
    part_intervals: ClassVar[dict[str, float]] = {}  # slower parts: part -> seconds
    intents: ClassVar[dict[str, str]] = {}  # front-end event name -> method name
    immediate: ClassVar[frozenset[str]] = frozenset()  # intents run on the receiving thread

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self.session = session
        self.runner: Runner = runner_for(session)
        self._loop = running_loop()
        if self._loop is not None:
            self.runner.bind(self._loop)
        self._lock = threading.RLock()
        self._flush_lock = threading.RLock()
        self._dirty: set[str] = set()
        self._part_last: dict[str, float] = {}
        self._scheduled: asyncio.AbstractEventLoop | None = None
        self._scheduled_due = math.inf
        self._last_flush = -math.inf
        self.messages_sent = 0  # refreshes that sent something (for tests and benchmarks)
        self._init_fallbacks()
        super().__init__(**{**self.initial_state(), **kwargs})
        self.on_msg(self._on_custom_msg)
        self._unsubscribe: Callable[[], None] | None = session.subscribe(self._on_event)

    # --- to implement ----------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        """Trait values to open the widget with (no messages are sent for these)."""
        return {}

    def parts_for(self, event: ev.Event) -> set[str]:
        """The parts of this widget an event makes stale."""
        return set()

    def refresh(self, part: str) -> None:
        """Recompute the traits of `part` from the session (called inside `hold_sync`)."""

    def run_snapshot(self) -> dict[str, Any] | None:
        """A bounded snapshot of the run for the fallback output, made by `snapshot.run_snapshot`
        (which redacts it), or None."""
        return None

    def summary(self) -> str:
        """One line of plain text (the `text/plain` of the mimebundle)."""
        return f"<{type(self).__name__} of run {self.session.run_id}>"

    # --- events -> traits ------------------------------------------------------------------------
    def _on_event(self, event: ev.Event) -> None:
        parts = self.parts_for(event)
        if not parts:
            return
        if self._fallbacks and fallback.changed(self):
            parts = parts | {fallback.PART}
        with self._lock:
            self._dirty |= parts
        self.schedule(urgent=isinstance(event, _END_EVENTS))

    def mark(self, *parts: str, urgent: bool = False) -> None:
        """Mark `parts` stale and schedule a refresh."""
        with self._lock:
            self._dirty.update(parts)
        self.schedule(urgent=urgent)

    def schedule(self, *, urgent: bool = False, delay: float | None = None) -> None:
        """Refresh now (urgent, or no loop runs in this thread) or on this thread's loop, rate-limited."""
        loop = running_loop()
        if urgent or loop is None:
            self.flush(force=True)
            return
        now = time.monotonic()
        with self._lock:
            if delay is None:
                delay = max(0.0, self._last_flush + self.min_interval - now)
            due = now + delay
            if self._scheduled is loop and self._scheduled_due <= due:
                return  # a refresh at least as early is already on its way
            self._scheduled, self._scheduled_due = loop, due
        loop.call_later(delay, self._scheduled_flush, due)

    def _scheduled_flush(self, due: float) -> None:
        with self._lock:
            if self._scheduled_due == due:  # the latest timer; an earlier one may have run already
                self._scheduled, self._scheduled_due = None, math.inf
        self.flush()

    def flush(self, force: bool = False) -> None:
        """Send every stale part now (`force`: also parts whose own interval has not passed)."""
        with self._flush_lock:
            now = time.monotonic()
            with self._lock:
                parts, later = set(), set()
                for part in self._dirty:
                    interval = self.part_intervals.get(
                        part, fallback.INTERVAL if part == fallback.PART else 0.0
                    )
                    due = force or now - self._part_last.get(part, -math.inf) >= interval
                    (parts if due else later).add(part)
                self._dirty = later
            if parts and self.comm is not None:
                self._last_flush = now
                self.messages_sent += 1
                with self.hold_sync():
                    for part in sorted(parts):
                        self._part_last[part] = now
                        try:
                            fallback.refresh(self) if part == fallback.PART else self.refresh(part)
                        except Exception as exc:  # show it; never break the agent's loop
                            log.exception("refreshing %s of %s failed", part, type(self).__name__)
                            self.notice = f"the {part} view failed to update: {type(exc).__name__}: {exc}"
                            self.detail = safe(traceback.format_exc())
        if later:
            wait = min(
                self.part_intervals.get(p, fallback.INTERVAL if p == fallback.PART else 0.0)
                - (now - self._part_last.get(p, now))
                for p in later
            )
            self.schedule(delay=max(wait, self.min_interval))

    # --- front end -> Python ---------------------------------------------------------------------
    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        name = content.get("event")
        method = self.intents.get(name) if isinstance(name, str) else None
        if method is None:
            log.warning("%s: unknown front-end event %r", type(self).__name__, name)
            return
        args = {k: v for k, v in content.items() if k != "event"}
        if name in self.immediate:
            self.guarded(getattr(self, method), **args)
        else:
            self.call_soon(self.guarded, getattr(self, method), **args)

    def call_soon(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn` on the widget's event loop (the kernel's main loop in a notebook), from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = running_loop()
            if loop is None:
                from ..core.sync import background_loop

                loop = background_loop()
            self._loop = loop
        loop.call_soon_threadsafe(lambda: fn(*args, **kwargs))

    def guarded(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        """Call a handler; show user mistakes as the notice and other failures with their traceback."""
        try:
            return fn(**kwargs)
        except WorkbenchError as exc:
            self.notice = safe(str(exc))
        except Exception as exc:
            log.exception("%s.%s failed", type(self).__name__, getattr(fn, "__name__", fn))
            self.notice = safe(f"{type(exc).__name__}: {exc}")
            self.detail = safe(traceback.format_exc())
        return None

    async def settled(self) -> None:
        """Wait until the intents handed to the loop so far ran and the background task ended, then
        send every stale part (for tests and notebooks that read the widget's state)."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            await _queued_so_far(loop)
        task = self.runner.task
        if task is not None and task.get_loop() is loop:
            if not task.done():
                await asyncio.wait([task])
            await _queued_so_far(loop)  # the task's done-callbacks were queued when it ended
        self.flush(force=True)

    # --- display ---------------------------------------------------------------------------------
    def send_calls(self, node: Node) -> dict[str, Any]:
        """Send the LLM calls behind `node` to the browser (on demand: prompts can be long)."""
        payload = safe(
            {"type": "calls", "node_id": node.id, "calls": [call_details(c) for c in node.llm_calls]}
        )
        self.send(payload)
        return payload

    def set_pages(self, pages: dict[str, list[Any]]) -> None:
        """Set paged list traits (`cards_0`, `nodes_3`, ...), adding the ones that do not exist yet."""
        for name, records in pages.items():
            if not self.has_trait(name):
                self.add_traits(**{name: traitlets.List().tag(sync=True)})
            setattr(self, name, records)

    def sync(self) -> None:
        """Send the whole current state now. Displaying the widget does this, so a notebook run
        headlessly (nbclient keeps only messages sent while a cell runs) saves the final state."""
        self.flush(force=True)
        if self.comm is not None:
            self.send_state()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        super().close()
