"""How the SIMULATED demo model (`policy`) reads a conversation. Pure Python, no model client.

It sees only the chat messages, like a real model:

- user (or tool) messages carry observations as `Observation:\\n<full text>` or, under diff history,
  `Observation diff:\\n<unified diff, n=0, no file headers>` (`(no change)` when equal); a finished
  HiAgent subgoal arrives as `Subgoal 2 (done): <text>\\nObservation: <its last observation>`
  (any `Subgoal k (...): <text>` header counts, e.g. HiAgent's `(current)` one).
  `read_conversation` replays them in order (applying each diff to the observation before it) and
  keeps every observation it could reconstruct; a diff that does not apply is skipped.
- the system prompt may hold the current plan under a line that is exactly `Current plan:` or
  `Plan:` (the last such line wins), items like `1. [x] find the key`, `2. [>] open the door`,
  `3. [ ] reach the goal`, `4. [-] skipped`; `(empty)` or no items means an empty plan, and no
  such line means no plan at all.
- an observation that reads as a built-in env's (`read_view`: a gridworld map with its `Legend:` line,
  or game24's `Numbers left:` line) gives the state; the newest such one is the current state, so an
  engine message in between (a parse error, a forgotten observation) does not lose track of it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..envs import game24, gridworld

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_MARKER = re.compile(
    r"(?im)^[ \t]*(observation diff|observation|subgoal\s+\d+\s*\([^)\n]*\)|\d+\s+subgoal)[ \t]*:[ \t]*"
)
_SUBGOAL_LINE = re.compile(r"(?im)^[ \t]*subgoal[ \t]*:[ \t]*(.+?)[ \t]*$")
_PLAN_HEADER = re.compile(
    r"(?im)^[ \t]*(current plan|plan)[ \t]*:[ \t]*(?:\(?(?:empty|none|no plan yet)\)?\.?)?[ \t]*$"
)
_PLAN_ITEM = re.compile(r"^\s*(\d+)[.)]\s*(?:\[([^\]]{0,12})\]\s*)?(.+?)\s*$")
_STATUS_WORDS = {
    "": "todo", " ": "todo", "todo": "todo", "pending": "todo",
    ">": "doing", "doing": "doing", "in progress": "doing", "current": "doing", "*": "doing",
    "x": "done", "done": "done", "✓": "done", "✔": "done",
    "-": "skipped", "skipped": "skipped", "skip": "skipped", "~": "doing",
}  # fmt: skip
MARKS = {"todo": " ", "doing": ">", "done": "x", "skipped": "-"}


def message_text(message: Any) -> str:
    """The text of a chat message whose content is a string, a list of parts, or missing."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return str(content)


def apply_diff(old: str, diff: str) -> str | None:
    """`old` with an n=0 unified diff applied (the text is compared stripped, line by line).

    Returns None when the diff has no hunks or does not fit `old`.
    """
    if diff.strip() == "(no change)":
        return old.strip()
    source = old.strip().splitlines()
    hunks: list[tuple[int, int, list[str]]] = []
    for line in diff.strip("\n").splitlines():
        if m := _HUNK.match(line):
            count = 1 if m.group(2) is None else int(m.group(2))
            hunks.append((int(m.group(1)), count, []))
        elif hunks and line.startswith("+"):
            hunks[-1][2].append(line[1:])
    if not hunks:
        return None
    out: list[str] = []
    pos = 0
    for start, count, added in hunks:
        begin = start - 1 if count > 0 else start  # count 0: insert after line `start`
        if begin < pos or begin + count > len(source):
            return None
        out += source[pos:begin] + added
        pos = begin + count
    return "\n".join(out + source[pos:])


def parse_plan(system: str) -> list[tuple[str, str]] | None:
    """[(status, text)] of the plan shown in the system prompt; None if it shows no plan."""
    headers = list(_PLAN_HEADER.finditer(system))
    if not headers:
        return None
    current = [h for h in headers if h.group(1).lower() == "current plan"]
    header = (current or headers)[-1]
    items: list[tuple[str, str]] = []
    for line in system[header.end() :].splitlines():
        if not line.strip():
            if items:
                break
            continue
        m = _PLAN_ITEM.match(line)
        if m is None:
            break
        status = _STATUS_WORDS.get((m.group(2) or "").strip().lower() or "", "todo")
        items.append((status, m.group(3)))
    return items


def render_plan(items: list[tuple[str, str]]) -> str:
    return "\n".join(f"{n}. [{MARKS[s]}] {t}" for n, (s, t) in enumerate(items, start=1))


def subgoal_line(text: str) -> str | None:
    """What the first `Subgoal:` line of `text` (one of the model's answers, a prompt) says, if any."""
    m = _SUBGOAL_LINE.search(text)
    return m.group(1) if m else None


@dataclass
class Conversation:
    system: str = ""
    instructions: str = ""  # the system prompt, or the first user message when there is none
    observations: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)  # ("answer" | "subgoal", text)
    fingerprint: str = ""
    last_user: str = ""  # the text of the last message from the user (not system, assistant or tool)

    @property
    def answers(self) -> list[str]:
        return [text for kind, text in self.events if kind == "answer"]

    @property
    def observation(self) -> str:
        return self.observations[-1] if self.observations else ""

    def last_subgoal(self) -> str | None:
        for kind, text in reversed(self.events):
            found = text if kind == "subgoal" else subgoal_line(text)
            if found:
                return found
        return None

    def views(self) -> list[View]:
        """The view (`read_view`) of every observation that reads as a built-in env, oldest first."""
        return [view for obs in self.observations if (view := read_view(obs)) is not None]

    def latest_view(self) -> View:
        """The view of the newest observation that reads as a built-in env, or ("", None)."""
        for obs in reversed(self.observations):
            if (view := read_view(obs)) is not None:
                return view
        return "", None


