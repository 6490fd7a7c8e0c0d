"""What a search sees of the tree: `View` (a full rescan, the reference) and `SearchIndex` (kept
incrementally, what the engine uses).

Both answer the same questions about the subtree of the search's *scope* (the node a round started
from), skipping pruned nodes and everything below them:

- `children(node)`, `depth(node)`, `nodes` (every live node of the subtree, by id);
- `first_open()`: the frontier node the strategy pops next (the least `strategy.open_key`);
- `selectable(node)`: whether a node still leads to something to expand (MCTS's selection flag:
  `strategy.leaf_selectable` decides for a node, None meaning "if any live child is selectable");
- `pinned()`, and tree-wide `successes()` (successful terminals) and `reflections()`.

`View` computes each answer by walking the tree, so a search used to pay O(tree) several times per
expansion. `SearchIndex` keeps them: new nodes are found by id (ids are handed out in order), every
other change arrives as a `NodeUpdated` event from the session (the user's prune, pin and set_value
included), a frontier heap with lazy deletion orders the open nodes, and selection flags are
recomputed from a changed node up towards the scope only while they change. A new round (a new
scope, e.g. after `rewind`) or a resumed session builds a new index from one rescan. The property
test in tests/test_search_index.py checks that both always agree.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ...core import events as ev
from ...core.tree import Node

if TYPE_CHECKING:
    from ..context import StepContext


class Indexed(Protocol):
    """What the index asks of a strategy (every search strategy has these members)."""

    def open_key(self, node: Node, view: View) -> tuple[Any, ...] | None: ...

    def leaf_selectable(self, node: Node, view: View) -> bool | None: ...


def _no_key(node: Node, view: View) -> None:
    return None


class View:
    """One moment of the tree seen from the scope, computed by a full rescan (the reference)."""

    def __init__(self, session: StepContext, scope_id: int, strategy: Indexed | None = None) -> None:
        self.session = session
        self.tree = session.tree
        self.strategy = strategy
        self.scope = self.tree.nodes[scope_id]
        self.refresh()

    def refresh(self) -> View:
        """Bring the view up to date with the tree (a rescan here)."""
        self._nodes: list[Node] | None = None
        self._flags: dict[int, bool] | None = None
        return self

    # --- structure ------------------------------------------------------------------------------
    def children(self, node: Node) -> list[Node]:
        return [c for c in self.tree.children(node.id) if c.status != "pruned"]

    def depth(self, node: Node) -> int:
        return node.depth - self.scope.depth

    def live(self, node: Node) -> bool:
        """Whether `node` is in the scope's subtree with no pruned node on the way (scope included)."""
        nodes = self.tree.nodes
        while True:
            if node.status == "pruned":
                return False
            if node.id == self.scope.id:
                return True
            if node.parent_id is None or node.depth <= self.scope.depth:
                return False
            node = nodes[node.parent_id]

    @property
    def nodes(self) -> list[Node]:
        """Every live node of the scope's subtree, by id (a walk of the subtree)."""
        if self._nodes is None:
            out: list[Node] = []
            stack = [self.scope]
            while stack:
                node = stack.pop()
                out.append(node)
                stack.extend(self.children(node))
            out.sort(key=lambda n: n.id)
            self._nodes = out
        return self._nodes

    # --- strategy questions -----------------------------------------------------------------------
    def first_open(self) -> Node | None:
        key = self.strategy.open_key if self.strategy is not None else _no_key
        best: tuple[Any, ...] | None = None
        found = None
        for node in self.nodes:
            k = key(node, self)
            if k is not None and (best is None or k < best):
                best, found = k, node
        return found

    def open_nodes(self) -> list[Node]:
        """Every open node, in the order they would be popped."""
        key = self.strategy.open_key if self.strategy is not None else _no_key
        keyed = [(k, n.id) for n in self.nodes if (k := key(n, self)) is not None]
        return [self.tree.nodes[i] for _, i in sorted(keyed)]

    def selectable(self, node: Node) -> bool:
        if self._flags is None:
            leaf = self.strategy.leaf_selectable if self.strategy is not None else (lambda n, v: False)
            flags: dict[int, bool] = {}
            for n in reversed(self.nodes):  # children have larger ids than their parents
                own = leaf(n, self)
                flags[n.id] = (
                    own if own is not None else any(flags.get(c.id, False) for c in self.children(n))
                )
            self._flags = flags
        return self._flags.get(node.id, False)

    def pinned(self) -> list[Node]:
        return [n for n in self.nodes if n.info.get("pinned") and n.status in ("frontier", "expanded")]

    def successes(self) -> list[Node]:
        """Successful terminal nodes of the whole tree, by id."""
        return [n for n in self.tree.nodes.values() if n.terminal and n.reward > 0]

    def reflections(self) -> list[Node]:
        """Nodes of the whole tree that carry a reflection, by id."""
        return [n for n in self.tree.nodes.values() if n.info.get("reflection")]


