"""FinMem (Yu et al. 2023): layered memory with recency, importance and similarity.

Every node on the path is a memory item `mem:<node id>`: "after `<action>`: <observation>" (the
root's is "start: <observation>"). An item enters the SHORT layer when its node is reached, with an
importance drawn from the paper's short-layer distribution (50, 70 or 90 with probabilities 0.5,
0.45, 0.05; the draw is seeded by `seed` and the node id, so a run renders the same every time).
Then, at each later step along the path, in this order:

1. decay: `delta += 1` (steps since the item entered its layer); importance x0.92 (short), x0.967
   (mid), x0.988 (long); recency = exp(-delta / Q) with Q = 3 / 90 / 365;
2. feedback: when the step's reward is not 0, the items recalled for that step's prompt gain
   `feedback` importance (5 by default) times the reward's sign (FinMem's access feedback);
3. drop: an item with recency < 0.05 or importance < 5 is removed (not a pinned one);
4. jump: short -> mid at importance >= 60, mid -> long at >= 80; mid -> short below 60, long -> mid
   below 80; an item that changes layer starts there with delta 0 (recency 1).

The prompt's history is a user message

    Memory (layered; recalled by similarity + recency + importance):
    Short-term:
    - [mem:7 · step 6 · score 2.04] after `go east`:
      | <observation, one "  | " line each>
    Mid-term:
    (nothing recalled)
    Long-term:
    ...

then the last `window` steps verbatim (default 1: the observation before, the answer, the current
observation), as the `window` policy renders them. Per layer the `top_k` (3) items with the highest
score = similarity + recency + min(importance, 100) / 100 are recalled; items of the steps shown
verbatim are not candidates. Similarity to the query (the current observation) is a cosine between
BM25-weighted word vectors of the live items (`similarity="lexical"`, no model, no network) or
between the vectors a callable `similarity(texts) -> list[list[float]]` returns (your local
embedding model).

The whole state is a function of the path and the user's changes, so rewinds, branches of a search
and resumed runs render exactly what they rendered before. User changes (entry ids "mem:<node id>",
as well as the window's "obs:<id>" / "act:<id>" and notes): `edit` rewrites an item's text (shown and
matched as edited), `pin` always recalls it and exempts it from the drop rule, `forget` removes it,
`set_importance(id, value)` sets its importance from the current step on (the layer rules apply at
once, so 60 promotes a short-term item), `restore` undoes all of these.

Deviations from the paper: no reflection layer (the agent's reflections are the `reflexion`
strategy's business); the importance draw is seeded rather than random; feedback follows the env's
reward sign rather than a trade's profit; no learned embedding ships with the workbench, so the
default similarity is lexical.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import validate
from ..core.prompt import Prompt
from ..core.tree import Node, Run
from ..errors import ConfigError
from .base import ChangeHook, MemoryEntry
from .steps import StepMemory, TokenCounter

LAYERS = ("short", "mid", "long")
RECENCY_Q = {"short": 3.0, "mid": 90.0, "long": 365.0}
DECAY = {"short": 0.92, "mid": 0.967, "long": 0.988}
PROMOTE = {"short": 60.0, "mid": 80.0}  # importance >= this: one layer up
DEMOTE = {"mid": 60.0, "long": 80.0}  # importance below this: one layer down
RECENCY_CUT = 0.05
IMPORTANCE_CUT = 5.0
INITIAL_IMPORTANCE = ((50.0, 0.5), (70.0, 0.45), (90.0, 0.05))  # the short layer's draw
MEMORY_HEADER = "Memory (layered; recalled by similarity + recency + importance):"
LAYER_TITLES = {"short": "Short-term:", "mid": "Mid-term:", "long": "Long-term:"}
NOTHING = "(nothing recalled)"
BM25_K1, BM25_B = 1.2, 0.75

Embedder = Callable[[list[str]], Sequence[Sequence[float]]]
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(slots=True)
class Item:
    """One memory item as it stands after some step."""

    node_id: int
    depth: int  # the step that made it
    layer: str
    importance: float
    delta: int = 0  # steps since it entered its layer
    moved: str = ""  # its last layer change, e.g. "short->mid at step 4"

    @property
    def recency(self) -> float:
        return math.exp(-self.delta / RECENCY_Q[self.layer])


@dataclass
class Scored:
    item: Item
    similarity: float
    score: float
    recalled: bool = False


def initial_importance(seed: int, node_id: int) -> float:
    """The paper's short-layer draw (50/70/90 with p = 0.5/0.45/0.05), seeded by (seed, node id)."""
    digest = hashlib.sha256(f"finmem\x1f{seed}\x1f{node_id}".encode()).digest()
    x = random.Random(int.from_bytes(digest[:8], "big")).random()
    for value, p in INITIAL_IMPORTANCE:
        if x < p:
            return value
        x -= p
    return INITIAL_IMPORTANCE[-1][0]


