"""`SweepView(sweep)`: a sweep live in the notebook.

A header with the sweep id, its status, a progress bar (finished / all cells), solved and errored
counts, and tokens, model calls and cost so far; Pause / Resume / Cancel buttons; and a grid of
outcomes: one row per configuration (strategy, memory, model, budget), one column per task and seed,
each cell coloured by its state (pending, running with its step count, success, failure, budget,
error) and titled with its totals, its run id and its error. Below, the errors in full.

It is a thin adapter: it subscribes to the sweep's changes, notes that the view is stale and sends
the state at most `min_interval` seconds apart (the end of the sweep at once), so a fast sweep never
floods the kernel's output channel. The buttons call plain methods (`on_pause`, `on_resume`,
`on_cancel`) that are thread-safe (a comm message may arrive on a subshell thread). Like the other
widgets it carries a static HTML rendering (`static_html`) shown where no widget renders.
"""

from __future__ import annotations

import html
import math
import threading
import time
from typing import Any, ClassVar

import traitlets

from ..safety.redact import redact_obj
from . import fallback
from .base import KnowsItsModel, running_loop, static_module

GRID_ROWS = ("strategy", "memory", "model", "budget")
GRID_COLUMNS = ("task", "seed")


def _label(coords: dict[str, Any], names: tuple[str, ...], varying: set[str]) -> str:
    shown = [f"{coords[n]}" for n in names if n in varying] or [f"{coords[names[0]]}"]
    return " · ".join(shown)


def grid(sweep: Any) -> dict[str, Any]:
    """The outcome grid: row labels, column labels, and for each row its cells in column order."""
    cells = sweep.cells
    varying = {k for k in (*GRID_ROWS, *GRID_COLUMNS) if len({str(c["coords"][k]) for c in cells}) > 1}
    rows: dict[str, list[dict[str, Any]]] = {}
    columns: list[str] = []
    for cell in cells:
        coords = cell["coords"]
        row = _label(coords, GRID_ROWS, varying)
        col = _label(coords, GRID_COLUMNS, varying)
        if col not in columns:
            columns.append(col)
        st = sweep.state[cell["key"]]
        result = sweep.rows.get(cell["key"], {})
        state = st["state"]
        outcome = result.get("outcome") if state in ("done", "error") else None
        rows.setdefault(row, []).append(
            {
                "key": cell["key"],
                "column": col,
                "state": state,
                "outcome": outcome or state,
                "steps": st["steps"],
                "calls": st["calls"],
                "tokens": st["tokens"],
                "cost": st["cost"],
                "run_id": st["run_id"],
                "error": result.get("error"),
            }
        )
    return {
        "columns": columns,
        "column_axes": [k for k in GRID_COLUMNS if k in varying] or [GRID_COLUMNS[0]],
        "row_axes": [k for k in GRID_ROWS if k in varying] or [GRID_ROWS[0]],
        "rows": [{"label": label, "cells": members} for label, members in rows.items()],
    }


