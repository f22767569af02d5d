"""A federation snapshot's note keys (``noteKeys``): written only when an exchange has some, so snapshots of
federations without them keep their document and content hash; covered by the snapshot's signature; and what an
offline verifier checks an exchange's C2SP checkpoints against (core/tlog.checkpoint_signed_by_snapshot)."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest
import rfc8785
from eth_account import Account

from provenance.core import note
from provenance.core.snapshot import (
    SnapshotExchange,
    SnapshotView,
    UntrustedSnapshot,
    build_snapshot,
    content_hash,
    sign_snapshot,
)
from provenance.core.tlog import (
    Checkpoint,
    MalformedCheckpoint,
    UntrustedCheckpoint,
    checkpoint_signed_by_snapshot,
    cosign,
    origin,
    sign_checkpoint,
    snapshot_note_keys,
)

CHAIN, REGISTRY, AT = 1502, bytes.fromhex("fb" * 20), 100
SIGNER = Account.from_key(b"\x07" * 32)
SIGNER_ADDRESS = bytes.fromhex(SIGNER.address[2:])
KEY_ADDRESS = bytes.fromhex("ab" * 20)
ORIGIN = origin(CHAIN, REGISTRY, "SDE")
LOG_KEY = note.Signer.derive(ORIGIN, b"\x01" * 32, b"test note key")
OLD_KEY = note.Signer.derive(ORIGIN, b"\x02" * 32, b"test note key")


def _snapshot(exchanges: list[SnapshotExchange]) -> dict[str, Any]:
    return build_snapshot(chain_id=CHAIN, registry=REGISTRY, at_block=AT, block_hash=b"\x0c" * 32, threshold=1,
                          exchanges=exchanges, checkpoints=[(1, 3, b"\x0d" * 32, 90)], statuses=[])


def _signed(exchanges: list[SnapshotExchange]) -> dict[str, Any]:
    return sign_snapshot(_snapshot(exchanges), 1, bytes(SIGNER.key), SIGNER_ADDRESS)


def _sde(*note_keys: tuple[bytes, int, int], status: str = "active") -> SnapshotExchange:
    return SnapshotExchange(1, "SDE", "Shanghai", status, ((KEY_ADDRESS, 5, 0),), tuple(note_keys))


# The document the builder wrote before snapshots had note keys, spelled out here rather than built.
OLD = {
    "type": "FederationSnapshot", "version": 1, "chainId": CHAIN, "registry": "0x" + "fb" * 20, "atBlock": AT,
    "blockHash": "0x" + "0c" * 32, "threshold": 1,
    "exchanges": [{"id": 1, "code": "SDE", "name": "Shanghai", "status": "active",
                   "keys": [{"address": "0x" + "ab" * 20, "validFrom": 5, "validTo": 0}]}],
    "checkpoints": [{"exchange": 1, "treeSize": 3, "root": "0x" + "0d" * 32, "anchorBlock": 90}],
}


def test_a_snapshot_without_note_keys_is_the_document_and_hash_it_was() -> None:
    snap = _snapshot([_sde()])
    assert "noteKeys" not in snap["exchanges"][0]
    assert {k: v for k, v in snap.items() if k != "statusList"} == OLD
    # The content hash, recomputed with an independent RFC 8785 implementation over the old document.
    old = {**OLD, "statusList": snap["statusList"]}
    assert content_hash(snap) == hashlib.sha256(rfc8785.dumps(old)).digest()


def test_an_old_snapshot_json_parses_and_verifies_unchanged() -> None:
    old = sign_snapshot({**OLD, "statusList": _snapshot([_sde()])["statusList"]}, 1, bytes(SIGNER.key),
                        SIGNER_ADDRESS)
    view = SnapshotView(copy.deepcopy(old), [SIGNER_ADDRESS])
    ex = view.exchange("SDE")
    assert ex == _sde() and ex is not None and ex.note_keys == () and view.exchange(1) == ex
    assert view.exchange("ZJDE") is None and view.exchange(2) is None
    assert view.key(KEY_ADDRESS) is not None and view.anchored_root(1, 3) == b"\x0d" * 32


def test_note_keys_are_written_parsed_and_signed() -> None:
    keys = ((OLD_KEY.verifier.public_key, 10, 40), (LOG_KEY.verifier.public_key, 40, 0))
    snap = _signed([_sde(*keys)])
    assert snap["exchanges"][0]["noteKeys"] == [
        {"publicKey": "0x" + OLD_KEY.verifier.public_key.hex(), "addedAt": 10, "revokedAt": 40},
        {"publicKey": "0x" + LOG_KEY.verifier.public_key.hex(), "addedAt": 40, "revokedAt": 0}]
    assert content_hash(snap) == hashlib.sha256(rfc8785.dumps({k: v for k, v in snap.items()
                                                               if k != "signature"})).digest()
    view = SnapshotView(snap, [SIGNER_ADDRESS])
    assert view.exchange("SDE") == _sde(*keys)


@pytest.mark.parametrize("tamper", [
    lambda e: e["noteKeys"][0].update(revokedAt=0),  # un-revoke the old key
    lambda e: e["noteKeys"][1].update(publicKey="0x" + "11" * 32),  # swap in another key
    lambda e: e["noteKeys"][1].update(addedAt=1),
    lambda e: e["noteKeys"].append({"publicKey": "0x" + "22" * 32, "addedAt": 1, "revokedAt": 0}),
    lambda e: e.pop("noteKeys"),  # drop the history (the old shape, but not what was signed)
])
def test_a_tampered_note_key_fails_the_snapshot_signature(tamper: Any) -> None:
    snap = _signed([_sde((OLD_KEY.verifier.public_key, 10, 40), (LOG_KEY.verifier.public_key, 40, 0))])
    SnapshotView(copy.deepcopy(snap), [SIGNER_ADDRESS])
    tamper(snap["exchanges"][0])
    with pytest.raises(UntrustedSnapshot, match="signed by"):
        SnapshotView(snap, [SIGNER_ADDRESS])


@pytest.mark.parametrize(("entry", "needle"), [
    ({"publicKey": "0x" + "11" * 31, "addedAt": 1, "revokedAt": 0}, "publicKey"),
    ({"publicKey": "0x" + "11" * 32, "addedAt": -1, "revokedAt": 0}, "addedAt"),
    ({"publicKey": "0x" + "11" * 32, "addedAt": 1}, "revokedAt is missing"),
    ("0x11", "must be an object"),
])
def test_a_malformed_note_key_entry_is_refused_even_when_signed(entry: Any, needle: str) -> None:
    snap = _snapshot([_sde()])
    snap["exchanges"][0]["noteKeys"] = [entry]
    signed = sign_snapshot(snap, 1, bytes(SIGNER.key), SIGNER_ADDRESS)
    with pytest.raises(UntrustedSnapshot, match=needle):
        SnapshotView(signed, [SIGNER_ADDRESS])


# ---------------------------------------------------------------------- checkpoints checked against a snapshot

CP = Checkpoint(ORIGIN, 3, b"\x0d" * 32)


def _check(msg: bytes, ex: SnapshotExchange) -> Checkpoint:
    return checkpoint_signed_by_snapshot(msg, ex, chain_id=CHAIN, registry=REGISTRY, at_block=AT)[0]


def test_a_checkpoint_signed_by_a_listed_key_verifies_and_witness_lines_are_left_aside() -> None:
    witness = note.Signer.generate("witness.example", note.SIG_COSIGNATURE_V1)
    msg = sign_checkpoint(CP, LOG_KEY, [cosign(CP, witness, 1_700_000_000)])
    cp, opened = checkpoint_signed_by_snapshot(msg, _sde((LOG_KEY.verifier.public_key, 40, 0)), chain_id=CHAIN,
                                               registry=REGISTRY, at_block=AT)
    assert cp == CP and [s.name for s in opened.signatures] == [ORIGIN]
    assert [s.name for s in opened.unverified] == ["witness.example"]
    # The signature line checked by hand (signed-note: key ID || Ed25519 over the text), through cryptography.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    line = msg.decode().split("\n\n")[-1].split("\n")[0]
    raw = base64.b64decode(line.split(" ")[-1])
    kid = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + LOG_KEY.verifier.public_key).digest()[:4]
    assert raw[:4] == kid
    Ed25519PublicKey.from_public_bytes(LOG_KEY.verifier.public_key).verify(raw[4:], CP.text().encode())


@pytest.mark.parametrize(("listed", "status", "needle"), [
    ((OLD_KEY.verifier.public_key, 10, 0), "active", "no signature"),  # another key of the exchange
    ((LOG_KEY.verifier.public_key, 10, 40), "active", "no valid note key"),  # revoked before the snapshot
    ((LOG_KEY.verifier.public_key, 10, 200), "active", "no valid note key"),  # revoked, even after atBlock
    ((LOG_KEY.verifier.public_key, AT + 1, 0), "active", "no valid note key"),  # listed after the snapshot
    ((LOG_KEY.verifier.public_key, 10, 0), "removed", "no valid note key"),  # the exchange left
])
def test_a_checkpoint_is_refused_without_a_key_the_snapshot_trusts(listed: tuple[bytes, int, int], status: str,
                                                                    needle: str) -> None:
    with pytest.raises(UntrustedCheckpoint, match=needle):
        _check(sign_checkpoint(CP, LOG_KEY), _sde(listed, status=status))


def test_the_boundaries_of_a_keys_validity() -> None:
    msg = sign_checkpoint(CP, LOG_KEY)
    assert _check(msg, _sde((LOG_KEY.verifier.public_key, AT, 0))) == CP  # listed in the snapshot's block
    assert snapshot_note_keys(_sde((LOG_KEY.verifier.public_key, AT, 0)), at_block=AT - 1) == []


def test_a_checkpoint_of_another_log_or_a_forged_one_is_refused() -> None:
    ex = _sde((LOG_KEY.verifier.public_key, 10, 0))
    other = Checkpoint(origin(CHAIN, REGISTRY, "ZJDE"), 3, b"\x0d" * 32)
    signer = note.Signer.derive(other.origin, b"\x01" * 32, b"test note key")  # the same key, another log's name
    with pytest.raises(UntrustedCheckpoint, match="not exchange SDE's"):
        _check(sign_checkpoint(other, signer), ex)
    moved = Checkpoint(origin(CHAIN + 1, REGISTRY, "SDE"), 3, b"\x0d" * 32)
    with pytest.raises(UntrustedCheckpoint, match="not exchange SDE's"):
        _check(sign_checkpoint(moved, note.Signer.derive(moved.origin, b"\x01" * 32, b"test note key")), ex)
    text, sig = sign_checkpoint(CP, LOG_KEY).split(b"\n\n")
    forged = text.replace(base64.b64encode(b"\x0d" * 32), base64.b64encode(b"\x0e" * 32)) + b"\n\n" + sig
    with pytest.raises(note.InvalidNoteSignature):
        _check(forged, ex)
    with pytest.raises(MalformedCheckpoint):
        _check(note.sign("not a checkpoint\n", [LOG_KEY]), ex)
