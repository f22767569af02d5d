"""A certificate's values: its records, its inclusion evidence, its dates, its binding, and what a reader makes of
the whole document (:class:`_Parsed`).

Each value has two readers. ``from_json`` takes the common case through fast field readers (``_hex``, ``_h32``,
``_uint`` ...), which accept only what the strict readers of :mod:`provenance.core.canonical` accept and raise a
builtin error on anything else; the strict reader then runs to name the problem (``MalformedDocument``) or to
accept what the fast one leaves to it (subclasses of the JSON types). Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from provenance.core import eip712, status_list
from provenance.core.canonical import (
    MalformedDocument,
    as_bool,
    as_hex,
    as_int,
    as_list,
    as_str,
    hex0x,
)
from provenance.core.canonical import (
    field as get,
)
from provenance.core.certificates._readers import _bool, _h32, _uint
from provenance.core.certificates.property import PropertyState
from provenance.core.entries import entry_leaf_hash, pack_entry_fields
from provenance.types import Grade, Kind, Source, Status

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PROVENANCE_CONTEXT = "https://w3id.org/provenance/registration/v1"
CERT_TYPE = "DataRegistrationCertificate"
PROOF_TYPE = "EthereumEip712Signature2021"
MAX_LINEAGE = 512

# What the issuer writes, compared whole by the plain readers (and handed to the compiled one).
_CONTEXTS = [VC_CONTEXT, PROVENANCE_CONTEXT]
_TYPES = ["VerifiableCredential", CERT_TYPE]
_EIP712_OPTIONS = {"primaryType": "Certificate", "types": eip712.CERTIFICATE_TYPE}
_EXACT = 2**53 - 1  # the largest integer canonical JSON carries (provenance.core.canonical)

# ---------------------------------------------------------------------- records and evidence

_LABELS: dict[type, dict[str, int]] = {e: {m.label: int(m) for m in e} for e in (Kind, Grade, Source, Status)}
_KIND, _GRADE, _SOURCE, _STATUS = (_LABELS[e] for e in (Kind, Grade, Source, Status))

# Fast field readers for well-formed documents: each raises (TypeError, ValueError, KeyError) on anything the
# strict readers of provenance.core.canonical would refuse, and the caller then runs those to name the problem.


def _hex(value: Any) -> bytes:
    if type(value) is not str or value[:2] != "0x":
        raise TypeError
    raw = bytes.fromhex(value[2:])
    if 2 * len(raw) + 2 != len(value):  # bytes.fromhex skips whitespace
        raise ValueError
    return raw


def _h20(value: Any) -> bytes:
    if type(value) is not str or len(value) != 42 or value[:2] != "0x":
        raise TypeError
    raw = bytes.fromhex(value[2:])
    if len(raw) != 20:
        raise ValueError
    return raw


def _h32_many(values: list[Any]) -> list[bytes]:
    """Several 32-byte hex values decoded in one step (a record's hashes, a proof's elements)."""
    n = len(values)
    if set(map(len, values)) != _LEN66 or n == 0:
        raise ValueError
    text = "".join(values)  # TypeError unless all are strings
    if text[0::66] != "0" * n or text[1::66] != "x" * n:
        raise ValueError
    # Hex digits hold no "x", so only the prefixes go; whitespace (which fromhex skips) or an "x" inside a
    # value leaves fewer than 32 bytes a value.
    raw = bytes.fromhex(text.replace("0x", ""))
    if len(raw) != 32 * n:
        raise ValueError
    return [raw[i:i + 32] for i in range(0, 32 * n, 32)]


_LEN66 = {66}


@dataclass(frozen=True)
class CertRecord:
    """A registration as a certificate states it: exactly the fields its log leaf commits to, plus context."""

    id: bytes
    registrar: int
    owner: int
    kind: int
    grade: int
    source: int
    rights: int
    content_hash: bytes
    metadata_hash: bytes
    supersedes: bytes
    parents: tuple[bytes, ...]
    status: int
    block_number: int
    batched: bool

    def leaf_hash(self) -> bytes:
        return entry_leaf_hash(self.registrar, pack_entry_fields(
            self.kind, self.grade, self.source, self.rights, self.owner, self.content_hash, self.metadata_hash,
            self.supersedes, self.parents))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": hex0x(self.id), "registrar": self.registrar, "owner": self.owner,
            "kind": Kind(self.kind).label, "grade": Grade(self.grade).label, "source": Source(self.source).label,
            "rights": self.rights, "contentHash": hex0x(self.content_hash),
            "metadataHash": hex0x(self.metadata_hash), "supersedes": hex0x(self.supersedes),
            "parents": [hex0x(p) for p in self.parents], "status": Status(self.status).label,
            "blockNumber": self.block_number, "batched": self.batched,
        }

    @classmethod
    def from_json(cls, obj: Any, path: str) -> CertRecord:
        """The record a certificate states; MalformedDocument naming the field if it is not well-formed."""
        try:
            return cls._from_plain_json(obj)
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls._from_json_strict(obj, path)  # finds what is wrong and names it (or accepts subclasses)

    @classmethod
    def _from_plain_json(cls, obj: dict[str, Any]) -> CertRecord:
        """The common case, fast: accepts only what :meth:`_from_json_strict` accepts, raises anything else."""
        parents = obj["parents"]
        if type(parents) is not list or len(parents) > 255:
            raise TypeError
        rid, content, metadata, supersedes, *parent_ids = _h32_many(
            [obj["id"], obj["contentHash"], obj["metadataHash"], obj["supersedes"], *parents])
        return cls(rid, _uint(obj["registrar"], 0xFFFF), _uint(obj["owner"], 0xFFFFFFFF),
                   _KIND[obj["kind"]], _GRADE[obj["grade"]], _SOURCE[obj["source"]],
                   _uint(obj["rights"], 7, lo=1), content, metadata, supersedes, tuple(parent_ids),
                   _STATUS[obj["status"]], _uint(obj["blockNumber"], 2**64 - 1), _bool(obj["batched"]))

    @classmethod
    def _from_json_strict(cls, obj: Any, path: str) -> CertRecord:
        def label(enum: type[Kind] | type[Grade] | type[Source] | type[Status], name: str) -> int:
            text = get(obj, name, path)
            value = _LABELS[enum].get(text) if type(text) is str else None
            if value is None:
                raise MalformedDocument(f"{path}.{name}: unknown value {as_str(text, f'{path}.{name}')!r}")
            return value

        parents = tuple(as_hex(p, f"{path}.parents[{i}]", 32)
                        for i, p in enumerate(as_list(get(obj, "parents", path), f"{path}.parents")))
        if len(parents) > 255:
            raise MalformedDocument(f"{path}.parents: more than 255 parents")
        return cls(
            id=as_hex(get(obj, "id", path), f"{path}.id", 32),
            registrar=as_int(get(obj, "registrar", path), f"{path}.registrar", hi=2**16 - 1),
            owner=as_int(get(obj, "owner", path), f"{path}.owner", hi=2**32 - 1),
            kind=label(Kind, "kind"), grade=label(Grade, "grade"), source=label(Source, "source"),
            rights=as_int(get(obj, "rights", path), f"{path}.rights", lo=1, hi=7),
            content_hash=as_hex(get(obj, "contentHash", path), f"{path}.contentHash", 32),
            metadata_hash=as_hex(get(obj, "metadataHash", path), f"{path}.metadataHash", 32),
            supersedes=as_hex(get(obj, "supersedes", path), f"{path}.supersedes", 32),
            parents=parents, status=label(Status, "status"),
            block_number=as_int(get(obj, "blockNumber", path), f"{path}.blockNumber"),
            batched=as_bool(get(obj, "batched", path), f"{path}.batched"),
        )


@dataclass(frozen=True)
class Cosignature:
    witness: int
    signer: bytes
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"witness": self.witness, "signer": hex0x(self.signer), "signature": hex0x(self.signature)}


@dataclass(frozen=True)
class Inclusion:
    """Evidence that a record is a leaf of its registrar's log, under a checkpoint anchored on-chain."""

    record: bytes
    exchange: int
    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    proof: tuple[bytes, ...]
    anchor_block: int
    anchor_transaction: bytes
    checkpoint_signature: bytes
    cosignatures: tuple[Cosignature, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "TransparencyLogInclusion", "record": hex0x(self.record), "exchange": self.exchange,
            "leafIndex": self.leaf_index, "leafHash": hex0x(self.leaf_hash), "treeSize": self.tree_size,
            "root": hex0x(self.root), "proof": [hex0x(p) for p in self.proof], "anchorBlock": self.anchor_block,
            "anchorTransaction": hex0x(self.anchor_transaction),
            "checkpointSignature": hex0x(self.checkpoint_signature),
            "cosignatures": [c.to_json() for c in self.cosignatures],
        }

    @classmethod
    def from_json(cls, obj: Any, path: str) -> Inclusion:
        """The inclusion evidence; MalformedDocument naming the field if it is not well-formed."""
        try:
            return cls._from_plain_json(obj)
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls._from_json_strict(obj, path)

    @classmethod
    def _from_plain_json(cls, obj: dict[str, Any]) -> Inclusion:
        """The common case, fast: accepts only what :meth:`_from_json_strict` accepts, raises anything else."""
        proof, cos = obj["proof"], obj["cosignatures"]
        if type(proof) is not list or type(cos) is not list or obj["type"] != "TransparencyLogInclusion":
            raise TypeError
        return cls(_h32(obj["record"]), _uint(obj["exchange"], 0xFFFF), _uint(obj["leafIndex"], 2**64 - 1),
                   _hex(obj["leafHash"]), _uint(obj["treeSize"], 2**64 - 1), _hex(obj["root"]),
                   tuple(_h32_many(proof) if proof and set(map(len, proof)) == _LEN66 else map(_hex, proof)),
                   _uint(obj["anchorBlock"], 2**64 - 1), _h32(obj["anchorTransaction"]),
                   _hex(obj["checkpointSignature"]),
                   tuple(Cosignature(_uint(c["witness"], 0xFFFF), _h20(c["signer"]), _hex(c["signature"]))
                         for c in cos))

    @classmethod
    def _from_json_strict(cls, obj: Any, path: str) -> Inclusion:
        # Proof elements are parsed as hex of any length: a wrong-sized element is the inclusion check's
        # finding (InvalidProofShape), not a formatting matter.
        proof = tuple(as_hex(p, f"{path}.proof[{i}]")
                      for i, p in enumerate(as_list(get(obj, "proof", path), f"{path}.proof")))
        cos = []
        for i, c in enumerate(as_list(get(obj, "cosignatures", path), f"{path}.cosignatures")):
            p = f"{path}.cosignatures[{i}]"
            cos.append(Cosignature(as_int(get(c, "witness", p), f"{p}.witness", hi=2**16 - 1),
                                   as_hex(get(c, "signer", p), f"{p}.signer", 20),
                                   as_hex(get(c, "signature", p), f"{p}.signature")))
        if as_str(get(obj, "type", path), f"{path}.type") != "TransparencyLogInclusion":
            raise MalformedDocument(f"{path}.type must be TransparencyLogInclusion")
        return cls(
            record=as_hex(get(obj, "record", path), f"{path}.record", 32),
            exchange=as_int(get(obj, "exchange", path), f"{path}.exchange", hi=2**16 - 1),
            leaf_index=as_int(get(obj, "leafIndex", path), f"{path}.leafIndex"),
            leaf_hash=as_hex(get(obj, "leafHash", path), f"{path}.leafHash"),
            tree_size=as_int(get(obj, "treeSize", path), f"{path}.treeSize"),
            root=as_hex(get(obj, "root", path), f"{path}.root"),
            proof=proof,
            anchor_block=as_int(get(obj, "anchorBlock", path), f"{path}.anchorBlock"),
            anchor_transaction=as_hex(get(obj, "anchorTransaction", path), f"{path}.anchorTransaction", 32),
            checkpoint_signature=as_hex(get(obj, "checkpointSignature", path), f"{path}.checkpointSignature"),
            cosignatures=tuple(cos),
        )


