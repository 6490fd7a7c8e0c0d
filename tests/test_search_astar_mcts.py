"""A* (ToolChain*) and MCTS (LATS / WebPilot) on the letter tree, with numbers checked by hand."""

from __future__ import annotations

import math
import re

import pytest
from search_toys import LETTERS, Letters, Sampled, cycle, react, shape, word_of

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.strategies.search.astar import lcs, memory_match, parse_candidates, parse_remaining
from workbench.strategies.search.engine import View

TOY = dict(branching=3, n_samples=6, max_depth=3, proposals="sample")  # the cost arithmetic needs counts


def path_word(session: Session, node) -> str:
    return "".join(n.action for n in session.tree.path(node.id)[1:])


def by_word(session: Session, word: str):
    return next(n for n in session.tree.nodes.values() if n.id and path_word(session, n) == word)


def consistent(goal: str = "bac"):
    """4 of 6 samples name the right letter; imagination answers the true number of steps left."""

    def answer(messages, sample):
        if "Remaining steps" in messages[0]["content"]:
            done = len(re.findall(r"^\d+\. ", messages[1]["content"], re.M))
            return f"Action: ...\nRemaining steps: {3 - done}"
        word = word_of(messages)
        right = goal[len(word)] if len(word) < len(goal) else "a"
        wrong = [x for x in LETTERS if x != right]
        return react(right if sample < 4 else wrong[sample - 4])

    return answer


# --- A* ----------------------------------------------------------------------------------------------
def test_astar_follows_self_consistency_with_the_documented_costs():
    s = Session(env=Letters(), model=Sampled(consistent()), strategy="astar", **TOY, max_expansions=10)
    s.run()
    assert s.tree.outcome == "success" and path_word(s, s.cursor) == "bac"
    assert s.strategy.state(s)["expansions"] == 3  # b, ba, bac: never a wrong turn
    b, a = by_word(s, "b"), by_word(s, "a")
    # sc(b) = 4/6, no stored plan -> step cost 1 - sc = 1/3; imagination: 2 steps left, r = 1/3
    assert b.info["sc"] == pytest.approx(4 / 6) and b.info["g"] == pytest.approx(1 / 3)
    assert b.info["imagined_remaining"] == 2 and b.info["h"] == pytest.approx(1 / 3 * 2)  # g (1 - r) / r
    assert b.info["f"] == pytest.approx(1.0) and a.info["f"] == pytest.approx(5 / 6 * 3)
    assert by_word(s, "bac").info["h"] == 0 and by_word(s, "bac").value == 1.0
    assert b.value == pytest.approx(1 - 1 / 3)  # 1 - mean step cost
    imagined = [c for c in b.llm_calls if c.purpose == "imagine"]
    assert len(imagined) == 1 and "b" in imagined[0].messages[1]["content"]


def test_astar_long_term_memory_finds_the_goal_that_uniform_cost_search_misses():
    options = dict(TOY, max_expansions=8, imagination=False)
    plain = Session(env=Letters(), model=Sampled(cycle("a", "b", "c")), strategy="astar", **options)
    plain.run()
    assert plain.tree.outcome == "failure"  # all samples agree equally: breadth-first by cost
    remembered = Session(
        env=Letters(), model=Sampled(cycle("a", "b", "c")), strategy="astar", **options,
        plans=[["b", "a", "c"]], alpha=1.0, beta=1.0,
    )  # fmt: skip
    remembered.run()
    assert remembered.tree.outcome == "success" and path_word(remembered, remembered.cursor) == "bac"
    ab = by_word(remembered, "ab")
    assert ab.info["ltm"] == 0.5 and ab.info["step_cost"] == 0.5  # LCS([a, b], [b, a, c]) = 1 of 2


def test_astar_cost_and_heuristic_are_pluggable():
    def cost(node, session):
        return 0.0 if node.action == "c" else 1.0

    def heuristic(node, session):
        return 0.0

    s = Session(
        env=Letters(goal="ccc"), model=Sampled(cycle("a", "b", "c")), strategy="astar", **TOY,
        cost=cost, heuristic=heuristic, max_expansions=5,
    )  # fmt: skip
    s.run()
    assert s.tree.outcome == "success" and s.strategy.state(s)["expansions"] == 3
    assert not [c for n in s.tree.nodes.values() for c in n.llm_calls if c.purpose == "imagine"]


