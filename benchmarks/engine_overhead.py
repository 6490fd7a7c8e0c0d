"""Per-step engine overhead and memory with an instant model, SQLite persistence on.

    python benchmarks/engine_overhead.py [--steps 100 1000 10000] [--memory full window diff] [--reps 1]
    python benchmarks/engine_overhead.py --peers [--steps 1000] [--reps 3]

Every run is a fresh Python process (so its memory is its own), and the runs of one repetition are
interleaved, so a busy machine slows them alike. The model answers instantly ("go east", always the
same), the env is an endless corridor whose map changes by one character a step, and the store is
on: what is measured is the engine (prompt building, parsing, env step, events, the SQLite writes).

Columns: mean and median ms/step; p95; `last/first`, the mean of the last 10% of steps over the
first 10%; `vs step 100`, the last 100 steps over steps 100-199 (runs of 1,000 steps or more), and
`p50 vs 100` the same with medians (which a busy machine's pauses move less than means); and
the resident memory the run added (MB, current RSS after the last step minus before the first)
with its share per step (KB).

`--peers` runs the same protocol under smolagents (ToolCallingAgent, one tool, a fake model that
answers the tool call instantly; it keeps its memory in the process) and LangGraph (a model node and
a tool node looping, the message list in the state, `SqliteSaver` checkpointing every super-step),
each when it is installed (`pip install 'agent-workbench[bench]'`), next to workbench's full and diff
memory, and prints each one's ms/step as a multiple of workbench diff's. A peer that is missing is
reported as skipped; one that takes longer than `--timeout` seconds is stopped and reported so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ANSWER = "Thought: keep going east.\nAction: go east"
WARM_UP = 5  # steps of a throw-away run first, so that one-time imports and loads are not timed


class Walk:
    """A corridor that never ends: observations are a small map line that changes locally."""

    name = "walk"
    task = "walk east forever"
    instructions = "Actions: go east"

    def reset(self, seed=None):
        self.x = 0
        return self._obs(), {}

    def _obs(self) -> str:
        row = "".join("A" if i == self.x % 40 else "." for i in range(40))
        return f"+{'-' * 40}+\n|{row}|\n+{'-' * 40}+\nMessage: you are at {self.x}."

    def step(self, action):
        self.x += 1
        return self._obs(), 0.0, False, False, {}

    def snapshot(self):
        return self.x

    def restore(self, state):
        self.x = state


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- one run, in its own process ----------------------------------------------------------------
def run_workbench(n: int, memory: str, store_path: str | None) -> dict[str, Any]:
    import asyncio

    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.store.sqlite import RunStore

    options = {"window": 4} if memory in ("window", "diff") else {}
    times: list[float] = []

    def session(store: RunStore | None) -> Session:
        model = ScriptedModel([ANSWER])
        return Session(env=Walk(), model=model, memory=memory, memory_options=options, store=store)

    async def go(s: Session, steps: int) -> None:
        for _ in range(steps):
            t0 = time.perf_counter()
            await s.astep()
            times.append(time.perf_counter() - t0)

    asyncio.run(go(session(None), WARM_UP))
    times.clear()
    store = RunStore(store_path) if store_path else None
    s = session(store)
    gc.collect()
    before = rss_mb()
    asyncio.run(go(s, n))
    after = rss_mb()
    if store is not None:
        store.close()
    return {"times": times, "rss": after - before}


def run_smolagents(n: int) -> dict[str, Any]:
    from smolagents import Tool, ToolCallingAgent
    from smolagents.models import ChatMessage, ChatMessageToolCall, ChatMessageToolCallFunction, Model

    env = Walk()
    times: list[float] = []
    last = [0.0]

    class GoEast(Tool):
        name = "go_east"
        description = "Take one step east in the corridor."
        inputs: dict[str, Any] = {}
        output_type = "string"

        def forward(self) -> str:
            return env.step("go east")[0]

    class Instant(Model):
        def generate(
            self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kw
        ):
            function = ChatMessageToolCallFunction(name="go_east", arguments={})
            call = ChatMessageToolCall(id=f"call_{len(times)}", type="function", function=function)
            return ChatMessage(role="assistant", content="Thought: keep going east.", tool_calls=[call])

    def tick(*_: Any, **__: Any) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    def run(steps: int) -> None:
        env.reset()
        agent = ToolCallingAgent(
            tools=[GoEast()], model=Instant(model_id="instant"), max_steps=steps, step_callbacks=[tick]
        )
        agent.logger.level = -1  # quiet
        last[0] = time.perf_counter()
        agent.run(Walk.task, max_steps=steps)

    run(WARM_UP)
    times.clear()
    gc.collect()
    before = rss_mb()
    run(n)
    after = rss_mb()
    return {"times": times[:n], "rss": after - before}


def run_langgraph(n: int, store_path: str) -> dict[str, Any]:
    import sqlite3
    from typing import Annotated, TypedDict

    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.graph.message import add_messages

    env = Walk()
    State = TypedDict("State", {"messages": Annotated[list, add_messages]})  # noqa: UP013
    times: list[float] = []
    last = [0.0]
    limit = [WARM_UP]

    def model(state: Any) -> dict[str, Any]:
        call = {"name": "go_east", "args": {}, "id": f"call_{len(state['messages'])}"}
        return {"messages": [AIMessage(content="Thought: keep going east.", tool_calls=[call])]}

    def tool(state: Any) -> dict[str, Any]:
        call = state["messages"][-1].tool_calls[0]
        obs = env.step("go east")[0]
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        return {"messages": [ToolMessage(content=obs, tool_call_id=call["id"])]}

    def more(state: Any) -> str:
        return "model" if len(times) < limit[0] else END

    graph = StateGraph(State)
    graph.add_node("model", model)
    graph.add_node("tool", tool)
    graph.add_edge(START, "model")
    graph.add_edge("model", "tool")
    graph.add_conditional_edges("tool", more)
    conn = sqlite3.connect(store_path, check_same_thread=False)
    app = graph.compile(checkpointer=SqliteSaver(conn))

    def run(thread: str) -> None:
        obs = env.reset()[0]
        last[0] = time.perf_counter()
        app.invoke(
            {"messages": [HumanMessage(content=f"{Walk.task}\n{obs}")]},
            {"configurable": {"thread_id": thread}, "recursion_limit": 2 * limit[0] + 10},
        )

    run("warm-up")
    times.clear()
    limit[0] = n
    gc.collect()
    before = rss_mb()
    run("bench")
    after = rss_mb()
    conn.close()
    return {"times": times[:n], "rss": after - before}


def child(kind: str, n: int, memory: str, store: bool) -> None:
    """Run one measurement and print it as JSON (the parent reads it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "runs.sqlite")
        if kind == "workbench":
            out = run_workbench(n, memory, path if store else None)
        elif kind == "smolagents":
            out = run_smolagents(n)
        else:
            out = run_langgraph(n, path)
    print(json.dumps(out))


