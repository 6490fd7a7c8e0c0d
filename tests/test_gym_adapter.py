"""`GymTextEnv`: gymnasium envs, old gym-style envs, and real MiniGrid / BabyAI / TextWorld envs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.session import Session
from workbench.envs.base import can_snapshot
from workbench.envs.gym_adapter import GymTextEnv, textworld_env
from workbench.errors import ConfigError
from workbench.llm.scripted import ScriptedModel

gym = pytest.importorskip("gymnasium")

from gym_toys import Corridor  # noqa: E402
from toys import react  # noqa: E402


def corridor(**options: Any) -> GymTextEnv:
    return GymTextEnv(Corridor(), **options)


# --- gymnasium envs (moved from test_envs.py) -------------------------------------------------------


def test_gym_adapter_maps_actions_and_signatures() -> None:
    env = corridor(action_names=["go left", "go right"], task="Reach the exit.", seed=1)
    obs, info = env.reset()
    assert obs.startswith("You are in cell") and "start" in info and env.task == "Reach the exit."
    assert env.actions == ["go left", "go right"] and "go right" in env.instructions
    assert env.parse("Go Right.") == 1 and env.parse("1") == 1 and env.parse("right") == 1
    assert env.parse("go up") is None and env.parse("7") is None
    bad = env.step("jump")
    assert bad[1:4] == (0.0, False, False) and "Invalid action 'jump'" in bad[0] and "go left" in bad[0]
    results = [env.step("go right") for _ in range(3)]
    assert any(r[2] for r in results)
    assert results[-1][1] == 1.0 or results[-2][1] == 1.0
    assert env.reset()[0] == obs  # the seed is kept, so a replay meets the same episode


def test_gym_adapter_snapshot_restore_and_no_snapshot() -> None:
    env = corridor(seed=0)
    env.reset()
    assert can_snapshot(env)
    env.step("1")
    snap = env.snapshot()
    text = env.step("1")[0]
    env.restore(snap)
    assert env.step("1")[0] == text
    assert not can_snapshot(corridor(snapshots=False))


def test_gym_adapter_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match="action_names"):
        corridor(action_names=["only one"])

    class Boxy(gym.Env):
        action_space = gym.spaces.Box(0, 1, (2,))
        observation_space = gym.spaces.Text(10)

    with pytest.raises(ConfigError, match="action_parser"):
        GymTextEnv(Boxy())
    with pytest.raises(ConfigError, match=r"reset\(\) and step\(action\)"):
        GymTextEnv(object())


# --- seeds ---------------------------------------------------------------------------------------------


def test_the_constructor_seed_is_exposed_and_reused_by_reset_without_a_seed() -> None:
    env = corridor(seed=5)
    assert env.seed == 5
    first = env.reset(seed=None)[0]
    assert env.seed == 5
    fresh = Corridor()
    assert first == fresh.reset(seed=5)[0]
    env.reset(seed=7)  # an explicit seed wins and is kept for later replays
    assert env.seed == 7 and env.reset()[0] == Corridor().reset(seed=7)[0]
    assert corridor().seed is None


# --- old gym-style envs (duck-typed, four values) ---------------------------------------------------


class OldCorridor:
    """An old gym-style env, no gymnasium: reset() -> obs, step -> (obs, reward, done, info), env.seed()."""

    def __init__(self, limit: int = 10, pairs: bool = False) -> None:
        self.limit, self.pairs = limit, pairs
        self.seeded: list[int] = []
        self.pos = self.steps = 0

    def seed(self, seed: int | None = None) -> list[int]:
        self.seeded.append(seed)
        return [seed]

    def reset(self) -> Any:
        self.pos = self.steps = 0
        text = f"cell {self.pos}"
        return (text, {"valid": ["go east", "go west"]}) if self.pairs else text

    def step(self, command: str) -> tuple[str, float, bool, dict]:
        self.steps += 1
        if command == "go east":
            self.pos += 1
        elif command == "go west":
            self.pos = max(0, self.pos - 1)
        else:
            return f"I don't know how to {command!r}.", 0.0, False, {}
        won, out_of_time = self.pos == 2, self.steps >= self.limit
        info = {"valid": ["go east", "go west"], "TimeLimit.truncated": out_of_time and not won}
        return f"cell {self.pos}", 1.0 if won else 0.0, won or out_of_time, info


def test_an_old_four_value_env_is_wrapped_by_the_shim() -> None:
    raw = OldCorridor()
    env = GymTextEnv(raw, seed=3, task="reach cell 2")
    assert env.env is raw and env.name == "OldCorridor"
    assert env.reset() == ("cell 0", {}) and raw.seeded == [3]  # no seed= on reset: env.seed() instead
    assert env.actions is None  # nothing listed yet
    assert env.step("go east")[:4] == ("cell 1", 0.0, False, False)
    assert env.actions == ["go east", "go west"]
    assert env.step("Go East")[:4] == ("cell 2", 1.0, True, False)  # spelt as listed


def test_the_shim_takes_reset_pairs_and_marks_truncation() -> None:
    env = GymTextEnv(OldCorridor(limit=2, pairs=True))
    assert env.reset() == ("cell 0", {"valid": ["go east", "go west"]})
    assert env.actions == ["go east", "go west"]
    env.step("go west")
    obs, reward, terminated, truncated, info = env.step("go west")
    assert (terminated, truncated) == (False, True) and info["TimeLimit.truncated"]


def test_a_duck_typed_five_value_env_and_a_broken_step_are_handled() -> None:
    class Five:
        def reset(self, seed: int | None = None) -> tuple[str, dict]:
            self.seen = seed
            return "start", {}

        def step(self, action: str) -> tuple:
            return ("moved", 2, False, True, {}) if action == "move" else ("oops",)

    raw = Five()
    env = GymTextEnv(raw, seed=4)
    env.reset()
    assert raw.seen == 4
    assert env.step("move")[:4] == ("moved", 2.0, False, True)
    env = GymTextEnv(Five())
    env.reset()
    with pytest.raises(ConfigError, match="step returned 1"):
        env.step("anything")


# --- text spaces -------------------------------------------------------------------------------------


class Commands(gym.Env):
    """A gymnasium env with a `Text` action space of gymnasium's default charset (no space)."""

    def __init__(self, max_length: int = 24) -> None:
        self.action_space = gym.spaces.Text(max_length, min_length=2)
        self.observation_space = gym.spaces.Text(200)
        self.heard: list[str] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        return "You are in a hall.", {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.heard.append(action)
        return f"You {action}.", 0.0, False, False, {}


def test_a_text_space_accepts_multi_word_commands_and_keeps_its_limits() -> None:
    env = GymTextEnv(Commands())
    env.reset()
    assert not env.env.action_space.contains("go south")  # the default charset has no space
    assert env.step("go south")[0] == "You go south."
    assert env.step("  take   the key, please!  ")[0] == "You take the key, please!."
    assert env.env.heard == ["go south", "take the key, please!"]
    assert "longer than 24 characters" in env.step("walk all the way to the far end")[0]
    assert "shorter than 2 characters" in env.step("n")[0]
    assert "does not allow: 'é'" in env.step("café")[0]
    assert env.env.heard == ["go south", "take the key, please!"]


# --- dict observations ---------------------------------------------------------------------------------


class Rover(gym.Env):
    """Dict observations: a camera array, a heading, a goal string."""

    def __init__(self) -> None:
        self.action_space = gym.spaces.Discrete(3)
        self.observation_space = gym.spaces.Dict({})
        self.t = 0

    def _obs(self) -> dict:
        return {
            "camera": np.full((32, 32, 3), self.t, dtype="uint8"),
            "heading": np.array([1, self.t]),
            "goal": "find the rock",
            "battery": 0.5,
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.t = 0
        return self._obs(), {}

    def step(self, action: int) -> tuple[dict, float, bool, bool, dict]:
        self.t += 1
        return self._obs(), 0.0, False, False, {}


def test_dict_observations_show_every_field_compactly_and_give_the_task() -> None:
    env = GymTextEnv(Rover())
    obs, _ = env.reset()
    assert obs.splitlines() == [
        "camera: <uint8 array, shape 32x32x3, values 0..0>",
        "heading: [1, 0]",
        "goal: find the rock",
        "battery: 0.5",
    ]
    assert env.task == "find the rock"
    assert GymTextEnv(Rover(), task="mine").task == "mine"
    blackjack = GymTextEnv(gym.make("Blackjack-v1"), seed=0)  # a tuple observation
    assert blackjack.reset()[0].startswith("(") and "array" not in blackjack.last_observation
    cartpole = GymTextEnv(gym.make("CartPole-v1"), seed=0)  # a small float array, item by item
    assert cartpole.reset()[0] == "[0.0137, -0.02302, -0.0459, -0.04835]"


def test_to_text_receives_the_whole_dict_and_text_key_one_field() -> None:
    seen: list[Any] = []
    env = GymTextEnv(Rover(), to_text=lambda obs: seen.append(obs) or f"t={int(obs['heading'][1])}")
    assert env.reset()[0] == "t=0" and env.step("2")[0] == "t=1"
    assert set(seen[0]) == {"camera", "heading", "goal", "battery"}
    assert GymTextEnv(Rover(), text_key="goal").reset()[0] == "find the rock"


def test_reading_the_task_before_a_reset_resets_once() -> None:
    env = GymTextEnv(Rover(), seed=2)
    assert env.task == "find the rock" and env.last_observation.startswith("camera:")
    assert corridor().task == "Act in Corridor to earn reward."

    class Tasked(Corridor):
        task = "walk to the exit"

    class TaskObject(Corridor):
        task = object()

    assert GymTextEnv(Tasked()).task == "walk to the exit"
    assert GymTextEnv(TaskObject()).task == "Act in TaskObject to earn reward."


# --- valid actions -------------------------------------------------------------------------------------


def test_valid_actions_from_a_method_are_read_once_per_state() -> None:
    class Menu(Corridor):
        calls = 0

        def valid_actions(self) -> list[str]:
            Menu.calls += 1
            return ["0", "1"] if self.pos else ["1"]

    env = GymTextEnv(Menu(), seed=0)
    env.reset()
    first = env.actions
    assert env.actions == first and Menu.calls == 1
    env.step("1")
    assert env.actions == ["0", "1"] and env.actions == ["0", "1"] and Menu.calls == 2
    assert GymTextEnv(Commands()).actions is None


def test_an_invalid_action_lists_at_most_thirty_valid_ones() -> None:
    class Many(OldCorridor):
        def reset(self) -> tuple[str, dict]:
            return "a big room", {"admissible_commands": [f"take coin {i}" for i in range(50)]}

    env = GymTextEnv(Many())
    env.reset()
    text = env.step("   ")[0]
    assert text.startswith("a big room\n\nInvalid action '': an empty action. Valid actions: take coin 0,")
    assert "take coin 29, ... and 20 more." in text and "take coin 30" not in text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=5))
