"""Oversight: keeping an agent inside its lines while a person watches.

- `gates.py`: approval gate rules (`Gate.destructive()`, `Gate.tool(regex)`, `Gate.code("network")`, ...)
- `approval.py`: proposed actions wait for `Session.approve()` / `reject(reason)`

Nothing here is imported by `import workbench`; import the submodules you use.
"""
