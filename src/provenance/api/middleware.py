"""The guard in front of every route, as plain ASGI (no per-request task or thread of its own):

* request bodies over the limit are refused with 413 before the route sees them (Content-Length checked
  first, then the bytes actually received);
* every request body, whatever its declared media type, must be I-JSON (provenance.core.ijson): nesting
  within 64 levels, no repeated key, no lone surrogate, no NaN. Anything else is a 422 problem naming what (the
  key and its path for a repeated key) before a route, a credential check or FastAPI's own parser sees it, so no
  body reaches a JSON parser unchecked (the standard decoder crashes the process on deep nesting here, since
  py_ecc raises the recursion limit);
* the request path and every query parameter must be UTF-8 once percent-decoded: the server and the framework
  would otherwise read a malformed byte as U+FFFD, so two different requests (``%FF`` and ``%FE``, or a real
  U+FFFD) would read as one identifier; a 400 problem names the parameter;
* each client (its credential if it presents one, else its address) has a token bucket; an empty bucket
  gets 429 with Retry-After;
* a method the node does not implement (any but :data:`METHODS`) is answered 501; HEAD is served as GET without
  the body, wherever GET is;
* request counts and latencies are recorded for /metrics, labelled by method (one of :data:`METHODS`) and route
  template, never by anything the client spelled; a request is counted once its answer has left the node, as 499
  if the client went away or stopped reading first (the server's ``provenance.delivery`` scope extension);
* an exception nothing else handled becomes a 500 problem document with an incident id: no stack trace
  reaches the client.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from provenance.api.auth import SENT_METHOD
from provenance.api.problems import error_response, problem
from provenance.core import ijson
from provenance.errors import InvalidInput

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods the node implements (a route may still not allow one: 405); any other is 501, counted as "other"."""

# Routes whose bodies are text by their specification, parsed by their own strict reader instead.
TEXT_BODIES = frozenset({"/api/v1/tlog/add-checkpoint"})  # tlog-witness (C2SP): core/tlog.parse_add_checkpoint


