"""Store faults: failed writes surface and are retried, one writer per run, damaged files, size caps.

Every test here drives a real Session against a real SQLite file; model calls go over HTTP to the
loopback server (tests/conftest.py) except where another process needs a model of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.core import events as ev
from workbench.core.session import Session
from workbench.errors import StoreError
from workbench.store.sqlite import RunStore

ROOT = Path(__file__).resolve().parents[1]


def stored_parents_ok(path: Path, run_id: str) -> list[int]:
    """The stored node ids, after checking that every stored node's parent is stored too."""
    with contextlib.closing(sqlite3.connect(path)) as r:
        rows = r.execute("SELECT id, parent_id FROM nodes WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
    ids = {i for i, _ in rows}
    assert all(p is None or p in ids for _, p in rows), rows
    return sorted(ids)


def same_tree(stored, live) -> None:
    stored.created_at = live.created_at  # stored as the RunStarted time
    assert stored.to_dict() == live.to_dict()


class Recorder:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)

    def errors(self) -> list[ev.Error]:
        return [e for e in self.events if isinstance(e, ev.Error)]


# --- 1. a failed write stops the run, the step stays in memory and is written on the retry -----------


def test_a_locked_store_raises_from_step_and_the_step_is_written_when_the_user_continues(
    tmp_path: Path, server, server_model
):
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    store.conn.execute("PRAGMA busy_timeout = 200")  # fail fast: the lock never frees by itself
    s = Session(env="gridworld", model=server_model, store=store)
    seen = Recorder()
    s.subscribe(seen)
    s.step()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    with pytest.raises(StoreError, match="write lock"):
        s.step()
    assert s.status == "error" and len(s.tree.nodes) == 3  # the step happened and is kept in memory
    assert [e.error_type for e in seen.errors()] == ["StoreError"]  # what the panel and the CLI show
    assert stored_parents_ok(path, s.run_id) == [0, 1]
    calls = len(server.requests)
    with pytest.raises(StoreError, match="write lock"):  # still locked: fails again before any model call
        s.step()
    assert len(server.requests) == calls and len(s.tree.nodes) == 3
    blocker.execute("ROLLBACK")
    blocker.close()
    s.step()  # the user continues: the kept step is written first, then the new one
    assert s.status != "error" and s.store_error is None
    assert stored_parents_ok(path, s.run_id) == [0, 1, 2, 3]
    same_tree(RunStore(path).load_run(s.run_id), s.tree)


def test_the_panel_shows_a_failed_write_and_a_step_click_retries_it(
    tmp_path: Path, server, server_model, monkeypatch
):
    import asyncio

    import comm
    from widget_toys import RecordingComm, front_event

    from workbench.widgets import Workbench

    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))
    path = tmp_path / "runs.sqlite"

    async def main() -> None:
        store = RunStore(path, timeout=0.2)
        s = Session(env="gridworld", model=server_model, store=store)
        wb = Workbench(s)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        front_event(wb, "step")
        await wb.settled()
        assert wb.header["status"] == "error" and "StoreError" in wb.notice and "write lock" in wb.notice
        blocker.execute("ROLLBACK")
        blocker.close()
        front_event(wb, "step")
        await wb.settled()
        assert wb.header["status"] != "error" and stored_parents_ok(path, s.run_id) == [0, 1, 2]
        s.close()

    asyncio.run(main())


