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
(offline, :mod:`provenance.core.snapshot`). Nothing here does I/O.

The package, by what each part does: :mod:`.document` (the values a certificate states and their readers),
:mod:`.issue` (building, hashing, signing and recognising), :mod:`.parse` (reading a whole document),
:mod:`.checks` (verification and its report), :mod:`.recognitions` (the partners' recognitions it judges),
:mod:`.property` (the data property register's state a certificate states) and :mod:`._compiled` (the compiled
checks, the only importer of ``provenance.core._speedups``). This module re-exports what the rest of the node and
its tests use.
"""

from provenance.core.certificates._compiled import _parse_compiled, _speedups
from provenance.core.certificates.checks import (
    CHECKS,
    Check,
    FederationView,
    KeyInfo,
    Report,
    _verify_fast,
    _verify_full,
    verify,
    verify_text,
)
from provenance.core.certificates.document import (
    CERT_TYPE,
    MAX_LINEAGE,
    PROOF_TYPE,
    PROVENANCE_CONTEXT,
    VC_CONTEXT,
    CertRecord,
    Cosignature,
    Inclusion,
    _binding,
    _iso_seconds,
    _parse_iso,
    did_pkh,
)
from provenance.core.certificates.issue import Issuer, add_recognition, build_unsigned, credential_hash, sign
from provenance.core.certificates.parse import _TOP_KEYS, _parse, _parse_plain, _parse_strict
from provenance.core.certificates.property import (
    AssessmentStatement,
    Encumbrance,
    PropertyNow,
    PropertyState,
    iso_time,
    time_seconds,
)

__all__ = [
    "CERT_TYPE", "CHECKS", "MAX_LINEAGE", "PROOF_TYPE", "PROVENANCE_CONTEXT", "VC_CONTEXT",
    "AssessmentStatement", "CertRecord", "Check", "Cosignature", "Encumbrance", "FederationView", "Inclusion",
    "Issuer", "KeyInfo", "PropertyNow", "PropertyState", "Report", "add_recognition", "build_unsigned",
    "credential_hash", "did_pkh", "iso_time", "sign", "time_seconds", "verify", "verify_text",
    # Private, for the node's other core modules (vc_jose) and the tests that hold the readers and the two
    # verification paths together.
    "_TOP_KEYS", "_binding", "_iso_seconds", "_parse", "_parse_compiled", "_parse_iso", "_parse_plain",
    "_parse_strict", "_speedups", "_verify_fast", "_verify_full",
]
