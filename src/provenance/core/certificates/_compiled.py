"""The compiled checks of a certificate (provenance/core/_speedups.c), and the only module of this package that
imports them.

The compiled reader takes documents of exactly the shape the issuer writes and answers with the same values as
the plain Python reader (tests/certificates/test_parsing.py holds them together); ``verify_core`` also runs every
check that needs nothing but the document. Either answers None for anything it leaves to the Python code, which
then gives the verdict: the compiled code can only let a certificate on to the checks that consult the federation,
never pass one the Python checks would fail.

The module is configured with this package's constants on first use, not at import: importing the certificates
changes nothing in the compiled module, and a process that verifies nothing never runs the Keccak-256 self-check
of ``configure_hashes``. ``PROVENANCE_NO_SPEEDUPS=1`` leaves the compiled module out, as an install without a C
compiler does (CI runs the core and certificate tests so too).
"""

from __future__ import annotations

import hashlib
import os
import threading
from types import ModuleType
from typing import Any

import orjson

from provenance.core import eip712, status_list
from provenance.core.certificates.document import (
    _CONTEXTS,
    _EIP712_OPTIONS,
    _GRADE,
    _KIND,
    _SOURCE,
    _STATUS,
    _TYPES,
    MAX_LINEAGE,
    PROOF_TYPE,
    CertRecord,
    Cosignature,
    Inclusion,
    _iso_seconds,
    _Parsed,
    _status_plain,
)
from provenance.core.certificates.property import PropertyState
from provenance.core.keccak import keccak256

_c_status_plain: Any
_c_property_plain: Any
_c_configure_status: Any
try:  # built from provenance/core/_speedups.c where the package was installed with a C compiler
    if os.environ.get("PROVENANCE_NO_SPEEDUPS") == "1":  # the Python readers alone, to compare or to rule C out
        raise ImportError("PROVENANCE_NO_SPEEDUPS=1")
    from provenance.core import _speedups
except ImportError:  # pragma: no cover - the Python readers read the same documents, slower
    _speedups = None  # type: ignore[assignment]
    _C_TAKES_STATUS = _C_TAKES_PROPERTY = _C_READS_MEMBERS = False
    _c_status_plain = _c_property_plain = _c_configure_status = None
else:
    _C_TAKES_STATUS = bool(getattr(_speedups, "TAKES_CREDENTIAL_STATUS", 0))
    _C_TAKES_PROPERTY = bool(getattr(_speedups, "TAKES_PROPERTY", 0))
    # A build that also reads those two members plain itself, as the Python readers do (an older build has not
    # these functions); tests/certificates/test_compiled_members.py holds them to the same answers.
    _c_status_plain = getattr(_speedups, "status_plain", None)
    _c_property_plain = getattr(_speedups, "property_plain", None)
    _c_configure_status = getattr(_speedups, "configure_status", None)
    _C_READS_MEMBERS = (_C_TAKES_STATUS and _C_TAKES_PROPERTY and _c_status_plain is not None
                        and _c_property_plain is not None and _c_configure_status is not None)

_configured = False
# Two first verifications on two threads configure once: configure_hashes calls back into Python, so it is not
# atomic under the GIL.
_configure_lock = threading.Lock()


def _ready() -> bool:
    """Whether the compiled checks can run, configuring them on the first call."""
    global _configured
    if _configured:
        return True
    if _speedups is None:  # an install without a C compiler, or PROVENANCE_NO_SPEEDUPS=1
        return False
    with _configure_lock:
        if not _configured:
            _speedups.configure(_CONTEXTS, _TYPES, PROOF_TYPE, _EIP712_OPTIONS["primaryType"],
                                _EIP712_OPTIONS["types"], _KIND, _GRADE, _SOURCE, _STATUS, MAX_LINEAGE)
            # Checks the compiled Keccak-256 against the Python one (RuntimeError if they differ).
            _speedups.configure_hashes(keccak256, eip712.CERTIFICATE_TYPE)
            if _C_READS_MEMBERS:
                _c_configure_status(status_list.ENTRY_TYPE, tuple(status_list.PURPOSES), status_list.ENTRY_KEYS)
            _configured = True
    return True


def speedups() -> ModuleType | None:
    """The compiled module configured as verification uses it, for its own tests and benchmarks; None where it is
    not built or PROVENANCE_NO_SPEEDUPS=1."""
    return _speedups if _ready() else None


