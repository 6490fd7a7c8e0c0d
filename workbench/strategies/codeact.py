"""CodeAct (Wang et al., ICML 2024): the action is Python code, run in a sandboxed kernel.

Each answer is an optional thought, then one block:

    Thought: I can check the expression in code.        (or <thought>...</thought>)
    <execute>
    print(eval("(4 + 8) * (6 - 4)"))
    </execute>

or `<solution>answer</solution>`. The model call stops at `</execute>` (the tag is put back on the
node's raw answer). The code runs in the strategy's own `Sandbox` (a separate kernel; never the
user's), whose namespace persists from step to step; the observation is the cell's output
(`CellResult.observation()`: stdout, stderr, the last value, display notes, the trimmed traceback, or
`[Executed Successfully with No Output]`). Each prompt ends with the paper's
`You have N steps left and M chances to propose solution left.` when a step budget is known.

Functions pre-defined in the kernel (listed in the system prompt with their signatures):

- a ToolEnv's tools: each call runs `Tool` in the host through the ToolEnv and is recorded in the
  node's `info["tool_calls"]` (the ToolEnv's record shape); a failed call raises in the kernel.
- `act(action: str) -> str` for a text environment (or a ToolEnv over one): steps the session's env in
  the host and returns the observation; rewards add up; after the episode ended it does nothing and
  says so. Its calls are recorded like tool calls (name `act`, with `env_action`), and the text
  actions go to `info["env_actions"]` so a replay from `reset()` re-steps them.

`<solution>X</solution>` is `final_answer(X)` on a ToolEnv without an inner env, and otherwise X is
sent to the env as one text action (game24: `<solution>answer: (4 + 8) * (6 - 4)</solution>`).

Options: `sandbox` ("auto" | "bwrap" | "process"), `timeout` (seconds per cell), `max_solutions`
(chances to propose a solution: the run ends as a failure when they are used up), `workdir` (the
kernel's work directory; a temporary one when None), `max_output_chars`. The steps in the note are
the session's own step budget (`Session(max_steps=...)`, which stops the run when used up).
Safety rule (`choose_level`): the `process` level has no file or network isolation, so "auto" falls
back to it only for the simulated demo model; with a real model "auto" needs bwrap, else a
`ConfigError` asks for an explicit `sandbox="process"`. The level used is `tree.config["sandbox"]`.

Rewind: the strategy knows which nodes' cells the kernel has run. A step from a node whose path
holds other cells restarts the kernel and replays the path's cells in order (after the last cell that
restarted the kernel itself); during a replay, host calls return the recorded results in order and
never run a tool or step the env (the engine restores the env). A replayed cell whose observation
differs from the recorded one marks its node `info["diverged"]`.
"""

from __future__ import annotations

import asyncio
import json
import keyword
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ..core.prompt import Prompt
from ..errors import ConfigError
from .base import Strategy, with_recall
from .codeact_format import (
    ACT_SPEC,
    FORMAT_HELP,
    LEVEL_CHOICES,
    NOTE_CHARS,
    STOP,
    CodeAnswer,
    CodeParsed,
    choose_level,
    parse_codeact,
    signature,
)

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext


class _Live:
    """What the host calls of one live cell did to the env."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.env_actions: list[str] = []
        self.reward = 0.0
        self.terminated = False
        self.truncated = False
        self.extra: dict[str, Any] = {}  # answer / checked of a final_answer call

    @property
    def over(self) -> bool:
        return self.terminated or self.truncated


def _raise_recorded(error: str) -> None:
    """Raise `error` ("ValueError: bad" or a plain message) so the kernel shows it as the tool's error."""
    name, sep, message = error.partition(": ")
    if not (sep and name.isidentifier() and name[:1].isupper()):
        name, message = "ToolArgumentError", error
    raise type(name, (Exception,), {})(message)