def test_arbitrary_text_never_raises_on_any_kind_of_space(actions: list[str]) -> None:
    envs = [GymTextEnv(Commands()), GymTextEnv(OldCorridor()), GymTextEnv(Rover()), corridor()]
    for env in envs:
        env.reset(seed=0)
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            assert isinstance(obs, str) and isinstance(reward, float)


# --- snapshots: restore into the objects the user holds ----------------------------------------------


def test_restore_keeps_the_users_references_live_through_a_time_limit_wrapper() -> None:
    inner = Corridor()
    wrapped = gym.wrappers.TimeLimit(inner, max_episode_steps=4)
    env = GymTextEnv(wrapped, seed=0)
    assert env.env is wrapped
    env.reset()
    env.step("1")
    pos, snap = inner.pos, env.snapshot()
    env.step("0")
    env.step("0")
    assert wrapped._elapsed_steps == 3
    env.restore(snap)
    assert env.env is wrapped and wrapped.env is inner and wrapped.unwrapped is inner
    assert inner.pos == pos and wrapped._elapsed_steps == 1
    env.step("0")
    env.step("0")
    assert inner.pos == max(0, pos - 2)
    env.restore(snap)  # a snapshot can be restored again
    assert inner.pos == pos


def test_envs_declaring_outside_state_get_no_snapshots_by_default() -> None:
    class Remote(Corridor):
        external_state = True

    class Tagged(Corridor):
        metadata = {"external_state": True}

    assert not can_snapshot(GymTextEnv(Remote()))
    assert not can_snapshot(GymTextEnv(Tagged()))
    assert can_snapshot(GymTextEnv(Remote(), snapshots=True))
    assert not can_snapshot(GymTextEnv(OldCorridor(), snapshots=False))


