"""Who is calling: API tokens (stored hashed) and requests signed by a registered exchange key.

Roles, each tied to the node's exchange unless it says otherwise:

* ``admin``      every write: entities, checkpoints, snapshots, witnessing, plus everything ``registrar`` may.
* ``registrar``  registrations (one, batch), status changes, certificates (issue, recognise).
* ``member``     a partner exchange: reads important- and core-grade records in full; no writes.
* ``merchant``   one entity: reads its own records in full; no writes (an owner consents to a registration
                 with its EIP-712 signature, which the exchange submits).

A token is ``pvt_`` and 43 characters of random base64url, shown once when it is created; the node keeps only
its SHA-256 (a 256-bit random secret needs no slow hash), so a leaked token file grants nothing.

A signed request carries ``X-Provenance-Key`` (an address), ``X-Provenance-Timestamp`` (Unix seconds) and
``X-Provenance-Signature`` (EIP-191 over :func:`signed_request_message`, which binds the chain id, the registry
address, the method as sent (HEAD, though the routes serve it as GET), the path with its query, the SHA-256 of
the body and the time). A valid key of the node's own exchange acts as ``admin``; a valid key of another member
exchange as ``member``. Signatures older or newer than five minutes are refused, and so is a non-canonical
signature (one signed request has one accepted encoding) and a request already accepted, even before a restart
(:class:`ReplayGuard`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct

from provenance.core import eip712
from provenance.core.keccak import keccak256
from provenance.errors import InvalidSignature
from provenance.store.replay import GuardFull, Replayed, SeenRequests

# Who is calling is part of this module's answer; the tokens themselves are kept by the store layer.
from provenance.store.tokens import Principal, TokenStore

WRITE_ROLES = frozenset({"admin", "registrar"})
SIGNATURE_WINDOW = 300  # seconds either side of the node's clock
SENT_METHOD = "provenance.sent_method"
"""The request scope's key for a HEAD request's own method while the routes see it as GET
(provenance.api.middleware): a signature binds the method as it was sent."""


class AuthError(Exception):
    """Raised when credentials are missing, malformed or wrong (401) or do not allow the action (403), or when
    signed requests cannot be recorded now (429 for one key, 503 for all: see :class:`ReplayGuard`)."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind  # the problem type, where "unauthenticated" (401) or "forbidden" (403) would mislead
        self.retry_after = retry_after


def signed_request_message(chain_id: int, registry: bytes, method: str, target: str, body: bytes,
                           timestamp: int) -> bytes:
    """What a key signs (EIP-191) to authenticate one HTTP request."""
    return "\n".join(["provenance-api-request", f"chain:{chain_id}", f"registry:0x{registry.hex()}",
                      method.upper(), target, hashlib.sha256(body).hexdigest(), str(timestamp)]).encode()


def sign_request(private_key: bytes, chain_id: int, registry: bytes, method: str, target: str, body: bytes,
                 *, timestamp: int | None = None) -> dict[str, str]:
    """The headers of a signed request (for clients and tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    msg = signed_request_message(chain_id, registry, method, target, body, ts)
    acct = Account.from_key(private_key)
    sig = acct.sign_message(encode_defunct(msg)).signature
    return {"X-Provenance-Key": acct.address, "X-Provenance-Timestamp": str(ts),
            "X-Provenance-Signature": "0x" + bytes(sig).hex()}


class ReplayGuard:
    """Signed requests admitted within their window, by signer and signed digest, so none counts twice.

    With ``data_dir`` the entries are kept in ``<data-dir>/replay-guard.bin`` (:mod:`provenance.store.replay`),
    each flushed to the disk before its request is accepted, so a restart within the window still refuses a
    replay; without it they live in memory only (a tool checking requests it never serves). An entry lives until
    its signed timestamp is twice the window old. At ``capacity`` live entries, or ``per_signer`` for one key, new
    signed requests are refused (503, 429) until entries expire: an old entry is never forgotten to make room.
    """

    def __init__(self, data_dir: Path | None = None, *, window: int = SIGNATURE_WINDOW, capacity: int = 250_000,
                 per_signer: int = 25_000, now: float | None = None) -> None:
        self.window = window
        self._seen = SeenRequests(data_dir, now=time.time() if now is None else now, capacity=capacity,
                                  per_signer=per_signer)

    def __len__(self) -> int:
        return len(self._seen)

    def admit(self, signer: bytes, digest: bytes, timestamp: int, now: float) -> None:
        """Record the request signed by ``signer`` over ``digest`` at ``timestamp``, or raise :class:`AuthError`."""
        try:
            self._seen.admit(signer, digest, timestamp + 2 * self.window, now)
        except Replayed as exc:
            raise AuthError(401, exc.message) from None
        except GuardFull as exc:
            # One key at its share is that key's flood (429, as the rate limiter answers); the whole guard full is
            # the node's state (503). Entries expire within twice the window; a minute is a fair first retry.
            raise AuthError(429 if exc.per_signer else 503, exc.message,
                            kind="rate-limited" if exc.per_signer else "replay-guard-full", retry_after=60) from None

    def close(self) -> None:
        self._seen.close()


_LOWER_HEX = frozenset("0123456789abcdef")


def request_digest(message: bytes) -> bytes:
    """The EIP-191 (version 0x45) digest a key signs for :func:`signed_request_message`."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def _timestamp(text: str) -> int:
    # One spelling per time: the signed message holds str(ts), so " 12", "+12" or "012" would read as 12.
    if not (0 < len(text) <= 12 and text.isascii() and text.isdigit()) or (text[0] == "0" and text != "0"):
        raise AuthError(401, "X-Provenance-Timestamp must be Unix seconds in decimal digits")
    return int(text)


