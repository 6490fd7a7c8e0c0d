"""Approval gates: rules that decide which proposed actions need a person before they run.

    from workbench.oversight.gates import Gate
    s = Session(tools=[...], gates=[Gate.destructive(), Gate.tool("delete_.*"), Gate.code("network")])

A rule looks at a `Proposal` (the action the agent wants to take, not yet executed) and says why it
matches, or nothing. The first matching rule decides: `ask` (the default: the run pauses with an
`ApprovalNeeded` event until `Session.approve()` / `reject(reason)`), `approve` (run it, recorded as
approved by the rule) or `reject` (do not run it; the rule's reason is the agent's observation).

Rule kinds (`when`):
    destructive     a called tool is marked `destructive=True` (a code action calling one counts)
    tool            a called tool's name matches the regex `pattern` (whole name)
    action          the action text matches the regex `pattern` (anywhere)
    code            a code action matches `pattern`: a regex or one of the named patterns
                    file-write, subprocess, network (no pattern: any of the three)
    cost            the run's cost with this step's model calls is at least `above` dollars
    risk            the risk score (0-3, ToolEmu's scale; 3 = no risk) is below `below`; the score
                    comes from `Gates(..., risk=scorer)`: a function of the proposal, or an async
                    one (`emulator.model_risk_scorer`: the model-based evaluator, before execution)
    predicate       `fn(proposal)` is true (Python only)

The same rules as TOML (`Gates.from_toml(path)`, the CLI's `--approve rules.toml`):

    [[rule]]
    when = "destructive"

    [[rule]]
    when = "tool"
    pattern = "delete_.*"
    decision = "reject"
    reason = "nothing is deleted in unattended runs"

    [[rule]]
    when = "code"
    pattern = "network"
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

WHEN = ("destructive", "tool", "action", "code", "cost", "risk", "predicate")
DECISIONS = ("ask", "approve", "reject")

CODE_PATTERNS: dict[str, str] = {
    "file-write": (
        r"\bopen\s*\([^,)]*,\s*(?:mode\s*=\s*)?['\"][^'\"]*[wax+]|\bmode\s*=\s*['\"][^'\"]*[wax+]|"
        r"\.write_(?:text|bytes)\s*\(|"
        r"\bshutil\.(?:copy\w*|move|rmtree)\b|\bos\.(?:remove|unlink|rmdir|removedirs|rename|replace|"
        r"makedirs|mkdir|truncate)\b|\.unlink\s*\(|\.rmdir\s*\(|\.touch\s*\("
    ),
    "subprocess": r"\bsubprocess\b|\bos\.(?:system|popen|exec\w*|spawn\w*|fork)\b|\bpty\.spawn\b",
    "network": r"\b(?:requests|urllib\d?|httpx|socket|aiohttp|ftplib|smtplib|http\.client|websockets?)\b",
}


@dataclass
class Proposal:
    """An action the agent wants to take, before it runs (what the gates and the approval card see)."""

    kind: str  # "tool" | "code" | "action" | "replay"
    action: str
    calls: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "arguments", "destructive"}]
    code: str | None = None
    destructive: bool = False
    cost: float = 0.0  # the run's cost including this step's model calls
    risk: float | None = None  # 0-3 (3 = certainly no risk), when a risk scorer is set
    risk_reasoning: str = ""
    risk_calls: list[Any] = field(default_factory=list, repr=False)  # a model scorer's LLMCalls
    node_id: int | None = None
    parent_id: int | None = None

    @property
    def tool_names(self) -> list[str]:
        return [str(c.get("name", "")) for c in self.calls]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action,
            "calls": [dict(c) for c in self.calls],
            "code": self.code,
            "destructive": self.destructive,
            "cost": self.cost,
            "risk": self.risk,
            "risk_reasoning": self.risk_reasoning,
        }


@dataclass
class GateRule:
    """One rule (see the module docstring). `describe()` is how the card and the record name it."""

    when: str
    pattern: str | None = None
    above: float | None = None
    below: float | None = None
    fn: Callable[[Proposal], bool] | None = field(default=None, repr=False)
    decision: str = "ask"
    reason: str = ""
    name: str = ""
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.when not in WHEN:
            raise ConfigError(f"unknown gate kind when={self.when!r}; valid: {', '.join(WHEN)}")
        if self.decision not in DECISIONS:
            raise ConfigError(f"unknown gate decision {self.decision!r}; valid: {', '.join(DECISIONS)}")
        if self.when in ("tool", "action") and not self.pattern:
            raise ConfigError(f"a {self.when} gate needs pattern= (a regular expression)")
        if self.when == "cost" and self.above is None:
            raise ConfigError("a cost gate needs above= (dollars)")
        if self.when == "risk" and self.below is None:
            raise ConfigError("a risk gate needs below= (a score 0-3; 3 is certainly no risk)")
        if self.when == "predicate" and not callable(self.fn):
            raise ConfigError("a predicate gate needs fn= (a function of the Proposal returning a bool)")
        if self.when in ("tool", "action", "code"):
            source = self.pattern
            if self.when == "code":
                source = CODE_PATTERNS.get(self.pattern or "", self.pattern) or "|".join(
                    CODE_PATTERNS.values()
                )
            try:
                self._regex = re.compile(source or "", re.I if self.when != "code" else 0)
            except re.error as exc:
                raise ConfigError(f"invalid {self.when} gate pattern {self.pattern!r}: {exc}") from None

    def describe(self) -> str:
        if self.name:
            return self.name
        if self.when == "destructive":
            return "destructive tool"
        if self.when in ("tool", "action"):
            return f"{self.when} matches {self.pattern}"
        if self.when == "code":
            return f"code: {self.pattern or 'file-write, subprocess or network'}"
        if self.when == "cost":
            return f"cost at least ${self.above}"
        if self.when == "risk":
            return f"risk score below {self.below}"
        return f"predicate {getattr(self.fn, '__name__', 'fn')}"

    def match(self, p: Proposal) -> str | None:
        """Why this rule fires on `p` (a short phrase), or None."""
        if self.when == "destructive":
            names = [c["name"] for c in p.calls if c.get("destructive")]
            if names or p.destructive:
                return f"{', '.join(names) or 'the action'} cannot be undone"
            return None
        if self.when == "tool":
            assert self._regex is not None
            hit = next((n for n in p.tool_names if self._regex.fullmatch(n)), None)
            return f"calls {hit}" if hit else None
        if self.when == "action":
            assert self._regex is not None
            m = self._regex.search(p.action or "")
            return f"the action contains {m.group(0)!r}" if m else None
        if self.when == "code":
            assert self._regex is not None
            m = self._regex.search(p.code or "") if p.kind == "code" else None
            return f"the code uses {m.group(0).strip()!r}" if m else None
        if self.when == "cost":
            assert self.above is not None
            return f"the run has cost ${p.cost:.4f}" if p.cost >= self.above else None
        if self.when == "risk":
            assert self.below is not None
            return f"risk score {p.risk:g}" if p.risk is not None and p.risk < self.below else None
        assert self.fn is not None
        return "the predicate is true" if self.fn(p) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"when": self.when, "decision": self.decision}
        for key in ("pattern", "above", "below", "reason", "name"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        return out


class Gate:
    """Constructors of `GateRule`s: `Gate.destructive()`, `Gate.tool("rm_.*")`, `Gate.code("network")`..."""

    @staticmethod
    def destructive(**kw: Any) -> GateRule:
        return GateRule("destructive", **kw)

    @staticmethod
    def tool(pattern: str, **kw: Any) -> GateRule:
        return GateRule("tool", pattern=pattern, **kw)

    @staticmethod
    def action(pattern: str, **kw: Any) -> GateRule:
        return GateRule("action", pattern=pattern, **kw)

    @staticmethod
    def code(pattern: str | None = None, **kw: Any) -> GateRule:
        return GateRule("code", pattern=pattern, **kw)

    @staticmethod
    def cost(above: float, **kw: Any) -> GateRule:
        return GateRule("cost", above=float(above), **kw)

    @staticmethod
    def risk(below: float, **kw: Any) -> GateRule:
        return GateRule("risk", below=float(below), **kw)

    @staticmethod
    def predicate(fn: Callable[[Proposal], bool], **kw: Any) -> GateRule:
        return GateRule("predicate", fn=fn, **kw)


@dataclass
class GateHit:
    """The rule that fired on a proposal and why."""

    rule: GateRule
    why: str

    @property
    def decision(self) -> str:
        return self.rule.decision

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.describe(),
            "why": self.why,
            "decision": self.decision,
            **self.rule.to_dict(),
        }


RiskScorer = Callable[[Proposal], Any]  # -> (score, reasoning) | score | None, or an awaitable of one


class Gates:
    """An ordered list of rules; the first that matches decides. `risk` scores proposals (optional)."""

    def __init__(
        self, rules: Iterable[GateRule | dict[str, Any]] = (), *, risk: RiskScorer | None = None
    ) -> None:
        self.rules: list[GateRule] = [rule_from(r) for r in rules]
        self.risk = risk

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(self.rules)

    def add(self, rule: GateRule | dict[str, Any]) -> GateRule:
        made = rule_from(rule)
        self.rules.append(made)
        return made

    def clear(self) -> None:
        self.rules.clear()

    @staticmethod
    def _set_score(p: Proposal, result: Any) -> None:
        if result is None:
            return
        score, reasoning, *made = result if isinstance(result, tuple) else (result, "")
        p.risk, p.risk_reasoning = float(score), str(reasoning)
        p.risk_calls += [c for c in made if c is not None]  # (score, reasoning, call): kept on the node

    def score(self, p: Proposal) -> None:
        """Fill `p.risk` (and its reasoning) from a synchronous risk scorer, when there is one."""
        if self.risk is None:
            return
        result = self.risk(p)
        if inspect.isawaitable(result):
            getattr(result, "close", lambda: None)()
            raise ConfigError("this risk scorer is async (a model call): use `await gates.acheck(p)`")
        self._set_score(p, result)

    async def ascore(self, p: Proposal) -> None:
        """Fill `p.risk` from the risk scorer, awaiting it when it is async (a model's evaluation)."""
        if self.risk is None:
            return
        result = self.risk(p)
        if inspect.isawaitable(result):
            result = await result
        self._set_score(p, result)

    def _first(self, p: Proposal) -> GateHit | None:
        for rule in self.rules:
            why = rule.match(p)
            if why:
                return GateHit(rule, why)
        return None

    def check(self, p: Proposal) -> GateHit | None:
        """The first rule that fires on `p`, or None (the action runs without asking)."""
        if not self.rules:
            return None
        self.score(p)
        return self._first(p)

    async def acheck(self, p: Proposal) -> GateHit | None:
        """`check` for the engine: an async risk scorer (a model's evaluation) is awaited."""
        if not self.rules:
            return None
        await self.ascore(p)
        return self._first(p)

    @classmethod
    def from_toml(cls, path: str | Path) -> Gates:
        """Rules from a TOML file of `[[rule]]` tables (see the module docstring)."""
        import tomllib

        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no rules file {str(p)!r}; give a TOML file of [[rule]] tables") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"rules file {str(p)!r} is not valid TOML: {exc}") from None
        rules = data.get("rule")
        if not isinstance(rules, list) or not rules:
            raise ConfigError(
                f'rules file {str(p)!r} has no [[rule]] tables; e.g. [[rule]] when = "destructive"'
            )
        return cls(rules)


_RULE_KEYS = {"when", "pattern", "above", "below", "decision", "reason", "name"}


def rule_from(value: GateRule | dict[str, Any]) -> GateRule:
    if isinstance(value, GateRule):
        return value
    if isinstance(value, dict):
        unknown = set(value) - _RULE_KEYS - {"fn"}
        if unknown:
            raise ConfigError(
                f"unknown gate rule key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(_RULE_KEYS))}"
            )
        if "when" not in value:
            raise ConfigError(f"a gate rule needs when= (one of {', '.join(WHEN)})")
        return GateRule(**value)
    raise ConfigError(f"a gate rule is a GateRule or a dict with when=..., not {type(value).__name__}")


def make_gates(value: Any) -> Gates:
    """`Session(gates=...)`: "default" (ask before destructive tools), None/"off"/[] (no gates), a list
    of rules, a `Gates`, or the path of a TOML rules file."""
    if isinstance(value, Gates):
        return value
    if value is None or value == "off":
        return Gates()
    if value == "default":
        return Gates([Gate.destructive()])
    if isinstance(value, (str, Path)):
        if str(value).endswith(".toml") or Path(value).is_file():
            return Gates.from_toml(value)
        raise ConfigError(f"gates={value!r}: valid: 'default', 'off', a list of rules, or a .toml rules file")
    if isinstance(value, (GateRule, dict)):
        return Gates([value])
    if isinstance(value, Iterable):
        return Gates(list(value))
    raise ConfigError(
        f"gates must be 'default', 'off', a list of rules or a rules file, not {type(value).__name__}"
    )


def proposal_from(parsed: Any, env: Any, *, cost: float = 0.0) -> Proposal:
    """The `Proposal` of a parsed answer about to be executed in `env`."""
    tools = getattr(env, "tools", None) or {}
    calls = []
    for c in parsed.tool_calls or ():
        t = tools.get(c.name)
        calls.append(
            {"name": c.name, "arguments": c.arguments, "destructive": bool(getattr(t, "destructive", False))}
        )
    if calls:
        destructive = any(c["destructive"] for c in calls)
        return Proposal("tool", parsed.action or "", calls=calls, destructive=destructive, cost=cost)
    if getattr(parsed, "kind", None) == "execute":
        code = parsed.action or ""
        called = [
            {"name": name, "arguments": "", "destructive": bool(getattr(t, "destructive", False))}
            for name, t in tools.items()
            if re.search(rf"\b{re.escape(name.replace('-', '_'))}\s*\(", code)
        ]
        destructive = any(c["destructive"] for c in called)
        return Proposal("code", code, calls=called, code=code, destructive=destructive, cost=cost)
    return Proposal("action", parsed.action or "", cost=cost)


def permissions(
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] = (),
    groups: dict[str, Iterable[str]] | None = None,
    name: str = "tool permissions",
) -> GateRule:
    """A gate rule that rejects calls of tools this agent may not use (AIOS-style access control).

    `allow` / `deny` hold tool names or group names (`groups={"read": ["list_files"], ...}`); a tool
    is permitted when it is allowed (or `allow` is None) and not denied. `final_answer` is always
    permitted. Checked before execution: a forbidden call does not run and the agent reads why.

        s.gates.rules.insert(0, permissions(allow=["read"], groups={"read": ["list_files", "read_file"]}))
    """
    table = {k: set(v) for k, v in (groups or {}).items()}

    def expand(names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            out |= table.get(n, {n})
        return out

    allowed = None if allow is None else expand(allow)
    denied = expand(deny)

    def forbidden(p: Proposal) -> bool:
        for tool_name in p.tool_names:
            if tool_name == "final_answer":
                continue
            if tool_name in denied or (allowed is not None and tool_name not in allowed):
                return True
        return False

    described = (
        f"{name}: allow {sorted(allowed) if allowed is not None else 'all'}, deny {sorted(denied) or 'none'}"
    )
    return GateRule(
        "predicate", fn=forbidden, decision="reject", name=described,
        reason="this agent is not permitted to use that tool",
    )  # fmt: skip
