"""GridWorld: a small seeded maze with a key, a locked door and a goal (BabyAI-Text in spirit).

A wall splits the room in two. The agent and the key start on one side; the goal is on the other,
behind a locked door in the dividing wall. A few extra wall cells make each side a small maze.
Every layout comes from `seed` and is checked solvable (`route` finds the key-door-goal path).

Observation (the full text every step; consecutive observations differ in a few lines only, which
is where diff history pays):

    Map (north is up):
    #########
    #A..#...#
    #.#.#.#.#
    #.K.D.G.#
    #########
    Legend: # wall, . floor, A you, K key, D locked door, / open door, G goal
    Inventory: nothing
    Message: you moved east.

Actions: see `INSTRUCTIONS`; parsing forgives case, extra words and a trailing period ("North.",
"move left", "pick up the key"). Walls, the key and a locked door block movement.

An invalid action changes nothing, not even the step count: the observation's message says why and
lists the valid actions. Reaching the goal ends the episode with the BabyAI reward
`1 - 0.9 * steps / max_steps`; after `max_steps` valid actions the episode is truncated (reward 0).
`reset()` without a seed restarts the same layout, so replaying an action prefix is deterministic.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ConfigError

Cell = tuple[int, int]

MOVES: dict[str, Cell] = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}
LEGEND = "Legend: # wall, . floor, A you, K key, D locked door, / open door, G goal"
MAP_HEADER = "Map (north is up):"
DEFAULT_TASK = (
    "Reach the goal G. It lies behind a locked door D: pick up the key K first, "
    "then open the door, then walk to the goal."
)
INSTRUCTIONS = """Actions (one per step):
  go north | go south | go east | go west   move one cell (north is up on the map)
  pick up key    take the key from a cell next to you (north, south, east or west of you)
  open door      unlock the door next to you; you must hold the key
