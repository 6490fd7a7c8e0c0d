"""CodeAct: the engine's cost per step around the kernel, per available sandbox level.

    python benchmarks/codeact_step.py [--steps 30]

A scripted model (instant) answers `<execute>x += 1; print(x)` at every step on game24, with
SQLite persistence on. One warm-up step starts the kernel; then `--steps` steps are timed with
`Session.astep`. "with kernel" is the whole step; "without kernel" subtracts the cell's own
`CellResult.duration` (the round trip to the kernel: send, run, collect output), which leaves what
the engine and the strategy add: prompt, parsing, the node, events, the store write. Prints a
markdown table of medians and p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from workbench import Session
from workbench.llm.scripted import ScriptedModel
from workbench.sandbox import sandbox_levels
from workbench.strategies.codeact import CodeAct

ANSWER = "Thought: count\n<execute>\nx = globals().get('x', 0) + 1\nprint(x)\n"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(level: str, steps: int, store: Path) -> dict[str, float]:
    session = Session(
        env="game24", model=ScriptedModel([ANSWER]), strategy=CodeAct(sandbox=level), store=store
    )
    whole: list[float] = []
    engine: list[float] = []
    try:
        await session.astep()  # starts the kernel
        for i in range(steps):
            began = time.perf_counter()
            node = await session.astep()
            elapsed = time.perf_counter() - began
            assert node.observation == str(i + 2), node.observation
            whole.append(elapsed)
            engine.append(elapsed - node.info["code"]["duration"])
    finally:
        await session.strategy.aclose()
    return {
        "with": statistics.median(whole) * 1000,
        "with95": p95(whole) * 1000,
        "without": statistics.median(engine) * 1000,
        "without95": p95(engine) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    print("| level | steps | with kernel p50 ms | p95 ms | without kernel p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for k, level in enumerate(sandbox_levels()):
            row = asyncio.run(measure(level, args.steps, Path(tmp) / f"runs{k}.sqlite"))
            print(
                f"| {level} | {args.steps} | {row['with']:.2f} | {row['with95']:.2f} | "
                f"{row['without']:.2f} | {row['without95']:.2f} |"
            )


if __name__ == "__main__":
    main()
