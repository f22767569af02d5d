"""The HTTP server of ``provenance serve``: uvicorn, pinned to its h11 protocol, answering every request with an RFC
9457 problem document even where the server itself refuses it.

uvicorn answers a request h11 cannot parse (a Content-Length that is not a number it takes, bytes outside ASCII in
the request target, a request line and headers beyond the size limit, a request line that is not HTTP/1.1) with
a plain-text 400 "Invalid HTTP request received.", and an application that fails or returns without answering
with a plain-text 500. :class:`ProblemH11Protocol` keeps uvicorn's h11 protocol and replaces only its 400, which
becomes 400 (or 431 for oversized headers) as ``application/problem+json``; :class:`ProblemFallback` answers for
the application in the two 500 cases. It also refuses a request that carries both Transfer-Encoding and
Content-Length (400, then close: RFC 9112 section 6.1, the smuggling risk behind a proxy that reads the other),
and closes a connection whose client leaves its answer unread (:data:`WRITE_TIMEOUT`, :data:`WRITE_TOTAL_TIMEOUT`).
The protocol is named explicitly rather than left to uvicorn's "auto", which would switch to httptools (another
parser, with other refusals) the day that package is installed; and WebSocket upgrades are off (``ws="none"``), so
an upgrade request is served as plain HTTP by the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import struct
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from provenance.api.middleware import ASGIApp, Message, Receive, Scope, Send
from provenance.api.problems import MEDIA_TYPE, TITLES, TYPE_BASE

MAX_HEADER_BYTES = 16 * 1024
"""The request line and headers together; a larger head is answered 431, whether it arrives in pieces (h11's limit
on an incomplete event) or in one read (measured once h11 has parsed it)."""

HEAD_TIMEOUT = 10.0
"""Seconds from a connection's first byte of a request (or from the connection itself) until the whole request line
and headers have arrived; then the connection is answered 408 and closed. Trickling bytes does not extend it."""

BODY_TIMEOUT = 10.0
"""Seconds the node waits for the next piece of a request body the application is reading; then 408 and close."""

BODY_TOTAL_TIMEOUT = 300.0
"""Seconds for a whole request body (time the server itself stops reading excluded): trickling cannot hold a
connection for longer (2 MiB, the body limit, then needs about 7 KB/s)."""

WRITE_TIMEOUT = 30.0
"""Seconds an answer may wait in a full send buffer (the transport has paused writing) with the client taking none
of it; then the connection is closed and what the buffer held is dropped. Progress is looked at when the deadline
falls, so a client that takes a little and then stops is cut between one and two of these after it stopped."""

WRITE_TOTAL_TIMEOUT = 300.0
"""Seconds the send buffer may stay full, however steadily the client takes pieces of it: reading a trickle cannot
hold an answer in memory for longer. The buffer draining (writing resumes) starts both deadlines again."""

DELIVERY = "provenance.delivery"
"""The scope extension through which the guard learns whether a request's answer left the node (:class:`Delivery`):
``scope["extensions"][DELIVERY]["report"]``."""

log = logging.getLogger("provenance.api")


def problem_bytes(status: int, kind: str, detail: str, **extra: Any) -> bytes:
    """A problem document as bytes, for answers written below the application (ASCII, whatever the detail)."""
    return json.dumps({"type": TYPE_BASE + kind, "title": TITLES.get(status, "Error"), "status": status,
                       "detail": detail, **extra}).encode("ascii")


class Delivery:
    """Whether a request's answer left the node: handed to the kernel whole (True), or cut off first (False), by a
    client that stopped reading or went away. The guard counts a request once this is known (``report``)."""

    def __init__(self) -> None:
        self.done: bool | None = None
        self.waiting: list[Callable[[bool], None]] = []

    def report(self, record: Callable[[bool], None]) -> None:
        """Call ``record(delivered)`` now if that is known, else once it is."""
        if self.done is None:
            self.waiting.append(record)
        else:
            record(self.done)

    def settle(self, delivered: bool) -> None:
        if self.done is None:
            self.done = delivered
            waiting, self.waiting = self.waiting, []
            for record in waiting:
                record(delivered)


class _BothFramings(h11.RemoteProtocolError):
    """A request framed both ways; its message is the whole detail of the 400."""


class _Connection(h11.Connection):
    """h11's connection, keeping the error that made it refuse the request (uvicorn drops it), and refusing a head
    over the limit that arrived whole: h11 bounds only the part of a head it is still waiting on."""

    refusal: h11.RemoteProtocolError | None = None

    def __init__(self, role: type[h11.SERVER], max_head: int) -> None:
        super().__init__(role, max_head)
        self.max_head = max_head

    def next_event(self) -> Any:
        before = len(self._receive_buffer)  # what h11 consumes for a Request is exactly its head as sent
        try:
            event = super().next_event()
            if type(event) is h11.Request:
                if before - len(self._receive_buffer) > self.max_head:
                    raise h11.RemoteProtocolError("request line and headers too large", 431)
                names = {name for name, _ in event.headers}
                if b"transfer-encoding" in names and b"content-length" in names:
                    # h11 reads the body by Transfer-Encoding; a proxy in front may have read it by Content-Length.
                    raise _BothFramings("the request has both Transfer-Encoding and Content-Length; RFC 9112 "
                                        "section 6.1 allows one or the other", 400)
            return event
        except h11.RemoteProtocolError as exc:
            self.refusal = exc
            raise


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose refusals of malformed requests are problem documents."""

    head_timeout = HEAD_TIMEOUT
    body_timeout = BODY_TIMEOUT
    body_total_timeout = BODY_TOTAL_TIMEOUT
    write_timeout = WRITE_TIMEOUT
    write_total_timeout = WRITE_TOTAL_TIMEOUT

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head = config.h11_max_incomplete_event_size or MAX_HEADER_BYTES
        self.watched = _Connection(h11.SERVER, self.max_head)
        self.conn = self.watched
        # What the connection is waiting on from the client, and until when: "head" (an absolute deadline from the
        # connection or the request's first byte) or "body" (renewed by each piece), else nothing (the application
        # or uvicorn's keep-alive timer has the connection). An idle or trickling client cannot hold a connection.
        self.waiting: str | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.body_ends = 0.0  # the loop time by which the body being read must be whole
        self.server_silent = False  # the last body deadline found the server itself not reading
        # The send side: a deadline while the transport has paused writing, the current request's delivery, and
        # those of answers complete but still in the paused buffer.
        self.write_deadline: asyncio.TimerHandle | None = None
        self.write_paused_at = 0.0  # the loop time writing paused
        self.write_left = 0  # the buffered bytes at the last look
        self.delivery: Delivery | None = None
        self.delivered_cycle: Any = None  # the request self.delivery belongs to
        self.unsent: list[Delivery] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait("head", self.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._wait(None, 0)
        if self.write_deadline is not None:
            self.write_deadline.cancel()
            self.write_deadline = None
        self._cut()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        cycle = self.cycle
        if cycle is not None and cycle is not self.delivered_cycle:
            # A new request (its task has not run yet): it carries its delivery to the guard.
            self.delivered_cycle = cycle
            self.delivery = Delivery()
            extensions = cycle.scope.get("extensions") or {}
            extensions[DELIVERY] = {"report": self.delivery.report}
            cycle.scope["extensions"] = extensions

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.write_deadline is None:
            self.write_paused_at = self.loop.time()
            self.write_left = self.transport.get_write_buffer_size()
            self.write_deadline = self.loop.call_later(min(self.write_timeout, self.write_total_timeout),
                                                       self._not_read)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.write_deadline is not None:
            self.write_deadline.cancel()
            self.write_deadline = None
        unsent, self.unsent = self.unsent, []
        for delivery in unsent:
            delivery.settle(True)

    def _not_read(self) -> None:
        """A write deadline: the client took nothing of the buffered answer for the idle deadline, or has not let
        the buffer drain within the whole one. Then the buffer is dropped and the connection closed."""
        self.write_deadline = None
        now, left = self.loop.time(), self.transport.get_write_buffer_size()
        ends = self.write_paused_at + self.write_total_timeout
        if left < self.write_left and now < ends:  # the client took some: a new idle deadline, within the whole
            self.write_left = left
            self.write_deadline = self.loop.call_later(min(self.write_timeout, ends - now), self._not_read)
            return
        cycle = self.cycle
        why = f"nothing taken for {self.write_timeout:g} s" if left >= self.write_left \
            else f"not taken within {self.write_total_timeout:g} s"
        log.info("%s: the client did not read the answer (%s); connection closed",
                 cycle.scope.get("path", "") if cycle is not None else "", why)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application, if still answering, answers nobody
        self._cut()
        sock = self.transport.get_extra_info("socket")
        if sock is not None:  # a reset, so the kernel drops what it holds too (a close would keep sending it)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()  # close() would wait for the buffer to drain, which is what the client will not do

    def _cut(self) -> None:
        """The connection ends: answers still buffered, and the current one if unfinished, were not delivered."""
        unsent, self.unsent = self.unsent, []
        for delivery in unsent:
            delivery.settle(False)
        cycle = self.cycle
        if self.delivery is not None and (cycle is None or not cycle.response_complete):
            self.delivery.settle(False)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm(arrived=True)

    def on_response_complete(self) -> None:
        if self.delivery is not None:  # the answer is whole: delivered unless it waits in a paused buffer
            if self.flow.write_paused:
                self.unsent.append(self.delivery)
            else:
                self.delivery.settle(True)
        self._wait(None, 0)  # uvicorn's keep-alive timer closes an idle connection; new bytes start a head timer
        super().on_response_complete()
        self._arm(arrived=False)  # pipelined bytes, parsed only now, may have begun the next request or its body

    def _arm(self, *, arrived: bool) -> None:
        if self.transport.is_closing():
            self._wait(None, 0)
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            if self.waiting != "head" and self.conn.their_state is not h11.DONE \
                    and (arrived or self.conn.trailing_data[0]):  # the first bytes of a next request
                self._wait("head", self.head_timeout)
        elif cycle.more_body:
            now = self.loop.time()
            if self.waiting != "body":
                self.body_ends = now + self.body_total_timeout
                self.server_silent = False
            if arrived or self.waiting != "body":  # renewed: a piece came (idle, within the whole body's deadline)
                self._wait("body", max(0.0, min(self.body_timeout, self.body_ends - now)))
        else:
            self._wait(None, 0)  # the request is whole: the application has it

    def _wait(self, what: str | None, seconds: float) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.waiting = what
        if what is not None:
            self.deadline = self.loop.call_later(seconds, self._timed_out)

    def _timed_out(self) -> None:
        what, self.deadline = self.waiting, None
        self.waiting = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if what == "body" and cycle is not None and (self.server_silent or self.flow.read_paused
                                                     or cycle.waiting_for_100_continue):
            # The server is not reading (a full buffer the application has not taken, or no 100 Continue sent
            # yet), or was not until lately: the silence is its own, not the client's, and once it reads again
            # the client has a whole idle deadline to go on.
            self.server_silent = self.flow.read_paused or cycle.waiting_for_100_continue
            self.body_ends += self.body_timeout
            self._wait("body", self.body_timeout)
            return
        if what == "head" and (cycle is None or cycle.response_complete) and self.conn.their_state is h11.IDLE \
                and not self.conn.trailing_data[0]:
            self.transport.close()  # connected and silent: nothing was asked, nothing to answer
            return
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # the application is answering: it cannot also be told 408
                cycle.disconnected = True
                self.transport.close()
                return
            cycle.disconnected = True  # the application, if still reading, hears a disconnect and answers nobody
        detail = (f"the request line and headers did not arrive within {self.head_timeout:g} s" if what == "head"
                  else f"the request body did not arrive within {self.body_total_timeout:g} s"
                  if self.loop.time() >= self.body_ends
                  else f"the request body stopped arriving (nothing for {self.body_timeout:g} s)")
        body = problem_bytes(408, "request-timeout", detail)
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: " + MEDIA_TYPE.encode()
                             + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
                             + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.response_started:
            # The body went bad after the application began answering: nothing more can be said on this connection.
            cycle.disconnected = True
            self.transport.close()
            return
        if cycle is not None:
            cycle.disconnected = True  # the application, if still running, answers nobody
        refusal = self.watched.refusal
        reason = str(refusal).split(":", 1)[0][:80] if refusal is not None else msg
        if refusal is not None and refusal.error_status_hint == 431:
            status, kind = 431, "header-too-large"
            detail = f"the request line and headers exceed {self.max_head} bytes"
        elif isinstance(refusal, _BothFramings):
            status, kind, detail = 400, "bad-request", str(refusal)
        else:
            status, kind = 400, "bad-request"
            detail = f"not a valid HTTP/1.1 request ({reason})"
        body = problem_bytes(status, kind, detail)
        headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=status, headers=headers, reason=TITLES[status].encode()),
                          h11.Data(data=body), h11.EndOfMessage()):
                data = self.conn.send(event)
                if data:
                    self.transport.write(data)
        except h11.LocalProtocolError:  # h11 takes no response in this state: close, as uvicorn would
            pass
        self.transport.close()