def read_conversation(messages: Any) -> Conversation:
    """Replay `messages` (a list of chat dicts; anything else is ignored) into a Conversation."""
    conv = Conversation()
    system: list[str] = []
    first_user = last_user = ""
    seen: list[str] = []  # each message as JSON [role, text]
    current: str | None = None
    for message in messages if isinstance(messages, list) else []:
        text = message_text(message)
        role = str(message.get("role", "")) if isinstance(message, dict) else ""
        seen.append(_encoded(role, text))
        if role == "system":
            system.append(text)
            continue
        if role == "assistant":
            conv.events.append(("answer", text))
            continue
        if role == "tool":  # a tool's result: under the built-in action tools, the env's observation
            current = text.strip()
            conv.observations.append(current)
            continue
        first_user, last_user = first_user or text, text
        for kind, body in _sections(text):
            if kind == "observation diff":
                new = _applied(current, body) if current is not None else None
                if new is None:
                    continue
                current = new
            elif kind == "observation":
                current = body
            else:
                conv.events.append(("subgoal", body))
                continue
            conv.observations.append(current)
    if not conv.observations and last_user.strip():
        conv.observations.append(last_user.strip())  # no marker at all: read the message itself
    conv.system = "\n".join(system)
    conv.instructions = conv.system or first_user
    conv.fingerprint = "[" + ", ".join(seen) + "]"  # == json.dumps([[role, text], ...])
    conv.last_user = last_user
    return conv


# A prompt repeats the messages of the prompts before it, so each message text is read once and each
# diff applied once (per base text); the caches are cleared when they grow past their bound.
_CACHE_MAX = 20_000
_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {}
_APPLIED: dict[tuple[str, str], str | None] = {}


def _sections(text: str) -> tuple[tuple[str, str], ...]:
    """(kind, body) of each marked section of a user message, in order: "observation" (body
    stripped), "observation diff" (body as written) or a subgoal header (its first line)."""
    hit = _SECTIONS.get(text)
    if hit is not None:
        return hit
    markers = list(_MARKER.finditer(text))
    out = []
    for k, marker in enumerate(markers):
        end = markers[k + 1].start() if k + 1 < len(markers) else len(text)
        body = text[marker.end() : end]
        kind = marker.group(1).lower()
        if kind == "observation":
            body = body.strip()
        elif kind != "observation diff":
            body = body.strip().splitlines()[0] if body.strip() else ""
        out.append((kind, body))
    if len(_SECTIONS) >= _CACHE_MAX:
        _SECTIONS.clear()
    _SECTIONS[text] = hit = tuple(out)
    return hit


_ENCODED: dict[tuple[str, str], str] = {}


def _encoded(role: str, text: str) -> str:
    key = (role, text)
    hit = _ENCODED.get(key)
    if hit is None:
        if len(_ENCODED) >= _CACHE_MAX:
            _ENCODED.clear()
        hit = _ENCODED[key] = json.dumps([role, text], ensure_ascii=False)
    return hit


def _applied(old: str, diff: str) -> str | None:
    key = (old, diff)
    if key in _APPLIED:
        return _APPLIED[key]
    if len(_APPLIED) >= _CACHE_MAX:
        _APPLIED.clear()
    _APPLIED[key] = new = apply_diff(old, diff)
    return new


# --- the built-in envs' states, as the answers read and name them --------------------------------------
View = tuple[str, Any]  # ("gridworld", (GridState, message)) or ("game24", (numbers, steps))
PHASE_GOALS = {"key": "pick up the key", "door": "open the door", "goal": "reach the goal"}
_VIEWS: dict[str, View | None] = {}  # observation text -> its view; a prompt repeats them


def read_view(text: str) -> View | None:
    """("gridworld", (GridState, message)) or ("game24", (numbers, steps)) when `text` reads as a
    built-in env's observation, else None. Each text is parsed once; game24's lists are fresh copies."""
    if text in _VIEWS:
        view = _VIEWS[text]
    else:
        view = None
        if (grid := gridworld.parse_observation(text)) is not None:
            view = ("gridworld", grid)  # (frozen GridState, message)
        elif (numbers := game24.parse_observation(text)) is not None:
            view = ("game24", (tuple(numbers[0]), tuple(numbers[1])))
        if len(_VIEWS) >= _CACHE_MAX:
            _VIEWS.clear()
        _VIEWS[text] = view
    if view is not None and view[0] == "game24":
        return "game24", (list(view[1][0]), list(view[1][1]))
    return view


def phases_left(state: gridworld.GridState) -> list[str]:
    """The gridworld subgoals still open, in order: the key, the door (if locked), the goal."""
    still = {"key": ("key", "door"), "door": ("door",)}.get(gridworld.phase(state), ())
    return [PHASE_GOALS[p] for p in (*still, "goal")]


def outlook24(numbers: list[Any]) -> tuple[bool, bool]:
    """(24 is made, 24 is made or can still be made) for game24's numbers left."""
    made = len(numbers) == 1 and numbers[0] == game24.TARGET
    return made, made or (len(numbers) > 1 and game24.solve24(numbers) is not None)


def moves_text(n: int) -> str:
    return "1 move" if n == 1 else f"{n} moves"
