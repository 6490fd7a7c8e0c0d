"""Reading the run store: runs, their state and history, with damage reported as `StoreError`.

`RunStore` mixes this in; every read goes through `_read`, which turns an unreadable page into a
`StoreError` naming the file and `workbench doctor` (and marks the store damaged: no more writes),
and every stored JSON text is decoded through `_json` or `build_run`, so a bad row names its run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..core.tree import Run
from ..errors import StoreError
from .rows import build_run, run_summary


class ReadingMixin:
    """The read side of `RunStore` (see the module docstring)."""

    path: Path
    damaged: str | None
    _lock: threading.RLock

    @property
    def conn(self) -> sqlite3.Connection:  # defined by RunStore
        raise NotImplementedError

    def _damaged_text(self, detail: str) -> str:  # defined by RunStore
        raise NotImplementedError

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreError(
                        f"cannot read {self.path}: {exc}; another process holds it, try again"
                    ) from None
                self.damaged = str(exc)
                raise StoreError(self._damaged_text(str(exc))) from None

    def _damaged_run(self, run_id: str, detail: str) -> StoreError:
        return StoreError(
            f"run {run_id!r} in {self.path} is damaged ({detail}); the other runs are unaffected. "
            f"`workbench doctor --store {self.path} --salvage NEW.sqlite` copies what is readable"
        )

    def _json(self, text: Any, run_id: str, what: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError) as exc:
            raise self._damaged_run(run_id, f"{what} is not valid JSON: {exc}") from None

    def resolve(self, run_id: str) -> str:
        """The full id of the run `run_id` names (its id or a unique prefix of it)."""
        run_id = str(run_id).strip()
        if run_id and self._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            return run_id
        rows = (
            self._read(
                "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 6",
                (len(run_id), run_id),
            )
            if run_id
            else []
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if rows:
            shown = ", ".join(r[0] for r in rows[:5])
            raise StoreError(
                f"run id {run_id!r} is ambiguous in {self.path}: it matches {shown}; give more characters"
            )
        raise StoreError(f"no run {run_id!r} in {self.path}; `workbench runs` lists them")

    def load_run(self, run_id: str) -> Run:
        """The stored run with its nodes (and their calls), cursor, outcome and config."""
        rid = self.resolve(run_id)
        (row,) = self._read("SELECT task, config, created_at, cursor, outcome FROM runs WHERE id = ?", (rid,))
        node_rows = self._read("SELECT data FROM nodes WHERE run_id = ? ORDER BY id", (rid,))
        call_rows = self._read(
            "SELECT node_id, seq, data FROM llm_calls WHERE run_id = ? ORDER BY node_id, seq", (rid,)
        )
        try:
            run, _ = build_run(rid, row, node_rows, call_rows)
        except ValueError as exc:
            raise self._damaged_run(rid, str(exc)) from None
        if not run.nodes:
            raise StoreError(
                f"run {rid!r} in {self.path} has no nodes (it stopped before its first state); start a new run"
            )
        return run

    def load_state(self, run_id: str) -> dict[str, Any]:
        """The plan (list of item dicts) and memory (a policy's state()) as last written."""
        rid = self.resolve(run_id)
        ((plan, memory),) = self._read("SELECT plan, memory FROM runs WHERE id = ?", (rid,))
        return {"plan": self._json(plan, rid, "its plan"), "memory": self._json(memory, rid, "its memory")}

    def run_status(self, run_id: str) -> str:
        """The stored status of a run (running, paused, done, error)."""
        rid = self.resolve(run_id)
        ((status,),) = self._read("SELECT status FROM runs WHERE id = ?", (rid,))
        return str(status)

    def list_runs(self, limit: int = 50, *, sweep: str | None = None) -> list[dict[str, Any]]:
        """Stored runs, newest first: id, task, env, model, strategy, memory, totals, status.

        `sweep=` lists only the runs of that sweep (their config's `tags.sweep`, see workbench.eval).
        A run whose row is damaged is listed with status "damaged" and the reason in `damaged`."""
        where, params = (
            ("", ())
            if sweep is None
            else (
                " WHERE CASE WHEN json_valid(config) THEN json_extract(config, '$.tags.sweep') END = ?",
                (sweep,),
            )
        )
        rows = self._read(
            "SELECT id, task, config, steps, prompt_tokens, completion_tokens, cost, status, outcome,"
            f" created_at, updated_at, cursor FROM runs{where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (*params, int(limit)),
        )
        return [run_summary(row) for row in rows]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        """The run's event history (resumes, user edits, errors, breakpoints, pauses), oldest first."""
        rid = self.resolve(run_id)
        rows = self._read(
            "SELECT seq, kind, provenance, node_id, data, at FROM events WHERE run_id = ? ORDER BY seq",
            (rid,),
        )
        return [
            {
                "seq": seq,
                "kind": kind,
                "provenance": prov,
                "node_id": node_id,
                "data": self._json(data, rid, f"event {seq}"),
                "at": at,
            }
            for seq, kind, prov, node_id, data, at in rows
        ]

    def full_text(self, run_id: str, node_id: int, field: str) -> str | None:
        """The whole text of a node field a size cap clipped, when it was kept (`keep_full_text`)."""
        rid = self.resolve(run_id)
        rows = self._read(
            "SELECT text FROM full_texts WHERE run_id = ? AND node_id = ? AND field = ?",
            (rid, int(node_id), field),
        )
        return str(rows[0][0]) if rows else None
