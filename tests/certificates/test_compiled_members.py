"""The compiled readers of the two members the compiled certificate reader does not read itself (credentialStatus
and credentialSubject.property) answer as the Python plain readers do: the status reader the same verdict on
every value, the property reader either nothing (the Python reader then decides) or exactly the Python reader's
state."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core.certificates import _compiled
from provenance.core.certificates.document import _status_plain
from provenance.core.certificates.property import PropertyState
from provenance.core.status_list import ENTRY_KEYS, ENTRY_TYPE, PURPOSES
from tests.support.parsing import DOC_ODD_VALUES, H32, Obj, Text

# The compiled module as verification configures it (a differential test of it: .ci/run's pass without the compiled
# module leaves this file out, as it does tests/core/test_speedups.py).
SPEEDUPS: Any = _compiled.speedups()


def test_this_build_reads_both_members() -> None:
    assert SPEEDUPS is not None and _compiled._C_READS_MEMBERS

URL = "http://127.0.0.1:8080/api/v1/status-lists/SDE/"
STATUS = [{"id": f"{URL}{p}#17", "type": ENTRY_TYPE, "statusPurpose": p, "statusListIndex": "17",
           "statusListCredential": f"{URL}{p}"} for p in PURPOSES]
PROPERTY = {"holder": 3, "rights": 1, "metadataHash": H32, "underDispute": False, "encumbrances": [],
            "assessments": []}
INDEXES = ["0", "1", "00", "01", "10", "9999999999", "10000000000", "", " 1", "1 ", "+1", "-1", "1a", "\u0661",
           "\uff11", "1\u0000", "0x1", "1.0", "１"]


def c_status(value: Any) -> bool:
    return bool(SPEEDUPS.status_plain(value))


def variants_of_status() -> list[Any]:
    out: list[Any] = [STATUS, STATUS[:1], [*STATUS, STATUS[0]], STATUS[::-1], tuple(STATUS), {}, None, "", []]
    for i in range(len(STATUS)):
        for key in sorted(ENTRY_KEYS):
            for value in [*DOC_ODD_VALUES, *INDEXES, ENTRY_TYPE, *PURPOSES, Text(ENTRY_TYPE), Text("17")]:
                doc = copy.deepcopy(STATUS)
                doc[i][key] = value
                out.append(doc)
            doc = copy.deepcopy(STATUS)
            del doc[i][key]
            out.append(doc)
        doc = copy.deepcopy(STATUS)
        doc[i]["extra"] = "x"
        out.append(doc)
        doc = copy.deepcopy(STATUS)
        doc[i] = Obj()
        out.append(doc)
    return out


def test_the_status_reader_agrees_on_every_value() -> None:
    assert c_status(STATUS) and _status_plain(STATUS)
    variants = variants_of_status()
    assert sum(map(_status_plain, variants)) > 20  # the variants include many plain ones (every index accepted)
    for value in variants:
        assert c_status(value) == _status_plain(value), value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12), st.sampled_from(sorted(ENTRY_KEYS)), st.integers(0, len(PURPOSES) - 1))
def test_the_status_reader_agrees_on_any_text(text: str, key: str, i: int) -> None:
    doc = copy.deepcopy(STATUS)
    doc[i][key] = text
    assert c_status(doc) == _status_plain(doc)


def agree_property(value: Any) -> Any:
    common = SPEEDUPS.property_plain(value)
    python = _compiled._property_plain({"property": value})
    if common is not None:
        assert python == _compiled._property_state(*common), value
        assert type(python.metadata_hash) is bytes and type(python.holder) is int  # type: ignore[union-attr]
    return common


def test_the_property_reader_answers_only_as_the_python_reader() -> None:
    assert agree_property(PROPERTY) is not None
    answered = 0
    for key in PROPERTY:
        for value in [*DOC_ODD_VALUES, [{"pledgee": 1}], [{}], 4294967295, 4294967296]:
            answered += agree_property({**PROPERTY, key: value}) is not None
        assert agree_property({k: v for k, v in PROPERTY.items() if k != key}) is None
    assert answered > 10
    for extra in ({"expiresAt": "2030-01-01T00:00:00Z"}, {"other": 1}):
        assert agree_property({**PROPERTY, **extra}) is None
    for value in (None, [], "x", Obj(), list(PROPERTY.items())):
        assert agree_property(value) is None


def test_a_property_the_compiled_reader_leaves_is_read_by_python() -> None:
    """A term or an encumbrance: the compiled reader answers nothing, the Python reader reads it, and the
    certificate's state is the Python reader's."""
    stated = {**PROPERTY, "expiresAt": "2030-01-01T00:00:00Z",
              "encumbrances": [{"pledgee": 2, "amount": "100", "currency": "CNY", "until": "2029-01-01T00:00:00Z"}]}
    assert agree_property(stated) is None
    doc = {"credentialSubject": {"id": "x", "record": {}, "lineage": [], "property": stated}}
    _, state = _compiled._bare(doc)
    assert state == PropertyState._from_plain_json(stated) and state.expires_at > 0 and state.encumbrances


@settings(max_examples=300, deadline=None)
@given(st.integers(-2, 2**33), st.integers(-1, 9), st.booleans())
def test_the_property_reader_agrees_on_any_numbers(holder: int, rights: int, dispute: bool) -> None:
    agree_property({**PROPERTY, "holder": holder, "rights": rights, "underDispute": dispute})
