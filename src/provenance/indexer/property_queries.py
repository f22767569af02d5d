"""Reads of the data property register from the index (written by provenance.indexer.property): a record's
property view, its owner history, changes, renewals, pledges, assessments and disputes, the encumbrances in force,
the terms per kind and the institutions governance accredited or appointed.

What depends on the time (expiry, an assessment or a pledge in force) is judged against the ``now`` the caller
gives, in unix seconds: the chain's time for a view the contract would give, as the contract judges with
``block.timestamp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from provenance.chain.property import KINDS
from provenance.errors import InvalidInput, StoreError
from provenance.indexer.property import expiry_of, load_state, term_of
from provenance.store import keys as K
from provenance.store.index import IndexStore


@dataclass(frozen=True)
class OwnerChange:
    seq: int
    previous: int
    owner: int
    block: int
    tx: bytes
    cause: str  # "transfer" | "enforcement" | "ruling"


@dataclass(frozen=True)
class PropertyChange:
    seq: int
    previous_rights: int
    rights: int
    previous_metadata_hash: bytes
    metadata_hash: bytes
    reason: bytes
    block: int
    tx: bytes = b""


@dataclass(frozen=True)
class Renewal:
    seq: int
    previous_expiry: int
    expires_at: int
    block: int
    tx: bytes


@dataclass(frozen=True)
class Pledge:
    seq: int
    pledgee: int
    amount: int
    currency: str
    until: int
    reference: bytes
    block: int
    ended: str | None  # "released" | "enforced" | "cancelled" | "ruling"
    ended_block: int | None
    tx: bytes = b""
    enforced_to: int | None = None


@dataclass(frozen=True)
class Assessment:
    index: int  # 1, 2, ...: the order of the record's assessments (the contract names them by ``id``)
    assessor: int
    kind: str  # "quality" | "compliance" | "valuation"
    score: int | None  # quality: basis points 0..10000
    passed: bool | None  # compliance
    method: str | None  # valuation: "cost" | "income" | "market"
    amount: int | None  # valuation, in the currency's minor unit
    currency: str | None
    standard: bytes  # quality: the standard used; compliance: the scope
    valuation_date: int | None
    valid_until: int  # 0: open-ended
    report_hash: bytes
    block: int
    withdrawn: bool
    record: bytes = b""
    withdrawn_block: int | None = None
    tx: bytes = b""
    id: bytes = b""  # keccak256(abi.encode(uint32 assessor, uint8 kind, bytes32 reportHash)), unique in the record

    def in_force(self, now: int) -> bool:
        """Not withdrawn and its validity not past (the contract's test, less the assessor's accreditation)."""
        return not self.withdrawn and (self.valid_until == 0 or self.valid_until > now)


@dataclass(frozen=True)
class Dispute:
    seq: int
    claimant: int
    claim_hash: bytes
    block: int
    outcome: str | None  # "dismissed" | "ownership" | "cancelled"
    arbitrator: int | None
    new_owner: int | None
    ruling_hash: bytes | None
    executed: bool
    ruled_block: int | None = None
    executed_block: int | None = None
    tx: bytes = b""


@dataclass(frozen=True)
class PropertyView:
    record: bytes
    owner: int
    original_owner: int
    expires_at: int  # 0: the record does not expire
    listed: bool
    pledge: Pledge | None  # the pledge in force
    dispute: Dispute | None  # the open dispute (ruled or not, until its ruling is executed)
    assessments: tuple[Assessment, ...]
    transfers: int
    changes: int
    cancelled_reason: int | None
    expired: bool = False
    valuation: Assessment | None = None  # the latest valuation in force, by an assessor still accredited
    renewals: int = 0
    rights: int = 0
    metadata_hash: bytes = b""
    status: int = 0


def _b(text: str | None) -> bytes | None:
    return None if text is None else bytes.fromhex(text[2:])


def _bb(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _owner_change(v: dict[str, Any]) -> OwnerChange:
    return OwnerChange(v["seq"], v["previous"], v["owner"], v["block"], _bb(v["tx"]), v["cause"])


def _change(v: dict[str, Any]) -> PropertyChange:
    return PropertyChange(v["seq"], v["previousRights"], v["rights"], _bb(v["previousMetadataHash"]),
                          _bb(v["metadataHash"]), _bb(v["reason"]), v["block"], _bb(v["tx"]))


def _renewal(v: dict[str, Any]) -> Renewal:
    return Renewal(v["seq"], v["previousExpiry"], v["expiresAt"], v["block"], _bb(v["tx"]))


def _pledge(v: dict[str, Any]) -> Pledge:
    return Pledge(v["seq"], v["pledgee"], int(v["amount"]), v["currency"], v["until"], _bb(v["reference"]),
                  v["block"], v["ended"], v["endedBlock"], _bb(v["tx"]), v.get("enforcedTo"))


def _assessment(v: dict[str, Any]) -> Assessment:
    return Assessment(v["index"], v["assessor"], v["kind"], v["score"], v["passed"], v["method"], _int(v["amount"]),
                      v["currency"], _bb(v["standard"]), v["valuationDate"], v["validUntil"], _bb(v["reportHash"]),
                      v["block"], v["withdrawn"], _bb(v["record"]), v["withdrawnBlock"], _bb(v["tx"]), _bb(v["id"]))


def _dispute(v: dict[str, Any]) -> Dispute:
    return Dispute(v["seq"], v["claimant"], _bb(v["claimHash"]), v["block"], v["outcome"], v["arbitrator"],
                   v["newOwner"], _b(v["rulingHash"]), v["executed"], v["ruledBlock"], v["executedBlock"],
                   _bb(v["tx"]))


class PropertyQueries:
    def __init__(self, index: IndexStore) -> None:
        self.index = index

    # ------------------------------------------------------------------ one record

    def view(self, record: bytes, *, now: int) -> PropertyView | None:
        """The record's property view at time ``now`` (None: the index has no such record)."""
        found = self._record(record)
        if found is None:
            return None
        sb, value = found
        state = load_state(self.index, sb, value)
        head = K.record_head(value)
        owner, rights, status = head[0], head[5], head[6]
        expires_at = expiry_of(self.index, sb, value)
        assessments = tuple(self._assessments(sb))
        assessors = set(self.accredited()["assessors"])
        valuations = [a for a in assessments if a.kind == "valuation" and a.in_force(now) and a.assessor in assessors]
        return PropertyView(
            record=bytes(record), owner=owner, original_owner=state["originalOwner"], expires_at=expires_at,
            listed=state["listed"], pledge=self._in_force_pledge(sb, state), dispute=self._open_dispute(sb, state),
            assessments=assessments, transfers=state["transfers"], changes=state["changes"],
            cancelled_reason=state["cancelledReason"], expired=expires_at != 0 and now >= expires_at,
            valuation=valuations[-1] if valuations else None, renewals=state["renewals"], rights=rights,
            metadata_hash=K.metadata_of(value), status=status)

    def owners(self, record: bytes) -> list[OwnerChange]:
        """The record's owner changes, oldest first (empty: it is still held by its registered owner)."""
        return [_owner_change(v) for v in self._history(K.PROP_OWNER, record)]

    def changes(self, record: bytes) -> list[PropertyChange]:
        return [_change(v) for v in self._history(K.PROP_CHANGE, record)]

    def renewals(self, record: bytes) -> list[Renewal]:
        return [_renewal(v) for v in self._history(K.PROP_RENEWAL, record)]

    def pledges(self, record: bytes) -> list[Pledge]:
        """Every pledge of the record, ended or in force, newest last."""
        return [_pledge(v) for v in self._history(K.PROP_PLEDGE, record)]

    def assessments(self, record: bytes) -> list[Assessment]:
        """The record's assessments in index order, withdrawn ones included (flagged)."""
        found = self._record(record)
        return [] if found is None else self._assessments(found[0])

    def assessment(self, record: bytes, ref: int | bytes) -> Assessment | None:
        """The record's assessment by its index (1, 2, ...) or its 32-byte id; None if it has none such."""
        found = self._record(record)
        if found is None:
            return None
        sb = found[0]
        if isinstance(ref, bytes | bytearray):
            if len(ref) != 32:
                raise InvalidInput("an assessment id is 32 bytes")
            n = self.index.get(K.PROP_ASSESSMENT_ID + sb + bytes(ref))
            if n is None:
                return None
        else:
            n = _u(ref, 4, "an assessment index")
        raw = self.index.get(K.PROP_ASSESSMENT + sb + n)
        return None if raw is None else _assessment(orjson.loads(raw))

    def disputes(self, record: bytes) -> list[Dispute]:
        return [_dispute(v) for v in self._history(K.PROP_DISPUTE, record)]

    # ------------------------------------------------------------------ across records

    def encumbrances(self, *, pledgee: int | None = None, limit: int = 100,
                     after: bytes | None = None) -> list[tuple[bytes, Pledge]]:
        """Pledges in force, in registration order of their records, after the record ``after`` (the last record
        id of the previous page), of one pledgee if given."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        prefix = K.PROP_ENCUMBRANCE if pledgee is None else (K.PROP_ENCUMBRANCE_BY_PLEDGEE
                                                             + _u(pledgee, 4, "a pledgee"))
        start = prefix
        if after is not None:
            seq = self.index.seq_of(bytes(after))
            if seq is None:
                raise InvalidInput(f"no record 0x{bytes(after).hex()} to page after")
            start = prefix + K.seq_bytes(seq + 1)
        out: list[tuple[bytes, Pledge]] = []
        for key, raw in self.index.scan_from(prefix, start, limit=limit):
            sb = key[len(prefix):]
            pledge_seq = raw[-4:]
            value = self.index.get(K.PROP_PLEDGE + sb + pledge_seq)
            if value is None:
                raise StoreError(f"the index lists an encumbrance of seq {int.from_bytes(sb, 'big')} without its "
                                 f"pledge (corrupt index)")
            out.append((self.index.id_of(int.from_bytes(sb, "big")), _pledge(orjson.loads(value))))
        return out

    def terms(self) -> dict[str, int]:
        """Each kind's term in seconds (0: its records do not expire)."""
        return {label: term_of(self.index, code) for code, label in enumerate(KINDS)}

    def accredited(self) -> dict[str, list[int]]:
        """The accredited assessment institutions and the appointed arbitrators, by entity id."""
        return {"assessors": self._entities(K.PROP_ASSESSOR), "arbitrators": self._entities(K.PROP_ARBITRATOR)}

    def compliance_rules(self) -> list[int]:
        """The exchanges whose listings need a passed compliance assessment in force."""
        n = len(K.PROP_COMPLIANCE)
        return [int.from_bytes(k[n:], "big") for k, _ in self.index.scan(K.PROP_COMPLIANCE)]

    def block_time(self, block: int) -> int | None:
        """The time of a block with direct registrations, as the index keeps it for their terms."""
        raw = self.index.get(K.PROP_BLOCK_TIME + block.to_bytes(8, "big"))
        return None if raw is None else int.from_bytes(raw, "big")

    # ------------------------------------------------------------------ plumbing

    def _record(self, record: bytes) -> tuple[bytes, bytes] | None:
        if not isinstance(record, bytes | bytearray) or len(record) != 32:
            raise InvalidInput("a record id is 32 bytes")
        sb = self.index.get(K.ID_SEQ + bytes(record))
        if sb is None:
            return None
        value = self.index.get(K.RECORD + sb)
        if value is None:
            raise StoreError(f"the index maps 0x{bytes(record).hex()} to a missing record (corrupt index)")
        return sb, value

    def _history(self, prefix: bytes, record: bytes) -> list[dict[str, Any]]:
        found = self._record(record)
        if found is None:
            return []
        return [orjson.loads(raw) for _, raw in self.index.scan(prefix + found[0])]

    def _assessments(self, sb: bytes) -> list[Assessment]:
        return [_assessment(orjson.loads(raw)) for _, raw in self.index.scan(K.PROP_ASSESSMENT + sb)]

    def _in_force_pledge(self, sb: bytes, state: dict[str, Any]) -> Pledge | None:
        if not state["pledge"]:
            return None
        raw = self.index.get(K.PROP_PLEDGE + sb + state["pledge"].to_bytes(4, "big"))
        if raw is None:
            raise StoreError(f"pledge {state['pledge']} of seq {int.from_bytes(sb, 'big')} is missing (corrupt index)")
        return _pledge(orjson.loads(raw))

    def _open_dispute(self, sb: bytes, state: dict[str, Any]) -> Dispute | None:
        if not state["dispute"]:
            return None
        raw = self.index.get(K.PROP_DISPUTE + sb + state["dispute"].to_bytes(4, "big"))
        if raw is None:
            raise StoreError(f"dispute {state['dispute']} of seq {int.from_bytes(sb, 'big')} is missing "
                             f"(corrupt index)")
        return _dispute(orjson.loads(raw))

    def _entities(self, prefix: bytes) -> list[int]:
        n = len(prefix)
        return [int.from_bytes(k[n:], "big") for k, _ in self.index.scan(prefix)]


def _u(n: int, width: int, what: str) -> bytes:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 1 << (8 * width):
        raise InvalidInput(f"{what} must be an integer from 0 to 2**{8 * width}-1")
    return n.to_bytes(width, "big")


__all__ = ["Assessment", "Dispute", "OwnerChange", "Pledge", "PropertyChange", "PropertyQueries", "PropertyView",
           "Renewal"]
