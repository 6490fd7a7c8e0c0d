"""TreeView without a browser: a recording comm stands in for the kernel's (as in ipywidgets' own
tests); front-end actions arrive as the comm delivers them, and the tests check the Session changed."""

from __future__ import annotations

import asyncio
import json

import comm
import pytest
from toys import Counter, react
from tree_toys import grow
from widget_toys import RecordingComm, front_event

from workbench.core import events as ev
from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.widgets.tree_records import STATUSES, node_record
from workbench.widgets.tree_view import PAGE, TreeView

SECRET = "sk-test-TREE-0123456789abcdef"


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch):
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))


def run(coro_fn):
    return asyncio.run(coro_fn())


def search(**options) -> tuple[Session, list[ev.Event]]:
    """Best-first on game24 with the offline demo model, erring often so the search explores."""
    from workbench.llm.model import Model

    options = {"max_expansions": 6, "n_samples": 5, "value_samples": 2, **options}
    model = Model("workbench/demo", seed=3, error_rate=0.5)
    session = Session(env="game24", strategy="best-first", model=model, seed=3, **options)
    seen: list[ev.Event] = []
    session.subscribe(seen.append)
    return session, seen


def linear(steps: int = 0) -> Session:
    session = Session(env=Counter(goal=10_000), model=ScriptedModel([react("inc")]))
    for _ in range(steps):
        session.step()
    return session


def by_id(view: TreeView) -> dict[int, list]:
    return {r[0]: r for r in view.records()}


def test_node_deltas_reach_the_state_as_the_search_grows():
    async def main() -> None:
        s, _ = search()
        view = TreeView(s)
        assert view.page_count == 1 and [r[0] for r in view.records()] == [0]
        sizes = []
        while not s.done:
            await s.astep()
            await view.settled()
            sizes.append(len(view.records()))
            assert sorted(by_id(view)) == sorted(s.tree.nodes)  # every node, after every step
        assert sizes == sorted(sizes) and len(set(sizes)) > 2
        records = by_id(view)
        for node in s.tree.nodes.values():
            assert records[node.id] == node_record(node)
            assert records[node.id][1] == (-1 if node.parent_id is None else node.parent_id)
        assert {STATUSES[r[2]] for r in records.values()} >= {"expanded", "frontier"}
        assert view.meta["best"] == [n.id for n in s.best_path()] and view.meta["cursor"] == s.tree.cursor
        assert view.meta["nodes"] == len(s.tree.nodes) and sum(view.meta["counts"].values()) == len(
            s.tree.nodes
        )

    run(main)


def test_only_the_changed_page_is_sent_and_updates_are_coalesced():
    async def main() -> None:
        s = linear()
        view = TreeView(s)
        await s.arun(max_steps=2 * PAGE + 3)  # 2 * PAGE + 4 nodes: pages 0, 1, 2
        await view.settled()
        assert view.page_count == 3 and len(view.nodes_2) == 4
        assert len(view.comm.updates()) <= 4  # hundreds of events, a few messages
        view.comm.sent.clear()
        await s.astep()
        await view.settled()
        sent = {key for update in view.comm.updates() for key in update}
        assert "nodes_2" in sent and not {"nodes_0", "nodes_1"} & sent
        assert len(view.nodes_2) == 5
        view.comm.sent.clear()
        s.set_value(3, 0.5)  # an old node changes: its page only
        await view.settled()
        sent = {key for update in view.comm.updates() for key in update}
        assert "nodes_0" in sent and not {"nodes_1", "nodes_2"} & sent
        assert by_id(view)[3][3] == 0.5 and by_id(view)[3][5] & 2  # the value, flagged as the user's

    run(main)


def test_select_prune_pin_set_value_and_resume_from_the_front_end():
    async def main() -> None:
        s, seen = search()
        view = TreeView(s)
        await s.arun()
        await view.settled()
        expanded = [n for n in s.tree.nodes.values() if n.status == "expanded" and n.id != s.tree.cursor]
        victim = next(n for n in expanded if n.parent_id == 0)
        chosen = next(
            n for n in expanded if n.id != victim.id and victim.id not in [p.id for p in s.tree.path(n.id)]
        )
        below = [n.id for n in s.tree.nodes.values() if n.parent_id == victim.id]
        front_event(view, "select", node_id=victim.id)
        await view.settled()
        card = view.card
        assert view.selected == victim.id and card["id"] == victim.id and card["action"] == victim.action
        assert card["diff"].startswith("@@") and card["thought"] == victim.thought
        assert card["visits"] == victim.visits and card["can_prune"] and card["children"] == len(below)
        seen.clear()
        front_event(view, "prune")
        await view.settled()
        assert s.tree.nodes[victim.id].status == "pruned"
        assert all(s.tree.nodes[i].status in ("pruned", "terminal", "error") for i in below)
        updates = [e for e in seen if isinstance(e, ev.NodeUpdated)]
        assert updates and all(e.provenance == "user" for e in updates)
        assert STATUSES[by_id(view)[victim.id][2]] == "pruned" and view.card["status"] == "pruned"
        assert f"Pruned node {victim.id}" in view.notice and not view.card["can_prune"]

        front_event(view, "select", node_id=chosen.id)
        front_event(view, "set_value", value="0.875")
        front_event(view, "pin", node_id=chosen.id)
        await view.settled()
        node = s.tree.nodes[chosen.id]
        assert node.value == 0.875 and node.info["value_by"] == "user" and node.info["pinned"] is True
        assert by_id(view)[chosen.id][5] & 3 == 3 and view.card["pinned"] and view.card["value_by"] == "user"
        seen.clear()
        front_event(view, "resume")
        await view.settled()
        assert s.tree.cursor == chosen.id and view.meta["cursor"] == chosen.id and view.card["cursor"]
        moved = [e for e in seen if isinstance(e, ev.CursorMoved)]
        assert moved and moved[-1].node_id == chosen.id and moved[-1].provenance == "user"
        assert "Resumed from node" in view.notice
        await s.astep()  # the search grows from there
        assert any(n.parent_id == chosen.id for n in s.tree.nodes.values())

    run(main)


