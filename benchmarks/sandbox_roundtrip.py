"""CodeAct sandbox: kernel start time and `print(1)` round trip, per available level.

    python benchmarks/sandbox_roundtrip.py [--cells 50] [--starts 3]

For each level in `sandbox_levels()` it starts a sandbox `--starts` times (start = launch until
the kernel answers and the set-up code ran) and runs `print(1)` `--cells` times in one of them,
then prints a markdown table of start time (median) and round-trip median and p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from workbench.sandbox import Sandbox, sandbox_levels


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(level: str, cells: int, starts: int) -> dict[str, float]:
    start_times: list[float] = []
    trips: list[float] = []
    for i in range(starts):
        sb = Sandbox(level=level)
        began = time.perf_counter()
        await sb.astart()
        start_times.append(time.perf_counter() - began)
        if i == 0:
            await sb.arun("print(0)")  # warm
            for _ in range(cells):
                began = time.perf_counter()
                res = await sb.arun("print(1)")
                trips.append(time.perf_counter() - began)
                assert res.observation() == "1", res.observation()
        await sb.aclose()
    return {
        "start": statistics.median(start_times),
        "median": statistics.median(trips),
        "p95": p95(trips),
    }


async def main(cells: int, starts: int) -> None:
    rows = [(level, await measure(level, cells, starts)) for level in sandbox_levels()]
    print(f"| level | kernel start (median of {starts}) | print(1) median | print(1) p95 ({cells} cells) |")
    print("|---|---|---|---|")
    for level, m in rows:
        print(
            f"| {level} | {m['start'] * 1000:.0f} ms | {m['median'] * 1000:.1f} ms | {m['p95'] * 1000:.1f} ms |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.cells, args.starts))
