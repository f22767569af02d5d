"""Issuing a certificate: the unsigned document, its credential hash, the issuer's EIP-712 signature and a partner
exchange's recognition.

``credentialHash`` is SHA-256 of the canonical JSON (RFC 8785) of the document whose proof is only the issuer's
proof without its ``proofValue``: every field but the signatures is signed. The issuer signs
``Certificate(credentialHash, issuer, issuedBlock)``, a partner ``Recognition(credentialHash, recognizer)``
(EIP-712, :mod:`provenance.core.eip712`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provenance.core import eip712
from provenance.core.canonical import MalformedDocument, as_int, hex0x, in_canonical_order, sha256_json
from provenance.core.canonical import field as get
from provenance.core.certificates.document import (
    CERT_TYPE,
    PROOF_TYPE,
    PROVENANCE_CONTEXT,
    VC_CONTEXT,
    CertRecord,
    Inclusion,
    _binding,
    _iso,
    did_pkh,
)
from provenance.core.certificates.property import PropertyState


@dataclass(frozen=True)
class Issuer:
    exchange: int
    code: str
    name: str
    key: bytes  # address of the signing key


def build_unsigned(*, chain_id: int, registry: bytes, issuer: Issuer, record: CertRecord,
                   lineage: Sequence[CertRecord], evidence: Sequence[Inclusion], issued_at: int, valid_until: int,
                   issued_block: int, status: Sequence[Mapping[str, str]] | None = None,
                   property_state: PropertyState | None = None) -> dict[str, Any]:
    """The certificate document with the issuer's proof options but no signature yet; ``status``: its
    ``credentialStatus`` entries (:func:`provenance.core.status_list.entries`), if any; ``property_state``: the
    register's state of the record at ``issued_block`` (``credentialSubject.property``, :mod:`.property`), if
    any."""
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
    if property_state is not None:
        doc["credentialSubject"]["property"] = property_state.to_json()  # type: ignore[index]
    result: dict[str, Any] = in_canonical_order(doc)  # every member in RFC 8785 order: the text reads as it is hashed
    return result


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
    signed["proof"][0] = in_canonical_order({**signed["proof"][0],
                                             "proofValue": hex0x(eip712.sign_digest(digest, private_key))})
    return signed


def add_recognition(doc: dict[str, Any], recognizer: int, key_address: bytes, private_key: bytes,
                    created: int) -> dict[str, Any]:
    """The document with a partner exchange's recognition appended to its proofs."""
    chain_id, registry = _binding(doc)
    options = {"type": PROOF_TYPE, "proofPurpose": "recognition", "recognizer": recognizer,
               "verificationMethod": did_pkh(chain_id, key_address), "created": _iso(created)}
    digest = eip712.recognition_digest(chain_id, registry, credential_hash(doc), recognizer, sha256_json(options))
    out: dict[str, Any] = json.loads(json.dumps(doc))
    out["proof"].append(in_canonical_order({**options, "proofValue": hex0x(eip712.sign_digest(digest, private_key))}))
    return out
