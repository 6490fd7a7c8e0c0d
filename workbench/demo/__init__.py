"""The SIMULATED demo model's brain (`workbench/demo`): answers from the chat messages alone.

It knows the built-in environments and the prompt formats of the built-in strategies, so it sits
above `envs` and `strategies`; `workbench.llm` reaches it only at call time, by module name
(`workbench.demo.policy`), so the model layer does not import strategies or envs.
"""
