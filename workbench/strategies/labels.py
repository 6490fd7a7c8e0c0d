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

# plan-and-execute, alpha-UMi and Reflexion (see `plan_execute`, `umi`, `reflexion`)
PLANNER_ROLE = "You are the planner of a plan-and-execute agent."
REPLANNER_ROLE = "You are the replanner of a plan-and-execute agent."
EXECUTOR_ROLE = "You are the executor of a plan-and-execute agent."
CURRENT_ITEM = "Current plan item"  # heads the item the executor works on: "Current plan item 2: ..."
UMI_PLANNER_ROLE = "You are the planner of a multi-LLM agent (alpha-UMi)."
UMI_CALLER_ROLE = "You are the caller of a multi-LLM agent (alpha-UMi)."
UMI_SUMMARIZER_ROLE = "You are the summarizer of a multi-LLM agent (alpha-UMi)."
ROUTE_LABEL = "Next:"  # the planner's routing line: Next: caller. | Next: conclusion. | Next: give up.
FINAL_ANSWER_LABEL = "Final answer:"  # how the summarizer's answer starts
LESSONS_LABEL = "Lessons from your earlier attempts:"  # heads Reflexion's lessons in the actor's prompt