def test_a_search_step_holds_no_write_lock_while_it_calls_the_model(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    probes: list[str] = []
    one_at_a_time = threading.Lock()  # value calls run concurrently: probes must not race each other

    def respond(body: dict) -> str:
        with one_at_a_time:
            other = sqlite3.connect(path, isolation_level=None, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                probes.append("free")
            except sqlite3.OperationalError as exc:
                probes.append(str(exc))
            finally:
                other.close()
        if "Score:" in body["messages"][0]["content"]:
            return "Score: 6"
        return server.default_answer

    server.responder = respond
    s = Session(
        env="gridworld",
        model=server_model,
        store=path,
        strategy="best-first",
        value="score",
        branching=2,
        n_samples=2,
        max_expansions=3,
    )
    s.run(max_steps=2)
    assert len(probes) >= 8 and set(probes) == {"free"}, probes


@contextlib.contextmanager
def tiny_disk(where: Path, size: str = "512k") -> Iterator[Path]:
    """A small tmpfs mounted at `where` (needs root, as in the test image)."""
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_stops_the_run_loses_nothing_and_the_retry_writes_it_all(
    tmp_path: Path, server, server_model
):
    with tiny_disk(tmp_path / "disk") as disk:
        path = disk / "runs.sqlite"
        store = RunStore(path)
        server.responder = lambda body: "Thought: " + "let me think. " * 1500 + "\nAction: look"
        s = Session(env="gridworld", model=server_model, store=store)
        seen = Recorder()
        s.subscribe(seen)
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 256 * 1024)
        error = None
        for _ in range(60):
            try:
                s.step()
            except StoreError as exc:
                error = exc
                break
        assert error is not None and "disk is full" in str(error), error
        assert s.status == "error" and seen.errors()[-1].error_type == "StoreError"
        stored = stored_parents_ok(path, s.run_id)
        assert stored == list(range(len(stored))) and len(stored) < len(s.tree.nodes)
        filler.unlink()  # the user frees space and continues
        s.step()
        assert stored_parents_ok(path, s.run_id) == sorted(s.tree.nodes)
        same_tree(store.load_run(s.run_id), s.tree)
        s.close()
        store.close()


def test_a_missing_table_is_a_store_error_and_nothing_is_stored_without_its_parent(
    tmp_path: Path, server, server_model
):
    path = tmp_path / "runs.sqlite"
    s = Session(env="gridworld", model=server_model, store=path)
    s.step()
    other = sqlite3.connect(path, isolation_level=None)
    (schema,) = other.execute("SELECT sql FROM sqlite_master WHERE name = 'llm_calls'").fetchone()
    other.execute("DROP TABLE llm_calls")
    with pytest.raises(StoreError, match="no such table: llm_calls"):
        s.step()
    with pytest.raises(StoreError, match="no such table"):
        s.step()
    assert len(s.tree.nodes) == 3 and stored_parents_ok(path, s.run_id) == [0, 1]
    other.execute(schema)  # repaired: the next step writes both
    other.close()
    s.step()
    assert stored_parents_ok(path, s.run_id) == [0, 1, 2, 3]
    loaded = s.store.load_run(s.run_id)  # node 1's call went with the dropped table; 2 and 3 are whole
    assert [len(loaded.nodes[i].llm_calls) for i in (1, 2, 3)] == [0, 1, 1]
    assert [loaded.nodes[i].observation for i in (2, 3)] == [s.tree.nodes[i].observation for i in (2, 3)]


def test_the_cli_stops_with_the_store_error_and_a_non_zero_exit(tmp_path: Path, server):
    path = tmp_path / "runs.sqlite"
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    answers = iter(range(100))

    def respond(body: dict) -> str:
        if next(answers) == 1:  # step 1 is stored; now another connection takes the write lock
            blocker.execute("BEGIN IMMEDIATE")
        return server.default_answer

    server.responder = respond
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "workbench",
                "run",
                "--store",
                str(path),
                "--env",
                "gridworld",
                "--model",
                "openai/loopback",
                "--api-base",
                server.url,
                "--max-steps",
                "4",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "OPENAI_API_KEY": "sk-loopback-faults",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "WORKBENCH_STORE_TIMEOUT": "0.2",
            },
        )
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()
    assert done.returncode != 0, done.stdout
    assert "write lock" in done.stderr and "Traceback" not in done.stderr, done.stderr
    with RunStore(path) as store:
        (row,) = store.list_runs()
        assert row["steps"] == 1  # step 1 whole; step 2 could not be written while the lock was held


