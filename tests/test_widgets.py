"""Python-side widget tests, no browser: a recording comm stands in for the kernel's (as in
ipywidgets' own tests), front-end actions are delivered as the comm delivers them (custom messages
and state updates), and the tests assert that the Python objects changed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any

import comm
import pytest
from toys import Counter, react
from widget_toys import GatedModel, RecordingComm, front_event, front_state

from workbench.core import events as ev
from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.widgets import DiffView, MemoryEditor, PlanEditor, Workbench, register_display
from workbench.widgets.workbench_panel import PAGE

SECRET = "sk-test-SECRET-0123456789"


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch):
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))


def make(answers=None, goal: int = 1000, memory: str = "full", **kwargs) -> tuple[Session, list[ev.Event]]:
    model = answers if hasattr(answers, "acomplete") else ScriptedModel(answers or [react("inc")])
    session = Session(env=Counter(goal=goal), model=model, memory=memory, **kwargs)
    seen: list[ev.Event] = []
    session.subscribe(seen.append)
    return session, seen


def run(coro_fn):
    return asyncio.run(coro_fn())


# --- PlanEditor -------------------------------------------------------------------------------------
def test_plan_edit_in_the_browser_reaches_the_plan_and_the_next_prompt():
    async def main() -> None:
        s, seen = make()
        s.plan.replace(["count up", "stop at the goal"], provenance="agent")
        editor = PlanEditor(s)
        front_event(editor, "edit", position=2, text="stop exactly at fifty")
        await editor.settled()
        assert s.plan[2].text == "stop exactly at fifty" and s.plan[2].provenance == "user"
        edits = [e for e in seen if isinstance(e, ev.PlanEdited)]
        assert edits[-1].provenance == "user" and edits[-1].change == "edit 2"
        assert editor.items[1] == {"text": "stop exactly at fifty", "status": "todo", "provenance": "user"}
        node = await s.astep()
        assert "2. [ ] stop exactly at fifty" in s.model.requests[-1][0]["content"]
        assert "plan: edit 2" in node.info["used_user_edits"]

    run(main)


def test_plan_add_move_tick_delete_and_mistakes():
    async def main() -> None:
        s, _ = make()
        editor = PlanEditor(s)
        front_event(editor, "add", text="first")
        front_event(editor, "add", text="second")
        front_event(editor, "add", text="third")
        front_event(editor, "move", position=3, to=1)
        front_event(editor, "tick", position=2, done=True)
        front_event(editor, "delete", position=3)
        front_event(editor, "edit", position=1, text="   ")  # a mistake: shown, not applied
        await editor.settled()
        assert [(i.text, i.status) for i in s.plan] == [("third", "todo"), ("first", "done")]
        assert [i["text"] for i in editor.items] == ["third", "first"]
        assert "needs some text" in editor.notice
        front_event(editor, "move", position=7, to=1)
        await editor.settled()
        assert "no plan item 7" in editor.notice

    run(main)


def test_front_end_callbacks_from_another_thread_run_on_the_widget_loop():
    async def main() -> None:
        s, _ = make()
        editor = PlanEditor(s)
        loop_thread = threading.get_ident()
        where: list[int] = []
        s.subscribe(lambda e: where.append(threading.get_ident()) if isinstance(e, ev.PlanEdited) else None)
        thread = threading.Thread(
            target=front_event, args=(editor, "add"), kwargs={"text": "from a subshell"}
        )
        thread.start()
        await asyncio.to_thread(thread.join)
        await editor.settled()
        assert s.plan[1].text == "from a subshell"
        assert where == [loop_thread]

    run(main)


# --- MemoryEditor -----------------------------------------------------------------------------------
def test_memory_edit_pin_forget_reach_the_policy_as_user_events():
    async def main() -> None:
        s, seen = make(memory="diff")
        for _ in range(3):
            await s.astep()
        editor = MemoryEditor(s)
        ids = [e["id"] for e in editor.entries]
        assert "obs:1" in ids and "act:2" in ids
        assert {e["provenance"] for e in editor.entries} >= {"env", "agent"}
        front_event(editor, "edit", entry_id="obs:2", text="n=2 (and the user says: keep going)")
        front_event(editor, "pin", entry_id="act:1", pinned=True)
        front_event(editor, "forget", entry_id="obs:1", forgotten=True)
        front_event(editor, "note", text="the goal is 50")
        await editor.settled()
        memory = s.memory
        assert memory.edits["obs:2"].endswith("keep going)")
        assert "act:1" in memory.pinned and "obs:1" in memory.forgotten and memory.notes == ["the goal is 50"]
        changes = [(e.entry_id, e.change, e.provenance) for e in seen if isinstance(e, ev.MemoryEdited)]
        assert changes == [
            ("obs:2", "edit", "user"),
            ("act:1", "pin", "user"),
            ("obs:1", "forget", "user"),
            ("note:1", "add", "user"),
        ]
        by_id = {e["id"]: e for e in editor.entries}
        assert by_id["obs:2"]["provenance"] == "user" and by_id["obs:2"]["edited"]
        assert by_id["act:1"]["pinned"] and by_id["obs:1"]["forgotten"]
        node = await s.astep()
        prompt = "\n".join(m["content"] for m in s.model.requests[-1])
        assert "keep going" in prompt and "the goal is 50" in prompt
        assert "obs:2" in node.info["used_user_edits"]
        front_event(editor, "restore", entry_id="obs:2")
        front_event(editor, "forget", entry_id="obs:1", forgotten=False)
        await editor.settled()
        assert "obs:2" not in memory.edits and "obs:1" not in memory.forgotten
        front_event(editor, "pin", entry_id="obs:99", pinned=True)
        await editor.settled()
        assert "no memory entry 'obs:99'" in editor.notice

    run(main)


def test_memory_editor_shows_hierarchical_subgoals_and_their_summaries():
    answers = [
        "Subgoal: reach two\nThought: up\nAction: inc",
        "Thought: up\nAction: inc",
        "Subgoal: reach four\nThought: up\nAction: inc",
        "Thought: up\nAction: inc",
    ]

    async def main() -> None:
        s, _ = make(answers, memory="hierarchical")
        for _ in range(4):
            await s.astep()
        editor = MemoryEditor(s)
        subgoals = [e for e in editor.entries if e["kind"] == "subgoal"]
        assert [(g["k"], g["subgoal"], g["status"]) for g in subgoals] == [
            (1, "reach two", "done"),
            (2, "reach four", "current"),
        ]
        assert subgoals[0]["text"] == "n=2"  # the summary: the chunk's last observation
        front_event(editor, "edit", entry_id=subgoals[0]["id"], text="got to two quickly")
        await editor.settled()
        await s.astep()
        prompt = "\n".join(m["content"] for m in s.model.requests[-1])
        assert "Subgoal 1 (done): reach two\nObservation: got to two quickly" in prompt

    run(main)


def test_memory_editor_shows_and_switches_how_subgoals_are_summarised():
    script = iter(
        ["Subgoal: reach two\nThought: up\nAction: inc", "Thought: up\nAction: inc",
         "Subgoal: reach four\nThought: up\nAction: inc", "Thought: up\nAction: inc"]
    )  # fmt: skip

    def answer(messages):
        if messages[0]["content"].startswith("You summarise one finished subgoal"):
            return "Summary: reach two: met."
        return next(script, "Thought: up\nAction: inc")

    async def main() -> None:
        s, _ = make(answer, memory="hierarchical")
        for _ in range(3):
            await s.astep()
        editor = MemoryEditor(s)
        assert editor.policy["summarize"] == "last_observation"  # the cheap default, shown
        first = next(e for e in editor.entries if e["kind"] == "subgoal")
        assert first["summary_by"] == "last_observation" and first["text"] == "n=2"
        assert "summaries: last observation" in editor._repr_mimebundle_()[0]["text/html"]
        front_event(editor, "summarize", mode="llm")
        await editor.settled()
        assert s.memory.summarize == "llm" and editor.policy["summarize"] == "llm"
        first = next(e for e in editor.entries if e["kind"] == "subgoal")
        assert first["summary_by"] == "pending"  # made before the next step
        await s.astep()
        await editor.settled()
        first = next(e for e in editor.entries if e["kind"] == "subgoal")
        assert (first["summary_by"], first["text"]) == ("llm", "reach two: met.")
        assert [c.purpose for c in s.tree.nodes[2].llm_calls][-1] == "summarize"
        front_event(editor, "summarize", mode="gpt")
        await editor.settled()
        assert "summarize must be one of last_observation, llm" in editor.notice

    run(main)


# --- Workbench: controls ------------------------------------------------------------------------------
def test_step_click_adds_a_node_and_a_card():
    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        assert wb.path == [0] and wb.card_pages == 1 and wb.cards_0[0]["kind"] == "start"
        front_event(wb, "step")
        await wb.settled()
        assert len(s.tree.nodes) == 2
        assert wb.path == [0, 1]
        card = wb.cards_0[1]
        assert (card["action"], card["obs"], card["diff"]) == ("inc", "n=1", "@@ -1 +1 @@\n-n=0\n+n=1")
        assert wb.header["steps"] == 1 and wb.header["status"] == "idle" and wb.header["tokens"] > 0

    run(main)


def test_new_cards_are_sent_as_deltas_not_the_whole_history():
    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        await s.arun(max_steps=2 * PAGE + 3)  # 54 nodes: pages 0, 1, 2
        await wb.settled()
        assert wb.card_pages == 3 and len(wb.cards_2) == 4
        assert [c["id"] for c in wb.cards_1] == list(range(PAGE, 2 * PAGE))
        wb.comm.sent.clear()
        await s.astep()
        await wb.settled()
        sent = [key for update in wb.comm.updates() for key in update]
        assert "cards_2" in sent and "cards_0" not in sent and "cards_1" not in sent
        assert len(wb.cards_2) == 5

    run(main)


def test_updates_are_coalesced():
    async def main() -> None:
        s, seen = make()
        wb = Workbench(s)
        wb.comm.sent.clear()
        await s.arun(max_steps=60)  # the scripted model never yields: hundreds of events in one turn
        await wb.settled()
        assert len(seen) > 300
        assert len(wb.comm.updates()) <= 4  # the end of the run (urgent) and the final settle
        assert wb.path == list(range(61)) and wb.header["steps"] == 60

    run(main)


def test_run_then_pause_stops_after_the_step_in_flight():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, seen = make(model)
        wb = Workbench(s)
        front_event(wb, "run")
        await model.wait_entered()
        wb.flush(force=True)
        assert wb.header["status"] == "running" and wb.header["pending"] == 0
        front_event(wb, "pause")  # immediate: a threading.Event, safe from any thread
        model.open_gate()
        await wb.settled()
        assert s.tree.steps == 1 and s.status == "paused"
        assert wb.header["status"] == "paused" and wb.header["pending"] == -1
        assert wb.notice == "Paused at step 1."
        assert [e.reason for e in seen if isinstance(e, ev.Paused)] == ["user"]

    run(main)


def test_stop_cancels_the_run_and_says_so():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, _ = make(model)
        wb = Workbench(s)
        task = wb.on_run_clicked()
        await model.wait_entered()
        front_event(wb, "stop")
        await wb.settled()
        assert task.cancelled() and s.tree.steps == 0
        assert wb.header["status"] == "paused"
        assert wb.notice.startswith("Stopped")
        front_event(wb, "stop")
        await wb.settled()
        assert wb.notice == "Nothing runs in the background."

    run(main)


def test_an_error_in_a_run_started_by_the_widget_is_shown_with_its_traceback():
    async def main() -> None:
        model = GatedModel([react("inc")])
        model.auto_open = True
        model.fail_with = RuntimeError("socket closed by peer")
        s, _ = make(model)
        wb = Workbench(s)
        front_event(wb, "run")
        await wb.settled()
        assert s.status == "error" and wb.header["status"] == "error"
        assert "socket closed by peer" in wb.notice
        assert "Traceback" in wb.detail and "RuntimeError: socket closed by peer" in wb.detail

    run(main)


def test_malformed_answers_are_error_cards_with_text_to_act_on():
    async def main() -> None:
        s, _ = make(["I think I will count up."])
        wb = Workbench(s)
        front_event(wb, "step")
        await wb.settled()
        card = wb.cards_0[1]
        assert card["status"] == "error" and card["kind"] == "malformed"
        assert "no `Action:` line" in card["error"]
        html = wb._repr_mimebundle_()[0]["text/html"]
        assert "no `Action:` line" in html and "#d03b3b" in html

    run(main)


def test_rewind_to_the_selected_card_and_branch():
    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        await s.arun(max_steps=3)
        front_event(wb, "rewind")
        await wb.settled()
        assert "Select a step first" in wb.notice and s.cursor.id == 3
        front_state(wb, selected=1)  # the browser selects card #1
        assert wb.selected == 1
        front_event(wb, "rewind")
        await wb.settled()
        assert s.cursor.id == 1 and wb.path == [0, 1] and wb.selected == -1
        front_event(wb, "step")
        await wb.settled()
        assert wb.path == [0, 1, 4] and s.tree.nodes[4].parent_id == 1

    run(main)


def test_step_is_refused_while_running_and_after_the_end():
    async def main() -> None:
        s, _ = make(goal=1)
        wb = Workbench(s)
        assert (await wb.on_step_clicked()).terminal
        assert wb.on_step_clicked() is None and "finished" in wb.notice
        assert wb.on_run_clicked() is None

    run(main)


def test_breakpoint_toggle():
    async def main() -> None:
        answers = [react("inc"), react("inc"), react("dec"), react("inc")]
        s, seen = make(answers)
        wb = Workbench(s)
        front_event(wb, "breakpoint", enabled=True, pattern="")
        await wb.settled()
        assert "Type an action pattern" in wb.notice and not s.breakpoints
        front_event(wb, "breakpoint", enabled=True, pattern="^dec$")
        await wb.settled()
        assert (
            len(s.breakpoints) == 1 and wb.header["break_enabled"] and wb.header["break_pattern"] == "^dec$"
        )
        front_event(wb, "run")
        await wb.settled()
        assert s.cursor.action == "dec" and s.status == "paused"
        assert wb.notice.startswith("Breakpoint (action ^dec$) hit at step 3")
        front_event(wb, "breakpoint", enabled=False)
        await wb.settled()
        assert not s.breakpoints and not wb.header["break_enabled"]
        front_state(wb, selected=2)
        front_event(wb, "breakpoint", enabled=True)  # no pattern: the selected step's action
        await wb.settled()
        assert s.breakpoints[0].value == "^inc$"

    run(main)


def test_llm_call_details_are_sent_on_demand():
    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        await s.astep()
        await wb.settled()
        assert not wb.comm.customs() and "messages" not in json.dumps(wb.cards_0)
        front_event(wb, "call", node_id=1)
        await wb.settled()
        (payload,) = wb.comm.customs()
        assert payload["type"] == "calls" and payload["node_id"] == 1
        call = payload["calls"][0]
        assert call["messages"][0]["role"] == "system" and call["response"] == react("inc")
        assert call["prompt_tokens"] > 0

    run(main)


def test_usage_tab_gets_tokens_and_cost_per_step():
    async def main() -> None:
        s, _ = make(ScriptedModel([react("inc")], cost_per_token=1e-6))
        wb = Workbench(s)
        await s.arun(max_steps=4)
        await wb.settled()
        assert wb.usage == {}  # not drawn while the tab is closed
        front_state(wb, tab="Usage")
        await wb.settled()
        assert wb.usage["step"] == [1, 2, 3, 4]
        calls = [s.tree.nodes[i].llm_calls[0] for i in range(1, 5)]
        assert wb.usage["prompt_tokens"] == [c.prompt_tokens for c in calls]
        assert wb.usage["total_cost"][-1] == pytest.approx(s.tree.cost)
        fig = wb.usage_figure()
        assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
        assert list(fig.data[0].y) == wb.usage["prompt_tokens"]

    run(main)


# --- DiffView -----------------------------------------------------------------------------------------
def test_diff_view_toggle_and_token_report():
    async def main() -> None:
        s, _ = make(memory="diff")
        for _ in range(3):
            await s.astep()
        dv = DiffView(s)
        assert dv.data["diff"] == "@@ -1 +1 @@\n-n=2\n+n=3" and dv.data["full"] == "n=3"
        front_state(dv, mode="full")  # the browser's toggle sets the two-way trait
        assert dv.mode == "full"
        front_event(dv, "toggle")
        await dv.settled()
        assert dv.mode == "diff"
        expected = s.memory.token_report(s.tree, s.path())
        assert (
            dv.report["full_tokens"] == expected["full_tokens"]
            and dv.report["diff_tokens"] == expected["tokens"]
        )
        assert dv.report["actual"] is True
        front_event(dv, "show", node_id=1)
        await dv.settled()
        assert dv.node_id == 1 and dv.data["diff"] == "@@ -1 +1 @@\n-n=0\n+n=1"
        await s.astep()
        await dv.settled()
        assert dv.data["node_id"] == 1  # pinned to node 1, not following
        front_event(dv, "show", node_id=None)
        await dv.settled()
        assert dv.data["node_id"] == 4 and dv.data["following"]
        html = dv._repr_mimebundle_()[0]["text/html"]
        assert "as a diff against step 3" in html and "+n=4" in html

    run(main)


def test_diff_view_shows_each_steps_saving_and_when_the_model_saw_the_full_text():
    async def main() -> None:
        s, _ = make(memory="diff")
        for _ in range(3):
            await s.astep()
        dv = DiffView(s)
        tokens = dv.data["tokens"]  # "n=2" -> "n=3": the diff is longer than the text itself
        assert tokens["shown_as"] == "full" and tokens["saved"] < 0
        assert tokens == s.memory.step_tokens(s.path(), 3)
        assert [t["depth"] for t in dv.report["per_step"]] == [1, 2, 3]
        assert all(t["shown_as"] == "full" for t in dv.report["per_step"])
        html = dv._repr_mimebundle_()[0]["text/html"]
        assert "is not shorter than the full text" in html and "so the model sees the full text" in html

    run(main)


def test_diff_view_estimates_diff_history_for_other_policies():
    async def main() -> None:
        s, _ = make(memory="full")
        for _ in range(2):
            await s.astep()
        dv = DiffView(s)
        assert dv.report["actual"] is False and dv.report["steps"] == 2
        assert dv.report["full_tokens"] > 0 and dv.report["diff_tokens"] > 0

    run(main)


def test_workbench_cards_carry_diff_and_full_text_and_the_used_edit_mark():
    async def main() -> None:
        s, _ = make(memory="diff")
        wb = Workbench(s)
        await s.astep()
        s.memory.edit("obs:1", "n=1 (edited)")
        await s.astep()
        await wb.settled()
        card = wb.cards_0[2]
        assert card["diff"] == "@@ -1 +1 @@\n-n=1\n+n=2" and card["obs"] == "n=2"
        assert card["used"] == ["obs:1"]
        assert wb.header["memory"] == "diff" and wb.header["window"] == 4

    run(main)


# --- display, secrets, imports ------------------------------------------------------------------------
def test_a_change_no_cell_was_running_for_is_sent_after_the_next_cell():
    """A background run can end between two cells: its last refresh then belongs to no running cell
    and nbclient/nbconvert drop it. The next cell's end re-sends the fallbacks that changed."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        s, _ = make([react("inc", "count"), react("inc")])
        wb = Workbench(s)
        with capture_output():
            display(wb)

        async def two_steps() -> None:  # on a loop that closes: a refresh still pending never runs
            await s.astep()
            await s.astep()

        asyncio.run(two_steps())  # no output is being recorded: the refreshes reach no cell
        ours = {entry[0] for entry in wb._fallbacks}  # widgets of earlier tests may still be live

        def updates(cap: Any) -> list[Any]:
            return [o for o in cap.outputs if o.update and (o.transient or {}).get("display_id") in ours]

        with capture_output() as cap:
            shell.run_cell("1 + 1")
        sent = updates(cap)
        assert len(sent) == 1 and "step 2" in sent[0].data["text/plain"]
        with capture_output() as cap:
            shell.run_cell("2 + 2")
        assert not updates(cap)  # nothing changed since: nothing re-sent
    finally:
        InteractiveShell.clear_instance()


