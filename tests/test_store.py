"""The SQLite run store: round trips, migrations, listing, ids, commits, redaction, flat writes."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.core import events as ev
from workbench.core.tree import LLMCall, Run
from workbench.errors import StoreError
from workbench.store import migrations
from workbench.store.rows import call_messages, message_ops
from workbench.store.sqlite import RunStore


class Driver:
    """Builds a run by hand and publishes the events a Session would, in the same order."""

    def __init__(
        self, store: RunStore, task: str = "count to 3", run_id: str | None = None, **config
    ) -> None:
        self.store = store
        self.run = Run(
            task=task,
            config={
                "env": "counter",
                "model": {"name": "scripted"},
                "strategy": "react",
                "memory": "full",
                **config,
            },
        )
        if run_id:
            self.run.id = run_id
        self.emit(ev.RunStarted(self.run.id, task=task, config=self.run.config))
        root = self.run.new_node(None, observation="n=0", provenance="env")
        self.emit(ev.NodeAdded(self.run.id, node=root))

    def emit(self, event: ev.Event) -> None:
        self.store.handle(event)

    def history(self, node_id: int) -> list[dict]:
        out = []
        for n in self.run.path(node_id):
            if n.parent_id is not None:
                out.append({"role": "assistant", "content": f"Thought: {n.thought}\nAction: {n.action}"})
            out.append({"role": "user", "content": f"Observation:\n{n.observation}"})
        return out

    def step(
        self,
        action: str = "inc",
        *,
        obs: str | None = None,
        reward: float = 0.0,
        terminal: bool = False,
        finish: bool = True,
        thought: str = "go on",
        plan: list | None = None,
    ):
        rid, parent = self.run.id, self.run.current
        self.emit(ev.StepStarted(rid, parent_id=parent.id))
        if plan is not None:
            self.emit(ev.PlanEdited(rid, items=plan, provenance="agent", change="replace"))
        node = self.run.new_node(
            parent.id,
            thought=thought,
            action=action,
            executed=True,
            observation=obs or f"after {action}",
            reward=reward,
            terminal=terminal,
            status="terminal" if terminal else "expanded",
            plan=plan or [],
            memory={"edits": {}, "notes": []},
        )
        # prompts grow like full memory's: a system message (the plan lives there), then every step
        messages = [{"role": "system", "content": f"task; plan {plan}"}, *self.history(node.parent_id)]
        call = LLMCall(
            model="scripted",
            messages=messages,
            response=f"Thought: {thought}\nAction: {action}",
            prompt_tokens=10,
            completion_tokens=3,
            cost=0.001,
        )
        self.run.record_call(node, call)
        self.emit(ev.NodeAdded(rid, node=node))
        self.run.cursor = node.id
        self.emit(ev.CursorMoved(rid, node_id=node.id, provenance="agent"))
        if terminal:
            self.run.outcome = "success" if reward > 0 else "failure"
            self.emit(ev.RunFinished(rid, outcome=self.run.outcome, node_id=node.id))
        if finish:
            self.emit(ev.StepFinished(rid, node=node))
        return node


@pytest.fixture
def store(tmp_path: Path):
    with RunStore(tmp_path / "s" / "runs.sqlite") as s:
        yield s


def reader(store: RunStore) -> sqlite3.Connection:
    """A second, independent connection: it sees only what the store committed."""
    return sqlite3.connect(store.path)


def test_round_trip_of_a_run_built_through_events(store: RunStore):
    d = Driver(store)
    d.step(plan=[{"text": "count", "status": "doing", "provenance": "agent"}])
    d.step()
    d.run.cursor = 1  # a rewind, then a sibling branch
    d.emit(ev.CursorMoved(d.run.id, node_id=1, provenance="user"))
    d.step("dec", obs="n=0")
    d.step("inc", obs="n=1")
    d.step("inc", obs="n=3", reward=1.0, terminal=True)
    loaded = store.load_run(d.run.id)
    assert loaded.created_at == pytest.approx(d.run.created_at, abs=5)  # the RunStarted time
    loaded.created_at = d.run.created_at
    assert loaded.to_dict() == d.run.to_dict()
    assert (loaded.cursor, loaded.outcome, loaded.steps) == (5, "success", 5)
    assert (loaded.prompt_tokens, loaded.completion_tokens) == (50, 15)
    assert loaded.cost == pytest.approx(0.005)
    assert [n.id for n in loaded.children(1)] == [2, 3]
    assert loaded.nodes[1].llm_calls[0].response == "Thought: go on\nAction: inc"
    assert store.load_state(d.run.id)["plan"] == [{"text": "count", "status": "doing", "provenance": "agent"}]
    kinds = [(e["kind"], e["provenance"]) for e in store.events(d.run.id)]
    assert kinds == [("RunStarted", "agent"), ("CursorMoved", "user"), ("RunFinished", None)]


def test_user_edits_errors_and_pauses_are_history_and_state(store: RunStore):
    d = Driver(store)
    d.step()
    rid = d.run.id
    d.emit(
        ev.PlanEdited(
            rid,
            items=[{"text": "a", "status": "todo", "provenance": "user"}],
            provenance="user",
            change="add 'a'",
        )
    )
    state = {"edits": {"obs:1": "edited"}, "pinned": ["obs:0"], "forgotten": [], "notes": []}
    d.emit(
        ev.MemoryEdited(rid, entry_id="obs:1", change="edit", provenance="user", text="edited", state=state)
    )
    d.emit(ev.BreakpointHit(rid, breakpoint="action ~ inc", node_id=1))
    d.emit(ev.Paused(rid, reason="breakpoint"))
    assert store.load_state(rid) == {
        "plan": [{"text": "a", "status": "todo", "provenance": "user"}],
        "memory": state,
    }
    history = store.events(rid)
    assert [e["kind"] for e in history] == [
        "RunStarted",
        "PlanEdited",
        "MemoryEdited",
        "BreakpointHit",
        "Paused",
    ]
    assert history[2]["data"] == {"entry_id": "obs:1", "change": "edit", "text": "edited"}
    assert history[3]["node_id"] == 1
    assert store.list_runs()[0]["status"] == "paused"
    # a provider failure: an error node and an Error event, and no StepFinished
    d.emit(ev.StepStarted(rid, parent_id=1))
    bad = d.run.new_node(1, observation="boom", status="error", error="boom", provenance="env")
    d.emit(ev.NodeAdded(rid, node=bad))
    d.emit(ev.Error(rid, message="boom", node_id=bad.id, error_type="ProviderError"))
    with reader(store) as r:  # the failed step committed without a StepFinished
        assert r.execute("SELECT status FROM nodes WHERE id = ?", (bad.id,)).fetchone() == ("error",)
        assert r.execute("SELECT status FROM runs").fetchone() == ("error",)


def test_resume_event_keeps_the_run_and_marks_it_running(store: RunStore):
    d = Driver(store)
    d.step()
    d.emit(ev.Paused(d.run.id, reason="max_steps"))
    d.emit(ev.RunStarted(d.run.id, task=d.run.task, config=d.run.config, resumed=True))
    d.step()
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0]["status"] == "running" and runs[0]["steps"] == 2
    assert [e["data"] for e in store.events(d.run.id) if e["kind"] == "RunStarted"] == [
        {"resumed": False},
        {"resumed": True},
    ]


def test_wal_mode_and_synchronous_normal(store: RunStore):
    with reader(store) as r:
        assert r.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_each_event_outside_a_step_is_committed_at_once_and_a_step_commits_whole(store: RunStore):
    d = Driver(store)
    with reader(store) as r:
        assert r.execute("SELECT id, task FROM runs").fetchall() == [(d.run.id, "count to 3")]
        assert r.execute("SELECT id FROM nodes").fetchall() == [(0,)]
        d.emit(ev.PlanEdited(d.run.id, items=[{"text": "x"}], provenance="user", change="add"))
        assert r.execute("SELECT plan FROM runs").fetchone() == ('[{"text":"x"}]',)
        node = d.step(finish=False)  # node, calls and cursor written, StepFinished not yet seen
        assert r.execute("SELECT count(*) FROM nodes").fetchone() == (1,)
        assert r.execute("SELECT cursor FROM runs").fetchone() == (0,)
        d.emit(ev.StepFinished(d.run.id, node=node))
        assert r.execute("SELECT count(*) FROM nodes").fetchone() == (2,)
        assert r.execute("SELECT count(*) FROM llm_calls").fetchone() == (1,)
        assert r.execute("SELECT cursor, steps, prompt_tokens FROM runs").fetchone() == (1, 1, 10)


def test_events_from_another_thread(store: RunStore):
    d = Driver(store)
    worker = threading.Thread(target=lambda: [d.step() for _ in range(5)])
    worker.start()
    worker.join()
    assert store.load_run(d.run.id).steps == 5


def test_write_path_never_reads_and_costs_the_same_at_every_step(store: RunStore):
    d = Driver(store)
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    counts = []
    for i in range(120):
        seen.clear()
        d.step(plan=[{"text": f"item {i}"}])
        counts.append(len(seen))
        assert all(s.split()[0] in ("BEGIN", "INSERT", "UPDATE", "COMMIT") for s in seen), seen
    store.conn.set_trace_callback(None)
    assert set(counts) == {counts[0]}  # step 120 runs exactly as many statements as step 1
    assert sum(1 for s in seen if s == "COMMIT") == 1  # one commit per step


def test_list_runs_newest_first_with_totals(store: RunStore):
    first = Driver(store, task="first")
    first.step()
    second = Driver(
        store,
        task="second",
        memory="diff",
        model={"name": "workbench/demo"},
        model_label="workbench/demo (simulated)",
    )
    second.step()
    second.step("inc", reward=1.0, terminal=True)
    runs = store.list_runs()
    assert [r["task"] for r in runs] == ["second", "first"]
    top = runs[0]
    assert {
        k: top[k] for k in ("env", "model", "strategy", "memory", "steps", "tokens", "status", "outcome")
    } == {
        "env": "counter",
        "model": "workbench/demo",
        "strategy": "react",
        "memory": "diff",
        "steps": 2,
        "tokens": 26,
        "status": "done",
        "outcome": "success",
    }
    assert top["model_label"] == "workbench/demo (simulated)"
    assert top["created_at"] <= top["updated_at"]
    assert [r["task"] for r in store.list_runs(limit=1)] == ["second"]


def test_prefix_ids_unknown_ids_and_ambiguity(store: RunStore):
    a = Driver(store, run_id="abc111")
    Driver(store, run_id="abd222")
    assert store.load_run("abc").id == "abc111"
    assert store.resolve("abd222") == "abd222"
    with pytest.raises(StoreError, match=r"ambiguous .*abc111.*give more characters|ambiguous .*abd222"):
        store.load_run("ab")
    with pytest.raises(StoreError) as info:
        store.load_run("zzz")
    assert str(info.value) == f"no run 'zzz' in {store.path}; `workbench runs` lists them"
    for call in (store.load_state, store.events, store.delete_run):
        with pytest.raises(StoreError, match="no run 'nope'"):
            call("nope")
    assert store.delete_run("abc") == a.run.id
    assert [r["id"] for r in store.list_runs()] == ["abd222"]
    with reader(store) as r:
        for table, key in (("nodes", "run_id"), ("llm_calls", "run_id"), ("events", "run_id")):
            assert r.execute(f"SELECT count(*) FROM {table} WHERE {key} = 'abc111'").fetchone() == (0,)


def test_migrations_are_numbered_and_idempotent(tmp_path: Path):
    numbers = [n for n, _ in migrations.MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers[-1] == migrations.LATEST
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as r:
        schema = r.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        assert migrations.version(r) == migrations.LATEST
    with RunStore(path):  # opening again applies nothing and changes nothing
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrations.migrate(conn) == migrations.LATEST
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    conn.close()


def test_an_old_version_file_is_upgraded_with_its_data(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrations.migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO runs (id, task, config, created_at, updated_at, cursor) VALUES "
        "('old1', 'legacy', '{\"env\": \"gridworld\"}', 1.0, 2.0, 1)"
    )
    conn.execute(
        "INSERT INTO nodes VALUES ('old1', 0, NULL, 'expanded', 1.0, '{\"id\": 0, \"observation\": \"start\"}')"
    )
    conn.execute(
        "INSERT INTO nodes VALUES ('old1', 1, 0, 'expanded', 1.5, "
        '\'{"id": 1, "parent_id": 0, "depth": 1, "action": "up"}\')'
    )
    conn.execute(
        "INSERT INTO llm_calls VALUES ('old1', 1, 0, "
        '\'{"model": "m", "messages": [], "response": "r", "prompt_tokens": 7, '
        '"completion_tokens": 2, "cost": 0.5}\')'
    )
    conn.close()
    with RunStore(path) as store:
        assert migrations.version(store.conn) == migrations.LATEST
        (row,) = store.list_runs()
        assert (row["id"], row["env"], row["steps"], row["tokens"], row["cost"]) == (
            "old1",
            "gridworld",
            1,
            9,
            0.5,
        )
        run = store.load_run("old1")
        assert run.nodes[1].action == "up" and run.tokens == 9 and run.cursor == 1
        assert store.load_state("old1") == {"plan": [], "memory": {}}


def test_a_newer_or_foreign_file_is_refused_with_a_store_error(tmp_path: Path):
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as c:
        c.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    with pytest.raises(StoreError, match="newer than this workbench"):
        RunStore(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open run store"):
        RunStore(junk)
    with pytest.raises(StoreError, match="no run store at"):
        RunStore(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()
    closed = RunStore(tmp_path / "c.sqlite")
    closed.close()
    with pytest.raises(StoreError, match="closed"):
        closed.list_runs()


def test_save_run_writes_a_whole_run(store: RunStore, tmp_path: Path):
    with RunStore(tmp_path / "other.sqlite") as other:
        d = Driver(other)
        d.step()
        d.step("inc", reward=1.0, terminal=True)
    store.save_run(d.run, plan=[{"text": "p"}], memory={"notes": ["n"]})
    store.save_run(d.run)  # saving again replaces, it does not double count
    assert store.load_run(d.run.id).to_dict() == d.run.to_dict()
    (row,) = store.list_runs()
    assert (row["steps"], row["tokens"], row["status"]) == (2, 26, "done")


def test_secrets_never_reach_any_table_or_the_wal(store: RunStore, monkeypatch: pytest.MonkeyPatch):
    key = "sk-test-" + secrets.token_hex(16)
    token = "tok-" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("FOO_TOKEN", token)
    d = Driver(store, task=f"use {key}", extra={"api_base": f"http://x/{token}"})
    rid = d.run.id
    d.step(thought=f"my key is {key}", obs=f"echo {token}", plan=[{"text": f"leak {key}"}])
    d.emit(
        ev.MemoryEdited(
            rid, entry_id="note:1", change="add", provenance="user", text=token, state={"notes": [token]}
        )
    )
    d.emit(ev.PlanEdited(rid, items=[{"text": key}], provenance="user", change=f"add {key!r}"))
    d.emit(ev.Error(rid, message=f"401 for key {key}", error_type="AuthenticationError"))
    node = d.run.nodes[1]
    node.value = 0.5
    d.emit(ev.NodeUpdated(rid, node=node, fields=("value",), provenance="user"))
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())
    assert store.path.with_name(store.path.name + "-wal").stat().st_size > 0
    assert key.encode() not in raw and token.encode() not in raw
    assert b"[REDACTED:OPENAI_API_KEY]" in raw and b"[REDACTED:FOO_TOKEN]" in raw
    loaded = store.load_run(rid)
    assert loaded.task == "use [REDACTED:OPENAI_API_KEY]"
    assert loaded.nodes[1].observation == "echo [REDACTED:FOO_TOKEN]"
    store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())
    assert key.encode() not in raw and token.encode() not in raw


def test_prompts_are_stored_as_deltas_so_rows_stay_small(store: RunStore):
    d = Driver(store)
    for i in range(60):
        d.step(obs=f"n={i + 1}", plan=[{"text": f"plan {i % 3}"}])  # the system message changes too
    # a node updated later with a new call: its delta base is a newer call than itself
    old = d.run.nodes[5]
    d.run.record_call(
        old,
        LLMCall(
            model="scripted",
            messages=d.run.nodes[59].llm_calls[0].messages[:-1],
            response="value: 0.5",
            purpose="value",
        ),
    )
    d.emit(ev.NodeUpdated(d.run.id, node=old, fields=("llm_calls",)))
    with reader(store) as r:
        sizes = [n for (n,) in r.execute("SELECT length(data) FROM llm_calls ORDER BY node_id, seq")]
        deltas = [
            n for (n,) in r.execute("SELECT length(data) FROM llm_calls WHERE data LIKE '%messages_ref%'")
        ]
    assert (
        len(deltas) > 50 and max(deltas) < 2 * sizes[10]
    )  # the 60th prompt (121 messages) costs what the 10th did
    loaded = store.load_run(d.run.id)
    assert [c.messages for n in loaded.nodes.values() for c in n.llm_calls] == [
        c.messages for n in d.run.nodes.values() for c in n.llm_calls
    ]
    assert len(loaded.nodes[60].llm_calls[0].messages) == 120


def test_a_live_session_round_trips_through_the_store(tmp_path: Path):
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel

    answers = ["Thought: look around\nAction: go north", "Thought: other way\nAction: go south"]
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(env="gridworld", model=ScriptedModel(answers), memory="full", store=store)
    s.run(max_steps=3)
    s.rewind(1)
    s.plan.add("find the key")
    s.memory.add_note("the key is west")
    s.run(max_steps=2)
    loaded = store.load_run(s.run_id[:4])
    loaded.created_at = s.tree.created_at  # stored as the RunStarted time
    assert loaded.to_dict() == s.tree.to_dict()
    assert store.load_state(s.run_id) == {"plan": s.plan.to_list(), "memory": s.memory.state()}
    history = [(e["kind"], e["provenance"]) for e in store.events(s.run_id)]
    assert ("CursorMoved", "user") in history and ("PlanEdited", "user") in history
    assert ("MemoryEdited", "user") in history and history[-1] == ("Paused", None)
    (row,) = store.list_runs()
    assert (row["steps"], row["tokens"], row["status"]) == (5, s.tree.tokens, "paused")
    store.close()


def _counting_get(store: RunStore, run_id: str, reads: list):
    """A `call_messages` reader over a second connection that notes every row it reads."""
    conn = reader(store)

    def get(key):
        reads.append(key)
        row = conn.execute(
            "SELECT data FROM llm_calls WHERE run_id = ? AND node_id = ? AND seq = ?", (run_id, *key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    return get


def _long_run(store: RunStore, steps: int) -> Driver:
    d = Driver(store)
    for i in range(steps):
        d.step(obs=f"n={i + 1}", plan=[{"text": f"plan {i % 4}"}])  # the system message changes too
    old = d.run.nodes[5]  # a node updated later with a new call: its delta base is newer than itself
    d.run.record_call(
        old,
        LLMCall(
            model="scripted",
            messages=d.run.nodes[steps - 1].llm_calls[0].messages[:-1],
            response="v",
            purpose="value",
        ),
    )
    d.emit(ev.NodeUpdated(d.run.id, node=old, fields=("llm_calls",)))
    return d


def test_a_late_prompt_is_rebuilt_from_a_bounded_number_of_rows(store: RunStore):
    d = _long_run(store, 80)
    store.flush()
    for node in d.run.nodes.values():
        for seq, call in enumerate(node.llm_calls):
            reads: list = []
            assert call_messages((node.id, seq), _counting_get(store, d.run.id, reads)) == call.messages
            # prompts are stored in full again before the deltas since outnumber their messages
            assert len(reads) <= len(call.messages) // 2 + 2, (node.id, len(reads))
    with reader(store) as r:
        full = r.execute("SELECT count(*) FROM llm_calls WHERE data LIKE '%\"messages\":%'").fetchone()[0]
        sizes = [n for (n,) in r.execute("SELECT length(data) FROM llm_calls")]
    assert 4 <= full <= 12  # a handful of full prompts, further apart as prompts grow
    prompts = sum(len(json.dumps(c.messages)) for n in d.run.nodes.values() for c in n.llm_calls)
    assert sum(sizes) < prompts / 8  # still far smaller than every prompt in full
    loaded = store.load_run(d.run.id)
    assert [c.messages for n in loaded.nodes.values() for c in n.llm_calls] == [
        c.messages for n in d.run.nodes.values() for c in n.llm_calls
    ]


def _as_one_delta_chain(path: Path) -> None:
    """Rewrite a store's prompts as the store wrote them before checkpoints: every prompt after the
    first one a delta on the call written just before it."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT rowid, run_id, node_id, seq, data FROM llm_calls ORDER BY rowid").fetchall()
    calls = {(n, q): json.loads(data) for _, _, n, q, data in rows}
    previous = None
    with conn:
        for rowid, _run, node_id, seq, _data in rows:
            key = (node_id, seq)
            messages = call_messages(key, calls.get)
            call = calls[key]
            if previous is not None and "messages" in call:
                ops = message_ops(messages, call_messages(previous, calls.get))
                if ops is not None:
                    call = {k: v for k, v in call.items() if k != "messages"}
                    call["messages_ref"] = {"node": previous[0], "seq": previous[1], "ops": ops}
                    conn.execute("UPDATE llm_calls SET data = ? WHERE rowid = ?", (json.dumps(call), rowid))
            calls[key], previous = call, key
    conn.close()


