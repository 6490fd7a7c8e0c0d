"""A bounded snapshot of a run, `application/vnd.agent-workbench.run+json`: what a reader without a
kernel needs to draw the run with the widgets' own front-end code (header, step cards, tree, usage).

    data = run_snapshot(run, header=stored_header(run, "done"))     # JSON-ready, secrets redacted

The snapshot holds the panel's state (header, path, step cards, usage, plan) and the tree's (compact
node records, meta, palette), the way the live widgets sync them, so `static/run_view.js` feeds it
to `workbench.js` and `tree_view.js` unchanged. It is bounded, since a saved notebook carries it:
full step cards for the last `last` nodes of the path, full tree cards for those and the `last`
newest nodes, compact records (a summary: action, status, value, visits) for at most
`max_records` nodes (the path first, then the newest), usage for the last `MAX_USAGE` steps, and the
model calls of the last steps within `calls_budget` characters. What was left out is counted under
`omitted`; the front end says so where it matters (a card or a call that is not there).

Shown by the lab extension's MIME renderer (a saved notebook reopened without a kernel, a
`.wbrun.json` file), the run view of the runs browser, and `workbench export --html`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..core.tree import Run
from ..viz.tree_figure import STYLE
from ..viz.usage import usage_series
from . import cards as cards_mod
from .cards import safe
from .tree_records import node_record, tree_card, tree_meta

MIME = "application/vnd.agent-workbench.run+json"
FORMAT_VERSION = 1
LAST = 50  # full step cards for the last nodes of the path (in a notebook's outputs)
MAX_RECORDS = 5000  # tree records kept (compact: id, parent, status, value, visits, flags, label)
MAX_USAGE = 2000  # steps of the usage chart kept (the latest)
CALLS_BUDGET = 12_000  # characters of model-call details kept (the latest steps first)
PAGE = 25  # step cards per page, as the panel pages them


def _name(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("label") or "")
    return "" if value is None else str(value)


def stored_header(run: Run, status: str) -> dict[str, Any]:
    """The panel's header for a run read from a store or a file (no session: no controls; not
    redacted: `run_snapshot` redacts the snapshot it goes into)."""
    cfg = run.config or {}
    memory = cfg.get("memory")
    window = memory.get("window") if isinstance(memory, Mapping) else None
    return {
        "task": run.task,
        "env": _name(cfg.get("env")),
        "model": str(cfg.get("model_label") or _name(cfg.get("model"))),
        "simulated": bool(cfg.get("simulated", False)),
        "strategy": _name(cfg.get("strategy")),
        "memory": _name(memory),
        "window": window if isinstance(window, int) else None,
        "status": status,
        "outcome": run.outcome or "",
        "steps": run.steps,
        "depth": run.current.depth if run.nodes else 0,
        "cursor": run.cursor,
        "max_steps": None,
        "tokens": run.tokens,
        "cost": run.cost,
        "pending": -1,
        "breakpoints": 0,
        "break_enabled": False,
        "break_pattern": "",
        "done": bool(run.nodes and run.current.terminal),
        "run_id": run.id,
        "sandbox": str(cfg.get("sandbox") or ""),
    }


def best_path(run: Run) -> list[int]:
    """Root to the best node, as `Session.best_path` picks it (for runs without a session)."""
    if not run.nodes:
        return []
    return [n.id for n in run.path(run.best_node().id, copy=False)]


def _kept_records(run: Run, path: list[int], max_records: int) -> tuple[list[int], int]:
    """Ids whose records the snapshot keeps (the path, then the newest), and how many it leaves out."""
    ids = sorted(run.nodes)
    if len(ids) <= max_records:
        return ids, 0
    keep = set(path[-max_records:])
    for node_id in reversed(ids):
        if len(keep) >= max_records:
            break
        keep.add(node_id)
    return sorted(keep), len(ids) - len(keep)


def run_snapshot(
    run: Run,
    *,
    header: dict[str, Any],
    plan: Iterable[dict[str, Any]] = (),
    best: list[int] | None = None,
    view: str = "Trajectory",
    last: int | None = LAST,
    max_records: int = MAX_RECORDS,
    calls_budget: int = CALLS_BUDGET,
    cards: Mapping[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The snapshot of `run` (see the module docstring); `last=None` keeps every card of the path.

    `cards` are step cards already built (the live panel's cache), reused as they are. The parts are
    built as they are and the whole snapshot is redacted once, at the end (every reader gets it so)."""
    path = [n.id for n in run.path(run.cursor, copy=False)] if run.nodes else []
    full = path if last is None else path[max(0, len(path) - last) :]
    cards = cards or {}
    step_cards = {i: cards.get(i) or cards_mod.card(run.nodes[i], run) for i in full}
    # tree cards for the same nodes and for the newest ones (a search grows at its newest nodes);
    # where a step card is kept too, only what the tree card adds (the front end merges the two)
    newest = sorted(run.nodes) if last is None else sorted(run.nodes)[-last:]
    tree_cards = {}
    for i in dict.fromkeys([*full, *newest]):
        step = step_cards.get(i, {})
        tree_cards[i] = {k: v for k, v in tree_card(run, i).items() if k not in step or step[k] != v}
    calls: dict[int, list[dict[str, Any]]] = {}
    used = 0
    for node_id in reversed(full):
        node = run.nodes[node_id]
        if not node.llm_calls:
            continue
        details = [cards_mod.call_details(c) for c in node.llm_calls]
        size = len(json.dumps(details))
        if used + size > calls_budget:
            break
        calls[node_id], used = details, used + size
    kept, left_out = _kept_records(run, path, max_records)
    records = [node_record(run.nodes[i]) for i in kept]
    usage = usage_series(run)
    usage_left = max(0, len(usage["step"]) - MAX_USAGE)
    if usage_left:
        usage = {k: v[usage_left:] for k, v in usage.items()}
    best = best_path(run) if best is None else best
    meta = tree_meta(
        run,
        best=best,
        status=str(header.get("status", "")),
        strategy=str(header.get("strategy", "")),
        model=str(header.get("model", "")),
        simulated=bool(header.get("simulated", False)),
    )
    return safe(
        {
            **_envelope(run.id, view, header),
            "path": path,
            "cards": {str(i): c for i, c in step_cards.items()},
            "tree_cards": {str(i): c for i, c in tree_cards.items()},
            "calls": {str(i): c for i, c in calls.items()},
            "usage": usage,
            "plan": list(plan),
            "tree": {"meta": meta, "palette": STYLE, "records": records, "max_nodes": 1500},
            "omitted": {
                "cards": len(path) - len(full),
                "records": left_out,
                "usage_steps": usage_left,
                "calls": sum(1 for i in full if run.nodes[i].llm_calls and i not in calls),
            },
        }
    )


