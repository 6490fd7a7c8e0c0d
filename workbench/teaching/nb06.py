"""Checks for notebook 06 (bring your own model and environment): an env class, a MiniGrid policy,
and the vote of a self-consistency strategy.

Each check drives the learner's object the way the workbench does (an env through a `Session`, a
policy as a `ScriptedModel`, a vote inside a strategy), offline and deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..strategies.base import Strategy
from .checks import Checker, CheckResult


def _play(
    env_class: type, start: int, actions: list[str], c: Checker, first_time: bool = False
) -> list[tuple[Any, ...]] | None:
    """reset() then each action through a fresh env; the returned tuples, or None after a failed point."""
    env = c.attempt(lambda: env_class(start=start), f"Counter(start={start}) failed")
    if env is None:
        return None
    first = c.attempt(lambda: env.reset(), "reset() raised")
    shape = (
        isinstance(first, tuple)
        and len(first) == 2
        and isinstance(first[0], str)
        and isinstance(first[1], dict)
    )
    if (first_time or not shape) and not c.point(
        shape,
        "reset() returns (observation, info)",
        f"reset() must return (observation: str, info: dict), not {first!r:.80}",
    ):
        return None
    out = [first]
    for action in actions:
        step = c.attempt(lambda action=action: env.step(action), f"step({action!r}) raised")
        if step is None:
            return None
        if not (isinstance(step, tuple) and len(step) == 5 and isinstance(step[0], str)):
            c.point(
                False,
                "",
                f"step() must return (observation, reward, terminated, truncated, info), not {step!r:.80}",
            )
            return None
        out.append(step)
    return out


def check_counter_env(env_class: Any) -> CheckResult:
    """Exercise 1: `Counter(start=7)`, an env that counts down to exactly 0 by 'minus 1' / 'minus 2'."""
    from ..core.session import Session
    from ..llm.scripted import ScriptedModel

    c = Checker("Exercise 1: an environment of your own")
    if not c.point(
        isinstance(env_class, type),
        "Counter is a class",
        f"Counter is {type(env_class).__name__}, not a class",
    ):
        return c.result()
    steps = _play(env_class, 5, ["minus 2", "minus 2", "minus 1"], c, first_time=True)
    if steps is None:
        return c.result()
    c.point(
        "5" in steps[0][0],
        "the first observation shows the count (5)",
        f"the first observation {steps[0][0]!r} does not show the count 5",
    )
    obs, done = steps[1][0], steps[1][2]
    c.point(
        "3" in obs and not done,
        "'minus 2' from 5 shows 3 and goes on",
        f"'minus 2' from 5 gave {obs!r} (terminated={done}); expected the count 3, not done",
    )
    last = steps[3]
    c.point(
        last[2] and float(last[1]) == 1.0,
        "reaching 0 ends the episode with reward 1",
        f"reaching 0 gave reward {last[1]} terminated={last[2]}; expected 1 and True",
    )
    over = _play(env_class, 1, ["minus 2"], c)
    if over is not None:
        c.point(
            over[1][2] and float(over[1][1]) == 0.0,
            "going below 0 ends it with reward 0",
            f"going below 0 gave reward {over[1][1]} terminated={over[1][2]}; expected 0 and True",
        )
    bad = _play(env_class, 4, ["jump"], c)
    if bad is not None:
        text = bad[1][0].lower()
        c.point(
            not bad[1][2] and ("invalid" in text or "not valid" in text),
            "an invalid action is an observation that says so, and the episode goes on",
            f"'jump' gave {bad[1][0]!r} (terminated={bad[1][2]}); say that it is invalid and go on",
        )
    if c.result().passed:
        answers = [f"Thought: take {a}.\nAction: {a}" for a in ("minus 2", "minus 2", "minus 2", "minus 1")]
        s = Session(env=env_class(), model=ScriptedModel(answers), store=None)
        c.attempt(lambda: s.run(max_steps=6), "a Session could not run it")
        c.point(
            s.tree.outcome == "success",
            "an agent brings 7 to 0 in a Session: success",
            f"an agent taking 2, 2, 2, 1 from 7 ended with outcome {s.tree.outcome}",
        )
    return c.result()


def check_seeker(seeker: Callable[[list[dict[str, Any]]], str]) -> CheckResult:
    """Exercise 2: `seeker(messages)` reaches the goal of MiniGrid-Empty-Random-6x6 on seeds 5-10."""
    import gymnasium
    import minigrid  # noqa: F401  (registers the envs)

    from ..core.session import Session
    from ..envs.gym_adapter import GymTextEnv
    from ..llm.scripted import ScriptedModel

    c = Checker("Exercise 2: a goal-seeker that looks around")
    if not c.function(seeker, "seeker"):
        return c.result()
    for seed in range(5, 11):
        env = GymTextEnv(gymnasium.make("MiniGrid-Empty-Random-6x6-v0"), seed=seed)
        s = Session(env=env, model=ScriptedModel(seeker, name="seeker"), store=None)
        c.attempt(lambda s=s: s.run(max_steps=20), f"seed {seed}: the run failed")
        actions = [n.action or f"(error: {(n.observation or '')[:60]})" for n in s.path()[1:]]
        c.point(
            s.tree.outcome == "success",
            f"seed {seed}: reached the goal in {len(actions)} steps",
            f"seed {seed}: not at the goal after {len(actions)} steps ({', '.join(actions[:8])}"
            f"{' ...' if len(actions) > 8 else ''})",
        )
    return c.result()


class Majority(Strategy):
    """Self-consistency: sample `k` answers, act on the one `vote` picks (the checks' strategy)."""

    name = "majority"
    options = {"k": 5, "vote": None}

    async def astep(self, session: Any) -> Any:
        from ..strategies.parsing import parse_answer

        parent = session.tree.current
        messages = self.messages(session, session.tree.path(copy=False))
        used = session.take_used_edits()
        calls = await asyncio.gather(
            *(session.call_model(messages, parent, sample=i) for i in range(int(self.config["k"])))
        )
        answers = [parse_answer(call, getattr(session.env, "tools", None)) for call in calls]
        chosen = self.config["vote"]([a.action for a in answers])
        best = next((a for a in answers if a.action == chosen), answers[0])
        return await session.aexecute(parent, best, list(calls), used_edits=used)


VOTES = [
    (["a", "b", "a"], "a", "the most common wins"),
    (["b", "a", "a", "b"], "b", "a tie goes to the one that came first"),
    ([None, None, "c"], "c", "None (an unreadable answer) is not a vote"),
    ([None, "x", None, "y", None], "x", "None is not a vote, even when it is the most common entry"),
    ([None, None], None, "no action at all gives None"),
    ([], None, "an empty list gives None"),
]


def check_vote(vote: Callable[[list[Any]], Any]) -> CheckResult:
    """Exercise 3: `vote(actions)`, the most common non-None action, ties to the earliest."""
    from ..core.session import Session
    from ..llm.model import Model

    c = Checker("Exercise 3: a majority vote")
    if not c.function(vote, "vote"):
        return c.result()
    for actions, want, rule in VOTES:
        got = c.attempt(lambda actions=actions: vote(list(actions)), f"vote({actions}) raised")
        c.point(
            got == want,
            f"{rule}: vote({actions}) = {want!r}",
            f"{rule}: vote({actions}) gave {got!r}, expected {want!r}",
        )
    if c.result().passed:
        s = Session(
            env="game24",
            seed=12,
            model=Model("workbench/demo", seed=12, error_rate=0.3),
            strategy=Majority(vote=vote),
            store=None,
        )
        node = c.attempt(lambda: s.step(), "a Majority step with your vote failed")
        if node is not None:
            sampled = [call.response for call in node.llm_calls]
            c.point(
                len(sampled) == 5 and node.action is not None,
                f"inside the strategy: 5 samples, it acted on {node.action!r}",
                "inside the strategy the step did not act on a voted action",
            )
    return c.result()
