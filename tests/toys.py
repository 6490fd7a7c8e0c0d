"""Small deterministic environments shared by the engine tests."""

from __future__ import annotations


class Counter:
    """Count from 0 to `goal` with `inc` / `dec`; snapshot-capable unless `snapshots=False`."""

    name = "counter"
    instructions = "Actions: inc, dec"

    def __init__(self, goal: int = 3, snapshots: bool = True) -> None:
        self.goal = goal
        self.task = f"count to {goal}"
        self.n = 0
        self.resets = 0
        self.steps = 0
        if not snapshots:
            self.snapshot = None  # type: ignore[assignment]
            self.restore = None  # type: ignore[assignment]

    def reset(self, seed: int | None = None) -> tuple[str, dict]:
        self.n = 0
        self.resets += 1
        return "n=0", {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.steps += 1
        if action == "inc":
            self.n += 1
        elif action == "dec":
            self.n -= 1
        else:
            return f"invalid action {action!r}; valid: inc, dec", 0.0, False, False, {}
        done = self.n == self.goal
        return f"n={self.n}", 1.0 if done else 0.0, done, False, {}

    def snapshot(self) -> int:
        return self.n

    def restore(self, state: int) -> None:
        self.n = state


def react(action: str, thought: str = "go on") -> str:
    return f"Thought: {thought}\nAction: {action}"
