"""The step-rendering machinery shared by the `full`, `window`, `diff` and `hierarchical` policies.

`StepMemory` turns the path root..cursor into messages (format in `base.py`): a user message
"Observation:\n<obs>" for the oldest observation shown, then, per later step, an assistant message
(the step's raw answer; omitted when the node has no raw answer, e.g. a user-made node) and a user
message "Observation:\n<obs>". It shows the last `window` steps (None: all) plus the observation
they start from, and with `max_tokens` shrinks the window (never below one step) until it fits.

User changes (entry ids "obs:<node_id>", "act:<node_id>", "note:<n>"):
- edited entry: its edited text replaces the original;
- pinned entry: always shown; pinned entries outside the window come first, in path order;
- forgotten observation: shown as "Observation:\n(forgotten by the user)" so the step keeps its
  shape; a forgotten answer: its assistant message is left out;
- notes: each non-forgotten note is a user message "Note from the user:\n<text>" right after the
  first message of the history.

After `render`, `last_used_edits` lists the ids of the shown notes, then (in message order) those
of the edited or pinned entries whose text made it into the messages.

Token counts use `token_counter` (a `str -> int` callable) or `workbench.llm.tokens.count_tokens`,
plus `MESSAGE_OVERHEAD` tokens per message; counts are cached per message text. Rendered
observation texts are cached per node (nodes never change their observation once made).

Sharing. When no observation or answer is edited, pinned or forgotten (the common case), `render`
returns a `workbench.core.prompt.Prompt` instead of a new list: each step's messages (its answer and
its observation) are made once, appended to one list per branch of the tree (the "spine"), and
every prompt on that branch views a slice of it. So a step costs the same at step 10,000 as at
step 10 under window or diff memory, and each call's prompt costs only its new messages in memory
under any policy. With user changes in play the messages are built afresh, as a plain list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.prompt import Prompt
from ..core.tree import Node, Run
from ..errors import ConfigError
from .base import ChangeHook, Memory, MemoryEntry

OBS_PREFIX = "Observation:\n"
NOTE_PREFIX = "Note from the user:\n"
FORGOTTEN_TEXT = "(forgotten by the user)"
MESSAGE_OVERHEAD = 4  # tokens a chat message costs beyond its text (role, separators)

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """About four characters a token: the fallback when no tokenizer is available."""
    return len(text) // 4


def default_token_counter() -> TokenCounter:
    """`workbench.llm.tokens.count_tokens`, or `approx_tokens` when that module is missing."""
    try:
        from ..llm.tokens import count_tokens
    except ImportError:
        return approx_tokens
    return count_tokens


def check_window(window: Any, *, allow_none: bool = True) -> int | None:
    if window is None and allow_none:
        return None
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise ConfigError(f"window must be a whole number >= 0 or None, not {window!r}")
    return window


def check_max_tokens(max_tokens: Any) -> int | None:
    if max_tokens is None:
        return None
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
        raise ConfigError(f"max_tokens must be a positive whole number or None, not {max_tokens!r}")
    return max_tokens


class Out:
    """Messages being built, plus which user-touched entries they used and (optionally) shown ids."""

    __slots__ = ("messages", "used", "shown", "diff", "pending")

    def __init__(self, *, track: bool = False, diff: bool = False) -> None:
        self.messages: list[dict[str, Any]] = []
        self.used: list[str] = []
        self.shown: list[str] | None = [] if track else None
        self.diff = diff
        self.pending: Node | None = None  # a node whose native tool calls await their results

    def add(self, role: str, content: str) -> None:
        self.settle()
        self.messages.append({"role": role, "content": content})

    def mark(self, entry_id: str, used: bool = False) -> None:
        """Entry `entry_id` is in the prompt; `used`: as the user edited or pinned it."""
        if used:
            self.used.append(entry_id)
        if self.shown is not None:
            self.shown.append(entry_id)

    def add_tool_calls(self, node: Node, text: str) -> None:
        """An assistant message with `node`'s native tool calls; `add_results` must follow it."""
        self.settle()
        calls = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in node.info["tool_calls"]
        ]
        self.messages.append({"role": "assistant", "content": text or None, "tool_calls": calls})
        self.pending = node

    def add_results(self, node: Node, edited: str | None) -> None:
        """One tool message per call of `node` (a user's edit of the whole observation goes first)."""
        for i, c in enumerate(node.info["tool_calls"]):
            content = c["result"] if edited is None else (edited if i == 0 else "(see the first result)")
            self.messages.append({"role": "tool", "tool_call_id": c["id"], "content": content})
        self.pending = None

    def settle(self) -> None:
        """Tool calls left without results (their observation is not shown) become plain text."""
        node, self.pending = self.pending, None
        if node is not None:
            last = self.messages[-1]
            text = last.get("content") or ""
            self.messages[-1] = {
                "role": "assistant",
                "content": (text + "\n" if text else "") + (node.action or ""),
            }


