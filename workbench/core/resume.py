"""The `Session` arguments that rebuild a stored run (`Session.resume`): its stored config read back."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .tree import Run


def resume_arguments(run: Run, overrides: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `Session` from `run.config`, `overrides` replacing stored settings.

    ConfigError when the run's model or env object cannot be rebuilt from the store and
    `overrides` does not give it."""
    cfg = run.config
    model_cfg = dict(cfg.get("model") or {})
    kwargs: dict[str, Any] = {
        "env": cfg.get("env", "gridworld"),
        "env_options": cfg.get("env_options"),
        "strategy": cfg.get("strategy", "react"),
        "memory": cfg.get("memory", "full"),
        "memory_options": cfg.get("memory_options"),
        "seed": cfg.get("seed", 0),
        "redact_prompts": cfg.get("redact_prompts", True),
        **({"limits": cfg["limits"]} if cfg.get("limits") else {}),
        **(cfg.get("budgets") or {}),
        **(cfg.get("strategy_options") or {}),
    }
    if "model" not in overrides:
        if model_cfg.get("scripted") or not model_cfg.get("name"):
            raise ConfigError(f"run {run.id} used a model that cannot be rebuilt from the store; pass model=")
        from ..llm.model import Model

        kwargs["model"] = Model.from_config(model_cfg)
    if cfg.get("env_object") and "env" not in overrides:
        if "tools" not in overrides:
            raise ConfigError(
                f"run {run.id} used an env object ({cfg.get('env')}); pass env=... (and tools=...) to "
                "resume it, or register the env as a plugin (entry point group workbench.envs)"
            )
        kwargs["env"] = cfg.get("env_spec")
    kwargs.update(overrides)
    return kwargs
