"""How a Session writes to its run store: one writer per run, and a failed write stops the run.

The session takes the run's lease when it opens or resumes it (a second writer gets a
`StoreError` naming the holder) and gives it back in `close()`. Every event goes to the store
through `_persist`; when a write fails (a busy lock, a full disk, a damaged file) the store keeps the
unwritten events queued and the session turns to status "error": the step that could not be
written raises `StoreError` from `step()`, the panel shows it, and the next `step()` first writes
what is queued, then goes on (or raises again, before any model call, while the store still fails).
"""

from __future__ import annotations

from typing import Any

from ..errors import StoreError
from . import events as ev
from .state import SessionState


class PersistMixin(SessionState):
    """The store side of `Session` (see the module docstring)."""

    def _attach_store(self, store: Any) -> None:
        self.store = store
        self.read_only = False
        self.store_error: StoreError | None = None
        self._lease: str | None = None
        if store is None:
            return
        acquire = getattr(store, "acquire", None)
        if callable(acquire):
            try:
                self._lease = acquire(self.tree.id)
            except BaseException:
                if getattr(self, "_own_store", False):
                    store.close(quiet=True)
                raise
        self.events.subscribe(self._persist)

    def _persist(self, event: ev.Event) -> None:
        store = self.store
        if self._lease is not None and store.lease_token(self.tree.id) != self._lease:
            if self.store_error is None:
                self._store_failed(
                    StoreError(
                        f"run {self.tree.id} was opened for writing by another session of this process "
                        f"(or this session was closed); this one no longer writes to {store.path}"
                    )
                )
            return
        store.handle(event)
        failure = self._store_failure()
        if failure is not None and self.store_error is None:
            self._store_failed(failure)

    def _store_failure(self) -> StoreError | None:
        fenced = getattr(self.store, "fenced", None)
        lost = fenced(self.tree.id) if callable(fenced) else None
        return lost or getattr(self.store, "failure", None)

    def _store_failed(self, error: StoreError) -> None:
        self.store_error = error
        self.status = "error"
        if not self._stepping:  # a step raises it when it ends (see _raise_store_error)
            self._publish_store_error(error)

    def _publish_store_error(self, error: StoreError) -> None:
        self.events.publish(ev.Error(self.tree.id, message=f"StoreError: {error}", error_type="StoreError"))

    def _retry_store(self) -> None:
        """Before a step: write what an earlier failed write left queued, or raise `StoreError`."""
        if getattr(self, "read_only", False):
            raise StoreError(
                f"this is a read-only view of run {self.tree.id}; resume it without read_only=True to step"
            )
        if self.store_error is None:
            return
        fenced = getattr(self.store, "fenced", None)
        lost = fenced(self.tree.id) if callable(fenced) else None
        if lost is not None:  # another writer has the run now: writing again cannot help
            self.status = "error"
            raise StoreError(str(lost))
        try:
            self.store.flush()
        except StoreError as exc:
            self.store_error = exc
            self.status = "error"
            self._publish_store_error(exc)
            raise StoreError(str(exc)) from None
        self.store_error = None
        self.status = "idle"

    def _raise_store_error(self) -> None:
        """After a step: raise the write failure it met (its events stay queued for the retry)."""
        if self.store_error is not None:
            self.status = "error"
            self._publish_store_error(self.store_error)
            raise StoreError(
                f"{self.store_error} (the step is kept in memory and written by the next step())"
            )

    def keep_full_text(self, node: Any, full: dict[str, str]) -> None:
        """Publish the full texts a size cap cut from `node`, when the run keeps them."""
        if full and getattr(self, "limits", None) is not None and self.limits.keep_full_text:
            for name, text in full.items():
                self.events.publish(ev.FullTextKept(self.tree.id, node_id=node.id, field=name, text=text))

    def _release_store(self) -> None:
        """On close: write what is queued, give back the run's lease, and close a store this
        session opened from a path. A write failure not reported yet raises `StoreError`."""
        store, token = self.store, self._lease
        if store is None:
            return
        self._lease = None
        try:
            if token is not None:
                try:
                    store.flush()
                except StoreError:
                    if self.store_error is None:  # new: say so; else step() already raised it
                        raise
        finally:
            if token is not None and store.lease_token(self.tree.id) == token:
                store.release(self.tree.id)
            if getattr(self, "_own_store", False):
                store.close(quiet=True)
