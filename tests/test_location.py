"""The default run store: one file the kernel, the CLI and the Jupyter server agree on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.core import store_choice
from workbench.core.session import Session
from workbench.store import location


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("WORKBENCH_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(tmp_path, 0o755)  # not world-writable, so the upward search may pass through it
    return home


def test_the_rules_in_order(clean: Path, monkeypatch: pytest.MonkeyPatch):
    deep = clean / "project" / "notebooks" / "a"
    deep.mkdir(parents=True)
    user = clean.parent / "data" / "agent-workbench" / "runs.sqlite"
    assert location.describe_default(deep) == (user, "user")
    (clean / "project" / ".workbench").mkdir()
    assert location.describe_default(deep) == (clean / "project" / ".workbench" / "runs.sqlite", "project")
    (deep / ".workbench").mkdir()  # the nearest one wins
    assert location.default_store_path(deep) == deep / ".workbench" / "runs.sqlite"
    monkeypatch.setenv("WORKBENCH_STORE", str(clean / "mine.sqlite"))
    assert location.describe_default(deep) == (clean / "mine.sqlite", "$WORKBENCH_STORE")
    monkeypatch.setenv("WORKBENCH_STORE", str(clean))  # a folder holds runs.sqlite
    assert location.default_store_path(deep) == clean / "runs.sqlite"
    assert not user.parent.exists()  # finding the store creates nothing


def test_the_search_stops_below_a_world_writable_folder(clean: Path):
    shared = clean / "tmp"
    (shared / ".workbench").mkdir(parents=True)  # someone else's, in a folder anyone can write
    os.chmod(shared, 0o1777)
    (shared / "me").mkdir()
    assert location.describe_default(shared / "me")[1] == "user"


def test_sessions_persist_by_default_only_in_a_kernel(clean: Path, monkeypatch: pytest.MonkeyPatch):
    store_file = clean / "k.sqlite"
    monkeypatch.setenv("WORKBENCH_STORE", str(store_file))
    assert Session(env="gridworld").store is None  # a script or a test: nothing written unasked
    assert not store_file.exists()
    monkeypatch.setattr(store_choice, "in_kernel", lambda: True)
    s = Session(env="gridworld", seed=1)
    assert s.store is not None and Path(s.store.path) == store_file
    s.step()
    s.store.close()
    from workbench.store.sqlite import RunStore

    with RunStore(store_file, create=False) as check:
        assert check.load_run(s.run_id).steps == 1  # written as it went, no save needed
    assert Session(env="gridworld", store=None).store is None  # the opt-out


def test_an_unwritable_default_warns_and_the_session_still_works(
    clean: Path, monkeypatch: pytest.MonkeyPatch
):
    blocker = clean / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WORKBENCH_STORE", str(blocker / "runs.sqlite"))
    monkeypatch.setattr(store_choice, "in_kernel", lambda: True)
    with pytest.warns(UserWarning, match="this run is not persisted"):
        s = Session(env="gridworld")
    assert s.store is None and s.step().depth == 1
