"""`Prompt`: the messages of one model call, kept as views on lists shared with other calls.

Under full memory the prompt of step n repeats the n-1 steps before it. Kept as a fresh list per call,
the run's calls would hold n^2/2 message references at step n (and a fresh dict per message, as
before this module: gigabytes at a few thousand steps). A `Prompt` is a read-only sequence made of
parts `(backing, start, stop)`, each a view on a list that is only ever appended to, so a call costs
the memory of what is new in it: the memory policy appends each step's messages to one list per
branch (see `workbench.memory.steps`) and every later prompt on that branch views a longer prefix.

It reads like a list of message dicts (`len`, indexing, slicing, iteration, `==` with a list), and
`list(prompt)` or `to_list()` gives a plain list, which is what goes to a provider or into JSON.
The dicts are shared between calls: treat them as read-only (`Model` copies them before litellm sees
them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

Message = dict[str, Any]
Part = tuple[list[Message], int, int]


class Prompt(Sequence[Message]):
    """A read-only list of chat messages made of views on shared, append-only lists."""

    __slots__ = ("_parts", "_len")

    def __init__(self, parts: Sequence[Part] = ()) -> None:
        kept = tuple((backing, start, stop) for backing, start, stop in parts if stop > start)
        self._parts: tuple[Part, ...] = kept
        self._len = sum(stop - start for _, start, stop in kept)

    @classmethod
    def of(cls, *pieces: Sequence[Message]) -> Prompt:
        """`pieces` joined: a Prompt contributes its views, anything else is taken as one part.

        A list passed here is viewed, not copied: the caller must not change it afterwards."""
        parts: list[Part] = []
        for piece in pieces:
            if isinstance(piece, Prompt):
                parts.extend(piece._parts)
            elif piece:
                items = piece if isinstance(piece, list) else list(piece)
                parts.append((items, 0, len(items)))
        return cls(parts)

    @property
    def parts(self) -> int:
        """How many views make this prompt (one per shared list, plus one per literal run)."""
        return len(self._parts)

    def shares_with(self, other: Prompt) -> int:
        """How many of this prompt's messages are views on a list that `other` views too."""
        theirs = {id(backing) for backing, _, _ in other._parts}
        return sum(stop - start for backing, start, stop in self._parts if id(backing) in theirs)

    def to_list(self) -> list[Message]:
        out: list[Message] = []
        for backing, start, stop in self._parts:
            out.extend(backing[start:stop])
        return out

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Message: ...

    @overload
    def __getitem__(self, index: slice) -> list[Message]: ...

    def __getitem__(self, index: int | slice) -> Message | list[Message]:
        if isinstance(index, slice):
            return self.to_list()[index]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("prompt index out of range")
        for backing, start, stop in self._parts:
            size = stop - start
            if index < size:
                return backing[start + index]
            index -= size
        raise IndexError("prompt index out of range")  # pragma: no cover - sizes add up

    def __iter__(self) -> Iterator[Message]:
        for backing, start, stop in self._parts:
            yield from backing[start:stop]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Prompt):
            return self._len == other._len and self.to_list() == other.to_list()
        if isinstance(other, (list, tuple)):
            return self._len == len(other) and self.to_list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[Message]) -> list[Message]:
        return self.to_list() + list(other)

    def __radd__(self, other: Sequence[Message]) -> list[Message]:
        return list(other) + self.to_list()

    def __repr__(self) -> str:
        return repr(self.to_list())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_from_list, (self.to_list(),))


def _from_list(messages: list[Message]) -> Prompt:
    return Prompt(((messages, 0, len(messages)),))


def as_list(messages: Sequence[Message]) -> list[Message]:
    """`messages` as a plain list (the same list when it is one)."""
    if isinstance(messages, list):
        return messages
    if isinstance(messages, Prompt):
        return messages.to_list()
    return list(messages)
