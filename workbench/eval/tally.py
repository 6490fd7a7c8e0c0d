"""`Tally`: a sweep's per-cell live state and result rows, with the totals over them kept current.

    tally = Tally(keys)
    tally.update(key, state="running", run_id=run_id)   # every change of a cell's state goes here
    tally.take_row(row, "done")                         # a finished cell's row (and its state)
    tally.totals()                                      # counts by state, solved, tokens, calls, cost

Each change adjusts the totals by the difference it makes, so `totals()` costs the same for ten
cells or ten thousand (a progress bar or a live view asks for them after every finished cell).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STATES = ("pending", "running", "done", "error", "cancelled")
SUMMED = ("tokens", "calls", "cost")


class Tally:
    """The live state of each cell (`state[key]`), the rows of finished cells (`rows[key]`), totals."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.state: dict[str, dict[str, Any]] = {
            key: {"state": "pending", "steps": 0, "calls": 0, "tokens": 0, "cost": 0.0, "run_id": None}
            for key in keys
        }
        self.rows: dict[str, dict[str, Any]] = {}
        self._counts = {s: 0 for s in STATES}
        self._counts["pending"] = len(self.state)
        self._sums: dict[str, Any] = {"tokens": 0, "calls": 0, "cost": 0.0}
        self._solved = 0

    def update(self, key: str, **fields: Any) -> None:
        """Set some of a cell's fields (state, run_id, steps, calls, tokens, cost)."""
        st = self.state[key]
        if "state" in fields:
            self._counts[st["state"]] -= 1
            self._counts[fields["state"]] += 1
        for name in SUMMED:
            if name in fields:
                self._sums[name] += fields[name] - st[name]
        st.update(fields)

    def take_row(self, row: dict[str, Any], status: str) -> None:
        """A finished cell's result row; its state becomes `status` ("done" or "error")."""
        key = row["key"]
        before = self.rows.get(key)
        self._solved += bool(row.get("solved")) - bool(before is not None and before.get("solved"))
        self.rows[key] = row
        self.update(
            key,
            state=status,
            run_id=row.get("run_id"),
            steps=row.get("steps", 0),
            calls=row.get("calls", 0),
            tokens=row.get("tokens", 0),
            cost=row.get("cost", 0.0),
        )

    def totals(self) -> dict[str, Any]:
        """Counts by state and cells, solved rows, and tokens, calls and cost of every cell's state."""
        return {
            **self._counts,
            "cells": len(self.state),
            "solved": self._solved,
            "tokens": self._sums["tokens"],
            "calls": self._sums["calls"],
            "cost": max(0.0, self._sums["cost"]),  # a difference of floats may leave -1e-19 for 0
        }
