"""API tokens, kept hashed in ``<data-dir>/api-tokens.json`` and replaced atomically on every change (the HTTP
API looks them up; ``provenance token`` and the demo create and revoke them). See provenance.api.auth for the
roles and for requests signed by an exchange key instead."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.core import ijson
from provenance.errors import InvalidInput, NotFound

ROLES = ("admin", "registrar", "member", "merchant")
TOKEN_PREFIX = "pvt_"
TOKENS_FILE = "api-tokens.json"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    role: str
    name: str
    exchange: int | None = None  # the exchange it speaks for (member, admin by key)
    entity: int | None = None  # merchant tokens
    supervisor: int | None = None  # a request signed by a supervisor's current key


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
            raw = ijson.loads(self.path.read_bytes(), what=f"the token file {self.path}")
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


__all__ = ["ROLES", "TOKEN_PREFIX", "TOKENS_FILE", "Principal", "TokenStore"]