class ProblemFallback:
    """The outermost application: a request the application failed without answering gets a 500 problem document
    with an incident id, instead of uvicorn's plain-text 500 (the guard middleware answers every exception it
    sees; this covers what escapes it, such as a cancellation, and an application that returns silently)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = [False]
        gone = [False]

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        async def listened() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone[0] = True
            return message

        try:
            await self.app(scope, listened, watched)
        except Exception:
            if started[0]:
                raise
            incident = secrets.token_hex(6)
            log.exception("incident %s on %s: the application failed without answering", incident,
                          scope.get("path", ""))
            await self._answer(send, incident)
            return
        except BaseException:  # a cancellation: answer if nothing was, and let it go on
            if not started[0]:
                await self._answer(send, secrets.token_hex(6))
            raise
        if not started[0] and gone[0]:
            # The client went away (or was cut off: a body that stopped arriving) before an answer: nobody to tell.
            log.info("%s: the client disconnected before the answer", scope.get("path", ""))
            return
        if not started[0]:
            incident = secrets.token_hex(6)
            log.error("incident %s on %s: the application returned without answering", incident,
                      scope.get("path", ""))
            await self._answer(send, incident)

    @staticmethod
    async def _answer(send: Send, incident: str) -> None:
        body = problem_bytes(500, "internal-error", f"an internal error occurred (incident {incident})",
                             incident=incident)
        await send({"type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def config(app: ASGIApp, *, host: str, port: int, **options: Any) -> Config:
    """The server configuration of ``provenance serve`` (options: more uvicorn settings, e.g. for tests)."""
    return Config(ProblemFallback(app), host=host, port=port, http=ProblemH11Protocol, ws="none",
                  h11_max_incomplete_event_size=MAX_HEADER_BYTES, interface="asgi3", log_level="warning",
                  access_log=False, **options)


def serve(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    uvicorn.Server(config(app, host=host, port=port)).run()
