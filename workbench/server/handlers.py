"""Tornado handlers of the REST API (see `workbench.server`); the queries live in `reader.py`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..store.location import describe_default
from .reader import FILTERS, BadRequest, Damaged, NotFound, StoreReader, page_args

AUTH_RESOURCE = "workbench"


class _Base(APIHandler):
    auth_resource = AUTH_RESOURCE

    def reader(self) -> StoreReader:
        return StoreReader(describe_default(self.settings["workbench_root"])[0])

    async def query(self, fn: Any, *args: Any) -> Any:
        """Run a reader query off the event loop; map reader errors to 400, 404 and 500."""
        try:
            return await asyncio.to_thread(fn, *args)
        except BadRequest as exc:
            raise web.HTTPError(400, str(exc)) from None
        except NotFound as exc:
            raise web.HTTPError(404, str(exc)) from None
        except Damaged as exc:
            raise web.HTTPError(500, str(exc)) from None

    def page(self, **default: int) -> tuple[int, int]:
        """(offset, limit) of the request's `offset=` and `limit=` (`default=`: the limit without
        one, see `page_args`); a bad value is a 400."""
        try:
            return page_args(self.get_argument("offset", None), self.get_argument("limit", None), **default)
        except BadRequest as exc:
            raise web.HTTPError(400, str(exc)) from None


class StoreHandler(_Base):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        path, rule = describe_default(self.settings["workbench_root"])
        self.finish(json.dumps({"path": str(path), "rule": rule, "exists": path.is_file()}))


class RunsHandler(_Base):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        filters = {k: self.get_argument(k, "") for k in (*FILTERS, "q", "since", "until")}
        self.finish(json.dumps(await self.query(self.reader().runs, filters, *self.page())))


class RunHandler(_Base):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.finish(json.dumps(await self.query(self.reader().run, run_id, *self.page(default=200))))


class _PathQuery(_Base):
    """GET answers with the JSON of `StoreReader.<name>(*the URL's groups)`."""

    name = ""

    @web.authenticated
    @authorized
    async def get(self, *path: str) -> None:
        self.finish(json.dumps(await self.query(getattr(self.reader(), self.name), *path)))


class NodeHandler(_PathQuery):
    name = "node"


class SnapshotHandler(_Base):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        part = self.get_argument("part", "all")
        if part not in ("all", "head"):
            raise web.HTTPError(400, f"part must be all or head, got {part[:20]!r}")
        reader = self.reader()
        self.finish(json.dumps(await self.query(reader.head if part == "head" else reader.snapshot, run_id)))


class CardHandler(_PathQuery):
    name = "card"


class ExportHandler(_Base):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        fmt = self.get_argument("format", "json")
        content_type, body = await self.query(self.reader().export, run_id, fmt)
        ext = "json" if fmt == "json" else "jsonl"
        self.set_header("Content-Disposition", f'attachment; filename="run-{run_id}-{fmt}.{ext}"')
        self.finish(body, set_content_type=content_type)


def setup_handlers(web_app: Any, root_dir: str) -> None:
    web_app.settings["workbench_root"] = root_dir
    base = url_path_join(web_app.settings.get("base_url", "/"), "workbench", "api")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "store"), StoreHandler),
            (url_path_join(base, "runs"), RunsHandler),
            (url_path_join(base, r"runs/([^/]+)"), RunHandler),
            (url_path_join(base, r"runs/([^/]+)/nodes/([^/]+)"), NodeHandler),
            (url_path_join(base, r"runs/([^/]+)/export"), ExportHandler),
            (url_path_join(base, r"runs/([^/]+)/snapshot"), SnapshotHandler),
            (url_path_join(base, r"runs/([^/]+)/cards/([^/]+)"), CardHandler),
        ],
    )
