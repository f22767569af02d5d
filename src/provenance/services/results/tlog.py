"""The C2SP transparency log service's results (services/tlog.py): a note key binding, an exchange's note keys as the
Federation lists them, and this node's keys. One model each, from the service's state to the wire."""

from __future__ import annotations

from provenance.core import tlog
from provenance.services.results import Result


class BindingOut(Result):
    """An exchange's note key, bound by a statement an active secp256k1 key of the exchange signed (EIP-191)."""

    exchange: int
    code: str
    origin: str
    vkey: str
    signer: str
    block: int
    statement: str
    signature: str


class NoteKeyOut(Result):
    exchange: int
    vkey: str  # the key as a C2SP verifier key, named by the exchange's origin
    publicKey: str
    addedAt: int
    revokedAt: int  # 0 while valid
    trusted: bool  # what this node's witness trusts for the exchange now

    @classmethod
    def of(cls, k: tlog.NoteKey, origin: str, trusted: bool) -> NoteKeyOut:
        return cls(exchange=k.exchange, vkey=k.verifier(origin).vkey, publicKey="0x" + k.public_key.hex(),
                   addedAt=k.added_at, revokedAt=k.revoked_at, trusted=trusted)


class TlogKeysOut(Result):
    origin: str | None
    vkey: str | None
    listed: NoteKeyOut | None  # the note key in the Federation's note key history, None if it is not there
    binding: BindingOut | None
    witness: str  # the witness's cosignature vkey (type 0x04)


__all__ = ["BindingOut", "NoteKeyOut", "TlogKeysOut"]
