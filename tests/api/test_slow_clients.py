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


# ---------------------------------------------------------------------- clients that do not read their answer
#
# An independent run held forty connections that asked for /metrics and never read: the node kept every answer in
# its send buffers (RSS 149 MB to 318 MB) for as long as the clients liked. Now an answer left in a full buffer is
# dropped and the connection closed: WRITE seconds with nothing taken, WRITE_TOTAL seconds however it trickles.

WRITE, WRITE_TOTAL = 0.8, 3.0  # seconds: the write deadlines under test (30 and 300 in a node)
BIG = 24 << 20  # bytes: more than the kernel's buffers on both sides hold, so the server's own buffer fills
observed: list[tuple[str, str, int]] = []


async def big(scope: Any, receive: Any, send: Any) -> None:
    """Answers BIG bytes: in one piece, or (``/stream``) in 64 pieces."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream"), (b"content-length", str(BIG).encode())]})
    if scope["path"] != "/stream":
        await send({"type": "http.response.body", "body": b"x" * BIG})
        return
    piece = BIG // 64
    for i in range(64):
        await send({"type": "http.response.body", "body": b"x" * piece, "more_body": i < 63})


@pytest.fixture(scope="module")
def big_server() -> Iterator[tuple[str, int]]:
    guarded = Guard(big, max_body=1 << 20, buckets=None, observe=lambda m, r, s, _t: observed.append((m, r, s)))
    with threaded_server(guarded, deadlines={"head_timeout": 5, "write_timeout": WRITE,
                                             "write_total_timeout": WRITE_TOTAL}) as served:
        yield served


def small_window(server: tuple[str, int]) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: the window the server sees
    s.settimeout(10)
    s.connect(server)
    return s


def drain(s: socket.socket) -> int:
    """Bytes the server still sends until it closes (or resets) the connection."""
    got = 0
    try:
        while chunk := s.recv(1 << 20):
            got += len(chunk)
    except ConnectionResetError:
        pass
    return got


def wait_for(what: list[Any], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not what and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("path", ["/whole", "/stream"], ids=["one piece", "streamed"])
def test_an_answer_the_client_does_not_read_is_dropped_and_the_connection_closed(
        big_server: tuple[str, int], path: str, caplog: pytest.LogCaptureFixture) -> None:
    observed.clear()
    with caplog.at_level(logging.INFO, logger="provenance.api"), small_window(big_server) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(WRITE * 3)  # and read nothing
        wait_for(observed)
        got = drain(s)  # what the kernels held: far from the whole answer, then the end of the connection
    assert got < BIG // 2
    # counted once, as a client that went away (not as served, not as a server error), and no incident logged
    assert observed == [("GET", "other", 499)]
    assert any("did not read the answer" in r.getMessage() for r in caplog.records)
    assert not any("incident" in r.getMessage() for r in caplog.records)


def test_a_reader_is_cut_only_at_the_total_write_deadline(big_server: tuple[str, int]) -> None:
    # Reading steadily, the whole answer, though it takes longer than the idle deadline
    observed.clear()
    with small_window(big_server) as s:
        s.sendall(b"GET /whole HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        t0 = time.monotonic()
        got = 0
        while got < BIG:  # a quarter each half idle deadline: longer than that deadline in all, within the total
            time.sleep(WRITE / 2)
            target = got + BIG // 4
            while got < min(target, BIG) and (chunk := s.recv(1 << 20)):
                got += len(chunk)
        elapsed = time.monotonic() - t0
        got += drain(s)
    assert WRITE < elapsed < WRITE_TOTAL
    assert got - BIG < 1024  # the whole body (and the head)
    wait_for(observed)
    assert observed == [("GET", "other", 200)]

    # Taking a trickle, often enough for the idle deadline: cut at the total one
    observed.clear()
    with small_window(big_server) as s:
        s.sendall(b"GET /whole HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        got, closed = 0, False
        while not closed and time.monotonic() - t0 < WRITE_TOTAL * 3:
            time.sleep(WRITE / 2)
            target = got + (1 << 20)  # a megabyte each half idle deadline: 24 would take longer than the total
            while got < target:
                try:
                    chunk = s.recv(1 << 20)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    closed = True
                    break
                got += len(chunk)
        elapsed = time.monotonic() - t0
    assert closed and got < BIG // 2
    assert WRITE_TOTAL * 0.9 < elapsed < WRITE_TOTAL + 5
    wait_for(observed)
    assert observed == [("GET", "other", 499)]
