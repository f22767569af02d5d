"""``provenance tlog``: an operator's view of the exchange's Ed25519 note keys, their revocation after a key rotation
(the key the node signs with now refused without --force), and checkpoints checked offline against a snapshot."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from provenance.cli import main
from tests.support.cli import run


def _init(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai", "--scrypt-n", "1024")[0] == 0


def _keys(capsys: pytest.CaptureFixture[str], *code: str) -> dict[str, object]:
    rc, doc, err = run(capsys, "tlog", "note-keys", *code)
    assert rc == 0, err
    return doc  # type: ignore[return-value]


def _vkey_public(vkey: str) -> tuple[str, bytes]:
    """(name, public key) of an Ed25519 vkey, read by hand (c2sp.org/signed-note), not by provenance.core.note."""
    name, kid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 0x01 and len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == kid
    return name, raw[1:]


def test_note_keys_listed_rotated_and_revoked(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(capsys)
    doc = _keys(capsys)
    assert doc["exchange"] == "SDE" and doc["id"] == 1 and doc["removedAt"] == 0
    [first] = doc["noteKeys"]  # type: ignore[misc]
    # Listed by the exchange key on first use, as `serve` does at start: valid, trusted and the node's own.
    assert first["addedAt"] > 0 and first["revokedAt"] == 0 and first["trusted"] and first["current"]
    name, public = _vkey_public(first["vkey"])
    assert name == doc["origin"] and doc["origin"].endswith("/SDE") and first["publicKey"] == "0x" + public.hex()
    assert _keys(capsys, "SDE") == _keys(capsys)  # by code, the same history (and no second listing)

    # The key the node signs with now: refused by name, and still valid after.
    rc, _, err = run(capsys, "tlog", "revoke-note-key", first["vkey"])
    assert rc == 8 and "signs its checkpoints with now" in json.loads(err)["message"]
    assert json.loads(err)["error"] == "Conflict" and "--force" in json.loads(err)["message"]
    assert _keys(capsys)["noteKeys"][0]["revokedAt"] == 0  # type: ignore[index]

    # A rotation derives a new note key, listed beside the old one; the old one is then revoked by its hex.
    assert run(capsys, "key", "rotate", "SDE-2")[0] == 0
    old, new = _keys(capsys)["noteKeys"]  # type: ignore[misc]
    assert old["publicKey"] == first["publicKey"] and not old["current"] and new["current"]
    assert new["addedAt"] > old["addedAt"] and new["publicKey"] != old["publicKey"]
    rc, out, err = run(capsys, "tlog", "revoke-note-key", old["publicKey"].removeprefix("0x").upper())
    assert rc == 0, err
    assert out["revoked"] == old["publicKey"] and out["vkey"] == old["vkey"] and out["current"] is False  # type: ignore[index]
    old, new = _keys(capsys)["noteKeys"]  # type: ignore[misc]
    assert old["revokedAt"] == out["block"] and not old["trusted"]  # type: ignore[index]
    assert new["revokedAt"] == 0 and new["trusted"]

    # Refusals of the contract, by their name and the revert table's exit code (RuleViolated: 8).
    rc, _, err = run(capsys, "tlog", "revoke-note-key", old["vkey"])
    assert rc == 8 and json.loads(err)["revert"]["error"] == "NoteKeyAlreadyRevoked"
    rc, _, err = run(capsys, "tlog", "revoke-note-key", "0x" + "5a" * 32)
    assert rc == 8 and json.loads(err)["revert"]["error"] == "UnknownNoteKey"

    # --force revokes even the current key, and says it did.
    rc, out, err = run(capsys, "tlog", "revoke-note-key", "--force", new["vkey"])
    assert rc == 0 and out["current"] is True, err  # type: ignore[index]
    assert [k["trusted"] for k in _keys(capsys)["noteKeys"]] == [False, False]  # type: ignore[union-attr]


@pytest.mark.parametrize(("key", "needle"), [
    ("0x1234", "64 hex digits"),
    ("zz" * 32, "64 hex digits"),
    ("name+0000000+AQ==", "key ID"),
])
def test_a_malformed_note_key_is_refused_before_the_node_is_touched(env: Path, capsys: pytest.CaptureFixture[str],
                                                                     key: str, needle: str) -> None:
    rc, _, err = run(capsys, "tlog", "revoke-note-key", key)  # no data directory: nothing was opened
    assert rc == 2 and needle in json.loads(err)["message"]
    assert not env.exists()


def test_a_vkey_of_another_log_or_type_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.core import note

    _init(capsys)
    other = note.Signer.generate("example.com/other-log").verifier.vkey
    rc, _, err = run(capsys, "tlog", "revoke-note-key", other)
    assert rc == 2 and "not this exchange's" in json.loads(err)["message"]
    cosigner = note.Signer.generate("w", note.SIG_COSIGNATURE_V1).verifier.vkey
    rc, _, err = run(capsys, "tlog", "revoke-note-key", cosigner)
    assert rc == 2 and "type 0x04" in json.loads(err)["message"]


def test_note_keys_of_an_unknown_exchange(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(capsys)
    rc, _, err = run(capsys, "tlog", "note-keys", "NOPE")
    assert rc == 4 and "NOPE" in err


def test_note_keys_text_output(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(capsys)
    assert main(["tlog", "note-keys"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("exchange SDE (1): 1 note key(s), origin ") and lines[1].startswith("- ")
    _vkey_public(lines[1][2:])
    assert "not revoked · trusted now · this node's key" in lines[2]


def _signed_checkpoint(data: Path) -> bytes:
    """The node's own checkpoint, signed as `serve` answers GET /tlog/SDE/checkpoint."""
    from provenance.services.node import Node
    from provenance.services.operations import Operations
    from provenance.services.tlog import TlogService
    from provenance.store.keystore import PassphraseSource
    from provenance.store.witness_state import TlogState

    with Node.open(data, PassphraseSource()) as node:
        ops = Operations(node)
        ops.sync()
        svc = TlogService(ops, exchange_id=1, key_exchange=ops.acting_exchange, state=TlogState(data))
        return svc.checkpoint(1)


