"""Federation: Ed25519 note keys in an exchange's key history (added and revoked at blocks, used once, bounded),
read through chain/tlog.NoteKeyService and held to the pure rule core/tlog.NoteKey.valid_at."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account

from provenance.chain.tlog import NoteKeyService
from provenance.core.tlog import NoteKey
from provenance.errors import InvalidInput
from tests.support.federation import Fed, reverts


def ed25519(seed: str) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest()).public_key().public_bytes_raw()


def test_add_revoke_and_history(fed: Fed) -> None:
    keys, sde = NoteKeyService(fed.contracts), fed.keys["SDE"]
    first, second = ed25519("first"), ed25519("second")
    added = fed.contracts.transact(sde, "Federation", "addNoteKey", first)
    assert added.event("NoteKeyAdded").args == {"exchangeId": 1, "key": first}
    a = added.receipt
    b = keys.add(sde, second)
    revoked = fed.contracts.transact(sde, "Federation", "revokeNoteKey", first)
    assert revoked.event("NoteKeyRevoked").args == {"exchangeId": 1, "key": first}
    r = revoked.receipt
    assert keys.of(1) == [NoteKey(1, first, a.block_number, r.block_number), NoteKey(1, second, b.block_number, 0)]
    assert keys.of(2) == [] and keys.get(ed25519("never")) is None
    assert keys.get(second) == NoteKey(1, second, b.block_number, 0)
    # The contract's validity at a block is the pure rule's, on every block around the changes.
    for block in range(a.block_number - 1, r.block_number + 2):
        for k in keys.of(1):
            assert keys.valid_at(k.public_key, 1, block) == k.valid_at(block), (k, block)
            assert not keys.valid_at(k.public_key, 2, block)  # never another exchange's
    assert not keys.valid_at(first, 0, a.block_number)


def test_refusals(fed: Fed) -> None:
    keys, sde, zj = NoteKeyService(fed.contracts), fed.keys["SDE"], fed.keys["ZJDE"]
    key = ed25519("k")
    with reverts("NotExchangeKey"):
        keys.add(Account.create(), key)
    with reverts("ZeroNoteKey"):
        keys.add(sde, bytes(32))
    keys.add(sde, key)
    with reverts("NoteKeyAlreadyUsed", key=key):
        keys.add(zj, key)  # another exchange cannot take it
    with reverts("NoteKeyAlreadyUsed", key=key):
        keys.add(sde, key)
    with reverts("UnknownNoteKey", key=key, exchangeId=2):
        keys.revoke(zj, key)  # nor revoke it
    with reverts("UnknownNoteKey", key=ed25519("other"), exchangeId=1):
        keys.revoke(sde, ed25519("other"))
    with reverts("NotExchangeKey"):
        keys.revoke(Account.create(), key)
    keys.revoke(sde, key)
    with reverts("NoteKeyAlreadyRevoked", key=key):
        keys.revoke(sde, key)
    with reverts("NoteKeyAlreadyUsed", key=key):
        keys.add(sde, key)  # a revoked key is never listed again
    with pytest.raises(InvalidInput):
        keys.add(sde, bytes(31))


def test_active_note_keys_are_bounded_and_revoking_frees_room(fed: Fed) -> None:
    keys, sde = NoteKeyService(fed.contracts), fed.keys["SDE"]
    limit = int(fed.contracts.call("Federation", "MAX_ACTIVE_NOTE_KEYS")[0])
    for i in range(limit):
        keys.add(sde, ed25519(f"n{i}"))
    with reverts("TooManyNoteKeys", exchangeId=1):
        keys.add(sde, ed25519("one too many"))
    keys.revoke(sde, ed25519("n0"))
    keys.add(sde, ed25519("one too many"))
    assert len(keys.of(1)) == limit + 1 and sum(k.revoked_at == 0 for k in keys.of(1)) == limit


def test_a_removed_exchange_note_keys_stop_at_its_removal(fed: Fed) -> None:
    keys = NoteKeyService(fed.contracts)
    added = keys.add(fed.keys["ZJDE"], ed25519("zj")).block_number
    out = fed.svc.propose_remove_exchange(fed.keys["SDE"], "ZJDE")
    assert out.executed
    removed_at = fed.svc.exchange("ZJDE").removed_at
    assert keys.valid_at(ed25519("zj"), 2, removed_at - 1) and added < removed_at
    assert not keys.valid_at(ed25519("zj"), 2, removed_at)
    assert keys.get(ed25519("zj")) == NoteKey(2, ed25519("zj"), added, 0)  # the record itself is unchanged
    with reverts("NotExchangeKey"):
        keys.add(fed.keys["ZJDE"], ed25519("late"))
