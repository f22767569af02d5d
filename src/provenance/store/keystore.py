"""Encrypted key storage: one Web3 Secret Storage file per key (https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/).

Keys are written as ``<label>--<address>.json`` under the data directory's ``keystore/`` folder, encrypted
with scrypt. The passphrase comes from ``PROVENANCE_PASSPHRASE``, a file, or an interactive prompt, in that
order of preference when configured; it is held only in memory and never logged or printed.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.core import ijson
from provenance.errors import InvalidInput, KeystoreError

PASSPHRASE_ENV = "PROVENANCE_PASSPHRASE"
DEFAULT_SCRYPT_N = 2**18
MAX_KEY_FILE_BYTES = 64 * 1024
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class PassphraseSource:
    """Where the passphrase comes from. It is read once, on first use."""

    env: str | None = PASSPHRASE_ENV
    file: Path | None = None
    prompt: bool = True

    def read(self, *, confirm: bool = False) -> str:
        if self.file is not None:
            try:
                value = self.file.read_text("utf-8").rstrip("\r\n")
            except OSError as exc:
                raise KeystoreError(f"cannot read the passphrase file {self.file}: {exc.strerror}") from exc
            if not value:
                raise KeystoreError(f"the passphrase file {self.file} is empty")
            return value
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.prompt and sys.stdin.isatty():
            value = getpass.getpass("Keystore passphrase: ")
            if confirm and getpass.getpass("Repeat the passphrase: ") != value:
                raise KeystoreError("the two passphrases differ")
            if not value:
                raise KeystoreError("the passphrase must not be empty")
            return value
        raise KeystoreError(
            f"no keystore passphrase: set {self.env or PASSPHRASE_ENV}, pass --passphrase-file, or run in a terminal"
        )


class Keystore:
    def __init__(self, directory: Path, passphrase: PassphraseSource | Callable[[], str], *,
                 scrypt_n: int = DEFAULT_SCRYPT_N) -> None:
        self.directory = directory
        self._source = passphrase
        self._passphrase: str | None = None
        self._scrypt_n = scrypt_n
        self._cache: dict[str, LocalAccount] = {}

    def _get_passphrase(self, *, confirm: bool = False) -> str:
        if self._passphrase is None:
            src = self._source
            self._passphrase = src.read(confirm=confirm) if isinstance(src, PassphraseSource) else src()
        return self._passphrase

    def labels(self) -> dict[str, str]:
        """label -> checksummed address, without decrypting anything."""
        out: dict[str, str] = {}
        if not self.directory.is_dir():
            return out
        for path in sorted(self.directory.glob("*--*.json")):
            label, _, _ = path.stem.rpartition("--")
            try:
                address = _read_key_file(path)["address"]
            except (KeyError, TypeError) as exc:
                raise KeystoreError(f"unreadable key file {path.name}: no address") from exc
            out[label] = _checksum(str(address))
        return out

    def has(self, label: str) -> bool:
        return label in self.labels()

    def create(self, label: str, private_key: bytes | None = None) -> LocalAccount:
        """Create (or import) a key under a new label and write it encrypted."""
        if not _LABEL.match(label):
            raise InvalidInput(f"invalid key label {label!r}: letters, digits, '.', '_' and '-' only")
        if self.has(label):
            raise KeystoreError(f"a key labelled {label!r} already exists")
        account = cast(LocalAccount, Account.from_key(private_key) if private_key is not None else Account.create())
        encrypted = Account.encrypt(account.key, self._get_passphrase(confirm=True), kdf="scrypt",
                                    iterations=self._scrypt_n)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / f"{label}--{account.address[2:].lower()}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(encrypted, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._cache[label] = account
        return account

    def address(self, label: str) -> str:
        labels = self.labels()
        if label not in labels:
            known = ", ".join(sorted(labels)) or "none"
            raise KeystoreError(f"no key labelled {label!r} in {self.directory} (known: {known})")
        return labels[label]

    def load(self, label: str) -> LocalAccount:
        if label in self._cache:
            return self._cache[label]
        address = self.address(label)
        path = self.directory / f"{label}--{address[2:].lower()}.json"
        encrypted = _read_key_file(path)
        try:
            key = Account.decrypt(encrypted, self._get_passphrase())
        except ValueError as exc:
            raise KeystoreError(f"wrong passphrase for key {label!r}") from exc
        except (TypeError, KeyError, AttributeError) as exc:
            raise KeystoreError(f"unreadable key file {path.name}: not a Web3 Secret Storage file") from exc
        account = cast(LocalAccount, Account.from_key(key))
        self._cache[label] = account
        return account


def _read_key_file(path: Path) -> Any:
    """A key file, read as I-JSON within MAX_KEY_FILE_BYTES (a Web3 Secret Storage file is under 1 KiB)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEY_FILE_BYTES + 1)
        return ijson.loads(raw, max_bytes=MAX_KEY_FILE_BYTES, what=f"the key file {path.name}")
    except OSError as exc:
        raise KeystoreError(f"unreadable key file {path.name}: {exc.strerror}") from exc
    except InvalidInput as exc:  # not I-JSON, too deep or too large: a damaged or planted file
        raise KeystoreError(f"unreadable key file {path.name}: {exc.message}") from exc


def _checksum(address: str) -> str:
    return to_checksum_address("0x" + address.lower().removeprefix("0x"))
