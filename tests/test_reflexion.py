"""reflexion: a failed attempt gets a reflection whose lesson (an editable memory entry) goes into
the next attempt's prompt; attempts are sibling branches of the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.llm.scripted import ScriptedModel
from workbench.strategies.labels import LESSONS_LABEL
from workbench.widgets.memory_editor import memory_entries

# game24 seed 0 with the demo model at error rate 0.3: the first attempt fails, the second succeeds
SEED, RATE = 0, 0.3


def failing_session(store=None, **kw) -> Session:
    model = Model("workbench/demo", seed=SEED, error_rate=RATE)
    return Session(env="game24", strategy="reflexion", model=model, seed=SEED, store=store, **kw)


def run_to_reflection(s: Session) -> None:
    for _ in range(10):
        node = s.step()
        if "reflection" in node.info:
            return
    pytest.fail("no attempt failed")


def test_a_failed_attempt_is_reflected_on_and_the_next_attempt_starts_at_the_root_with_the_lesson():
    s = failing_session()
    run_to_reflection(s)
    failed = s.tree.current
    assert failed.terminal and failed.reward == 0 and not s.done
    reflect = failed.llm_calls[-1]
    assert reflect.role == "reflector" and reflect.purpose == "reflect"
    lesson = failed.info["reflection"]
    assert failed.info["lesson"] == "lesson:1" and failed.info["attempt_end"] == "failed"
    assert s.memory.lesson_items() == [("lesson:1", lesson)]
    entries = {e["id"]: e for e in memory_entries(s)[0]}
    assert entries["lesson:1"]["kind"] == "lesson" and entries["lesson:1"]["provenance"] == "agent"
    assert entries["lesson:1"]["node_id"] == failed.id
    nxt = s.step()
    assert nxt.parent_id == 0 and nxt.info["attempt"] == 2 and nxt.info["lessons"] == ["lesson:1"]
    system = nxt.llm_calls[0].messages[0]["content"]
    assert f"{LESSONS_LABEL}\n- {lesson}" in system
    first_attempt = [n for n in s.tree.children(0) if n.info.get("attempt") == 1]
    assert len(first_attempt) == 1 and first_attempt[0].id != nxt.id  # sibling branches of the root
    s.run(max_steps=10)
    assert s.tree.outcome == "success" and s.done
    attempts = {n.info["attempt"] for n in s.path()[1:]}
    assert len(attempts) == 1 and attempts.pop() == len(s.tree.children(0)) >= 2  # the last attempt won
    heeded = [n for n in s.tree.nodes.values() if n.thought.startswith("A lesson from an earlier attempt")]
    assert heeded and all(n.info["attempt"] >= 2 for n in heeded)  # the simulated model read the lessons


def test_an_edited_lesson_is_what_the_next_attempt_reads():
    s = failing_session()
    run_to_reflection(s)
    s.memory.edit("lesson:1", "Play 4 * 6 last and keep 24 reachable.")  # what the memory editor does
    nxt = s.step()
    system = nxt.llm_calls[0].messages[0]["content"]
    assert "- Play 4 * 6 last and keep 24 reachable." in system
    assert s.tree.nodes[nxt.parent_id].parent_id is None
    assert s.tree.current.info["attempt"] == 2
    assert "lesson:1" in nxt.info["used_user_edits"]
    s.memory.forget("lesson:1")
    assert s.strategy.lessons(s) == []


def test_attempts_are_capped_and_the_step_limit_ends_an_attempt():
    answers = lambda messages: (  # noqa: E731
        "Reflection: look less." if "Reflection:" in messages[0]["content"] else "Thought: x\nAction: look"
    )
    s = Session(
        env="gridworld",
        strategy="reflexion",
        model=ScriptedModel(answers),
        store=None,
        attempts=2,
        attempt_steps=2,
    )
    s.run(max_steps=20)
    assert s.done and s.tree.outcome is None
    kids = s.tree.children(0)
    assert [n.info["attempt"] for n in kids] == [1, 2]
    ends = [n for n in s.tree.nodes.values() if n.info.get("attempt_end")]
    assert [n.info["attempt_end"] for n in ends] == ["no success in 2 steps"]  # the last one is not reflected
    assert s.tree.steps == 4
    with pytest.raises(ConfigError, match="attempts"):
        Session(env="gridworld", strategy="reflexion", store=None, attempts=0)


def test_gridworld_demo_run_finds_the_goal_within_its_attempts():
    model = Model("workbench/demo", seed=4, error_rate=0.3)
    s = Session(env="gridworld", strategy="reflexion", model=model, seed=4, store=None)
    s.run(max_steps=150)
    assert s.done and s.tree.outcome == "success"
    assert len(s.tree.children(0)) >= 2 and len(s.memory.lessons) == len(s.tree.children(0)) - 1


def test_resume_after_a_reflection_starts_the_next_attempt_with_the_lesson(tmp_path: Path):
    path = tmp_path / "runs.sqlite"
    s = failing_session(store=path)
    run_to_reflection(s)
    lesson, run_id = s.tree.current.info["reflection"], s.run_id
    s.memory.edit("lesson:1", lesson + " (checked)")
    s.close()
    again = Session.resume(run_id, path)
    assert again.memory.lesson_items() == [("lesson:1", lesson + " (checked)")]
    assert again.tree.current.info["reflection"] == lesson  # the reflection call's node, as stored
    assert again.tree.current.llm_calls[-1].role == "reflector"
    nxt = again.step()
    assert nxt.parent_id == 0 and nxt.info["attempt"] == 2
    assert f"- {lesson} (checked)" in nxt.llm_calls[0].messages[0]["content"]
    again.close()