def jump(item: Item, depth: int) -> None:
    """Move `item` one layer up or down by the paper's thresholds (delta restarts at 0)."""
    i, to = LAYERS.index(item.layer), None
    if item.layer in PROMOTE and item.importance >= PROMOTE[item.layer]:
        to = LAYERS[i + 1]
    elif item.layer in DEMOTE and item.importance < DEMOTE[item.layer]:
        to = LAYERS[i - 1]
    if to is not None:
        item.moved = f"{item.layer}->{to} at step {depth}"
        item.layer, item.delta = to, 0


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def lexical_similarity(query: str, texts: list[str]) -> list[float]:
    """Cosine between BM25-weighted word vectors of `query` and each text (0..1), IDF over `texts`."""
    docs = [Counter(words(t)) for t in texts]
    if not docs:
        return []
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / n or 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())

    def vector(counts: Counter[str]) -> dict[str, float]:
        length = sum(counts.values())
        out = {}
        for w, tf in counts.items():
            idf = math.log(1 + (n - df.get(w, 0) + 0.5) / (df.get(w, 0) + 0.5))
            out[w] = idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / avg))
        return out

    q = vector(Counter(words(query)))
    qn = math.sqrt(sum(v * v for v in q.values()))
    result = []
    for d in docs:
        v = vector(d)
        dot = sum(q[w] * v[w] for w in q.keys() & v.keys())
        vn = math.sqrt(sum(x * x for x in v.values()))
        result.append(dot / (qn * vn) if qn and vn else 0.0)
    return result


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return max(0.0, dot / (na * nb)) if na and nb else 0.0