def _signature(text: str) -> bytes:
    """The signature's bytes, if written as the node writes it: 0x and lowercase hex digits."""
    digits = text[2:]
    if not text.startswith("0x") or len(digits) % 2 or not _LOWER_HEX.issuperset(digits):
        raise AuthError(401, "X-Provenance-Signature must be 0x and lowercase hex digits (65 bytes: r, s, v)")
    sig = bytes.fromhex(digits)
    if len(sig) != 65:
        compact = "; the 64-byte compact form (EIP-2098) is not accepted" if len(sig) == 64 else ""
        raise AuthError(401, f"X-Provenance-Signature is {len(sig)} bytes, not 65 (r, s, v){compact}")
    return sig


def recover_request_signer(headers: dict[str, str], chain_id: int, registry: bytes, method: str, target: str,
                           body: bytes, now: float, replay: ReplayGuard,
                           admissible: Callable[[bytes], bool] | None = None) -> bytes:
    """The address that signed this request, or :class:`AuthError` saying what is wrong with it.

    The signature must be canonical, as the contracts require (65 bytes r || s || v, v 27 or 28, 0 < r < n,
    0 < s <= n/2): one signed request has exactly one accepted encoding. The request is then recorded in
    ``replay`` by its signer and digest, once ``admissible`` (if given) accepts the signer, so a flood of
    signatures by keys the node does not know fills nothing.
    """
    key, ts_text, sig_text = (headers.get(h) for h in ("x-provenance-key", "x-provenance-timestamp",
                                                         "x-provenance-signature"))
    if not (key and ts_text and sig_text):
        raise AuthError(401, "a signed request needs X-Provenance-Key, X-Provenance-Timestamp and "
                             "X-Provenance-Signature")
    ts = _timestamp(ts_text)
    try:
        claimed = bytes.fromhex(key.removeprefix("0x"))
    except ValueError:
        raise AuthError(401, "X-Provenance-Key must be an address in hex") from None
    if len(claimed) != 20:
        raise AuthError(401, "X-Provenance-Key must be 20 bytes")
    sig = _signature(sig_text)
    if abs(now - ts) > replay.window:
        raise AuthError(401, f"X-Provenance-Timestamp is more than {replay.window} s from the node's clock")
    digest = request_digest(signed_request_message(chain_id, registry, method, target, body, ts))
    try:
        recovered = bytes(eip712.recover_address(digest, sig))
    except InvalidSignature as exc:
        raise AuthError(401, f"X-Provenance-Signature is refused: {exc.message}") from None
    if recovered != claimed:
        raise AuthError(401, "X-Provenance-Signature was not made by X-Provenance-Key over this request")
    if admissible is not None and not admissible(recovered):
        raise AuthError(401, f"0x{recovered.hex()} is not a valid key of an active member exchange or supervisor")
    replay.admit(recovered, digest, ts, now)
    return recovered


__all__ = ["WRITE_ROLES", "SIGNATURE_WINDOW", "AuthError", "Principal", "ReplayGuard", "TokenStore",
           "recover_request_signer", "request_digest", "sign_request", "signed_request_message"]
