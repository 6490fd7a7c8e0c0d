"""`%agent` / `%%agent` on a fresh IPython shell: every command changes the Session it names, and
every user mistake ends in a one-line UsageError that says what is valid.

The offline `workbench/demo` model drives the gridworld agents. Tests that need exact answers (a
pause in mid-run, a breakpoint on a tool, an edited prompt) inject a `ScriptedModel` session through
the Python API (`workbench.magics.agents(shell).add(...)`); the magics' public surface has no hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from plugin_dist import installed
from toys import Counter, react

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.magics import agents
from workbench.magics.agents import BackgroundRun
from workbench.magics.args import COMMANDS, TOP
from workbench.memory.window import WindowMemory
from workbench.strategies.labels import REPLANNER_ROLE
from workbench.strategies.react import ReAct

DEMO = "--env gridworld --model workbench/demo"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def agent(sh: InteractiveShell, line: str) -> tuple[Any, list[dict[str, Any]]]:
    """Run `%agent line`; returns its value and the data of everything it displayed."""
    with capture_output() as cap:
        value = sh.run_line_magic("agent", line)
    return value, [out.data for out in cap.outputs if not out.update]  # not the panels' refreshes


def text(outputs: list[dict[str, Any]]) -> str:
    return "\n".join(o.get("text/plain", "") for o in outputs)


def current(sh: InteractiveShell) -> Session:
    return agents(sh).get().session


class YieldingModel(ScriptedModel):
    """A ScriptedModel that gives the loop a turn per call, as a real model awaiting I/O does."""

    async def acomplete(self, messages: list[dict[str, Any]], **kw: Any) -> Any:
        await asyncio.sleep(0)  # a yield to the loop, not a wait
        return await super().acomplete(messages, **kw)


def scripted(sh: InteractiveShell, answers: Any, name: str = "toy", **kw: Any) -> Session:
    """A scripted-model session on the Counter toy env, added as the current agent `name`."""
    session = Session(env=Counter(goal=kw.pop("goal", 3)), model=YieldingModel(answers), **kw)
    agents(sh).add(name, session)
    return session


# --- making and choosing agents -----------------------------------------------------------------
def test_new_makes_a_configured_agent_and_shows_its_panel(shell):
    _, out = agent(shell, f"new --name explorer {DEMO} --memory diff --window 2 --seed 3 --max-steps 9")
    s = current(shell)
    assert agents(shell).current_name == "explorer"
    assert s.config["env"] == "gridworld" and s.config["simulated"] is True
    assert s.memory.name == "diff" and s.memory.window == 2 and s.seed == 3
    assert s.budgets["max_steps"] == 9 and s.tree.steps == 0
    assert len(out) == 2 and "text/plain" in out[0] and "text/html" not in out[0]
    assert 'class="wb-fallback"' in out[1]["text/html"]  # the static rendering, its own output
    from workbench.widgets import panel_for

    panel = panel_for(s)  # the one Workbench of this session, also shown for a displayed Session
    assert out[0][WIDGET_VIEW]["model_id"] == panel.model_id and agents(shell).get().panel is panel


def test_several_agents_coexist_and_use_switches(shell):
    agent(shell, f"new {DEMO}")
    agent(shell, "new --env game24 --model workbench/demo --name solver")
    assert agents(shell).names() == ["agent1", "solver"] and agents(shell).current_name == "solver"
    agent(shell, "use agent1")
    assert current(shell).config["env"] == "gridworld"
    _, out = agent(shell, "agents")
    assert "agent1" in text(out) and "solver" in text(out) and "*" in text(out)
    assert agent(shell, "session solver")[0] is agents(shell).get("solver").session
    assert agent(shell, "session")[0] is current(shell)


def test_quoted_and_unquoted_text_arguments(shell):
    agent(shell, f"new {DEMO} --task \"reach the goal, then say 'done'\"")
    assert current(shell).tree.task == "reach the goal, then say 'done'"
    agent(shell, "plan add go west now")
    agent(shell, "plan add 'go to the \"bottom-left\" corner' --at 1")
    assert [i.text for i in current(shell).plan] == ['go to the "bottom-left" corner', "go west now"]
    agent(shell, 'memory note "the door is south"')
    assert current(shell).memory.notes == ["the door is south"]


# --- stepping and running -----------------------------------------------------------------------
def test_step_adds_nodes_and_shows_a_card_per_step(shell):
    agent(shell, f"new {DEMO}")
    _, out = agent(shell, "step")
    s = current(shell)
    assert s.tree.steps == 1 and s.cursor.id == 1
    _, out = agent(shell, "step 3")
    assert s.tree.steps == 4 and [n.depth for n in s.path()] == [0, 1, 2, 3, 4]
    assert text(out).count("agent1 · step") == 3
    assert "<b>Action:</b>" in out[0]["text/html"]


def test_step_follows_a_plan_edit(shell):
    agent(shell, f"new {DEMO}")
    agent(shell, "step 2")
    agent(shell, "plan add 'go to the bottom-left corner' --at 1")
    _, out = agent(shell, "step 2")
    assert "Plan step 1: The bottom-left corner" in text(out)
    s = current(shell)
    assert any("plan: add" in edit for edit in s.path()[3].info.get("used_user_edits", []))


def test_run_starts_in_the_background_returns_at_once_and_is_awaitable(shell):
    agent(shell, f"new {DEMO}")
    s = current(shell)

    async def go() -> tuple[BackgroundRun, int, bool, list[Any]]:
        handle, out = agent(shell, "run --max-steps 3")
        assert out[0][WIDGET_VIEW]["model_id"] == agents(shell).get().panel.model_id  # the same panel
        steps_at_return, done_at_return = s.tree.steps, handle.done()
        assert agent(shell, "wait")[0] is handle
        finished = await handle
        assert finished is handle
        return handle, steps_at_return, done_at_return, handle.result()

    handle, steps_at_return, done_at_return, nodes = asyncio.run(go())
    assert steps_at_return == 0 and done_at_return is False
    assert len(nodes) == 3 and s.tree.steps == 3 and s.status == "paused"
    assert "paused" in repr(handle)


def test_run_until_stops_after_a_matching_action(shell):
    agent(shell, f"new {DEMO}")

    async def go() -> list[Any]:
        return (await agent(shell, "run --until 'pick up'")[0]).result()

    nodes = asyncio.run(go())
    assert nodes[-1].action == "pick up key" and current(shell).status == "paused"


def test_pause_from_another_command_stops_the_run_after_the_step_in_flight(shell):
    def answer(messages: list[dict[str, Any]]) -> str:
        if sum(m["role"] == "assistant" for m in messages) == 1:  # the second step
            agent(shell, "pause")
        return react("inc")

    s = scripted(shell, answer, goal=10)

    async def go() -> list[Any]:
        return (await agent(shell, "run")[0]).result()

    assert len(asyncio.run(go())) == 2 and s.status == "paused" and not s.done
    assert "not running" in text(agent(shell, "pause")[1])


def test_stop_cancels_the_background_run_and_drops_the_step_in_flight(shell):
    s = scripted(shell, [react("inc")], goal=10)
    s.subscribe(lambda e: agent(shell, "stop") if e.kind == "StepStarted" and e.parent_id == 1 else None)

    async def go() -> BackgroundRun:
        handle = agent(shell, "run")[0]
        assert await handle is handle  # a stopped run ends normally for the one who waits
        return handle

    handle = asyncio.run(go())
    assert handle.task.cancelled() and s.tree.steps == 1
    assert "not running" in text(agent(shell, "stop")[1])


def test_a_failed_background_run_raises_when_awaited(shell):
    def broken(messages: list[dict[str, Any]]) -> str:
        raise RuntimeError("model adapter bug")

    s = scripted(shell, broken)

    async def go() -> None:
        handle = agent(shell, "run")[0]
        with pytest.raises(RuntimeError, match="model adapter bug"):
            await handle
        assert "failed: RuntimeError" in repr(handle)

    asyncio.run(go())
    assert s.status == "error"


def test_a_run_started_elsewhere_is_seen_by_the_magics(shell):
    s = scripted(shell, [react("inc")], goal=10)

    async def go() -> None:
        task = s.start(max_steps=2)  # as the panel's Run button does
        with pytest.raises(UsageError, match="running in the background"):
            agent(shell, "step")
        handle = agent(shell, "wait")[0]
        assert handle.task is task and await handle is handle

    asyncio.run(go())
    assert s.tree.steps == 2 and "paused at node 2" in repr(agent(shell, "wait")[0])


def test_cell_magic_takes_the_task_from_the_body_and_runs(shell):
    async def go() -> list[Any]:
        with capture_output() as cap:
            handle = shell.run_cell_magic(
                "agent", "solver --env game24 --model workbench/demo --max-steps 2", "Make 24, carefully.\n"
            )
        shown = [o.data for o in cap.outputs if not o.update]
        assert WIDGET_VIEW in shown[0] and "wb-fallback" in shown[1]["text/html"]
        return (await handle).result()

    nodes = asyncio.run(go())
    s = current(shell)
    assert agents(shell).current_name == "solver" and s.tree.task == "Make 24, carefully."
    assert len(nodes) == 2 and s.budgets["max_steps"] == 2


# --- plan, memory, history, rewind, breakpoints, budgets -----------------------------------------
def test_plan_commands_edit_the_plan_as_the_user(shell):
    s = scripted(shell, [react("inc")])
    edits: list[Any] = []
    s.subscribe(lambda e: edits.append(e) if e.kind == "PlanEdited" else None)
    for line in ("plan add first", "plan add second", "plan add third", "plan done 1", "plan move 3 1",
                 "plan edit 2 'first, reworded'", "plan rm 3"):  # fmt: skip
        agent(shell, line)
    assert [(i.text, i.status) for i in s.plan] == [("third", "todo"), ("first, reworded", "done")]
    assert len(edits) == 7 and {e.provenance for e in edits} == {"user"}
    editor, out = agent(shell, "plan")  # the plan editor (a table without the widgets package)
    assert type(editor).__name__ == "PlanEditor" or "third" in text(out)
    assert agent(shell, "plan")[0] is editor  # one editor per agent
    agent(shell, "step")
    assert "first, reworded" in s.model.requests[-1][0]["content"]  # the next prompt shows the edit
    agent(shell, "plan clear")
    assert len(s.plan) == 0


def test_memory_commands_change_what_the_next_prompt_shows(shell):
    s = scripted(shell, [react("inc")], goal=10)
    agent(shell, "step 2")
    agent(shell, "memory edit obs:1 'n=1 (I checked twice)'")
    agent(shell, "memory forget obs:2")
    agent(shell, "memory pin act:1")
    agent(shell, "memory note 'count slowly'")
    state = s.memory.state()
    assert state["edits"] == {"obs:1": "n=1 (I checked twice)"} and state["forgotten"] == ["obs:2"]
    assert state["pinned"] == ["act:1"] and state["notes"] == ["count slowly"]
    agent(shell, "step")
    prompt = "\n".join(m["content"] for m in s.model.requests[-1])
    assert (
        "n=1 (I checked twice)" in prompt and "count slowly" in prompt and "forgotten by the user" in prompt
    )
    agent(shell, "memory unpin act:1")
    agent(shell, "memory restore obs:2")
    assert s.memory.pinned == set() and s.memory.forgotten == set()
    editor, out = agent(shell, "memory")
    assert type(editor).__name__ == "MemoryEditor" or "obs:1" in text(out)


def test_memory_use_switches_to_diff_history_for_the_next_step(shell):
    s = scripted(shell, [react("inc")], goal=10)
    agent(shell, "memory note keep")
    agent(shell, "step 2")
    agent(shell, "memory use diff --window 3")
    assert s.memory.name == "diff" and s.memory.window == 3 and s.config["memory"] == "diff"
    assert s.memory.notes == ["keep"]  # user edits carry over
    agent(shell, "step")
    prompt = s.model.requests[-1]
    assert "unified diff" in prompt[0]["content"]  # diff history's instructions reach the model
    # "n=1" -> "n=2": a diff longer than the text itself, so the model saw the text (marked)
    assert prompt[-1]["content"] == "Observation:\nn=2"
    assert s.memory.step_tokens(s.tree.path(2), 2)["fallback"] is True


def test_history_brief_full_and_diff(shell):
    agent(shell, f"new {DEMO}")
    agent(shell, "step 3")
    path = current(shell).path()
    brief = text(agent(shell, "history")[1])
    acted = [n for n in path[1:] if n.action is not None]  # the demo model errs at times (no action)
    assert acted and all(n.action in brief for n in acted) and "Map (north is up)" not in brief
    assert "Map (north is up)" in text(agent(shell, "history --full")[1])
    _, out = agent(shell, "history --diff")
    assert "@@" in text(out) and "full" in text(out) and "diff" in text(out) and "tokens" in text(out)
    assert "color: var(--jp-success-color1" in out[0]["text/html"]


def test_rewind_then_step_grows_a_branch_that_tree_shows(shell):
    agent(shell, f"new {DEMO}")
    agent(shell, "step 3")
    s = current(shell)
    agent(shell, "rewind 1")
    assert s.cursor.id == 1
    agent(shell, "step")
    assert s.cursor.parent_id == 1 and {n.id for n in s.tree.children(1)} == {2, 4}
    out = text(agent(shell, "tree --text")[1])
    assert "2 branches" in out and "<- cursor" in out
    view, _ = agent(shell, "tree")
    assert type(view).__name__ == "TreeView" and view is agent(shell, "tree")[0]
    assert view.session is s


def test_a_live_search_is_steered_from_the_magics(shell):
    """prune / unprune / pin / value: the tree view's buttons and Session's methods as commands."""
    agent(
        shell, "new --env game24 --seed 12 --model workbench/demo --strategy best-first --max-expansions 12"
    )
    s = current(shell)
    agent(shell, "step 2")
    frontier = [n.id for n in s.tree.nodes.values() if n.status == "frontier"]
    doomed, chosen, rescored = frontier[0], frontier[1], frontier[2]
    assert "pruned" in text(agent(shell, f"prune {doomed}")[1]) and s.tree.nodes[doomed].status == "pruned"
    agent(shell, f"unprune {doomed}")
    assert s.tree.nodes[doomed].status == "frontier"
    agent(shell, f"prune {doomed}")
    _, out = agent(shell, f"value {rescored} 0.9")
    assert s.tree.nodes[rescored].value == 0.9 and s.tree.nodes[rescored].info["value_by"] == "user"
    assert "0.9" in text(out)
    agent(shell, f"pin {chosen}")
    assert s.tree.nodes[chosen].info["pinned"] is True
    agent(shell, "step")
    assert s.tree.nodes[chosen].executed and s.tree.nodes[doomed].status == "pruned"
    for line, said in (
        ("prune 0", "root cannot be pruned"),
        ("prune 999", "no node 999"),
        ("value 3 high", "expected a number"),
        ("pin", "NODE"),
        (f"unprune {chosen}", "not pruned"),
    ):
        with pytest.raises(UsageError, match=said):
            agent(shell, line)


def test_breakpoints_are_added_listed_hit_and_cleared(shell):
    s = scripted(shell, [react("inc"), react("inc"), react("dec"), react("inc")], goal=10)
    for line in ("break action '^dec'", "break tool inc", "break cost 0.5", "break tokens 100000"):
        agent(shell, line)
    assert [(b.kind, b.value) for b in s.breakpoints] == [
        ("action", "^dec"), ("tool", "inc"), ("cost", 0.5), ("tokens", 100000)
    ]  # fmt: skip
    assert "tokens" in text(agent(shell, "break list")[1]) and "tool" in text(agent(shell, "break")[1])
    agent(shell, "break clear")
    assert s.breakpoints == []
    agent(shell, "break action dec")

    async def go() -> list[Any]:
        return (await agent(shell, "run")[0]).result()

    nodes = asyncio.run(go())
    assert nodes[-1].action == "dec" and s.status == "paused" and s.breakpoints[0].hits == 1


def test_budget_shows_and_raises_limits(shell):
    s = scripted(shell, [react("inc")], goal=10, max_steps=1)
    agent(shell, "step")
    with pytest.raises(UsageError, match="step budget used up"):
        agent(shell, "step")
    _, out = agent(shell, "budget --max-steps 3 --max-cost 1.5")
    assert s.budgets == {"max_steps": 3, "max_tokens": None, "max_cost": 1.5} and "max-steps" in text(out)
    agent(shell, "step 5")  # stops at the budget and says so
    assert s.tree.steps == 3


def test_status_models_envs_and_help(shell):
    agent(shell, f"new {DEMO}")
    agent(shell, "step")
    status = text(agent(shell, "status")[1])
    assert "simulated" in status and "gridworld" in status and "cursor at node 1" in status
    models = text(agent(shell, "models")[1])
    assert "workbench/demo" in models and "default" in models
    envs = text(agent(shell, "envs")[1])
    assert "gridworld" in envs and "game24" in envs
    everything = text(agent(shell, "help")[1])
    assert all(f"%agent {COMMANDS[key].usage}" in everything for key in TOP)
    plan_help = text(agent(shell, "help plan")[1])
    assert "plan move N M" in plan_help and "history" not in plan_help
    doc = shell.find_line_magic("agent").__doc__
    assert all(f"{word}" in doc for word in TOP) and "%%agent" in doc


def test_save_and_load_resume_the_run(shell, tmp_path: Path):
    store = tmp_path / "runs.sqlite"
    agent(shell, f"new {DEMO}")
    agent(shell, "step 2")
    s = current(shell)
    _, out = agent(shell, f"save --store {store}")
    assert s.run_id in text(out) and store.is_file()
    agent(shell, "step")  # written as it goes from now on
    agent(shell, f"load {s.run_id[:6]} --store {store} --name again")
    resumed = current(shell)
    assert agents(shell).current_name == "again" and resumed.run_id == s.run_id
    assert len(resumed.tree.nodes) == 4 and resumed.cursor.id == 3
    agent(shell, "step")
    assert resumed.tree.steps == 4


def test_new_with_a_store_writes_as_it_goes(shell, tmp_path: Path):
    store = tmp_path / "s.sqlite"
    agent(shell, f"new {DEMO} --store {store}")
    agent(shell, "step")
    s = current(shell)
    agent(shell, "save")
    from workbench.store.sqlite import RunStore

    with RunStore(store, create=False) as check:
        assert check.load_run(s.run_id).steps == 1


def test_outputs_never_show_secrets(shell, monkeypatch):
    monkeypatch.setenv("EXAMPLE_API_KEY", "sk-example-secret-123456")
    agent(shell, f"new {DEMO} --task 'use sk-example-secret-123456 to open the door'")
    _, out = agent(shell, "status")
    assert "sk-example-secret" not in str(out) and "[REDACTED:EXAMPLE_API_KEY]" in text(out)


def test_a_real_bug_keeps_its_traceback(shell):
    def broken(messages: list[dict[str, Any]]) -> str:
        raise RuntimeError("model adapter bug")

    scripted(shell, broken)
    with pytest.raises(RuntimeError, match="model adapter bug"):
        agent(shell, "step")


def test_usage_errors_in_a_cell_show_one_line_and_no_traceback(shell, capsys):
    result = shell.run_cell("%agent frobnicate")
    assert isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr()
    assert "Traceback" not in err.out + err.err and "unknown %agent command" in err.out + err.err


# --- wrong inputs: each one ends in ONE line that names what is valid ---------------------------
WRONG = [
    # (setup, line, a phrase of the message that names the valid choices)
    (None, "frobnicate", "valid: new, adopt, use, agents"),
    (None, "step", "make one with %agent new"),
    (None, "new --env mars", "unknown env 'mars'; valid: game24"),
    (None, "new --model gpt4", "valid: workbench/demo or provider/name"),
    (None, "new --model workbench/nope", "valid: workbench/demo"),
    (None, "new --strategy tree-of-thought", "valid: react"),
    (None, "new --memory huge", "valid: full, window, diff, hierarchical"),
    (
        None,
        "new --memory full --window 3",
        "--window does not apply to --memory full; use it with --memory window or diff",
    ),
    (None, "new --max-steps ten", "expected a whole number >= 0"),
    (None, "new --max-cost -1", "expected a number >= 0"),
    (None, "new --seed 1.5", "expected a whole number >= 0"),
    (None, "new --name 'two words'", "letters, digits"),
    (None, "new --bogus", "usage: %agent new"),
    (None, 'new --task "unclosed', "close the quote"),
    (
        "demo",
        "memory use full --window 3",
        "--window does not apply to memory use full; use it with memory use window",
    ),
    ("demo", "use nobody", "valid: agent1"),
    ("demo", "session nobody", "valid: agent1"),
    ("demo", "step 0", "expected a whole number >= 1"),
    ("demo", "step two", "expected a whole number >= 1"),
    ("demo", "step 1 2", "usage: %agent step [N]"),
    ("demo", "run --max-steps 0", "expected a whole number >= 1"),
    ("demo", "run --until '('", 'quote it, e.g. "open door"'),
    ("demo", "wait", "start one with %agent run"),
    ("demo", "plan frob", "valid: plan (show), plan add"),
    ("demo", "plan add", "usage: %agent plan add TEXT"),
    ("plan", "plan done 9", "valid positions: 1..2"),
    ("plan", "plan move 1 5", "valid: 1..2"),
    ("plan", "plan edit x text", "expected a whole number >= 1"),
    ("demo", "memory pin obs:99", "valid: obs:0"),
    ("demo", "memory frob obs:0", "valid: memory (show), memory edit"),
    ("demo", "memory use huge", "valid: full, window, diff, hierarchical"),
    ("demo", "history --diff --full", "--diff or --full"),
    ("demo", "rewind 99", "valid ids: 0..0"),
    ("demo", "rewind first", "expected a whole number >= 0"),
    ("demo", "break action '('", "quote it"),
    ("demo", "break cost lots", "expected a number >= 0"),
    ("demo", "break when x", "valid: break (show), break action"),
    ("demo", "help frob", "valid: new, adopt, use"),
    ("demo", "load abc --store /nonexistent/dir/runs.sqlite", "no run store"),
    ("demo", "budget --max-tokens -5", "expected a whole number >= 0"),
]


@pytest.mark.parametrize(("setup", "line", "valid"), WRONG, ids=[w[1] for w in WRONG])
def test_wrong_input_is_a_one_line_usage_error(shell, setup, line, valid):
    if setup in ("demo", "plan"):
        agent(shell, f"new {DEMO}")
    if setup == "plan":
        agent(shell, "plan add one")
        agent(shell, "plan add two")
    with pytest.raises(UsageError) as info:
        agent(shell, line)
    message = str(info.value)
    assert "\n" not in message and valid in message, message


def test_more_wrong_inputs_in_context(shell, tmp_path: Path):
    with pytest.raises(UsageError, match="needs the task in the cell body"):
        shell.run_cell_magic("agent", "solver", "  \n")
    store = tmp_path / "runs.sqlite"
    agent(shell, f"new {DEMO} --store {store}")
    with pytest.raises(UsageError, match="no run 'zzz'.*lists them"):
        agent(shell, f"load zzz --store {store}")
    s = scripted(shell, [react("inc")], goal=1)
    agent(shell, "step")
    with pytest.raises(UsageError, match="finished.*rewind") as info:
        agent(shell, "step")
    assert "\n" not in str(info.value) and s.done
    with pytest.raises(UsageError, match="rewind NODE branches"):
        agent(shell, "run")

    async def go() -> None:
        scripted(shell, [react("inc")], name="busy", goal=5)
        handle = agent(shell, "run")[0]
        for line in ("step", "run", "rewind 0", "memory use diff", "save"):
            with pytest.raises(UsageError, match="running in the background; %agent pause"):
                agent(shell, line)
        await handle

    asyncio.run(go())


def test_new_takes_search_options_and_the_search_runs(shell):
    agent(
        shell,
        "new --name s --env game24 --strategy mcts --max-expansions 4 --branching 3 --concurrency 2 --seed 3",
    )
    s = current(shell)
    assert s.strategy.name == "mcts" and s.strategy.config["max_expansions"] == 4
    assert s.strategy.config["branching"] == 3 and s.concurrency == 2
    s.run()
    assert s.done and len(s.tree.nodes) > 1


def test_search_options_on_a_linear_strategy_say_what_is_valid(shell):
    with pytest.raises(UsageError, match="react does not take max_expansions"):
        agent(shell, "new --max-expansions 4")
    with pytest.raises(UsageError, match="judge"):
        agent(shell, "new --strategy best-first --value nope")


def test_new_takes_rounds_for_the_outer_loop_of_a_search(shell):
    agent(shell, "new --name r --env game24 --strategy best-first --rounds terminal --max-expansions 2")
    s = current(shell)
    assert s.strategy.config["rounds"] == "terminal"
    agent(shell, "new --name r2 --strategy dfs --rounds 3")
    assert current(shell).strategy.config["rounds"] == 3
    with pytest.raises(UsageError, match="'terminal'"):
        agent(shell, "new --strategy dfs --rounds 0")
    with pytest.raises(UsageError, match="react does not take rounds"):
        agent(shell, "new --rounds 2")


# --- objects from the notebook: $name and {expr} ------------------------------------------------
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from installed(tmp_path / "site", monkeypatch)


def test_new_takes_env_strategy_and_memory_objects_from_the_namespace(shell):
    env, strategy, memory = Counter(goal=2), ReAct(), WindowMemory(window=1)
    shell.push({"myenv": env, "strat": strategy, "mem": memory, "mytask": "count to two, please"})
    agent(shell, "new --name c --env $myenv --strategy $strat --memory $mem --task {mytask}")
    s = current(shell)
    assert s.env is env and s.strategy is strategy and s.memory is memory
    assert s.tree.task == "count to two, please" and s.config["env"] == "counter"
    shell.push({"Counter": Counter, "ReAct": ReAct, "make_env": lambda goal=5: Counter(goal=goal)})
    agent(shell, 'new --name d --env {make_env(goal=int("7"))} --strategy={ReAct()}')
    assert current(shell).env.goal == 7 and isinstance(current(shell).strategy, ReAct)
    agent(shell, "new --name e --env {Counter(goal = 3)}")  # spaces inside the braces
    assert current(shell).env.goal == 3


def test_a_gymnasium_env_wrapped_in_the_notebook(shell):
    gym = pytest.importorskip("gymnasium")
    from workbench.envs.gym_adapter import GymTextEnv

    class Corridor(gym.Env):
        """Walk right from cell 0 to cell 2."""

        def __init__(self) -> None:
            self.action_space = gym.spaces.Discrete(2)
            self.observation_space = gym.spaces.Text(100)
            self.pos = 0

        def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
            super().reset(seed=seed)
            self.pos = 0
            return f"cell {self.pos}", {}

        def step(self, action: int) -> tuple[str, float, bool, bool, dict]:
            self.pos = max(0, self.pos + (1 if action == 1 else -1))
            return f"cell {self.pos}", float(self.pos == 2), self.pos == 2, False, {}

    shell.push({"GymTextEnv": GymTextEnv, "Corridor": Corridor})
    agent(shell, 'new --env {GymTextEnv(Corridor(), task="reach cell 2", action_names=["left", "right"])}')
    s = current(shell)
    assert isinstance(s.env, GymTextEnv) and s.tree.task == "reach cell 2"
    s.model = ScriptedModel([react("right")])
    agent(shell, "step 2")
    assert s.done and s.cursor.observation == "cell 2"


def test_a_text_value_from_the_namespace_is_a_name_and_text_options_still_expand(shell):
    shell.push({"which": "game24", "item": "try 4 * 6 first", "n": 2})
    agent(shell, "new --env $which --max-steps {n + 1}")
    s = current(shell)
    assert s.config["env"] == "game24" and s.budgets["max_steps"] == 3
    agent(shell, 'plan add "$item"')
    agent(shell, "plan add {item.upper()} --at 1")
    assert [item.text for item in s.plan] == ["TRY 4 * 6 FIRST", "try 4 * 6 first"]
    agent(shell, "plan add costs $$5")  # $$ is a literal $, as in every IPython magic
    assert s.plan.to_list()[-1]["text"] == "costs $5"


def test_cell_magic_takes_an_env_object(shell):
    env = Counter(goal=2)
    shell.push({"myenv": env})

    async def go() -> Any:
        with capture_output():
            handle = shell.run_cell_magic(
                "agent", "solver --env $myenv --model workbench/demo --max-steps 1", "count up\n"
            )
        return await handle

    asyncio.run(go())
    s = current(shell)
    assert s.env is env and s.tree.task == "count up" and s.tree.steps == 1


def test_memory_use_takes_a_memory_object(shell):
    s = scripted(shell, [react("inc")])
    shell.push({"mem": WindowMemory(window=1)})
    agent(shell, "memory use $mem")
    assert s.memory is shell.user_ns["mem"]


def test_tools_from_the_namespace(shell):
    shell.push({"tools": [shout], "shout": shout})
    agent(shell, "new --name t --tools $tools --model workbench/demo")
    s = current(shell)
    assert "shout" in s.env.tools and getattr(s.env, "inner", None) is None
    agent(shell, "new --name u --env gridworld --tools {[shout]}")
    assert "shout" in current(shell).env.tools and current(shell).env.inner is not None


def test_adopt_puts_an_existing_session_under_the_magics(shell):
    s = Session(env=Counter(goal=2), model=ScriptedModel([react("inc")]))
    shell.push({"s": s, "runs": [s]})
    _, out = agent(shell, "adopt s")
    assert agents(shell).current_name == "s" and current(shell) is s
    assert out and WIDGET_VIEW in out[0] and "wb-fallback" in out[1]["text/html"]  # its panel
    agent(shell, "step")
    agent(shell, "plan add go on")
    assert s.tree.steps == 1 and len(s.plan) == 1
    agent(shell, "new --name other --env game24")
    agent(shell, "adopt $s")  # already an agent: it becomes current again
    assert agents(shell).current_name == "s" and len(agents(shell)) == 2
    agent(shell, "adopt {runs[0]} --name again")
    assert agents(shell).current_name == "again" and current(shell) is s
    status = text(agent(shell, "status")[1])
    assert "agent again" in status and "counter" in status


def test_plugin_env_strategy_memory_and_tools_by_name(shell, plugins):
    agent(shell, "new --name p --env my-env --strategy my-react --memory my-window --window 2 --tools shout")
    s = current(shell)
    assert type(s.env.inner).__name__ == "PlugCounter" and "shout" in s.env.tools
    assert s.strategy.name == "my-react" and s.memory.name == "my-window" and s.memory.window == 2
    envs = text(agent(shell, "envs")[1])
    assert "my-env" in envs and f"[plugin {plugins}.plugins:PlugCounter ({plugins})]" in envs
    assert "broken-env" in envs and "failed to load" in envs
    with pytest.raises(UsageError, match=r"unknown strategy 'nope'; valid: react, .*my-react") as info:
        agent(shell, "new --strategy nope")
    assert "\n" not in str(info.value)


def test_a_stored_plugin_run_loads_by_name(shell, plugins, tmp_path: Path):
    store = tmp_path / "runs.sqlite"
    agent(shell, f"new --name p --env my-env --strategy my-react --store {store}")
    s = current(shell)
    s.model = ScriptedModel([react("inc")])
    agent(shell, "step")
    agent(shell, f"load {s.run_id} --store {store} --name again")
    again = current(shell)
    assert again is not s and again.strategy.name == "my-react" and type(again.env).__name__ == "PlugCounter"
    assert again.cursor.observation == "n=1"


OBJECT_WRONG = [
    # (line, a phrase of the one-line message)
    ("new --env $number", "--env $number is an int, not an environment; valid: an env name (game24"),
    ("new --env $number", "or an object with reset() and step(action)"),
    ("new --env {Counter}", "is the class Counter, not an environment"),
    ("new --strategy $number", "--strategy $number is an int, not a Strategy; valid: a strategy name (react"),
    ("new --strategy {ReAct}", "instance such as {ReAct()}"),
    ("new --memory {[1, 2]}", "--memory {[1, 2]} is a list, not a Memory; valid: a memory name (full"),
    ("new --tools $number", "--tools $number is an int, not a list of tools"),
    ("new --tools nothing", "unknown tool 'nothing'"),
    ("new --env $nothing", "--env $nothing: 'nothing' is not defined in the notebook"),
    ("new --strategy {make()}", "--strategy {make()}: 'make' is not defined"),
    ("new --env {1/0}", "--env {1/0} raised ZeroDivisionError: division by zero"),
    ("new --env {1 +}", "--env {1 +}: not a Python expression"),
    ("new --memory $mem --window 3", "--window works with a memory policy given by name"),
    ("new --env my_module:nothing", "cannot import module 'my_module'"),
    ("adopt number", "adopt number is an int, not a Session; valid: a workbench Session"),
    ("adopt $nothing", "'nothing' is not defined in the notebook"),
    ("adopt nothing", "'nothing' is not defined in the notebook"),
    ("adopt 'a b'", "adopt takes a Session: a variable name, $name or {expression}"),
    ("step --env $number", "expected a whole number >= 1, not '$number'"),
]


@pytest.mark.parametrize(("line", "phrase"), OBJECT_WRONG, ids=[w[0] for w in OBJECT_WRONG])
def test_a_wrong_object_is_a_one_line_usage_error(shell, line, phrase):
    shell.push({"number": 5, "Counter": Counter, "ReAct": ReAct, "mem": WindowMemory()})
    if line.startswith("step"):
        agent(shell, "new")
    with pytest.raises(UsageError) as info:
        agent(shell, line)
    message = str(info.value)
    assert "\n" not in message and phrase in message, message
    assert "\u27e8" not in message  # no placeholder leaks into a message


def test_stop_closes_what_the_agent_holds(shell):
    from workbench.tools import ToolEnv, tool

    class Server:
        closed = 0

        def close(self) -> None:
            Server.closed += 1

    @tool
    def ping() -> str:
        """Answers pong."""
        return "pong"

    shell.user_ns["tenv"] = ToolEnv([ping], owned=[Server()])
    shell.run_line_magic("agent", "new --name t --env $tenv")
    shell.run_line_magic("agent", "stop")
    assert Server.closed == 1  # the MCP connection (here a stand-in) is closed with the agent
    shell.run_line_magic("agent", "stop")
    assert Server.closed == 1  # closing twice is harmless


def test_sandbox_is_a_codeact_option(shell):
    with pytest.raises(UsageError, match="react does not take sandbox"):
        shell.run_line_magic("agent", "new --sandbox process")
    with pytest.raises(UsageError, match="invalid choice: 'docker'"):
        shell.run_line_magic("agent", "new --strategy codeact --sandbox docker")
    shell.run_line_magic("agent", "new --name coder --env game24 --strategy codeact --sandbox process")
    s = agents(shell).get().session
    assert s.strategy.config["sandbox"] == "process"
    s.close()


@pytest.mark.parametrize("strategy", ["plan-execute", "umi", "reflexion"])
def test_new_takes_the_role_strategies(shell, strategy: str):
    agent(shell, f"new --name r --env game24 --strategy {strategy} --seed 12")
    s = current(shell)
    assert s.strategy.name == strategy
    s.run(max_steps=12)
    assert s.done and all(c.role for n in s.tree.nodes.values() for c in n.llm_calls)
    with pytest.raises(UsageError, match="valid: react, .*plan-execute, umi, reflexion"):
        agent(shell, "new --strategy alpha-umi")


# --- strategy and memory options: --strategy-option / --memory-option KEY=VALUE ----------------------
PLAN = "Thought: key first.\nPlan:\n1. [ ] pick up the key\n2. [ ] reach the goal"
REPLAN = "Thought: again.\nPlan:\n1. [ ] open the door\n2. [ ] reach the goal"
BAD_ACTION = "Thought: x\nAction: fly away"


def say(sh: InteractiveShell, line: str) -> str:
    return text(agent(sh, line)[1])


def test_options_reach_the_strategy_and_the_memory(shell):
    agent(
        shell,
        f"new {DEMO} --strategy plan-execute --strategy-option replans=1 --strategy-option item_steps=4"
        " --memory summarized --memory-option every=3 --window 2",
    )
    s = agents(shell).get().session
    assert s.strategy.config == {"item_steps": 4, "replans": 1}
    assert s.memory.every == 3 and s.memory.window == 2
    assert s.config["memory_options"] == {"every": 3, "window": 2}
    s.step()  # the demo model plans and acts under these options
    assert [c.role for c in s.cursor.llm_calls] == ["planner", "executor"]
    say(shell, "memory use layered --memory-option top_k=2")
    assert s.memory.name == "layered" and s.memory.top_k == 2
    say(shell, f"""new {DEMO} --strategy umi --strategy-option 'models={{"caller": "workbench/demo"}}'""")
    assert agents(shell).get().session.strategy.config == {"models": {"caller": "workbench/demo"}}


def test_replans_1_makes_plan_execute_replan_at_most_once(shell, server, monkeypatch):
    """The real path: litellm over HTTP to the loopback server (its address and key from the env)."""
    monkeypatch.setenv("OPENAI_API_BASE", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    server.script(*[{"text": t} for t in (PLAN, BAD_ACTION, REPLAN, BAD_ACTION, BAD_ACTION, BAD_ACTION)])
    say(shell, "new --model openai/loopback --strategy plan-execute --strategy-option replans=1 --seed 3")
    s = agents(shell).get().session
    say(shell, "step 4")
    systems = [request["messages"][0]["content"] for request in server.requests]
    assert len(systems) == 6  # plan+act, replan+act, act, act: later failures are not replanned
    assert sum(REPLANNER_ROLE in system for system in systems) == 1
    assert [n.info.get("planned") for n in s.path()[1:]] == ["plan", "replan", None, None]
    assert all("Invalid action" in n.observation for n in s.path()[1:])


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            "--strategy plan-execute --strategy-option replanz=1",
            "has no option 'replanz'; valid: item_steps, replans",
        ),
        (
            "--strategy plan-execute --strategy-option replans=once",
            "replans: expected a whole number, not 'once'",
        ),
        ("--strategy plan-execute --strategy-option replans", "takes KEY=VALUE"),
        ("--memory summarized --memory-option evry=2", "has no option 'evry'; valid: every, l1, window"),
        ("--memory diff --memory-option window=2 --window 3", "give the window once"),
        ("--strategy bfs --max-depth 3 --strategy-option max_depth=4", "--max-depth given twice"),
        ("--strategy $mine --strategy-option x=1", "given by name"),
        ("--strategy umi --strategy-option models=[1]", "umi: models must be a dict of role -> model"),
        ("--strategy plan-execute --strategy-option replans=-1", "replans"),
    ],
)
def test_a_wrong_option_is_a_one_line_usage_error(shell, line, said):
    shell.user_ns["mine"] = ReAct()
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("agent", f"new {DEMO} {line}")
    assert said in str(info.value) and "\n" not in str(info.value)
    assert agents(shell).current_name is None  # nothing was made


def test_help_lists_the_flags_and_every_strategys_options(shell):
    usage = say(shell, "help")
    assert "[--strategy-option KEY=VALUE ...] [--memory-option KEY=VALUE ...]" in usage
    new = say(shell, "help new")
    assert "--strategy-option KEY=VALUE" in new and "--memory-option KEY=VALUE" in new
    assert "item_steps=10, replans=3" in new and "attempts=4" in new and "every=10" in new
    assert "--memory-option" in say(shell, "help memory use")
