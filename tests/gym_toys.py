"""A small gymnasium env shared by the GymTextEnv tests (imports gymnasium: only for those tests)."""

from __future__ import annotations

import gymnasium as gym


class Corridor(gym.Env):
    """Walk right from cell 0 or 1 to cell 3; observations are sentences."""

    def __init__(self) -> None:
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Text(200)
        self.pos = 0

    def _obs(self) -> str:
        return f"You are in cell {self.pos} of a corridor; the exit is cell 3."

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(0, 2))
        return self._obs(), {"start": self.pos}

    def step(self, action: int) -> tuple[str, float, bool, bool, dict]:
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        done = self.pos == 3
        return self._obs(), 1.0 if done else 0.0, done, False, {}
