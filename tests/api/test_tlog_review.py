"""Answers to a hostile review of the C2SP transparency-log code: what a witness, a sender of add-checkpoint
requests or a client of the tiles and bindings routes can send that crashed the node, answered 500, broke the
spec's wire format or planted a bad signature line in what the node serves."""

from __future__ import annotations

import hashlib
import http.server
import logging
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from provenance.api.middleware import Guard
from provenance.api.routes import tlog as tlog_routes
from provenance.config import TlogConfig, Witness
from provenance.core import merkle, note, tlog
from provenance.services import tlog as tlog_service
from provenance.services.tlog_push import CheckpointPusher
from tests.support.served import Served, serve

API = "/api/v1"
WITNESS = f"{API}/tlog/add-checkpoint"


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


# ---------------------------------------------------------------------- 2. what the witness keeps of a request


@pytest.fixture(scope="module")
def zjde(node: Served) -> dict[str, Any]:
    """ZJDE binds a note key of its own (signed by its exchange key) to the SDE node's witness."""
    t = tnode(node)
    ex = t.exchange_of_code("ZJDE")
    signer = note.Signer(t.origin(ex), hashlib.sha256(b"zjde review note key").digest())
    statement = tlog.binding_statement(chain_id=node.runtime.chain_id, registry=node.runtime.registry, exchange=ex,
                                       code="ZJDE", vkey=signer.verifier.vkey, block=1)
    account = node.runtime.node.keystore.load("ZJDE")
    sig = "0x" + bytes(account.sign_message(encode_defunct(text=statement)).signature).hex()
    r = node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": sig})
    assert r.status_code == 200, r.text
    logs = node.runtime.ops.logs
    hashes = [leaf.leaf_hash for leaf in logs.leaves(ex, 0, logs.size(ex))]
    return {"ex": ex, "signer": signer, "hashes": hashes, "account": account}


def witness_client(node: Served) -> TestClient:
    """The routes inside the Guard middleware, which reads every body as I-JSON (tlog-witness bodies are text)."""
    layer: Any = node.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, Guard):
        layer = layer.app
    return TestClient(layer.app)


def post(node: Served, old: int, msg: bytes) -> Any:
    return witness_client(node).post(WITNESS, content=tlog.add_checkpoint_body(old, [], msg),
                                     headers={"Content-Type": "text/plain"})


def served_checkpoint_lines_verify(node: Served, z: dict[str, Any]) -> bytes:
    """The checkpoint of ZJDE's log the node serves in a tlog-proof, after checking that every line under a key
    a client knows (ZJDE's note key, this node's witness key) verifies."""
    rid = next(r for r in node.demo["records"].values()
               if node.runtime.ops.indexed(bytes.fromhex(str(r)[2:])).registrar == z["ex"])
    r = node.client.get(f"{API}/tlog/proof/{rid}")
    assert r.status_code == 200, r.text
    msg = tlog.parse_proof_bundle(r.content).checkpoint
    text, sigs = note.parse(msg)
    cp = tlog.Checkpoint.from_text(text)
    witness = tnode(node).witness.verifier
    log_key: note.Verifier = z["signer"].verifier
    known = 0
    for s in sigs:
        if (s.name, s.key_id) == (witness.name, witness.key_id):
            assert tlog.verify_cosignature(cp, witness, s) > 0
            known += 1
        elif (s.name, s.key_id) == (log_key.name, log_key.key_id):
            assert log_key.verify(text.encode(), s.signature)
            known += 1
    assert known == 2, sigs
    return msg


