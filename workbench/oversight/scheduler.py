"""Fair sharing of the model-call budget between the agents of one kernel (after AIOS's scheduler).

    sched = FairScheduler(limit=4)
    s1.share(sched, "explorer"); s2.share(sched, "solver")   # %agent does this for its agents

At most `limit` model calls run at once across every agent that shares the scheduler. When more
are waiting, the free slots go round-robin over the agents (one call of each waiting agent in
turn, FIFO within an agent), so a search that samples 16 calls at once cannot starve a ReAct agent
next to it. `stats()` says, per agent, how many calls run, wait, and ran; `%agent agents` shows it.
It works across threads and event loops (a blocking `step()` runs on the workbench's own loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator

from ..errors import ConfigError


class FairScheduler:
    """Round-robin model-call slots across agents (see the module docstring)."""

    def __init__(self, limit: int = 4) -> None:
        if int(limit) < 1:
            raise ConfigError(f"a scheduler needs a limit of at least 1 call at once, not {limit}")
        self.limit = int(limit)
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        self._turns: deque[str] = deque()  # agents in the order they first asked
        self._last: dict[str, int] = {}  # when each agent was last given a slot (round-robin)
        self._tick = 0
        self._running: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self.order: list[str] = []  # the agents in the order their calls were granted (for tests)

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            names = set(self._running) | set(self._waiting) | set(self._done)
            return {
                n: {
                    "running": self._running.get(n, 0),
                    "waiting": len(self._waiting.get(n, ())),
                    "done": self._done.get(n, 0),
                }
                for n in sorted(names)
            }

    @contextlib.asynccontextmanager
    async def slot(self, agent: str) -> AsyncIterator[None]:
        """Hold one call slot for `agent` while the body runs."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.setdefault(agent, deque()).append((loop, fut))
            if agent not in self._turns:
                self._turns.append(agent)
            self._grant()
        try:
            await fut
        except asyncio.CancelledError:
            with self._lock:
                queue = self._waiting.get(agent)
                if queue is not None and (loop, fut) in queue:
                    queue.remove((loop, fut))
                else:
                    self._release(agent)  # granted just before the cancel: give the slot back
            raise
        try:
            yield
        finally:
            with self._lock:
                self._done[agent] = self._done.get(agent, 0) + 1
                self._release(agent)

    def _release(self, agent: str) -> None:
        self._running[agent] -= 1
        self._grant()

    def _grant(self) -> None:
        """Give free slots to waiting calls: each to the waiting agent served longest ago (the lock
        is held), so agents take turns whatever the number of calls each one queues."""
        while sum(self._running.values()) < self.limit:
            waiting = [a for a in self._turns if self._waiting.get(a)]
            if not waiting:
                return
            agent = min(waiting, key=lambda a: self._last.get(a, -1))  # the longest without a turn
            self._tick += 1
            self._last[agent] = self._tick
            loop, fut = self._waiting[agent].popleft()
            self._running[agent] = self._running.get(agent, 0) + 1
            self.order.append(agent)
            loop.call_soon_threadsafe(_grant_future, fut)


def _grant_future(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
