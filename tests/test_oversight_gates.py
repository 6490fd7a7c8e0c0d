"""Approval gates: which actions wait for a person, and what approve / edit / reject do."""

from __future__ import annotations

import asyncio
import json

import pytest
from search_toys import Letters, Sampled, cycle, prefix_value
from toys import Counter, react

from workbench import tool
from workbench.core import events as ev
from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.scripted import ScriptedModel
from workbench.oversight.gates import Gate, GateRule, Gates, Proposal, make_gates
from workbench.tools.env import FINAL_ANSWER

deleted: list[str] = []
listed: list[int] = []


@tool
def list_files() -> str:
    """The files in the folder."""
    listed.append(1)
    return "notes.txt, draft.txt"


@tool(destructive=True)
def delete_file(path: str) -> str:
    """Delete a file for good."""
    deleted.append(path)
    return f"deleted {path}"


@pytest.fixture(autouse=True)
def _clear():
    deleted.clear()
    listed.clear()


def native(name: str, args: dict) -> dict:
    return {"tool_calls": [{"id": "call_0", "name": name, "arguments": json.dumps(args)}]}


def http_session(server, **kw) -> Session:
    from workbench.llm.model import Model

    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, timeout=5.0)
    return Session(tools=[list_files, delete_file], task="tidy the folder", model=model, **kw)


# --- rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, proposal, fires",
    [
        (Gate.destructive(), Proposal("tool", "x", calls=[{"name": "rm", "destructive": True}]), True),
        (Gate.destructive(), Proposal("tool", "x", calls=[{"name": "ls", "destructive": False}]), False),
        (Gate.tool("delete_.*"), Proposal("tool", "x", calls=[{"name": "delete_file"}]), True),
        (Gate.tool("delete"), Proposal("tool", "x", calls=[{"name": "delete_file"}]), False),  # whole name
        (Gate.action(r"open\s+door"), Proposal("action", "open door"), True),
        (Gate.code("file-write"), Proposal("code", "c", code="open('a.txt', 'w').write('x')"), True),
        (Gate.code("file-write"), Proposal("code", "c", code="print(open('a.txt').read())"), False),
        (
            Gate.code("subprocess"),
            Proposal("code", "c", code="import subprocess\nsubprocess.run(['ls'])"),
            True,
        ),
        (Gate.code("network"), Proposal("code", "c", code="import urllib.request"), True),
        (Gate.code(), Proposal("code", "c", code="os.system('rm -rf /')"), True),
        (Gate.code(), Proposal("action", "subprocess"), False),  # code rules look at code only
        (Gate.cost(0.5), Proposal("action", "a", cost=0.6), True),
        (Gate.cost(0.5), Proposal("action", "a", cost=0.1), False),
        (Gate.risk(2), Proposal("action", "a", risk=1.0), True),
        (Gate.risk(2), Proposal("action", "a", risk=None), False),
        (Gate.predicate(lambda p: "bank" in p.action), Proposal("action", "call the bank"), True),
    ],
)
def test_each_rule_kind_fires_on_what_it_describes(rule, proposal, fires):
    assert bool(rule.match(proposal)) is fires


def test_rules_from_toml_and_bad_rules_say_what_is_valid(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nwhen = "destructive"\n\n[[rule]]\nwhen = "tool"\npattern = "send_.*"\n'
        'decision = "reject"\nreason = "no mail today"\n'
    )
    gates = make_gates(path)
    assert [r.when for r in gates] == ["destructive", "tool"] and gates.rules[1].decision == "reject"
    hit = gates.check(Proposal("tool", "x", calls=[{"name": "send_mail", "destructive": False}]))
    assert hit is not None and hit.rule.reason == "no mail today"
    with pytest.raises(ConfigError, match="valid: destructive, tool"):
        GateRule("sometimes")
    with pytest.raises(ConfigError, match="valid: ask, approve, reject"):
        Gate.tool("x", decision="maybe")
    with pytest.raises(ConfigError, match="invalid tool gate pattern"):
        Gate.tool("(")
    with pytest.raises(ConfigError, match="unknown gate rule key"):
        make_gates([{"when": "tool", "patern": "x"}])
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        make_gates(bad)
    assert len(make_gates(None)) == 0 and [r.when for r in make_gates("default")] == ["destructive"]


