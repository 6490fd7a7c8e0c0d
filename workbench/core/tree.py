"""The run tree: plain, JSON-serialisable records of what an agent did.

A `Run` holds `Node`s. The root is the state after `env.reset()`; every other node is the state
reached by one action from its parent. A linear run is a tree with one branch, a rewind grows a
sibling branch, and a search grows many children per node.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

NODE_STATUSES = ("frontier", "expanded", "pruned", "terminal", "error")
PROVENANCES = ("agent", "user", "env", "import")


BUDGETS = ("max_tokens", "max_cost", "max_steps", "max_calls")  # what a run can use up
MODEL_BUDGETS = ("max_tokens", "max_cost", "max_calls")  # what one more model call would exceed


@dataclass
class LLMCall:
    """One model call behind a node (after retries: `attempts` counts them)."""

    model: str
    messages: Sequence[dict[str, Any]]  # a list, or a `Prompt` sharing messages with other calls
    response: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency: float = 0.0
    attempts: int = 1
    error: str | None = None
    purpose: str = "act"  # act | value | summary | reflect
    started_at: float = field(default_factory=time.time)
    tool_calls: list[dict[str, Any]] | None = None  # native calls: [{"id", "name", "arguments"}]
    role: str = ""  # the agent role that made the call (alpha-UMi's planner, caller, ...), "" for none

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready deep copy (the messages as a list of new dicts; `role` only when set)."""
        out = {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in fields(self)
            if f.name != "messages" and (f.name != "role" or self.role)
        }
        return {"model": self.model, "messages": copy.deepcopy(list(self.messages)), **out}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LLMCall:
        return cls(**data)


