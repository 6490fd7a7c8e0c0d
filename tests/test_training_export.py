"""Training data from search trees: SFT records of the best path, DPO pairs from sibling value gaps."""

from __future__ import annotations

import json

from search_toys import Letters, Sampled, cycle, prefix_value

from workbench.core.session import Session
from workbench.export.training import dpo_pairs, sft_records, write_jsonl
from workbench.store.sqlite import RunStore


def solved(**kw) -> Session:
    s = Session(
        env=Letters(),
        model=Sampled(cycle("a", "b", "c")),
        strategy="best-first",
        branching=3,
        n_samples=6,
        max_depth=3,
        value=prefix_value(),
        **kw,
    )
    s.run()
    return s


def test_sft_is_the_best_path_as_the_strategy_prompted_it():
    s = solved()
    (record,) = sft_records(s.tree)
    messages = record["messages"]
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert messages[0]["content"].startswith("You are an agent") and "spell bac" in messages[0]["content"]
    assert [m["content"] for m in messages if m["role"] == "assistant"] == [
        "Thought: try it\nAction: b",
        "Thought: try it\nAction: a",
        "Thought: try it\nAction: c",
    ]
    assert messages[-2]["content"].endswith("at: b a")
    assert record["metadata"]["success"] and record["metadata"]["path"] == [n.id for n in s.best_path()]
    steps = sft_records(s.tree, per_step=True)
    assert [r["messages"][-1]["content"][-1] for r in steps] == ["b", "a", "c"]
    assert [len(r["messages"]) for r in steps] == [3, 5, 7]


def test_sft_skips_unsolved_runs_unless_asked():
    s = solved(max_expansions=2)
    assert s.tree.outcome == "failure" and sft_records(s.tree) == []
    (record,) = sft_records(s.tree, require_success=False)
    assert record["messages"][-1]["content"].endswith("Action: b") and not record["metadata"]["success"]


def test_dpo_pairs_come_from_siblings_with_a_large_value_gap():
    s = solved()
    pairs = dpo_pairs(s.tree, min_gap=0.3)
    got = sorted(
        (p["chosen"][0]["content"][-1], p["rejected"][0]["content"][-1], p["metadata"]["gap"]) for p in pairs
    )
    # root children: b 0.3 beats a 0.0 and c 0.0; under "b a": c (1.0) beats a and b (0.0)
    assert got == [("b", "a", 0.3), ("b", "c", 0.3), ("c", "a", 1.0), ("c", "b", 1.0)]
    top = next(p for p in pairs if p["metadata"]["gap"] == 1.0)
    assert top["prompt"][-1] == {"role": "user", "content": "Observation:\nat: b a"}
    assert [m["role"] for m in top["prompt"]][0] == "system" and top["chosen"][0]["role"] == "assistant"
    assert len(dpo_pairs(s.tree, min_gap=0.5)) == 2


def test_jsonl_is_redacted_and_works_from_a_stored_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TOY_API_KEY", "sk-toy-secret-123456")
    s = solved(store=tmp_path / "runs.sqlite")
    stored = RunStore(tmp_path / "runs.sqlite").load_run(s.run_id)
    assert sft_records(stored) == sft_records(s.tree) and dpo_pairs(stored) == dpo_pairs(s.tree)
    records = sft_records(s.tree) + dpo_pairs(s.tree)
    records[0]["messages"][1]["content"] += " sk-toy-secret-123456"
    out = tmp_path / "data" / "train.jsonl"
    assert write_jsonl(records, out) == 5
    text = out.read_text()
    assert "sk-toy-secret-123456" not in text and "[REDACTED:TOY_API_KEY]" in text
    assert [sorted(json.loads(line)) for line in text.splitlines()][:2] == [
        ["messages", "metadata"],
        ["chosen", "metadata", "prompt", "rejected"],
    ]
