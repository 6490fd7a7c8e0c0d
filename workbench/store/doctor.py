"""Check a run store and salvage what is readable from a damaged one.

    report = check("runs.sqlite")                 # PRAGMA integrity_check + every run read back
    report = salvage("runs.sqlite", "fixed.sqlite")   # the readable runs, written to a new file

`workbench doctor [--store F] [--salvage OUT]` prints the report. The damaged file is only read
(read-only, never migrated). A table that cannot be scanned is read row by row by key, so the
rows around a damaged page are still found; within a run, a node whose row is unreadable is left
out with its subtree (the path to every node kept is whole), and a prompt stored as a delta of an
unreadable call loses its messages but keeps its answer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.tree import Run
from ..errors import StoreError
from .opening import connect_read_only
from .rows import build_run

_MISSES = 64  # consecutive missing keys after which a row-by-row probe stops


@dataclass
class RunReport:
    id: str
    nodes: int = 0  # nodes read back whole (with their path to the root)
    problems: list[str] = field(default_factory=list)
    run: Run | None = None
    state: dict[str, Any] = field(default_factory=dict)  # plan, memory, status as stored

    @property
    def ok(self) -> bool:
        return not self.problems and self.nodes > 0


@dataclass
class Report:
    path: Path
    integrity: list[str]
    runs: list[RunReport]
    problems: list[str] = field(default_factory=list)  # the file as a whole (tables, run list)
    salvaged_to: Path | None = None

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.problems and all(r.ok for r in self.runs)

    def lines(self) -> list[str]:
        out = [f"store {self.path}"]
        out.append(
            "integrity: ok"
            if self.integrity == ["ok"]
            else f"integrity: {len(self.integrity)} problem(s): " + "; ".join(self.integrity[:5])
        )
        out += [f"problem: {p}" for p in self.problems]
        for r in self.runs:
            if r.ok:
                out.append(f"run {r.id}: ok ({r.nodes} nodes)")
            else:
                shown = "; ".join(r.problems[:3]) + (
                    f" (+{len(r.problems) - 3} more)" if len(r.problems) > 3 else ""
                )
                out.append(f"run {r.id}: {r.nodes} node(s) readable; {shown or 'no readable nodes'}")
        readable = sum(1 for r in self.runs if r.nodes)
        if self.salvaged_to is not None:
            out.append(
                f"salvaged {readable} of {len(self.runs)} run(s) into {self.salvaged_to}; "
                f"check it with `workbench runs --store {self.salvaged_to}`, then use it in place of {self.path}"
            )
        elif not self.ok:
            out.append(
                f"`workbench doctor --store {self.path} --salvage NEW.sqlite` copies the {readable} readable "
                "run(s) into a new file"
            )
        return out


def _open(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise StoreError(
            f"{path} is a directory, not a run store; pass a file such as {path / 'runs.sqlite'}"
        )
    if not path.is_file():
        raise StoreError(f"no run store at {path}")
    try:
        return connect_read_only(path)
    except sqlite3.Error as exc:
        raise StoreError(
            f"{path} cannot be read as a run store ({exc}); nothing in it can be salvaged"
        ) from None


def _rows(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], problems: list[str], what: str
) -> list[Any] | None:
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.DatabaseError as exc:
        problems.append(f"{what}: {exc}")
        return None


def _probe(conn: sqlite3.Connection, sql: str, key: tuple[Any, ...], start: int = 0) -> tuple[list[Any], int]:
    """Rows of `sql` (its last parameter an integer key) for keys start, start+1, ... until
    `_MISSES` keys in a row have none; returns the rows and how many keys could not be read."""
    found: list[Any] = []
    misses = errors = 0
    k = start
    while misses < _MISSES:
        try:
            rows = conn.execute(sql, (*key, k)).fetchall()
        except sqlite3.DatabaseError:
            rows, errors = [], errors + 1
        if rows:
            found.extend(rows)
            misses = 0
        else:
            misses += 1
        k += 1
    return found, errors


def _run_ids(conn: sqlite3.Connection, problems: list[str]) -> list[str]:
    rows = _rows(conn, "SELECT id FROM runs ORDER BY created_at, rowid", (), problems, "the run list")
    if rows is not None:
        return [str(r[0]) for r in rows]
    found, _ = _probe(conn, "SELECT id FROM runs WHERE rowid = ?", (), start=1)
    ids = [str(r[0]) for r in found]
    more = _rows(conn, "SELECT DISTINCT run_id FROM nodes", (), [], "") or []
    return ids + [str(r[0]) for r in more if str(r[0]) not in ids]


def read_run(conn: sqlite3.Connection, run_id: str) -> RunReport:
    """What of run `run_id` can be read (see the module docstring)."""
    report = RunReport(run_id)
    p = report.problems
    head = _rows(
        conn,
        "SELECT task, config, created_at, cursor, outcome, plan, memory, status FROM runs WHERE id = ?",
        (run_id,),
        p,
        "its run row",
    )
    if head:
        task, config, created, cursor, outcome, plan, memory, status = head[0]
    else:
        task, config, created, cursor, outcome, plan, memory, status = (
            "",
            "{}",
            0.0,
            0,
            None,
            "[]",
            "{}",
            "paused",
        )
        if head is not None:
            p.append("its run row is missing")
    nodes = _rows(conn, "SELECT data FROM nodes WHERE run_id = ? ORDER BY id", (run_id,), p, "its nodes")
    if nodes is None:
        nodes, errors = _probe(conn, "SELECT data FROM nodes WHERE run_id = ? AND id = ?", (run_id,))
        if errors:
            p.append(f"{errors} node row(s) unreadable")
    calls = _rows(
        conn,
        "SELECT node_id, seq, data FROM llm_calls WHERE run_id = ? ORDER BY node_id, seq",
        (run_id,),
        p,
        "its model calls",
    )
    if calls is None:
        calls, errors = _probe(
            conn, "SELECT node_id, seq, data FROM llm_calls WHERE run_id = ? AND node_id = ?", (run_id,)
        )
        if errors:
            p.append(f"the model calls of {errors} node(s) unreadable")
    run, problems = build_run(run_id, (task, config, created, cursor, outcome), nodes, calls, strict=False)
    p.extend(problems)
    report.run, report.nodes = run, len(run.nodes)
    report.state = {"plan": plan, "memory": memory, "status": status}
    return report


def check(path: str | Path) -> Report:
    """Integrity check of the file and a read-back of every run in it."""
    path = Path(path)
    conn = _open(path)
    try:
        problems: list[str] = []
        try:
            integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            integrity = [str(exc)]
        names = _rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'", (), problems, "the schema")
        if names is not None:
            missing = {"runs", "nodes", "llm_calls"} - {r[0] for r in names}
            if missing:
                problems.append(f"missing table(s): {', '.join(sorted(missing))}")
        runs = [read_run(conn, rid) for rid in _run_ids(conn, problems)]
        return Report(path, integrity, runs, problems)
    finally:
        conn.close()


def salvage(path: str | Path, out: str | Path) -> Report:
    """`check(path)`, then write every run with readable nodes into the new store `out`."""
    import json

    from .sqlite import RunStore

    path, out = Path(path), Path(out)
    if out.exists():
        raise StoreError(f"{out} exists; salvage writes a new file: pick another name")
    report = check(path)
    with RunStore(out) as target:
        for r in report.runs:
            if r.run is None or not r.run.nodes:
                continue
            state: dict[str, Any] = {}
            for key in ("plan", "memory"):
                with contextlib.suppress(TypeError, ValueError):
                    state[key] = json.loads(r.state.get(key) or "null")
            status = str(r.state.get("status") or "paused")
            target.save_run(
                r.run,
                plan=state.get("plan") if isinstance(state.get("plan"), list) else None,
                memory=state.get("memory") if isinstance(state.get("memory"), dict) else None,
                status="paused" if status == "running" else status,
            )
            target.release(r.run.id)
    report.salvaged_to = out
    return report
