"""Chain of Summarization (Ma et al. 2023, TextStarCraft II): L1 step summaries, L2 analyses.

Level 1: every node on the path gets a one-line summary of its step, `node.info["l1"]`: with
`l1="llm"` (default) ONE call to the session's model per node (purpose `l1`, prompt `L1_SYSTEM`,
answer `L1: <one line>`), recorded on that node; with `l1="observation"` no call: the action and the
observation's last line.

Level 2: every `every` steps (10 by default, the paper's cadence), when the cursor reaches depth
m = every, 2 x every, ..., ONE call (purpose `l2`, prompt `L2_SYSTEM`) reads the L1 summaries of
the steps m - every + 1 .. m, the actions executed and the ones that failed in them (no valid action,
not executed, an error or a negative reward) and the current observation, and answers

    Analysis: <what happened and where things stand>
    Decisions:
    1. <the next action to take>
    2. ...

The call is recorded on the node at depth m and the result kept in its `info["l2"]`
(`{"analysis", "decisions", "first", "last"}`), so a resumed run has it. The session makes these
calls before a step (`aprepare`); a failed call is kept in `info["l1_error"]` / `info["l2_error"]`
and not retried; with a token or cost budget used up no call is made. A missing L1 is shown as
the `"observation"` mode's line.

The history of a prompt from depth n (L2 made at depth m, the last multiple of `every` <= n):

    user: "Analysis of steps {m - every + 1}-{m} (L2):\nAnalysis: ...\nQueued decisions:\n1. ..."
    user: "Step summaries (L1):\n- step {d}: <L1>"     one line per step after m (from the root
                                                      before the first L2) not in the window
    then the last `window` steps verbatim (default 1), as the `window` policy renders them.

Entries "l1:<node id>" and "l2:<node id>" are editable (`edit`, `forget`, `restore`); an edited L2
is shown exactly as the user wrote it, and an edited L1 is what later L2 calls read.

Deviations from the paper: the L2 call also sees the current observation in full (TextStarCraft's
L1 text is the whole game state; here an L1 line is much shorter); only the latest analysis is
shown; "failed" is judged from the run tree, not from the game engine's error list.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .. import validate
from ..core.prompt import Prompt
from ..core.tree import MODEL_BUDGETS, Node, Run
from ..errors import ConfigError, ModelError
from .base import ChangeHook, MemoryEntry, record_outcome
from .steps import StepMemory, TokenCounter

L1_LABEL = "L1:"
L1_TASK = "You summarise one step of an agent"  # how the L1 prompt starts (the demo model looks for it)
L1_SYSTEM = f"""{L1_TASK} (Chain of Summarization, level 1): the action it took and what it
observed afterwards. Answer with exactly one line that starts with `{L1_LABEL}` and says what the
action did and what the situation is now."""
L2_TASK = "You analyse the last steps of an agent"  # how the L2 prompt starts
L2_SYSTEM = f"""{L2_TASK} (Chain of Summarization, level 2) from their one-line summaries,
the actions that were executed or failed, and the current observation. Answer in exactly this format:
Analysis: <two or three sentences: what happened, what went wrong, where things stand>
Decisions:
1. <the next action to take>
2. <the action after that>
(up to 5 decisions, each one action as the environment accepts it)"""
HINT = (
    "Earlier steps are shown as one-line summaries (L1) and, every few steps, an analysis with "
    "queued decisions (L2); follow the queued decisions unless the current observation shows they "
    "no longer fit."
)
L1_MODES = ("llm", "observation")
L1_BY = {
    "llm": "by LLM",
    "user": "by you",
    "observation": "from the observation",
    "pending": "LLM pending (the observation's line until then)",
    "error": "LLM call failed (the observation's line)",
}
L2_HEADER = "Analysis of steps {first}-{last} (L2):"
L1_HEADER = "Step summaries (L1):"
_DECISION = re.compile(r"^\s*(?:\d+[.)]|[-*])\s*(.+?)\s*$")


def parse_l1(text: str) -> str:
    """The line after `L1:` (else the answer's first non-empty line)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in lines:
        if line.upper().startswith(L1_LABEL):
            return line[len(L1_LABEL) :].strip() or "(empty summary)"
    return lines[0] if lines else "(empty summary)"


def parse_l2(text: str) -> dict[str, Any]:
    """{"analysis": str, "decisions": [str]} from an L2 answer (lenient about labels)."""
    analysis: list[str] = []
    decisions: list[str] = []
    in_decisions = False
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        low = line.lower()
        if low.startswith(("decisions:", "queued decisions:")):
            in_decisions = True
            rest = line.split(":", 1)[1].strip()
            if rest:
                decisions.append(rest)
            continue
        if in_decisions and (m := _DECISION.match(line)):
            decisions.append(m.group(1))
            continue
        analysis.append(line.split(":", 1)[1].strip() if low.startswith("analysis:") else line)
    return {"analysis": " ".join(analysis) or "(no analysis)", "decisions": decisions}


def l2_text(l2: dict[str, Any]) -> str:
    """An L2 result as the prompt (and the memory editor) shows it."""
    lines = [f"Analysis: {l2.get('analysis') or '(no analysis)'}", "Queued decisions:"]
    decisions = [str(d) for d in l2.get("decisions") or []]
    lines += [f"{i}. {d}" for i, d in enumerate(decisions, 1)] or ["(none)"]
    return "\n".join(lines)


def _first_line(text: str, limit: int = 100) -> str:
    line = (text or "").strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failed(node: Node) -> bool:
    """Whether a step's action failed: no valid action, not executed, an error or a negative reward."""
    return node.action is None or not node.executed or bool(node.error) or node.reward < 0


class SummarizedMemory(StepMemory):
    """Chain of Summarization: per-step L1 lines, an L2 analysis with decisions every `every` steps."""

    name = "summarized"
    entry_kinds = ("obs", "act", "note", "l1", "l2")

    def __init__(
        self,
        every: int = 10,
        *,
        l1: str = "llm",
        window: int | None = 1,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        if window is None:
            raise ConfigError("window must be a whole number >= 0 for summarized memory, not None")
        super().__init__(window, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)
        self.every = validate.number("every", every, minimum=1, integer=True)
        if l1 not in L1_MODES:
            raise ConfigError(f"l1 must be one of {', '.join(L1_MODES)}, not {l1!r}")
        self.l1 = l1

    def system_hint(self) -> str:
        return HINT

    # --- summaries -----------------------------------------------------------------------------
    def plain_l1(self, node: Node) -> str:
        """The L1 line without a model: the action and the observation's last line."""
        text = self.observation_text(node).strip().splitlines()
        last = text[-1].strip() if text else "(empty observation)"
        if node.parent_id is None:
            return f"start: {last}"
        return f"after `{node.action}`: {last}" if node.action else f"no valid action: {last}"

    def l1_of(self, node: Node) -> str:
        """The node's L1 line: the user's text, the model's, or the plain one."""
        edited = self.edits.get(f"l1:{node.id}")
        if edited is not None:
            return edited
        made = node.info.get("l1")
        if self.l1 == "llm" and isinstance(made, str):
            return made
        return self.plain_l1(node)

    def l2_of(self, node: Node) -> str | None:
        """The L2 text made at `node` (the user's if edited), or None."""
        edited = self.edits.get(f"l2:{node.id}")
        if edited is not None:
            return edited
        made = node.info.get("l2")
        return l2_text(made) if isinstance(made, dict) else None

    def l1_prompt(self, run: Run, node: Node) -> list[dict[str, str]]:
        action = node.action if node.parent_id is not None else "(start of the episode)"
        user = (
            f"Task: {run.task}\n\nAction: {action or '(no valid action)'}\n"
            f"Observation:\n{self.observation_text(node)}"
        )
        return [{"role": "system", "content": L1_SYSTEM}, {"role": "user", "content": user}]

    def l2_prompt(self, run: Run, path: list[Node], m: int) -> list[dict[str, str]]:
        first = max(0, m - self.every + 1)
        steps = path[first : m + 1]
        lines = [f"- step {n.depth}: {self.l1_of(n)}" for n in steps]
        executed = [n.action for n in steps if n.parent_id is not None and not failed(n)]
        fails = [
            f"- step {n.depth}: {n.action or '(an answer without a valid action)'}"
            + (f" ({_first_line(n.error)})" if n.error else "")
            for n in steps
            if n.parent_id is not None and failed(n)
        ]
        user = (
            f"Task: {run.task}\n\n{L1_HEADER[:-1]}, steps {first}-{m}:\n" + "\n".join(lines) + "\n\n"
            f"Executed actions: {', '.join(str(a) for a in executed) or 'none'}\n"
            + ("Failed actions:\n" + "\n".join(fails) if fails else "Failed actions: none")
            + f"\n\nCurrent observation:\nObservation:\n{self.observation_text(path[m])}"
        )
        return [{"role": "system", "content": L2_SYSTEM}, {"role": "user", "content": user}]

    def last_l2(self, path: list[Node]) -> int | None:
        """Path index of the latest L2 point (a multiple of `every`, > 0) at or before the cursor."""
        m = (len(path) - 1) // self.every * self.every
        return m if m > 0 else None

    async def aprepare(self, ctx: Any, path: list[Node]) -> None:
        """Make the L1 summaries and the L2 analysis the next prompt needs (recorded calls)."""
        run = ctx.tree
        budgets = getattr(ctx, "budgets", {}) or {}
        if run.used_up(budgets, MODEL_BUDGETS):
            return  # the budget is used up: the plain lines stand in
        m = self.last_l2(path)
        start = 0 if m is None else max(0, m - self.every + 1)
        if self.l1 == "llm":
            todo = [
                n
                for n in path[start:]
                if "l1" not in n.info and "l1_error" not in n.info and f"l1:{n.id}" not in self.edits
            ]
            if todo:
                results = await asyncio.gather(
                    *(ctx.call_model(self.l1_prompt(run, n), n, purpose="l1") for n in todo),
                    return_exceptions=True,
                )
                for node, result in zip(todo, results, strict=True):
                    self._keep(ctx, node, result, "l1", parse_l1)
        if m is None:
            return
        at = path[m]
        if "l2" in at.info or "l2_error" in at.info or f"l2:{at.id}" in self.edits:
            return
        try:
            result: Any = await ctx.call_model(self.l2_prompt(run, path, m), at, purpose="l2")
        except ModelError as exc:
            result = exc
        first = max(0, m - self.every + 1)
        self._keep(ctx, at, result, "l2", lambda text: {**parse_l2(text), "first": first, "last": m})

    def _keep(self, ctx: Any, node: Node, result: Any, key: str, parse: Any) -> None:
        info = dict(node.info)
        error = record_outcome(ctx.tree, node, result)
        if error is not None:
            info[f"{key}_error"] = error
        else:
            info[key] = parse(result.response)
        ctx.update_node(node, info=info, llm_calls=node.llm_calls)

    # --- prompt --------------------------------------------------------------------------------
    def blocks(self, path: list[Node]) -> tuple[list[dict[str, str]], list[str]]:
        """(the L2 and L1 messages before the window, the ids of the entries they show)."""
        n = len(path) - 1
        messages, shown = [], []
        start = 0
        for m in range(self.last_l2(path) or 0, 0, -self.every):  # the latest L2 that was made
            text = self.l2_of(path[m])
            if text is None:
                continue
            start = m + 1
            if f"l2:{path[m].id}" not in self.forgotten:
                header = L2_HEADER.format(first=max(0, m - self.every + 1), last=m)
                messages.append({"role": "user", "content": f"{header}\n{text}"})
                shown.append(f"l2:{path[m].id}")
            break
        lines = []
        for node in path[start : max(start, n - (self.window or 0))]:
            if f"l1:{node.id}" in self.forgotten:
                continue
            lines.append(f"- step {node.depth}: {self.l1_of(node)}")
            shown.append(f"l1:{node.id}")
        if lines:
            messages.append({"role": "user", "content": L1_HEADER + "\n" + "\n".join(lines)})
        return messages, shown

    def render(self, run: Run, path: list[Node]) -> list[dict[str, str]] | Prompt:
        history = super().render(run, path)
        used = list(self.last_used_edits)
        messages, shown = self.blocks(path)
        self.last_used_edits = used + [e for e in shown if e in self.edits]
        return Prompt.of(messages, history) if messages else history

    def history_tokens(self, run: Run, path: list[Node]) -> int:
        """Tokens of what `render` returns (without touching `last_used_edits`)."""
        return super().history_tokens(run, path) + self.count_tokens(self.blocks(path)[0])

    # --- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        state["every"] = self.every
        state["l1"] = self.l1
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.every = int(state.get("every", self.every))
        if state.get("l1") in L1_MODES:
            self.l1 = state["l1"]

    # --- entries -------------------------------------------------------------------------------
    def entries(self, run: Run, path: list[Node]) -> list[MemoryEntry]:
        """Notes, every L2 analysis on the path (newest first), the L1 lines, then the window's steps."""
        _, shown_ids = self.blocks(path)
        shown = set(shown_ids)
        steps = [
            e
            for e in super().entries(run, path)
            if e.kind == "note" or e.shown or e.pinned or e.forgotten or e.id in self.edits
        ]
        result = [e for e in steps if e.kind == "note"]
        for node in reversed(path):
            text = self.l2_of(node)
            if text is None:
                continue
            made = node.info.get("l2") or {}
            result.append(
                self._entry_for(
                    f"l2:{node.id}",
                    "analysis",
                    text,
                    node,
                    shown,
                    {
                        "by": "user" if f"l2:{node.id}" in self.edits else "llm",
                        "steps": f"{made.get('first', node.depth - self.every + 1)}-{node.depth}",
                        "detail": "by you" if f"l2:{node.id}" in self.edits else "by LLM",
                    },
                )
            )
        for node in path:
            entry_id = f"l1:{node.id}"
            by = "user" if entry_id in self.edits else "observation"
            if by == "observation" and self.l1 == "llm":
                by = "llm" if "l1" in node.info else "error" if "l1_error" in node.info else "pending"
            result.append(
                self._entry_for(
                    entry_id, "summary", self.l1_of(node), node, shown, {"by": by, "detail": L1_BY[by]}
                )
            )
        return result + [e for e in steps if e.kind != "note"]

    def _entry_for(
        self, entry_id: str, kind: str, text: str, node: Node, shown: set[str], extra: dict[str, Any]
    ) -> MemoryEntry:
        return MemoryEntry(
            id=entry_id,
            kind=kind,
            text=text,
            provenance="user" if entry_id in self.edits else "agent",
            node_id=node.id,
            pinned=entry_id in self.pinned,
            forgotten=entry_id in self.forgotten,
            shown=entry_id in shown,
            extra=extra,
        )
