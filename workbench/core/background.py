"""Background runs: a session's agent as an asyncio task on an event loop (a notebook kernel's).

    task = session.start(max_steps=30)     # returns at once; the agent runs on the running loop
    session.pause()                        # stops after the step in flight (any thread)
    session.stop()                         # cancels the task now (any thread)
    await task                             # the new nodes, as `arun` returns them

One `Runner` per session (see `runner_for`) owns the task. It keeps a strong reference to the task
(asyncio itself keeps only weak ones) and a done-callback that makes failures visible: an exception
sets the session's status to "error", publishes an `Error` event (unless the engine already did)
and is kept in `Runner.error` / `Runner.traceback`; a cancelled task publishes `Paused("stopped")`.

Threads: `start` creates the task on the loop running in the calling thread. Called from a thread
without a running loop (a widget callback on a kernel subshell, a script), it uses the loop the
runner was bound to (`bind`, done by the widgets when they are made in a cell) or the workbench's
background loop, and waits until the task exists there. `stop` and `Session.pause` are safe from
any thread: `stop` hands the cancellation to the task's loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..errors import StepInProgress
from . import events as ev

if TYPE_CHECKING:
    from .state import SessionState

log = logging.getLogger(__name__)

_runners: weakref.WeakKeyDictionary[Any, Runner] = weakref.WeakKeyDictionary()
_runners_lock = threading.Lock()
_live_tasks: set[asyncio.Task[Any]] = set()  # strong references until each task is done


def runner_for(session: SessionState) -> Runner:
    """The one `Runner` of `session` (made on first use)."""
    with _runners_lock:
        runner = _runners.get(session)
        if runner is None:
            runner = Runner(session)
            _runners[session] = runner
        return runner


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Runner:
    """Starts, tracks and cancels the background task of one session."""

    def __init__(self, session: SessionState) -> None:
        self._session = weakref.ref(session)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None
        self.kind: str = ""  # "run" or "step": what the current (or last) task does
        self.error: BaseException | None = None
        self.traceback: str = ""
        self._listeners: list[Callable[[Runner], None]] = []

    @property
    def session(self) -> SessionState:
        session = self._session()
        if session is None:
            raise RuntimeError("the session of this runner no longer exists")
        return session

    # --- state -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether a task is in flight."""
        return self.task is not None and not self.task.done()

    def bind(self, loop: asyncio.AbstractEventLoop | None = None) -> asyncio.AbstractEventLoop | None:
        """Remember `loop` (default: the loop running in this thread) for starts from other threads."""
        loop = loop or _running_loop()
        if loop is not None:
            self.loop = loop
        return self.loop

    def on_finished(self, fn: Callable[[Runner], None]) -> Callable[[], None]:
        """Call `fn(runner)` on the task's loop whenever a task ends; returns a remover."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def after(self, fn: Callable[[], Any], what: str) -> None:
        """Call `fn()` once, when the task in flight has ended (now if none is). A failure is not
        dropped: it is the runner's `error` and an `Error` event naming `what` (the panel and
        `%agent status` show it)."""
        task = self.task
        if task is None or task.done():
            fn()
            return

        def then(_task: asyncio.Task[Any]) -> None:
            try:
                fn()
            except Exception as exc:
                self.error = exc
                self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                session = self._session()
                if session is not None:
                    session.events.publish(
                        ev.Error(
                            session.run_id,
                            message=f"{what} failed: {type(exc).__name__}: {exc}",
                            error_type=type(exc).__name__,
                        )
                    )

        task.add_done_callback(then)

    # --- control ---------------------------------------------------------------------------------
    def start(self, max_steps: int | None = None, until: Any = None) -> asyncio.Task[Any]:
        """Run the session (`arun`) as a background task and return the task."""
        session = self.session
        return self._launch("run", lambda: session.arun(max_steps=max_steps, until=until))

    def start_step(self) -> asyncio.Task[Any]:
        """One step (`astep`) as a background task; returns the task (its result is the new node)."""
        session = self.session
        return self._launch("step", session.astep)

    def start_call(self, kind: str, factory: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Task[Any]:
        """Any coroutine of the session as its background task (an approval, then the run going on)."""
        return self._launch(kind, factory)

    def stop(self) -> bool:
        """Cancel the task in flight (the step in flight is dropped). False when nothing ran."""
        task = self.task
        if task is None or task.done():
            return False
        loop = task.get_loop()
        if _running_loop() is loop:
            task.cancel()
        else:
            loop.call_soon_threadsafe(task.cancel)
        return True

    # --- internals -------------------------------------------------------------------------------
    def _launch(self, kind: str, factory: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Task[Any]:
        if self.running:
            raise StepInProgress(
                f"this session already runs in the background ({self.kind}); pause() or stop() it first"
            )
        here = _running_loop()
        if here is not None:
            if self.loop is None or self.loop.is_closed():
                self.loop = here
            return self._create(here, kind, factory)
        loop = self.loop if self.loop is not None and self.loop.is_running() else None
        if loop is None:
            from .sync import background_loop

            loop = background_loop()

        async def create() -> asyncio.Task[Any]:
            return self._create(loop, kind, factory)

        return asyncio.run_coroutine_threadsafe(create(), loop).result()

    def _create(
        self, loop: asyncio.AbstractEventLoop, kind: str, factory: Callable[[], Coroutine[Any, Any, Any]]
    ) -> asyncio.Task[Any]:
        if self.running:  # checked again: another thread may have started one meanwhile
            raise StepInProgress("this session already runs in the background; pause() or stop() it first")
        session = self.session
        task = loop.create_task(factory(), name=f"workbench-{kind}-{session.run_id}")
        self.task, self.kind = task, kind
        self.error, self.traceback = None, ""
        _live_tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        _live_tasks.discard(task)
        session = self._session()
        if session is not None:
            if task.cancelled():
                if session.status == "running":
                    session.status = "paused"
                session.events.publish(ev.Paused(session.run_id, reason="stopped"))
            else:
                exc = task.exception()
                if exc is not None:
                    self.error = exc
                    self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                    already_reported = session.status == "error"
                    session.status = "error"
                    if not already_reported:
                        session.events.publish(
                            ev.Error(
                                session.run_id,
                                message=f"{type(exc).__name__}: {exc}",
                                error_type=type(exc).__name__,
                            )
                        )
        for fn in list(self._listeners):
            try:
                fn(self)
            except Exception:  # a broken viewer must not hide the run's own outcome
                log.exception("background listener %r failed", fn)
