"""The run store: runs, nodes and model calls in one SQLite file, written as they finish.

    store = RunStore(".workbench/runs.sqlite")     # creates the folder; WAL; applies migrations
    session.subscribe(store.handle)               # the Session does this when given `store=`
    run = store.load_run("3fa9")                   # a unique prefix of the id is enough

`RunStore` is put together by subject: this module holds opening and closing, the writer's lease of
each run (`lease.py`) and the transactions; `opening.py` connects and checks the file, `writing.py`
writes events as steps finish (one transaction a step; a failed write stays queued), `reading.py`
reads runs back and `sweeps.py` keeps the sweep tables. A damaged file (`PRAGMA quick_check` at
open, or a read that fails) is not written to again; `workbench doctor` (`doctor.py`) checks it and
salvages its readable runs.

Tables (see `migrations.py`): `runs` (one row per run: task, config, cursor, status, outcome, plan
and memory as last written, running totals), `nodes` (one row per node, its fields as JSON without
the calls), `llm_calls` (one row per model call, keyed by node and position) and `events` (an
append-only history of resumes, user edits, errors, breakpoints, pauses and finishes; the agent's own
plan and memory updates live on its nodes instead).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from ..core import events as ev
from ..errors import StoreError
from . import lease
from .opening import (
    DEFAULT_TIMEOUT,
    connect,
    connect_read_only,
    damaged_text,
    default_timeout,
    open_read_only,
    prepare,
    writable,
)
from .reading import ReadingMixin
from .sweeps import SweepsMixin
from .writing import WritingMixin

# connect_read_only, default_timeout and DEFAULT_TIMEOUT live in opening.py; importers of them from
# here keep working
__all__ = ["DEFAULT_PATH", "DEFAULT_TIMEOUT", "RunStore", "connect_read_only", "default_timeout"]

DEFAULT_PATH = Path(".workbench") / "runs.sqlite"


class RunStore(WritingMixin, SweepsMixin, ReadingMixin):
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
        self.read_only = bool(read_only) or (exists and not writable(self.path))
        if self.read_only and not exists:
            raise StoreError(f"no run store at {self.path} to open read-only")
        conn = open_read_only(self.path, self.timeout) if self.read_only else connect(self.path, self.timeout)
        self._conn: sqlite3.Connection | None = conn
        try:
            prepare(conn, self.path, read_only=self.read_only, check=check, timeout=self.timeout)
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

    def _damaged_text(self, detail: str) -> str:
        return damaged_text(self.path, detail)

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

    # --- leases ---------------------------------------------------------------------------------
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

    # --- transactions (shared by the writing, sweep and lease methods) ---------------------------
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
