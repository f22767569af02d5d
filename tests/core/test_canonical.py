"""Canonical JSON: RFC 8785 byte for byte (the ``rfc8785`` package on any document, the RFC's own examples), the
same bytes as json.dumps with sorted keys where code point order is UTF-16 order, and a refusal, naming where, of
what JSON cannot carry exactly."""

from __future__ import annotations

import enum
import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core.canonical import MalformedDocument, canonical_json, sha256_json


def reference(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # any Unicode but surrogates
# Within the Basic Multilingual Plane code point order is UTF-16 order, so json.dumps(sort_keys=True) is RFC 8785.
bmp_keys = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0xFFFF), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(bmp_keys, inner, max_size=5),
    max_leaves=40,
)
# Names where the two orders part: characters above U+FFFF (UTF-16 surrogate pairs, 0xD800-0xDFFF) beside
# characters of U+E000-U+FFFF (private use, CJK compatibility, half-width forms), with ASCII and CJK among them.
tricky_chars = st.sampled_from("aZ1\r€ö\x80中文\ue000\uf8ff\ufb33\uff61\ufffd😀𠀀\U0010ffff")
tricky_keys = st.text(alphabet=tricky_chars, max_size=4) | text
any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(tricky_keys, inner, max_size=6),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(any_json)
def test_rfc8785_on_any_document(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


# RFC 8785 section 3.2.3 (sorting of object properties): its input (the RFC writes the emoji as the JSON escape
# pair \\ud83d\\ude00, which is this one character) and the serialisation it gives for it.
RFC8785_SORTING = {
    "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
    "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis",
}


def test_rfc8785_sorting_example() -> None:
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With '
                'Diaeresis","\u20ac":"Euro Sign","\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter '
                'Dalet With Dagesh"}').encode()
    assert canonical_json(RFC8785_SORTING) == expected == rfc8785.dumps(RFC8785_SORTING)
    assert list(json.loads(expected)) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc8785_serialization_example_without_its_numbers() -> None:
    """RFC 8785 section 3.2.2's example with its "numbers" member left out (this writer refuses floats)."""
    text = '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
    expected = b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_json(json.loads(text)) == expected == rfc8785.dumps(json.loads(text))


def test_non_ascii_names_sorted_by_utf16_code_units() -> None:
    value = {"\ue000": 1, "😀": 2, "a": {"\uff61": [{"𠀀": 0, "\ufffd": 1}], "中": 3}, "é": None}
    assert canonical_json(value) == (
        '{"a":{"中":3,"\uff61":[{"𠀀":0,"\ufffd":1}]},"é":null,"😀":2,"\ue000":1}'.encode())
    assert canonical_json(value) == rfc8785.dumps(value)
    assert sha256_json(value) == hashlib.sha256(rfc8785.dumps(value)).digest()


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_the_same_bytes_as_the_reference(value: Any) -> None:
    assert canonical_json(value) == reference(value)


def test_escapes_and_order_match_the_reference() -> None:
    value = {"b": "\x00\x08\t\n\x0c\r\x1f\"\\/\x7f\u2028\u2029é😀", "a": [True, False, None, -(2**53) + 1, 0],
             "A": {}, "": [], "aa": {"z": 1, "Z": 2, "é": 3, "😀": 4}}
    assert canonical_json(value) == reference(value)


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


def test_subclasses_of_the_json_types_are_written_as_their_values() -> None:
    value = OrderedDict([("b", Colour.RED), ("a", Name("x"))])
    assert canonical_json(value) == b'{"a":"x","b":1}'


@pytest.mark.parametrize(("value", "where"), [
    ({"a": [1, 1.5]}, r"\$\.a\[1\]: float"),
    ({"a": {"b": float("nan")}}, r"\$\.a\.b: float"),
    ({"n": 2**53}, r"\$\.n: integer"),
    ([-(2**53)], r"\$\[0\]: integer"),
    ({"a": {1: "x"}}, r"\$\.a: object keys must be strings"),
    ({"a": (1, 2)}, r"\$\.a: tuple"),
    ({"a": b"x"}, r"\$\.a: bytes"),
])
def test_what_json_cannot_carry_exactly_is_refused(value: Any, where: str) -> None:
    with pytest.raises(MalformedDocument, match=where):
        canonical_json(value)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(MalformedDocument):
        sha256_json({"a": "\ud800"})


JCS = json.loads((Path(__file__).parent / "vectors/rfc8785-cyberphone.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(JCS["cases"]))
def test_the_rfc8785_authors_test_data(name: str) -> None:
    """The reference implementations' own cases: the same bytes, or, where the input holds a float, a refusal
    (this writer carries no floats) while the rfc8785 package gives the published bytes."""
    case = JCS["cases"][name]
    value = json.loads(case["input"])
    expected = bytes.fromhex(case["output_hex"])
    assert rfc8785.dumps(value) == expected
    if name in ("structures", "values"):
        with pytest.raises(MalformedDocument, match="float values are not allowed"):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected
