"""Diff history (Piterbarg, Pinto, Fergus, ICML 2024): later observations as unified diffs.

The history shows the FULL text of the oldest observation in the window, then for each later step
the model's answer and a user message

    Observation diff:
    @@ -3 +3 @@
    -|..A..|
    +|.A...|

made by `observation_diff(previous, current)`: `difflib.unified_diff` over the stripped lines with
`n=0` (like `diff -U0`), the two file header lines dropped, hunk headers and `-`/`+` lines kept, and
"(no change)" when both observations are equal.

`window=4` steps by default (`None`: all steps). As in the paper, the window shrinks until the
PROMPT fits, down to zero steps (only the current observation, in full): the prompt is the system
prompt and the valid-actions note (the strategy tells the memory their size, `set_frame`) plus the
history, and it must fit `context_tokens` minus `reply_tokens` (room for the answer, 512) -
`context_tokens="model"` (default) is the session model's input context as litellm knows it
(`Model.context_window`; the offline models have none: no limit), an int sets it, None turns it
off. `max_tokens`, when set, also caps the history alone.

Per observation, a diff that is not shorter (in tokens) than the observation's full text is not
used: the observation is shown in full (`fallback=True`, default; the memory editor marks it
`shown_as: "full"`, `fallback: True`), and the next step's diff is taken against it as usual. The
paper found diffs do not always save tokens (BabyAI-Text prompts got longer; room-based text games
rewrite most of the text on every move), so `step_tokens(path, i)` gives each step's diff and full
token counts, `full_equivalent_tokens` / `token_report` what the same window would cost with full
observations, and the DiffView shows both.

User changes work as in every step policy (see `steps.py`), with two rules so the model can always
rebuild the state it was shown: an edited observation is shown in full (as "Observation:") and the
next step's diff is taken against the edited text; the step after a forgotten observation is shown
in full. An observation that is not the environment's (a malformed answer's error text, a memory
action's result) is shown in full, and so is the environment observation after it. Diffs are cached per node and recomputed only when the text they are based on changed.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..core.tree import Node, Run
from ..errors import ConfigError
from .base import ChangeHook
from .steps import Out, TokenCounter
from .window import WindowMemory

DIFF_PREFIX = "Observation diff:\n"
NO_CHANGE = "(no change)"

DIFF_HINT = (
    "After the first observation, each observation is shown as a unified diff against the previous one "
    "(`@@ -a,b +c,d @@` gives the changed line numbers, `-` lines were removed, `+` lines were added); "
    "`(no change)` means the observation is the same as before."
)


def observation_diff(previous: str, current: str) -> str:
    """`diff -U0` of two observations without file headers, or "(no change)"."""
    lines = list(
        difflib.unified_diff(previous.strip().splitlines(), current.strip().splitlines(), n=0, lineterm="")
    )
    if not lines:
        return NO_CHANGE
    return "\n".join(lines[2:])  # lines[0:2] are the "--- " / "+++ " file headers


def _env_state(node: Node) -> bool:
    """Whether the node's observation came from the environment (not an error or a memory action)."""
    return node.parent_id is None or node.executed


