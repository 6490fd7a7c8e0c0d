"""Engine operations for tree search and for a user steering it.

Search strategies grow the tree in two moves: `propose` adds a candidate child whose action is not
executed yet (status `frontier`), and `arealize` executes it later; `replay_tools` re-runs recorded
tool calls on request and flags results that differ. The user steers with `prune`
(never expanded again, nor anything below it), `pin` (expanded next), `set_value` (override a
score), `mark_destructive` (actions matching the pattern are never executed during search) and
`rewind` (continue from any node). Each of these is an event with provenance `user`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from .. import validate
from ..envs.base import can_snapshot
from ..errors import ConfigError
from ..safety.text import valid_obj
from ..strategies.parsing import Parsed
from ..tools.base import result_text
from . import events as ev
from .limits import clip_node
from .state import SessionState
from .tree import LLMCall, Node

DESTRUCTIVE_NOTE = "(not executed: the action matches a destructive pattern)"
PROMOTED_INFO = ("tool_calls", "env_actions", "answer", "checked", "code")  # env info kept on the node


class SteeringMixin(SessionState):
    """Mixed into `Session`; uses its tree, env, events and model."""

    destructive: list[re.Pattern[str]]
    concurrency: int

    # --- growing ------------------------------------------------------------------------------------
    def update_node(self, node: Node, provenance: str = "agent", **fields: Any) -> Node:
        for name, value in fields.items():
            setattr(node, name, valid_obj(value))
        self.events.publish(
            ev.NodeUpdated(self.run_id, node=node, fields=tuple(fields), provenance=provenance)
        )
        return node

    def propose(
        self,
        parent: Node,
        parsed: Parsed,
        calls: list[LLMCall],
        *,
        prior: float | None = None,
        **info: Any,
    ) -> Node:
        """Add a candidate child of `parent` whose action is not executed yet (status frontier)."""
        fields: dict[str, Any] = {
            "raw": calls[-1].response if calls else "",
            "thought": parsed.thought,
            "info": {k: v for k, v in info.items() if v is not None},
        }
        if prior is not None:
            fields["info"]["prior"] = prior
        if parsed.subgoal:
            fields["info"]["subgoal"] = parsed.subgoal
        if parsed.error:
            fields.update(observation=parsed.error, status="error", error=parsed.error)
            fields["info"]["kind"] = "malformed"
        else:
            fields.update(action=parsed.action, tool=parsed.tool, status="frontier")
        node = self.tree.new_node(parent.id, plan=self.plan.to_list(), memory=self.memory.state(), **fields)
        for call in calls:
            self.tree.record_call(node, call)
        full = clip_node(node, self.limits)
        self.events.publish(ev.NodeAdded(self.run_id, node=node))
        self.keep_full_text(node, full)
        return node

    def is_destructive(self, action: str | None) -> bool:
        return bool(action) and any(p.search(action) for p in self.destructive)

    async def arealize(self, node: Node) -> Node:
        """Execute a frontier node's action from its parent's state and record what happened."""
        if node.executed or node.status != "frontier":
            return node
        if self.is_destructive(node.action):
            node.info["pruned_by"] = "destructive"
            return self.update_node(node, status="pruned", observation=DESTRUCTIVE_NOTE)
        gated = await self.asearch_gate(node)
        if gated is not None:  # a search never asks a person mid-expansion: the action is not run
            return self.update_node(
                node, status="pruned", observation=f"(not executed: approval gate {gated})"
            )
        parent = self.tree.nodes[node.parent_id]
        memory_obs = self.memory.handle_action(node.action or "", self.tree, self.tree.path(parent.id))
        if memory_obs is not None:
            return self.update_node(node, observation=memory_obs, status="expanded")
        self._sync_env(parent.id)
        self._env_node = None
        obs, reward, terminated, truncated, env_info = self.inbound_result(await self._env_step(node.action))
        node.observation = obs
        full = clip_node(node, self.limits)
        obs = node.observation
        done = bool(terminated or truncated)
        self._env_node = node.id
        if can_snapshot(self.env):
            self._snapshots[node.id] = self.env.snapshot()
        extra = {k: env_info[k] for k in PROMOTED_INFO if k in (env_info or {})}
        if extra:
            node.info.update(
                extra, **({"kind": "tool", "tool_format": "text"} if "tool_calls" in extra else {})
            )
        updated = self.update_node(
            node,
            observation=obs,
            reward=float(reward),
            terminal=done,
            executed=True,
            status="terminal" if done else "expanded",
        )
        self.keep_full_text(node, full)
        return updated

    async def areplay_tools(self, node_id: int | None = None) -> list[dict[str, Any]]:
        """Re-execute the recorded tool calls on the path to `node_id` (default: the cursor) and
        compare each result with the recorded one; a difference marks the node `diverged`.

        Rewinding never does this by itself (the recorded results are shown again). Destructive tools
        and action tools (which step the env) are never re-executed here: they are reported as skipped."""
        tools = getattr(self.env, "tools", None) or {}
        report: list[dict[str, Any]] = []
        for node in self.tree.path(node_id)[1:]:
            for record in node.info.get("tool_calls") or ():
                t = tools.get(record["name"])
                entry = {"node": node.id, "name": record["name"], "recorded": record["result"]}
                if t is None or record.get("env_action") or record.get("error") is not None:
                    entry["skipped"] = "not a re-runnable call (unknown tool, env action or failed call)"
                elif t.destructive or record.get("destructive"):
                    entry["skipped"] = "destructive: never re-executed"
                else:
                    try:
                        entry["result"] = result_text(await t.acall(record["arguments"]))
                    except Exception as exc:  # a tool that fails now is a divergence, not a crash
                        entry["result"] = f"Error: {type(exc).__name__}: {exc}"
                    entry["same"] = entry["result"] == record["result"]
                    if not entry["same"]:
                        diverged = {**(node.info.get("diverged") or {}), record["id"]: entry["result"][:2000]}
                        self.update_node(node, provenance="user", info={**node.info, "diverged": diverged})
                report.append(entry)
        return report

    def replay_tools(self, node_id: int | None = None) -> list[dict[str, Any]]:
        """Blocking form of `areplay_tools`."""
        from .sync import run_sync

        return run_sync(self.areplay_tools(node_id))

    def call_limit(self) -> asyncio.Semaphore:
        """The session's cap on concurrent model calls, one semaphore per event loop."""
        loop = asyncio.get_running_loop()
        limits = self.__dict__.setdefault("_call_limits", {})
        if id(loop) not in limits or limits[id(loop)][0] is not loop:
            limits[id(loop)] = (loop, asyncio.Semaphore(max(1, self.concurrency)))
        return limits[id(loop)][1]

    async def sample(
        self,
        messages: list[dict[str, str]],
        n: int,
        parent: Node,
        *,
        purpose: str = "act",
        **kwargs: Any,
    ) -> list[LLMCall]:
        """`n` model calls for the same prompt, concurrently under `self.concurrency` calls at once.

        Failed calls are dropped (the first failure is re-raised when every call failed)."""
        limit = self.call_limit()

        async def one(i: int) -> LLMCall:
            async with limit:
                return await self.call_model(messages, parent, purpose=purpose, sample=i, **kwargs)

        results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
        calls = [r for r in results if isinstance(r, LLMCall)]
        if not calls:
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
        return calls

    # --- steering -----------------------------------------------------------------------------------
    def _node(self, node_id: int) -> Node:
        if node_id not in self.tree.nodes:
            raise ConfigError(
                f"no node {node_id} in run {self.run_id}; valid ids: 0..{len(self.tree.nodes) - 1}"
            )
        return self.tree.nodes[node_id]

    def prune(self, node_id: int) -> list[int]:
        """Never expand `node_id` or anything below it again. Returns the pruned ids."""
        node = self._node(node_id)
        if node_id == 0:
            raise ConfigError("the root cannot be pruned; rewind or start a new session instead")
        pruned = []
        for n in [node, *self.descendants(node_id)]:
            if n.status in ("frontier", "expanded"):
                self.update_node(n, provenance="user", status="pruned")
                pruned.append(n.id)
        return pruned

    def unprune(self, node_id: int) -> list[int]:
        """Undo `prune`: `node_id` and the pruned nodes below it may be expanded again (executed
        nodes become `expanded`, the others `frontier`). Nodes pruned because their action matched a
        destructive pattern stay pruned. Returns the ids made live again."""
        node = self._node(node_id)
        if node.status != "pruned":
            raise ConfigError(
                f"node {node_id} is {node.status}, not pruned; only a pruned node can be unpruned"
            )
        if node.info.get("pruned_by") == "destructive":
            raise ConfigError(f"node {node_id} stays pruned: its action matches a destructive pattern")
        back = []
        for n in [node, *self.descendants(node_id)]:
            if n.status == "pruned" and n.info.get("pruned_by") != "destructive":
                self.update_node(n, provenance="user", status="expanded" if n.executed else "frontier")
                back.append(n.id)
        return back

    def pin(self, node_id: int) -> Node:
        """Expand `node_id` next (search strategies select pinned nodes first)."""
        node = self._node(node_id)
        if node.status in ("pruned", "terminal", "error"):
            raise ConfigError(
                f"node {node_id} is {node.status} and cannot be expanded; pin a frontier or expanded node"
            )
        return self.update_node(node, provenance="user", info={**node.info, "pinned": True})

    def set_value(self, node_id: int, value: float) -> Node:
        """Override a node's value estimate (recorded with provenance user)."""
        node = self._node(node_id)
        if isinstance(value, str):  # a widget's text field sends "0.875"
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"value must be a number, not {value!r}") from None
        value = float(validate.number("value", value))
        return self.update_node(node, provenance="user", value=value, info={**node.info, "value_by": "user"})

    def mark_destructive(self, pattern: str) -> None:
        """Actions matching `pattern` (a regex) are never executed during search."""
        try:
            self.destructive.append(re.compile(pattern, re.I))
        except re.error as exc:
            raise ConfigError(f"invalid regex {pattern!r}: {exc}") from None

    def descendants(self, node_id: int) -> Iterable[Node]:
        stack = list(self.tree.children(node_id))
        while stack:
            n = stack.pop()
            yield n
            stack.extend(self.tree.children(n.id))

    def best_node(self) -> Node:
        """The best state so far outside pruned subtrees (`Run.best_node`)."""
        return self.tree.best_node()

    def best_path(self) -> list[Node]:
        """Root to the best node (see `best_node`)."""
        return self.tree.path(self.best_node().id)
