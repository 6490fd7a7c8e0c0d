"""The session's environment: where it stands, how it gets back to a node, how an action is stepped.

`EnvMixin` is mixed into `Session`. The env is brought to a node's state by restoring a snapshot
(envs with `snapshot()`/`restore()`) or by replaying the path's text actions from `reset()`; on a
replay each observation is compared with the recorded one and a difference marks the node
`diverged`. Tool calls are not replayed (their recorded results are shown again); action tools and
code that stepped the env record `info["env_actions"]`, which are.
"""

from __future__ import annotations

from typing import Any

from ..envs.base import can_snapshot
from ..safety.redact import redact
from ..safety.text import valid_obj, valid_text
from . import events as ev
from .state import SessionState
from .tree import Node

TOOL_CALLING = ("auto", "native", "text")


class EnvMixin(SessionState):
    """Mixed into `Session`; uses its env, tree, snapshots and events."""

    @property
    def env_seed(self) -> int | None:
        """The seed for `env.reset`: an env object's own `seed` wins; else the session's."""
        own = getattr(self.env, "seed", None)
        if self.config.get("env_object") and own is not None:
            return None
        return self.seed

    def env_state_of(self, node_id: int) -> int:
        """The node whose env state `node_id` has: itself if its action was executed (or it is the
        root), else its nearest such ancestor (a malformed answer, a memory action, a provider error
        leaves the env as its parent had it; a frontier candidate has no state yet and is its own)."""
        node = self.tree.nodes[node_id]
        while not node.executed and node.status != "frontier" and node.parent_id is not None:
            node = self.tree.nodes[node.parent_id]
        return node.id

    def _sync_env(self, node_id: int) -> None:
        """Bring the env to the state of `node_id`: restore a snapshot or replay from reset."""
        if self._env_node == node_id:
            return
        node_id = self.env_state_of(node_id)
        if self._env_node == node_id:
            return
        snapshot = self._snapshots.get(node_id)
        if snapshot is not None:
            self.env.restore(snapshot)
        else:
            path = self.tree.path(node_id)
            replayed = [n for n in path[1:] if n.executed and replay_actions(n)]
            self.approved_for_replay(replayed, node_id, consume=True)  # approved gated actions: with consent
            self.env.reset(seed=self.env_seed)
            for node in path[1:]:
                if not node.executed:
                    continue
                actions = replay_actions(node)
                obs = None
                for action in actions:
                    obs = self.env.step(action)[0]
                if obs is not None and "env_actions" not in node.info and not node.info.get("tool_calls"):
                    self._check_replay(node, obs)  # the node's observation is that one env step's
            if can_snapshot(self.env):
                self._snapshots[node_id] = self.env.snapshot()
        self._env_node = node_id

    def inbound(self, observation: Any) -> Any:
        """An env's text as the tree keeps it (and prompts show it): valid UTF-8, and unless the session
        was made with `redact_prompts=False`, every known secret value redacted."""
        if not isinstance(observation, str):
            return observation
        observation = valid_text(observation)
        return redact(observation) if self.redact_prompts else observation

    def inbound_result(self, result: tuple[Any, ...]) -> tuple[Any, ...]:
        """An env step's (observation, reward, terminated, truncated, info) with its text made inbound."""
        obs, reward, terminated, truncated, info = result
        return self.inbound(obs), reward, terminated, truncated, valid_obj(info)

    def _check_replay(self, node: Node, observation: str) -> None:
        """Flag a node whose observation differs when its action is replayed from `reset()`."""
        if self.inbound(observation) != node.observation:
            self.mark_diverged(node, observation, "the env answered differently than recorded")

    def mark_diverged(self, node: Node, replayed: str, why: str) -> None:
        """Record on `node` that replaying it gave `replayed` instead of what was recorded (once)."""
        if node.info.get("diverged"):
            return
        self.update_node(node, info={**node.info, "diverged": {"replayed": replayed[:2000]}})
        self.events.publish(
            ev.Error(
                self.run_id,
                message=f"node {node.id} diverged on replay: {why}",
                node_id=node.id,
                error_type="ReplayDiverged",
            )
        )

    def tool_mode(self) -> str | None:
        """How this step offers tools: "native" (function calling), "text" (Action Input), or None."""
        if not callable(getattr(self.env, "tool_specs", None)):
            return None
        if self.tool_calling != "auto":
            return self.tool_calling
        cached = self.__dict__.get("_native_tools")
        if cached is None:
            cached = self.__dict__["_native_tools"] = bool(getattr(self.model, "supports_tools", False))
        return "native" if cached else "text"

    def valid_actions(self, node: Node) -> list[str] | None:
        """The env's valid actions in `node`'s state, when the env lists them (and is, or can cheaply be
        brought, in that state: snapshots; never a replay just to list actions)."""
        if node.terminal:
            return None
        state = self.env_state_of(node.id)
        if self._env_node != state:
            if state not in self._snapshots:
                return None
            self._sync_env(state)
        try:
            actions = getattr(self.env, "actions", None)
        except Exception:  # an env property that fails is no reason to lose the step
            return None
        return [str(a) for a in actions] if actions else None

    async def _env_step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        astep = getattr(self.env, "astep", None)
        if callable(astep):
            return await astep(action)
        return self.env.step(action)


def with_tools(env: Any, tools: Any, task: str | None) -> Any:
    """`env` with `tools` added: a ToolEnv gets them, a text env is wrapped, no env is tools alone."""
    from ..tools.env import ToolEnv

    if isinstance(env, ToolEnv):
        env.add(tools)
        return env
    return ToolEnv(tools, env=env, task=task or "")


def label_of(env: Any) -> str:
    """The name an env object is stored under in the run config."""
    return str(getattr(env, "name", None) or type(env).__name__)


def replay_actions(node: Node) -> list[str]:
    """The text actions that brought the env from the parent's state to `node`'s, for a replay.

    Tool calls do not change the env (their recorded results are shown again, not re-run), except
    action tools and code that stepped the env: those record `info["env_actions"]`."""
    if "env_actions" in node.info:
        return list(node.info["env_actions"])
    if node.info.get("tool_calls") or node.action is None:
        return []
    return [node.action]
