"""C2SP signed notes (c2sp.org/signed-note, the format of golang.org/x/mod/sumdb/note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(key ID || signature)``. The text is separated from the signatures by the *last* blank line.
Keys are named (non-empty, no Unicode space, no ``+``); a key ID is ``SHA-256(name || 0x0A || type || pubkey)[:4]``
read big-endian, so one Ed25519 key can serve two signature types (0x01 plain note signatures, 0x04 checkpoint
cosignatures, c2sp.org/tlog-cosignature) without a signature of one being taken for the other.

Verification follows the spec and Go's ``note.Open``: a signature by an unknown (name, key ID) is kept aside,
unchecked; one by a known key must verify or the whole note is refused; a note with no verified signature is
refused. Limits: at most :data:`MAX_SIGNATURES` signature lines (the spec asks for at least 16; Go allows 100)
and :data:`MAX_NOTE_BYTES` in all, both checked before any signature is verified.

Ed25519 is RFC 8032 through the ``cryptography`` package; everything else is plain values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from provenance.errors import InvalidInput, InvalidSignature, VerificationError

SIG_ED25519 = 0x01  # plain Ed25519 note signatures (signed-note)
SIG_COSIGNATURE_V1 = 0x04  # timestamped Ed25519 checkpoint cosignatures (tlog-cosignature)
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20  # room for 100 post-quantum signature lines (each under 5 kB), and a text
EM_DASH = "\u2014"
_SIG_PREFIX = (EM_DASH + " ").encode()
# Go's unicode.IsSpace (the White_Space property); Python's str.isspace adds only control characters, which a
# note may not contain anyway, so either test refuses the same names.
_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B))


class MalformedNote(InvalidInput):
    """Raised when a signed note, a key name, a vkey or an skey breaks a rule of c2sp.org/signed-note."""


class MalformedKey(MalformedNote):
    """Raised when a verifier or signer key string is not a well-formed Ed25519 key of its name and ID."""


class InvalidNoteSignature(InvalidSignature):
    """Raised when a signature line by a known key does not verify: the whole note is refused."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class UnverifiedNote(VerificationError):
    """Raised when no signature of a note is by a known key; carries the parsed note."""

    def __init__(self, note: Note) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