# --- approve / edit / reject over the real model path -------------------------------------------------------


def test_a_destructive_call_waits_and_a_rejection_reason_is_the_next_observation(server, tmp_path):
    server.script(
        native("delete_file", {"path": "notes.txt"}),
        native("list_files", {}),
        native("delete_file", {"path": "draft.txt"}),
        native(FINAL_ANSWER, {"answer": "tidied"}),
    )
    s = http_session(server, store=tmp_path / "runs.sqlite")
    seen: list[ev.Event] = []
    s.subscribe(seen.append)
    nodes = s.run()
    proposed = nodes[-1]
    assert not deleted and not proposed.executed and proposed.status == "frontier"
    assert s.status == "waiting" and s.tree.cursor == 0 and s.pending_approval.node_id == proposed.id
    needed = next(e for e in seen if isinstance(e, ev.ApprovalNeeded))
    assert needed.approval["rule"] == "destructive tool" and "delete_file" in needed.approval["why"]
    assert needed.approval["calls"][0]["arguments"] == '{"path": "notes.txt"}'
    assert next(e for e in seen if isinstance(e, ev.Paused)).reason == "approval"
    with pytest.raises(ConfigError, match="awaits your approval"):
        s.step()

    rejected = s.reject("keep notes.txt, it is mine")
    assert rejected is proposed and not rejected.executed and s.tree.cursor == proposed.id
    assert rejected.observation == "Rejected by the user: keep notes.txt, it is mine"
    s.step()  # the model is asked again: the rejection reached it as the tool's result
    tool_messages = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_messages[-1]["content"] == "Rejected by the user: keep notes.txt, it is mine"

    s.run()  # lists, then proposes draft.txt: waits again
    assert deleted == [] and s.pending_approval is not None
    done = s.approve()
    assert deleted == ["draft.txt"] and done.executed and done.observation == "deleted draft.txt"
    assert done.info["approval"]["state"] == "approved" and done.info["approval"]["by"] == "user"
    s.run()
    assert s.tree.outcome == "success" and deleted == ["draft.txt"]  # executed once

    decided = [e for e in s.store.events(s.run_id) if e["kind"] == "ApprovalDecided"]
    assert [(e["data"]["decision"], e["provenance"]) for e in decided] == [
        ("rejected", "user"),
        ("approved", "user"),
    ]
    assert decided[0]["data"]["reason"] == "keep notes.txt, it is mine"
    stored = s.store.load_run(s.run_id).nodes[done.id]
    assert stored.info["approval"]["state"] == "approved" and stored.executed


def test_edit_and_approve_runs_the_edited_arguments_and_keeps_the_proposal(server):
    server.script(native("delete_file", {"path": "notes.txt"}))
    s = http_session(server)
    s.step()
    with pytest.raises(ConfigError, match="must be a dict"):
        s.approve([1])
    with pytest.raises(ConfigError, match="not JSON"):
        s.approve("{path")
    assert s.pending_approval is not None and not deleted  # a bad edit loses nothing
    node = s.approve({"path": "draft.txt"})
    assert deleted == ["draft.txt"] and node.action == 'delete_file({"path": "draft.txt"})'
    assert node.info["approval"]["state"] == "edited"
    assert node.info["approval"]["proposed"] == 'delete_file({"path": "notes.txt"})'


def test_deciding_with_nothing_pending_and_rewinding_away_from_a_proposal():
    answers = ['Thought: x\nAction: delete_file\nAction Input: {"path": "a"}']
    s = Session(tools=[list_files, delete_file], model=ScriptedModel(answers), tool_calling="text")
    with pytest.raises(ConfigError, match="no action awaits approval"):
        s.approve()
    proposed = s.step()
    s.rewind(0)
    assert s.pending_approval is None and proposed.status == "pruned"
    assert proposed.info["approval"]["state"] == "dropped" and not deleted


