"""The workbench's exception tree.

    WorkbenchError
    ├── ConfigError          a wrong argument: unknown env, model, strategy, memory, node id...
    ├── ModelError           a model call failed after its retries (recorded on the run as an error node)
    │   ├── AuthenticationError   no key or a rejected key
    │   ├── ModelNotFoundError    the provider does not know the model
    │   ├── RateLimitError        still rate limited after the retries
    │   ├── ContextWindowError    the prompt is longer than the model's context
    │   ├── ModelTimeoutError     no answer within the timeout
    │   ├── ProviderError         any other provider failure (5xx, malformed response, connection)
    │   └── ReplayMissError       a replay cassette has no answer for a request
    ├── BudgetExhausted      the step, token or cost budget is used up (raise it, or `run` pauses)
    ├── StepInProgress       a step was asked for while one is running
    └── StoreError           the run store cannot be opened or has no such run

Every message says what to do next, not only what went wrong.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class ConfigError(WorkbenchError, ValueError):
    """A wrong argument; the message lists what is valid."""


class ModelError(WorkbenchError):
    """A model call failed after its retries."""

    retryable = False


class AuthenticationError(ModelError):
    pass


class ModelNotFoundError(ModelError):
    pass


class RateLimitError(ModelError):
    retryable = True


class ContextWindowError(ModelError):
    pass


class ModelTimeoutError(ModelError):
    retryable = True


class ProviderError(ModelError):
    retryable = True


class ReplayMissError(ModelError):
    """A replay cassette has no recorded answer for this request."""


class StoreError(WorkbenchError):
    pass


class BudgetExhausted(WorkbenchError):
    """A step was asked for after the run's step, token or cost budget was used up."""


class StepInProgress(WorkbenchError):
    """A step was asked for while another step of the same session is still running."""
