"""What secret redaction costs per store event: finding the secrets, and a whole step with a store.

    python benchmarks/redaction.py [--calls 20000] [--steps 300]

Part 1 times `current_secrets()`, the call the run store makes once per event to get the secrets it
must redact (this process's environment plus three fake secret variables). Part 2 times a step of a
session with an instant scripted model, diff memory (window 4) and a SQLite store, i.e. about four
store events per step. Both with the environment unchanged between calls, the common case.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.store.rows import current_secrets
from workbench.store.sqlite import RunStore


class Walk:
    name = "walk"
    task = "walk east"
    instructions = "Actions: go east"

    def reset(self, seed=None):
        self.x = 0
        return "at 0", {}

    def step(self, action):
        self.x += 1
        return f"at {self.x}", 0.0, False, False, {}


async def steps(n: int, store: RunStore) -> list[float]:
    s = Session(
        env=Walk(),
        model=ScriptedModel(["Thought: on.\nAction: go east"]),
        memory="diff",
        memory_options={"window": 4},
        store=store,
    )
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await s.astep()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    os.environ.update(
        BENCH_API_KEY="sk-bench-" + "x" * 40, BENCH_TOKEN="tok-" + "y" * 30, BENCH_PASSWORD="hunter2-hunter2"
    )
    current_secrets()
    start = time.perf_counter()
    for _ in range(args.calls):
        current_secrets()
    per_call = (time.perf_counter() - start) / args.calls
    print(f"current_secrets(): {per_call * 1e6:.2f} us per event ({len(os.environ)} environment variables)")
    with tempfile.TemporaryDirectory() as tmp:
        times = asyncio.run(steps(args.steps, RunStore(Path(tmp) / "runs.sqlite")))
    print(
        f"diff-4 step with a store: {statistics.mean(times) * 1000:.3f} ms/step mean, "
        f"{statistics.median(times) * 1000:.3f} ms median over {args.steps} steps"
    )


if __name__ == "__main__":
    main()
