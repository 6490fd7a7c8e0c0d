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

`window=4` steps by default (`None`: all steps); with `max_tokens` the window shrinks until the
history fits (never below one step). The paper found diffs do not always save tokens (BabyAI-Text
prompts got longer), so `full_equivalent_tokens` / `token_report` give what the same window would
cost with full observations.

User changes work as in every step policy (see `steps.py`), with two rules so the model can always
rebuild the state it was shown: an edited observation is shown in full (as "Observation:") and the
next step's diff is taken against the edited text; the step after a forgotten observation is shown
in full. An observation that is not the environment's (a malformed answer's error text, a memory
action's result) is shown in full, and so is the environment observation after it. Diffs are cached per node and recomputed only when the text they are based on changed.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..core.tree import Node
from .base import ChangeHook
from .steps import TokenCounter
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
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        super().__init__(window, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)
        # node id -> (node, text the diff was taken against, rendered message text)
        self._diff_cache: dict[int, tuple[Node, str, str]] = {}

    def system_hint(self) -> str:
        return DIFF_HINT

    def diff_for(self, path: list[Node], i: int) -> str:
        """The diff of `path[i]`'s observation against the previous one, as the user left both."""
        if i <= 0:
            return ""
        if self._is_diffed(path, i):
            return self._diff_obs(path, i, self._touched())[len(DIFF_PREFIX) :]
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
        node, prev = path[i], path[i - 1]
        if not (_env_state(node) and _env_state(prev)):
            return self._full_obs(node)  # an error text is no state to diff against, nor to diff
        base = prev.observation
        if prev.id in touched:
            prev_id = f"obs:{prev.id}"
            if prev_id in self.forgotten:
                return self._full_obs(node)  # the model has nothing to apply a diff to
            base = self.edits.get(prev_id, base)
        hit = self._diff_cache.get(node.id)
        if hit is not None and hit[0] is node and hit[1] == base:
            return hit[2]
        content = DIFF_PREFIX + observation_diff(base, node.observation)
        self._diff_cache[node.id] = (node, base, content)
        return content

    def _obs_extra(self, path: list[Node], i: int, start: int) -> dict[str, Any]:
        if i <= start or not self._is_diffed(path, i):
            return {"shown_as": "full"}
        return {"shown_as": "diff", "diff": self.diff_for(path, i)}
