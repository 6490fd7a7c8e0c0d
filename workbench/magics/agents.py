"""The agents of one kernel: named sessions, the current one, and their background runs.

Several agents may coexist; one is current and every `%agent` command without a name acts on it.
A background run is a `BackgroundRun`: a handle on the asyncio task `Session.start` made on the
kernel's loop. It is awaitable (`h = %agent wait`, then `await h`), so a notebook run top to bottom
can wait for its agents before the kernel ends.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from ..core.background import runner_for
from ..core.session import Session
from ..core.tree import Node

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


async def _finished(task: asyncio.Task[Any]) -> None:
    await asyncio.wait([task])


class BackgroundRun:
    """A run started in the background. `await` it to wait for the end: it returns itself, shown as
    one line ("explorer: done at node 29 after 29 steps"; a stopped run too), or raises what a failed
    run raised; `result()` then gives the new nodes."""

    def __init__(self, name: str, session: Session, task: Any, max_steps: int | None = None) -> None:
        self.name = name
        self.session = session
        self.task = task
        self.max_steps = max_steps

    def done(self) -> bool:
        return bool(self.task.done())

    def cancel(self) -> None:
        if not self.done():
            self.session.stop()

    def result(self) -> list[Node]:
        """The nodes the run added (raises what the run raised; only once it is done)."""
        return list(self.task.result())

    def __await__(self) -> Generator[Any, None, BackgroundRun]:
        return self._wait().__await__()

    async def _wait(self) -> BackgroundRun:
        """Wait for the end; a stopped run is an ordinary end, a failed one raises its exception."""
        task = self.task
        if task.get_loop() is not asyncio.get_running_loop():  # started on another loop (a thread)
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_finished(task), task.get_loop()))
        else:
            await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()
        return self

    def _summary(self) -> str:
        s = self.session
        if not self.done():
            limit = f" (at most {self.max_steps} steps)" if self.max_steps else ""
            return f"{self.name}: running in the background{limit}; %agent pause stops it after this step"
        if self.task.cancelled():
            return f"{self.name}: stopped at node {s.tree.cursor} after {s.tree.steps} steps"
        error = self.task.exception()
        if error is not None:
            return f"{self.name}: the run failed: {type(error).__name__}: {error}"
        return f"{self.name}: {s.status} at node {s.tree.cursor} after {s.tree.steps} steps"

    def __repr__(self) -> str:
        return f"<{self._summary()}>"

    def _repr_html_(self) -> str:
        from .render import small

        return small(self._summary())._repr_html_()


@dataclass
class Agent:
    """One named session and what the magics keep for it (its panel, editors, background run)."""

    name: str
    session: Session
    panel: Any = None
    plan_editor: Any = None
    memory_editor: Any = None
    tree_view: Any = None
    background: BackgroundRun | None = None
    store: Any = None  # a run store `%agent save` opened for this agent

    @property
    def running(self) -> bool:
        """Whether a background task of the session (a run, or a step from the panel) is in flight."""
        return runner_for(self.session).running

    def handle(self) -> BackgroundRun | None:
        """The session's latest background task as a `BackgroundRun`, or None if it never had one."""
        task = runner_for(self.session).task
        if task is None:
            return None
        if self.background is None or self.background.task is not task:
            self.background = BackgroundRun(self.name, self.session, task)
        return self.background

    def require_idle(self, what: str) -> None:
        if self.running:
            raise UsageError(
                f"{self.name} is running in the background; %agent pause (or %agent stop) it before {what}"
            )


class Agents:
    """Named agents; `current` is the one commands act on."""

    def __init__(self) -> None:
        self._agents: dict[str, Agent] = {}
        self.current_name: str | None = None
        self._made = 0
        self.scheduler: Any = None  # the kernel's FairScheduler, made with the first agent

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[Agent]:
        return iter(list(self._agents.values()))

    def names(self) -> list[str]:
        return list(self._agents)

    def check_name(self, name: str | None) -> str:
        """`name`, or a fresh `agentN`; a malformed name is a usage error."""
        if name is None:
            n = self._made + 1
            while f"agent{n}" in self._agents:
                n += 1
            return f"agent{n}"
        if not NAME.match(name):
            raise UsageError(
                f"agent names are letters, digits, '_' and '-', starting with a letter, such as explorer; not {name!r}"
            )
        return name

    def add(self, name: str, session: Session) -> Agent:
        """Add (or replace: its background run is stopped) the agent `name` and make it current."""
        old = self._agents.get(name)
        if old is not None and old.running:
            old.session.stop()
        self._made += 1
        if self.scheduler is None:
            from ..oversight.scheduler import FairScheduler

            self.scheduler = FairScheduler(limit=4)
        session.share(self.scheduler, name)  # the agents of a kernel share its model-call budget fairly
        agent = Agent(name, session)
        self._agents[name] = agent
        self.current_name = name
        return agent

    def get(self, name: str | None = None) -> Agent:
        """The agent `name` (default: the current one)."""
        if not self._agents:
            raise UsageError("no agent yet; make one with %agent new --env gridworld (or a %%agent cell)")
        name = name or self.current_name
        if name not in self._agents:
            raise UsageError(f"no agent {name!r}; valid: {', '.join(self._agents)}")
        return self._agents[name]

    def use(self, name: str) -> Agent:
        agent = self.get(name)
        self.current_name = agent.name
        return agent

    def clear(self) -> None:
        for agent in self:
            if agent.running:
                agent.session.stop()
            agent.session.close()
        self._agents.clear()
        self.current_name = None
