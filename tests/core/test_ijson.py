"""The I-JSON reader (provenance.core.ijson): the depth scan against a reference lexer on any text, the values
against orjson (an independent parser) and the standard library, and each refusal of RFC 7493 named."""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core import ijson
from provenance.errors import DocumentTooLarge, DuplicateKey, InvalidInput, MalformedJson, NestingTooDeep


def reference_depth(text: bytes) -> int:
    """The deepest nesting a JSON parser can descend into: a character lexer (strings, their escapes), stopping
    where a parser must stop - a backslash outside a string, or a closer with nothing open."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c == 0x5C:
            break
        elif c in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in b"]}":
            if depth == 0:
                break
            depth -= 1
    return deepest


def nested(depth: int, kind: str = "[") -> bytes:
    if kind == "[":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def value_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(value_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(value_depth, value), default=0)
    return 0


# ---------------------------------------------------------------------- depth


@pytest.mark.parametrize("kind", ["[", "{"])
def test_the_limit_is_exact_for_arrays_and_objects(kind: str) -> None:
    assert value_depth(ijson.loads(nested(ijson.MAX_DEPTH, kind))) == ijson.MAX_DEPTH
    with pytest.raises(NestingTooDeep) as err:
        ijson.loads(nested(ijson.MAX_DEPTH + 1, kind))
    assert err.value.limit == ijson.MAX_DEPTH and "64" in err.value.message
    assert isinstance(err.value, InvalidInput)  # exit code 2 on the command line, 422 over HTTP


@pytest.mark.parametrize("depth", [65, 1024, 1025, 70_000, 100_000, 1_000_000])
def test_the_reproduction_of_the_crash_is_refused_before_parsing(depth: int) -> None:
    # py_ecc, imported by the node, raised the recursion limit: the standard decoder alone would crash here.
    import py_ecc  # noqa: F401

    assert sys.getrecursionlimit() >= 100_000
    for text in (nested(depth), b"[" * depth, b'{"k":' * depth, b"[" * depth + b"x"):
        with pytest.raises(NestingTooDeep):
            ijson.loads(text)
    assert ijson.loads(nested(10)) == json.loads(nested(10))


def test_brackets_inside_strings_do_not_count() -> None:
    doc = json.dumps({"a": ["[" * 500, "{" * 500, '\\"[[[[', "\\" * 7 + "[" * 300]}).encode()
    assert ijson.loads(doc) == json.loads(doc)
    assert ijson.loads(doc, max_depth=2) == json.loads(doc)
    with pytest.raises(NestingTooDeep):
        ijson.loads(doc, max_depth=1)


def test_escaped_quotes_cannot_hide_structure() -> None:
    # Every second quote here is escaped: a scanner that paired quotes naively would see strings where the
    # parser sees 100 levels of arrays.
    hidden = b'["\\"", ' * 100 + b"1" + b"]" * 100
    assert reference_depth(hidden) == 100
    with pytest.raises(NestingTooDeep):
        ijson.loads(hidden)
    backslashes = b'["\\\\", ' * 100 + b"1" + b"]" * 100  # escaped backslashes before the closing quote
    with pytest.raises(NestingTooDeep):
        ijson.loads(backslashes)


def test_many_shallow_groups_pass_and_one_deep_group_among_them_does_not() -> None:
    wide = b"[" + b"[[[]]]," * 50_000 + b"[]]"
    assert len(ijson.loads(wide)) == 50_001
    deep_among = b"[" + b"[]," * 1000 + nested(ijson.MAX_DEPTH) + b"]"
    with pytest.raises(NestingTooDeep):
        ijson.loads(deep_among)
    at_limit = b"[" + b"[]," * 1000 + nested(ijson.MAX_DEPTH - 1) + b"]"
    assert len(ijson.loads(at_limit)) == 1001


def test_unbalanced_texts_are_refused_as_not_json() -> None:
    for text in (b"[[[", b"]]]", b"[}", b"[[]]]" + b"[" * 1000, b"{" * 30, b'["' + b"[" * 1000):
        with pytest.raises(MalformedJson) as err:
            ijson.loads(text)
        assert not isinstance(err.value, NestingTooDeep) or reference_depth(text) > ijson.MAX_DEPTH


ALPHABET = b'[]{}"\\a,: '


@settings(max_examples=3000, deadline=None)
@given(text=st.lists(st.sampled_from(list(ALPHABET)), max_size=120).map(bytes), limit=st.integers(1, 12))
def test_the_scan_never_passes_what_a_parser_could_descend_too_deep_into(text: bytes, limit: int) -> None:
    deepest = reference_depth(text)
    try:
        ijson.check_depth(text, limit)
    except NestingTooDeep:
        # It refuses too much only past where a parser must stop anyway (a backslash outside a string).
        assert deepest > limit or b"\\" in text
    else:
        assert deepest <= limit


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(alphabet='[]{}"\\ab\u00e9\u4e2d\U0001f600'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='ab[{"\\', max_size=3), inner,
                                                                 max_size=4),
    max_leaves=30,
)


@settings(max_examples=1000, deadline=None)
@given(value=json_values, limit=st.integers(1, 8), indent=st.sampled_from([None, 1]), ascii_=st.booleans())
def test_valid_documents_read_as_orjson_reads_them_and_the_limit_is_exact(value: Any, limit: int, indent: int | None,
                                                                          ascii_: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_).encode()
    if value_depth(value) > limit:
        with pytest.raises(NestingTooDeep):
            ijson.loads(text, max_depth=limit)
    else:
        assert ijson.loads(text, max_depth=limit) == orjson.loads(text) == value
        assert ijson.loads(text.decode(), max_depth=limit) == value


# ---------------------------------------------------------------------- duplicate keys


def test_a_repeated_key_is_named_with_its_path() -> None:
    with pytest.raises(DuplicateKey) as err:
        ijson.loads(b'{"credentialSubject": {"record": {"owner": 999, "owner": 3}}}')
    assert err.value.key == "owner" and err.value.path == "$.credentialSubject.record"
    assert "'owner'" in err.value.message and "$.credentialSubject.record" in err.value.message
    with pytest.raises(DuplicateKey) as err:
        ijson.loads(b'{"@context": [1, {"a": 1, "b": 2, "a": 1}]}')  # the same value twice is refused too
    assert err.value.key == "a" and err.value.path == '$["@context"][1]'
    with pytest.raises(DuplicateKey) as err:
        ijson.loads('{"\\u00e9": 1, "é": 2}')  # the same name escaped and not
    assert err.value.key == "é"
    assert ijson.loads(b'{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}')["b"][1] == {"a": 2}
    # A repeated name that is a lone surrogate, or under one, is refused as the surrogate: a name that could not
    # be written back as UTF-8 is never quoted in an error.
    for text in (b'{"\\ud800": 1, "\\ud800": 2}', b'{"\\udfff": {"a": 1, "a": 2}}'):
        with pytest.raises(MalformedJson, match="surrogate") as err:
            ijson.loads(text)
        assert not isinstance(err.value, DuplicateKey)
        err.value.message.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(value=json_values.filter(lambda v: isinstance(v, dict) and v), data=st.data())
def test_any_injected_repetition_is_found(value: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    text = json.dumps(value)[:-1] + f", {json.dumps(key)}: 0}}"
    with pytest.raises(DuplicateKey) as err:
        ijson.loads(text)
    assert err.value.key == key and err.value.path == "$"


# ---------------------------------------------------------------------- strings, numbers, encoding, size


def test_lone_surrogates_are_refused_and_pairs_are_not() -> None:
    for text in (b'"\\ud800"', b'["a", "\\udfff"]', b'{"\\udc00": 1}', b'"\\ud83d x"', b'"\\ude00\\ud83d"'):
        with pytest.raises(MalformedJson, match="surrogate"):
            ijson.loads(text)
        with pytest.raises(orjson.JSONDecodeError):  # the independent parser refuses them too
            orjson.loads(text)
    assert ijson.loads(b'"\\ud83d\\ude00"') == "\U0001f600"
    assert ijson.loads(b'"\\\\ud800"') == "\\ud800"  # an escaped backslash, then plain letters
    with pytest.raises(MalformedJson, match="UTF-8"):
        ijson.loads(b'"\xed\xa0\x80"')  # a surrogate encoded raw is not UTF-8
    with pytest.raises(MalformedJson, match="surrogate"):
        ijson.loads('"\ud800"')


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "[-1E999]"])
def test_numbers_json_cannot_carry_are_refused(text: str) -> None:
    with pytest.raises(MalformedJson, match="RFC 7493"):
        ijson.loads(text)


def test_integer_bounds() -> None:
    exact = ijson.EXACT_INT
    assert ijson.loads(str(exact), max_int=exact) == exact
    assert ijson.loads(str(-exact), max_int=exact) == -exact
    for big in (exact + 1, -exact - 1, 10**40):
        with pytest.raises(MalformedJson, match="2\\*\\*53"):
            ijson.loads(f"[{big}]", max_int=exact)
    assert ijson.loads(str(2**256)) == 2**256  # no bound asked for
    with pytest.raises(MalformedJson, match="digits"):
        ijson.loads("9" * 5000)
    assert ijson.loads("1.5e300") == 1.5e300


def test_encodings_other_than_utf8_and_a_bom_are_refused() -> None:
    for raw in ('{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-32-le"), b'\xef\xbb\xbf{"a": 1}', b"\xff"):
        with pytest.raises(MalformedJson):
            ijson.loads(raw)


def test_size_limit() -> None:
    assert ijson.loads(b"[1, 2]", max_bytes=6) == [1, 2]
    with pytest.raises(DocumentTooLarge) as err:
        ijson.loads(b"[1, 2] ", max_bytes=6, what="the snapshot s.json")
    assert (err.value.size, err.value.limit) == (7, 6) and err.value.message.startswith("the snapshot s.json")


@pytest.mark.parametrize("text", [b"", b"{not json", b"[1,]", b"[] []", b'{"a" 1}', b"\x00"])
def test_syntax_errors_are_malformed_json(text: bytes) -> None:
    with pytest.raises(MalformedJson, match="not JSON"):
        ijson.loads(text, what="the body")


def test_the_reader_is_pure() -> None:
    import subprocess

    code = ("import sys, provenance.core.ijson; "
            "bad = [m for m in ('web3', 'plyvel', 'fastapi', 'eth_tester', 'http.client', 'socket') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
