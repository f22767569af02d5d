"""The data property register in the index: what each PropertyRegister event does (layout in
provenance.store.keys, under the prefix ``G``).

Like the other capabilities, every write goes through the block's writer, so a block's property events commit with
the rest of the block or not at all, and a reorg undoes them with it; the same events in the same order give the
same bytes, which is what makes ``index rebuild`` equal an index followed block by block. Values are small canonical
JSON objects (sorted keys), as in provenance.indexer.flows: property events are few beside registrations.

The record itself follows the register, as the Registry's ``getRecord`` does: a transfer rewrites the record's
owner and moves its by-owner key, a change rewrites its rights and metadata hash. What the record was registered
with (its log leaf covers it) is kept under ``G g`` from the first such event; :func:`as_registered` gives it back.
A cancellation's status goes through the Registry's own StatusChanged event, as every revocation does.

One transaction may carry several events about one record, in the contract's order (enforce: Enforced then
Transferred; cancel: Released, Cancelled; executeRuling: RulingExecuted, then Released, then Transferred or
Cancelled). What an owner change or the end of a pledge is called ("enforcement", "ruling", "cancelled") comes from
the other events of the same transaction, whichever order they come in.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

import orjson

from provenance.chain.property import ASSESSMENT_KINDS, METHODS, OUTCOMES, REASON_ARBITRATION, currency_text
from provenance.core.ids import hex0x
from provenance.core.keccak import keccak256
from provenance.errors import StoreError
from provenance.indexer.catalog import judge_metadata, touch_record
from provenance.indexer.events import Event
from provenance.store import keys as K
from provenance.store.index import BlockWriter
from provenance.store.keys import IndexedRecord

ASSESSMENT_COMPLIANCE = 1
ASSESSMENT_VALUATION = 2


class _Reader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


def _dump(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _u(n: int, width: int) -> bytes:
    return n.to_bytes(width, "big")


def state_key(sb: bytes) -> bytes:
    return K.PROP_STATE + sb


def default_state(owner: int) -> dict[str, Any]:
    """A record's property state before any property event: ``owner`` is its registered owner."""
    return {"originalOwner": owner, "transfers": 0, "changes": 0, "renewals": 0, "renewedExpiry": 0,
            "listed": False, "listedBlock": None, "assessments": 0, "pledges": 0, "pledge": 0, "disputes": 0,
            "dispute": 0, "cancelledReason": None}


def load_state(r: _Reader, sb: bytes, value: bytes) -> dict[str, Any]:
    raw = r.get(state_key(sb))
    if raw is not None:
        state: dict[str, Any] = orjson.loads(raw)
        return state
    return default_state(K.record_head(value)[0])


def registered_fields(r: _Reader, seq: int) -> tuple[int, int, bytes] | None:
    """(owner, rights, metadata hash) the record was registered with, if a transfer or change replaced any."""
    raw = r.get(K.PROP_REGISTERED + K.seq_bytes(seq))
    if raw is None:
        return None
    return int.from_bytes(raw[:4], "big"), raw[4], raw[5:37]


def as_registered(r: _Reader, rec: IndexedRecord) -> IndexedRecord:
    """The record with the owner, rights and metadata hash it was registered with: the fields its log leaf (and
    so a certificate's inclusion proof) covers. The index's record shows the current ones."""
    fields = registered_fields(r, rec.seq)
    if fields is None:
        return rec
    owner, rights, metadata = fields
    return IndexedRecord(**{**rec.__dict__, "owner": owner, "rights": rights, "metadata_hash": metadata})


def term_of(r: _Reader, kind: int) -> int:
    raw = r.get(K.PROP_TERM + bytes([kind]))
    return 0 if raw is None else int.from_bytes(raw, "big")


def expiry_of(r: _Reader, sb: bytes, value: bytes) -> int:
    """A record's expiry as the contract's ``_expiry`` computes it (0: none): no term, no expiry; else the last
    renewal's, else the term from the registration's block time. Batched records are not in the Registry's storage:
    the register never sees them, and they do not expire."""
    head = K.record_head(value)
    kind, block = head[2], head[8]
    if K.is_batched(head[7]):
        return 0
    term = term_of(r, kind)
    if term == 0:
        return 0
    raw = r.get(state_key(sb))
    renewed = 0 if raw is None else int(orjson.loads(raw)["renewedExpiry"])
    if renewed:
        return renewed
    registered_at = r.get(K.PROP_BLOCK_TIME + _u(block, 8))
    if registered_at is None:
        raise StoreError(f"the index lacks the time of block {block}, which registered a record (corrupt index)")
    return int.from_bytes(registered_at, "big") + term


