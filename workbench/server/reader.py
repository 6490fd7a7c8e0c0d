"""Read-only queries over a run store for the REST API: runs (filtered, paged), one run's nodes
(paged, for 10,000-node trees), one node with its model calls, and exports.

Each request opens the SQLite file read-only (`mode=ro`), so the server never writes or migrates a
store that kernels are writing (WAL lets readers and one writer work at once) and never creates one.
Ids are checked before any query: a run id is hex (a unique prefix is enough, as on the command
line), a node id an integer; anything else is a `BadRequest`, an unknown id a `NotFound`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core.tree import Run
from ..safety.redact import redact_obj
from ..store.opening import connect_read_only
from ..store.rows import NODE_FIELDS, build_run, call_messages, known, run_summary

RUN_ID = re.compile(r"[0-9a-f]{1,32}")
MAX_PAGE = 500
SNAPSHOT_LAST = 500  # full step cards in a run view's snapshot (earlier steps as summaries)
HEAD_LAST = 150  # full step cards in the head of a snapshot (what a run view's first paint draws)
MAX_RECORDS = 20_000  # tree records in a run view's snapshot
FILTERS = ("env", "model", "strategy", "memory", "status", "sweep")
_SUMMARY_COLUMNS = "id, task, config, steps, prompt_tokens, completion_tokens, cost, status, outcome, created_at, updated_at, cursor"
_NAME = {  # a config entry is a name or {"name": ...}
    key: f"COALESCE(json_extract(config, '$.{key}.name'), json_extract(config, '$.{key}'))"
    for key in ("env", "model", "strategy", "memory")
}
# the runs of one evaluation sweep (workbench.eval tags each cell's run); a damaged config is no match
_NAME["sweep"] = "CASE WHEN json_valid(config) THEN json_extract(config, '$.tags.sweep') END"


class BadRequest(ValueError):
    """A malformed argument (HTTP 400)."""


class NotFound(LookupError):
    """No such run or node (HTTP 404)."""


class Damaged(RuntimeError):
    """A run whose stored rows cannot be read back (HTTP 500 with what to do)."""


def _node_id(node_id: Any) -> int:
    try:
        return int(node_id)
    except (TypeError, ValueError):
        raise BadRequest(f"a node id is an integer, got {str(node_id)[:40]!r}") from None


def page_args(offset: Any, limit: Any, default: int = 50) -> tuple[int, int]:
    """(offset, limit) from query strings: integers, offset >= 0, 1 <= limit <= MAX_PAGE."""
    try:
        off = int(offset) if offset not in (None, "") else 0
        lim = int(limit) if limit not in (None, "") else default
    except (TypeError, ValueError):
        raise BadRequest(f"offset and limit must be integers, got {offset!r} and {limit!r}") from None
    if off < 0 or not 1 <= lim <= MAX_PAGE:
        raise BadRequest(f"offset must be >= 0 and limit from 1 to {MAX_PAGE}")
    return off, lim


def _damaged(rid: str, exc: Exception) -> Damaged:
    return Damaged(
        f"run {rid} is damaged: {exc}; `workbench doctor --salvage NEW.sqlite` copies what is readable"
    )


class StoreReader:
    """Queries over the store at `path` (which may not exist yet: then there are no runs)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection | None]:
        if not self.path.is_file():
            yield None
            return
        conn = connect_read_only(self.path, timeout=10)
        try:
            yield conn
        finally:
            conn.close()

    # --- runs ---------------------------------------------------------------------------------------
    def runs(self, filters: dict[str, str], offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """Runs newest first, filtered by `FILTERS` (exact), `q` (task text), `since`/`until` (epoch s)."""
        where, params = [], []
        for key in FILTERS:
            value = filters.get(key)
            if value:
                where.append(f"{_NAME.get(key, key)} = ?")
                params.append(value)
        if filters.get("q"):
            where.append("(task LIKE ? ESCAPE '\\' OR id LIKE ?)")
            text = re.sub(r"([%_\\])", r"\\\1", filters["q"])
            params += [f"%{text}%", f"{text}%"]
        for key, op in (("since", ">="), ("until", "<")):
            if filters.get(key):
                try:
                    params.append(float(filters[key]))
                except ValueError:
                    raise BadRequest(
                        f"{key} must be a time in seconds since the epoch, got {filters[key]!r}"
                    ) from None
                where.append(f"created_at {op} ?")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._conn() as conn:
            if conn is None:
                return {"store": str(self.path), "total": 0, "offset": offset, "runs": []}
            (total,) = conn.execute(f"SELECT COUNT(*) FROM runs{clause}", params).fetchone()
            rows = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM runs{clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return {
            "store": str(self.path),
            "total": total,
            "offset": offset,
            "runs": redact_obj([run_summary(r) for r in rows]),
        }

    def _resolve(self, conn: sqlite3.Connection | None, run_id: str) -> str:
        if not RUN_ID.fullmatch(run_id or ""):
            raise BadRequest(f"a run id is 1 to 32 hex digits, got {run_id[:40]!r}")
        if conn is None:
            raise NotFound(f"no run {run_id!r}: the store {self.path} has no runs yet")
        rows = conn.execute(
            "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 2",
            (len(run_id), run_id),
        ).fetchall()
        if not rows:
            raise NotFound(f"no run {run_id!r} in {self.path}")
        if len(rows) > 1 and rows[0][0] != run_id:
            raise BadRequest(f"run id {run_id!r} is ambiguous; give more characters")
        return str(rows[0][0])

    def run(self, run_id: str, offset: int = 0, limit: int = 200) -> dict[str, Any]:
        """One run: its summary, config, plan and memory state, and a page of its nodes (without calls)."""
        with self._conn() as conn:
            rid = self._resolve(conn, run_id)
            assert conn is not None
            row = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS}, plan, memory FROM runs WHERE id = ?", (rid,)
            ).fetchone()
            (node_count,) = conn.execute("SELECT COUNT(*) FROM nodes WHERE run_id = ?", (rid,)).fetchone()
            nodes = conn.execute(
                "SELECT data FROM nodes WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?", (rid, limit, offset)
            ).fetchall()
        summary = run_summary(row[:12])
        return redact_obj(
            {
                **summary,
                "config": json.loads(row[2]),
                "plan": json.loads(row[12]) if row[12] else [],
                "memory_state": json.loads(row[13]) if row[13] else {},  # `memory` stays the policy's name
                "node_count": node_count,
                "offset": offset,
                "nodes": [known(json.loads(data), NODE_FIELDS) for (data,) in nodes],
            }
        )

    def node(self, run_id: str, node_id: str) -> dict[str, Any]:
        """One node with its model calls (prompts rebuilt from the store's deltas)."""
        nid = _node_id(node_id)
        with self._conn() as conn:
            rid = self._resolve(conn, run_id)
            assert conn is not None
            found = conn.execute("SELECT data FROM nodes WHERE run_id = ? AND id = ?", (rid, nid)).fetchone()
            if found is None:
                raise NotFound(f"run {rid} has no node {nid}")
            rows = conn.execute(
                "SELECT seq, data FROM llm_calls WHERE run_id = ? AND node_id = ? ORDER BY seq", (rid, nid)
            ).fetchall()

            parsed: dict[tuple[int, int], dict[str, Any]] = {}  # this node's calls, resolved in order

            def stored(key: tuple[int, int]) -> dict[str, Any] | None:
                if key in parsed:
                    return parsed[key]
                row = conn.execute(
                    "SELECT data FROM llm_calls WHERE run_id = ? AND node_id = ? AND seq = ?", (rid, *key)
                ).fetchone()
                return None if row is None else json.loads(row[0])

            mine = []
            for seq, data in rows:  # a prompt stored as a delta is rebuilt from its chain alone
                call = parsed[(nid, seq)] = json.loads(data)
                if "messages_ref" in call:
                    try:
                        call["messages"] = call_messages((nid, seq), stored)
                    except ValueError as exc:
                        raise _damaged(rid, exc) from None
                    del call["messages_ref"]  # a later call of this node stops its chain here
                mine.append(call)
        return redact_obj(
            {"run_id": rid, "node": known(json.loads(found[0]), NODE_FIELDS), "llm_calls": mine}
        )

    def _load(self, run_id: str, prompts: bool) -> tuple[Run, dict[str, Any]]:
        """(the run, its row's status/plan/memory) read through the store's `build_run`; without
        `prompts` the model calls keep empty prompts (the views do not show them)."""
        with self._conn() as conn:
            rid = self._resolve(conn, run_id)
            assert conn is not None
            row = conn.execute(
                "SELECT task, config, created_at, cursor, outcome, status, plan, memory FROM runs WHERE id = ?",
                (rid,),
            ).fetchone()
            node_rows = conn.execute("SELECT data FROM nodes WHERE run_id = ? ORDER BY id", (rid,)).fetchall()
            call_rows = conn.execute(
                "SELECT node_id, seq, data FROM llm_calls WHERE run_id = ? ORDER BY node_id, seq", (rid,)
            ).fetchall()
        if not node_rows:
            raise NotFound(f"run {rid} has no nodes yet")
        try:
            run, _ = build_run(rid, row[:5], node_rows, call_rows, prompts=prompts)
        except ValueError as exc:
            raise _damaged(rid, exc) from None
        plan = json.loads(row[6]) if row[6] else []
        return run, {
            "status": str(row[5]),
            "plan": plan if isinstance(plan, list) else [],
            "memory": row[7],  # JSON text: parsed only by the export that needs it
        }

    def snapshot(self, run_id: str, last: int | None = SNAPSHOT_LAST) -> dict[str, Any]:
        """The run as the lab extension's run view draws it (`workbench.widgets.snapshot`): every
        node's compact record, the last `last` step cards; model calls come per node (`node`)."""
        from ..widgets.snapshot import run_snapshot, stored_header

        run, state = self._load(run_id, prompts=False)
        return run_snapshot(
            run,
            header=stored_header(run, state["status"]),
            plan=state["plan"],
            last=last,
            max_records=MAX_RECORDS,
            calls_budget=0,
        )

    def head(self, run_id: str, last: int = HEAD_LAST) -> dict[str, Any]:
        """The head of the run's snapshot (`workbench.widgets.snapshot.head_snapshot`): the header,
        the path and the last `last` step cards, read without the rest of the run. The path comes
        from the nodes' `parent_id` column and the totals from SQL, so only those nodes' rows (and
        their calls) are parsed: for a 10,000-node run a few hundred rows instead of 20,000."""
        from ..widgets.snapshot import head_snapshot, stored_header

        with self._conn() as conn:
            rid = self._resolve(conn, run_id)
            assert conn is not None
            row = conn.execute(
                "SELECT task, config, created_at, cursor, outcome, status, plan FROM runs WHERE id = ?",
                (rid,),
            ).fetchone()
            parents = dict(
                conn.execute("SELECT id, parent_id FROM nodes WHERE run_id = ?", (rid,)).fetchall()
            )
            if not parents:
                raise NotFound(f"run {rid} has no nodes yet")
            path = [row[3] if row[3] in parents else max(parents)]
            while parents[path[-1]] is not None:
                if parents[path[-1]] not in parents or len(path) > len(parents):
                    raise _damaged(rid, ValueError(f"node {path[-1]}'s path does not reach the root"))
                path.append(parents[path[-1]])
            path.reverse()
            tail = path[max(0, len(path) - last) :]
            run = self._part(
                conn, rid, row[:5], [*path[max(0, len(path) - last - 1) : len(path) - len(tail)], *tail]
            )
            prompt, completion, cost = conn.execute(
                "SELECT COALESCE(SUM(json_extract(data, '$.prompt_tokens')), 0),"
                " COALESCE(SUM(json_extract(data, '$.completion_tokens')), 0),"
                " COALESCE(SUM(json_extract(data, '$.cost')), 0) FROM llm_calls WHERE run_id = ?",
                (rid,),
            ).fetchone()
        run.cursor = path[-1]
        plan = json.loads(row[6]) if row[6] else []
        header = {
            **stored_header(run, str(row[5])),
            "steps": len(parents) - 1,  # the run's, not the part's
            "tokens": prompt + completion,
            "cost": cost,
        }
        plan = plan if isinstance(plan, list) else []
        return head_snapshot(run, path, header=header, nodes=len(parents), plan=plan, last=last)

    @staticmethod
    def _part(
        conn: sqlite3.Connection,
        rid: str,
        row: tuple[Any, ...],
        ids: list[int],
        children_of: int | None = None,
    ) -> Run:
        """A part of run `rid` (`build_run(..., part=True)`): the nodes `ids` with their model calls
        (prompts left out), and the children of node `children_of` without theirs."""
        wanted = json.dumps(ids)
        rows = conn.execute(
            "SELECT id, parent_id, data FROM nodes WHERE run_id = ?"
            " AND (id IN (SELECT value FROM json_each(?)) OR parent_id = ?) ORDER BY id",
            (rid, wanted, children_of),
        ).fetchall()
        call_rows = conn.execute(
            "SELECT node_id, seq, data FROM llm_calls WHERE run_id = ?"
            " AND node_id IN (SELECT value FROM json_each(?)) ORDER BY node_id, seq",
            (rid, wanted),
        ).fetchall()
        try:
            run, _ = build_run(rid, row, [(data,) for *_, data in rows], call_rows, prompts=False, part=True)
        except ValueError as exc:
            raise _damaged(rid, exc) from None
        missing = set(ids) - set(run.nodes)
        if missing:
            raise _damaged(rid, ValueError(f"node {min(missing)} is not stored"))
        # the path was found from the parent_id column: a row whose data says otherwise is damaged
        for node_id, parent_id, _ in rows:
            if run.nodes[node_id].parent_id != parent_id:
                raise _damaged(
                    rid, ValueError(f"node {node_id} has no parent node {run.nodes[node_id].parent_id}")
                )
        return run

    def card(self, run_id: str, node_id: str) -> dict[str, Any]:
        """The tree card of one node (what the tree view shows for a selected node), read from its
        row, its parent's and its children's, not from the whole run."""
        from ..widgets.tree_records import tree_card

        nid = _node_id(node_id)
        with self._conn() as conn:
            rid = self._resolve(conn, run_id)
            assert conn is not None
            row = conn.execute(
                "SELECT task, config, created_at, cursor, outcome FROM runs WHERE id = ?", (rid,)
            ).fetchone()
            found = conn.execute(
                "SELECT parent_id FROM nodes WHERE run_id = ? AND id = ?", (rid, nid)
            ).fetchone()
            if found is None:
                raise NotFound(f"run {rid} has no node {nid}")
            run = self._part(conn, rid, row, [nid] if found[0] is None else [found[0], nid], children_of=nid)
            # the run's cursor as `build_run` picks it from every node (the row's, else the newest)
            (run.cursor,) = conn.execute(
                "SELECT COALESCE(MAX(CASE WHEN id = ? THEN id END), MAX(id)) FROM nodes WHERE run_id = ?",
                (row[3], rid),
            ).fetchone()
        return redact_obj(tree_card(run, nid))

    def export(self, run_id: str, fmt: str) -> tuple[str, str]:
        """(content type, body) of the run as `json`, `sft` or `dpo` (JSONL)."""
        if fmt not in ("json", "sft", "dpo"):
            raise BadRequest(f"format must be json, sft or dpo, got {fmt[:20]!r}")
        run, state = self._load(run_id, prompts=True)
        if fmt == "json":
            from ..export.json import export_run

            memory = json.loads(state["memory"]) if state["memory"] else {}
            return "application/json", json.dumps(export_run(run, plan=state["plan"], memory=memory))
        from ..export.training import dpo_pairs, sft_records

        records = sft_records(run, require_success=False) if fmt == "sft" else dpo_pairs(run)
        return "application/x-ndjson", "".join(json.dumps(r) + "\n" for r in records)