def test_astar_helpers():
    assert lcs(["a", "b", "c"], ["b", "c", "a"]) == 2 and lcs([], ["a"]) == 0
    assert memory_match(["b", "a"], [["b", "a", "c"], ["a"]]) == (1.0, 2 / 3)
    assert memory_match(["x"], [["b"]]) == (0.0, None)
    assert parse_remaining("Action: x\nAction: y") == 2 and parse_remaining("Remaining steps: 4") == 4
    assert parse_remaining("no idea") is None


def test_astar_pinned_and_user_values():
    s = Session(env=Letters(), model=Sampled(consistent()), strategy="astar", **TOY)
    s.step()  # pops b
    c = by_word(s, "c")
    s.pin(c.id)
    assert s.step() is c
    a, ba = by_word(s, "a"), by_word(s, "ba")
    view = View(s, 0)
    assert s.strategy.f(a, view) == pytest.approx(2.5) and s.strategy.f(ba, view) == pytest.approx(1.0)
    s.set_value(a.id, 1.0)  # the user's value sets the step cost: 1 - 1.0 = 0, so f = 0 + 0 + h
    s.set_value(ba.id, -1.0)  # step cost 2: f = 1/3 + 2 + 1/3
    assert s.strategy.f(a, view) == pytest.approx(5 / 3) and s.strategy.f(ba, view) == pytest.approx(8 / 3)
    assert s.step() is a  # next best: bb and bc at f = 7/6 + 7/12 = 1.75


def listing(goal: str = "bac"):
    """A list answer: the right letter first, then the others; imagination as in `consistent`."""

    def answer(messages, sample):
        if "Remaining steps" in messages[0]["content"]:
            done = len(re.findall(r"^\d+\. ", messages[1]["content"], re.M))
            return f"Action: ...\nRemaining steps: {3 - done}"
        word = word_of(messages)
        right = goal[len(word)] if len(word) < len(goal) else "a"
        items = [right, *[x for x in LETTERS if x != right]]
        body = "\n".join(f"{i}. {x}" for i, x in enumerate(items, 1))
        return f"Thought: {right} comes next.\nCandidate actions:\n{body}"

    return answer


def test_astar_proposes_its_candidates_in_one_model_call():
    model = Sampled(listing())
    s = Session(env=Letters(), model=model, strategy="astar", branching=3, max_depth=3, max_expansions=10)
    s.run()
    assert s.tree.outcome == "success" and path_word(s, s.cursor) == "bac"
    expanded = [n for n in s.tree.nodes.values() if "expanded_at" in n.info and not n.terminal]
    for node in expanded:  # one proposal call per expansion, recorded on the expanded node
        assert [c.purpose for c in node.llm_calls if c.purpose != "imagine"] == ["propose"]
    asked = [m for m in model.requests if "Candidate actions:" in m[0]["content"]]
    assert len(asked) == len(expanded) and "Propose up to 3 different" in asked[0][0]["content"]
    b, a, c = by_word(s, "b"), by_word(s, "a"), by_word(s, "c")
    # ranks 0, 1, 2 of 3 weigh 3, 2, 1 (of 6): the model's ranking stands in for sample counts
    assert (b.info["rank"], b.info["sc"]) == (0, pytest.approx(3 / 6))
    assert a.info["sc"] == pytest.approx(2 / 6) and c.info["sc"] == pytest.approx(1 / 6)
    assert b.info["step_cost"] == pytest.approx(0.5)
    # the list call sits on the node it expanded, once; a child holds only its own calls
    assert b.raw == "Thought: b comes next.\nAction: b"
    assert sorted(c.purpose for c in b.llm_calls) == ["imagine", "propose"]
    later = asked[-1]  # the history shows each chosen step's action like any answer
    assert any(m["role"] == "assistant" and m["content"].endswith("Action: b") for m in later)
    calls = sum(len(n.llm_calls) for n in s.tree.nodes.values())
    assert calls == len(expanded) + len(
        [n for n in s.tree.nodes.values() if n.info.get("imagined_remaining") is not None]
    )


def test_astar_list_answers_parse_and_sampling_stays_an_option():
    thought, actions = parse_candidates(
        "Thought: two ways.\n**Candidate actions:**\n1. go north\n2) `pick up key`\n3. Action: go north\n\nPlan: x"
    )
    assert thought == "two ways." and actions == ["go north", "pick up key"]
    assert parse_candidates("Thought: x\nAction: go north") == ("", [])
    s = Session(env=Letters(), model=Sampled(consistent()), strategy="astar", **TOY, max_expansions=1)
    s.step()  # proposals="sample": 6 one-action answers at the root and 6 at b, grouped into 3 each
    assert len([c for c in s.tree.nodes.values() if c.parent_id == 0]) == 3
    assert [c.purpose for n in s.tree.nodes.values() for c in n.llm_calls].count("act") == 12
    one = Session(env=Letters(), model=Sampled(consistent()), strategy="astar", branching=3, max_expansions=1)
    one.step()  # the one-action answer to a list prompt: a single candidate, not an error
    assert [n.action for n in one.tree.nodes.values() if n.parent_id == 0] == ["b"]
    with pytest.raises(ConfigError, match="proposals must be 'list' or 'sample'"):
        Session(env=Letters(), model=Sampled(consistent()), strategy="astar", proposals="all")


