"""Hostile add-checkpoint bodies sent through the whole app (the Guard included, as a served node takes them):
each is refused with the tlog-witness status and a plain-text reason, quickly, and leaves the witness's state file
as it was (nothing half-written by a refused request)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_defunct

from provenance.core import note, tlog
from tests.support.served import Served, serve

API = "/api/v1"
WITNESS = f"{API}/tlog/add-checkpoint"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    src, demo = demo_dir
    dst = tmp_path_factory.mktemp("hostile-tlog") / "data"
    shutil.copytree(src, dst)
    yield from serve(dst, demo)


@pytest.fixture(scope="module")
def zjde(node: Served) -> dict[str, Any]:
    """ZJDE binds a note key and has its checkpoint of size 1 cosigned, so the witness has a state to keep."""
    t = node.client.app.state.tlog  # type: ignore[attr-defined]
    ex = t.exchange_of_code("ZJDE")
    signer = note.Signer(t.origin(ex), hashlib.sha256(b"hostile review zjde").digest())
    statement = tlog.binding_statement(chain_id=node.runtime.chain_id, registry=node.runtime.registry, exchange=ex,
                                       code="ZJDE", vkey=signer.verifier.vkey, block=1)
    account = node.runtime.node.keystore.load("ZJDE")
    sig = "0x" + bytes(account.sign_message(encode_defunct(text=statement)).signature).hex()
    assert node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": sig}).status_code == 200
    logs = node.runtime.ops.logs
    hashes = [leaf.leaf_hash for leaf in logs.leaves(ex, 0, logs.size(ex))]
    cp = tlog.sign_checkpoint(tlog.Checkpoint(signer.name, 1, hashes[0]), signer)
    r = node.client.post(WITNESS, content=tlog.add_checkpoint_body(0, [], cp), headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    return {"signer": signer, "hashes": hashes, "cp": cp}


def _bodies(z: dict[str, Any]) -> list[tuple[str, bytes, int]]:
    cp: bytes = z["cp"]
    text, sigs = note.parse(cp)
    own = sigs[0].line().encode()
    unknown = note.Signature("x.example/w", 1, bytes(64)).line().encode()
    big = tlog.sign_checkpoint(tlog.Checkpoint(z["signer"].name, 1, z["hashes"][0], ("x" * (1 << 20),)), z["signer"])
    proof = b"".join(base64.b64encode(bytes([i % 256]) * 32) + b"\n" for i in range(10_000))
    return [
        ("10,000 signature lines", b"old 1\n\n" + text.encode() + b"\n" + own + unknown * 9_999, 400),
        ("101 signature lines", b"old 1\n\n" + text.encode() + b"\n" + own + unknown * 100, 400),
        ("an extension line over 1 MB", b"old 1\n\n" + big, 400),
        ("CRLF line endings", tlog.add_checkpoint_body(1, [], cp).replace(b"\n", b"\r\n"), 400),
        ("old size 2**64", b"old %d\n\n" % 2**64 + cp, 400),
        ("old size 10**400", b"old " + str(10**400).encode() + b"\n\n" + cp, 400),
        ("old size as a float", b"old 1.0\n\n" + cp, 400),
        ("old size NaN", b"old NaN\n\n" + cp, 400),
        ("tree size 2**64", b"old 1\n\n" + cp.replace(b"\n1\n", b"\n%d\n" % 2**64, 1), 400),
        ("a proof of 10,000 hashes", b"old 1\n" + proof + b"\n" + cp, 400),
        ("non-UTF-8 note", b"old 1\n\n" + cp.replace(b"ZJDE", b"ZJ\xffE", 1), 400),
        ("non-ASCII old size", b"old \xff\n\n" + cp, 400),
        ("100,000 levels of [", b"[" * 100_000, 400),
        ("a JSON document", b'{"old": 1, "old": 2}', 400),
        ("an empty body", b"", 400),
        ("over the body limit", b"old 1\n\n" + b"x" * (3 << 20), 413),
    ]


def test_hostile_witness_bodies_are_refused_and_change_nothing(node: Served, zjde: dict[str, Any]) -> None:
    state = node.data_dir / "tlog" / "witness.json"
    before = state.read_bytes()
    for what, body, status in _bodies(zjde):
        started = time.monotonic()
        r = node.client.post(WITNESS, content=body, headers={"Content-Type": "text/plain"})
        assert time.monotonic() - started < 5, what
        assert r.status_code == status, (what, r.status_code, r.text[:200])
        if status == 400:  # the protocol's own refusals: plain text naming what is wrong, one line
            assert r.headers["content-type"].startswith("text/plain"), what
            assert r.text.endswith("\n") and r.text.count("\n") == 1 and len(r.text) > 10, (what, r.text)
        else:
            assert r.headers["content-type"].startswith("application/problem+json"), what
        assert state.read_bytes() == before, what
    # The witness still works after all of them: the same checkpoint again is cosigned.
    r = node.client.post(WITNESS, content=tlog.add_checkpoint_body(1, [], zjde["cp"]))
    assert r.status_code == 200 and r.text.startswith("\u2014 "), r.text
