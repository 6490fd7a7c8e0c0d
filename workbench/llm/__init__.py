"""Models: the only package that imports litellm, and only on the first call.

- `model.Model`: a litellm model string with its own retries, timeouts, usage, cost and clear errors;
  `model.default_model_name()`, `model.known_models()`.
- `providers`: offline-first litellm loading and the `workbench/demo` and `workbench/replay` models.
- `cassette`: recording calls to JSONL and replaying them.
- `tokens.count_tokens`: offline token counts.

Nothing is imported here, so `import workbench.llm` stays cheap.
"""
