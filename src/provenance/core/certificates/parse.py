"""Reading a certificate document into :class:`~.document._Parsed`, by the fastest reader that takes it.

Three readers give the same result wherever more than one accepts (tests/certificates/test_parsing.py holds them
together): the compiled one (:mod:`._compiled`), the plain one (:func:`_parse_plain`, documents of exactly the
shape the issuer writes) and the strict one (:func:`_parse_strict`, anything well-formed, naming the first thing
wrong otherwise).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from provenance.core import status_list
from provenance.core.canonical import MalformedDocument, as_hex, as_int, as_list, as_str, hex0x, sha256_json
from provenance.core.canonical import field as get
from provenance.core.certificates._compiled import _parse_compiled
from provenance.core.certificates.document import (
    _CONTEXTS,
    _EIP712_OPTIONS,
    _EXACT,
    _TYPES,
    CERT_TYPE,
    MAX_LINEAGE,
    PROOF_TYPE,
    VC_CONTEXT,
    CertRecord,
    Inclusion,
    _address_of_method,
    _binding,
    _h20,
    _hex,
    _iso,
    _iso_seconds,
    _parse_iso,
    _Parsed,
    _status_plain,
    _uint,
)
from provenance.core.certificates.issue import credential_hash
from provenance.core.certificates.property import PropertyState


def _parse(doc: Any) -> _Parsed:
    """The certificate's content; MalformedDocument naming the first thing wrong if it is not well-formed."""
    parsed = _parse_compiled(doc)  # None without the compiled module, or for what it leaves to the readers here
    if parsed is not None:
        return parsed
    try:
        return _parse_plain(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return _parse_strict(doc)  # names what is wrong, or accepts what the plain reader leaves to it


# What the issuer writes, object by object: the plain reader takes documents of exactly this shape.
_TOP_KEYS = frozenset({"@context", "type", "id", "issuer", "validFrom", "validUntil", "credentialSubject",
                       "evidence", "proof"})
_TOP_KEYS_STATUS = _TOP_KEYS | {"credentialStatus"}
_ISSUER_KEYS = frozenset({"id", "exchangeId", "code", "name"})
_SUBJECT_KEYS = frozenset({"id", "record", "lineage"})
_SUBJECT_KEYS_PROPERTY = _SUBJECT_KEYS | {"property"}
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
    subject = doc["credentialSubject"]
    subject = _obj(subject, _SUBJECT_KEYS_PROPERTY if type(subject) is dict and "property" in subject
                   else _SUBJECT_KEYS)
    _s(subject["id"])
    state = PropertyState._from_plain_json(subject["property"]) if "property" in subject else None
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
        recognitions=recognitions, property_state=state,
    )
    parsed.valid_from_text, parsed.valid_until_text = doc["validFrom"], doc["validUntil"]
    options = {k: v for k, v in p0.items() if k != "proofValue"}
    # orjson with sorted keys is canonical JSON for values of these types (provenance.core.canonical).
    parsed.credential_hash = hashlib.sha256(orjson.dumps({**doc, "proof": [options]},
                                                         option=orjson.OPT_SORT_KEYS)).digest()
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
    # Absent from certificates issued before the property register: they verify as they did.
    state = PropertyState.from_json(subject["property"], "$.credentialSubject.property") if "property" in subject \
        else None
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
        recognitions=recognitions, property_state=state,
    )
    parsed.credential_hash = credential_hash(doc)
    parsed.valid_from_text, parsed.valid_until_text = (
        doc[k] if type(doc[k]) is str else _iso(t)  # a subclass of str is not trusted to format itself
        for k, t in (("validFrom", parsed.valid_from), ("validUntil", parsed.valid_until)))
    return parsed