def expired_parent(r: _Reader, parents: tuple[bytes, ...], now: int) -> tuple[bytes, int] | None:
    """The first of ``parents`` expired at time ``now`` and its expiry, as ``checkParents`` finds it (None: none
    has). Parents the index does not hold are the other rules' concern and are passed over here."""
    for p in parents:
        sb = r.get(K.ID_SEQ + p)
        value = None if sb is None else r.get(K.RECORD + sb)
        if sb is None or value is None:
            continue
        expires = expiry_of(r, sb, value)
        if expires and now >= expires:
            return p, expires
    return None


BLOCK_TIME = "block time"


def block_time(w: BlockWriter) -> int | None:
    """The time of the block being applied, where the follower knew it (blocks with registrations or batches)."""
    return cast("int | None", w.state.get(BLOCK_TIME))


# ---------------------------------------------------------------------- the record and its state


class _Record:
    """One record while an event is applied: its seq, index value and property state, written back by save()."""

    def __init__(self, w: BlockWriter, ev: Event) -> None:
        rid: bytes = ev.args["id"]
        sb = w.get(K.ID_SEQ + rid)
        if sb is None:
            raise StoreError(f"{ev.name} of unindexed record 0x{rid.hex()} (block {ev.block_number})")
        value = w.get(K.RECORD + sb)
        if value is None:
            raise StoreError(f"the index maps 0x{rid.hex()} to a missing record (corrupt index)")
        self.w, self.ev, self.id, self.sb, self.value = w, ev, rid, sb, value
        self.state = load_state(w, sb, value)

    @property
    def owner(self) -> int:
        return K.record_head(self.value)[0]

    def keep_registered(self) -> None:
        key = K.PROP_REGISTERED + self.sb
        if self.w.get(key) is None:
            head = K.record_head(self.value)
            self.w.put(key, _u(head[0], 4) + bytes([head[5]]) + K.metadata_of(self.value))

    def save(self) -> None:
        self.w.put(state_key(self.sb), _dump(self.state))


def _load(w: BlockWriter, key: bytes, what: str) -> dict[str, Any]:
    raw = w.get(key)
    if raw is None:
        raise StoreError(f"{what} is not in the index (corrupt index or events out of order)")
    value: dict[str, Any] = orjson.loads(raw)
    return value


def _tx(w: BlockWriter, ev: Event) -> dict[str, Any]:
    """What this transaction did to this record so far (see the module's docstring)."""
    key = ("property tx", ev.tx_hash, ev.args["id"])
    held = w.state.get(key)
    if held is None:
        held = w.state[key] = {"cause": None, "owner_key": None, "pledge_end": None, "pledge_key": None}
    return cast("dict[str, Any]", held)


_PLEDGE_END_RANK = {"released": 0, "cancelled": 1, "ruling": 2}


def _name_pledge_end(w: BlockWriter, ev: Event, how: str) -> None:
    """The pledge a Released of this transaction ended was ended by ``how`` (a ruling outranks the cancellation
    it carries out)."""
    tx = _tx(w, ev)
    if tx["pledge_end"] is not None and _PLEDGE_END_RANK[tx["pledge_end"]] >= _PLEDGE_END_RANK[how]:
        return
    tx["pledge_end"] = how
    if tx["pledge_key"] is not None:
        pledge = _load(w, tx["pledge_key"], "the pledge just ended")
        pledge["ended"] = how
        w.put(tx["pledge_key"], _dump(pledge))


def _name_owner_change(w: BlockWriter, ev: Event, cause: str) -> None:
    tx = _tx(w, ev)
    tx["cause"] = cause
    if tx["owner_key"] is not None:
        change = _load(w, tx["owner_key"], "the owner change just recorded")
        change["cause"] = cause
        w.put(tx["owner_key"], _dump(change))


def _rejudge_document(w: BlockWriter, sb: bytes, value: bytes) -> None:
    """The catalogue keeps a record's accepted document only while it is still the record's: its hash the
    metadata hash, its publisher the owner, its policy within the rights (the rules it was accepted by)."""
    key = K.CATALOG_METADATA + sb
    document = w.get(key)
    if document is None:
        return
    head = K.record_head(value)
    if keccak256(document) != K.metadata_of(value) or judge_metadata(document, owner=head[0],
                                                                     rights=head[5]) is not None:
        w.delete(key)


