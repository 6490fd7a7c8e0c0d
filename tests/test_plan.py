"""The plan: edits with provenance, rendering, and clear errors."""

from __future__ import annotations

import pytest

from workbench.core.plan import Plan
from workbench.errors import ConfigError


def test_edits_render_and_notify():
    changes = []
    plan = Plan(on_change=lambda items, prov, change: changes.append((prov, change)))
    plan.add("find the key")
    plan.add("reach the goal")
    plan.add("open the door", position=2)
    plan.set_status(1, "done")
    plan.set_status(2, "doing")
    plan.edit(3, "reach the green goal")
    assert plan.render() == "1. [x] find the key\n2. [>] open the door\n3. [ ] reach the green goal"
    plan.move(3, 1)
    assert plan[1].text == "reach the green goal" and plan[1].provenance == "user"
    plan.remove(1)
    assert len(plan) == 2 and changes[0] == ("user", "add 'find the key'") and len(changes) == 8


def test_bad_positions_and_statuses_say_what_is_valid():
    plan = Plan(["a", "b"])
    with pytest.raises(ConfigError, match="valid positions: 1..2"):
        plan.edit(3, "x")
    with pytest.raises(ConfigError, match="valid: todo, doing, done, skipped"):
        plan.set_status(1, "finished")
    with pytest.raises(ConfigError, match="valid: 1..2"):
        plan.move(1, 5)
    assert [i.text for i in plan] == ["a", "b"]  # a failed move loses nothing
    with pytest.raises(ConfigError, match="plan is empty"):
        Plan().done(1)


def test_load_does_not_publish():
    changes = []
    plan = Plan(on_change=lambda *a: changes.append(a))
    plan.load([{"text": "x", "status": "done", "provenance": "agent"}])
    assert plan.render() == "1. [x] x" and changes == []
