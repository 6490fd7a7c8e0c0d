"""`workbench sweep` as a real subprocess over real HTTP: progress, a SIGKILL mid-sweep and the
rerun that finishes it, and `--replay` offline from the recorded calls with identical rows."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from test_cli import BASE_ENV, workbench

from workbench.demo.policy import respond

pytestmark = pytest.mark.slow

KEY = "sk-loopback-sweep"
CALLS = 3  # every cell's call budget: cell i makes requests CALLS*i+1 .. CALLS*(i+1)
TASKS = 5


def sweep_file(path: Path, url: str) -> Path:
    path.write_text(
        f"""
name = "kill-test"
env = "gridworld"
tasks = [0, 1, 2, 3, 4]
strategies = ["react"]
memories = ["diff"]
models = [{{name = "openai/loopback", api_base = "{url}", max_retries = 0, timeout = 30.0}}]
concurrency = 1
[budgets]
max_calls = {CALLS}
""",
        encoding="utf-8",
    )
    return path


def cells_of(db: Path) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, status, run_id, row FROM sweep_cells WHERE sweep_id = 'kill-test'")
        return {k: (s, r, json.loads(row)) for k, s, r, row in rows}


def test_killed_sweep_resumes_and_replays_offline_bit_for_bit(server: Any, tmp_path: Path) -> None:
    kill_on = CALLS * 3 + 1  # the first call of the fourth cell
    in_flight, gate = threading.Event(), threading.Event()

    def responder(body: dict[str, Any]) -> str:
        if len(server.requests) == kill_on and not gate.is_set():
            in_flight.set()
            gate.wait(timeout=120)  # hold the answer until the child is dead
        return respond(body["messages"], seed=1, error_rate=0.2)

    server.responder = responder
    toml = sweep_file(tmp_path / "sweep.toml", server.url)
    db = tmp_path / "runs.sqlite"
    env = {**BASE_ENV, "OPENAI_API_KEY": KEY}
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "workbench", "sweep", str(toml), "--store", str(db)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # concurrency 1: the fourth cell asks only after the third's row was committed
        assert in_flight.wait(timeout=120), (tmp_path / "child.log").read_text()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        gate.set()
        log.close()

    before = cells_of(db)
    assert sorted(s for s, _, _ in before.values()) == ["done", "done", "done", "running"]
    finished = {k: r for k, (s, r, _) in before.items() if s == "done"}

    server.responder = lambda body: respond(body["messages"], seed=1, error_rate=0.2)
    again = workbench("sweep", str(toml), "--store", str(db), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "5/5" in again.stderr  # the progress bar counted the three finished cells in
    assert "STRATEGY" in again.stdout and "react" in again.stdout
    after = cells_of(db)
    assert len(after) == TASKS and all(s == "done" for s, _, _ in after.values())
    assert {k: after[k][1] for k in finished} == finished  # finished cells were not run again
    assert len(server.requests) == kill_on + 2 * CALLS  # only the unfinished two cells asked the model
    assert all(row["calls"] == CALLS or row["outcome"] == "success" for _, _, row in after.values())
    listed = workbench("runs", "--sweep", "kill-test", "--store", str(db), cwd=tmp_path, env=env)
    assert (
        listed.returncode == 0 and len(listed.stdout.strip().splitlines()) == 1 + TASKS + 1
    )  # + the killed run

    # offline: the server answers nothing now; the replay answers from the cassettes the cells recorded
    server.responder = lambda body: pytest.fail("the replay called the model server")
    sent = len(server.requests)
    replay = workbench(
        "sweep", "--replay", "kill-test", "--store", str(db), "--rows", cwd=tmp_path, env=BASE_ENV
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay (offline)" in replay.stdout and len(server.requests) == sent
    with sqlite3.connect(db) as conn:
        replayed = {
            k: json.loads(r)
            for k, r in conn.execute("SELECT key, row FROM sweep_cells WHERE sweep_id = 'kill-test.replay'")
        }
    head = "TASK STRATEGY MEMORY MODEL SEED BUDGET OUTCOME STEPS CALLS TOKENS RUN_ID"  # --rows: every cell
    printed = [line.split() for line in replay.stdout.splitlines()]
    run_ids = {row["run_id"] for row in replayed.values()}
    assert head.split() in printed and sum(1 for r in printed if r[-1] in run_ids) == TASKS
    varying = ("run_id", "seconds", "sweep_id", "simulated")
    assert {k: {f: v for f, v in row.items() if f not in varying} for k, row in replayed.items()} == {
        k: {f: v for f, v in row.items() if f not in varying} for k, (_, _, row) in after.items()
    }


def test_sweep_file_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('env = "gridworld"\nstrategy = ["react"]\n', encoding="utf-8")
    bad = workbench("sweep", "bad.toml", "--store", "runs.sqlite", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "workbench sweep: error: bad.toml: unknown key(s) strategy; valid: name, env, env_options, tasks, "
        "strategies, memories, models, seeds, budgets, concurrency, backend, address, record"
    ]
    missing = workbench("sweep", "--store", "runs.sqlite", cwd=tmp_path)
    assert missing.returncode == 2 and "give a sweep file" in missing.stderr
    for extra in ([], ["--backend", "ray"], ["bad.toml"]):
        replay = workbench("sweep", "--replay", "sw-1", *extra, "--store", "runs.sqlite", cwd=tmp_path)
        said = "takes no file or axes" if extra else "no run store at runs.sqlite"
        assert replay.returncode == 2 and said in replay.stderr
    assert not (tmp_path / "runs.sqlite").exists()
    keyed = tmp_path / "key.toml"
    keyed.write_text('models = [{name = "openai/x", api_key = "sk-secret-1234"}]\n', encoding="utf-8")
    leak = workbench("sweep", "key.toml", "--store", "runs.sqlite", cwd=tmp_path)
    assert leak.returncode == 2 and "keys come from the environment" in leak.stderr
    assert "sk-secret-1234" not in leak.stderr + leak.stdout