# ---------------------------------------------------------------------- handlers: holder's rights


def _transferred(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    previous, owner = a["from"], a["to"]
    if rec.owner != previous:
        raise StoreError(f"record 0x{rec.id.hex()} passes from entity {previous}, but the index has it held by "
                         f"{rec.owner} (block {ev.block_number})")
    rec.keep_registered()
    value = K.with_owner(rec.value, owner)
    w.put(K.RECORD + rec.sb, value)
    w.delete(K.BY_OWNER + _u(previous, 4) + rec.sb)
    w.put(K.BY_OWNER + _u(owner, 4) + rec.sb, b"")
    rec.state["transfers"] += 1
    n = rec.state["transfers"]
    tx = _tx(w, ev)
    key = K.PROP_OWNER + rec.sb + _u(n, 4)
    w.put(key, _dump({"seq": n, "previous": previous, "owner": owner, "block": ev.block_number,
                      "tx": hex0x(ev.tx_hash), "cause": tx["cause"] or "transfer"}))
    tx["owner_key"] = key
    rec.save()
    _rejudge_document(w, rec.sb, value)
    touch_record(w, rec.sb)


def _changed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    head = K.record_head(rec.value)
    if (head[5], K.metadata_of(rec.value)) != (a["previousRights"], a["previousMetadataHash"]):
        raise StoreError(f"record 0x{rec.id.hex()} changes from rights {a['previousRights']} and metadata "
                         f"0x{a['previousMetadataHash'].hex()}, which the index does not hold (block "
                         f"{ev.block_number})")
    rec.keep_registered()
    value = K.with_rights_metadata(rec.value, a["rights"], a["metadataHash"])
    w.put(K.RECORD + rec.sb, value)
    rec.state["changes"] += 1
    n = rec.state["changes"]
    w.put(K.PROP_CHANGE + rec.sb + _u(n, 4), _dump({
        "seq": n, "previousRights": a["previousRights"], "rights": a["rights"],
        "previousMetadataHash": hex0x(a["previousMetadataHash"]), "metadataHash": hex0x(a["metadataHash"]),
        "reason": hex0x(a["reason"]), "block": ev.block_number, "tx": hex0x(ev.tx_hash)}))
    rec.save()
    _rejudge_document(w, rec.sb, value)
    touch_record(w, rec.sb)


def _renewed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    rec.state["renewals"] += 1
    rec.state["renewedExpiry"] = a["expiresAt"]
    _forget_expiries(w)
    n = rec.state["renewals"]
    w.put(K.PROP_RENEWAL + rec.sb + _u(n, 4), _dump({
        "seq": n, "previousExpiry": a["previousExpiry"], "expiresAt": a["expiresAt"], "block": ev.block_number,
        "tx": hex0x(ev.tx_hash)}))
    rec.save()


def _cancelled(w: BlockWriter, ev: Event) -> None:
    rec = _Record(w, ev)
    rec.state["cancelledReason"] = ev.args["reasonCode"]
    rec.save()
    _name_pledge_end(w, ev, "cancelled")


# ---------------------------------------------------------------------- handlers: pledges


def _pledged(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    seq, pledgee = a["pledgeSeq"], a["pledgee"]
    if rec.state["pledge"]:
        raise StoreError(f"record 0x{rec.id.hex()} is pledged again while pledge {rec.state['pledge']} is in "
                         f"force in the index (block {ev.block_number})")
    w.put(K.PROP_PLEDGE + rec.sb + _u(seq, 4), _dump({
        "seq": seq, "pledgee": pledgee, "amount": str(a["amount"]), "currency": currency_text(a["currency"]),
        "until": a["until"], "reference": hex0x(a["pledgeeReference"]), "block": ev.block_number,
        "tx": hex0x(ev.tx_hash), "ended": None, "endedBlock": None}))
    w.put(K.PROP_ENCUMBRANCE + rec.sb, _u(pledgee, 4) + _u(seq, 4))
    w.put(K.PROP_ENCUMBRANCE_BY_PLEDGEE + _u(pledgee, 4) + rec.sb, _u(seq, 4))
    rec.state["pledge"] = seq
    rec.state["pledges"] = max(rec.state["pledges"], seq)
    rec.save()


def _end_pledge(w: BlockWriter, ev: Event, how: str) -> bytes:
    rec = _Record(w, ev)
    seq = ev.args["pledgeSeq"]
    if rec.state["pledge"] != seq:
        raise StoreError(f"pledge {seq} of record 0x{rec.id.hex()} ends, but the index has pledge "
                         f"{rec.state['pledge']} in force (block {ev.block_number})")
    key = K.PROP_PLEDGE + rec.sb + _u(seq, 4)
    pledge = _load(w, key, f"pledge {seq} of record 0x{rec.id.hex()}")
    pledge.update(ended=how, endedBlock=ev.block_number)
    if how == "enforced":
        pledge["enforcedTo"] = ev.args["to"]
    w.put(key, _dump(pledge))
    w.delete(K.PROP_ENCUMBRANCE + rec.sb)
    w.delete(K.PROP_ENCUMBRANCE_BY_PLEDGEE + _u(pledge["pledgee"], 4) + rec.sb)
    rec.state["pledge"] = 0
    rec.save()
    return key


def _released(w: BlockWriter, ev: Event) -> None:
    tx = _tx(w, ev)
    tx["pledge_key"] = _end_pledge(w, ev, tx["pledge_end"] or "released")


def _enforced(w: BlockWriter, ev: Event) -> None:
    _end_pledge(w, ev, "enforced")
    _name_owner_change(w, ev, "enforcement")


# ---------------------------------------------------------------------- handlers: assessments and listing


def _assessed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    kind, aid = a["kind"], a["assessmentId"]
    rec.state["assessments"] = n = rec.state["assessments"] + 1
    w.put_new([
        (K.PROP_ASSESSMENT + rec.sb + _u(n, 4), _dump({
            "index": n, "id": hex0x(aid), "record": hex0x(rec.id), "assessor": a["assessor"],
            "kind": ASSESSMENT_KINDS[kind], "score": a["score"] if kind == 0 else None,
            "passed": a["passed"] if kind == ASSESSMENT_COMPLIANCE else None,
            "method": METHODS[a["method"]] if kind == ASSESSMENT_VALUATION else None,
            "amount": str(a["amount"]) if kind == ASSESSMENT_VALUATION else None,
            "currency": currency_text(a["currency"]) if kind == ASSESSMENT_VALUATION else None,
            "standard": hex0x(a["standard"]),
            "valuationDate": a["valuationDate"] if kind == ASSESSMENT_VALUATION else None,
            "validUntil": a["validUntil"], "reportHash": hex0x(a["reportHash"]), "block": ev.block_number,
            "tx": hex0x(ev.tx_hash), "withdrawn": False, "withdrawnBlock": None})),
        (K.PROP_ASSESSMENT_ID + rec.sb + aid, _u(n, 4)),
    ])
    rec.save()


def _assessment_withdrawn(w: BlockWriter, ev: Event) -> None:
    rec = _Record(w, ev)
    aid = ev.args["assessmentId"]
    n = w.get(K.PROP_ASSESSMENT_ID + rec.sb + aid)
    if n is None:
        raise StoreError(f"assessment 0x{aid.hex()} of 0x{rec.id.hex()} is withdrawn, but the index has none such "
                         f"(block {ev.block_number})")
    key = K.PROP_ASSESSMENT + rec.sb + n
    value = _load(w, key, f"assessment 0x{aid.hex()}")
    value.update(withdrawn=True, withdrawnBlock=ev.block_number)
    w.put(key, _dump(value))


def _listed(w: BlockWriter, ev: Event) -> None:
    rec = _Record(w, ev)
    rec.state.update(listed=True, listedBlock=ev.block_number)
    rec.save()
    touch_record(w, rec.sb)


# ---------------------------------------------------------------------- handlers: disputes


def _dispute_filed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rec = _Record(w, ev)
    seq = a["disputeSeq"]
    w.put(K.PROP_DISPUTE + rec.sb + _u(seq, 4), _dump({
        "seq": seq, "claimant": a["claimant"], "claimHash": hex0x(a["claimHash"]), "block": ev.block_number,
        "tx": hex0x(ev.tx_hash), "outcome": None, "arbitrator": None, "newOwner": None, "rulingHash": None,
        "ruledBlock": None, "executed": False, "executedBlock": None}))
    rec.state["dispute"] = seq
    rec.state["disputes"] = max(rec.state["disputes"], seq)
    rec.save()
    touch_record(w, rec.sb)


def _dispute(w: BlockWriter, ev: Event) -> tuple[_Record, bytes, dict[str, Any]]:
    rec = _Record(w, ev)
    seq = ev.args["disputeSeq"]
    if rec.state["dispute"] != seq:
        raise StoreError(f"dispute {seq} of record 0x{rec.id.hex()} is not the one open in the index "
                         f"({rec.state['dispute']}, block {ev.block_number})")
    key = K.PROP_DISPUTE + rec.sb + _u(seq, 4)
    return rec, key, _load(w, key, f"dispute {seq} of record 0x{rec.id.hex()}")


def _ruled(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _rec, key, dispute = _dispute(w, ev)
    new_owner = a["newOwner"] if a["outcome"] == 2 else None
    dispute.update(outcome=OUTCOMES[a["outcome"]], arbitrator=a["arbitrator"], newOwner=new_owner,
                   rulingHash=hex0x(a["rulingHash"]), ruledBlock=ev.block_number)
    w.put(key, _dump(dispute))


def _ruling_executed(w: BlockWriter, ev: Event) -> None:
    rec, key, dispute = _dispute(w, ev)
    dispute.update(executed=True, executedBlock=ev.block_number)
    w.put(key, _dump(dispute))
    rec.state["dispute"] = 0
    if ev.args["outcome"] == 3:
        rec.state["cancelledReason"] = REASON_ARBITRATION
    rec.save()
    touch_record(w, rec.sb)
    _name_owner_change(w, ev, "ruling")
    _name_pledge_end(w, ev, "ruling")


# ---------------------------------------------------------------------- handlers: governance


def _flag(prefix: bytes, width: int, field: str, on: bool) -> Any:
    def apply(w: BlockWriter, ev: Event) -> None:
        key = prefix + _u(ev.args[field], width)
        if on:
            w.put(key, _u(ev.args["proposalId"], 32))
        else:
            w.delete(key)
    return apply


def _forget_expiries(w: BlockWriter) -> None:
    """Expiries the batch rules read earlier in this block no longer hold (provenance.indexer.apply)."""
    w.state.pop("any term", None)
    w.state.pop("parent expiries", None)


def _term_set(w: BlockWriter, ev: Event) -> None:
    w.put(K.PROP_TERM + bytes([ev.args["kind"]]), _u(ev.args["seconds_"], 8))
    _forget_expiries(w)


def _compliance_rule_set(w: BlockWriter, ev: Event) -> None:
    _flag(K.PROP_COMPLIANCE, 2, "exchangeId", bool(ev.args["on"]))(w, ev)


HANDLERS = {
    "Transferred": _transferred,
    "Changed": _changed,
    "Renewed": _renewed,
    "Cancelled": _cancelled,
    "Pledged": _pledged,
    "Released": _released,
    "Enforced": _enforced,
    "Assessed": _assessed,
    "AssessmentWithdrawn": _assessment_withdrawn,
    "Listed": _listed,
    "DisputeFiled": _dispute_filed,
    "Ruled": _ruled,
    "RulingExecuted": _ruling_executed,
    "AssessorAccredited": _flag(K.PROP_ASSESSOR, 4, "entityId", True),
    "AccreditationWithdrawn": _flag(K.PROP_ASSESSOR, 4, "entityId", False),
    "ArbitratorAppointed": _flag(K.PROP_ARBITRATOR, 4, "entityId", True),
    "ArbitratorRemoved": _flag(K.PROP_ARBITRATOR, 4, "entityId", False),
    "TermSet": _term_set,
    "ComplianceRuleSet": _compliance_rule_set,
}


def note_block_time(w: BlockWriter, number: int, timestamp: int, *, keep: bool) -> None:
    """The time of the block being applied, for the batch rules (an expired parent); kept (``keep``) for a block
    with direct registrations, whose terms run from it."""
    w.state[BLOCK_TIME] = timestamp
    if keep:
        w.put(K.PROP_BLOCK_TIME + _u(number, 8), _u(timestamp, 8))


__all__ = ["HANDLERS", "as_registered", "block_time", "default_state", "expired_parent", "expiry_of", "load_state",
           "note_block_time", "registered_fields", "term_of"]
