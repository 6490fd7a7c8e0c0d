"""Prompt labels that the search strategies write and read, and that the demo model answers to.

Kept apart from the strategies so that the simulated demo model can know them without importing
the strategies themselves.
"""

REMAINING_LABEL = "Remaining steps:"  # the last line of an imagination answer (see `astar.parse_remaining`)
IMAGINE_STATE = "The state before the last action:"  # heads the state in A*'s imagination prompt
REFLECTION_LABEL = "Reflection:"  # how a reflection answer starts (the label is cut off)
FINAL_OBSERVATION = "Final observation:"  # heads the failed terminal's observation in MCTS's prompt
CANDIDATES_LABEL = (
    "Candidate actions:"  # heads A*'s numbered list of proposed actions (see `astar.LIST_HELP`)
)
CODEACT_LABEL = "<execute>"  # a CodeAct system prompt holds this tag (the demo model looks for it)
