"""Behaviour specs: the LTL parser, the monitor on finite traces (property-tested against the
direct semantics), the paper's ReAct spec, few-shot validation and the action-name restriction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ltl_reference import check_by_rewriting, holds

from workbench.errors import ConfigError
from workbench.oversight.specs import (
    REACT,
    F,
    Position,
    Spec,
    allowed_actions,
    check,
    parse,
    text_positions,
    validate_example,
)


def P(kind: str, *names: str, node: int | None = None, error: bool = False) -> Position:
    return Position(kind, names=names, node=node, error=error)


def react_trace(*steps: str) -> list[Position]:
    """t a i o per step name; 'ANS' ends with an answer."""
    out = []
    for k, step in enumerate(steps):
        out.append(P("thought", node=k))
        if step == "ANS":
            out.append(P("answer", node=k))
        else:
            out += [P("action", step, node=k), P("action_input", step, node=k), P("observation", node=k)]
    return out


# --- parsing --------------------------------------------------------------------------------------------
def test_parse_reads_the_language_and_prints_it_back():
    f = parse("G(tool(delete_file) -> previous(tool(list_files)))")
    assert str(f) == "G(tool(delete_file) -> previous(tool(list_files)))"
    assert str(parse("not thought and X action or F answer")) == "(not thought and X(action)) or F(answer)"
    assert str(parse("thought U action")) == "thought U action"
    assert str(parse("G(not streak(error, 4))")) == "G(not streak(error, 4))"


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "a spec is a formula"),
        ("G(thinking)", "unknown step predicate 'thinking'"),
        ("G(thought", "expected ')'"),
        ("previous(F answer)", "without X, F, G or U"),
        ("tool", "tool needs an argument"),
        ("streak(error, 0)", "count >= 1"),
        ("thought $ action", "cannot read"),
        ("thought action", "unexpected 'action'"),
    ],
)
def test_bad_specs_say_what_is_wrong(text, says):
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        parse(text)


def test_spec_options_are_checked():
    with pytest.raises(ConfigError, match="valid: pause, reject, ask"):
        Spec("F answer", on_violation="explode")


# --- the paper's ReAct spec ----------------------------------------------------------------------------------
def test_react_spec_accepts_a_react_run_and_flags_each_broken_rule():
    good = react_trace("search", "lookup", "ANS")
    assert all(check(s, good, finished=True).state == "ok" for s in REACT)
    no_input = [P("thought"), P("action", "go"), P("observation")]
    broken = [v.spec.name for v in (check(s, no_input) for s in REACT) if v.violated]
    assert broken == ["ReAct: an action has its input"]
    unfinished = react_trace("search")
    assert check(REACT[4], unfinished).state == "pending"  # F answer: not yet
    assert check(REACT[4], unfinished, finished=True).violated  # ... and never, once it is over
    assert check(REACT[1], [P("thought"), P("action", "go")]).state == "pending"  # the input may still come


def test_user_rules_look_before_you_delete_and_at_most_three_consecutive_errors():
    rule = Spec("G(tool(delete_file) -> previous(tool(list_files)))")
    assert check(rule, react_trace("list_files", "delete_file")).state == "pending"
    verdict = check(rule, react_trace("read", "delete_file"))
    assert verdict.violated and verdict.at == 5  # the delete_file action position
    errors = Spec.at_most_consecutive_errors(3)
    three = [p for k in range(3) for p in (P("thought", node=k), P("error", node=k, error=True))]
    assert check(errors, three).state == "pending"
    four = three + [P("error", node=3, error=True)]
    assert check(errors, four).violated
    broken_streak = three[:4] + [P("observation", node=9)] + three[4:] + [P("error", node=3, error=True)]
    assert check(errors, broken_streak).state == "pending"


def test_few_shot_examples_are_validated_and_the_action_set_is_restricted():
    example = "Thought: look first\nAction: search\nAction Input: apples\nObservation: 3 results\nThought: ok\nAnswer: 3"
    assert validate_example(REACT, example) == []
    bad = "Thought: skip the input\nAction: search\nObservation: ?\nAnswer: 3"
    assert [v.spec.name for v in validate_example(REACT, bad)] == ["ReAct: an action has its input"]
    assert [p.kind for p in text_positions(example)][:3] == ["thought", "action", "action_input"]
    rule = Spec("G(tool(delete_file) -> previous(tool(list_files)))")
    trace = react_trace("read")
    assert allowed_actions([rule], trace, ["read", "delete_file", "list_files"]) == ["read", "list_files"]
    assert allowed_actions([rule], react_trace("list_files"), ["delete_file"]) == ["delete_file"]


# --- property tests: the monitor agrees with the semantics --------------------------------------------
ATOMS = [F("atom", (k, None)) for k in ("thought", "action", "observation", "answer", "error")] + [
    F("atom", ("tool", "rm")),
    F("atom", ("tool", "ls")),
    F("const", (True,)),
    F("const", (False,)),
]


def formulas(depth: int = 3) -> st.SearchStrategy[F]:
    def extend(inner: st.SearchStrategy[F]) -> st.SearchStrategy[F]:
        return st.one_of(
            st.builds(lambda a: F("not", (a,)), inner),
            st.builds(lambda a: F("X", (a,)), inner),
            st.builds(lambda a: F("F", (a,)), inner),
            st.builds(lambda a: F("G", (a,)), inner),
            st.builds(lambda a, b: F("and", (a, b)), inner, inner),
            st.builds(lambda a, b: F("or", (a, b)), inner, inner),
            st.builds(lambda a, b: F("implies", (a, b)), inner, inner),
            st.builds(lambda a, b: F("U", (a, b)), inner, inner),
        )

    past = st.recursive(
        st.sampled_from(ATOMS),
        lambda inner: st.one_of(
            st.builds(lambda a: F("previous", (a,)), inner), st.builds(lambda a: F("not", (a,)), inner)
        ),
        max_leaves=2,
    )
    return st.recursive(st.one_of(st.sampled_from(ATOMS), past), extend, max_leaves=6)


positions = st.builds(
    lambda kind, name, err: Position(kind, names=(name,) if kind == "action" else (), error=err),
    st.sampled_from(["thought", "action", "observation", "answer", "error"]),
    st.sampled_from(["rm", "ls"]),
    st.booleans(),
)


def spec_of(f: F) -> Spec:
    spec = Spec("true")
    spec.parsed = f
    return spec


@settings(max_examples=300, deadline=None)
@given(formulas(), st.lists(positions, max_size=7))
def test_the_monitor_at_the_end_agrees_with_finite_trace_semantics(f, trace):
    assert check(spec_of(f), trace, finished=True).violated == (not holds(f, trace))


@settings(max_examples=300, deadline=None)
@given(formulas(), st.lists(positions, max_size=6), st.lists(positions, max_size=4))
def test_verdicts_are_final_a_violation_or_a_pass_holds_for_every_continuation(f, prefix, rest):
    early = check(spec_of(f), prefix)
    full = prefix + rest
    if early.state == "violated":
        assert not holds(f, full)
        later = check(spec_of(f), full)
        assert later.violated and later.at == early.at  # found at the same position, never undone
    elif early.state == "ok":
        assert holds(f, full)


@settings(max_examples=200, deadline=None)
@given(formulas())
def test_printing_and_parsing_round_trip(f):
    assert parse(str(f)) == f or str(parse(str(f))) == str(f)


# --- the monitor in a session ---------------------------------------------------------------------------
def _tools():
    from workbench import tool

    done: list[str] = []

    @tool
    def list_files() -> str:
        """The files."""
        done.append("list")
        return "a.txt"

    @tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        done.append(f"delete {path}")
        return f"deleted {path}"

    return [list_files, delete_file], done


LOOK_FIRST = "G(tool(delete_file) -> previous(tool(list_files)))"


def test_a_pause_spec_stops_the_run_at_the_violating_step_and_records_the_trace():
    from workbench.core import events as ev
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel

    tools, done = _tools()
    answers = [
        'Thought: go\nAction: delete_file\nAction Input: {"path": "a.txt"}',
        "Thought: more\nAction: list_files\nAction Input: {}",
    ]
    s = Session(
        tools=tools, model=ScriptedModel(answers), tool_calling="text", gates=None, specs=[LOOK_FIRST]
    )
    seen: list = []
    s.subscribe(seen.append)
    nodes = s.run(max_steps=3)
    assert len(nodes) == 1 and done == ["delete a.txt"]  # pause = after the step, like a breakpoint
    (violation,) = nodes[0].info["spec_violations"]
    assert violation["formula"] == LOOK_FIRST and [p["kind"] for p in violation["trace"]][-2:] == [
        "thought",
        "action",
    ]
    assert violation["trace"][-1]["here"] and violation["trace"][-1]["names"] == ["delete_file"]
    assert any(isinstance(e, ev.SpecViolated) for e in seen)
    assert next(e for e in seen if isinstance(e, ev.BreakpointHit)).breakpoint == f"spec {LOOK_FIRST}"
    s.run(max_steps=1)  # going on is the person's choice; the same violation is not reported again
    assert "spec_violations" not in s.cursor.info


def test_a_reject_spec_keeps_the_action_from_running_and_the_agent_reads_the_rule():
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.oversight.specs import Spec

    tools, done = _tools()
    answers = ['Thought: go\nAction: delete_file\nAction Input: {"path": "a.txt"}', "Thought: look\nAction: list_files\nAction Input: {}",
               'Thought: now\nAction: delete_file\nAction Input: {"path": "a.txt"}']  # fmt: skip
    s = Session(tools=tools, model=ScriptedModel(answers), tool_calling="text", gates=None,
                specs=[Spec(LOOK_FIRST, name="look before you delete", on_violation="reject")])  # fmt: skip
    first = s.step()
    assert not first.executed and done == []
    assert (
        first.observation == f"Rejected by an approval rule: it would break the behaviour spec {LOOK_FIRST}"
    )
    assert (
        first.info["approval"]["rule"] == "spec: look before you delete"
        and first.info["spec_trace"][-1]["here"]
    )
    s.step()
    third = s.step()
    assert third.executed and done == ["list", "delete a.txt"]


def test_an_ask_spec_waits_for_a_person_and_native_tools_are_restricted(server):
    import json

    from workbench.core.session import Session
    from workbench.llm.model import Model
    from workbench.oversight.specs import Spec

    tools, done = _tools()
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, timeout=5.0)
    call = {"tool_calls": [{"id": "c0", "name": "delete_file", "arguments": json.dumps({"path": "a.txt"})}]}
    server.script(call)
    s = Session(
        tools=tools,
        model=model,
        tool_calling="native",
        gates=None,
        specs=[Spec(LOOK_FIRST, on_violation="ask")],
    )
    s.step()
    offered = [t["function"]["name"] for t in server.requests[0]["tools"]]
    assert offered == ["list_files", "final_answer"]  # delete_file would break the spec now: not offered
    assert s.pending_approval is not None and s.pending_approval.hit.rule.describe() == f"spec: {LOOK_FIRST}"
    s.reject("list the files first")
    assert done == []


def test_the_text_tool_format_lists_only_the_tools_no_spec_forbids():
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.oversight.specs import Spec

    tools, done = _tools()
    answers = ["Thought: look\nAction: list_files\nAction Input: {}",
               'Thought: now\nAction: delete_file\nAction Input: {"path": "a.txt"}']  # fmt: skip
    s = Session(tools=tools, model=ScriptedModel(answers), tool_calling="text", gates=None,
                specs=[Spec(LOOK_FIRST, on_violation="reject")])  # fmt: skip

    def listed(node) -> str:
        return node.llm_calls[0].messages[0]["content"]

    first = s.step()
    assert "- list_files()" in listed(first) and "delete_file" not in listed(first)
    second = s.step()
    assert "- delete_file(" in listed(second)  # after list_files the spec allows it again
    assert done == ["list", "delete a.txt"]


def _steps_trace(kinds: list[list[str]]) -> list[Position]:
    """Positions grouped by step (node ids 1, 2, ...), as a run's path gives them."""
    return [
        Position(k, names=("rm",) if k == "action" else (), node=n, error=k == "error")
        for n, step in enumerate(kinds, 1)
        for k in step
    ]


