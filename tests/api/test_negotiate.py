"""Accept negotiation (RFC 9110 12.5.1): whole media types, case-insensitive, q-values including 0, wildcards."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from provenance.api import negotiate

OFFERS = ("application/vc", "application/vc+jwt", "application/json")


def _request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode("latin-1"))]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "application/vc"), ("", "application/vc"), ("*/*", "application/vc"),
    ("application/json", "application/json"), ("APPLICATION/JSON", "application/json"),
    ("application/vc+jwt", "application/vc+jwt"), ("application/json, application/vc+jwt", "application/vc+jwt"),
    ("application/vc;q=0, application/json", "application/json"),
    ("application/vc+jwt;q=0, application/vc", "application/vc"),
    ("application/*;q=0.5, application/json", "application/json"),
    ("*/*;q=0.1, application/vc+jwt;q=0.2", "application/vc+jwt"),
    ("text/html, application/*", "application/vc"),  # the route's order breaks the tie
    ("garbage", "application/vc"),  # nothing that reads as a media range: as if absent
    ("application/json;q=2, application/vc+jwt", "application/vc+jwt"),  # q=2 is malformed: that range is ignored
])
def test_choose(accept: str | None, chosen: str) -> None:
    assert negotiate.choose(_request(accept), OFFERS) == chosen


@pytest.mark.parametrize("accept", ["text/html", "application/vc;q=0, application/vc+jwt;q=0, application/json;q=0",
                                    "*/*;q=0", "application/xml, image/*"])
def test_nothing_acceptable_is_406(accept: str) -> None:
    with pytest.raises(HTTPException) as err:
        negotiate.choose(_request(accept), OFFERS)
    assert err.value.status_code == 406


def test_the_most_specific_range_decides() -> None:
    ranges = negotiate.media_ranges("*/*;q=0.9, application/*;q=0.1, application/json;q=0")
    assert negotiate.quality(ranges, "application/json") == 0
    assert negotiate.quality(ranges, "application/vc") == 0.1
    assert negotiate.quality(ranges, "text/html") == 0.9
