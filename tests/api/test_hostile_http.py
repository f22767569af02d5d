"""Hostile requests against a real server process (`provenance serve`, uvicorn and all): every answer is an RFC
9457 problem document, and the process keeps serving.

The first reproduction is the issue's: a body nesting arrays 100,000 deep used to crash the interpreter (py_ecc
raises the recursion limit, which disabled the JSON decoder's own guard). The malformed-HTTP cases are answered
by the server below the application, which used to send a plain-text 400.
"""

from __future__ import annotations

import json
import re
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
    "http/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 501),  # h11 reads a request for "*", method PRI
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


# ---------------------------------------------------------------------- hostile7: findings 6, 9 and 10
#
# An independent run grew /metrics from 256 KB to 7.9 MB with 50 requests whose made-up methods each became a
# label; served a request framed both by Transfer-Encoding and by Content-Length and kept the connection; answered a
# trailing slash with a redirect to the client's own Host header, HEAD with 405, a repeated query parameter with
# its last value, a malformed q as acceptable; and named a pair of sizes out of order a failed verification.


def read_until_closed(url: str, request: bytes) -> bytes:
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(request)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except ConnectionResetError:
            pass
    return out


def metrics(url: str) -> str:
    return httpx.get(url + "/metrics", timeout=30).text


def test_made_up_methods_are_501_and_never_a_label(node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    names = [f"M{i:04d}" + "A" * 2000 for i in range(5)] + ["BREW", "PROPFIND", "TRACE"]
    for name in names:
        status, headers, body = raw_request(url, name.encode() + b" /health HTTP/1.1\r\nHost: x\r\n\r\n")
        doc = problem_of(status, headers, body, 501)
        assert doc["type"].endswith("method-not-implemented") and repr(name[:32])[:-1] in doc["detail"]
    # nor a path nobody routes: the labels are a known method and a route template
    assert httpx.get(url + "/no-such-place-3f9a", timeout=10).status_code == 404
    text = metrics(url)
    assert not any(name[:5] in text for name in names) and "no-such-place" not in text
    assert 'method="other"' in text and 'route="unmatched"' in text
    labels = set(re.findall(r'method="([^"]*)"', text))
    assert labels <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    alive(url)


def test_a_known_method_a_route_does_not_allow_is_405(node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    r = httpx.request("PUT", url + "/health", timeout=10)
    doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 405)
    assert doc["type"].endswith("method-not-allowed")
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD"}
    r = httpx.head(url + f"{API}/witness", timeout=10)  # HEAD where GET is not allowed either
    assert r.status_code == 405 and r.content == b""
    assert "POST" in r.headers["allow"] and "HEAD" not in r.headers["allow"]


def test_both_transfer_encoding_and_content_length_is_400_and_the_connection_closes(
        node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    raw = read_until_closed(url, b"POST /api/v1/certificates/verify HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                 b"application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                                 b"7\r\n{\"a\":1}\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.count(b"HTTP/1.1 ") == 1  # the pipelined second request is not served
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in
                                                            head.decode("latin-1").split("\r\n")[1:])}
    doc = problem_of(int(head.split()[1]), headers, body, 400)
    assert "Transfer-Encoding" in doc["detail"] and "Content-Length" in doc["detail"]
    assert headers["connection"] == "close"
    alive(url)


@pytest.mark.parametrize("path", [f"{API}/exchanges/SDE/", f"{API}/exchanges/SDE%2F", "/health/"])
def test_a_trailing_slash_is_404_not_a_redirect(node: tuple[str, dict[str, str]], path: str) -> None:
    url, _admin = node
    r = httpx.get(url + path, headers={"Host": "evil.example"}, timeout=10)
    problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 404)
    assert "location" not in r.headers


@pytest.mark.parametrize("path", ["/health", f"{API}/exchanges/SDE", f"{API}/exchanges"])
def test_head_is_answered_wherever_get_is(node: tuple[str, dict[str, str]], path: str) -> None:
    url, _admin = node
    got = httpx.get(url + path, timeout=10)
    head = httpx.head(url + path, timeout=10)
    assert got.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    if path == "/health":  # counted under its route, as HEAD
        assert re.search(r'provenance_http_requests_total\{method="HEAD",route="/health",status="200"\} [1-9]',
                         metrics(url))


@pytest.mark.parametrize("query", ["size1=1&size2=13&size1=2", "size1=1&size2=3&size2=3"])
def test_a_repeated_query_parameter_is_refused_by_name(node: tuple[str, dict[str, str]], query: str) -> None:
    url, _admin = node
    r = httpx.get(url + f"{API}/exchanges/SDE/consistency?{query}", timeout=10)
    doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
    name = "size1" if query.count("size1") > 1 else "size2"
    assert doc["type"].endswith("invalid-input") and doc["field"] == f"query.{name}" and "more than once" in doc[
        "detail"]


