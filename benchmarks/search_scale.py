"""Search engine cost per expansion up to 10,000 expansions, with an instant model.

    python benchmarks/search_scale.py [--expansions 10000] [--strategies mcts best-first bfs dfs astar]
                                      [--store] [--treequest] [--profile]

The model answers instantly (no litellm, no network, no sleep): sample i of an action prompt
gets move (hash(prompt) + i) mod `--width`, value prompts get a score from the same hash; the env is an endless branching walk where every move is valid and nothing
ends, so a search never reaches its threshold and runs all its expansions. What is timed is the
engine: selection, the search's view of the tree, prompts, parsing, backup and the events.

For each strategy it prints the wall and CPU time of the whole search (on a shared machine the CPU
time is the one to compare) and the median ms per expansion
over the expansions before 100, 1,000 and 10,000 (the 10% before each mark, at least 50; a median,
as the machine is shared), and the ratio of the last mark to the first (flat = 1.0). `--store` adds SQLite persistence. With `--treequest`
and the `treequest` package installed (the optional `bench` extra), it also times TreeQuest's
AB-MCTS-A on a generator of the same shape, for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from workbench.core.session import Session
from workbench.core.tree import LLMCall

MOVES = ("north", "south", "east", "west", "up", "down", "wait")


class Walk:
    """An endless walk: every move is valid, nothing ends; the observation names the position."""

    name = "walk"
    task = "wander forever"
    instructions = "Actions: " + ", ".join(MOVES)

    def reset(self, seed: int | None = None) -> tuple[str, dict]:
        self.trail = ""
        return self._obs(), {}

    def _obs(self) -> str:
        return f"at {hashlib.blake2s(self.trail.encode(), digest_size=4).hexdigest()}"

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.trail += action[:1]
        return self._obs(), 0.0, False, False, {}

    def snapshot(self) -> str:
        return self.trail

    def restore(self, state: str) -> None:
        self.trail = state


class InstantModel:
    """Answers at once: a move from a hash of (prompt, sample), or a score for value prompts."""

    simulated = True
    name = "instant"
    label = "instant (benchmark)"

    def __init__(self, width: int) -> None:
        self.width = width
        self.calls = 0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "scripted": True}

    async def acomplete(
        self, messages: list[dict[str, Any]], *, purpose: str = "act", sample: int = 0, **_: Any
    ) -> LLMCall:
        self.calls += 1
        last = str(messages[-1].get("content", ""))
        h = int.from_bytes(hashlib.blake2s(last.encode(), digest_size=4).digest(), "big")
        if purpose == "value":
            track = "yes" if h % 3 else "no"
            text = f"Thoughts: fine.\nScore: {1 + h % 9}\nStatus: failure\nOn the right track: {track}"
        elif "Candidate actions:" in str(messages[0].get("content", "")):  # A*'s one-call proposals
            moves = "\n".join(f"{i + 1}. {MOVES[(h + i) % self.width]}" for i in range(self.width))
            text = f"Thought: try.\nCandidate actions:\n{moves}"
        elif purpose == "imagine":
            text = f"Remaining steps: {1 + h % 5}"
        else:
            text = f"Thought: try.\nAction: {MOVES[(h + sample) % self.width]}"
        return LLMCall(
            model=self.name,
            messages=messages,
            response=text,
            prompt_tokens=len(last) // 4,
            completion_tokens=len(text) // 4,
            purpose=purpose,
        )


OPTIONS: dict[str, dict[str, Any]] = {
    # small per-expansion sample counts: the model is free, the engine is what is measured
    "mcts": {"n_samples": 3, "branching": 3, "max_depth": 12, "reflections": 3, "rollout_samples": 1},
    "best-first": {"n_samples": 3, "branching": 3, "value_samples": 1, "max_depth": 12},
    "bfs": {"n_samples": 3, "branching": 3, "value_samples": 1, "max_depth": 12},
    "dfs": {"n_samples": 3, "branching": 3, "value_samples": 1, "max_depth": 12},
    "astar": {"n_samples": 3, "branching": 3, "max_depth": 12},
}


async def timed_search(strategy: str, n: int, width: int, store: Any) -> tuple[list[float], int]:
    s = Session(
        env=Walk(),
        model=InstantModel(width),
        strategy=strategy,
        store=store,
        max_expansions=n,
        threshold=2.0,
        **OPTIONS[strategy],
    )
    times: list[float] = []
    while not s.done and len(times) < n:
        t0 = time.perf_counter()
        await s.astep()
        times.append(time.perf_counter() - t0)
    return times, len(s.tree.nodes)


def marks(n: int) -> list[int]:
    return [m for m in (100, 1000, 10000) if m <= n] or [n]


def window_ms(times: list[float], mark: int) -> float:
    """Median ms per expansion over the 10% of expansions before `mark` (at least 50)."""
    k = min(mark, max(50, mark // 10))
    return 1000 * statistics.median(times[mark - k : mark])


def treequest_run(n: int, width: int) -> list[float] | None:
    try:
        import treequest as tq
    except ImportError:
        return None

    def generate(parent_state: str | None) -> tuple[str, float]:
        state = (parent_state or "") + str(len(parent_state or "") % width)
        h = int.from_bytes(hashlib.blake2s(state.encode(), digest_size=4).digest(), "big")
        return state, (1 + h % 9) / 10

    algo = tq.ABMCTSA()
    tree = algo.init_tree()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        tree = algo.step(tree, {"gen": generate}, inplace=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expansions", type=int, default=10000)
    ap.add_argument("--strategies", nargs="+", default=["mcts", "best-first", "bfs", "dfs", "astar"])
    ap.add_argument("--width", type=int, default=3, help="distinct moves the model proposes")
    ap.add_argument("--store", action="store_true", help="persist to SQLite")
    ap.add_argument("--treequest", action="store_true", help="also time TreeQuest's AB-MCTS-A")
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile of each run")
    args = ap.parse_args()
    n = args.expansions
    cols = marks(n)
    head = " ".join(f"{'ms@' + str(m):>9}" for m in cols)
    print(
        f"{'strategy':<12} {'expansions':>10} {'nodes':>7} {'wall s':>8} {'cpu s':>7} {head} {'last/first':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for strategy in args.strategies:
            store = None
            if args.store:
                from workbench.store.sqlite import RunStore

                store = RunStore(Path(tmp) / f"{strategy}.sqlite")
            prof = cProfile.Profile() if args.profile else None
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            times, nodes = asyncio.run(timed_search(strategy, n, args.width, store))
            if prof:
                prof.disable()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            at = [window_ms(times, m) for m in cols if m <= len(times)]
            cells = " ".join(f"{v:>9.3f}" for v in at)
            print(
                f"{strategy:<12} {len(times):>10} {nodes:>7} {wall:>8.1f} {cpu:>7.1f} {cells} {at[-1] / at[0]:>10.2f}"
            )
            if prof:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        if args.treequest:
            c0 = time.process_time()
            times = treequest_run(n, args.width)
            cpu = time.process_time() - c0
            if times is None:
                print("treequest        (not installed: pip install 'agent-workbench[bench]')")
            else:
                at = [window_ms(times, m) for m in cols]
                cells = " ".join(f"{v:>9.3f}" for v in at)
                print(
                    f"{'treequest':<12} {n:>10} {n + 1:>7} {sum(times):>8.1f} {cpu:>7.1f} {cells} {at[-1] / at[0]:>10.2f}"
                )


if __name__ == "__main__":
    main()