def test_a_store_written_as_one_long_delta_chain_still_reads(store: RunStore):
    """Stores written before prompt checkpoints hold one chain per run; they read the same."""
    from workbench.server.reader import StoreReader

    d = _long_run(store, 40)
    store.flush()
    _as_one_delta_chain(store.path)
    with reader(store) as r:
        full = r.execute("SELECT count(*) FROM llm_calls WHERE data LIKE '%\"messages\":%'").fetchone()[0]
    assert full == 1  # only the first prompt is stored in full
    reads: list = []
    last = d.run.nodes[40].llm_calls[0]
    assert call_messages((40, 0), _counting_get(store, d.run.id, reads)) == last.messages
    assert len(reads) == 40  # walked the whole chain, one row per call
    node = StoreReader(store.path).node(d.run.id, "40")
    assert node["llm_calls"][0]["messages"] == last.messages and "messages_ref" not in node["llm_calls"][0]
    late = StoreReader(store.path).node(d.run.id, "5")["llm_calls"][1]  # based on a later call
    assert late["messages"] == d.run.nodes[5].llm_calls[1].messages
    store.close()
    with RunStore(store.path, read_only=True) as again:
        loaded = again.load_run(d.run.id)
    assert [c.messages for n in loaded.nodes.values() for c in n.llm_calls] == [
        c.messages for n in d.run.nodes.values() for c in n.llm_calls
    ]


