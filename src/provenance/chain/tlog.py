"""The Federation's Ed25519 note keys (IFederation.addNoteKey / revokeNoteKey / noteKeysOf): typed calls.

A note key is the 32-byte public key an exchange's node signs its C2SP checkpoints with; the exchange's
secp256k1 key lists it (the EVM cannot check an Ed25519 key, so listing it proves who vouched for it and when,
not possession). Values are :class:`provenance.core.tlog.NoteKey`.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import FEDERATION, Contracts
from provenance.chain.registry import WriteResult
from provenance.core.tlog import NoteKey
from provenance.errors import InvalidInput


def _key(public_key: bytes) -> bytes:
    if len(public_key) != 32:
        raise InvalidInput("an Ed25519 note key is 32 bytes")
    return bytes(public_key)


class NoteKeyService:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts

    def add(self, signer: LocalAccount, public_key: bytes) -> WriteResult:
        """List ``public_key`` as a note key of the signer's exchange (refused by name: NotExchangeKey,
        ZeroNoteKey, NoteKeyAlreadyUsed, TooManyNoteKeys)."""
        return self._write(signer, "addNoteKey", _key(public_key))

    def revoke(self, signer: LocalAccount, public_key: bytes) -> WriteResult:
        """Revoke a note key of the signer's exchange (NotExchangeKey, UnknownNoteKey, NoteKeyAlreadyRevoked)."""
        return self._write(signer, "revokeNoteKey", _key(public_key))

    def of(self, exchange_id: int) -> list[NoteKey]:
        """Every note key the exchange listed, in order, with the blocks each was valid in."""
        rows = self.contracts.call(FEDERATION, "noteKeysOf", exchange_id)[0]
        return [NoteKey(exchange_id, bytes(k), int(added), int(revoked)) for k, added, revoked in rows]

    def get(self, public_key: bytes) -> NoteKey | None:
        """The key's record, or None if no exchange listed it."""
        ex, added, revoked = self.contracts.call(FEDERATION, "getNoteKey", _key(public_key))[0]
        return NoteKey(int(ex), bytes(public_key), int(added), int(revoked)) if ex else None

    def valid_at(self, public_key: bytes, exchange_id: int, block: int) -> bool:
        return bool(self.contracts.call(FEDERATION, "isNoteKeyValidAt", _key(public_key), exchange_id, block)[0])

    def _write(self, signer: LocalAccount, fn: str, *args: object) -> WriteResult:
        r = self.contracts.transact(signer, FEDERATION, fn, *args).receipt
        return WriteResult(r.tx_hash, r.block_number, r.gas_used)
