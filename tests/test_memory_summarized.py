"""Chain of Summarization memory: L1 per step, the L2 cadence, recorded calls, edits, resume."""

from __future__ import annotations

import asyncio

import pytest
from toys import Counter, react

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.memory.base import make_memory
from workbench.memory.summarized import (
    L1_HEADER,
    L1_TASK,
    L2_TASK,
    SummarizedMemory,
    parse_l1,
    parse_l2,
)


def kind(body) -> str:
    system = body["messages"][0]["content"]
    return "l1" if system.startswith(L1_TASK) else "l2" if system.startswith(L2_TASK) else "act"


def loopback(server):
    def responder(body):
        k = kind(body)
        if k == "l1":
            obs = body["messages"][1]["content"].rsplit("Observation:\n", 1)[1]
            return f"L1: now {obs}"
        if k == "l2":
            return "Analysis: counting up works.\nDecisions:\n1. inc\n2. inc"
        return react("inc")

    server.responder = responder
    return Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, backoff=0)


def session(server, store=None, **options):
    return Session(
        env=Counter(goal=100),
        model=loopback(server),
        memory="summarized",
        memory_options={"every": 3, **options},
        store=store,
    )


def test_l1_every_step_and_l2_every_k_steps_as_recorded_calls_on_their_nodes(server):
    s = session(server)
    for _ in range(10):
        s.step()
    kinds = [kind(b) for b in server.requests]
    assert kinds.count("act") == 10
    assert kinds.count("l1") == 10  # nodes 0..9, each summarised before the step from it
    assert kinds.count("l2") == 3  # the cursor reached depths 3, 6 and 9
    l2_at = [i for i, k in enumerate(kinds) if k == "l2"]
    acts_before = [kinds[:i].count("act") for i in l2_at]
    assert acts_before == [3, 6, 9]  # the cadence: after every third step
    path = s.path()
    for node in path[:10]:
        assert [c.purpose for c in node.llm_calls].count("l1") == 1
        assert node.info["l1"] == f"now n={node.depth}"
    for depth in (3, 6, 9):
        node = path[depth]
        assert [c.purpose for c in node.llm_calls].count("l2") == 1
        assert node.info["l2"] == {
            "analysis": "counting up works.",
            "decisions": ["inc", "inc"],
            "first": depth - 2,
            "last": depth,
        }
    assert s.tree.tokens == sum(n.tokens for n in s.tree.nodes.values())  # summaries count
    l2_prompt = [b for b in server.requests if kind(b) == "l2"][-1]["messages"][1]["content"]
    assert (
        "Step summaries (L1), steps 7-9:\n- step 7: now n=7\n- step 8: now n=8\n- step 9: now n=9"
        in l2_prompt
    )
    assert "Executed actions: inc, inc, inc\nFailed actions: none" in l2_prompt
    assert l2_prompt.endswith("Current observation:\nObservation:\nn=9")


def test_the_prompt_holds_the_latest_l2_then_the_l1_lines_after_it_then_the_window(server):
    s = session(server, every=4)
    for _ in range(7):
        s.step()
    s.step()  # from depth 7: the L2 made at 4, the L1 line of step 5, window = obs 6, answer 7, obs 7
    messages = [m["content"] for m in server.requests[-1]["messages"]]
    assert messages[1] == (
        "Analysis of steps 1-4 (L2):\nAnalysis: counting up works.\nQueued decisions:\n1. inc\n2. inc"
    )
    assert messages[2] == f"{L1_HEADER}\n- step 5: now n=5"
    assert messages[3:6] == ["Observation:\nn=6", react("inc"), "Observation:\nn=7"]
    before = session(server)
    before.step()
    before.step()
    before.step()  # from depth 2, before the first L2: L1 lines from the root
    assert server.requests[-1]["messages"][1]["content"] == f"{L1_HEADER}\n- step 0: now n=0"


def test_an_edited_l2_entry_is_what_the_next_prompt_contains(server):
    s = session(server)
    for _ in range(3):
        s.step()
    s.step()  # the L2 at depth 3 is made before this step
    node3 = s.path()[3]
    entry = next(e for e in s.memory.entries(s.tree, s.path()) if e.id == f"l2:{node3.id}")
    assert entry.kind == "analysis" and entry.shown and entry.text.startswith("Analysis: counting up works.")
    s.memory.edit(f"l2:{node3.id}", "Analysis: the user says: decrement now.\nQueued decisions:\n1. dec")
    node = s.step()
    sent = server.requests[-1]["messages"][1]["content"]
    assert (
        sent
        == "Analysis of steps 1-3 (L2):\nAnalysis: the user says: decrement now.\nQueued decisions:\n1. dec"
    )
    assert f"l2:{node3.id}" in node.info["used_user_edits"]


def test_an_edited_l1_line_is_what_the_next_l2_call_reads(server):
    s = session(server)
    s.step()
    s.step()
    s.memory.edit(f"l1:{s.path()[2].id}", "the user rewrote this summary")
    s.step()  # the cursor reaches depth 3
    s.step()  # L2 for steps 1-3, before this step
    l2 = [b for b in server.requests if kind(b) == "l2"][0]["messages"][1]["content"]
    assert "- step 2: the user rewrote this summary" in l2
    assert len([b for b in server.requests if kind(b) == "l1"]) == 3  # nodes 0, 1 and 3: not the edited 2


