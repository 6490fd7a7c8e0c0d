"""FinMem layered memory: the paper's decay, promotion, drop rules, retrieval score, user edits, resume."""

from __future__ import annotations

import math
from collections import Counter as Tally

import pytest

from workbench.core.tree import Run
from workbench.errors import ConfigError
from workbench.memory.base import make_memory
from workbench.memory.layered import (
    MEMORY_HEADER,
    LayeredMemory,
    initial_importance,
    lexical_similarity,
)


def build(observations: list[str], rewards: dict[int, float] | None = None) -> Run:
    run = Run(task="test")
    run.new_node(None, observation=observations[0])
    for i, text in enumerate(observations[1:], 1):
        run.new_node(
            i - 1,
            raw=f"Thought: t\nAction: a{i}",
            action=f"a{i}",
            observation=text,
            executed=True,
            reward=(rewards or {}).get(i, 0.0),
        )
    run.cursor = len(observations) - 1
    return run


def item(mem: LayeredMemory, run: Run, depth: int, node_id: int):
    return mem.layers(run.path(depth)).get(node_id)


def test_initial_importance_follows_the_papers_short_layer_draw():
    drawn = Tally(initial_importance(0, n) for n in range(4000))
    assert set(drawn) == {50.0, 70.0, 90.0}
    assert abs(drawn[50.0] / 4000 - 0.5) < 0.03
    assert abs(drawn[70.0] / 4000 - 0.45) < 0.03
    assert abs(drawn[90.0] / 4000 - 0.05) < 0.015
    assert initial_importance(0, 7) == initial_importance(0, 7)  # seeded: a run renders the same


def test_importance_decays_per_step_and_recency_is_exp_minus_delta_over_q():
    run = build([f"o{i}" for i in range(8)])
    mem = LayeredMemory()
    mem.set_importance("mem:0", 50, at_step=0)  # short layer, below promotion
    for k in range(1, 8):
        it = item(mem, run, k, 0)
        assert it.layer == "short" and it.delta == k
        assert it.importance == pytest.approx(50 * 0.92**k)
        assert it.recency == pytest.approx(math.exp(-k / 3))


def test_promotion_at_60_and_80_demotion_below_and_layer_decay_rates():
    run = build([f"o{i}" for i in range(12)])
    mem = LayeredMemory()
    mem.set_importance("mem:1", 59.9, at_step=1)
    mem.set_importance("mem:2", 60, at_step=2)
    assert item(mem, run, 2, 1).layer == "short"  # 59.9 stays short-term
    assert item(mem, run, 2, 2).layer == "mid"  # >= 60 is promoted at once, recency back to 1
    it = item(mem, run, 3, 2)  # mid decays x0.967 per step: 58.02 < 60 -> back to short
    assert it.layer == "short" and it.importance == pytest.approx(60 * 0.967) and it.delta == 0
    mem.set_importance("mem:3", 85, at_step=3)  # short -> mid at once
    assert item(mem, run, 3, 3).layer == "mid"
    it = item(mem, run, 4, 3)  # 85 * 0.967 = 82.2 >= 80: mid -> long
    assert it.layer == "long" and it.delta == 0 and it.moved == "mid->long at step 4"
    it = item(mem, run, 5, 3)  # long decays x0.988: 81.2 stays long
    assert it.layer == "long" and it.importance == pytest.approx(85 * 0.967 * 0.988)
    it = item(mem, run, 6, 3)  # 80.3
    assert it.layer == "long"
    it = item(mem, run, 7, 3)  # 79.3 < 80: long -> mid
    assert it.layer == "mid" and it.importance == pytest.approx(85 * 0.967 * 0.988**3)


def test_recency_cut_at_005_and_importance_cut_at_5_drop_items_unless_pinned():
    run = build([f"o{i}" for i in range(14)])
    mem = LayeredMemory()
    mem.set_importance("mem:0", 50, at_step=0)
    assert item(mem, run, 8, 0) is not None  # exp(-8/3) = 0.069
    assert item(mem, run, 9, 0) is None  # exp(-9/3) = 0.0498 < 0.05
    mem.set_importance("mem:1", 5.5, at_step=1)
    assert item(mem, run, 2, 1) is not None  # 5.06
    assert item(mem, run, 3, 1) is None  # 4.66 < 5
    mem.pin("mem:0")
    assert item(mem, run, 13, 0) is not None  # a pinned item is kept