# --- MCTS --------------------------------------------------------------------------------------------
STATE_VALUES = {"a": 0.6, "b": 0.3, "aa": 0.2, "ab": 0.9, "ba": 0.5, "bb": 0.1}


def table_value(node, session) -> float:
    return STATE_VALUES[path_word(session, node)]


def mcts(backup: str = "mean", **kw) -> Session:
    # the cheaper rollout (one sample a step, no scoring, the leaf's value at the depth cap), so
    # the backup arithmetic below stays small; the reference rollout has its own tests
    options = dict(
        branching=2, n_samples=2, max_depth=2, value=table_value, value_mix=1.0, reflections=0,
        backup=backup, max_expansions=10, rollout_select="count", rollout_samples=1, depth_penalty=None,
    )  # fmt: skip
    options.update(kw)
    return Session(env=Letters(goal="zzz"), model=Sampled(cycle("a", "b")), strategy="mcts", **options)


@pytest.mark.parametrize(
    ("backup", "root", "a"),
    [("mean", (0.2 + 0.5 + 0.9) / 3, (0.2 + 0.9) / 2), ("max", 0.9, 0.9)],
)
def test_mcts_visits_and_values_follow_the_backup_rule(backup, root, a):
    s = mcts(backup)
    # iteration 1: expand root -> a 0.6, b 0.3; roll out from a -> aa (0.2, depth cap); back up 0.2
    s.step()
    assert [(path_word(s, n), n.visits, n.value) for n in s.tree.nodes.values()] == [
        ("", 1, 0.2),
        ("a", 1, 0.2),
        ("b", 0, 0.3),
        ("aa", 1, 0.2),
    ]
    assert by_word(s, "aa").info["rollout"] is True
    # iteration 2: UCT(a) = 0.2 + sqrt(ln 1 / 1) = 0.2 < UCT(b) = inf -> expand b; best child ba 0.5
    s.step()
    assert (by_word(s, "b").visits, by_word(s, "b").value, by_word(s, "bb").visits) == (1, 0.5, 0)
    # iteration 3: UCT(a) = 0.2 + sqrt(ln 2) < UCT(b) = 0.5 + sqrt(ln 2), but b has nothing left
    # below the depth cap, so a is expanded: ab 0.9 is backed up
    assert math.sqrt(math.log(2)) > 0
    s.step()
    got = {path_word(s, n): (n.visits, n.value) for n in s.tree.nodes.values()}
    assert got[""] == (3, pytest.approx(root)) and got["a"] == (2, pytest.approx(a))
    assert got["b"] == (1, 0.5) and got["ab"] == (1, 0.9) and got["bb"] == (0, 0.1)
    assert s.done and s.strategy.state(s)["reason"] == "frontier empty" and path_word(s, s.cursor) == "ab"


def test_mcts_mixes_the_lm_value_with_self_consistency():
    s = Session(
        env=Letters(goal="zzz"), model=Sampled(cycle("a", "b", "a")), strategy="mcts", branching=2,
        n_samples=3, max_depth=2, value=table_value, value_mix=0.5, reflections=0, max_expansions=1,
    )  # fmt: skip
    s.step()
    a, b = by_word(s, "a"), by_word(s, "b")
    assert b.value == pytest.approx(0.5 * 0.3 + 0.5 * (1 / 3)) and b.info["sc"] == pytest.approx(1 / 3)
    assert a.info["lm_value"] == 0.6 and a.info["sc"] == pytest.approx(2 / 3)


