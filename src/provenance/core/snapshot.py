"""Federation snapshots: what an offline verifier needs, signed by a trusted exchange.

A snapshot holds the members and their key history, the anchored checkpoints of every exchange's log, and the
status list: every record that is not active at ``atBlock``. Its signature is EIP-712
``FederationSnapshot(exchange, atBlock, contentHash)`` with ``contentHash`` the SHA-256 of the canonical
snapshot without its signature. The status list's own hash (:func:`status_list_hash`) is anchored on-chain with
``anchorStatusList``, so anyone online can check later that a snapshot's statuses are the ones published.

Trust is explicit: :class:`SnapshotView` accepts a snapshot only if its signer is one of the addresses the
verifier trusts (normally its own exchange's keys), because a snapshot signed by anyone else could list any
keys it liked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from provenance.core import eip712
from provenance.core.canonical import (
    MalformedDocument,
    as_hex,
    as_int,
    as_list,
    as_str,
    hex0x,
    sha256_json,
)
from provenance.core.canonical import (
    field as get,
)
from provenance.core.certificates import KeyInfo
from provenance.errors import InvalidSignature, VerificationError
from provenance.types import Status

SNAPSHOT_TYPE = "FederationSnapshot"


class UntrustedSnapshot(VerificationError):
    """Raised when a snapshot's signature is invalid or its signer is not trusted by this verifier."""


@dataclass(frozen=True)
class SnapshotExchange:
    id: int
    code: str
    name: str
    status: str
    keys: tuple[tuple[bytes, int, int], ...]  # (address, valid from, valid to or 0)
    # (Ed25519 public key, added at, revoked at or 0): the exchange's note key history (IFederation.noteKeysOf),
    # which an offline verifier checks the exchange's C2SP checkpoints against. Written only when not empty, so a
    # snapshot of a federation without note keys is the document (and content hash) it was before they existed.
    note_keys: tuple[tuple[bytes, int, int], ...] = ()

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "code": self.code, "name": self.name, "status": self.status,
                               "keys": [{"address": hex0x(a), "validFrom": f, "validTo": t} for a, f, t in self.keys]}
        if self.note_keys:
            doc["noteKeys"] = [{"publicKey": hex0x(k), "addedAt": a, "revokedAt": r} for k, a, r in self.note_keys]
        return doc


def status_list_hash(chain_id: int, registry: bytes, at_block: int, entries: list[dict[str, Any]]) -> bytes:
    return sha256_json({"chainId": chain_id, "registry": hex0x(registry), "atBlock": at_block, "entries": entries})


def build_snapshot(*, chain_id: int, registry: bytes, at_block: int, block_hash: bytes, threshold: int,
                   exchanges: Iterable[SnapshotExchange], checkpoints: Iterable[tuple[int, int, bytes, int]],
                   statuses: Iterable[tuple[bytes, int]]) -> dict[str, Any]:
    """The unsigned snapshot. ``checkpoints``: (exchange, tree size, root, anchoring block)."""
    entries = [{"id": hex0x(rid), "status": Status(st).label} for rid, st in statuses]
    return {
        "type": SNAPSHOT_TYPE, "version": 1, "chainId": chain_id, "registry": hex0x(registry),
        "atBlock": at_block, "blockHash": hex0x(block_hash), "threshold": threshold,
        "exchanges": [e.document() for e in exchanges],
        "checkpoints": [{"exchange": ex, "treeSize": size, "root": hex0x(root), "anchorBlock": blk}
                        for ex, size, root, blk in checkpoints],
        "statusList": {"atBlock": at_block, "entries": entries,
                       "hash": hex0x(status_list_hash(chain_id, registry, at_block, entries))},
    }


def content_hash(snapshot: Mapping[str, Any]) -> bytes:
    return sha256_json({k: v for k, v in snapshot.items() if k != "signature"})


def sign_snapshot(snapshot: dict[str, Any], exchange: int, private_key: bytes, signer: bytes) -> dict[str, Any]:
    digest = eip712.snapshot_digest(snapshot["chainId"], as_hex(snapshot["registry"], "$.registry", 20), exchange,
                                    snapshot["atBlock"], content_hash(snapshot))
    return {**snapshot, "signature": {"exchange": exchange, "signer": hex0x(signer),
                                      "proofValue": hex0x(eip712.sign_digest(digest, private_key))}}


def _note_keys(e: Any, p: str) -> tuple[tuple[bytes, int, int], ...]:
    """An exchange's ``noteKeys`` (absent in snapshots of federations without note keys: none)."""
    if not isinstance(e, Mapping) or "noteKeys" not in e:
        return ()
    out = []
    for j, k in enumerate(as_list(e["noteKeys"], f"{p}.noteKeys")):
        kp = f"{p}.noteKeys[{j}]"
        out.append((as_hex(get(k, "publicKey", kp), f"{kp}.publicKey", 32), as_int(get(k, "addedAt", kp),
                    f"{kp}.addedAt"), as_int(get(k, "revokedAt", kp), f"{kp}.revokedAt")))
    return tuple(out)


