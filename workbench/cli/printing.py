"""What the `workbench` command prints about a run: each node as it happens, and the summary.

A node shows its thought and action on one clipped line each, and only the lines of its observation
that changed since its parent's (all of a short one); `--full` shows whole observations.
"""

from __future__ import annotations

import difflib
import time
from typing import Any

from ..console import out

_WIDTH = 100


def clip(text: str | None, width: int = _WIDTH) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def changed_lines(before: str | None, after: str, limit: int = 3) -> list[str]:
    """The first lines of `after` that differ from `before` (all of a short observation)."""
    lines = after.splitlines() or [""]
    if before is None or len(lines) <= limit:
        return lines[:limit]
    added = [
        ln[1:]
        for ln in difflib.unified_diff(before.splitlines(), lines, n=0, lineterm="")
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    if len(added) > limit:  # keep the last changed line: text envs often end with their message
        added = [*added[: limit - 1], added[-1]]
    return added or ["(no change)"]


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class Printer:
    """Prints each new node as its event arrives and remembers how the run ended."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.observations: dict[int, str] = {}
        self.reason: str | None = None
        self.errors: list[str] = []

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind in ("NodeAdded", "NodeUpdated"):
            node = event.node
            waiting = (node.info.get("approval") or {}).get("state") == "pending"
            if kind == "NodeUpdated" and ("observation" not in event.fields or "approval" not in node.info):
                return  # only a decided proposal is printed again (with what happened)
            self.observations[node.id] = node.observation
            if not self.quiet and not waiting:  # a waiting proposal is shown by the approval prompt
                print_node(
                    node, self.observations.get(node.parent_id) if node.parent_id is not None else None
                )
        elif kind == "Paused":
            self.reason = event.reason
        elif kind == "RunFinished":
            self.reason = "done"
        elif kind == "Error":
            self.errors.append(event.message)
            if not self.quiet and event.node_id is None:
                out(f"  ! {clip(event.message)}")


def print_node(node: Any, parent_obs: str | None, *, full: bool = False) -> None:
    if node.parent_id is None:
        out("start:")
        for line in node.observation.splitlines() if full else changed_lines(None, node.observation, 6):
            out(f"  {line}")
        return
    tokens = f"{node.prompt_tokens} prompt tokens" if node.llm_calls else "no model call"
    out(f"step {node.depth} [node {node.id}] · {tokens}")
    if node.thought:
        out(f"  thought: {clip(node.thought)}")
    if node.error:
        out(f"  error:   {clip(node.error)}")
        return
    out(f"  action:  {clip(node.action)}")
    lines = node.observation.splitlines() if full else changed_lines(parent_obs, node.observation)
    for i, line in enumerate(lines):
        out(f"  {'obs:' if i == 0 else '':<8} {line if full else clip(line)}")
    if node.terminal:
        out(f"  terminal, reward {node.reward:g}")


def print_summary(run: Any, store_path: str, reason: str | None) -> None:
    cfg = run.config
    if run.outcome:
        outcome = run.outcome
    elif run.current.terminal:
        outcome = "done"
    else:
        outcome = f"unfinished ({reason or 'stopped'})"
    out(
        f"outcome: {outcome} · steps: {run.steps} · tokens: {run.tokens} (prompt {run.prompt_tokens}) · "
        f"cost: ${run.cost:.4f}"
    )
    out(
        f"model: {cfg.get('model_label') or cfg.get('model')} · env: {cfg.get('env')} · "
        f"strategy: {cfg.get('strategy')} · memory: {cfg.get('memory')}"
    )
    out(f"run: {run.id} in {store_path} (workbench show {run.id} · workbench resume {run.id})")