def test_rule_decisions_approve_or_reject_without_asking():
    answers = [
        'Thought: x\nAction: delete_file\nAction Input: {"path": "a"}',
        "Thought: y\nAction: list_files\nAction Input: {}",
    ]
    gates = [
        Gate.tool("delete_file", decision="reject", reason="deleting is off today"),
        Gate.tool("list_files", decision="approve"),
    ]
    s = Session(
        tools=[list_files, delete_file], model=ScriptedModel(answers), tool_calling="text", gates=gates
    )
    s.run(max_steps=2)
    first, second = s.path()[1:]
    assert first.observation == "Rejected by an approval rule: deleting is off today" and not deleted
    assert first.info["approval"]["by"] == "rule" and s.pending_approval is None
    assert second.executed and second.info["approval"]["state"] == "approved" and listed == [1]


def test_a_pending_destructive_tool_call_says_it_is_destructive():
    """The approval card's data: a proposal calling a destructive tool is destructive as a whole, as a
    code cell calling one already was (it read False for tool calls)."""
    answers = ['Thought: x\nAction: delete_file\nAction Input: {"path": "a"}']
    s = Session(tools=[list_files, delete_file], model=ScriptedModel(answers), tool_calling="text")
    s.run(max_steps=1)
    pending = s.pending_approval.to_dict()
    assert pending["calls"][0]["destructive"] is True and pending["destructive"] is True
    answers = ["Thought: y\nAction: list_files\nAction Input: {}"]
    s = Session(
        tools=[list_files], model=ScriptedModel(answers), tool_calling="text", gates=[Gate.tool("list_files")]
    )
    s.run(max_steps=1)
    assert s.pending_approval.to_dict()["destructive"] is False


def test_gates_off_runs_destructive_tools_at_once():
    answers = ['Thought: x\nAction: delete_file\nAction Input: {"path": "a"}']
    s = Session(tools=[delete_file], model=ScriptedModel(answers), tool_calling="text", gates=None)
    assert s.step().executed and deleted == ["a"]


def test_waiting_lets_other_work_run_and_nothing_times_out():
    answers = [
        'Thought: x\nAction: delete_file\nAction Input: {"path": "a"}',
        'Thought: done\nAction: final_answer\nAction Input: {"answer": "ok"}',
    ]
    s = Session(tools=[delete_file], model=ScriptedModel(answers), tool_calling="text")

    async def scenario() -> list[str]:
        log = []
        task = s.start()
        await task  # the background run ends at the proposal; the loop is free
        log.append(f"paused:{s.status}")
        for _ in range(3):
            await asyncio.sleep(0)
            log.append("other cell")
        assert s.pending_approval is not None  # still there: no silent timeout
        await s.aapprove()
        await s.arun()
        log.append(s.tree.outcome or "")
        return log

    assert asyncio.run(scenario()) == ["paused:waiting", "other cell", "other cell", "other cell", "success"]
    assert deleted == ["a"]


def test_a_rewind_never_replays_an_approved_action_without_asking_again():
    model = ScriptedModel(["Thought: go\nAction: go north"] * 6)
    s = Session(env="gridworld", model=model, gates=[Gate.action("^go north$")])
    s.step()
    s.approve()
    s.step()
    s.approve()
    s._snapshots.clear()  # an env without snapshots: reaching node 1 again means replaying from reset
    s._env_node = None
    s.rewind(1)
    asked = s.step()
    assert asked.id == 1 and s.pending_approval.replay == [1] and s.pending_approval.node is None
    s.reject("no")
    assert s.pending_approval is None and s.tree.cursor == 1
    s.step()
    s.approve()  # the replay, this time
    node = s.step()  # from node 1: replays it once, then proposes the next go north
    assert node.parent_id == 1 and s.pending_approval.node is node


def test_search_never_runs_a_gated_action_by_itself():
    env = Letters()
    s = Session(
        env=env, model=Sampled(cycle("a", "boom", "b")), strategy="best-first",
        branching=3, n_samples=6, max_depth=3, value=prefix_value(), gates=[Gate.action("^boom$")],
    )  # fmt: skip
    s.run()
    assert "boom" not in env.log
    blocked = [n for n in s.tree.nodes.values() if n.action == "boom" and n.status == "pruned"]
    assert blocked and all("approval gate" in n.observation for n in blocked)


