"""`ToolEnv`: an environment whose actions are tool calls, alone or on top of a text environment.

    env = ToolEnv(tools=[get_weather, convert], task="Is it warmer in Paris or Rome?")
    env = ToolEnv(tools=[lookup], env=GridWorld())   # text actions go to the grid, tool calls to tools

One step is one model answer: a list of `ToolCall`s (native function calling may ask for several
at once; they run concurrently and their results come back in order) or a text action for the
inner env. A call records its tool name, its arguments as written and as checked, the result or the
error the agent sees, and its duration (`info["tool_calls"]`). Argument mistakes and exceptions in a
tool never stop the run: they become the observation ("Error: ..."), so the agent can correct itself.

Without an inner env, a `final_answer(answer)` tool ends the episode: the reward is `check(answer)`
(a float, or a bool) when `check=` is given, else 1.0 with `info["checked"] = False`. With an inner
env the episode ends as that env says. The tools do not change the env's state: on rewind the engine
restores the conversation from the run tree and shows the recorded results again rather than
calling tools a second time (`Session.replay_tools` re-executes on request, never a destructive one).

`close()` closes what the env owns (MCP connections, see `workbench.tools.mcp`); `Session.close()`
calls it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ConfigError
from .base import Tool, ToolArgumentError, as_tools, parse_arguments, result_text

FINAL_ANSWER = "final_answer"
MAX_RESULT_CHARS = 4000


@dataclass
class ToolCall:
    """One requested call: the tool's name and its arguments as the model wrote them (JSON text)."""

    name: str
    arguments: str = "{}"
    id: str = ""

    def text(self) -> str:
        """`name({"a": 1})`: how the call shows as a node's action."""
        args = self.arguments.strip() or "{}"
        return f"{self.name}({args})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _final_answer_tool() -> Tool:
    return Tool(
        name=FINAL_ANSWER,
        description="Give your final answer to the task and finish. Call it once, when you are done.",
        parameters={
            "type": "object",
            "properties": {"answer": {"type": "string", "description": "the answer to the task"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    )


class ToolEnv:
    """Tools as an environment (see the module docstring)."""

    name = "tools"

    def __init__(
        self,
        tools: Any = (),
        *,
        task: str = "",
        env: Any = None,
        check: Callable[[str], float | bool] | None = None,
        final_answer: bool | None = None,
        instructions: str = "",
        name: str | None = None,
        max_result_chars: int = MAX_RESULT_CHARS,
        owned: Sequence[Any] = (),
    ) -> None:
        listed = as_tools(tools)
        self.inner = env
        if final_answer is None:
            final_answer = env is None
        if final_answer and all(t.name != FINAL_ANSWER for t in listed):
            listed.append(_final_answer_tool())
        if not listed and env is None:
            raise ConfigError("ToolEnv needs at least one tool or an inner env")
        self.tools: dict[str, Tool] = {t.name: t for t in listed}
        self.check = check
        self.task = task or getattr(env, "task", "") or ""
        self.instructions = instructions or getattr(env, "instructions", "") or ""
        self.name = name or (
            f"{getattr(env, 'name', type(env).__name__)}+tools" if env is not None else "tools"
        )
        self.seed = getattr(env, "seed", None) if env is not None else None
        self.max_result_chars = max_result_chars
        self.owned = list(owned)
        self._done = False
        self._last = ""
        if env is None or (
            callable(getattr(env, "snapshot", None)) and callable(getattr(env, "restore", None))
        ):
            self.snapshot = self._snapshot
            self.restore = self._restore

    # --- description ------------------------------------------------------------------------------
    def tool_specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self.tools.values()]

    @property
    def tool_names(self) -> list[str]:
        return list(self.tools)

    @property
    def actions(self) -> list[str] | None:
        """The inner env's valid actions (tool calls are described by their specs, not listed here)."""
        return getattr(self.inner, "actions", None) if self.inner is not None else None

    def add(self, tools: Any) -> None:
        """Add tools (a list, a function or a Tool); names must stay unique."""
        for t in as_tools(tools):
            if t.name in self.tools:
                raise ConfigError(f"a tool named {t.name!r} exists already")
            self.tools[t.name] = t

    # --- protocol ------------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        self._done = False
        if self.inner is not None:
            obs, info = self.inner.reset(seed=seed)
            self._last = obs
            return obs, dict(info)
        listing = ", ".join(t.signature_text() for t in self.tools.values())
        self._last = f"Tools you can call: {listing}"
        return self._last, {}

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Blocking `astep`. A text action for the inner env is stepped directly; tool calls run on
        the workbench's background loop (so never call this with tool calls from that loop)."""
        if self.inner is not None and isinstance(action, str) and not self._text_calls(action):
            obs, reward, terminated, truncated, info = self.inner.step(action)
            self._last = obs
            return obs, reward, terminated, truncated, info
        from ..core.sync import run_sync

        return run_sync(self.astep(action))

    def _text_calls(self, action: str) -> list[ToolCall] | None:
        return calls_from_text(action, None, self.tools)

    async def astep(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Run tool calls (a `ToolCall` or a list of them) or pass a text action to the inner env."""
        calls = _as_calls(action)
        if calls is None and isinstance(action, str):
            calls = self._text_calls(action)
        if calls is None:
            if self.inner is None:
                names = ", ".join(self.tools)
                text = f"Error: {str(action)[:80]!r} is not a tool call. Call one of: {names}"
                return text, 0.0, False, False, {"valid": False}
            step = getattr(self.inner, "astep", None)
            result = await step(action) if callable(step) else self.inner.step(action)
            self._last = result[0]
            return result
        if self._done:
            return "Error: the episode is over; nothing was called.", 0.0, True, False, {"valid": False}
        outcome = {"reward": 0.0, "terminated": False, "truncated": False}
        if any(getattr(self.tools.get(c.name), "env_action", None) for c in calls):
            records = [await self._run(call, i, outcome) for i, call in enumerate(calls)]  # in order
        else:
            records = list(
                await asyncio.gather(*(self._run(call, i, outcome) for i, call in enumerate(calls)))
            )
        info: dict[str, Any] = {"tool_calls": records}
        env_actions = [r["env_action"] for r in records if r.get("env_action")]
        if env_actions:
            info["env_actions"] = env_actions
        final = next((r for r in records if r["name"] == FINAL_ANSWER and r["error"] is None), None)
        if final is not None:
            outcome["terminated"], self._done = True, True
            outcome["reward"], checked = self._score(str(final["args"].get("answer", "")), info)
            info["checked"] = checked
            info["answer"] = final["args"].get("answer", "")
        done = bool(outcome["terminated"] or outcome["truncated"])
        self._done = self._done or done
        return (
            observation_text(records),
            float(outcome["reward"]),
            bool(outcome["terminated"]),
            bool(outcome["truncated"]),
            info,
        )

    async def _run(self, call: ToolCall, index: int, outcome: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": call.id or f"call_{index}",
            "name": call.name,
            "arguments": call.arguments,
            "args": None,
            "result": "",
            "error": None,
            "duration": 0.0,
            "destructive": False,
        }
        started = time.perf_counter()
        t = self.tools.get(call.name)
        try:
            if t is None:
                raise ToolArgumentError(
                    f"unknown tool {call.name!r}; available tools: {', '.join(self.tools)}"
                )
            record["destructive"] = t.destructive
            args = t.check(call.arguments)
            record["args"] = _jsonable(args)
            env_action = getattr(t, "env_action", None)
            if t.name == FINAL_ANSWER:
                value: Any = f"Final answer: {args.get('answer', '')}"
            elif env_action is not None:
                value = self._env_action(record, env_action(args), outcome)
            else:
                value = await t.acall(args)
            record["result"] = self._cut(result_text(value))
        except ToolArgumentError as exc:
            record["error"] = str(exc)
            record["result"] = f"Error: {exc}"
        except Exception as exc:  # the tool's own failure is the agent's observation, not a crash
            record["error"] = f"{type(exc).__name__}: {exc}"
            record["result"] = self._cut(f"Error: {call.name} raised {type(exc).__name__}: {exc}")
        record["duration"] = time.perf_counter() - started
        return record

    def _env_action(self, record: dict[str, Any], text: str, outcome: dict[str, Any]) -> str:
        """Step the inner env with an action tool's text action (see `workbench.tools.actions`)."""
        if outcome["terminated"] or outcome["truncated"]:
            return "Not run: the episode ended with an earlier call of this step."
        obs, reward, terminated, truncated, _ = self.inner.step(text)
        record["env_action"] = text
        outcome["reward"] += float(reward)
        outcome["terminated"] = outcome["terminated"] or bool(terminated)
        outcome["truncated"] = outcome["truncated"] or bool(truncated)
        self._last = obs
        return obs

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_result_chars:
            return text
        cut = len(text) - self.max_result_chars
        return text[: self.max_result_chars] + f"\n[... {cut} more characters not shown]"

    def _score(self, answer: str, info: dict[str, Any]) -> tuple[float, bool]:
        """(reward, checked) of a final answer; a checker that raises scores 0 and says why."""
        if self.check is None:
            return 1.0, False
        try:
            return float(self.check(answer)), True
        except Exception as exc:  # the user's checker failed: keep the answer, record the failure
            info["check_error"] = f"{type(exc).__name__}: {exc}"
            return 0.0, False

    # --- snapshots (bound in __init__ when the inner env has them, or there is none) ----------------
    def _snapshot(self) -> dict[str, Any]:
        inner = self.inner.snapshot() if self.inner is not None else None
        return {"done": self._done, "last": self._last, "inner": inner}

    def _restore(self, state: dict[str, Any]) -> None:
        self._done, self._last = bool(state["done"]), state["last"]
        if self.inner is not None:
            self.inner.restore(state["inner"])

    def close(self) -> None:
        """Close what this env owns (MCP connections); safe to call twice."""
        owned, self.owned = self.owned, []
        for item in owned:
            close = getattr(item, "close", None)
            if callable(close):
                close()
        inner_close = getattr(self.inner, "close", None)
        if callable(inner_close):
            inner_close()

    @classmethod
    def from_mcp(
        cls, command: Sequence[str] | None = None, *, url: str | None = None, **kwargs: Any
    ) -> ToolEnv:
        """A ToolEnv over an MCP server's tools (stdio `command=[...]` or streamable HTTP `url=`).

        See `workbench.tools.mcp.connect` for the connection options (`env=`, `cwd=`, `headers=`,
        `timeout=`); the other keyword arguments go to `ToolEnv`. The server is closed with the env."""
        from .mcp import connect

        conn_keys = ("env", "cwd", "headers", "timeout")
        conn_kwargs = {k: kwargs.pop(k) for k in conn_keys if k in kwargs}
        extra = as_tools(kwargs.pop("tools", ()))
        conn = connect(command=command, url=url, **conn_kwargs)
        try:
            return cls([*extra, *conn.tools], owned=[conn, *kwargs.pop("owned", ())], **kwargs)
        except Exception:
            conn.close()
            raise


# ------------------------------------------------------------------------------------ helpers


def observation_text(records: list[dict[str, Any]]) -> str:
    """The observation of a step's tool calls: one result, or each result under its call."""
    if len(records) == 1:
        return records[0]["result"]
    parts = [f"Result of {r['name']} (call {i}):\n{r['result']}" for i, r in enumerate(records, 1)]
    return "\n\n".join(parts)


def _as_calls(action: Any) -> list[ToolCall] | None:
    if isinstance(action, ToolCall):
        return [action]
    if isinstance(action, (list, tuple)) and action and all(isinstance(a, ToolCall) for a in action):
        return list(action)
    return None


# matched against the stripped action: no `\s*X?\s*$` whose two quantifiers could trade spaces
_INLINE = re.compile(r"([A-Za-z_][\w-]*)\s*(?:\((.*)\)|(\{.*\}))?", re.S)


def calls_from_text(
    action: str, action_input: str | None, tools: dict[str, Tool] | Sequence[str]
) -> list[ToolCall] | None:
    """Tool calls from the text format, or None when `action` does not name a tool.

    Action: get_weather                      Action: get_weather({"city": "Paris"})
    Action Input: {"city": "Paris"}          Action: get_weather {"city": "Paris"}
    """
    match = _INLINE.fullmatch((action or "").strip())
    if not match or match.group(1) not in tools:
        return None
    inline = match.group(2) if match.group(2) is not None else match.group(3)
    arguments = action_input if action_input is not None and inline is None else inline
    return [ToolCall(match.group(1), (arguments or "{}").strip() or "{}", id="call_0")]


def calls_from_native(tool_calls: Sequence[dict[str, Any]]) -> list[ToolCall]:
    """`ToolCall`s from an OpenAI-style `tool_calls` list (as `LLMCall.tool_calls` stores it)."""
    calls = []
    for i, tc in enumerate(tool_calls):
        fn = tc.get("function") or tc
        args = fn.get("arguments")
        if not isinstance(args, str):
            args = json.dumps(args if args is not None else {})
        calls.append(ToolCall(str(fn.get("name") or ""), args, id=str(tc.get("id") or f"call_{i}")))
    return calls


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=repr))


__all__ = ["FINAL_ANSWER", "ToolCall", "ToolEnv", "calls_from_native", "calls_from_text", "parse_arguments"]
