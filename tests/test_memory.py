"""Memory policies: exact rendered messages, user edits, windows, diffs, HiAgent chunks, caching."""

from __future__ import annotations

import json

import pytest

from workbench.core.tree import Run
from workbench.errors import ConfigError
from workbench.memory import diff as diff_module
from workbench.memory.base import make_memory
from workbench.memory.diff import DiffMemory, observation_diff
from workbench.memory.hierarchical import HierarchicalMemory
from workbench.memory.steps import MESSAGE_OVERHEAD
from workbench.memory.window import FullMemory, WindowMemory


def approx_tokens(text: str) -> int:
    return len(text) // 4


def build(observations: list[str], subgoals: dict[int, str] | None = None) -> Run:
    """A linear run: root observation, then one step per further observation (raw "A<i>")."""
    run = Run(task="test")
    run.new_node(None, observation=observations[0])
    for i, obs in enumerate(observations[1:], 1):
        node = run.new_node(i - 1, raw=f"A{i}", action=f"a{i}", observation=obs, executed=True)
        if subgoals and i in subgoals:
            node.info["subgoal"] = subgoals[i]
    run.cursor = len(observations) - 1
    return run


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def asst(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def obs(text: str) -> dict[str, str]:
    return user("Observation:\n" + text)


# --- full --------------------------------------------------------------------------------------
def test_full_renders_every_step_in_the_shared_format():
    run = build(["o0", "o1", "o2", "o3"])
    mem = FullMemory()
    assert mem.render(run, run.path()) == [
        obs("o0"),
        asst("A1"),
        obs("o1"),
        asst("A2"),
        obs("o2"),
        asst("A3"),
        obs("o3"),
    ]
    assert mem.last_used_edits == []
    assert mem.render(run, run.path(0)) == [obs("o0")]


def test_full_edits_forgets_notes_and_used_edits():
    run = build(["o0", "o1", "o2", "o3"])
    mem = FullMemory()
    mem.edit("obs:1", "o1 edited")
    mem.edit("act:2", "A2 edited")
    mem.forget("obs:2")
    mem.forget("act:3")
    mem.add_note("the key is red")
    assert mem.render(run, run.path()) == [
        obs("o0"),
        user("Note from the user:\nthe key is red"),
        asst("A1"),
        obs("o1 edited"),
        asst("A2 edited"),
        obs("(forgotten by the user)"),
        obs("o3"),
    ]
    assert mem.last_used_edits == ["note:1", "obs:1", "act:2"]
    mem.restore("obs:1")
    mem.forget("note:1")
    messages = mem.render(run, run.path())
    assert messages[:3] == [obs("o0"), asst("A1"), obs("o1")]
    assert mem.last_used_edits == ["act:2"]


def test_user_made_node_shows_only_its_observation():
    run = build(["o0", "o1"])
    run.new_node(1, observation="o2 (user)", provenance="user")
    mem = FullMemory()
    assert mem.render(run, run.path(2)) == [obs("o0"), asst("A1"), obs("o1"), obs("o2 (user)")]
    kinds = [(e.id, e.provenance) for e in mem.entries(run, run.path(2))]
    assert kinds == [("obs:0", "env"), ("act:1", "agent"), ("obs:1", "env"), ("obs:2", "env")]


def test_rendering_another_branch_gives_that_branch():
    run = build(["o0", "o1", "o2"])
    run.new_node(1, raw="B2", action="b2", observation="other o2", executed=True)
    mem = FullMemory()
    assert mem.render(run, run.path(2))[-2:] == [asst("A2"), obs("o2")]
    assert mem.render(run, run.path(3)) == [obs("o0"), asst("A1"), obs("o1"), asst("B2"), obs("other o2")]


def test_entries_provenance_and_flags():
    run = build(["o0", "o1", "o2"])
    mem = WindowMemory(window=1)
    mem.edit("act:2", "A2 by user")
    mem.pin("obs:0")
    mem.forget("obs:1")
    mem.add_note("n")
    entries = {e.id: e for e in mem.entries(run, run.path())}
    assert list(entries) == ["note:1", "obs:0", "act:1", "obs:1", "act:2", "obs:2"]
    assert entries["note:1"].provenance == "user" and entries["note:1"].shown
    assert entries["obs:0"].pinned and entries["obs:0"].shown
    assert not entries["act:1"].shown  # outside the window
    assert entries["obs:1"].forgotten and not entries["obs:1"].shown
    assert entries["act:2"].provenance == "user" and entries["act:2"].text == "A2 by user"
    assert entries["act:2"].extra["original"] == "A2"
    assert entries["obs:2"].provenance == "env" and entries["obs:2"].shown
    json.dumps([e.to_dict() for e in entries.values()])


# --- window ------------------------------------------------------------------------------------
def test_window_shows_last_steps_and_their_first_observation():
    run = build(["o0", "o1", "o2", "o3", "o4"])
    mem = WindowMemory(window=2)
    assert mem.render(run, run.path()) == [obs("o2"), asst("A3"), obs("o3"), asst("A4"), obs("o4")]
    assert mem.render(run, run.path(2)) == [obs("o0"), asst("A1"), obs("o1"), asst("A2"), obs("o2")]
    assert WindowMemory(window=0).render(run, run.path()) == [obs("o4")]
    assert WindowMemory(window=None).render(run, run.path()) == FullMemory().render(run, run.path())


def test_window_pins_come_first_in_path_order_and_notes_follow_the_first_message():
    run = build(["o0", "o1", "o2", "o3", "o4"])
    mem = WindowMemory(window=1)
    mem.pin("obs:1")
    mem.pin("act:1")
    mem.pin("obs:0")
    mem.pin("act:3")  # the window's first observation is o3; its answer is outside the window
    mem.add_note("hint")
    assert mem.render(run, run.path()) == [
        obs("o0"),
        user("Note from the user:\nhint"),
        asst("A1"),
        obs("o1"),
        asst("A3"),
        obs("o3"),
        asst("A4"),
        obs("o4"),
    ]
    assert mem.last_used_edits == ["note:1", "obs:0", "act:1", "obs:1", "act:3"]


def test_set_window_records_a_change_and_round_trips_through_state():
    changes = []
    run = build(["o0", "o1", "o2", "o3"])
    mem = make_memory("window", window=3)
    mem.on_change = lambda *args: changes.append(args)
    mem.set_window(1)
    assert changes == [("config:window", "state", "user", "1")]
    assert mem.render(run, run.path()) == [obs("o2"), asst("A3"), obs("o3")]
    mem.edit("obs:3", "x")
    mem.add_note("n")
    state = json.loads(json.dumps(mem.state()))
    other = WindowMemory(window=4)
    other.load_state(state)
    assert other.window == 1 and other.state() == mem.state()
    assert other.render(run, run.path()) == mem.render(run, run.path())


def test_switching_memory_carries_the_users_work_and_not_the_old_policys_settings():
    from toys import Counter

    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel

    s = Session(env=Counter(goal=10), model=ScriptedModel(["Thought: up\nAction: inc"] * 3), memory="window")
    s.run(max_steps=2)
    s.memory.set_window(1)
    s.memory.edit("obs:1", "one (edited)")
    s.memory.pin("obs:2")
    s.memory.forget("act:1")
    s.memory.add_note("keep")
    s.memory.add_lesson("look first")
    carried = {k: v for k, v in s.memory.state().items() if k not in ("window", "max_tokens")}
    assert set(carried) == {"edits", "pinned", "forgotten", "notes", "lessons"}
    new = s.set_memory("diff", window=4)
    assert new.shared_state() == carried
    assert new.window == 4  # the old policy's window stays behind
    shown = json.dumps(new.render(s.tree, s.path()))
    assert "keep" in shown and "one (edited)" in shown


def test_bad_options_raise_config_errors():
    with pytest.raises(ConfigError):
        WindowMemory(window=-1)
    with pytest.raises(ConfigError):
        DiffMemory(max_tokens=0)
    with pytest.raises(ConfigError):
        HierarchicalMemory(summarize="gpt")
    with pytest.raises(ConfigError):
        make_memory("nope")
    with pytest.raises(ConfigError):
        WindowMemory().set_window(2.5)  # type: ignore[arg-type]


def test_window_shrinks_under_max_tokens():
    run = build(["x" * 40] * 6)  # every message: 10 + overhead tokens for observations
    step = (
        approx_tokens("A1") + MESSAGE_OVERHEAD + approx_tokens("Observation:\n" + "x" * 40) + MESSAGE_OVERHEAD
    )
    base = approx_tokens("Observation:\n" + "x" * 40) + MESSAGE_OVERHEAD
    mem = WindowMemory(window=4, max_tokens=base + 2 * step, token_counter=approx_tokens)
    messages = mem.render(run, run.path())
    assert len(messages) == 5  # two steps plus their first observation
    assert mem.count_tokens(messages) == base + 2 * step
    tiny = WindowMemory(window=4, max_tokens=1, token_counter=approx_tokens)
    assert len(tiny.render(run, run.path())) == 3  # never below one step


# --- diff --------------------------------------------------------------------------------------
def test_observation_diff_format_byte_for_byte():
    prev = "line a\nline b\nline c\nline d\n"
    cur = "line a\nline B\nline c\nline d\nline e\n\n"
    assert observation_diff(prev, cur) == "@@ -2 +2 @@\n-line b\n+line B\n@@ -4,0 +5 @@\n+line e"
    assert observation_diff("same\n", "  same  \n\n".strip() + "\n") == "(no change)"
    assert observation_diff("a\nb\nc", "a\nc") == "@@ -2 +1,0 @@\n-b"
    assert observation_diff("", "new") == "@@ -0,0 +1 @@\n+new"


def test_diff_history_renders_full_first_observation_then_diffs():
    run = build(["a\nb", "a\nc", "a\nc", "z\nc", "z\nc\nd"])
    mem = DiffMemory(window=2, fallback=False)  # toy texts: every diff is longer than its text
    assert mem.render(run, run.path()) == [
        obs("a\nc"),
        asst("A3"),
        user("Observation diff:\n@@ -1 +1 @@\n-a\n+z"),
        asst("A4"),
        user("Observation diff:\n@@ -2,0 +3 @@\n+d"),
    ]
    assert DiffMemory(window=None, fallback=False).render(run, run.path(2)) == [
        obs("a\nb"),
        asst("A1"),
        user("Observation diff:\n@@ -2 +2 @@\n-b\n+c"),
        asst("A2"),
        user("Observation diff:\n(no change)"),
    ]
    assert "unified diff" in mem.system_hint()


def test_diff_history_with_user_edits_keeps_the_state_rebuildable():
    run = build(["a", "b", "c", "d"])
    mem = DiffMemory(window=None, fallback=False)
    mem.edit("obs:1", "B")
    mem.forget("obs:2")
    assert mem.render(run, run.path()) == [
        obs("a"),
        asst("A1"),
        obs("B"),  # a user's rewrite is shown in full
        asst("A2"),
        obs("(forgotten by the user)"),
        asst("A3"),
        obs("d"),  # nothing to apply a diff to after a forgotten observation
    ]
    mem.restore("obs:2")
    messages = mem.render(run, run.path())
    assert messages[4] == user("Observation diff:\n@@ -1 +1 @@\n-B\n+c")  # against the edited text
    assert mem.last_used_edits == ["obs:1"]
    entries = {e.id: e for e in mem.entries(run, run.path())}
    assert entries["obs:1"].extra["shown_as"] == "full"
    assert (
        entries["obs:2"].extra["shown_as"] == "diff"
        and entries["obs:2"].extra["diff"] == "@@ -1 +1 @@\n-B\n+c"
    )
    assert mem.diff_for(run.path(), 1) == "@@ -1 +1 @@\n-a\n+B"


def test_diffs_are_cached_per_node(monkeypatch):
    calls = []

    def spy(prev: str, cur: str) -> str:
        calls.append((prev, cur))
        return observation_diff(prev, cur)

    monkeypatch.setattr(diff_module, "observation_diff", spy)
    run = build([f"row {i}\nconst" for i in range(10)])
    mem = DiffMemory(window=None)
    first = mem.render(run, run.path(5))
    assert len(calls) == 5
    mem.render(run, run.path(5))
    assert len(calls) == 5
    mem.render(run, run.path(9))
    assert len(calls) == 9  # only the four new steps
    mem.edit("obs:3", "row 3 edited\nconst")
    mem.render(run, run.path(9))
    assert calls[-1] == ("row 3 edited\nconst", "row 4\nconst")  # the diff based on the edit
    assert len(calls) == 10
    mem.restore("obs:3")
    assert mem.render(run, run.path(5)) == first


def test_diff_window_shrinks_to_fit_and_reports_full_equivalent():
    grid = ["\n".join(f"row {r} {'#' * 30}" for r in range(8))]
    for i in range(1, 6):
        lines = grid[0].splitlines()
        lines[i] = f"row {i} moved"
        grid.append("\n".join(lines))
    run = build(grid)
    mem = DiffMemory(window=4, token_counter=approx_tokens)
    report = mem.token_report(run, run.path())
    assert report["window"] == 4 and report["tokens"] == mem.history_tokens(run, run.path())
    assert report["full_tokens"] == WindowMemory(window=4, token_counter=approx_tokens).history_tokens(
        run, run.path()
    )
    assert report["saved"] > 0
    tight = DiffMemory(window=4, max_tokens=report["tokens"] - 1, token_counter=approx_tokens)
    messages = tight.render(run, run.path())
    assert len(messages) < 9 and tight.count_tokens(messages) <= report["tokens"] - 1
    assert messages[0]["content"].startswith("Observation:\n")
    assert tight.token_report(run, run.path())["window"] == (len(messages) - 1) // 2


def test_diff_entries_mark_how_each_observation_is_shown():
    run = build(["a", "b", "c", "d"])
    mem = DiffMemory(window=2, fallback=False)
    entries = {e.id: e for e in mem.entries(run, run.path())}
    assert not entries["obs:0"].shown and not entries["act:1"].shown
    assert entries["obs:1"].shown and entries["obs:1"].extra == {"shown_as": "full"}  # window start
    extra = entries["obs:3"].extra
    assert extra["shown_as"] == "diff" and extra["diff"] == "@@ -1 +1 @@\n-c\n+d"
    assert extra["saved"] == extra["full_tokens"] - extra["diff_tokens"] < 0  # shown as a diff anyway


def test_long_path_renders_correctly(monkeypatch):
    calls = []

    def spy(prev: str, cur: str) -> str:
        calls.append(cur)
        return observation_diff(prev, cur)

    monkeypatch.setattr(diff_module, "observation_diff", spy)
    observations = [f"step {i}\nstatic line" for i in range(1001)]
    run = build(observations)
    path = run.path()
    assert len(path) == 1001
    full = FullMemory().render(run, path)
    assert len(full) == 2001 and full[-1] == obs("step 1000\nstatic line") and full[1] == asst("A1")
    mem = DiffMemory(window=4, fallback=False)
    for node in path[1:]:
        messages = mem.render(run, path[: node.depth + 1])
    assert len(calls) == 1000  # one diff per step over the whole run, however long
    assert messages == [
        obs("step 996\nstatic line"),
        asst("A997"),
        user("Observation diff:\n@@ -1 +1 @@\n-step 996\n+step 997"),
        asst("A998"),
        user("Observation diff:\n@@ -1 +1 @@\n-step 997\n+step 998"),
        asst("A999"),
        user("Observation diff:\n@@ -1 +1 @@\n-step 998\n+step 999"),
        asst("A1000"),
        user("Observation diff:\n@@ -1 +1 @@\n-step 999\n+step 1000"),
    ]
    everything = DiffMemory(window=None, fallback=False).render(run, path)
    assert len(everything) == 2001 and everything[1000] == user(
        "Observation diff:\n@@ -1 +1 @@\n-step 499\n+step 500"
    )


# --- hierarchical ------------------------------------------------------------------------------
def hiagent_run() -> Run:
    return build(["o0", "o1", "o2", "o3", "o4", "o5"], subgoals={2: "find key", 4: "open door"})


def test_hierarchical_chunks_and_summaries():
    run = hiagent_run()
    mem = HierarchicalMemory()
    assert mem.render(run, run.path()) == [
        obs("o0"),
        asst("A1"),
        obs("o1"),
        user("Subgoal 1 (done): find key\nObservation: o3"),
        user("Subgoal 2 (current): open door"),
        asst("A4"),
        obs("o4"),
        asst("A5"),
        obs("o5"),
    ]
    assert mem.last_used_edits == []
    assert "Subgoal: <one line>" in mem.system_hint() and "retrieve(k)" in mem.system_hint()
    # before the second subgoal existed, subgoal 1 was the current one
    assert mem.render(run, run.path(3))[3:] == [
        user("Subgoal 1 (current): find key"),
        asst("A2"),
        obs("o2"),
        asst("A3"),
        obs("o3"),
    ]


def test_hierarchical_user_summary_hook_expand_and_forget():
    run = hiagent_run()
    mem = HierarchicalMemory()
    mem.edit("subgoal:2", "key found")
    assert mem.render(run, run.path())[3] == user("Subgoal 1 (done): find key\nObservation: key found")
    assert mem.last_used_edits == ["subgoal:2"]
    mem.pin("subgoal:2")
    assert mem.render(run, run.path())[3:8] == [
        user("Subgoal 1 (done, shown in full): find key"),
        asst("A2"),
        obs("o2"),
        asst("A3"),
        obs("o3"),
    ]
    mem.forget("subgoal:2")
    assert mem.render(run, run.path())[3] == user("Subgoal 2 (current): open door")
    mem.forget("subgoal:4")  # the current subgoal loses only its header
    assert mem.render(run, run.path())[3:] == [asst("A4"), obs("o4"), asst("A5"), obs("o5")]
    seen = []
    hooked = HierarchicalMemory(summarize=lambda nodes: seen.append([n.id for n in nodes]) or "met: yes")
    assert hooked.render(run, run.path())[3] == user("Subgoal 1 (done): find key\nObservation: met: yes")
    hooked.render(run, run.path())
    assert seen == [[2, 3]]  # summaries are cached per chunk


def test_hierarchical_retrieve():
    run = hiagent_run()
    mem = HierarchicalMemory()
    path = run.path()
    assert mem.handle_action("go north", run, path) is None
    assert mem.handle_action("retrieve(1)", run, path) == (
        "Subgoal 1 (done): find key\n\nAction: a2\nObservation:\no2\n\nAction: a3\nObservation:\no3"
    )
    both = mem.handle_action(" Retrieve( 2 , 1 ) ", run, path)
    assert both.startswith("Subgoal 1 (done): find key") and "Subgoal 2 (current): open door" in both
    assert "numbered 1 to 2" in mem.handle_action("retrieve(3)", run, path)
    assert "no subgoals yet" in mem.handle_action("retrieve(1)", run, run.path(1))


def test_hierarchical_user_subgoals_and_done_marks():
    run = hiagent_run()
    changes = []
    mem = HierarchicalMemory(on_change=lambda *args: changes.append(args))
    mem.mark_done(4, 4)  # "open door" finished after its first step; step 5 is verbatim again
    assert mem.render(run, run.path())[4:] == [
        user("Subgoal 2 (done): open door\nObservation: o4"),
        asst("A5"),
        obs("o5"),
    ]
    assert mem.last_used_edits == ["subgoal:4"]
    mem.reopen(4)
    mem.add_subgoal(1, "look around")
    mem.remove_subgoal(4)
    assert mem.render(run, run.path()) == [
        obs("o0"),
        user("Subgoal 1 (done): look around\nObservation: o1"),
        user("Subgoal 2 (current): find key"),
        asst("A2"),
        obs("o2"),
        asst("A3"),
        obs("o3"),
        asst("A4"),
        obs("o4"),
        asst("A5"),
        obs("o5"),
    ]
    assert mem.last_used_edits == ["subgoal:1"]
    assert [c[:2] for c in changes] == [
        ("subgoal:4", "done"),
        ("subgoal:4", "reopen"),
        ("subgoal:1", "add"),
        ("subgoal:4", "remove"),
    ]
    state = json.loads(json.dumps(mem.state()))
    other = HierarchicalMemory()
    other.load_state(state)
    assert other.render(run, run.path()) == mem.render(run, run.path())
    mem.restore("subgoal:4")
    mem.restore("subgoal:1")
    assert mem.render(run, run.path()) == HierarchicalMemory().render(run, run.path())


def test_hierarchical_truncates_oldest_units_first():
    run = hiagent_run()
    full = HierarchicalMemory(token_counter=approx_tokens)
    messages = full.render(run, run.path())
    total = full.count_tokens(messages)
    first_unit = full.count_tokens(messages[:1])
    mem = HierarchicalMemory(max_tokens=total - 1, token_counter=approx_tokens)
    assert mem.render(run, run.path()) == messages[1:]  # the root observation went first
    mem = HierarchicalMemory(max_tokens=total - first_unit - 1, token_counter=approx_tokens)
    assert mem.render(run, run.path()) == messages[3:]  # then the verbatim step
    mem = HierarchicalMemory(max_tokens=1, token_counter=approx_tokens)
    assert mem.render(run, run.path()) == messages[-2:]  # the last step always stays
    shown = {e.id for e in mem.entries(run, run.path()) if e.shown}
    assert shown == {"act:5", "obs:5"}


def test_hierarchical_entries():
    run = hiagent_run()
    mem = HierarchicalMemory()
    mem.add_subgoal(4, "open the door")
    entries = {e.id: e for e in mem.entries(run, run.path())}
    done, current = entries["subgoal:2"], entries["subgoal:4"]
    assert (done.kind, done.text, done.provenance, done.shown) == ("subgoal", "o3", "agent", True)
    assert done.extra["status"] == "done" and done.extra["k"] == 1 and done.extra["last_node"] == 3
    assert current.provenance == "user" and current.extra["subgoal"] == "open the door"
    assert current.extra["status"] == "current" and current.shown
    assert not entries["obs:2"].shown and not entries["act:3"].shown
    assert entries["obs:5"].shown and entries["obs:1"].shown
    order = [e.id for e in mem.entries(run, run.path())]
    assert order.index("subgoal:2") < order.index("act:2") < order.index("subgoal:4")


def test_make_memory_builds_every_policy_with_options():
    assert isinstance(make_memory("full"), FullMemory)
    assert make_memory("window", window=2).window == 2
    assert make_memory("diff", window=None, max_tokens=100).max_tokens == 100
    assert make_memory("hierarchical").name == "hierarchical"


def test_diff_history_shows_error_texts_and_the_next_observation_in_full():
    run = Run(task="t")
    run.new_node(None, observation="a\nb")
    run.new_node(0, raw="A1", action="a1", observation="a\nc", executed=True)
    run.new_node(1, raw="junk", observation="The answer had no `Action:` line", status="error")
    run.new_node(2, raw="A3", action="a3", observation="a\nd", executed=True)
    run.new_node(3, raw="A4", action="a4", observation="e\nd", executed=True)
    users = [
        m["content"]
        for m in make_memory("diff", window=None, fallback=False).render(run, run.path(4))
        if m["role"] == "user"
    ]
    assert users == [
        "Observation:\na\nb",
        "Observation diff:\n@@ -2 +2 @@\n-b\n+c",
        "Observation:\nThe answer had no `Action:` line",
        "Observation:\na\nd",
        "Observation diff:\n@@ -1 +1 @@\n-a\n+e",
    ]


# --- diff history: the window fits the prompt, the full text when a diff does not pay ---------------
def rooms(n: int, lines: int = 12) -> list[str]:
    """Room descriptions of which one line changes per step (diffs pay) ."""
    base = [f"line {r}: the wall is made of old red bricks and ivy" for r in range(lines)]
    out = []
    for i in range(n):
        text = list(base)
        text[i % lines] = f"line {i % lines}: you moved here on step {i}"
        out.append("\n".join(text))
    return out


def test_diff_window_shrinks_down_to_zero_steps():
    run = build(rooms(6))
    mem = DiffMemory(window=4, token_counter=approx_tokens)
    current = mem.count_tokens([obs(run.current.observation)])
    tight = DiffMemory(window=4, max_tokens=current + 5, token_counter=approx_tokens)
    assert tight.render(run, run.path()) == [obs(run.current.observation)]  # no step fits: none
    assert tight.token_report(run, run.path())["window"] == 0


def test_diff_window_fits_the_whole_prompt_into_the_context_without_max_tokens():
    run = build(rooms(8))
    mem = DiffMemory(window=None, context_tokens=900, reply_tokens=200)
    wide = DiffMemory(window=None).render(run, run.path())
    frame = ["You are an agent. " * 60]  # a system prompt of a few hundred tokens
    mem.set_frame(frame)
    history = mem.render(run, run.path())
    system = {"role": "system", "content": frame[0]}
    assert len(history) < len(wide) and history[0]["content"].startswith("Observation:\n")
    assert mem.count_tokens([system, *history]) <= 900 - 200  # the prompt, not just the history
    mem.set_frame(["x"])
    assert len(mem.render(run, run.path())) > len(history)  # a smaller frame leaves room for more
    assert DiffMemory(context_tokens="model").context_limit() is None  # no model known: no limit
    with pytest.raises(ConfigError, match="context_tokens must be 'model'"):
        DiffMemory(context_tokens=-3)


def test_diff_history_fits_the_models_context_window_over_http(server):
    from workbench.core.session import Session
    from workbench.llm.model import Model

    class Rooms:
        task = "look around"

        def reset(self, seed=None):
            self.i = 0
            return rooms(1)[0], {}

        def step(self, action):
            self.i += 1
            return rooms(self.i + 1)[-1], 0.0, False, False, {}

    assert Model("openai/gpt-4o-mini").context_window == 128000  # litellm's local model map
    model = Model(
        "openai/gpt-4o-mini", api_base=server.url, api_key=server.api_key, max_retries=0,
        context_window=1200,
    )  # fmt: skip
    s = Session(env=Rooms(), model=model, memory="diff", memory_options={"window": None})
    s.run(max_steps=10)
    counted = [s.memory.count_tokens(body["messages"]) for body in server.requests]
    assert len(counted) == 10 and max(counted) <= 1200 - 512
    users = [m for m in server.requests[-1]["messages"] if m["role"] == "user"]
    assert users[0]["content"].startswith("Observation:\n") and len(users) < 10  # the window shrank


def test_an_observation_is_shown_in_full_when_its_diff_is_not_shorter():
    # a room-based game rewrites most of the text on every move: the diff is longer than the text
    kitchen = "\n".join(f"Kitchen: shelf {i} holds a jar of spice number {i}." for i in range(6))
    hall = "\n".join(f"Hall: hook {i} holds a coat with {i} buttons." for i in range(6))
    run = build([kitchen, hall, hall.replace("hook 5 holds a coat", "hook 5 holds a hat")])
    mem = DiffMemory(window=None)
    messages = mem.render(run, run.path())
    assert messages[2] == obs(hall)  # full: its diff (every line out, every line in) was longer
    assert messages[4]["content"].startswith("Observation diff:\n")  # this diff is shorter
    entries = {e.id: e for e in mem.entries(run, run.path())}
    one, two = entries["obs:1"].extra, entries["obs:2"].extra
    assert one["shown_as"] == "full" and one["fallback"] is True and one["saved"] < 0
    assert two["shown_as"] == "diff" and two["saved"] == two["full_tokens"] - two["diff_tokens"] > 0
    assert mem.step_tokens(run.path(), 1)["fallback"] is True
    assert (
        DiffMemory(window=None, fallback=False)
        .render(run, run.path())[2]["content"]
        .startswith("Observation diff:\n")
    )


# --- shared messages ---------------------------------------------------------------------------
def _reference(mem, run, path):
    """The messages built afresh, message by message (the path taken when the user touched entries)."""
    return mem._render(run, path, track=False).messages


@pytest.mark.parametrize(
    "make",
    [
        FullMemory,
        lambda: WindowMemory(window=3),
        lambda: DiffMemory(window=None),
        lambda: DiffMemory(window=2),
    ],
)
def test_shared_rendering_matches_fresh_rendering_on_every_branch(make):
    import random

    rng = random.Random(7)
    run = Run(task="t")
    run.new_node(None, observation="row 0\nfixed")
    mem = make()
    for _ in range(120):  # grow a tree: mostly from the newest node, sometimes from an older one
        parent = len(run.nodes) - 1 if rng.random() < 0.8 else rng.randrange(len(run.nodes))
        kind = rng.random()
        raw = "" if kind < 0.05 else f"A{len(run.nodes)}"
        executed = kind > 0.15  # some malformed answers: their error text is shown in full
        run.new_node(parent, raw=raw, observation=f"row {rng.randrange(5)}\nfixed", executed=executed)
        path = run.path(rng.randrange(len(run.nodes)) if rng.random() < 0.2 else len(run.nodes) - 1)
        shared = mem.render(run, path)
        assert shared == _reference(mem, run, path)
        assert mem.last_used_edits == []
    mem.add_note("mind the door")
    path = run.path(len(run.nodes) - 1)
    assert mem.render(run, path) == _reference(mem, run, path) and mem.last_used_edits == ["note:1"]


def test_a_steps_prompt_reuses_the_previous_steps_messages_and_stays_what_was_sent(
    server, server_model, tmp_path
):
    from toys import Counter

    from workbench.core.prompt import Prompt
    from workbench.core.session import Session
    from workbench.export.json import export_run
    from workbench.store.sqlite import RunStore

    server.responder = lambda body: "Thought: up.\nAction: inc"
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(env=Counter(goal=10_000), model=server_model, memory="full", store=store)
    s.run(max_steps=12)
    calls = [n.llm_calls[0] for n in s.path()[1:]]
    for prev, cur in zip(calls, calls[1:], strict=False):
        assert isinstance(cur.messages, Prompt) and cur.messages.parts <= 4  # not one per step
        history = len(prev.messages) - 2  # all but the system prompt and the valid-actions note
        assert all(a is b for a, b in zip(prev.messages[1:-1], cur.messages[1 : 1 + history], strict=True))
        assert cur.messages.shares_with(prev.messages) >= len(prev.messages) - 1
    s.rewind(4)
    s.set_memory("window", window=2)
    s.run(max_steps=3)
    s.memory.edit("obs:2", "n=2 (edited)")  # a user edit: this prompt is built afresh
    s.rewind(s.cursor.id)
    s.memory.edit("obs:2", "n=2 (edited)")
    s.step()
    sent = [body["messages"] for body in server.requests]
    recorded = [c.messages for n in s.tree.nodes.values() for c in n.llm_calls]
    assert len(sent) == len(recorded) == 16
    assert [list(m) for m in recorded] == sent  # exactly what went over the wire, branches and all
    store.close()
    loaded = RunStore(tmp_path / "runs.sqlite").load_run(s.run_id)
    assert [c.messages for n in loaded.nodes.values() for c in n.llm_calls] == sent
    exported = export_run(s.tree)
    assert [c["messages"] for n in exported["nodes"] for c in n["llm_calls"]] == sent


# --- HiAgent: the LLM summariser ---------------------------------------------------------------------
def hiagent_http_session(server, tmp_path=None, **kw):
    from toys import Counter

    from workbench.core.session import Session
    from workbench.llm.model import Model

    answers = iter(
        [
            "Subgoal: reach two\nThought: up.\nAction: inc",
            "Thought: up.\nAction: inc",
            "Subgoal: reach four\nThought: up.\nAction: inc",
            "Thought: up.\nAction: inc",
            "Thought: up.\nAction: inc",
        ]
    )

    def responder(body):
        if body["messages"][0]["content"].startswith("You summarise one finished subgoal"):
            return "Summary: reach two: met, n is 2 now."
        return next(answers)

    server.responder = responder
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, backoff=0)
    return Session(
        env=Counter(goal=9), model=model, memory="hierarchical", memory_options={"summarize": "llm"}, **kw
    )


