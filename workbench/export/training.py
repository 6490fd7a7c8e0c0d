"""Training data from run trees: SFT records of the best path and DPO preference pairs of siblings.

    records = sft_records(session.tree)                 # the best path, as the strategy prompted it
    pairs = dpo_pairs(session.tree, min_gap=0.3)        # siblings whose values differ by >= 0.3
    write_jsonl(records + pairs, "train.jsonl")          # one JSON object a line, secrets redacted

This is how Agent Q / Agent-R style methods build data from search trees (papers.md section 10).

SFT (chat format): `{"messages": [...], "metadata": {...}}`. The messages are the exact prompt the
strategy sent for a step (its system and user turns, with the earlier steps as the memory policy
rendered them) followed by the model's answer as an assistant turn. By default one record holds the
last step of the best path, whose prompt carries the whole history under the `full` memory; with
`per_step=True` every step of the path is a record of its own (use it with window/diff memory).
The best path ends at the run's cursor once the run is finished (a search's commit), else at the
best node (a successful terminal, then the highest value). `require_success=True` (default) gives
no record when that node is not a successful terminal.

DPO (TRL's conversational format): `{"prompt": [...], "chosen": [assistant turn], "rejected":
[assistant turn], "metadata": {...}}` for every pair of sibling nodes with values whose gap is at
least `min_gap`; the prompt is the one both answers were sampled from (the higher one's prompt), the
higher-valued answer is chosen. Nodes without a value or without a model answer are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

from ..core.tree import LLMCall, Node, Run
from ..errors import ConfigError
from ..safety.redact import redact_obj


def act_call(node: Node) -> LLMCall | None:
    """The model call that produced `node`'s answer (the first `act` call whose response is it)."""
    acts = [c for c in node.llm_calls if c.purpose == "act" and not c.error]
    for call in acts:
        if call.response == node.raw:
            return call
    return acts[0] if acts else None


def _success(node: Node) -> bool:
    return node.terminal and node.reward > 0


def best_node(run: Run) -> Node:
    """The run's cursor once it is finished, else its best node (success, value, reward, shallow)."""
    if run.outcome is not None:
        return run.current

    def key(n: Node) -> tuple[Any, ...]:
        value = n.value if n.value is not None else float("-inf")
        return (_success(n), value, n.reward, -n.depth, -n.id)

    live = [n for n in run.nodes.values() if n.status in ("expanded", "terminal")]
    return max(live, key=key) if live else run.root


def _turns(node: Node) -> list[dict[str, Any]] | None:
    call = act_call(node)
    if call is None:
        return None
    prompt = [{"role": m.get("role"), "content": m.get("content")} for m in call.messages]
    return [*prompt, {"role": "assistant", "content": node.raw or call.response}]


def sft_records(run: Run, *, per_step: bool = False, require_success: bool = True) -> list[dict[str, Any]]:
    """Chat records of the best path (see the module docstring)."""
    end = best_node(run)
    if require_success and not _success(end):
        return []
    steps = [n for n in run.path(end.id)[1:] if act_call(n) is not None]
    chosen = steps if per_step else steps[-1:]
    records = []
    for node in chosen:
        messages = _turns(node)
        if messages is None:
            continue
        records.append(
            {
                "messages": messages,
                "metadata": {
                    "run_id": run.id,
                    "task": run.task,
                    "node_id": node.id,
                    "path": [n.id for n in run.path(node.id)],
                    "reward": end.reward,
                    "success": _success(end),
                    "value": end.value,
                },
            }
        )
    return records


def dpo_pairs(run: Run, min_gap: float = 0.3) -> list[dict[str, Any]]:
    """Preference pairs from siblings whose values differ by at least `min_gap`."""
    if min_gap < 0:
        raise ConfigError(f"min_gap must be >= 0, got {min_gap}")
    children: dict[int, list[Node]] = {}
    for node in run.nodes.values():
        if node.parent_id is not None and node.value is not None and act_call(node) is not None:
            children.setdefault(node.parent_id, []).append(node)
    pairs = []
    for parent_id, kids in sorted(children.items()):
        for a, b in combinations(sorted(kids, key=lambda n: n.id), 2):
            hi, lo = (a, b) if a.value >= b.value else (b, a)  # type: ignore[operator]
            gap = float(hi.value) - float(lo.value)  # type: ignore[arg-type]
            if gap < min_gap or gap == 0 or hi.raw == lo.raw:
                continue
            prompt = _turns(hi)
            assert prompt is not None
            pairs.append(
                {
                    "prompt": prompt[:-1],
                    "chosen": [prompt[-1]],
                    "rejected": [{"role": "assistant", "content": lo.raw}],
                    "metadata": {
                        "run_id": run.id,
                        "parent_id": parent_id,
                        "chosen_id": hi.id,
                        "rejected_id": lo.id,
                        "chosen_value": hi.value,
                        "rejected_value": lo.value,
                        "gap": round(gap, 6),
                    },
                }
            )
    return pairs


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write one JSON object a line, every string redacted; returns the number of lines."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(redact_obj(record), ensure_ascii=False) + "\n")
            count += 1
    return count
