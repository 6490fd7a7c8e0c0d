"""What the tree view sends about a run: a compact record per node, the tree's meta, a node's card.

The live `TreeView` syncs them and a run snapshot (`snapshot.py`) stores them, so a saved run is
drawn by the same front-end code (`static/tree_view.js`). The record of a node is
`[id, parent, status, value, visits, flags, label, safety]`: `status` indexes `STATUSES`; `flags`:
1 pinned, 2 value set by the user, 4 executed; `safety`: ToolEmu's 0-3 score, or None.
"""

from __future__ import annotations

from typing import Any

from ..viz.tree_figure import safety_score, value_range, visual_status
from . import cards as cards_mod

STATUSES = ("expanded", "frontier", "terminal", "solved", "pruned", "error")
LABEL_LIMIT = 48
_INFO_KEYS = (
    "prior",
    "count",
    "probability",
    "g",
    "h",
    "f",
    "reflection",
    "value_by",
    "expanded_at",
    "subgoal",
)


def node_record(node: Any) -> list[Any]:
    """The compact form of a node the browser draws from."""
    flags = (1 if node.info.get("pinned") else 0) | (2 if node.info.get("value_by") == "user" else 0)
    flags |= 4 if node.executed else 0
    label = node.action or ("start" if node.parent_id is None else "")
    if len(label) > LABEL_LIMIT:
        label = label[: LABEL_LIMIT - 1] + "…"
    value = None if node.value is None else round(float(node.value), 4)
    parent = -1 if node.parent_id is None else node.parent_id
    status = STATUSES.index(visual_status(node))
    return [node.id, parent, status, value, node.visits, flags, label, safety_score(node)]


def tree_meta(
    run: Any, *, best: list[int], status: str, strategy: str, model: str, simulated: bool
) -> dict[str, Any]:
    """What the tree's summary line and colours need: counts, cursor, best path, value range
    (not redacted: the widget and `run_snapshot` redact what they send, once)."""
    lo, hi = value_range(n.value for n in run.nodes.values())
    counts = dict.fromkeys(STATUSES, 0)
    scored = 0
    for node in run.nodes.values():
        counts[visual_status(node)] += 1
        scored += safety_score(node) is not None
    counts = {k: v for k, v in counts.items() if v}
    search = run.root.info.get("search") if run.nodes else None
    return {
        "run_id": run.id,
        "nodes": len(run.nodes),
        "cursor": run.cursor,
        "best": best,
        "lo": lo,
        "hi": hi,
        "counts": counts,
        "scored": scored,
        "status": status,
        "strategy": strategy,
        "model": model,
        "simulated": simulated,
        "outcome": run.outcome or "",
        "search": search if isinstance(search, dict) else {},
    }


def tree_card(run: Any, node_id: int) -> dict[str, Any]:
    """The card of a selected node: a step card plus visits, pin, value source and what it allows
    (not redacted, like `tree_meta`)."""
    node = run.nodes[node_id]
    data = cards_mod.card(node, run)
    if not node.executed and not node.observation:
        data["diff"] = ""
        data["obs"] = ""
        data["note"] = "Not executed yet: a candidate action the search may realize later."
    data.update(
        visits=node.visits,
        pinned=bool(node.info.get("pinned")),
        value_by=str(node.info.get("value_by") or ""),
        visual=visual_status(node),
        children=len(run.children(node_id)),  # indexed: O(1) per card, not a scan of the run
        cursor=node_id == run.cursor,
        info={k: node.info[k] for k in _INFO_KEYS if node.info.get(k) is not None},
        can_prune=node.parent_id is not None and node.status in ("frontier", "expanded"),
        can_pin=node.status in ("frontier", "expanded"),
        can_resume=node.status != "frontier" and node.info.get("kind") != "provider",
    )
    return data
