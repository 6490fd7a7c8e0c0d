"""The behaviour-spec monitor of a session (mixed into `Session` through `ApprovalMixin`).

    s = Session(..., specs=["G(tool(delete_file) -> previous(tool(list_files)))", "react"])
    s.spec(Spec.at_most_consecutive_errors(3))

After every step the specs are checked on the path (root to the new node). A spec whose violation
is `pause` (the default) marks the node (`info["spec_violations"]`), publishes `SpecViolated` with
the rule and the trace, and `run` stops there like at a breakpoint. A spec with `reject` or `ask` is
checked before an action runs: the proposed thought, action and input are appended to the trace and
an action that would break the spec is rejected (the agent reads which rule) or waits for a person.
The tools offered to the model (the native `tools=` list, or the text format's tool list in the
system prompt) are restricted to those no spec forbids as the next action (`allowed_tools`).

Each spec's monitor state is kept per node (`monitor_state`): a step progresses only its own
positions from its parent's state, so checking after a step, before an action and for each tool
offered costs the new positions, not the whole path. A node's state is made again whenever it is
asked for as the newest node; the states of its ancestors are reused (a decision on a proposal,
which changes its positions, drops its state: `forget_monitor`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..oversight.specs import (
    REACT,
    MonitorState,
    Position,
    Spec,
    advance,
    allowed_actions,
    judge,
    node_positions,
    path_positions,
    start,
    trace_view,
)
from . import events as ev
from .state import SessionState

if TYPE_CHECKING:
    from ..strategies.parsing import Parsed
    from .tree import Node


def make_specs(value: Any) -> list[Spec]:
    """`Session(specs=...)`: None, "react" (the paper's spec), a formula, a `Spec`, or a list of them."""
    if value is None:
        return []
    if isinstance(value, (str, Spec)):
        value = [value]
    out: list[Spec] = []
    for item in value:
        if item == "react":
            out += [Spec(s.formula, name=s.name, on_violation=s.on_violation) for s in REACT]
        elif isinstance(item, Spec):
            out.append(item)
        elif isinstance(item, str):
            out.append(Spec(item))
        else:
            raise ConfigError(f"a spec is a formula string, a Spec or 'react', not {type(item).__name__}")
    return out


class MonitorMixin(SessionState):
    """Mixed into `Session` through `ApprovalMixin` (see the module docstring)."""

    specs: list[Spec]

    def _init_specs(self, specs: Any) -> None:
        self.specs = make_specs(specs)
        self._monitors: dict[int, dict[int, MonitorState]] = {}  # id(spec) -> node id -> state

    def spec(self, formula: str | Spec, *, name: str = "", on_violation: str = "pause") -> Spec:
        """Add a behaviour spec (a formula, or a `Spec`); checked from the next step on."""
        made = formula if isinstance(formula, Spec) else Spec(formula, name=name, on_violation=on_violation)
        self.specs.append(made)
        return made

    def monitor_state(self, spec: Spec, node: Node) -> MonitorState:
        """`spec`'s monitor after the positions of the path to `node` (kept per node)."""
        states = self._monitors.setdefault(id(spec), {})
        if not states:
            states[-1] = start(spec)
        todo = [node]  # the node itself always anew; ancestors from the cache
        parent_id = node.parent_id
        while parent_id is not None and parent_id not in states:
            parent = self.tree.nodes[parent_id]
            todo.append(parent)
            parent_id = parent.parent_id
        state = states[-1 if parent_id is None else parent_id]
        for step in reversed(todo):
            state = advance(spec, state, node_positions(step))
            states[step.id] = state
        return state

    def forget_monitor(self, node_id: int) -> None:
        """Drop the monitor states kept for `node_id` (its positions changed: a decided proposal)."""
        for states in self._monitors.values():
            states.pop(node_id, None)

    # --- before an action runs (reject / ask) ------------------------------------------------------
    def spec_hit(self, parent: Node, parsed: Parsed) -> tuple[Spec, str, list[dict[str, Any]]] | None:
        """The first `reject`/`ask` spec the proposed action breaks: (spec, why, trace view)."""
        guards = [s for s in self.specs if s.on_violation in ("reject", "ask")]
        if not guards:
            return None
        names = tuple(c.name for c in parsed.tool_calls or ()) or ((parsed.tool,) if parsed.tool else ())
        proposed = [Position("thought", node=-1)] if parsed.thought else []
        proposed += [Position("action", names=names, node=-1), Position("action_input", names=names, node=-1)]
        for spec in guards:
            state = advance(spec, self.monitor_state(spec, parent), proposed)
            if state.violated:
                why = f"the action would break {spec.formula}"
                trace = path_positions(self.tree.path(parent.id)) + proposed
                return spec, why, trace_view(trace, state.at)
        return None

    # --- after a step (pause) -------------------------------------------------------------------------
    def check_specs(self, node: Node) -> list[dict[str, Any]]:
        """Check the `pause` specs on the path to `node`; new violations are recorded and published."""
        watch = [s for s in self.specs if s.on_violation == "pause"]
        if not watch or node.parent_id is None:
            return []
        found = []
        for spec in watch:
            state = self.monitor_state(spec, node)
            first = state.length - len(node_positions(node))  # the positions this step added
            verdict = judge(spec, state, finished=bool(node.terminal))
            if verdict.violated and verdict.at is not None and verdict.at >= first:
                trace = path_positions(self.tree.path(node.id))
                record = {
                    "spec": spec.name,
                    "formula": spec.formula,
                    "at": verdict.at,
                    "trace": trace_view(trace, verdict.at),
                }
                found.append(record)
        if found:
            node.info["spec_violations"] = found
            for record in found:
                self.events.publish(ev.SpecViolated(self.run_id, node_id=node.id, violation=record))
        return found

    def allowed_tools(self) -> list[str] | None:
        """The tool names no spec forbids as the next action (None: no restriction)."""
        tools = getattr(self.env, "tools", None)
        if not self.specs or not tools:
            return None
        cursor = self.tree.current
        states = [self.monitor_state(s, cursor) for s in self.specs]
        return allowed_actions(self.specs, [], list(tools), states)
