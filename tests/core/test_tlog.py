"""Checkpoints, cosignatures, witness requests and tile paths: the specifications' examples
(tests/vectors/c2sp/signed-note.json, from C2SP/C2SP), tampered variants, and tlog-scales (an independent
implementation) reading what this module writes."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from tlog_scales import signing as ts_signing
from tlog_scales import tiles as ts_tiles
from tlog_scales import tlog as ts_tlog

from provenance.core import merkle, note, tlog
from provenance.errors import InvalidInput

V = json.loads((Path(__file__).parents[1] / "vectors" / "c2sp" / "signed-note.json").read_text("utf-8"))
SPEC_CP = V["c2sp_unkeyed"][1]
ROOT = hashlib.sha256(b"root").digest()


def log_signer() -> note.Signer:
    return note.Signer(tlog.origin(31337, bytes(range(20)), "SZDE"), bytes(range(32)))


def witness_signer() -> note.Signer:
    return note.Signer("witness.example/w1", bytes(range(1, 33)), note.SIG_COSIGNATURE_V1)


def test_spec_checkpoint_body() -> None:
    cp = tlog.Checkpoint.from_text(SPEC_CP["text"])
    want = SPEC_CP["checkpoint"]
    assert (cp.origin, cp.size, base64.b64encode(cp.root).decode()) == (want["origin"], want["size"], want["root_b64"])
    assert cp.text() == SPEC_CP["text"] and cp.extensions == ()
    ext = tlog.Checkpoint.from_text(SPEC_CP["text"] + "ext one\n")
    assert ext.extensions == ("ext one",) and ext.text() == SPEC_CP["text"] + "ext one\n"


@pytest.mark.parametrize("text", [
    "example.com/log\n1\n",  # missing root
    "\n1\n" + base64.b64encode(ROOT).decode() + "\n",  # empty origin
    "o\n01\n" + base64.b64encode(ROOT).decode() + "\n",  # leading zero
    "o\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n+1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n1 \n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n18446744073709551616\n" + base64.b64encode(ROOT).decode() + "\n",  # 2**64
    "o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",  # short root
    "o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",  # unpadded
    "o\n1\n" + base64.b64encode(ROOT).decode(),  # no final newline
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",  # empty extension line
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\next\n\n",
])
def test_malformed_checkpoint_bodies(text: str) -> None:
    with pytest.raises(tlog.MalformedCheckpoint):
        tlog.Checkpoint.from_text(text)


def test_signed_checkpoint_round_trip_and_tlog_scales_reads_it() -> None:
    s = log_signer()
    cp = tlog.Checkpoint(s.name, 5, ROOT)
    msg = tlog.sign_checkpoint(cp, s)
    got, n = tlog.open_checkpoint(msg, note.Keyring([s.verifier]))
    assert got == cp and n.text == cp.text()
    theirs = ts_tlog.Checkpoint.from_text(msg.decode())
    assert (theirs.origin, theirs.size, theirs.root_hash) == (cp.origin, 5, ROOT)
    ts_vkey = ts_signing.Vkey.from_string(s.verifier.vkey)
    assert len(ts_signing.VkeySet(ts_vkey).verify(theirs.signatures, theirs)) == 1


def _tamper_cases(msg: bytes) -> list[bytes]:
    text, _, sigs = msg.decode().partition("\n\n")
    origin, size, root = text.split("\n")[:3]
    return [
        (origin + "x\n" + size + "\n" + root + "\n\n" + sigs).encode(),  # origin
        (origin + "\n" + str(int(size) + 1) + "\n" + root + "\n\n" + sigs).encode(),  # size
        (origin + "\n" + size + "\n" + base64.b64encode(ROOT[::-1]).decode() + "\n\n" + sigs).encode(),  # root
        (origin + "\n" + size + "\n" + root + "\nextension\n\n" + sigs).encode(),  # extra line
    ]


def test_tampered_checkpoints_are_refused() -> None:
    s = log_signer()
    msg = tlog.sign_checkpoint(tlog.Checkpoint(s.name, 5, ROOT), s)
    for bad in _tamper_cases(msg):
        with pytest.raises(note.InvalidNoteSignature):
            tlog.open_checkpoint(bad, note.Keyring([s.verifier]))
    text = msg.decode().partition("\n\n")[0]
    with pytest.raises(note.MalformedNote):  # signature lines missing
        tlog.open_checkpoint((text + "\n\n").encode(), note.Keyring([s.verifier]))
    with pytest.raises(note.UnverifiedNote):  # signed by another key of the same name
        other = note.Signer(s.name, bytes(32))
        tlog.open_checkpoint(tlog.sign_checkpoint(tlog.Checkpoint(s.name, 5, ROOT), other),
                             note.Keyring([s.verifier]))


def test_cosignature_v1_message_and_tlog_scales_verifies() -> None:
    cp = tlog.Checkpoint.from_text(SPEC_CP["text"])
    assert tlog.cosigned_message(cp, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")  # the spec's example message, verbatim
    w = witness_signer()
    sig = tlog.cosign(cp, w, 1679315147)
    assert sig.signature[:8] == (1679315147).to_bytes(8, "big") and len(sig.signature) == 72
    assert tlog.verify_cosignature(cp, w.verifier, sig) == 1679315147
    ts_cp = ts_tlog.Checkpoint(cp.origin, cp.size, cp.root, [])
    ts_signing.Vkey.from_string(w.verifier.vkey).get_verifier().verify(sig.signature, ts_cp)
    raw = bytearray(sig.signature)
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x80
        with pytest.raises(note.InvalidNoteSignature):
            tlog.verify_cosignature(cp, w.verifier, note.Signature(sig.name, sig.key_id, bytes(bad)))
    with pytest.raises(note.InvalidNoteSignature):
        tlog.verify_cosignature(tlog.Checkpoint(cp.origin, cp.size + 1, cp.root), w.verifier, sig)


def test_cosigner_key_type_and_timestamp() -> None:
    cp = tlog.Checkpoint("o", 0, merkle.EMPTY_ROOT)
    with pytest.raises(note.MalformedKey):
        tlog.cosign(cp, log_signer(), 1)
    with pytest.raises(InvalidInput):
        tlog.cosign(cp, witness_signer(), 0)
    with pytest.raises(InvalidInput):
        tlog.cosigned_message(cp, 2**63)
    w = witness_signer().verifier
    assert w.key_id == note.key_id("witness.example/w1", 4, w.public_key)
    assert w.vkey.split("+")[2].startswith("B")  # type byte 0x04


def test_spec_witness_request() -> None:
    ex = V["witness_request_example"]
    req = tlog.parse_add_checkpoint(ex["body"].encode())
    assert req.old_size == ex["old"] and len(req.proof) == ex["proof_lines"]
    assert note.parse(req.checkpoint)[0] == SPEC_CP["text"]
    assert tlog.add_checkpoint_body(req.old_size, req.proof, req.checkpoint) == ex["body"].encode()


@pytest.mark.parametrize("body", [
    b"old 01\n\nx", b"old -1\n\nx", b"new 1\n\nx", b"old 1\n", b"old 1\nnotbase64!\n\nx",
    b"old 1\n" + base64.b64encode(b"short") + b"\n\nx",
    b"old 1\n" + (base64.b64encode(ROOT) + b"\n") * 64 + b"\nx",
    b"old 1\xff\n\nx",
])
def test_malformed_witness_requests(body: bytes) -> None:
    with pytest.raises(tlog.MalformedWitnessRequest):
        tlog.parse_add_checkpoint(body)


def test_origin_is_a_valid_key_name() -> None:
    o = tlog.origin(31337, bytes(range(20)), "SZDE")
    assert o == "31337.provenance/0x000102030405060708090a0b0c0d0e0f10111213/SZDE" and note.valid_name(o)
    with pytest.raises(InvalidInput):
        tlog.origin(1, bytes(20), "A B")


@pytest.mark.parametrize(("level", "n", "width", "path"), [
    (1, 1234067, 256, "tile/1/x001/x234/067"),  # the spec's example index
    (0, 0, 256, "tile/0/000"), (0, 273, 112, "tile/0/273.p/112"), (2, 0, 1, "tile/2/000.p/1"),
    (None, 5, 256, "tile/entries/005"), (None, 1000, 3, "tile/entries/x001/000.p/3"),
])
def test_tile_paths(level: int | None, n: int, width: int, path: str) -> None:
    assert tlog.tile_path(level, n, width) == path
    assert tlog.parse_tile_path(path) == (level, n, width)
    theirs = "/".join(ts_tiles.tile_path(-1 if level is None else level, n, 0 if width == 256 else width))
    assert theirs == path


@pytest.mark.parametrize("path", ["tile/01/000", "tile/64/000", "tile/0/0", "tile/0/x000/001", "tile/0/001.p/256",
                                  "tile/0/001.p/0", "tile/0/001.p/07", "tile/0/1000", "tile/e/000", "tile/0/001/"])
def test_bad_tile_paths(path: str) -> None:
    with pytest.raises(tlog.MalformedTilePath):
        tlog.parse_tile_path(path)


def test_entry_bundles() -> None:
    entries = [b"", b"a", bytes(300), bytes(65535)]
    data = tlog.entry_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:4] == b"\x00\x01"
    assert tlog.parse_entry_bundle(data) == entries
    for bad in (data[:-1], data + b"\x00"):
        with pytest.raises(InvalidInput):
            tlog.parse_entry_bundle(bad)
    with pytest.raises(InvalidInput):
        tlog.entry_bundle([bytes(65536)])


def test_binding_statement_names_everything() -> None:
    s = log_signer()
    text = tlog.binding_statement(chain_id=31337, registry=bytes(20), exchange=2, code="SZDE", vkey=s.verifier.vkey,
                                  block=7)
    assert f"vkey {s.verifier.vkey}\n" in text and "exchange 2 SZDE\n" in text and "from block 7\n" in text
    assert "chain 31337\n" in text and "registry 0x" + "00" * 20 + "\n" in text


SPEC_PROOF = (  # tlog-proof.md's example header (its signature lines are elided there, so only the framing is used)
    "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\nRoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\nexample.com/fancylog\n109482\n"
    "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n")


def test_spec_proof_framing() -> None:
    p = tlog.parse_proof_bundle(SPEC_PROOF.encode())
    assert p.index == 73894 and len(p.proof) == 5 and p.extra is not None
    assert tlog.Checkpoint.from_text(p.checkpoint.decode()).size == 109482
    assert tlog.proof_bundle(p.index, p.proof, p.checkpoint, extra=p.extra) == SPEC_PROOF.encode()


def test_proof_round_trip_and_tampering() -> None:
    s = log_signer()
    leaves = [merkle.leaf_hash(b"e%d" % i) for i in range(7)]
    cp = tlog.Checkpoint(s.name, 7, merkle.root(leaves))
    bundle = tlog.proof_bundle(3, merkle.inclusion_proof(3, leaves), tlog.sign_checkpoint(cp, s), extra=b"e3")
    p = tlog.parse_proof_bundle(bundle)
    assert tlog.verify_proof(p, b"e3", note.Keyring([s.verifier])) == cp
    with pytest.raises(merkle.MerkleError):
        tlog.verify_proof(p, b"e4", note.Keyring([s.verifier]))
    with pytest.raises(merkle.MerkleError):
        tlog.verify_proof(tlog.Proof(4, p.proof, p.checkpoint), b"e3", note.Keyring([s.verifier]))
    with pytest.raises(note.UnverifiedNote):
        tlog.verify_proof(p, b"e3", note.Keyring())
    for bad in (bundle.replace(b"@v1", b"@v2"), bundle.replace(b"index 3", b"index 03"),
                bundle.replace(b"\n\n", b"\n", 1)):
        with pytest.raises(InvalidInput):
            tlog.parse_proof_bundle(bad)


# ---------------------------------------------------------------------- note keys (IFederation's history)


@pytest.mark.parametrize(("added", "revoked", "removed", "block", "valid"), [
    (10, 0, 0, 9, False), (10, 0, 0, 10, True), (10, 0, 0, 10**9, True),
    (10, 20, 0, 19, True), (10, 20, 0, 20, False),  # revoked in block 20: not valid in it
    (10, 0, 15, 14, True), (10, 0, 15, 15, False),  # the exchange removed in block 15
    (10, 20, 15, 17, False),
])
def test_note_key_validity_at_a_block(added: int, revoked: int, removed: int, block: int, valid: bool) -> None:
    assert tlog.NoteKey(1, bytes(32), added, revoked).valid_at(block, removed) is valid


def test_note_key_verifier_is_named_by_the_origin() -> None:
    signer = note.Signer("1502.provenance/0xab/SDE", bytes(range(32)))
    key = tlog.NoteKey(1, signer.verifier.public_key, 1)
    assert key.verifier(signer.name) == signer.verifier
    msg = tlog.sign_checkpoint(tlog.Checkpoint(signer.name, 0, merkle.EMPTY_ROOT), signer)
    assert tlog.open_checkpoint(msg, note.Keyring([key.verifier(signer.name)]))[0].size == 0
    with pytest.raises(note.UnverifiedNote):  # the same key under another exchange's origin is another key
        tlog.open_checkpoint(msg, note.Keyring([key.verifier("1502.provenance/0xab/ZJDE")]))
