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
address, the method, the path with its query, the SHA-256 of the body and the time). A valid key of the node's
own exchange acts as ``admin``; a valid key of another member exchange as ``member``. Signatures older or newer
than five minutes, or seen before, are refused.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from provenance.errors import InvalidInput, NotFound

ROLES = ("admin", "registrar", "member", "merchant")
WRITE_ROLES = frozenset({"admin", "registrar"})
TOKEN_PREFIX = "pvt_"
SIGNATURE_WINDOW = 300  # seconds either side of the node's clock
TOKENS_FILE = "api-tokens.json"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    role: str
    name: str
    exchange: int | None = None  # the exchange it speaks for (member, admin by key)
    entity: int | None = None  # merchant tokens
    supervisor: int | None = None  # a request signed by a supervisor's current key


class AuthError(Exception):
    """Raised when credentials are missing, malformed or wrong (401) or do not allow the action (403)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """API tokens in ``<data-dir>/api-tokens.json``, hashed, replaced atomically on every change."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TOKENS_FILE
        self._lock = threading.Lock()
        self._by_hash: dict[str, dict[str, Any]] = {}
        self._mtime: tuple[int, int, int] | None = None
        self._checked = time.monotonic()
        self._load()

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._by_hash, self._mtime = {}, None
            return
        if (st.st_ino, st.st_mtime_ns, st.st_size) == self._mtime:
            return
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except ValueError as exc:
            raise InvalidInput(f"{self.path} is not valid JSON: {exc}") from exc
        self._by_hash = {t["hash"]: t for t in raw.get("tokens", [])}
        self._mtime = (st.st_ino, st.st_mtime_ns, st.st_size)

    @contextlib.contextmanager
    def _exclusive(self) -> Any:
        """This process's lock and a file lock, so two processes creating tokens do not lose one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path.with_suffix(".lock"), "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                self._mtime = None  # re-read whatever another process wrote
                self._load()
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"tokens": list(self._by_hash.values())}, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._mtime = None
        self._load()

    def create(self, role: str, name: str, *, entity: int | None = None, exchange: int | None = None) -> str:
        """Create a token and return it: the only time it is seen in clear."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if role == "merchant" and entity is None:
            raise InvalidInput("a merchant token names its entity (--entity)")
        if not name or len(name) > 64:
            raise InvalidInput("a token needs a name of 1 to 64 characters")
        token = TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        with self._exclusive():
            if any(t["name"] == name for t in self._by_hash.values()):
                raise InvalidInput(f"a token named {name!r} exists; revoke it first or pick another name")
            h = _digest(token)
            self._by_hash[h] = {"hash": h, "id": h[:12], "name": name, "role": role, "entity": entity,
                                "exchange": exchange, "created": int(time.time())}
            self._save()
        return token

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            self._load()
            return [{k: v for k, v in t.items() if k != "hash"} for t in self._by_hash.values()]

    def revoke(self, name_or_id: str) -> dict[str, Any]:
        with self._exclusive():
            for h, t in self._by_hash.items():
                if name_or_id in (t["name"], t["id"]):
                    del self._by_hash[h]
                    self._save()
                    return {k: v for k, v in t.items() if k != "hash"}
        raise NotFound(f"no token named {name_or_id!r}")

    def lookup(self, token: str) -> Principal | None:
        """The token's holder, or None. The file is looked at again at most every half second (a token
        created or revoked by ``provenance token`` takes effect within that)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked > 0.5:
                self._load()
                self._checked = now
            t = self._by_hash.get(_digest(token))
        if t is None:
            return None
        return Principal(t["role"], t["name"], t.get("exchange"), t.get("entity"))


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
    """Signatures seen within the window; a second use of one is refused."""

    def __init__(self, window: int = SIGNATURE_WINDOW, capacity: int = 100_000) -> None:
        self.window = window
        self.capacity = capacity
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, signature: bytes, now: float) -> bool:
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - 2 * self.window
                                  or len(self._seen) > self.capacity):
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True


def recover_request_signer(headers: dict[str, str], chain_id: int, registry: bytes, method: str, target: str,
                           body: bytes, now: float, replay: ReplayGuard) -> bytes:
    """The address that signed this request, or :class:`AuthError` saying what is wrong with it."""
    key, ts_text, sig_text = (headers.get(h) for h in ("x-provenance-key", "x-provenance-timestamp",
                                                         "x-provenance-signature"))
    if not (key and ts_text and sig_text):
        raise AuthError(401, "a signed request needs X-Provenance-Key, X-Provenance-Timestamp and "
                             "X-Provenance-Signature")
    try:
        ts = int(ts_text)
        sig = bytes.fromhex(sig_text.removeprefix("0x"))
        claimed = bytes.fromhex(key.removeprefix("0x"))
    except ValueError:
        raise AuthError(401, "X-Provenance-Timestamp must be an integer and the key and signature hex") from None
    if len(claimed) != 20 or len(sig) != 65:
        raise AuthError(401, "X-Provenance-Key must be 20 bytes and X-Provenance-Signature 65 bytes")
    if abs(now - ts) > SIGNATURE_WINDOW:
        raise AuthError(401, f"X-Provenance-Timestamp is more than {SIGNATURE_WINDOW} s from the node's clock")
    msg = signed_request_message(chain_id, registry, method, target, body, ts)
    try:
        recovered = bytes.fromhex(Account.recover_message(encode_defunct(msg), signature=sig)[2:])
    except Exception:  # noqa: BLE001 - any malformed signature is simply not a valid one
        raise AuthError(401, "X-Provenance-Signature is not a valid signature") from None
    if recovered != claimed:
        raise AuthError(401, "X-Provenance-Signature was not made by X-Provenance-Key over this request")
    if not replay.first_use(sig, now):
        raise AuthError(401, "this signed request was already used (replay)")
    return recovered