# --- MiniGrid and BabyAI (real envs, offline) -------------------------------------------------------------


def minigrid_env(env_id: str, **options: Any) -> GymTextEnv:
    pytest.importorskip("minigrid")
    return GymTextEnv(gym.make(env_id), **options)


def test_minigrid_names_text_task_and_a_winning_route() -> None:
    env = minigrid_env("MiniGrid-Empty-5x5-v0", seed=0)
    assert env.actions == ["left", "right", "forward", "pickup", "drop", "toggle", "done"]
    assert env.task == "get to the green goal square"
    assert "forward (move one cell ahead)" in env.instructions and "# wall" in env.instructions
    obs, _ = env.reset()
    assert obs.splitlines()[0] == "You face east. Your view:"
    assert "# # # . . G #" in obs and "# # # ^ . . #" in obs
    assert "In view: green goal 2 ahead, 2 right." in obs and "mission: get to the green goal square" in obs
    assert "array" not in obs and len(obs) < 400
    assert env.parse("Move forward.") == 2 and env.parse("turn left") == 0 and env.parse("pick up") == 3
    results = [env.step(a) for a in ["forward", "forward", "right", "forward", "forward"]]
    assert results[2][0].startswith("You face south.")
    assert results[-1][2] and results[-1][1] > 0  # reached the goal
    assert GymTextEnv(gym.make("MiniGrid-Empty-5x5-v0"), action_names=list("abcdefg")).actions == list(
        "abcdefg"
    )


