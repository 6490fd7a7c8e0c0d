"""Value functions: the LM judge and score (parsing, averaging, prompts), env reward, Python callables."""

from __future__ import annotations

import pytest
from search_toys import Letters, Sampled, cycle, react

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.strategies.search.values import (
    CallableValue,
    JudgeValue,
    RewardValue,
    ScoreValue,
    make_value,
    parse_judgement,
    parse_score,
)


def test_parse_judgement_follows_koh_et_al():
    assert parse_judgement("Thoughts: done.\nStatus: success\nOn the right track: yes") == 1.0
    assert parse_judgement("Status: failure\nOn the right track: yes") == 0.5
    assert parse_judgement("**Status:** failure\n**On the right track:** no") == 0.0
    assert parse_judgement("status: SUCCESS") == 1.0
    assert parse_judgement("I think it went well") is None


def test_parse_judgement_reads_koh_et_als_own_wording():
    koh = 'Thoughts: the cart holds the item.\nStatus: "failure"\nOn the right track to success: "yes"'
    assert parse_judgement(koh) == 0.5
    assert parse_judgement('Status: "success"\nOn the right track to success: "no"') == 1.0
    assert parse_judgement('Status: "failure"\nOn the right track to success: "no"') == 0.0


def test_parse_score_maps_one_to_ten_onto_a_tenth_to_one():
    assert parse_score("Thoughts: close.\nScore: 7") == 0.7
    assert parse_score("score: 10/10") == 1.0
    assert parse_score("Score: 0") == 0.1 and parse_score("Score: 42") == 1.0
    assert parse_score("seven") is None


def one_step(answer, value, **kw) -> Session:
    s = Session(
        env=Letters(),
        model=Sampled(answer),
        strategy="best-first",
        branching=1,
        n_samples=1,
        max_expansions=1,
        value=value,
        **kw,
    )
    s.step()
    return s


def test_the_score_is_averaged_over_sampled_calls_and_unreadable_answers_count_as_zero():
    def answer(messages, sample):
        if "Score:" in messages[0]["content"]:
            return ["Score: 8", "Score: 4", "no idea", "Score: 6"][sample]
        return react("b")

    s = one_step(answer, "score", value_samples=4)
    node = s.tree.nodes[1]
    assert node.value == pytest.approx(0.45) and node.info["value_by"] == "score"
    assert node.info["value_detail"] == {"value_fn": "score", "samples": [0.8, 0.4, 0.6], "unreadable": 1}
    calls = [c for c in node.llm_calls if c.purpose == "value"]
    assert len(calls) == 4 and "1-10" in calls[0].messages[0]["content"]
    assert calls[0].messages[-1]["content"].endswith("Observation:\nat: b")  # the state judged comes last
    assert "1. b" in calls[0].messages[-1]["content"]


def test_an_unreadable_judge_gives_zero_and_says_so():
    s = one_step(
        lambda m, i: react("b") if "right track" not in m[0]["content"] else "hmm", "judge", value_samples=2
    )
    node = s.tree.nodes[1]
    assert node.value == 0.0 and node.info["value_detail"]["unreadable"] == 2


def one_success_among_unreadable(messages, sample):
    if "right track" in messages[0]["content"]:
        return "Status: success\nOn the right track: yes" if sample == 0 else "I cannot tell."
    return react("b")


def test_one_readable_vote_among_unreadable_ones_does_not_reach_the_threshold():
    s = one_step(one_success_among_unreadable, "judge", value_samples=20)
    node = s.tree.nodes[1]
    assert node.value == pytest.approx(0.05)  # Koh et al.: an unreadable answer scores 0
    assert node.info["value_detail"]["unreadable"] == 19
    assert s.tree.root.info["search"]["reason"] != "threshold"


def test_unreadable_votes_can_be_left_out_or_given_another_value():
    s = one_step(one_success_among_unreadable, JudgeValue(unreadable=None), value_samples=20)
    assert s.tree.nodes[1].value == 1.0 and s.tree.nodes[1].info["value_detail"]["unreadable"] == 19
    s = one_step(one_success_among_unreadable, JudgeValue(unreadable=0.5), value_samples=4)
    assert s.tree.nodes[1].value == pytest.approx((1.0 + 3 * 0.5) / 4)
    with pytest.raises(ConfigError, match="unreadable must be a number"):
        JudgeValue(unreadable="zero")


def test_reward_and_callable_values():
    s = Session(
        env=Letters(goal="b", length=1),
        model=Sampled(cycle("b")),
        strategy="best-first",
        branching=1,
        n_samples=1,
        value="reward",
    )
    s.run()
    assert s.tree.nodes[1].value == 1.0 and s.tree.outcome == "success"

    async def later(node, session):  # a coroutine function is awaited
        return 0.25

    s = one_step(cycle("b"), later)
    assert s.tree.nodes[1].value == 0.25 and s.tree.nodes[1].info["value_detail"]["value_fn"] == "callable"
    with pytest.raises(ConfigError, match="must return a number"):
        one_step(cycle("b"), lambda node, session: "high")


def test_make_value():
    assert isinstance(make_value("judge"), JudgeValue) and isinstance(make_value("score"), ScoreValue)
    assert isinstance(make_value("reward"), RewardValue) and isinstance(make_value(len), CallableValue)
    custom = ScoreValue()
    assert make_value(custom) is custom
    with pytest.raises(ConfigError, match="judge, score, reward"):
        make_value(3)


def test_the_demo_model_judges_game24_states():
    from workbench.llm.model import Model

    s = Session(
        env="game24",
        env_options={"numbers": [4, 6, 1]},
        model=Model("workbench/demo", error_rate=0.0),
        strategy="best-first",
        branching=3,
        n_samples=6,
        value_samples=3,
        max_expansions=12,
    )
    s.run()
    assert s.tree.outcome == "success" and s.cursor.value == 1.0
    on_track = [n for n in s.tree.nodes.values() if n.depth == 1 and n.value is not None]
    assert on_track and all(n.value in (0.0, 0.5) for n in on_track)