messages_st = st.lists(st.integers(0, 5).map(lambda i: {"role": "user", "content": str(i)}), max_size=8)


@given(st.lists(messages_st, min_size=1, max_size=12))
def test_any_chain_of_prompt_deltas_rebuilds_every_prompt(prompts):
    calls, last = {}, None
    for i, messages in enumerate(prompts):
        ops = message_ops(messages, prompts[last]) if last is not None else None
        calls[(i, 0)] = (
            {"messages_ref": {"node": last, "seq": 0, "ops": ops}} if ops else {"messages": messages}
        )
        last = i
    for i, messages in enumerate(prompts):
        assert call_messages((i, 0), calls.get) == messages


def test_a_broken_delta_chain_is_an_error_that_names_the_missing_call():
    calls = {(2, 0): {"messages_ref": {"node": 1, "seq": 0, "ops": [[0, 1]]}}}
    with pytest.raises(ValueError, match=r"missing call \(1, 0\)"):
        call_messages((2, 0), calls.get)
    calls[(1, 0)] = {"messages_ref": {"node": 2, "seq": 0, "ops": [[0, 1]]}}
    with pytest.raises(ValueError, match="refers to itself"):
        call_messages((2, 0), calls.get)


def test_a_stored_node_keeps_the_fields_it_knows_and_names_a_field_of_the_wrong_type():
    from workbench.store.rows import check_node

    data = {
        "id": 3,
        "parent_id": 1,
        "depth": 2,
        "visits": 4,
        "value": 0.5,
        "terminal": False,
        "from_later": 1,
    }
    kept = check_node(data)
    assert "from_later" not in kept and kept["visits"] == 4 and kept is not data  # a newer file's field
    assert check_node({"id": 0, "parent_id": None, "value": None})["parent_id"] is None
    for field, wrong in (("visits", True), ("visits", "4"), ("terminal", 1), ("value", "0.5")):
        with pytest.raises(ValueError, match=f"^{field} is "):
            check_node({**data, field: wrong})
