"""Batch intake: registrations queue in the node and are sealed, every N records or T milliseconds, into one
``anchorBatch`` transaction that carries the entries in its calldata and anchors the log's new checkpoint.

The sealer keeps the exchange's log as a compact range in memory, so sealing a batch needs neither the index
nor the chain beyond the transaction itself. Before each seal it compares its size with the contract's
``logState``: if the exchange registered directly in the meantime (each direct registration is a leaf too),
it reloads the range from the index, synced to the head.

Each request is checked on submission with the same rules every index applies later (the owner's mandate and
the contract's registration rules, against the index and the entries still queued), so a person gets a clear
error at once. The index's verdict is the one that counts: an entry can still be refused there if something
changed between submission and sealing (a parent revoked or expired in between), and the leaf says why.

A sealed batch is on-chain before the index has applied it (the follower applies it at its next sync, later still
with confirmations), and a leaf the index refuses stays in the log for good. So the rules read sealed records from
:class:`SealedBatches`, one per index and shared by every intake on it, until the index has judged the batch: a
copy of a record sealed moments earlier, by the same request or another, is refused on submission, and a child or
a new version of it is judged as the index will judge it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from provenance.chain.base import Chain
from provenance.chain.contracts import REGISTRY, Contracts
from provenance.core import eip712, merkle
from provenance.core.entries import entry_leaf_hash, pack_batch, pack_entry
from provenance.core.ids import hex0x, record_id
from provenance.core.rules import MAX_PARENTS, Violation, check_registration
from provenance.errors import InvalidInput, NotFound, ProvenanceError, StoreError, TransactionTimeout
from provenance.indexer.apply import record_view
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.indexer.property import expired_parent
from provenance.services.group_commit import GroupCommit
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import Address, RecordId, RegistrationRequest, Status

# Verdicts an index that lags behind the chain could give wrongly; they are re-checked after catching up.
_LAG_SENSITIVE = {"NoMandate", "UnknownParent", "UnknownRecord", "ParentExpired"}  # a renewal not yet seen


class RuleViolation(InvalidInput):
    """Raised when a queued registration breaks a registration rule (named as the contract's error); ``note`` says
    where the record that decided it is when the index does not hold it yet (queued, or sealed but not applied)."""

    def __init__(self, violation: Violation, note: str = "") -> None:
        super().__init__(f"the registration breaks a rule: {violation}" + (f" ({note})" if note else ""))
        self.violation = violation
        self.note = note


@dataclass(frozen=True)
class Sealed:
    """Where a queued registration ended up: its leaf in the exchange's log and the anchoring transaction."""

    record_id: RecordId
    leaf_index: int
    tree_size: int
    root: bytes
    tx_hash: bytes
    block_number: int
    batch_gas: int  # gas of the whole anchoring transaction


@dataclass
class _Pending:
    request: RegistrationRequest
    entry: bytes
    rid: RecordId


class _PendingView:
    """A queued or sealed record seen by the rules: active (superseded once a later entry supersedes it), with the
    fields of its request. ``where`` says where it is, for the error that names it: one text for a whole batch,
    with ``{leaf}`` standing for the record's ``leaf``."""

    __slots__ = ("grade", "kind", "leaf", "owner", "registrar", "status", "where_text")

    def __init__(self, registrar: int, request: RegistrationRequest, where: str, leaf: int = -1) -> None:
        self.registrar = registrar
        self.owner = request.owner
        self.kind = int(request.kind)
        self.grade = int(request.grade)
        self.status = int(Status.ACTIVE)
        self.where_text = where
        self.leaf = leaf

    @property
    def where(self) -> str:
        return self.where_text.format(leaf=self.leaf)


class _Superseded:
    """A record as the rules see it once a queued or sealed entry supersedes it."""

    def __init__(self, view: object, by: bytes, where: str) -> None:
        self.registrar: int = view.registrar  # type: ignore[attr-defined]
        self.owner: int = view.owner  # type: ignore[attr-defined]
        self.kind: int = view.kind  # type: ignore[attr-defined]
        self.grade: int = view.grade  # type: ignore[attr-defined]
        self.status = int(Status.SUPERSEDED)
        self.where = f"superseded by 0x{by.hex()}, {where}"


@dataclass
class _SealedBatch:
    exchange: int
    first: int  # the batch's first leaf in the exchange's log
    block: int | None  # the block that mined it; None: no receipt came, the transaction may still be mined
    records: dict[bytes, _PendingView] = field(default_factory=dict)
    superseded: dict[bytes, bytes] = field(default_factory=dict)  # superseded id -> the sealed id superseding it
    tx_hash: bytes | None = None  # with no block: the transaction to ask the chain about
    asked_at: float = 0.0  # when the chain was last asked (time.monotonic)
    lost: bool = False  # the chain no longer knows the transaction: nothing will mine it


ASK_CHAIN_EVERY = 5.0
"""Seconds between two questions to the chain about a batch whose receipt never came: submissions (each judged
against the sealed batches) ask at most this often, whatever their rate."""


class SealedBatches:
    """The batches intakes on one index sealed (or sent without hearing back) that the index has not applied yet:
    :meth:`of` gives the one of an index, shared by every intake on it, so a request is judged against what any
    earlier one sealed, whether or not the follower has synced since.

    A batch is dropped once the index has judged the leaf it starts at (its log is longer than that: the batch
    was applied, or something else took the leaf and the batch's transaction can no longer succeed, as the
    contract anchors a batch only at the log's size), or has indexed the block that mined it without it (a reorg
    took it away). One whose receipt never came is also dropped when the chain no longer knows its transaction
    (dropped from the pool, or lost with a restart): then nothing will mine it, and its records may be sent
    again. Were somebody to send the same signed transaction later, the contract would still anchor only one of
    the two batches at that leaf, and an index refuses a copy of a record it holds."""

    _of: weakref.WeakKeyDictionary[IndexStore, SealedBatches] = weakref.WeakKeyDictionary()
    _of_lock = threading.Lock()

    def __init__(self, store: IndexStore) -> None:
        # A weak reference: the registry of :meth:`of` is keyed weakly by the store, which a strong one here would
        # keep alive (and its LevelDB lock held) for the whole process.
        self._store = weakref.ref(store)
        self._lock = threading.Lock()
        self._batches: list[_SealedBatch] = []
        self._records: dict[bytes, _PendingView] = {}
        self._superseded: dict[bytes, bytes] = {}  # superseded id -> the sealed id superseding it
        self._judged_at: tuple[int, bytes] | None = None  # the index's checkpoint when the batches were last judged

    @classmethod
    def of(cls, store: IndexStore) -> SealedBatches:
        with cls._of_lock:
            found = cls._of.get(store)
            if found is None:
                found = cls._of[store] = cls(store)
            return found

    def __len__(self) -> int:
        """The records sealed and not yet applied by the index (as of the last :meth:`prune`)."""
        with self._lock:
            return len(self._records)

    def add(self, batch: _SealedBatch) -> None:
        with self._lock:
            self._batches.append(batch)
            self._records.update(batch.records)
            self._superseded.update(batch.superseded)
            self._judged_at = None  # the index may have applied it already: judge it at the next look

    def record(self, rid: bytes) -> _PendingView | None:
        with self._lock:
            return self._records.get(rid)

    def superseded(self, rid: bytes) -> tuple[bytes, str] | None:
        """The sealed record superseding ``rid`` and where it is, or None."""
        with self._lock:
            new = self._superseded.get(rid)
            return None if new is None else (new, self._records[new].where)

    def prune(self, chain: Chain | None = None) -> None:
        """Drop the batches the index has judged, or the chain has lost (see the class docstring). While any is
        kept, one index read, and more only when the index has moved since the last look: the index judges a batch
        only by moving. With ``chain``, each batch whose receipt never came is asked about, at most every
        :data:`ASK_CHAIN_EVERY` seconds."""
        with self._lock:
            if not self._batches:
                return
            store = self._store()
            if store is None:
                return
            lost = self._ask_chain(chain) if chain is not None else False
            cp = store.checkpoint()
            if cp is not None and cp == self._judged_at and not lost:
                return
            self._judged_at = cp
            indexed = -1 if cp is None else cp[0]
            logs = LogQueries(store)
            sizes: dict[int, int] = {}
            keep = []
            for b in self._batches:
                if b.exchange not in sizes:
                    sizes[b.exchange] = logs.size(b.exchange)
                if sizes[b.exchange] > b.first or (b.block is not None and indexed >= b.block) or b.lost:
                    continue
                keep.append(b)
            if len(keep) == len(self._batches):
                return
            self._batches = keep
            self._records = {rid: v for b in keep for rid, v in b.records.items()}
            self._superseded = {old: new for b in keep for old, new in b.superseded.items()}

    def _ask_chain(self, chain: Chain) -> bool:
        """Ask the chain about the batches whose receipt never came (under the lock): one it has mined gets its
        block, one it does not know is marked lost. Whether any was."""
        lost = False
        now = time.monotonic()
        for b in self._batches:
            if b.block is not None or b.tx_hash is None or now - b.asked_at < ASK_CHAIN_EVERY:
                continue
            b.asked_at = now
            try:
                state = chain.transaction_state(b.tx_hash)
            except ProvenanceError:
                continue  # the chain cannot answer now: ask again later, and keep the batch meanwhile
            if state.block is not None:
                b.block = state.block
            elif not state.known:
                b.lost = lost = True
        return lost


def batch_outcomes(logs: LogQueries, exchange: int, sealed: list[tuple[int, Sealed]]) -> dict[str, Any]:
    """What became of a request's sealed items (its item index, where it was sealed), as the index now judges
    them: accepted, rejected by the index (with why), or awaiting confirmation (anchored in a block the index does
    not follow yet: [index] confirmations); with the ids, batches and tree size."""
    accepted, rejected, awaiting = [], [], []
    for i, s in sealed:
        item = {"index": i, "id": hex0x(s.record_id), "leaf": s.leaf_index, "tx": hex0x(s.tx_hash)}
        try:
            leaf = logs.leaf(exchange, s.leaf_index)
        except NotFound:
            awaiting.append(item)
            continue
        if leaf.reason:
            rejected.append({**item, "why": leaf.reason})
        else:
            accepted.append(item)
    return {"rejected_by_index": rejected, "accepted": accepted, "awaiting_confirmation": awaiting,
            "ids": [hex0x(s.record_id) for _, s in sealed], "batches": len({s.tx_hash for _, s in sealed}),
            "tree_size": sealed[-1][1].tree_size if sealed else None}


class BatchIntake:
    def __init__(self, *, contracts: Contracts, store: IndexStore, follower: Follower, signer: LocalAccount,
                 exchange: int, max_records: int = 1000, max_delay_ms: int = 200,
                 max_bytes: int = 120_000, on_error: Callable[[BaseException], None] | None = None,
                 sealed: SealedBatches | None = None) -> None:
        if max_records < 1 or max_delay_ms < 1 or max_bytes < 1024:
            raise InvalidInput("max_records and max_delay_ms must be positive and max_bytes at least 1024")
        self.contracts = contracts
        self.store = store
        self.follower = follower
        self.signer = signer
        self.exchange = exchange
        self.max_records = max_records
        self.max_delay = max_delay_ms / 1000
        self.max_bytes = max_bytes
        self.on_error = on_error
        # The queue, its limits and the sealer thread are the node's group commit (services/group_commit.py);
        # its lock also guards _queued_ids and _queued_supersedes, so a request is judged against exactly what is
        # queued.
        self._group: GroupCommit[_Pending, Sealed] = GroupCommit(
            self._seal, name="batch-sealer", max_items=max_records, max_delay=self.max_delay, max_size=max_bytes,
            size=lambda p: len(p.entry))
        self._queued_ids: dict[bytes, _PendingView] = {}
        self._queued_supersedes: dict[bytes, bytes] = {}  # superseded id -> the queued id superseding it
        self.sealed = sealed if sealed is not None else SealedBatches.of(store)
        self._range: merkle.CompactRange | None = None
        self._range_block = -1  # the block at which self._range was the log's state on-chain
        self.sealed_batches = 0
        self.sealed_records = 0

    @property
    def _queue(self) -> list[_Pending]:
        """The queued registrations, oldest first."""
        return [q.item for q in self._group.queue]

    # ------------------------------------------------------------------ intake

    def check(self, request: RegistrationRequest, rid: bytes | None = None) -> Violation | None:
        """The first rule the request breaks against the index, the batches sealed that it has not applied yet
        and the queue, or None."""
        mandate = self.store.get(K.MANDATE + request.owner.to_bytes(4, "big") + self.exchange.to_bytes(2, "big"))
        if mandate != b"\x01":
            return Violation("NoMandate", {"owner": request.owner, "exchangeId": self.exchange})
        self.sealed.prune(self.contracts.chain)
        violation = check_registration(self.exchange, request, self._lookup, rid)  # type: ignore[arg-type]
        if violation is not None or not request.parents:
            return violation
        return self._expired_parent(request.parents)

    def _lookup(self, rid: bytes) -> object | None:
        """A record as the rules see it: queued, sealed but not applied by the index, or the head of its index
        value (all the rules read), with the supersession a queued or sealed entry makes."""
        view: object | None = self._queued_ids.get(rid)
        if view is None:
            view = self.sealed.record(rid)
        if view is None:
            view = record_view(self.store, rid)
        if view is None:
            return None
        by = self._queued_supersedes.get(rid)
        if by is not None:
            return _Superseded(view, by, "queued for the next batch")
        sealed_by = self.sealed.superseded(rid)
        if sealed_by is not None:
            return _Superseded(view, *sealed_by)
        return view

    def _note(self, violation: Violation) -> str:
        """Where the queued or sealed record that decided ``violation`` is, if the index does not hold it yet."""
        if violation.error not in ("AlreadyRegistered", "InvalidStatusTransition"):
            return ""
        view = self._lookup(violation.args["id"])
        return str(getattr(view, "where", ""))

    def _expired_parent(self, parents: tuple[bytes, ...]) -> Violation | None:
        """The register's parent rule (``checkParents``) as the indexes apply it to a batched entry, judged at the
        chain head's time: the anchoring block's time is no earlier, so a parent expired by the head would be refused
        there too unless renewed first (one expiring between the head and the anchoring block is the index's to
        refuse)."""
        # Only a parent that expires at all needs the chain's time: most submissions ask the chain nothing.
        if expired_parent(self.store, parents, 2**64) is None:
            return None
        chain = self.contracts.chain
        found = expired_parent(self.store, parents, chain.get_block(chain.block_number()).timestamp)
        if found is None:
            return None
        parent, expires = found
        return Violation("ParentExpired", {"parentId": parent, "expiresAt": expires})

    def submit(self, request: RegistrationRequest) -> Future[Sealed]:
        """Queue a registration; the future resolves when its batch is anchored (or fails with the reason)."""
        if len(request.parents) > MAX_PARENTS:
            raise RuleViolation(Violation("TooManyParents", {"count": len(request.parents), "max": MAX_PARENTS}))
        entry = pack_entry(request)
        with self._group.cond:
            if self._group.closed:
                raise InvalidInput("the batch intake is closed")
            rid = RecordId(record_id(self.exchange, request.content_hash))
            violation = self.check(request, rid)
            if violation is not None and violation.error in _LAG_SENSITIVE:
                self.follower.sync()  # the index may simply not have seen the mandate or parent yet
                violation = self.check(request, rid)
            if violation is not None:
                raise RuleViolation(violation, self._note(violation))
            self._queued_ids[rid] = _PendingView(self.exchange, request, "queued for the next batch")
            if request.supersedes != bytes(32):
                self._queued_supersedes[request.supersedes] = rid
            return self._group.put_locked(_Pending(request, entry, rid))

    def pending(self) -> int:
        return self._group.pending()

    # ------------------------------------------------------------------ sealing

    def seal(self) -> int:
        """Seal what is queued now (in as many batches as the limits need); returns the records sealed."""
        return self._group.drain()

    def _current_range(self) -> merkle.CompactRange:
        head = self.contracts.chain.block_number()
        if self._range is not None and head == self._range_block:
            return self._range  # no block since this log size was known: nothing can have moved the log
        size, _anchored = self.contracts.call(REGISTRY, "logState", self.exchange, block=head)
        if self._range is not None and self._range.size == int(size):
            self._range_block = head
            return self._range
        # Direct registrations (or another process with this exchange's key) moved the log: reload from the
        # index, synced to the head.
        self.follower.sync()
        raw = self.store.get(K.LOG_STATE + self.exchange.to_bytes(2, "big"))
        rng = merkle.CompactRange.decode(raw) if raw else merkle.CompactRange()
        if rng.size != int(size):
            raise StoreError(f"exchange {self.exchange}'s log has {size} leaves on-chain but {rng.size} in the index "
                             f"(is the index following with confirmations?)")
        self._range, self._range_block = rng, head
        return rng

    def _seal(self, batch: list[_Pending]) -> list[Sealed | BaseException]:
        """Anchor one batch (the group commit's commit: it runs one batch at a time, whoever seals)."""
        first: int | None = None
        try:
            rng = self._current_range()
            work = merkle.CompactRange(rng.size, rng.hashes)
            first = work.size
            for p in batch:
                work.append(entry_leaf_hash(self.exchange, p.entry))
            root = work.root()
            dep = self.contracts.deployment
            note = eip712.sign_digest(eip712.checkpoint_digest(self.contracts.chain.chain_id,
                                                               Address(dep.registry), self.exchange, work.size,
                                                               root), bytes(self.signer.key))
            tx = self.contracts.transact(self.signer, REGISTRY, "anchorBatch", work.size, root,
                                         pack_batch([p.entry for p in batch]), note)
        except BaseException as exc:
            self._range = None
            if isinstance(exc, TransactionTimeout) and first is not None:
                # Sent, and it may still be mined: its records count as sealed until the index has judged its leaf.
                self._forget(batch, _SealedBatch(self.exchange, first, None, tx_hash=exc.tx_hash),
                             "sent in a batch whose transaction "
                             f"may still be mined (leaf {{leaf}} of exchange {self.exchange}'s log)")
            else:
                self._forget(batch)
            if self.on_error is not None:
                self.on_error(exc)
            if not isinstance(exc, ProvenanceError | OSError):
                raise  # every waiter of the batch gets it too (GroupCommit), and so does the caller of seal()
            return [exc] * len(batch)
        self._range, self._range_block = work, tx.receipt.block_number
        self.sealed_batches += 1
        self.sealed_records += len(batch)
        # From the queued view to the sealed one before the waiters hear of it: a child submitted at once, or a copy,
        # is judged against the batch until the index has applied it.
        self._forget(batch, _SealedBatch(self.exchange, first, tx.receipt.block_number),
                     f"sealed at leaf {{leaf}} of exchange {self.exchange}'s log in block {tx.receipt.block_number}, "
                     "which the index has not applied yet")
        return [Sealed(p.rid, first + i, work.size, root, tx.receipt.tx_hash, tx.receipt.block_number,
                       tx.receipt.gas_used) for i, p in enumerate(batch)]

    def _forget(self, batch: list[_Pending], sealed: _SealedBatch | None = None, where: str = "") -> None:
        """Take ``batch`` out of the queued view, into the sealed one when it is (or may be) on-chain; ``where``
        says where each record is, with ``{leaf}`` for its leaf."""
        with self._group.cond:
            if sealed is not None:
                for i, p in enumerate(batch):
                    sealed.records[p.rid] = _PendingView(self.exchange, p.request, where, sealed.first + i)
                    if p.request.supersedes != bytes(32):
                        sealed.superseded[p.request.supersedes] = p.rid
                self.sealed.add(sealed)
            for p in batch:
                self._queued_ids.pop(p.rid, None)
                if self._queued_supersedes.get(p.request.supersedes) == p.rid:
                    del self._queued_supersedes[p.request.supersedes]

    # ------------------------------------------------------------------ background sealer

    def start(self) -> None:
        """Seal in a background thread whenever N records are queued or the oldest waited T milliseconds."""
        self._group.start()

    def close(self) -> None:
        """Seal what is queued, then stop the background sealer."""
        self._group.close()
