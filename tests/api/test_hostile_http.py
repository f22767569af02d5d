"""Hostile requests against a real server process (`provenance serve`, uvicorn and all): every answer is an RFC
9457 problem document, and the process keeps serving.

The first reproduction is the issue's: a body nesting arrays 100,000 deep used to crash the interpreter (py_ecc
raises the recursion limit, which disabled the JSON decoder's own guard). The malformed-HTTP cases are answered
by the server below the application, which used to send a plain-text 400.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenance.core.ijson import MAX_DEPTH
from tests.support.server import demo_node, raw_request

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, dict[str, str]]]:
    with demo_node(demo_dir, tmp_path_factory.mktemp("hostile"), "--rate", "0") as served:
        yield served


def alive(url: str) -> None:
    r = httpx.get(url + "/health", timeout=10)
    assert r.status_code == 200 and r.json()["status"] in ("ok", "degraded")


def problem_of(status: int, headers: dict[str, str], body: bytes, want: int) -> dict[str, Any]:
    assert status == want, (status, headers, body[:300])
    assert headers.get("content-type", "").startswith(PROBLEM), headers
    doc: dict[str, Any] = json.loads(body)
    assert doc["status"] == want and doc["type"].startswith("urn:provenance:problem:") and doc["detail"]
    return doc


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("path", [f"{API}/certificates/verify", f"{API}/registrations",
                                  f"{API}/certificates/verify-offline", f"{API}/flows/reports/verify"])
def test_the_reproduction_is_refused_and_the_node_keeps_serving(node: tuple[str, dict[str, str]], path: str) -> None:
    url, _admin = node
    r = httpx.post(url + path, content=DEEP, headers={"Content-Type": "application/json"}, timeout=30)
    doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
    assert doc["type"].endswith("nesting-too-deep") and doc["limit"] == MAX_DEPTH
    alive(url)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/vnd.foo+json; charset=utf-8", "multipart/form-data"])
def test_no_declared_media_type_lets_a_deep_body_past(node: tuple[str, dict[str, str]],
                                                      content_type: str | None) -> None:
    url, admin = node
    headers = {**admin, **({"Content-Type": content_type} if content_type else {})}
    for body in (DEEP, b'{"a":' * 70_000):
        r = httpx.post(url + f"{API}/registrations", content=body, headers=headers, timeout=30)
        doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
        assert doc["type"].endswith("nesting-too-deep")
    alive(url)


def test_a_repeated_key_in_a_body_is_named(node: tuple[str, dict[str, str]]) -> None:
    url, admin = node
    body = b'{"kind": "resource", "owner": 999, "owner": 1, "contentHash": "0x' + b"ab" * 32 + b'"}'
    r = httpx.post(url + f"{API}/registrations", content=body, headers={**admin, "Content-Type": "application/json"})
    doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
    assert doc["type"].endswith("duplicate-key") and doc["key"] == "owner" and doc["path"] == "$"
    assert "'owner'" in doc["detail"]
    alive(url)


def test_other_texts_that_are_not_i_json(node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    for body, kind in ((b'{"a": NaN}', "malformed-json"), (b'{"a": "\\ud800"}', "malformed-json"),
                       ('{"a": 1}'.encode("utf-16"), "malformed-json"), (b"{not json", "malformed-json")):
        r = httpx.post(url + f"{API}/certificates/verify", content=body, headers={"Content-Type": "application/json"})
        doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
        assert doc["type"].endswith(kind), (body, doc)
    alive(url)


def test_a_body_over_the_limit_is_413(node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    big = b"[" + b"1," * (1024 * 1024 + 10) + b"1]"
    r = httpx.post(url + f"{API}/certificates/verify", content=big, headers={"Content-Type": "application/json"},
                   timeout=30)
    problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 413)
    alive(url)


MALFORMED = {
    "content-length overflows": (b"POST /api/v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                 b"\r\nContent-Length: 99999999999999999999999999999\r\n\r\n{}", 400),
    "negative content-length": b"POST /api/v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "two content-lengths": b"POST /api/v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                           b"Content-Length: 2\r\n\r\n{}",
    "non-ascii in the target": b"GET /api/v1/registrations/\xc3\xa9\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    "a 1 MB header": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n", 431),
    "not a request line": b"HELLO\r\n\r\n",
    "http/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 404),  # h11 takes it as a request for "*"
    "bad chunk size": b"POST /api/v1/certificates/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\n{}\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_http_is_answered_with_a_problem_document(node: tuple[str, dict[str, str]], name: str) -> None:
    url, _admin = node
    case = MALFORMED[name]
    request, want = case if isinstance(case, tuple) else (case, 400)
    status, headers, body = raw_request(url, request)
    doc = problem_of(status, headers, body, want)
    assert "Invalid HTTP request received" not in body.decode()
    if want == 431:
        assert doc["type"].endswith("header-too-large")
    alive(url)


@pytest.mark.parametrize("behaviour", ["raises", "returns silently", "is cancelled"])
def test_an_application_that_fails_without_answering_gets_a_500_problem(behaviour: str) -> None:
    import asyncio

    from provenance.api.server import ProblemFallback

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if behaviour == "raises":
            raise RuntimeError("secret detail")
        if behaviour == "is cancelled":
            raise asyncio.CancelledError

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def main() -> None:
        try:
            await ProblemFallback(app)({"type": "http", "path": "/x"}, receive, send)
        except asyncio.CancelledError:
            assert behaviour == "is cancelled"

    asyncio.run(main())
    assert sent[0]["status"] == 500 and dict(sent[0]["headers"])[b"content-type"] == PROBLEM.encode()
    doc = json.loads(sent[1]["body"])
    assert doc["status"] == 500 and doc["incident"] and "secret" not in sent[1]["body"].decode()


# str.isdigit() is true of "²" (which int() refuses) and of other scripts' digits (which int() reads): a number in
# a path or a query is ASCII digits, and a long one is refused before int() spends time on it. The routes' patterns
# refuse these today; the parsers below them (types.Rights, chain.registry, the catalogue's registrar facet) refuse
# them too, for the callers that have no such pattern (the CLI, batch files).
@pytest.mark.parametrize("path", [f"{API}/exchanges/²", f"{API}/exchanges/%D9%A2", f"{API}/exchanges/" + "9" * 5000,
                                  f"{API}/catalog/search?registrar=²", f"{API}/catalog/search?registrar=" + "9" * 5000,
                                  f"{API}/exchanges/²/keys"])
def test_numbers_in_other_scripts_are_not_numbers(node: tuple[str, dict[str, str]], path: str) -> None:
    url, _admin = node
    r = httpx.get(url + path, timeout=30)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    alive(url)