STEP_KINDS = st.lists(
    st.lists(
        st.sampled_from(["thought", "action", "observation", "error", "answer"]), min_size=1, max_size=3
    ),
    max_size=7,
)
STREAK = st.builds(
    lambda kind, n: F("atom", ("streak", (kind, n))), st.sampled_from(["error", "action"]), st.integers(1, 3)
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(formulas(), st.builds(lambda s: F("G", (F("not", (s,)),)), STREAK)),
    STEP_KINDS,
    st.integers(0, 7),
)
def test_the_incremental_monitor_matches_rewriting_and_resumes_from_any_step(f, kinds, cut):
    from workbench.oversight.specs import advance, start

    spec, trace = spec_of(f), _steps_trace(kinds)
    for finished in (False, True):
        fast, slow = check(spec, trace, finished=finished), check_by_rewriting(spec, trace, finished=finished)
        assert (fast.state, fast.at) == (slow.state, slow.at)
    split = sum(len(k) for k in kinds[:cut])  # a state kept at a step, progressed by the rest
    resumed = advance(spec, advance(spec, start(spec), trace[:split]), trace[split:])
    assert resumed == advance(spec, start(spec), trace)


def test_an_approved_proposal_is_monitored_as_what_ran_not_as_what_waited():
    """The monitor keeps a state per node; a proposal's positions change when a person approves it
    (it waited as an action of no tool, it ran as delete_file), and the next step sees the change."""
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.oversight.gates import Gate

    tools, done = _tools()
    answers = [
        'Thought: go\nAction: delete_file\nAction Input: {"path": "a.txt"}',
        "Thought: more\nAction: list_files\nAction Input: {}",
    ]
    no_delete = Spec("G(not tool(delete_file))", name="never delete")
    s = Session(
        tools=tools, model=ScriptedModel(answers), tool_calling="text",
        gates=[Gate.tool("delete_file")], specs=[no_delete],
    )  # fmt: skip
    s.step()  # proposed: waits as an action of no tool, so no violation yet
    assert "spec_violations" not in s.cursor.info and not s.monitor_state(no_delete, s.cursor).violated
    s.approve()
    assert done == ["delete a.txt"]
    nxt = s.step()
    assert s.monitor_state(no_delete, nxt).violated  # the kept state of the approved node is not stale
