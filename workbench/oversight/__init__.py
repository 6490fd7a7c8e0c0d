"""Oversight: keeping an agent inside its lines while a person watches.

- `gates.py`: approval gate rules (`Gate.destructive()`, `Gate.tool(regex)`, `Gate.code("network")`, ...)
- `specs.py`: behaviour specs, LTL over a run's steps (`Session(specs=...)`, `Session.spec`)
- `terminal.py`: the CLI's `--approve` modes and its prompt
- `toolkits.py`, `emulator.py`: ToolEmu-style risky toolkits, emulated tools and a safety evaluator
- `trust.py`: provenance and trust for recalled memory (`TrustedRecall`)
- `scheduler.py`: fair sharing of model calls between a kernel's agents (`FairScheduler`)

A gated action waits for `Session.approve()` / `reject(reason)`: that side is the engine's
(`workbench.core.approval`, with the spec monitor in `workbench.core.monitor`). The engine imports
the rules here; nothing here imports the engine. Nothing here is imported by `import workbench`;
import the submodules you use.
"""
