"""Group commit of direct registrations: requests that arrive while a transaction is being mined go together into
the next ``registerBatch`` transaction (each is still a stored, directly registered record with its own event and
leaf). If the contract refuses a group, each request of it is retried on its own, so one bad request gets its own
error and the others are registered once. The general-grade metadata documents of a committed group are then
published on chain together (provenance.services.catalog), before the waiters are answered, so a listing
registered through the API is in the federation's catalogue when the call returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from provenance.errors import ProvenanceError
from provenance.services.group_commit import GroupCommit
from provenance.services.operations import Operations
from provenance.types import RegistrationRequest

log = logging.getLogger("provenance.writer")

Item = tuple[RegistrationRequest, bytes | None]


class RegistrationWriter:
    """Group commit of direct registrations (see the module docstring), on the node's group commit
    (services/group_commit.py): a group is whatever is queued when the last one is done, up to ``group_max``."""

    def __init__(self, ops: Operations, *, group_max: int, on_commit: Any = None,
                 publish: Callable[[list[tuple[bytes, Any, bytes]]], int] | None = None) -> None:
        self.ops = ops
        self.group_max = group_max
        self.on_commit = on_commit
        self.publish = publish
        self._failed = False  # the group being committed failed as a whole: no on_commit for it
        self.groups = 0  # groups the chain took (a group refused as a whole is not counted)
        self._group: GroupCommit[Item, Any] = GroupCommit(self._commit, name="registration-writer",
                                                          max_items=group_max, after=self._after)
        self._group.start()

    def pending(self) -> int:
        return self._group.pending()

    def submit(self, request: RegistrationRequest, document: bytes | None = None) -> Future[Any]:
        """Queue a registration; ``document`` (canonical bytes, already kept by the caller) is published after the
        group commits if the record is of general grade."""
        if self._group.closed:
            raise ProvenanceError("the node is shutting down")
        return self._group.put((request, document))

    def _commit(self, group: list[Item]) -> list[Any]:
        try:
            results = self.ops.register_group([r for r, _ in group])
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the error; the writer lives on
            self._failed = True
            return [exc] * len(group)
        self._failed = False
        self.groups += 1
        documents = [(bytes.fromhex(res["id"][2:]), req.grade, doc) for (req, doc), res
                     in zip(group, results, strict=True) if doc is not None and not isinstance(res, BaseException)]
        if documents and self.publish is not None:
            try:
                self.publish(documents)
            except BaseException as exc:  # noqa: BLE001 - the records stand; the documents stay kept here
                log.warning("publishing the group's metadata failed: %s", exc)
        return results

    def _after(self, _group: list[Item], error: BaseException | None) -> None:
        if error is None and not self._failed and self.on_commit is not None:
            self.on_commit()

    def close(self) -> None:
        self._group.close(timeout=30)
