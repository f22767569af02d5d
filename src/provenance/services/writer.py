"""Group commit of direct registrations: requests that arrive while a transaction is being mined go together into
the next ``registerBatch`` transaction (each is still a stored, directly registered record with its own event and
leaf). If the contract refuses a group, each request of it is retried on its own, so one bad request gets its own
error and the others are registered once. The general-grade metadata documents of a committed group are then
published on chain together (provenance.services.catalog), before the waiters are answered, so a listing
registered through the API is in the federation's catalogue when the call returns.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from provenance.errors import ProvenanceError
from provenance.services.operations import Operations
from provenance.types import RegistrationRequest

log = logging.getLogger("provenance.writer")


class RegistrationWriter:
    """Group commit of direct registrations (see the module docstring)."""

    def __init__(self, ops: Operations, *, group_max: int, on_commit: Any = None,
                 publish: Callable[[list[tuple[bytes, Any, bytes]]], int] | None = None) -> None:
        self.ops = ops
        self.group_max = group_max
        self.on_commit = on_commit
        self.publish = publish
        self._queue: queue.Queue[tuple[RegistrationRequest, bytes | None, Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="registration-writer", daemon=True)
        self._closed = False
        self.groups = 0
        self._thread.start()

    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, request: RegistrationRequest, document: bytes | None = None) -> Future[Any]:
        """Queue a registration; ``document`` (canonical bytes, already kept by the caller) is published after the
        group commits if the record is of general grade."""
        if self._closed:
            raise ProvenanceError("the node is shutting down")
        fut: Future[Any] = Future()
        self._queue.put((request, document, fut))
        return fut

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < self.group_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
            try:
                results = self.ops.register_group([r for r, _, _ in group])
            except BaseException as exc:  # noqa: BLE001 - every waiter gets the error; the writer lives on
                for _, _, fut in group:
                    fut.set_exception(exc)
                continue
            self.groups += 1
            documents = [(bytes.fromhex(res["id"][2:]), req.grade, doc) for (req, doc, _), res
                         in zip(group, results, strict=True) if doc is not None and not isinstance(res, BaseException)]
            if documents and self.publish is not None:
                try:
                    self.publish(documents)
                except BaseException as exc:  # noqa: BLE001 - the records stand; the documents stay kept here
                    log.warning("publishing the group's metadata failed: %s", exc)
            for (_, _, fut), res in zip(group, results, strict=True):
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
            if self.on_commit is not None:
                self.on_commit()

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)
