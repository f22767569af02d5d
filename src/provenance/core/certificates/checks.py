"""Mutual-recognition certificates: a W3C Verifiable Credential 2.0 for a registration and its whole lineage.

A certificate (https://www.w3.org/TR/vc-data-model-2.0/) is one JSON document:

* ``credentialSubject``: the record (every field its transparency-log leaf commits to) and ``lineage``, every
  ancestor, each with the same fields;
* ``evidence``: the binding to one deployment (chain id, registry address) and, for the record and each
  ancestor, a ``TransparencyLogInclusion``: its registrar's log, leaf index and hash, the checkpoint (tree size
  and root) with the exchange's own signature over it (a signed note) and the witnesses' cosignatures, the
  RFC 9162 inclusion proof, and the block and transaction that anchored the checkpoint on-chain;
* ``validFrom`` / ``validUntil``;
* ``proof``: the issuing exchange's EIP-712 signature (``Certificate(credentialHash, issuer, issuedBlock)``)
  by one of its registered keys, then any partner exchanges' recognitions (``Recognition(credentialHash,
  recognizer)``). ``credentialHash`` is SHA-256 of the canonical JSON (RFC 8785) of the document whose proof is
  only the issuer's proof without its ``proofValue``: every field but the signatures is signed.

Verification runs every check and reports each by name (:data:`CHECKS`); the certificate is valid only if all
pass. What the checks consult - keys and their history, anchored checkpoints, record statuses, the head block
- comes from a :class:`FederationView`: the node's index and the chain (online) or a signed federation snapshot
(offline, :mod:`provenance.core.snapshot`). This module does no I/O.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import orjson

from provenance.core import eip712, ijson, merkle, status_list
from provenance.core.canonical import (
    MalformedDocument,
    as_bool,
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
from provenance.core.entries import entry_leaf_hash, pack_entry_fields
from provenance.core.ids import record_id
from provenance.core.keccak import keccak256
from provenance.errors import InvalidSignature, MalformedJson
from provenance.types import Grade, Kind, Source, Status

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PROVENANCE_CONTEXT = "https://w3id.org/provenance/registration/v1"
CERT_TYPE = "DataRegistrationCertificate"
PROOF_TYPE = "EthereumEip712Signature2021"
MAX_LINEAGE = 512

CHECKS = ("format", "binding", "signature", "issuer_key", "key_valid", "record", "inclusion", "checkpoint",
          "lineage", "recognitions", "expiry")
"""Every check a verification reports, in order."""

# Ancestors that make a derived record unusable. A superseded ancestor is an older version, still valid lineage.
_BAD_ANCESTOR = {int(Status.REVOKED): "revoked", int(Status.SUSPENDED): "suspended",
                 int(Status.NONE): "unknown"}


# ---------------------------------------------------------------------- what verification consults


@dataclass(frozen=True)
class KeyInfo:
    """A registered key of an exchange: valid from block ``valid_from`` until ``valid_to`` (0: still valid)."""

    exchange: int
    valid_from: int
    valid_to: int

    def valid_at(self, block: int) -> bool:
        return self.valid_from <= block and (self.valid_to == 0 or block < self.valid_to)


class FederationView(Protocol):
    """What a verifier knows of the federation: from the chain and index (online) or a snapshot (offline)."""

    @property
    def mode(self) -> str: ...
    @property
    def chain_id(self) -> int: ...
    @property
    def registry(self) -> bytes: ...
    @property
    def head_block(self) -> int: ...
    @property
    def min_cosigners(self) -> int: ...

    def key(self, address: bytes) -> KeyInfo | None: ...
    def exchange_code(self, exchange: int) -> str | None: ...
    def anchored_root(self, exchange: int, tree_size: int) -> bytes | None: ...
    def record_status(self, rid: bytes) -> int:
        """The record's status as the view knows it (offline: ACTIVE unless the status list says otherwise)."""
        ...
    def record_leaf(self, rid: bytes) -> tuple[int, int, bytes] | None:
        """(registrar, leaf index, leaf hash) of a record the view holds, or None (offline: always None)."""
        ...


# ---------------------------------------------------------------------- report


class Check(NamedTuple):
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    mode: str
    checks: tuple[Check, ...]
    credential_hash: bytes | None = None
    equivocations: tuple[dict[str, Any], ...] = ()

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "mode": self.mode,
                "credentialHash": hex0x(self.credential_hash) if self.credential_hash else None,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
                "equivocations": list(self.equivocations)}


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


def _respelled_proofs(doc: Any) -> list[int]:
    """The proofs whose proofValue is hex in upper or mixed case: the bytes the node writes (0x and lowercase hex)
    spelled another way. A proofValue is outside what is signed, so anyone could re-spell it and every signature
    would still verify: one certificate, several texts. A signature has one accepted encoding, as on-chain."""
    proofs = doc.get("proof") if isinstance(doc, dict) else None
    if not isinstance(proofs, list):
        return []
    return [i for i, p in enumerate(proofs)
            if isinstance(p, dict) and isinstance(v := p.get("proofValue"), str) and v != v.lower()]


_RESPELLED = "its proofValue is hex in upper case; a signature is written 0x and lowercase hex, its one encoding"


def _h32(value: Any) -> bytes:
    if type(value) is not str or len(value) != 66 or value[:2] != "0x":
        raise TypeError
    raw = bytes.fromhex(value[2:])
    if len(raw) != 32:
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


def _uint(value: Any, hi: int, lo: int = 0) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise TypeError
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError
    return value



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


