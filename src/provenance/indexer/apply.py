"""What each event does to the index (see provenance.store.keys for the layout). Deterministic: the same
events in the same order give the same bytes, which is what makes a rebuild equal an incremental index."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple, Protocol, cast

from provenance.chain.contracts import PROPERTY_REGISTER
from provenance.core.entries import entry_fields, entry_leaf_hash, pack_entry_fields, split_batch
from provenance.core.ids import record_id
from provenance.core.merkle import CompactRange
from provenance.core.rules import Violation, check_registration, check_status_change
from provenance.errors import InvalidInput, StoreError
from provenance.indexer.catalog import HANDLERS as CATALOG_HANDLERS
from provenance.indexer.catalog import touch_entity, touch_record
from provenance.indexer.events import Event
from provenance.indexer.flows import HANDLERS as FLOW_HANDLERS
from provenance.indexer.logs import collided_value, rejected_value
from provenance.indexer.property import HANDLERS as PROPERTY_HANDLERS
from provenance.indexer.property import block_time, expiry_of, term_of
from provenance.store import keys as K
from provenance.store.index import BlockWriter
from provenance.types import RegistrationRequest, Status


def _counter(w: BlockWriter, name: str) -> int:
    raw = w.get(K.meta(name))
    return int.from_bytes(raw, "big") if raw else 0


def _bump(w: BlockWriter, name: str, by: int = 1) -> int:
    """Add to a counter: read once a block, kept in the block's state, written back once before it commits."""
    key = ("counter", name)
    held = w.state.get(key)
    if held is None:
        value = _counter(w, name)

        def save() -> None:
            w.put(K.meta(name), cast(int, w.state[key]).to_bytes(8, "big"))

        w.before_commit.append(save)
    else:
        value = cast(int, held)
    value += by
    w.state[key] = value
    return value


def _seq(w: BlockWriter, record_id: bytes) -> int | None:
    raw = w.get(K.ID_SEQ + record_id)
    return None if raw is None else int.from_bytes(raw, "big")


def apply_event(w: BlockWriter, ev: Event) -> None:
    # The property register's events go by contract as well as by name: its names (Transferred, Changed, Listed)
    # are ones another contract could well use for something else.
    handler = PROPERTY_HANDLERS.get(ev.name) if ev.contract == PROPERTY_REGISTER else _HANDLERS.get(ev.name)
    if handler is not None:
        handler(w, ev)


class _Entry(NamedTuple):
    """A batched entry as the rules read it: RegistrationRequest's fields, as plain values."""

    kind: int
    grade: int
    source: int
    rights: int
    owner: int
    content_hash: bytes
    metadata_hash: bytes
    supersedes: bytes
    parents: tuple[bytes, ...]


class _View(NamedTuple):
    """What the rules need of a record (core.rules.RecordView), read from its index value."""

    registrar: int
    owner: int
    kind: int
    grade: int
    status: int
    batched: bool
    seq: int


class _Reader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


def record_view(w: _Reader, record_id: bytes) -> _View | None:
    """What the rules need of a record, from its index value's head alone (the store or a block's writer)."""
    raw = w.get(K.ID_SEQ + record_id)
    if raw is None:
        return None
    value = w.get(K.RECORD + raw)
    if value is None:
        raise StoreError(f"the index maps 0x{record_id.hex()} to a missing record (corrupt index)")
    owner, registrar, kind, grade, _src, _rights, status, flags, *_ = K.record_head(value)
    return _View(registrar, owner, kind, grade, status, K.is_batched(flags), int.from_bytes(raw, "big"))


_view = record_view


