"""The `layered` and `summarized` memories as switches: `%agent new --memory`, `workbench run --memory`."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench import cli
from workbench.store.sqlite import RunStore


@pytest.fixture(autouse=True)
def _own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "runs.sqlite"))  # before `shell` loads the extension


def agents(sh: InteractiveShell):
    # not `workbench.magics.agents`: once the submodule of that name is imported it shadows the function
    return sh.magics_manager.registry["AgentMagics"].agents


def magic(sh: InteractiveShell, line: str):
    with capture_output():
        return sh.run_line_magic("agent", line)


@pytest.mark.parametrize(
    ("memory", "env", "steps"), [("layered", "game24", 3), ("summarized", "gridworld", 4)]
)
def test_agent_new_memory_switch_steps_with_the_demo_model(shell, memory, env, steps):
    magic(shell, f"new --env {env} --memory {memory} --window 2")
    magic(shell, f"step {steps}")
    session = agents(shell).get().session
    assert session.memory.name == memory and session.memory.window == 2
    assert session.tree.config["memory"] == memory and session.tree.steps == steps
    prompt = session.tree.current.llm_calls[[c.purpose for c in session.tree.current.llm_calls].index("act")]
    first = prompt.messages[1]["content"]
    assert first.startswith("Memory (layered") if memory == "layered" else first.startswith("Step summaries")


def test_a_wrong_memory_name_is_one_line_listing_the_new_ones(shell):
    with pytest.raises(UsageError) as info:
        magic(shell, "new --memory layred")
    message = str(info.value)
    assert "\n" not in message and "layered" in message and "summarized" in message


def test_workbench_run_and_resume_with_the_new_memories(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["--store", "runs.sqlite", "--model", "workbench/demo", "--error-rate", "0", "--seed", "3"]
    for memory in ("layered", "summarized"):
        assert cli.main(["run", "--env", "gridworld", "--memory", memory, "--max-steps", "3", *base]) == 0
        out = capsys.readouterr().out
        rid = next(ln for ln in out.splitlines() if ln.startswith("run: ")).split()[1]
        assert f"memory: {memory}" in out or memory in out
        assert cli.main(["resume", rid, "--store", "runs.sqlite", "--max-steps", "5"]) == 0
        assert "step 5 [node 5]" in capsys.readouterr().out
        store = RunStore(tmp_path / "runs.sqlite")
        run = store.load_run(rid)
        store.close()
        assert run.config["memory"] == memory and run.current.depth == 5
        if memory == "summarized":  # one L1 per node before its step, none made twice by the resume
            for node in run.path()[:-1]:
                assert [c.purpose for c in node.llm_calls].count("l1") == 1
    assert cli.main(["run", "--memory", "layred", *base]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "'layered', 'summarized'" in err


def test_agent_memory_importance_sets_a_layered_item_and_rejects_the_rest(shell):
    magic(shell, "new --env gridworld --memory layered --seed 4")
    magic(shell, "step 4")
    session = agents(shell).get().session
    hidden = next(x.item for x in session.memory.recall(session.path()) if x.item.layer == "short")
    magic(shell, f"memory importance mem:{hidden.node_id} 99")
    assert session.memory.importance == {f"mem:{hidden.node_id}": (4, 99.0)}
    assert session.memory.layers(session.path())[hidden.node_id].layer == "mid"
    for line, message in (
        ("memory importance mem:999 50", "no memory entry 'mem:999' on this path"),
        ("memory importance obs:4 50", "only memory items"),
        (f"memory importance mem:{hidden.node_id} 5000", "from 0 to 1000"),
        (f"memory importance mem:{hidden.node_id} lots", "expected a number"),
    ):
        with pytest.raises(UsageError, match=message) as info:
            magic(shell, line)
        assert "\n" not in str(info.value)
    magic(shell, "new --name plain --memory full")
    with pytest.raises(UsageError, match="the full memory has no importance"):
        magic(shell, "memory importance obs:0 50")
