"""The base of every search strategy: state kept in the tree, rounds, budgets and the commit.

One `session.step()` of a search session is ONE expansion (best-first/BFS/DFS/A*: one node popped,
realized, scored and given children; MCTS: one select-expand-evaluate-simulate-backup iteration),
so a search is stepped, paused, resumed and stored like a linear run.

Everything the search needs is in the tree, so a stored search resumes (`Session.resume`) and the
user's steering between steps is honoured:

- per node: `status`, `value`, `visits` and `info` (`expanded_at`: the number of the expansion
  that grew it, 0 for a scope opened without scoring;
  `batch`: the proposal batch it came from; `pinned`; `value_by` ("user" after `set_value`);
  strategy keys such as A*'s `g`/`h`/`f` or MCTS's `mcts_expanded`, `reflection`).
- per run: `root.info["search"]` = {strategy, round, loop_round (rounds in this loop), scope,
  expansions (this round), total, seconds, committed, reason, final (the loop is over), batches,
  callables}.

Steering: pinned nodes are selected first (the pin is used up when selected); a pruned node and
its subtree are never selected nor committed; a value set by the user replaces the strategy's
estimate (and is never overwritten); destructive actions are never executed.

Rounds. A search grows the subtree of its *scope* (the cursor when it started) and stops on the
threshold (best-first/BFS/DFS: any scored state; A* and MCTS: a terminal, whose value is its
outcome), an empty frontier, or a budget: `max_expansions`, `max_seconds` (wall time spent in
steps), and the session's `max_steps` (nodes), `max_tokens`, `max_cost` (checked before every
model call: see `common.BudgetGuard`). Then it commits: the cursor moves to the best node (a
successful terminal first, then the highest value, then the shallowest; MCTS: the deeper).

The outer loop (`rounds`). Koh et al.'s agent searches again from the committed state until the
episode ends; here `rounds=N` runs up to N rounds in a row, each from the node the previous one
committed, and `rounds="terminal"` runs them until a terminal node is committed (the paper's loop).
The loop ends early on success, on a session budget (`max_steps`, `max_tokens`, `max_cost`), or on
a round that could not move past its scope. Only then is `tree.outcome` set, `RunFinished`
published and `finished()` true. The default is `rounds=1`: one `run()` is one search to inspect,
as before. `session.rewind(node_id)` ("resume from here") starts a new loop of rounds below any
node, the committed one included, with fresh budgets; rewinding to a pruned node is refused
(`session.unprune(node_id)` first).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...core import events as ev
from ...core.tree import BUDGETS, LLMCall, Node
from ...errors import ConfigError
from ..base import Strategy
from .common import BudgetStop, Request, record_calls, unused
from .index import SearchIndex, View
from .values import ValueFunction, make_value

if TYPE_CHECKING:
    from ..context import StepContext

SEARCH_OPTIONS: dict[str, Any] = {
    "max_expansions": 20,  # c: expansions per round
    "max_depth": 5,  # d: depth below the scope
    "branching": 5,  # b: children kept per expansion
    "n_samples": 20,  # action samples per expansion (best-first takes max(2b, n_samples))
    "temperature": 1.0,  # sampling temperature of action and value calls (None: the model's)
    "value": "judge",  # judge | score | reward | a function (node, session) -> float
    "value_samples": 20,  # sampled value calls averaged per state
    "threshold": 1.0,  # stop when a scored state reaches this value
    "max_seconds": None,  # wall-time budget of a round
    "rounds": 1,  # rounds in a row, each from the last commit; "terminal": until a terminal (Koh et al.)
}
FINAL_REASONS = BUDGETS  # session budgets: another round cannot start
_POSITIVE_INTS = ("max_expansions", "max_depth", "branching", "n_samples", "value_samples")


def _qualname(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


class SearchStrategy(Strategy):
    """Shared machinery; subclasses implement `expand` and `has_work`."""

    name = "search"
    options = SEARCH_OPTIONS
    also_takes = {"rounds": ("terminal",), "temperature": (None,), "max_seconds": (float, None)}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cfg = self.config
        for key in _POSITIVE_INTS:
            if key in cfg and (not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1):
                raise ConfigError(f"{self.name}: {key} must be a whole number >= 1, got {cfg[key]!r}")
        for key in ("max_seconds", "temperature"):
            if cfg.get(key) is not None and (not isinstance(cfg[key], (int, float)) or cfg[key] < 0):
                raise ConfigError(f"{self.name}: {key} must be a number >= 0 or None, got {cfg[key]!r}")
        rounds = cfg.get("rounds", 1)
        if rounds != "terminal" and (not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1):
            raise ConfigError(
                f"{self.name}: rounds must be a whole number >= 1 or 'terminal', got {rounds!r}"
            )
        if not isinstance(cfg.get("threshold", 1.0), (int, float)):
            raise ConfigError(f"{self.name}: threshold must be a number, got {cfg['threshold']!r}")
        self.value_fn: ValueFunction | None = make_value(cfg["value"]) if "value" in cfg else None
        self._index: SearchIndex | None = None
        self._index_config: dict[str, Any] = {}

    # --- subclass hooks ---------------------------------------------------------------------------
    async def expand(self, session: StepContext, state: dict[str, Any], view: View) -> Node | None:
        """Do one expansion; return the node it realized/expanded, or None if nothing is left."""
        raise NotImplementedError

    def has_work(self, session: StepContext, state: dict[str, Any], view: View) -> bool:
        raise NotImplementedError

    def context(self, session: StepContext) -> str:
        """Extra text for action and value prompts (MCTS: reflections)."""
        return ""

    def open_key(self, node: Node, view: View) -> tuple[Any, ...] | None:
        """The frontier order of an open node (the least is popped next); None: not open."""
        return None

    def leaf_selectable(self, node: Node, view: View) -> bool | None:
        """Whether `node` leads to something to expand; None: if any live child does (MCTS)."""
        return False

    # --- the search's view of the tree --------------------------------------------------------------
    def view(self, session: StepContext, scope_id: int) -> SearchIndex:
        """The incremental index of the scope's subtree, brought up to date (built once per round)."""
        idx = self._index
        if (
            idx is None
            or idx.session is not session
            or idx.tree is not session.tree
            or idx.scope.id != scope_id
            or self._index_config != self.config
        ):
            if idx is not None:
                idx.close()
            self._index_config = dict(self.config)
            idx = self._index = SearchIndex(session, scope_id, self)
        return idx.refresh()

    # --- state ------------------------------------------------------------------------------------
    def state(self, session: StepContext) -> dict[str, Any]:
        """The search's state as stored on the root (empty before the first step)."""
        return dict(session.tree.root.info.get("search") or {})

    def finished(self, session: StepContext) -> bool:
        """Committed, with the cursor still on the commit, and the loop of rounds over."""
        st = session.tree.root.info.get("search") or {}
        return (
            st.get("strategy") == self.name
            and st.get("committed") is not None
            and session.tree.cursor == st["committed"]
            and st.get("final", True)
        )

    def rewound(self, session: StepContext, node: Node) -> None:
        """The user moved the cursor (`rewind`): a committed search starts a new loop there, even at
        the committed node itself."""
        st = self.state(session)
        if st.get("strategy") == self.name and st.get("committed") is not None:
            st.update(committed=None, scope=None)
            self.save(session, st)
            session.tree.outcome = None  # undecided again until the new loop commits

    def _begin(self, session: StepContext) -> dict[str, Any]:
        st = self.state(session)
        cursor = session.tree.cursor
        anchor = st.get("committed") if st.get("committed") is not None else st.get("scope")
        again = st.get("strategy") == self.name and st.get("committed") is not None and cursor == anchor
        if st.get("strategy") != self.name or cursor != anchor or again:
            st = {
                "strategy": self.name,
                "round": int(st.get("round", 0)) + 1,
                "loop_round": int(st.get("loop_round", 1)) + 1 if again else 1,  # rounds in this loop
                "scope": cursor,
                "expansions": 0,
                "seconds": 0.0,
                "committed": None,
                "reason": None,
                "total": int(st.get("total", 0)),  # expansions over all rounds
                "batches": int(st.get("batches", 0)),  # proposal batches over all rounds
                "callables": {k: _qualname(v) for k, v in self.config.items() if callable(v)},
            }
            session.tree.outcome = None
        for key, fn_name in (st.get("callables") or {}).items():
            if not callable(self.config.get(key)):
                raise ConfigError(
                    f"this search ran with {key}={fn_name}, a Python function the store cannot keep; "
                    f"pass it again, e.g. Session.resume(run_id, store, {key}={fn_name})"
                )
        return st

    def save(self, session: StepContext, state: dict[str, Any]) -> None:
        root = session.tree.root
        session.update_node(root, info={**root.info, "search": dict(state)})

    # --- the step ---------------------------------------------------------------------------------
    async def astep(self, session: StepContext) -> Node:
        st = self._begin(session)
        started = time.perf_counter()
        stopped: str | None = None
        try:
            node = await self.expand(session, st, self.view(session, st["scope"]))
        except BudgetStop as stop:  # the budget ran out mid-expansion: keep what was paid for
            self._keep(session, stop)
            node, stopped = None, stop.key
        st["seconds"] = float(st["seconds"]) + (time.perf_counter() - started)
        if node is not None:
            st["expansions"] += 1
            st["total"] = int(st.get("total", 0)) + 1
        if stopped is not None:
            reason: str | None = "threshold" if st.pop("found", None) is not None else stopped
        else:
            reason = self.stop_reason(session, st, node)
        if reason is not None:
            best = self.commit(session, st, reason)
            return node if node is not None else best
        self.save(session, st)
        assert node is not None  # no node means an empty frontier, which is a stop reason
        return node

    def _keep(self, session: StepContext, stop: BudgetStop) -> None:
        """Record the calls a budget stop cut short on the nodes they were made for (action samples
        as unused samples); the half-done expansion is left open, so a larger budget finishes it."""
        for req, calls in stop.done:
            kept = unused(calls) if req.purpose == "act" else calls
            record_calls(session, req.node, kept)
            session.update_node(req.node, llm_calls=req.node.llm_calls)

    def index(self, state: dict[str, Any]) -> int:
        """The number of the expansion in progress (1-based, counted over all rounds)."""
        return int(state.get("total", 0)) + 1

    def next_batch(self, state: dict[str, Any]) -> int:
        """A new proposal batch number (increasing over the whole run; DFS pops the newest batch)."""
        state["batches"] = int(state.get("batches", 0)) + 1
        return state["batches"]

    def stop_reason(self, session: StepContext, state: dict[str, Any], node: Node | None) -> str | None:
        if state.pop("found", None) is not None:
            return "threshold"
        if node is None:
            return "frontier empty"
        cfg, budgets, run = self.config, session.budgets, session.tree
        if state["expansions"] >= cfg["max_expansions"]:
            return "max_expansions"
        if cfg.get("max_seconds") is not None and state["seconds"] >= cfg["max_seconds"]:
            return "max_seconds"
        if (key := run.used_up(budgets)) is not None:
            return key
        if not self.has_work(session, state, self.view(session, state["scope"])):
            return "frontier empty"
        return None

    def best(self, view: View) -> Node:
        """A successful terminal first, then the highest value, the higher reward, the shallower."""

        def key(n: Node) -> tuple[Any, ...]:
            value = n.value if n.value is not None else float("-inf")
            return (n.terminal and n.reward > 0, value, n.reward, -n.depth, -n.id)

        live = [n for n in view.nodes if n.status in ("expanded", "terminal")]
        return max(live, key=key) if live else view.scope

    def commit(self, session: StepContext, state: dict[str, Any], reason: str) -> Node:
        best = self.best(self.view(session, state["scope"]))
        rounds = self.config.get("rounds", 1)
        success = best.terminal and best.reward > 0
        final = (
            success
            or best.terminal
            or reason in FINAL_REASONS
            or best.id == state["scope"]  # no progress: another round would search the same subtree
            or (rounds != "terminal" and int(state.get("loop_round", 1)) >= int(rounds))
        )
        state.update(committed=best.id, reason=reason, final=final)
        self.save(session, state)
        tree = session.tree
        tree.cursor = best.id
        session.events.publish(ev.CursorMoved(session.run_id, node_id=best.id, provenance="agent"))
        if final:
            tree.outcome = "success" if success else "failure"
            session.events.publish(ev.RunFinished(session.run_id, outcome=tree.outcome, node_id=best.id))
        return best

    # --- helpers for subclasses ---------------------------------------------------------------------
    def system_prompt(self, session: StepContext) -> str:
        base = super().system_prompt(session)
        extra = self.context(session)
        return f"{base}\n\n{extra}" if extra else base

    def sampling(self) -> dict[str, Any]:
        temperature = self.config.get("temperature")
        return {} if temperature is None else {"temperature": temperature}

    def act_request(self, session: StepContext, node: Node, n: int) -> Request:
        messages = self.messages(session, session.tree.path(node.id))
        return Request(messages, n, node, "act", self.sampling())

    def value_requests(self, session: StepContext, node: Node) -> list[Request]:
        if self.value_fn is None or user_valued(node):
            return []
        samples = int(self.config.get("value_samples", 1))
        return self.value_fn.requests(session, node, samples, self.context(session), **self.sampling())

    async def score(
        self, session: StepContext, node: Node, calls: list[LLMCall]
    ) -> tuple[float, dict[str, Any]]:
        """(value, info updates) for a realized node from its value calls (recorded on it here)."""
        if user_valued(node):
            return float(node.value), {}  # type: ignore[arg-type]
        assert self.value_fn is not None
        value, detail = await self.value_fn.score(session, node, calls)
        record_calls(session, node, calls)
        return value, {"value_by": self.value_fn.name, "value_detail": detail}

    def pinned(self, view: View) -> list[Node]:
        return view.pinned()

    def unpin(self, session: StepContext, node: Node) -> None:
        session.update_node(node, info={**node.info, "pinned": False})

    def can_grow(self, node: Node, view: View) -> bool:
        """Whether children may be added below `node` (a realized, non-terminal node above the cap)."""
        return (
            node.status == "expanded"
            and not node.terminal
            and view.depth(node) < int(self.config["max_depth"])
        )


def user_valued(node: Node) -> bool:
    return node.info.get("value_by") == "user" and node.value is not None
