"""The write side of the run store: events queued per step and written as one transaction.

`handle(event)` queues each event; at the end of a step (`StepFinished`, or the `Error` or `Paused`
that ends it) the queued events are written as one transaction, so a step's nodes, its model calls,
the cursor move and the plan it wrote become durable together, and the write lock is taken only for
that short write (never across a step's model calls). An event outside a step is written at once.
Each event becomes a few appends or single-row updates: nothing on the write path reads the
database or re-serialises the whole run, so a step costs the same at step 1000 as at 1. A process
killed at any moment therefore leaves a consistent file that lacks at most the step in flight.

A write that fails (the lock stays busy for `timeout` seconds, a full disk, a damaged file, a
missing table) is rolled back whole and its events stay queued, in order: `failure` holds the
`StoreError`, later events only queue, and `flush()` tries again (the Session does at its next
step and raises the error from `step()` meanwhile). So a node is never stored without its parent.
Each write also moves the heartbeat of the run's lease (`lease.py`): a writer that lost its lease
writes nothing more. `save_run` and `delete_run` write or remove a whole run at once.

Every string written passes through secret redaction (`workbench.safety.redact`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import events as ev
from ..core.tree import Node, Run
from ..errors import StoreError
from .rows import CALL_FIELDS, Secrets, current_secrets, dumps, message_ops, node_json, scrub


class WritingMixin:
    """The write side of `RunStore` (see the module docstring); its state lives on the store."""

    path: Path
    failure: StoreError | None
    _lock: threading.RLock
    _open_steps: set[str]
    _pending: list[ev.Event]
    _fenced: dict[str, StoreError]
    _last_call: dict[str, tuple[int, int, list[Any], int, int]]
    _calls_written: dict[tuple[str, int], int]

    if TYPE_CHECKING:  # defined by RunStore (sqlite.py)
        _conn: sqlite3.Connection | None

        @property
        def conn(self) -> sqlite3.Connection: ...
        def _require_writable(self) -> None: ...
        def _begin(self) -> None: ...
        def _forget(self, run_id: str) -> None: ...
        def _fence(self, run_ids: set[str], now: float) -> None: ...
        def _transaction(
            self, failing: str, *, record: bool = False
        ) -> contextlib.AbstractContextManager[None]: ...
        def resolve(self, run_id: str) -> str: ...

    def handle(self, event: ev.Event) -> None:
        """Queue one event and write the queue at the end of a step (the Session subscribes this).

        Never raises: a failed write is kept in `failure` and its events stay queued (see `flush`).
        Unknown event kinds are ignored."""
        if type(event) not in _HANDLERS:
            return
        with self._lock:
            run_id = event.run_id
            if run_id in self._fenced or self._conn is None:
                return
            if isinstance(event, ev.StepStarted):
                self._open_steps.add(run_id)
            elif isinstance(event, (ev.StepFinished, ev.Error, ev.Paused)):
                self._open_steps.discard(run_id)  # a failed step ends with Error, a cancelled one Paused
            self._pending.append(event)
            if not self._open_steps and self.failure is None:
                with contextlib.suppress(StoreError):  # kept in self.failure; the Session raises it
                    self._flush()

    @property
    def pending(self) -> int:
        """How many events wait to be written (more than 0 after a failed write)."""
        return len(self._pending)

    def flush(self) -> None:
        """Write every queued event now, as one transaction.

        Raises `StoreError` when the write fails; the events then stay queued, in order, and
        `failure` holds the error until a later flush succeeds."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            self.failure = None
            return
        try:
            self._require_writable()
        except StoreError as exc:
            self.failure = exc
            raise
        batch = self._pending
        secrets = current_secrets()
        with self._transaction(f"could not write {len(batch)} change(s)", record=True):
            self._fence({e.run_id for e in batch}, time.time())
            for event in batch:
                if event.run_id not in self._fenced:
                    _HANDLERS[type(event)](self, event, secrets)
        self._pending = []
        self.failure = None

    def _event_row(
        self,
        event: ev.Event,
        secrets: Secrets,
        data: dict[str, Any],
        *,
        provenance: str | None = None,
        node_id: int | None = None,
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
            c.execute(
                "UPDATE nodes SET parent_id = ?, status = ?, created_at = ?, data = ? WHERE run_id = ? AND id = ?",
                row,
            )
        prompt = completion = 0
        cost = 0.0
        start = self._calls_written.get((run_id, node.id), 0)  # a NodeUpdated skips the stored calls
        for seq, call in enumerate(node.llm_calls[start:], start):
            data = {name: getattr(call, name) for name in CALL_FIELDS if name != "role" or call.role}
            last = self._last_call.get(run_id)
            ops = message_ops(call.messages, last[2]) if last is not None else None
            # a prompt goes in full again once it is twice as long as the last full one, or once the
            # literal messages stored since then outnumber its own: rebuilding any prompt reads a
            # bounded chain and the full copies stay below twice the delta-only size (`rows.py`)
            literals, full = (last[3], last[4]) if last is not None else (0, 0)
            literals += sum(not isinstance(op, list) for op in ops) if ops is not None else 0
            if ops is not None and literals < len(call.messages) < 2 * full:
                del data["messages"]
                data["messages_ref"] = {"node": last[0], "seq": last[1], "ops": ops}
            else:
                literals, full = 0, len(call.messages)
            if c.execute(
                "INSERT OR IGNORE INTO llm_calls (run_id, node_id, seq, data) VALUES (?, ?, ?, ?)",
                (run_id, node.id, seq, dumps(data, secrets)),
            ).rowcount:
                prompt, completion, cost = (
                    prompt + call.prompt_tokens,
                    completion + call.completion_tokens,
                    cost + call.cost,
                )
            self._last_call[run_id] = (node.id, seq, call.messages, literals, full)
        self._calls_written[(run_id, node.id)] = len(node.llm_calls)
        steps = 1 if inserted and node.parent_id is not None else 0
        if steps or prompt or completion or cost:
            self._touch(
                run_id,
                at,
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

    def _on_step_boundary(self, e: ev.Event, s: Secrets) -> None:
        pass  # `handle` tracks open steps; nothing to write

    def _on_full_text(self, e: ev.FullTextKept, s: Secrets) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO full_texts (run_id, node_id, field, text) VALUES (?, ?, ?, ?)",
            (e.run_id, e.node_id, e.field, scrub(e.text, s)),
        )

    def _on_node_added(self, e: ev.NodeAdded, s: Secrets) -> None:
        self._write_node(e.run_id, e.node, e.at, s)

    def _on_node_updated(self, e: ev.NodeUpdated, s: Secrets) -> None:
        self._write_node(e.run_id, e.node, e.at, s)
        if e.provenance != "agent":
            values = {f: getattr(e.node, f, None) for f in e.fields if f != "llm_calls"}
            self._event_row(
                e, s, {"fields": list(e.fields), "values": values}, provenance=e.provenance, node_id=e.node.id
            )

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
        self._touch(e.run_id, e.at, ", status = 'error'")
        self._event_row(e, s, {"message": e.message, "error_type": e.error_type}, node_id=e.node_id)

    def _on_paused(self, e: ev.Paused, s: Secrets) -> None:
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
        self,
        run: Run,
        *,
        plan: list[dict[str, Any]] | None = None,
        memory: dict[str, Any] | None = None,
        status: str = "paused",
    ) -> None:
        """Write a whole run at once (an imported run, or a session that ran without a store)."""
        with self._lock:
            self._require_writable()
            if self._pending:  # what was queued before goes first (its parents, its order)
                self._flush()
            s = current_secrets()
            now = time.time()
            with self._transaction(f"could not save run {run.id}"):
                self._fence({run.id}, now)
                if run.id in self._fenced:
                    raise self._fenced.pop(run.id)
                self.conn.execute(
                    "INSERT OR REPLACE INTO runs (id, task, config, created_at, updated_at, cursor, status, outcome,"
                    " plan, memory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.id,
                        scrub(run.task, s),
                        dumps(run.config, s),
                        run.created_at,
                        now,
                        run.cursor,
                        "done" if run.current.terminal else status,
                        run.outcome,
                        dumps(plan if plan is not None else run.current.plan, s),
                        dumps(memory if memory is not None else run.current.memory, s),
                    ),
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

    def delete_run(self, run_id: str) -> str:
        """Delete a run and everything it holds; returns its full id."""
        rid = self.resolve(run_id)
        with self._lock:
            self._require_writable()
            if self._pending:
                self._flush()
            with self._transaction(f"could not delete run {rid}"):
                self._fence({rid}, time.time())
                if rid in self._fenced:
                    raise self._fenced.pop(rid)
                for table, key in (
                    ("llm_calls", "run_id"),
                    ("nodes", "run_id"),
                    ("events", "run_id"),
                    ("full_texts", "run_id"),
                    ("leases", "run_id"),
                    ("runs", "id"),
                ):
                    self.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (rid,))
            self._forget(rid)
            self._leases.pop(rid, None)
        return rid


_HANDLERS: dict[type, Callable[[WritingMixin, Any, Secrets], None]] = {
    ev.RunStarted: WritingMixin._on_run_started,
    ev.ConfigChanged: WritingMixin._on_config_changed,
    ev.StepStarted: WritingMixin._on_step_boundary,
    ev.StepFinished: WritingMixin._on_step_boundary,
    ev.FullTextKept: WritingMixin._on_full_text,
    ev.NodeAdded: WritingMixin._on_node_added,
    ev.NodeUpdated: WritingMixin._on_node_updated,
    ev.CursorMoved: WritingMixin._on_cursor_moved,
    ev.PlanEdited: WritingMixin._on_plan_edited,
    ev.MemoryEdited: WritingMixin._on_memory_edited,
    ev.Error: WritingMixin._on_error,
    ev.Paused: WritingMixin._on_paused,
    ev.BreakpointHit: WritingMixin._on_breakpoint,
    ev.RunFinished: WritingMixin._on_run_finished,
    ev.ApprovalNeeded: WritingMixin._on_approval_needed,
    ev.ApprovalDecided: WritingMixin._on_approval_decided,
}
