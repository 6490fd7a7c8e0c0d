"""The run store: runs, nodes and model calls in one SQLite file, written as they finish.

    store = RunStore(".workbench/runs.sqlite")     # creates the folder; WAL; applies migrations
    session.subscribe(store.handle)               # the Session does this when given `store=`
    run = store.load_run("3fa9")                   # a unique prefix of the id is enough

Writing. `handle(event)` queues each event; at the end of a step (`StepFinished`, or the `Error`
or `Paused` that ends it) the queued events are written as one transaction, so a step's nodes, its
model calls, the cursor move and the plan it wrote become durable together, and the write lock is
taken only for that short write (never across a step's model calls). An event outside a step is
written at once. Each event becomes a few appends or single-row updates: nothing on the write path
reads the database or re-serialises the whole run, so a step costs the same at step 1000 as at 1.
A process killed at any moment therefore leaves a consistent file that lacks at most the step in
flight.

A write that fails (the lock stays busy for `timeout` seconds, a full disk, a damaged file, a
missing table) is rolled back whole and its events stay queued, in order: `failure` holds the
`StoreError`, later events only queue, and `flush()` tries again (the Session does at its next
step and raises the error from `step()` meanwhile). So a node is never stored without its parent.
Each write also moves the heartbeat of the run's lease (`lease.py`): a writer that lost its lease
writes nothing more. A damaged file (`PRAGMA quick_check` at open, or a read that fails) is not
written to again; `workbench doctor` (`doctor.py`) checks it and salvages its readable runs.

Tables (see `migrations.py`): `runs` (one row per run: task, config, cursor, status, outcome, plan
and memory as last written, running totals), `nodes` (one row per node, its fields as JSON without
the calls), `llm_calls` (one row per model call, keyed by node and position) and `events` (an
append-only history of resumes, user edits, errors, breakpoints, pauses and finishes; the agent's own
plan and memory updates live on its nodes instead).

Every string written passes through secret redaction (`workbench.safety.redact`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from ..core import events as ev
from ..core.tree import Node, Run
from ..errors import StoreError
from . import lease
from .migrations import LATEST, TABLES, migrate, version
from .reading import ReadingMixin
from .rows import (
    CALL_FIELDS,
    Secrets,
    current_secrets,
    dumps,
    message_ops,
    node_json,
    scrub,
)
from .sweeps import SweepsMixin

DEFAULT_PATH = Path(".workbench") / "runs.sqlite"
DEFAULT_TIMEOUT = 5.0  # seconds a write waits for another connection's write lock before it fails


def default_timeout() -> float:
    """The lock timeout: $WORKBENCH_STORE_TIMEOUT seconds when set, else DEFAULT_TIMEOUT."""
    text = os.environ.get("WORKBENCH_STORE_TIMEOUT", "").strip()
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise StoreError(f"WORKBENCH_STORE_TIMEOUT must be a number of seconds, not {text!r}") from None
    if not value >= 0:
        raise StoreError(f"WORKBENCH_STORE_TIMEOUT must be 0 or more seconds, not {text!r}")
    return value


def connect_read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to the store file `path`, or the last `sqlite3.Error`.

    `mode=ro` still needs the WAL index file; on a read-only mount only `immutable=1` can read."""
    base = "file:" + urllib.parse.quote(str(Path(path).resolve()))
    last: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        conn = None
        try:
            conn = sqlite3.connect(base + query, uri=True, check_same_thread=False, timeout=timeout)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
            if conn is not None:
                conn.close()
    assert last is not None
    raise last


