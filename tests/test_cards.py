"""Step cards and the header for tool calls, replay divergence and the CodeAct sandbox level."""

from __future__ import annotations

from workbench import Session, tool
from workbench.llm.scripted import ScriptedModel
from workbench.widgets.cards import card, header
from workbench.widgets.static_html import card_html, header_html


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    if key == "bad":
        raise KeyError(key)
    return f"{key}=1"


@tool(destructive=True)
def wipe() -> str:
    """Delete everything."""
    return "wiped"


def test_a_tool_step_card_lists_its_calls_and_failures():
    answers = [
        'Thought: a\nAction: lookup\nAction Input: {"key": "bad"}',
        "Thought: b\nAction: wipe\nAction Input: {}",
    ]
    s = Session(tools=[lookup, wipe], model=ScriptedModel(answers), tool_calling="text")
    first, _proposed = s.step(), s.step()  # wipe is destructive: the default gate asks first
    second = s.approve()
    c1 = card(first, s.tree)
    assert [t["name"] for t in c1["tools"]] == ["lookup"] and c1["tools"][0]["error"] == "KeyError: 'bad'"
    assert card(second, s.tree)["tools"][0]["destructive"] is True
    html = card_html(c1, diff_memory=False)
    assert "1 tool call(s) · 1 failed" in html


def test_diverged_nodes_and_the_sandbox_level_show():
    s = Session(
        tools=[lookup], model=ScriptedModel(['Thought: t\nAction: lookup({"key": "k"})']), tool_calling="text"
    )
    node = s.step()
    node.info["diverged"] = {"call_0": "k=2"}
    c = card(node, s.tree)
    assert c["diverged"] is True and "diverged on replay" in card_html(c, diff_memory=False)
    s.tree.config["sandbox"] = "process"
    h = header(s, running=False, pending=None, breakpoint={})
    assert h["sandbox"] == "process" and "sandbox: process" in header_html(h)
