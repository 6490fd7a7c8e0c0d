"""`%agent approve` / `%agent reject` / `%agent gate` on a fresh IPython shell."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench import tool
from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel

removed: list[str] = []


@tool(destructive=True)
def remove(path: str) -> str:
    """Remove a file."""
    removed.append(path)
    return f"removed {path}"


def agents(sh: InteractiveShell) -> Any:
    """The shell's agents (the package's `agents` helper is shadowed once its submodule is imported)."""
    return sh.magics_manager.registry["AgentMagics"].agents


@pytest.fixture(autouse=True)
def _nothing_removed() -> None:
    removed.clear()
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "workbench")
    removed.clear()
    yield sh
    agents(sh).clear()
    InteractiveShell.clear_instance()


def agent(sh: InteractiveShell, line: str) -> tuple[Any, str]:
    with capture_output() as cap:
        value = sh.run_line_magic("agent", line)
    return value, "\n".join(o.data.get("text/plain", "") for o in cap.outputs)


def session(sh: InteractiveShell) -> Session:
    answers = [
        'Thought: clean up\nAction: remove\nAction Input: {"path": "a.txt"}',
        'Thought: then b\nAction: remove\nAction Input: {"path": "b.txt"}',
        'Thought: done\nAction: final_answer\nAction Input: {"answer": "clean"}',
    ]
    s = Session(tools=[remove], model=ScriptedModel(answers), tool_calling="text", task="clean up")
    agents(sh).add("cleaner", s)
    return s


def test_reject_then_approve_from_the_magic_and_the_run_goes_on(shell):
    s = session(shell)

    async def go() -> str:
        handle, _ = agent(shell, "run")
        await handle
        _, status = agent(shell, "status")
        assert "waits (destructive tool)" in status and s.status == "waiting"
        handle, shown = agent(shell, 'reject "a.txt is still needed"')
        assert "Rejected by the user: a.txt is still needed" in shown
        await handle  # the run went on, and stopped at the next proposal
        assert s.pending_approval.proposal.calls[0]["arguments"] == '{"path": "b.txt"}'
        handle, shown = agent(shell, "approve")
        await handle
        return shown

    shown = asyncio.run(go())
    assert "removed b.txt" in shown and removed == ["b.txt"] and s.tree.outcome == "success"


def test_approve_with_edited_arguments_and_usage_errors(shell):
    s = session(shell)
    with pytest.raises(UsageError, match="nothing awaits approval"):
        agent(shell, "approve")
    s.step()
    with pytest.raises(UsageError, match="must be JSON"):
        agent(shell, "approve {path")
    with pytest.raises(UsageError, match="needs a reason"):
        agent(shell, "reject")
    _, shown = agent(shell, """approve '{"path": "c.txt"}'""")
    assert removed == ["c.txt"] and "removed c.txt" in shown


def test_gate_lists_and_adds_rules(shell):
    s = session(shell)
    _, shown = agent(shell, "gate")
    assert "destructive tool" in shown
    agent(shell, "gate tool 'send_.*'")
    agent(shell, "gate code network")
    agent(shell, "gate cost 0.25")
    assert [r.describe() for r in s.gates] == [
        "destructive tool", "tool matches send_.*", "code: network", "cost at least $0.25",
    ]  # fmt: skip
    with pytest.raises(UsageError, match="file-write, subprocess, network or re:REGEX"):
        agent(shell, "gate code sockets")
    with pytest.raises(UsageError, match="needs a regex"):
        agent(shell, "gate tool")
    with pytest.raises(UsageError, match="invalid choice"):
        agent(shell, "gate sometimes")
    agent(shell, "gate clear")
    assert len(s.gates) == 0


def test_agent_new_takes_a_recall_object_or_a_jsonl_file(shell, tmp_path):
    import json

    from workbench.oversight.trust import TrustedRecall

    recall = TrustedRecall()
    recall.add("go to the goal", "go north", provenance="user", source="me")
    shell.push({"recall": recall, "nothing": 42})
    agent(shell, "new --name r --env gridworld --recall $recall --model workbench/demo")
    s = agents(shell).get().session
    assert s.recall is recall and "(user: me) go to the goal -> go north" in s.recall_note(s.cursor)
    demos = tmp_path / "demos.jsonl"
    demos.write_text(json.dumps({"text": "reach the goal", "action": "go east"}) + "\n")
    agent(shell, f"new --name f --env gridworld --recall {demos} --model workbench/demo")
    imported = agents(shell).get().session.recall
    assert imported.sources() == {
        "demos.jsonl": {"items": 1, "provenance": "import", "trust": 0.5, "recalled": True}
    }
    with pytest.raises(UsageError, match=r"--recall \$nothing is .*int.*valid: a TrustedRecall"):
        agent(shell, "new --name g --recall $nothing")
    with pytest.raises(UsageError, match="--recall: no recall file"):
        agent(shell, f"new --name h --recall {tmp_path / 'missing.jsonl'}")
