"""The run store: runs, nodes and model calls in one SQLite file, written as they finish.

    store = RunStore(".workbench/runs.sqlite")     # creates the folder; WAL; applies migrations
    session.subscribe(store.handle)               # the Session does this when given `store=`
    run = store.load_run("3fa9")                   # a unique prefix of the id is enough

Writing. `handle(event)` turns each event into a few appends or single-row updates: nothing on the
write path reads the database or re-serialises the whole run, so a step costs the same at step 1000
as at step 1. Everything between `StepStarted` and `StepFinished` (or the `Error` that ends a failed
step) commits as one transaction, so a step's node, its model calls, the cursor move and the plan
it wrote become durable together; every event outside a step commits on its own. A process killed
at any moment therefore leaves a consistent file that lacks at most the step in flight.

Tables (see `migrations.py`): `runs` (one row per run: task, config, cursor, status, outcome, plan
and memory as last written, running totals), `nodes` (one row per node, its fields as JSON without
the calls), `llm_calls` (one row per model call, keyed by node and position) and `events` (an
append-only history of resumes, user edits, errors, breakpoints, pauses and finishes; the agent's own
plan and memory updates live on its nodes instead).

Every string written passes through secret redaction (`workbench.safety.redact`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..core import events as ev
from ..core.tree import Node, Run
from ..errors import StoreError
from .migrations import migrate
from .rows import (
    CALL_FIELDS,
    NODE_FIELDS,
    Secrets,
    current_secrets,
    dumps,
    known,
    message_ops,
    node_json,
    resolve_messages,
    run_summary,
    scrub,
)

DEFAULT_PATH = Path(".workbench") / "runs.sqlite"


class RunStore:
    """Runs, nodes and calls in SQLite; an event subscriber that writes as things finish."""

    def __init__(self, path: str | Path = DEFAULT_PATH, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"no run store at {self.path}; `workbench run` creates one")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open run store {self.path}: {exc}; pass another store path") from None
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn, where=str(self.path))
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"cannot open run store {self.path}: {exc}; is it a workbench store? pass another path"
            ) from None
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._in_tx = False
        self._open_steps: set[str] = set()
        # per run, the last call written (node id, seq, messages): the base of the next prompt's delta
        self._last_call: dict[str, tuple[int, int, list[Any]]] = {}
        self._calls_written: dict[tuple[str, int], int] = {}  # (run, node) -> calls already stored

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the run store {self.path} is closed; open a new RunStore")
        return self._conn

    def close(self) -> None:
        """Commit whatever is pending (a step cut short keeps what it wrote) and close the file."""
        with self._lock:
            if self._conn is None:
                return
            if self._in_tx:
                self._conn.execute("COMMIT")
                self._in_tx = False
            self._open_steps.clear()
            self._conn.close()
            self._conn = None

    # --- writing ----------------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_tx:
            self.conn.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def _rollback(self) -> None:
        if self._in_tx:
            self.conn.execute("ROLLBACK")
            self._in_tx = False
        self._last_call.clear()  # a delta base may have been rolled back with the rest
        self._calls_written.clear()

    def _forget(self, run_id: str) -> None:
        self._last_call.pop(run_id, None)
        self._calls_written = {k: v for k, v in self._calls_written.items() if k[0] != run_id}

    def _commit(self) -> None:
        if self._in_tx:
            self.conn.execute("COMMIT")
            self._in_tx = False

    def handle(self, event: ev.Event) -> None:
        """Write one event (the Session subscribes this). Unknown event kinds are ignored."""
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return
        with self._lock:
            secrets = current_secrets()
            try:
                handler(self, event, secrets)
            except BaseException:
                self._rollback()
                self._open_steps.discard(event.run_id)
                raise
            if not self._open_steps:
                self._commit()

    def _event_row(
        self, event: ev.Event, secrets: Secrets, data: dict[str, Any], *,
        provenance: str | None = None, node_id: int | None = None,
    ) -> None:
        self._begin()
        self.conn.execute(
            "INSERT INTO events (run_id, kind, provenance, node_id, data, at) VALUES (?, ?, ?, ?, ?, ?)",
            (event.run_id, event.kind, provenance, node_id, dumps(data, secrets), event.at),
        )

    def _touch(self, run_id: str, at: float, sets: str = "", params: tuple[Any, ...] = ()) -> None:
        self._begin()
        self.conn.execute(f"UPDATE runs SET updated_at = ?{sets} WHERE id = ?", (at, *params, run_id))

    def _write_node(self, run_id: str, node: Node, at: float, secrets: Secrets) -> None:
        """Insert or update one node and append its calls not stored yet; bump the run's totals."""
        self._begin()
        c = self.conn
        row = (node.parent_id, node.status, node.created_at, node_json(node, secrets), run_id, node.id)
        inserted = c.execute(
            "INSERT OR IGNORE INTO nodes (parent_id, status, created_at, data, run_id, id) VALUES (?, ?, ?, ?, ?, ?)",
            row,
        ).rowcount
        if not inserted:
            c.execute("UPDATE nodes SET parent_id = ?, status = ?, created_at = ?, data = ? WHERE run_id = ? AND id = ?", row)
        prompt = completion = 0
        cost = 0.0
        start = self._calls_written.get((run_id, node.id), 0)  # a NodeUpdated skips the stored calls
        for seq, call in enumerate(node.llm_calls[start:], start):
            data = {name: getattr(call, name) for name in CALL_FIELDS}
            last = self._last_call.get(run_id)
            ops = message_ops(call.messages, last[2]) if last is not None else None
            if ops is not None:
                del data["messages"]
                data["messages_ref"] = {"node": last[0], "seq": last[1], "ops": ops}
            if c.execute(
                "INSERT OR IGNORE INTO llm_calls (run_id, node_id, seq, data) VALUES (?, ?, ?, ?)",
                (run_id, node.id, seq, dumps(data, secrets)),
            ).rowcount:
                prompt, completion, cost = prompt + call.prompt_tokens, completion + call.completion_tokens, cost + call.cost
            self._last_call[run_id] = (node.id, seq, call.messages)
        self._calls_written[(run_id, node.id)] = len(node.llm_calls)
        steps = 1 if inserted and node.parent_id is not None else 0
        if steps or prompt or completion or cost:
            self._touch(
                run_id, at,
                ", status = 'running', steps = steps + ?, prompt_tokens = prompt_tokens + ?,"
                " completion_tokens = completion_tokens + ?, cost = cost + ?",
                (steps, prompt, completion, cost),
            )

    def _on_run_started(self, e: ev.RunStarted, s: Secrets) -> None:
        self._begin()
        self.conn.execute(
            "INSERT INTO runs (id, task, config, created_at, updated_at, status) VALUES (?, ?, ?, ?, ?, 'running')"
            " ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at,"
            " status = 'running'",
            (e.run_id, scrub(e.task, s), dumps(e.config, s), getattr(e, "created_at", e.at), e.at),
        )
        self._event_row(e, s, {"resumed": e.resumed}, provenance="user" if e.resumed else "agent")

    def _on_config_changed(self, e: ev.ConfigChanged, s: Secrets) -> None:
        self._touch(e.run_id, e.at, ", config = ?", (dumps(e.config, s),))
        self._event_row(e, s, {"change": e.change}, provenance=e.provenance)

    def _on_step_started(self, e: ev.StepStarted, s: Secrets) -> None:
        if e.run_id in self._open_steps:  # the previous step never finished (cancelled): keep what it wrote
            self._commit()
        self._open_steps.add(e.run_id)

    def _on_step_finished(self, e: ev.StepFinished, s: Secrets) -> None:
        self._open_steps.discard(e.run_id)

    def _on_node_added(self, e: ev.NodeAdded, s: Secrets) -> None:
        self._write_node(e.run_id, e.node, e.at, s)

    def _on_node_updated(self, e: ev.NodeUpdated, s: Secrets) -> None:
        self._write_node(e.run_id, e.node, e.at, s)
        if e.provenance != "agent":
            values = {f: getattr(e.node, f, None) for f in e.fields if f != "llm_calls"}
            self._event_row(e, s, {"fields": list(e.fields), "values": values}, provenance=e.provenance, node_id=e.node.id)

    def _on_cursor_moved(self, e: ev.CursorMoved, s: Secrets) -> None:
        self._touch(e.run_id, e.at, ", cursor = ?", (e.node_id,))
        if e.provenance != "agent":
            self._event_row(e, s, {}, provenance=e.provenance, node_id=e.node_id)

    def _on_plan_edited(self, e: ev.PlanEdited, s: Secrets) -> None:
        self._touch(e.run_id, e.at, ", plan = ?", (dumps(e.items, s),))
        if e.provenance != "agent":
            self._event_row(e, s, {"change": e.change, "items": e.items}, provenance=e.provenance)

    def _on_memory_edited(self, e: ev.MemoryEdited, s: Secrets) -> None:
        if e.state is not None:
            self._touch(e.run_id, e.at, ", memory = ?", (dumps(e.state, s),))
        if e.provenance != "agent":
            data = {"entry_id": e.entry_id, "change": e.change, "text": e.text}
            self._event_row(e, s, data, provenance=e.provenance)

    def _on_error(self, e: ev.Error, s: Secrets) -> None:
        self._open_steps.discard(e.run_id)  # a failed step publishes Error instead of StepFinished
        self._touch(e.run_id, e.at, ", status = 'error'")
        self._event_row(e, s, {"message": e.message, "error_type": e.error_type}, node_id=e.node_id)

    def _on_paused(self, e: ev.Paused, s: Secrets) -> None:
        self._open_steps.discard(e.run_id)
        status = {"error": "error", "done": "done"}.get(e.reason, "paused")
        self._touch(e.run_id, e.at, ", status = ?", (status,))
        self._event_row(e, s, {"reason": e.reason})

    def _on_breakpoint(self, e: ev.BreakpointHit, s: Secrets) -> None:
        self._event_row(e, s, {"breakpoint": e.breakpoint}, node_id=e.node_id)

    def _on_approval_needed(self, e: ev.ApprovalNeeded, s: Secrets) -> None:
        self._event_row(e, s, {"approval": e.approval}, node_id=e.node_id)

    def _on_approval_decided(self, e: ev.ApprovalDecided, s: Secrets) -> None:
        data = {"decision": e.decision, "by": e.by, "reason": e.reason, "edited": e.edited}
        self._event_row(e, s, data, provenance=e.provenance, node_id=e.node_id)

    def _on_run_finished(self, e: ev.RunFinished, s: Secrets) -> None:
        self._touch(e.run_id, e.at, ", status = 'done', outcome = ?", (e.outcome,))
        self._event_row(e, s, {"outcome": e.outcome}, node_id=e.node_id)

    def save_run(
        self, run: Run, *, plan: list[dict[str, Any]] | None = None, memory: dict[str, Any] | None = None,
        status: str = "paused",
    ) -> None:
        """Write a whole run at once (an imported run, or a session that ran without a store)."""
        with self._lock:
            s = current_secrets()
            now = time.time()
            try:
                self._begin()
                self.conn.execute(
                    "INSERT OR REPLACE INTO runs (id, task, config, created_at, updated_at, cursor, status, outcome,"
                    " plan, memory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run.id, scrub(run.task, s), dumps(run.config, s), run.created_at, now, run.cursor,
                     "done" if run.current.terminal else status, run.outcome,
                     dumps(plan if plan is not None else run.current.plan, s),
                     dumps(memory if memory is not None else run.current.memory, s)),
                )
                for table in ("nodes", "llm_calls"):
                    self.conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.id,))
                self._forget(run.id)  # its calls are gone: no delta may refer to them
                self.conn.execute(
                    "UPDATE runs SET steps = 0, prompt_tokens = 0, completion_tokens = 0, cost = 0 WHERE id = ?",
                    (run.id,),
                )
                for node in run.nodes.values():
                    self._write_node(run.id, node, now, s)
                self._touch(run.id, now, ", status = ?", ("done" if run.current.terminal else status,))
            except BaseException:
                self._rollback()
                raise
            if not self._open_steps:
                self._commit()

    # --- reading ----------------------------------------------------------------------------------
    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def resolve(self, run_id: str) -> str:
        """The full id of the run `run_id` names (its id or a unique prefix of it)."""
        run_id = str(run_id).strip()
        if run_id and self._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            return run_id
        rows = self._read(
            "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 6", (len(run_id), run_id)
        ) if run_id else []
        if len(rows) == 1:
            return str(rows[0][0])
        if rows:
            shown = ", ".join(r[0] for r in rows[:5])
            raise StoreError(f"run id {run_id!r} is ambiguous in {self.path}: it matches {shown}; give more characters")
        raise StoreError(f"no run {run_id!r} in {self.path}; `workbench runs` lists them")

    def load_run(self, run_id: str) -> Run:
        """The stored run with its nodes (and their calls), cursor, outcome and config."""
        rid = self.resolve(run_id)
        (task, config, created_at, cursor, outcome), = self._read(
            "SELECT task, config, created_at, cursor, outcome FROM runs WHERE id = ?", (rid,)
        )
        nodes: dict[int, dict[str, Any]] = {}
        for (data,) in self._read("SELECT data FROM nodes WHERE run_id = ? ORDER BY id", (rid,)):
            node = {**known(json.loads(data), NODE_FIELDS), "llm_calls": []}
            nodes[node["id"]] = node
        if not nodes:
            raise StoreError(f"run {rid!r} in {self.path} has no nodes (it stopped before its first state); start a new run")
        rows = self._read("SELECT node_id, seq, data FROM llm_calls WHERE run_id = ? ORDER BY node_id, seq", (rid,))
        calls = {(node_id, seq): json.loads(data) for node_id, seq, data in rows}
        try:
            resolve_messages(calls)
        except ValueError as exc:
            raise StoreError(f"run {rid!r} in {self.path} is damaged ({exc}); `workbench runs` lists the others") from None
        for (node_id, _), data in calls.items():
            if node_id in nodes:  # calls of a node that is not stored (never expected) are skipped
                nodes[node_id]["llm_calls"].append(known(data, CALL_FIELDS))
        return Run.from_dict({
            "id": rid, "task": task, "config": json.loads(config), "created_at": created_at,
            "cursor": cursor if cursor in nodes else max(nodes), "outcome": outcome, "nodes": list(nodes.values()),
        })

    def load_state(self, run_id: str) -> dict[str, Any]:
        """The plan (list of item dicts) and memory (a policy's state()) as last written."""
        rid = self.resolve(run_id)
        (plan, memory), = self._read("SELECT plan, memory FROM runs WHERE id = ?", (rid,))
        return {"plan": json.loads(plan), "memory": json.loads(memory)}

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """Stored runs, newest first: id, task, env, model, strategy, memory, totals, status."""
        rows = self._read(
            "SELECT id, task, config, steps, prompt_tokens, completion_tokens, cost, status, outcome,"
            " created_at, updated_at, cursor FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (int(limit),),
        )
        return [run_summary(row) for row in rows]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        """The run's event history (resumes, user edits, errors, breakpoints, pauses), oldest first."""
        rid = self.resolve(run_id)
        rows = self._read(
            "SELECT seq, kind, provenance, node_id, data, at FROM events WHERE run_id = ? ORDER BY seq", (rid,)
        )
        return [
            {"seq": seq, "kind": kind, "provenance": prov, "node_id": node_id, "data": json.loads(data), "at": at}
            for seq, kind, prov, node_id, data, at in rows
        ]

    def delete_run(self, run_id: str) -> str:
        """Delete a run and everything it holds; returns its full id."""
        rid = self.resolve(run_id)
        with self._lock:
            self._begin()
            for table, key in (("llm_calls", "run_id"), ("nodes", "run_id"), ("events", "run_id"), ("runs", "id")):
                self.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (rid,))
            self._forget(rid)
            if not self._open_steps:
                self._commit()
        return rid


_HANDLERS: dict[type, Callable[[RunStore, Any, Secrets], None]] = {
    ev.RunStarted: RunStore._on_run_started,
    ev.ConfigChanged: RunStore._on_config_changed,
    ev.StepStarted: RunStore._on_step_started,
    ev.StepFinished: RunStore._on_step_finished,
    ev.NodeAdded: RunStore._on_node_added,
    ev.NodeUpdated: RunStore._on_node_updated,
    ev.CursorMoved: RunStore._on_cursor_moved,
    ev.PlanEdited: RunStore._on_plan_edited,
    ev.MemoryEdited: RunStore._on_memory_edited,
    ev.Error: RunStore._on_error,
    ev.Paused: RunStore._on_paused,
    ev.BreakpointHit: RunStore._on_breakpoint,
    ev.RunFinished: RunStore._on_run_finished,
    ev.ApprovalNeeded: RunStore._on_approval_needed,
    ev.ApprovalDecided: RunStore._on_approval_decided,
}
