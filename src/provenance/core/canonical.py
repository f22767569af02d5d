"""Canonical JSON for hashing and signing documents, and strict parsing of the values they carry.

``canonical_json`` is the JSON Canonicalization Scheme (RFC 8785) restricted to what these documents hold:
objects, arrays, strings, integers, booleans and null. Keys are sorted, no insignificant whitespace, UTF-8.
Floats are refused rather than canonicalised: nothing here needs them, and their text forms are where JCS
implementations disagree. With ASCII keys (all of ours) sorting by code point equals RFC 8785's UTF-16 order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from provenance.errors import InvalidInput


class MalformedDocument(InvalidInput):
    """Raised when a document is not well-formed: a missing or mistyped field, or a value out of range."""


def canonical_json(value: Any) -> bytes:
    _check_canonicalisable(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def sha256_json(value: Any) -> bytes:
    return hashlib.sha256(canonical_json(value)).digest()


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
    if not isinstance(obj, Mapping):
        raise MalformedDocument(f"{path} must be an object")
    if name not in obj:
        raise MalformedDocument(f"{path}.{name} is missing")
    return obj[name]


def as_int(value: Any, path: str, *, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MalformedDocument(f"{path} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def as_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
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
    """A 0x-prefixed lower- or upper-case hex string of ``size`` bytes (any size if None)."""
    text = as_str(value, path)
    if not text.startswith("0x"):
        raise MalformedDocument(f"{path} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        raise MalformedDocument(f"{path} is not valid hex") from None
    if size is not None and len(raw) != size:
        raise MalformedDocument(f"{path} must be {size} bytes, got {len(raw)}")
    return raw


def hex0x(raw: bytes) -> str:
    return "0x" + raw.hex()