# ---------------------------------------------------------------------- dates and bindings


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _iso_seconds(text: str) -> int:
    if _ISO.fullmatch(text) is None:
        raise ValueError
    return int(datetime.fromisoformat(text).timestamp())  # the form is fixed; this checks the calendar


def _parse_iso(text: Any, path: str) -> int:
    """Exactly the form :func:`_iso` writes (a strict XML Schema dateTime in UTC, whole seconds)."""
    text = as_str(text, path)
    try:
        return _iso_seconds(text)
    except ValueError:
        raise MalformedDocument(f"{path} must be an XML Schema dateTime like 2026-01-01T00:00:00Z") from None


def did_pkh(chain_id: int, address: bytes) -> str:
    return f"did:pkh:eip155:{chain_id}:{hex0x(address)}#blockchainAccountId"


def _address_of_method(method: Any, path: str, chain_id: int) -> bytes:
    text = as_str(method, path)
    prefix = f"did:pkh:eip155:{chain_id}:"
    if not text.startswith(prefix) or not text.endswith("#blockchainAccountId"):
        raise MalformedDocument(f"{path} must be {prefix}<address>#blockchainAccountId")
    return as_hex(text[len(prefix):-len("#blockchainAccountId")], path, 20)


def _binding(doc: Mapping[str, Any]) -> tuple[int, bytes]:
    ev = as_list(get(doc, "evidence", "$"), "$.evidence")
    if not ev:
        raise MalformedDocument("$.evidence is empty")
    b = ev[0]
    if get(b, "type", "$.evidence[0]") != "RegistryBinding":
        raise MalformedDocument("$.evidence[0] must be the RegistryBinding")
    return (as_int(get(b, "chainId", "$.evidence[0]"), "$.evidence[0].chainId"),
            as_hex(get(b, "registry", "$.evidence[0]"), "$.evidence[0].registry", 20))


