"""canonical.py's strict readers (field, as_int, as_str, as_bool, as_list, as_hex) at their bounds with exact
messages, the checker's paths and limits, and which documents take the fast writer."""

from __future__ import annotations

import enum
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

from provenance.core import canonical
from provenance.core.canonical import MalformedDocument, as_bool, as_hex, as_int, as_list, as_str, field, hex0x

MAX = 2**53 - 1


def refusal(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(MalformedDocument) as info:
        fn(*args, **kw)
    assert type(info.value) is MalformedDocument
    return str(info.value)


class Big(int):
    pass


class Flag(enum.IntEnum):
    ON = 1


@pytest.mark.parametrize(("value", "plain"), [
    ({}, True), ([], True), (None, True), ("é", True), (True, True), (MAX, True), (-MAX, True),
    ({"a": [1, {"b": None, "c": [True, "x"]}], "d": {}}, True), ([[[[]]]], True), ({"a": -MAX, "b": MAX}, True),
    (MAX + 1, False), (-MAX - 1, False), ({"a": [MAX + 1]}, False), ({"é": 1}, False), ({"a": {"中": 1}}, False),
    ({1: 1}, False), ({"a": 1.0}, False), ([Big(1)], False), ({"a": Flag.ON}, False), (OrderedDict(a=1), False),
    ((1,), False), ({"a": (1,)}, False), ([1, 2, b"x"], False), (1.5, False), ("s", True), ([None, False], True),
])
def test_which_documents_take_the_fast_writer(value: Any, plain: bool) -> None:
    assert canonical._plain_json(value) is plain


def test_the_checker_accepts_subclasses_up_to_the_exact_limit() -> None:
    assert canonical.canonical_json({"a": Big(MAX), "b": [Big(-MAX)]}) == (
        b'{"a":9007199254740991,"b":[-9007199254740991]}')
    assert refusal(canonical.canonical_json, {"a": [Big(MAX + 1)]}) == (
        "$.a[0]: integer 9007199254740992 is outside the range JSON numbers carry exactly")
    assert refusal(canonical.canonical_json, {"a": {"b": [0, Big(-MAX - 1)]}}) == (
        "$.a.b[1]: integer -9007199254740992 is outside the range JSON numbers carry exactly")
    assert refusal(canonical.canonical_json, {"é": [1, {"x": 1.5}]}) == (
        "$.é[1].x: float values are not allowed (only JSON without floats)")
    assert refusal(canonical.canonical_json, [{"a": {2: 1}}]) == "$[0].a: object keys must be strings"
    assert canonical.canonical_json(MAX) == b"9007199254740991"
    assert canonical.canonical_json([-MAX]) == b"[-9007199254740991]"
    assert canonical.canonical_json(OrderedDict([("b", 1), ("a", 2)])) == b'{"a":2,"b":1}'
    assert canonical.canonical_json({"é": OrderedDict([("b", [Flag.ON]), ("a", None)])}) == (
        '{"é":{"a":null,"b":[1]}}'.encode())


def test_unrepresentable_strings_are_refused_on_both_paths() -> None:
    for doc in ({"a": "\udc00"}, {"é": "\ud800"}, {"\ud800": 1}, {"a": 1, "\udfff": [1]}):
        assert refusal(canonical.canonical_json, doc).startswith("$: not representable as canonical JSON: ")


def test_field() -> None:
    assert field({"a": 0}, "a", "$") == 0
    assert field(MappingProxyType({"a": None}), "a", "$") is None
    assert field(OrderedDict(a=2), "a", "$") == 2
    assert refusal(field, {"b": 1}, "a", "$.doc") == "$.doc.a is missing"
    assert refusal(field, [1], "a", "$.doc") == "$.doc must be an object"
    assert refusal(field, None, "a", "$") == "$ must be an object"


def test_as_int() -> None:
    assert as_int(0, "n") == 0
    assert as_int(2**64 - 1, "n") == 2**64 - 1
    assert as_int(Flag.ON, "n") == 1
    assert as_int(Big(5), "n", lo=5, hi=5) == 5
    assert as_int(-3, "n", lo=-3, hi=-3) == -3
    assert refusal(as_int, -1, "$.n") == "$.n must be an integer in [0, 18446744073709551615], got -1"
    assert refusal(as_int, 2**64, "$.n") == (
        "$.n must be an integer in [0, 18446744073709551615], got 18446744073709551616")
    assert refusal(as_int, 4, "n", lo=1, hi=3) == "n must be an integer in [1, 3], got 4"
    assert refusal(as_int, 0, "n", lo=1, hi=3) == "n must be an integer in [1, 3], got 0"
    assert refusal(as_int, True, "n") == "n must be an integer in [0, 18446744073709551615], got True"
    assert refusal(as_int, "1", "n") == "n must be an integer in [0, 18446744073709551615], got '1'"
    assert refusal(as_int, 1.0, "n") == "n must be an integer in [0, 18446744073709551615], got 1.0"
    assert refusal(as_int, Big(4), "n", lo=1, hi=3) == "n must be an integer in [1, 3], got 4"
    assert refusal(as_int, Big(0), "n", lo=1, hi=3) == "n must be an integer in [1, 3], got 0"


class Name(str):
    pass


def test_as_str_bool_list() -> None:
    assert as_str("", "s") == "" and as_str(Name("x"), "s") == "x"
    assert refusal(as_str, 1, "$.s") == "$.s must be a string, got int"
    assert refusal(as_str, None, "$.s") == "$.s must be a string, got NoneType"
    assert as_bool(True, "b") is True and as_bool(False, "b") is False
    assert refusal(as_bool, 1, "$.b") == "$.b must be true or false"
    assert refusal(as_bool, "true", "$.b") == "$.b must be true or false"
    assert as_list([], "l") == [] and as_list([1], "l") == [1]
    assert refusal(as_list, (1,), "$.l") == "$.l must be an array"
    assert refusal(as_list, {}, "$.l") == "$.l must be an array"


def test_as_hex() -> None:
    assert as_hex("0x", "h") == b""
    assert as_hex("0x00ff", "h") == b"\x00\xff"
    assert as_hex("0xABcd", "h", 2) == b"\xab\xcd"
    assert as_hex("0x" + "11" * 32, "h", 32) == b"\x11" * 32
    assert as_hex(Name("0x01"), "h", 1) == b"\x01"
    assert refusal(as_hex, "00ff", "$.h") == "$.h must be 0x-prefixed hex"
    assert refusal(as_hex, "0X00", "$.h") == "$.h must be 0x-prefixed hex"
    assert refusal(as_hex, "0x0g", "$.h") == "$.h is not valid hex"
    assert refusal(as_hex, "0x0", "$.h") == "$.h is not valid hex"
    assert refusal(as_hex, "0x00 11", "$.h") == "$.h is not valid hex"  # fromhex would skip the space
    assert refusal(as_hex, "0x 0011", "$.h") == "$.h is not valid hex"
    assert refusal(as_hex, "0x0011", "$.h", 3) == "$.h must be 3 bytes, got 2"
    assert refusal(as_hex, "0x001122", "$.h", 2) == "$.h must be 2 bytes, got 3"
    assert refusal(as_hex, 5, "$.h") == "$.h must be a string, got int"
    assert hex0x(b"") == "0x" and hex0x(b"\x00\xab") == "0x00ab"
