"""`Rooms`: a small room-based text game in the style of TextWorld and BabyAI-Text, for notebook 03.

Each observation describes the room the player stands in (a `-= Name =-` header, a description, what
lies there, the exits) and the inventory. Moving to another room replaces almost every line, unlike a
gridworld map where one step moves one character: the case where the diff-history paper found
prompts getting longer. The goal: fetch the brass key from the study and unlock the garden gate.

    env = Rooms()
    obs, info = env.reset()
    obs, reward, terminated, truncated, info = env.step("go north")

Deterministic; `snapshot()`/`restore()` make rewinds cheap; `WALKTHROUGH` solves it.
"""

from __future__ import annotations

from typing import Any

ROOMS: dict[str, dict[str, Any]] = {
    "Hallway": {
        "text": "A narrow hallway with a worn red carpet. Coats hang on hooks by the front door, "
        "and a grandfather clock ticks slowly against the wall.",
        "exits": {"north": "Kitchen", "east": "Living room", "west": "Study"},
        "items": ["umbrella"],
    },
    "Kitchen": {
        "text": "A bright kitchen that smells of bread. Copper pans hang above a wide oak table; "
        "a back door with a small window leads outside.",
        "exits": {"south": "Hallway", "east": "Pantry", "north": "Garden path"},
        "items": ["bread knife", "apple"],
    },
    "Pantry": {
        "text": "A cool pantry lined with shelves of jars, flour sacks and tins. A single bulb "
        "swings gently from the ceiling.",
        "exits": {"west": "Kitchen"},
        "items": ["jar of honey"],
    },
    "Living room": {
        "text": "A cosy living room with a sagging sofa, a cold fireplace and a stack of old "
        "newspapers. Sunlight falls through lace curtains.",
        "exits": {"west": "Hallway"},
        "items": ["newspaper"],
    },
    "Study": {
        "text": "A quiet study full of books. A heavy desk stands under the window; its top "
        "drawer is half open.",
        "exits": {"east": "Hallway"},
        "items": ["brass key", "letter"],
    },
    "Garden path": {
        "text": "A gravel path between rose beds. At its end a tall iron gate, overgrown with ivy, "
        "closes the way into the garden.",
        "exits": {"south": "Kitchen"},
        "items": [],
    },
}
GOAL = "Fetch the brass key from the study, then unlock the garden gate at the end of the garden path."
# a player who looks around first: kitchen, pantry, living room, then the study and the gate
WALKTHROUGH = [
    "go north", "go east", "go west", "go south", "go east", "go west",
    "go west", "take brass key", "go east", "go north", "go north", "unlock gate",
]  # fmt: skip


class Rooms:
    """The room-based text game (see the module docstring)."""

    name = "rooms"
    task = GOAL
    instructions = "Actions: go north|south|east|west, take ITEM, unlock gate."

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}

    def _fresh(self) -> dict[str, Any]:
        return {
            "room": "Hallway",
            "items": {name: list(room["items"]) for name, room in ROOMS.items()},
            "inventory": [],
            "done": False,
        }

    def _describe(self, message: str) -> str:
        room = ROOMS[self._state["room"]]
        here = self._state["items"][self._state["room"]]
        exits = ", ".join(f"{d} ({to.lower()})" for d, to in room["exits"].items())
        lines = [
            f"-= {self._state['room']} =-",
            room["text"],
            f"You see: {', '.join(here) if here else 'nothing of note'}.",
            f"Exits: {exits}.",
            f"Inventory: {', '.join(self._state['inventory']) or 'nothing'}.",
            message,
        ]
        return "\n".join(lines)

    @property
    def actions(self) -> list[str]:
        room = self._state.get("room", "Hallway")
        moves = [f"go {d}" for d in ROOMS[room]["exits"]]
        takes = [f"take {item}" for item in self._state.get("items", {}).get(room, [])]
        gate = ["unlock gate"] if room == "Garden path" else []
        return moves + takes + gate

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        self._state = self._fresh()
        return self._describe("You are standing in the hallway of an old house."), {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._state.get("done"):
            return "The game is over.", 0.0, True, False, {}
        act = " ".join(action.lower().split())
        room = self._state["room"]
        if act.startswith("go "):
            target = ROOMS[room]["exits"].get(act[3:])
            if target is None:
                return self._describe(f"You cannot go {act[3:]} from here."), 0.0, False, False, {}
            self._state["room"] = target
            return self._describe(f"You walk {act[3:]}."), 0.0, False, False, {}
        if act.startswith("take "):
            item = act[5:]
            if item not in self._state["items"][room]:
                return self._describe(f"There is no {item} here."), 0.0, False, False, {}
            self._state["items"][room].remove(item)
            self._state["inventory"].append(item)
            return self._describe(f"You take the {item}."), 0.0, False, False, {}
        if act == "unlock gate":
            if room != "Garden path":
                return self._describe("There is no gate here."), 0.0, False, False, {}
            if "brass key" not in self._state["inventory"]:
                return self._describe("The gate is locked; you need a key."), 0.0, False, False, {}
            self._state["done"] = True
            return (
                self._describe("The brass key turns: the gate opens onto the garden. You won!"),
                1.0,
                True,
                False,
                {},
            )
        return self._describe(f"I do not understand {action!r}. {self.instructions}"), 0.0, False, False, {}

    def snapshot(self) -> dict[str, Any]:
        return {
            "room": self._state["room"],
            "items": {k: list(v) for k, v in self._state["items"].items()},
            "inventory": list(self._state["inventory"]),
            "done": self._state["done"],
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._state = {
            "room": state["room"],
            "items": {k: list(v) for k, v in state["items"].items()},
            "inventory": list(state["inventory"]),
            "done": state["done"],
        }