def test_session_gate_adds_rules_and_a_risk_scorer_fills_the_score():
    s = Session(env="gridworld", model=ScriptedModel(["Thought: t\nAction: go north"]), gates=None)
    s.gates = Gates([Gate.risk(2)], risk=lambda p: (1.0, "walls nearby") if "north" in p.action else 3.0)
    s.gate("action", pattern="never-matches")
    node = s.step()
    assert s.pending_approval.node is node
    assert node.info["approval"]["risk"] == 1.0 and node.info["approval"]["risk_reasoning"] == "walls nearby"
    with pytest.raises(ConfigError, match="action gate needs pattern"):
        s.gate("action")


# --- the CLI ------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nwhen = "action"\npattern = "^pick up key$"\n\n'
        '[[rule]]\nwhen = "action"\npattern = "^open door$"\ndecision = "reject"\nreason = "doors stay shut"\n'
    )
    return tmp_path


def demo_args(*extra: str) -> list[str]:
    return ["run", "--env", "gridworld", "--model", "workbench/demo", "--error-rate", "0", "--seed", "1",
            "--store", "runs.sqlite", "--max-steps", "12", *extra]  # fmt: skip


def test_cli_approve_modes_decide_unattended(cli_dir, capsys, monkeypatch):
    from workbench import cli
    from workbench.oversight import terminal

    monkeypatch.setattr(terminal.sys.stdin, "isatty", lambda: False)
    assert cli.main(demo_args("--approve", "rules.toml")) == terminal.WAITING  # no one to ask
    out = capsys.readouterr().out
    assert "approval needed (action matches ^pick up key$" in out and "no terminal to ask" in out

    assert cli.main(demo_args("--approve", "never")) in (0, 1)  # nothing is gated by the default rules
    assert cli.main(demo_args("--approve", "nonsense")) == 2
    assert "--approve takes ask, always, never or a rules file" in capsys.readouterr().err


