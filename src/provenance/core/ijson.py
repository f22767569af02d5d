"""I-JSON (RFC 7493): the one reader of every JSON document the node takes from outside. No I/O.

RFC 8259 leaves repeated member names, lone surrogates, the range of numbers and the depth of nesting to each
implementation; I-JSON makes them errors, so that two readers of the same bytes read the same value (RFC 8785,
which the credential hash follows, takes I-JSON input). This reader refuses, each with a named error
(:mod:`provenance.errors`):

* nesting deeper than ``max_depth`` (:data:`MAX_DEPTH`), found by a scan of the text that recurses nowhere,
  *before* any parser runs (:class:`NestingTooDeep`). The standard library's decoder recurses once a level in
  C, guarded only by the interpreter's recursion limit, which py_ecc (imported through py-evm) raises to 100,000
  at import: enough levels to overflow the C stack and kill the process. So the limit here never depends on it;
* a member name repeated within one object, naming the key and the object's path (RFC 7493 section 2.3,
  :class:`DuplicateKey`);
* text that is not UTF-8 and lone surrogates, escaped or not (section 2.1);
* NaN, Infinity (not JSON at all, but Python's decoder takes them) and numbers beyond a double's range (section
  2.2), and integers beyond ``max_int``: :data:`EXACT_INT` (2**53 - 1, what section 2.2 calls interoperable) for
  documents hashed as canonical JSON, whose hashing refuses larger ones anyway (else only beyond the
  interpreter's 4,300-digit limit);
* more than ``max_bytes`` of text (:class:`DocumentTooLarge`), where the caller states a limit.

Speed matters: this runs on every request body and before every certificate verification. The depth scan is a
few C-level bytes methods over the text and, only where it holds more openers than the limit, a linear
regular-expression match; the parse is the standard library's C decoder with an ``object_pairs_hook``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections import deque
from typing import Any

from provenance.errors import DocumentTooLarge, DuplicateKey, MalformedJson, NestingTooDeep

MAX_DEPTH = 64
"""Nesting accepted by default: arrays and objects, the outermost counting 1. A certificate nests 5 levels, a
snapshot 5, an API body at most 7 (a certificate and a snapshot inside an offline verification request)."""
EXACT_INT = 2**53 - 1
"""The integers I-JSON carries exactly (RFC 7493 section 2.2): the bound for documents hashed as canonical JSON."""

# Brackets and quotes are all the depth scan looks at: one translate keeps them, with { and } made [ and ] (a
# mismatched pair is a syntax error the parser stops at, so it may count as a pair).
_UNIFY = bytes.maketrans(b"{}", b"[]")
_OTHER_BYTES = bytes(b for b in range(256) if b not in b'[]{}"')
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.cache
def _nesting(max_depth: int) -> re.Pattern[bytes]:
    """Whole groups of brackets nested at most ``max_depth`` deep (none at 0). The quantifiers are possessive:
    the match never backs up, so it is linear in the text and keeps no state per bracket."""
    pattern = b""
    for _ in range(max_depth):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return re.compile(pattern)


def loads(data: bytes | bytearray | memoryview | str, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None,
          max_int: int | None = None, what: str = "the document") -> Any:
    """The value of the I-JSON text ``data``; a :class:`~provenance.errors.MalformedJson` (or
    :class:`~provenance.errors.DocumentTooLarge`) naming what is wrong, with ``what`` as the subject.

    ``max_int`` bounds integers (:data:`EXACT_INT` for documents hashed as canonical JSON); without it an integer
    is refused only beyond the interpreter's digit limit (4,300 digits)."""
    if isinstance(data, str):
        text = data
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedJson(f"{what} holds a lone surrogate (I-JSON, RFC 7493 section 2.1)") from None
    else:
        raw = bytes(data)
        text = ""
    if max_bytes is not None and len(raw) > max_bytes:
        raise DocumentTooLarge(f"{what} is {len(raw)} bytes, more than the {max_bytes} accepted",
                               size=len(raw), limit=max_bytes)
    check_depth(raw, max_depth, what)
    if not text:
        try:
            text = raw.decode("utf-8")  # strict: I-JSON is UTF-8 (no UTF-16), and encoded surrogates are not UTF-8
        except UnicodeDecodeError as exc:
            raise MalformedJson(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if text[:1] == "\ufeff":
        raise MalformedJson(f"{what} starts with a byte order mark, which I-JSON text does not carry")
    try:
        value = _decoder(max_int).decode(text)
    except _Duplicate:
        raise _duplicate_error(text, what) from None
    except _Refused as exc:
        raise MalformedJson(f"{what}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"{what} is not JSON: {exc}") from None
    except ValueError:  # int() beyond the interpreter's digit limit
        raise MalformedJson(f"{what} holds an integer of more than {sys.get_int_max_str_digits()} digits") from None
    if b"\\" in raw and _ESCAPED_SURROGATE.search(raw) and _has_lone_surrogate(value):
        raise MalformedJson(f"{what} holds a lone surrogate (I-JSON, RFC 7493 section 2.1)")
    return value


def check_depth(raw: bytes, max_depth: int = MAX_DEPTH, what: str = "the document") -> None:
    """Refuse (:class:`NestingTooDeep`) a JSON text that nests deeper than ``max_depth``, parsing nothing.

    Brackets inside strings do not count. Escapes go first: escaped backslashes, then escaped quotes (left to
    right, as a JSON reader pairs them), so every quote left delimits a string and the brackets outside every
    second pair of quotes are the structure. A text that is not JSON is judged by its valid prefix, which is all a
    parser ever descends into: past the first error the count may only err upwards, into the slow path.
    """
    s = raw.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in raw else raw
    marks = s.translate(_UNIFY, _OTHER_BYTES)
    if marks.count(b"[") <= max_depth:  # the common case: fewer openers than the limit, even counting strings'
        return
    brackets = b"".join(marks.split(b'"')[::2])
    if brackets.count(b"[") <= max_depth:
        return
    # Each match takes, in C and without backing up, every whole group that fits under the current level; what
    # stops it is an opener that goes one level deeper, a closer, or the end. Past the first group that does not
    # fit the walk only descends (a group it enters either never closes or is too deep), so it loops at most
    # max_depth + 1 times whatever the text.
    level, pos, end = 0, 0, len(brackets)
    while True:
        pos = _nesting(max_depth - level).match(brackets, pos).end()  # type: ignore[union-attr]
        if pos == end:
            return  # balanced, or groups left open at the end: a parser stops there, no deeper than the limit
        if brackets[pos] == 0x5B:  # "["
            level += 1
            if level > max_depth:
                raise NestingTooDeep(f"{what} nests more than {max_depth} levels deep (arrays and objects, from "
                                     f"the outermost)", depth=level, limit=max_depth)
        elif level == 0:
            return  # a closer with nothing open: a parser stops there
        else:
            level -= 1
        pos += 1


@functools.lru_cache(maxsize=8)
def _decoder(max_int: int | None) -> json.JSONDecoder:
    return json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_float,
                            parse_int=None if max_int is None else _bounded(max_int))


# ---------------------------------------------------------------------- parser hooks


class _Duplicate(Exception):
    """A repeated name inside the parse; :func:`_duplicate_error` finds its path afterwards."""


class _Refused(Exception):
    """A number or constant I-JSON refuses."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (I-JSON, RFC 7493 section 2.2)")


def _float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _Refused(f"the number {token[:40]} is beyond the range of a double (I-JSON, RFC 7493 section 2.2)")
    return value


def _bounded(max_int: int) -> Any:
    digits = len(str(max_int))

    def parse(token: str) -> int:
        if len(token) > digits + 1:  # beyond the bound whatever the digits; int() of 5,000 digits refuses anyway
            raise _Refused(f"an integer of {len(token)} digits is beyond {_bound_text(max_int)}")
        value = int(token)
        if not -max_int <= value <= max_int:
            raise _Refused(f"the integer {token[:40]}{'...' if len(token) > 40 else ''} is beyond "
                           f"{_bound_text(max_int)}")
        return value

    return parse


def _bound_text(max_int: int) -> str:
    return "+-(2**53 - 1), the range I-JSON numbers carry exactly" if max_int == EXACT_INT else f"+-{max_int}"


# ---------------------------------------------------------------------- naming what is wrong (slow, rare)


class _Pairs(list):  # type: ignore[type-arg]
    """An object as its members in order, kept to find a repeated name and where it is."""


def _duplicate_error(text: str, what: str) -> MalformedJson:
    tree = json.loads(text, object_pairs_hook=_Pairs)  # parsed once already; depth checked
    if "\\" in text and _ESCAPED_SURROGATE.search(text.encode()) and _has_lone_surrogate(tree):
        # Named first: a name holding a lone surrogate could not even be quoted back in a UTF-8 answer.
        return MalformedJson(f"{what} holds a lone surrogate (I-JSON, RFC 7493 section 2.1)")
    queue: deque[tuple[Any, str]] = deque([(tree, "$")])
    while queue:
        node, path = queue.popleft()  # breadth first: the outermost repetition is named
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, value in node:
                if key in seen:
                    return DuplicateKey(f"{what} repeats the key {key!r} in the object at {path} (I-JSON, RFC 7493 "
                                        f"section 2.3: member names are unique)", key=key, path=path)
                seen.add(key)
                queue.append((value, f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"))
        elif isinstance(node, list):
            queue.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
    raise AssertionError("a repeated key was reported but not found")  # pragma: no cover - the parse found one


def _has_lone_surrogate(value: Any) -> bool:
    """True if any string or key holds a surrogate code point (json decodes an escaped pair to one character, so
    any surrogate left is alone)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):  # tuples: the members of a _Pairs object
            stack.extend(node)
    return False
