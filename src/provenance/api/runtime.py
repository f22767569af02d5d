"""The running node behind the HTTP API: one open Node, its operations, and two background threads.

* The **follower** (provenance.services.follow, the loop ``index sync --follow`` runs too) keeps the index at
  the chain head (every ``sync_interval`` seconds, and at once after a write), so reads never wait for the chain,
  and draws every spot check whose seed block is mined.
* The **registration writer** (provenance.services.writer) commits registrations in groups.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.api.auth import ReplayGuard
from provenance.services.catalog import CatalogService
from provenance.services.follow import Follower
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.writer import RegistrationWriter
from provenance.store.keystore import PassphraseSource
from provenance.store.tokens import TokenStore

log = logging.getLogger("provenance.api")


@dataclass(frozen=True)
class ApiSettings:
    data_dir: Path
    passphrase: PassphraseSource = field(default_factory=PassphraseSource)
    max_body_bytes: int = 2 * 1024 * 1024
    rate_per_second: float = 200.0  # per client (a known token, else an address)
    rate_burst: int = 400
    sync_interval: float = 0.2  # seconds between follower polls
    group_max: int = 64  # registrations committed in one transaction at most
    follow: bool = True  # run the background follower
    docs: bool = True  # serve /docs (Swagger UI, from the packaged files: works offline)
    web: bool = True  # serve the explorer and verify page at /
    key: str | None = None  # keystore label to act with (default: node.toml's key), e.g. a supervisor's
    draw_checks: bool = True  # draw announced spot checks as soon as their seed block is mined


class Runtime:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.node = Node.open(settings.data_dir, settings.passphrase)
        try:
            self.ops = Operations(self.node, key=settings.key)
            self.tokens = TokenStore(settings.data_dir)
            self.replay = ReplayGuard(settings.data_dir)  # persisted: a restart forgets no signed request
            dep = self.node.contracts.deployment
            self.chain_id = dep.chain_id
            self.registry = bytes(dep.registry)
            role, ident = self.ops.identity()
            # A supervisor's node speaks for no exchange: its admin acts with the supervisor's key.
            self.exchange_id: int | None = ident if role == "exchange" else None
            self.supervisor_id: int | None = ident if role == "supervisor" else None
            self.ops.sync()
            self._stop = threading.Event()
            self._wake = threading.Event()
            self.catalog = CatalogService(self.ops)
            self.catalog.sync()
            self.following = Follower(self.ops, interval=settings.sync_interval, draw_checks=settings.draw_checks,
                                      catalog=self.catalog)
            self.writer = RegistrationWriter(self.ops, group_max=settings.group_max, on_commit=self._wake.set,
                                             publish=self.catalog.publish)
            self._follower: threading.Thread | None = None
            if settings.follow:
                self._follower = threading.Thread(target=self.following.run, args=(self._stop, self._wake),
                                                  name="follower", daemon=True)
                self._follower.start()
            self._key_cache: dict[bytes, tuple[float, int | None]] = {}
        except BaseException:
            self.node.close()
            raise

    @property
    def head(self) -> int:
        """The chain head the follower saw last."""
        return self.following.head

    @property
    def follow_errors(self) -> int:
        return self.following.errors

    @property
    def last_follow_error(self) -> str | None:
        return self.following.last_error

    def key_supervisor(self, address: bytes) -> int | None:
        """The supervisor whose current key this is (per the index), or None."""
        return self.ops.flows.queries.supervisor_of_key(address) if self.node.contracts.has_cross_border else None

    def key_exchange(self, address: bytes) -> int | None:
        """The active exchange a key currently signs for (cached for two seconds), or None."""
        now = time.monotonic()
        hit = self._key_cache.get(address)
        if hit is not None and now - hit[0] < 2.0:
            return hit[1]
        exchange = self.ops.acting_exchange(address)
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[address] = (now, exchange)
        return exchange

    def index_state(self) -> dict[str, Any]:
        cp = self.node.index.checkpoint()
        checkpoint = cp[0] if cp else 0
        return {"checkpoint": checkpoint, "head": self.head, "lag": max(0, self.head - checkpoint),
                "records": self.ops.counts()["records"],
                "follower_errors": self.follow_errors, "last_error": self.last_follow_error,
                "subscribed": self.following.subscribed}

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self.writer.close()
        if self._follower is not None:
            self._follower.join(timeout=30)
        self.replay.close()
        with self.ops.lock:
            self.node.close()
