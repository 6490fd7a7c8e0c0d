"""The REST API of the Jupyter server extension, against a real JupyterLab server (tests/browser_fixtures)
over a real store that a session keeps writing while the server reads it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import LabServer, lab_server
from toys import Counter, react

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, dict[str, Session]]]:
    base = tmp_path_factory.mktemp("api")
    root = base / "root"
    (root / ".workbench").mkdir(parents=True)  # the project store the server finds from its root
    store = root / ".workbench" / "runs.sqlite"
    sessions = {}
    for name, env, strategy in (
        ("a", "gridworld", "react"),
        ("b", "game24", "react"),
        ("c", "gridworld", "bfs"),
    ):
        sessions[name] = s = Session(task=f"task {name}", env=env, strategy=strategy, store=store, seed=1)
        s.step()
    counter = Session(
        task="count up", env=Counter(goal=3), model=ScriptedModel([react("inc")] * 3), store=store
    )
    counter.run(max_steps=3)
    sessions["counter"] = counter
    with lab_server(base) as server:
        yield server, sessions
    for s in sessions.values():
        s.store.close()


def call(server: LabServer, path: str, token: bool = True) -> tuple[int, Any]:
    headers = {"Authorization": f"token {server.token}"} if token else {}
    request = urllib.request.Request(f"{server.url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # 127.0.0.1 only
            body = response.read().decode()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(body) if "json" in kind and "ndjson" not in kind else body
    except urllib.error.HTTPError as err:
        body = err.read().decode()
        try:
            return err.code, json.loads(body)
        except ValueError:
            return err.code, body


def test_every_endpoint_refuses_a_request_without_a_token(served):
    server, sessions = served
    rid = sessions["a"].run_id
    for path in (
        "store",
        "runs",
        f"runs/{rid}",
        f"runs/{rid}/nodes/1",
        f"runs/{rid}/export",
        f"runs/{rid}/snapshot",
        f"runs/{rid}/cards/1",
    ):
        status, _ = call(server, f"/workbench/api/{path}", token=False)
        assert status == 403, path


def test_the_store_is_the_projects(served):
    server, _ = served
    status, body = call(server, "/workbench/api/store")
    assert status == 200 and body["rule"] == "project" and body["exists"] is True
    assert body["path"] == str(server.root / ".workbench" / "runs.sqlite")


def test_runs_are_listed_newest_first_filtered_and_paged(served):
    server, sessions = served
    status, body = call(server, "/workbench/api/runs")
    assert status == 200 and body["total"] == 4
    assert [r["id"] for r in body["runs"]] == [sessions[k].run_id for k in ("counter", "c", "b", "a")]
    first = body["runs"][0]
    assert first["steps"] == 3 and first["status"] != "running" and first["tokens"] > 0
    assert {"model_label", "strategy", "cost", "outcome", "created_at"} <= set(first)
    _, grid = call(server, "/workbench/api/runs?env=gridworld")
    assert {r["id"] for r in grid["runs"]} == {sessions["a"].run_id, sessions["c"].run_id}
    _, bfs = call(server, "/workbench/api/runs?env=gridworld&strategy=bfs")
    assert [r["id"] for r in bfs["runs"]] == [sessions["c"].run_id]
    _, page = call(server, "/workbench/api/runs?limit=2&offset=1")
    assert page["total"] == 4 and [r["id"] for r in page["runs"]] == [
        sessions["c"].run_id,
        sessions["b"].run_id,
    ]
    _, found = call(server, "/workbench/api/runs?q=count%20up")
    assert [r["id"] for r in found["runs"]] == [sessions["counter"].run_id]
    _, literal = call(server, "/workbench/api/runs?q=%25")  # a % is text, not a wildcard
    assert literal["total"] == 0
    _, later = call(server, f"/workbench/api/runs?since={first['created_at'] + 1000}")
    assert later["total"] == 0


def test_a_run_with_its_nodes_paged_and_one_node_with_its_calls(served):
    server, sessions = served
    s = sessions["counter"]
    status, run = call(server, f"/workbench/api/runs/{s.run_id[:6]}")  # a prefix is enough
    assert status == 200 and run["id"] == s.run_id and run["node_count"] == 4
    assert run["memory"] == "full" and isinstance(run["memory_state"], dict)  # the name, then the state
    assert [n["id"] for n in run["nodes"]] == [0, 1, 2, 3] and run["nodes"][1]["action"] == "inc"
    assert "llm_calls" not in run["nodes"][1]  # calls come per node
    _, paged = call(server, f"/workbench/api/runs/{s.run_id}?offset=2&limit=1")
    assert [n["id"] for n in paged["nodes"]] == [2]
    status, node = call(server, f"/workbench/api/runs/{s.run_id}/nodes/3")
    assert status == 200 and node["node"]["id"] == 3 and len(node["llm_calls"]) == 1
    messages = node["llm_calls"][0]["messages"]  # rebuilt from the store's prompt deltas
    assert messages == [m if isinstance(m, dict) else m for m in s.tree.nodes[3].llm_calls[0].messages]


def test_a_run_snapshot_for_the_run_view_and_the_card_of_one_node(served):
    server, sessions = served
    s = sessions["c"]  # a breadth-first search: a tree, not a line
    status, snap = call(server, f"/workbench/api/runs/{s.run_id}/snapshot")
    assert status == 200 and snap["run_id"] == s.run_id and snap["format"] == "agent-workbench.run-snapshot"
    assert snap["path"] == [n.id for n in s.path()] and set(snap["cards"]) == {str(i) for i in snap["path"]}
    assert len(snap["tree"]["records"]) == len(s.tree.nodes) and snap["calls"] == {}  # calls come per node
    assert snap["header"]["strategy"] == "bfs" and snap["header"]["tokens"] == s.tree.tokens
    leaf = max(s.tree.nodes)
    status, card = call(server, f"/workbench/api/runs/{s.run_id}/cards/{leaf}")
    assert status == 200 and card["id"] == leaf and card["visual"] == "frontier"
    assert card["action"] == s.tree.nodes[leaf].action
    assert call(server, f"/workbench/api/runs/{s.run_id}/cards/99999")[0] == 404
    assert call(server, f"/workbench/api/runs/{s.run_id}/cards/x")[0] == 400
    assert call(server, "/workbench/api/runs/zz/snapshot")[0] == 400


def test_the_head_of_a_snapshot_is_what_the_first_paint_draws(served):
    """A run view draws a big run's head first (header, path, last step cards) without the server
    reading the whole run; it must say what the whole snapshot says about those."""
    server, sessions = served
    for name in ("c", "counter"):  # a search tree and a line
        s = sessions[name]
        _, full = call(server, f"/workbench/api/runs/{s.run_id}/snapshot")
        status, head = call(server, f"/workbench/api/runs/{s.run_id}/snapshot?part=head")
        assert status == 200 and head["partial"] is True and "partial" not in full
        assert head["header"] == full["header"] and head["path"] == full["path"]
        assert head["cards"] == full["cards"] and head["plan"] == full["plan"]
        assert head["tree"]["records"] == [] and head["usage"] == {}  # they come with the whole
        assert head["tree"]["meta"]["nodes"] == len(s.tree.nodes)
    assert call(server, f"/workbench/api/runs/{s.run_id}/snapshot?part=tail")[0] == 400
    assert call(server, "/workbench/api/runs/abc123/snapshot?part=head")[0] == 404


def test_the_head_reads_the_last_cards_with_their_parents(served):
    from workbench.server.reader import StoreReader

    server, sessions = served
    s = sessions["counter"]
    reader = StoreReader(server.root / ".workbench" / "runs.sqlite")
    full, head = reader.snapshot(s.run_id), reader.head(s.run_id, last=2)
    tail = [str(i) for i in full["path"][-2:]]
    assert list(head["cards"]) == tail and head["omitted"]["cards"] == len(full["path"]) - 2
    assert all(head["cards"][i] == full["cards"][i] for i in tail)
    assert head["cards"][tail[0]]["diff"]  # its parent was read too: the observation's diff is there
    assert head["header"]["tokens"] == s.tree.tokens and head["header"]["steps"] == s.tree.steps


def test_a_tree_card_read_from_its_nodes_rows_is_the_card_of_the_whole_run(served):
    """The tree view asks for the card of a node its snapshot left out; the server reads that node,
    its parent and its children, not the whole run (a 10,000-node run took a second per click)."""
    from workbench.server.reader import StoreReader
    from workbench.widgets.tree_records import tree_card

    server, sessions = served
    reader = StoreReader(server.root / ".workbench" / "runs.sqlite")
    for name in ("c", "counter"):
        run, _ = reader._load(sessions[name].run_id, prompts=False)
        assert len(run.nodes) > 3
        for node_id in run.nodes:
            assert reader.card(run.id, str(node_id)) == tree_card(run, node_id), (name, node_id)


def test_the_server_reads_while_a_session_writes(served):
    server, sessions = served
    s = sessions["a"]
    _, before = call(server, f"/workbench/api/runs/{s.run_id}")
    s.step()  # this process keeps writing the store the server reads
    _, after = call(server, f"/workbench/api/runs/{s.run_id}")
    assert after["node_count"] == before["node_count"] + 1 and after["steps"] == before["steps"] + 1


def test_exports(served):
    server, sessions = served
    s = sessions["counter"]
    status, data = call(server, f"/workbench/api/runs/{s.run_id}/export?format=json")
    assert status == 200 and data["format"] == "agent-workbench.run" and len(data["nodes"]) == 4
    status, text = call(server, f"/workbench/api/runs/{s.run_id}/export?format=sft")
    assert status == 200 and all(json.loads(line) for line in text.splitlines())


BAD = [
    ("runs/ZZ!", 400, "hex digits"),
    ("runs/..%2F..%2Fetc%2Fpasswd", 400, "hex digits"),
    ("runs/abcdef012345", 404, "no run 'abcdef012345'"),
    ("runs/{rid}/nodes/x", 400, "integer"),
    ("runs/{rid}/nodes/999", 404, "has no node 999"),
    ("runs/{rid}/export?format=xml", 400, "json, sft or dpo"),
    ("runs?limit=0", 400, "limit from 1 to 500"),
    ("runs?limit=many", 400, "must be integers"),
    ("runs?since=yesterday", 400, "seconds since the epoch"),
]


@pytest.mark.parametrize(("path", "code", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_requests_get_a_status_and_a_message(served, path: str, code: int, message: str):
    server, sessions = served
    status, body = call(server, "/workbench/api/" + path.format(rid=sessions["a"].run_id))
    assert status == code and message in body["message"]


def test_a_server_without_a_store_lists_no_runs_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with lab_server(tmp_path) as server:
        status, body = call(server, "/workbench/api/runs")
        assert status == 200 and body["total"] == 0 and body["runs"] == []
        status, body = call(server, "/workbench/api/runs/abc123")
        assert status == 404 and "has no runs yet" in body["message"]
    assert not (tmp_path / "data" / "agent-workbench").exists()


def test_exporting_a_damaged_run_says_so_and_what_to_do(tmp_path: Path):
    import sqlite3

    from workbench.server.reader import Damaged, StoreReader

    store = tmp_path / "runs.sqlite"
    s = Session(task="count up", env=Counter(goal=3), model=ScriptedModel([react("inc")] * 3), store=store)
    s.run(max_steps=3)
    s.close()
    with sqlite3.connect(store) as conn:  # a node whose parent is not stored
        conn.execute(
            "UPDATE nodes SET data = json_set(data, '$.parent_id', 999) WHERE run_id = ? AND id = 2",
            (s.run_id,),
        )
    with pytest.raises(Damaged, match=r"is damaged: .*workbench doctor"):
        StoreReader(store).export(s.run_id, "json")
    # the head of its snapshot and the card of that node, read from a part of the run, say so too
    with pytest.raises(Damaged, match=r"node 2 has no parent node 999.*workbench doctor"):
        StoreReader(store).head(s.run_id)
    with pytest.raises(Damaged, match=r"node 2 has no parent node 999"):
        StoreReader(store).card(s.run_id, "2")
    assert StoreReader(store).card(s.run_id, "0")["id"] == 0  # the rows it reads are whole
    with sqlite3.connect(store) as conn:  # a node row gone: the path through it is broken
        conn.execute("DELETE FROM nodes WHERE run_id = ? AND id = 2", (s.run_id,))
    with pytest.raises(Damaged, match=r"path does not reach the root"):
        StoreReader(store).head(s.run_id)
