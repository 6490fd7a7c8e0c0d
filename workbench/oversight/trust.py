"""Provenance and trust for recalled memory (a defence against AgentPoison-style poisoning).

    recall = TrustedRecall(min_trust=0.5)
    recall.add("pay the rent for May", "transfer(landlord, 1200)", provenance="agent")
    recall.import_jsonl("community_demos.jsonl", source="community-pack")   # provenance "import"
    recall.set_trust("community-pack", 0.2)                                  # below min_trust
    recall.recall("pay the rent for June")        # only trusted sources are searched
    s = Session(..., recall=recall)                # each prompt carries what it recalls

As a session's recall (`Session(recall=...)`, `%agent new --recall $recall`) the items most like the
task and the current observation go into the system prompt as examples, each marked with its
provenance and source; items of sources below `min_trust` never reach the prompt. The memory
editor lists the sources with their trust and the items recalled for the next prompt (and, on
request, those left out as untrusted).

Every item carries its provenance (`agent`, `user`, `env`, `import`) and its source (a file, a run
id, a name); each source has a trust level (default: 1.0 for the agent's own and the user's items,
`import_trust` — 0.5 — for imports). `recall(query)` ranks items by weighted word overlap (rare
words weigh more, as in BM25) and, unless `trusted_only=False`, leaves out every source below
`min_trust`. AgentPoison's attack puts a few entries with a rare trigger phrase into a memory: a
query with the trigger then retrieves them first. Excluding untrusted sources keeps those entries
out of the prompt whatever the query says (`tests/test_oversight_trust.py` poisons 0.1% of an
imported memory and measures the hijack rate with and without the filter).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

PROVENANCES = ("agent", "user", "env", "import")
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass
class MemoryItem:
    """One remembered demonstration: a situation, what was done, and where it came from."""

    text: str
    action: str
    provenance: str = "agent"
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrustedRecall:
    """A retrieval memory whose items carry provenance and whose sources carry trust."""

    def __init__(self, *, min_trust: float = 0.5, import_trust: float = 0.5, k: int = 3) -> None:
        from .. import validate

        self.items: list[MemoryItem] = []
        self.trust: dict[str, float] = {}
        self.min_trust = validate.number("min_trust", min_trust, minimum=0)
        self.import_trust = validate.number("import_trust", import_trust, minimum=0)
        self.k = validate.number("k", k, minimum=1, integer=True)
        self._df: Counter[str] = Counter()
        self._words: list[set[str]] = []

    def add(self, text: str, action: str, *, provenance: str = "agent", source: str = "") -> MemoryItem:
        if provenance not in PROVENANCES:
            raise ConfigError(f"provenance {provenance!r}; valid: {', '.join(PROVENANCES)}")
        source = source or provenance
        item = MemoryItem(str(text), str(action), provenance, source)
        self.items.append(item)
        ws = set(words(item.text))
        self._words.append(ws)
        self._df.update(ws)
        if source not in self.trust:
            self.trust[source] = self.import_trust if provenance == "import" else 1.0
        return item

    def import_items(self, items: list[dict[str, Any]], *, source: str) -> int:
        """Items (dicts with text and action) from elsewhere: provenance `import`, this source."""
        if not source:
            raise ConfigError("an import needs source= (a file name, a run id, a name you trust or not)")
        for d in items:
            if "text" not in d or "action" not in d:
                raise ConfigError("each imported item needs 'text' and 'action'")
            self.add(d["text"], d["action"], provenance="import", source=source)
        return len(items)

    def import_jsonl(self, path: str | Path, *, source: str | None = None) -> int:
        p = Path(path)
        rows = [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        return self.import_items(rows, source=source or p.name)

    def import_run(self, run: Any, *, source: str | None = None) -> int:
        """The steps of another run (its observations and the actions taken) as imported items."""
        rows = []
        for node in run.nodes.values():
            parent = run.nodes.get(node.parent_id) if node.parent_id is not None else None
            if parent is not None and node.executed and node.action:
                rows.append({"text": parent.observation, "action": node.action})
        return self.import_items(rows, source=source or f"run:{run.id}")

    def set_trust(self, source: str, level: float) -> None:
        if source not in self.trust:
            raise ConfigError(f"no source {source!r}; known: {', '.join(self.trust) or 'none'}")
        self.trust[source] = float(level)

    def sources(self) -> dict[str, dict[str, Any]]:
        """Per source: how many items, which provenance, its trust and whether recall uses it."""
        out: dict[str, dict[str, Any]] = {}
        for item in self.items:
            entry = out.setdefault(item.source, {"items": 0, "provenance": item.provenance})
            entry["items"] += 1
        for source, entry in out.items():
            entry["trust"] = self.trust[source]
            entry["recalled"] = self.trust[source] >= self.min_trust
        return out

    def trusted(self, item: MemoryItem) -> bool:
        """Whether recall uses `item` (its source's trust is at least `min_trust`)."""
        return self.trust[item.source] >= self.min_trust

    def recall(self, query: str, k: int | None = None, *, trusted_only: bool = True) -> list[MemoryItem]:
        """The `k` items most like `query` (rare shared words weigh most), from trusted sources only
        unless `trusted_only=False`."""
        k = self.k if k is None else k
        q = set(words(query))
        n = max(1, len(self.items))
        scored = []
        for i, item in enumerate(self.items):
            if trusted_only and self.trust[item.source] < self.min_trust:
                continue
            shared = q & self._words[i]
            if shared:
                score = sum(math.log(1 + n / self._df[w]) for w in shared)
                scored.append((score, -i, item))
        scored.sort(reverse=True)
        return [item for _, _, item in scored[:k]]

    def render(self, query: str, k: int | None = None) -> str:
        """The recalled items as few-shot lines for a prompt, each marked with where it came from."""
        return "\n".join(
            f"- ({item.provenance}: {item.source}) {item.text} -> {item.action}"
            for item in self.recall(query, k)
        )

    def note(self, query: str) -> str:
        """What a session's prompt carries for `query`: the trusted items recalled, under a heading
        (empty when none is recalled)."""
        lines = self.render(query)
        return f"{NOTE_HEADING}\n{lines}" if lines else ""

    def excluded(self, query: str, k: int | None = None) -> list[MemoryItem]:
        """Items recall without the trust filter would give for `query` that the filter leaves out."""
        return [i for i in self.recall(query, k, trusted_only=False) if not self.trusted(i)]

    def summary(self) -> dict[str, Any]:
        """Small and JSON-able, for the run's config: the threshold and each source's trust."""
        return {
            "min_trust": self.min_trust,
            "sources": {s: {"items": e["items"], "provenance": e["provenance"], "trust": e["trust"]}
                        for s, e in self.sources().items()},
        }  # fmt: skip


NOTE_HEADING = (
    "Examples from memory (similar situations and what was done; each marked with its provenance and source):"
)


def load_recall(path: str | Path, *, trust: float | None = None) -> TrustedRecall:
    """A recall of the demonstrations in a JSONL file (`text`, `action` per line), imported with
    provenance `import` from the file's name; `trust` its trust level (default `import_trust`)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no recall file {str(p)!r}; give a JSONL file of {{'text', 'action'}} lines")
    recall = TrustedRecall()
    try:
        recall.import_jsonl(p)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"recall file {str(p)!r} is not JSONL: {exc}") from None
    if trust is not None:
        recall.set_trust(p.name, trust)
    return recall
