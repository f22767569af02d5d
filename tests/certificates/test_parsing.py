"""The fast readers of a certificate's records and inclusion evidence accept exactly what the strict readers
accept and give the same values; the strict readers name what is wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core import certificates as C
from provenance.core.canonical import MalformedDocument
from tests.support.parsing import (
    DOC_ODD_VALUES,
    H32,
    INCLUSION,
    KEY,
    ODD_VALUES,
    PARTNER_KEY,
    RECORD,
    Obj,
    Text,
    paths,
    replaced,
)


def outcome(fn: Any, obj: Any) -> Any:
    try:
        return ("ok", fn(obj))
    except (KeyError, TypeError, ValueError, AttributeError, MalformedDocument):
        return ("refused", None)


def agree(cls: Any, obj: Any) -> None:
    strict = outcome(lambda o: cls._from_json_strict(o, "$.x"), obj)
    fast = outcome(cls._from_plain_json, obj)
    if fast[0] == "ok":
        assert strict == fast, (obj, strict, fast)
    assert cls.from_json(obj, "$.x") == strict[1] if strict[0] == "ok" else True
    if strict[0] == "refused":
        with pytest.raises(MalformedDocument, match=r"\$\.x"):
            cls.from_json(obj, "$.x")


@pytest.mark.parametrize(("cls", "base"), [(C.CertRecord, RECORD), (C.Inclusion, INCLUSION)])
def test_every_field_set_to_every_odd_value(cls: Any, base: dict[str, Any]) -> None:
    agree(cls, base)
    assert cls._from_plain_json(base) == cls._from_json_strict(base, "$")
    for name in base:
        for value in ODD_VALUES:
            agree(cls, {**base, name: value})
        agree(cls, {k: v for k, v in base.items() if k != name})  # missing
    for value in ODD_VALUES:  # inside the lists
        for name in ("parents", "proof", "cosignatures"):
            if name in base:
                obj = copy.deepcopy(base)
                obj[name] = [*obj[name][:1], value]
                agree(cls, obj)


def test_documents_that_are_not_objects() -> None:
    for value in ODD_VALUES:
        agree(C.CertRecord, value)
        agree(C.Inclusion, value)


json_leaf = st.none() | st.booleans() | st.integers(-(2**65), 2**65) | st.text(max_size=70) | st.floats()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RECORD)), json_leaf, st.sampled_from(sorted(INCLUSION)), json_leaf)
def test_random_values_in_any_field(rname: str, rvalue: Any, iname: str, ivalue: Any) -> None:
    agree(C.CertRecord, {**RECORD, rname: rvalue})
    agree(C.Inclusion, {**INCLUSION, iname: ivalue})


# ---------------------------------------------------------------------- whole documents


def document() -> dict[str, Any]:
    """A signed certificate with one ancestor and one recognition (the signatures need not verify here)."""
    record = C.CertRecord._from_plain_json(RECORD)
    ancestor = C.CertRecord._from_plain_json({**RECORD, "id": "0x" + "33" * 32, "parents": []})
    inclusions = [C.Inclusion._from_plain_json({**INCLUSION, "record": r}) for r in (H32, "0x" + "33" * 32)]
    issuer = C.Issuer(1, "SDE", "Shanghai", bytes.fromhex("bb" * 20))
    doc = C.build_unsigned(chain_id=31337, registry=bytes.fromhex("cd" * 20), issuer=issuer, record=record,
                           lineage=[ancestor], evidence=inclusions, issued_at=1_790_000_000,
                           valid_until=1_800_000_000, issued_block=12)
    return C.add_recognition(C.sign(doc, KEY), 2, bytes.fromhex("ee" * 20), PARTNER_KEY, 1_790_000_100)


def plain_document() -> dict[str, Any]:
    """A signed certificate with one ancestor, no recognitions and no cosignatures."""
    record = C.CertRecord._from_plain_json(RECORD)
    ancestor = C.CertRecord._from_plain_json({**RECORD, "id": "0x" + "33" * 32, "parents": []})
    inclusions = [C.Inclusion._from_plain_json({**INCLUSION, "record": r, "cosignatures": []})
                  for r in (H32, "0x" + "33" * 32)]
    issuer = C.Issuer(1, "SDE", "Shanghai", bytes.fromhex("bb" * 20))
    doc = C.build_unsigned(chain_id=31337, registry=bytes.fromhex("cd" * 20), issuer=issuer, record=record,
                           lineage=[ancestor], evidence=inclusions, issued_at=1_790_000_000,
                           valid_until=1_800_000_000, issued_block=12)
    return C.sign(doc, KEY)


DOCUMENTS = {"recognised": document, "plain": plain_document}


def agree_doc(doc: Any) -> None:
    """Where the fast reader of whole documents accepts, the strict one accepts and gives the same content
    (the credential hash included); the strict one alone decides what is refused."""
    try:
        fast = C._parse_plain(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        fast = None
    try:
        strict = C._parse_strict(doc)
    except MalformedDocument:
        strict = None
    if fast is not None:
        assert strict == fast, doc
    compiled = C._parse_compiled(doc)
    if compiled is not None:  # the compiled reader reads only what the fast Python reader reads, the same way
        assert fast is not None and compiled == fast, doc
    if strict is None:
        with pytest.raises(MalformedDocument):
            C._parse(doc)
    else:
        assert C._parse(doc) == strict


def test_the_fast_document_reader_takes_what_this_module_writes() -> None:
    doc = document()
    assert C._parse_plain(doc) == C._parse_strict(doc)
    assert C._parse_plain(doc).credential_hash == C.credential_hash(doc)
    assert len(C._parse_plain(doc).recognitions) == 1


def test_the_compiled_reader_is_built_and_reads_what_this_module_writes() -> None:
    from provenance.core import _speedups  # built by the install (setup.py); the suite requires it

    assert C._speedups is _speedups
    doc = plain_document()
    assert C._parse_compiled(doc) == C._parse_plain(doc) == C._parse_strict(doc)
    assert C._parse_compiled(doc).credential_hash == C.credential_hash(doc)  # type: ignore[union-attr]
    doc = document()  # with a recognition and a cosignature
    assert C._parse_compiled(doc) == C._parse_plain(doc) == C._parse_strict(doc)
    assert C._parse_compiled(doc).recognitions  # type: ignore[union-attr]
    assert C._parse_compiled(doc).evidence[bytes.fromhex(H32[2:])].cosignatures  # type: ignore[union-attr]


@pytest.mark.parametrize("make", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_every_value_of_a_document_set_to_every_odd_value(make: Any) -> None:
    doc = make()
    for path in paths(doc)[1:]:
        for value in DOC_ODD_VALUES:
            agree_doc(replaced(doc, path, value))


@pytest.mark.parametrize("make", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_documents_with_fields_added_removed_or_retyped(make: Any) -> None:
    doc = make()
    for path in paths(doc):
        node = doc
        for step in path:
            node = node[step]
        if isinstance(node, dict):
            agree_doc(replaced(doc, path, {**node, "extra": "x"}))  # an extension field
            agree_doc(replaced(doc, path, {**node, "extra": 1.5}))  # one canonical JSON refuses
            agree_doc(replaced(doc, path, Obj(node)))
            for k in node:
                agree_doc(replaced(doc, path, {n: v for n, v in node.items() if n != k}))
        elif isinstance(node, list):
            agree_doc(replaced(doc, path, [*node, 1.5]))
            agree_doc(replaced(doc, path, [*node, node[0]] if node else ["x"]))
            agree_doc(replaced(doc, path, node[1:]))
            agree_doc(replaced(doc, path, tuple(node)))
        elif isinstance(node, str):
            agree_doc(replaced(doc, path, Text(node)))


@pytest.mark.parametrize("make", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_verification_methods_of_every_near_form(make: Any) -> None:
    doc = make()
    method = doc["proof"][0]["verificationMethod"]
    prefix, address = method.split("#")[0].rsplit(":", 1)
    variants = [method.replace("#blockchainAccountId", "#blockchainAccountIX"),
                method.replace("#blockchainAccountId", "?blockchainAccountId"),
                method.replace("#blockchainAccountId", "#blockchainaccountid"), method + " ", " " + method,
                method.replace("did:pkh:", "did:pkH:"), method.replace(":31337:", ":31338:"),
                method.replace(":31337:", ":031337:"), method.replace(address, address.upper().replace("0X", "0x")),
                method.replace(address, address[:-1]), method.replace(address, address + "0"),
                method.replace(address, address[:-2] + "g0"), method.replace("eip155", "eip156"),
                f"{prefix}:{address}", method.replace("#", "##")]
    for value in variants:
        agree_doc(replaced(doc, ("proof", 0, "verificationMethod"), value))


@pytest.mark.parametrize("chain_id", [1, 2**53 - 1, 2**53, 2**64 - 1, 2**64, -1, True])
@pytest.mark.parametrize("make", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_a_document_bound_to_any_chain_id(chain_id: Any, make: Any) -> None:
    """The chain id appears in the binding and in every verification method: changed together, the readers
    still agree (the integers canonical JSON carries end at 2**53 - 1)."""
    doc = copy.deepcopy(make())
    doc["evidence"][0]["chainId"] = chain_id
    for p in doc["proof"]:
        p["verificationMethod"] = p["verificationMethod"].replace(":31337:", f":{chain_id}:")
    agree_doc(doc)
    assert (C._parse_plain(doc).chain_id == chain_id) if 0 < chain_id < 2**53 and chain_id is not True else True
