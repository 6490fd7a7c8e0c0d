"""The sweep side of the run store: a sweep's config and versions, and one row per cell.

    store.save_sweep(sweep_id, name, config, versions)       # once per sweep start (kept on rerun)
    store.sweep_cell_started(sweep_id, key, index, run_id)    # the cell's run exists now
    store.sweep_cell_finished(sweep_id, key, index, row, status="done")
    store.sweep_cells(sweep_id)                               # rows in cell order, with their status
    store.list_runs(sweep=sweep_id)                           # the cells' runs (tagged config.tags.sweep)

Only the process that drives a sweep writes these tables (one writer per sweep); each cell's run is
written by whoever runs the cell, as any run is (`writing.py`, one writer per run). A cell row is
written when its result comes back, in its own short transaction, so a driver killed at any moment
leaves every finished cell recorded and a rerun skips them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..errors import StoreError
from .rows import current_secrets, dumps


class SweepsMixin:
    """Sweep tables for `RunStore` (see the module docstring)."""

    def _sweep_write(self, what: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:  # type: ignore[attr-defined]
            self._require_writable()  # type: ignore[attr-defined]
            with self._transaction(what):  # type: ignore[attr-defined]
                for sql, params in statements:
                    self.conn.execute(sql, params)  # type: ignore[attr-defined]

    def save_sweep(self, sweep_id: str, name: str, config: dict[str, Any], versions: dict[str, Any]) -> None:
        """Record a sweep (config and the versions it ran with); a rerun keeps the first record's
        creation time and config, and adds the rerun's versions under `reruns`."""
        s = current_secrets()
        now = time.time()
        existing = self._read("SELECT versions FROM sweeps WHERE id = ?", (sweep_id,))  # type: ignore[attr-defined]
        if existing:
            try:
                kept = json.loads(existing[0][0])
            except (TypeError, ValueError):
                kept = {}
            reruns = list(kept.get("reruns", [])) if isinstance(kept, dict) else []
            if isinstance(kept, dict) and {k: v for k, v in kept.items() if k != "reruns"} != versions:
                reruns.append({**versions, "at": now})
            merged = {**(kept if isinstance(kept, dict) else {}), "reruns": reruns}
            self._sweep_write(
                f"could not record sweep {sweep_id}",
                [
                    (
                        "UPDATE sweeps SET versions = ?, updated_at = ? WHERE id = ?",
                        (dumps(merged, s), now, sweep_id),
                    )
                ],
            )
            return
        self._sweep_write(
            f"could not record sweep {sweep_id}",
            [
                (
                    "INSERT INTO sweeps (id, name, config, versions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (sweep_id, name, dumps(config, s), dumps({**versions, "reruns": []}, s), now, now),
                )
            ],
        )

    def sweep_cell_started(self, sweep_id: str, key: str, index: int, run_id: str | None) -> None:
        """Note that a cell is running (as run `run_id`); a finished cell is left as it is."""
        now = time.time()
        self._sweep_write(
            f"could not record cell {key} of sweep {sweep_id}",
            [
                (
                    "INSERT INTO sweep_cells (sweep_id, key, idx, run_id, status, updated_at)"
                    " VALUES (?, ?, ?, ?, 'running', ?) ON CONFLICT (sweep_id, key) DO UPDATE SET"
                    " run_id = excluded.run_id, status = 'running', updated_at = excluded.updated_at"
                    " WHERE sweep_cells.status != 'done'",
                    (sweep_id, key, int(index), run_id, now),
                )
            ],
        )

    def sweep_cell_finished(
        self, sweep_id: str, key: str, index: int, row: dict[str, Any], status: str = "done"
    ) -> None:
        """Record a cell's result row; `status` "done" (skipped by a rerun) or "error" (run again)."""
        if status not in ("done", "error"):
            raise ValueError(f"status must be 'done' or 'error', not {status!r}")
        s = current_secrets()
        self._sweep_write(
            f"could not record the result of cell {key} of sweep {sweep_id}",
            [
                (
                    "INSERT OR REPLACE INTO sweep_cells (sweep_id, key, idx, run_id, status, row, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sweep_id, key, int(index), row.get("run_id"), status, dumps(row, s), time.time()),
                )
            ],
        )

    def delete_sweep_cells(self, sweep_id: str) -> None:
        """Forget the recorded cells of a sweep (their runs stay): its next run starts afresh."""
        self._sweep_write(
            f"could not reset sweep {sweep_id}", [("DELETE FROM sweep_cells WHERE sweep_id = ?", (sweep_id,))]
        )

    def sweep_cells(self, sweep_id: str) -> list[dict[str, Any]]:
        """The recorded cells of a sweep in cell order: {key, index, run_id, status, row}."""
        rows = self._read(  # type: ignore[attr-defined]
            "SELECT key, idx, run_id, status, row FROM sweep_cells WHERE sweep_id = ? ORDER BY idx",
            (sweep_id,),
        )
        out = []
        for key, idx, run_id, status, row in rows:
            try:
                data = json.loads(row)
            except (TypeError, ValueError):
                data, status = {}, "error"  # a damaged row: the cell runs again
            out.append({"key": key, "index": idx, "run_id": run_id, "status": status, "row": data})
        return out

    def load_sweep(self, sweep_id: str) -> dict[str, Any]:
        """A recorded sweep: {id, name, config, versions, created_at, updated_at}; an id prefix works."""
        sweep_id = str(sweep_id).strip()
        rows = self._read(  # type: ignore[attr-defined]
            "SELECT id, name, config, versions, created_at, updated_at FROM sweeps"
            " WHERE id = ? OR substr(id, 1, ?) = ? ORDER BY id = ? DESC, created_at DESC LIMIT 6",
            (sweep_id, len(sweep_id), sweep_id, sweep_id),
        )
        if not sweep_id or not rows:
            raise StoreError(
                f"no sweep {sweep_id!r} in {self.path}; `workbench sweeps` lists them"  # type: ignore[attr-defined]
            )
        if rows[0][0] != sweep_id and len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:5])
            raise StoreError(f"sweep id {sweep_id!r} is ambiguous: it matches {shown}; give more characters")
        sid, name, config, versions, created, updated = rows[0]
        return {
            "id": sid,
            "name": name,
            "config": self._json(config, sid, "its sweep config"),  # type: ignore[attr-defined]
            "versions": self._json(versions, sid, "its sweep versions"),  # type: ignore[attr-defined]
            "created_at": created,
            "updated_at": updated,
        }

    def list_sweeps(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recorded sweeps, newest first, with how many cells are done / failed / recorded."""
        rows = self._read(  # type: ignore[attr-defined]
            "SELECT s.id, s.name, s.created_at, s.updated_at,"
            " (SELECT count(*) FROM sweep_cells c WHERE c.sweep_id = s.id AND c.status = 'done'),"
            " (SELECT count(*) FROM sweep_cells c WHERE c.sweep_id = s.id AND c.status = 'error'),"
            " json_extract(s.config, '$.cells')"
            " FROM sweeps s ORDER BY s.created_at DESC LIMIT ?",
            (int(limit),),
        )
        return [
            {
                "id": sid,
                "name": name,
                "created_at": created,
                "updated_at": updated,
                "done": done,
                "errors": errors,
                "cells": cells,
            }
            for sid, name, created, updated, done, errors, cells in rows
        ]