# ---------------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Issuer:
    exchange: int
    code: str
    name: str
    key: bytes  # address of the signing key


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


def build_unsigned(*, chain_id: int, registry: bytes, issuer: Issuer, record: CertRecord,
                   lineage: Sequence[CertRecord], evidence: Sequence[Inclusion], issued_at: int, valid_until: int,
                   issued_block: int, status: Sequence[Mapping[str, str]] | None = None) -> dict[str, Any]:
    """The certificate document with the issuer's proof options but no signature yet; ``status``: its
    ``credentialStatus`` entries (:func:`provenance.core.status_list.entries`), if any."""
    doc = {
        "@context": [VC_CONTEXT, PROVENANCE_CONTEXT],
        "type": ["VerifiableCredential", CERT_TYPE],
        "id": f"urn:provenance:certificate:{chain_id}:{hex0x(record.id)}:{issued_block}",
        "issuer": {"id": f"urn:provenance:exchange:{chain_id}:{hex0x(registry)}:{issuer.exchange}",
                   "exchangeId": issuer.exchange, "code": issuer.code, "name": issuer.name},
        "validFrom": _iso(issued_at),
        "validUntil": _iso(valid_until),
        "credentialSubject": {"id": f"urn:provenance:record:{hex0x(record.id)}", "record": record.to_json(),
                              "lineage": [r.to_json() for r in lineage]},
        "evidence": [{"type": "RegistryBinding", "chainId": chain_id, "registry": hex0x(registry)},
                     *(e.to_json() for e in evidence)],
        "proof": [{"type": PROOF_TYPE, "proofPurpose": "assertionMethod",
                   "verificationMethod": did_pkh(chain_id, issuer.key), "created": _iso(issued_at),
                   "issuedBlock": issued_block,
                   "eip712": {"primaryType": "Certificate", "types": eip712.CERTIFICATE_TYPE}}],
    }
    if status is not None:
        doc["credentialStatus"] = [dict(e) for e in status]
    return doc


def credential_hash(doc: Mapping[str, Any]) -> bytes:
    """SHA-256 of the canonical document with the issuer's proof options and no signatures."""
    proofs = doc.get("proof")
    if not isinstance(proofs, list) or not proofs or not isinstance(proofs[0], Mapping):
        raise MalformedDocument("$.proof must be a non-empty array whose first element is the issuer's proof")
    options = {k: v for k, v in proofs[0].items() if k != "proofValue"}
    return sha256_json({**doc, "proof": [options]})


def sign(doc: dict[str, Any], private_key: bytes) -> dict[str, Any]:
    """The document with the issuer's proofValue filled in."""
    chain_id, registry = _binding(doc)
    issuer = as_int(get(get(doc, "issuer", "$"), "exchangeId", "$.issuer"), "$.issuer.exchangeId", hi=2**16 - 1)
    block = as_int(get(doc["proof"][0], "issuedBlock", "$.proof[0]"), "$.proof[0].issuedBlock")
    digest = eip712.certificate_digest(chain_id, registry, credential_hash(doc), issuer, block)
    signed: dict[str, Any] = json.loads(json.dumps(doc))
    signed["proof"][0]["proofValue"] = hex0x(eip712.sign_digest(digest, private_key))
    return signed


def add_recognition(doc: dict[str, Any], recognizer: int, key_address: bytes, private_key: bytes,
                    created: int) -> dict[str, Any]:
    """The document with a partner exchange's recognition appended to its proofs."""
    chain_id, registry = _binding(doc)
    options = {"type": PROOF_TYPE, "proofPurpose": "recognition", "recognizer": recognizer,
               "verificationMethod": did_pkh(chain_id, key_address), "created": _iso(created)}
    digest = eip712.recognition_digest(chain_id, registry, credential_hash(doc), recognizer, sha256_json(options))
    out: dict[str, Any] = json.loads(json.dumps(doc))
    out["proof"].append({**options, "proofValue": hex0x(eip712.sign_digest(digest, private_key))})
    return out


def _binding(doc: Mapping[str, Any]) -> tuple[int, bytes]:
    ev = as_list(get(doc, "evidence", "$"), "$.evidence")
    if not ev:
        raise MalformedDocument("$.evidence is empty")
    b = ev[0]
    if get(b, "type", "$.evidence[0]") != "RegistryBinding":
        raise MalformedDocument("$.evidence[0] must be the RegistryBinding")
    return (as_int(get(b, "chainId", "$.evidence[0]"), "$.evidence[0].chainId"),
            as_hex(get(b, "registry", "$.evidence[0]"), "$.evidence[0].registry", 20))


# ---------------------------------------------------------------------- verifying


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