class RunStore(SweepsMixin, ReadingMixin):
    """Runs, nodes and calls in SQLite; an event subscriber that writes as things finish.

    `read_only=True` (or a file this process cannot write, e.g. on a read-only mount) opens it for
    reading only. `timeout` is how long a write waits for another writer's lock before it fails
    (default $WORKBENCH_STORE_TIMEOUT or 5 s).
    `check=False` skips the `PRAGMA quick_check` done at open (`workbench doctor` reads damaged files);
    it costs about 5 ms per MB and runs once per process for an unchanged file."""

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        create: bool = True,
        read_only: bool = False,
        timeout: float | None = None,
        check: bool = True,
    ) -> None:
        self.path = Path(path)
        self.timeout = default_timeout() if timeout is None else float(timeout)
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is a directory, not a run store; pass a file such as {self.path / 'runs.sqlite'}"
            )
        exists = self.path.is_file()
        if not create and not exists:
            raise StoreError(f"no run store at {self.path}; `workbench run` creates one")
        self.read_only = bool(read_only) or (exists and not _writable(self.path))
        if self.read_only and not exists:
            raise StoreError(f"no run store at {self.path} to open read-only")
        conn = self._connect_read_only() if self.read_only else self._connect()
        self._conn: sqlite3.Connection | None = conn
        try:
            self._prepare(conn, check)
        except BaseException:
            conn.close()
            self._conn = None
            raise
        self._lock = threading.RLock()
        self._in_tx = False
        self._open_steps: set[str] = set()
        self._pending: list[ev.Event] = []  # events not written yet, oldest first
        self.failure: StoreError | None = None  # why the last write failed (its events are still pending)
        self.damaged: str | None = None  # set when the file turned out damaged: no more writes
        self._leases: dict[str, str] = {}  # run id -> our lease token
        self._fenced: dict[str, StoreError] = {}  # runs whose lease we lost: their events are dropped
        # per run, the last call written (node id, seq, messages, literal messages stored since the
        # last prompt stored in full, that prompt's length): the base of the next prompt's delta
        self._last_call: dict[str, tuple[int, int, list[Any], int, int]] = {}
        self._calls_written: dict[tuple[str, int], int] = {}  # (run, node) -> calls already stored

    # --- opening ----------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=self.timeout
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open run store {self.path}: {exc}; pass another store path") from None

    def _connect_read_only(self) -> sqlite3.Connection:
        try:
            return connect_read_only(self.path, self.timeout)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open run store {self.path} read-only: {exc}; copy it somewhere writable"
            ) from None

    def _prepare(self, conn: sqlite3.Connection, check: bool) -> None:
        try:
            if not self.read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            stamp = _stamp(self.path)
            if check and stamp not in _CHECKED:
                problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
                if problems != ["ok"]:
                    raise StoreError(self._damaged_text("; ".join(problems[:3])))
                _CHECKED.add(stamp)
            if self.read_only:
                current = version(conn)
                if current != LATEST:
                    newer = current > LATEST
                    raise StoreError(
                        f"run store {self.path} has schema version {current} and is read-only; "
                        + (
                            "upgrade agent-workbench to read it"
                            if newer
                            else "open it once where it is writable to upgrade it, or copy it"
                        )
                    )
            else:
                migrate(conn, where=str(self.path))
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in TABLES if t not in names]
            if missing:
                raise StoreError(
                    f"run store {self.path} lacks the table(s) {', '.join(missing)}: it is not a complete "
                    f"workbench store. `workbench doctor --store {self.path} --salvage NEW.sqlite` copies "
                    "what is readable into a new file"
                )
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "not a database" in text or "file is encrypted" in text:
                raise StoreError(
                    f"cannot open run store {self.path}: {exc}; is it a workbench store? pass another path"
                ) from None
            if "locked" in text or "busy" in text:
                raise StoreError(
                    f"cannot open run store {self.path}: another process held its write lock for more than "
                    f"{self.timeout:g} s; close it or try again"
                ) from None
            raise StoreError(self._damaged_text(text)) from None

    def _damaged_text(self, detail: str) -> str:
        return (
            f"run store {self.path} is damaged ({detail}); nothing more is written to it. "
            f"`workbench doctor --store {self.path} --salvage NEW.sqlite` copies the readable runs into a "
            "new file"
        )

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r}{', read_only=True' if self.read_only else ''})"

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(quiet=exc_type is not None)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the run store {self.path} is closed; open a new RunStore")
        return self._conn

    def close(self, *, quiet: bool = False) -> None:
        """Write what is pending (a step cut short keeps what it did), give back our leases, close.

        Raises `StoreError` (after closing) when pending events could not be written: they are lost."""
        with self._lock:
            if self._conn is None:
                return
            lost: StoreError | None = None
            if self._pending and not self.read_only:
                try:
                    self._flush()
                except StoreError as exc:
                    lost = StoreError(
                        f"{len(self._pending)} change(s) could not be written to {self.path} and are lost "
                        f"with this close: {exc}"
                    )
            for run_id in list(self._leases):
                self.release(run_id)
            self._open_steps.clear()
            self._pending = []
            self._conn.close()
            self._conn = None
        if lost is not None and not quiet:
            raise lost

    # --- leases -----------------------------------------------------------------------------------
    def acquire(self, run_id: str) -> str:
        """Take the writer's lease of `run_id` (see lease.py); raises `StoreError` naming a live holder."""
        with self._lock:
            self._require_writable()
            with self._transaction(f"cannot open run {run_id} for writing"):
                token = lease.take(self.conn, run_id, where=str(self.path))
            self._leases[run_id] = token
            self._fenced.pop(run_id, None)
            return token

    def lease_token(self, run_id: str) -> str | None:
        """Our lease token for `run_id` (None when this store does not hold it)."""
        return self._leases.get(run_id)

    def release(self, run_id: str) -> None:
        """Give back the lease of `run_id` (nothing when we do not hold it)."""
        with self._lock:
            token = self._leases.pop(run_id, None)
            if token is None or self._conn is None or self.read_only:
                return
            try:
                if self._in_tx:
                    lease.give_back(self.conn, run_id, token)
                else:
                    self.conn.execute("BEGIN IMMEDIATE")
                    lease.give_back(self.conn, run_id, token)
                    self.conn.execute("COMMIT")
            except sqlite3.Error:  # the row stays; our pid dies with us, so it can be taken over then
                if self.conn.in_transaction and not self._in_tx:
                    self.conn.execute("ROLLBACK")

    def fenced(self, run_id: str) -> StoreError | None:
        """Why this store no longer writes `run_id` (another writer took its lease), or None."""
        return self._fenced.get(run_id)

    def _fence(self, run_ids: set[str], now: float) -> None:
        """Inside a write transaction: check (or take) the lease of each run about to be written."""
        for run_id in run_ids:
            token = self._leases.get(run_id)
            if token is not None:
                if not lease.beat(self.conn, run_id, token, now):
                    del self._leases[run_id]
                    self._fenced[run_id] = StoreError(lease.lost_message(self.conn, run_id, str(self.path)))
                continue
            try:  # a writer that never called acquire (events fed in by hand, an import)
                self._leases[run_id] = lease.take(self.conn, run_id, where=str(self.path))
            except StoreError as exc:
                self._fenced[run_id] = exc

    # --- writing ----------------------------------------------------------------------------------
    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"run store {self.path} is open read-only; nothing can be written to it")
        if self.damaged:
            raise StoreError(self._damaged_text(self.damaged))

    def _begin(self) -> None:
        if not self._in_tx:
            self.conn.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def _rollback(self) -> None:
        if self._in_tx:
            self._in_tx = False
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK")
        self._last_call.clear()  # a delta base may have been rolled back with the rest
        self._calls_written.clear()

    def _forget(self, run_id: str) -> None:
        self._last_call.pop(run_id, None)
        self._calls_written = {k: v for k, v in self._calls_written.items() if k[0] != run_id}

    def _commit(self) -> None:
        if self._in_tx:
            self.conn.execute("COMMIT")
            self._in_tx = False

    @contextlib.contextmanager
    def _transaction(self, failing: str, *, record: bool = False) -> Iterator[None]:
        """One write transaction, committed at the end; on any error rolled back and re-raised, an
        SQLite error as a `StoreError` saying `failing` and what to do (kept as `failure` if `record`)."""
        try:
            self._begin()
            yield
            self._commit()
        except sqlite3.Error as exc:
            self._rollback()
            error = self._error_for(exc, failing)
            if record:
                self.failure = error
            raise error from None
        except BaseException:
            self._rollback()
            raise

    def _error_for(self, exc: sqlite3.Error, what: str) -> StoreError:
        """A StoreError for a failed write: what happened and what to do."""
        text = str(exc)
        if "locked" in text or "busy" in text:
            advice = (
                f"another connection held the write lock for more than {self.timeout:g} s; "
                "close the other writer or wait, then try again"
            )
        elif "full" in text:
            advice = "the disk is full; free some space, then try again"
        elif "no such table" in text or "no such column" in text:
            advice = (
                "the file is not a complete workbench store; `workbench doctor --store "
                f"{self.path} --salvage NEW.sqlite` copies what is readable"
            )
        elif "readonly" in text or "read-only" in text:
            advice = "the file or its folder is read-only; make it writable or pass another store"
        elif type(exc) is sqlite3.DatabaseError or "malformed" in text:
            self.damaged = text
            return StoreError(self._damaged_text(text))
        else:
            advice = "fix the cause, then try again"
        return StoreError(f"{what} in {self.path}: {text}; {advice}")

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


# files this process found sound, by (path, size, mtime): reopening an unchanged file skips the check
_CHECKED: set[tuple[str, int, int]] = set()


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _writable(path: Path) -> bool:
    """Whether this process may write `path` and create its WAL files next to it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


_HANDLERS: dict[type, Callable[[RunStore, Any, Secrets], None]] = {
    ev.RunStarted: RunStore._on_run_started,
    ev.ConfigChanged: RunStore._on_config_changed,
    ev.StepStarted: RunStore._on_step_boundary,
    ev.StepFinished: RunStore._on_step_boundary,
    ev.FullTextKept: RunStore._on_full_text,
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
