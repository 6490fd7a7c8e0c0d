"""Background runs (`Session.start` / `stop`, `core/background.py`) on real asyncio loops.

Every wait is on a condition (a task, an event, a future), never on time: the `GatedModel` holds a
step in flight until the test opens its gate.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from toys import Counter, react
from widget_toys import GatedModel

from workbench.core import events as ev
from workbench.core.background import _live_tasks, runner_for
from workbench.core.session import Session
from workbench.errors import StepInProgress
from workbench.llm.scripted import ScriptedModel


def make(model, goal: int = 50, **kwargs) -> tuple[Session, list[ev.Event]]:
    session = Session(env=Counter(goal=goal), model=model, **kwargs)
    seen: list[ev.Event] = []
    session.subscribe(seen.append)
    return session, seen


def kinds(events: list[ev.Event], cls: type) -> list[ev.Event]:
    return [e for e in events if isinstance(e, cls)]


def test_start_runs_on_the_running_loop_and_returns_the_task():
    async def main() -> None:
        s, seen = make(ScriptedModel([react("inc")]), goal=3)
        task = s.start()
        assert isinstance(task, asyncio.Task)
        assert task.get_loop() is asyncio.get_running_loop()
        assert task in _live_tasks  # a strong reference while it runs
        nodes = await task
        assert [n.action for n in nodes] == ["inc", "inc", "inc"]
        assert s.status == "done" and s.done
        assert task not in _live_tasks
        assert kinds(seen, ev.RunFinished)

    asyncio.run(main())


def test_start_returns_before_the_first_step_finishes():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, _ = make(model)
        task = s.start(max_steps=2)
        await model.wait_entered()
        assert not task.done() and s.status == "running" and s.tree.steps == 0
        model.auto_open = True
        model.open_gate()
        assert len(await task) == 2
        assert s.status == "paused"

    asyncio.run(main())


def test_pause_from_another_thread_stops_after_the_step_in_flight():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, seen = make(model)
        task = s.start()
        await model.wait_entered()
        thread = threading.Thread(target=s.pause)
        thread.start()
        await asyncio.to_thread(thread.join)
        model.open_gate()
        nodes = await task
        assert len(nodes) == 1  # the step in flight finished, no further step began
        assert s.status == "paused"
        assert [p.reason for p in kinds(seen, ev.Paused)] == ["user"]

    asyncio.run(main())


def test_stop_cancels_the_task_and_drops_the_step_in_flight():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, seen = make(model)
        task = s.start()
        await model.wait_entered()
        s.stop()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert s.tree.steps == 0  # nothing half-made
        assert s.status == "paused"
        assert [p.reason for p in kinds(seen, ev.Paused)] == ["stopped"]
        assert not runner_for(s).running and task not in _live_tasks
        model.auto_open = True
        model.close_gate()
        again = s.start(max_steps=1)  # the session is usable again
        assert len(await again) == 1

    asyncio.run(main())


def test_stop_from_another_thread_is_handed_to_the_loop():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, seen = make(model)
        task = s.start()
        await model.wait_entered()
        await asyncio.to_thread(s.stop)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()

    asyncio.run(main())


def test_stop_without_a_task_does_nothing():
    s, seen = make(ScriptedModel([react("inc")]))
    s.stop()
    assert runner_for(s).stop() is False
    assert not kinds(seen, ev.Paused)


def test_a_second_start_while_running_is_refused():
    async def main() -> None:
        model = GatedModel([react("inc")])
        s, _ = make(model)
        task = s.start()
        await model.wait_entered()
        with pytest.raises(StepInProgress, match="pause\\(\\) or stop\\(\\)"):
            s.start()
        with pytest.raises(StepInProgress):
            runner_for(s).start_step()
        s.stop()
        await asyncio.wait([task])

    asyncio.run(main())


def test_an_exception_in_the_task_is_surfaced_once():
    async def main() -> None:
        model = GatedModel([react("inc")])
        model.auto_open = True
        model.fail_with = RuntimeError("the model client broke")
        s, seen = make(model)
        finished: list[object] = []
        runner_for(s).on_finished(lambda r: finished.append(r.error))
        task = s.start()
        await asyncio.wait([task])
        assert isinstance(task.exception(), RuntimeError)
        assert s.status == "error"
        errors = kinds(seen, ev.Error)
        assert len(errors) == 1 and "the model client broke" in errors[0].message
        runner = runner_for(s)
        assert isinstance(runner.error, RuntimeError)
        assert "RuntimeError: the model client broke" in runner.traceback
        assert finished == [runner.error]

    asyncio.run(main())


def test_an_exception_outside_the_step_is_reported_by_the_runner():
    def bad_until(node):
        raise ValueError("until() is broken")

    async def main() -> None:
        s, seen = make(ScriptedModel([react("inc")]))
        task = s.start(until=bad_until)
        await asyncio.wait([task])
        assert s.status == "error"
        errors = kinds(seen, ev.Error)
        assert len(errors) == 1 and errors[0].message == "ValueError: until() is broken"
        assert errors[0].error_type == "ValueError"

    asyncio.run(main())


def test_a_failing_listener_does_not_hide_the_outcome():
    async def main() -> None:
        s, seen = make(ScriptedModel([react("inc")]), goal=3)
        runner = runner_for(s)
        runner.on_finished(lambda r: 1 / 0)
        calls: list[str] = []
        remove = runner.on_finished(lambda r: calls.append(r.kind))
        await s.start(max_steps=1)
        assert calls == ["run"] and s.status == "paused"
        remove()
        await runner.start_step()
        assert calls == ["run"] and s.tree.steps == 2

    asyncio.run(main())


def test_start_from_a_thread_without_a_loop_uses_the_bound_loop():
    async def main() -> None:
        s, _ = make(ScriptedModel([react("inc")]), goal=2)
        loop = asyncio.get_running_loop()
        runner_for(s).bind()
        task = await asyncio.to_thread(s.start)  # like a widget callback on a kernel subshell
        assert task.get_loop() is loop
        assert len(await task) == 2

    asyncio.run(main())


def test_start_with_no_loop_anywhere_uses_the_background_loop():
    s, _ = make(ScriptedModel([react("inc")]), goal=2)
    task = s.start()
    loop = task.get_loop()
    assert loop.is_running() and loop is not None

    async def wait() -> list:
        return await task

    nodes = asyncio.run_coroutine_threadsafe(wait(), loop).result(timeout=30)
    assert len(nodes) == 2 and s.done


def test_single_background_step():
    async def main() -> None:
        s, seen = make(ScriptedModel([react("inc")]))
        node = await runner_for(s).start_step()
        assert node.action == "inc" and s.status == "idle"
        assert runner_for(s).kind == "step"
        assert kinds(seen, ev.StepFinished)

    asyncio.run(main())