def test_hiagent_llm_summary_is_one_recorded_call_through_the_sessions_model(server, tmp_path):
    s = hiagent_http_session(server, store=tmp_path / "runs.sqlite")
    for _ in range(3):
        s.step()  # subgoal 1 = steps 1-2; step 3 declares subgoal 2, so subgoal 1 is finished
    assert not [b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]
    tokens_before = s.tree.tokens
    s.step()  # before this step's prompt: one summary call for subgoal 1
    asked = [b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]
    assert len(asked) == 1 and "Subgoal: reach two" in asked[0]["messages"][1]["content"]
    assert "Observation:\nn=2" in asked[0]["messages"][1]["content"]
    end = s.tree.nodes[2]  # the last node of subgoal 1 holds the call and the line
    assert [c.purpose for c in end.llm_calls][-1] == "summarize"
    assert end.info["summaries"] == {"1": "reach two: met, n is 2 now."}
    assert s.tree.tokens > tokens_before + s.tree.nodes[4].llm_calls[0].prompt_tokens  # it counts
    last_prompt = server.requests[-1]["messages"]
    assert any(
        m["content"] == "Subgoal 1 (done): reach two\nObservation: reach two: met, n is 2 now."
        for m in last_prompt
    )
    entry = next(e for e in s.memory.entries(s.tree, s.path()) if e.id == "subgoal:1")
    assert entry.extra["summary_by"] == "llm" and entry.text == "reach two: met, n is 2 now."
    s.step()
    assert len([b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]) == 1
    s.store.close()
    from workbench.core.session import Session

    resumed = Session.resume(s.run_id, tmp_path / "runs.sqlite", env=__import__("toys").Counter(goal=9))
    assert resumed.tree.nodes[2].info["summaries"] == {"1": "reach two: met, n is 2 now."}


