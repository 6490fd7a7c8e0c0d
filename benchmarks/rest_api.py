"""Latency of the REST API (`workbench.server`) over a big store, against a real JupyterLab server.

    python benchmarks/rest_api.py [--runs 10000] [--nodes 10000] [--repeat 50]

Builds a store with `--runs` runs (one real 3-step run written by a Session, its rows copied under
new ids and varied env/strategy/status, as many runs of a project would be) plus one run of
`--nodes` nodes (a real scripted run on a counter env), starts JupyterLab on 127.0.0.1 with the server
extension enabled, and times `--repeat` GETs of each request over HTTP with the token. Prints p50 and
p90 in milliseconds, and the size of each answer.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser_fixtures import lab_server  # noqa: E402
from toys import Counter, react  # noqa: E402

from workbench.core.session import Session  # noqa: E402
from workbench.llm.scripted import ScriptedModel  # noqa: E402


def build_store(path: Path, runs: int, nodes: int) -> str:
    """A store with `runs` small runs and one run of `nodes` nodes; returns the big run's id."""
    small = Session(task="reach the goal", env="gridworld", store=path, seed=1)
    small.run(max_steps=3)
    small.store.close()
    big = Session(
        task="count a long way",
        env=Counter(goal=10**9),
        model=ScriptedModel([react("inc")] * nodes),
        store=path,
    )
    big.run(max_steps=nodes - 1)
    big.store.close()
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    (row,) = conn.execute(f"SELECT {', '.join(columns)} FROM runs WHERE id = ?", (small.run_id,)).fetchall()
    base = dict(zip(columns, row, strict=True))
    node_rows = conn.execute("SELECT * FROM nodes WHERE run_id = ?", (small.run_id,)).fetchall()
    node_cols = [r[1] for r in conn.execute("PRAGMA table_info(nodes)")]
    envs, strategies, statuses = (
        ("gridworld", "game24"),
        ("react", "bfs", "mcts"),
        ("done", "paused", "error"),
    )
    with conn:
        for i in range(runs - 2):
            rid = f"{i:012x}"
            config = json.loads(base["config"])
            config.update(env=envs[i % 2], strategy=strategies[i % 3])
            values = {**base, "id": rid, "config": json.dumps(config), "status": statuses[i % 3],
                      "created_at": base["created_at"] - i, "task": f"{base['task']} #{i}"}  # fmt: skip
            conn.execute(
                f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [values[c] for c in columns],
            )
            for n in node_rows:
                nv = dict(zip(node_cols, n, strict=True))
                nv["run_id"] = rid
                conn.execute(
                    f"INSERT INTO nodes ({', '.join(node_cols)}) VALUES ({', '.join('?' * len(node_cols))})",
                    [nv[c] for c in node_cols],
                )
    conn.close()
    return big.run_id


def timed(url: str, token: str, repeat: int) -> tuple[float, float, int]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # 127.0.0.1 only
            size = len(response.read())
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "root" / ".workbench").mkdir(parents=True)
        started = time.perf_counter()
        big = build_store(base / "root" / ".workbench" / "runs.sqlite", args.runs, args.nodes)
        print(
            f"store: {args.runs} runs + a {args.nodes}-node run built in {time.perf_counter() - started:.1f} s"
        )
        with lab_server(base) as server:
            api = f"{server.url}/workbench/api"
            requests = [
                ("runs, first page (50)", f"{api}/runs"),
                ("runs, env+strategy filter", f"{api}/runs?env=game24&strategy=bfs"),
                ("runs, text search (one match)", f"{api}/runs?q=%239000"),
                ("runs, page at offset 9000", f"{api}/runs?offset=9000&limit=50"),
                (f"{args.nodes}-node run, first 200 nodes", f"{api}/runs/{big}"),
                (
                    f"{args.nodes}-node run, last page",
                    f"{api}/runs/{big}?offset={args.nodes - 200}&limit=200",
                ),
                ("one node with its calls (late in the run)", f"{api}/runs/{big}/nodes/{args.nodes - 1}"),
            ]
            for label, url in requests:
                p50, p90, size = timed(url, server.token, args.repeat)
                print(f"{label:45s} p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  {size / 1024:7.1f} KB")


if __name__ == "__main__":
    main()