# ---------------------------------------------------------------------- the document as read


@dataclass
class _Parsed:
    chain_id: int
    registry: bytes
    issuer: int
    issuer_code: str
    valid_from: int
    valid_until: int
    record: CertRecord
    lineage: list[CertRecord]
    evidence: dict[bytes, Inclusion]
    evidence_count: int
    key: bytes
    issued_block: int
    signature: bytes
    recognitions: list[tuple[int, bytes, bytes, bytes]]  # (recognizer, key, signature, options hash)
    credential_hash: bytes = field(default=b"")
    # validFrom and validUntil as written (the exact form _iso writes), for the report without formatting again
    valid_from_text: str = ""
    valid_until_text: str = ""
    # credentialSubject.property: the register's state at the issuing block (None: a certificate without it)
    property_state: PropertyState | None = None


def _status_plain(value: Any) -> bool:
    """Whether ``credentialStatus`` is exactly what :func:`build_unsigned` writes: one entry per purpose, in
    order, each of exactly :data:`status_list.ENTRY_KEYS`, strings only (so canonical JSON of the document needs no
    other check). Anything else is left to :func:`status_list.check_entries` on the strict path."""
    if type(value) is not list or len(value) != len(_PURPOSES):
        return False
    for e, purpose in zip(value, _PURPOSES, strict=True):
        if type(e) is not dict or e.keys() != status_list.ENTRY_KEYS:
            return False
        kind, said, index, eid, url = (e["type"], e["statusPurpose"], e["statusListIndex"], e["id"],
                                       e["statusListCredential"])
        if type(kind) is not str or type(said) is not str or type(index) is not str or type(eid) is not str \
                or type(url) is not str or kind != status_list.ENTRY_TYPE or said != purpose \
                or not (index.isascii() and index.isdecimal() and 0 < len(index) <= 10) \
                or (index[0] == "0" and index != "0"):
            return False
    return True


_PURPOSES = status_list.PURPOSES