def test_retrieval_score_is_similarity_plus_recency_plus_capped_importance_top_k_per_layer():
    texts = ["red key north", "blue door", "red key south", "green goal", "red key east", "door", "red key"]
    run = build(texts)
    mem = LayeredMemory(window=1, top_k=2)
    for n in (0, 1, 2, 4, 5, 6):
        mem.set_importance(f"mem:{n}", 50, at_step=n)
    mem.set_importance("mem:3", 500, at_step=6)  # one layer up at once; importance counts as 100
    path = run.path(6)
    scored = {s.item.node_id: s for s in mem.recall(path)}
    assert set(scored) == {0, 1, 2, 3, 4}  # the window (nodes 5, 6) is shown verbatim, not recalled
    for s in scored.values():
        assert s.score == pytest.approx(s.similarity + s.item.recency + min(s.item.importance, 100) / 100)
    assert initial_importance(0, 3) == 70  # short -> mid at step 4, then the edit: mid -> long
    assert scored[3].item.layer == "long" and scored[3].recalled
    assert scored[3].score == pytest.approx(scored[3].similarity + 1 + 1)
    short = sorted((s for s in scored.values() if s.item.layer == "short"), key=lambda s: -s.score)
    assert [s.recalled for s in short] == [True, True, False, False]
    assert scored[2].similarity > scored[1].similarity  # shares "red key" with the query
    text = mem.render(run, path)[0]["content"]
    assert text.startswith(MEMORY_HEADER + "\nShort-term:\n")
    assert "Mid-term:\n(nothing recalled)" in text and "Long-term:\n- [mem:3 · step 3 · score" in text


def test_lexical_similarity_weights_rare_words_and_is_bounded():
    sims = lexical_similarity("the brass lantern", ["the lamp", "a brass lantern here", "the the the"])
    assert sims[1] == max(sims) and all(0 <= s <= 1 for s in sims)
    assert lexical_similarity("x", []) == []


def test_a_local_embedding_callable_replaces_the_lexical_similarity():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return [[1.0, 0.0] if "key" in t else [0.0, 1.0] for t in texts]

    run = build(["key here", "nothing", "more nothing", "key again"])
    mem = LayeredMemory(similarity=embed)
    scored = {s.item.node_id: s.similarity for s in mem.recall(run.path(3))}
    assert scored[0] == pytest.approx(1.0) and scored[1] == pytest.approx(0.0)
    mem.recall(run.path(3))
    assert len(calls) == 1  # vectors are cached per text
    with pytest.raises(ConfigError, match="similarity must be"):
        LayeredMemory(similarity="bert")


def test_reward_feedback_raises_the_importance_of_the_items_recalled_for_that_step():
    run = build(["a", "b", "c", "d"], rewards={3: 1.0})
    mem = LayeredMemory(window=0, top_k=5)
    plain = LayeredMemory(window=0, top_k=5, feedback=0)
    recalled = {s.item.node_id for s in mem.recall(run.path(2)) if s.recalled}
    assert recalled == {0, 1}
    for n in recalled:
        assert item(mem, run, 3, n).importance == pytest.approx(item(plain, run, 3, n).importance + 5)


def test_user_edits_pins_forgets_and_importance_change_what_is_recalled():
    run = build([f"obs {i}" for i in range(10)])
    mem = LayeredMemory(top_k=1)
    path = run.path(9)
    before = [s.item.node_id for s in mem.recall(path) if s.recalled]
    target = next(s.item.node_id for s in mem.recall(path) if not s.recalled and s.item.layer == "short")
    mem.set_importance(f"mem:{target}", 99)  # at the depth of the path last recalled (9)
    after = [s.item.node_id for s in mem.recall(path) if s.recalled]
    assert target in after and after != before
    assert item(mem, run, 9, target).layer == "mid"
    mem.edit(f"mem:{target}", "the key is behind the sofa")
    content = mem.render(run, path)[0]["content"]
    assert f"[mem:{target} · step {target}" in content and "the key is behind the sofa" in content
    assert f"mem:{target}" in mem.last_used_edits
    mem.forget(f"mem:{target}")
    assert target not in {s.item.node_id for s in mem.recall(path)}
    mem.restore(f"mem:{target}")
    assert mem.importance == {} and f"mem:{target}" not in mem.edits
    with pytest.raises(ConfigError, match="importance"):
        mem.set_importance(f"mem:{target}", -1)
    with pytest.raises(ConfigError, match="only memory items"):
        mem.set_importance("obs:3", 50)
    with pytest.raises(ConfigError, match="valid entry ids"):
        mem.pin("memory:3")


def test_state_round_trips_and_the_layers_are_a_function_of_the_path():
    run = build([f"o{i}" for i in range(6)])
    mem = LayeredMemory()
    mem.set_importance("mem:2", 90, at_step=4)
    mem.pin("mem:1")
    other = make_memory("layered")
    other.load_state(mem.state())
    assert other.render(run, run.path(5)) == mem.render(run, run.path(5))
    branch = run.new_node(2, raw="x", action="x", observation="elsewhere", executed=True)
    assert set(mem.layers(run.path(branch.id))) == {0, 1, 2, branch.id}
    assert item(mem, run, 5, 2) == item(other, run, 5, 2) and item(mem, run, 5, 2).layer != "short"


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="top_k"):
        make_memory("layered", top_k=0)
    with pytest.raises(ConfigError, match="window"):
        make_memory("layered", window=None)
    with pytest.raises(ConfigError, match="feedback"):
        make_memory("layered", feedback=-1)