def test_a_failed_hiagent_summary_is_recorded_with_its_call_and_not_retried(server):
    s = hiagent_http_session(server)
    for _ in range(3):
        s.step()
    server.script({"status": 500})  # the summary call of subgoal 1, made before step 4's prompt
    s.step()
    end = s.tree.nodes[2]
    failed = end.llm_calls[-1]
    assert failed.purpose == "summarize" and "500" in (failed.error or "")
    assert "500" in end.info["summary_errors"]["1"] and "summaries" not in end.info
    assert s.tree.nodes[4].executed  # the step went on with the last observation standing in
    assert any(
        m["content"] == "Subgoal 1 (done): reach two\nObservation: n=2"
        for m in server.requests[-1]["messages"]
    )
    s.step()
    assert len([b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]) == 1


def test_hiagent_summaries_default_to_the_last_observation_and_respect_budgets(server):
    s = hiagent_http_session(server)
    s.memory.set_summarize("last_observation")
    for _ in range(5):
        s.step()
    assert not [b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]
    assert any(
        m["content"] == "Subgoal 1 (done): reach two\nObservation: n=2"
        for m in server.requests[-1]["messages"]
    )
    server.reset()
    tight = hiagent_http_session(server, max_tokens=10**6)
    for _ in range(3):
        tight.step()
    tight.budgets["max_tokens"] = tight.tree.tokens  # used up: no summary call, the last observation
    import asyncio

    asyncio.run(tight.memory.aprepare(tight, tight.path()))
    assert not [b for b in server.requests if b["messages"][0]["content"].startswith("You summarise")]
    entry = next(e for e in tight.memory.entries(tight.tree, tight.path()) if e.id == "subgoal:1")
    assert entry.extra["summary_by"] == "pending" and entry.text == "n=2"
    with pytest.raises(ConfigError, match="summarize must be one of last_observation, llm"):
        tight.memory.set_summarize("gpt")
