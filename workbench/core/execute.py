"""How a step's answer becomes a node: the model call, the action run in the env, the node settled.

`ExecuteMixin` is mixed into `Session`. `aexecute` turns a parsed answer into a child node (a memory
action, a gated proposal, or an action stepped in the env or by a `step=` executor such as CodeAct's
kernel); `_settle_node` records it (env snapshot, memory, events, cursor, outcome).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ..envs.base import can_snapshot
from ..errors import ConfigError, ModelError
from ..safety.text import valid_obj, valid_text
from ..strategies.parsing import Parsed
from . import events as ev
from .limits import check_prompt, clip_node
from .state import SessionState
from .steering import PROMOTED_INFO
from .tree import LLMCall, Node

StepResult = tuple[str, float, bool, bool, dict[str, Any]]


class ExecuteMixin(SessionState):
    """Mixed into `Session`; uses its model, tree, memory, plan, env, limits and events."""

    async def call_model(
        self,
        messages: list[dict[str, str]],
        parent: Node,
        *,
        purpose: str = "act",
        model: Any = None,
        role: str = "",
        **kwargs: Any,
    ) -> LLMCall:
        """One model call for a step from `parent`; a failure raises `ModelError` (recorded by `astep`).

        `model` (a model string, a stored `Model.config()` dict or a model object; None: the session's)
        answers this call instead of the session's model; `role` names the agent role on the call."""
        check_prompt(messages, self.limits)
        use = self.model_for(model)
        if self.scheduler is None:
            call = await use.acomplete(messages, purpose=purpose, **kwargs)
        else:  # a kernel-wide budget shared fairly with other agents (workbench.oversight.scheduler)
            async with self.scheduler.slot(self.scheduler_name or self.run_id):
                call = await use.acomplete(messages, purpose=purpose, **kwargs)
        if role:
            call.role = role
        call.response = valid_text(call.response if isinstance(call.response, str) else str(call.response))
        if call.tool_calls:
            call.tool_calls = valid_obj(call.tool_calls)
        if self._step_calls is not None:
            self._step_calls.append(call)
        self.events.publish(ev.LLMCallFinished(self.run_id, node_id=parent.id, call=call))
        return call

    def model_for(self, spec: Any = None) -> Any:
        """The model that answers a call: the session's (None), a model object as it is, or one built
        once per session from a model string or a stored `Model.config()` dict (a strategy's roles)."""
        if spec is None:
            return self.model
        if callable(getattr(spec, "acomplete", None)):
            return spec
        if not isinstance(spec, (str, dict)):
            raise ConfigError(f"a model is a litellm model string, a Model or its config dict, not {spec!r}")
        cache: dict[str, Any] = self.__dict__.setdefault("_models_by_spec", {})
        key = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True, default=str)
        if key not in cache:
            from ..llm.model import Model

            if isinstance(spec, dict):
                cache[key] = Model.from_config(spec)
            else:
                cache[key] = Model(spec, **({"seed": self.seed} if spec == "workbench/demo" else {}))
        return cache[key]

    async def aexecute(
        self,
        parent: Node,
        parsed: Parsed,
        calls: list[LLMCall],
        *,
        used_edits: list[str] | None = None,
        move_cursor: bool = True,
        step: Callable[[Any], Awaitable[StepResult]] | None = None,
        info: dict[str, Any] | None = None,
    ) -> Node:
        """Turn a parsed answer into a child of `parent`: run its action and record the node.

        `step` replaces the env step for this action (CodeAct runs code with it): it is awaited with
        the action after the env was brought to `parent`'s state, and returns what `env.step` would;
        `info["env_actions"]` in its result lists the text actions it took in the env (for replay), and
        `info["node_kind"]` names the node's kind (e.g. "code"). `info` (the argument) goes into the
        node's info as it is made (a strategy's role, plan item or attempt)."""
        raw = calls[-1].response if calls else ""
        info = dict(info or {})
        if used_edits:
            info["used_user_edits"] = used_edits
        if parsed.subgoal:
            info["subgoal"] = parsed.subgoal
        fields: dict[str, Any] = {"raw": raw, "thought": parsed.thought, "info": info}
        if parsed.error:
            fields.update(observation=parsed.error, status="error", error=parsed.error)
            info["kind"] = "malformed"
        else:
            if parsed.plan is not None:
                self.plan.replace(parsed.plan, provenance="agent")
            fields.update(action=parsed.action, tool=parsed.tool)
            path = self.tree.path(parent.id, copy=False)
            memory_obs = None
            if not parsed.tool_calls:
                memory_obs = self.memory.handle_action(parsed.action or "", self.tree, path)
            if memory_obs is not None:
                fields.update(observation=memory_obs)
                info["kind"] = "memory"
            else:
                proposed = await self.aintercept(parent, parsed, calls, fields, step, move_cursor)
                if proposed is not None:  # a gate holds the action for a person (or rejected it)
                    return proposed
                native = any(c.tool_calls for c in calls)
                fields.update(await self._execute_action(parent, parsed, step, info, native))
        node = self.tree.new_node(parent.id, plan=self.plan.to_list(), **fields)
        for call in calls:
            self.tree.record_call(node, call)
        return self._settle_node(node, parent, parsed, move_cursor)

    async def _execute_action(
        self,
        parent: Node,
        parsed: Parsed,
        step: Callable[[Any], Awaitable[StepResult]] | None,
        info: dict[str, Any],
        native: bool = False,
    ) -> dict[str, Any]:
        """Run `parsed`'s action from `parent`'s state; the node fields it gives (`info` is filled in).

        `native`: the model asked for the tools by native function calling (else in the text format)."""
        self._sync_env(parent.id)
        self._env_node = None  # the env is about to hold the new node's state; set by _settle_node
        obs, reward, terminated, truncated, env_info = self.inbound_result(
            await (step or self._env_step)(parsed.tool_calls or parsed.action)
        )
        env_info = dict(env_info or {})
        for key in PROMOTED_INFO:
            if key in env_info:
                info[key] = env_info.pop(key)
        if "node_kind" in env_info:  # a `step=` executor names its node's kind ("code")
            info["kind"] = env_info.pop("node_kind")
        elif "tool_calls" in info:
            info["kind"] = "tool"
            info["tool_format"] = "native" if native else "text"
        if truncated and not terminated:
            info["truncated"] = True
        if env_info:
            info["env_info"] = plain(env_info)
        return {
            "observation": obs,
            "reward": float(reward),
            "terminal": bool(terminated or truncated),
            "executed": True,
            "status": "terminal" if terminated or truncated else "expanded",
        }

    def _settle_node(
        self,
        node: Node,
        parent: Node,
        parsed: Parsed | None,
        move_cursor: bool,
        *,
        added: bool = True,
    ) -> Node:
        """Record a node that was just made (`added`) or decided: env state, memory, events, cursor."""
        full = clip_node(node, self.limits)
        if node.executed:
            self._env_node = node.id
            if can_snapshot(self.env):
                self._snapshots[node.id] = self.env.snapshot()
        elif self._env_node is None:
            self._env_node = parent.id
        if parsed is not None:
            self.memory.on_step(node, parsed, self.tree)
        node.memory = self.memory.state()
        if added:
            self.events.publish(ev.NodeAdded(self.run_id, node=node))
        else:
            fields = ("action", "observation", "reward", "terminal", "executed", "status", "info", "memory")
            self.events.publish(ev.NodeUpdated(self.run_id, node=node, fields=fields, provenance="user"))
        self.keep_full_text(node, full)
        if move_cursor:
            self.tree.cursor = node.id
            self.events.publish(ev.CursorMoved(self.run_id, node_id=node.id, provenance="agent"))
        if node.terminal:
            self.tree.outcome = "success" if node.reward > 0 else "failure"
            self.events.publish(ev.RunFinished(self.run_id, outcome=self.tree.outcome, node_id=node.id))
        return node

    def _error_node(
        self, parent: Node, observation: str, error: str, info: dict[str, Any], calls: list[LLMCall]
    ) -> Node:
        """A child of `parent` for a step that failed before its action ran (status error, provenance
        env), holding the model calls it made so the record and the totals count them."""
        node = self.tree.new_node(
            parent.id,
            observation=observation,
            status="error",
            error=error,
            provenance="env",
            info=info,
            plan=self.plan.to_list(),
            memory=self.memory.state(),
        )
        for call in calls:
            self.tree.record_call(node, call)
        self.events.publish(ev.NodeAdded(self.run_id, node=node))
        return node

    def _record_model_error(self, parent: Node, exc: ModelError) -> Node:
        call = getattr(exc, "call", None)
        info = {"kind": "provider", "error_type": type(exc).__name__}
        node = self._error_node(parent, str(exc), str(exc), info, [] if call is None else [call])
        self.events.publish(
            ev.Error(self.run_id, message=str(exc), node_id=node.id, error_type=type(exc).__name__)
        )
        return node


def plain(obj: Any) -> Any:
    """A JSON-safe copy of an env's info dict (unknown objects become their repr)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool, type(None))):
        return obj
    return repr(obj)
