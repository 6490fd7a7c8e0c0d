"""Approvals: a gated action is proposed, not executed, until a person decides.

`ApprovalMixin` is mixed into `Session`. When a step's action matches a gate that asks (the rules
are in `workbench.oversight.gates`), the engine records the action as a proposed node (status
`frontier`, not executed, `info["approval"]["state"] == "pending"`), publishes `ApprovalNeeded`
and the run pauses (`Paused("approval")`; the session's status is `waiting`). Nothing runs and
nothing times out until

    s.approve()                       # run the action as proposed
    s.approve({"to": "me@example"})   # edited: new arguments (a tool call), code or action text
    s.reject("never email customers") # not run; the reason is the agent's next observation

Each decision is an `ApprovalDecided` event with provenance `user` and is kept on the node
(`info["approval"]`: state, by, rule, why, reason, the original action when edited). A run that
paused for approval goes on when the decision came from the panel or `%agent approve` (the Python
methods only decide; call `run()` again). A rewind drops a pending proposal (recorded as `dropped`).

Replays: the engine never re-executes an approved action without asking again. Bringing the env
(or a CodeAct kernel) to a node whose path holds an approved gated action by replaying it raises
`ReplayNeedsApproval`; the step then asks (a `replay` proposal): approving allows those nodes to be
replayed, rejecting leaves the cursor where it was.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StepInProgress, WorkbenchError
from ..oversight.gates import GateHit, GateRule, Gates, Proposal, make_gates, proposal_from
from . import events as ev
from .envstate import replay_actions
from .monitor import MonitorMixin
from .sync import run_sync

if TYPE_CHECKING:
    from ..strategies.parsing import Parsed
    from .tree import LLMCall, Node

REJECTED = "Rejected by the user: "


class ReplayNeedsApproval(WorkbenchError):
    """Reaching a node would replay actions a person approved once; they must approve the replay."""

    def __init__(self, nodes: list[int], target: int) -> None:
        self.nodes, self.target = nodes, target
        listed = ", ".join(str(n) for n in nodes)
        super().__init__(
            f"reaching node {target} replays approved action(s) of node(s) {listed}; "
            "approve() the replay or reject() it"
        )


@dataclass
class PendingApproval:
    """The proposal waiting for a person (`Session.pending_approval`)."""

    proposal: Proposal
    hit: GateHit
    node: Node | None  # None for a replay proposal
    parent: Node
    parsed: Parsed | None = None
    step: Callable[[Any], Awaitable[Any]] | None = field(default=None, repr=False)
    move_cursor: bool = True
    from_run: bool = False
    replay: list[int] = field(default_factory=list)

    @property
    def node_id(self) -> int | None:
        return None if self.node is None else self.node.id

    def to_dict(self) -> dict[str, Any]:
        """What the approval card shows."""
        return {
            "node_id": -1 if self.node is None else self.node.id,
            "parent_id": self.parent.id,
            "depth": self.parent.depth + 1,
            "thought": self.node.thought if self.node is not None else "",
            **self.proposal.to_dict(),
            "rule": self.hit.rule.describe(),
            "why": self.hit.why,
            "replay": list(self.replay),
        }


class ApprovalMixin(MonitorMixin):
    """Mixed into `Session` (see the module docstring); behaviour specs come with it (monitor.py)."""

    gates: Gates
    pending_approval: PendingApproval | None

    def _init_approvals(self, gates: Any, specs: Any = None) -> None:
        self._init_specs(specs)
        self.gates = make_gates(gates)
        self.pending_approval = None
        self._replay_approved: set[int] = set()  # approved nodes a person let be replayed
        self._replay_used: set[int] = set()  # of those, replayed by the step in flight

    def gate(self, rule: GateRule | dict[str, Any] | str, **options: Any) -> GateRule:
        """Add a gate rule: a `GateRule`, a dict, or a kind with options (`s.gate("tool", pattern="rm")`)."""
        if isinstance(rule, str):
            rule = {"when": rule, **options}
        return self.gates.add(rule)

    # --- asking -------------------------------------------------------------------------------------
    async def aintercept(
        self,
        parent: Node,
        parsed: Parsed,
        calls: list[LLMCall],
        fields: dict[str, Any],
        step: Callable[[Any], Awaitable[Any]] | None,
        move_cursor: bool,
    ) -> Node | None:
        """Called by `aexecute` before an action runs: None to run it now, else the node that holds
        the proposal (pending) or its rejection."""
        if not self.gates.rules and not self.specs:
            return None
        cost = self.tree.cost
        proposal = proposal_from(parsed, self.env, cost=cost)
        spec = self.spec_hit(parent, parsed)
        if spec is not None:
            broken, why, trace = spec
            rule = GateRule(
                "predicate", fn=bool, name=f"spec: {broken.name}", decision="reject" if broken.on_violation == "reject" else "ask",
                reason=f"it would break the behaviour spec {broken.formula}",
            )  # fmt: skip
            hit: GateHit | None = GateHit(rule, why)
            fields["info"]["spec_trace"] = trace
        else:
            hit = await self.gates.acheck(proposal)
        calls.extend(proposal.risk_calls)  # a model scorer's evaluation: recorded on the step's node
        if hit is None:
            return None
        info = fields["info"]
        record = {"state": "pending", "by": "", **hit.to_dict(), "kind": proposal.kind}
        if proposal.risk is not None:
            record.update(risk=proposal.risk, risk_reasoning=proposal.risk_reasoning)
        info["approval"] = record
        if hit.decision == "approve":
            record.update(state="approved", by=f"rule: {hit.rule.describe()}")
            return None
        if proposal.kind == "code":
            info["kind"] = "code"
        node = self.tree.new_node(
            parent.id,
            plan=self.plan.to_list(),
            memory=self.memory.state(),
            **{**fields, "status": "frontier"},
        )
        for call in calls:
            self.tree.record_call(node, call)
        proposal.node_id, proposal.parent_id = node.id, parent.id
        pending = PendingApproval(proposal, hit, node, parent, parsed, step, move_cursor)
        if hit.decision == "reject":
            self.events.publish(ev.NodeAdded(self.run_id, node=node))
            self._reject(
                pending, hit.rule.reason or f"the rule '{hit.rule.describe()}' forbids it", by="rule"
            )
            return node
        self.pending_approval = pending
        self.status = "waiting"
        self.events.publish(ev.NodeAdded(self.run_id, node=node))
        self.events.publish(ev.ApprovalNeeded(self.run_id, node_id=node.id, approval=pending.to_dict()))
        return node

    def _ask_replay(
        self, exc: ReplayNeedsApproval, calls: list[LLMCall] | None = None, start: Node | None = None
    ) -> None:
        """A step needs to replay approved actions: ask before it does. No node is made, unless the
        step had already called the model (`calls`): its answer is not run, but the calls are kept on
        a node under `start` (kind `interrupted`, status error) so the record and the totals hold them."""
        if calls and start is not None:
            info = {"kind": "interrupted", "replay": list(exc.nodes)}
            self._error_node(start, f"Not run: {exc}", f"not run: {exc}", info, calls)
        parent = self.tree.nodes[exc.target]
        actions = "; ".join(f"#{n}: {self.tree.nodes[n].action}" for n in exc.nodes)
        proposal = Proposal("replay", f"replay {actions}", parent_id=parent.id)
        hit = GateHit(GateRule("predicate", fn=bool, name="replay of an approved action"), str(exc))
        self.pending_approval = PendingApproval(proposal, hit, None, parent, replay=list(exc.nodes))
        self.status = "waiting"
        self.events.publish(
            ev.ApprovalNeeded(self.run_id, node_id=None, approval=self.pending_approval.to_dict())
        )

    def approved_for_replay(self, nodes: list[Node], target: int, *, consume: bool = False) -> None:
        """Raise `ReplayNeedsApproval` when replaying `nodes` (to reach `target`) would re-run
        gated actions a person approved once and has not approved replaying. `consume`: the replay
        happens now, so a consent given for it is used up when the step ends (the next step's
        replay asks again)."""
        gated = [
            n
            for n in nodes
            if n.executed and (n.info.get("approval") or {}).get("state") in ("approved", "edited")
        ]
        need = list(dict.fromkeys(n.id for n in gated if n.id not in self._replay_approved))
        if need:
            raise ReplayNeedsApproval(need, target)
        if consume:  # used up when the step ends (its kernel and its env may both replay them)
            self._replay_used.update(n.id for n in gated)

    def consume_replay_consent(self) -> None:
        """The end of a step: the replays a person allowed and this step made are allowed no more."""
        if self._replay_used:
            self._replay_approved.difference_update(self._replay_used)
            self._replay_used.clear()

    def _env_at(self, node_id: int) -> bool:
        """Whether the env is in `node_id`'s state or gets there without a replay (a snapshot)."""
        return self._env_node == node_id or node_id in self._snapshots

    def check_replay_consent(self, node_id: int) -> None:
        """Before a step from `node_id`: would bringing the env there replay approved actions?"""
        at_state = self._env_at(self.env_state_of(node_id))  # after a malformed answer: its parent's
        replays = getattr(self.strategy, "replay_nodes", None)  # CodeAct: cells its kernel would re-run
        if at_state and not callable(replays):
            return  # nothing would be replayed (no walk of a 10,000-node path on every step)
        path = self.tree.path(node_id)
        nodes = [n for n in path[1:] if replay_actions(n)] if not at_state else []
        if callable(replays):
            nodes += replays(path)
        self.approved_for_replay(nodes, node_id)

    # --- deciding -----------------------------------------------------------------------------------
    def _require_pending(self) -> PendingApproval:
        pending = self.pending_approval
        if pending is None:
            raise ConfigError("no action awaits approval; gated actions pause the run with ApprovalNeeded")
        if self._stepping:
            raise StepInProgress("a step is running; wait for it before deciding")
        return pending

    async def aapprove(self, edited: Any = None, *, by: str = "user") -> Node | None:
        """Run the pending action (as proposed, or with `edited` arguments / code / action text).

        Returns the node it made (None for an approved replay: the next step replays). `by` says who
        decided (the CLI's `--approve always` records itself there)."""
        pending = self._require_pending()
        if pending.node is None:  # a replay
            self._replay_approved.update(pending.replay)
            self.pending_approval = None
            self.status = "idle"
            self.events.publish(
                ev.ApprovalDecided(self.run_id, node_id=None, decision="approved", by=by, reason="replay")
            )
            return None
        parsed = self._edited(pending, edited)
        node, record = pending.node, pending.node.info["approval"]
        self.forget_monitor(node.id)
        record.update(state="edited" if edited is not None else "approved", by=by)
        if edited is not None:
            record["proposed"] = node.action
        self.pending_approval = None
        self._stepping = True
        try:
            native = any(c.tool_calls for c in node.llm_calls)  # the agent's call (not a risk evaluation)
            fields = await self._execute_action(pending.parent, parsed, pending.step, node.info, native)
            node.action, node.tool = parsed.action, parsed.tool
            for name, value in fields.items():
                setattr(node, name, value)
            self.events.publish(
                ev.ApprovalDecided(
                    self.run_id,
                    node_id=node.id,
                    decision=record["state"],
                    by=by,
                    edited=None if edited is None else _plain(edited),
                )
            )
            self._settle_node(node, pending.parent, parsed, pending.move_cursor, added=False)
        except BaseException:
            record.update(state="failed")
            raise
        finally:
            self._stepping = False
            self.consume_replay_consent()
        self.status = "done" if self.done else "idle"
        return node

    def adecide(
        self, decision: str, text: str | None = None, *, by: str = "user", go_on: bool = True
    ) -> Coroutine[Any, Any, Node | None]:
        """A person's decision as a front end has it, in raw text: `"approve"` (`text`: the edited
        arguments as JSON, or the new code / action text; empty: as proposed) or `"reject"` (`text`:
        the reason the agent reads; required). Checked now — a `ConfigError` says what is wrong and
        nothing changes — and carried out by the returned coroutine, which then lets the run that
        paused for the decision go on (`arun`) unless `go_on=False` (see `goes_on`)."""
        pending = self._require_pending()
        if decision == "approve":
            value: Any = None if text is None or not str(text).strip() else str(text)
            if value is not None and pending.node is None:
                raise ConfigError("a replay cannot be edited: approve or reject it")
            if value is not None and pending.proposal.kind == "tool":
                value = _edited_json(value)
            if value is not None:
                self._edited(pending, value)  # the edit is checked before anything runs
        elif decision == "reject":
            value = str(text or "").strip()
            if not value:
                raise ConfigError(
                    "a rejection needs a reason: the agent reads it as the result of its action"
                )
        else:
            raise ConfigError(f"decision must be 'approve' or 'reject', not {decision!r}")

        async def carry_out() -> Node | None:
            if decision == "approve":
                node = await self.aapprove(value, by=by)
            else:
                node = self.reject(value, by=by)
            if go_on and self.goes_on(pending):
                await self.arun()
            return node

        return carry_out()

    def goes_on(self, pending: PendingApproval) -> bool:
        """Whether the run that paused for `pending` goes on now that it is decided."""
        return pending.from_run and not self.done and self.pending_approval is None

    def approve(self, edited: Any = None, *, by: str = "user") -> Node | None:
        """Blocking form of `aapprove`."""
        return run_sync(self.aapprove(edited, by=by))

    def reject(self, reason: str = "", *, by: str = "user") -> Node | None:
        """Do not run the pending action; `reason` becomes the agent's next observation."""
        pending = self._require_pending()
        self.pending_approval = None
        if pending.node is None:
            self.status = "idle"
            self.events.publish(
                ev.ApprovalDecided(self.run_id, node_id=None, decision="rejected", by=by, reason=reason)
            )
            return None
        self._reject(pending, reason, by=by)
        self.status = "done" if self.done else "idle"
        return pending.node

    async def areject(self, reason: str = "", *, by: str = "user") -> Node | None:
        return self.reject(reason, by=by)

    def _reject(self, pending: PendingApproval, reason: str, *, by: str) -> None:
        node, parent = pending.node, pending.parent
        assert node is not None
        self.forget_monitor(node.id)
        reason = str(reason or "").strip() or "no reason given"
        text = ("Rejected by an approval rule: " if by == "rule" else REJECTED) + reason
        node.info["approval"].update(state="rejected", by=by, reason=reason)
        node.info.setdefault("kind", "rejected")
        if pending.parsed is not None and pending.parsed.tool_calls:
            native = any(c.tool_calls for c in node.llm_calls)  # the agent's call (not a risk evaluation)
            node.info["tool_format"] = "native" if native else "text"
            node.info["tool_calls"] = [
                {
                    "id": c.id or f"call_{i}",
                    "name": c.name,
                    "arguments": c.arguments,
                    "args": None,
                    "result": text,
                    "error": "rejected",
                    "duration": 0.0,
                    "destructive": bool(
                        getattr((getattr(self.env, "tools", None) or {}).get(c.name), "destructive", False)
                    ),
                    "rejected": True,
                }
                for i, c in enumerate(pending.parsed.tool_calls)
            ]
        node.observation, node.status, node.executed = text, "expanded", False
        snapshot = self._snapshots.get(parent.id)
        if snapshot is not None:  # the env is in the parent's state at this node
            self._snapshots[node.id] = snapshot
        if self._env_node == parent.id:
            self._env_node = node.id
        self.events.publish(
            ev.ApprovalDecided(
                self.run_id, node_id=node.id, decision="rejected", by=by, reason=reason,
                provenance="agent" if by == "rule" else "user",
            )
        )  # fmt: skip
        self._settle_node(node, parent, pending.parsed, pending.move_cursor, added=False)

    def _edited(self, pending: PendingApproval, edited: Any) -> Parsed:
        parsed = pending.parsed
        assert parsed is not None
        if edited is None:
            return parsed
        kind = pending.proposal.kind
        if kind == "tool":
            from ..tools.env import ToolCall

            if isinstance(edited, str):  # raw text from a front end: JSON, a dict or a list of them
                edited = _edited_json(edited)
            calls = list(parsed.tool_calls or ())
            values = edited if isinstance(edited, list) else [edited]
            if len(values) != len(calls):
                raise ConfigError(
                    f"the proposal has {len(calls)} tool call(s); give {'a dict' if len(calls) == 1 else 'a list'} "
                    "of arguments for each"
                )
            new = []
            for call, args in zip(calls, values, strict=True):
                if isinstance(args, str):
                    args = _edited_json(args)
                if not isinstance(args, dict):
                    raise ConfigError(
                        f"edited arguments of {call.name} must be a dict, got {type(args).__name__}"
                    )
                new.append(ToolCall(call.name, json.dumps(args), id=call.id))
            action = new[0].text() if len(new) == 1 else "; ".join(c.text() for c in new)
            return replace(parsed, tool_calls=new, action=action)
        if not isinstance(edited, str) or not edited.strip():
            raise ConfigError(
                f"an edited {kind} action is text (the new {'code' if kind == 'code' else 'action'})"
            )
        return replace(parsed, action=edited)

    def drop_pending(self, why: str) -> None:
        """Forget the pending proposal (a rewind); recorded as `dropped` on its node."""
        pending, self.pending_approval = self.pending_approval, None
        if pending is None:
            return
        if pending.node is not None:
            self.forget_monitor(pending.node.id)
            pending.node.info["approval"].update(state="dropped", by="user", reason=why)
            self.update_node(pending.node, provenance="user", status="pruned", info=pending.node.info)
        self.events.publish(
            ev.ApprovalDecided(
                self.run_id, node_id=pending.node_id, decision="dropped", by="user", reason=why
            )
        )

    def drop_stale_proposals(self) -> list[int]:
        """Proposals a resumed run left waiting (the process ended before a decision) are dropped:
        recorded as such on their nodes; the next step asks the model again. Returns their ids."""
        stale = [
            n for n in self.tree.nodes.values() if (n.info.get("approval") or {}).get("state") == "pending"
        ]
        for node in stale:
            node.info["approval"].update(state="dropped", by="", reason="the session ended before a decision")
            self.update_node(node, status="pruned", info=node.info)
        return [n.id for n in stale]

    async def asearch_gate(self, node: Node) -> str | None:
        """Why a search must not execute `node`'s action by itself (a gate that does not approve), or None."""
        if not self.gates.rules or not node.action:
            return None
        hit = await self.gates.acheck(Proposal("action", node.action, cost=self.tree.cost))
        if hit is None or hit.decision == "approve":
            return None
        return f"{hit.rule.describe()}: {hit.why}"


def _edited_json(text: str) -> Any:
    """Edited tool arguments given as text: parsed as JSON (a `ConfigError` says where it is wrong)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"the edited arguments are not JSON ({exc.msg}, line {exc.lineno}); they must be JSON, "
            'e.g. {"path": "b.txt"}'
        ) from None


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
