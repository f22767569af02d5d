"""A JSON-RPC endpoint that misbehaves in every way seen in the wild; the index must still equal ground truth. And
endpoints that answer with deeply nested or malformed JSON: refused as a failing endpoint, the process stays up."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from provenance.chain.base import Log
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.rpc import RpcChain, RpcError
from provenance.core.ijson import MAX_DEPTH
from provenance.errors import ChainUnavailable
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.types import Status
from tests.support.federation import make_fed, request
from tests.support.index import dump_of


class HostileChain:
    """Wraps a real chain; its get_logs refuses wide ranges with the codes real endpoints use, silently answers
    [] for medium ranges, shuffles and duplicates logs, and times out one call in ten (and the first call, so
    that a short run sees a timeout too)."""

    def __init__(self, inner: EmbeddedChain, seed: int) -> None:
        self._inner = inner
        self._rng = random.Random(seed)
        self.calls = {"refused": 0, "silent": 0, "timeouts": 0, "ok": 0}

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def get_logs(self, addresses: list[bytes], from_block: int, to_block: int) -> list[Log]:
        width = to_block - from_block + 1
        if self._rng.random() < 0.10 or not self.calls["timeouts"]:
            self.calls["timeouts"] += 1
            raise ChainUnavailable("read timed out")
        if width > 20:  # the follower starts at 16 blocks and doubles the range while answers are small
            self.calls["refused"] += 1
            code = self._rng.choice([-32005, -32602])
            raise RpcError("eth_getLogs", code, "query returned more than 10000 results" if code == -32005
                           else "block range too large")
        logs = self._inner.get_logs(addresses, from_block, to_block)
        if width > 4 and logs and self._rng.random() < 0.5:
            self.calls["silent"] += 1
            return []
        self.calls["ok"] += 1
        out = logs + [log for log in logs if self._rng.random() < 0.2]
        self._rng.shuffle(out)
        return out


def test_hostile_endpoint_gives_the_same_index(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        owner, _ = fed.entity("SDE", mandate_to=("SDE", "ZJDE"))
        ids = []
        for i in range(60):
            parents = tuple(ids[-2:]) if i % 3 else ()
            ids.append(fed.register("SDE" if i % 2 else "ZJDE", request(owner, parents=parents)))
            if i % 7 == 6:
                fed.svc.set_status(fed.keys["SDE" if i % 2 else "ZJDE"], ids[-1], Status.SUSPENDED)
        for seed in range(3):
            hostile = HostileChain(fed.chain, seed)
            store = IndexStore(tmp_path / f"hostile-{seed}")
            Follower(chain=hostile, contracts=fed.contracts, store=store, max_range=500).sync()  # type: ignore[arg-type]
            assert all(hostile.calls[k] > 0 for k in hostile.calls), hostile.calls
            assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / f"truth-{seed}", max_range=500)
            store.close()
    finally:
        fed.chain.close()


class _Endpoint:
    """A JSON-RPC endpoint on 127.0.0.1 that answers eth_chainId honestly and every other method with ``answer``."""

    def __init__(self, answer: Callable[[dict[str, Any]], bytes]) -> None:
        endpoint = self
        self.answer = answer
        self.calls = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.calls += 1
                body = (b'{"jsonrpc":"2.0","id":%d,"result":"0x5de"}' % request["id"]
                        if request["method"] == "eth_chainId" else endpoint.answer(request))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _result(text: bytes) -> Callable[[dict[str, Any]], bytes]:
    return lambda request: b'{"jsonrpc":"2.0","id":%d,"result":%s}' % (request["id"], text)


@pytest.mark.parametrize("depth", [MAX_DEPTH, 1_000, 100_000])
def test_a_deeply_nested_answer_is_refused_and_the_process_stays_up(depth: int) -> None:
    import py_ecc  # noqa: F401 - as in a node: the recursion limit raised to 100,000

    deep = b"[" * depth + b"]" * depth
    endpoint = _Endpoint(_result(deep))
    try:
        chain = RpcChain(endpoint.url, retries=1)
        with pytest.raises(ChainUnavailable, match="nests more than 64 levels"):
            chain.block_number()
        with pytest.raises(ChainUnavailable, match="nests more than 64 levels"):
            chain.get_logs([b"\x11" * 20], 0, 10)
        assert endpoint.calls >= 5  # each refusal was retried once: the endpoint, not the node, is at fault
    finally:
        endpoint.close()


def test_answers_just_within_the_limit_and_other_hostile_shapes() -> None:
    within = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)  # inside the response object: MAX_DEPTH in all
    answers = iter([_result(within), lambda r: b"[1, 2]", lambda r: b'{"jsonrpc":"2.0","id":1,"error":"boom"}',
                    lambda r: b'{"jsonrpc":"2.0","id":1,"result":NaN}'])
    current = [next(answers)]
    endpoint = _Endpoint(lambda request: current[0](request))
    try:
        chain = RpcChain(endpoint.url, retries=0)
        assert chain.request("eth_blockNumber") == json.loads(within)
        current[0] = next(answers)
        with pytest.raises(ChainUnavailable, match="not a JSON-RPC response object"):
            chain.request("eth_blockNumber")
        current[0] = next(answers)
        with pytest.raises(RpcError, match="boom"):
            chain.request("eth_blockNumber")
        current[0] = next(answers)
        with pytest.raises(ChainUnavailable, match="not JSON"):
            chain.request("eth_blockNumber")
    finally:
        endpoint.close()


def test_a_follower_on_a_deep_answering_endpoint_stops_with_a_chain_error(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    deep = b"[" * 100_000 + b"]" * 100_000
    endpoint = _Endpoint(_result(deep))
    store = IndexStore(tmp_path / "index")
    try:
        chain = RpcChain(endpoint.url, retries=0)
        with pytest.raises(ChainUnavailable):
            Follower(chain=chain, contracts=fed.contracts, store=store).sync()
        assert store.checkpoint() is None  # nothing indexed from it
    finally:
        store.close()
        endpoint.close()
        fed.chain.close()
