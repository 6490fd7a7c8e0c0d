"""workbench.teaching's check results: right and wrong points, HTML and text, the verdict metadata."""

from __future__ import annotations

import subprocess
import sys

from workbench.teaching import Checker, CheckResult
from workbench.teaching.checks import META_KEY


def test_a_check_lists_what_is_right_and_what_is_wrong():
    c = Checker("Exercise 1: window")
    c.point(True, "memory is a window", "memory is not a window")
    c.point(3 == 4, "window of 4", "the window holds 3 steps, not 4")
    result = c.result()
    assert isinstance(result, CheckResult) and not result.passed and not result
    assert result.problems == ["the window holds 3 steps, not 4"]
    assert result.text().splitlines() == [
        "NOT YET: Exercise 1: window",
        "  ✓ memory is a window",
        "  ✗ the window holds 3 steps, not 4",
    ]
    data, meta = result._repr_mimebundle_()
    assert (
        'data-passed="false"' in data["text/html"]
        and "</span> the window holds 3 steps, not 4" in data["text/html"]
    )
    assert meta == {META_KEY: {"name": "Exercise 1: window", "passed": False}}


def test_unfinished_and_raising_answers_fail_without_raising():
    c = Checker("Exercise 2")
    assert c.unfinished(..., "the plan edit") is True
    assert c.attempt(lambda: {}["missing"], "the session has no plan") is None
    result = c.result()
    assert not result.passed
    assert result.problems[0] == "the plan edit is not done yet: replace the `...`"
    assert result.problems[1].startswith("the session has no plan (KeyError:")
    # inspect: both at once, and the value read from a finished answer (no point added)
    c = Checker("Exercise 3")
    assert c.inspect(..., "the agent", len, "not a list") is None
    assert c.inspect(7, "the agent", len, "not a list") is None
    assert c.inspect([1, 2], "the agent", len, "not a list") == 2
    assert c.result().problems == [
        "the agent is not done yet: replace the `...`",
        "not a list (TypeError: object of type 'int' has no len())",
    ]
    c = Checker("Exercise 4")
    assert c.function(len, "wilson") and not c.function(0.5, "wilson")
    assert [p.message for p in c.result().points] == [
        "wilson is a function",
        "wilson is float, not a function (pass the function itself, not its result)",
    ]


def test_a_check_with_no_points_does_not_pass_and_escapes_html():
    assert not Checker("empty").result().passed
    c = Checker("<b>x</b>")
    c.point(True, "a <script> is text", "")
    assert c.result().passed and "<script>" not in c.result().html()


def test_importing_the_package_imports_no_notebook_tooling():
    code = (
        "import sys, workbench.teaching as t; t.Checker;"
        "print(sorted(m for m in ('nbclient','nbformat','IPython','litellm','plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_prints_split_into_several_stream_messages_compare_equal():
    """The kernel flushes stdout on a timer: one run's prints may arrive as one message or several."""
    import nbformat

    from workbench.teaching import notebooks as tn

    def nb(*texts: str) -> object:
        cell = nbformat.v4.new_code_cell("print(1); print(2)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in texts]
        book = nbformat.v4.new_notebook()
        book.cells = [cell]
        return book

    assert tn.normalised(nb("a\n", "b\n")) == tn.normalised(nb("a\nb\n"))
    assert tn.normalised(nb("a\n", "c\n")) != tn.normalised(nb("a\nb\n"))


def test_measured_times_in_structured_outputs_compare_equal():
    """A run snapshot in a widget's output carries tool durations and call latencies: timings, not content."""
    import nbformat

    from workbench.teaching import notebooks as tn

    def nb(duration: float, action: str) -> object:
        cell = nbformat.v4.new_code_cell("TreeView(s)")
        data = {
            "application/vnd.agent-workbench.run+json": {
                "cards": {
                    "1": {
                        "action": action,
                        "tools": [{"name": "transfer", "duration": duration}],
                        "latency": duration,
                    }
                }
            }
        }
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        book = nbformat.v4.new_notebook()
        book.cells = [cell]
        return book

    assert tn.normalised(nb(0.0002, "pay")) == tn.normalised(nb(0.0003, "pay"))
    assert tn.normalised(nb(0.0002, "pay")) != tn.normalised(nb(0.0002, "refund"))


def test_exercise_3_names_the_first_window_where_a_longer_one_adds_under_a_point():
    from workbench.teaching import nb03

    grid, _ = nb03._runs()
    savings = [nb03.history_saving(grid, w) for w in range(1, nb03.WIDEST + 1)]
    want = next(w for w in range(1, nb03.WIDEST) if savings[w] - savings[w - 1] < 1)
    assert all(savings[w] - savings[w - 1] >= 1 for w in range(1, want))
    assert nb03.check_window(want).passed
    later = nb03.check_window(want + 1)
    assert not later.passed and "a smaller window is too" in str(later)
    if want > 1:
        earlier = nb03.check_window(want - 1)
        assert not earlier.passed and "still 1 or more" in str(earlier)
    for wrong in (0, nb03.WIDEST, True, "4"):
        answer = nb03.check_window(wrong)
        assert not answer.passed and f"from 1 to {nb03.WIDEST - 1}" in str(answer)
