"""Cassettes: record real model calls to JSONL and play them back offline.

`Model("openai/gpt-4o-mini", record="run.jsonl")` appends one line per successful call:

    {"request": {"model": ..., "messages": [...], "params": {...}},
     "response": {"text": ..., "prompt_tokens": ..., "completion_tokens": ...}}

Everything written goes through `workbench.safety.redact.redact_obj`, and `params` holds only
non-secret keyword arguments, so a cassette can be committed next to a notebook.

`Model("workbench/replay", cassette="run.jsonl")` answers each request by the sha256 of the
canonical JSON of its (redacted) messages. A request recorded several times gets its answers in
the recorded order, then the last one again. A request with no recording raises `ReplayMissError`.
Each replaying `Model` has its own `Player`, so two models replaying the same file do not share
their positions.

A cassette made by `workbench record` starts with one header line that says what it is:

    {"cassette": {"name": ..., "model": ..., "label": "real" | "simulated", "recorded_at": ISO date,
                  "session": {"env": ..., "task": ..., "strategy": ..., "memory": ..., ...}, ...}}

`cassette_header(path)` reads it ({} for a file without one); replay skips it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ReplayMissError
from ..safety.redact import public_kwargs, redact_obj

_SNIPPET = 120


def canonical_messages(messages: Sequence[Mapping[str, Any]]) -> str:
    """The canonical JSON text of `messages` (sorted keys, no spaces), after redaction."""
    plain = [dict(m) for m in messages]
    return json.dumps(
        redact_obj(plain), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def request_key(messages: Sequence[Mapping[str, Any]]) -> str:
    """The stable key a cassette files a request under."""
    return hashlib.sha256(canonical_messages(messages).encode("utf-8")).hexdigest()


def _last_message_start(messages: Sequence[Mapping[str, Any]]) -> str:
    if not messages:
        return "(no messages)"
    content = messages[-1].get("content")
    text = content if isinstance(content, str) else json.dumps(content, default=str)
    text = " ".join(str(redact_obj(text)).split())
    return text[:_SNIPPET] + ("..." if len(text) > _SNIPPET else "")


class Recorder:
    """Appends calls to a cassette file (thread-safe; one JSON object per line)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any],
        text: str,
        prompt_tokens: int,
        completion_tokens: int,
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> None:
        entry = {
            "request": {
                "model": model,
                "messages": [dict(m) for m in messages],
                "params": public_kwargs(params),
            },
            "response": {
                "text": text,
                "prompt_tokens": int(prompt_tokens),
                "completion_tokens": int(completion_tokens),
                **({"tool_calls": tool_calls} if tool_calls else {}),
            },
        }
        line = json.dumps(redact_obj(entry), ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")


HEADER = "cassette"


def write_header(path: str | Path, header: Mapping[str, Any]) -> None:
    """Start a new cassette file at `path` with its header line (redacted)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({HEADER: redact_obj(dict(header))}, ensure_ascii=False, default=str)
    path.write_text(line + "\n", encoding="utf-8")


def cassette_header(path: str | Path) -> dict[str, Any]:
    """The header of a cassette file (what `workbench record` wrote first), or {} if it has none."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return {}
                head = first.get(HEADER) if isinstance(first, dict) else None
                return dict(head) if isinstance(head, dict) else {}
    return {}


def read_cassette(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a cassette file, in order; raises ConfigError for a missing or broken file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"replay cassette not found: {path}. Record one with a real model first, e.g. "
            f"Model('openai/gpt-4o-mini', record={str(path)!r})"
        )
    entries = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not entries and isinstance(entry, dict) and isinstance(entry.get(HEADER), dict):
                    continue  # the header line of `workbench record`
                ok = isinstance(entry["request"]["messages"], list) and isinstance(
                    entry["response"]["text"], str
                )
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                raise ConfigError(
                    f"{path}, line {number} is not a cassette entry (expected "
                    '{"request": {"messages": [...]}, "response": {"text": ...}}); '
                    "re-record the file with Model(<model>, record=...)"
                )
            entries.append(entry)
    return entries


class Player:
    """Answers requests from one cassette, keeping its own position per request."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._answers: dict[str, list[dict[str, Any]]] = {}
        for entry in read_cassette(self.path):
            key = request_key(entry["request"]["messages"])
            self._answers.setdefault(key, []).append(entry["response"])
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(v) for v in self._answers.values())

    def answer(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The next recorded response for `messages`: {"text", "prompt_tokens", "completion_tokens"}."""
        key = request_key(messages)
        with self._lock:
            answers = self._answers.get(key)
            if not answers:
                raise ReplayMissError(
                    f"replay cassette {self.path.name} has no recorded answer for this request "
                    f"(last message starts: {_last_message_start(messages)!r}). The run has gone "
                    f"off the recorded path: re-record with a real model, e.g. "
                    f"Model('openai/gpt-4o-mini', record={str(self.path)!r}), or replay the same "
                    "task, settings and edits that were recorded."
                )
            index = self._served.get(key, 0)
            self._served[key] = index + 1
            return dict(answers[min(index, len(answers) - 1)])


_players: weakref.WeakValueDictionary[str, Player] = weakref.WeakValueDictionary()
_shared: dict[str, Player] = {}
_registry_lock = threading.Lock()


def register_player(player_id: str, player: Player) -> None:
    """Make `player` reachable by id from the replay provider (held weakly: its Model owns it)."""
    with _registry_lock:
        _players[player_id] = player


def find_player(cassette: str | Path, player_id: str | None = None) -> Player:
    """The player registered under `player_id`, else one shared player per cassette file."""
    with _registry_lock:
        if player_id is not None:
            player = _players.get(player_id)
            if player is not None:
                return player
        resolved = str(Path(cassette).resolve())
        if resolved not in _shared:
            _shared[resolved] = Player(cassette)
        return _shared[resolved]
