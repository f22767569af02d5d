"""New heads over a WebSocket (provenance.chain.subscribe): pushed by a real endpoint (Hardhat, which serves
``eth_subscribe`` on its HTTP port), reconnected after the socket is cut, and harmless when the endpoint has no
WebSocket, refuses the subscription or sends what is not a header. And the ``[chain] ws`` key of node.toml."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from provenance.chain.rpc import RpcChain
from provenance.chain.subscribe import HeadSubscription, check_ws_url
from provenance.config import NodeConfig
from provenance.errors import ChainError, ConfigError
from tests.support.cuttable_proxy import CuttableProxy, wait_for


def _ws(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http")


@contextlib.contextmanager
def fake_ws_server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
        server.shutdown()


def _until_closed(ws: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        ws.recv(timeout=10)


def test_a_new_head_is_pushed_for_every_block(hardhat_url: str) -> None:
    chain = RpcChain(hardhat_url)
    heads: list[int] = []
    try:
        with HeadSubscription(_ws(hardhat_url), on_head=heads.append) as sub:
            wait_for(lambda: sub.connected, what="the subscription")
            start = chain.block_number()
            for _ in range(3):
                chain.request("evm_mine")
            wait_for(lambda: len(heads) >= 3, what="three heads")
            assert heads == [start + 1, start + 2, start + 3]
            assert sub.heads == 3 and sub.last_head == start + 3 and sub.connects == 1 and sub.drops == 0
        assert not sub.connected
    finally:
        chain.close()


ANVIL = sorted((Path(__file__).resolve().parents[2] / "node").glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))


@pytest.fixture
def anvil_url() -> Iterator[str]:
    """anvil (the devnet's chain) on a free port: it serves WebSocket on its HTTP port, as Hardhat does."""
    assert ANVIL, "anvil is not installed: run scripts/test (it installs node/ from npm)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(ANVIL[0]), "--host", "127.0.0.1", "--port", str(port), "--hardfork", "cancun",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        chain = wait_for(lambda: _try_chain(url), timeout=30, what="anvil answering")
        chain.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _try_chain(url: str) -> RpcChain | None:
    try:
        return RpcChain(url, request_timeout=1, retries=0)
    except ChainError:
        return None


def test_anvil_pushes_new_heads_on_its_http_port(anvil_url: str) -> None:
    chain = RpcChain(anvil_url)
    heads: list[int] = []
    try:
        with HeadSubscription(_ws(anvil_url), on_head=heads.append) as sub:
            wait_for(lambda: sub.connected, what="the subscription")
            chain.request("evm_mine")
            chain.request("evm_mine")
            wait_for(lambda: len(heads) >= 2, what="two heads")
            assert heads == [chain.block_number() - 1, chain.block_number()]
    finally:
        chain.close()


def test_a_cut_socket_is_reconnected_and_heads_come_again(hardhat_url: str) -> None:
    chain = RpcChain(hardhat_url)
    proxy = CuttableProxy(("127.0.0.1", int(hardhat_url.rsplit(":", 1)[1])))
    states: list[bool] = []
    heads: list[int] = []
    try:
        with HeadSubscription(proxy.ws_url, on_head=heads.append, on_state=states.append, max_backoff=0.2) as sub:
            wait_for(lambda: sub.connected, what="the subscription")
            proxy.down()
            wait_for(lambda: not sub.connected, what="the drop")
            chain.request("evm_mine")  # mined while the socket is down: not pushed, the follower's poll finds it
            time.sleep(0.5)
            assert sub.drops == 1 and sub.connects == 1 and heads == [] and sub.last_error is not None
            proxy.up()
            wait_for(lambda: sub.connected, what="the reconnection")
            chain.request("evm_mine")
            wait_for(lambda: heads, what="a head after reconnecting")
            assert heads == [chain.block_number()] and sub.connects == 2
            proxy.cut()  # a cut while accepting: reconnected at once
            wait_for(lambda: sub.connects == 3 and sub.connected, what="the second reconnection")
        assert states[:4] == [True, False, True, False]
    finally:
        proxy.down()
        chain.close()


def test_an_endpoint_without_websocket_is_retried_and_harms_nothing() -> None:
    class Plain(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sub = HeadSubscription(f"ws://127.0.0.1:{server.server_address[1]}", on_head=lambda _n: None,
                               max_backoff=0.1).start()
        wait_for(lambda: sub.last_error, what="the failed handshake")
        assert not sub.connected and sub.connects == 0 and "Invalid" in sub.last_error
        t0 = time.monotonic()
        sub.close()
        assert time.monotonic() - t0 < 5
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_subscription_and_messages_that_are_not_heads_are_not_taken_for_heads() -> None:
    def refuses(ws: ServerConnection) -> None:
        ws.recv()
        ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no subscriptions"}}))
        _until_closed(ws)

    with fake_ws_server(refuses) as url:
        sub = HeadSubscription(url, on_head=lambda _n: None, max_backoff=0.1).start()
        wait_for(lambda: sub.last_error, what="the refusal")
        sub.close()
        assert "SubscriptionRefused" in str(sub.last_error) and "no subscriptions" in str(sub.last_error)
        assert sub.connects == 0

    def lies(ws: ServerConnection) -> None:
        request = orjson.loads(ws.recv())
        assert request["method"] == "eth_subscribe" and request["params"] == ["newHeads"]
        ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": "0xabc"}))
        note = {"jsonrpc": "2.0", "method": "eth_subscription"}
        ws.send(orjson.dumps({**note, "params": {"subscription": "0xother", "result": {"number": "0x5"}}}))
        ws.send(orjson.dumps({**note, "params": {"subscription": "0xabc", "result": {"number": 7}}}))
        ws.send(orjson.dumps({**note, "params": {"subscription": "0xabc", "result": "0x9"}}))
        ws.send(orjson.dumps({**note, "params": {"subscription": "0xabc", "result": {"number": "0x2a"}}}))
        ws.send(b"[" * 100 + b"]" * 100)  # nested past the limit: the connection is dropped, not parsed
        _until_closed(ws)

    heads: list[int] = []
    with fake_ws_server(lies) as url:
        sub = HeadSubscription(url, on_head=heads.append, max_backoff=0.1).start()
        wait_for(lambda: sub.drops, what="the drop on the deep message")
        sub.close()
    assert heads == [42] and sub.heads == 1
    assert "NestingTooDeep" in str(sub.last_error)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8545", "ws://", "127.0.0.1:8546", ""])
def test_a_ws_url_must_be_ws_or_wss_with_a_host(url: str) -> None:
    with pytest.raises(ChainError, match="WebSocket URL"):
        check_ws_url(url)
    assert check_ws_url("wss://besu.internal:8546/ws") == "wss://besu.internal:8546/ws"


def test_node_toml_chain_ws_is_read_written_and_checked(tmp_path: Path) -> None:
    rpc = {"backend": "rpc", "rpc_url": "http://127.0.0.1:8545", "chain_id": 31337}
    assert NodeConfig.from_dict(tmp_path, {"chain": rpc}).chain.ws == ""  # off unless set
    cfg = NodeConfig.from_dict(tmp_path, {"chain": {**rpc, "ws": "ws://127.0.0.1:8546"}})
    assert cfg.chain.ws == "ws://127.0.0.1:8546"
    cfg.save()
    assert 'ws = "ws://127.0.0.1:8546"' in (tmp_path / "node.toml").read_text()
    assert NodeConfig.load(tmp_path).chain.ws == "ws://127.0.0.1:8546"
    assert "ws =" not in NodeConfig.from_dict(tmp_path, {"chain": rpc}).to_toml()
    with pytest.raises(ConfigError, match="ws"):
        NodeConfig.from_dict(tmp_path, {"chain": {**rpc, "ws": "http://127.0.0.1:8545"}})
    with pytest.raises(ConfigError, match="rpc backend only"):
        NodeConfig.from_dict(tmp_path, {"chain": {"backend": "embedded", "ws": "ws://127.0.0.1:8546"}})
