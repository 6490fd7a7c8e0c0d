"""The stepping engine: a `Session` owns a run tree, a model, a strategy, a memory and an env.

    s = Session(task="reach the goal", env="gridworld", memory="diff")
    s.step()                 # one think-act-observe step; returns the new node
    s.run(max_steps=20)      # until done, paused, a breakpoint, a budget or max_steps
    s.rewind(3); s.step()    # the next step grows a sibling branch; the old one stays

Every change is published as an event (see `events.py`); the store, the CLI and the widgets only
subscribe. In a notebook use the async forms (`await s.astep()`, `await s.arun()`); the blocking
forms run on a background loop (see `sync.py`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import validate
from ..envs.base import can_snapshot, make_env
from ..errors import BudgetExhausted, ConfigError, ModelError, StepInProgress
from ..memory.base import Memory, make_memory
from ..safety.text import valid_obj
from ..strategies.base import Strategy, make_strategy
from . import events as ev
from .approval import ApprovalMixin, ReplayNeedsApproval
from .breakpoints import Breakpoint
from .envstate import TOOL_CALLING, EnvMixin, label_of, with_tools
from .execute import ExecuteMixin, plain
from .limits import Limits, make_limits
from .persist import PersistMixin
from .plan import Plan
from .resume import resume_arguments
from .steering import SteeringMixin
from .store_choice import NOTEBOOK_DEFAULT, make_store
from .sync import run_sync
from .tree import Node, Run

Until = Callable[[Node], bool] | str | None


def _make_model(model: Any, seed: int, record: str | Path | None) -> Any:
    if model is None or isinstance(model, str):
        from ..llm.model import Model, default_model_name

        model = model or default_model_name()
        kwargs: dict[str, Any] = {"seed": seed} if model == "workbench/demo" else {}
        return Model(model, record=record, **kwargs)
    if not callable(getattr(model, "acomplete", None)):
        raise ConfigError("model must be a litellm model string or a workbench.Model")
    return model


class Session(ExecuteMixin, EnvMixin, SteeringMixin, ApprovalMixin, PersistMixin):
    """One agent run you can step, run, pause, rewind, edit and steer."""

    scheduler: Any = None  # a FairScheduler shared with other agents (`share`), or None
    scheduler_name = ""

    def share(self, scheduler: Any, name: str = "") -> None:
        """Take model-call slots from `scheduler` (a `FairScheduler`), as agent `name`; None stops."""
        self.scheduler, self.scheduler_name = scheduler, name or self.run_id

    def __init__(
        self,
        task: str | None = None,
        env: Any = None,
        model: Any = None,
        strategy: str | Strategy = "react",
        memory: str | Memory = "full",
        store: Any = NOTEBOOK_DEFAULT,
        *,
        seed: int = 0,
        max_steps: int | None = None,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        max_calls: int | None = None,
        env_options: dict[str, Any] | None = None,
        memory_options: dict[str, Any] | None = None,
        record: str | Path | None = None,
        concurrency: int = 4,
        tools: Any = None,
        tool_calling: str = "auto",
        gates: Any = "default",
        redact_prompts: bool = True,
        specs: Any = None,
        recall: Any = None,
        limits: dict[str, Any] | Limits | None = None,
        tags: dict[str, Any] | None = None,
        _run: Run | None = None,
        **strategy_options: Any,
    ) -> None:
        max_steps = validate.number("max_steps", max_steps, minimum=0, integer=True, optional=True)
        max_tokens = validate.number("max_tokens", max_tokens, minimum=0, integer=True, optional=True)
        max_cost = validate.number("max_cost", max_cost, minimum=0, optional=True)
        max_calls = validate.number("max_calls", max_calls, minimum=0, integer=True, optional=True)
        seed = validate.number("seed", seed, integer=True)
        concurrency = validate.number("concurrency", concurrency, minimum=1, integer=True)
        for name, given in (("env_options", env_options), ("memory_options", memory_options), ("tags", tags)):
            if given is not None and not isinstance(given, dict):
                raise ConfigError(f"{name} must be a dict of options (or None), not {given!r}")
        if tool_calling not in TOOL_CALLING:
            raise ConfigError(f"tool_calling must be one of {', '.join(TOOL_CALLING)}, not {tool_calling!r}")
        self.seed = seed
        self.tool_calling = tool_calling
        self.redact_prompts = validate.flag("redact_prompts", redact_prompts)
        self.limits = make_limits(limits)
        self.env_options = dict(env_options or {})
        if env is None and tools is None:
            env = "gridworld"
        if isinstance(env, str) and "seed" not in self.env_options:
            self.env_options["seed"] = seed
        if env is None:
            self.env = None
        else:
            self.env = make_env(env, **self.env_options) if isinstance(env, str) else make_env(env)
        if tools is not None:
            self.env = with_tools(self.env, tools, task)
        self.strategy = make_strategy(strategy, **strategy_options)
        self.memory = make_memory(memory, **(memory_options or {}))
        self.memory_options = dict(memory_options or {})
        self.recall = _make_recall(recall)
        self.model = _make_model(model, seed, record)
        warm_up = getattr(self.model, "warm_up", None)
        if callable(warm_up):
            warm_up()  # a real model's client library imports while the rest is set up
        self.budgets = {"max_steps": max_steps, "max_tokens": max_tokens, "max_cost": max_cost}
        if max_calls is not None:  # model calls: what sweeps compare strategies at (a search step makes many)
            self.budgets["max_calls"] = max_calls
        self.events = ev.EventBus()
        self.breakpoints: list[Breakpoint] = []
        self.destructive = []
        self._init_approvals(gates, specs)  # approval gates and behaviour specs: workbench.oversight
        self.concurrency = concurrency
        self.status = "idle"
        # a store opened here (from a path, or the notebook default) is closed by close()
        self._own_store = isinstance(store, (str, Path)) or store is NOTEBOOK_DEFAULT
        store = make_store(store)

        self._pause = threading.Event()
        self._stepping = False
        self._step_calls: list[Any] | None = None  # the model calls of the step in flight
        self._env_node: int | None = None
        self._snapshots: dict[int, Any] = {}
        self._plan_edits: list[str] = []

        self.plan = Plan(on_change=self._plan_changed)
        self.memory.on_change = self._memory_changed
        self.memory.use_model(self.model)
        resumed = _run is not None
        if _run is None:
            env_name = env if isinstance(env, str) and tools is None else label_of(self.env)
            task = validate.text("task", task or getattr(self.env, "task", "") or "solve the environment")
            self.tree = Run(task=task, config=self._config(env_name))
            if tags:  # e.g. {"sweep": id, "cell": key}: stored with the run, findable (list_runs(sweep=))
                self.tree.config["tags"] = {str(k): v for k, v in tags.items() if _jsonable(v)}
            self.tree.config["env_object"] = not isinstance(env, str) or tools is not None
            if isinstance(env, str) and tools is not None:
                self.tree.config["env_spec"] = env  # the text env under the tools, rebuilt on resume
        else:
            self.tree = _run
        self._attach_store(store)  # takes the run's lease: a second writer fails here
        self.events.publish(
            ev.RunStarted(self.tree.id, task=self.tree.task, config=self.tree.config, resumed=resumed)
        )
        if not resumed:
            self._reset_root()

    # --- construction helpers ---------------------------------------------------------------------
    def _config(self, env_name: str) -> dict[str, Any]:
        model_config = self.model.config() if hasattr(self.model, "config") else {"name": str(self.model)}
        return {
            "env": env_name,
            "env_options": self.env_options,
            "model": model_config,
            "model_label": getattr(self.model, "label", str(model_config.get("name"))),
            "simulated": bool(getattr(self.model, "simulated", False)),
            "strategy": self.strategy.name,
            "strategy_options": {k: v for k, v in self.strategy.config.items() if _jsonable(v)},
            "memory": self.memory.name,
            "memory_options": {k: v for k, v in self.memory_options.items() if _jsonable(v)},
            "budgets": self.budgets,
            "seed": self.seed,
            **({"tool_calling": self.tool_calling} if self.tool_calling != "auto" else {}),
            **({"redact_prompts": False} if not self.redact_prompts else {}),
            **({"limits": self.limits.to_dict()} if self.limits != Limits() else {}),
            **({"recall": self.recall.summary()} if callable(getattr(self.recall, "summary", None)) else {}),
        }

    def _reset_root(self) -> None:
        obs, info = self.env.reset(seed=self.env_seed)
        root = self.tree.new_node(
            None,
            observation=self.inbound(obs),
            provenance="env",
            info={"env_info": plain(valid_obj(info))},
            plan=self.plan.to_list(),
            memory=self.memory.state(),
        )
        self._env_node = root.id
        if can_snapshot(self.env):
            self._snapshots[root.id] = self.env.snapshot()
        self.events.publish(ev.NodeAdded(self.tree.id, node=root))

    @classmethod
    def resume(cls, run_id: str, store: Any, *, read_only: bool = False, **overrides: Any) -> Session:
        """A session that continues the stored run `run_id` from its last completed node.

        `overrides` replace stored settings (e.g. `env=` for a custom env object, `model=`).
        `read_only=True` gives a view that writes nothing and cannot step (a run another process
        is writing can still be looked at)."""
        validate.text("run_id", run_id, empty=False)
        if store is None:
            raise ConfigError("store must be a RunStore or the path of its SQLite file, not None")
        opened = isinstance(store, (str, Path))
        if read_only and opened:
            from ..store.sqlite import RunStore

            store = RunStore(store, create=False, read_only=True)
        store = make_store(store)
        try:
            return cls._resume(run_id, store, opened, read_only, overrides)
        except BaseException:
            if opened:
                store.close(quiet=True)
            raise

    @classmethod
    def _resume(
        cls, run_id: str, store: Any, opened: bool, read_only: bool, overrides: dict[str, Any]
    ) -> Session:
        run = store.load_run(run_id)
        state = store.load_state(run.id)
        kwargs = resume_arguments(run, overrides)
        session = cls(store=None if read_only else store, _run=run, **kwargs)
        if read_only:
            session.store, session.read_only = store, True
        else:
            session.drop_stale_proposals()  # a proposal left waiting when the last process ended
        session._own_store = opened
        session.plan.load(state.get("plan") or run.current.plan)
        session.memory.load_state(state.get("memory") or run.current.memory)
        return session

    # --- properties -------------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.tree.id

    @property
    def config(self) -> dict[str, Any]:
        return self.tree.config

    @property
    def cursor(self) -> Node:
        return self.tree.current

    @property
    def done(self) -> bool:
        """Whether the strategy has finished (ReAct: the cursor is terminal; search: it committed)."""
        return self.strategy.finished(self)

    def path(self) -> list[Node]:
        return self.tree.path()

    def subscribe(self, fn: Callable[[ev.Event], None]) -> Callable[[], None]:
        return self.events.subscribe(fn)

    def __repr__(self) -> str:
        return (
            f"<Session {self.run_id} {self.config.get('env')} · {self.config.get('model_label')} · "
            f"{self.strategy.name} · {self.memory.name} · {self.status} · step {self.tree.current.depth}>"
        )

    # --- edits --------------------------------------------------------------------------------------
    def _plan_changed(self, items: list[dict[str, Any]], provenance: str, change: str) -> None:
        if provenance == "user":
            self._plan_edits.append(f"plan: {change}")
        self.events.publish(ev.PlanEdited(self.run_id, items=items, provenance=provenance, change=change))

    def _memory_changed(self, entry_id: str, change: str, provenance: str, text: str | None) -> None:
        self.events.publish(
            ev.MemoryEdited(
                self.run_id,
                entry_id=entry_id,
                change=change,
                provenance=provenance,
                text=text,
                state=self.memory.state(),
            )
        )

    def set_memory(self, policy: str | Memory, **options: Any) -> Memory:
        """Use another memory policy from the next step on; the user's edits, pins and notes carry over."""
        if self._stepping:
            raise StepInProgress("cannot switch memory while a step is running; pause() first")
        new = make_memory(policy, **options)
        new.load_state(self.memory.shared_state())
        new.on_change = self._memory_changed
        new.use_model(self.model)
        self.memory, self.memory_options = new, dict(options)
        self.tree.config["memory"] = new.name
        self.tree.config["memory_options"] = {k: v for k, v in options.items() if _jsonable(v)}
        self.events.publish(
            ev.ConfigChanged(self.run_id, config=self.tree.config, change=f"memory {new.name}")
        )
        self._memory_changed("*", "state", "user", None)
        return new

    def recall_note(self, node: Node) -> str:
        """What the session's recall (`Session(recall=...)`) adds to the prompt of a step from
        `node`: the trusted items most like the task and `node`'s observation ("" without one)."""
        if self.recall is None:
            return ""
        return str(self.recall.note(f"{self.tree.task}\n{node.observation}") or "")

    def take_used_edits(self) -> list[str]:
        """The user edits the prompt just rendered uses (plan edits since the last step, memory edits)."""
        used = self._plan_edits + list(getattr(self.memory, "last_used_edits", []) or [])
        self._plan_edits = []
        return used

    # --- breakpoints ------------------------------------------------------------------------------
    def break_on(
        self,
        action: str | None = None,
        *,
        tool: str | None = None,
        cost: float | None = None,
        tokens: int | None = None,
        predicate: Callable[[Node, Run], bool] | None = None,
    ) -> Breakpoint:
        """Add a breakpoint (exactly one condition); `run` pauses after a step that hits it."""
        given = {
            k: v
            for k, v in dict(action=action, tool=tool, cost=cost, tokens=tokens, predicate=predicate).items()
            if v is not None
        }
        if len(given) != 1:
            raise ConfigError("break_on takes exactly one of action=, tool=, cost=, tokens=, predicate=")
        ((kind, value),) = given.items()
        bp = Breakpoint.make(kind, value)
        self.breakpoints.append(bp)
        return bp

    def clear_breakpoints(self) -> None:
        self.breakpoints.clear()

    # --- the engine ---------------------------------------------------------------------------------
    def _check_budget(self) -> None:
        b, run = self.budgets, self.tree
        if b["max_steps"] is not None and run.steps >= b["max_steps"]:
            raise BudgetExhausted(
                f"step budget used up ({run.steps}/{b['max_steps']} steps); raise max_steps to go on"
            )
        if b["max_tokens"] is not None and run.tokens >= b["max_tokens"]:
            raise BudgetExhausted(
                f"token budget used up ({run.tokens}/{b['max_tokens']}); raise max_tokens to go on"
            )
        if b.get("max_calls") is not None and run.calls >= b["max_calls"]:
            raise BudgetExhausted(
                f"model-call budget used up ({run.calls}/{b['max_calls']} calls); raise max_calls to go on"
            )
        if b["max_cost"] is not None and run.cost >= b["max_cost"]:
            raise BudgetExhausted(
                f"cost budget used up (${run.cost:.4f}/${b['max_cost']}); raise max_cost to go on"
            )

    def close(self) -> None:
        """Close what the env and the strategy hold (MCP servers, a CodeAct kernel), write what is
        queued and give back the run's lease; safe to call twice."""
        try:
            for owner in (self.strategy, self.env):
                close = getattr(owner, "close", None)
                if callable(close):
                    close()
        finally:
            self._release_store()

    async def astep(self) -> Node:
        """One step from the cursor. A provider failure returns an error node (the cursor stays)."""
        if self._stepping:
            raise StepInProgress("a step of this session is already running; pause() or wait for it")
        if self.done:
            raise ConfigError(
                f"the run is finished at node {self.tree.cursor} ({self.tree.outcome}); "
                + (
                    "rewind to an earlier node to branch"
                    if self.tree.current.terminal
                    else f"rewind to a node to go on (rewind({self.tree.cursor}) searches on from this one)"
                )
            )
        if self.pending_approval is not None:
            what = self.pending_approval.proposal.action
            raise ConfigError(
                f"an action awaits your approval ({what[:80]!r}); approve() or reject('reason') it first"
            )
        self._check_budget()
        self._retry_store()
        self._stepping = True
        parent = self.tree.current
        self.events.publish(ev.StepStarted(self.run_id, parent_id=parent.id))
        first_new = len(self.tree.nodes)
        try:
            try:
                self.check_replay_consent(parent.id)
                await self.memory.aprepare(self, self.tree.path(copy=False))  # read, not kept
                first_new, self._step_calls = len(self.tree.nodes), []
                node = await self.strategy.astep(self)
            except ReplayNeedsApproval as exc:
                self._ask_replay(exc, self._unrecorded_calls(first_new), parent)
                return parent
            except ModelError as exc:
                node = self._record_model_error(parent, exc)
                self.status = "error"
                self._stepping = False
                self._raise_store_error()
                return node
            except Exception as exc:
                self.status = "error"
                self.events.publish(
                    ev.Error(
                        self.run_id, message=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__
                    )
                )
                raise
            if node.id != parent.id:
                self.check_specs(node)
            if self.done:
                self.status = "done"
            elif self.pending_approval is not None:
                self.status = "waiting"
            elif self.status != "running":
                self.status = "idle"
            self.events.publish(ev.StepFinished(self.run_id, node=node))
            self._stepping = False
            self._raise_store_error()
            return node
        finally:
            self._stepping = False
            self._step_calls = None
            self.consume_replay_consent()  # a consent to replay covers this one step

    def _unrecorded_calls(self, first_new: int) -> list[Any]:
        """The model calls of this step that no node made in it holds (a step cut short)."""
        made = [self.tree.nodes[i] for i in range(first_new, len(self.tree.nodes))]
        held = {id(c) for n in made for c in n.llm_calls}
        return [c for c in self._step_calls or () if id(c) not in held]

    def step(self) -> Node:
        """Blocking form of `astep`."""
        return run_sync(self.astep())

    def pause(self) -> None:
        """Stop `run` after the step in flight (thread-safe: callable from any thread)."""
        self._pause.set()

    async def arun(self, max_steps: int | None = None, until: Until = None) -> list[Node]:
        """Step until done, paused, a breakpoint, an error, a budget, `max_steps` steps or `until`.

        `until` is a predicate on the new node or a regex matched against its action."""
        max_steps = validate.number("max_steps", max_steps, minimum=0, integer=True, optional=True)
        stop = _until(until)
        self._pause.clear()
        self.status = "running"
        added: list[Node] = []
        reason = "max_steps"
        try:
            while max_steps is None or len(added) < max_steps:
                if self._pause.is_set():
                    reason = "user"
                    break
                if self.done:
                    reason = "done"
                    break
                if self.pending_approval is not None:
                    reason = "approval"
                    break
                try:
                    node = await self.astep()
                except BudgetExhausted as exc:
                    reason = "budget"
                    self.events.publish(ev.Error(self.run_id, message=str(exc), error_type="BudgetExhausted"))
                    break
                if self.pending_approval is not None:
                    self.pending_approval.from_run = True
                    if self.pending_approval.node is node:
                        added.append(node)
                    reason = "approval"
                    break
                added.append(node)
                if node.info.get("kind") == "provider":
                    reason = "error"
                    break
                hit = next((bp for bp in self.breakpoints if bp.check(node, self.tree)), None)
                violations = node.info.get("spec_violations")
                if hit is None and violations:  # a behaviour spec broke: stop like at a breakpoint
                    hit = Breakpoint("spec", violations[0]["spec"])
                if hit is not None:
                    reason = "breakpoint"
                    self.events.publish(
                        ev.BreakpointHit(self.run_id, breakpoint=hit.description, node_id=node.id)
                    )
                    break
                if self.done:
                    reason = "done"
                    break
                if stop(node):
                    reason = "until"
                    break
        finally:
            self._pause.clear()
            if self.pending_approval is not None:
                self.status = "waiting"
            elif self.status == "running":
                self.status = "done" if self.done else "paused"
        if reason != "done":
            self.events.publish(ev.Paused(self.run_id, reason=reason))
        return added

    def run(self, max_steps: int | None = None, until: Until = None) -> list[Node]:
        """Blocking form of `arun`."""
        return run_sync(self.arun(max_steps=max_steps, until=until))

    def start(self, max_steps: int | None = None, until: Until = None) -> Any:
        """Run in the background on the running event loop (a notebook's) and return the asyncio task.

        Returns at once; `pause()` stops after the step in flight, `stop()` cancels. See background.py."""
        from .background import runner_for

        return runner_for(self).start(max_steps=max_steps, until=until)

    def stop(self) -> None:
        """Cancel the background task started by `start` now (thread-safe; the step in flight is dropped)."""
        from .background import runner_for

        runner_for(self).stop()

    def rewind(self, node_id: int) -> Node:
        """Move the cursor to `node_id`; the next step grows a new branch from there.

        The plan and memory go back to what they were at that node."""
        if node_id not in self.tree.nodes:
            raise ConfigError(
                f"no node {node_id} in run {self.run_id}; valid ids: 0..{len(self.tree.nodes) - 1}"
            )
        node = self.tree.nodes[node_id]
        if node.info.get("kind") in ("provider", "interrupted"):
            what = "a provider error" if node.info["kind"] == "provider" else "a step cut short"
            raise ConfigError(f"node {node_id} is {what}, not a state; rewind to its parent {node.parent_id}")
        if self._stepping:
            raise StepInProgress("cannot rewind while a step is running; pause() first")
        pruned = next((n for n in self.tree.path(node_id) if n.status == "pruned"), None)
        if pruned is not None:
            where = (
                f"node {node_id} is pruned"
                if pruned is node
                else f"node {node_id} is below pruned node {pruned.id}"
            )
            raise ConfigError(
                f"{where}, so nothing would grow from it; unprune({pruned.id}) first or rewind elsewhere"
            )
        self.drop_pending(f"rewound to node {node_id}")
        self.tree.cursor = node_id
        self.plan.load(node.plan)
        # the node's edits, pins and notes; the policy's options stay as set now (`set_memory`)
        current = self.memory.state()
        options = [k for k in current if k in _parameters(type(self.memory))]
        self.memory.load_state({**node.memory, **{k: current[k] for k in options}})
        self.strategy.rewound(self, node)
        self.status = "done" if self.done else "idle"
        self.events.publish(ev.CursorMoved(self.run_id, node_id=node_id, provenance="user"))
        self.events.publish(
            ev.PlanEdited(
                self.run_id, items=self.plan.to_list(), provenance="user", change=f"rewind to {node_id}"
            )
        )
        self._memory_changed("*", "state", "user", None)
        return node


def _parameters(cls: type) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return set()


def _until(until: Until) -> Callable[[Node], bool]:
    if until is None:
        return lambda node: False
    if callable(until):
        return until
    if isinstance(until, str):
        try:
            regex = re.compile(until, re.I)
        except re.error as exc:
            raise ConfigError(f"invalid until regex {until!r}: {exc}") from None
        return lambda node: bool(node.action and regex.search(node.action))
    raise ConfigError("until must be a function of the new node or a regex for its action")


def _make_recall(recall: Any) -> Any:
    """`Session(recall=...)`: None, or a recall with `note(query) -> str` (`TrustedRecall`)."""
    if recall is None or callable(getattr(recall, "note", None)):
        return recall
    raise ConfigError(
        f"recall must be a TrustedRecall (workbench.oversight.trust) or None, not {type(recall).__name__}"
    )


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
