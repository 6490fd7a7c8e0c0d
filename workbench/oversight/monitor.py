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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import events as ev
from ..errors import ConfigError
from .specs import REACT, Position, Spec, allowed_actions, check, node_positions, path_positions, trace_view

if TYPE_CHECKING:
    from ..core.session import Session
    from ..core.tree import Node
    from ..strategies.parsing import Parsed


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


class MonitorMixin:
    specs: list[Spec]

    def _init_specs(self: Session, specs: Any) -> None:
        self.specs = make_specs(specs)

    def spec(self: Session, formula: str | Spec, *, name: str = "", on_violation: str = "pause") -> Spec:
        """Add a behaviour spec (a formula, or a `Spec`); checked from the next step on."""
        made = formula if isinstance(formula, Spec) else Spec(formula, name=name, on_violation=on_violation)
        self.specs.append(made)
        return made

    # --- before an action runs (reject / ask) ------------------------------------------------------
    def spec_hit(
        self: Session, parent: Node, parsed: Parsed
    ) -> tuple[Spec, str, list[dict[str, Any]]] | None:
        """The first `reject`/`ask` spec the proposed action breaks: (spec, why, trace view)."""
        guards = [s for s in self.specs if s.on_violation in ("reject", "ask")]
        if not guards:
            return None
        names = tuple(c.name for c in parsed.tool_calls or ()) or ((parsed.tool,) if parsed.tool else ())
        trace = path_positions(self.tree.path(parent.id))
        if parsed.thought:
            trace.append(Position("thought", node=-1))
        trace += [Position("action", names=names, node=-1), Position("action_input", names=names, node=-1)]
        for spec in guards:
            verdict = check(spec, trace)
            if verdict.violated:
                why = f"the action would break {spec.formula}"
                return spec, why, trace_view(trace, verdict.at)
        return None

    # --- after a step (pause) -------------------------------------------------------------------------
    def check_specs(self: Session, node: Node) -> list[dict[str, Any]]:
        """Check the `pause` specs on the path to `node`; new violations are recorded and published."""
        watch = [s for s in self.specs if s.on_violation == "pause"]
        if not watch or node.parent_id is None:
            return []
        path = self.tree.path(node.id)
        trace = path_positions(path)
        first = len(trace) - len(node_positions(node))  # the positions this step added
        found = []
        for spec in watch:
            verdict = check(spec, trace, finished=bool(node.terminal))
            if verdict.violated and verdict.at is not None and verdict.at >= first:
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

    def allowed_tools(self: Session) -> list[str] | None:
        """The tool names no spec forbids as the next action (None: no restriction)."""
        tools = getattr(self.env, "tools", None)
        if not self.specs or not tools:
            return None
        trace = path_positions(self.tree.path())
        return allowed_actions(self.specs, trace, list(tools))