def test_a_displayed_widget_keeps_its_fallback_output_current():
    """Displaying a widget makes its view and, after it, a static fallback output with a display id;
    every change of the session re-sends that output (update_display_data), so a saved notebook shows
    the run's state at save time, not at display time."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    try:
        s, _ = make([react("inc", "count"), react("inc")])
        wb = Workbench(s)
        with capture_output() as cap:
            display(wb)
            s.run(max_steps=2)  # refreshes at most every second, and at once when the run stops
        view, first, *updates = cap.outputs
        assert "application/vnd.jupyter.widget-view+json" in view.data and "text/html" not in view.data
        assert "idle · step 0" in first.data["text/html"] and 'class="wb-fallback"' in first.data["text/html"]
        assert updates and all(u.update for u in updates)
        display_id = wb._fallbacks[0][0]
        assert {u.transient["display_id"] for u in updates} == {display_id}
        assert "step 2" in updates[-1].data["text/html"] and "step 2" in updates[-1].data["text/plain"]
    finally:
        InteractiveShell.clear_instance()


def test_mimebundles_carry_static_html_and_no_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    async def main() -> None:
        s, _ = make([f"Thought: my key is {SECRET}\nAction: inc"], memory="diff")
        s.plan.replace([f"use {SECRET} wisely", "count"], provenance="agent")
        widgets = [Workbench(s), PlanEditor(s), MemoryEditor(s), DiffView(s)]
        await s.astep()
        await s.astep()
        for w in widgets:
            await w.settled()
        wb = widgets[0]
        wb.on_call_requested(1)
        data, _ = wb._repr_mimebundle_()
        assert set(data) >= {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
        html = data["text/html"]
        assert "#2" in html and "@@ -1 +1 @@" in html and "count" in html and "Plan" in html
        assert "[REDACTED:OPENAI_API_KEY]" in html
        for w in widgets:
            bundle, _ = w._repr_mimebundle_()
            assert bundle["text/html"].strip()
            everything = json.dumps([w.get_state(), bundle, w.comm.sent], default=str)
            assert SECRET not in everything, type(w).__name__

    run(main)


def test_register_display_shows_a_session_as_its_workbench():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        register_display(shell)
        s, _ = make()
        data, _ = shell.display_formatter.format(s)
        assert "application/vnd.jupyter.widget-view+json" in data and "wb-static" in data["text/html"]
        again, _ = shell.display_formatter.format(s)
        model = data["application/vnd.jupyter.widget-view+json"]["model_id"]
        assert again["application/vnd.jupyter.widget-view+json"]["model_id"] == model  # one panel
    finally:
        InteractiveShell.clear_instance()


def test_imports_stay_one_way_and_cheap():
    code = (
        "import sys, workbench.widgets, workbench.viz\n"
        "import workbench.core.session, workbench.core.background\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('anywidget', 'ipywidgets', 'IPython', 'plotly')"
        " or m.startswith('workbench.widgets.')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_slow_part_does_not_hold_back_the_others():
    """The Usage part refreshes at most once a second; a new step's card must not wait for it."""
    import time

    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        front_state(wb, tab="Usage")
        await wb.settled()
        await s.astep()
        wb._scheduled_flush(wb._scheduled_due)  # the pending timer fires: usage is put off for about 1 s
        assert "usage" in wb._dirty and wb._scheduled_due > time.monotonic() + 0.5
        await s.astep()  # a new card: its refresh is scheduled within the normal interval
        assert wb._scheduled_due <= time.monotonic() + wb.min_interval

    run(main)


