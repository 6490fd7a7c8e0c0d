"""The `%agent` / `%%agent` magics: a Magics class over the same `Session` objects the widgets use.

The grammar lives in `args.py`, the inspect-and-edit commands in `edits.py`, the rich outputs in
`render.py`. The magic opts out of IPython's `$x` / `{x}` expansion (`@no_var_expand`): `expand.py`
does it itself, so `--env $myenv` passes the object and `--task {mytask}` still passes text, and
`objects.py` checks each object (`%agent new --env $gym_env --strategy {ReAct()}`, `%agent adopt s`).
A user mistake ends in a one-line `UsageError` (workbench `ConfigError`s and friends are converted);
any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
from collections.abc import Callable, Iterator
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import display

from .. import registry
from ..core.session import NOTEBOOK_DEFAULT, Session
from ..core.sync import run_sync
from ..envs.base import BUILTIN_ENVS, env_names
from ..errors import BudgetExhausted, ConfigError, StepInProgress, StoreError
from . import edits, objects, oversight, render, sweeps
from .agents import NAME, Agent, Agents, BackgroundRun
from .args import COMMANDS, TOP, VERBS, Command, one_line, parse, parse_cell, text_of
from .expand import evaluate, expand

USER_ERRORS = (ConfigError, BudgetExhausted, StepInProgress, StoreError)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the workbench's user-error exceptions into one-line `UsageError`s."""
    try:
        yield
    except USER_ERRORS as exc:
        raise UsageError(one_line(str(exc))) from None


def check_model(name: str | None) -> None:
    from ..llm.model import check_model_name

    with user_errors():
        check_model_name(name)


def make_session(args: argparse.Namespace, task: str | None) -> Session:
    """A Session from `new` / `%%agent` options, every choice checked first. `--env`, `--strategy`,
    `--memory` and `--tools` may hold objects from the user's namespace (see `expand.py`)."""
    sources = getattr(args, "sources", {})
    tools = objects.tools(args.tools, sources.get("tools"))
    if args.env is None and tools is None:
        args.env = "gridworld"
    env = None if args.env is None else objects.env(args.env, sources.get("env"))
    strategy = objects.strategy(args.strategy, sources.get("strategy"))
    memory = objects.memory(args.memory, sources.get("memory"))
    memory_options = edits.memory_options(memory, args.window, args.memory_option)
    check_model(args.model)
    extra: dict[str, Any] = {
        key: getattr(args, key)
        for key in ("max_expansions", "rounds", "max_depth", "branching", "value", "sandbox")
        if getattr(args, key, None) is not None
    }
    options = objects.options("strategy", strategy, args.strategy_option, "--strategy-option")
    twice = sorted(set(options) & set(extra))
    if twice:
        flags = ", ".join(f"--{key.replace('_', '-')}" for key in twice)
        raise UsageError(f"{flags} given twice (also as --strategy-option); give each option once")
    extra.update(options)
    recall = objects.recall(getattr(args, "recall", None), sources.get("recall"))
    if recall is not None:
        extra["recall"] = recall
    if tools is not None:  # tools alone (no --env) make a tools-only agent
        extra["tools"] = tools
    if env is not None:
        extra["env"] = env
    with user_errors():
        return Session(
            task=task,
            model=args.model,
            strategy=strategy,
            memory=memory,
            store=args.store if args.store is not None else NOTEBOOK_DEFAULT,
            seed=args.seed,
            max_steps=args.max_steps,
            max_tokens=args.max_tokens,
            max_cost=args.max_cost,
            memory_options=memory_options or None,
            concurrency=args.concurrency or 4,
            **extra,
        )


def _option_rows(kinds: list[str]) -> list[tuple[str, str]]:
    """(`  strategy plan-execute`, `item_steps=10, replans=3`): the built-ins' options, with defaults."""
    from .. import options
    from ..memory.base import memory_names
    from ..strategies.base import strategy_names

    rows = []
    for kind in kinds:
        for name in strategy_names() if kind == "strategy" else memory_names():
            try:
                listed = options.describe(kind, name)
            except Exception as exc:  # a plugin that fails to import must not break the help
                listed = f"(not readable: {type(exc).__name__}: {exc})"
            if listed:
                rows.append((f"  --{kind}-option for {name}", listed))
    return rows