class SnapshotView:
    """A :class:`~provenance.core.certificates.FederationView` over a verified snapshot (offline mode)."""

    mode = "offline"

    def __init__(self, snapshot: Any, trusted: Iterable[bytes]) -> None:
        try:
            self._load(snapshot, set(trusted))
        except MalformedDocument as exc:
            raise UntrustedSnapshot(f"the federation snapshot is malformed: {exc}") from exc

    def _load(self, s: Any, trusted: set[bytes]) -> None:
        if get(s, "type", "$") != SNAPSHOT_TYPE:
            raise MalformedDocument(f"$.type must be {SNAPSHOT_TYPE}")
        self.chain_id = as_int(get(s, "chainId", "$"), "$.chainId")
        self.registry = as_hex(get(s, "registry", "$"), "$.registry", 20)
        self.at_block = as_int(get(s, "atBlock", "$"), "$.atBlock")
        sig = get(s, "signature", "$")
        signer = as_hex(get(sig, "signer", "$.signature"), "$.signature.signer", 20)
        exchange = as_int(get(sig, "exchange", "$.signature"), "$.signature.exchange", hi=2**16 - 1)
        digest = eip712.snapshot_digest(self.chain_id, self.registry, exchange, self.at_block, content_hash(s))
        proof_value = get(sig, "proofValue", "$.signature")
        try:
            if isinstance(proof_value, str) and proof_value != proof_value.lower():
                # Outside what is signed: re-spelled by anyone, it would still verify. One encoding per signature.
                raise InvalidSignature("proofValue is hex in upper case; a signature is written 0x and lowercase hex")
            recovered = eip712.recover_signer(digest, as_hex(proof_value, "$.signature.proofValue"))
        except InvalidSignature as exc:
            raise UntrustedSnapshot(f"the federation snapshot's signature is invalid: {exc}") from exc
        if recovered != signer:
            raise UntrustedSnapshot(f"the federation snapshot is signed by {hex0x(recovered)}, not {hex0x(signer)}")
        if signer not in trusted:
            raise UntrustedSnapshot(f"the federation snapshot is signed by {hex0x(signer)}, which this verifier "
                                    f"does not trust")
        self._keys: dict[bytes, KeyInfo] = {}
        self._codes: dict[int, str] = {}
        self._exchanges: dict[int, SnapshotExchange] = {}
        active: set[int] = set()
        for i, e in enumerate(as_list(get(s, "exchanges", "$"), "$.exchanges")):
            p = f"$.exchanges[{i}]"
            ex = as_int(get(e, "id", p), f"{p}.id", hi=2**16 - 1)
            self._codes[ex] = as_str(get(e, "code", p), f"{p}.code")
            status = as_str(get(e, "status", p), f"{p}.status")
            if status == "active":
                active.add(ex)
            keys = []
            for j, k in enumerate(as_list(get(e, "keys", p), f"{p}.keys")):
                kp = f"{p}.keys[{j}]"
                info = KeyInfo(ex, as_int(get(k, "validFrom", kp), f"{kp}.validFrom"),
                               as_int(get(k, "validTo", kp), f"{kp}.validTo"))
                address = as_hex(get(k, "address", kp), f"{kp}.address", 20)
                self._keys[address] = info
                keys.append((address, info.valid_from, info.valid_to))
            self._exchanges[ex] = SnapshotExchange(ex, self._codes[ex], as_str(get(e, "name", p), f"{p}.name"),
                                                   status, tuple(keys), _note_keys(e, p))
        threshold = as_int(get(s, "threshold", "$"), "$.threshold", hi=2**16 - 1)
        self.min_cosigners = max(1, min(threshold, len(active) - 1))
        self._members = frozenset(active)
        self._roots: dict[tuple[int, int], bytes] = {}
        for i, c in enumerate(as_list(get(s, "checkpoints", "$"), "$.checkpoints")):
            p = f"$.checkpoints[{i}]"
            self._roots[(as_int(get(c, "exchange", p), f"{p}.exchange", hi=2**16 - 1),
                         as_int(get(c, "treeSize", p), f"{p}.treeSize"))] = as_hex(get(c, "root", p), f"{p}.root", 32)
        sl = get(s, "statusList", "$")
        entries = as_list(get(sl, "entries", "$.statusList"), "$.statusList.entries")
        if as_hex(get(sl, "hash", "$.statusList"), "$.statusList.hash", 32) != status_list_hash(
                self.chain_id, self.registry, self.at_block, entries):
            raise MalformedDocument("$.statusList.hash does not match its entries")
        self._status: dict[bytes, int] = {}
        for i, e in enumerate(entries):
            p = f"$.statusList.entries[{i}]"
            self._status[as_hex(get(e, "id", p), f"{p}.id", 32)] = int(Status.parse(as_str(get(e, "status", p),
                                                                                            f"{p}.status")))

    @property
    def head_block(self) -> int:
        return self.at_block

    def key(self, address: bytes) -> KeyInfo | None:
        return self._keys.get(bytes(address))

    def exchange_code(self, exchange: int) -> str | None:
        return self._codes.get(exchange)

    @property
    def member_count(self) -> int:
        """How many exchanges the snapshot lists as active members."""
        return len(self._members)

    def is_member(self, exchange: int) -> bool:
        return exchange in self._members

    def exchange(self, ref: int | str) -> SnapshotExchange | None:
        """A member as the snapshot lists it, by id or code, with its key and note key histories."""
        if isinstance(ref, int):
            return self._exchanges.get(ref)
        return next((e for e in self._exchanges.values() if e.code == ref), None)

    def anchored_root(self, exchange: int, tree_size: int) -> bytes | None:
        return self._roots.get((exchange, tree_size))

    def record_status(self, rid: bytes) -> int:
        return self._status.get(bytes(rid), int(Status.ACTIVE))

    def record_leaf(self, rid: bytes) -> tuple[int, int, bytes] | None:
        return None