def test_verify_checkpoint_against_a_snapshot(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _init(capsys)
    assert run(capsys, "key", "new", "merchant")[0] == 0
    assert run(capsys, "entity", "add", "--identifier", "91310000MA1TEST01X", "--account-key", "merchant")[0] == 0
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "merchant")[0] == 0
    assert run(capsys, "register", "--kind", "resource", "--owner", "1", "--content-hash", "0x" + "ab" * 32)[0] == 0
    msg = _signed_checkpoint(env)
    cp_file, snap_file = env.parent / "checkpoint.txt", env.parent / "snapshot.json"
    cp_file.write_bytes(msg)
    assert run(capsys, "snapshot", "--out", str(snap_file))[0] == 0
    snap = json.loads(snap_file.read_text())
    [listed] = snap["exchanges"][0]["noteKeys"]
    [current] = _keys(capsys)["noteKeys"]  # type: ignore[misc]
    assert listed == {"publicKey": current["publicKey"], "addedAt": current["addedAt"], "revokedAt": 0}

    # The signature line checked independently: Ed25519 (cryptography, directly) over the note text.
    text, _, sig_line = msg.decode().rpartition("\n\n")
    raw = base64.b64decode(sig_line.strip().split(" ")[-1])
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(listed["publicKey"][2:])).verify(raw[4:], (text + "\n").encode())

    rc, out, err = run(capsys, "tlog", "verify-checkpoint", str(cp_file), "--snapshot", str(snap_file))
    assert rc == 0, err
    assert out["valid"] is True and out["exchange"] == "SDE" and out["treeSize"] == 1  # type: ignore[index]
    assert out["signedBy"][0].startswith(out["origin"] + "+")  # type: ignore[index]

    # A snapshot signer the verifier does not trust: refused (exit 9, a verification failure).
    rc, _, err = run(capsys, "tlog", "verify-checkpoint", str(cp_file), "--snapshot", str(snap_file),
                     "--trust", "0x" + "22" * 20)
    assert rc == 9 and "does not trust" in err

    # A checkpoint whose root was changed no longer verifies under the listed key.
    lines = msg.split(b"\n")
    lines[2] = base64.b64encode(bytes(32))
    forged = env.parent / "forged.txt"
    forged.write_bytes(b"\n".join(lines))
    rc, _, err = run(capsys, "tlog", "verify-checkpoint", str(forged), "--snapshot", str(snap_file))
    assert rc == 9 and json.loads(err)["error"] == "InvalidNoteSignature"

    # After the key is revoked (forced), a new snapshot lists it revoked and the same checkpoint is refused.
    assert run(capsys, "tlog", "revoke-note-key", "--force", current["publicKey"])[0] == 0
    assert run(capsys, "snapshot", "--out", str(snap_file))[0] == 0
    rc, _, err = run(capsys, "tlog", "verify-checkpoint", str(cp_file), "--snapshot", str(snap_file))
    assert rc == 9 and json.loads(err)["error"] == "UntrustedCheckpoint"
