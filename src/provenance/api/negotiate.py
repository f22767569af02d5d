"""Content negotiation as RFC 9110 section 12 defines it: the Accept header's media ranges and the Accept-Encoding
header's codings, each with its quality value, compared whole and case-insensitively, never as substrings (so
``application/vc+jwt`` does not accept ``application/vc``, and ``q=0`` refuses).

:func:`choose` picks, among the representations a route offers (its preference first), the one the client rates
highest; none acceptable is 406. A request without Accept takes the route's first offer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import HTTPException, Request

_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")  # RFC 9110 12.4.2, ASCII digits only


def _qvalue(params: list[str]) -> float | None:
    """The q parameter of a list element (RFC 9110 12.4.2: "0" or "1", then up to three decimals, none above 1),
    1 if absent, None if malformed (the element then matches nothing)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        return float(value) if _QVALUE.fullmatch(value) else None
    return 1.0


def _elements(accept: str) -> list[tuple[str, str, float | None, str]]:
    """(type, subtype, q or None if malformed, the element as sent) of each element of an Accept header that reads
    as a media range, lowercased."""
    out = []
    for element in accept.split(","):
        media, *params = element.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        out.append((kind, sub, _qvalue(params), element.strip()))
    return out


def media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each well-formed media range of an Accept header, lowercased (a range with a malformed
    q is left out: it matches nothing)."""
    return [(kind, sub, q) for kind, sub, q, _ in _elements(accept) if q is not None]


def quality(ranges: list[tuple[str, str, float]], media: str) -> float:
    """The q the most specific matching range gives ``media`` (RFC 9110 12.5.1), 0 if none matches."""
    kind, _, sub = media.lower().partition("/")
    best, specificity = 0.0, -1
    for rk, rs, q in ranges:
        if rk == kind and rs == sub:
            level = 2
        elif rk == kind and rs == "*":
            level = 1
        elif rk == "*" and rs == "*":
            level = 0
        else:
            continue
        if level > specificity:
            best, specificity = q, level
    return best


def choose(request: Request, offers: Sequence[str]) -> str:
    """The offer the request's Accept header rates highest (ties: the route's order); 406 if it rates none above 0."""
    accept = request.headers.get("accept")
    if accept is None or not accept.strip():
        return offers[0]
    elements = _elements(accept)
    if not elements:  # nothing in it reads as a media range: as if absent (RFC 9110 12.5.1 lets a server ignore it)
        return offers[0]
    ranges = [(kind, sub, q) for kind, sub, q, _ in elements if q is not None]
    best, chosen = 0.0, None
    for media in offers:
        q = quality(ranges, media)
        if q > best:
            best, chosen = q, media
    if chosen is None:
        malformed = [shown for _, _, q, shown in elements if q is None]
        because = f" (a malformed q matches nothing: {', '.join(repr(m[:60]) for m in malformed[:3])})" \
            if malformed else ""
        raise HTTPException(406, f"this resource is served as {', '.join(offers)}; the Accept header takes none "
                                 f"of them{because}")
    return chosen


def coding_quality(accept_encoding: str, coding: str) -> float:
    """The q of a content coding in an Accept-Encoding header (RFC 9110 12.5.3): its own element's, else ``*``'s,
    else 0 (identity: 1 unless refused)."""
    own = star = None
    for element in accept_encoding.split(","):
        name, *params = element.split(";")
        name = name.strip().lower()
        if name not in (coding, "*"):
            continue
        q = _qvalue(params)
        if q is None:
            continue
        if name == coding:
            own = q
        else:
            star = q
    if own is not None:
        return own
    if star is not None:
        return star
    return 1.0 if coding == "identity" else 0.0
