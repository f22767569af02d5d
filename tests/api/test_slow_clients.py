"""Clients that hold a connection without finishing a request, heads over the limit that arrive in one read, and
URLs that are not UTF-8 once percent-decoded: the real server (``api.server.config``: uvicorn with the node's h11
protocol) in front of the node's guard, with short deadlines.

An independent run found each of these: idle and trickling connections were held for as long as the client
liked (a thousand of them were all accepted and kept), a 20,000-byte header was served although the limit is
16 KiB, and ``%FF`` in a query was read as U+FFFD, so that two different requests read as one identifier.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from provenance.api.middleware import Guard
from provenance.api.server import MAX_HEADER_BYTES
from tests.support.server import threaded_server

HEAD, BODY = 0.6, 0.6  # seconds: the deadlines under test (10 s each in a node), short so the tests run quickly
seen: list[dict[str, Any]] = []  # what the application was asked, and whether it heard a disconnect


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body, heard = b"", None
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            heard = "disconnect"
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen.append({"path": scope["path"], "body": body, "heard": heard})
    if heard:
        return  # as the node's guard does: nobody to answer
    out = json.dumps({"bytes": len(body), "query": scope["query_string"].decode()}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    guarded = Guard(app, max_body=1 << 20, buckets=None, observe=lambda *_a: None)
    with threaded_server(guarded, deadlines={"head_timeout": HEAD, "body_timeout": BODY}) as served:
        yield served


def connect(server: tuple[str, int]) -> socket.socket:
    s = socket.create_connection(server, timeout=10)
    return s


def read_all(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout here fails the test)."""
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def status_and_doc(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as s:
        t0 = time.monotonic()
        assert read_all(s) == b""  # closed, nothing said: nothing was asked
        assert HEAD * 0.8 < time.monotonic() - t0 < HEAD + 5


def test_headers_that_never_end_get_408(server: tuple[str, int]) -> None:
    with connect(server) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: b")
        status, doc = status_and_doc(read_all(s))
    assert status == 408 and doc["type"].endswith("request-timeout") and "headers" in doc["detail"]


def test_trickling_a_head_does_not_extend_its_deadline(server: tuple[str, int]) -> None:
    with connect(server) as s:
        t0 = time.monotonic()
        got = b""
        s.settimeout(10)
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 200:
            try:
                s.sendall(bytes((byte,)))
            except OSError:  # the server closed the connection: its answer is already waiting
                break
            time.sleep(HEAD / 10)
            if time.monotonic() - t0 > HEAD * 4:
                break
        got = read_all(s)
    assert status_and_doc(got)[0] == 408
    assert time.monotonic() - t0 < HEAD * 4


@pytest.mark.parametrize("request_bytes", [
    b"POST /verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",  # no final chunk
    b"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"short\":",  # shorter than declared
], ids=["chunked without its last chunk", "body shorter than its Content-Length"])
def test_a_body_that_stops_arriving_gets_408(server: tuple[str, int], request_bytes: bytes,
                                             caplog: pytest.LogCaptureFixture) -> None:
    seen.clear()
    with caplog.at_level(logging.INFO, logger="provenance.api"), connect(server) as s:
        s.sendall(request_bytes)
        status, doc = status_and_doc(read_all(s))
    assert status == 408 and "body" in doc["detail"]
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    # the guard heard the disconnect and answered nobody; no incident is logged for a client cut off
    assert not any("incident" in r.getMessage() for r in caplog.records)


def test_a_slow_steady_body_is_read_whole(server: tuple[str, int]) -> None:
    pieces = [b'{"a":' + b"1" * 10, b"0" * 10, b"0" * 10, b"}"]
    body = b"".join(pieces)
    with connect(server) as s:
        s.sendall(b"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
        t0 = time.monotonic()
        for piece in pieces:  # each piece within the body deadline, the whole beyond it
            time.sleep(BODY / 2)
            s.sendall(piece)
        status, doc = status_and_doc(read_all(s))
    assert time.monotonic() - t0 > BODY
    assert status == 200 and doc["bytes"] == len(body)


def test_a_kept_alive_connection_has_a_deadline_for_its_next_head(server: tuple[str, int]) -> None:
    with connect(server) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.endswith(b"}"):
            first += s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        status, _doc = status_and_doc(read_all(s))
    assert status == 408


@pytest.mark.parametrize("extra", [
    b"X-Big: " + b"a" * 20_000 + b"\r\n",
    b"X-Big: " + b"a" * 65_536 + b"\r\n",
    b"".join(b"X-%d: v\r\n" % i for i in range(10_000)),
], ids=["20,000-byte header", "64 KiB header", "10,000 small headers"])
def test_a_head_over_the_limit_in_one_read_gets_431(server: tuple[str, int], extra: bytes) -> None:
    with connect(server) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
        status, doc = status_and_doc(read_all(s))
    assert status == 431 and doc["type"].endswith("header-too-large")


def test_a_head_within_the_limit_is_served(server: tuple[str, int]) -> None:
    with connect(server) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
                  + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n\r\n")
        status, _doc = status_and_doc(read_all(s))
    assert status == 200


@pytest.mark.parametrize(("target", "names"), [
    (b"/entities/consent?identifier=%ED%A0%80&account=0x11", "'identifier'"),  # a lone surrogate's bytes
    (b"/entities?identifier=%FF", "'identifier'"),
    (b"/entities?%FF=1", "'\ufffd'"),
    (b"/entities/%FF", "path"),
    (b"/entities?a=1&name=%C3", "'name'"),  # a truncated sequence
])
def test_a_url_that_is_not_utf8_once_decoded_is_refused(server: tuple[str, int], target: bytes,
                                                         names: str) -> None:
    seen.clear()
    with connect(server) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, doc = status_and_doc(read_all(s))
    assert status == 400 and names in doc["detail"] and "UTF-8" in doc["detail"]
    assert not seen  # the application never saw it


def test_utf8_in_a_url_is_served(server: tuple[str, int]) -> None:
    with connect(server) as s:
        s.sendall(b"GET /entities/%E4%B8%AD?name=%E7%89%A9%E6%B5%81&q=a+b HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        status, doc = status_and_doc(read_all(s))
    assert status == 200 and doc["query"] == "name=%E7%89%A9%E6%B5%81&q=a+b"