def test_cli_interactive_prompt_rejects_with_a_reason_then_approves(cli_dir, capsys, monkeypatch):
    from workbench import cli
    from workbench.oversight import terminal
    from workbench.store.sqlite import RunStore

    answers = iter(["x", "r", "not yet, look around first", "a"])
    monkeypatch.setattr(terminal.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    cli.main(demo_args("--approve", "rules.toml"))
    out = capsys.readouterr().out
    assert "answer a, e, r or s" in out and "Rejected by the user: not yet, look around first" in out
    assert "Rejected by an approval rule: doors stay shut" in out  # the rule decided, no prompt
    with RunStore("runs.sqlite", create=False) as store:
        run_id = store.list_runs()[0]["id"]
        decided = [
            (e["data"]["decision"], e["data"]["by"])
            for e in store.events(run_id)
            if e["kind"] == "ApprovalDecided"
        ]
    assert decided[:3] == [("rejected", "user"), ("approved", "user"), ("rejected", "rule")]


def test_per_agent_tool_permissions_reject_before_execution():
    from workbench.oversight.gates import permissions

    answers = [
        'Thought: x\nAction: delete_file\nAction Input: {"path": "a"}',
        "Thought: y\nAction: list_files\nAction Input: {}",
    ]
    reader = Session(
        tools=[list_files, delete_file], model=ScriptedModel(answers), tool_calling="text",
        gates=[permissions(allow=["read"], groups={"read": ["list_files"]})],
    )  # fmt: skip
    admin = Session(
        tools=[list_files, delete_file], model=ScriptedModel(answers), tool_calling="text",
        gates=[permissions(deny=["list_files"])],
    )  # fmt: skip
    first, second = reader.run(max_steps=2)
    assert first.observation == "Rejected by an approval rule: this agent is not permitted to use that tool"
    assert not deleted and second.executed and listed == [1]
    admin.run(max_steps=2)
    assert deleted == ["a"] and listed == [1]  # the admin may delete, but not list
    assert "allow ['list_files']" in first.info["approval"]["rule"]


def test_a_resumed_run_drops_a_proposal_left_waiting_and_asks_the_model_again(tmp_path):
    answers = ['Thought: x\nAction: delete_file\nAction Input: {"path": "a"}']
    store = tmp_path / "runs.sqlite"
    s = Session(tools=[delete_file], model=ScriptedModel(answers), tool_calling="text", store=store)
    proposed = s.step()
    s.store.close()
    again = Session.resume(s.run_id, store=store, tools=[delete_file], model=ScriptedModel(answers))
    stale = again.tree.nodes[proposed.id]
    assert stale.status == "pruned" and stale.info["approval"]["state"] == "dropped"
    assert again.pending_approval is None and again.tree.cursor == 0
    nxt = again.step()
    assert nxt.id != proposed.id and again.pending_approval.node is nxt and not deleted


def test_a_replay_consent_asked_after_the_model_call_keeps_the_call_on_a_node():
    """A strategy that finds out only after its model call that reaching its state replays an
    approved action: the step asks for the replay, and its model call is kept on an `interrupted`
    node (the cursor stays; the run's totals count it)."""
    from workbench.strategies.react import ReAct

    class LateReplay(ReAct):
        name = "late-replay"

        async def astep(self, session):
            parent = session.tree.current
            call = await session.call_model([{"role": "user", "content": "go on"}], parent)
            approved = [n for n in session.tree.path() if (n.info.get("approval") or {}).get("state")]
            session.approved_for_replay(approved, parent.id, consume=True)  # raises: no consent yet
            raise AssertionError(f"no replay was asked for ({call.response})")

    s = Session(
        env=Counter(goal=5), model=ScriptedModel([react("inc")]), gates=[Gate.action("inc")], store=None
    )
    s.step()
    approved = s.approve()
    tokens = s.tree.prompt_tokens + s.tree.completion_tokens
    s.strategy = LateReplay()
    s.model = ScriptedModel(["Thought: later\nAction: inc"])
    before = len(s.tree.nodes)
    assert s.step() is approved and s.pending_approval.replay == [approved.id]
    (kept,) = [s.tree.nodes[i] for i in range(before, len(s.tree.nodes))]
    assert kept.info["kind"] == "interrupted" and kept.status == "error" and kept.parent_id == approved.id
    assert [c.response for c in kept.llm_calls] == ["Thought: later\nAction: inc"]
    assert s.tree.prompt_tokens + s.tree.completion_tokens > tokens and s.tree.cursor == approved.id


def test_adecide_takes_the_raw_text_once_and_the_paused_run_goes_on():
    """What every front end sends: the raw text of the edit (JSON for a tool call) or the reason."""
    answers = [
        'Thought: tidy\nAction: delete_file\nAction Input: {"path": "notes.txt"}',
        'Thought: and then\nAction: delete_file\nAction Input: {"path": "old.txt"}',
        'Thought: done\nAction: final_answer\nAction Input: {"answer": "tidied"}',
    ]
    removed: list[str] = []

    @tool(destructive=True)
    def delete_file(path: str) -> str:
        """Delete a file."""
        removed.append(path)
        return f"deleted {path}"

    s = Session(tools=[delete_file], model=ScriptedModel(answers), tool_calling="text", store=None)
    s.run()
    for text, says in [("{path", "not JSON .*line 1.*must be JSON"), ("[1]", "must be a dict")]:
        with pytest.raises(ConfigError, match=says):
            s.adecide("approve", text)
        assert s.pending_approval is not None and not removed  # a bad edit changes nothing
    with pytest.raises(ConfigError, match="needs a reason"):
        s.adecide("reject", "  ")
    with pytest.raises(ConfigError, match="'approve' or 'reject'"):
        s.adecide("maybe")
    node = asyncio.run(s.adecide("approve", '{"path": "draft.txt"}'))
    assert node.info["approval"]["state"] == "edited" and removed[0] == "draft.txt"
    assert s.pending_approval.proposal.calls[0]["arguments"] == '{"path": "old.txt"}'  # the run went on
    asyncio.run(s.adecide("reject", "keep old.txt"))
    assert s.tree.outcome == "success" and removed == ["draft.txt"]