# --- 2. one writer per run -------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel

    s = Session.resume(sys.argv[2], store=sys.argv[1], model=ScriptedModel(["Thought: t\\nAction: look"]))
    print("holding", flush=True)
    if sys.stdin.readline().strip() == "step":
        s.step()
    s.close()
    print("closed", flush=True)
    """
)


def start_holder(path: Path, run_id: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = proc.stdout.readline()
    assert line.strip() == "holding", proc.stderr.read()
    return proc


def test_a_second_process_cannot_write_a_run_another_process_holds(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    s = Session(env="gridworld", model=server_model, store=path)
    s.step()
    s.close()  # gives the lease back
    proc = start_holder(path, s.run_id)
    try:
        with pytest.raises(StoreError) as info:
            Session.resume(s.run_id, store=path, model=server_model)
        assert f"process {proc.pid} on" in str(info.value) and "read_only=True" in str(info.value)
        view = Session.resume(s.run_id, store=path, model=server_model, read_only=True)
        assert len(view.tree.nodes) == 2
        with pytest.raises(StoreError, match="read-only view"):
            view.step()
        proc.stdin.write("step\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "closed"
    finally:
        proc.kill()
        proc.wait()
    again = Session.resume(s.run_id, store=path, model=server_model)  # the holder closed: free
    assert len(again.tree.nodes) == 3
    again.step()
    again.close()
    assert stored_parents_ok(path, s.run_id) == [0, 1, 2, 3]


def test_a_killed_holder_leaves_a_lease_the_next_opener_takes_over(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    s = Session(env="gridworld", model=server_model, store=path)
    s.close()
    proc = start_holder(path, s.run_id)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with contextlib.closing(sqlite3.connect(path)) as r:  # the dead process's lease is still there
        assert r.execute("SELECT pid FROM leases").fetchall() == [(proc.pid,)]
    taken = Session.resume(s.run_id, store=path, model=server_model)
    taken.step()
    with contextlib.closing(sqlite3.connect(path)) as r:
        assert r.execute("SELECT pid FROM leases").fetchall() == [(os.getpid(),)]
    taken.close()
    with contextlib.closing(sqlite3.connect(path)) as r:
        assert r.execute("SELECT count(*) FROM leases").fetchone() == (0,)


def test_a_lease_from_another_host_is_taken_over_only_when_its_heartbeat_is_stale(
    tmp_path: Path, server_model
):
    path = tmp_path / "runs.sqlite"
    s = Session(env="gridworld", model=server_model, store=path)
    s.close()
    import time

    from workbench.store import lease

    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as w:
        w.execute(
            "INSERT INTO leases VALUES (?, 'tok', 4242, 'elsewhere', NULL, ?, ?)",
            (s.run_id, time.time(), time.time()),
        )
        with pytest.raises(StoreError, match="process 4242 on elsewhere"):
            Session.resume(s.run_id, store=path, model=server_model)
        old = time.time() - lease.STALE_AFTER - 1
        w.execute("UPDATE leases SET heartbeat_at = ?", (old,))
    Session.resume(s.run_id, store=path, model=server_model).close()


def test_a_writer_that_lost_its_lease_writes_nothing_more(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    first = Session(env="gridworld", model=server_model, store=path)
    first.step()
    # a notebook cell resumes the run again in the same process: the new session takes it over
    second = Session.resume(first.run_id, store=path, model=server_model)
    second.step()
    with pytest.raises(StoreError, match=f"taken over by process {os.getpid()}"):
        first.step()  # its own store object: the lease check in the write transaction refuses it
    assert first.status == "error"
    with pytest.raises(StoreError, match="taken over"):  # and it stays refused, before any model call
        first.step()
    shared = second.store  # two sessions on one store object
    third = Session.resume(first.run_id, store=shared, model=server_model)
    with pytest.raises(StoreError, match="another session of this process"):
        second.step()
    third.step()
    same_tree(RunStore(path).load_run(first.run_id), third.tree)
    assert stored_parents_ok(path, first.run_id) == [0, 1, 2, 3]


# --- 3. damaged stores -----------------------------------------------------------------------------


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )


def make_store(path: Path, server_model, runs: int = 2, steps: int = 3) -> list[str]:
    ids = []
    for _ in range(runs):
        s = Session(env="gridworld", model=server_model, store=path)
        s.run(max_steps=steps)
        s.close()
        ids.append(s.run_id)
    s.store.close()
    with contextlib.closing(sqlite3.connect(path)) as c:  # everything into the main file, WAL emptied
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def put_bytes(path: Path, data: bytes) -> None:
    """Replace a store file's bytes (and drop its WAL files, which belong to the old content)."""
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(data)


def clear_message(text: str, path: Path) -> None:
    assert str(path) in text and "Traceback" not in text, text
    assert "workbench doctor" in text or "workbench store" in text or "read-only" in text, text


