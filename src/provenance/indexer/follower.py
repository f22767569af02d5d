"""The follower: reads the registry's events by block ranges from the checkpoint on, and indexes them.

* Ranges run from the last indexed block to the head less ``confirmations`` (never from block 0 again:
  eth-tester's ``get_logs`` costs grow with the square of the chain's length).
* Each block's effects, its hash and the checkpoint are one atomic LevelDB batch: a crash leaves whole blocks.
* Blocks within ``reorg_depth`` of the head keep their hash and an undo record. Before each range the follower
  checks that the checkpoint block is still canonical; if not, it walks back over the kept hashes to the fork
  point, undoes the orphaned blocks and re-indexes the canonical ones. A reorg deeper than the window stops
  it with :class:`ReorgTooDeep` rather than carrying on from a wrong history.
* Endpoints misbehave: a range the endpoint refuses (-32005, -32602, "too many results") is split; a range
  whose registrations and entities do not add up to the contract's own counters (an endpoint that silently
  returns nothing for wide ranges) is fetched again in halves; logs are sorted by (block, index) and
  de-duplicated.
* The index is pinned to one chain (id and genesis hash) and one deployment (addresses and code hashes).
* The time of every block with direct registrations is kept when a property register is deployed: a record's
  term runs from it; a block anchoring a batch has its time read too, for the batch rules (an expired parent).
  These are the only headers fetched for blocks outside the reorg window besides the range's last.
* During a catch-up the next range is fetched in a background thread while the current one is indexed, so the
  endpoint's work and the index's overlap; the range adapts to about ``TARGET_LOGS`` logs a request.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from eth_hash.auto import keccak

from provenance.chain.base import BlockRef, Chain, Log
from provenance.chain.contracts import CROSS_BORDER, FEDERATION, PROPERTY_REGISTER, REGISTRY, Contracts
from provenance.chain.rpc import RpcError
from provenance.errors import ChainError, ChainMismatch, ChainUnavailable, ProvenanceError
from provenance.indexer.direct import apply_logs
from provenance.indexer.events import DATA_REGISTERED, Event, EventDecoder
from provenance.indexer.property import note_block_time
from provenance.store import keys as K
from provenance.store.index import IndexStore

_ENTITY_REGISTERED = keccak(b"EntityRegistered(uint32,uint16,bytes32,address,uint8)")
RANGE_ERROR_CODES = {-32005, -32602, -32600, -32000}
TARGET_LOGS = 1000
INITIAL_RANGE = 4


class ReorgTooDeep(ProvenanceError):
    """Raised when the chain reorganised deeper than the follower's reorg window."""

    exit_code = 10


class IndexInconsistent(ProvenanceError):
    """Raised when the endpoint's logs cannot be made to agree with the contract's own counters."""

    exit_code = 10


@dataclass(frozen=True)
class SyncStatus:
    checkpoint: int
    target: int
    head: int
    blocks: int
    events: int
    reorgs: int


