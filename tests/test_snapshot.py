"""The bounded run snapshot (`application/vnd.agent-workbench.run+json`) that a Workbench panel's and
a TreeView's fallback output carry and that exports are made of: what it keeps, what it bounds,
that it follows the run, and that secrets never reach it."""

from __future__ import annotations

import json
import secrets

import pytest
from toys import Counter, react

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.widgets import fallback
from workbench.widgets.snapshot import MIME, run_snapshot, stored_header
from workbench.widgets.tree_view import TreeView
from workbench.widgets.workbench_panel import Workbench


def counting(steps: int, **kwargs) -> Session:
    s = Session(
        task="count up", env=Counter(goal=10**6), model=ScriptedModel([react("inc")] * steps), **kwargs
    )
    s.run(max_steps=steps)
    return s


def test_the_panels_fallback_carries_the_snapshot_of_the_run_as_it_is_now():
    s = counting(3)
    w = Workbench(s)
    snap = fallback.bundle(w)[MIME]
    assert snap["run_id"] == s.run_id and snap["path"] == [0, 1, 2, 3] and snap["view"] == "Trajectory"
    assert snap["header"]["steps"] == 3 and snap["header"]["strategy"] == "react"
    assert set(snap["cards"]) == {"0", "1", "2", "3"} and snap["cards"]["3"]["action"] == "inc"
    assert [r[0] for r in snap["tree"]["records"]] == [0, 1, 2, 3]
    assert snap["calls"]["3"][0]["response"] == react("inc")  # the latest calls, within the budget
    s.run(max_steps=2)
    later = fallback.bundle(w)[MIME]
    assert later["header"]["steps"] == 5 and later["path"][-1] == 5
    tree = fallback.bundle(TreeView(s))[MIME]
    assert tree["view"] == "Tree" and len(tree["tree"]["records"]) == 6
    w.close()


def test_a_long_run_is_bounded_and_says_what_it_left_out():
    s = counting(300)
    run = s.tree
    snap = run_snapshot(
        run, header=stored_header(run, "paused"), last=50, max_records=120, calls_budget=5_000
    )
    assert len(snap["path"]) == 301 and set(snap["cards"]) == {str(i) for i in range(251, 301)}
    kept = [r[0] for r in snap["tree"]["records"]]
    assert len(kept) == 120 and kept[-1] == 300 and 181 in kept  # the path's latest nodes first
    assert snap["calls"] == {}  # the last prompt alone (600 messages) is over the budget
    assert snap["omitted"] == {"cards": 251, "records": 181, "usage_steps": 0, "calls": 50}
    roomy = run_snapshot(run, header=stored_header(run, "paused"), last=50, calls_budget=200_000)
    assert (
        0 < len(roomy["calls"]) < 50
        and "300" in roomy["calls"]
        and len(json.dumps(roomy["calls"])) <= 200_000
    )
    assert snap["usage"]["step"][-1] == 300 and snap["tree"]["meta"]["nodes"] == 301
    everything = run_snapshot(run, header=stored_header(run, "paused"), last=None, calls_budget=0)
    assert (
        len(everything["cards"]) == 301 and everything["calls"] == {} and everything["omitted"]["cards"] == 0
    )
    size = len(json.dumps(fallback.bundle(Workbench(s))[MIME]))
    assert size < 120_000  # what a saved notebook carries per panel stays small however long the run


def test_secrets_never_reach_a_snapshot(monkeypatch: pytest.MonkeyPatch):
    key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    s = Session(
        task=f"use {key} carefully",
        env=Counter(goal=10),
        model=ScriptedModel([f"Thought: the key is {key}\nAction: inc"] * 3),
    )
    s.run(max_steps=3)
    for widget in (Workbench(s), TreeView(s)):
        text = json.dumps(fallback.bundle(widget))
        assert key not in text and "[REDACTED:OPENAI_API_KEY]" in text


def test_stored_snapshots_and_cards_are_redacted_with_the_readers_secrets(tmp_path, monkeypatch):
    """The export page, the runs browser's list, run view, node cards and model calls read a store
    written before a key was set; what they send is redacted with the secrets of the process reading it."""
    from workbench.export.page import stored_snapshot
    from workbench.server.reader import StoreReader
    from workbench.store.sqlite import RunStore

    key = "sk-later-" + secrets.token_hex(16)
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(
        task=f"use {key} carefully",
        env=Counter(goal=10),
        model=ScriptedModel([f"Thought: the key is {key}\nAction: inc"] * 2),
        store=store,
    )
    s.run(max_steps=2)
    store.close()
    monkeypatch.setenv("LATER_API_KEY", key)
    reader = StoreReader(tmp_path / "runs.sqlite")
    snapshots = [stored_snapshot(RunStore(tmp_path / "runs.sqlite"), s.run_id), reader.snapshot(s.run_id)]
    listed = reader.runs({})
    for data in [
        *snapshots,
        reader.card(s.run_id, "1"),
        reader.run(s.run_id),
        reader.node(s.run_id, "1"),
        listed,
    ]:
        text = json.dumps(data)
        assert key not in text and "[REDACTED:LATER_API_KEY]" in text
    assert snapshots[0]["header"]["task"] == "use [REDACTED:LATER_API_KEY] carefully"
