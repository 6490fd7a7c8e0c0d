"""Size caps on what a run keeps and sends: model answers, observations and prompts.

    Session(..., limits={"max_observation_chars": 50_000, "keep_full_text": True})

A model answer (a node's `raw`, `thought` and its call's `response`) longer than
`max_response_chars`, or an observation longer than `max_observation_chars`, is cut to the cap with
a last line saying how much was cut; the node's `info["clipped"]` maps each cut field to its full
length. Memory, the store and later prompts see only the cut text. With `keep_full_text=True` the
full texts go to the store's `full_texts` table (`store.full_text(run_id, node_id, field)`).

A prompt longer than `max_prompt_chars` is never sent: the step ends with an error node whose
observation says how long the prompt was and what to do (a ContextWindowError, as when the model
itself refuses a prompt that is too long). `None` switches a cap off.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import ConfigError, ContextWindowError
from .tree import Node


@dataclass(frozen=True)
class Limits:
    max_response_chars: int | None = 200_000
    max_observation_chars: int | None = 200_000
    max_prompt_chars: int | None = 4_000_000  # about a million tokens: above any context window
    keep_full_text: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NAMES = tuple(f.name for f in fields(Limits))


def make_limits(value: Any) -> Limits:
    """`Limits` from None (the defaults), a dict of some of its fields, or a `Limits`."""
    if value is None:
        return Limits()
    if isinstance(value, Limits):
        return value
    if not isinstance(value, dict):
        raise ConfigError(
            f"limits must be a dict with some of {', '.join(NAMES)}, not {type(value).__name__}"
        )
    unknown = [k for k in value if k not in NAMES]
    if unknown:
        raise ConfigError(f"unknown limits {', '.join(map(str, unknown))}; valid: {', '.join(NAMES)}")
    for name, cap in value.items():
        if name == "keep_full_text":
            if not isinstance(cap, bool):
                raise ConfigError(f"limits['keep_full_text'] must be True or False, not {cap!r}")
        elif cap is not None and (
            isinstance(cap, bool)
            or not isinstance(cap, (int, float))
            or not math.isfinite(cap)
            or cap < 1
            or cap != int(cap)
        ):
            raise ConfigError(
                f"limits[{name!r}] must be a whole number of characters (1 or more) or None, not {cap!r}"
            )
    return Limits(**{k: (int(v) if isinstance(v, float) else v) for k, v in value.items()})


def clip(text: str, cap: int | None) -> str:
    """`text` cut to `cap` characters plus a line that says so (unchanged when it fits)."""
    if cap is None or len(text) <= cap:
        return text
    return f"{text[:cap]}\n[... {len(text) - cap:,} more characters cut: this run keeps {cap:,}]"


def clip_node(node: Node, limits: Limits) -> dict[str, str]:
    """Cut a new node's answer and observation to the caps, in place; returns the cut full texts."""
    full: dict[str, str] = {}
    caps = (
        ("raw", limits.max_response_chars),
        ("thought", limits.max_response_chars),
        ("observation", limits.max_observation_chars),
    )
    for name, cap in caps:
        text = getattr(node, name)
        if isinstance(text, str) and cap is not None and len(text) > cap:
            full[name] = text
            setattr(node, name, clip(text, cap))
    for call in node.llm_calls:
        if isinstance(call.response, str) and limits.max_response_chars is not None:
            call.response = clip(call.response, limits.max_response_chars)
    if full:
        node.info["clipped"] = {**node.info.get("clipped", {}), **{k: len(v) for k, v in full.items()}}
    return full


def prompt_chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):  # content parts
            total += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    return total


def check_prompt(messages: list[dict[str, Any]], limits: Limits) -> None:
    """Raise ContextWindowError when the prompt is longer than `max_prompt_chars`."""
    cap = limits.max_prompt_chars
    if cap is None:
        return
    size = prompt_chars(messages)
    if size > cap:
        raise ContextWindowError(
            f"the prompt is {size:,} characters, over this run's limit of {cap:,} (limits="
            "{'max_prompt_chars': ...}); it was not sent. A shorter memory (s.set_memory('window', "
            "window=8)), a rewind, or a higher limit lets the run go on"
        )