def test_a_damaged_file_is_a_store_error_naming_it_and_no_new_run_is_written(
    tmp_path: Path, server, server_model
):
    path = tmp_path / "runs.sqlite"
    ids = make_store(path, server_model)
    data = bytearray(path.read_bytes())
    page = 4096
    pages = len(data) // page
    for k in range(pages // 3, pages - 1):  # wreck the page headers in the second half of the file
        data[k * page : k * page + 8] = b"\x99" * 8
    put_bytes(path, bytes(data))
    for attempt in (
        lambda: RunStore(path),
        lambda: RunStore(path, create=False).load_run(ids[0]),
        lambda: Session(env="gridworld", model=server_model, store=path),
        lambda: Session.resume(ids[0], store=path, model=server_model),
    ):
        with pytest.raises(StoreError) as info:
            attempt()
        clear_message(str(info.value), path)
    assert path.read_bytes() == bytes(data)  # nothing was written into it
    for command in (["runs"], ["show", ids[0]], ["export", ids[0]]):
        done = cli(*command, "--store", str(path), cwd=tmp_path)
        assert done.returncode != 0 and "no runs yet" not in done.stdout
        clear_message(done.stderr, path)


def test_random_corruption_never_gives_a_raw_traceback(tmp_path: Path, server, server_model):
    import random

    clean = tmp_path / "clean.sqlite"
    ids = make_store(clean, server_model, runs=3, steps=4)
    size = clean.stat().st_size
    for seed in range(12):
        rng = random.Random(seed)
        path = tmp_path / f"c{seed}.sqlite"
        data = bytearray(clean.read_bytes())
        for _ in range(4):
            at = rng.randrange(size // 4, size - 64)
            data[at : at + 32] = rng.randbytes(32)
        put_bytes(path, bytes(data))
        try:
            with RunStore(path) as store:
                store.list_runs()
                for rid in ids:
                    store.load_run(rid)
                    store.events(rid)
        except StoreError as exc:
            assert str(path) in str(exc)
        done = cli("show", ids[0], "--store", str(path), cwd=tmp_path)
        assert "Traceback" not in done.stderr, done.stderr


def test_bad_rows_are_store_errors_about_that_run(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    good, bad = make_store(path, server_model)
    damages = [
        ("UPDATE runs SET config = '{not json' WHERE id = ?", "config is not valid JSON"),
        ("UPDATE nodes SET data = 'garbage' WHERE run_id = ? AND id = 2", "node row is unreadable"),
        (
            'UPDATE nodes SET data = \'{"id": 2, "parent_id": 1, "depth": "x", "bogus": 1, "observation": 5, '
            '"memory": 3}\' WHERE run_id = ? AND id = 2',
            "depth is str, not int",
        ),
        (
            "UPDATE nodes SET data = '{\"parent_id\": 1}' WHERE run_id = ? AND id = 2",
            "node row is unreadable",
        ),
        ("DELETE FROM nodes WHERE run_id = ? AND id = 1", "has no parent node 1"),
        ("UPDATE llm_calls SET data = '[1, 2]' WHERE run_id = ? AND node_id = 3", "model call 0 of node 3"),
        (
            'UPDATE llm_calls SET data = \'{"model": "m"}\' WHERE run_id = ? AND node_id = 3',
            "model call 0 of node 3",
        ),
        ("UPDATE runs SET plan = 'nope' WHERE id = ?", "plan is not valid JSON"),
        ("UPDATE events SET data = '{' WHERE run_id = ?", "is not valid JSON"),
    ]
    original = path.read_bytes()
    for sql, expected in damages:
        put_bytes(path, original)
        with contextlib.closing(sqlite3.connect(path)) as c:
            c.execute(sql, (bad,))
            c.commit()
        with RunStore(path) as store:
            try:
                store.load_run(bad)
                store.load_state(bad)
                store.events(bad)
                loaded = True
            except StoreError as exc:
                loaded = False
                text = str(exc)
                assert f"run {bad!r} in {path} is damaged" in text and "workbench doctor" in text, text
                if expected:
                    assert expected in text, text
            if expected:
                assert not loaded, sql
            assert store.load_run(good).steps == 3  # the other run is untouched
            listed = {r["id"]: r for r in store.list_runs()}
            assert listed[good]["status"] != "damaged"
        done = cli("show", bad, "--store", str(path), cwd=tmp_path)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0 or (done.returncode == 2 and "is damaged" in done.stderr), done.stderr
    put_bytes(path, original)
    with contextlib.closing(sqlite3.connect(path)) as c:
        c.execute("UPDATE runs SET config = '[' WHERE id = ?", (bad,))
        c.commit()
    done = cli("runs", "--store", str(path), cwd=tmp_path)
    assert done.returncode == 1 and good in done.stdout and "damaged" in done.stdout
    assert f"run {bad} is damaged" in done.stderr and "workbench doctor" in done.stderr


def test_a_text_file_or_a_directory_is_not_a_store(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database\n" * 50)
    folder = tmp_path / "folder"
    folder.mkdir()
    for bad, says in ((text, "is it a workbench store"), (folder, "is a directory")):
        for command in (["runs"], ["show", "abc"], ["doctor"]):
            done = cli(*command, "--store", str(bad), cwd=tmp_path)
            assert done.returncode != 0 and "no runs yet" not in done.stdout, done.stdout
            assert str(bad) in done.stderr and "Traceback" not in done.stderr, done.stderr
        with pytest.raises(StoreError, match=says):
            RunStore(bad)
    assert text.read_text().startswith("hello")
    done = cli("runs", "--store", str(tmp_path / "none.sqlite"), cwd=tmp_path)  # a missing file: nothing yet
    assert done.returncode == 0 and "no runs yet" in done.stdout


def test_doctor_checks_and_salvages_the_readable_runs(tmp_path: Path, server, server_model):
    path = tmp_path / "runs.sqlite"
    good, bad = make_store(path, server_model, steps=4)
    healthy = cli("doctor", "--store", str(path), cwd=tmp_path)
    assert healthy.returncode == 0 and "integrity: ok" in healthy.stdout, healthy.stdout
    assert f"run {good}: ok (5 nodes)" in healthy.stdout
    with contextlib.closing(sqlite3.connect(path)) as c:  # node 3 of one run unreadable: 3 and 4 are lost
        c.execute("UPDATE nodes SET data = 'garbage' WHERE run_id = ? AND id = 3", (bad,))
        c.commit()
    out = tmp_path / "fixed.sqlite"
    done = cli("doctor", "--store", str(path), "--salvage", str(out), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"run {bad}: 3 node(s) readable" in done.stdout
        and f"salvaged 2 of 2 run(s) into {out}" in done.stdout
    )
    with RunStore(out) as fixed:
        assert fixed.load_run(good).to_dict() == RunStore(path).load_run(good).to_dict()
        assert sorted(fixed.load_run(bad).nodes) == [0, 1, 2]
        assert {r["id"] for r in fixed.list_runs()} == {good, bad}
    again = cli("doctor", "--store", str(path), "--salvage", str(out), cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    # a file whose pages are wrecked: the integrity check says so, and the intact rows are still saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\x00" * 4096
    put_bytes(path, bytes(data))
    done = cli("doctor", "--store", str(path), "--salvage", str(tmp_path / "second.sqlite"), cwd=tmp_path)
    assert done.returncode == 1 and "integrity: " in done.stdout and "Traceback" not in done.stderr, (
        done.stderr
    )


def test_a_read_only_store_can_still_be_read(tmp_path: Path, server, server_model):
    source = tmp_path / "runs.sqlite"
    (rid,) = make_store(source, server_model, runs=1)
    with tiny_disk(tmp_path / "ro", size="4m") as mount:
        shutil.copy(source, mount / "runs.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        path = mount / "runs.sqlite"
        with RunStore(path) as store:
            assert store.read_only and store.load_run(rid).steps == 3 and store.list_runs()[0]["id"] == rid
        view = Session.resume(rid, store=path, model=server_model, read_only=True)
        assert view.tree.steps == 3
        with pytest.raises(StoreError, match="read-only"):
            Session(env="gridworld", model=server_model, store=path)
        with pytest.raises(StoreError, match="read-only"):
            Session.resume(rid, store=path, model=server_model)
        for command in (["runs"], ["show", rid], ["doctor"]):
            done = cli(*command, "--store", str(path), cwd=tmp_path)
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


# --- 4. size caps ----------------------------------------------------------------------------------


class Echo:
    """A text env whose observation is as long as asked: `say N` answers N characters."""

    name = "echo"
    task = "read the long report"
    instructions = "Actions: say N"

    def reset(self, seed=None):
        return "ready", {}

    def step(self, action):
        n = int(str(action).split()[-1])
        return ("report " * n)[:n], 0.0, False, False, {}


def test_a_huge_answer_is_cut_marked_and_not_sent_again(tmp_path: Path, server, server_model):
    huge = "Thought: " + "words " * 200_000 + "\nAction: look"  # 1.2 M characters
    server.script({"text": huge})
    path = tmp_path / "runs.sqlite"
    s = Session(env="gridworld", model=server_model, store=path)
    node = s.step()
    assert node.action == "look"  # parsed from the whole answer
    assert node.info["clipped"]["raw"] == len(huge) and len(node.raw) < 200_100
    assert node.raw.endswith("more characters cut: this run keeps 200,000]")
    assert len(node.llm_calls[0].response) < 200_100 and len(node.thought) < 200_100
    s.step()
    assert sum(len(m["content"]) for m in server.requests[-1]["messages"]) < 500_000
    with contextlib.closing(sqlite3.connect(path)) as r:
        assert max(n for (n,) in r.execute("SELECT length(data) FROM llm_calls")) < 500_000
    s.close()


def test_observation_caps_keep_the_full_text_only_when_asked(tmp_path: Path, server, server_model):
    server.responder = lambda body: "Thought: read it\nAction: say 50000"
    path = tmp_path / "runs.sqlite"
    s = Session(
        env=Echo(),
        model=server_model,
        store=path,
        limits={"max_observation_chars": 1000, "keep_full_text": True},
    )
    node = s.step()
    assert len(node.observation) < 1100 and node.info["clipped"] == {"observation": 50_000}
    assert "49,000 more characters cut" in node.observation
    assert s.store.full_text(s.run_id, node.id, "observation") == ("report " * 50_000)[:50_000]
    assert s.store.full_text(s.run_id, node.id, "raw") is None
    s.close()
    resumed = Session.resume(s.run_id, store=path, env=Echo(), model=server_model)
    assert resumed.limits.max_observation_chars == 1000 and resumed.limits.keep_full_text
    resumed.close()
    plain = Session(env=Echo(), model=server_model, store=path, limits={"max_observation_chars": 1000})
    plain.step()
    with contextlib.closing(sqlite3.connect(path)) as r:  # not asked: nothing kept
        assert r.execute("SELECT count(*) FROM full_texts WHERE run_id = ?", (plain.run_id,)).fetchone() == (
            0,
        )
    plain.close()


def test_a_prompt_over_the_cap_is_not_sent_and_becomes_an_error_observation(
    tmp_path: Path, server, server_model
):
    server.responder = lambda body: "Thought: more\nAction: say 3000"
    s = Session(
        env=Echo(), model=server_model, store=tmp_path / "runs.sqlite", limits={"max_prompt_chars": 8000}
    )
    nodes = s.run(max_steps=10)
    sent = len(server.requests)
    assert sent == 3 and all(
        sum(len(m["content"]) for m in body["messages"]) <= 8000 for body in server.requests
    )
    last = nodes[-1]
    assert last.status == "error" and last.info["error_type"] == "ContextWindowError"
    assert "over this run's limit of 8,000" in last.observation and "it was not sent" in last.observation
    assert s.status == "error"
    s.set_memory("window", window=1)  # what the message suggests: the run goes on
    s.step()
    assert len(server.requests) == sent + 1
    s.close()


@pytest.mark.parametrize(
    "limits, says",
    [
        ({"max_prompt": 5}, "unknown limits max_prompt; valid: max_response_chars"),
        ({"max_observation_chars": 0}, "whole number of characters"),
        ({"max_observation_chars": float("nan")}, "whole number of characters"),
        ({"max_response_chars": "10"}, "whole number of characters"),
        ({"keep_full_text": "yes"}, "True or False"),
        ([1], "limits must be a dict"),
    ],
)
def test_wrong_limits_are_config_errors(limits, says, server_model):
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match=says):
        Session(env="gridworld", model=server_model, limits=limits)


def test_resume_without_a_store_is_a_config_error():
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="store must be a RunStore"):
        Session.resume("abc", store=None)
