"""Pushing checkpoints to witnesses: node A (SDE) pushes to node B (acting for ZJDE), served by uvicorn on
127.0.0.1, and to a witness that is not there; B's cosignatures come back, are checked, and are served with A's
checkpoint, read by tlog-scales. B runs on a copy of A's chain (each embedded chain belongs to one data
directory), made after A listed its note key, so B trusts A's note key from the Federation's history."""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from tlog_scales import signing as ts_signing
from tlog_scales import tlog as ts_tlog

from provenance.api import ApiSettings, create_app
from provenance.config import NodeConfig, TlogConfig, Witness
from provenance.core import merkle, note, tlog
from provenance.services import tlog as tlog_service
from provenance.services.tlog_push import CheckpointPusher, http
from provenance.store.witness_state import TlogState
from tests.support.passphrase import passphrase
from tests.support.served import Served, serve
from tests.support.server import free_port

API = "/api/v1"


class Uvicorn:
    """An app served on 127.0.0.1 in a thread of this process, stopped by close()."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the witness did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def wait_for(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pair(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    src, demo = demo_dir
    a = tmp_path_factory.mktemp("push-a") / "data"
    shutil.copytree(src, a)
    with TestClient(create_app(ApiSettings(data_dir=a, passphrase=passphrase(a.parent), follow=False))):
        pass  # A's first start lists its note key on its chain
    b = tmp_path_factory.mktemp("push-b") / "data"
    shutil.copytree(a, b)
    witness_app = create_app(ApiSettings(data_dir=b, passphrase=passphrase(b.parent), key="ZJDE", rate_per_second=0))
    served_b = Uvicorn(witness_app)
    dead = free_port()  # nothing listens there
    cfg = NodeConfig.load(a)
    witnesses = (Witness(f"{served_b.url}{API}/tlog"), Witness(f"http://127.0.0.1:{dead}{API}/tlog"))
    replace(cfg, tlog=TlogConfig(witnesses=witnesses, timeout=1.0, retries=2)).save()
    try:
        for served in serve(a, demo):
            yield {"a": served, "b": served_b, "b_dir": b, "witnesses": witnesses,
                   "b_keys": http("GET", f"{served_b.url}{API}/tlog/keys", None, 5)}
    finally:
        served_b.close()


def b_witness(pair: dict[str, Any]) -> note.Verifier:
    import json

    status, body = pair["b_keys"]
    assert status == 200
    return note.Verifier.from_vkey(json.loads(body)["witness"])


def cosigned_checkpoint(served: Served, witness: note.Verifier, size: int | None = None) -> Any:
    r = served.client.get("/tlog/SDE/checkpoint")
    assert r.status_code == 200
    text, sigs = note.parse(r.content)
    cp = tlog.Checkpoint.from_text(text)
    mine = [s for s in sigs if s.name == witness.name]
    if not mine or (size is not None and cp.size != size):
        return None
    return cp, mine, r.content


def test_the_node_pushes_to_its_witnesses_and_serves_their_cosignatures(pair: dict[str, Any]) -> None:
    a: Served = pair["a"]
    witness = b_witness(pair)
    cp, lines, msg = wait_for("B's cosignature on A's checkpoint", lambda: cosigned_checkpoint(a, witness))
    assert len(lines) == 1 and tlog.verify_cosignature(cp, witness, lines[0]) > 0
    # Read by tlog-scales: A's note key (from the Federation's history) and B's cosignature both verify.
    vkey = a.client.get(f"{API}/tlog/keys").json()["listed"]["vkey"]
    theirs = ts_tlog.Checkpoint.from_text(msg.decode())
    assert len(ts_signing.VkeySet(ts_signing.Vkey.from_string(vkey)).verify(theirs.signatures, theirs)) == 1
    cosig = next(s for s in theirs.signatures if s.name == witness.name)
    ts_signing.Vkey.from_string(witness.vkey).get_verifier().verify(cosig.payload, theirs)
    pusher: CheckpointPusher = a.client.app.state.tlog_pusher  # type: ignore[attr-defined]
    outcomes = wait_for("a round with both witnesses", lambda: {r.witness: r.outcome for r in pusher.results}
                        if len(pusher.results) == 2 else None)
    assert outcomes == {pair["witnesses"][0].url: "cosigned", pair["witnesses"][1].url: "unreachable"}


def test_a_new_anchor_is_pushed_with_a_consistency_proof(pair: dict[str, Any]) -> None:
    a: Served = pair["a"]
    witness = b_witness(pair)
    cp0, _, _ = wait_for("the first cosignature", lambda: cosigned_checkpoint(a, witness))
    records = [{"kind": "resource", "owner": 1, "contentHash": "0x" + hashlib.sha256(b"push%d" % i).hexdigest()}
               for i in range(5)]
    r = a.client.post(f"{API}/registrations/batch", json={"records": records}, headers=a.auth("admin"))
    assert r.status_code in (200, 201), r.text
    assert a.client.post(f"{API}/checkpoints", headers=a.auth("admin")).status_code == 201
    size = a.runtime.ops.logs.size(a.runtime.exchange_id)
    assert size >= cp0.size + 5
    cp, lines, _ = wait_for("B's cosignature at the new size", lambda: cosigned_checkpoint(a, witness, size))
    assert cp.root == a.runtime.ops.logs.root(a.runtime.exchange_id) and tlog.verify_cosignature(cp, witness, lines[0])
    origin = a.client.app.state.tlog.origin(a.runtime.exchange_id)  # type: ignore[attr-defined]
    assert TlogState(pair["b_dir"]).latest(tlog_service.WITNESSED, origin)[0] == size


def test_a_pusher_that_forgot_the_witness_state_recovers_by_409(pair: dict[str, Any]) -> None:
    a: Served = pair["a"]
    svc = a.client.app.state.tlog  # type: ignore[attr-defined]
    seen: list[tuple[str, int, bytes]] = []

    def recording(method: str, url: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
        status, answer = http(method, url, body, timeout)
        seen.append((method, status, (body or b"").split(b"\n", 1)[0]))
        return status, answer

    size = a.runtime.ops.logs.size(a.runtime.exchange_id)
    wait_for("B at the current size", lambda: TlogState(pair["b_dir"]).latest(
        tlog_service.WITNESSED, svc.origin(a.runtime.exchange_id))[0] == size)
    fresh = CheckpointPusher(svc, TlogConfig(witnesses=pair["witnesses"][:1]), transport=recording)
    [result] = fresh.push()
    assert result.outcome == "cosigned", result
    posts = [(s, first) for m, s, first in seen if m == "POST"]
    assert posts == [(409, b"old 0"), (200, f"old {size}".encode())]


class Scripted:
    """A witness that answers what it is told to, recording what it was sent."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers, self.sent = list(answers), []  # type: ignore[var-annotated]

    def __call__(self, method: str, url: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
        self.sent.append(body)
        return self.answers.pop(0)


@pytest.mark.parametrize(("answers", "outcome", "detail"), [
    ([(403, b"no trusted signature\n")], "refused", "403"),
    ([(409, b"not a size")], "refused", "409 without"),
    ([(409, b"99999999\n")], "refused", "beyond this log"),
    ([(500, b"oops")], "refused", "500"),
    # A line under the witness's own name and key ID whose signature fails: served, it would make a client that
    # trusts this witness refuse the whole checkpoint.
    ([(200, b"BAD")], "unverified", "invalid signature"),
    ([(200, b"not a signature line\n")], "unverified", ""),
])
def test_refusals_and_bad_cosignatures_are_not_served(pair: dict[str, Any], answers: list[tuple[int, bytes]],
                                                      outcome: str, detail: str) -> None:
    a: Served = pair["a"]
    svc = a.client.app.state.tlog  # type: ignore[attr-defined]
    witness = note.Signer.generate("scripted-witness", note.SIG_COSIGNATURE_V1)
    fake = Witness("http://127.0.0.1:9/tlog", witness.verifier.vkey)
    before = a.client.get("/tlog/SDE/checkpoint").content
    bad = note.Signature(witness.name, witness.verifier.key_id, bytes(72)).line().encode()
    scripted = Scripted(*[(status, bad if body == b"BAD" else body) for status, body in answers])
    pusher = CheckpointPusher(svc, TlogConfig(witnesses=(fake,), retries=2), transport=scripted)
    [result] = pusher.push()
    assert result.outcome == outcome and detail in result.detail, result
    assert scripted.sent[0].startswith(b"old 0\n")  # a witness this process never heard of starts at 0
    after = a.client.get("/tlog/SDE/checkpoint").content
    assert witness.name.encode() not in after and note.parse(before)[1][0] == note.parse(after)[1][0]


def test_keep_cosignature_checks_the_line(pair: dict[str, Any]) -> None:
    a: Served = pair["a"]
    svc = a.client.app.state.tlog  # type: ignore[attr-defined]
    msg = svc.signed_checkpoint(a.runtime.exchange_id)
    cp = tlog.Checkpoint.from_text(note.parse(msg)[0])
    w = note.Signer.generate("another-witness", note.SIG_COSIGNATURE_V1)
    line = tlog.cosign(cp, w, 1_700_000_000).line().encode()
    with pytest.raises(note.InvalidNoteSignature):
        svc.keep_cosignature(note.Signer.generate("another-witness", note.SIG_COSIGNATURE_V1).verifier, msg, line)
    other = tlog.Checkpoint(cp.origin, cp.size, merkle.EMPTY_ROOT if cp.root != merkle.EMPTY_ROOT else bytes(32))
    with pytest.raises(note.InvalidNoteSignature):
        svc.keep_cosignature(w.verifier, msg, tlog.cosign(other, w, 1_700_000_000).line().encode())
    assert svc.keep_cosignature(w.verifier, msg, line) == cp
    assert line in a.client.get("/tlog/SDE/checkpoint").content


def test_a_hanging_witness_blocks_neither_writes_nor_reads(pair: dict[str, Any]) -> None:
    a: Served = pair["a"]
    svc = a.client.app.state.tlog  # type: ignore[attr-defined]
    entered, release = threading.Event(), threading.Event()

    def hanging(method: str, url: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
        entered.set()
        release.wait(30)
        return 503, b"busy"

    pusher = CheckpointPusher(svc, TlogConfig(witnesses=(Witness("http://127.0.0.1:9/tlog"),)), transport=hanging,
                              interval=0.01)
    pusher.start()
    try:
        assert entered.wait(30)
        record = {"kind": "resource", "owner": 1, "contentHash": "0x" + hashlib.sha256(b"while hanging").hexdigest()}
        r = a.client.post(f"{API}/registrations", json=record, headers=a.auth("admin"))
        assert r.status_code == 201, r.text
        assert a.client.get("/tlog/SDE/checkpoint").status_code == 200
        assert not release.is_set() and pusher.rounds == 0  # all that while, the push was still waiting
    finally:
        release.set()
        pusher.close()
    assert pusher.rounds == 1 and pusher.results[0].outcome == "refused"
