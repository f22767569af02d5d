"""Following the chain: the index kept at the head, and every due spot check drawn.

One loop for every long-running node, ``provenance serve`` (in a background thread) and
``provenance index sync --follow`` (in the foreground) alike, so a node that only follows the chain still draws
the spot checks whose seed block is mined. Every node drawing is what keeps a supervisor who announced a check
from holding its draw back until the seed block leaves the 256-block window and announcing again: the first
node to see the seed block draws, the others find it drawn.

With ``[chain] ws`` set, the loop subscribes to new heads (:mod:`provenance.chain.subscribe`): each pushed head
wakes it at once, and it polls only every :data:`SUBSCRIBED_POLL_S` seconds in case a notification is lost. While
the socket is down (or the endpoint has none) it polls every ``interval`` seconds, as without ``ws``; the
subscription reconnects by itself. ``woken`` and ``polled`` count the rounds each way began.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from provenance.chain.subscribe import HeadSubscription
from provenance.errors import ProvenanceError
from provenance.indexer.follower import SyncStatus
from provenance.services.operations import Operations

if TYPE_CHECKING:
    from provenance.services.catalog import CatalogService

log = logging.getLogger("provenance.follow")

SUBSCRIBED_POLL_S = 5.0
"""Seconds between polls while new heads are pushed: a safety net for a lost notification, not the way in."""


@dataclass(frozen=True)
class Round:
    """What one round of following did: the sync (None when the chain had not moved) and the checks drawn."""

    synced: SyncStatus | None
    drawn: tuple[int, ...]


class Follower:
    """The follower loop of one node's Operations; ``round`` is one poll, ``run`` polls until stopped."""

    def __init__(self, ops: Operations, *, interval: float, draw_checks: bool = True,
                 always_sync: bool = False, catalog: CatalogService | None = None, ws: str | None = None) -> None:
        self.ops = ops
        self.catalog = catalog  # its search projection follows the index, step by step
        self.interval = interval
        self.draw_checks = draw_checks
        self.always_sync = always_sync  # sync every round, not only when the chain moved (the CLI's reorg count)
        self.head = ops.node.chain.block_number()
        self.errors = 0
        self.last_error: str | None = None
        self._checked_draws_at = -1
        self.ws = ops.node.config.chain.ws if ws is None else ws  # "" : poll only
        self.subscription: HeadSubscription | None = None
        self.woken = 0  # rounds begun by a pushed head
        self.polled = 0  # rounds begun because the wait ran out
        self._pushed = threading.Event()

    @property
    def subscribed(self) -> bool:
        """Whether new heads are being pushed now (``[chain] ws`` set and its socket up)."""
        return self.subscription is not None and self.subscription.connected

    def round(self) -> Round:
        """One poll: bring the index to the head if the chain moved, then draw what became due."""
        synced: SyncStatus | None = None
        if self._moved() or self.always_sync:
            with self.ops.lock:
                synced = self.ops.follower.sync()
        if self.catalog is not None:
            # Every round, not only when the chain moved: a write through this node (a status change, a transfer)
            # syncs the lineage index itself, so the next round sees no new block, and the search projection
            # would stay behind until another node's block came. Up to date, this is a few reads.
            self.catalog.sync()
        drawn: tuple[int, ...] = ()
        # Writes through this node sync the index themselves, so look at the head, not at the sync.
        if self.draw_checks and self.head != self._checked_draws_at and self.ops.node.contracts.has_cross_border:
            self._checked_draws_at = self.head
            drawn = self.draw_due_checks()
        return Round(synced, drawn)

    def draw_due_checks(self) -> tuple[int, ...]:
        """Draw every announced spot check whose seed block is mined; the ids drawn here."""
        drawn = []
        for check in self.ops.flows.queries.undrawn_checks():
            if self.head < check["seedBlock"]:  # the draw's block must come after the seed block
                continue
            try:
                self.ops.flows.draw(check["id"])
            except ProvenanceError as exc:  # another node drew first, or the chain refused: next time, or never
                log.info("spot check %s: not drawn here: %s", check["id"], exc.message)
            else:
                drawn.append(int(check["id"]))
        return tuple(drawn)

    def run(self, stop: threading.Event, wake: threading.Event | None = None,
            on_round: Callable[[Round], None] | None = None, *, keep_going: bool = True) -> None:
        """Poll every ``interval`` seconds (at once when ``wake`` is set) until ``stop`` is set. A failed round
        is counted and logged, and the loop backs off and goes on (a server outlives a chain that is briefly
        away); with ``keep_going`` false the failure ends the loop instead (a command reports it and exits)."""
        wake = wake or threading.Event()
        sub = self._subscribe(wake) if self.ws else None
        try:
            self._loop(stop, wake, sub, on_round, keep_going)
        finally:
            if sub is not None:
                sub.close()

    def _subscribe(self, wake: threading.Event) -> HeadSubscription:
        def on_head(_number: int) -> None:
            self._pushed.set()
            wake.set()

        # A change of state wakes the loop too, so that a dropped socket turns fast polling on at once.
        self.subscription = HeadSubscription(self.ws, on_head=on_head, on_state=lambda _up: wake.set())
        return self.subscription.start()

    def _wait(self, sub: HeadSubscription | None) -> float:
        """How long to wait for a wake-up: long while heads are pushed and the endpoint's head has caught up with
        the last one pushed (an endpoint behind a load balancer may answer from a node a block behind)."""
        if sub is None or not sub.connected:
            return self.interval
        pushed = sub.last_head
        return self.interval if pushed is not None and pushed > self.head else max(self.interval, SUBSCRIBED_POLL_S)

    def _loop(self, stop: threading.Event, wake: threading.Event, sub: HeadSubscription | None,
              on_round: Callable[[Round], None] | None, keep_going: bool) -> None:
        while not stop.is_set():
            woke = wake.wait(self._wait(sub))
            wake.clear()
            if stop.is_set():
                return
            if self._pushed.is_set():
                self._pushed.clear()
                self.woken += 1
            elif not woke:
                self.polled += 1
            try:
                done = self.round()
                self.last_error = None
            except ProvenanceError as exc:
                if not keep_going:
                    raise
                self.errors += 1
                self.last_error = exc.message
                log.warning("index follower: %s", exc.message)
                stop.wait(min(5.0, self.interval * 10))
                continue
            if on_round is not None:
                on_round(done)

    def _moved(self) -> bool:
        """Whether the chain moved since the index's checkpoint: a new head, or another block at its height."""
        with self.ops.lock:
            self.head = head = self.ops.node.chain.block_number()
            cp = self.ops.node.index.checkpoint()
            if cp is None or head != cp[0]:
                return True
            return self.ops.node.chain.get_block(head).hash != cp[1]
