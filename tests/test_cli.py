"""The `workbench` command, run as a real subprocess: output, listing, errors, and a SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_dist import installed

from workbench import cli, registry
from workbench.envs.gridworld import GridWorld, route

pytestmark = pytest.mark.slow

# the env of every child: no real keys (the default model must be the offline demo), no network
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.endswith(("_API_KEY", "_TOKEN", "_SECRET")) and k != "WORKBENCH_MODEL"
}
BASE_ENV["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
LOOPBACK_KEY = "sk-loopback-cli"  # the loopback server accepts any key


def workbench(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        env=env or BASE_ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )


def nodes_of(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, parent_id, data FROM nodes ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    cwd = tmp_path_factory.mktemp("cli")
    (cwd / ".workbench").mkdir()  # a project: its runs go to its own store
    done = workbench(
        "run",
        "--env",
        "gridworld",
        "--model",
        "workbench/demo",
        "--strategy",
        "react",
        "--memory",
        "diff",
        "--max-steps",
        "6",
        "--error-rate",
        "0",
        "--seed",
        "1",
        cwd=cwd,
    )
    return cwd, done


def run_id_of(output: str) -> str:
    line = next(ln for ln in output.splitlines() if ln.startswith("run: "))
    return line.split()[1]


def test_run_prints_each_step_and_a_summary(demo_run):
    cwd, done = demo_run
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    text = done.stdout
    assert text.splitlines()[0].startswith("run ") and "demo model (simulated)" in text.splitlines()[0]
    assert "start:" in text and "Map (north is up):" in text
    assert "step 1 [node 1]" in text and "  action:  " in text and "prompt tokens" in text
    assert "outcome: " in text and "steps: " in text and "tokens: " in text and "cost: $" in text
    assert "model: demo model (simulated)" in text
    assert (cwd / ".workbench" / "runs.sqlite").is_file()  # the default store: the project's .workbench/
    rid = run_id_of(text)
    assert len(nodes_of(cwd / ".workbench" / "runs.sqlite")) >= 2
    assert f"workbench resume {rid}" in text


def test_runs_lists_and_show_prints_the_path(demo_run):
    cwd, done = demo_run
    rid = run_id_of(done.stdout)
    listing = workbench("runs", cwd=cwd)
    assert listing.returncode == 0 and listing.stderr == ""
    head, row = listing.stdout.splitlines()[:2]
    assert head.split()[:3] == ["ID", "CREATED", "ENV"]
    assert row.startswith(rid) and "gridworld" in row and "react" in row and "diff" in row
    shown = workbench("show", rid[:5], cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"run {rid}") and "step 1 [node 1]" in shown.stdout
    assert f"run: {rid}" in shown.stdout and "outcome: " in shown.stdout
    exported = workbench("export", rid, "-o", "out/run.json", cwd=cwd)
    assert exported.returncode == 0, exported.stderr
    data = json.loads((cwd / "out" / "run.json").read_text())
    assert data["id"] == rid and data["format"] == "agent-workbench.run" and len(data["nodes"]) >= 2


def user_env(tmp_path: Path) -> dict[str, str]:
    """BASE_ENV with a per-user data folder of its own under `tmp_path`."""
    return {**BASE_ENV, "XDG_DATA_HOME": str(tmp_path / "data")}


def test_listing_without_a_store_says_so_and_creates_nothing(tmp_path: Path):
    env = user_env(tmp_path)
    user_store = tmp_path / "data" / "agent-workbench" / "runs.sqlite"
    done = workbench("runs", cwd=tmp_path, env=env)
    # the per-user store, shown relative to the cwd since it lies below it here
    assert done.returncode == 0 and done.stdout.startswith("no runs yet in data/agent-workbench/runs.sqlite")
    assert not user_store.parent.exists()
    listed = workbench("envs", cwd=tmp_path)
    assert listed.stdout.split()[0] == "game24" and "gridworld" in listed.stdout
    models = workbench("models", cwd=tmp_path)
    assert models.stdout.startswith("workbench/demo") and "workbench/replay" in models.stdout
    assert not (tmp_path / ".workbench").exists()


WRONG = [
    (["run", "--env", "nope"], "--env: unknown env 'nope'; valid: 'game24', "),
    (["run", "--strategy", "nope"], "unknown strategy 'nope'; valid: 'react', 'codeact', 'bfs'"),
    (["run", "--memory", "nope"], "unknown memory 'nope'; valid: 'full', 'window', 'diff'"),
    (["run", "--env", "wb_no_such_module:make"], "env 'wb_no_such_module:make': cannot import module"),
    (["run", "--strategy", "workbench.envs:Nope"], "module 'workbench.envs' has no attribute 'Nope'"),
    (["run", "--max-steps", "-3"], "--max-steps: must be a positive integer, got '-3'"),
    (["run", "--max-steps", "many"], "must be a positive integer, got 'many'"),
    (["run", "--error-rate", "1.5"], "must be a number from 0 to 1"),
    (["run", "--max-cost", "-1"], "must be a non-negative number"),
    (["run", "--window", "3", "--memory", "full"], "--window does not apply to --memory full"),
    (["run", "--model", "workbench/nope"], "unknown workbench model 'workbench/nope'; valid: workbench/demo"),
    (["run", "--model", "openai/x", "--error-rate", "0.2"], "--error-rate applies to the demo model only"),
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    (
        ["run", "--strategy", "plan-execute", "--strategy-option", "replanz=1"],
        "--strategy-option: strategy 'plan-execute' has no option 'replanz'; valid: item_steps, replans",
    ),
    (["run", "--strategy-option", "rounds"], "--strategy-option takes KEY=VALUE"),
    (
        ["run", "--memory", "summarized", "--memory-option", "every=often"],
        "--memory-option every: expected a whole number, not 'often'",
    ),
    (["show", "abc"], "agent-workbench/runs.sqlite; `workbench run` creates one"),
    (["resume", "abc"], "no run store at"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "choose a command: run, resume, runs, show"),
]


@pytest.mark.parametrize(("args", "message"), WRONG, ids=[" ".join(a) or "nothing" for a, _ in WRONG])
def test_a_wrong_argument_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str):
    done = workbench(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert message in done.stderr
    assert not (tmp_path / ".workbench").exists()  # a wrong argument leaves no files behind


def test_the_default_store_is_the_nearest_project_folder_else_per_user_else_the_variable(tmp_path: Path):
    env = user_env(tmp_path)
    deep = tmp_path / "project" / "notebooks" / "week1"
    deep.mkdir(parents=True)
    where = workbench("where", cwd=deep, env=env)
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(
        f"{tmp_path / 'data' / 'agent-workbench' / 'runs.sqlite'}  (the per-user default"
    )
    init = workbench("init", cwd=tmp_path / "project", env=env)
    assert init.returncode == 0 and (tmp_path / "project" / ".workbench").is_dir()
    where = workbench("where", cwd=deep, env=env)
    project_store = tmp_path / "project" / ".workbench" / "runs.sqlite"
    assert where.stdout.startswith(f"{project_store}  (the nearest .workbench/ folder; no runs yet)")
    # a run started two folders below the project is found from the project's root
    ran = workbench("run", "--max-steps", "2", "--quiet", cwd=deep, env=env)
    assert ran.returncode == 0, ran.stderr
    assert project_store.is_file() and not (deep / ".workbench").exists()
    listed = workbench("runs", cwd=tmp_path / "project", env=env)
    assert listed.stdout.splitlines()[1].startswith(run_id_of(ran.stdout))
    elsewhere = tmp_path / "elsewhere.sqlite"
    where = workbench("where", cwd=deep, env={**env, "WORKBENCH_STORE": str(elsewhere)})
    assert where.stdout.startswith(f"{elsewhere}  ($WORKBENCH_STORE")


def test_unknown_or_ambiguous_run_ids_in_an_existing_store(demo_run):
    cwd, _ = demo_run
    for args in (["show", "zzzz"], ["resume", "zzzz"], ["export", "zzzz"]):
        done = workbench(*args, cwd=cwd)
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert "no run 'zzzz' in .workbench/runs.sqlite; `workbench runs` lists them" in done.stderr


def test_a_real_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch):
    def broken(args: Any) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "envs", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["envs"])


def test_sigkill_mid_run_loses_only_the_step_in_flight_and_resume_finishes(tmp_path: Path, server):
    solution = route(GridWorld(seed=0).state)
    in_flight, gate = threading.Event(), threading.Event()
    kill_on = 4  # the child's 4th model request is the step in flight when it dies

    def responder(body: dict[str, Any]) -> str:
        step = sum(1 for m in body["messages"] if m["role"] == "assistant")  # full memory shows every step
        if len(server.requests) == kill_on:
            in_flight.set()
            gate.wait(timeout=120)  # hold the answer until the child is dead
        return f"Thought: step {step + 1} of the route\nAction: {solution[step]}"

    server.responder = responder
    db = tmp_path / "runs.sqlite"
    env = {**BASE_ENV, "OPENAI_API_KEY": LOOPBACK_KEY}
    args = ["--store", str(db), "--model", "openai/loopback", "--api-base", server.url, "--max-steps", "40"]
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", *args],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # the child sends request 4 only after step 3 (node, calls, cursor) committed; no polling needed
        assert in_flight.wait(timeout=120), (tmp_path / "child.log").read_text()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        gate.set()
        log.close()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rid, cursor, steps, status = conn.execute("SELECT id, cursor, steps, status FROM runs").fetchone()
        assert conn.execute("SELECT count(*) FROM llm_calls").fetchone() == (3,)
    before = nodes_of(db)
    assert [(i, p) for i, p, _ in before] == [(0, None), (1, 0), (2, 1), (3, 2)]
    assert (cursor, steps, status) == (3, 3, "running")

    resumed = workbench("resume", rid[:6], "--store", str(db), cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming run {rid} at step 3 [node 3]" in resumed.stdout
    assert "step 4 [node 4]" in resumed.stdout and "outcome: success" in resumed.stdout

    after = nodes_of(db)
    assert after[:4] == before  # nothing written before the kill changed
    assert [(i, p) for i, p, _ in after] == [(i, i - 1 if i else None) for i in range(len(solution) + 1)]
    assert [json.loads(d)["action"] for _, _, d in after[1:]] == solution  # no step lost, none repeated
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT cursor, steps, status, outcome FROM runs").fetchone() == (
            len(solution),
            len(solution),
            "done",
            "success",
        )
        assert conn.execute("SELECT count(*) FROM llm_calls").fetchone() == (len(solution),)
    again = workbench("resume", rid, "--store", str(db), cwd=tmp_path, env=env)
    assert again.returncode == 0 and "already finished (success)" in again.stdout


# --- any environment: module:factory specs and plugins ---------------------------------------------
FACTORIES = '''
from workbench.envs.gridworld import GridWorld

calls = []


def make(seed=0):
    """A gridworld from a factory."""
    calls.append(seed)
    return GridWorld(seed=seed)


def failing():
    raise RuntimeError("no maze today")


ready = GridWorld(seed=2)  # not callable: used as it is
'''


@pytest.fixture
def factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module of env factories in tmp_path/mods, importable in this process; its name."""
    name = f"wb_cli_factories_{tmp_path.name.replace('-', '_')}"
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / f"{name}.py").write_text(FACTORIES)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "mods"), *sys.path])
    monkeypatch.chdir(tmp_path)
    yield name
    sys.modules.pop(name, None)