def test_resume_keeps_the_summaries_and_makes_no_call_twice(server, tmp_path):
    store = tmp_path / "runs.sqlite"
    s = session(server, store=store)
    for _ in range(7):
        s.step()
    expected = list(s.strategy.messages(s, s.path()))
    calls = len(server.requests)
    s.close()
    resumed = Session.resume(s.run_id, store, env=Counter(goal=100), model=loopback(server))
    assert resumed.memory.every == 3
    assert resumed.path()[6].info["l2"]["decisions"] == ["inc", "inc"]
    resumed.step()
    made = [kind(b) for b in server.requests[calls:]]
    assert made == ["l1", "act"]  # only the new cursor's L1: nothing was summarised again
    assert server.requests[-1]["messages"][1:-1] == [m for m in expected[1:-1]]
    resumed.close()


def test_l1_observation_mode_makes_no_l1_calls_and_failed_calls_are_not_retried(server):
    s = session(server, l1="observation")
    for _ in range(4):
        s.step()
    assert [kind(b) for b in server.requests].count("l1") == 0
    assert s.path()[2].info.get("l1") is None
    l2 = [b for b in server.requests if kind(b) == "l2"][0]["messages"][1]["content"]
    assert "- step 2: after `inc`: n=2" in l2
    server.reset()
    broken = session(server)
    server.script({"text": "L1: the start"}, {"text": react("inc")}, {"status": 500})
    broken.step()  # L1 of the root, then the step
    asyncio.run(broken.memory.aprepare(broken, broken.path()))  # L1 of node 1 fails
    assert "l1_error" in broken.path()[1].info
    n = len(server.requests)
    asyncio.run(broken.memory.aprepare(broken, broken.path()))
    assert len(server.requests) == n  # not retried
    entry = next(e for e in broken.memory.entries(broken.tree, broken.path()) if e.id == "l1:1")
    assert entry.extra["by"] == "error" and entry.text == "after `inc`: n=1"


def test_budgets_used_up_make_no_summary_calls(server):
    s = session(server)
    s.budgets["max_tokens"] = 10**9
    s.step()
    s.budgets["max_tokens"] = s.tree.tokens
    n = len(server.requests)
    asyncio.run(s.memory.aprepare(s, s.path()))
    assert len(server.requests) == n


def test_parsers_and_options():
    assert parse_l1("Thinking...\nL1: the door is open") == "the door is open"
    assert parse_l1("just a line") == "just a line"
    assert parse_l2("Analysis: a.\nMore.\nDecisions:\n1. go east\n2) open door\n- done") == {
        "analysis": "a. More.",
        "decisions": ["go east", "open door", "done"],
    }
    assert isinstance(make_memory("summarized", every=5), SummarizedMemory)
    with pytest.raises(ConfigError, match="every"):
        make_memory("summarized", every=0)
    with pytest.raises(ConfigError, match="l1 must be one of llm, observation"):
        make_memory("summarized", l1="rules")


@pytest.mark.parametrize("env", ["gridworld", "game24"])
def test_demo_model_answers_the_summary_formats_and_solves(env):
    s = Session(env=env, store=None, memory="summarized", memory_options={"every": 3}, seed=2)
    s.run(max_steps=30)
    assert s.tree.outcome == "success"
    calls = [c for n in s.path() for c in n.llm_calls]
    l1 = [c for c in calls if c.purpose == "l1"]
    l2 = [c for c in calls if c.purpose == "l2"]
    assert len(l1) == len(s.path()) - 1 and len(l2) == (len(s.path()) - 2) // 3
    assert all(c.response.startswith("L1: ") for c in l1)
    for c in l2:
        parsed = parse_l2(c.response)
        assert c.response.startswith("Analysis: ") and parsed["decisions"]
    if env == "gridworld":
        assert "to the goal" in l1[0].response
    else:
        assert "numbers left" in l1[0].response


def test_counting_tokens_leaves_the_edits_the_last_prompt_used(server):
    s = session(server)
    for _ in range(4):
        s.step()
    node3 = s.path()[3]
    s.memory.edit(f"l2:{node3.id}", "Analysis: the user says: decrement now.")
    rendered = list(s.memory.render(s.tree, s.path()))
    used = list(s.memory.last_used_edits)
    assert f"l2:{node3.id}" in used
    assert s.memory.history_tokens(s.tree, s.path()[:2]) > 0
    assert s.memory.last_used_edits == used
    assert s.memory.history_tokens(s.tree, s.path()) == s.memory.count_tokens(rendered)


def test_a_used_up_call_budget_makes_no_summary_call(server):
    s = session(server)
    s.step()
    s.budgets["max_calls"] = s.tree.calls
    n = len(server.requests)
    asyncio.run(s.memory.aprepare(s, s.path()))
    assert len(server.requests) == n