def test_sizes_out_of_order_are_named(node: tuple[str, dict[str, str]]) -> None:
    url, _admin = node
    r = httpx.get(url + f"{API}/exchanges/SDE/consistency?size1=5&size2=3", timeout=10)
    doc = problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 422)
    assert doc["type"].endswith("invalid-input") and doc["title"] == "Invalid input"
    assert "size1 (5)" in doc["detail"] and "size2 (3)" in doc["detail"]


def test_a_failed_verification_is_titled_so() -> None:
    from provenance.api.problems import error_response
    from provenance.errors import VerificationError

    doc = json.loads(bytes(error_response(VerificationError("the proof does not verify"), "/x").body))
    assert doc["type"].endswith("verification-failed") and doc["title"] == "Verification failed"


@pytest.fixture(scope="module")
def certificate(node: tuple[str, dict[str, str]], demo_dir: tuple[Path, dict[str, Any]]) -> str:
    """The credential hash of a certificate the node issues and keeps."""
    url, admin = node
    rid = demo_dir[1]["records"]["port-vessel-traffic"]
    issued = httpx.post(url + f"{API}/certificates", json={"record": rid, "days": 30}, headers=admin, timeout=60)
    assert issued.status_code == 201, issued.text
    report = httpx.post(url + f"{API}/certificates/verify", json=issued.json(), timeout=60).json()
    return str(report["credentialHash"])


MALFORMED_Q = ["x/y;q=abc", "application/vc;q=abc", "application/json;q=01", "application/json;q=0.\xb2",
               "application/vc;q=2, application/json;q=.5"]


@pytest.mark.parametrize("accept", MALFORMED_Q)
def test_a_malformed_q_makes_its_range_match_nothing(node: tuple[str, dict[str, str]], certificate: str,
                                                     accept: str) -> None:
    url, admin = node
    status, headers, body = raw_request(url, f"GET {API}/certificates/{certificate} HTTP/1.1\r\nHost: x\r\n"
                                             f"Authorization: {admin['Authorization']}\r\nAccept: {accept}\r\n"
                                             f"\r\n".encode("latin-1"))
    doc = problem_of(status, headers, body, 406)
    assert "malformed q" in doc["detail"]
    # beside a well-formed range, the malformed one is only left out
    status, headers, body = raw_request(url, f"GET {API}/certificates/{certificate} HTTP/1.1\r\nHost: x\r\n"
                                             f"Authorization: {admin['Authorization']}\r\nAccept: application/json;"
                                             f"q=0.5, {accept}\r\n\r\n".encode("latin-1"))
    assert status == 200 and headers["content-type"].startswith("application/json")


def test_a_q_in_other_digits_is_malformed_not_a_server_error(node: tuple[str, dict[str, str]]) -> None:
    # "\xb2" (superscript two, as a header's latin-1) passed str.isdigit() and then failed float(): a 500 incident
    url, _admin = node
    status, headers, body = raw_request(url, b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0.\xb2\r\n\r\n")
    assert status == 200 and "content-encoding" not in headers, (status, body[:300])


@pytest.mark.parametrize("export", ["prov", "openlineage"])
def test_the_lineage_exports_refuse_an_accept_that_refuses_json(node: tuple[str, dict[str, str]],
                                                                 demo_dir: tuple[Path, dict[str, Any]],
                                                                 export: str) -> None:
    url, admin = node
    record = demo_dir[1]["records"]["delta-logistics-index"]
    path = url + f"{API}/registrations/{record}/lineage/{export}"
    r = httpx.get(path, headers={**admin, "Accept": "application/json;q=0"}, timeout=30)
    problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, 406)
    assert httpx.get(path, headers={**admin, "Accept": "application/json"}, timeout=30).status_code == 200


@pytest.mark.parametrize("target", ["/dev/zero", "directory"])
def test_cert_verify_names_a_file_that_is_not_a_regular_file(tmp_path: Path, target: str) -> None:
    import argparse

    from provenance.cli.certificates import cmd_cert_verify
    from provenance.errors import InvalidInput

    path = Path(target) if target.startswith("/") else tmp_path
    with pytest.raises(InvalidInput, match="is not a regular file"):
        cmd_cert_verify(argparse.Namespace(file=path, offline=False, snapshot=None))
    with pytest.raises(InvalidInput, match="no certificate file"):
        cmd_cert_verify(argparse.Namespace(file=tmp_path / "missing.json", offline=False, snapshot=None))
