"""The C2SP interface of a node: its signed checkpoint, the witness's add-checkpoint, tiles and tlog-proofs,
read with tlog-scales (an implementation no one here wrote) and against reference computations from the leaves."""

from __future__ import annotations

import base64
import hashlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from tlog_scales import reader as ts_reader
from tlog_scales import signing as ts_signing
from tlog_scales import tlog as ts_tlog

from provenance.api.middleware import Guard
from provenance.api.routes import tlog as tlog_routes
from provenance.chain.tlog import NoteKeyService
from provenance.core import merkle, note, tlog
from provenance.indexer.tlog_tiles import reference_tile
from provenance.services import tlog as tlog_service
from provenance.store.witness_state import TlogState
from tests.support.served import Served, serve

API = "/api/v1"
WITNESS = f"{API}/tlog/add-checkpoint"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    src, demo = demo_dir
    dst = tmp_path_factory.mktemp("tlog") / "data"
    shutil.copytree(src, dst)
    for served in serve(dst, demo):
        tlog_routes.install(served.client.app, served.runtime)  # type: ignore[arg-type]
        # A log of more than two full tiles, so that level-1 tiles and entry bundles are exercised.
        records = [{"kind": "resource", "owner": 1, "contentHash": "0x" + hashlib.sha256(b"t%d" % i).hexdigest()}
                   for i in range(600)]
        r = served.client.post(f"{API}/registrations/batch", json={"records": records}, headers=served.auth("admin"))
        assert r.status_code in (200, 201), r.text
        served.runtime.ops.sync()
        yield served


def tnode(served: Served) -> tlog_service.TlogService:
    return served.client.app.state.tlog  # type: ignore[attr-defined,no-any-return]


def ex_id(served: Served, code: str) -> int:
    return tnode(served).exchange_of_code(code)


def leaves(served: Served, ex: int) -> list[bytes]:
    logs = served.runtime.ops.logs
    return [leaf.leaf_hash for leaf in logs.leaves(ex, 0, logs.size(ex))]


# ---------------------------------------------------------------------- the node's own checkpoint and key


def test_keys_and_binding(node: Served) -> None:
    doc = node.client.get(f"{API}/tlog/keys").json()
    assert doc["origin"] == tlog.origin(node.runtime.chain_id, node.runtime.registry, "SDE")
    assert doc["vkey"].startswith(doc["origin"] + "+") and doc["witness"].split("+")[2].startswith("B")
    b = doc["binding"]
    signer = node.runtime.ops.signer()
    from eth_account import Account
    assert Account.recover_message(encode_defunct(text=b["statement"]),
                                   signature=bytes.fromhex(b["signature"][2:])) == signer.address == b["signer"]
    assert f"vkey {doc['vkey']}\n" in b["statement"]
    assert doc["vkey"] in [x["vkey"] for x in node.client.get(f"{API}/tlog/bindings").json()]


