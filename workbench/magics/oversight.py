"""`%agent approve` / `%agent reject` / `%agent gate`: the person's side of the approval gates.

    %agent approve                       run the proposed action as it is
    %agent approve {"path": "b.txt"}     edited: new JSON arguments (a tool call), or new code / action text
    %agent reject "keep that file"       not run; the reason is the agent's next observation
    %agent gate                          list the gate rules; gate tool|action REGEX, gate code [PATTERN],
                                         gate destructive, gate cost X, gate clear

A run that paused for approval goes on in the background after `approve` / `reject`.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..oversight.gates import CODE_PATTERNS
from . import render
from .agents import Agent


def waiting_line(session: Any) -> str:
    """One line for `%agent status`: what waits for approval, if anything."""
    pending = session.pending_approval
    if pending is None:
        return "nothing waits"
    where = f"node {pending.node_id}" if pending.node_id is not None else "a replay"
    return f"{where} waits ({pending.hit.rule.describe()}): %agent approve | %agent reject REASON"


def require_pending(agent: Agent) -> Any:
    pending = agent.session.pending_approval
    if pending is None:
        raise UsageError(
            f"{agent.name}: nothing awaits approval (gated actions pause the run and show a card)"
        )
    agent.require_idle("deciding")
    return pending


def gate(agent: Agent, args: Any) -> render.Rich:
    """`%agent gate ...`: add a rule or list them."""
    s = agent.session
    kind, value = args.kind, args.value
    if kind == "clear":
        s.gates.clear()
    elif kind in ("tool", "action"):
        if not value:
            raise UsageError(f"%agent gate {kind} needs a regex, e.g. %agent gate {kind} 'delete_.*'")
        s.gate(kind, pattern=value)
    elif kind == "code":
        if value and value not in CODE_PATTERNS and not value.startswith("re:"):
            valid = ", ".join(CODE_PATTERNS)
            raise UsageError(f"%agent gate code takes {valid} or re:REGEX, not {value!r}")
        s.gate("code", pattern=(value[3:] if value and value.startswith("re:") else value))
    elif kind == "destructive":
        s.gate("destructive")
    elif kind == "cost":
        try:
            s.gate("cost", above=float(value))
        except (TypeError, ValueError):
            raise UsageError("%agent gate cost needs dollars, e.g. %agent gate cost 0.5") from None
    rows = [(i, r.describe(), r.decision) for i, r in enumerate(s.gates, 1)]
    if not rows:
        return render.small(f"{agent.name}: no gate rules; every action runs without asking")
    return render.table(["#", "rule", "decision"], rows, f"gate rules of {agent.name} (first match decides)")


def calls_line(stats: dict[str, int]) -> str:
    """An agent's share of the kernel's model-call budget, for `%agent agents`."""
    return f"{stats['running']} running, {stats['waiting']} waiting, {stats['done']} done"