def test_the_witness_keeps_only_verified_lines(node: Served, zjde: dict[str, Any]) -> None:
    n = len(zjde["hashes"])
    witness = tnode(node).witness.verifier
    cp = tlog.sign_checkpoint(tlog.Checkpoint(zjde["signer"].name, n, merkle.root(zjde["hashes"])), zjde["signer"])
    planted = note.Signature(witness.name, witness.key_id, secrets.token_bytes(72)).line().encode()
    stranger = note.Signature("example.com/stranger", 7, secrets.token_bytes(64)).line().encode()
    r = post(node, 0, cp + planted + stranger)
    assert r.status_code == 200, r.text
    kept = served_checkpoint_lines_verify(node, zjde)
    assert planted not in kept and stranger not in kept
    # A repeat at the same size and root is cosigned again but changes nothing kept.
    again = note.Signature(witness.name, witness.key_id, secrets.token_bytes(72)).line().encode()
    r = post(node, n, cp + again)
    assert r.status_code == 200, r.text
    assert served_checkpoint_lines_verify(node, zjde) == kept
    assert tnode(node).state.note(tlog_service.WITNESSED, zjde["signer"].name) == kept


# ---------------------------------------------------------------------- 3. the 409's media type


def test_a_409_carries_exactly_the_tlog_size_media_type(node: Served, zjde: dict[str, Any]) -> None:
    def signed(size: int) -> bytes:
        cp = tlog.Checkpoint(zjde["signer"].name, size, merkle.root(zjde["hashes"][:size]))
        return tlog.sign_checkpoint(cp, zjde["signer"])

    have = tnode(node).state.latest(tlog_service.WITNESSED, zjde["signer"].name)[0]
    if have == 0:  # first contact: the witness cosigns size 1
        assert post(node, 0, signed(1)).status_code == 200
        have = 1
    r = post(node, 0, signed(have))  # a stale old size
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "text/x.tlog.size"  # Go's witness clients compare it exactly
    assert r.content == f"{have}\n".encode()


# ---------------------------------------------------------------------- 4. partial tiles of earlier sizes


def test_partial_tiles_of_every_size_below_the_full_tile_are_served(node: Served) -> None:
    t = tnode(node)
    assert t.own is not None
    code, n = t.code(t.own), t.tiles.size(t.own)
    assert 3 <= n < tlog.TILE_WIDTH, n  # the demo's log: one partial tile, of width n
    for kind, item in (("entries", None), ("0", 32)):
        widest = node.client.get(f"/tlog/{code}/tile/{kind}/000.p/{n}")
        assert widest.status_code == 200, widest.text
        items = tlog.parse_entry_bundle(widest.content) if item is None else \
            [widest.content[i:i + 32] for i in range(0, len(widest.content), 32)]
        assert len(items) == n
        for width in range(1, n):  # the tiles of the sizes a checkpoint may have been produced at
            r = node.client.get(f"/tlog/{code}/tile/{kind}/000.p/{width}")
            assert r.status_code == 200, (kind, width, r.text)
            got = tlog.parse_entry_bundle(r.content) if item is None else \
                [r.content[i:i + 32] for i in range(0, len(r.content), 32)]
            assert got == items[:width]
        assert node.client.get(f"/tlog/{code}/tile/{kind}/000.p/{n + 1}").status_code == 404  # beyond the log
        assert node.client.get(f"/tlog/{code}/tile/{kind}/000").status_code == 404  # no full tile yet


# ---------------------------------------------------------------------- 5. a tile index of thousands of digits


def test_a_tile_index_beyond_2_64_is_a_named_refusal(node: Served) -> None:
    long = "x999/" * 3000 + "999"
    with pytest.raises(tlog.MalformedTilePath):
        tlog.parse_tile_path("tile/0/" + long)
    r = node.client.get("/tlog/SDE/tile/0/" + long)
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-input"), r.text
    with pytest.raises(tlog.MalformedTilePath):
        tlog.parse_tile_path("tile/0/" + "x999/" * 6 + "999")  # seven groups, but beyond 2**64
    # The largest index written in seven groups still parses (and is beyond any log: 404).
    top = tlog.tile_path(0, 2**64 - 1)
    assert top.count("/") == 8 and tlog.parse_tile_path(top) == (0, 2**64 - 1, tlog.TILE_WIDTH)
    assert node.client.get(f"/tlog/SDE/{top}").status_code == 404


# ---------------------------------------------------------------------- 6. digits that are not ASCII


def arabic_indic(value: int) -> str:
    return "".join(chr(0x660 + int(d)) for d in str(value))