@pytest.mark.parametrize("env", ["gridworld", "game24"])
def test_demo_model_runs_with_layered_memory(env):
    from workbench.core.session import Session

    s = Session(env=env, store=None, memory="layered", seed=1)
    s.run(max_steps=30)
    assert s.tree.outcome == "success"
    prompts = [c.messages for n in s.path()[2:] for c in n.llm_calls]
    assert prompts and all(p[1]["content"].startswith(MEMORY_HEADER) for p in prompts)


def test_an_importance_edit_changes_what_the_next_prompt_over_http_recalls(server, tmp_path):
    from toys import Counter, react

    from workbench.core.session import Session
    from workbench.llm.model import Model

    server.responder = lambda body: react("inc")
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, backoff=0)
    store = tmp_path / "runs.sqlite"
    s = Session(env=Counter(goal=50), model=model, memory="layered", memory_options={"top_k": 1}, store=store)
    for _ in range(6):
        s.step()
    sent = server.requests[-1]["messages"][1]["content"]
    recalled = {s.item.node_id for s in s.memory.recall(s.path()) if s.recalled}
    target = next(
        n.item.node_id
        for n in s.memory.recall(s.path())
        if not n.recalled and n.item.layer == "short" and n.item.node_id not in recalled
    )
    assert f"[mem:{target} " not in sent
    s.memory.set_importance(f"mem:{target}", 99)
    s.step()
    sent = server.requests[-1]["messages"][1]["content"]
    assert f"[mem:{target} · step {target}" in sent  # now recalled, from the mid layer
    assert sent.index(f"[mem:{target} ") > sent.index("Mid-term:")
    assert f"mem:{target}" in s.tree.current.info["used_user_edits"]
    s.step()
    expected = s.strategy.messages(s, s.path())[1]["content"]  # what the next step would recall
    s.close()
    resumed = Session.resume(s.run_id, store, env=Counter(goal=50), model=model)
    assert resumed.memory.importance == {f"mem:{target}": (6, 99.0)}
    resumed.step()
    assert server.requests[-1]["messages"][1]["content"] == expected
    resumed.close()


def test_the_memory_editor_lists_layers_with_scores_and_sets_importance(monkeypatch):
    import asyncio

    import comm
    from toys import Counter, react
    from widget_toys import RecordingComm, front_event

    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.widgets import MemoryEditor
    from workbench.widgets.memory_editor import memory_html

    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))

    async def main() -> None:
        s = Session(
            env=Counter(goal=99),
            model=ScriptedModel([react("inc")]),
            memory="layered",
            store=None,
            memory_options={"top_k": 1},
        )
        for _ in range(5):
            await s.astep()
        editor = MemoryEditor(s)
        items = [e for e in editor.entries if e["kind"] == "memory"]
        assert items and all(e["layer"] in ("short", "mid", "long") for e in items)
        assert all(e["detail"].startswith(e["layer"] + " · ") for e in items)
        scored = [e for e in items if "score" in e["detail"]]
        assert scored and all(" = sim " in e["detail"] and " + rec " in e["detail"] for e in scored)
        hidden = next(e for e in items if not e["shown"] and "in the window" not in e["detail"])
        front_event(editor, "importance", entry_id=hidden["id"], value=99)  # the editor's box
        await editor.settled()
        assert s.memory.importance == {hidden["id"]: (5, 99.0)}
        after = {e["id"]: e for e in editor.entries}
        assert after[hidden["id"]]["layer"] != hidden["layer"] and after[hidden["id"]]["provenance"] == "user"
        assert "Memory item #" in memory_html(list(after.values()), {"name": "layered", "window": 1})

    asyncio.run(main())


def test_rewind_restores_the_layers_and_the_importance_edits_of_that_node():
    from toys import Counter, react

    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel

    s = Session(env=Counter(goal=99), model=ScriptedModel([react("inc")]), memory="layered", store=None)
    for _ in range(3):
        s.step()
    before = s.strategy.messages(s, s.path())[1]["content"]
    s.step()
    s.step()
    s.memory.set_importance("mem:1", 99)  # at step 5
    s.rewind(3)
    assert s.memory.importance == {}  # the edit came after node 3
    assert s.strategy.messages(s, s.path())[1]["content"] == before
    node = s.step()  # a sibling branch of node 4
    assert node.parent_id == 3 and set(s.memory.layers(s.path())) >= {node.id}


def test_counting_tokens_neither_changes_the_edits_the_last_prompt_used_nor_what_it_recalled():
    run = build([f"obs {i}" for i in range(10)])
    mem = LayeredMemory(top_k=1)
    path = run.path(9)
    target = next(s.item.node_id for s in mem.recall(path) if s.recalled)
    mem.edit(f"mem:{target}", "the key is behind the sofa")
    rendered = list(mem.render(run, path))
    used, recalled = list(mem.last_used_edits), list(mem.last_recalled)
    assert f"mem:{target}" in used
    assert mem.history_tokens(run, run.path(3)) > 0  # another path, as a token report would count
    assert (mem.last_used_edits, mem.last_recalled) == (used, recalled)
    assert mem.history_tokens(run, path) == mem.count_tokens(rendered)
