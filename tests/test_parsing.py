"""The ReAct parser: real model answers in their many shapes, and arbitrary text never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.strategies.parsing import parse_react


def test_plain_answer():
    p = parse_react("Thought: the key is north\nAction: go north")
    assert (p.thought, p.action, p.tool, p.error) == ("the key is north", "go north", "go", None)


def test_bold_markers_code_fences_and_multiline_thoughts():
    p = parse_react("```\n**Thought:** first line\nsecond line\n**Action:** `pick up key`\n```")
    assert p.thought == "first line second line" and p.action == "pick up key"


def test_action_on_the_next_line_and_case():
    assert parse_react("THOUGHT: x\nACTION:\n  open door").action == "open door"


def test_first_action_counts_and_the_rest_are_kept():
    p = parse_react("Thought: a\nAction: go north\nObservation: fake\nAction: go south")
    assert p.action == "go north" and p.extra_actions == ["go south"]


def test_subgoal_and_plan_block():
    p = parse_react(
        "Subgoal: open the door\nThought: t\nAction: open door\nPlan:\n1. [x] find key\n2. [>] open door\n"
        "3. [ ] reach goal\n- [-] dance"
    )
    assert p.subgoal == "open the door"
    assert [(i["text"], i["status"]) for i in p.plan] == [
        ("find key", "done"),
        ("open door", "doing"),
        ("reach goal", "todo"),
        ("dance", "skipped"),
    ]


def test_missing_action_is_an_error_that_teaches_the_format():
    p = parse_react("I would go north.")
    assert p.action is None and "no `Action:` line" in p.error and "Thought:" in p.error
    assert "empty" in parse_react("").error
    assert parse_react(None).error


@given(st.text())
def test_arbitrary_text_never_raises(text):
    p = parse_react(text)
    assert (p.action is None) == (p.error is not None)


@given(
    st.lists(
        st.sampled_from(
            ["Thought:", "Action:", "Plan:", "Subgoal:", "1. [x]", "- [", "```", "\n", " ", "x", "**"]
        ),
        max_size=40,
    )
)
def test_marker_soup_never_raises(parts):
    parse_react("".join(parts))