def test_minigrid_snapshot_restores_into_the_users_env() -> None:
    pytest.importorskip("minigrid")
    raw = gym.make("MiniGrid-Empty-5x5-v0")
    env = GymTextEnv(raw, seed=0)
    assert env.env is raw and can_snapshot(env)
    env.reset()
    env.step("forward")
    snap = env.snapshot()
    turned = env.step("right")[0]
    env.step("forward")
    assert tuple(raw.unwrapped.agent_pos) == (2, 2)
    env.restore(snap)
    assert tuple(raw.unwrapped.agent_pos) == (2, 1) and raw.unwrapped.agent_dir == 0
    assert env.step("right")[0] == turned


def test_babyai_mission_is_the_task_and_objects_are_described() -> None:
    env = minigrid_env("BabyAI-GoToRedBall-v0", seed=1)
    obs, _ = env.reset()
    assert env.task == "go to the red ball" and obs.endswith("mission: go to the red ball")
    assert "In view: " in obs and "key" in obs and "array" not in obs
    assert env.actions[:3] == ["left", "right", "forward"]


def test_minigrid_through_a_session_steps_and_rewinds() -> None:
    env = minigrid_env("MiniGrid-Empty-5x5-v0", seed=0)
    model = ScriptedModel([react("forward"), react("forward"), react("turn right"), react("jump")])
    s = Session(env=env, model=model, seed=0)
    assert s.tree.task == "get to the green goal square"
    first, second = s.step(), s.step()
    assert (first.action, second.action) == ("forward", "forward")
    assert "mission: get to the green goal square" in second.observation
    assert any(
        "left (turn left) | right" in m["content"] for m in model.requests[0]
    )  # the instructions name the actions
    s.rewind(first.id)
    again = s.step()  # a new branch from node 1: the env is back where node 1 left it
    assert again.parent_id == first.id and again.observation.startswith("You face south.")
    bad = s.step()
    assert "Invalid action" in bad.observation and "forward" in bad.observation


