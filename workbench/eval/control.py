"""Pause, resume and cancel a running sweep from any thread (a widget button, a magic, Ctrl-C)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class SweepCancelled(Exception):
    """Raised inside a cell by `SweepControl.checkpoint` once the sweep is cancelled."""


class SweepControl:
    """Pause, resume and cancel a running sweep; every method is thread-safe (a widget's button
    callback may arrive on another thread). Pausing lets the steps in flight finish and starts no
    new step; cancelling drops the steps in flight (their runs keep what they stored)."""

    def __init__(self) -> None:
        self._paused = threading.Event()
        self._cancelled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._on_cancel: list[Callable[[], None]] = []

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop the sweep runs on (done by `Sweep.arun`)."""
        self._loop = loop
        self._wake = asyncio.Event()
        if not self.paused:
            self._wake.set()

    def on_loop(self, fn: Callable[[], None], *, or_now: bool = False) -> None:
        """Call `fn` on the sweep's loop (at once when on it, else through it, thread-safe). With no
        open loop, `fn` is dropped, or called at once when `or_now`."""
        loop = self._loop
        if loop is None or loop.is_closed():
            if or_now:
                fn()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)

    def pause(self) -> None:
        self._paused.set()
        self.on_loop(lambda: self._wake.clear() if self._wake is not None else None)

    def resume(self) -> None:
        self._paused.clear()
        self.on_loop(lambda: self._wake.set() if self._wake is not None else None)

    def cancel(self) -> None:
        self._cancelled.set()

        def fire() -> None:
            if self._wake is not None:
                self._wake.set()  # a paused cell wakes up to see the cancel
            for fn in list(self._on_cancel):
                fn()

        self.on_loop(fire)

    def on_cancel(self, fn: Callable[[], None]) -> None:
        """Call `fn` on the driver's loop when the sweep is cancelled (at once if it already is)."""
        self._on_cancel.append(fn)
        if self.cancelled:
            self.on_loop(fn)

    async def checkpoint(self) -> None:
        """Wait while paused; raise `SweepCancelled` once cancelled. Call it on the bound loop."""
        while self.paused and not self.cancelled and self._wake is not None:
            self._wake.clear()  # a resume() wakes it (from any thread, through the loop)
            await self._wake.wait()
        if self.cancelled:
            raise SweepCancelled("the sweep was cancelled")
