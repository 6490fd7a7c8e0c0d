"""What the store's fault handling costs: time until a failed write surfaces, open and lease costs.

    python benchmarks/store_faults.py [--runs 20] [--steps 200]

1. Lock contention: another connection holds `BEGIN IMMEDIATE`; how long `step()` takes to raise
   `StoreError` for a few lock timeouts (`RunStore(timeout=)`, default 5 s).
2. A full disk (a 1 MB tmpfs, needs root): how long the failing `step()` takes to raise.
3. Opening a store of `--runs` runs x `--steps` steps: `RunStore(path)` (with its `PRAGMA
   quick_check`), and taking + giving back a run's lease (`acquire` / `release`), median of 20.
The model is an instant scripted one, so every time measured is the store's.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from workbench.core.session import Session
from workbench.errors import StoreError
from workbench.llm.scripted import ScriptedModel
from workbench.store.sqlite import RunStore

ANSWER = "Thought: keep looking around.\nAction: look"


def session(store: RunStore) -> Session:
    return Session(env="gridworld", model=ScriptedModel([ANSWER]), store=store)


def until_error(s: Session) -> float:
    t0 = time.perf_counter()
    try:
        s.step()
    except StoreError:
        return time.perf_counter() - t0
    raise SystemExit("the step did not fail")


def lock_contention(tmp: Path) -> None:
    print("lock contention: step() until StoreError")
    for timeout in (0.5, 1.0, 5.0):
        path = tmp / f"lock-{timeout}.sqlite"
        store = RunStore(path, timeout=timeout)
        s = session(store)
        s.step()
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        took = until_error(s)
        blocker.execute("ROLLBACK")
        blocker.close()
        t0 = time.perf_counter()
        s.step()  # the retry writes the kept step and the new one
        retry = time.perf_counter() - t0
        print(f"  timeout {timeout:>4} s: raised after {took:.3f} s; retry step {retry * 1000:.1f} ms")
        s.close()
        store.close()


def full_disk(tmp: Path) -> None:
    if os.geteuid() != 0:
        print("full disk: skipped (mounting a tmpfs needs root)")
        return
    mount = tmp / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        store = RunStore(mount / "runs.sqlite")
        s = Session(
            env="gridworld", model=ScriptedModel(["Thought: " + "x" * 20_000 + "\nAction: look"]), store=store
        )
        normal = []
        for _ in range(200):
            t0 = time.perf_counter()
            try:
                s.step()
            except StoreError:
                took = time.perf_counter() - t0
                break
            normal.append(time.perf_counter() - t0)
        else:
            raise SystemExit("the disk never filled")
        print(
            f"full disk: raised after {took * 1000:.1f} ms (a normal step of this run: "
            f"{statistics.median(normal) * 1000:.1f} ms median, {len(normal)} steps stored)"
        )
        s.close()
        store.close(quiet=True)  # the unwritten step is lost here, as the error says
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def open_costs(tmp: Path, runs: int, steps: int) -> None:
    path = tmp / "big.sqlite"
    store = RunStore(path)
    ids = []
    for _ in range(runs):
        s = session(store)
        s.run(max_steps=steps)
        s.close()
        ids.append(s.run_id)
    store.close()
    size = path.stat().st_size / 1e6
    opens, unchecked, first, leases = [], [], [], []
    for _ in range(20):
        t0 = time.perf_counter()
        store = RunStore(path)
        opens.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.acquire(ids[0])  # the first write after opening: it also starts the WAL file
        first.append(time.perf_counter() - t0)
        store.release(ids[0])
        t0 = time.perf_counter()
        store.acquire(ids[0])
        store.release(ids[0])
        leases.append(time.perf_counter() - t0)
        store.close()
        t0 = time.perf_counter()
        RunStore(path, check=False).close()
        unchecked.append(time.perf_counter() - t0)
    ms = lambda xs: f"{statistics.median(xs) * 1000:.2f} ms"  # noqa: E731
    print(
        f"open a {size:.1f} MB store ({runs} runs x {steps} steps): {ms(opens)} with quick_check "
        f"(RunStore(check=False): {ms(unchecked)} open + close)"
    )
    print(
        f"lease: acquire + release {ms(leases)}; the first acquire after opening {ms(first)} "
        "(the first write of any kind after an open starts the WAL file)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lock_contention(Path(tmp))
        full_disk(Path(tmp))
        open_costs(Path(tmp), args.runs, args.steps)


if __name__ == "__main__":
    main()