def test_memory_editor_syncs_recent_hidden_entries_until_asked_for_all():
    from workbench.widgets.memory_editor import HIDDEN_RECENT

    async def main() -> None:
        s, _ = make(memory="window", memory_options={"window": 2})
        for _ in range(30):
            await s.astep()
        editor = MemoryEditor(s)
        hidden = [e for e in editor.entries if not e["shown"]]
        assert editor.hidden_total > HIDDEN_RECENT == len(hidden)
        assert all(e["shown"] for e in editor.entries if e["node_id"] is not None and e["node_id"] >= 29)
        front_state(editor, show_hidden=True)
        await editor.settled()
        assert len([e for e in editor.entries if not e["shown"]]) == editor.hidden_total

    run(main)


def test_displaying_again_sends_the_whole_state_for_headless_saves():
    async def main() -> None:
        s, _ = make()
        wb = Workbench(s)
        await s.arun(max_steps=60)
        await wb.settled()
        wb.comm.sent.clear()
        wb.plan_editor.comm.sent.clear()
        wb._repr_mimebundle_()  # what a last `wb` cell does in a notebook run by nbclient
        full = wb.comm.updates()[-1]
        assert {"cards_0", "cards_1", "cards_2", "path", "header"} <= set(full)
        assert len(full["path"]) == 61
        assert wb.plan_editor.comm.updates()  # the children too

    run(main)


def test_a_panel_made_after_a_long_run_opens_with_every_page():
    async def main() -> None:
        s, _ = make()
        await s.arun(max_steps=60)
        wb = Workbench(s)
        (opened,) = [d for t, d in wb.comm.sent if t == "comm_open"]
        state = opened["state"]
        assert state["card_pages"] == 3 and len(state["path"]) == 61
        assert [len(state[f"cards_{k}"]) for k in range(3)] == [PAGE, PAGE, 11]

    run(main)