class TokenBuckets:
    """Per-client token buckets: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                if len(self._buckets) >= self.max_clients and client not in self._buckets:
                    self._buckets.clear()  # a flood of distinct clients: forget them all rather than grow
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate


class Guard:
    def __init__(self, app: ASGIApp, *, max_body: int, buckets: TokenBuckets | None,
                 observe: Callable[[str, str, int, float], None],
                 token_id: Callable[[str], str | None] = lambda _t: None) -> None:
        self.app = app
        self.token_id = token_id
        self.max_body = max_body
        self.buckets = buckets
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")
        status_box = [0]
        answered = [False]
        method = scope.get("method", "")
        head = method == "HEAD"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            elif message["type"] == "http.response.body":
                answered[0] = not message.get("more_body", False)
                if head and message.get("body"):
                    message = {**message, "body": b""}  # the server drops it too; an in-process client may not
            await send(message)

        # HEAD is GET without the body (RFC 9110 section 9.3.2): the routes see GET, in a scope of their own, since
        # the server frames the answer by the request's own method. A signed request is checked against the method
        # as it was sent (SENT_METHOD): a signature binds it.
        app_scope = {**scope, "method": "GET", SENT_METHOD: "HEAD"} if head else scope
        writes = method in ("POST", "PUT", "PATCH", "DELETE")
        # Any other request is bounded too when it says it carries a body (a chunked GET): a route may read it
        # (a signed request's body is part of what is signed), and nothing unbounded may be buffered.
        has_body = writes or any(k in (b"transfer-encoding", b"content-length") for k, _ in scope.get("headers", ()))
        # Headers are only looked at when needed: a plain GET with rate limiting off goes straight through.
        headers = _headers(scope) if (has_body or self.buckets is not None) else {}
        try:
            if method not in METHODS:
                shown = method if len(method) <= 32 else method[:32] + "..."
                await problem(501, "method-not-implemented", f"this node does not implement the method {shown!r}; "
                              f"it serves {', '.join(sorted(METHODS))}", instance=path)(scope, receive, send_wrapper)
                return
            malformed = _malformed_url(scope)
            if malformed is not None:
                await problem(400, "bad-request", malformed, instance=path)(scope, receive, send_wrapper)
                return
            if self.buckets is not None:
                wait = self.buckets.take(self._client_key(scope, headers), time.monotonic())
                if wait > 0:
                    resp = problem(429, "rate-limited", f"too many requests from this client; retry in "
                                                        f"{math.ceil(wait)} s", instance=path,
                                   headers={"Retry-After": str(max(1, math.ceil(wait)))})
                    await resp(scope, receive, send_wrapper)
                    return
            length = headers.get("content-length")
            if length is not None:
                if not (length.isascii() and length.isdigit() and len(length) <= 19):
                    await problem(400, "bad-request", "Content-Length is not a number",
                                  instance=path)(scope, receive, send_wrapper)
                    return
                if int(length) > self.max_body:
                    await self._too_large(scope, receive, send_wrapper, path)
                    return
            body_receive = receive
            if has_body:
                chunks, size = [], 0
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        status_box[0] = 499  # the client went away (or was cut off, 408): not a server error
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        await self._too_large(scope, receive, send_wrapper, path)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                body = b"".join(chunks)
                if body and writes and path not in TEXT_BODIES:
                    try:
                        ijson.loads(body, what="the request body")
                    except InvalidInput as exc:
                        await error_response(exc, path)(scope, receive, send_wrapper)
                        return
                replayed = [False]

                async def body_receive() -> Message:
                    if not replayed[0]:
                        replayed[0] = True
                        return {"type": "http.request", "body": body, "more_body": False}
                    return await receive()

            try:
                await self.app(app_scope, body_receive, send_wrapper)
            except Exception as exc:  # noqa: BLE001 - the last line of defence: never a stack trace
                if status_box[0]:
                    raise
                await error_response(exc, path)(scope, receive, send_wrapper)
        finally:
            # Labels come from fixed sets: a route's template (never the raw path), a known method.
            route = app_scope.get("route")
            template = getattr(route, "path", None) or ("unmatched" if status_box[0] == 404 else "other")
            label = method if method in METHODS else "other"
            status, seconds = status_box[0] or 500, time.perf_counter() - started
            report = _delivery_report(scope) if answered[0] else None
            if report is None:
                self.observe(label, template, status, seconds)
            else:  # the answer may still sit in the server's buffer, for a client that is not reading
                report(lambda delivered: self.observe(label, template, status if delivered else 499, seconds))

    def _client_key(self, scope: Scope, headers: dict[str, str]) -> str:
        """A known token's id, else the client's address: inventing credentials buys no fresh bucket."""
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            tid = self.token_id(auth[7:].strip())
            if tid is not None:
                return "t:" + tid
        client = scope.get("client")
        return "a:" + (client[0] if client else "unknown")

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        await problem(413, "body-too-large", f"the request body exceeds {self.max_body} bytes",
                      instance=path, limit=self.max_body)(scope, receive, send)


def _malformed_url(scope: Scope) -> str | None:
    """What is not UTF-8 in the request's path or query once percent-decoded, or None (the common case, with no
    percent sign, costs one search each)."""
    raw_path = scope.get("raw_path") or b""
    if b"%" in raw_path:
        try:
            unquote_to_bytes(raw_path).decode("utf-8")
        except UnicodeDecodeError:
            return "the request path is not UTF-8 text once percent-decoded"
    query = scope.get("query_string") or b""
    if b"%" in query or not query.isascii():
        for pair in query.split(b"&"):
            name, _, value = pair.partition(b"=")
            for part in (name, value):
                try:
                    unquote_to_bytes(part).decode("utf-8")
                except UnicodeDecodeError:
                    shown = unquote(name.decode("latin-1"), errors="replace")[:40]
                    return f"the query parameter {shown!r} is not UTF-8 text once percent-decoded"
    return None


def _delivery_report(scope: Scope) -> Callable[[Callable[[bool], None]], None] | None:
    """The server's ``report`` of whether this request's answer left the node (api.server.Delivery), if it has one
    (an in-process client has not: its answers are delivered when sent)."""
    extension = (scope.get("extensions") or {}).get("provenance.delivery")
    return extension.get("report") if extension else None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