# --- the parent: interleaved runs, summary ----------------------------------------------------------
def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure(kind: str, n: int, memory: str, store: bool, timeout: float) -> dict[str, Any] | str:
    cmd = [sys.executable, __file__, "--child", kind, str(n), memory, "1" if store else "0"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:g} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(times: list[float], rss: float) -> dict[str, float | None]:
    n = len(times)
    k = max(1, n // 10)
    qs = statistics.quantiles(times, n=20, method="inclusive") if n > 1 else times * 19
    long = n >= 1000
    vs100 = statistics.mean(times[-100:]) / statistics.mean(times[100:200]) if long else None
    p50_100 = statistics.median(times[-100:]) / statistics.median(times[100:200]) if long else None
    return {
        "mean": statistics.mean(times) * 1e3,
        "p50": statistics.median(times) * 1e3,
        "p95": qs[18] * 1e3,
        "ratio": statistics.mean(times[-k:]) / statistics.mean(times[:k]),
        "vs100": vs100,
        "p50_100": p50_100,
        "rss": rss,
        "kb_step": rss * 1024 / max(1, n),
    }


def span(values: list[float], fmt: str) -> str:
    lo, hi = min(values), max(values)
    a, b = format(lo, fmt), format(hi, fmt)
    return a if a == b else f"{a}-{b}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, kind, n, memory, store = sys.argv
        child(kind, int(n), memory, store == "1")
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=None)
    ap.add_argument("--memory", nargs="+", default=["full", "window", "diff"])
    ap.add_argument("--reps", type=int, default=1, help="interleaved repetitions (ranges are printed)")
    ap.add_argument("--no-store", action="store_true")
    ap.add_argument("--peers", action="store_true", help="also smolagents and LangGraph + SqliteSaver")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is stopped")
    args = ap.parse_args()
    steps = args.steps or ([1000] if args.peers else [100, 1000, 10000])
    setups: list[tuple[str, str]] = [("workbench", m) for m in args.memory]
    skipped: list[str] = []
    if args.peers:
        for kind, module in (("smolagents", "smolagents"), ("langgraph", "langgraph.checkpoint.sqlite")):
            if installed(module):
                setups.append((kind, "-"))
            else:
                skipped.append(f"{kind}: not installed (pip install 'agent-workbench[bench]')")
    results: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    problems: dict[tuple[str, str, int], str] = {}
    for _ in range(args.reps):
        for n in steps:
            for kind, memory in setups:
                got = measure(kind, n, memory, not args.no_store, args.timeout)
                if isinstance(got, str):
                    problems[(kind, memory, n)] = got
                else:
                    results.setdefault((kind, memory, n), []).append(summary(got["times"], got["rss"]))
    header = (
        f"{'engine':<11} {'memory':<7} {'steps':>6} {'ms/step':>11} {'p50 ms':>11} {'p95 ms':>11} "
        f"{'last/first':>11} {'vs step 100':>11} {'p50 vs 100':>11} {'+RSS MB':>11} {'KB/step':>11}"
    )
    print(header)
    for n in steps:
        for kind, memory in setups:
            key = (kind, memory, n)
            rows = results.get(key)
            if not rows:
                print(f"{kind:<11} {memory:<7} {n:>6} {problems.get(key, 'no result')}")
                continue

            def col(name: str, fmt: str, rows: list[dict[str, Any]] = rows) -> str:
                values = [r[name] for r in rows if r[name] is not None]
                return span(values, fmt) if values else "-"

            print(
                f"{kind:<11} {memory:<7} {n:>6} {col('mean', '.3f'):>11} {col('p50', '.3f'):>11} "
                f"{col('p95', '.3f'):>11} {col('ratio', '.2f'):>11} {col('vs100', '.2f'):>11} "
                f"{col('p50_100', '.2f'):>11} "
                f"{col('rss', '.1f'):>11} {col('kb_step', '.2f'):>11}"
            )
    if args.peers:
        print("\nms/step as a multiple of workbench diff (same repetition):")
        for n in steps:
            base = results.get(("workbench", "diff", n))
            for kind, memory in setups:
                rows = results.get((kind, memory, n))
                if not base or not rows or (kind, memory) == ("workbench", "diff"):
                    continue
                ratios = [r["mean"] / b["mean"] for r, b in zip(rows, base, strict=False)]
                print(f"  {kind} {memory if memory != '-' else ''} at {n} steps: {span(ratios, '.1f')}x")
    for line in skipped:
        print(f"skipped {line}")


if __name__ == "__main__":
    main()