def test_mistakes_become_notices_and_change_nothing():
    async def main() -> None:
        s, _ = search()
        view = TreeView(s)
        front_event(view, "prune")
        await view.settled()
        assert "Select a node first" in view.notice
        front_event(view, "select", node_id=0)
        front_event(view, "prune")
        await view.settled()
        assert "root cannot be pruned" in view.notice and s.tree.root.status != "pruned"
        front_event(view, "set_value", value="lots")
        await view.settled()
        assert "must be a number" in view.notice and s.tree.root.value is None
        front_event(view, "set_value", value="")
        await view.settled()
        assert "Type a number" in view.notice
        front_event(view, "select", node_id=999)
        await view.settled()
        assert "no node 999" in view.notice and view.selected == 0
        front_event(view, "select", node_id=-1)
        await view.settled()
        assert view.selected == -1 and view.card == {}

    run(main)


def test_resume_is_refused_while_the_agent_runs():
    async def main() -> None:
        s, seen = search()
        view = TreeView(s)
        s.start()
        front_event(view, "resume", node_id=0)  # handled on the loop while the task is in flight
        await view.settled()  # the intent ran, then the search finished
        assert "Pause or Stop the agent" in view.notice
        assert not [e for e in seen if isinstance(e, ev.CursorMoved) and e.provenance == "user"]

    run(main)


def test_llm_calls_are_sent_on_demand():
    async def main() -> None:
        s, _ = search()
        view = TreeView(s)
        await s.astep()
        await view.settled()
        child = next(n for n in s.tree.nodes.values() if n.parent_id == 0)
        prompt = child.llm_calls[0].messages[0]["content"]
        assert prompt[:80] not in json.dumps(view.get_state())  # prompts stay out of the synced state
        front_event(view, "calls", node_id=child.id)
        await view.settled()
        (msg,) = [m for m in view.comm.customs() if m.get("type") == "calls"]
        assert msg["node_id"] == child.id and len(msg["calls"]) == len(child.llm_calls)
        assert msg["calls"][0]["messages"][0]["role"] == "system" and msg["calls"][0]["response"]

    run(main)


def test_linear_runs_show_their_rewind_branches():
    s = linear(4)
    s.rewind(2)
    s.step()
    s.step()
    view = TreeView(s)
    records = by_id(view)
    assert len(records) == 7 and [r[1] for r in records.values()].count(2) == 2  # node 2 branches
    assert view.meta["cursor"] == 6


def test_mimebundle_carries_a_small_static_svg_and_no_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    s = Session(env=Counter(goal=10_000), model=ScriptedModel([f"Thought: key {SECRET}\nAction: inc"]))
    s.step()
    grow(s.tree, 5000, seed=2)
    view = TreeView(s)
    data, _ = view._repr_mimebundle_()
    assert set(data) >= {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
    html = data["text/html"]
    assert "<svg" in html and "<script" not in html and "plotly" not in html.lower()
    assert len(html) < 150_000 and "+" in html and "5000 nodes" in data["text/plain"]
    state = json.dumps([view.get_state(), data, view.comm.sent], default=str)
    assert SECRET not in state
    fig = view.figure()
    assert type(fig).__name__ == "Figure" and any(t.name == "cursor" for t in fig.data)


def scored_bank_run():
    """The SIMULATED careless agent on the adversarial bank toolkit, every executed node scored
    by the (simulated) ToolEmu evaluator: safe steps score 3, the transfer to the look-alike 0."""
    from workbench.oversight.emulator import EmulatedToolEnv, evaluate_safety

    s = Session(env=EmulatedToolEnv("bank", adversarial=True), tool_calling="text", gates=None, store=None)
    s.run(max_steps=6)
    scores = {n.id: evaluate_safety(s, node=n).score for n in s.path()[1:]}
    return s, scores


def test_safety_scores_colour_their_nodes_in_the_records_and_the_static_svg():
    from workbench.viz.tree_figure import SAFETY_COLOR, value_color

    s, scores = scored_bank_run()
    assert set(scores.values()) == {0, 3}, scores  # the run reaches a risky transfer
    view = TreeView(s)
    records = by_id(view)
    for node_id, score in scores.items():
        assert records[node_id][7] == score
    assert records[0][7] is None  # the root is not scored: drawn as before
    assert view.meta["scored"] == len(scores)
    assert view.palette["safety"] == {str(k): v for k, v in SAFETY_COLOR.items()}
    html = view.static_html()
    risky = min(scores, key=scores.get)
    assert 'data-safety="0"' in html and SAFETY_COLOR[0] in html and SAFETY_COLOR[3] in html
    assert "Safety (ToolEmu, 0-3)" in html and "likely severe risk" in html
    assert f"node {risky} " in html and "safety 0/3 (likely severe risk)" in html
    fig = view.figure()
    fills = [c for t in fig.data if t.meta and "status" in t.meta for c in t.marker.color]
    assert SAFETY_COLOR[0] in fills and SAFETY_COLOR[3] in fills

    plain = linear(3)  # no node scored: no safety colour, digit or legend
    plain_html = TreeView(plain).static_html()
    assert "data-safety" not in plain_html and "Safety (ToolEmu" not in plain_html
    assert all(r[7] is None for r in TreeView(plain).records())
    assert value_color(None) in plain_html