class Follower:
    def __init__(self, *, chain: Chain, contracts: Contracts, store: IndexStore, confirmations: int = 0,
                 max_range: int = 2000, reorg_depth: int = 64, check_counts: bool = True) -> None:
        if reorg_depth < 1 or max_range < 1 or confirmations < 0:
            raise ValueError("reorg_depth and max_range must be positive, confirmations not negative")
        self.chain = chain
        self.contracts = contracts
        self.store = store
        self.confirmations = confirmations
        self.max_range = max_range
        self.reorg_depth = reorg_depth
        self.check_counts = check_counts
        # Start small and let the range grow: the first request is fetched with nothing to overlap it (a catch-up of
        # 100 registrations a block waited some 1,100 logs for it at 16 blocks), and on eth-tester a wide range
        # costs more than several narrow ones.
        self._range = min(max_range, INITIAL_RANGE)
        self._pool: ThreadPoolExecutor | None = None
        self._prefetch: tuple[int, int, Future[_Fetched]] | None = None
        dep = contracts.deployment
        names = {dep.federation: FEDERATION, dep.registry: REGISTRY}
        if dep.cross_border is not None:
            names[dep.cross_border] = CROSS_BORDER
        if dep.property_register is not None:
            names[dep.property_register] = PROPERTY_REGISTER
        self._keep_times = dep.property_register is not None
        self._batch_anchored = contracts.abis[REGISTRY].events_by_name["BatchAnchored"].topic0
        self._addresses = list(names)
        self._decoder = EventDecoder(contracts.abis, names)
        self.reorgs = 0
        self._pinned = False
        self._last_counts: tuple[int, tuple[int, int]] | None = None

    # ------------------------------------------------------------------ pinning

    def pin(self) -> None:
        """Record what this index belongs to, or refuse if it belongs to something else.

        Checked once per follower: a chain's id and genesis never change under a running node, and code at a
        pinned address cannot change (no SELFDESTRUCT of pre-existing contracts since cancun).
        """
        if self._pinned and self.store.get_meta("schema") is not None:  # a wiped index is pinned again
            return
        dep = self.contracts.deployment
        want = {
            "chain_id": str(self.chain.chain_id).encode(),
            "genesis": self.chain.get_block(0).hash,
            "federation": dep.federation,
            "registry": dep.registry,
            "federation_code": keccak(self.chain.get_code(dep.federation)),
            "registry_code": keccak(self.chain.get_code(dep.registry)),
            "schema": K.SCHEMA_VERSION,
        }
        if dep.cross_border is not None:
            want["cross_border"] = dep.cross_border
            want["cross_border_code"] = keccak(self.chain.get_code(dep.cross_border))
        if dep.property_register is not None:
            want["property_register"] = dep.property_register
            want["property_register_code"] = keccak(self.chain.get_code(dep.property_register))
        stored = {name: self.store.get_meta(name) for name in want}
        if all(v is None for v in stored.values()):
            self.store.put_meta(want)
            self._pinned = True
            return
        differ = [name for name in want if stored[name] != want[name]]
        if differ:
            what = ", ".join(f"{n} (index has {_show(stored[n])}, chain has {_show(want[n])})" for n in differ)
            raise ChainMismatch(f"the index at {self.store.path} belongs to another chain or deployment: {what}; "
                                f"point the node at the right chain, or rebuild the index")
        self._pinned = True

    # ------------------------------------------------------------------ syncing

    def sync(self, *, until: int | None = None,
             progress: Callable[[SyncStatus], None] | None = None) -> SyncStatus:
        """Index up to the current target (head less confirmations), or up to block ``until`` if lower."""
        self.pin()
        total_blocks = total_events = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
            self._pool = pool
            try:
                return self._sync(until, progress, total_blocks, total_events)
            finally:
                self._pool = None
                self._drop_prefetch()

    def _sync(self, until: int | None, progress: Callable[[SyncStatus], None] | None, total_blocks: int,
              total_events: int) -> SyncStatus:
        while True:
            blocks, events, status = self.step(until=until)
            if until is not None and status.checkpoint >= until:
                return SyncStatus(status.checkpoint, status.target, status.head, total_blocks + blocks,
                                  total_events + events, self.reorgs)
            total_blocks += blocks
            total_events += events
            if progress is not None:
                progress(status)
            if blocks == 0 and status.checkpoint >= status.target:
                return SyncStatus(status.checkpoint, status.target, status.head, total_blocks, total_events,
                                  self.reorgs)

    def _start(self) -> tuple[int, bytes]:
        cp = self.store.checkpoint()
        if cp is not None:
            return cp
        before = max(self.contracts.deployment.block - 1, 0)
        return before, self.chain.get_block(before).hash

    def step(self, *, until: int | None = None) -> tuple[int, int, SyncStatus]:
        """One range: returns (blocks indexed, events indexed, status)."""
        number, block_hash = self._start()
        head = self.chain.block_number()
        target = max(head - self.confirmations, 0)
        if number > head or self.chain.get_block(number).hash != block_hash:
            self._drop_prefetch()  # fetched before the reorg: it may hold orphaned logs
            self._handle_reorg(number, head)
            return 0, 0, SyncStatus(*self._start()[:1], target, head, 0, 0, self.reorgs)
        if number >= target:
            return 0, 0, SyncStatus(number, target, head, 0, 0, self.reorgs)
        limit = min(target, until) if until is not None else target
        frm, to = number + 1, min(number + self._range, limit)
        if to < frm:
            return 0, 0, SyncStatus(number, target, head, 0, 0, self.reorgs)
        window_start = target - self.reorg_depth + 1
        pre = self._prefetch
        self._prefetch = None
        if pre is not None and pre[0] == frm and pre[1] <= limit:
            to, fetched = pre[1], pre[2].result()
        else:
            if pre is not None:
                pre[2].cancel()
            fetched = self._fetch_range(frm, to, window_start)
        logs, by_block, registering, timed, headers = fetched
        if len(logs) > TARGET_LOGS and self._range > 1:
            self._range = max(1, self._range // 2)
        elif len(logs) < TARGET_LOGS // 4:
            self._range = min(self.max_range, self._range * 2)
        blocks, need = _blocks_and_headers(frm, to, by_block, timed, window_start)
        missing = [n for n in need if n not in headers]  # the window moved back since the prefetch (a reorg)
        if missing:
            headers.update(zip(missing, self.chain.get_blocks(missing), strict=True))
        # The next range's logs and then its headers are fetched in the background while this one is indexed: an
        # endpoint that serves one request at a time (Hardhat) then never waits for this thread between the two.
        next_to = min(to + self._range, limit)
        if self._pool is not None and next_to > to:
            self._prefetch = (to + 1, next_to, self._pool.submit(self._fetch_range, to + 1, next_to, window_start))
        prev_hash = block_hash
        prev_number = number
        events = 0
        registry = self.contracts.deployment.registry
        for n in blocks:
            in_window = n >= window_start
            if n in headers:
                ref = headers[n]
                if in_window and n == prev_number + 1 and ref.parent_hash != prev_hash:
                    break  # the chain moved under us; the next step finds the fork
                h = ref.hash
            else:
                h = by_block[n][0].block_hash
            block_logs = by_block.get(n, [])
            if any(log.block_hash != h for log in block_logs):
                break  # logs from a block that is no longer canonical: refetch next step
            with self.store.block(n, h, keep_for_reorg=in_window, prune_below=window_start) as w:
                if n in timed:
                    note_block_time(w, n, headers[n].timestamp, keep=n in registering)
                events += apply_logs(w, block_logs, self._decoder, registry)
            prev_hash, prev_number = h, n
        return prev_number - number, events, SyncStatus(prev_number, target, head, prev_number - number, events,
                                                         self.reorgs)

    def _drop_prefetch(self) -> None:
        pre, self._prefetch = self._prefetch, None
        if pre is not None and not pre[2].cancel():
            try:
                pre[2].result()
            except Exception:  # noqa: BLE001 - an unused prefetch's failure is nobody's concern
                pass

    # ------------------------------------------------------------------ reorgs

    def _handle_reorg(self, checkpoint: int, head: int) -> None:
        self._last_counts = None
        kept = self.store.recent_blocks()
        for n, h in kept:
            if n <= head and self.chain.get_block(n).hash == h:
                self.store.rollback(n, h)
                self.reorgs += 1
                return
        oldest = kept[-1][0] if kept else checkpoint
        raise ReorgTooDeep(
            f"the chain reorganised below block {oldest}, deeper than the reorg window of {self.reorg_depth} "
            f"blocks (index checkpoint {checkpoint}, chain head {head}); the index stops here: rebuild it "
            f"(`provenance index rebuild`) once the chain is settled")

    # ------------------------------------------------------------------ fetching

    def _fetch_range(self, frm: int, to: int, window_start: int) -> _Fetched:
        """A range's logs, grouped by block, and the headers the indexing needs (for a reorg window starting at
        ``window_start``; a later, higher start needs fewer)."""
        logs = self._fetch(frm, to)
        by_block: dict[int, list[Log]] = {}
        for log in logs:
            by_block.setdefault(log.block_number, []).append(log)
        registering: set[int] = set()
        timed: set[int] = set()
        if self._keep_times:
            reg = self.contracts.deployment.registry
            for log in logs:
                if log.address == reg and log.topics:
                    if log.topics[0] == DATA_REGISTERED:
                        registering.add(log.block_number)
                    elif log.topics[0] == self._batch_anchored:
                        timed.add(log.block_number)
            timed |= registering
        need = _blocks_and_headers(frm, to, by_block, timed, window_start)[1]
        headers = dict(zip(need, self.chain.get_blocks(need), strict=True))
        return _Fetched(logs, by_block, registering, timed, headers)

    def _get_logs(self, frm: int, to: int) -> list[Log]:
        """get_logs, retrying transient failures (timeouts, dropped connections) with backoff."""
        delay = 0.05
        for attempt in range(6):
            try:
                return self.chain.get_logs(self._addresses, frm, to)
            except ChainUnavailable:
                if attempt == 5:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def _fetch(self, frm: int, to: int) -> list[Log]:
        try:
            logs = self._get_logs(frm, to)
        except RpcError as exc:
            if frm < to and (exc.code in RANGE_ERROR_CODES or _looks_like_range_error(exc.rpc_message)):
                mid = (frm + to) // 2
                return self._fetch(frm, mid) + self._fetch(mid + 1, to)
            raise
        logs = _dedupe_sorted(logs)
        if self.check_counts and not self._counts_agree(frm, to, logs):
            if frm == to:
                time.sleep(0.05)
                logs = _dedupe_sorted(self._get_logs(frm, to))
                if not self._counts_agree(frm, to, logs):
                    raise IndexInconsistent(
                        f"block {frm}: the endpoint's logs do not add up to the registry's counters")
                return logs
            mid = (frm + to) // 2
            return self._fetch(frm, mid) + self._fetch(mid + 1, to)
        return logs

    def _counts_at(self, block: int) -> tuple[int, int] | None:
        # Ranges follow one another: the counts after one range are the counts before the next (kept until a
        # reorg, which clears them).
        last = self._last_counts
        if last is not None and last[0] == block:
            return last[1]
        try:
            entities, registrations = self.contracts.call(REGISTRY, "counts", block=block)
        except ChainError:
            return None  # e.g. a node without the historical state: the range goes unchecked
        counts = int(entities), int(registrations)
        self._last_counts = (block, counts)
        return counts

    def _counts_agree(self, frm: int, to: int, logs: list[Log]) -> bool:
        reg = self.contracts.deployment.registry
        if frm <= self.contracts.deployment.block:
            before: tuple[int, int] | None = (0, 0)
        else:
            before = self._counts_at(frm - 1)
        after = self._counts_at(to)
        if before is None or after is None:
            return True
        regs = ents = 0
        for log in logs:  # one pass: a range is about TARGET_LOGS logs, nearly all registrations
            if log.address == reg and log.topics:
                topic = log.topics[0]
                if topic == DATA_REGISTERED:
                    regs += 1
                elif topic == _ENTITY_REGISTERED:
                    ents += 1
        return (after[0] - before[0], after[1] - before[1]) == (ents, regs)


class _Fetched(NamedTuple):
    logs: list[Log]
    by_block: dict[int, list[Log]]
    registering: set[int]  # blocks with direct registrations (their time is kept)
    timed: set[int]  # blocks whose time the indexing reads
    headers: dict[int, BlockRef]


def _blocks_and_headers(frm: int, to: int, by_block: dict[int, list[Log]], timed: set[int],
                        window_start: int) -> tuple[list[int], list[int]]:
    """The blocks a range indexes (those with logs, every block within the reorg window, the last) and those whose
    header it reads (within the window, without logs to take the hash from, the last, and the timed)."""
    blocks = sorted(set(by_block) | set(range(max(frm, window_start), to + 1)) | {to})
    need = [n for n in blocks if n >= window_start or n not in by_block or n == to or n in timed]
    return blocks, need


def _dedupe_sorted(logs: list[Log]) -> list[Log]:
    # Endpoints that behave return logs in order and once: check that in one pass before sorting.
    positions = [(log.block_number, log.log_index) for log in logs]
    if all(map(operator.lt, positions, positions[1:])):
        return logs
    seen: set[tuple[bytes, int]] = set()
    out = []
    for log in sorted(logs, key=lambda x: (x.block_number, x.log_index)):
        key = (log.block_hash, log.log_index)
        if key not in seen:
            seen.add(key)
            out.append(log)
    return out


def _looks_like_range_error(message: str) -> bool:
    m = message.lower()
    return any(s in m for s in ("range", "too many", "limit", "exceed", "10000 results", "query returned more"))


def _show(value: bytes | None) -> str:
    if value is None:
        return "nothing"
    try:
        text = value.decode("ascii")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return "0x" + value.hex()


__all__ = ["Event", "Follower", "IndexInconsistent", "ReorgTooDeep", "SyncStatus"]