@dataclass
class Node:
    """The state reached by one action from `parent_id` (the root has no action)."""

    id: int
    parent_id: int | None = None
    depth: int = 0
    raw: str = ""  # the model's raw output for this step
    thought: str = ""
    action: str | None = None  # parsed action text, None when nothing was executed
    tool: str | None = None  # the action's verb or tool name, for breakpoints
    executed: bool = False  # whether `action` was executed in the environment
    observation: str = ""
    reward: float = 0.0
    terminal: bool = False
    value: float | None = None
    visits: int = 0
    status: str = "expanded"
    error: str | None = None
    llm_calls: list[LLMCall] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    provenance: str = "agent"
    created_at: float = field(default_factory=time.time)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return sum(c.tokens for c in self.llm_calls)

    def __repr__(self) -> str:
        """One short line (a notebook cell ending in `s.run()` shows a list of these), secrets redacted."""
        from ..safety.redact import redact

        what = (
            f"action={_short(self.action)}"
            if self.action is not None
            else "root"
            if self.parent_id is None
            else ""
        )
        shown = ", ".join(x for x in (f"Node({self.id}", f"parent={self.parent_id}", what, self.status) if x)
        return redact(f"{shown}, observation={_short(self.observation)})")

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.llm_calls)

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.llm_calls)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready deep copy, calls included."""
        return {
            f.name: [c.to_dict() for c in self.llm_calls]
            if f.name == "llm_calls"
            else copy.deepcopy(getattr(self, f.name))
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        data = dict(data)
        data["llm_calls"] = [
            c if isinstance(c, LLMCall) else LLMCall.from_dict(c) for c in data.get("llm_calls", [])
        ]
        return cls(**data)


@dataclass
class Run:
    """A tree of nodes plus the cursor: the node the next step grows from."""

    task: str
    config: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    nodes: dict[int, Node] = field(default_factory=dict)
    cursor: int = 0
    created_at: float = field(default_factory=time.time)
    outcome: str | None = None  # success | failure | None while undecided
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    calls: int = field(default=0, compare=False)  # model calls recorded on its nodes (failed ones too)
    # the last path handed out, root first: most calls ask for it or for a child of its end
    _path_cache: list[Node] = field(default_factory=list, init=False, repr=False, compare=False)
    # parent id -> child ids in creation order, kept as nodes are added (not serialised)
    _kids: dict[int, list[int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # the largest single call so far: what a budget check expects the next call may cost
    largest_call_tokens: int = field(default=0, init=False, repr=False, compare=False)
    largest_call_cost: float = field(default=0.0, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        """One short line; `to_dict()` has everything."""
        from ..safety.redact import redact

        outcome = f", outcome={self.outcome}" if self.outcome else ""
        return redact(f"Run({self.id!r}, task={_short(self.task)}, nodes={len(self.nodes)}{outcome})")

    def new_node(self, parent_id: int | None, **fields: Any) -> Node:
        """Create a node under `parent_id` with the next free id and add it to the tree."""
        parent = self.nodes[parent_id] if parent_id is not None else None
        node = Node(
            id=len(self.nodes), parent_id=parent_id, depth=parent.depth + 1 if parent else 0, **fields
        )
        self.nodes[node.id] = node
        if parent_id is not None:
            self._kids.setdefault(parent_id, []).append(node.id)
        return node

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def current(self) -> Node:
        return self.nodes[self.cursor]

    def path(self, node_id: int | None = None, *, copy: bool = True) -> list[Node]:
        """The nodes from the root to `node_id` (default: the cursor), both included.

        `copy=False` may return the run's own list, to be read at once and never changed (the engine
        does so on every step: copying 10,000 nodes costs more than the rest of a step).

        The last path built is kept: asking for it, a prefix of it (a rewind) or a node just below
        it (a step) costs a copy of the list, not a walk to the root. The walk up stops at the first
        node found in the kept path, so a new branch costs its own length. Nodes never change their
        parent once made, which is what makes the kept path safe to reuse."""
        node = self.nodes[self.cursor if node_id is None else node_id]
        cached = self._path_cache
        tail: list[Node] = []
        current = node
        while True:
            depth = current.depth
            if depth < len(cached) and cached[depth] is current:
                break
            tail.append(current)
            if current.parent_id is None:
                depth = -1
                break
            current = self.nodes[current.parent_id]
        if not tail:
            if not copy and node.depth + 1 == len(cached):
                return cached
            return cached[: node.depth + 1]
        if depth + 1 == len(cached):
            cached.extend(reversed(tail))
        else:
            cached = cached[: depth + 1]
            cached.extend(reversed(tail))
            self._path_cache = cached
        return list(cached) if copy else cached

    def best_node(self) -> Node:
        """The best state so far outside pruned subtrees: a successful terminal node first, then the
        highest value, then the shallowest (`Session.best_node`; a stored run's snapshot)."""
        pruned: set[int] = set()
        for n in self.nodes.values():  # ids grow with depth order: parents come first
            if n.status == "pruned" or (n.parent_id is not None and n.parent_id in pruned):
                pruned.add(n.id)

        def key(n: Node) -> tuple[Any, ...]:
            success = n.terminal and n.reward > 0
            return (success, n.value if n.value is not None else float("-inf"), n.reward, -n.depth)

        candidates = [n for n in self.nodes.values() if (n.executed or n.id == 0) and n.id not in pruned]
        return max(candidates, key=key)

    def children(self, node_id: int) -> list[Node]:
        """The children of `node_id` in creation order (from an index kept as nodes are added)."""
        return [self.nodes[i] for i in self._kids.get(node_id, ())]

    @property
    def steps(self) -> int:
        """Nodes made by a step (everything but the root)."""
        return len(self.nodes) - 1

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def used_up(self, budgets: dict[str, Any], keys: tuple[str, ...] = BUDGETS) -> str | None:
        """The first of `keys` whose budget in `budgets` (None: no limit) this run has used up."""
        used = {
            "max_steps": self.steps,
            "max_tokens": self.tokens,
            "max_calls": self.calls,
            "max_cost": self.cost,
        }
        for key in keys:
            if budgets.get(key) is not None and used[key] >= budgets[key]:
                return key
        return None

    def record_call(self, node: Node, call: LLMCall) -> None:
        """Attach a model call to `node` and add it to the run's totals (kept incrementally)."""
        node.llm_calls.append(call)
        self._count(call)

    def _count(self, call: LLMCall) -> None:
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost += call.cost
        self.largest_call_tokens = max(self.largest_call_tokens, call.tokens)
        self.largest_call_cost = max(self.largest_call_cost, call.cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "config": self.config,
            "cursor": self.cursor,
            "created_at": self.created_at,
            "outcome": self.outcome,
            "nodes": [n.to_dict() for n in self.nodes.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        run = cls(
            task=data["task"],
            config=data.get("config", {}),
            id=data["id"],
            cursor=data.get("cursor", 0),
            created_at=data.get("created_at", time.time()),
            outcome=data.get("outcome"),
        )
        for nd in data.get("nodes", []):
            node = Node.from_dict(nd)
            run.nodes[node.id] = node
            if node.parent_id is not None:
                run._kids.setdefault(node.parent_id, []).append(node.id)
            for call in node.llm_calls:
                run._count(call)
        return run


def _short(text: Any, limit: int = 48) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
