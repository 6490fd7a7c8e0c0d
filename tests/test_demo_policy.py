"""The simulated demo model's policy: it reads messages like a real model and plays the built-ins."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.demo.policy import respond
from workbench.demo.reading import apply_diff, parse_plan, read_conversation
from workbench.envs import game24, gridworld
from workbench.envs.game24 import PUZZLES, Game24
from workbench.envs.gridworld import GridWorld

SYSTEM = "You are an agent in a text environment. Answer with a Thought: line and an Action: line."
SUBGOALS = SYSTEM + "\nWhen you start a new part of the task, first write a line Subgoal: <one line>."
JUDGE = (
    "Judge the agent's progress. Answer with\nThoughts: <reasoning>\nStatus: success or failure\n"
    "On the right track: yes or no"
)
SCORE = "Rate how close the agent is to finishing, on a scale of 1-10. Answer with Thoughts: and Score: N."


def diff(prev: str, cur: str) -> str:
    lines = difflib.unified_diff(prev.strip().splitlines(), cur.strip().splitlines(), n=0, lineterm="")
    body = list(lines)[2:]
    return "\n".join(body) if body else "(no change)"


def field_of(answer: str, name: str) -> str | None:
    m = re.search(rf"(?m)^{name}:[ \t]*(.*)$", answer)
    return m.group(1).strip() if m else None


def start(env: Any, system: str = SYSTEM) -> tuple[list[dict[str, str]], str]:
    obs, _ = env.reset()
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Task: {env.task}\n\nObservation:\n{obs}"},
    ], obs


def drive(env: Any, *, diffs: bool = False, system: str = SYSTEM, limit: int = 80, **kw: Any) -> tuple:
    """Play `env` with the policy; returns (total reward, terminated, messages)."""
    messages, prev = start(env, system)
    total, terminated = 0.0, False
    for _ in range(limit):
        answer = respond(messages, **kw)
        messages.append({"role": "assistant", "content": answer})
        obs, reward, terminated, truncated, _ = env.step(field_of(answer, "Action") or "")
        total += reward
        if terminated or truncated:
            break
        body = f"Observation diff:\n{diff(prev, obs)}" if diffs else f"Observation:\n{obs}"
        messages.append({"role": "user", "content": body})
        prev = obs
    return total, terminated, messages


@pytest.mark.parametrize("diffs", [False, True], ids=["full", "diff"])
def test_solves_gridworld_without_errors(diffs: bool) -> None:
    for seed in range(8):
        env = GridWorld(seed=seed)
        optimal = len(gridworld.route(GridWorld(seed=seed).state) or [])
        total, terminated, messages = drive(env, diffs=diffs, error_rate=0)
        assert terminated and total > 0, seed
        answers = [m["content"] for m in messages if m["role"] == "assistant"]
        assert all(re.fullmatch(r"Thought: [^\n]+\nAction: [^\n]+", a) for a in answers)
        assert len(answers) <= optimal + 6  # phase by phase BFS: optimal or nearly


@pytest.mark.parametrize("diffs", [False, True], ids=["full", "diff"])
def test_solves_every_game24_puzzle_without_errors(diffs: bool) -> None:
    for seed in range(len(PUZZLES)):
        total, terminated, _ = drive(Game24(seed=seed), diffs=diffs, error_rate=0)
        assert terminated and total == 1.0, PUZZLES[seed]


def test_reconstructs_the_observation_from_diffs() -> None:
    env = GridWorld(seed=4)
    _, _, messages = drive(env, diffs=True, error_rate=0, limit=5)
    assert any(m["content"].startswith("Observation diff:\n@@") for m in messages)
    assert read_conversation(messages).observation == env.observation.strip()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text("ab#.-+@ ", max_size=6), max_size=8),
    st.lists(st.text("ab#.-+@ ", max_size=6), max_size=8),
)
def test_apply_diff_inverts_difflib(old: list[str], new: list[str]) -> None:
    a, b = "\n".join(old), "\n".join(new)
    assert apply_diff(a, diff(a, b)) == "\n".join(b.strip().splitlines())


def test_deterministic_and_samples_differ() -> None:
    messages, _ = start(Game24(numbers=[1, 2, 3, 4]))
    assert respond(messages, seed=3, sample=1) == respond(messages, seed=3, sample=1)
    actions = {field_of(respond(messages, error_rate=0, sample=k), "Action") for k in range(6)}
    assert len(actions) == 6  # distinct candidates for a search to choose from
    for action in actions:
        after = game24.apply_move([game24.Fraction(n) for n in (1, 2, 3, 4)], str(action))
        assert after is not None and game24.solve24(after) is not None


def test_errors_at_the_error_rate() -> None:
    env = GridWorld(seed=4)  # three valid moves, one of them good
    messages, obs = start(env)
    best = {field_of(respond(messages, error_rate=0, seed=s), "Action") for s in range(40)}
    wrong = malformed = 0
    for seed in range(200):
        answer = respond(messages, seed=seed, error_rate=0.3)
        action = field_of(answer, "Action")
        if action is None or gridworld.parse_action(action) is None:
            malformed += 1
        elif action not in best:
            wrong += 1
            assert action in env.actions  # plausible: a valid move, only not a good one
    assert wrong > malformed > 0
    assert 0.15 < (wrong + malformed) / 200 < 0.45


def test_subgoals_appear_when_asked_and_never_twice_in_a_row() -> None:
    _, _, messages = drive(GridWorld(seed=2), system=SUBGOALS, error_rate=0)
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    flags = [field_of(a, "Subgoal") is not None for a in answers]
    assert flags[0] and answers[0].startswith("Subgoal: pick up the key\nThought: ")
    assert [field_of(a, "Subgoal") for a in answers if field_of(a, "Subgoal")] == [
        "pick up the key",
        "open the door",
        "reach the goal",
    ]
    assert not any(x and y for x, y in zip(flags, flags[1:], strict=False))
    _, _, plain = drive(GridWorld(seed=2), error_rate=0)
    assert not any("Subgoal:" in m["content"] for m in plain if m["role"] == "assistant")


def test_reads_the_observation_of_a_finished_subgoal() -> None:
    env = GridWorld(seed=2)
    for action in (gridworld.route(env.state) or [])[:3]:
        env.step(action)
    messages = [
        {"role": "system", "content": SUBGOALS},
        {"role": "user", "content": f"Subgoal 1 (done): pick up the key\nObservation: {env.observation}"},
    ]
    answer = respond(messages, error_rate=0)
    assert field_of(answer, "Action") in gridworld.valid_actions(env.state)
    expected = respond(
        [messages[0], {"role": "user", "content": f"Observation:\n{env.observation}"}], error_rate=0
    )
    assert field_of(answer, "Action") == field_of(expected, "Action")


def test_judge_format_and_verdicts() -> None:
    pattern = r"Thoughts: [^\n]+\nStatus: (success|failure)\nOn the right track: (yes|no)"
    env = Game24(numbers=[4, 6, 8, 1])
    messages, obs = start(env, JUDGE)
    assert re.fullmatch(pattern, respond(messages, error_rate=0))
    after = env.step("4 * 6")[0]
    off = respond([*messages, {"role": "user", "content": f"Observation:\n{after}"}], error_rate=0)
    assert re.fullmatch(pattern, off) and off.endswith("failure\nOn the right track: no")
    env.reset()
    won = [env.step(s)[0] for s in game24.solve24([4, 6, 8, 1]) or []][-1]
    verdict = respond([messages[0], {"role": "user", "content": f"Observation:\n{won}"}], error_rate=0)
    assert "Status: success" in verdict
    score = respond(
        [{"role": "system", "content": SCORE}, {"role": "user", "content": f"Observation:\n{won}"}]
    )
    assert re.search(r"(?m)^Score: 10$", score)
    grid = GridWorld(seed=3)
    messages, obs = start(grid, JUDGE)
    bad = grid.step("fly")[0]
    assert respond([*messages, {"role": "user", "content": f"Observation:\n{bad}"}], error_rate=0).endswith(
        "On the right track: no"
    )


def test_edited_plan_changes_the_next_action() -> None:
    for seed in range(10):
        env = GridWorld(seed=seed)
        key_plan = SYSTEM + "\nPlan:\n1. [>] pick up the key\n2. [ ] open the door\n3. [ ] reach the goal"
        corner = (
            SYSTEM
            + "\nPlan:\n1. [x] look around\n2. [ ] go to the bottom-right corner\n3. [ ] pick up the key"
        )
        first = field_of(respond(start(env, key_plan)[0], error_rate=0), "Action")
        answer = respond(start(env, corner)[0], error_rate=0)
        if field_of(answer, "Action") != first:
            assert "Plan step 2" in answer and "2. [>] go to the bottom-right corner" in answer
            break
    else:
        pytest.fail("a corner plan never changed the first move")
    messages, _ = start(Game24(numbers=[4, 6, 8, 1]), SYSTEM + "\nPlan:\n1. [ ] 8 - 6\n2. [ ] 4 * 1")
    assert field_of(respond(messages, error_rate=0), "Action") == "8 - 6"
    messages[0]["content"] = SYSTEM + "\nPlan:\n1. [-] 8 - 6\n2. [ ] 4 * 1"
    assert field_of(respond(messages, error_rate=0), "Action") == "4 * 1"


def test_proposes_a_plan_and_marks_progress() -> None:
    env = GridWorld(seed=6)
    messages, _ = start(env, SYSTEM + "\nKeep a plan; revise it with a Plan: block.\n\nPlan:\n(empty)")
    first = respond(messages, error_rate=0)
    assert first.endswith("Plan:\n1. [>] pick up the key\n2. [ ] open the door\n3. [ ] reach the goal")
    assert parse_plan("x\nPlan:\n(empty)") == [] and parse_plan("no plan here") is None
    route = gridworld.route(env.state) or []
    for action in route[: route.index("pick up key") + 1]:
        obs = env.step(action)[0]
    system = SYSTEM + "\nPlan:\n1. [>] pick up the key\n2. [ ] open the door\n3. [ ] reach the goal"
    answer = respond(
        [{"role": "system", "content": system}, {"role": "user", "content": f"Observation:\n{obs}"}]
    )
    assert "1. [x] pick up the key\n2. [>] open the door" in answer


def test_unreadable_conversations_get_a_safe_answer() -> None:
    for messages in ([], [{"role": "user", "content": "hello"}], [{"role": "user"}], ["junk", 3]):
        answer = respond(messages, error_rate=0)  # type: ignore[arg-type]
        assert re.fullmatch(r"Thought: [^\n]+\nAction: look", answer)


def test_policy_does_not_import_litellm() -> None:
    code = "import sys, workbench.demo.policy; assert 'litellm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


_OBS = GridWorld(seed=1).observation
_content = st.one_of(
    st.text(max_size=80),
    st.none(),
    st.integers(),
    st.builds(lambda t: "Observation:\n" + t, st.text(max_size=80)),
    st.builds(lambda t: "Observation diff:\n@@ -1 +1 @@\n" + t, st.text(max_size=40)),
    st.builds(
        lambda k, t: _OBS[:k] + t + _OBS[k + len(t) :], st.integers(0, len(_OBS)), st.text("#.AKDG/\n ")
    ),
    st.builds(lambda t: "Numbers left: " + t, st.text("0123456789/- ", max_size=20)),
    st.lists(st.one_of(st.text(max_size=20), st.fixed_dictionaries({"text": st.text(max_size=20)}))),
)
_message = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool", "x"]), "content": _content}
    ),
    st.integers(),
    st.text(max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_message, max_size=6), st.integers(0, 3), st.floats(0, 1))
def test_arbitrary_messages_never_raise(messages: list[Any], sample: int, error_rate: float) -> None:
    answer = respond(messages, sample=sample, error_rate=error_rate)
    assert isinstance(answer, str) and answer
