"""The session's env: an env object's own seed, valid actions in the prompt, replay divergence."""

from __future__ import annotations

import pytest
from toys import Counter, react

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel


class Seeded(Counter):
    """Remembers the seeds it was reset with; lists its valid actions."""

    def __init__(self, seed: int | None = None, **kw) -> None:
        super().__init__(**kw)
        self.seed = seed
        self.seen: list[int | None] = []
        self.many = False

    def reset(self, seed=None):
        self.seen.append(seed)
        return super().reset(seed)

    @property
    def actions(self) -> list[str]:
        return [f"a{i}" for i in range(45)] if self.many else ["inc", "dec"]


def test_an_env_objects_own_seed_wins_over_the_sessions():
    env = Seeded(seed=5)
    Session(env=env, model=ScriptedModel([react("inc")]), seed=0)
    assert env.seen == [None]  # the env resets with its own seed 5
    plain = Seeded()
    Session(env=plain, model=ScriptedModel([react("inc")]), seed=7)
    assert plain.seen == [7]  # no seed of its own: the session's


def test_valid_actions_reach_the_prompt_bounded():
    env = Seeded()
    model = ScriptedModel([react("inc")])
    s = Session(env=env, model=model)
    s.step()
    assert model.requests[-1][-1] == {"role": "user", "content": "Valid actions now: inc, dec"}
    env.many = True
    s.step()
    last = model.requests[-1][-1]["content"]
    assert last.startswith("Valid actions now: a0, a1") and last.endswith("a29 ... and 15 more")


def test_a_replay_that_answers_differently_marks_the_node_diverged():
    env = Counter(goal=10, snapshots=False)
    s = Session(env=env, model=ScriptedModel([react("inc")]))
    s.run(max_steps=3)
    errors = []
    s.subscribe(lambda e: errors.append(e) if type(e).__name__ == "Error" else None)
    original = env.step

    def drifted(action):  # the world changed under the agent: replays now count twice
        obs, *rest = original(action)
        env.n += 1
        return (f"n={env.n}", *rest)

    env.step = drifted
    s.rewind(2)
    s.step()  # replays nodes 1 and 2 from reset()
    assert s.tree.nodes[1].info["diverged"] == {"replayed": "n=2"}
    assert any("node 1 diverged on replay" in e.message for e in errors)


@pytest.mark.parametrize("value", ["json", 3])
def test_tool_calling_must_be_a_known_mode(value):
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="tool_calling must be one of"):
        Session(env=Counter(), model=ScriptedModel([react("inc")]), tool_calling=value)


def test_no_env_resync_after_a_malformed_answer():
    env = Counter(goal=10, snapshots=False)  # a resync would have to reset and replay the path
    answers = [react("inc"), react("inc"), "I think I should increment.", "no action again", react("inc")]
    model = ScriptedModel(answers)
    s = Session(env=env, model=model)
    s.run(max_steps=5)
    assert [n.info.get("kind") for n in s.path()[1:]] == [None, None, "malformed", "malformed", None]
    assert s.cursor.observation == "n=3" and not s.cursor.info.get("diverged")
    assert env.resets == 1 and env.steps == 3  # the reset that made the root, no replay


def test_a_rewind_past_a_malformed_answer_still_resyncs_to_its_state():
    env = Counter(goal=10, snapshots=False)
    s = Session(env=env, model=ScriptedModel([react("inc"), react("inc"), "garbled", react("inc")]))
    s.run(max_steps=4)  # n=1, n=2, malformed (state n=2), n=3
    s.rewind(3)  # the malformed node: its env state is its parent's, n=2
    assert s.step().observation == "n=3"
    assert env.resets == 2  # one replay, to node 2
    s.rewind(1)
    assert s.step().observation == "n=2"
