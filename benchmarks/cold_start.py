"""Cold start: how long a fresh process takes to its first step.

    python benchmarks/cold_start.py [--reps 5]

Each measurement is a new Python process (wall time from its start, interpreter start-up included),
repeated `--reps` times, interleaved:

- `import workbench`;
- the first step of the simulated demo model: `Session(model="workbench/demo").step()` after the
  import (peak RSS of that process too);
- `workbench run --model workbench/demo --max-steps 3` (the CLI, a SQLite store in a temp folder);
- the first step with a real model through litellm, against a loopback OpenAI-compatible server (the
  test suite's `ModelServer`): litellm is imported in the background as soon as the Session is
  made; also shown is how much of the process's time that import took before the step could use it.

Prints min-max over the repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT = "import workbench"
DEMO = """
import json, resource, time
t0 = time.perf_counter()
from workbench import Session
s = Session(model="workbench/demo")
s.step()
print(json.dumps({"in_process": time.perf_counter() - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
REAL = """
import json, resource, sys, time
t0 = time.perf_counter()
from workbench import Session, Model
model = Model("openai/loopback", api_base=sys.argv[1], api_key="sk-loopback-bench", max_retries=0)
s = Session(model=model, env="gridworld")
made = time.perf_counter()
s.step()
print(json.dumps({"in_process": time.perf_counter() - t0, "after_session": time.perf_counter() - made,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def timed(cmd: list[str], cwd: str | None = None) -> tuple[float, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    extra = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return wall, extra


def span(values: list[float], fmt: str = ".2f") -> str:
    return f"{min(values):{fmt}}-{max(values):{fmt}}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import ModelServer  # the loopback server of the test suite

    server = ModelServer()
    server.start()
    rows: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.reps):
                wall, _ = timed([sys.executable, "-c", IMPORT])
                rows.setdefault("import workbench (s)", []).append(wall)
                wall, extra = timed([sys.executable, "-c", DEMO])
                rows.setdefault("first demo step, process wall (s)", []).append(wall)
                rows.setdefault("first demo step, after start-up (s)", []).append(extra["in_process"])
                rows.setdefault("first demo step, peak RSS (MB)", []).append(extra["rss_mb"])
                store = str(Path(tmp) / "runs.sqlite")
                cli = [sys.executable, "-m", "workbench", "run", "--model", "workbench/demo"]
                wall, _ = timed([*cli, "--max-steps", "3", "--store", store, "--quiet"], cwd=tmp)
                rows.setdefault("workbench run, 3 demo steps (s)", []).append(wall)
                wall, extra = timed([sys.executable, "-c", REAL, server.url])
                rows.setdefault("first real-model step, process wall (s)", []).append(wall)
                rows.setdefault("  of which Session made -> step done (s)", []).append(extra["after_session"])
                rows.setdefault("first real-model step, peak RSS (MB)", []).append(extra["rss_mb"])
    finally:
        server.stop()
    width = max(len(k) for k in rows)
    print(f"{args.reps} fresh processes each, min-max")
    for name, values in rows.items():
        print(f"{name:<{width}}  {span(values, '.0f' if 'MB' in name else '.2f')}")


if __name__ == "__main__":
    main()