# ------------------------------------------------------------------------------------ strategy
class CodeAct(Strategy):
    name = "codeact"
    options: dict[str, Any] = {
        "sandbox": "auto",
        "timeout": 30.0,
        "max_solutions": 3,
        "workdir": None,
        "max_output_chars": 2000,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cfg = self.config
        if cfg["sandbox"] not in LEVEL_CHOICES:
            raise ConfigError(
                f"sandbox must be one of {', '.join(map(repr, LEVEL_CHOICES))}, not {cfg['sandbox']!r}"
            )
        value = cfg["max_solutions"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"max_solutions must be a whole number >= 1 or None, not {value!r}")
        if not isinstance(cfg["timeout"], (int, float)) or cfg["timeout"] <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {cfg['timeout']!r}")
        self.sandbox: Any = None  # the Sandbox, made on the first step
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: StepContext = None
        self._cells: list[int] = []  # ids of the nodes whose code the kernel has run, in order
        self._names: dict[str, str] = {}  # kernel function name -> ToolEnv tool name
        self._live: _Live | None = None
        self._replay: deque[dict[str, Any]] | None = None
        self._replay_mismatch = False

    # --- the env's shape ---------------------------------------------------------------------------
    @staticmethod
    def _tools(session: StepContext) -> dict[str, Any]:
        env = session.env
        tools = getattr(env, "tools", None)
        return tools if isinstance(tools, dict) and callable(getattr(env, "tool_specs", None)) else {}

    def _pure_tools(self, session: StepContext) -> bool:
        """A ToolEnv without an inner env: no `act`, and a solution is `final_answer`."""
        return bool(self._tools(session)) and getattr(session.env, "inner", None) is None

    def _specs(self, session: StepContext) -> list[dict[str, Any]]:
        specs, self._names = [], {}
        for t in self._tools(session).values():
            py = t.name.replace("-", "_")
            if not py.isidentifier() or keyword.iskeyword(py) or py in self._names or py == "act":
                continue
            self._names[py] = t.name
            specs.append({"name": py, "description": t.description, "parameters": t.parameters})
        if not self._pure_tools(session):
            specs.append(ACT_SPEC)
        return specs

    # --- prompt --------------------------------------------------------------------------------------
    def system_prompt(self, session: StepContext) -> str:
        parts = [
            "You are an agent that acts by writing Python code, which runs in a sandboxed IPython kernel.",
            f"Task: {session.tree.task}",
        ]
        instructions = getattr(session.env, "instructions", "")
        specs = self._specs(session)
        if instructions and not self._pure_tools(session):
            parts.append("The environment's text actions (give them to act()):\n" + instructions.strip())
        listing = []
        for spec in specs:
            doc = " ".join(str(spec["description"]).split())
            listing.append(f"- {signature(spec['name'], spec['parameters'])}: {doc}")
        parts.append(
            "These functions are already defined in the kernel; call them from your code:\n"
            + "\n".join(listing)
        )
        parts.append(FORMAT_HELP)
        if self._pure_tools(session):
            parts.append("<solution>X</solution> calls final_answer(X) and ends the task.")
        else:
            parts.append(
                "<solution>X</solution> sends X to the environment as one text action (as act(X) would); "
                "use it for an action that finishes the task."
            )
        hint = session.memory.system_hint()
        if hint:
            parts.append(hint)
        if len(session.plan):
            parts.append("Plan:\n" + session.plan.render())
        return "\n\n".join(parts)

    def budget_note(self, session: StepContext, node: Node) -> str:
        """The paper's `You have N steps left and M chances to propose solution left.`, when known."""
        steps = self._steps_left(session, node)
        chances = self._solutions_left(session, node)
        if steps is None:
            return "" if chances is None else f"You have {chances} chances to propose solution left."
        if chances is None:
            return f"You have {steps} steps left."
        return f"You have {steps} steps left and {chances} chances to propose solution left."

    def _steps_left(self, session: StepContext, node: Node) -> int | None:
        budget = (getattr(session, "budgets", None) or {}).get("max_steps")
        return None if budget is None else max(0, budget - session.tree.steps)

    def _solutions_left(self, session: StepContext, node: Node) -> int | None:
        if self.config["max_solutions"] is None:
            return None
        used = sum(1 for n in session.tree.path(node.id) if n.info.get("kind") == "solution")
        return max(0, self.config["max_solutions"] - used)

    def messages(self, session: StepContext, path: list[Node]) -> Prompt:
        """System prompt, history (shared with earlier calls, see `core/prompt.py`), budget note."""
        system = with_recall(self.system_prompt(session), session, path[-1])
        note = self.budget_note(session, path[-1])
        session.memory.set_frame([system, note])
        history = session.memory.render(session.tree, path)
        return Prompt.of(
            self._message("system", "system", system),
            history,
            self._message("budget", "user", note) if note else [],
        )

    def finished(self, session: StepContext) -> bool:
        node = session.tree.current
        return node.terminal or self._used_up(session, node)

    def _used_up(self, session: StepContext, node: Node) -> bool:
        return self._solutions_left(session, node) == 0

    # --- a step --------------------------------------------------------------------------------------
    async def astep(self, session: StepContext) -> Node:
        parent = session.tree.current
        path = session.tree.path(copy=False)  # read at once, never changed
        messages = self.messages(session, path)
        used_edits = session.take_used_edits()
        call = await session.call_model(messages, parent, stop=[STOP])
        answer = parse_codeact(call.response)
        common = {"thought": answer.thought, "plan": answer.plan, "subgoal": answer.subgoal}
        if answer.error is not None:
            parsed = CodeParsed(error=answer.error, **common)
            return await session.aexecute(parent, parsed, [call], used_edits=used_edits)
        if answer.solution is not None:
            parsed = CodeParsed(action=f"solution: {answer.solution}", kind="solution", **common)
            node = await session.aexecute(
                parent,
                parsed,
                [call],
                used_edits=used_edits,
                step=self._solution_step(session, answer.solution),
            )
        else:
            assert answer.code is not None
            node = await self._run_code(session, parent, path, answer, call, used_edits)
        if node.raw != answer.raw:
            session.update_node(node, raw=answer.raw)
        if not node.terminal and self._used_up(session, node) and session.tree.cursor == node.id:
            from ..core import events as ev

            session.tree.outcome = "failure"
            session.events.publish(ev.RunFinished(session.run_id, outcome="failure", node_id=node.id))
        return node

    async def _run_code(
        self,
        session: StepContext,
        parent: Node,
        path: list[Node],
        answer: CodeAnswer,
        call: Any,
        used_edits: Any,
    ) -> Node:
        code = answer.code or ""
        sandbox = await self._ensure(session)
        await self._bring_kernel_to(session, path)
        live = _Live()
        result: dict[str, Any] = {}
        held: dict[str, int] = {}  # the node of a proposal that waits for approval

        async def step(_action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
            self._live = live
            try:  # the action is the code; a person may have edited it before approving
                res = await sandbox.arun(_action if isinstance(_action, str) else code)
            finally:
                self._live = None
            result["res"] = res
            if "node" in held:  # approved after the step returned: the cell belongs to that node
                self._cells = [] if res.restarted else [*self._cells, held["node"]]
            info: dict[str, Any] = {
                "env_actions": list(live.env_actions),
                **live.extra,
                "node_kind": "code",
                "code": self._code_info(res),
            }
            if live.records:
                info["tool_calls"] = list(live.records)
            return res.observation(), live.reward, live.terminated, live.truncated, info

        parsed = CodeParsed(
            action=code, kind="execute", thought=answer.thought, plan=answer.plan, subgoal=answer.subgoal
        )
        node = await session.aexecute(parent, parsed, [call], used_edits=used_edits, step=step)
        res = result.get("res")
        if res is None:  # nothing ran (a memory action, or a gate holds the code for a person)
            held["node"] = node.id
            return node
        self._cells = [] if res.restarted else [*self._cells, node.id]
        return node

    def _code_info(self, res: Any) -> dict[str, Any]:
        from ..sandbox.result import truncate

        return {
            "level": self.sandbox.level,
            "stdout": truncate(res.stdout, NOTE_CHARS),
            "stderr": truncate(res.stderr, NOTE_CHARS),
            "error": res.error["ename"] if res.error else None,
            "timed_out": res.timed_out,
            "restarted": res.restarted,
            "duration": round(res.duration, 6),
        }

    def _solution_step(self, session: StepContext, solution: str) -> Any:
        async def step(_action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
            env = session.env
            if self._pure_tools(session):
                from ..tools.env import FINAL_ANSWER, ToolCall

                obs, reward, terminated, truncated, info = await env.astep(
                    [ToolCall(FINAL_ANSWER, json.dumps({"answer": solution}), id="call_0")]
                )
                return obs, reward, terminated, truncated, {**info, "node_kind": "solution"}
            obs, reward, terminated, truncated, info = await self._env_step(env, solution)
            extra = {"env_actions": [solution], "node_kind": "solution"}
            return obs, reward, terminated, truncated, {**dict(info or {}), **extra}

        return step

    @staticmethod
    async def _env_step(env: Any, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        astep = getattr(env, "astep", None)
        if callable(astep):
            return await astep(action)
        return env.step(action)

    # --- the kernel ---------------------------------------------------------------------------------
    async def _ensure(self, session: StepContext) -> Any:
        """The sandbox, made and started on first use; its level follows the safety rule."""
        if self.sandbox is None:
            from ..sandbox import Sandbox
            from ..sandbox import levels as levels_mod

            model = getattr(session, "model", None)
            simulated = getattr(model, "simulated", None)
            if simulated is None:
                simulated = session.tree.config.get("simulated", False)
            level = choose_level(levels_mod.sandbox_levels(), bool(simulated), self.config["sandbox"])
            sandbox = Sandbox(
                level=level,
                workdir=self.config["workdir"],
                timeout=float(self.config["timeout"]),
                max_output_chars=int(self.config["max_output_chars"]),
            )
            sandbox.set_tools(self._specs(session), self._host_call)
            self.sandbox, self._session = sandbox, session
        if not self.sandbox.started:
            await self.sandbox.astart()
            self._loop = asyncio.get_running_loop()
            self._cells = []
            if session.tree.config.get("sandbox") != self.sandbox.level:
                from ..core import events as ev

                session.tree.config["sandbox"] = self.sandbox.level
                session.events.publish(
                    ev.ConfigChanged(
                        session.run_id,
                        config=session.tree.config,
                        change=f"sandbox {self.sandbox.level}",
                        provenance="agent",
                    )
                )
        return self.sandbox

    @staticmethod
    def _wanted(path: list[Node]) -> list[Node]:
        """The code nodes whose cells make the kernel state of `path[-1]` (after the last restart)."""
        cells: list[Node] = []
        for node in path[1:]:
            if node.info.get("kind") != "code" or not node.executed:
                continue
            cells = [] if (node.info.get("code") or {}).get("restarted") else [*cells, node]
        return cells

    def replay_nodes(self, path: list[Node]) -> list[Node]:
        """The code nodes whose cells a step from `path[-1]` would re-run in the kernel."""
        wanted = self._wanted(path)
        ids = [n.id for n in wanted]
        if ids == self._cells:
            return []
        if self._cells == ids[: len(self._cells)]:
            return wanted[len(self._cells) :]
        return wanted

    async def _bring_kernel_to(self, session: StepContext, path: list[Node]) -> None:
        """Restart the kernel and replay `path`'s cells when it ran other cells (see the docstring).

        Cells of approved gated actions are re-run only with a person's consent (`approved_for_replay`)."""
        todo = self.replay_nodes(path)
        if not todo:
            return
        session.approved_for_replay(todo, path[-1].id, consume=True)
        ids = [n.id for n in self._wanted(path)]
        if self._cells != ids[: len(self._cells)]:
            await self.sandbox.arestart()
            self._cells = []
        for node in todo:
            await self._replay_cell(session, node)

    async def _replay_cell(self, session: StepContext, node: Node) -> None:
        self._replay = deque(node.info.get("tool_calls") or ())
        self._replay_mismatch = False
        try:
            res = await self.sandbox.arun(node.action or "")
        finally:
            left, self._replay = self._replay, None
        self._cells = [] if res.restarted else [*self._cells, node.id]
        observation = res.observation()
        if observation == node.observation and not left and not self._replay_mismatch:
            return
        session.mark_diverged(node, observation, "its cell's output differs from the recorded one")

    # --- calls from the kernel ----------------------------------------------------------------------
    async def _host_call(self, name: str, arguments: dict[str, Any]) -> str:
        """A kernel function's call, run in the host (live) or answered from the record (replay)."""
        if self._replay is not None:
            return self._replayed(name)
        live, session = self._live, self._session
        if live is None or session is None:
            raise RuntimeError("no step is running; host functions work only inside a step's cell")
        if name == "act":  # never a tool's name: `_specs` skips a tool called act
            return await self._act(session, live, arguments)
        return await self._tool(session, live, self._names.get(name, name), arguments)

    def _replayed(self, name: str) -> str:
        assert self._replay is not None
        real = self._names.get(name, name)
        if not self._replay or self._replay[0]["name"] != real:
            self._replay_mismatch = True
            raise RuntimeError(f"replay: the recorded cell made no such call of {real}() here")
        record = self._replay.popleft()
        if record.get("error"):
            _raise_recorded(str(record["error"]))
        return str(record["result"])

    async def _act(self, session: StepContext, live: _Live, arguments: dict[str, Any]) -> str:
        action = str(arguments.get("action", ""))
        record: dict[str, Any] = {
            "id": f"call_{len(live.records)}",
            "name": "act",
            "arguments": json.dumps({"action": action}),
            "args": {"action": action},
            "result": "",
            "error": None,
            "duration": 0.0,
            "destructive": False,
        }
        started = time.perf_counter()
        if live.over:
            record["result"] = "The episode is over; act() did nothing."
        else:
            obs, reward, terminated, truncated, _info = await self._env_step(session.env, action)
            record["env_action"] = action
            record["result"] = str(obs)
            live.env_actions.append(action)
            live.reward += float(reward)
            live.terminated = live.terminated or bool(terminated)
            live.truncated = live.truncated or bool(truncated)
        record["duration"] = time.perf_counter() - started
        live.records.append(record)
        return record["result"]

    async def _tool(self, session: StepContext, live: _Live, name: str, arguments: dict[str, Any]) -> str:
        from ..tools.env import ToolCall

        call_id = f"call_{len(live.records)}"
        if live.over:
            record = {
                "id": call_id,
                "name": name,
                "arguments": json.dumps(arguments, default=str),
                "args": None,
                "result": "Error: the episode is over; nothing was called.",
                "error": "EpisodeOver: the episode is over; nothing was called",
                "duration": 0.0,
                "destructive": False,
            }
        else:
            call = ToolCall(name, json.dumps(arguments, default=str), id=call_id)
            _obs, reward, terminated, truncated, info = await session.env.astep([call])
            record = dict((info.get("tool_calls") or [{}])[0])
            record["id"] = call_id
            live.env_actions += list(info.get("env_actions") or ())
            live.reward += float(reward)
            live.terminated = live.terminated or bool(terminated)
            live.truncated = live.truncated or bool(truncated)
            live.extra.update({k: info[k] for k in ("answer", "checked") if k in info})
        live.records.append(record)
        if record.get("error"):
            _raise_recorded(str(record["error"]))
        return str(record.get("result", ""))

    # --- closing ------------------------------------------------------------------------------------
    async def aclose(self) -> None:
        sandbox, self.sandbox = self.sandbox, None
        self._cells = []
        if sandbox is not None:
            await sandbox.aclose()

    def close(self) -> None:
        """Kill the kernel and its processes (Session.close calls this); safe to call twice."""
        sandbox, loop = self.sandbox, self._loop
        self.sandbox, self._cells = None, []
        if sandbox is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and (running is loop or loop is None or not loop.is_running()):
            self._closing = running.create_task(sandbox.aclose())  # cannot block this loop
        elif loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(sandbox.aclose(), loop).result(timeout=60)
        else:
            sandbox.close()
