"""How close a search gets to the concurrency limit, against a loopback OpenAI-compatible server.

    python benchmarks/search_concurrency.py [--delay 0.05] [--concurrency 1 4 8] [--expansions 64]
                                            [--strategies best-first mcts]

The server (the test suite's `ModelServer`, from tests/conftest.py, on 127.0.0.1) answers every
request after a fixed `--delay`: action prompts with one of three moves in turn, value prompts
with "on the right track", so the search never reaches its threshold and runs all its expansions
on an endless corridor. The model goes through litellm (`Model("openai/loopback", api_base=...)`).

For each concurrency limit it prints the wall time of a `--expansions`-expansion search, the
number of model calls, and wall / lower bound, where lower bound = total model latency (the sum
of every call's measured latency) / concurrency. 1.0 would mean the limit was always full.
Best-first batches a node's value calls with its children's samples, so it stays close to 1;
MCTS rollouts are sequential by nature, so its ratio grows with the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ModelServer  # noqa: E402  (the loopback server of the test suite)

from workbench.core.session import Session  # noqa: E402
from workbench.llm.model import Model  # noqa: E402
from workbench.llm.providers import prepare_environment  # noqa: E402

MOVES = ("left", "right", "stay")


class Corridor:
    """An endless corridor: every action is valid and nothing ever ends."""

    name = "corridor"
    task = "walk the corridor"
    instructions = "Actions: left, right, stay"

    def reset(self, seed: int | None = None) -> tuple[str, dict]:
        self.x, self.t = 0, 0
        return self._obs(), {}

    def _obs(self) -> str:
        return f"position {self.x} after {self.t} steps"

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.t += 1
        self.x += {"left": -1, "right": 1}.get(action, 0)
        return self._obs(), 0.0, False, False, {}

    def snapshot(self) -> tuple[int, int]:
        return self.x, self.t

    def restore(self, state: tuple[int, int]) -> None:
        self.x, self.t = state


def responder() -> Any:
    counter = itertools.count()
    lock = threading.Lock()

    def answer(body: dict[str, Any]) -> str:
        system = str((body.get("messages") or [{}])[0].get("content", ""))
        if "On the right track" in system:
            return "Thoughts: progress.\nStatus: failure\nOn the right track: yes"
        if "Score:" in system:
            return "Thoughts: progress.\nScore: 6"
        if "review a failed attempt" in system:
            return "Reflection: try another way."
        with lock:
            k = next(counter)
        return f"Thought: keep walking.\nAction: {MOVES[k % len(MOVES)]}"

    return answer


OPTIONS: dict[str, dict[str, Any]] = {
    "best-first": {"branching": 3, "n_samples": 6, "value_samples": 2, "max_depth": 64},
    "bfs": {"branching": 3, "n_samples": 6, "value_samples": 2, "max_depth": 64},
    "astar": {"branching": 3, "n_samples": 6, "max_depth": 64},
    "mcts": {"branching": 3, "n_samples": 3, "max_depth": 6, "reflections": 0},
}


async def one_search(
    server: ModelServer, strategy: str, concurrency: int, expansions: int, delay: float
) -> dict:
    server.reset()
    server.responder = responder()
    server.script(*[{"delay": delay}] * 100_000)
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, timeout=60)
    await model.acomplete([{"role": "user", "content": "warm up"}])  # litellm's first-call set-up
    server.requests.clear()
    session = Session(
        env=Corridor(),
        model=model,
        strategy=strategy,
        concurrency=concurrency,
        max_expansions=expansions,
        **OPTIONS[strategy],
    )
    started = time.perf_counter()
    await session.arun()
    wall = time.perf_counter() - started
    calls = [c for n in session.tree.nodes.values() for c in n.llm_calls]
    latency = sum(c.latency for c in calls)
    return {
        "per_call_ms": 1000 * latency / max(1, len(calls)),
        "expansions": session.strategy.state(session)["expansions"],
        "calls": len(calls),
        "wall": wall,
        "latency": latency,
        "ratio": wall / (latency / concurrency),
        "ideal_ratio": wall / (len(calls) * delay / concurrency) if delay > 0 else float("nan"),
    }


async def run_all(server: ModelServer, args: argparse.Namespace) -> None:
    """Every configuration on one event loop (litellm's logging worker dislikes a new loop per run)."""
    print(f"loopback server, delay {args.delay * 1000:.0f} ms per call, {args.expansions} expansions")
    print(
        f"{'strategy':<11}{'limit':>6}{'calls':>7}{'wall s':>9}{'latency s':>11}{'ms/call':>9}"
        f"{'wall/bound':>12}{'vs delay':>10}"
    )
    for strategy in args.strategies:
        for limit in args.concurrency:
            r = await one_search(server, strategy, limit, args.expansions, args.delay)
            print(
                f"{strategy:<11}{limit:>6}{r['calls']:>7}{r['wall']:>9.2f}{r['latency']:>11.2f}"
                f"{r['per_call_ms']:>9.1f}{r['ratio']:>12.2f}{r['ideal_ratio']:>10.2f}"
            )
    print("wall/bound = wall / (sum of call latencies / limit); vs delay = wall / (calls * delay / limit)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.05, help="server delay per request, seconds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--expansions", type=int, default=64)
    parser.add_argument("--strategies", nargs="+", default=["best-first", "mcts"], choices=sorted(OPTIONS))
    args = parser.parse_args()
    prepare_environment()
    server = ModelServer()
    server.start()
    try:
        asyncio.run(run_all(server, args))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
