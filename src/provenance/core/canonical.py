"""Canonical JSON for hashing and signing documents, and strict parsing of the values they carry.

``canonical_json`` is the JSON Canonicalization Scheme (RFC 8785) restricted to what these documents hold:
objects, arrays, strings, integers, booleans and null. Keys are sorted, no insignificant whitespace, UTF-8.
Floats are refused rather than canonicalised: nothing here needs them, and their text forms are where JCS
implementations disagree. Members are sorted by the UTF-16 code units of their names (RFC 8785 section 3.2.3),
which differs from code point order where a name holds a character above U+FFFF (a surrogate pair, 0xD800-0xDFFF)
and another one in U+E000-U+FFFF at the same place: orjson's sorting (code points) is used for documents whose
keys are all ASCII, the common case, and an explicit UTF-16 sort for the rest. Held byte for byte to the
``rfc8785`` package (tests/core/test_canonical.py) and to RFC 8785's own examples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from provenance.errors import InvalidInput


class MalformedDocument(InvalidInput):
    """Raised when a document is not well-formed: a missing or mistyped field, or a value out of range."""


def canonical_json(value: Any) -> bytes:
    try:
        if _plain_json(value):
            # orjson with sorted keys writes exactly what json.dumps(sort_keys=True, separators=(",", ":"),
            # ensure_ascii=False) writes for these values (a test holds the two together), several times faster;
            # with ASCII keys its code point order is RFC 8785's UTF-16 order.
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        _check_canonicalisable(value, "$")  # raises, naming where; or passes for subclasses of the JSON types
        return orjson.dumps(in_canonical_order(value))  # orjson keeps the insertion order it is given
    except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate in a string
        raise MalformedDocument(f"$: not representable as canonical JSON: {exc}") from None


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 compares byte by byte as its code units compare; a lone surrogate is let through here
    # so that orjson refuses it with the document's other encoding errors.
    return name.encode("utf-16-be", "surrogatepass")


def in_canonical_order(value: Any) -> Any:
    """``value`` with every object's members in RFC 8785 order (dicts with str keys): the order the node writes
    the documents it signs in, so that their text reads as it is hashed and a verifier's canonical form needs no
    sorting (the compiled verifier then skips it)."""
    if isinstance(value, dict):
        return {k: in_canonical_order(value[k]) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list):
        return [in_canonical_order(v) for v in value]
    return value


def sha256_json(value: Any) -> bytes:
    return hashlib.sha256(canonical_json(value)).digest()


_MAX_EXACT = 2**53 - 1


def _plain_json(value: Any) -> bool:
    """True if ``value`` is built only of dict (with ASCII str keys), list, str, bool, None and ints JSON carries
    exactly: the common case, checked without recursion. False sends the caller to the exact check."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        container = pop()
        t = type(container)
        if t is dict:
            for k in container:
                if type(k) is not str or not k.isascii():  # a non-ASCII name needs the UTF-16 sort
                    return False
            items = container.values()
        elif t is list:
            items = container
        else:
            items = (container,)
        for v in items:
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is int:
                if -_MAX_EXACT <= v <= _MAX_EXACT:
                    continue
                return False
            if t is dict or t is list:
                push(v)
                continue
            return False
    return True


def _check_canonicalisable(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise MalformedDocument(f"{path}: integer {value} is outside the range JSON numbers carry exactly")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_canonicalisable(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise MalformedDocument(f"{path}: object keys must be strings")
            _check_canonicalisable(v, f"{path}.{k}")
        return
    raise MalformedDocument(f"{path}: {type(value).__name__} values are not allowed (only JSON without floats)")


# ---------------------------------------------------------------------- strict field access


def field(obj: Any, name: str, path: str) -> Any:
    if type(obj) is not dict and not isinstance(obj, Mapping):
        raise MalformedDocument(f"{path} must be an object")
    try:
        return obj[name]
    except KeyError:
        raise MalformedDocument(f"{path}.{name} is missing") from None


def as_int(value: Any, path: str, *, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if type(value) is int and lo <= value <= hi:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MalformedDocument(f"{path} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def as_str(value: Any, path: str) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise MalformedDocument(f"{path} must be a string, got {type(value).__name__}")
    return value


def as_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedDocument(f"{path} must be true or false")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedDocument(f"{path} must be an array")
    return value


def as_hex(value: Any, path: str, size: int | None = None) -> bytes:
    """A 0x-prefixed lower- or upper-case hex string of ``size`` bytes (any size if None), nothing else in it."""
    text = as_str(value, path)
    if not text.startswith("0x"):
        raise MalformedDocument(f"{path} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        raise MalformedDocument(f"{path} is not valid hex") from None
    if 2 * len(raw) + 2 != len(text):  # bytes.fromhex skips whitespace between bytes
        raise MalformedDocument(f"{path} is not valid hex")
    if size is not None and len(raw) != size:
        raise MalformedDocument(f"{path} must be {size} bytes, got {len(raw)}")
    return raw


def hex0x(raw: bytes) -> str:
    return "0x" + raw.hex()
