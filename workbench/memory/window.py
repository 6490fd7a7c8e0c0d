"""The `full` and `window` memory policies.

- `FullMemory()`: every step in full, from the first observation on.
- `WindowMemory(window=4)`: the last `window` steps plus the observation they start from (so the
  history holds window + 1 observations and `window` answers); `window=0` shows only the current
  observation. The root observation is shown only when it is the window's first observation or is
  pinned. `set_window(k)` changes it at runtime (recorded as change "state" on "config:window").

Both accept `max_tokens` (the window shrinks, never below one step, until the history fits) and
`token_counter`. Rendering, user edits, pins, forgets, notes and `last_used_edits` are described in
`steps.py`, which holds the machinery every step-based policy shares.
"""

from __future__ import annotations

from .base import ChangeHook
from .steps import StepMemory, TokenCounter, check_window


class FullMemory(StepMemory):
    """Every step in full, from the first observation on."""

    name = "full"

    def __init__(
        self,
        *,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        super().__init__(None, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)


class WindowMemory(StepMemory):
    """The last `window` steps in full (plus pinned entries); `set_window` changes it live."""

    name = "window"

    def __init__(
        self,
        window: int | None = 4,
        *,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        super().__init__(window, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)

    def set_window(self, window: int | None, *, provenance: str = "user") -> None:
        """Show the last `window` steps from the next prompt on (None: all steps)."""
        self.window = check_window(window)
        self._changed("config:window", "state", provenance, str(self.window))
