"""Plain data for the views: a step card per node, a session header, LLM call details.

Pure functions of core objects, shared by the live widgets and the static HTML. Everything they
return is JSON-ready; the widgets pass it through `safe` (secret redaction) before syncing it.
"""

from __future__ import annotations

from typing import Any

from ..core.tree import LLMCall, Node, Run
from ..memory.diff import observation_diff
from ..safety.redact import redact_obj

TEXT_LIMIT = 20_000  # characters of one observation or thought kept in a card


def safe(obj: Any) -> Any:
    """`obj` with the value of every secret-looking environment variable redacted."""
    return redact_obj(obj)


def clip(text: str | None, limit: int = TEXT_LIMIT) -> str:
    text = text or ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


def card(node: Node, run: Run) -> dict[str, Any]:
    """A step card: what the agent thought and did, what it saw (full and as a diff), what it cost."""
    parent = run.nodes.get(node.parent_id) if node.parent_id is not None else None
    kind = node.info.get("kind") or ("start" if parent is None else "step")
    diffable = parent is not None and node.status != "error" and kind != "memory"
    calls = node.llm_calls
    return {
        "id": node.id,
        "parent": node.parent_id,
        "depth": node.depth,
        "kind": kind,
        "thought": clip(node.thought),
        "action": node.action or "",
        "executed": node.executed,
        "obs": clip(node.observation),
        "diff": clip(observation_diff(parent.observation, node.observation)) if diffable else "",
        "reward": node.reward,
        "terminal": node.terminal,
        "status": node.status,
        "error": clip(node.error),
        "value": node.value,
        "provenance": node.provenance,
        "subgoal": str(node.info.get("subgoal") or ""),
        **agent_roles(node),
        "used": [str(u) for u in node.info.get("used_user_edits") or []],
        "calls": len(calls),
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "completion_tokens": sum(c.completion_tokens for c in calls),
        "cost": sum(c.cost for c in calls),
        "latency": round(sum(c.latency for c in calls), 4),
        "t": node.created_at,
        "tools": [
            {
                "name": str(r.get("name", "")),
                "error": clip(r.get("error"), 500),
                "duration": round(float(r.get("duration") or 0.0), 4),
                "destructive": bool(r.get("destructive")),
                "rejected": bool(r.get("rejected")),
            }
            for r in node.info.get("tool_calls") or ()
        ],
        "diverged": bool(node.info.get("diverged")),
        "approval": _approval(node),
        "specs_broken": [str(v.get("spec")) for v in node.info.get("spec_violations") or ()],
        "safety": node.info.get("safety"),  # ToolEmu's 0-3 score of the trajectory up to here
    }


def agent_roles(node: Node) -> dict[str, Any]:
    """What the strategies with roles record (plan-execute, umi, reflexion): the roles whose calls made
    the node, in call order; its plan item; its attempt; the lesson written after it."""
    roles: list[str] = []
    for call in node.llm_calls:
        if call.role and call.role not in roles:
            roles.append(call.role)
    item = node.info.get("plan_item") or {}
    attempt = node.info.get("attempt")
    return {
        "roles": roles,
        "made_by": str(node.info.get("role") or ""),
        "plan_item": f"{item.get('position')}. {item.get('text')}" if item.get("text") else "",
        "attempt": int(attempt) if isinstance(attempt, int) else None,
        "lesson": clip(str(node.info.get("reflection") or ""), 2_000) if node.info.get("lesson") else "",
    }


def _approval(node: Node) -> dict[str, Any] | None:
    """Who decided on a gated action of this node, under which rule (see workbench.oversight)."""
    record = node.info.get("approval")
    if not record:
        return None
    keys = ("state", "by", "rule", "why", "reason", "risk")
    return {k: record.get(k) for k in keys if record.get(k) is not None}


def call_details(call: LLMCall) -> dict[str, Any]:
    """One model call as the "LLM call" drawer shows it: messages, raw response, tokens, latency."""
    return {
        "model": call.model,
        "purpose": call.purpose,
        "messages": [
            {"role": str(m.get("role", "")), "content": clip(str(m.get("content", "")))}
            for m in call.messages
        ],
        "response": clip(call.response),
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "cost": call.cost,
        "latency": round(call.latency, 4),
        "attempts": call.attempts,
        "error": call.error or "",
    }


def header(session: Any, *, running: bool, pending: int | None, breakpoint: dict[str, Any]) -> dict[str, Any]:
    """What the panel's header always answers: task, model, strategy, memory, state, progress, cost."""
    cfg = session.config
    run: Run = session.tree
    memory = session.memory
    window = getattr(memory, "window", None)
    status = "running" if running else session.status
    return {
        "task": run.task,
        "env": str(cfg.get("env", "")),
        "model": str(cfg.get("model_label", "")),
        "simulated": bool(cfg.get("simulated", False)),
        "strategy": session.strategy.name,
        "memory": memory.name,
        "window": window if isinstance(window, int) else None,
        "status": status,
        "outcome": run.outcome or "",
        "steps": run.steps,
        "depth": run.current.depth,
        "cursor": run.cursor,
        "max_steps": session.budgets.get("max_steps"),
        "tokens": run.tokens,
        "cost": run.cost,
        "pending": -1 if pending is None else pending,
        "breakpoints": len(session.breakpoints),
        "break_enabled": bool(breakpoint.get("enabled")),
        "break_pattern": str(breakpoint.get("pattern") or ""),
        "done": bool(session.done),
        "run_id": run.id,
        "sandbox": str(cfg.get("sandbox") or ""),
    }


def summary_line(h: dict[str, Any]) -> str:
    model = h["model"] + (" (simulated)" if h["simulated"] and "simulated" not in h["model"] else "")
    return (
        f"Workbench · {h['env']} · {model} · {h['strategy']} · {h['memory']} · {h['status']} · "
        f"step {h['depth']} · {h['tokens']:,} tokens · ${h['cost']:.4f}"
    )