def test_run_and_resume_an_env_from_a_module_factory_in_process(factories, capsys):
    db = "runs.sqlite"
    args = ["--store", db, "--model", "workbench/demo", "--error-rate", "0", "--seed", "1"]
    assert cli.main(["run", "--env", f"{factories}:make", "--max-steps", "2", *args]) == 0
    out = capsys.readouterr().out
    assert sys.modules[factories].calls == [1]  # called once, with the run's seed
    assert f"env: {factories}:make" in out and "step 2 [node 2]" in out
    rid = run_id_of(out)
    assert cli.main(["resume", rid, "--store", db, "--max-steps", "3"]) == 0  # rebuilt from the spec
    resumed = capsys.readouterr().out
    assert f"resuming run {rid} at step 2" in resumed and "step 3 [node 3]" in resumed
    assert sys.modules[factories].calls == [1, 1]
    assert cli.main(["run", "--env", f"{factories}:ready", "--max-steps", "1", *args]) == 0
    assert f"env: {factories}:ready" in capsys.readouterr().out


def test_a_factory_that_raises_is_one_line_and_exit_2_and_leaves_no_store(factories, tmp_path, capsys):
    code = cli.main(["run", "--env", f"{factories}:failing", "--store", "runs.sqlite", "--max-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"workbench run: error: env '{factories}:failing': RuntimeError: no maze today" in err
    assert not (tmp_path / "runs.sqlite").exists()


def test_module_factory_in_a_child_process_with_pythonpath(factories, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **BASE_ENV,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "mods"), BASE_ENV.get("PYTHONPATH", "")]),
    }
    done = workbench("run", "--env", f"{factories}:make", "--max-steps", "2", cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert f"env: {factories}:make" in done.stdout and "step 2 [node 2]" in done.stdout
    missing = workbench("run", "--env", f"{factories}:nothing", cwd=work, env=env)
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    assert f"module '{factories}' has no attribute 'nothing'" in missing.stderr


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from installed(tmp_path / "site", monkeypatch)


def test_plugin_env_and_strategy_by_name_and_envs_lists_plugins(plugins, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["envs"]) == 0
    listed = capsys.readouterr().out
    assert listed.split()[0] == "game24"
    assert f"[plugin {plugins}.plugins:PlugCounter ({plugins})]" in listed and "broken-env" in listed
    args = ["--store", "runs.sqlite", "--model", "workbench/demo", "--memory", "my-window", "--window", "2"]
    assert cli.main(["run", "--env", "my-env", "--strategy", "my-react", "--max-steps", "1", *args]) == 0
    out = capsys.readouterr().out
    assert "env: my-env · strategy: my-react · memory: my-window" in out
    registry.clear_cache()  # as in a new process
    assert cli.main(["resume", run_id_of(out), "--store", "runs.sqlite", "--max-steps", "2"]) == 0
    assert "step 2 [node 2]" in capsys.readouterr().out
    assert cli.main(["run", "--env", "mars", *args]) == 2
    assert "'my-env' (plugin)" in capsys.readouterr().err


@pytest.mark.slow
def test_codeact_runs_from_the_cli_in_a_sandbox_and_leaves_no_kernel(tmp_path: Path):
    done = workbench(
        "run", "--env", "game24", "--strategy", "codeact", "--sandbox", "process", "--seed", "12",
        "--max-steps", "6", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "outcome: success" in done.stdout and "strategy: codeact" in done.stdout
    assert "from itertools import permutations" in done.stdout  # the code cell the model wrote


def test_run_takes_the_search_options_and_rounds_continue_after_a_failed_commit(tmp_path: Path):
    common = ["run", "--env", "game24", "--strategy", "best-first", "--max-expansions", "2"]
    common += ["--seed", "14", "--error-rate", "0.3", "--store", "s.sqlite", "--quiet"]
    one = workbench(*common, cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("outcome: failure")  # one round commits a dead end
    looped = workbench(*common, "--rounds", "terminal", cwd=tmp_path)
    assert looped.returncode == 0, looped.stderr
    assert looped.stdout.startswith("outcome: success")  # Koh et al.'s loop searches on from the commit
    wrong = workbench("run", "--rounds", "x", cwd=tmp_path)
    assert wrong.returncode == 2 and "positive integer or 'terminal'" in wrong.stderr
    react = workbench("run", "--rounds", "2", "--max-steps", "1", "--store", "s.sqlite", cwd=tmp_path)
    assert (
        react.returncode == 2
        and react.stderr.count("\n") == 1
        and "react does not take rounds" in react.stderr
    )


@pytest.mark.parametrize("strategy", ["plan-execute", "umi", "reflexion"])
def test_run_takes_the_role_strategies(strategy: str, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["run", "--env", "game24", "--model", "workbench/demo", "--error-rate", "0", "--seed", "12"]
    assert cli.main([*args, "--strategy", strategy, "--store", "s.sqlite", "--max-steps", "8"]) == 0
    out = capsys.readouterr().out
    assert f"strategy: {strategy}" in out and "outcome: success" in out
    assert cli.main(["run", "--strategy", "plan-and-execute"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "'plan-execute', 'umi', 'reflexion'" in err


def test_run_options_reach_the_strategy_and_memory(tmp_path: Path, server, monkeypatch, capsys):
    """`--strategy-option replans=1`: plan-execute replans once only, over real HTTP (loopback)."""
    from workbench.store.sqlite import RunStore
    from workbench.strategies.labels import REPLANNER_ROLE

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", LOOPBACK_KEY)
    plan = "Thought: key first.\nPlan:\n1. [ ] pick up the key\n2. [ ] reach the goal"
    wrong = "Thought: x\nAction: fly away"
    server.script(*[{"text": t} for t in (plan, wrong, plan, wrong, wrong, wrong)])
    args = ["run", "--model", "openai/loopback", "--api-base", server.url, "--strategy", "plan-execute"]
    args += ["--strategy-option", "replans=1", "--memory", "layered", "--memory-option", "top_k=2"]
    args += ["--memory-option", "feedback=2.5"]
    assert cli.main([*args, "--max-steps", "4", "--store", "s.sqlite", "--quiet"]) == 0
    capsys.readouterr()
    systems = [request["messages"][0]["content"] for request in server.requests]
    assert len(systems) == 6 and sum(REPLANNER_ROLE in text for text in systems) == 1
    with RunStore("s.sqlite") as store:
        (row,) = store.list_runs()
        config = store.load_run(row["id"]).config
    assert config["strategy_options"] == {"item_steps": 10, "replans": 1}
    assert config["memory_options"] == {"top_k": 2, "feedback": 2.5}