class SweepView(fallback.StaticFallback, KnowsItsModel):
    """A sweep's progress, outcome grid, errors, totals and Pause / Resume / Cancel (see above)."""

    _esm = static_module("dom.js", "sweep_view.js")
    _css = static_module("fallback.css", "sweep_view.css")

    sweep_id = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("idle").tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    outcome_grid = traitlets.Dict().tag(sync=True)
    errors = traitlets.List().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)

    min_interval: ClassVar[float] = 0.1  # seconds between two updates (the end of the sweep at once)

    def __init__(self, sweep: Any, **kwargs: Any) -> None:
        self.sweep = sweep
        self._lock = threading.Lock()
        self._due: float | None = None
        self._last = -math.inf
        self.messages_sent = 0
        self._init_fallbacks()
        self.runner = _Running(sweep)  # what fallback.py asks: is it running (its fallbacks follow it)
        self._fallback_last = -math.inf
        super().__init__(**self._state(), **kwargs)
        self.on_msg(self._on_custom_msg)
        self._unsubscribe = sweep.subscribe(self._on_change)

    # --- state ------------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        sweep = self.sweep
        errors = [
            {"key": r["key"], "run_id": r.get("run_id"), "error": r.get("error")}
            for r in sweep.results
            if r.get("outcome") == "error"
        ]
        return redact_obj(
            {
                "sweep_id": sweep.id,
                "status": sweep.status,
                "totals": sweep.totals(),
                "outcome_grid": grid(sweep),
                "errors": errors,
            }
        )

    def refresh(self) -> None:
        """Send the current state now (one message; displaying the view does this first)."""
        with self.hold_sync():
            for name, value in self._state().items():
                setattr(self, name, value)
        self.messages_sent += 1
        self._last = time.monotonic()
        if self._fallbacks and fallback.changed(self):  # re-sent after the next cell too
            ended = self.sweep.status != "running"
            if ended or self._last - self._fallback_last >= fallback.INTERVAL:
                self._fallback_last = self._last
                fallback.refresh(self)

    sync = refresh

    def _on_change(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "status" or running_loop() is None:
            self.refresh()
            return
        with self._lock:
            if self._due is not None:
                return  # an update is on its way; it sends the state as it is then
            delay = max(0.0, self._last + self.min_interval - time.monotonic())
            self._due = delay
        running_loop().call_later(delay, self._scheduled)

    def _scheduled(self) -> None:
        with self._lock:
            self._due = None
        self.refresh()

    # --- buttons (thread-safe: the sweep's control hands them to its loop) -------------------------
    def on_pause(self) -> None:
        self.sweep.pause()
        self.notice = "pausing: the steps in flight finish, no new step starts"

    def on_resume(self) -> None:
        self.sweep.resume()
        self.notice = ""

    def on_cancel(self) -> None:
        self.sweep.cancel()
        self.notice = "cancelled: rerun the sweep to run the unfinished cells"

    _intents: ClassVar[dict[str, str]] = {"pause": "on_pause", "resume": "on_resume", "cancel": "on_cancel"}

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") in self._intents:
            getattr(self, self._intents[content["event"]])()

    # --- static rendering -------------------------------------------------------------------------
    def summary(self) -> str:
        t = self.sweep.totals()
        return (
            f"<SweepView {self.sweep.id}: {self.sweep.status}, {t['done'] + t['error']}/{t['cells']} cells, "
            f"{t['solved']} solved, {t['error']} errors, {t['tokens']} tokens>"
        )

    def static_html(self) -> str:
        state = self._state()
        t, g = state["totals"], state["outcome_grid"]
        e = html.escape
        head = (
            f"<p><b>sweep {e(state['sweep_id'])}</b> · {e(state['status'])} · "
            f"{t['done'] + t['error']}/{t['cells']} cells · {t['solved']} solved · {t['error']} errors · "
            f"{t['tokens']:,} tokens · {t['calls']:,} calls · ${t['cost']:.4f}</p>"
        )
        cols = "".join(f"<th>{e(c)}</th>" for c in g["columns"])
        body = ""
        for row in g["rows"]:
            tds = "".join(
                f'<td class="wb-sv-{e(c["outcome"])}" title="{e(c["key"])}">{e(_mark(c))}</td>'
                for c in row["cells"]
            )
            body += f"<tr><th>{e(row['label'])}</th>{tds}</tr>"
        corner = e(" · ".join(g["row_axes"]) + " \\ " + " · ".join(g["column_axes"]))
        table = (
            f'<table class="wb-sv-grid"><thead><tr><th>{corner}</th>{cols}</tr></thead>'
            f"<tbody>{body}</tbody></table><p>{e(LEGEND)}</p>"
        )
        errors = "".join(f"<li>{e(x['key'])}: {e(x['error'] or '')}</li>" for x in state["errors"])
        return f'<div class="wb-sweep-static">{head}{table}{f"<ul>{errors}</ul>" if errors else ""}</div>'

    def close(self) -> None:
        self._unsubscribe()
        super().close()


class _Running:
    def __init__(self, sweep: Any) -> None:
        self.sweep = sweep

    @property
    def running(self) -> bool:
        return self.sweep.status in ("running", "paused")


MARKS = {"success": "✓", "failure": "✗", "budget": "$", "error": "!", "pending": "·", "cancelled": "–"}
LEGEND = "✓ solved · ✗ failed · $ budget used up · ! error · – cancelled · a number: steps so far"


def _mark(cell: dict[str, Any]) -> str:
    if cell["state"] == "running":
        return f"{cell['steps']}"
    return MARKS.get(cell["outcome"], "?")
