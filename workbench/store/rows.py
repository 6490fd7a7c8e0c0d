"""How the run store encodes rows: compact JSON with secrets redacted, and the summary of a run row.

Redaction here works on the encoded text: each secret value (and its JSON-escaped form) is replaced
by `[REDACTED:NAME]` after `json.dumps`, which costs one substring scan per secret instead of a walk
over every string of the object. The set of secrets is cached by `workbench.safety.redact` and only
computed again when the environment (or the added secrets) changed.

Prompts are stored as deltas. Under full memory the prompt of step n repeats the n-1 steps before
it, so storing each call's messages verbatim would make a step's write grow with the run (and the
file quadratic in it). A call whose messages share runs with the previous call the store wrote holds
`messages_ref = {"node": id, "seq": k, "ops": [...]}` instead of `messages`: each op is either
`[start, count]` (copy that many messages of the referenced call) or a message dict (a literal).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ..core.prompt import Prompt, as_list
from ..core.tree import LLMCall, Node
from ..safety.redact import secret_pairs

NODE_FIELDS = tuple(f.name for f in fields(Node) if f.name != "llm_calls")
CALL_FIELDS = tuple(f.name for f in fields(LLMCall))
Secrets = list[tuple[str, str]]


def current_secrets(environ: Mapping[str, str] | None = None) -> Secrets:
    """(text to find, replacement) pairs, longest first, including each value's JSON-escaped form."""
    return secret_pairs(environ)


def scrub(text: str, secrets: Secrets) -> str:
    for value, marker in secrets:
        if value in text:
            text = text.replace(value, marker)
    return text


def dumps(obj: Any, secrets: Secrets) -> str:
    """Compact JSON of `obj` (unknown objects as their repr), secrets redacted."""
    return scrub(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_plain), secrets)


def _plain(obj: Any) -> Any:
    """What JSON gets for an object it does not know: a prompt's messages, or the object's repr."""
    return obj.to_list() if isinstance(obj, Prompt) else repr(obj)


def node_json(node: Node, secrets: Secrets) -> str:
    """A node's fields without its calls (they have their own table)."""
    return dumps({name: getattr(node, name) for name in NODE_FIELDS}, secrets)


def message_ops(messages: list[Any], base: list[Any]) -> list[Any] | None:
    """Ops that rebuild `messages` from `base` (aligned by position), or None if nothing is shared.

    Position alignment fits how prompts grow: a changed system message (the plan lives there) and an
    appended tail cost literals; the unchanged history in between is one copy op."""
    messages, base = as_list(messages), as_list(base)  # plain lists: indexing a `Prompt` is slower
    ops: list[Any] = []
    shared = 0
    i, n, limit = 0, len(messages), min(len(messages), len(base))
    while i < n:
        start = i
        while i < limit and messages[i] == base[i]:
            i += 1
        if i > start:
            ops.append([start, i - start])
            shared += i - start
        else:
            ops.append(messages[i])
            i += 1
    return ops if shared else None


def resolve_messages(calls: dict[tuple[int, int], dict[str, Any]]) -> None:
    """Replace every `messages_ref` in `calls` (keyed by (node_id, seq)) by the messages it stands for."""
    for key in list(calls):
        chain = [key]
        while "messages_ref" in calls[chain[-1]]:  # walk back to a call stored in full
            ref = calls[chain[-1]]["messages_ref"]
            base = (ref["node"], ref["seq"])
            if base not in calls or base in chain:
                raise ValueError(f"call {chain[-1]} refers to a missing call {base}")
            chain.append(base)
        for k in reversed(chain[:-1]):  # then rebuild forward, each from its resolved base
            ref = calls[k].pop("messages_ref")
            base_messages = calls[(ref["node"], ref["seq"])]["messages"]
            out: list[Any] = []
            for op in ref["ops"]:
                if isinstance(op, list):
                    out.extend(base_messages[op[0]: op[0] + op[1]])
                else:
                    out.append(op)
            calls[k]["messages"] = out


def known(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """`data` without keys this version does not know (a file written by a newer workbench)."""
    return {k: v for k, v in data.items() if k in names}


def _name_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("label") or "")
    return "" if value is None else str(value)


def run_summary(row: tuple[Any, ...]) -> dict[str, Any]:
    """A `list_runs` entry from (id, task, config, steps, prompt, completion, cost, status, outcome,
    created_at, updated_at, cursor)."""
    rid, task, config, steps, prompt, completion, cost, status, outcome, created, updated, cursor = row
    cfg = json.loads(config)
    return {
        "id": rid, "task": task, "env": _name_of(cfg.get("env")), "model": _name_of(cfg.get("model")),
        "model_label": str(cfg.get("model_label") or _name_of(cfg.get("model"))),
        "strategy": _name_of(cfg.get("strategy")), "memory": _name_of(cfg.get("memory")),
        "steps": steps, "prompt_tokens": prompt, "completion_tokens": completion, "tokens": prompt + completion,
        "cost": cost, "status": status, "outcome": outcome, "cursor": cursor,
        "created_at": created, "updated_at": updated,
    }
