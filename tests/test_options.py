"""`workbench.options`: a strategy's or memory's options given as KEY=VALUE text, read by the type of
each option's default; a wrong key or value is a one-line ConfigError that says what is valid."""

from __future__ import annotations

import pytest

from workbench import options
from workbench.core.session import Session
from workbench.errors import ConfigError

FLAG = "--strategy-option"


def test_values_are_read_by_the_type_of_the_default():
    assert options.parse("strategy", "plan-execute", ["replans=1", "item_steps=4"], FLAG) == {
        "replans": 1,
        "item_steps": 4,
    }
    got = options.parse("strategy", "mcts", ["temperature=0.5", "value=score", "rounds=terminal"], FLAG)
    assert got == {"temperature": 0.5, "value": "score", "rounds": "terminal"}
    assert options.parse("strategy", "umi", ['models={"caller": "workbench/demo"}'], FLAG) == {
        "models": {"caller": "workbench/demo"}
    }
    memory = ["context_tokens=4096", "fallback=no", "reply_tokens=100", "window=null"]
    assert options.parse("memory", "diff", memory, "--memory-option") == {
        "context_tokens": 4096,
        "fallback": False,
        "reply_tokens": 100,
        "window": None,
    }
    assert options.parse("memory", "layered", ["feedback=2", "similarity=lexical"], "-m") == {
        "feedback": 2.0,
        "similarity": "lexical",
    }


@pytest.mark.parametrize(
    ("kind", "name", "pairs", "said"),
    [
        ("strategy", "plan-execute", ["replanz=1"], "has no option 'replanz'; valid: item_steps, replans"),
        ("strategy", "plan-execute", ["replans=once"], "replans: expected a whole number, not 'once'"),
        ("strategy", "plan-execute", ["replans"], "takes KEY=VALUE, such as item_steps=10; not 'replans'"),
        ("strategy", "plan-execute", ["replans=1", "replans=2"], "replans is given twice"),
        ("strategy", "bfs", ["rounds=all"], "expected a whole number or 'terminal', not 'all'"),
        ("strategy", "react", ["replans=1"], "has no option 'replans'; valid: none"),
        ("strategy", "codeact", ["timeout=soon"], "timeout: expected a number, not 'soon'"),
        ("memory", "summarized", ["evry=3"], "has no option 'evry'; valid: every, l1, window, max_tokens"),
        ("memory", "diff", ["fallback=maybe"], "expected true or false"),
        ("memory", "layered", ["feedback=lots"], "expected a number"),
    ],
)
def test_a_wrong_key_or_value_says_what_is_valid(kind, name, pairs, said):
    with pytest.raises(ConfigError) as info:
        options.parse(kind, name, pairs, FLAG)
    assert said in str(info.value) and "\n" not in str(info.value)


def test_typed_options_are_checked_against_the_defaults():
    options.check("strategy", "bfs", {"rounds": "terminal", "temperature": None, "max_depth": 3}, "s")
    options.check("memory", "diff", {"context_tokens": 4096, "window": 2}, "m")
    with pytest.raises(ConfigError, match="strategies: strategy 'reflexion' has no option 'attemps'"):
        options.check("strategy", "reflexion", {"attemps": 2}, "strategies")
    with pytest.raises(ConfigError, match="option window must be a whole number or null, not '4'"):
        options.check("memory", "window", {"window": "4"}, "memories")
    with pytest.raises(ConfigError, match="option fallback must be true or false, not 1"):
        options.check("memory", "diff", {"fallback": 1}, "memories")


def test_described_options_show_their_defaults():
    assert options.describe("strategy", "plan-execute") == "item_steps=10, replans=3"
    assert options.describe("strategy", "react") == ""
    assert "every=10" in options.describe("memory", "summarized")
    assert options.takes("memory", "diff", "window") and not options.takes("memory", "full", "window")


def test_parsed_options_reach_the_strategy_and_memory_of_a_session():
    strategy = options.parse("strategy", "reflexion", ["attempts=2", "reflections=1"], FLAG)
    memory = options.parse("memory", "summarized", ["every=3", "l1=observation"], "--memory-option")
    s = Session(strategy="reflexion", memory="summarized", memory_options=memory, store=None, **strategy)
    assert s.strategy.config == {"attempts": 2, "attempt_steps": 30, "reflections": 1}
    assert s.memory.every == 3 and s.memory.l1 == "observation"
    assert s.config["strategy_options"]["attempts"] == 2 and s.config["memory_options"]["every"] == 3


def test_an_option_without_a_default_is_read_by_its_annotation_or_as_text():
    """A directory named 2024 stays text; a token cap is a whole number or null; a time limit a number."""
    assert options.parse("strategy", "codeact", ["workdir=2024"], "--strategy-option") == {"workdir": "2024"}
    assert options.parse("memory", "window", ["max_tokens=300"], "--memory-option") == {"max_tokens": 300}
    assert options.parse("strategy", "mcts", ["max_seconds=2.5"], "--strategy-option") == {"max_seconds": 2.5}
    with pytest.raises(ConfigError, match="max_tokens: expected a whole number or null, not 'abc'"):
        options.parse("memory", "full", ["max_tokens=abc"], "--memory-option")
    with pytest.raises(ConfigError, match="max_seconds: expected a number or null, not 'soon'"):
        options.parse("strategy", "best-first", ["max_seconds=soon"], "--strategy-option")