def test_mcts_failed_terminals_back_up_minus_one_and_leave_reflections_in_later_prompts():
    def answer(messages, sample):
        system = messages[0]["content"]
        if system.startswith("You review a failed attempt"):
            return "Reflection: starting with a was wrong; start with b."
        if "Score:" in system:
            return "Score: 6"
        return react("ab"[sample % 2])

    model = Sampled(answer)
    s = Session(
        env=Letters(goal="bab"), model=model, strategy="mcts", branching=2, n_samples=2, max_depth=3,
        max_expansions=10,
    )  # fmt: skip
    s.step()  # a and b scored 0.8 * 0.6 + 0.2 * 0.5 = 0.58; the rollout from a ends in "a a a": failed
    a, aaa = by_word(s, "a"), by_word(s, "aaa")
    assert a.info["lm_value"] == 0.6 and a.visits == 1 and a.value == -1.0
    assert aaa.terminal and aaa.value == -1.0 and (s.tree.root.visits, s.tree.root.value) == (1, -1.0)
    assert aaa.info["reflection"] == "starting with a was wrong; start with b."
    assert [c.purpose for c in aaa.llm_calls][-1] == "reflect"
    before = len(model.requests)
    s.step()  # b is unvisited (UCT inf): expand it; its children are judged with the reflection shown
    later = model.requests[before:]
    acts = [m for m in later if m[0]["content"].startswith("You are an agent")]
    values = [m for m in later if "Score:" in m[0]["content"]]
    assert acts and values and all("start with b" in m[0]["content"] for m in acts + values)
    assert "start with b" not in model.requests[0][0]["content"]  # the first prompt had none
    s.run()
    assert s.tree.outcome == "success" and path_word(s, s.cursor) == "bab"


def test_mcts_never_selects_pruned_nodes_and_steps_equal_runs():
    s = mcts()
    s.step()
    s.prune(by_word(s, "b").id)
    s.run()
    assert all(not n.executed for n in s.descendants(by_word(s, "b").id))
    assert "mcts_expanded" not in by_word(s, "b").info
    stepped, ran = mcts(), mcts()
    while not stepped.done:
        stepped.step()
    ran.run()
    assert shape(stepped) == shape(ran)


def test_mcts_resumes_from_the_store(tmp_path):
    whole = mcts()
    whole.run()
    part = mcts(store=tmp_path / "runs.sqlite")
    part.run(max_steps=1)
    part.store.close()
    resumed = Session.resume(
        part.run_id, tmp_path / "runs.sqlite", env=Letters(goal="zzz"), model=Sampled(cycle("a", "b")),
        value=table_value,
    )  # fmt: skip
    resumed.run()
    assert shape(resumed) == shape(whole)


# --- the LATS reference rollout ---------------------------------------------------------------------
def rollout_session(goal: str = "zzz", **kw) -> Session:
    """Expansion at the root samples one answer ("a"); each rollout step samples a, a, a, b, b."""
    options = dict(branching=1, n_samples=1, max_depth=2, value=table_value, value_mix=1.0, reflections=0)
    options.update(kw)
    model = Sampled(lambda messages, sample: react("aaabb"[sample % 5]))
    return Session(env=Letters(goal=goal, length=len(goal)), model=model, strategy="mcts", **options)


def test_mcts_rollout_scores_five_samples_takes_the_best_and_backs_up_a_penalty_at_the_depth_cap():
    s = rollout_session()
    s.step()
    a, aa, ab = by_word(s, "a"), by_word(s, "aa"), by_word(s, "ab")
    # the rollout from a sampled 5 answers (a x3, b x2), executed both actions and scored them
    assert [len([c for c in n.llm_calls if c.purpose == "act"]) for n in (aa, ab)] == [3, 2]
    assert aa.info["rollout"] and ab.info["rollout"] and (aa.value, ab.info["lm_value"]) == (0.2, 0.9)
    # the best (ab, not the most frequent aa) was taken; it sits at max_depth: the penalty -1 is backed up
    assert ab.visits == 1 and aa.visits == 0 and ab.info["depth_capped"] is True
    assert (a.value, s.tree.root.value) == (-1.0, -1.0)


def test_mcts_rollout_stops_on_a_successful_sample_and_the_penalty_is_configurable():
    s = rollout_session(goal="ab", max_depth=3)
    s.step()
    assert s.done and s.tree.outcome == "success" and path_word(s, s.cursor) == "ab"
    s = rollout_session(depth_penalty=-0.5)
    s.step()
    assert s.tree.root.value == -0.5


def test_mcts_rollout_can_switch_back_to_the_most_frequent_action_and_the_leaf_value():
    s = rollout_session(rollout_select="count", depth_penalty=None)
    s.step()
    aa = by_word(s, "aa")
    assert [n for n in s.tree.nodes.values() if path_word(s, n) == "ab"] == []
    assert aa.visits == 1 and s.tree.root.value == 0.2 and "depth_capped" not in aa.info
    with pytest.raises(ConfigError, match="rollout_select must be 'value' or 'count'"):
        rollout_session(rollout_select="best")
    with pytest.raises(ConfigError, match="depth_penalty must be a number or None"):
        rollout_session(depth_penalty="low")
