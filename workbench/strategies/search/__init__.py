"""Tree searches over agent actions: `bfs`, `dfs`, `best-first` (Koh et al.), `astar` (ToolChain*)
and `mcts` (LATS, with WebPilot's max backup). Pick one with `Session(..., strategy="mcts")`; the
modules are imported on demand through `workbench.strategies.base.STRATEGIES`.

    common.py       batched sampling under the concurrency limit, candidate grouping, prompts
    engine.py       the shared base: state in the tree, rounds, budgets, the commit
    values.py       value functions: LM judge, LM score, env reward, a Python function
    tree_search.py  best-first, BFS, DFS
    astar.py        A* with self-consistency, long-term memory and imagination terms
    mcts.py         UCT selection, expansion, evaluation, simulation, backup, reflections
"""
