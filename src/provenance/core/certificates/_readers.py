"""The fast readers of a certificate's scalar fields, shared by the document and its property member: exact types,
exact widths, and nothing :func:`bytes.fromhex` would let through (they raise; the caller names the path)."""

from __future__ import annotations

from typing import Any


def _h32(value: Any) -> bytes:
    if type(value) is not str or len(value) != 66 or value[:2] != "0x":
        raise TypeError
    raw = bytes.fromhex(value[2:])
    if len(raw) != 32:
        raise ValueError
    return raw


def _uint(value: Any, hi: int, lo: int = 0) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise TypeError
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError
    return value