class DiffMemory(WindowMemory):
    """Diff history: the window's first observation in full, every later one as a diff."""

    name = "diff"
    diff = True

    def __init__(
        self,
        window: int | None = 4,
        *,
        max_tokens: int | None = None,
        context_tokens: int | str | None = "model",
        reply_tokens: int = 512,
        fallback: bool = True,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        super().__init__(window, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)
        self.context_tokens = _check_context(context_tokens)
        if isinstance(reply_tokens, bool) or not isinstance(reply_tokens, int) or reply_tokens < 0:
            raise ConfigError(f"reply_tokens must be a whole number >= 0, not {reply_tokens!r}")
        self.reply_tokens = reply_tokens
        self.fallback = bool(fallback)
        self._model: Any = None
        self._model_context: tuple[Any, int | None] | None = None  # (model, its context window)
        self._frame: list[str] = []
        # node id -> (node, text the diff was taken against, diff message, message shown)
        self._diff_cache: dict[int, tuple[Node, str, str, str]] = {}

    # --- the prompt budget -------------------------------------------------------------------------
    def use_model(self, model: Any) -> None:
        """The session's model, whose context window is the budget under `context_tokens="model"`."""
        self._model = model

    def set_frame(self, texts: list[str]) -> None:
        """The rest of the next prompt (system prompt, valid actions): its tokens count in the budget."""
        self._frame = [t for t in texts if t]  # counted only when a context limit applies

    def context_limit(self) -> int | None:
        """The prompt budget in tokens: `context_tokens`, or the model's context window."""
        if self.context_tokens != "model":
            return self.context_tokens  # type: ignore[return-value]
        model = self._model
        if model is None:
            return None
        if self._model_context is None or self._model_context[0] is not model:
            try:
                window = getattr(model, "context_window", None)
            except Exception:  # a model object that cannot say
                window = None
            self._model_context = (model, window if isinstance(window, int) and window > 0 else None)
        return self._model_context[1]

    def history_budget(self) -> int | None:
        """Tokens the history may take: `max_tokens`, and what the context leaves after the frame."""
        limits = [] if self.max_tokens is None else [self.max_tokens]
        context = self.context_limit()
        if context is not None:
            frame = sum(self._tokens(t) for t in self._frame)
            limits.append(context - self.reply_tokens - frame)
        return min(limits) if limits else None

    def _window_for(self, run: Run, path: list[Node], touched: set[int], diff: bool) -> int:
        """The widest window (<= `window`) whose history fits the budget; 0 if none does."""
        n = len(path) - 1
        k_max = n if self.window is None else min(self.window, n)
        budget = self.history_budget()
        if budget is None:
            return k_max
        budget -= self._notes_tokens()
        best, suffix = 0, 0
        for k in range(0, k_max + 1):
            if k:
                step = Out(diff=diff)
                self._emit_act(path[n - k + 1], touched, step)
                self._emit_obs(path, n - k + 1, False, touched, step)
                suffix += self.count_tokens(step.messages)
                if suffix > budget:
                    break  # wider windows only add steps
            prefix = Out(diff=diff)
            self._emit_prefix(run, path, n - k, touched, prefix)
            if suffix + self.count_tokens(prefix.messages) <= budget:
                best = k
        return best

    def state(self) -> dict[str, Any]:
        state = super().state()
        state.update(
            context_tokens=self.context_tokens, reply_tokens=self.reply_tokens, fallback=self.fallback
        )
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.context_tokens = _check_context(state.get("context_tokens", self.context_tokens))
        self.reply_tokens = int(state.get("reply_tokens", self.reply_tokens))
        self.fallback = bool(state.get("fallback", self.fallback))

    def system_hint(self) -> str:
        return DIFF_HINT

    def diff_for(self, path: list[Node], i: int) -> str:
        """The diff of `path[i]`'s observation against the previous one, as the user left both
        (also when the prompt shows the full text instead, see `step_tokens`)."""
        if i <= 0:
            return ""
        found = self._diff_pair(path, i, self._touched()) if self._is_diffed(path, i) else None
        if found is not None:
            return found[0][len(DIFF_PREFIX) :]
        return observation_diff(self.observation_text(path[i - 1]), self.observation_text(path[i]))

    def _is_diffed(self, path: list[Node], i: int) -> bool:
        """Whether step `i` inside the window is shown as a diff (see the rules above)."""
        node, prev = path[i], path[i - 1]
        return (
            _env_state(node)
            and _env_state(prev)
            and f"obs:{prev.id}" not in self.forgotten
            and f"obs:{node.id}" not in self.forgotten
            and f"obs:{node.id}" not in self.edits
        )

    def _diff_obs(self, path: list[Node], i: int, touched: set[int]) -> str:
        found = self._diff_pair(path, i, touched)
        return self._full_obs(path[i]) if found is None else found[1]

    def _diff_pair(self, path: list[Node], i: int, touched: set[int]) -> tuple[str, str] | None:
        """(the diff message, the message shown: the diff, or the full text when the diff is not
        shorter), or None when the observation cannot be a diff at all."""
        node, prev = path[i], path[i - 1]
        if not (_env_state(node) and _env_state(prev)):
            return None  # an error text is no state to diff against, nor to diff
        base = prev.observation
        if prev.id in touched:
            prev_id = f"obs:{prev.id}"
            if prev_id in self.forgotten:
                return None  # the model has nothing to apply a diff to
            base = self.edits.get(prev_id, base)
        hit = self._diff_cache.get(node.id)
        if hit is not None and hit[0] is node and hit[1] == base:
            shown = hit[3] if self.fallback else hit[2]
            return hit[2], shown
        content = DIFF_PREFIX + observation_diff(base, node.observation)
        full = self._full_obs(node)
        best = full if self._tokens(content) >= self._tokens(full) else content
        self._diff_cache[node.id] = (node, base, content, best)
        return content, (best if self.fallback else content)

    def step_tokens(self, path: list[Node], i: int) -> dict[str, Any]:
        """Step `i`'s observation: tokens as a diff and in full, the saving and how it is shown."""
        node = path[i]
        full = self._tokens(self._full_obs(node))
        found = self._diff_pair(path, i, self._touched()) if i > 0 and self._is_diffed(path, i) else None
        if found is None:
            return {"node_id": node.id, "depth": node.depth, "shown_as": "full", "full_tokens": full}
        diff = self._tokens(found[0])
        shown_as = "diff" if found[1] == found[0] else "full"
        out = {
            "node_id": node.id,
            "depth": node.depth,
            "shown_as": shown_as,
            "diff_tokens": diff,
            "full_tokens": full,
            "saved": full - diff,
        }
        if shown_as == "full":
            out["fallback"] = True  # the diff was not shorter than the text
        return out

    def _obs_extra(self, path: list[Node], i: int, start: int) -> dict[str, Any]:
        if i <= start or not self._is_diffed(path, i):
            return {"shown_as": "full"}
        info = self.step_tokens(path, i)
        extra = {k: info[k] for k in ("shown_as", "diff_tokens", "full_tokens", "saved") if k in info}
        if info.get("fallback"):
            extra["fallback"] = True
        return {**extra, "diff": self.diff_for(path, i)}


def _check_context(value: Any) -> int | str | None:
    if value is None or value == "model":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"context_tokens must be 'model', a positive whole number or None, not {value!r}")
    return value
