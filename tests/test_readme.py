"""Every Python example in the README runs as written (magics included), in one IPython shell."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_every_python_example_in_the_readme_runs(monkeypatch, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell

    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "WORKBENCH_MODEL"):
        monkeypatch.delenv(key, raising=False)  # the examples run offline on the demo model
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 7
    shell = InteractiveShell.instance()
    try:
        for i, block in enumerate(blocks):
            result = shell.run_cell(block)
            error = result.error_before_exec or result.error_in_exec
            assert result.success, f"README python block {i} failed: {error!r}\n{block}"
        for session in [v for v in shell.user_ns.values() if type(v).__name__ == "Session"]:
            session.close()
    finally:
        InteractiveShell.clear_instance()


def test_the_bring_your_own_agent_command_line_example_runs(tmp_path):
    section = README.split("## Bring your own agent", 1)[1].split("\n## ", 1)[0]
    (command,) = re.findall(r"```bash\n(workbench run [^\n]*)\n```", section)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = command.split()[1:]
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "steps" in done.stdout or "step" in done.stdout