class SearchIndex(View):
    """The same answers as `View`, kept incrementally while the search and the user change the tree."""

    def __init__(self, session: StepContext, scope_id: int, strategy: Indexed) -> None:
        self._changed: deque[tuple[int, tuple[str, ...]]] = deque()
        self._unsubscribe: Callable[[], None] | None = None
        super().__init__(session, scope_id, strategy)
        self._unsubscribe = session.events.subscribe(self._on_event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ev.NodeUpdated) and event.run_id == self.tree.id:
            self._changed.append((event.node.id, tuple(event.fields)))

    def refresh(self) -> SearchIndex:
        if not hasattr(self, "_inside"):
            self._rebuild()
            return self
        nodes = self.tree.nodes
        while self._seen < len(nodes):  # new nodes: ids are handed out in order
            node = nodes[self._seen]
            self._seen += 1
            self._added(node)
        while self._changed:
            node_id, fields = self._changed.popleft()
            if node_id in nodes:
                self._updated(nodes[node_id], fields)
        return self

    def _rebuild(self) -> None:
        self._inside: set[int] = set()
        self._heap: list[tuple[tuple[Any, ...], int]] = []
        self._keys: dict[int, tuple[Any, ...]] = {}
        self._flags = {}
        self._pins: set[int] = set()
        self._wins: set[int] = set()
        self._reflected: set[int] = set()
        self._changed.clear()
        nodes = self.tree.nodes
        stack = [self.scope]
        while stack:
            node = stack.pop()
            self._inside.add(node.id)
            stack.extend(self.tree.children(node.id))
        for node in nodes.values():
            self._note(node)
        for node_id in sorted(self._inside):
            self._push(nodes[node_id])
        for node_id in sorted(self._inside, reverse=True):
            self._flags[node_id] = self._flag(nodes[node_id])
        self._seen = len(nodes)

    # --- keeping it current ---------------------------------------------------------------------------
    def _note(self, node: Node) -> None:
        """The tree-wide sets: pins, successes, reflections."""
        for ids, present in (
            (self._pins, bool(node.info.get("pinned"))),
            (self._wins, node.terminal and node.reward > 0),
            (self._reflected, bool(node.info.get("reflection"))),
        ):
            if present:
                ids.add(node.id)
            else:
                ids.discard(node.id)

    def _push(self, node: Node) -> None:
        key = self.strategy.open_key(node, self) if node.status != "pruned" else None  # type: ignore[union-attr]
        if key is None:
            self._keys.pop(node.id, None)
        elif self._keys.get(node.id) != key:
            self._keys[node.id] = key
            heapq.heappush(self._heap, (key, node.id))

    def _flag(self, node: Node) -> bool:
        if node.status == "pruned":
            return False
        own = self.strategy.leaf_selectable(node, self)  # type: ignore[union-attr]
        if own is not None:
            return own
        return any(self._flags.get(c.id, False) for c in self.tree.children(node.id))

    def _reflag(self, node: Node) -> None:
        """Recompute `node`'s selection flag and its ancestors' up to the scope, while they change."""
        nodes = self.tree.nodes
        while True:
            flag = self._flag(node)
            if self._flags.get(node.id) == flag:
                return
            self._flags[node.id] = flag
            if node.id == self.scope.id or node.parent_id is None:
                return
            node = nodes[node.parent_id]

    def _added(self, node: Node) -> None:
        self._note(node)
        if node.parent_id not in self._inside:
            return
        self._inside.add(node.id)
        self._push(node)
        self._reflag(node)

    def _updated(self, node: Node, fields: tuple[str, ...]) -> None:
        self._note(node)
        if node.id not in self._inside:
            return
        self._push(node)
        self._reflag(node)
        if {"value", "info", "status"} & set(fields):
            # keys may depend on the parent (best-first: the parent's value), and an un-pruned node
            # brings its subtree back
            stack = list(self.tree.children(node.id))
            deep = "status" in fields
            while stack:
                child = stack.pop()
                self._push(child)
                if deep and child.status != "pruned":
                    stack.extend(self.tree.children(child.id))

    # --- answers ----------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        """Every live node of the subtree (a walk: for the commit and for tests, not per expansion)."""
        self._nodes = None
        return super().nodes

    def first_open(self) -> Node | None:
        heap, nodes = self._heap, self.tree.nodes
        while heap:
            key, node_id = heap[0]
            node = nodes[node_id]
            if self._keys.get(node_id) != key:  # an older entry of a re-keyed or closed node
                heapq.heappop(heap)
                continue
            now = self.strategy.open_key(node, self)  # type: ignore[union-attr]
            if now != key or not self.live(node):  # changed behind the index's back: re-key it
                heapq.heappop(heap)
                del self._keys[node_id]
                if now is not None and self.live(node):
                    self._push(node)
                continue
            return node
        return None

    def open_nodes(self) -> list[Node]:
        nodes = self.tree.nodes
        keyed = sorted(
            (k, i)
            for i, k in self._keys.items()
            if self.live(nodes[i]) and k == self.strategy.open_key(nodes[i], self)  # type: ignore[union-attr]
        )
        return [nodes[i] for _, i in keyed]

    def selectable(self, node: Node) -> bool:
        return node.id in self._inside and self._flags.get(node.id, False) and self.live(node)

    def pinned(self) -> list[Node]:
        nodes = self.tree.nodes
        return [
            nodes[i]
            for i in sorted(self._pins)
            if i in self._inside
            and nodes[i].info.get("pinned")
            and nodes[i].status in ("frontier", "expanded")
            and self.live(nodes[i])
        ]

    def successes(self) -> list[Node]:
        return [self.tree.nodes[i] for i in sorted(self._wins)]

    def reflections(self) -> list[Node]:
        return [self.tree.nodes[i] for i in sorted(self._reflected)]
