"""New chain heads pushed over a WebSocket (``eth_subscribe`` to ``"newHeads"``), so a node follows the chain
without polling it.

Geth, Besu (``rpc-ws-port``), anvil and Hardhat (both on their HTTP port) push one ``eth_subscription``
notification per new block (and one per block of a new branch after a reorg). A notification is only a wake-up
call: the follower still reads the head, the headers and the logs over HTTP and judges them exactly as when it
polls, so a socket that lies, repeats, skips or stops costs latency, never correctness. That is also why the
follower keeps a slow poll while subscribed, and polls at its full rate while the socket is down.

The connection runs in one daemon thread with the ``websockets`` package's synchronous client (the library
web3's own WebSocket provider is built on): web3 8's ``WebSocketProvider`` is asyncio-only, and the follower is a
thread, so using it would mean an event loop in a thread for one stream of small messages. A dropped or refused
connection is retried with exponential backoff up to ``max_backoff`` seconds, for as long as the subscription
is open; an endpoint without WebSocket (an HTTP-only server, a refused upgrade) is retried the same way and,
meanwhile, polling carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from provenance.core.ijson import check_depth
from provenance.errors import ChainError

log = logging.getLogger("provenance.chain.subscribe")

MAX_MESSAGE_BYTES = 1024 * 1024
"""Largest WebSocket message read: a newHeads notification is a block header, under 2 KiB; anything larger is
not one, and the connection is dropped rather than buffered."""

MAX_DEPTH = 8
"""A notification nests 3 levels (message, params, header); a little room, not the API's 64."""


class SubscriptionRefused(ChainError):
    """Raised when a WebSocket endpoint answers ``eth_subscribe`` with an error or a malformed answer."""


def check_ws_url(url: str) -> str:
    """``url`` if it is a ws:// or wss:// URL with a host, else a ChainError naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ChainError(f"invalid WebSocket URL {url!r}: expected ws(s)://host[:port][/path]")
    return url


class HeadSubscription:
    """A ``newHeads`` subscription kept open (reconnecting) until :meth:`close`; ``on_head(number)`` is called
    from the subscription's thread for every head pushed.

    ``connected`` says whether a subscription is live now; ``heads``, ``connects`` and ``drops`` count what
    happened since :meth:`start`, and ``last_error`` names why the last connection ended or failed."""

    def __init__(self, url: str, *, on_head: Callable[[int], None], open_timeout: float = 5.0,
                 max_backoff: float = 5.0, on_state: Callable[[bool], None] | None = None) -> None:
        self.url = check_ws_url(url)
        self._on_head = on_head
        self._on_state = on_state
        self._open_timeout = open_timeout
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ws: ClientConnection | None = None
        self._thread: threading.Thread | None = None
        self.heads = 0
        self.connects = 0
        self.drops = 0
        self.last_head: int | None = None
        self.last_error: str | None = None

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._ws is not None

    def start(self) -> HeadSubscription:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="head-subscription", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.disconnect()
        if self._thread is not None:
            self._thread.join(timeout)

    def disconnect(self) -> None:
        """Close the current connection (if any), as a network failure would; the thread reconnects."""
        with self._lock:
            ws = self._ws
        if ws is not None:
            ws.close()

    def __enter__(self) -> HeadSubscription:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=self._open_timeout, close_timeout=1,
                             max_size=MAX_MESSAGE_BYTES, compression=None) as ws:
                    subscription = self._subscribe(ws)
                    with self._lock:
                        self._ws = ws
                    self.connects += 1
                    delay = 0.1  # a connection that subscribed resets the backoff
                    self._state(True)
                    log.info("following new heads over %s (subscription %s)", self.url, subscription)
                    try:
                        self._listen(ws, subscription)
                    finally:
                        with self._lock:
                            self._ws = None
                        self.drops += 1
                        self._state(False)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI, ChainError,
                    ValueError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                if not self._stop.is_set():
                    log.info("head subscription %s: %s; polling meanwhile, retrying in %.1f s",
                             self.url, self.last_error, delay)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self._max_backoff)

    def _subscribe(self, ws: ClientConnection) -> str:
        ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
        while True:  # notifications of an earlier subscription may arrive before the answer
            answer = _message(ws.recv(timeout=self._open_timeout))
            if isinstance(answer, dict) and answer.get("id") == 1:
                break
        result = answer.get("result")
        if not isinstance(result, str) or not result:
            error = answer.get("error")
            text = error.get("message") if isinstance(error, dict) else error
            raise SubscriptionRefused(f"{self.url} refused eth_subscribe newHeads: {str(text)[:200]}")
        return result

    def _listen(self, ws: ClientConnection, subscription: str) -> None:
        for raw in ws:
            if self._stop.is_set():
                return
            message = _message(raw)
            if not isinstance(message, dict) or message.get("method") != "eth_subscription":
                continue
            params = message.get("params")
            if not isinstance(params, dict) or params.get("subscription") != subscription:
                continue
            header = params.get("result")
            number = header.get("number") if isinstance(header, dict) else None
            if not isinstance(number, str) or not number.startswith("0x"):
                continue  # not a header: ignore it, the follower reads the head itself anyway
            self.last_head = int(number, 16)
            self.heads += 1
            self._on_head(self.last_head)

    def _state(self, connected: bool) -> None:
        if self._on_state is not None:
            self._on_state(connected)


def _message(raw: str | bytes) -> Any:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    check_depth(data, MAX_DEPTH, "a WebSocket message")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ChainError(f"a WebSocket message is not JSON: {exc}") from None
