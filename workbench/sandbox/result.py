"""What one cell produced (`CellResult`), its CodeAct observation, and bounded output buffers."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

NO_OUTPUT = "[Executed Successfully with No Output]"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
TRACEBACK_LINES = 20


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def cut_marker(n: int) -> str:
    return f"\n[... {n:,} characters cut ...]\n"


class CappedText:
    """A text stream that keeps at most `head + tail` characters and counts what it dropped.

    The first `head` characters are kept; after that only the last `tail`, so memory stays bounded
    however much arrives (100 MB of prints cost `head + tail` characters here)."""

    def __init__(self, head: int, tail: int) -> None:
        self.head_limit, self.tail_limit = head, tail
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self.dropped = 0

    def add(self, text: str) -> None:
        if not text:
            return
        room = self.head_limit - self._head_len
        if room > 0 and not self.dropped and not self._tail:
            self._head.append(text[:room])
            self._head_len += min(room, len(text))
            text = text[room:]
            if not text:
                return
        if len(text) > self.tail_limit:
            self.dropped += len(text) - self.tail_limit
            text = text[-self.tail_limit :]
        self._tail.append(text)
        self._tail_len += len(text)
        while self._tail_len > self.tail_limit:
            first = self._tail[0]
            excess = self._tail_len - self.tail_limit
            if len(first) <= excess:
                self._tail.popleft()
                self._tail_len -= len(first)
                self.dropped += len(first)
            else:
                self._tail[0] = first[excess:]
                self._tail_len -= excess
                self.dropped += excess

    def skip(self, n: int) -> None:
        """Count `n` characters that were dropped before they got here (by the kernel's own cap)."""
        if n > 0:
            self.dropped += n  # from now on text goes after the gap, to the tail

    def text(self) -> str:
        head = "".join(self._head)
        tail = "".join(self._tail)
        return head + cut_marker(self.dropped) + tail if self.dropped else head + tail


@dataclass
class CellResult:
    """The outcome of one cell run in a `Sandbox`.

    `stdout`/`stderr` are already bounded (a `[... N characters cut ...]` marker shows where);
    `result` is the text/plain repr of the last expression; `displays` are one-line notes for rich
    outputs (never their data); `error` is None or {"ename", "evalue", "traceback"} with the traceback
    as plain text (no ANSI codes, last 20 lines)."""

    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    displays: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    timed_out: bool = False
    restarted: bool = False
    duration: float = 0.0
    timeout: float | None = None
    notes: list[str] = field(default_factory=list)
    max_output_chars: int = 2000

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    def observation(self) -> str:
        """The text the agent sees (CodeAct): output, result, display notes, then the traceback."""
        parts = [p for p in (self.stdout, self.stderr) if p]
        if self.result is not None:
            parts.append(self.result)
        parts.extend(self.displays)
        if self.error is not None:
            parts.append(self.error.get("traceback") or f"{self.error['ename']}: {self.error['evalue']}")
        text = "\n".join(p.rstrip("\n") for p in parts)
        notes = list(self.notes)
        if self.timed_out:
            limit = f"{self.timeout:g}s" if self.timeout is not None else "its time limit"
            if self.restarted:
                notes.insert(
                    0,
                    f"[Timeout: the cell ran longer than {limit} and was interrupted; "
                    "the kernel was restarted, so variables are gone]",
                )
            else:
                notes.insert(0, f"[Timeout: the cell ran longer than {limit} and was interrupted]")
        text = truncate(text, self.max_output_chars)
        if notes:
            text = "\n".join([text, *notes]) if text else "\n".join(notes)
        return text or NO_OUTPUT

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["observation"] = self.observation()
        return data


def truncate(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, keeping its start and end, with a marker for the cut."""
    if len(text) <= limit:
        return text
    keep_head = limit // 2
    keep_tail = limit - keep_head
    middle = text[keep_head : len(text) - keep_tail]
    cut = len(middle)
    # a marker already inside the cut part folds into the new one
    for m in re.finditer(r"\n\[\.\.\. ([\d,]+) characters cut \.\.\.\]\n", middle):
        cut += int(m.group(1).replace(",", "")) - len(m.group(0))
    return text[:keep_head] + cut_marker(cut) + text[len(text) - keep_tail :]


def trim_traceback(lines: list[str]) -> str:
    """ANSI-free traceback text, at most the last `TRACEBACK_LINES` lines."""
    text = strip_ansi("\n".join(lines))
    rows = [row for row in text.splitlines() if row.strip("-")]  # drop IPython's rule of dashes
    if len(rows) > TRACEBACK_LINES:
        rows = [f"[... {len(rows) - TRACEBACK_LINES} traceback lines cut ...]", *rows[-TRACEBACK_LINES:]]
    return "\n".join(rows)


def display_note(data: dict[str, Any]) -> str | None:
    """A one-line note for a rich output: its type and size, never its data. None for plain text."""
    rich = [k for k in data if k != "text/plain" and not k.startswith("application/x-workbench")]
    if not rich:
        return None
    mime = next((k for k in rich if k.startswith("image/")), rich[0])
    size = len(str(data[mime]))
    if mime.startswith("image/") and mime != "image/svg+xml":
        size = size * 3 // 4  # base64
    shown = f"{size / 1024:.1f} KB"
    plain = data.get("text/plain")
    extra = f" {plain[:80]!s}" if isinstance(plain, str) and plain and not plain.startswith("<") else ""
    return f"[{mime} output, {shown}: not shown]{extra}"