class AmbiguousKey(VerificationError):
    """Raised when two different known keys share a name and key ID and a note is signed under them."""


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c in _SPACES for c in name) and all(
        ord(c) >= 0x20 for c in name)


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4], "big")


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise MalformedNote(f"{what} is not standard base64") from exc
    # Canonical only: the same bytes have one encoding, so a line cannot be varied without changing its bytes.
    if base64.b64encode(raw).decode() != text:
        raise MalformedNote(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and ID, and the signature bytes that follow the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{EM_DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Verifier:
    """A public key with its name, ID and signature type; ``vkey`` is its text form."""

    name: str
    key_id: int
    sig_type: int
    public_key: bytes

    @classmethod
    def ed25519(cls, name: str, public_key: bytes, sig_type: int = SIG_ED25519) -> Verifier:
        if not valid_name(name):
            raise MalformedKey(f"key name {name!r} is empty or has a space, a control character or '+'")
        if len(public_key) != 32:
            raise MalformedKey("an Ed25519 public key is 32 bytes")
        return cls(name, key_id(name, sig_type, public_key), sig_type, bytes(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key ID>+base64(type || public key)``, refusing any part that does not agree."""
        parts = vkey.split("+", 2)  # base64 may hold '+': the key is the rest, as Go's strings.Cut reads it
        if len(parts) != 3:
            raise MalformedKey("a vkey is name+keyid+key")
        name, hex_id, b64 = parts
        if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
            raise MalformedKey("a vkey's key ID is 8 lowercase hex digits")
        try:
            raw = _b64decode(b64, "the vkey's key")
        except MalformedNote as exc:
            raise MalformedKey(exc.message) from exc
        if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise MalformedKey("the vkey is not a 32-byte Ed25519 key of type 0x01 or 0x04")
        v = cls.ed25519(name, raw[1:], raw[0])
        if v.key_id != int(hex_id, 16):
            raise MalformedKey(f"the vkey's key ID {hex_id} is not the hash of its name and key")
        return v

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True


@dataclass(frozen=True, repr=False)
class Signer:
    """An Ed25519 private key (its 32-byte RFC 8032 seed) with its name; ``skey`` is Go's text form."""

    name: str
    seed: bytes
    sig_type: int = SIG_ED25519
    verifier: Verifier = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise MalformedKey("an Ed25519 seed is 32 bytes")
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        object.__setattr__(self, "verifier", Verifier.ed25519(self.name, public, self.sig_type))

    def __repr__(self) -> str:  # never print the seed
        return f"Signer({self.verifier.vkey!r})"

    @classmethod
    def generate(cls, name: str, sig_type: int = SIG_ED25519) -> Signer:
        return cls(name, os.urandom(32), sig_type)

    @classmethod
    def derive(cls, name: str, secret: bytes, context: bytes, sig_type: int = SIG_ED25519) -> Signer:
        """An Ed25519 key derived from another secret (HKDF-SHA256, RFC 5869, ``context`` as info): a node's note
        keys follow from its encrypted secp256k1 key, so no new secret is kept in the clear and a restart or a
        restored data directory signs with the same keys."""
        if len(secret) < 32 or not context:
            raise MalformedKey("a key is derived from a secret of 32 bytes or more, with a context")
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(secret)
        return cls(name, seed, sig_type)

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``; the ID must be the public key's."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise MalformedKey("an skey is PRIVATE+KEY+name+keyid+key")
        _, _, name, hex_id, b64 = parts
        if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
            raise MalformedKey("an skey's key ID is 8 lowercase hex digits")
        try:
            raw = _b64decode(b64, "the skey's key")
        except MalformedNote as exc:
            raise MalformedKey(exc.message) from exc
        if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise MalformedKey("the skey is not a 32-byte Ed25519 seed of type 0x01 or 0x04")
        s = cls(name, raw[1:], raw[0])
        if s.verifier.key_id != int(hex_id, 16):
            raise MalformedKey(f"the skey's key ID {hex_id} is not the hash of its name and public key")
        return s

    @property
    def skey(self) -> str:
        blob = base64.b64encode(bytes([self.sig_type]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{blob}"

    def sign(self, message: bytes) -> Signature:
        raw = Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)
        return Signature(self.name, self.verifier.key_id, raw)


class Keyring:
    """The keys a verifier trusts, looked up by (name, key ID); two different keys under one pair are ambiguous."""

    def __init__(self, verifiers: Iterable[Verifier] = ()) -> None:
        self._keys: dict[tuple[str, int], Verifier | None] = {}
        for v in verifiers:
            self.add(v)

    def add(self, v: Verifier) -> None:
        k = (v.name, v.key_id)
        if k in self._keys and self._keys[k] != v:
            self._keys[k] = None  # ambiguous: refused when a note needs it, as Go's VerifierList does
        elif k not in self._keys:
            self._keys[k] = v

    def get(self, name: str, kid: int) -> Verifier | None:
        k = (name, kid)
        if k not in self._keys:
            return None
        v = self._keys[k]
        if v is None:
            raise AmbiguousKey(f"ambiguous key {name}+{kid:08x}")
        return v


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]  # by known keys, verified, in order, each key once
    unverified: tuple[Signature, ...] = ()  # by unknown keys, unchecked, identical lines once


def parse(msg: bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines, checking every structural rule (nothing verified)."""
    if len(msg) > MAX_NOTE_BYTES:
        raise MalformedNote(f"the note is larger than {MAX_NOTE_BYTES} bytes")
    try:
        s = msg.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNote("the note is not UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        raise MalformedNote("the note has a control character other than newline")
    split = s.rfind("\n\n")
    if split < 0:
        raise MalformedNote("the note has no blank line before its signatures")
    text, block = s[:split + 1], s[split + 2:]
    if not block or not block.endswith("\n"):
        raise MalformedNote("the note's signature block is empty or does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"the note has more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise MalformedNote("a line after the note's last blank line is not a signature line")
        name, sep, b64 = line[2:].partition(" ")
        if not sep or not valid_name(name) or not b64:
            raise MalformedNote("a signature line's key name or signature is missing or malformed")
        raw = _b64decode(b64, "a signature")
        if len(raw) < 5:
            raise MalformedNote("a signature is shorter than a key ID and one byte")
        sigs.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, sigs


def open_note(msg: bytes, known: Keyring) -> Note:
    """Parse and verify a note (Go's ``note.Open``): see the module docstring for what is refused."""
    text, sigs = parse(msg)
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in sigs:
        v = known.get(sig.name, sig.key_id)
        if v is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if v.sig_type != SIG_ED25519 or not v.verify(text.encode(), sig.signature):
            raise InvalidNoteSignature(sig.name, sig.key_id)
        verified.append(sig)
    note = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNote(note)
    return note


def check_text(text: str) -> None:
    # Blank lines inside the text are allowed: readers split at the last blank line, which sign() writes.
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise MalformedNote("a note's text ends with a newline and has no control character but newlines")


def sign(text: str, signers: Sequence[Signer], extra: Sequence[Signature] = ()) -> bytes:
    """The signed note: the text, a blank line, each signer's line, then ``extra`` lines kept as they were."""
    check_text(text)
    if not signers:
        raise MalformedNote("a note needs at least one signer")
    lines = [s.sign(text.encode()).line() for s in signers]
    ids = {(s.name, s.verifier.key_id) for s in signers}
    lines += [x.line() for x in extra if (x.name, x.key_id) not in ids]
    return (text + "\n" + "".join(lines)).encode()
