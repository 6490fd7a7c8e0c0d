"""Fair sharing of the model-call budget between the agents of one kernel."""

from __future__ import annotations

import asyncio

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.scripted import ScriptedModel
from workbench.oversight.scheduler import FairScheduler


class HeldModel(ScriptedModel):
    """Each call waits until the test releases it, so the queue is observable without sleeping."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def acomplete(self, messages, **kw):
        self.entered.set()
        await self.release.wait()
        return await super().acomplete(messages, **kw)


def test_a_greedy_agent_cannot_starve_another_round_robin_order():
    async def main() -> None:
        sched = FairScheduler(limit=2)

        async def call(agent: str, gate: asyncio.Event) -> None:
            async with sched.slot(agent):
                await gate.wait()

        gate = asyncio.Event()
        greedy = [asyncio.create_task(call("search", gate)) for _ in range(6)]
        await asyncio.sleep(0)
        polite = [asyncio.create_task(call("react", gate)) for _ in range(2)]
        await asyncio.sleep(0)
        assert sched.stats()["search"] == {"running": 2, "waiting": 4, "done": 0}
        assert sched.stats()["react"] == {"running": 0, "waiting": 2, "done": 0}
        gate.set()
        await asyncio.gather(*greedy, *polite)
        # after the first two slots the turns alternate while both agents wait
        assert sched.order[:6] == ["search", "search", "react", "search", "react", "search"]
        assert sched.stats()["react"] == {"running": 0, "waiting": 0, "done": 2}

    asyncio.run(main())


def test_a_cancelled_wait_gives_nothing_away_and_bad_limits_are_refused():
    async def main() -> None:
        sched = FairScheduler(limit=1)
        hold = asyncio.Event()

        async def call(agent: str) -> None:
            async with sched.slot(agent):
                await hold.wait()

        first = asyncio.create_task(call("a"))
        second = asyncio.create_task(call("b"))
        await asyncio.sleep(0)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        hold.set()
        await first
        third = asyncio.create_task(call("c"))
        await third
        assert sched.stats()["c"]["done"] == 1 and sched.stats()["b"]["waiting"] == 0

    asyncio.run(main())
    with pytest.raises(ConfigError, match="at least 1"):
        FairScheduler(limit=0)


def test_sessions_that_share_a_scheduler_take_turns_for_their_model_calls():
    async def main() -> None:
        sched = FairScheduler(limit=1)
        models = [HeldModel(["Thought: t\nAction: go north"]) for _ in range(2)]
        sessions = [Session(env="gridworld", model=m) for m in models]
        for name, s in zip(("left", "right"), sessions, strict=True):
            s.share(sched, name)
        tasks = [asyncio.create_task(s.arun(max_steps=2)) for s in sessions]
        await models[0].entered.wait()  # left holds the only slot; right's call waits for it
        assert sched.stats()["left"]["running"] == 1 and sched.stats()["right"]["waiting"] == 1
        for m in models:
            m.release.set()
        await asyncio.gather(*tasks)
        assert sched.order == ["left", "right", "left", "right"]

    asyncio.run(main())


def test_percent_agent_agents_shows_each_agents_share(shell):
    from IPython.utils.capture import capture_output

    with capture_output():
        shell.run_line_magic("agent", "new --name one --env gridworld")
        shell.run_line_magic("agent", "step")
        shell.run_line_magic("agent", "new --name two --env gridworld")
    with capture_output() as cap:
        shell.run_line_magic("agent", "agents")
    text = cap.outputs[0].data["text/plain"]
    assert "at most 4 at once" in text and "0 running, 0 waiting, 1 done" in text
    magics = shell.magics_manager.registry["AgentMagics"]
    assert magics.agents.get("two").session.scheduler is magics.agents.scheduler