# --- TextWorld (a real game made offline) ------------------------------------------------------------------


@pytest.fixture(scope="session")
def tw_game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("textworld")
    tw_make = shutil.which("tw-make") or str(Path(sys.executable).with_name("tw-make"))
    out = tmp_path_factory.mktemp("textworld") / "game.z8"
    cmd = [
        tw_make,
        "tw-simple",
        "--rewards",
        "dense",
        "--goal",
        "detailed",
        "--seed",
        "1",
        "--output",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return out


def walkthrough(game: Path) -> list[str]:
    import textworld

    return list(textworld.Game.load(str(game.with_suffix(".json"))).metadata["walkthrough"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Game .* is not fully supported")
def test_textworld_objective_commands_rewards_and_no_snapshots(tw_game: Path) -> None:
    env = textworld_env(tw_game, max_episode_steps=50)
    try:
        assert env.name == "TextWorld:game.z8" and not can_snapshot(env)
        assert env.task.startswith("Hey, thanks for coming over to the TextWorld")  # the objective
        obs, info = env.reset()
        assert "-= Bedroom =-" in obs and "open antique trunk" in env.actions
        assert "text command" in env.instructions
        rewards = []
        for command in walkthrough(tw_game):
            obs, reward, terminated, truncated, info = env.step(command)
            rewards.append(reward)
        assert terminated and not truncated and info["won"]
        assert sum(rewards) == info["max_score"] and max(rewards) == 1.0  # per-step, not the running score
        assert "Invalid action" in env.step("look")[0]  # the episode is over
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Game .* is not fully supported")
def test_the_shim_takes_a_textworld_env_made_by_hand(tw_game: Path) -> None:
    import textworld
    import textworld.gym

    infos = textworld.EnvInfos(admissible_commands=True, objective=True)
    raw = textworld.gym.make(textworld.gym.register_game(str(tw_game), request_infos=infos))
    env = GymTextEnv(raw, seed=1)
    try:
        assert env.env is raw and not can_snapshot(env)
        env.reset()
        obs, reward, *_ = env.step("Open antique trunk")
        assert "You open the antique trunk" in obs and reward == 1.0
        assert "take old key from antique trunk" in env.actions
        assert "not a verb I recognise" in env.step("dance wildly")[0]  # free text reaches the game
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Game .* is not fully supported")
def test_textworld_through_a_session_replays_from_reset_on_rewind(tw_game: Path) -> None:
    env = textworld_env(tw_game)
    route = walkthrough(tw_game)
    model = ScriptedModel([react(route[0]), react(route[1]), react("close antique trunk")])
    try:
        s = Session(env=env, model=model, seed=0)
        assert s.tree.task == env.task and "kitchen" in s.tree.task
        opened, took = s.step(), s.step()
        assert "You open the antique trunk" in opened.observation and "old key" in took.observation
        assert took.reward == 1.0
        s.rewind(opened.id)  # no snapshots: the engine resets the game and replays `open antique trunk`
        closed = s.step()
        assert closed.parent_id == opened.id and "You close the antique trunk" in closed.observation
    finally:
        env.close()


def test_an_env_that_cannot_be_deep_copied_gets_no_snapshots() -> None:
    class Engine(OldCorridor):
        def __deepcopy__(self, memo: dict) -> Any:
            raise TypeError("cannot pickle 'generator' object")

    assert not can_snapshot(GymTextEnv(Engine()))
    with pytest.raises(ConfigError, match="__dict__"):
        GymTextEnv(SlotsEnv(), snapshots=True)


class SlotsEnv:
    __slots__ = ()

    def reset(self) -> str:
        return "here"

    def step(self, action: str) -> tuple[str, float, bool, dict]:
        return "here", 0.0, False, {}
