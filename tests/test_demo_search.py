"""The demo model's answers to A*'s imagination and MCTS's reflection prompts (`workbench.demo.search`)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.session import Session
from workbench.demo.policy import respond
from workbench.envs import game24, gridworld
from workbench.envs.game24 import PUZZLES, Game24
from workbench.envs.gridworld import GridWorld
from workbench.llm.model import Model
from workbench.strategies.search.astar import IMAGINE_STATE, IMAGINE_SYSTEM, parse_remaining
from workbench.strategies.search.mcts import FINAL_OBSERVATION, REFLECT_SYSTEM


def prompt(system: str, actions: list[str], anchor: str, observation: str) -> list[dict[str, str]]:
    """The messages the strategies send (see `common.trajectory_text`)."""
    listed = "\n".join(f"{i}. {a}" for i, a in enumerate(actions, start=1)) or "(none yet)"
    user = f"Task: solve it\n\nActions so far:\n{listed}\n\n{anchor}\n{observation}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def imagine(actions: list[str], before: str, **kw: Any) -> str:
    return respond(prompt(IMAGINE_SYSTEM, actions, IMAGINE_STATE, before), **kw)


def reflect(actions: list[str], final: str, **kw: Any) -> str:
    return respond(prompt(REFLECT_SYSTEM, actions, FINAL_OBSERVATION, final), **kw)


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 7])
def test_imagined_remaining_steps_are_the_gridworld_route(seed: int) -> None:
    env = GridWorld(seed=seed)
    route = gridworld.route(env.state) or []
    done: list[str] = []
    for k, action in enumerate(route):
        before = env.observation
        for other in [action, *gridworld.valid_actions(env.state)][: 2 if k % 3 else 4]:
            after, _, _ = gridworld.transition(env.state, other)
            truth = 0 if after.at_goal else len(gridworld.route(after) or [])
            answer = imagine([*done, other], before, error_rate=0)
            assert parse_remaining(answer) == truth, (seed, k, other, answer)
            assert answer.endswith(f"Remaining steps: {truth}") and answer.count("Action: ") == min(truth, 8)
        env.step(action)
        done.append(action)


@pytest.mark.parametrize("numbers", [PUZZLES[0], PUZZLES[13], PUZZLES[20], PUZZLES[30]])
def test_imagined_remaining_steps_in_game24(numbers: tuple[int, ...]) -> None:
    env = Game24(numbers=list(numbers))
    done: list[str] = []
    for move in game24.solve24(numbers) or []:
        before, current = env.observation, list(env.numbers)
        answer = imagine([*done, move], before, error_rate=0)
        after = game24.apply_move(current, move) or []
        assert parse_remaining(answer) == len(after) - 1, answer
        lost = [m for m in game24.all_moves(current) if m not in game24.good_moves(current)]
        if lost:  # a move after which 24 is out of reach: a new attempt is needed
            assert (parse_remaining(imagine([*done, lost[0]], before, error_rate=0)) or 0) >= 3
        env.step(move)
        done.append(move)
    assert env.numbers == [24]


def test_imagination_noise_is_deterministic_and_at_the_error_rate() -> None:
    env = Game24(numbers=[4, 6, 8, 1])
    answers = [imagine(["4 * 1"], env.observation, seed=s, error_rate=0.3) for s in range(200)]
    assert answers == [imagine(["4 * 1"], env.observation, seed=s, error_rate=0.3) for s in range(200)]
    off = sum(parse_remaining(a) != 2 for a in answers)
    assert 30 < off < 90


def test_astar_records_the_true_remaining_steps() -> None:
    model = Model("workbench/demo", seed=3, error_rate=0)
    session = Session(env="game24", model=model, seed=14, strategy="astar", max_expansions=3)
    session.run()
    children = [n for n in session.tree.nodes.values() if "imagined_remaining" in n.info]
    assert children
    for node in children:
        parent = session.tree.nodes[node.parent_id]  # type: ignore[index]
        numbers, _ = game24.parse_observation(parent.observation) or ([], [])
        after = game24.apply_move(numbers, str(node.action)) or []
        if game24.solve24(after) is not None:
            assert node.info["imagined_remaining"] == len(after) - 1


def failed_game24(actions: list[str], numbers: list[int]) -> str:
    env = Game24(numbers=numbers)
    for action in actions:
        env.step(action)
    assert env.terminated and env.numbers != [24]
    return env.observation


def test_reflection_names_the_step_that_lost_24() -> None:
    actions = ["4 * 1", "6 + 8", "14 + 4"]  # 6 8 4 can make 24; 4 14 cannot
    answer = reflect(actions, failed_game24(actions, [4, 6, 8, 1]), error_rate=0)
    assert answer.startswith("Reflection: Step 2, 6 + 8 = 14, was the mistake: it left 4 14")
    fix = re.search(r"Next time play (.+?) there", answer)
    assert fix and fix.group(1) in game24.good_moves([Fraction(n) for n in (6, 8, 4)])
    with_invalid = ["4 * 1", "7 * 7", "6 + 8", "14 + 4"]  # an invalid action makes no game step
    answer = reflect(with_invalid, failed_game24(with_invalid, [4, 6, 8, 1]), error_rate=0)
    assert answer.startswith("Reflection: Step 3, 6 + 8 = 14, was the mistake")


def test_reflection_names_the_gridworld_move_that_went_astray() -> None:
    env = GridWorld(seed=2, max_steps=12)
    route = gridworld.route(env.state) or []
    planned, actions = [*route[:2], "go north", "go south", "dance", *route[2:]], []
    while not env.truncated:
        actions.append(planned[len(actions)])
        env.step(actions[-1])
    answer = reflect(actions, env.observation, error_rate=0)
    assert answer.startswith("Reflection: Step 3, go north, took me away from the key"), answer
    assert "2 of my 13 actions made no progress" in answer


def test_other_prompts_are_not_taken_for_search_prompts() -> None:
    obs = Game24(numbers=[4, 6, 8, 1]).observation
    lesson = "Step 1 lost 24. Remaining steps: 3. Reflection: none."
    system = f"Answer with Thought: and Action:.\n\nReflections on earlier failed attempts:\n- {lesson}"
    answer = respond(
        [{"role": "system", "content": system}, {"role": "user", "content": f"Observation:\n{obs}"}],
        error_rate=0,
    )
    assert re.fullmatch(r"Thought: [^\n]+\nAction: [^\n]+", answer)


_anchor = st.sampled_from([IMAGINE_STATE, FINAL_OBSERVATION, "Observation:", ""])
_body = st.one_of(
    st.text(max_size=60),
    st.just(GridWorld(seed=1).observation),
    st.just(Game24(seed=5).observation),
    st.builds(lambda t: "Numbers left: " + t, st.text("0123456789/- ", max_size=20)),
    st.builds(
        lambda t: "Numbers left: 1\nSteps so far:\nStep 1: " + t, st.text("0123456789/-+*= a:", max_size=30)
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([IMAGINE_SYSTEM, REFLECT_SYSTEM]),
    st.lists(
        st.one_of(st.text(max_size=15), st.sampled_from(["go north", "pick up key", "4 * 6", "answer: 4"]))
    ),
    _anchor,
    _body,
    st.floats(0, 1),
)
def test_search_prompts_with_arbitrary_content_never_raise(
    system: str, actions: list[str], anchor: str, body: str, error_rate: float
) -> None:
    answer = respond(prompt(system, actions, anchor, body), error_rate=error_rate)
    assert isinstance(answer, str) and answer
    if anchor == IMAGINE_STATE and system == IMAGINE_SYSTEM:
        assert parse_remaining(answer) is not None
    if anchor == FINAL_OBSERVATION and system == REFLECT_SYSTEM:
        assert answer.startswith("Reflection: ")


@pytest.mark.parametrize("env", ["gridworld", "game24"])
def test_the_demo_model_answers_astars_candidate_list_with_a_good_move_first(env: str) -> None:
    model = Model("workbench/demo", seed=3, error_rate=0)
    session = Session(env=env, model=model, seed=14, strategy="astar", branching=4, max_expansions=2)
    session.run()
    root = session.tree.root
    assert [c.purpose for c in root.llm_calls] == ["propose"]  # one call proposed the root's children
    kids = sorted(session.tree.children(root.id), key=lambda n: n.info["rank"])
    assert len(kids) >= 2 and len({k.action for k in kids}) == len(kids)
    first = str(kids[0].action)
    if env == "game24":
        numbers, _ = game24.parse_observation(root.observation) or ([], [])
        assert all(game24.apply_move(numbers, str(k.action)) is not None for k in kids)
        assert game24.solve24(game24.apply_move(numbers, first) or []) is not None
    else:
        state = gridworld.parse_observation(root.observation)[0]  # type: ignore[index]
        assert all(gridworld.transition(state, str(k.action))[2] for k in kids)
        after = gridworld.transition(state, first)[0]
        assert len(gridworld.route(after) or []) < len(gridworld.route(state) or [])


def test_the_demo_model_summarises_finished_gridworld_subgoals() -> None:
    model = Model("workbench/demo", seed=1, error_rate=0)
    session = Session(
        env="gridworld", model=model, memory="hierarchical", memory_options={"summarize": "llm"}
    )
    session.run(max_steps=30)
    made = [text for n in session.tree.nodes.values() for text in (n.info.get("summaries") or {}).values()]
    assert made and made[0].startswith("pick up the key: met; the key is held")
    calls = [c for n in session.tree.nodes.values() for c in n.llm_calls if c.purpose == "summarize"]
    assert len(calls) == len(made)
