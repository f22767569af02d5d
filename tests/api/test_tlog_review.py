"""Answers to a hostile review of the C2SP transparency-log code: what a witness, a sender of add-checkpoint
requests or a client of the tiles and bindings routes can send that crashed the node, answered 500, broke the
spec's wire format or planted a bad signature line in what the node serves."""

from __future__ import annotations

import http.server
import logging
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.api.routes import tlog as tlog_routes
from provenance.config import TlogConfig, Witness
from provenance.services import tlog as tlog_service
from provenance.services.tlog_push import CheckpointPusher
from tests.support.served import Served, serve

API = "/api/v1"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    src, demo = demo_dir
    dst = tmp_path_factory.mktemp("tlog-review") / "data"
    shutil.copytree(src, dst)
    for served in serve(dst, demo):
        tlog_routes.install(served.client.app, served.runtime)  # type: ignore[arg-type]
        yield served


def tnode(served: Served) -> tlog_service.TlogService:
    return served.client.app.state.tlog  # type: ignore[attr-defined,no-any-return]


class FakeWitness:
    """A witness on 127.0.0.1 that answers every add-checkpoint with 200 and ``keys`` to GET <prefix>/keys."""

    def __init__(self, keys: bytes) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                self._answer(keys)

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._answer("\u2014 fake-witness AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tlog"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# ---------------------------------------------------------------------- 1. a witness's keys answer


def test_a_deeply_nested_keys_answer_is_refused_without_crashing(node: Served,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWitness(b"[" * 65536)
    try:
        pusher = CheckpointPusher(tnode(node), TlogConfig(witnesses=(Witness(fake.url),), timeout=5.0, retries=1))
        with caplog.at_level(logging.WARNING, logger="provenance.tlog.push"):
            [result] = pusher.push()  # in this process: a stack overflow would end pytest here
    finally:
        fake.close()
    assert result.outcome == "unverified" and "nest" in result.detail, result
    assert any("nest" in r.getMessage() for r in caplog.records), caplog.records