def _parse(doc: Any) -> _Parsed:
    """The certificate's content; MalformedDocument naming the first thing wrong if it is not well-formed."""
    if _speedups is not None:
        parsed = _parse_compiled(doc)
        if parsed is not None:
            return parsed
    try:
        return _parse_plain(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return _parse_strict(doc)  # names what is wrong, or accepts what the plain reader leaves to it


# What this module writes, object by object: the plain reader takes documents of exactly this shape.
_TOP_KEYS = frozenset({"@context", "type", "id", "issuer", "validFrom", "validUntil", "credentialSubject",
                       "evidence", "proof"})
_TOP_KEYS_STATUS = _TOP_KEYS | {"credentialStatus"}
_ISSUER_KEYS = frozenset({"id", "exchangeId", "code", "name"})
_SUBJECT_KEYS = frozenset({"id", "record", "lineage"})
_RECORD_KEYS = frozenset({"id", "registrar", "owner", "kind", "grade", "source", "rights", "contentHash",
                          "metadataHash", "supersedes", "parents", "status", "blockNumber", "batched"})
_BINDING_KEYS = frozenset({"type", "chainId", "registry"})
_INCLUSION_KEYS = frozenset({"type", "record", "exchange", "leafIndex", "leafHash", "treeSize", "root", "proof",
                             "anchorBlock", "anchorTransaction", "checkpointSignature", "cosignatures"})
_COSIGNATURE_KEYS = frozenset({"witness", "signer", "signature"})
_ISSUER_PROOF_KEYS = frozenset({"type", "proofPurpose", "verificationMethod", "created", "issuedBlock", "eip712",
                                "proofValue"})
_RECOGNITION_KEYS = frozenset({"type", "proofPurpose", "recognizer", "verificationMethod", "created",
                               "proofValue"})
_CONTEXTS = [VC_CONTEXT, PROVENANCE_CONTEXT]
_TYPES = ["VerifiableCredential", CERT_TYPE]
_EIP712_OPTIONS = {"primaryType": "Certificate", "types": eip712.CERTIFICATE_TYPE}
_EXACT = 2**53 - 1  # the largest integer canonical JSON carries (provenance.core.canonical)

try:  # built from provenance/core/_speedups.c where the package was installed with a C compiler
    if os.environ.get("PROVENANCE_NO_SPEEDUPS") == "1":  # the Python readers alone, to compare or to rule C out
        raise ImportError("PROVENANCE_NO_SPEEDUPS=1")
    from provenance.core import _speedups
except ImportError:  # pragma: no cover - the Python readers read the same documents, slower
    _speedups = None  # type: ignore[assignment]
    _C_TAKES_STATUS = False
else:
    _C_TAKES_STATUS = bool(getattr(_speedups, "TAKES_CREDENTIAL_STATUS", 0))
    _speedups.configure(_CONTEXTS, _TYPES, PROOF_TYPE, _EIP712_OPTIONS["primaryType"], _EIP712_OPTIONS["types"],
                        _KIND, _GRADE, _SOURCE, _STATUS, MAX_LINEAGE)
    _speedups.configure_hashes(keccak256, eip712.CERTIFICATE_TYPE)  # checks the compiled Keccak-256 against it


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


def _without_status(doc: Any) -> Any:
    """The document as the compiled reader takes it: without a plain ``credentialStatus`` (None if it holds one
    that is not plain). The compiled reader knows the 9 members of a certificate without status; what it reads
    is the same, and the credential hash and the issuer's digest are then computed over the whole document."""
    if type(doc) is not dict or "credentialStatus" not in doc:
        return doc
    if not _status_plain(doc["credentialStatus"]):
        return None
    if _C_TAKES_STATUS:  # a compiled reader that reads (and hashes) a plain credentialStatus itself
        return doc
    bare = dict(doc)
    del bare["credentialStatus"]
    return bare


def _s(value: Any) -> str:
    if type(value) is not str:
        raise TypeError
    return value


def _obj(value: Any, keys: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict or value.keys() != keys:
        raise ValueError
    return value


def _record_plain(obj: Any) -> CertRecord:
    rec = CertRecord._from_plain_json(_obj(obj, _RECORD_KEYS))
    if rec.block_number > _EXACT:
        raise ValueError
    return rec


def _inclusion_plain(obj: Any) -> Inclusion:
    inc = Inclusion._from_plain_json(_obj(obj, _INCLUSION_KEYS))
    if inc.leaf_index > _EXACT or inc.tree_size > _EXACT or inc.anchor_block > _EXACT:
        raise ValueError
    for c in obj["cosignatures"]:
        _obj(c, _COSIGNATURE_KEYS)
    return inc


def _method_plain(value: Any, prefix: str) -> bytes:
    text = _s(value)
    if not text.startswith(prefix) or not text.endswith("#blockchainAccountId"):
        raise ValueError
    return _h20(text[len(prefix):-20])


def _parse_plain(doc: Any) -> _Parsed:
    """A document of exactly the shape this module writes, read fast.

    Every object must hold exactly the keys written here and every value is type-checked where it is read, so
    nothing can slip past what canonical JSON requires (string keys; strings, booleans and integers JSON carries
    exactly; no floats, no other types) and the document is hashed without walking it again. Raises KeyError,
    TypeError, ValueError, AttributeError or IndexError on anything else, for :func:`_parse_strict` to accept
    (extension fields, subclasses of the JSON types) or name; where both accept, both give the same result.
    """
    if type(doc) is not dict or doc.keys() != _TOP_KEYS and (doc.keys() != _TOP_KEYS_STATUS
                                                              or not _status_plain(doc["credentialStatus"])):
        raise ValueError
    if doc["@context"] != _CONTEXTS or doc["type"] != _TYPES or type(doc["@context"]) is not list \
            or type(doc["type"]) is not list:
        raise ValueError
    _s(doc["id"])
    issuer_obj = _obj(doc["issuer"], _ISSUER_KEYS)
    issuer = _uint(issuer_obj["exchangeId"], 0xFFFF)
    code = _s(issuer_obj["code"])
    _s(issuer_obj["id"])
    _s(issuer_obj["name"])
    subject = _obj(doc["credentialSubject"], _SUBJECT_KEYS)
    _s(subject["id"])
    record = _record_plain(subject["record"])
    lineage_raw = subject["lineage"]
    if type(lineage_raw) is not list or len(lineage_raw) > MAX_LINEAGE:
        raise ValueError
    lineage = [_record_plain(r) for r in lineage_raw]
    ev_list = doc["evidence"]
    if type(ev_list) is not list:
        raise TypeError
    binding = _obj(ev_list[0], _BINDING_KEYS)
    if binding["type"] != "RegistryBinding":
        raise ValueError
    chain_id, registry = _uint(binding["chainId"], _EXACT), _h20(binding["registry"])
    evidence: dict[bytes, Inclusion] = {}
    for e in ev_list[1:]:
        inc = _inclusion_plain(e)
        if inc.record in evidence:
            raise ValueError
        evidence[inc.record] = inc
    proofs = doc["proof"]
    if type(proofs) is not list:
        raise TypeError
    p0 = _obj(proofs[0], _ISSUER_PROOF_KEYS)
    if p0["type"] != PROOF_TYPE or p0["proofPurpose"] != "assertionMethod" or type(p0["eip712"]) is not dict \
            or p0["eip712"] != _EIP712_OPTIONS:
        raise ValueError
    prefix = f"did:pkh:eip155:{chain_id}:"
    key = _method_plain(p0["verificationMethod"], prefix)
    _s(p0["created"])
    recognitions = []
    for p in proofs[1:]:
        _obj(p, _RECOGNITION_KEYS)
        if p["proofPurpose"] != "recognition":
            raise ValueError
        _s(p["type"])
        _s(p["created"])
        options = {k: v for k, v in p.items() if k != "proofValue"}
        recognitions.append((_uint(p["recognizer"], 0xFFFF), _method_plain(p["verificationMethod"], prefix),
                             _hex(p["proofValue"]),
                             hashlib.sha256(orjson.dumps(options, option=orjson.OPT_SORT_KEYS)).digest()))
    parsed = _Parsed(
        chain_id=chain_id, registry=registry, issuer=issuer, issuer_code=code,
        valid_from=_iso_seconds(_s(doc["validFrom"])), valid_until=_iso_seconds(_s(doc["validUntil"])),
        record=record, lineage=lineage, evidence=evidence, evidence_count=len(ev_list) - 1, key=key,
        issued_block=_uint(p0["issuedBlock"], _EXACT), signature=_hex(p0["proofValue"]),
        recognitions=recognitions,
    )
    parsed.valid_from_text, parsed.valid_until_text = doc["validFrom"], doc["validUntil"]
    options = {k: v for k, v in p0.items() if k != "proofValue"}
    # orjson with sorted keys is canonical JSON for values of these types (provenance.core.canonical).
    parsed.credential_hash = hashlib.sha256(orjson.dumps({**doc, "proof": [options]},
                                                         option=orjson.OPT_SORT_KEYS)).digest()
    return parsed


def _parse_compiled(doc: Any) -> _Parsed | None:
    """:func:`_parse_plain` through the compiled reader (provenance/core/_speedups.c); None where that reader or
    this function leaves the document to the others.

    The compiled reader returns a result only for documents :func:`_parse_plain` accepts, with the same values
    (tests/certificates/test_parsing.py holds the two together); what it reads is what the rest of verification
    checks, as from the Python readers.
    """
    assert _speedups is not None
    bare = _without_status(doc)
    t = None if bare is None else _speedups.read(bare)
    if t is None:
        return None
    chain_id, registry, issuer, code, valid_from, valid_until, record, lineage, inclusions, key, block, sig, recs = t
    evidence: dict[bytes, Inclusion] = {}
    for *fields, cosignatures in inclusions:
        inc = Inclusion(*fields, tuple(Cosignature(*c) for c in cosignatures))  # type: ignore[call-arg]
        if inc.record in evidence:
            return None
        evidence[inc.record] = inc
    try:
        recognitions = [
            (recognizer, signer, signature, hashlib.sha256(orjson.dumps(
                {k: v for k, v in p.items() if k != "proofValue"}, option=orjson.OPT_SORT_KEYS)).digest())
            for (recognizer, signer, signature), p in zip(recs, doc["proof"][1:], strict=True)]
        parsed = _Parsed(
            chain_id=chain_id, registry=registry, issuer=issuer, issuer_code=code,
            valid_from=_iso_seconds(valid_from), valid_until=_iso_seconds(valid_until),
            record=CertRecord(*record), lineage=[CertRecord(*r) for r in lineage], evidence=evidence,
            evidence_count=len(inclusions), key=key, issued_block=block, signature=sig, recognitions=recognitions,
        )
        parsed.valid_from_text, parsed.valid_until_text = valid_from, valid_until
        options = {k: v for k, v in doc["proof"][0].items() if k != "proofValue"}
        parsed.credential_hash = hashlib.sha256(orjson.dumps({**doc, "proof": [options]},
                                                             option=orjson.OPT_SORT_KEYS)).digest()
    except (ValueError, TypeError):  # a date that is not one; text JSON cannot carry (orjson.JSONEncodeError)
        return None
    return parsed


def _parse_strict(doc: Any) -> _Parsed:
    if not isinstance(doc, Mapping):
        raise MalformedDocument("a certificate is a JSON object")
    ctx = as_list(get(doc, "@context", "$"), "$.@context")
    if not ctx or ctx[0] != VC_CONTEXT:
        raise MalformedDocument(f"$.@context must start with {VC_CONTEXT}")
    types = as_list(get(doc, "type", "$"), "$.type")
    if "VerifiableCredential" not in types or CERT_TYPE not in types:
        raise MalformedDocument(f"$.type must include VerifiableCredential and {CERT_TYPE}")
    if "credentialStatus" in doc:  # absent from certificates issued before status lists: they verify as they did
        status_list.check_entries(doc["credentialStatus"], "$.credentialStatus")
    chain_id, registry = _binding(doc)
    issuer_obj = get(doc, "issuer", "$")
    issuer = as_int(get(issuer_obj, "exchangeId", "$.issuer"), "$.issuer.exchangeId", hi=2**16 - 1)
    code = as_str(get(issuer_obj, "code", "$.issuer"), "$.issuer.code")
    subject = get(doc, "credentialSubject", "$")
    record = CertRecord.from_json(get(subject, "record", "$.credentialSubject"), "$.credentialSubject.record")
    lineage_raw = as_list(get(subject, "lineage", "$.credentialSubject"), "$.credentialSubject.lineage")
    if len(lineage_raw) > MAX_LINEAGE:
        raise MalformedDocument(f"$.credentialSubject.lineage: more than {MAX_LINEAGE} ancestors")
    lineage = [CertRecord.from_json(r, f"$.credentialSubject.lineage[{i}]") for i, r in enumerate(lineage_raw)]
    evidence: dict[bytes, Inclusion] = {}
    ev_list = as_list(doc["evidence"], "$.evidence")
    for i, e in enumerate(ev_list[1:], start=1):
        inc = Inclusion.from_json(e, f"$.evidence[{i}]")
        if inc.record in evidence:
            raise MalformedDocument(f"$.evidence[{i}]: a second inclusion for record {hex0x(inc.record)}")
        evidence[inc.record] = inc
    proofs = as_list(get(doc, "proof", "$"), "$.proof")
    if not proofs:
        raise MalformedDocument("$.proof is empty")
    p0 = proofs[0]
    if get(p0, "type", "$.proof[0]") != PROOF_TYPE or get(p0, "proofPurpose", "$.proof[0]") != "assertionMethod":
        raise MalformedDocument(f"$.proof[0] must be the issuer's {PROOF_TYPE} assertion")
    key = _address_of_method(get(p0, "verificationMethod", "$.proof[0]"), "$.proof[0].verificationMethod", chain_id)
    recognitions = []
    for i, p in enumerate(proofs[1:], start=1):
        path = f"$.proof[{i}]"
        if get(p, "proofPurpose", path) != "recognition":
            raise MalformedDocument(f"{path}.proofPurpose must be recognition")
        recognitions.append((as_int(get(p, "recognizer", path), f"{path}.recognizer", hi=2**16 - 1),
                             _address_of_method(get(p, "verificationMethod", path), f"{path}.verificationMethod",
                                                chain_id),
                             as_hex(get(p, "proofValue", path), f"{path}.proofValue"),
                             sha256_json({k: v for k, v in p.items() if k != "proofValue"})))
    parsed = _Parsed(
        chain_id=chain_id, registry=registry, issuer=issuer, issuer_code=code,
        valid_from=_parse_iso(get(doc, "validFrom", "$"), "$.validFrom"),
        valid_until=_parse_iso(get(doc, "validUntil", "$"), "$.validUntil"),
        record=record, lineage=lineage, evidence=evidence, evidence_count=len(ev_list) - 1, key=key,
        issued_block=as_int(get(p0, "issuedBlock", "$.proof[0]"), "$.proof[0].issuedBlock"),
        signature=as_hex(get(p0, "proofValue", "$.proof[0]"), "$.proof[0].proofValue"),
        recognitions=recognitions,
    )
    parsed.credential_hash = credential_hash(doc)
    parsed.valid_from_text, parsed.valid_until_text = (
        doc[k] if type(doc[k]) is str else _iso(t)  # a subclass of str is not trusted to format itself
        for k, t in (("validFrom", parsed.valid_from), ("validUntil", parsed.valid_until)))
    return parsed


def verify_text(text: str | bytes, view: FederationView, *, now: int) -> Report:
    """Verify a certificate given as JSON text: anything that is not one I-JSON object (RFC 7493: a repeated key,
    which two readers could read as two different certificates, nesting beyond :data:`ijson.MAX_DEPTH`, a lone
    surrogate, NaN) fails ``format``, naming what, before any other check. (An integer beyond 2**53 - 1 fails
    ``format`` too, naming its path, when the credential hash is computed: no bound is asked of the reader, whose
    per-integer hook would cost a fifth of the parse.)"""
    try:
        doc = ijson.loads(text, what="the certificate")
    except MalformedJson as exc:
        return _malformed(view, exc.message)
    return verify(doc, view, now=now)


def _malformed(view: FederationView, why: str) -> Report:
    return Report(view.mode, tuple(
        Check(n, False, why if n == "format" else "not checked: the document is malformed") for n in CHECKS))


def verify(doc: Any, view: FederationView, *, now: int) -> Report:
    """Every check of :data:`CHECKS`, each reported by name with what it found."""
    if _speedups is not None:
        report = _verify_fast(doc, view, now)
        if report is not None:
            return report
    return _verify_full(doc, view, now)


def _verify_fast(doc: Any, view: FederationView, now: int) -> Report | None:
    """The report of a certificate that passes every check, or None: then :func:`_verify_full` says what fails.

    The checks that need nothing but the document (its form, record ids, leaf hashes, inclusion proofs, the
    lineage's completeness, the credential hash and the digest the issuer signed) run compiled
    (``_speedups.verify_core``, which answers None unless all of them hold); the checks that consult the view run
    here, with the same helpers as :func:`_verify_full`. A test holds the two to the same report for every
    certificate of the tamper matrix.
    """
    if _speedups is None:  # an install without a C compiler, or PROVENANCE_NO_SPEEDUPS=1
        return None
    registry = bytes(view.registry)
    bare = _without_status(doc)
    core = None if bare is None else _speedups.verify_core(bare, eip712._cached_domain(view.chain_id, registry))
    if core is None or _respelled_proofs(doc):
        return None
    content, credential, digest, leaves, valid_from, valid_until, subject, checkpoints = core
    chain_id, doc_registry, issuer, code, _, valid_until_text, rec, lineage, _, key, block, sig, recs = content
    if bare is not doc:  # the compiled reader hashed the document without its status: hash the whole of it
        options = {k: v for k, v in doc["proof"][0].items() if k != "proofValue"}
        credential = hashlib.sha256(orjson.dumps({**doc, "proof": [options]}, option=orjson.OPT_SORT_KEYS)).digest()
        digest = eip712.certificate_digest(chain_id, registry, credential, issuer, block)
    if chain_id != view.chain_id or doc_registry != registry or not valid_from <= now < valid_until:
        return None
    try:
        if eip712.recover_address(digest, sig) != key:  # the certificate's own signature: seen once
            return None
    except InvalidSignature:
        return None
    info = view.key(key)
    if info is None or info.exchange != issuer or view.exchange_code(issuer) != code or not info.valid_at(block) \
            or (block > view.head_block and view.mode == "online"):
        return None
    record_id_ = rec[0]
    if view.record_status(record_id_) != Status.ACTIVE:
        return None
    for r, leaf in zip((rec, *lineage), leaves, strict=True):
        held = view.record_leaf(r[0])
        if held is not None and held[2] != leaf:
            return None
    for r in lineage:
        if view.record_status(r[0]) in _BAD_ANCESTOR:
            return None
    for exchange, tree_size, root, signature, cosignatures in checkpoints:
        why, equivocations = _checkpoint_check(chain_id, registry, exchange, tree_size, root, signature, cosignatures,
                                               view)
        if why is not None or equivocations:
            return None
    if recs:
        try:
            recognitions = [
                (recognizer, signer, signature, hashlib.sha256(orjson.dumps(
                    {k: v for k, v in p.items() if k != "proofValue"}, option=orjson.OPT_SORT_KEYS)).digest())
                for (recognizer, signer, signature), p in zip(recs, doc["proof"][1:], strict=True)]
        except TypeError:
            return None
        ok, recognised = _recognition_check(recognitions, chain_id, registry, credential, issuer, view)
        if not ok:
            return None
    else:
        recognised = "no partner recognitions"
    mode = view.mode
    passed = _passed
    return Report(mode, (
        _FORMAT_PASSED, _passed_binding(chain_id, registry), _passed_signature(key), _passed_issuer(issuer, code),
        passed("key_valid", f"valid at block {block}"), _passed_record(mode),
        passed("inclusion", f"leaf {subject[2]} of exchange {subject[1]}'s log at size {subject[4]}"),
        _passed_checkpoint(subject[4], subject[1], mode), _passed_lineage(len(lineage), mode),
        passed("recognitions", recognised), passed("expiry", f"valid until {valid_until_text}"),
    ), credential, ())


# The passed checks of the fast path, with the details _verify_full gives them (a test compares the reports).
# Checks are immutable, so those that depend only on the deployment, the issuer or the mode are made once.


def _passed(name: str, detail: str) -> Check:
    return tuple.__new__(Check, (name, True, detail))


_FORMAT_PASSED = _passed("format", "well-formed VC 2.0 certificate")


@functools.lru_cache(maxsize=64)
def _passed_binding(chain_id: int, registry: bytes) -> Check:
    return _passed("binding", f"chain {chain_id}, registry {hex0x(registry)}")


@functools.lru_cache(maxsize=1024)
def _passed_signature(key: bytes) -> Check:
    return _passed("signature", f"EIP-712 signature by {hex0x(key)}")


@functools.lru_cache(maxsize=1024)
def _passed_issuer(issuer: int, code: str) -> Check:
    return _passed("issuer_key", f"a key of exchange {issuer} ({code})")


@functools.lru_cache(maxsize=8)
def _passed_record(mode: str) -> Check:
    return _passed("record", f"present and active ({mode})")


@functools.lru_cache(maxsize=1024)
def _passed_checkpoint(tree_size: int, exchange: int, mode: str) -> Check:
    return _passed("checkpoint", f"checkpoint {tree_size} of exchange {exchange} "
                                 f"{'anchored' if mode == 'online' else 'trusted'}")


@functools.lru_cache(maxsize=1024)
def _passed_lineage(ancestors: int, mode: str) -> Check:
    return _passed("lineage", f"{ancestors} ancestors, complete, included and active ({mode})")


def _verify_full(doc: Any, view: FederationView, now: int) -> Report:
    try:
        c = _parse(doc)
    except MalformedDocument as exc:
        return _malformed(view, str(exc))
    results: dict[str, Check] = {"format": Check("format", True, "well-formed VC 2.0 certificate")}
    equivocations: list[dict[str, Any]] = []

    def put(name: str, ok: bool, detail: str) -> None:
        results[name] = Check(name, ok, detail)

    # binding: this deployment, and nothing else
    if (c.chain_id, c.registry) != (view.chain_id, bytes(view.registry)):
        put("binding", False, f"issued for chain {c.chain_id} registry {hex0x(c.registry)}; this verifier is bound "
                              f"to chain {view.chain_id} registry {hex0x(view.registry)}")
    else:
        put("binding", True, f"chain {c.chain_id}, registry {hex0x(c.registry)}")

    # signature
    digest = eip712.certificate_digest(c.chain_id, c.registry, c.credential_hash, c.issuer, c.issued_block)
    try:
        signer = eip712.recover_signer(digest, c.signature)
        if signer != c.key:
            put("signature", False, f"signed by {hex0x(signer)}, not by the stated key {hex0x(c.key)}")
        else:
            put("signature", True, f"EIP-712 signature by {hex0x(c.key)}")
    except InvalidSignature as exc:
        put("signature", False, str(exc))
    respelled = _respelled_proofs(doc)
    if 0 in respelled:
        put("signature", False, f"the issuer's proof: {_RESPELLED}")

    # issuer_key / key_valid
    info = view.key(c.key)
    code = view.exchange_code(c.issuer)
    if info is None:
        put("issuer_key", False, f"{hex0x(c.key)} is not a registered key of any exchange")
        put("key_valid", False, "unknown key")
    else:
        if info.exchange != c.issuer:
            put("issuer_key", False, f"{hex0x(c.key)} belongs to exchange {info.exchange}, not the issuer {c.issuer}")
        elif code != c.issuer_code:
            put("issuer_key", False, f"exchange {c.issuer} is {code!r}, not {c.issuer_code!r}")
        else:
            put("issuer_key", True, f"a key of exchange {c.issuer} ({code})")
        if c.issued_block > view.head_block and view.mode == "online":
            put("key_valid", False, f"issued at block {c.issued_block}, beyond the chain head {view.head_block}")
        elif not info.valid_at(c.issued_block):
            until = f"until block {info.valid_to}" if info.valid_to else "on"
            put("key_valid", False, f"the key is valid from block {info.valid_from} {until}, not at the issuance "
                                    f"block {c.issued_block}")
        else:
            put("key_valid", True, f"valid at block {c.issued_block}")

    # record
    rec = c.record
    problems = _record_problems(rec, view)
    if rec.registrar != c.issuer:
        problems.append(f"registered by exchange {rec.registrar}, not by the issuer {c.issuer}")
    status = view.record_status(rec.id)
    if status != Status.ACTIVE:
        problems.append(f"the record is {Status(status).label} ({view.mode})")
    put("record", not problems, "; ".join(problems) or f"present and active ({view.mode})")

    # inclusion and checkpoint of the record itself
    inc = c.evidence.get(rec.id)
    if inc is None:
        put("inclusion", False, "no inclusion evidence for the record")
        put("checkpoint", False, "no checkpoint for the record")
    else:
        why = _inclusion_problem(rec, inc)
        put("inclusion", why is None, why or f"leaf {inc.leaf_index} of exchange {inc.exchange}'s log at size "
                                               f"{inc.tree_size}")
        why, equiv = _checkpoint_problem(inc, c, view)
        equivocations.extend(equiv)
        put("checkpoint", why is None, why or f"checkpoint {inc.tree_size} of exchange {inc.exchange} "
                                               f"{'anchored' if view.mode == 'online' else 'trusted'}")

    # lineage: complete, each ancestor included, anchored and active
    put("lineage", *_lineage(c, view, equivocations))

    # recognitions by partners
    ok, detail = _recognitions(c, view)
    if any(respelled):
        ok, detail = False, "; ".join(f"recognition by exchange {c.recognitions[i - 1][0]}: {_RESPELLED}"
                                      for i in respelled if i)
    put("recognitions", ok, detail)

    # expiry
    if now < c.valid_from:
        put("expiry", False, f"not valid before {c.valid_from_text}")
    elif now >= c.valid_until:
        put("expiry", False, f"expired at {c.valid_until_text}")
    elif c.valid_until <= c.valid_from:
        put("expiry", False, "validUntil is not after validFrom")
    else:
        put("expiry", True, f"valid until {c.valid_until_text}")
    return Report(view.mode, tuple(results[n] for n in CHECKS), c.credential_hash, tuple(equivocations))


def _record_problems(rec: CertRecord, view: FederationView) -> list[str]:
    problems = []
    if rec.registrar == 0:  # exchange ids start at 1; record_id refuses 0 (the readers refuse above 0xFFFF)
        problems.append(f"record {hex0x(rec.id)}: registrar 0 is not an exchange")
    elif record_id(rec.registrar, rec.content_hash) != rec.id:
        problems.append(f"record {hex0x(rec.id)}: the id does not match its registrar and content hash")
    held = view.record_leaf(rec.id)
    if held is not None and held[2] != rec.leaf_hash():
        problems.append(f"record {hex0x(rec.id)}: its fields differ from the registered record")
    return problems


def _inclusion_problem(rec: CertRecord, inc: Inclusion) -> str | None:
    leaf = rec.leaf_hash()
    if inc.exchange != rec.registrar:
        return f"the evidence names exchange {inc.exchange}'s log, but the record's registrar is {rec.registrar}"
    if inc.leaf_hash != leaf:
        return f"the evidence's leaf hash {hex0x(inc.leaf_hash)} is not the hash of the record's fields {hex0x(leaf)}"
    try:
        merkle.verify_inclusion(inc.leaf_index, inc.tree_size, leaf, inc.proof, inc.root)
    except merkle.MerkleError as exc:
        return f"inclusion proof of leaf {inc.leaf_index} at size {inc.tree_size}: {exc}"
    return None


@functools.lru_cache(maxsize=4096)
def _checkpoint_digest(chain_id: int, registry: bytes, exchange: int, tree_size: int, root: bytes) -> bytes:
    """Memoised: the records of one batch, and their certificates, share a checkpoint."""
    return eip712.checkpoint_digest(chain_id, registry, exchange, tree_size, root)


def _checkpoint_problem(inc: Inclusion, c: _Parsed, view: FederationView) -> tuple[str | None,
                                                                                 list[dict[str, Any]]]:
    return _checkpoint_check(c.chain_id, c.registry, inc.exchange, inc.tree_size, inc.root, inc.checkpoint_signature,
                             [(co.witness, co.signer, co.signature) for co in inc.cosignatures], view)


def _checkpoint_check(chain_id: int, registry: bytes, exchange: int, tree_size: int, root: bytes, signature: bytes,
                      cosignatures: Sequence[tuple[int, bytes, bytes]],
                      view: FederationView) -> tuple[str | None, list[dict[str, Any]]]:
    """What is wrong with a checkpoint (exchange, size, root) and its signatures, and any equivocation found."""
    # The exchange's own signed note over the checkpoint.
    digest = _checkpoint_digest(chain_id, registry, exchange, tree_size, root)
    try:
        signer = eip712.recover_signer(digest, signature)
    except InvalidSignature as exc:
        return f"the checkpoint's signature: {exc}", []
    key = view.key(signer)
    if key is None or key.exchange != exchange:
        return f"the checkpoint is signed by {hex0x(signer)}, not a key of exchange {exchange}", []
    anchored = view.anchored_root(exchange, tree_size)
    if anchored is not None and anchored != root:
        evidence = {"exchange": exchange, "treeSize": tree_size, "anchoredRoot": hex0x(anchored),
                    "signedRoot": hex0x(root), "signer": hex0x(signer), "signature": hex0x(signature)}
        return (f"equivocation: exchange {exchange} signed root {hex0x(root)} for size {tree_size}, "
                f"but anchored {hex0x(anchored)}"), [evidence]
    if anchored is not None:
        return None, []
    if view.mode == "online":
        return f"checkpoint {tree_size} of exchange {exchange} is not anchored on-chain", []
    # Offline and not in the snapshot: enough distinct partner witnesses must have cosigned it.
    witnesses = set()
    for witness, cosigner, cosignature in cosignatures:
        wkey = view.key(cosigner)
        if wkey is None or wkey.exchange != witness or witness == exchange:
            continue
        try:
            if eip712.recover_signer(digest, cosignature) == cosigner:
                witnesses.add(witness)
        except InvalidSignature:
            continue
    if len(witnesses) >= view.min_cosigners:
        return None, []
    return (f"checkpoint {tree_size} of exchange {exchange} is not in the snapshot and has "
            f"{len(witnesses)} valid partner cosignatures, fewer than {view.min_cosigners}"), []


def _lineage(c: _Parsed, view: FederationView, equivocations: list[dict[str, Any]]) -> tuple[bool, str]:
    by_id: dict[bytes, CertRecord] = {}
    for r in c.lineage:
        if r.id in by_id or r.id == c.record.id:
            return False, f"ancestor {hex0x(r.id)} is listed twice"
        by_id[r.id] = r
    problems: list[str] = []
    seen: set[bytes] = set()
    frontier = list(c.record.parents)
    while frontier:
        pid = frontier.pop()
        if pid in seen:
            continue
        seen.add(pid)
        anc = by_id.get(pid)
        if anc is None:
            problems.append(f"ancestor {hex0x(pid)} is missing")
            continue
        frontier.extend(anc.parents)
    extra = set(by_id) - seen
    if extra:
        problems.append(f"{len(extra)} listed ancestors are not in the record's lineage")
    if len(c.evidence) != c.evidence_count or set(c.evidence) != {c.record.id, *by_id}:
        problems.append("the inclusion evidence does not cover exactly the record and its ancestors")
    for anc in c.lineage:
        problems.extend(_record_problems(anc, view))
        st = view.record_status(anc.id)
        if st in _BAD_ANCESTOR:
            problems.append(f"ancestor {hex0x(anc.id)} is {_BAD_ANCESTOR[st]} ({view.mode})")
        inc = c.evidence.get(anc.id)
        if inc is None:
            continue
        why = _inclusion_problem(anc, inc)
        if why is None:
            why, equiv = _checkpoint_problem(inc, c, view)
            equivocations.extend(equiv)
        if why is not None:
            problems.append(f"ancestor {hex0x(anc.id)}: {why}")
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(c.lineage)} ancestors, complete, included and active ({view.mode})"


def _recognitions(c: _Parsed, view: FederationView) -> tuple[bool, str]:
    return _recognition_check(c.recognitions, c.chain_id, c.registry, c.credential_hash, c.issuer, view)


def _recognition_check(recognitions: Sequence[tuple[int, bytes, bytes, bytes]], chain_id: int, registry: bytes,
                       credential: bytes, issuer: int, view: FederationView) -> tuple[bool, str]:
    problems = []
    for recognizer, key, sig, options_hash in recognitions:
        digest = eip712.recognition_digest(chain_id, registry, credential, recognizer, options_hash)
        try:
            signer = eip712.recover_signer(digest, sig)
        except InvalidSignature as exc:
            problems.append(f"recognition by exchange {recognizer}: {exc}")
            continue
        info = view.key(signer)
        if signer != key or info is None or info.exchange != recognizer or recognizer == issuer:
            problems.append(f"recognition by exchange {recognizer}: not signed by one of its keys")
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(recognitions)} partner recognitions" if recognitions else "no partner recognitions"
