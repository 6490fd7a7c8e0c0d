"""The Jupyter server extension: a read-only REST API over the run store, under `/workbench/api/`.

Enabled by `etc/jupyter/jupyter_server_config.d/agent-workbench.json`, which the wheel installs, so
`jupyter lab` serves it with no step of the user's. Endpoints (all GET, all behind jupyter_server's
authentication and authorization: no token, 403):

    /workbench/api/store                          the default store: path, rule, whether it exists
    /workbench/api/runs?env=&model=&strategy=&memory=&status=&q=&since=&until=&offset=&limit=
    /workbench/api/runs/RUN_ID?offset=&limit=     a run with a page of its nodes
    /workbench/api/runs/RUN_ID/nodes/NODE_ID      one node with its model calls
    /workbench/api/runs/RUN_ID/export?format=json|sft|dpo
    /workbench/api/runs/RUN_ID/snapshot?part=all|head   the run as the run view draws it (widgets/snapshot.py);
                                                  head: header, path, last cards (what it draws first)
    /workbench/api/runs/RUN_ID/cards/NODE_ID      the tree card of one node

The store is the one `workbench.store.location` picks from the server's root directory (the same
file a kernel started there and the `workbench` command use), found again on every request.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "workbench.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .handlers import setup_handlers

    setup_handlers(serverapp.web_app, root_dir=serverapp.root_dir)
    serverapp.log.info("agent-workbench: REST API at /workbench/api/")