def _insert_record(w: BlockWriter, *, rid: bytes, registrar: int, owner: int, kind: int, grade: int, source: int,
                   rights: int, delegated: bool, batched: bool, block: int, leaf_index: int, content: bytes,
                   metadata: bytes, supersedes: bytes, parents: tuple[bytes, ...]) -> bytes:
    seq = _bump(w, "records") - 1
    parent_sb = []
    # Records of a block often share parents: each parent's seq is read once a block (ids never change seq).
    seqs = cast("dict[bytes, bytes] | None", w.state.get("parent seqs"))
    if seqs is None:
        seqs = {}
        w.state["parent seqs"] = seqs
    for p in parents:
        raw = seqs.get(p)
        if raw is None:
            raw = w.get(K.ID_SEQ + p)
            if raw is not None:
                seqs[p] = raw
        if raw is None:
            raise StoreError(f"parent 0x{p.hex()} of 0x{rid.hex()} is not in the index (block {block})")
        parent_sb.append(raw)
    sb = K.seq_bytes(seq)
    value = K.encode_record_fields(owner, registrar, kind, grade, source, rights, 1, delegated, block, rid, content,
                                   metadata, supersedes, parent_sb, batched=batched, leaf_index=leaf_index)
    # Every key below contains the new record's id or seq: none can exist yet, so no undo read is needed.
    items = [
        (K.ID_SEQ + rid, sb),
        (K.RECORD + sb, value),
        (K.BY_CONTENT + content + sb, b""),
        (K.BY_OWNER + owner.to_bytes(4, "big") + sb, b""),
        (K.BY_REGISTRAR + registrar.to_bytes(2, "big") + sb, b""),
        (K.BY_KIND + bytes((kind,)) + sb, b""),
        (K.BY_GRADE + bytes((grade,)) + sb, b""),
        (K.BY_STATUS + b"\x01" + sb, b""),
    ]
    for pb in parent_sb:
        items.append((K.PARENT + sb + pb, b""))
        items.append((K.CHILD + pb + sb, b""))
    w.put_new(items)
    touch_record(w, sb)
    return sb


class _Log:
    """One exchange's transparency log while a block is applied: appends leaves and saves subtree roots."""

    def __init__(self, w: BlockWriter, exchange: int) -> None:
        self.w = w
        self.exchange = exchange
        self._ex = exchange.to_bytes(2, "big")
        raw = w.get(K.LOG_STATE + self._ex)
        self.range = CompactRange.decode(raw) if raw else CompactRange()
        self._anchored: bool | None = None

    @classmethod
    def of(cls, w: BlockWriter, exchange: int) -> _Log:
        """The exchange's log for this block: loaded once, saved once when the block is committed."""
        key = ("log", exchange)
        log = w.state.get(key)
        if log is None:
            log = w.state[key] = cls(w, exchange)
            w.before_commit.append(log.save)
        assert isinstance(log, _Log)
        return log

    def _node(self, level: int, index: int, h: bytes) -> None:
        if level >= K.STORED_NODE_LEVEL:
            self.w.put_new([(K.node_key(self.exchange, level, index), h)])

    def append(self, leaf: bytes, outcome: bytes) -> int:
        return self.append_value(leaf + outcome)

    def append_value(self, value: bytes) -> int:
        """Append the leaf whose stored value (leaf hash, outcome, ...: indexer.logs) is ``value``."""
        index = self.range.size
        self.w.put_new([(K.LEAF + self._ex + index.to_bytes(8, "big"), value)])
        self.range.append(value[:32], self._node)
        return index

    def save(self) -> None:
        self.w.put(K.LOG_STATE + self._ex, self.range.encode())

    def may_hold_batched(self) -> bool:
        """False when the exchange has never anchored a checkpoint, so no batched record of it exists: every batch
        anchors one. A direct registration's id can collide only with a batched record of its own registrar, so
        an exchange that registers directly is spared a read per registration."""
        if self._anchored is None:
            self._anchored = self.w.stored_under(K.ANCHOR + self._ex)
        return self._anchored

    def anchor(self, size: int, root: bytes, block: int, tx_hash: bytes, signature: bytes) -> None:
        if size != self.range.size:
            raise StoreError(f"exchange {self.exchange} anchored size {size} but its log has "
                             f"{self.range.size} leaves in the index (block {block})")
        self._anchored = True  # before the block commits, stored_under does not see this block's anchors
        ok = self.range.root() == root
        self.w.put(K.anchor_key(self.exchange, size),
                   root + block.to_bytes(8, "big") + (b"\x01" if ok else b"\x00") + tx_hash.rjust(32, b"\x00")
                   + signature)


