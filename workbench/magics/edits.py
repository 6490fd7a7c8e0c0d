"""`%agent` commands that inspect and edit one agent: plan, memory, history, tree, rewind, break, budget.

Each handler takes the `Agent` and the parsed arguments, changes the session through its public
API (so every change is an event with provenance `user`), and returns a small rich output.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from .. import options
from ..core.background import runner_for
from ..errors import ConfigError
from ..memory.diff import DiffMemory, observation_diff
from ..memory.window import FullMemory
from . import objects, render
from .agents import Agent
from .args import text_of


# --- plan ---------------------------------------------------------------------------------------
def plan_table(agent: Agent, note: str = "") -> render.Rich:
    plan = agent.session.plan
    rows = [(n, item.status, item.text, item.provenance) for n, item in enumerate(plan, start=1)]
    caption = f"{agent.name} plan · {len(plan)} items" + (f" · {note}" if note else "")
    if not rows:
        return render.small(f"{caption}; add one with %agent plan add TEXT")
    return render.table(["#", "status", "item", "by"], rows, caption)


def plan_add(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.add(text_of(args.text) or "", args.at)
    return plan_table(agent, "added; the next step's prompt shows it")


def plan_done(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.done(args.position)
    return plan_table(agent, f"ticked {args.position}")


def plan_rm(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.remove(args.position)
    return plan_table(agent, f"deleted {args.position}")


def plan_move(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.move(args.position, args.to)
    return plan_table(agent, f"moved {args.position} to {args.to}")


def plan_edit(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.edit(args.position, text_of(args.text) or "")
    return plan_table(agent, f"reworded {args.position}")


def plan_clear(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.plan.replace([], provenance="user")
    return plan_table(agent, "cleared")


# --- memory -------------------------------------------------------------------------------------
def memory_table(agent: Agent, note: str = "") -> render.Rich:
    s = agent.session
    rows = []
    for e in s.memory.entries(s.tree, s.path()):
        flags = ", ".join(f for f, on in (("pinned", e.pinned), ("forgotten", e.forgotten)) if on)
        shown_text = e.extra.get("action") if e.kind == "action" and not e.extra.get("original") else None
        rows.append(
            (
                e.id,
                e.kind,
                e.provenance,
                "yes" if e.shown else "no",
                flags,
                shown_text or render.brief(e.text),
            )
        )
    caption = f"{agent.name} memory · policy {s.memory.name}" + (f" · {note}" if note else "")
    return render.table(["id", "kind", "by", "in prompt", "flags", "text"], rows, caption)


def _ids_summary(ids: list[str]) -> str:
    groups: dict[str, list[str]] = {}
    for entry_id in ids:
        groups.setdefault(entry_id.partition(":")[0], []).append(entry_id)
    parts = []
    for group in groups.values():
        parts.append(", ".join(group) if len(group) <= 4 else f"{group[0]}, {group[1]}, ..., {group[-1]}")
    return "; ".join(parts) or "none yet"


def check_entry(agent: Agent, entry_id: str) -> str:
    s = agent.session
    ids = [e.id for e in s.memory.entries(s.tree, s.path())]
    if entry_id not in ids:
        raise UsageError(
            f"no memory entry {entry_id!r} on this path; valid: {_ids_summary(ids)} (%agent memory lists them)"
        )
    return entry_id


def memory_edit(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.memory.edit(check_entry(agent, args.entry), text_of(args.text) or "")
    return render.small(f"{agent.name}: memory {args.entry} rewritten; the next prompt shows your text")


def memory_pin(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.memory.pin(check_entry(agent, args.entry))
    return render.small(f"{agent.name}: memory {args.entry} pinned; every prompt shows it")


def memory_unpin(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.memory.unpin(check_entry(agent, args.entry))
    return render.small(f"{agent.name}: memory {args.entry} unpinned")


def memory_forget(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.memory.forget(check_entry(agent, args.entry))
    return render.small(f"{agent.name}: memory {args.entry} forgotten; prompts leave it out")


def memory_restore(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.memory.restore(check_entry(agent, args.entry))
    return render.small(f"{agent.name}: memory {args.entry} restored to the original")


def memory_note(agent: Agent, args: argparse.Namespace) -> render.Rich:
    entry_id = agent.session.memory.add_note(text_of(args.text) or "")
    return render.small(f"{agent.name}: note {entry_id} added; the next prompts show it")


def memory_importance(agent: Agent, args: argparse.Namespace) -> render.Rich:
    memory = agent.session.memory
    if not callable(getattr(memory, "set_importance", None)):
        raise UsageError(f"the {memory.name} memory has no importance to set; use it with --memory layered")
    entry_id = check_entry(agent, args.entry)
    if not entry_id.startswith("mem:"):
        raise UsageError(f"only memory items (mem:<node id>) have an importance, not {entry_id!r}")
    if not 0 <= args.value <= 1000:
        raise UsageError(f"importance must be from 0 to 1000, not {args.value:g}")
    memory.set_importance(entry_id, args.value, at_step=agent.session.cursor.depth)
    item = memory.layers(agent.session.path()).get(int(entry_id[4:]))
    where = f"; now {item.layer}-term" if item is not None else ""
    return render.small(
        f"{agent.name}: memory {entry_id} importance {args.value:g}{where}; the next recall uses it"
    )


def memory_options(
    policy: Any, window: int | None, pairs: list[str] | None = None, *, via: str = "--memory"
) -> dict[str, Any]:
    """Options for `make_memory` from `--memory-option KEY=VALUE`s and `--window`. `policy` is a
    name (checked by `objects.memory` first) or a Memory object, which keeps its own options."""
    if not isinstance(policy, str):
        if window is not None:
            raise UsageError(
                f"--window works with a memory policy given by name, not with {type(policy).__name__} "
                "object; give the object its window when you make it"
            )
        return objects.options("memory", policy, pairs, "--memory-option")  # {} without options
    try:
        return options.memory_options(policy, window, pairs, via=via)
    except ConfigError as exc:
        raise UsageError(" ".join(str(exc).split())) from None


def switch_memory(
    agent: Agent, policy: Any, window: int | None, source: str | None = None, pairs: list[str] | None = None
) -> None:
    """Give the session a new memory policy (a name or a Memory object) from the next step on; user
    edits carry over."""
    s = agent.session
    policy = objects.memory(policy, source)
    s.set_memory(policy, **memory_options(policy, window, pairs, via="memory use"))


def memory_use(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.require_idle("switching memory")
    source = getattr(args, "sources", {}).get("policy")
    switch_memory(agent, args.policy, args.window, source, args.memory_option)
    return memory_table(agent, "switched; the next step's prompt uses it")


# --- history, tree, rewind ------------------------------------------------------------------------
def history(agent: Agent, args: argparse.Namespace) -> render.Rich:
    if args.diff and args.full:
        raise UsageError("%agent history takes --diff or --full, not both")
    s = agent.session
    path = s.path()
    if not args.diff:
        return render.history(s.tree, path, "full" if args.full else "brief")
    diffs = [""] + [
        observation_diff(a.observation, b.observation) for a, b in zip(path, path[1:], strict=False)
    ]
    full = FullMemory().history_tokens(s.tree, path)
    diff = DiffMemory(window=None).history_tokens(s.tree, path)
    saved = (
        f"diff saves {100 * (full - diff) / full:.0f}%" if full and diff <= full else "diff costs more here"
    )
    note = f"history prompt for this path: full {full} tokens · diff {diff} tokens · {saved}"
    return render.history(s.tree, path, "diff", diffs, note)


def tree(agent: Agent, args: argparse.Namespace) -> render.Rich:
    return render.tree(agent.session.tree)


def rewind(agent: Agent, args: argparse.Namespace) -> render.Rich:
    s = agent.session
    if agent.running:
        if not args.stop:
            raise UsageError(
                f"{agent.name} is running in the background; %agent pause it first, or "
                f"%agent rewind {args.node} --stop stops it (the step in flight is dropped) and rewinds"
            )
        if args.node not in s.tree.nodes:  # checked now: the rewind itself waits for the stop
            raise UsageError(f"no node {args.node} in run {s.run_id}; valid ids: 0..{len(s.tree.nodes) - 1}")
        runner = runner_for(s)
        runner.stop()
        runner.after(lambda: s.rewind(args.node), f"rewind to node {args.node}")
        return render.small(
            f"{agent.name}: stopping the background run (the step in flight is dropped); the cursor moves "
            f"to node {args.node} as soon as it has stopped"
        )
    node = s.rewind(args.node)
    return render.small(
        f"{agent.name}: cursor at node {node.id} (step {node.depth}), plan and memory as they were there; "
        "the next step grows a new branch from here"
    )


# --- steering a search ----------------------------------------------------------------------------
def prune(agent: Agent, args: argparse.Namespace) -> render.Rich:
    ids = agent.session.prune(args.node)
    return render.small(
        f"{agent.name}: pruned {len(ids)} node(s) ({', '.join(map(str, ids)) or 'none live'})"
    )


def unprune(agent: Agent, args: argparse.Namespace) -> render.Rich:
    ids = agent.session.unprune(args.node)
    return render.small(f"{agent.name}: node(s) {', '.join(map(str, ids))} may be expanded again")


def pin(agent: Agent, args: argparse.Namespace) -> render.Rich:
    node = agent.session.pin(args.node)
    return render.small(f"{agent.name}: node {node.id} ({node.action or 'start'}) is expanded next")


def set_value(agent: Agent, args: argparse.Namespace) -> render.Rich:
    node = agent.session.set_value(args.node, args.value)
    return render.small(
        f"{agent.name}: node {node.id} ({node.action or 'start'}) now has value {node.value:g}"
    )


# --- breakpoints and budgets ----------------------------------------------------------------------
def breakpoints(agent: Agent, args: argparse.Namespace | None = None) -> render.Rich:
    bps = agent.session.breakpoints
    if not bps:
        return render.small(f"{agent.name}: no breakpoints; add one with %agent break action REGEX")
    rows = [(n, bp.kind, bp.value, "on" if bp.enabled else "off", bp.hits) for n, bp in enumerate(bps, 1)]
    return render.table(["#", "kind", "value", "state", "hits"], rows, f"{agent.name} breakpoints")


Handler = Callable[[Agent, argparse.Namespace], render.Rich]


def break_add(kind: str) -> Handler:
    def handler(agent: Agent, args: argparse.Namespace) -> render.Rich:
        if kind == "action":
            try:
                re.compile(args.value)
            except re.error as exc:
                raise UsageError(
                    f'invalid regex {args.value!r} ({exc}); quote it, e.g. "go (north|south)"'
                ) from None
        bp = agent.session.break_on(**{kind: args.value})
        return render.small(
            f"{agent.name}: breakpoint on {bp.description}; %agent run pauses after a step that hits it"
        )

    return handler


def break_clear(agent: Agent, args: argparse.Namespace) -> render.Rich:
    agent.session.clear_breakpoints()
    return render.small(f"{agent.name}: breakpoints cleared")


def budget(agent: Agent, args: argparse.Namespace) -> render.Rich:
    s = agent.session
    for key in ("max_steps", "max_tokens", "max_cost"):
        value = getattr(args, key)
        if value is not None:
            s.budgets[key] = value
    used = {"max_steps": s.tree.steps, "max_tokens": s.tree.tokens, "max_cost": round(s.tree.cost, 6)}
    rows = [
        (key.replace("_", "-"), "none" if limit is None else limit, used[key])
        for key, limit in s.budgets.items()
    ]
    return render.table(["budget", "limit", "used"], rows, f"{agent.name} budgets")