class StepMemory(Memory):
    """Shared machinery: renders steps of a path, with edits, pins, forgets, notes and a window."""

    name = "full"
    diff = False  # DiffMemory shows later observations as diffs

    def __init__(
        self,
        window: int | None = None,
        *,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        super().__init__(on_change)
        self.window = check_window(window)
        self.max_tokens = check_max_tokens(max_tokens)
        self.token_counter = token_counter
        self.last_used_edits: list[str] = []
        self._obs_cache: dict[int, tuple[Node, str]] = {}
        self._token_cache: dict[str, int] = {}
        self._default_counter: TokenCounter | None = None
        self._counted_with: TokenCounter | None = None
        # node id -> (node, branch list of step messages, ends): see `_spine`
        self._spines: dict[int, tuple[Node, list[dict[str, Any]], list[int]]] = {}
        self._spines_for: tuple[Any, ...] = ()
        self._first: dict[int, tuple[Node, str, list[dict[str, Any]]]] = {}  # node id -> [full obs message]
        self._notes_shown: tuple[tuple[str, ...], list[dict[str, Any]]] = ((), [])

    # --- public API ------------------------------------------------------------------------------
    def render(self, run: Run, path: list[Node]) -> list[dict[str, str]] | Prompt:
        """The history for a prompt from `path[-1]`: a shared `Prompt` when nothing is user-touched."""
        if type(self)._render is StepMemory._render and not self._touched():
            return self._shared_render(run, path)
        out = self._render(run, path, track=False)
        self.last_used_edits = out.used
        return out.messages

    def entries(self, run: Run, path: list[Node]) -> list[MemoryEntry]:
        shown = set(self._render(run, path, track=True).shown or ())
        start = len(path) - 1 - self._window_for(run, path, self._touched(), self.diff)
        result = self._note_entries(shown)
        for i, node in enumerate(path):
            act = self._act_entry(node, shown)
            if act is not None:
                result.append(act)
            result.append(self._obs_entry(path, i, shown, self._obs_extra(path, i, start)))
        return result

    def count_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Prompt tokens of `messages` (per-message overhead included), cached per message text."""
        total = 0
        for m in messages:
            total += self._tokens(m.get("content") or "")
            for c in m.get("tool_calls") or ():
                total += self._tokens(c["function"]["name"] + c["function"]["arguments"])
        return total

    def history_tokens(self, run: Run, path: list[Node]) -> int:
        """Tokens of the history `render` would return (without touching `last_used_edits`)."""
        return self.count_tokens(self._render(run, path, track=False).messages)

    def full_equivalent_tokens(self, run: Run, path: list[Node]) -> int:
        """Tokens the same window would take with every observation in full (no diffs)."""
        touched = self._touched()
        out = Out(diff=False)
        self._build(run, path, self._window_for(run, path, touched, self.diff), touched, out)
        return self.count_tokens(out.messages)

    def token_report(self, run: Run, path: list[Node]) -> dict[str, Any]:
        """Window used and tokens as rendered vs with full observations: does the policy pay?"""
        touched = self._touched()
        k = self._window_for(run, path, touched, self.diff)
        tokens = self.history_tokens(run, path)
        full = self.full_equivalent_tokens(run, path)
        return {
            "policy": self.name,
            "window": k,
            "tokens": tokens,
            "full_tokens": full,
            "saved": full - tokens,
        }

    def state(self) -> dict[str, Any]:
        state = super().state()
        state["window"] = self.window
        state["max_tokens"] = self.max_tokens
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.window = check_window(state.get("window", self.window))
        self.max_tokens = check_max_tokens(state.get("max_tokens", self.max_tokens))

    def observation_text(self, node: Node) -> str:
        """The observation as the user left it: the edited text if there is one."""
        return self.edits.get(f"obs:{node.id}", node.observation)

    # --- rendering -----------------------------------------------------------------------------
    def _shared_render(self, run: Run, path: list[Node]) -> Prompt:
        """What `_render` gives when nothing is touched, as views on the branch's shared messages."""
        n = len(path) - 1
        start = n - self._window_for(run, path, set(), self.diff)
        backing, ends = self._spine(path)
        items = self._note_items()
        self.last_used_edits = [entry_id for entry_id, _, _ in items]
        return Prompt(
            (
                (first := self._first_message(path[start]), 0, len(first)),
                (notes := self._note_messages(items), 0, len(notes)),
                (backing, ends[start], ends[n]),
            )
        )

    def _spine(self, path: list[Node]) -> tuple[list[dict[str, Any]], list[int]]:
        """(messages, ends) of the branch through `path[-1]`: the messages of the steps at depth
        1..d are `messages[:ends[d]]`, each step's (its answer, its observation) made once.

        A step extends its parent's lists in place when they end at the parent (the usual case); a
        new branch copies the prefix it shares. Lists are only ever appended to, so every prompt made
        earlier still views what it was made of."""
        key = self._spine_key()
        if key != self._spines_for:  # a setting that changes how steps render: start again
            self._spines.clear()
            self._spines_for = key
        n = len(path) - 1
        i, hit = n, None
        while i > 0:
            hit = self._spines.get(path[i].id)
            if hit is not None and hit[0] is path[i]:
                break
            i -= 1
        backing, ends = (hit[1], hit[2]) if i > 0 and hit is not None else ([], [0])
        for j in range(i + 1, n + 1):
            if len(ends) != j or len(backing) != ends[j - 1]:  # another branch grew these lists
                backing, ends = backing[: ends[j - 1]], ends[:j]
            backing.extend(self._step_messages(path, j))
            ends.append(len(backing))
            self._spines[path[j].id] = (path[j], backing, ends)
        return backing, ends

    def _spine_key(self) -> tuple[Any, ...]:
        """The settings a step's messages depend on (beyond the nodes): kept spines match them."""
        return (self.diff, getattr(self, "fallback", None), self._counter())

    def _step_messages(self, path: list[Node], i: int) -> list[dict[str, Any]]:
        """Step `i`'s answer and observation as `_build` emits them when nothing is touched."""
        out = Out(diff=self.diff)
        self._emit_act(path[i], set(), out)
        self._emit_obs(path, i, False, set(), out)
        out.settle()
        return out.messages

    def _first_message(self, node: Node) -> list[dict[str, Any]]:
        """[the window's first observation in full], one shared list per node."""
        content = self._full_obs(node)
        hit = self._first.get(node.id)
        if hit is not None and hit[0] is node and hit[1] is content:
            return hit[2]
        first = [{"role": "user", "content": content}]
        self._first[node.id] = (node, content, first)
        return first

    def _note_messages(self, items: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
        texts = tuple(text for _, text, _ in items)
        if texts != self._notes_shown[0]:
            self._notes_shown = (texts, [{"role": "user", "content": NOTE_PREFIX + t} for t in texts])
        return self._notes_shown[1]

    def _render(self, run: Run, path: list[Node], *, track: bool) -> Out:
        touched = self._touched()
        out = Out(track=track, diff=self.diff)
        self._build(run, path, self._window_for(run, path, touched, self.diff), touched, out)
        return out

    def _build(self, run: Run, path: list[Node], k: int, touched: set[int], out: Out) -> None:
        n = len(path) - 1
        start = n - k
        self._emit_prefix(run, path, start, touched, out)
        for i in range(start + 1, n + 1):
            self._emit_act(path[i], touched, out)
            self._emit_obs(path, i, False, touched, out)
        out.settle()
        self._insert_notes(out)

    def _emit_prefix(self, run: Run, path: list[Node], start: int, touched: set[int], out: Out) -> None:
        """Pinned entries before the window (in path order), then the window's first observation."""
        if self.pinned:
            for i in self._pinned_indices(run, path, start):
                node = path[i]
                if f"act:{node.id}" in self.pinned:
                    self._emit_act(node, touched, out)
                if i < start and f"obs:{node.id}" in self.pinned:
                    self._emit_obs(path, i, True, touched, out)
        self._emit_obs(path, start, True, touched, out)

    def _pinned_indices(self, run: Run, path: list[Node], last: int) -> list[int]:
        """Path indices <= `last` of nodes with a pinned observation or answer."""
        found: set[int] = set()
        for entry_id in self.pinned:
            kind, _, num = entry_id.partition(":")
            if kind not in ("obs", "act") or not num.isdigit():
                continue
            node = run.nodes.get(int(num))
            if (
                node is not None
                and node.depth <= last
                and node.depth < len(path)
                and path[node.depth] is node
            ):
                found.add(node.depth)
        return sorted(found)

    def _touched(self) -> set[int]:
        """Node ids with an edited, pinned or forgotten observation or answer (the slow path)."""
        ids: set[int] = set()
        for group in (self.edits, self.pinned, self.forgotten):
            for entry_id in group:
                kind, _, num = entry_id.partition(":")
                if kind in ("obs", "act") and num.isdigit():
                    ids.add(int(num))
        return ids

    def _emit_act(self, node: Node, touched: set[int], out: Out) -> None:
        if node.info.get("tool_format") == "native" and f"act:{node.id}" not in self.forgotten:
            out.add_tool_calls(node, self.edits.get(f"act:{node.id}", node.raw))
            entry_id = f"act:{node.id}"
            out.mark(entry_id, entry_id in self.edits or entry_id in self.pinned)
            return
        if node.id not in touched:
            if node.raw:
                out.add("assistant", node.raw)
                out.mark(f"act:{node.id}")
            return
        entry_id = f"act:{node.id}"
        if entry_id in self.forgotten:
            return
        text = self.edits.get(entry_id, node.raw)
        if not text:
            return
        out.add("assistant", text)
        out.mark(entry_id, entry_id in self.edits or entry_id in self.pinned)

    def _emit_obs(self, path: list[Node], i: int, full: bool, touched: set[int], out: Out) -> None:
        node = path[i]
        if out.pending is node and f"obs:{node.id}" not in self.forgotten:
            edited = self.edits.get(f"obs:{node.id}")
            out.add_results(node, edited)
            out.mark(f"obs:{node.id}", edited is not None or f"obs:{node.id}" in self.pinned)
            return
        if node.id not in touched:
            out.add(
                "user", self._full_obs(node) if full or not out.diff else self._diff_obs(path, i, touched)
            )
            out.mark(f"obs:{node.id}")
            return
        entry_id = f"obs:{node.id}"
        if entry_id in self.forgotten:
            out.add("user", OBS_PREFIX + FORGOTTEN_TEXT)
            return
        edited = self.edits.get(entry_id)
        if edited is not None:
            out.add("user", OBS_PREFIX + edited)  # a user's rewrite is always shown in full
        elif full or not out.diff:
            out.add("user", self._full_obs(node))
        else:
            out.add("user", self._diff_obs(path, i, touched))
        out.mark(entry_id, edited is not None or entry_id in self.pinned)

    def _full_obs(self, node: Node) -> str:
        hit = self._obs_cache.get(node.id)
        if hit is not None and hit[0] is node:
            return hit[1]
        content = OBS_PREFIX + node.observation
        self._obs_cache[node.id] = (node, content)
        return content

    def _diff_obs(self, path: list[Node], i: int, touched: set[int]) -> str:
        """Overridden by DiffMemory; plain policies show every observation in full."""
        return self._full_obs(path[i])

    def _note_items(self) -> list[tuple[str, str, bool]]:
        """(entry id, text, edited) of every note that is not forgotten."""
        items = []
        for n, text in enumerate(self.notes, 1):
            entry_id = f"note:{n}"
            if entry_id not in self.forgotten:
                edited = self.edits.get(entry_id)
                items.append((entry_id, text if edited is None else edited, edited is not None))
        return items

    def _insert_notes(self, out: Out) -> None:
        if not self.notes:
            return
        at = min(1, len(out.messages))
        items = self._note_items()
        out.messages[at:at] = [{"role": "user", "content": NOTE_PREFIX + text} for _, text, _ in items]
        out.used[:0] = [entry_id for entry_id, _, _ in items]
        if out.shown is not None:
            out.shown.extend(entry_id for entry_id, _, _ in items)

    # --- token budget --------------------------------------------------------------------------
    def _counter(self) -> TokenCounter:
        counter = self.token_counter
        if counter is None:
            if self._default_counter is None:
                self._default_counter = default_token_counter()
            counter = self._default_counter
        if counter is not self._counted_with:  # counts from another counter are stale
            self._token_cache.clear()
            self._counted_with = counter
        return counter

    def _tokens(self, content: str) -> int:
        counter = self._counter()
        count = self._token_cache.get(content)
        if count is None:
            count = counter(content) + MESSAGE_OVERHEAD
            self._token_cache[content] = count
        return count

    def _notes_tokens(self) -> int:
        return sum(self._tokens(NOTE_PREFIX + text) for _, text, _ in self._note_items())

    def _window_for(self, run: Run, path: list[Node], touched: set[int], diff: bool) -> int:
        """Steps to show: the window, shrunk under `max_tokens` (never below one step)."""
        n = len(path) - 1
        k_max = n if self.window is None else min(self.window, n)
        if self.max_tokens is None or k_max <= 1:
            return k_max
        fixed = self._notes_tokens()
        best, suffix = 1, 0
        for k in range(1, k_max + 1):
            step = Out(diff=diff)
            self._emit_act(path[n - k + 1], touched, step)
            self._emit_obs(path, n - k + 1, False, touched, step)
            suffix += self.count_tokens(step.messages)
            if fixed + suffix > self.max_tokens:
                break  # wider windows only add steps
            prefix = Out(diff=diff)
            self._emit_prefix(run, path, n - k, touched, prefix)
            if fixed + suffix + self.count_tokens(prefix.messages) <= self.max_tokens:
                best = k
        return best

    # --- entries -------------------------------------------------------------------------------
    def _note_entries(self, shown: set[str]) -> list[MemoryEntry]:
        entries = []
        for n, text in enumerate(self.notes, 1):
            entry_id = f"note:{n}"
            entries.append(
                MemoryEntry(
                    id=entry_id,
                    kind="note",
                    text=self.edits.get(entry_id, text),
                    provenance="user",
                    pinned=entry_id in self.pinned,
                    forgotten=entry_id in self.forgotten,
                    shown=entry_id in shown,
                )
            )
        return entries

    def _act_entry(self, node: Node, shown: set[str]) -> MemoryEntry | None:
        entry_id = f"act:{node.id}"
        edited = self.edits.get(entry_id)
        if not node.raw and edited is None:
            return None
        user = edited is not None or node.provenance == "user"
        return MemoryEntry(
            id=entry_id,
            kind="action",
            text=node.raw if edited is None else edited,
            provenance="user" if user else "agent",
            node_id=node.id,
            pinned=entry_id in self.pinned,
            forgotten=entry_id in self.forgotten,
            shown=entry_id in shown,
            extra={"action": node.action, **({"original": node.raw} if edited is not None else {})},
        )

    def _obs_entry(
        self, path: list[Node], i: int, shown: set[str], extra: dict[str, Any] | None = None
    ) -> MemoryEntry:
        node = path[i]
        entry_id = f"obs:{node.id}"
        edited = self.edits.get(entry_id)
        extra = {**({"original": node.observation} if edited is not None else {}), **(extra or {})}
        return MemoryEntry(
            id=entry_id,
            kind="observation",
            text=node.observation if edited is None else edited,
            provenance="env" if edited is None else "user",
            node_id=node.id,
            pinned=entry_id in self.pinned,
            forgotten=entry_id in self.forgotten,
            shown=entry_id in shown,
            extra=extra,
        )

    def _obs_extra(self, path: list[Node], i: int, start: int) -> dict[str, Any]:
        """Extra facts for the memory editor about how observation `i` is shown."""
        return {}
