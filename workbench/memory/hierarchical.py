"""HiAgent (Hu et al., ACL 2025): hierarchical working memory organised by subgoals.

The model may start a subgoal with a line `Subgoal: <one line>` in its answer; the engine stores it
as `node.info["subgoal"]` on the node that answer made, and that node's step is the first step of
the subgoal's chunk. The path then reads as:

    steps before the first subgoal      verbatim, as in the `full` policy
    each finished subgoal k             ONE user message
                                          "Subgoal {k} (done): {text}\nObservation: {summary}"
    the current subgoal k               a user message "Subgoal {k} (current): {text}",
                                          then its steps verbatim (answer, "Observation:\n...")

Subgoals are numbered 1, 2, ... along the path. A subgoal is finished when a later one starts, or
when the user marked it done (`mark_done`); steps after a user's done mark and before the next
subgoal are verbatim again. The summary of a finished subgoal is, in order of preference: the
user's text (`edit("subgoal:<node_id>", text)`), then what `summarize` makes of it:

- `"last_observation"` (default, the paper's choice for fully observable tasks, no model call):
  the chunk's last observation;
- `"llm"` (the paper's choice otherwise): ONE call to the session's model per finished subgoal
  (purpose `summarize`, prompt `SUMMARY_SYSTEM`: one line, was the subgoal met?). The session makes
  it before the step that first needs it (`aprepare`, awaited at the start of `Session.astep` for
  the cursor's path), records the call on the chunk's last node (so it counts in the run's tokens,
  cost and budgets; with a token or cost budget used up no summary call is made) and stores the
  line in that node's `info["summaries"][<first node id>]`, so a resumed run keeps it. Until then
  (e.g. a search's other branches) the last observation stands in; a failed call is recorded in
  `info["summary_errors"]` and not retried;
- a callable taking the chunk's nodes (your own summariser; cached per chunk).

`set_summarize(mode)` switches between the first two at runtime (the memory editor's selector).

User API (entry id "subgoal:<node_id of the declaring node>"):
- `edit(id, text)` rewrites the summary; `pin(id)` shows the finished chunk in full, under
  "Subgoal {k} (done, shown in full): {text}"; `forget(id)` leaves a finished chunk out (for the
  current subgoal only its header line); `restore(id)` undoes all of these and the calls below.
- `add_subgoal(node_id, text)` declares (or renames) a subgoal starting at that node;
  `remove_subgoal(node_id)` makes the node's steps join the previous chunk.
- `mark_done(node_id, end_node_id)` finishes the subgoal after `end_node_id` (normally the cursor);
  `reopen(node_id)` undoes it. A mark whose end node is not on the rendered path is ignored.

`Action: retrieve(k)` or `retrieve(i, j)` is a memory action (no environment step): its observation
is the full text of subgoals i..j ("Subgoal {k} ({status}): {text}" and every "Action: ..." with its
"Observation:"). With `max_tokens` the history is cut from the front, oldest first; units are a
verbatim step, a whole finished subgoal, the current subgoal's header and each current step.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.tree import MODEL_BUDGETS, Node, Run
from ..errors import ConfigError
from .base import ChangeHook, MemoryEntry, record_outcome
from .steps import FORGOTTEN_TEXT, OBS_PREFIX, Out, StepMemory, TokenCounter

HINT = (
    "You may start a new subgoal with a line `Subgoal: <one line>` before your Thought; finished "
    "subgoals are summarised; `Action: retrieve(k)` shows subgoal k again in full."
)
SUMMARY_LABEL = "Summary:"
SUMMARY_TASK = "You summarise one finished subgoal"  # how the prompt starts (the demo model looks for it)
SUMMARY_SYSTEM = f"""{SUMMARY_TASK} of an agent working on a task, from the actions it took
and what it observed. In ONE line, say whether the subgoal was met and what the situation is now.
Answer with exactly one line that starts with `{SUMMARY_LABEL}`."""
SUMMARY_MODES = ("last_observation", "llm")
_RETRIEVE = re.compile(r"^\s*retrieve\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$", re.IGNORECASE)

Summarizer = Callable[[list[Node]], str]


@dataclass
class Chunk:
    """A stretch of the path: verbatim steps (`k == 0`) or the steps of subgoal `k`."""

    k: int
    start: int  # path index of the first node
    end: int  # path index of the last node (inclusive)
    node_id: int | None = None  # the node whose step declared the subgoal
    text: str = ""
    finished: bool = False
    closed: bool = False  # finished by the user's done mark

    @property
    def entry_id(self) -> str:
        return f"subgoal:{self.node_id}"


class HierarchicalMemory(StepMemory):
    """Finished subgoals shrink to one line each; the current subgoal stays in full."""

    name = "hierarchical"
    entry_kinds = ("obs", "act", "note", "subgoal")

    def __init__(
        self,
        summarize: str | Summarizer = "last_observation",
        *,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        _check_summarize(summarize)
        super().__init__(None, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)
        self.summarize = summarize
        self.user_subgoals: dict[int, str | None] = {}  # node id -> text (None: removed)
        self.done: dict[int, int] = {}  # subgoal node id -> last node id of the chunk
        self._summary_cache: dict[tuple[int, int], str] = {}

    def system_hint(self) -> str:
        return HINT

    # --- user API ------------------------------------------------------------------------------
    def add_subgoal(self, node_id: int, text: str, *, provenance: str = "user") -> None:
        """Declare (or rename) the subgoal whose chunk starts with node `node_id`."""
        self.user_subgoals[node_id] = text.strip()
        self._changed(f"subgoal:{node_id}", "add", provenance, text)

    def remove_subgoal(self, node_id: int, *, provenance: str = "user") -> None:
        """Node `node_id` no longer starts a subgoal; its steps join the chunk before it."""
        self.user_subgoals[node_id] = None
        self._changed(f"subgoal:{node_id}", "remove", provenance)

    def mark_done(self, node_id: int, end_node_id: int, *, provenance: str = "user") -> None:
        """Finish the subgoal declared at `node_id` after node `end_node_id`."""
        self.done[node_id] = end_node_id
        self._changed(f"subgoal:{node_id}", "done", provenance, str(end_node_id))

    def reopen(self, node_id: int, *, provenance: str = "user") -> None:
        self.done.pop(node_id, None)
        self._changed(f"subgoal:{node_id}", "reopen", provenance)

    def restore(self, entry_id: str, *, provenance: str = "user") -> None:
        kind, _, num = entry_id.partition(":")
        if kind == "subgoal" and num.isdigit():
            self.user_subgoals.pop(int(num), None)
            self.done.pop(int(num), None)
            self.pinned.discard(entry_id)
        super().restore(entry_id, provenance=provenance)

    def subgoals(self, path: list[Node]) -> list[Chunk]:
        """The subgoal chunks of `path`, numbered from 1."""
        return [c for c in self._chunks(path) if c.k]

    @property
    def summary_mode(self) -> str:
        """How finished subgoals are summarised: "last_observation", "llm" or "hook" (a callable)."""
        return "hook" if callable(self.summarize) else str(self.summarize)

    def set_summarize(self, mode: str, *, provenance: str = "user") -> None:
        """Summarise finished subgoals by "last_observation" or "llm" from the next prompt on."""
        if mode not in SUMMARY_MODES:
            raise ConfigError(f"summarize must be one of {', '.join(SUMMARY_MODES)}, not {mode!r}")
        self.summarize = mode
        self._changed("config:summarize", "state", provenance, mode)

    # --- the LLM summariser ----------------------------------------------------------------------
    def summary_prompt(self, run: Run, path: list[Node], chunk: Chunk) -> list[dict[str, str]]:
        """The messages of the summary call for a finished chunk."""
        steps = self._chunk_text(path, chunk).split("\n\n", 1)
        body = steps[1] if len(steps) > 1 else "(no steps)"
        user = f"Task: {run.task}\n\nSubgoal: {chunk.text}\n\nSteps:\n{body}"
        return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": user}]

    def _llm_summary(self, path: list[Node], chunk: Chunk) -> str | None:
        found = path[chunk.end].info.get("summaries") or {}
        text = found.get(str(path[chunk.start].id))
        return text if isinstance(text, str) else None

    async def aprepare(self, ctx: Any, path: list[Node]) -> None:
        """Make the LLM summaries the path's finished subgoals still lack (concurrently)."""
        if self.summarize != "llm" or len(path) < 2:
            return
        todo = []
        for chunk in self._chunks(path):
            end, first = path[chunk.end], str(path[chunk.start].id)
            if not chunk.finished or chunk.entry_id in self.edits or self._llm_summary(path, chunk):
                continue
            if first in (end.info.get("summary_errors") or {}):
                continue
            todo.append(chunk)
        budgets, run = getattr(ctx, "budgets", {}) or {}, ctx.tree
        if run.used_up(budgets, MODEL_BUDGETS):
            return  # the budget is used up: the last observation stands in
        if not todo:
            return
        calls = await asyncio.gather(
            *(
                ctx.call_model(self.summary_prompt(run, path, c), path[c.end], purpose="summarize")
                for c in todo
            ),
            return_exceptions=True,
        )
        for chunk, result in zip(todo, calls, strict=True):
            end, first = path[chunk.end], str(path[chunk.start].id)
            info = dict(end.info)
            error = record_outcome(run, end, result)
            if error is not None:
                info["summary_errors"] = {**(info.get("summary_errors") or {}), first: error}
            else:
                info["summaries"] = {**(info.get("summaries") or {}), first: parse_summary(result.response)}
            ctx.update_node(end, info=info, llm_calls=end.llm_calls)

    # --- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        state["subgoals"] = {str(k): v for k, v in self.user_subgoals.items()}
        state["done"] = {str(k): v for k, v in self.done.items()}
        if not callable(self.summarize):
            state["summarize"] = self.summarize
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        if state.get("summarize") in SUMMARY_MODES and not callable(self.summarize):
            self.summarize = state["summarize"]
        self.user_subgoals = {int(k): v for k, v in state.get("subgoals", {}).items()}
        self.done = {int(k): int(v) for k, v in state.get("done", {}).items()}

    # --- chunks --------------------------------------------------------------------------------
    def _subgoal_of(self, node: Node) -> str | None:
        text = self.user_subgoals[node.id] if node.id in self.user_subgoals else node.info.get("subgoal")
        return (text.strip() or None) if isinstance(text, str) else None

    def _starts(self, path: list[Node]) -> list[tuple[int, str]]:
        """(path index, text) of every node that starts a subgoal: one cheap pass over the path."""
        starts = []
        if self.user_subgoals:
            for i in range(1, len(path)):
                text = self._subgoal_of(path[i])
                if text is not None:
                    starts.append((i, text))
            return starts
        for i in range(1, len(path)):
            text = path[i].info.get("subgoal")
            if text and isinstance(text, str) and text.strip():
                starts.append((i, text.strip()))
        return starts

    def _chunks(self, path: list[Node]) -> list[Chunk]:
        n = len(path) - 1
        starts = self._starts(path)
        chunks = [Chunk(0, 0, starts[0][0] - 1 if starts else n)]
        for k, (i, text) in enumerate(starts, 1):
            end = starts[k][0] - 1 if k < len(starts) else n
            chunk = Chunk(k, i, end, path[i].id, text)
            chunks.append(chunk)
            stop = self.done.get(path[i].id)
            if stop is None:
                continue
            for j in range(i, end + 1):  # the user's done mark, if it is on this path
                if path[j].id == stop:
                    chunk.closed, chunk.end = True, j
                    if j < end:
                        chunks.append(Chunk(0, j + 1, end))
                    break
        for chunk in chunks:
            chunk.finished = chunk.k > 0 and (chunk.closed or chunk is not chunks[-1])
        return chunks

    def _summary(self, path: list[Node], chunk: Chunk, out: Out | None) -> str:
        edited = self.edits.get(chunk.entry_id)
        if edited is not None:
            return edited
        last = path[chunk.end]
        if callable(self.summarize):
            key = (path[chunk.start].id, last.id)
            if key not in self._summary_cache:
                self._summary_cache[key] = self.summarize(path[chunk.start : chunk.end + 1])
            return self._summary_cache[key]
        if self.summarize == "llm" and (made := self._llm_summary(path, chunk)) is not None:
            return made
        obs_id = f"obs:{last.id}"
        if obs_id in self.forgotten:
            return FORGOTTEN_TEXT
        if obs_id in self.edits and out is not None:
            out.used.append(obs_id)
        return self.edits.get(obs_id, last.observation)

    def _user_touched(self, chunk: Chunk) -> bool:
        return (
            chunk.node_id in self.user_subgoals
            or chunk.node_id in self.done
            or chunk.entry_id in self.edits
            or chunk.entry_id in self.pinned
        )

    # --- rendering -----------------------------------------------------------------------------
    def _render(self, run: Run, path: list[Node], *, track: bool) -> Out:
        touched = self._touched()
        out = Out(track=track)
        units: list[tuple[int, int, int]] = []  # where each unit starts in messages/used/shown

        def unit() -> None:
            units.append((len(out.messages), len(out.used), len(out.shown or ())))

        for chunk in self._chunks(path):
            if chunk.k == 0:
                for i in range(chunk.start, chunk.end + 1):
                    unit()
                    self._emit_step(path, i, touched, out)
            elif chunk.finished:
                unit()
                self._emit_finished(path, chunk, touched, out)
            else:
                unit()
                if chunk.entry_id not in self.forgotten:
                    out.add("user", f"Subgoal {chunk.k} (current): {chunk.text}")
                    out.mark(chunk.entry_id, self._user_touched(chunk))
                for i in range(chunk.start, chunk.end + 1):
                    unit()
                    self._emit_step(path, i, touched, out)
        if self.max_tokens is not None:
            self._truncate(out, units)
        self._insert_notes(out)
        return out

    def _emit_step(self, path: list[Node], i: int, touched: set[int], out: Out) -> None:
        if i > 0:
            self._emit_act(path[i], touched, out)
        self._emit_obs(path, i, True, touched, out)

    def _emit_finished(self, path: list[Node], chunk: Chunk, touched: set[int], out: Out) -> None:
        if chunk.entry_id in self.forgotten:
            return
        if chunk.entry_id in self.pinned:  # force-expanded
            out.add("user", f"Subgoal {chunk.k} (done, shown in full): {chunk.text}")
            out.mark(chunk.entry_id, self._user_touched(chunk))
            for i in range(chunk.start, chunk.end + 1):
                self._emit_step(path, i, touched, out)
            return
        at = len(out.used)
        summary = self._summary(path, chunk, out)
        out.add("user", f"Subgoal {chunk.k} (done): {chunk.text}\nObservation: {summary}")
        if self._user_touched(chunk):
            out.used.insert(at, chunk.entry_id)
        if out.shown is not None:
            out.shown.append(chunk.entry_id)
        if self.pinned:  # pinned steps inside a summarised subgoal are still shown
            for i in range(chunk.start, chunk.end + 1):
                node = path[i]
                if f"act:{node.id}" in self.pinned:
                    self._emit_act(node, touched, out)
                if f"obs:{node.id}" in self.pinned:
                    self._emit_obs(path, i, True, touched, out)

    def _truncate(self, out: Out, units: list[tuple[int, int, int]]) -> None:
        """Drop whole units from the front until the history (notes included) fits `max_tokens`."""
        assert self.max_tokens is not None
        budget = self.max_tokens - self._notes_tokens()
        bounds = [u[0] for u in units] + [len(out.messages)]
        keep_from, total = len(units) - 1, 0
        for u in range(len(units) - 1, -1, -1):
            size = self.count_tokens(out.messages[bounds[u] : bounds[u + 1]])
            if total + size > budget and u < len(units) - 1:
                break
            total += size
            keep_from = u
        if keep_from > 0:
            m, used, shown = units[keep_from]
            out.messages = out.messages[m:]
            out.used = out.used[used:]
            if out.shown is not None:
                out.shown = out.shown[shown:]

    # --- memory actions ------------------------------------------------------------------------
    def handle_action(self, action: str, run: Run, path: list[Node]) -> str | None:
        match = _RETRIEVE.match(action or "")
        if match is None:
            return None
        first = int(match.group(1))
        last = int(match.group(2) or first)
        first, last = min(first, last), max(first, last)
        chunks = self.subgoals(path)
        if not chunks:
            return "retrieve: there are no subgoals yet, so there is nothing to retrieve."
        if first < 1 or last > len(chunks):
            return f"retrieve: there is no subgoal {last if last > len(chunks) else first}; subgoals are numbered 1 to {len(chunks)}."
        return "\n\n".join(self._chunk_text(path, c) for c in chunks[first - 1 : last])

    def _chunk_text(self, path: list[Node], chunk: Chunk) -> str:
        status = "done" if chunk.finished else "current"
        parts = [f"Subgoal {chunk.k} ({status}): {chunk.text}"]
        for i in range(chunk.start, chunk.end + 1):
            node = path[i]
            lines = []
            act_id, obs_id = f"act:{node.id}", f"obs:{node.id}"
            if act_id not in self.forgotten:
                action = self.edits.get(act_id, node.action or node.raw)
                if action:
                    lines.append(f"Action: {action}")
            observation = FORGOTTEN_TEXT if obs_id in self.forgotten else self.observation_text(node)
            lines.append(OBS_PREFIX + observation)
            parts.append("\n".join(lines))
        return "\n\n".join(parts)

    # --- entries -------------------------------------------------------------------------------
    def entries(self, run: Run, path: list[Node]) -> list[MemoryEntry]:
        shown = set(self._render(run, path, track=True).shown or ())
        result = self._note_entries(shown)
        for chunk in self._chunks(path):
            if chunk.k:
                result.append(self._subgoal_entry(path, chunk, shown))
            for i in range(chunk.start, chunk.end + 1):
                act = self._act_entry(path[i], shown)
                if act is not None:
                    result.append(act)
                result.append(self._obs_entry(path, i, shown))
        return result

    def _summary_by(self, path: list[Node], chunk: Chunk, edited: bool) -> str:
        """Who wrote a subgoal's summary: user, hook, llm, pending (llm, not made yet), last_observation."""
        if not chunk.finished:
            return ""
        if edited:
            return "user"
        if callable(self.summarize):
            return "hook"
        if self.summarize == "llm":
            return "llm" if self._llm_summary(path, chunk) is not None else "pending"
        return "last_observation"

    def _subgoal_entry(self, path: list[Node], chunk: Chunk, shown: set[str]) -> MemoryEntry:
        entry_id = chunk.entry_id
        user_text = chunk.node_id in self.user_subgoals
        edited = entry_id in self.edits
        text = self._summary(path, chunk, None) if chunk.finished else self.edits.get(entry_id, "")
        return MemoryEntry(
            id=entry_id,
            kind="subgoal",
            text=text,
            provenance="user" if user_text or edited else "agent",
            node_id=chunk.node_id,
            pinned=entry_id in self.pinned,
            forgotten=entry_id in self.forgotten,
            shown=entry_id in shown,
            extra={
                "k": chunk.k,
                "subgoal": chunk.text,
                "status": "done" if chunk.finished else "current",
                "marked_done": chunk.closed,
                "first_node": path[chunk.start].id,
                "last_node": path[chunk.end].id,
                "expanded": chunk.finished and entry_id in self.pinned,
                "summary_by": self._summary_by(path, chunk, edited),
            },
        )


def parse_summary(text: str) -> str:
    """The one line after `Summary:` (else the answer's first non-empty line)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith(SUMMARY_LABEL.lower()):
            return line[len(SUMMARY_LABEL) :].strip() or "(empty summary)"
    return lines[0] if lines else "(empty summary)"


def _check_summarize(summarize: Any) -> None:
    if summarize not in SUMMARY_MODES and not callable(summarize):
        raise ConfigError(
            f"summarize must be one of {', '.join(SUMMARY_MODES)} or a callable (nodes) -> str, "
            f"not {summarize!r}"
        )