def _envelope(run_id: str, view: str, header: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "agent-workbench.run-snapshot",
        "format_version": FORMAT_VERSION,
        "workbench_version": __version__,
        "taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_id": run_id,
        "view": view,
        "header": {**header, "page_size": PAGE},
    }


def head_snapshot(
    run: Run,
    path: list[int],
    *,
    header: dict[str, Any],
    nodes: int,
    plan: Iterable[dict[str, Any]] = (),
    last: int,
    view: str = "Trajectory",
) -> dict[str, Any]:
    """The head of a run's snapshot: what a run view's first paint draws (header, path and the full
    step cards of the path's last `last` nodes), for a run too big to read whole before drawing.

    `run` needs only those nodes and the parent of the first (`build_run(..., part=True)`); `path`
    is the whole path, `nodes` how many the run has. It has no tree records, usage or tree cards:
    `partial` says so, and the whole snapshot (`run_snapshot`) follows."""
    tail = path[max(0, len(path) - last) :]
    meta = {  # what the tree's summary line says until its records come
        "run_id": run.id,
        "nodes": nodes,
        "cursor": path[-1] if path else 0,
        "best": [],
        "lo": 0.0,
        "hi": 1.0,
        "counts": {},
        "scored": 0,
        "status": str(header.get("status", "")),
        "strategy": str(header.get("strategy", "")),
        "model": str(header.get("model", "")),
        "simulated": bool(header.get("simulated", False)),
        "outcome": run.outcome or "",
        "search": {},
    }
    return safe(
        {
            **_envelope(run.id, view, header),
            "partial": True,
            "path": path,
            "cards": {str(i): cards_mod.card(run.nodes[i], run) for i in tail},
            "tree_cards": {},
            "calls": {},
            "usage": {},
            "plan": list(plan),
            "tree": {"meta": meta, "palette": STYLE, "records": [], "max_nodes": 1500},
            "omitted": {"cards": len(path) - len(tail), "records": 0, "usage_steps": 0, "calls": 0},
        }
    )
