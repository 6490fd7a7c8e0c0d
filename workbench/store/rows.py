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

A prompt is stored in full again once it is twice as long as the last one stored in full (a
growing history), or once the literal messages stored since then outnumber its own (a window that
moves). So one call's prompt is rebuilt from a bounded chain of rows (`call_messages`: at most
about a quarter of its length in calls under full memory, about a window's worth under windowed
memory), never from every call before it, and the full copies together stay within about twice
the longest prompt. Stores written before these checkpoints hold one chain per run and read the same way
(a longer walk, still linear in it).
"""

from __future__ import annotations

import functools
import json
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from ..core.prompt import Prompt, as_list
from ..core.tree import LLMCall, Node, Run
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
                    out.extend(base_messages[op[0] : op[0] + op[1]])
                else:
                    out.append(op)
            calls[k]["messages"] = out


def call_messages(key: tuple[int, int], get: Callable[[tuple[int, int]], dict[str, Any] | None]) -> list[Any]:
    """The messages of the stored call `key`, rebuilt from its chain of deltas alone.

    `get(key)` returns a stored call (its JSON object) or None. The wanted messages are kept as
    pieces (ranges of the current base call and literals) and each step back maps the ranges
    through the base's own ops, so the work grows with the chain's length, never with the length
    of every prompt on it (resolving each call of a 10,000-call chain in full copies 50 million
    list entries). Raises `ValueError` for a chain that reaches a missing call or loops."""
    call = get(key)
    if call is None:
        raise ValueError(f"no model call {key}")
    seen = {key}
    # the wanted messages: `head` + `pieces` + reversed(`tail`); pieces are (start, count) ranges of
    # the current base call or literal messages; literals at either end are settled and move out
    head: list[Any] = []
    tail: list[Any] = []
    pieces: list[Any] = []
    base_key = key
    while True:
        ref = call.get("messages_ref")
        if ref is None:
            full = call.get("messages") or []
            if base_key == key:
                return list(full)
            out = head
            for piece in pieces:
                if isinstance(piece, tuple):
                    out.extend(full[piece[0] : piece[0] + piece[1]])
                else:
                    out.append(piece)
            out.extend(reversed(tail))
            return out
        ops = ref["ops"]
        pieces = (
            [tuple(op) if isinstance(op, list) else op for op in ops]
            if base_key == key
            else _through(pieces, ops)
        )
        while pieces and not isinstance(pieces[-1], tuple):
            tail.append(pieces.pop())
        first = 0
        while first < len(pieces) and not isinstance(pieces[first], tuple):
            first += 1
        if first:
            head.extend(pieces[:first])
            pieces = pieces[first:]
        base_key = (ref["node"], ref["seq"])
        if base_key in seen:
            raise ValueError(f"the prompt of model call {key} refers to itself through {base_key}")
        seen.add(base_key)
        call = get(base_key)
        if call is None:
            raise ValueError(f"the prompt of model call {key} refers to a missing call {base_key}")


def _through(pieces: list[Any], ops: list[Any]) -> list[Any]:
    """`pieces` (ranges over a call whose prompt is `ops`, or literal messages) as pieces over
    that call's base."""
    starts, at = [], 0
    for op in ops:
        starts.append(at)
        at += op[1] if isinstance(op, list) else 1
    out: list[Any] = []
    for piece in pieces:
        if not isinstance(piece, tuple):
            out.append(piece)
            continue
        start, count = piece
        i = bisect_right(starts, start) - 1
        while count > 0 and 0 <= i < len(ops):
            op, offset = ops[i], start - starts[i]
            if isinstance(op, list):
                take = min(count, op[1] - offset)
                last = out[-1] if out else None
                if isinstance(last, tuple) and last[0] + last[1] == op[0] + offset:
                    out[-1] = (last[0], last[1] + take)  # contiguous ranges merge
                else:
                    out.append((op[0] + offset, take))
            else:
                take = 1
                out.append(op)
            start, count, i = start + take, count - take, i + 1
    return out


@functools.cache
def _name_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


