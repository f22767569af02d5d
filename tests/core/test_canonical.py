"""Canonical JSON: the fast writer gives the same bytes as the reference (json.dumps with sorted keys, no
whitespace, UTF-8) on any document, and refuses what JSON cannot carry exactly, naming where."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core.canonical import MalformedDocument, canonical_json, sha256_json


def reference(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # any Unicode but surrogates
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=40,
)


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