@magics_class
class AgentMagics(Magics):
    """`%agent` and `%%agent`; the agents live in `self.agents`."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.agents = Agents()
        self._handlers: dict[str, Callable[[Agent, argparse.Namespace], Any]] = {
            "status": self._status, "step": self._step, "run": self._run, "wait": self._wait,
            "pause": self._pause, "stop": self._stop, "save": self._save,
            "plan": self._plan, "plan add": edits.plan_add, "plan done": edits.plan_done,
            "plan rm": edits.plan_rm, "plan move": edits.plan_move, "plan edit": edits.plan_edit,
            "plan clear": edits.plan_clear, "memory": self._memory, "memory edit": edits.memory_edit,
            "memory pin": edits.memory_pin, "memory unpin": edits.memory_unpin,
            "memory forget": edits.memory_forget, "memory restore": edits.memory_restore,
            "memory note": edits.memory_note, "memory use": edits.memory_use, "history": edits.history,
            "memory importance": edits.memory_importance,
            "tree": self._tree, "rewind": edits.rewind, "prune": edits.prune, "unprune": edits.unprune,
            "pin": edits.pin, "value": edits.set_value, "break": edits.breakpoints,
            "break list": edits.breakpoints, "break clear": edits.break_clear,
            "break action": edits.break_add("action"), "break tool": edits.break_add("tool"),
            "break cost": edits.break_add("cost"), "break tokens": edits.break_add("tokens"),
            "budget": edits.budget, "approve": self._approve, "reject": self._reject, "gate": oversight.gate,
        }  # fmt: skip

    @no_var_expand
    @line_cell_magic
    def agent(self, line: str, cell: str | None = None) -> Any:
        """Step, run, pause, edit and inspect LLM agents. `%agent help` lists every command.

        %agent new [--name NAME] [--env ENV] [--model MODEL] [--strategy S] [--memory M] [--window N]
                   [--strategy-option KEY=VALUE ...] [--memory-option KEY=VALUE ...] [--tools TOOLS]
                   [--recall R] [--seed N] [--task TEXT] [--max-steps N] [--max-tokens N] [--max-cost X]
                   [--store PATH]   (%agent help new lists each strategy's and memory's options)
        %agent adopt SESSION [--name NAME]   a Session object (s, $s or {expr}) becomes an agent
        %agent use NAME | agents | session [NAME]
        %agent step [N]                      take N steps now and show them
        %agent run [--max-steps N] [--until REGEX]   run in the background; returns at once
        %agent wait | pause | stop | status  (h = %agent wait; await h  waits for the run)
        %agent plan [add TEXT [--at N] | done N | rm N | move N M | edit N TEXT | clear]
        %agent memory [edit ID TEXT | pin ID | unpin ID | forget ID | restore ID | note TEXT
                       | importance ID VALUE | use POLICY [--window N] [--memory-option KEY=VALUE]]
        %agent history [--diff | --full] | tree | rewind NODE
        %agent prune NODE | unprune NODE | pin NODE | value NODE V   steer a search
        %agent break [action REGEX | tool NAME | cost X | tokens N | list | clear]
        %agent budget [--max-steps N] [--max-tokens N] [--max-cost X]
        %agent approve [EDITED] | reject REASON   decide on an action that waits for approval
        %agent gate [destructive | tool REGEX | action REGEX | code [PATTERN] | cost X | clear]
        %agent save [--store PATH] | load RUN_ID [--store PATH] [--name NAME]
        %agent models | envs | help [COMMAND]
        %agent sweep [FILE.toml] [--tasks 0-4] [--strategies a,b(k=v)] [--memories a,b] [--max-calls N] ...
                                             a sweep in the background with a live view (h = ...; await h)

        %%agent [NAME] [new options]
        <the task, in the cell body>         makes an agent and runs it in the background

        ENV, S, M are a name (built-in or plugin: %agent envs), a module:attr spec, or an object
        from the notebook: --env $myenv, --strategy {ReAct()}, --memory $mem; TOOLS is a list as
        $tools or {[...]}, or tool plugin names a,b. `$x` / `{expr}` elsewhere expand to text, as
        in any IPython magic. Values with spaces take quotes: --task "reach the goal". Without a
        key the model is the offline, simulated workbench/demo. A strategy or memory object is
        stored by its `name`: `%agent load` resumes such a run when that name is a built-in or a
        plugin (entry points workbench.envs, workbench.strategies, workbench.memories,
        workbench.tools).
        """
        expanded = expand(line, self.shell.user_ns if self.shell is not None else {})
        with user_errors():
            if cell is not None:
                return self._cell(expanded.resolve(self._parsed(parse_cell, expanded)), cell)
            command: Command
            command, args = self._parsed(parse, expanded)
            return self._dispatch(command.key, expanded.resolve(args))

    @staticmethod
    def _parsed(parser: Callable[[str], Any], expanded: Any) -> Any:
        """`parser(expanded.line)`; a usage error shows what the user wrote, not a placeholder."""
        try:
            return parser(expanded.line)
        except UsageError as exc:
            raise UsageError(expanded.restore(str(exc))) from None

    def _dispatch(self, key: str, args: argparse.Namespace) -> Any:
        global_commands: dict[str, Callable[[argparse.Namespace], Any]] = {
            "new": self._new, "adopt": self._adopt, "use": self._use, "agents": self._agents, "session": self._session,
            "load": self._load, "models": self._models, "envs": self._envs, "help": self._help,
            "sweep": sweeps.start,
        }  # fmt: skip
        if key in global_commands:
            result = global_commands[key](args)
        else:
            result = self._handlers[key](self.agents.get(), args)
        if isinstance(result, render.Rich):
            display(result)
            return None
        return result

    # --- agents -----------------------------------------------------------------------------------
    def _new(self, args: argparse.Namespace) -> None:
        name = self.agents.check_name(args.name)
        agent = self.agents.add(name, make_session(args, text_of(args.task)))
        self._show_panel(agent)

    def _cell(self, args: argparse.Namespace, cell: str) -> BackgroundRun:
        task = cell.strip()
        if not task:
            raise UsageError("%%agent needs the task in the cell body, e.g. a line 'reach the goal'")
        name = self.agents.check_name(args.name)
        agent = self.agents.add(name, make_session(args, task))
        self._show_panel(agent)
        return self._start(agent, None, None)

    def _adopt(self, args: argparse.Namespace) -> None:
        """Put an existing Session under `%agent`: `adopt s`, `adopt $s`, `adopt {runs[0]}`."""
        value, source = args.session, args.sources.get("session")
        if source is None:  # a bare word: a variable of the notebook
            source = value
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", value):
                raise UsageError(
                    f"adopt takes a Session: a variable name, $name or {{expression}}, not {value!r}"
                )
            value = evaluate("$" + value, "adopt", self.shell.user_ns if self.shell is not None else {})
        if not isinstance(value, Session):
            raise UsageError(
                f"adopt {source} is {objects.described(value)}, not a Session; valid: a workbench Session "
                "such as s = Session(env=...), as s, $s or {expression}"
            )
        existing = next((a for a in self.agents if a.session is value), None)
        if args.name is None and existing is not None:
            agent = self.agents.use(existing.name)
        else:
            default = source.lstrip("$")
            name = args.name if args.name is not None else (default if NAME.match(default) else None)
            agent = self.agents.add(self.agents.check_name(name), value)
        self._show_panel(agent)

    def _use(self, args: argparse.Namespace) -> render.Rich:
        agent = self.agents.use(args.name)
        return render.small(
            f"current agent: {agent.name} ({agent.session.status}, {agent.session.tree.steps} steps)"
        )

    def _agents(self, args: argparse.Namespace) -> render.Rich:
        sched = self.agents.scheduler
        calls = sched.stats() if sched is not None else {}
        idle = {"running": 0, "waiting": 0, "done": 0}
        rows = [
            ("*" if a.name == self.agents.current_name else "", a.name, a.session.config.get("env"),
             a.session.config.get("model_label"), self._status_word(a), a.session.tree.steps,
             oversight.calls_line(calls.get(a.name, idle)))
            for a in self.agents
        ]  # fmt: skip
        if not rows:
            return render.small("no agents yet; make one with %agent new --env gridworld")
        caption = "agents (* = current)"
        if sched is not None:
            caption += f"; model calls shared round-robin, at most {sched.limit} at once"
        return render.table(["", "name", "env", "model", "status", "steps", "model calls"], rows, caption)

    def _session(self, args: argparse.Namespace) -> Session:
        return self.agents.get(args.name).session

    def _load(self, args: argparse.Namespace) -> None:
        from ..store.location import default_store_path
        from ..store.sqlite import RunStore

        name = self.agents.check_name(args.name)
        store = RunStore(args.store or default_store_path(), create=False)
        try:
            session = Session.resume(args.run_id, store=store)
        except BaseException:
            store.close()
            raise
        self._show_panel(self.agents.add(name, session))

    # --- stepping ---------------------------------------------------------------------------------
    def _step(self, agent: Agent, args: argparse.Namespace) -> render.Rich:
        agent.require_idle("stepping")
        nodes = []
        for _ in range(args.n):
            try:
                node = agent.session.step()
            except BudgetExhausted as exc:
                if not nodes:
                    raise
                display(render.step_cards(agent.name, nodes))
                return render.small(one_line(str(exc)))
            nodes.append(node)
            if node.terminal or node.info.get("kind") == "provider":
                break
        return render.step_cards(agent.name, nodes)

    def _start(self, agent: Agent, max_steps: int | None, until: str | None) -> BackgroundRun:
        s = agent.session
        if s.done:
            raise UsageError(
                f"{agent.name} is done ({s.tree.outcome}); %agent rewind NODE branches from an earlier node"
            )
        if until is not None:
            try:
                re.compile(until)
            except re.error as exc:
                raise UsageError(
                    f'invalid --until regex {until!r} ({exc}); quote it, e.g. "open door"'
                ) from None
        agent.background = BackgroundRun(agent.name, s, s.start(max_steps=max_steps, until=until), max_steps)
        return agent.background

    def _run(self, agent: Agent, args: argparse.Namespace) -> BackgroundRun:
        agent.require_idle("starting another run")
        handle = self._start(agent, args.max_steps, args.until)
        self._show_panel(agent)
        return handle

    def _wait(self, agent: Agent, args: argparse.Namespace) -> BackgroundRun:
        handle = agent.handle()
        if handle is None:
            raise UsageError(f"{agent.name} has no background run; start one with %agent run")
        return handle

    def _pause(self, agent: Agent, args: argparse.Namespace) -> render.Rich:
        if not agent.running:
            return render.small(f"{agent.name} is not running ({agent.session.status}); nothing to pause")
        agent.session.pause()
        return render.small(f"{agent.name} pauses after the step in flight")

    def _stop(self, agent: Agent, args: argparse.Namespace) -> render.Rich:
        running = agent.running
        if running:
            agent.session.stop()
        agent.session.close()  # MCP servers and the CodeAct kernel end with the agent's run
        if not running:
            return render.small(
                f"{agent.name} is not running ({agent.session.status}); closed its tools and kernel"
            )
        return render.small(
            f"{agent.name}: stopping now (the step in flight is dropped); tools and kernel closed"
        )

    # --- approvals (see oversight.py) --------------------------------------------------------------
    def _approve(self, agent: Agent, args: argparse.Namespace) -> Any:
        return self._decide(agent, "approve", " ".join(args.edited) if args.edited else None)

    def _reject(self, agent: Agent, args: argparse.Namespace) -> Any:
        reason = text_of(args.reason)
        if not reason:
            raise UsageError(
                '%agent reject needs a reason the agent will read, e.g. %agent reject "keep that file"'
            )
        return self._decide(agent, "reject", reason)

    def _decide(self, agent: Agent, decision: str, text: str | None) -> Any:
        """The decision now (its step card shown), then the paused run goes on in the background."""
        pending = oversight.require_pending(agent)
        s = agent.session
        node = run_sync(s.adecide(decision, text, go_on=False))  # the raw text: Session parses it
        if node is not None:
            display(render.step_cards(agent.name, [node]))
        else:
            display(
                render.small(f"{agent.name}: replay {'approved' if decision == 'approve' else 'rejected'}")
            )
        if s.goes_on(pending):
            return self._start(agent, None, None)  # the run that paused for the decision goes on
        return None

    # --- views ------------------------------------------------------------------------------------
    @staticmethod
    def _status_word(agent: Agent) -> str:
        return "running" if agent.running else agent.session.status

    def _status(self, agent: Agent, args: argparse.Namespace) -> render.Rich:
        s = agent.session
        cfg, cur = s.config, s.cursor
        window = getattr(s.memory, "window", None)
        budgets = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in s.budgets.items() if v is not None)
        pairs = [
            ("task", s.tree.task), ("env", cfg.get("env")), ("model", cfg.get("model_label")),
            ("strategy", s.strategy.name),
            ("memory", s.memory.name + (f" (window {window})" if window is not None else "")),
            ("status", self._status_word(agent) + (f" · {s.tree.outcome}" if s.tree.outcome else "")),
            ("steps", f"{s.tree.steps} nodes · cursor at node {cur.id} (step {cur.depth})"),
            ("tokens", s.tree.tokens), ("cost", f"${s.tree.cost:.4f}"), ("budgets", budgets or "none"),
            ("plan", f"{len(s.plan)} items"), ("breakpoints", len(s.breakpoints)),
            ("approval", oversight.waiting_line(s)), ("gates", len(s.gates)),
            ("run", s.run_id + (f" in {s.store.path}" if getattr(s.store, "path", None) else "")),
        ]  # fmt: skip
        return render.fields(pairs, f"agent {agent.name}")

    def _panel(self, agent: Agent) -> Any:
        """The session's one Workbench widget (the one a displayed Session shows too), or None
        without the widgets package."""
        if importlib.util.find_spec("workbench.widgets") is not None:
            from ..widgets import panel_for

            agent.panel = panel_for(agent.session)
        return agent.panel

    def _show_panel(self, agent: Agent) -> None:
        panel = self._panel(agent)
        display(panel if panel is not None else self._status(agent, argparse.Namespace()))

    def _editor(self, agent: Agent, attr: str, cls_name: str) -> Any:
        if getattr(agent, attr) is None and importlib.util.find_spec("workbench.widgets") is not None:
            module = importlib.import_module("workbench.widgets")
            setattr(agent, attr, getattr(module, cls_name)(agent.session))
        return getattr(agent, attr)

    def _plan(self, agent: Agent, args: argparse.Namespace) -> Any:
        editor = self._editor(agent, "plan_editor", "PlanEditor")
        return editor if editor is not None else edits.plan_table(agent)

    def _memory(self, agent: Agent, args: argparse.Namespace) -> Any:
        editor = self._editor(agent, "memory_editor", "MemoryEditor")
        return editor if editor is not None else edits.memory_table(agent)

    def _tree(self, agent: Agent, args: argparse.Namespace) -> Any:
        view = None if args.text else self._editor(agent, "tree_view", "TreeView")
        return view if view is not None else edits.tree(agent, args)

    # --- store ------------------------------------------------------------------------------------
    def _save(self, agent: Agent, args: argparse.Namespace) -> render.Rich:
        from ..store.location import default_store_path
        from ..store.sqlite import RunStore

        agent.require_idle("saving")
        s = agent.session
        current = getattr(s.store, "path", None)
        if s.store is not None and (args.store is None or str(args.store) == str(current)):
            store = s.store
        else:
            store = RunStore(args.store or default_store_path())
            s.subscribe(store.handle)  # later steps are written as they finish
            agent.store = store
        store.save_run(s.tree, plan=s.plan.to_list(), memory=s.memory.state(), status=s.status)
        return render.small(
            f"{agent.name}: run {s.run_id} saved to {store.path} ({s.tree.steps} steps); "
            f"%agent load {s.run_id} resumes it"
        )

    # --- reference --------------------------------------------------------------------------------
    def _models(self, args: argparse.Namespace) -> render.Rich:
        from ..llm.model import default_model_name, known_models

        default = default_model_name()
        rows = [(name, "default" if name == default else "", about) for name, about in known_models()]
        return render.table(
            ["model", "", "notes"], rows, "models for --model (any litellm model string works)"
        )

    def _envs(self, args: argparse.Namespace) -> render.Rich:
        rows = registry.describe("env", BUILTIN_ENVS, env_names())
        return render.table(
            ["env", "what it is"], rows, "environments for --env (built-ins, then plugins; or --env $myenv)"
        )

    def _help(self, args: argparse.Namespace) -> render.Rich:
        topic = " ".join(args.topic or [])
        if not topic:
            rows = [(COMMANDS[key].usage, COMMANDS[key].summary) for key in TOP]
            return render.help_table(rows, "%agent commands (%agent help COMMAND for one; %agent? for all)")
        if topic not in COMMANDS:
            raise UsageError(f"no %agent command {topic!r}; valid: {', '.join(TOP)}")
        command = COMMANDS[topic]
        verbs = [COMMANDS[f"{topic} {v}"] for v in VERBS.get(topic, [])]
        rows = [(f"%agent {c.usage}", c.summary) for c in [command, *verbs]]
        for flags, kw in command.args:
            if flags[0].startswith("--") and kw.get("help"):
                rows.append((f"  {flags[0]} {kw.get('metavar', '')}".rstrip(), kw["help"].replace("%%", "%")))
        if topic in ("new", "memory use"):
            rows += _option_rows(["memory"] if topic == "memory use" else ["strategy", "memory"])
        return render.table(["usage", "what it does"], rows, f"%agent {topic}")