def known(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `data` without keys this version does not know (a file written by a newer workbench)."""
    allowed = _name_set(names)  # a set lookup per key, not a scan of the tuple (10,000 nodes a run)
    if data.keys() <= allowed:
        return dict(data)
    return {k: v for k, v in data.items() if k in allowed}


def _name_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("label") or "")
    return "" if value is None else str(value)


def run_summary(row: tuple[Any, ...]) -> dict[str, Any]:
    """A `list_runs` entry from (id, task, config, steps, prompt, completion, cost, status, outcome,
    created_at, updated_at, cursor)."""
    rid, task, config, steps, prompt, completion, cost, status, outcome, created, updated, cursor = row
    damaged = None
    try:
        cfg = json_object(config)
    except (TypeError, ValueError) as exc:
        cfg, damaged, status = {}, f"config is not valid JSON ({exc})", "damaged"
    return {
        "id": rid,
        "task": task,
        "env": _name_of(cfg.get("env")),
        "model": _name_of(cfg.get("model")),
        "model_label": str(cfg.get("model_label") or _name_of(cfg.get("model"))),
        "strategy": _name_of(cfg.get("strategy")),
        "memory": _name_of(cfg.get("memory")),
        "steps": steps,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens": prompt + completion,
        "cost": cost,
        "status": status,
        "outcome": outcome,
        "cursor": cursor,
        "created_at": created,
        "updated_at": updated,
        "damaged": damaged,
        "tags": cfg.get("tags") if isinstance(cfg.get("tags"), dict) else {},
    }


_INT, _NUM, _STR = (int,), (int, float), (str,)
_NONE = (type(None),)
# the JSON types each stored node field may have (bool is an int in Python: checked apart)
NODE_TYPES: dict[str, tuple[type, ...]] = {
    "id": _INT,
    "parent_id": _INT + _NONE,
    "depth": _INT,
    "raw": _STR,
    "thought": _STR,
    "action": _STR + _NONE,
    "tool": _STR + _NONE,
    "executed": (bool,),
    "observation": _STR,
    "reward": _NUM,
    "terminal": (bool,),
    "value": _NUM + _NONE,
    "visits": _INT,
    "status": _STR,
    "error": _STR + _NONE,
    "plan": (list,),
    "memory": (dict,),
    "provenance": _STR,
    "created_at": _NUM,
    "info": (dict,),
}


def json_object(text: Any) -> dict[str, Any]:
    """The JSON object stored as `text`; ValueError (or TypeError) if it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def check_node(data: Any) -> dict[str, Any]:
    """The known fields of a stored node, or ValueError naming the first field of a wrong type."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    fields_ = known(data, NODE_FIELDS)
    if "id" not in fields_:
        raise ValueError("no id")
    for name, value in fields_.items():
        types = NODE_TYPES.get(name)
        if types is None or type(value) in types:  # the usual case: exactly a type it may have
            continue
        wrong_bool = isinstance(value, bool) and bool not in types if types else False
        if types and (not isinstance(value, types) or wrong_bool):
            raise ValueError(
                f"{name} is {type(value).__name__}, not {' or '.join(t.__name__ for t in types)}"
            )
    return fields_


def _broken_refs(calls: dict[tuple[int, int], dict[str, Any]]) -> list[tuple[int, int]]:
    """Calls whose chain of `messages_ref` reaches a call that is not there (or loops)."""
    broken = []
    for key in calls:
        seen = [key]
        while "messages_ref" in calls[seen[-1]]:
            ref = calls[seen[-1]]["messages_ref"]
            try:
                base = (ref["node"], ref["seq"])
            except (TypeError, KeyError):
                broken.append(key)
                break
            if base not in calls or base in seen:
                broken.append(key)
                break
            seen.append(base)
    return broken


def build_run(
    run_id: str,
    row: tuple[Any, ...],
    node_rows: list[tuple[Any, ...]],
    call_rows: list[tuple[Any, ...]],
    *,
    strict: bool = True,
    prompts: bool = True,
    part: bool = False,
) -> tuple[Run, list[str]]:
    """A `Run` from its stored rows: `row` = (task, config, created_at, cursor, outcome), `node_rows`
    = [(data,)], `call_rows` = [(node_id, seq, data)].

    `strict` raises `ValueError` naming the first bad row; otherwise bad rows are left out (a node
    whose parent is missing goes with its subtree, a prompt whose base is missing loses its messages)
    and the problems are returned with the run. `prompts=False` leaves every call's messages empty
    (for views that need a run's shape, tokens and costs, not its prompts: much less to rebuild).
    `part=True`: the rows are a part of the run (the tail of a path, say), and a node whose parent is
    not among them is kept (its parent left out, as is the root): read it by `run.nodes`, not paths."""
    problems: list[str] = []

    def bad(text: str) -> None:
        if strict:
            raise ValueError(text)
        problems.append(text)

    task, config, created_at, cursor, outcome = row
    try:
        cfg = json_object(config)
    except (TypeError, ValueError) as exc:
        bad(f"its config is not valid JSON: {exc}")
        cfg = {}
    nodes: dict[int, dict[str, Any]] = {}
    for (data,) in node_rows:
        try:
            fields_ = check_node(json.loads(data))
        except (TypeError, ValueError) as exc:
            bad(f"a node row is unreadable ({type(exc).__name__}: {exc})")
            continue
        nodes[fields_["id"]] = {**fields_, "llm_calls": []}
    orphans = not part
    while orphans:  # a node without its parent would break every path through it
        orphans = [
            i for i, n in nodes.items() if n.get("parent_id") is not None and n["parent_id"] not in nodes
        ]
        for i in sorted(orphans):
            bad(f"node {i} has no parent node {nodes[i]['parent_id']}")
            del nodes[i]
    if not part and not any(n.get("parent_id") is None for n in nodes.values()):
        nodes = {}
    calls: dict[tuple[int, int], dict[str, Any]] = {}
    for node_id, seq, data in call_rows:
        try:
            call = json_object(data)
        except (TypeError, ValueError) as exc:
            bad(f"model call {seq} of node {node_id} is unreadable: {exc}")
            continue
        calls[(node_id, seq)] = call
    if not prompts:
        for call in calls.values():
            call.pop("messages_ref", None)
            call["messages"] = []
    for key in _broken_refs(calls):
        bad(f"the prompt of model call {key[1]} of node {key[0]} refers to a missing call")
        calls[key].pop("messages_ref", None)
        calls[key]["messages"] = []
    resolve_messages(calls)
    for (node_id, seq), data in calls.items():
        if node_id in nodes:  # calls of a node that is not stored (never expected) are skipped
            try:
                nodes[node_id]["llm_calls"].append(LLMCall.from_dict(known(data, CALL_FIELDS)))
            except TypeError as exc:
                bad(f"model call {seq} of node {node_id} is unreadable: {exc}")
    if not nodes:
        return Run(task=str(task), config=cfg, id=run_id), problems
    run = Run.from_dict(
        {
            "id": run_id,
            "task": task,
            "config": cfg,
            "created_at": created_at,
            "cursor": cursor if cursor in nodes else max(nodes),
            "outcome": outcome,
            "nodes": [nodes[i] for i in sorted(nodes)],
        }
    )
    return run, problems