def test_checkpoint_read_by_tlog_scales(node: Served) -> None:
    r = node.client.get("/tlog/SDE/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    vkey = node.client.get(f"{API}/tlog/keys").json()["vkey"]
    cp = ts_tlog.Checkpoint.from_text(r.text)
    assert len(ts_signing.VkeySet(ts_signing.Vkey.from_string(vkey)).verify(cp.signatures, cp)) == 1
    ex = ex_id(node, "SDE")
    assert cp.size == node.runtime.ops.logs.size(ex) >= 600
    assert cp.root_hash == merkle.root(leaves(node, ex)) == node.runtime.ops.logs.root(ex)
    assert node.client.get("/tlog/SDE/checkpoint").text == r.text  # the same size is signed once
    assert node.client.get("/tlog/ZJDE/checkpoint").status_code == 404  # not this node's to sign
    assert node.client.get("/tlog/NOPE/checkpoint").status_code == 404


def test_signed_state_refuses_a_shrunk_log(node: Served) -> None:
    t = tnode(node)
    origin = t.origin(ex_id(node, "SDE"))
    size, root = t.state.latest(tlog_service.SIGNED, origin)
    assert size == node.runtime.ops.logs.size(ex_id(node, "SDE")) and root is not None


# ---------------------------------------------------------------------- tiles


def test_tiles_equal_reference(node: Served) -> None:
    ex = ex_id(node, "SDE")
    hashes = leaves(node, ex)
    n = len(hashes)
    cases = [(0, 0, 256), (0, 1, 256), (0, n // 256, n % 256), (1, 0, n // 256)]
    for level, idx, width in cases:
        r = node.client.get(f"/tlog/SDE/{tlog.tile_path(level, idx, width)}")
        assert r.status_code == 200, (level, idx, width, r.text)
        assert r.content == reference_tile(hashes, level, idx, width)
        assert ("immutable" in r.headers["cache-control"]) == (width == 256)
    # the level-1 partial tile's hashes are the roots of the full level-0 tiles
    l1 = node.client.get(f"/tlog/SDE/{tlog.tile_path(1, 0, n // 256)}").content
    assert l1[:32] == merkle.root(hashes[:256])


def test_entry_bundles_hash_to_the_leaves(node: Served) -> None:
    ex = ex_id(node, "SDE")
    hashes = leaves(node, ex)
    r = node.client.get("/tlog/SDE/tile/entries/001")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    entries = tlog.parse_entry_bundle(r.content)
    assert [merkle.leaf_hash(e) for e in entries] == hashes[256:512]
    assert all(e[:2] == ex.to_bytes(2, "big") for e in entries)


class _Backend:
    """tlog-scales' tile backend over the node's routes: its reader fetches checkpoint, tiles and entries."""

    def __init__(self, node: Served, code: str) -> None:
        self.node, self.code, self.fetched = node, code, 0

    def get(self, *path: str) -> bytes | None:
        r = self.node.client.get(f"/tlog/{self.code}/" + "/".join(path))
        self.fetched += 1
        return r.content if r.status_code == 200 else None


def test_tlog_scales_reads_the_log_through_tiles(node: Served) -> None:
    ex = ex_id(node, "SDE")
    hashes = leaves(node, ex)
    n = len(hashes)
    backend = _Backend(node, "SDE")
    reader = ts_reader.TilesReader(backend)
    cp = reader.get_checkpoint()
    assert cp.size == n and reader.calculate_root_hash() == cp.root_hash == merkle.root(hashes)
    for idx in (0, 255, 256, 511, n - 1):
        ts_proof = reader.get_inclusion_proof(idx, n)
        assert ts_proof.node_hashes == node.runtime.ops.logs.inclusion_proof(ex, idx, n)
        ts_proof.check(hashes[idx], cp.root_hash)
        assert merkle.leaf_hash(reader.get_entry(idx)) == hashes[idx]
    for old in (1, 256, 300, n - 1):
        c = reader.get_consistency_proof(old, n)
        assert c.node_hashes == node.runtime.ops.logs.consistency_proof(ex, old, n)
        c.check(merkle.root(hashes[:old]), cp.root_hash)


@pytest.mark.parametrize(("path", "status"), [
    ("tile/0/999", 404), ("tile/0/000.p/5", 404), ("tile/0/01", 422), ("tile/64/000", 422), ("tile/0/000.p/256", 422),
])
def test_bad_tiles(node: Served, path: str, status: int) -> None:
    assert node.client.get(f"/tlog/SDE/{path}").status_code == status


# ---------------------------------------------------------------------- the witness


@pytest.fixture(scope="module")
def zjde(node: Served) -> dict[str, Any]:
    """ZJDE binds a note key of its own (signed by its exchange key) to the SDE node's witness."""
    t = tnode(node)
    ex = ex_id(node, "ZJDE")
    signer = note.Signer(t.origin(ex), hashlib.sha256(b"zjde note key").digest())
    statement = tlog.binding_statement(chain_id=node.runtime.chain_id, registry=node.runtime.registry, exchange=ex,
                                       code="ZJDE", vkey=signer.verifier.vkey, block=1)
    account = node.runtime.node.keystore.load("ZJDE")
    sig = "0x" + bytes(account.sign_message(encode_defunct(text=statement)).signature).hex()
    r = node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": sig})
    assert r.status_code == 200, r.text
    return {"ex": ex, "signer": signer, "hashes": leaves(node, ex), "statement": statement, "account": account}


def signed_cp(z: dict[str, Any], size: int, root: bytes | None = None, signer: note.Signer | None = None) -> bytes:
    s = signer or z["signer"]
    return tlog.sign_checkpoint(tlog.Checkpoint(s.name, size, root or merkle.root(z["hashes"][:size])), s)


def witness_client(node: Served) -> TestClient:
    """The routes without the Guard middleware, which reads every body as I-JSON: tlog-witness bodies are text by
    specification, and until the Guard exempts this one path (requested of the lead) the app inside the Guard is
    called directly, as the Guard would pass the request on."""
    layer: Any = node.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, Guard):
        layer = layer.app
    return TestClient(layer.app)


def post(node: Served, old: int, proof: list[bytes], msg: bytes) -> Any:
    return witness_client(node).post(WITNESS, content=tlog.add_checkpoint_body(old, proof, msg),
                                     headers={"Content-Type": "text/plain"})


def test_binding_refusals(node: Served, zjde: dict[str, Any]) -> None:
    sde = node.runtime.ops.signer()
    bad = sde.sign_message(encode_defunct(text=zjde["statement"])).signature
    r = node.client.post(f"{API}/tlog/bindings", json={"statement": zjde["statement"], "signature": "0x" + bad.hex()})
    assert r.status_code == 403  # SDE's key cannot bind ZJDE's note key
    other = zjde["statement"].replace(f"chain {node.runtime.chain_id}\n", "chain 1\n")
    sig = zjde["account"].sign_message(encode_defunct(text=other)).signature
    assert node.client.post(f"{API}/tlog/bindings",
                            json={"statement": other, "signature": "0x" + sig.hex()}).status_code == 422
    extra = zjde["statement"] + "note extra\n"
    sig = zjde["account"].sign_message(encode_defunct(text=extra)).signature
    assert node.client.post(f"{API}/tlog/bindings",
                            json={"statement": extra, "signature": "0x" + sig.hex()}).status_code == 422


def test_witness_protocol(node: Served, zjde: dict[str, Any]) -> None:
    n = len(zjde["hashes"])
    assert n >= 2, n  # the demo registers two records at ZJDE: a proof from 1 to 2 is one hash
    witness_vkey = node.client.get(f"{API}/tlog/keys").json()["witness"]
    # 1. first contact: old size 0, no proof
    r = post(node, 0, [], signed_cp(zjde, 1))
    assert r.status_code == 200, r.text
    assert r.text.startswith("— ") and r.text.endswith("\n") and r.text.count("\n") == 1
    cp1 = tlog.Checkpoint(zjde["signer"].name, 1, zjde["hashes"][0])
    sig = note.parse(signed_cp(zjde, 1) + r.content)[1][-1]
    assert tlog.verify_cosignature(cp1, note.Verifier.from_vkey(witness_vkey), sig) > 0
    theirs = ts_tlog.Checkpoint.from_text(signed_cp(zjde, 1).decode() + r.text)
    ts_signing.Vkey.from_string(witness_vkey).get_verifier().verify(theirs.signatures[-1].payload, theirs)
    # 2. a stale old size: 409 with the current size
    r = post(node, 0, [], signed_cp(zjde, n))
    assert r.status_code == 409 and r.text == "1\n" and r.headers["content-type"].startswith("text/x.tlog.size")
    # 3. a bad consistency proof: 422; an empty one from a non-zero size too
    good = merkle.consistency_proof(1, zjde["hashes"][:n])
    for bad in ([bytes(32)] + good[1:], [], good + [bytes(32)]):
        assert post(node, 1, bad, signed_cp(zjde, n)).status_code == 422
    # 4. the right proof: 200, and the state moved
    assert post(node, 1, good, signed_cp(zjde, n)).status_code == 200
    assert tnode(node).state.latest(tlog_service.WITNESSED, zjde["signer"].name)[0] == n
    # 5. the same size again with the same root is fine; with another root it is not
    assert post(node, n, [], signed_cp(zjde, n)).status_code == 200
    assert post(node, n, [], signed_cp(zjde, n, root=bytes(32))).status_code == 422


def test_witness_refusals(node: Served, zjde: dict[str, Any]) -> None:
    n = len(zjde["hashes"])
    imposter = note.Signer(zjde["signer"].name, bytes(32))
    assert post(node, 0, [], signed_cp(zjde, 1, signer=imposter)).status_code == 403  # unknown key
    text, sigs = note.parse(signed_cp(zjde, 1))
    for i in (4, 40, 67):  # a known key's signature that fails: any byte after the key ID
        raw = bytearray(sigs[0].signature)
        raw[i - 4] ^= 1
        forged = note.Signature(sigs[0].name, sigs[0].key_id, bytes(raw))
        assert post(node, 0, [], (text + "\n" + forged.line()).encode()).status_code == 403
    stranger = note.Signer("example.com/not-an-exchange", bytes(32))
    assert post(node, 0, [], signed_cp(zjde, 1, signer=stranger)).status_code == 404
    assert post(node, n + 5, [], signed_cp(zjde, n)).status_code == 400  # old size beyond the checkpoint
    assert witness_client(node).post(WITNESS, content=b"old 01\n\nx").status_code == 400
    assert post(node, 0, [], signed_cp(zjde, 0, root=bytes(32))).status_code == 422  # size 0, not the empty root
    lie = hashlib.sha256(b"another log").digest()
    assert post(node, n, [], signed_cp(zjde, n, root=lie)).status_code == 422  # not the chain's leaves


def test_witness_state_survives_a_restart_and_races(node: Served, zjde: dict[str, Any]) -> None:
    n = len(zjde["hashes"])
    restarted = tlog_service.TlogService(node.runtime.ops, exchange_id=node.runtime.exchange_id,
                                         key_exchange=node.runtime.key_exchange, state=TlogState(node.data_dir))
    assert restarted.witness.verifier == tnode(node).witness.verifier
    assert restarted.log_key is not None and restarted.log_key.verifier == tnode(node).log_key.verifier  # type: ignore[union-attr]
    body = tlog.add_checkpoint_body(0, [], signed_cp(zjde, n))
    with pytest.raises(tlog_service.WitnessRefusal) as err:
        restarted.add_checkpoint(body)
    assert err.value.status == 409 and str(err.value) == f"{n}\n"
    # concurrent submissions from one old size: each either cosigns the same size or conflicts, never rolls back
    results: list[int] = []

    def submit() -> None:
        try:
            restarted.add_checkpoint(tlog.add_checkpoint_body(n, [], signed_cp(zjde, n)))
            results.append(200)
        except tlog_service.WitnessRefusal as exc:
            results.append(exc.status)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [200] * 8
    assert TlogState(node.data_dir).latest(tlog_service.WITNESSED, zjde["signer"].name)[0] == n


# ---------------------------------------------------------------------- tlog-proof


def test_proof_of_an_own_record(node: Served) -> None:
    rid = node.record("port-vessel-traffic")
    r = node.client.get(f"{API}/tlog/proof/{rid}")
    assert r.status_code == 200, r.text
    p = tlog.parse_proof_bundle(r.content)
    vkey = node.client.get(f"{API}/tlog/keys").json()["vkey"]
    assert p.extra is not None
    cp = tlog.verify_proof(p, p.extra, note.Keyring([note.Verifier.from_vkey(vkey)]))
    rec = node.runtime.ops.indexed(bytes.fromhex(rid[2:]))
    assert p.index == rec.leaf_index and cp.size > p.index
    with pytest.raises(merkle.MerkleError):
        tlog.verify_proof(p, p.extra + b"\x00", note.Keyring([note.Verifier.from_vkey(vkey)]))


def test_proof_of_a_partner_record_carries_the_cosignature(node: Served, zjde: dict[str, Any]) -> None:
    ex = zjde["ex"]
    rid = next(r for r in node.demo["records"].values()
               if node.runtime.ops.indexed(bytes.fromhex(str(r)[2:])).registrar == ex)
    r = node.client.get(f"{API}/tlog/proof/{rid}")
    assert r.status_code == 200, r.text
    p = tlog.parse_proof_bundle(r.content)
    assert p.extra is not None
    cp = tlog.verify_proof(p, p.extra, note.Keyring([zjde["signer"].verifier]))
    witness = note.Verifier.from_vkey(node.client.get(f"{API}/tlog/keys").json()["witness"])
    cosig = [s for s in note.parse(p.checkpoint)[1] if s.name == witness.name]
    assert len(cosig) == 1 and tlog.verify_cosignature(cp, witness, cosig[0]) > 0
    assert base64.b64encode(p.extra)  # the leaf's bytes travel with the proof


def test_bindings_are_bounded_per_exchange(node: Served, zjde: dict[str, Any]) -> None:
    have = sum(1 for b in node.client.get(f"{API}/tlog/bindings").json() if b["exchange"] == zjde["ex"])
    statuses = []
    for block in range(2, 2 + tlog_service.MAX_BINDINGS - have + 1):
        statement = zjde["statement"].replace("from block 1\n", f"from block {block}\n")
        sig = zjde["account"].sign_message(encode_defunct(text=statement)).signature
        statuses.append(node.client.post(f"{API}/tlog/bindings",
                                         json={"statement": statement, "signature": "0x" + sig.hex()}).status_code)
    assert statuses == [200] * (tlog_service.MAX_BINDINGS - have) + [409]
    again = node.client.post(f"{API}/tlog/bindings", json={"statement": zjde["statement"], "signature": "0x" + bytes(
        zjde["account"].sign_message(encode_defunct(text=zjde["statement"])).signature).hex()})
    assert again.status_code == 200  # a binding already kept is not a new one


HEAD = "provenance note key\nchain {chain}\nregistry {registry}\nexchange 2 ZJDE\n"


@pytest.mark.parametrize("body", [
    {"statement": "", "signature": ""},
    {"statement": "provenance note key\n", "signature": "0x00"},
    {"statement": "provenance note key\nchain 1\nchain 1\n", "signature": "zz"},
    {"statement": "provenance note key\nchain 1\nregistry 0x\nexchange 99999 X\nvkey a+b+c\nfrom block 1\n",
     "signature": "0x" + "11" * 65},
    {"statement": HEAD + "vkey a+b+c\nfrom block 1\n",
     "signature": "0x" + "11" * 65},
    {"statement": HEAD + "vkey {vkey}\nfrom block 01\n",
     "signature": "0x" + "11" * 65},
    {"statement": HEAD + "vkey {vkey}\nfrom block 1\n",
     "signature": "0x" + "11" * 65},
])
def test_malformed_bindings_are_named_refusals(node: Served, zjde: dict[str, Any], body: dict[str, str]) -> None:
    statement = body["statement"].format(chain=node.runtime.chain_id, registry="0x" + node.runtime.registry.hex(),
                                         vkey=zjde["signer"].verifier.vkey)
    r = node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": body["signature"]})
    assert r.status_code in (403, 404, 422) and r.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------------- note keys in the Federation's key history


def note_keys(served: Served) -> NoteKeyService:
    return NoteKeyService(served.runtime.node.contracts)


def test_own_note_key_is_listed_on_chain(node: Served) -> None:
    doc = node.client.get(f"{API}/tlog/keys").json()
    listed = doc["listed"]
    assert listed is not None and listed["vkey"] == doc["vkey"] and listed["revokedAt"] == 0 and listed["trusted"]
    public = note.Verifier.from_vkey(doc["vkey"]).public_key
    assert listed["publicKey"] == "0x" + public.hex()
    on_chain = note_keys(node).get(public)
    assert on_chain is not None and on_chain.exchange == ex_id(node, "SDE") == node.runtime.exchange_id
    assert on_chain.added_at == listed["addedAt"] > 0
    history = node.client.get(f"{API}/tlog/note-keys/SDE").json()
    assert [k["vkey"] for k in history] == [doc["vkey"]]
    # A restart finds it listed and lists nothing more.
    restarted = tlog_service.TlogService(node.runtime.ops, exchange_id=node.runtime.exchange_id,
                                         key_exchange=node.runtime.key_exchange, state=TlogState(node.data_dir))
    assert restarted.listed == on_chain and len(note_keys(node).of(ex_id(node, "SDE"))) == 1
    assert node.client.get(f"{API}/tlog/note-keys/NOPE").status_code == 404


def test_witness_trusts_the_federation_note_key_history(node: Served) -> None:
    """AHDE first binds an off-chain key (trusted while the Federation lists none for AHDE), then lists note keys
    on-chain: from then on only listed, unrevoked keys are trusted; the binding no longer speaks for AHDE."""
    ex = ex_id(node, "AHDE")
    account = node.runtime.node.keystore.load("AHDE")
    origin = tnode(node).origin(ex)
    hashes = leaves(node, ex)
    n = len(hashes)

    def cp(signer: note.Signer) -> bytes:
        return tlog.sign_checkpoint(tlog.Checkpoint(origin, n, merkle.root(hashes)), signer)

    bound = note.Signer(origin, hashlib.sha256(b"ahde bound key").digest())
    statement = tlog.binding_statement(chain_id=node.runtime.chain_id, registry=node.runtime.registry, exchange=ex,
                                       code="AHDE", vkey=bound.verifier.vkey, block=1)
    sig = "0x" + bytes(account.sign_message(encode_defunct(text=statement)).signature).hex()
    assert node.client.post(f"{API}/tlog/bindings", json={"statement": statement, "signature": sig}).status_code == 200
    assert post(node, 0, [], cp(bound)).status_code == 200

    first = note.Signer(origin, hashlib.sha256(b"ahde listed key 1").digest())
    second = note.Signer(origin, hashlib.sha256(b"ahde listed key 2").digest())
    unknown = note.Signer(origin, hashlib.sha256(b"ahde never listed").digest())
    with node.runtime.ops.lock:
        note_keys(node).add(account, first.verifier.public_key)
    assert post(node, n, [], cp(first)).status_code == 200
    r = witness_client(node).post(WITNESS, content=tlog.add_checkpoint_body(n, [], cp(first)))
    cosig = note.parse(cp(first) + r.content)[1][-1]
    witness = note.Verifier.from_vkey(node.client.get(f"{API}/tlog/keys").json()["witness"])
    assert tlog.verify_cosignature(tlog.Checkpoint(origin, n, merkle.root(hashes)), witness, cosig) > 0
    assert post(node, n, [], cp(bound)).status_code == 403  # the binding yields to the on-chain history
    assert post(node, n, [], cp(unknown)).status_code == 403
    with node.runtime.ops.lock:
        note_keys(node).revoke(account, first.verifier.public_key)
        note_keys(node).add(account, second.verifier.public_key)
    assert post(node, n, [], cp(first)).status_code == 403  # revoked
    assert post(node, n, [], cp(second)).status_code == 200
    history = node.client.get(f"{API}/tlog/note-keys/AHDE").json()
    assert [(k["vkey"], k["revokedAt"] > 0, k["trusted"]) for k in history] == [
        (first.verifier.vkey, True, False), (second.verifier.vkey, False, True)]
    # tlog-scales reads the listed key's vkey and verifies the checkpoint with it.
    theirs = ts_tlog.Checkpoint.from_text(cp(second).decode())
    assert len(ts_signing.VkeySet(ts_signing.Vkey.from_string(history[1]["vkey"])).verify(theirs.signatures,
                                                                                          theirs)) == 1