def _data_registered(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rid: bytes = a["id"]
    registrar = a["registrar"]
    log = _Log.of(w, registrar)
    if log.range.size != a["leafIndex"]:
        raise StoreError(f"registration 0x{rid.hex()} is leaf {a['leafIndex']} of exchange {registrar}'s log, "
                         f"but the index has {log.range.size} leaves (block {ev.block_number})")
    entry = pack_entry_fields(a["kind"], a["grade"], a["source"], a["rights"], a["owner"], a["contentHash"],
                              a["metadataHash"], a["supersedes"], a["parents"])
    leaf = entry_leaf_hash(registrar, entry)
    existing = w.get(K.ID_SEQ + rid) if log.may_hold_batched() else None
    if existing is not None:
        # Only a batched record of the same registrar can hold this id already (the contract refuses a stored
        # duplicate): the earlier batched record keeps it; the leaf says what happened.
        log.append_value(collided_value(leaf, existing, entry))
        return
    sb = _insert_record(w, rid=rid, registrar=registrar, owner=a["owner"], kind=a["kind"], grade=a["grade"],
                        source=a["source"], rights=a["rights"], delegated=a["delegated"], batched=False,
                        block=ev.block_number, leaf_index=a["leafIndex"], content=a["contentHash"],
                        metadata=a["metadataHash"], supersedes=a["supersedes"], parents=a["parents"])
    log.append(leaf, bytes((K.LEAF_RECORD,)) + sb)


class _Views:
    """Records as the rules see them while one batch is applied, each read from the index once: entries of a
    batch often share parents. Only records that exist are kept (an id may be inserted later in the batch), and
    a record whose status the batch changes is forgotten (:meth:`forget`)."""

    def __init__(self, w: BlockWriter) -> None:
        self._w = w
        self._views: dict[bytes, _View] = {}
        self._mandates: dict[bytes, bool] = {}

    def __call__(self, record_id: bytes) -> _View | None:
        view = self._views.get(record_id)
        if view is None:
            view = _view(self._w, record_id)
            if view is not None:
                self._views[record_id] = view
        return view

    def forget(self, record_id: bytes) -> None:
        self._views.pop(record_id, None)

    def mandate(self, owner: int, registrar: int) -> bool:
        key = K.MANDATE + owner.to_bytes(4, "big") + registrar.to_bytes(2, "big")
        held = self._mandates.get(key)
        if held is None:
            held = self._mandates[key] = self._w.get(key) == b"\x01"
        return held


def judge_entry(w: BlockWriter, registrar: int, request: RegistrationRequest,
                views: _Views | None = None, rid: bytes | None = None) -> Violation | None:
    """The verdict on a batched entry: the owner's mandate, then exactly the contract's rules, then the one rule
    batches add (a batched record may supersede only a batched record: a stored one is the contract's)."""
    if views is None:
        views = _Views(w)
    if not views.mandate(request.owner, registrar):
        return Violation("NoMandate", {"owner": request.owner, "exchangeId": registrar})
    violation = check_registration(registrar, request, views, rid)
    if violation is not None:
        return violation
    violation = _expired_parent(w, request.parents)
    if violation is not None:
        return violation
    if request.supersedes != bytes(32):
        old = views(request.supersedes)
        if old is not None and not old.batched:
            return Violation("SupersedesStoredRecord", {"id": request.supersedes})
    return None


def _expired_parent(w: BlockWriter, parents: tuple[bytes, ...]) -> Violation | None:
    """The register's rule for parents (``checkParents``): none may have expired at the block's time. Judged only
    where the follower gave the block's time (a deployment with a property register), and only while some kind
    has a term; each parent's expiry is read once a block."""
    now = block_time(w)
    if now is None or not parents:
        return None
    terms = cast("bool | None", w.state.get("any term"))
    if terms is None:
        terms = w.state["any term"] = any(term_of(w, kind) for kind in range(3))
    if not terms:
        return None
    expiries = cast("dict[bytes, int] | None", w.state.get("parent expiries"))
    if expiries is None:
        expiries = w.state["parent expiries"] = {}
    for p in parents:
        expires = expiries.get(p)
        if expires is None:
            sb = w.get(K.ID_SEQ + p)
            value = None if sb is None else w.get(K.RECORD + sb)
            if sb is None or value is None:
                raise StoreError(f"parent 0x{p.hex()} was judged present but is not in the index")
            expires = expiries[p] = expiry_of(w, sb, value)
        if expires and now >= expires:
            return Violation("ParentExpired", {"parentId": p, "expiresAt": expires})
    return None


def _batch_anchored(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    registrar = a["exchangeId"]
    log = _Log.of(w, registrar)
    if log.range.size != a["firstIndex"]:
        raise StoreError(f"exchange {registrar}'s batch starts at leaf {a['firstIndex']} but the index has "
                         f"{log.range.size} leaves (block {ev.block_number})")
    views = _Views(w)
    try:
        entries = split_batch(a["entries"], a["treeSize"] - a["firstIndex"])
    except InvalidInput as exc:  # the contract refuses such a batch: this chain did not run it
        raise StoreError(f"block {ev.block_number}: exchange {registrar}'s anchored batch does not split: {exc}") \
            from None
    for entry in entries:
        leaf = entry_leaf_hash(registrar, entry)
        # The entry's fields as plain numbers and bytes (out-of-range values stay numbers, for the rules to name):
        # the rules read them exactly as they read a RegistrationRequest.
        request = cast(RegistrationRequest, _Entry(*entry_fields(entry)))
        rid = record_id(registrar, request.content_hash)
        violation = judge_entry(w, registrar, request, views, rid)
        if violation is not None:
            # The leaf stays in the log: its entry is kept with the reason, so the log's entry bundles serve it.
            log.append_value(rejected_value(leaf, entry, str(violation)))
            continue
        sb = _insert_record(w, rid=rid, registrar=registrar, owner=request.owner, kind=int(request.kind),
                            grade=int(request.grade), source=int(request.source), rights=int(request.rights),
                            delegated=False, batched=True, block=ev.block_number, leaf_index=log.range.size,
                            content=request.content_hash, metadata=request.metadata_hash,
                            supersedes=request.supersedes, parents=request.parents)
        log.append(leaf, bytes((K.LEAF_RECORD,)) + sb)
        if request.supersedes != bytes(32):
            old = views(request.supersedes)
            assert old is not None  # judged above
            _set_status(w, old.seq, Status.SUPERSEDED, ev, rid)
            views.forget(request.supersedes)
    log.anchor(a["treeSize"], a["root"], ev.block_number, ev.tx_hash, a["signature"])


def _checkpoint_anchored(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _Log.of(w, a["exchangeId"]).anchor(a["treeSize"], a["root"], ev.block_number, ev.tx_hash,
                                    a["signature"])


def _checkpoint_cosigned(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    key = K.anchor_key(a["exchangeId"], a["treeSize"]).replace(K.ANCHOR, K.COSIGNATURE, 1) + a["witnessId"].to_bytes(
        2, "big")
    w.put(key, bytes.fromhex(a["signer"][2:]) + ev.block_number.to_bytes(8, "big") + a["signature"])


def _batched_status_requested(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    view = _view(w, a["id"])
    violation = check_status_change(a["registrar"], a["id"], view, Status(a["status"]))
    if violation is None and view is not None and not view.batched:
        violation = Violation("StoredRecord", {"id": a["id"]})
    if violation is not None or view is None:
        w.put(K.REFUSED_STATUS + ev.block_number.to_bytes(8, "big") + ev.log_index.to_bytes(4, "big"),
              str(violation).encode())
        return
    _set_status(w, view.seq, Status(a["status"]), ev, a["reason"])


def _status_list_anchored(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    w.put(K.STATUS_LIST + a["exchangeId"].to_bytes(2, "big") + ev.block_number.to_bytes(8, "big")
          + ev.log_index.to_bytes(4, "big"), a["atBlock"].to_bytes(8, "big") + a["listHash"])


def _certificate_recognized(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    w.put(K.CERT_RECOGNITION + a["credentialHash"] + a["recognizerId"].to_bytes(2, "big"),
          a["issuerId"].to_bytes(2, "big") + a["recordId"] + ev.block_number.to_bytes(8, "big"))


def _set_status(w: BlockWriter, seq: int, new: int, ev: Event, reason: bytes) -> None:
    sb = K.seq_bytes(seq)
    value = w.get(K.RECORD + sb)
    if value is None:
        raise StoreError(f"status change of a missing record (seq {seq}, block {ev.block_number})")
    old = value[10]
    w.put(K.RECORD + sb, K.with_status(value, new))
    w.delete(K.BY_STATUS + bytes([old]) + sb)
    w.put(K.BY_STATUS + bytes([new]) + sb, b"")
    w.put(K.STATUS_HISTORY + sb + ev.block_number.to_bytes(8, "big") + ev.log_index.to_bytes(4, "big"),
          bytes([old, new]) + reason)
    touch_record(w, sb)


def _status_changed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    seq = _seq(w, a["id"])
    if seq is None:
        raise StoreError(f"status change of unindexed record 0x{a['id'].hex()} (block {ev.block_number})")
    _set_status(w, seq, a["current"], ev, a["reason"])


def _entity_registered(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _bump(w, "entities")
    w.put(K.ENTITY + a["entityId"].to_bytes(4, "big"),
          struct.pack(">HB", a["registrar"], a["role"]) + a["identifierHash"] + bytes.fromhex(a["account"][2:]))
    touch_entity(w, a["entityId"])


def _entity_account_changed(w: BlockWriter, ev: Event) -> None:
    key = K.ENTITY + ev.args["entityId"].to_bytes(4, "big")
    value = w.get(key)
    if value is not None:
        w.put(key, value[:35] + bytes.fromhex(ev.args["newAccount"][2:]) + value[55:])
        touch_entity(w, ev.args["entityId"])


def _entity_reassigned(w: BlockWriter, ev: Event) -> None:
    """A governance decision moved the entity to a new account (its mandates went in MandateChanged events)."""
    key = K.ENTITY + ev.args["entityId"].to_bytes(4, "big")
    value = w.get(key)
    if value is not None:
        w.put(key, value[:35] + bytes.fromhex(ev.args["newAccount"][2:]) + value[55:])
        touch_entity(w, ev.args["entityId"])


def _entity_frozen(frozen: bool) -> Callable[[BlockWriter, Event], None]:
    """The entity's value gains a 56th byte: 1 while a governance decision keeps it frozen, 0 after."""
    def apply(w: BlockWriter, ev: Event) -> None:
        key = K.ENTITY + ev.args["entityId"].to_bytes(4, "big")
        value = w.get(key)
        if value is not None:
            w.put(key, value[:55] + (b"\x01" if frozen else b"\x00"))
            touch_entity(w, ev.args["entityId"])
    return apply


def _entity_recognized(w: BlockWriter, ev: Event) -> None:
    w.put(K.RECOGNITION + ev.args["entityId"].to_bytes(4, "big") + ev.args["exchangeId"].to_bytes(2, "big"), b"")


def _mandate_changed(w: BlockWriter, ev: Event) -> None:
    w.put(K.MANDATE + ev.args["entityId"].to_bytes(4, "big") + ev.args["exchangeId"].to_bytes(2, "big"),
          b"\x01" if ev.args["granted"] else b"\x00")


def _exchange_added(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    w.put(K.EXCHANGE + a["exchangeId"].to_bytes(2, "big"), b"\x01" + a["code"] + a["name"].encode())


def _exchange_removed(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE + ev.args["exchangeId"].to_bytes(2, "big")
    value = w.get(key)
    if value is not None:
        w.put(key, b"\x02" + value[1:])


def _key_added(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE_KEY + ev.args["exchangeId"].to_bytes(2, "big") + bytes.fromhex(ev.args["key"][2:])
    w.put(key, ev.block_number.to_bytes(8, "big") + bytes(8))


def _key_revoked(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE_KEY + ev.args["exchangeId"].to_bytes(2, "big") + bytes.fromhex(ev.args["key"][2:])
    value = w.get(key)
    if value is not None:
        w.put(key, value[:8] + ev.block_number.to_bytes(8, "big"))


def _threshold_changed(w: BlockWriter, ev: Event) -> None:
    w.put(K.meta("threshold"), ev.args["newThreshold"].to_bytes(2, "big"))


_HANDLERS = {
    "DataRegistered": _data_registered,
    "StatusChanged": _status_changed,
    "EntityRegistered": _entity_registered,
    "EntityAccountChanged": _entity_account_changed,
    "EntityReassigned": _entity_reassigned,
    "EntityFrozen": _entity_frozen(True),
    "EntityUnfrozen": _entity_frozen(False),
    "EntityRecognized": _entity_recognized,
    "MandateChanged": _mandate_changed,
    "ExchangeAdded": _exchange_added,
    "ExchangeRemoved": _exchange_removed,
    "KeyAdded": _key_added,
    "KeyRevoked": _key_revoked,
    "ThresholdChanged": _threshold_changed,
    "BatchAnchored": _batch_anchored,
    "CheckpointAnchored": _checkpoint_anchored,
    "CheckpointCosigned": _checkpoint_cosigned,
    "BatchedStatusRequested": _batched_status_requested,
    "StatusListAnchored": _status_list_anchored,
    "CertificateRecognized": _certificate_recognized,
    **FLOW_HANDLERS,
    **CATALOG_HANDLERS,
}
