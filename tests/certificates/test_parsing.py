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

H32 = "0x" + "ab" * 32
RECORD: dict[str, Any] = {
    "id": H32, "registrar": 1, "owner": 7, "kind": "product", "grade": "general", "source": "enterprise",
    "rights": 3, "contentHash": "0x" + "11" * 32, "metadataHash": "0x" + "22" * 32, "supersedes": "0x" + "00" * 32,
    "parents": ["0x" + "33" * 32, "0x" + "44" * 32], "status": "active", "blockNumber": 9, "batched": True,
}
INCLUSION: dict[str, Any] = {
    "type": "TransparencyLogInclusion", "record": H32, "exchange": 1, "leafIndex": 4, "leafHash": "0x" + "55" * 32,
    "treeSize": 10, "root": "0x" + "66" * 32, "proof": ["0x" + "77" * 32, "0x" + "88" * 32], "anchorBlock": 12,
    "anchorTransaction": "0x" + "99" * 32, "checkpointSignature": "0x" + "aa" * 65,
    "cosignatures": [{"witness": 2, "signer": "0x" + "bb" * 20, "signature": "0x" + "cc" * 65}],
}

# Values at and around every bound and of every wrong shape the readers must tell apart.
ODD_VALUES = [
    None, True, False, 0, 1, 2, 7, 8, -1, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000, 2**64 - 1, 2**64, 1.0, "1",
    "", "0x", "0X" + "ab" * 32, H32, H32.upper().replace("0X", "0x"), "0x" + "ab" * 31, "0x" + "ab" * 33,
    "0x" + "ab" * 20, "0x" + "ab" * 19 + "a", "0x" + "ab" * 15 + " " + "ab" * 17, "0x" + "ab" * 16 + " " + "ab" * 16,
    " " + H32, H32 + " ", "0x" + "zz" * 32, "0x" + "ab" * 65, "0xab", "0x abcd", "product", "resource", "Product",
    "general", "core", "enterprise", "active", "revoked", "TransparencyLogInclusion", [], [H32], [H32] * 256,
    ["0x12"], [H32, 5], {}, {"witness": 2}, [{"witness": 2, "signer": "0x" + "bb" * 20, "signature": "0x01"}],
    [{"witness": 2, "signer": "0x" + "bb" * 19, "signature": "0x01"}],
    [{"witness": 2, "signer": "0x" + "bb" * 10 + " " + "bb" * 10, "signature": "0x01"}],
    [{"witness": True, "signer": "0x" + "bb" * 20, "signature": "0x01"}],
]


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
