"""The built-in text environments and the gymnasium adapter."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.envs import game24, gridworld
from workbench.envs.base import TextEnv, can_snapshot, make_env
from workbench.envs.game24 import PUZZLES, Game24, solve24
from workbench.envs.gridworld import GridWorld
from workbench.errors import ConfigError

# --- gridworld -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [7, 9, 11, 15])
def test_layouts_are_solvable_and_the_route_wins(size: int) -> None:
    for seed in range(40):
        env = GridWorld(size=size, seed=seed, max_steps=200)
        actions = gridworld.route(env.state)
        assert actions, (size, seed)
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            assert info["valid"], (size, seed, action, obs)
        assert terminated and not truncated
        assert reward == pytest.approx(1 - 0.9 * len(actions) / 200)


def test_layout_has_one_of_each_object_and_the_goal_is_behind_the_door() -> None:
    env = GridWorld(seed=5)
    obs = env.observation
    grid = [line for line in obs.splitlines() if set(line) <= set("#.AKD/G") and len(line) > 2]
    text = "".join(grid)
    assert [text.count(ch) for ch in "AKDG"] == [1, 1, 1, 1]
    assert gridworld.LEGEND in obs and "Inventory: nothing" in obs and "Message:" in obs
    # with the door shut for good, the goal cannot be reached
    walled = gridworld.GridState(
        env.state.walls, env.state.agent, None, env.state.door, False, env.state.goal, True
    )
    assert gridworld.distances(walled, {walled.goal}).get(walled.agent) is None


def test_reset_is_deterministic_by_seed() -> None:
    a, b, c = GridWorld(seed=3), GridWorld(seed=3), GridWorld(seed=4)
    assert a.reset()[0] == b.reset()[0]
    assert a.reset(seed=4)[0] == c.reset()[0]
    assert GridWorld(seed=3).observation != c.observation
    a.step(a.actions[0])
    assert a.reset()[0] == c.observation  # reset() without a seed restarts the same layout


def test_invalid_actions_explain_themselves_and_change_nothing() -> None:
    env = GridWorld(seed=2)
    before = env.snapshot()
    for action in ["fly away", "open door", "pick up key" if "pick up key" not in env.actions else "xyz", ""]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert (reward, terminated, truncated, info["valid"]) == (0.0, False, False, False)
        message = obs.splitlines()[-1]
        assert message.startswith("Message: Invalid action") and "Valid actions now:" in message
        assert env.snapshot()["grid"] == before["grid"] and env.steps == 0
    blocked = next(d for d in gridworld.MOVES if f"go {d}" not in env.actions)
    obs, *_ = env.step(f"go {blocked}")
    assert "in the way" in obs


def test_action_parsing_is_forgiving() -> None:
    for text in ["go north", "Go North.", "  north ", "N", "move up", "go to the north", "Action: north"]:
        assert gridworld.parse_action(text) == "go north", text
    assert gridworld.parse_action("Pick up the key.") == "pick up key"
    assert gridworld.parse_action("open the door") == "open door"
    assert gridworld.parse_action("dance") is None


def test_snapshot_restore_round_trip_equals_replay() -> None:
    env = GridWorld(seed=7)
    actions = gridworld.route(env.state) or []
    half = actions[: len(actions) // 2]
    for action in half:
        env.step(action)
    snap = json.loads(json.dumps(env.snapshot()))  # plain JSON
    obs_then = env.observation
    for action in actions[len(half) :]:
        env.step(action)
    env.restore(snap)
    assert env.observation == obs_then
    replay = GridWorld(seed=7)
    for action in half:
        replay.step(action)
    assert replay.snapshot() == env.snapshot()
    rest = [env.step(a) for a in actions[len(half) :]]
    assert rest[-1][2] is True


def test_truncation_at_max_steps() -> None:
    env = GridWorld(seed=1, max_steps=4)
    results = []
    for _ in range(4):
        move = next(a for a in env.actions if a.startswith("go "))
        results.append(env.step(move))
    assert [r[3] for r in results] == [False, False, False, True]
    assert "out of steps" in results[-1][0]
    obs, reward, terminated, truncated, info = env.step(env.actions[0] if env.actions else "go north")
    assert truncated and reward == 0.0 and "episode is over" in obs


def test_gridworld_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="size"):
        GridWorld(size=3)
    assert isinstance(make_env("gridworld", seed=2), GridWorld)
    assert can_snapshot(GridWorld()) and isinstance(GridWorld(), TextEnv)


# --- game24 --------------------------------------------------------------------------------------


def test_game24_arithmetic_with_fractions() -> None:
    env = Game24(numbers=[3, 3, 8, 8])
    obs, reward, terminated, _, info = env.step("8 / 3")
    assert info["valid"] and obs.startswith("Numbers left: 3 8 8/3") and "Step 1: 8 / 3 = 8/3" in obs
    obs, *_ = env.step("3 - 8/3")
    assert obs.startswith("Numbers left: 8 1/3")
    obs, reward, terminated, truncated, _ = env.step("8 / 1/3")
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert obs.startswith("Numbers left: 24") and "solved" in obs


def test_game24_losing_and_answer_expressions() -> None:
    env = Game24(numbers=[1, 2, 3, 4])
    for move in ["1 + 2", "3 + 3", "6 + 4"]:
        obs, reward, terminated, *_ = env.step(move)
    assert terminated and reward == 0.0 and "10 is not 24" in obs
    env.reset()
    obs, reward, terminated, *_ = env.step("answer: (1 + 2 + 3) * 4")
    assert terminated and reward == 1.0
    env.reset()
    obs, reward, terminated, *_ = env.step("answer: (1 + 2) * 4")
    assert not terminated and "exactly once" in obs


def test_game24_invalid_moves_change_nothing() -> None:
    env = Game24(numbers=[4, 6, 8, 1])
    before = env.snapshot()
    for action in ["4 + 5", "9 * 9", "hello", "4 / 0", "4 +", "answer: 4 +"]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert not info["valid"] and reward == 0.0 and not terminated
        assert "Invalid action" in obs and "Numbers left: 4 6 8 1" in obs
        assert env.snapshot() == before
    env.step("Four times six".replace("Four", "4").replace("six", "6"))
    assert env.numbers == [Fraction(8), Fraction(1), Fraction(24)]
    assert game24.parse_move("4 x 6.", [Fraction(4), Fraction(6)]) == (0, "*", 1)


def test_solve24_on_every_builtin_puzzle() -> None:
    assert len(PUZZLES) >= 30 and len(set(PUZZLES)) == len(PUZZLES)
    for puzzle in PUZZLES:
        steps = solve24(puzzle)
        assert steps is not None, puzzle
        env = Game24(numbers=list(puzzle))
        for step in steps:
            obs, reward, terminated, *_ = env.step(step)
        assert terminated and reward == 1.0, (puzzle, steps)
    assert solve24([1, 1, 1, 1]) is None
    assert solve24([Fraction(8, 3), 9]) == ["8/3 * 9"]


def test_game24_seed_difficulty_snapshot_and_reset() -> None:
    assert Game24(seed=0).start == [Fraction(n) for n in PUZZLES[0]]
    assert Game24(seed=1, difficulty="hard").start == [Fraction(n) for n in game24.HARD[1]]
    env = Game24(seed=30)
    env.step(env.actions[0])
    snap = json.loads(json.dumps(env.snapshot()))
    env.step(env.actions[0])
    env.restore(snap)
    assert env.snapshot() == snap
    assert env.reset()[0] == Game24(seed=30).observation
    with pytest.raises(ConfigError):
        Game24(difficulty="brutal")


# --- gymnasium adapter -----------------------------------------------------------------------------


def _toy_env(**options: Any) -> Any:
    pytest.importorskip("gymnasium")
    from gym_toys import Corridor

    from workbench.envs.gym_adapter import GymTextEnv

    return GymTextEnv(Corridor(), **options)


# --- every env survives arbitrary text -------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=6))
def test_arbitrary_actions_never_raise(actions: list[str]) -> None:
    envs = [GridWorld(seed=len(actions)), Game24(seed=len(actions)), _toy_env(action_names=["l", "r"])]
    envs[2].reset(seed=0)
    for env in envs:
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            assert isinstance(obs, str) and isinstance(reward, float)