@pytest.mark.parametrize("change", ["exchange-superscript", "exchange-arabic", "block-superscript", "block-arabic"])
def test_binding_numbers_are_ascii_decimals(node: Served, zjde: dict[str, Any], change: str) -> None:
    ex = zjde["ex"]
    statement = tlog.binding_statement(chain_id=node.runtime.chain_id, registry=node.runtime.registry, exchange=ex,
                                       code="ZJDE", vkey=zjde["signer"].verifier.vkey, block=12)
    what, digits = change.split("-")
    odd = {"superscript": "\u00b2", "arabic": arabic_indic(ex if what == "exchange" else 12)}[digits]
    statement = (statement.replace(f"\nexchange {ex} ZJDE\n", f"\nexchange {odd} ZJDE\n") if what == "exchange"
                 else statement.replace("\nfrom block 12\n", f"\nfrom block {odd}\n"))
    assert odd in statement
    sig = "0x" + bytes(zjde["account"].sign_message(encode_defunct(text=statement)).signature).hex()
    r = node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": sig})
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-input"), r.text


# ---------------------------------------------------------------------- 7. a witness answering several lines


def test_a_cosignature_reply_of_several_lines_keeps_the_witness_s_valid_one(node: Served) -> None:
    svc = tnode(node)
    assert svc.own is not None
    msg = svc.signed_checkpoint(svc.own)
    cp = tlog.Checkpoint.from_text(note.parse(msg)[0])
    w = note.Signer.generate("several-lines-witness", note.SIG_COSIGNATURE_V1)
    good = tlog.cosign(cp, w, 1_700_000_000).line().encode()
    # What a witness that also signs with ML-DSA-44 sends after its Ed25519 line: another key ID under its name.
    other = note.Signature(w.name, w.verifier.key_id ^ 1, secrets.token_bytes(2420 + 8)).line().encode()
    forged = note.Signature(w.name, w.verifier.key_id, secrets.token_bytes(72)).line().encode()
    assert svc.keep_cosignature(w.verifier, msg, forged + good + other) == cp
    served = node.client.get(f"/tlog/{svc.code(svc.own)}/checkpoint").content
    assert good in served and other not in served and forged not in served
    with pytest.raises(note.InvalidNoteSignature):
        svc.keep_cosignature(w.verifier, msg, other + forged)  # nothing of the witness's verifies


# ---------------------------------------------------------------------- 2b. a repeat with another root


def test_a_repeat_of_the_size_cosigned_with_another_root_is_a_409(node: Served, zjde: dict[str, Any]) -> None:
    """Beyond the chain's leaves (so the check against them does not apply first), tlog-witness answers a repeat
    of the size cosigned whose root differs with 409 and the size, and keeps what it had."""
    signer, hashes = zjde["signer"], list(zjde["hashes"])
    n = len(hashes)
    if tnode(node).state.latest(tlog_service.WITNESSED, signer.name)[0] == 0:
        assert post(node, 0, tlog.sign_checkpoint(tlog.Checkpoint(signer.name, n, merkle.root(hashes)),
                                                  signer)).status_code == 200
    beyond = hashes + [merkle.leaf_hash(b"a leaf the chain has not seen yet")]
    cp = tlog.sign_checkpoint(tlog.Checkpoint(signer.name, n + 1, merkle.root(beyond)), signer)
    r = witness_client(node).post(WITNESS, content=tlog.add_checkpoint_body(n, merkle.consistency_proof(n, beyond), cp),
                                  headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    kept = tnode(node).state.note(tlog_service.WITNESSED, signer.name)
    other = tlog.sign_checkpoint(tlog.Checkpoint(signer.name, n + 1, hashlib.sha256(b"a fork").digest()), signer)
    r = post(node, n + 1, other)
    assert r.status_code == 409 and r.content == f"{n + 1}\n".encode(), r.text
    assert r.headers["content-type"] == "text/x.tlog.size"
    assert tnode(node).state.note(tlog_service.WITNESSED, signer.name) == kept