class LayeredMemory(StepMemory):
    """FinMem's short/mid/long layers: recall by similarity + recency + importance."""

    name = "layered"
    entry_kinds = ("obs", "act", "note", "mem")

    def __init__(
        self,
        window: int | None = 1,
        *,
        top_k: int = 3,
        similarity: str | Embedder = "lexical",
        feedback: float = 5.0,
        seed: int = 0,
        max_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        if window is None:
            raise ConfigError("window must be a whole number >= 0 for layered memory, not None")
        super().__init__(window, max_tokens=max_tokens, token_counter=token_counter, on_change=on_change)
        self.top_k = validate.number("top_k", top_k, minimum=1, integer=True)
        if similarity != "lexical" and not callable(similarity):
            raise ConfigError(
                f"similarity must be 'lexical' or a callable (texts) -> vectors, not {similarity!r}"
            )
        self.similarity = similarity
        self.feedback = validate.number("feedback", feedback, minimum=0)
        self.seed = validate.number("seed", seed, integer=True)
        self.importance: dict[str, tuple[int, float]] = {}  # entry id -> (step it was set at, value)
        self._version = 0
        self._states: dict[int, tuple[Node, int, dict[int, Item]]] = {}
        self._recalls: dict[tuple[int, int], tuple[Node, list[Scored]]] = {}
        self._depth = 0  # the depth of the last path rendered or listed: where importance edits apply
        self._vectors: dict[str, Sequence[float]] = {}
        self.last_recalled: list[str] = []

    # --- user API ------------------------------------------------------------------------------
    def set_importance(
        self, entry_id: str, value: float, *, at_step: int | None = None, provenance: str = "user"
    ) -> None:
        """Give item `entry_id` importance `value` (0..1000) from step `at_step` on (default: the
        depth of the path last rendered or listed, i.e. the cursor's)."""
        entry_id = self._entry(entry_id)
        if not entry_id.startswith("mem:"):
            raise ConfigError(f"only memory items (mem:<node id>) have an importance, not {entry_id!r}")
        value = validate.number("importance", value, minimum=0, maximum=1000)
        at_step = (
            self._depth if at_step is None else validate.number("at_step", at_step, minimum=0, integer=True)
        )
        self.importance[entry_id] = (at_step, float(value))
        self._changed(entry_id, "importance", provenance, f"{value:g}")

    def restore(self, entry_id: str, *, provenance: str = "user") -> None:
        self.importance.pop(entry_id, None)
        super().restore(entry_id, provenance=provenance)

    def _changed(self, entry_id: str, change: str, provenance: str, text: str | None = None) -> None:
        self._version += 1  # every user change can move items: states are computed again
        self._states.clear()
        self._recalls.clear()
        super()._changed(entry_id, change, provenance, text)

    # --- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        state["importance"] = {k: [d, v] for k, (d, v) in self.importance.items()}
        state["top_k"] = self.top_k
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.importance = {k: (int(d), float(v)) for k, (d, v) in (state.get("importance") or {}).items()}
        self.top_k = int(state.get("top_k", self.top_k))
        self._version += 1
        self._states.clear()
        self._recalls.clear()

    # --- the layers ----------------------------------------------------------------------------
    def item_text(self, node: Node) -> str:
        """What item `mem:<node id>` says (the user's text if edited)."""
        edited = self.edits.get(f"mem:{node.id}")
        if edited is not None:
            return edited
        if node.parent_id is None:
            return f"start: {node.observation}"
        if node.action is None:
            return f"answer without a valid action: {node.observation}"
        return f"after `{node.action}`: {node.observation}"

    def layers(self, path: list[Node]) -> dict[int, Item]:
        """The items alive after the last node of `path`, by node id (kept per node: a node's
        ancestors never change, so the newest kept state on the path is a valid start)."""
        i = len(path) - 1
        while i >= 0:
            hit = self._states.get(path[i].id)
            if hit is not None and hit[0] is path[i] and hit[1] == self._version:
                break
            i -= 1
        items = self._states[path[i].id][2] if i >= 0 else {}
        for j in range(i + 1, len(path)):
            items = self._advance(path, j, items)
            self._states[path[j].id] = (path[j], self._version, items)
        return items

    def _advance(self, path: list[Node], j: int, before: dict[int, Item]) -> dict[int, Item]:
        """The items after node `j` joined the path, from the items after node `j - 1`."""
        node = path[j]
        items = {}
        for k, old in before.items():
            item = replace(old, delta=old.delta + 1, importance=old.importance * DECAY[old.layer])
            items[k] = item
        if j > 0 and node.reward and self.feedback:
            sign = 1.0 if node.reward > 0 else -1.0
            for scored in self.recall(path[:j]):
                if scored.item.node_id in items and scored.recalled:
                    items[scored.item.node_id].importance += sign * self.feedback
        for k in list(items):
            item, entry_id = items[k], f"mem:{k}"
            if entry_id in self.pinned:
                continue
            if item.recency < RECENCY_CUT or item.importance < IMPORTANCE_CUT:
                del items[k]
        for item in items.values():
            jump(item, node.depth)
        items[node.id] = Item(node.id, node.depth, "short", initial_importance(self.seed, node.id))
        for entry_id, (at, value) in self.importance.items():
            k = int(entry_id[4:])
            if at == node.depth and k in items:
                items[k].importance = value
                jump(items[k], node.depth)
        for entry_id in self.forgotten:
            if entry_id.startswith("mem:"):
                items.pop(int(entry_id[4:]), None)
        return items

    def recall(self, path: list[Node]) -> list[Scored]:
        """Every live item with its similarity to the current observation and its score; the
        `top_k` best per layer (and every pinned item) are marked `recalled`."""
        key = (path[-1].id, self._version)
        hit = self._recalls.get(key)
        if hit is not None and hit[0] is path[-1]:
            return hit[1]
        items = self.layers(path)
        self._depth = len(path) - 1
        verbatim = {n.id for n in path[max(0, len(path) - 1 - (self.window or 0)) :]}
        candidates = [it for k, it in items.items() if k not in verbatim]
        texts = [self.item_text(path[it.depth]) for it in candidates]
        query = self.edits.get(f"obs:{path[-1].id}", path[-1].observation)
        sims = self._similarities(query, texts)
        scored = [
            Scored(it, sim, sim + it.recency + min(it.importance, 100.0) / 100.0)
            for it, sim in zip(candidates, sims, strict=True)
        ]
        for layer in LAYERS:
            ranked = sorted(
                (s for s in scored if s.item.layer == layer), key=lambda s: (-s.score, -s.item.depth)
            )
            for s in ranked[: self.top_k]:
                s.recalled = True
        for s in scored:
            if f"mem:{s.item.node_id}" in self.pinned:
                s.recalled = True
        if len(self._recalls) > 4096:
            self._recalls.clear()
        self._recalls[key] = (path[-1], scored)
        return scored

    def _similarities(self, query: str, texts: list[str]) -> list[float]:
        if not callable(self.similarity):
            return lexical_similarity(query, texts)
        missing = [t for t in dict.fromkeys([query, *texts]) if t not in self._vectors]
        if missing:
            vectors = list(self.similarity(missing))
            if len(vectors) != len(missing):
                raise ConfigError(
                    f"the similarity callable returned {len(vectors)} vectors for {len(missing)} texts"
                )
            self._vectors.update(zip(missing, vectors, strict=True))
        q = self._vectors[query]
        return [cosine(q, self._vectors[t]) for t in texts]

    # --- prompt --------------------------------------------------------------------------------
    def memory_block(self, path: list[Node]) -> tuple[str, list[str]]:
        """(the memory message's text, ids of the recalled items in the order shown)."""
        scored = [s for s in self.recall(path) if s.recalled]
        lines, shown = [MEMORY_HEADER], []
        for layer in LAYERS:
            lines.append(LAYER_TITLES[layer])
            mine = sorted(
                (s for s in scored if s.item.layer == layer), key=lambda s: (-s.score, -s.item.depth)
            )
            if not mine:
                lines.append(NOTHING)
            for s in mine:
                entry_id = f"mem:{s.item.node_id}"
                text = self.item_text(path[s.item.depth])
                head, _, rest = text.partition("\n")
                lines.append(f"- [{entry_id} · step {s.item.depth} · score {s.score:.2f}] {head}")
                lines += [f"  | {line}" for line in rest.splitlines()]
                shown.append(entry_id)
        return "\n".join(lines), shown

    def render(self, run: Run, path: list[Node]) -> list[dict[str, str]] | Prompt:
        history = super().render(run, path)
        used = list(self.last_used_edits)
        text, shown = self.memory_block(path)
        self.last_recalled = shown
        touched = set(self.edits) | self.pinned | set(self.importance)
        self.last_used_edits = used + [e for e in shown if e in touched]
        return Prompt.of([{"role": "user", "content": text}], history)

    def history_tokens(self, run: Run, path: list[Node]) -> int:
        """Tokens of what `render` returns (without touching `last_used_edits` or `last_recalled`)."""
        block = [{"role": "user", "content": self.memory_block(path)[0]}]
        return super().history_tokens(run, path) + self.count_tokens(block)

    # --- entries -------------------------------------------------------------------------------
    def entries(self, run: Run, path: list[Node]) -> list[MemoryEntry]:
        """The notes, every live memory item (by layer, best score first) and the window's steps."""
        steps = [
            e
            for e in super().entries(run, path)
            if e.kind == "note" or e.shown or e.pinned or e.forgotten or e.id in self.edits
        ]
        notes = [e for e in steps if e.kind == "note"]
        nodes = {n.id: n for n in path}
        scored = sorted(
            self.recall(path),
            key=lambda s: (LAYERS.index(s.item.layer), -s.score, -s.item.depth),
        )
        candidates = {s.item.node_id for s in scored}
        items = [self._item_entry(s, nodes[s.item.node_id]) for s in scored]
        for k, item in self.layers(path).items():  # the window's own items: live, not candidates
            if k not in candidates:
                items.append(self._item_entry(Scored(item, 0.0, 0.0), nodes[k], in_window=True))
        for entry_id in sorted(self.forgotten):
            if entry_id.startswith("mem:") and int(entry_id[4:]) in nodes:
                node = nodes[int(entry_id[4:])]
                items.append(
                    MemoryEntry(
                        entry_id, "memory", self.item_text(node), "user", node.id, forgotten=True, shown=False
                    )
                )
        return notes + items + [e for e in steps if e.kind != "note"]

    def _item_entry(self, s: Scored, node: Node, *, in_window: bool = False) -> MemoryEntry:
        item, entry_id = s.item, f"mem:{s.item.node_id}"
        edited = entry_id in self.edits
        if in_window:
            detail = f"{item.layer} · in the window, not recalled"
        else:
            imp = min(item.importance, 100.0) / 100.0
            detail = f"{item.layer} · score {s.score:.2f} = sim {s.similarity:.2f} + rec {item.recency:.2f} + imp {imp:.2f}"
        return MemoryEntry(
            id=entry_id,
            kind="memory",
            text=self.item_text(node),
            provenance="user" if edited or entry_id in self.importance else "env",
            node_id=node.id,
            pinned=entry_id in self.pinned,
            forgotten=False,
            shown=s.recalled,
            extra={
                "layer": item.layer,
                "importance": round(item.importance, 2),
                "recency": round(item.recency, 4),
                "similarity": round(s.similarity, 4),
                "score": round(s.score, 4),
                "moved": item.moved,
                "detail": detail,
            },
        )
