"""Wall time of each teaching notebook, executed top to bottom as the notebook tests run it.

    python benchmarks/notebook_times.py [--reps 3] [NOTEBOOK ...]

Each run executes the notebook in a fresh kernel of this Python in a scratch project (its own run
store, the shipped cassettes, model keys removed: `workbench.teaching.notebooks.execute`), kernel
start-up included. Prints one line per run and, per notebook, the range over the runs together with
the load average, since the machine this runs on is shared.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from workbench.teaching import notebooks as tn


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN-*.ipynb")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or tn.notebook_paths()
    times: dict[str, list[float]] = {p.name: [] for p in paths}
    loads: list[float] = []
    for rep in range(args.reps):
        for path in paths:
            nb = tn.read(path)
            started = time.perf_counter()
            done = tn.execute(nb, path.parent)
            seconds = time.perf_counter() - started
            errors = tn.errors(done)
            times[path.name].append(seconds)
            loads.append(os.getloadavg()[0])
            print(
                f"{path.name} run {rep + 1}: {seconds:.1f} s, load {loads[-1]:.1f}{'  ERRORS' if errors else ''}"
            )
    print(f"\nload average during the runs: {min(loads):.1f}-{max(loads):.1f}")
    for name, values in times.items():
        print(f"{name:<36} {min(values):.1f}-{max(values):.1f} s")


if __name__ == "__main__":
    main()
