"""Group commit: callers queue items and wait on futures; one committer takes what is queued in groups and
resolves each item's future with its own result (or error). The two group commits of a node share it: the API's
direct registrations (services/writer.py: whatever arrived while the last transaction was mined goes into the next
``registerBatch``) and batch intake (services/batching.py: seal every N records, B bytes or T milliseconds into one
``anchorBatch``).

A group is taken when something is queued and it is due: ``max_items`` or ``max_size`` reached, or the oldest item
has waited ``max_delay`` seconds (0: at once, taking whatever else is already queued). A group holds at most
``max_items`` items and, past its first item, at most ``max_size`` of ``size``. ``commit`` answers one result per
item, each a value or the exception to give that item's caller; if it raises, every item of the group gets the
exception and the committer goes on with the next group.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Queued(Generic[T, R]):
    item: T
    future: Future[R]
    size: int


class GroupCommit(Generic[T, R]):
    """A queue of items with futures and the one committer that takes them in groups (see the module docstring).

    ``cond`` guards the queue: a caller that must judge an item against what is queued (batch intake's rules)
    holds it around its check and :meth:`put_locked`."""

    def __init__(self, commit: Callable[[list[T]], Sequence[R | BaseException]], *, name: str, max_items: int,
                 max_delay: float = 0.0, max_size: float = float("inf"), size: Callable[[T], int] = lambda _t: 0,
                 after: Callable[[list[T], BaseException | None], None] | None = None) -> None:
        self._commit = commit
        self.name = name
        self.max_items = max_items
        self.max_delay = max_delay
        self.max_size = max_size
        self._size = size
        self._after = after
        self.cond = threading.Condition()
        self.queue: list[Queued[T, R]] = []
        self.queued_size = 0
        self._first_at = 0.0
        self._committing = threading.Lock()  # one group at a time, whoever commits it (the thread or drain)
        self._closed = False
        self._thread: threading.Thread | None = None
        self.groups = 0

    # ------------------------------------------------------------------ queueing

    @property
    def closed(self) -> bool:
        return self._closed

    def put_locked(self, item: T) -> Future[R]:
        """Queue ``item`` (the caller holds ``cond``); its future resolves once its group is committed."""
        fut: Future[R] = Future()
        if not self.queue:
            self._first_at = time.monotonic()
        n = self._size(item)
        self.queue.append(Queued(item, fut, n))
        self.queued_size += n
        # The committer waits with a timeout for the oldest item's delay; an item wakes it only when that cannot
        # wait (no delay) or the group is full.
        if self.max_delay <= 0 or len(self.queue) >= self.max_items or self.queued_size >= self.max_size:
            self.cond.notify_all()
        return fut

    def put(self, item: T) -> Future[R]:
        with self.cond:
            return self.put_locked(item)

    def pending(self) -> int:
        with self.cond:
            return len(self.queue)

    def _due(self) -> bool:
        return bool(self.queue) and (len(self.queue) >= self.max_items or self.queued_size >= self.max_size
                                     or time.monotonic() - self._first_at >= self.max_delay)

    def _take(self) -> list[Queued[T, R]]:
        size = count = 0
        for q in self.queue[:self.max_items]:
            if count and size + q.size > self.max_size:
                break
            size += q.size
            count += 1
        # One slice, not a pop from the front per item: a node that queues faster than it commits holds tens of
        # thousands, and each pop(0) moves them all.
        taken = self.queue[:count]
        del self.queue[:count]
        self.queued_size -= size
        if self.queue:
            self._first_at = time.monotonic()
        return taken

    # ------------------------------------------------------------------ committing

    def _commit_group(self, group: list[Queued[T, R]]) -> None:
        items = [q.item for q in group]
        try:
            results = self._commit(items)
        except BaseException as exc:
            if self._after is not None:
                self._after(items, exc)
            for q in group:
                q.future.set_exception(exc)
            raise
        self.groups += 1
        for q, res in zip(group, results, strict=True):
            if isinstance(res, BaseException):
                q.future.set_exception(res)
            else:
                q.future.set_result(res)
        if self._after is not None:
            self._after(items, None)

    def drain(self) -> int:
        """Commit what is queued now, in this thread, in as many groups as the limits need; the items committed.
        A group's failure reaches its futures and is raised here."""
        total = 0
        while True:
            with self._committing:
                with self.cond:
                    group = self._take()
                if not group:
                    return total
                self._commit_group(group)
            total += len(group)

    def start(self) -> None:
        """Commit in a background thread whenever a group is due."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self._closed and not self._due():
                    timeout = (self.max_delay - (time.monotonic() - self._first_at)) if self.queue else None
                    self.cond.wait(timeout)
                closing = self._closed
            try:
                self.drain()
            except Exception:  # noqa: BLE001 - reported through the group's futures; keep committing
                pass
            if closing:
                return

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, then stop (refusing new items from now on)."""
        with self.cond:
            self._closed = True
            self.cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self.drain()


__all__ = ["GroupCommit", "Queued"]