_NO_PROPERTY = object()  # _bare's answer for a subject without a property member (None: not plain)


def _bare(doc: Any) -> tuple[Any, Any]:
    """The document as the compiled reader takes it, and the subject's property member read plain
    (:data:`_NO_PROPERTY` if it has none): (None, None) if a ``credentialStatus`` or ``credentialSubject.property``
    is there but not plain. The compiled reader of this build takes both members once checked here, without
    reading them, and hashes them with the rest (``TAKES_CREDENTIAL_STATUS``, ``TAKES_PROPERTY``); an older build
    knows only the 9 members of a certificate without status and the 3 of a subject without property, so they are
    taken out for it and the credential hash and the issuer's digest are then computed over the whole document."""
    if type(doc) is not dict:
        return doc, _NO_PROPERTY
    bare = doc
    if "credentialStatus" in doc:
        if not (_c_status_plain(doc["credentialStatus"]) if _C_READS_MEMBERS
                else _status_plain(doc["credentialStatus"])):
            return None, None
        if not _C_TAKES_STATUS:
            bare = dict(doc)
            del bare["credentialStatus"]
    subject = doc.get("credentialSubject")
    state: Any = _NO_PROPERTY
    if type(subject) is dict and "property" in subject:
        common = _c_property_plain(subject["property"]) if _C_READS_MEMBERS else None
        state = _property_plain(subject) if common is None else _property_state(*common)
        if state is None:
            return None, None
        if not _C_TAKES_PROPERTY:
            bare = dict(bare)
            bare["credentialSubject"] = {k: v for k, v in subject.items() if k != "property"}
    return bare, state


def _property_state(holder: int, rights: int, metadata_hash: bytes, under_dispute: bool) -> PropertyState:
    """The state of a property member without a term, encumbrances or assessments (the compiled reader's answer)."""
    return PropertyState(holder, rights, metadata_hash, 0, under_dispute)


def _property_plain(subject: dict[str, Any]) -> PropertyState | None:
    """The subject's property member by the plain reader; None where it leaves it to the strict one."""
    try:
        return PropertyState._from_plain_json(subject["property"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _credential_hash(doc: dict[str, Any]) -> bytes:
    # orjson with sorted keys is canonical JSON for values of the types the compiled reader accepts
    # (provenance.core.canonical).
    options = {k: v for k, v in doc["proof"][0].items() if k != "proofValue"}
    return hashlib.sha256(orjson.dumps({**doc, "proof": [options]}, option=orjson.OPT_SORT_KEYS)).digest()


def _parse_compiled(doc: Any) -> _Parsed | None:
    """:func:`~.parse._parse_plain` through the compiled reader (provenance/core/_speedups.c); None where that reader or
    this function leaves the document to the others.

    The compiled reader returns a result only for documents :func:`~.parse._parse_plain` accepts, with the same values
    (tests/certificates/test_parsing.py holds the two together); what it reads is what the rest of verification
    checks, as from the Python readers.
    """
    if not _ready():
        return None
    bare, state = _bare(doc)
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
        parsed.credential_hash = _credential_hash(doc)
        if state is not _NO_PROPERTY:
            parsed.property_state = state
    except (ValueError, TypeError):  # a date that is not one; text JSON cannot carry (orjson.JSONEncodeError)
        return None
    return parsed


def document_checks(doc: Any, chain_id: int, registry: bytes) -> tuple[Any, ...] | None:
    """``_speedups.verify_core`` over the document, for the deployment (chain_id, registry): (content, credential
    hash, the digest the issuer signed, leaf hashes, validFrom, validUntil, subject, checkpoints, property state)
    if every check that needs nothing but the document holds, else None (always None without the compiled
    module). The property state is the subject's property member read plain, None where it has none."""
    if not _ready():
        return None
    bare, state = _bare(doc)
    core = None if bare is None else _speedups.verify_core(bare, eip712._cached_domain(chain_id, registry))
    if core is None:
        return None
    if state is _NO_PROPERTY:
        state = None
    if bare is doc:
        return (*core, state)
    # An older compiled reader hashed the document without its status or property: hash the whole of it, and the
    # digest with it.
    content, _, _, *rest = core
    doc_chain_id, issuer, issued_block = content[0], content[2], content[10]
    credential = _credential_hash(doc)
    digest = eip712.certificate_digest(doc_chain_id, registry, credential, issuer, issued_block)
    return (content, credential, digest, *rest, state)
