"""A hostile review of the server's slow-client deadlines, its one-read 431 and the guard's UTF-8 URL check: the real
server (``api.server.config``) with short deadlines, as in test_slow_clients.py.

Paths under ``/bare/`` reach a plain application with no guard in front (the protocol's own behaviour, whatever
the application does); every other path goes through the node's guard, whose metric observations are recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from provenance.api.middleware import Guard
from provenance.api.server import MAX_HEADER_BYTES
from tests.support.server import threaded_server

HEAD, BODY = 0.6, 0.6  # seconds: the head and idle-body deadlines under test (10 each in a node)
BODY_TOTAL = 2.0  # seconds: the whole-body deadline under test (300 in a node)
observed: list[tuple[str, str, int]] = []


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Reads the body (after ``?sleep=`` seconds), answers its size; ``?big=`` answers that many bytes."""
    query = dict(p.partition("=")[::2] for p in scope["query_string"].decode().split("&") if p)
    await asyncio.sleep(float(query.get("sleep", 0)))
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await asyncio.sleep(float(query.get("after", 0)))
    if "big" in query:
        out = b"x" * int(query["big"])
    else:
        out = json.dumps({"bytes": len(body), "query": scope["query_string"].decode(), "path": scope["path"]}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


guarded = Guard(echo, max_body=2 << 20, buckets=None, observe=lambda m, r, s, _t: observed.append((m, r, s)))


async def router(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"].startswith("/bare/"):
        await echo(scope, receive, send)
    else:
        await guarded(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with threaded_server(router, deadlines={"head_timeout": HEAD, "body_timeout": BODY,
                                            "body_total_timeout": BODY_TOTAL}, timeout_keep_alive=3) as served:
        yield served


def connect(server: tuple[str, int], timeout: float = 10) -> socket.socket:
    return socket.create_connection(server, timeout=timeout)


def read_until_closed(s: socket.socket, within: float) -> tuple[bytes, bool]:
    """What the server sent within ``within`` seconds, and whether it closed the connection by then."""
    out, end = b"", time.monotonic() + within
    while (left := end - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def statuses(raw: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


def one(server: tuple[str, int], request: bytes, within: float = 10) -> tuple[int, bytes]:
    with connect(server) as s:
        s.sendall(request)
        raw, closed = read_until_closed(s, within)
    assert closed, f"the server did not close the connection: {raw[:200]!r}"
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# ---- defects: each fails on 59bf981 -------------------------------------------------------------------------------

def test_a_pipelined_request_whose_body_stalls_gets_408(server: tuple[str, int]) -> None:
    """The second request's head and part of its body arrive with the first request: its body is parsed from the
    buffer when the first answer completes, not in data_received, so no body deadline was ever armed (and the
    Request event cancels uvicorn's keep-alive timer): the connection was held for ever."""
    with connect(server) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                  b'{"a":')
        raw, closed = read_until_closed(s, BODY + 4)
    assert statuses(raw) == [200, 408] and closed


def test_a_trickled_body_has_a_total_deadline(server: tuple[str, int]) -> None:
    """One byte every half idle deadline renews the idle deadline for ever: with a 2 MiB limit and a 30 s idle
    deadline a client holds a connection for about two years per body, the very trickle the absolute head deadline
    was made to stop. The whole body must arrive within ProblemH11Protocol.body_total_timeout."""
    body = b'{"a":"' + b"x" * 200 + b'"}'
    with connect(server) as s:
        s.sendall(b"POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n")
        t0 = time.monotonic()
        for byte in body:
            if time.monotonic() - t0 > BODY_TOTAL * 3:
                break
            try:
                s.sendall(bytes((byte,)))
            except OSError:  # closed by the server: its answer is waiting
                break
            time.sleep(BODY / 3)
        raw, closed = read_until_closed(s, 3)
    assert statuses(raw) == [408] and closed
    assert time.monotonic() - t0 < BODY_TOTAL * 3


@pytest.mark.parametrize("extra", [
    b"X-Pad:" + b" " * 20_000 + b"v\r\n",  # optional whitespace, which h11 strips before it is measured
    b"X-Fold: a\r\n" + b"\t" * 20_000 + b"b\r\n",  # an obs-fold: the continuation's whitespace becomes one space
    b"X-Fold: a\r\n" + b" b\r\n" * 5_000,  # 5,000 continuation lines, each measured as half its size
], ids=["20,000 bytes of OWS", "20,000 bytes of folding whitespace", "5,000 folded lines"])
def test_a_head_over_the_limit_is_431_however_it_is_spelt(server: tuple[str, int], extra: bytes) -> None:
    """The one-read measurement rebuilds the head from h11's parsed fields, which lose optional whitespace and
    line folds: these heads are over 16 KiB as sent (and are 431 when they arrive in pieces) but were served."""
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + b"\r\n"
    assert len(request) > MAX_HEADER_BYTES
    assert one(server, request)[0] == 431


@pytest.mark.parametrize("extra", [
    b"a:b\r\n" * 3_000,  # no space after the colon: each rebuilt a byte longer than sent
    b"e:\r\n" * 3_500,  # empty values, likewise
], ids=["3,000 headers without a space", "3,500 empty-valued headers"])
def test_a_head_within_the_limit_is_served_however_it_is_spelt(server: tuple[str, int], extra: bytes) -> None:
    """The reverse: the rebuilt head counts ': ' for every header, so a head under 16 KiB as sent, which h11
    itself accepts in pieces, was refused 431 in one read."""
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + b"\r\n"
    assert len(request) <= MAX_HEADER_BYTES
    assert one(server, request)[0] == 200


def test_lf_only_line_ends_within_the_limit_are_served(server: tuple[str, int]) -> None:
    """h11 accepts bare LF line ends; the rebuilt head counts CRLF for each line."""
    request = b"GET /health HTTP/1.1\nHost: x\nConnection: close\n" + b"".join(
        b"X-%d: v\n" % i for i in range(1_700)) + b"\n"
    assert len(request) <= MAX_HEADER_BYTES
    assert one(server, request)[0] == 200


def test_a_body_the_server_itself_stopped_reading_is_not_timed_out(server: tuple[str, int]) -> None:
    """A body over uvicorn's 64 KiB buffer pauses reading until the application asks for more; an application that
    takes longer than the idle deadline to ask had the client (which sent everything at once) answered 408."""
    body = b"y" * 300_000
    status, answer = one(server, b"POST /bare/slow?sleep=" + str(BODY * 3).encode() + b" HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert status == 200 and json.loads(answer)["bytes"] == len(body)


def test_a_client_waiting_for_100_continue_is_not_timed_out(server: tuple[str, int]) -> None:
    """With ``Expect: 100-continue`` the client waits for the server's go-ahead, which uvicorn sends when the
    application first reads: until then the silence is the server's, not the client's."""
    body = b'{"a":1}'
    with connect(server) as s:
        s.sendall(b"POST /bare/slow?sleep=" + str(BODY * 3).encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        s.settimeout(BODY * 3 + 5)
        first = s.recv(65536)
        if first.startswith(b"HTTP/1.1 100"):
            s.sendall(body)
        raw, _closed = read_until_closed(s, 5)
    assert statuses(first + raw) == [100, 200]


def test_a_body_cut_off_is_not_counted_as_a_server_error(server: tuple[str, int]) -> None:
    """The guard records a request it never answered as 500 in /metrics: every slow client the new body deadline
    cuts off (the client was told 408) counts as a server error and trips 5xx alerts."""
    observed.clear()
    status, _ = one(server, b"POST /cut HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 100\r\n\r\n{", within=BODY + 5)
    assert status == 408
    deadline = time.monotonic() + 5
    while not observed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert observed and observed[0][:2] == ("POST", "other") and observed[0][2] < 500


# ---- what is right, pinned ----------------------------------------------------------------------------------------

def test_a_long_running_application_is_not_cut(server: tuple[str, int]) -> None:
    body = b'{"a":1}'
    wait = max(HEAD, BODY) * 3
    status, answer = one(server, b"POST /slow?after=" + str(wait).encode() + b" HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n" + body)
    assert status == 200 and json.loads(answer)["bytes"] == len(body)


def test_a_large_response_read_slowly_is_whole(server: tuple[str, int]) -> None:
    size = 8 << 20
    with connect(server) as s:
        s.sendall(b"GET /big?big=" + str(size).encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        t0, raw = time.monotonic(), b""
        s.settimeout(10)
        while time.monotonic() - t0 < max(HEAD, BODY) * 3:
            raw += s.recv(4096)
            time.sleep(0.01)
        rest, closed = read_until_closed(s, 20)
        raw += rest
    head, _, got = raw.partition(b"\r\n\r\n")
    assert closed and head.startswith(b"HTTP/1.1 200") and len(got) == size


def test_a_kept_alive_connection_idle_beyond_the_head_deadline_serves_its_next_request(
        server: tuple[str, int]) -> None:
    with connect(server) as s:
        for n in range(2):
            s.sendall(b"GET /k HTTP/1.1\r\nHost: x\r\n" + (b"Connection: close\r\n" if n else b"") + b"\r\n")
            raw = b""
            while not raw.endswith(b"}"):
                raw += s.recv(65536)
            assert raw.startswith(b"HTTP/1.1 200")
            time.sleep(HEAD * 3)  # within uvicorn's keep-alive (3 s here), beyond the head deadline
        assert read_until_closed(s, 1) == (b"", True)


def test_pipelined_complete_requests_are_all_answered(server: tuple[str, int]) -> None:
    with connect(server) as s:
        s.sendall(b"GET /p1?after=" + str(BODY * 2).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /p2 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /p3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                  b"Connection: close\r\n\r\n{}")
        raw, closed = read_until_closed(s, 10)
    assert statuses(raw) == [200, 200, 200] and closed


@pytest.mark.parametrize("target", [
    b"/q?a=1+2&b=%2B&c=%2b", b"/q?a=1;b=2", b"/q?a=1&a=2&a=%E2%82%AC", b"/q?=1&&=", b"/q?a=%00", b"/a%2Fb/c",
    b"/q?a=%", b"/q?a=%zz", b"/q?%E2%82%AC=%E2%82%AC",
])
def test_utf8_and_odd_but_valid_urls_are_served(server: tuple[str, int], target: bytes) -> None:
    status, answer = one(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200, answer


@pytest.mark.parametrize("target", [b"/q?a=1;b=%FF", b"/q?a=%C0%AF", b"/q?a=1&a=%FF", b"/q%FF?a=1"])
def test_non_utf8_hidden_among_valid_parts_is_refused(server: tuple[str, int], target: bytes) -> None:
    status, answer = one(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 400 and "UTF-8" in json.loads(answer)["detail"]


def test_a_header_value_not_utf8_is_served(server: tuple[str, int]) -> None:
    status, _ = one(server, b"POST /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Name: \xff\xfe\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    assert status == 200


@pytest.mark.parametrize(("size", "status"), [(MAX_HEADER_BYTES, 200), (MAX_HEADER_BYTES + 1, 431)])
@pytest.mark.parametrize("pieces", [False, True], ids=["one read", "two reads"])
def test_the_limit_is_exact_at_its_boundary(server: tuple[str, int], size: int, status: int, pieces: bool) -> None:
    start = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
    request = start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"
    assert len(request) == size
    with connect(server) as s:
        if pieces:
            s.sendall(request[:-1])
            time.sleep(0.2)
        s.sendall(request[-1:] if pieces else request)
        raw, closed = read_until_closed(s, 10)
    assert closed and statuses(raw) == [status]


def test_a_client_gone_before_its_deadline_leaves_nothing_behind(server: tuple[str, int],
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Timers are cancelled with their connection: none fires on a closed transport, none keeps a protocol."""
    with caplog.at_level(logging.DEBUG):
        for request in (b"GET /x HTTP/1.1\r\nHost: x\r\n", b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{",
                        b""):
            with connect(server) as s:
                s.sendall(request)
                time.sleep(0.05)
        time.sleep(max(HEAD, BODY) * 2)
        assert one(server, b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or "Traceback" in r.getMessage()]
    assert not bad, [r.getMessage() for r in bad]