Walls (#), the key (K) and a locked door (D) block movement. Stepping onto G ends the episode."""

_DIRECTION_WORDS = {
    "north": "north", "n": "north", "up": "north", "south": "south", "s": "south", "down": "south",
    "east": "east", "e": "east", "right": "east", "west": "west", "w": "west", "left": "west",
}  # fmt: skip
_MOVE_RE = re.compile(
    r"^(?:(?:go|move|walk|step|head)\s+)?(?:(?:to\s+the|one\s+step|one\s+cell)\s+)?"
    r"(north|south|east|west|up|down|left|right|n|s|e|w)(?:ward|wards)?$"
)
_KEY_RE = re.compile(r"^(?:pick\s*up|take|get|grab|collect)\s+(?:up\s+)?(?:the\s+)?key(?:\s+up)?$")
_DOOR_RE = re.compile(r"^(?:open|unlock)\s+(?:the\s+)?(?:locked\s+)?door$|^use\s+(?:the\s+)?key.*$")
_MAP_LINE = re.compile(r"^[#.AKD/G]{3,}$")


def parse_action(text: str) -> str | None:
    """The canonical action ("go north", "pick up key", "open door") for `text`, or None."""
    cleaned = " ".join(str(text).lower().replace("_", " ").split())
    cleaned = cleaned.strip(" .!'\"`")
    if cleaned.startswith("action:"):
        cleaned = cleaned[len("action:") :].strip(" .!'\"`")
    if m := _MOVE_RE.match(cleaned):
        return f"go {_DIRECTION_WORDS[m.group(1)]}"
    if _KEY_RE.match(cleaned):
        return "pick up key"
    if _DOOR_RE.match(cleaned):
        return "open door"
    return None


@dataclass(frozen=True)
class GridState:
    """Everything about one moment of the game. `walls` holds only '#' and '.' characters."""

    walls: tuple[str, ...]
    agent: Cell
    key: Cell | None  # None once picked up (or not visible)
    door: Cell | None  # None when not visible (e.g. the agent stands in the open doorway)
    door_open: bool
    goal: Cell | None  # None when the agent stands on it
    has_key: bool = False

    def free(self, cell: Cell) -> bool:
        """Whether the agent may step onto `cell`."""
        r, c = cell
        if not (0 <= r < len(self.walls) and 0 <= c < len(self.walls[r])):
            return False
        if self.walls[r][c] == "#" or cell == self.key:
            return False
        return not (cell == self.door and not self.door_open)

    @property
    def at_goal(self) -> bool:
        return self.goal is None or self.agent == self.goal


def neighbours(cell: Cell) -> list[tuple[str, Cell]]:
    return [(d, (cell[0] + dr, cell[1] + dc)) for d, (dr, dc) in MOVES.items()]


def _adjacent(a: Cell, b: Cell | None) -> bool:
    return b is not None and abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1


def valid_actions(state: GridState) -> list[str]:
    """The actions that would change the state, in a fixed order."""
    out = [f"go {d}" for d, cell in neighbours(state.agent) if state.free(cell)]
    if not state.has_key and _adjacent(state.agent, state.key):
        out.append("pick up key")
    if state.has_key and not state.door_open and _adjacent(state.agent, state.door):
        out.append("open door")
    return out


def _blocked_reason(state: GridState, direction: str, cell: Cell) -> str:
    if cell == state.key:
        return f"the key is in the way to the {direction}; pick it up with 'pick up key'"
    if cell == state.door and not state.door_open:
        return f"the locked door is in the way to the {direction}; open it with 'open door'"
    return f"a wall is in the way to the {direction}"


def transition(state: GridState, action: str) -> tuple[GridState, str, bool]:
    """(new state, message, valid). An invalid action returns `state` itself and says why."""
    verb = parse_action(action)
    reason = ""
    if verb is None:
        shown = " ".join(str(action).split())[:40]
        reason = f"Invalid action {shown!r}: not understood"
    elif verb.startswith("go "):
        direction = verb[3:]
        dr, dc = MOVES[direction]
        cell = (state.agent[0] + dr, state.agent[1] + dc)
        if state.free(cell):
            new = replace(state, agent=cell)
            if new.at_goal:
                return new, f"you moved {direction} and reached the goal!", True
            return new, f"you moved {direction}.", True
        reason = f"Invalid action {verb!r}: {_blocked_reason(state, direction, cell)}"
    elif verb == "pick up key":
        if state.has_key:
            reason = "Invalid action 'pick up key': you already hold the key"
        elif not _adjacent(state.agent, state.key):
            reason = "Invalid action 'pick up key': the key is not next to you"
        else:
            return replace(state, key=None, has_key=True), "you picked up the key.", True
    else:  # open door
        if state.door_open:
            reason = "Invalid action 'open door': the door is already open"
        elif not _adjacent(state.agent, state.door):
            reason = "Invalid action 'open door': the door is not next to you"
        elif not state.has_key:
            reason = "Invalid action 'open door': the door is locked and you do not hold the key"
        else:
            return replace(state, door_open=True), "you unlocked and opened the door.", True
    valid = ", ".join(valid_actions(state)) or "none"
    return state, f"{reason}. Valid actions now: {valid}.", False


def render(state: GridState, message: str) -> str:
    rows = [list(row) for row in state.walls]

    def put(cell: Cell | None, ch: str) -> None:
        if cell is not None:
            rows[cell[0]][cell[1]] = ch

    put(state.goal, "G")
    put(state.door, "/" if state.door_open else "D")
    put(state.key, "K")
    put(state.agent, "A")
    inventory = "key" if state.has_key else "nothing"
    lines = [
        MAP_HEADER,
        *("".join(r) for r in rows),
        LEGEND,
        f"Inventory: {inventory}",
        f"Message: {message}",
    ]
    return "\n".join(lines)


def parse_observation(text: str) -> tuple[GridState, str] | None:
    """Read a rendered observation back into (state, message); None if it is not a gridworld map."""
    lines = [line.strip() for line in str(text).splitlines()]
    start = next((i for i, line in enumerate(lines) if _MAP_LINE.match(line)), None)
    if start is None:
        return None
    end = start
    while end < len(lines) and _MAP_LINE.match(lines[end]):
        end += 1
    rows = lines[start:end]
    found: dict[str, list[Cell]] = {ch: [] for ch in "AKD/G"}
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            if ch in found:
                found[ch].append((r, c))
    if len(rows) < 3 or len(found["A"]) != 1 or any(len(found[ch]) > 1 for ch in "KG"):
        return None
    if len(found["D"]) + len(found["/"]) > 1:
        return None
    walls = tuple("".join("#" if ch == "#" else "." for ch in row) for row in rows)
    door = (found["D"] or found["/"] or [None])[0]
    inventory = next((line for line in lines if line.lower().startswith("inventory:")), "")
    message = next(
        (line[len("message:") :].strip() for line in lines if line.lower().startswith("message:")), ""
    )
    state = GridState(
        walls=walls,
        agent=found["A"][0],
        key=(found["K"] or [None])[0],
        door=door,
        door_open=not found["D"],
        goal=(found["G"] or [None])[0],
        has_key="key" in inventory.lower(),
    )
    return state, message


def distances(state: GridState, targets: set[Cell]) -> dict[Cell, int]:
    """BFS distance from every reachable free cell to the nearest cell of `targets`."""
    dist = {t: 0 for t in targets if state.free(t) or t == state.agent}
    queue = deque(dist)
    while queue:
        cell = queue.popleft()
        for _, nxt in neighbours(cell):
            if nxt not in dist and (state.free(nxt) or nxt == state.agent):
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return dist


def path_to(state: GridState, targets: set[Cell]) -> list[str] | None:
    """The moves of one shortest path from the agent into `targets` (fixed tie-breaking)."""
    dist = distances(state, targets)
    if state.agent not in dist:
        return None
    moves, cell = [], state.agent
    while dist[cell] > 0:
        direction, cell = next((d, n) for d, n in neighbours(cell) if dist.get(n) == dist[cell] - 1)
        moves.append(f"go {direction}")
    return moves


def phase(state: GridState) -> str:
    """What the task needs next: "key", "door", "goal" or "done"."""
    if state.at_goal:
        return "done"
    if state.door is not None and not state.door_open:
        return "door" if state.has_key else "key"
    return "goal"


def route(state: GridState) -> list[str] | None:
    """A shortest key -> door -> goal action sequence from `state` (phase by phase), or None."""
    actions: list[str] = []
    while (step := phase(state)) != "done":
        if step == "goal":
            assert state.goal is not None
            targets, final = {state.goal}, None
        else:
            obj = state.key if step == "key" else state.door
            if obj is None:
                return None
            targets = {cell for _, cell in neighbours(obj) if state.free(cell) or cell == state.agent}
            final = "pick up key" if step == "key" else "open door"
        moves = path_to(state, targets)
        if moves is None:
            return None
        for action in [*moves, *([final] if final else [])]:
            state, _, ok = transition(state, action)
            if not ok:
                return None
            actions.append(action)
    return actions


def _connected(walls: list[list[str]], cells: list[Cell]) -> bool:
    free = {c for c in cells if walls[c[0]][c[1]] == "."}
    if not free:
        return False
    seen, queue = set(), deque([next(iter(free))])
    while queue:
        cell = queue.popleft()
        if cell in seen:
            continue
        seen.add(cell)
        queue.extend(n for _, n in neighbours(cell) if n in free and n not in seen)
    return seen == free


def generate(size: int, rng: random.Random) -> GridState:
    """A random solvable layout on a `size` x `size` grid (outer walls included)."""
    for _ in range(200):
        split = rng.randint(3, size - 4)
        walls = [
            ["#" if r in (0, size - 1) or c in (0, size - 1, split) else "." for c in range(size)]
            for r in range(size)
        ]
        door = (rng.randint(1, size - 2), split)
        walls[door[0]][split] = "."
        near_door = {(door[0], split - 1), (door[0], split + 1)}
        left = [(r, c) for r in range(1, size - 1) for c in range(1, split)]
        right = [(r, c) for r in range(1, size - 1) for c in range(split + 1, size - 1)]
        for side in (left, right):
            budget = len(side) // 5
            for r, c in rng.sample(side, len(side)):
                if budget == 0:
                    break
                if (r, c) in near_door:
                    continue
                walls[r][c] = "#"
                if _connected(walls, side):
                    budget -= 1
                else:
                    walls[r][c] = "."
        free_left = [c for c in left if walls[c[0]][c[1]] == "." and c not in near_door]
        free_right = [c for c in right if walls[c[0]][c[1]] == "." and c not in near_door]
        if len(free_left) < 2 or not free_right:
            continue
        agent, key = rng.sample(free_left, 2)
        goal = rng.choice(free_right)
        grid = ["".join(row) for row in walls]
        cells = [agent, key, door, goal]
        if rng.random() < 0.5:  # a horizontal dividing wall instead of a vertical one
            grid = ["".join(row[c] for row in grid) for c in range(size)]
            cells = [(c, r) for r, c in cells]
        state = GridState(tuple(grid), cells[0], cells[1], cells[2], False, cells[3])
        if route(state) is not None:
            return state
    raise RuntimeError(f"could not generate a solvable {size}x{size} layout")  # pragma: no cover


class GridWorld:
    """The key-door-goal maze. Options: `size` (7..15), `max_steps`, `seed`, `task`."""

    name = "gridworld"
    instructions = INSTRUCTIONS

    def __init__(self, size: int = 9, max_steps: int = 60, seed: int = 0, task: str | None = None) -> None:
        if not isinstance(size, int) or not 7 <= size <= 15:
            raise ConfigError(f"gridworld size must be an integer from 7 to 15, got {size!r}")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be a positive integer, got {max_steps!r}")
        self.size = size
        self.max_steps = max_steps
        self.seed = seed
        self.task = task or DEFAULT_TASK
        self._start(seed)

    def _start(self, seed: int) -> None:
        self.seed = seed
        self.state = generate(self.size, random.Random(f"gridworld:{self.size}:{seed}"))
        self.steps = 0
        self.message = "find the key, open the door and reach the goal."

    @property
    def terminated(self) -> bool:
        return self.state.at_goal

    @property
    def truncated(self) -> bool:
        return not self.terminated and self.steps >= self.max_steps

    @property
    def observation(self) -> str:
        return render(self.state, self.message)

    @property
    def actions(self) -> list[str]:
        return [] if self.terminated or self.truncated else valid_actions(self.state)

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {"seed": self.seed, "steps": self.steps, "max_steps": self.max_steps, **extra}

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        """Start again: the same layout without a seed, layout number `seed` with one."""
        self._start(self.seed if seed is None else seed)
        return self.observation, self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.terminated or self.truncated:
            over = "the goal was reached" if self.terminated else "no steps are left"
            text = render(self.state, f"Invalid action: the episode is over ({over}); call reset().")
            return text, 0.0, self.terminated, self.truncated, self._info(valid=False)
        state, message, valid = transition(self.state, action)
        if not valid:
            return render(self.state, message), 0.0, False, False, self._info(valid=False)
        self.state, self.steps = state, self.steps + 1
        reward = 0.0
        if self.terminated:
            reward = 1.0 - 0.9 * self.steps / self.max_steps
        elif self.truncated:
            message += " You are out of steps."
        self.message = message
        return self.observation, reward, self.terminated, self.truncated, self._info(valid=True)

    def snapshot(self) -> dict[str, Any]:
        grid = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self.state).items()}
        return {"grid": grid, "steps": self.steps, "message": self.message, "seed": self.seed}

    def restore(self, state: dict[str, Any]) -> None:
        grid = {k: tuple(v) if isinstance(v, list) else v for k, v in state["grid"].items()}
        self.state = GridState(**grid)
        self.steps = int(state["steps"])
        self.message = str(state["message"])
        self.seed = state.get("seed", self.seed)
