"""Identifiers and hashes, parsed and derived without I/O.

A record id is ``keccak256(abi.encode(uint16 registrar, bytes32 contentHash))`` (IRegistry.recordId):
deterministic, so anyone holding the content hash and the registrar can find the record, and one registrar
can never hold the same content twice.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from eth_utils.address import to_checksum_address

from provenance.core.keccak import keccak256 as keccak
from provenance.errors import InvalidInput
from provenance.types import Address, Hash32, RecordId

_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_HEX20 = re.compile(r"^(0x)?[0-9a-fA-F]{40}$")
_CODE = re.compile(r"^[A-Z0-9]{1,8}$")


def record_id(registrar: int, content_hash: bytes) -> RecordId:
    if not 0 < registrar < 2**16:
        raise InvalidInput(f"registrar id {registrar} out of range 1..65535")
    return RecordId(keccak(registrar.to_bytes(32, "big") + _check32(content_hash, "content hash")))


def parse_hash32(text: str, what: str = "hash") -> Hash32:
    """Parse a 32-byte hex value (with or without 0x)."""
    if not isinstance(text, str) or not _HEX32.match(text.strip()):
        raise InvalidInput(f"invalid {what} {text!r}: expected 32 bytes as 64 hex digits")
    return Hash32(bytes.fromhex(text.strip().removeprefix("0x")))


def parse_address(text: str, what: str = "address") -> Address:
    """Parse a 20-byte hex address; a mixed-case address must carry a valid EIP-55 checksum."""
    t = text.strip() if isinstance(text, str) else ""
    if not _HEX20.match(t):
        raise InvalidInput(f"invalid {what} {text!r}: expected 20 bytes as 40 hex digits")
    body = t.removeprefix("0x")
    if body != body.lower() and body != body.upper() and to_checksum_address("0x" + body) != "0x" + body:
        raise InvalidInput(f"invalid {what} {text!r}: EIP-55 checksum does not match")
    return Address(bytes.fromhex(body))


def parse_exchange_code(text: str) -> bytes:
    """An exchange code is 1-8 upper-case letters or digits; on-chain it is a left-aligned bytes8."""
    code = text.strip().upper() if isinstance(text, str) else ""
    if not _CODE.match(code):
        raise InvalidInput(f"invalid exchange code {text!r}: expected 1-8 letters or digits")
    return code.encode("ascii").ljust(8, b"\0")


def code_text(code: bytes) -> str:
    return code.rstrip(b"\0").decode("ascii", errors="replace")


def normal_identifier(identifier: str) -> str:
    """An entity's identifier as it is hashed: Unicode NFKC (a full-width ＡＢＣ１ reads as ABC1), white space at
    the ends dropped, ASCII letters in upper case. Other letters keep their case: Unicode's upper-casing maps
    different identifiers to one (straße and STRASSE). An identifier holding a control, format (zero-width, a
    direction override) or space character inside is refused, naming it: it would look like another."""
    norm = unicodedata.normalize("NFKC", identifier).strip()
    if not norm:
        raise InvalidInput("entity identifier must not be empty")
    for i, ch in enumerate(norm):
        if unicodedata.category(ch) in _UNSEEN:
            raise InvalidInput(f"entity identifier holds U+{ord(ch):04X} ({unicodedata.name(ch, 'a control')}) at "
                               f"position {i}: only visible characters, without spaces, identify an entity")
    return norm.translate(_ASCII_UPPER)


_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_ASCII_UPPER = {c: c - 32 for c in range(0x61, 0x7B)}


def legacy_identifier_hash(identifier: str) -> Hash32 | None:
    """The hash an identifier had before :func:`normal_identifier` (``strip().upper()`` of every letter), where it
    differs from today's or today's refuses the identifier; None where the two agree (any ASCII identifier). Entities
    onboarded before are found by it, and an identifier one of them holds is not onboarded twice."""
    old = identifier.strip().upper()
    if not old:
        return None
    try:
        if normal_identifier(identifier) == old:
            return None
    except InvalidInput:
        pass
    return Hash32(keccak(old.encode("utf-8", "surrogatepass")))


def identifier_hash(identifier: str) -> Hash32:
    """Hash of an entity's identifier (e.g. a unified social credit code), normalised (:func:`normal_identifier`).

    Only the hash goes on-chain: the identifier itself stays with the exchange that onboarded the entity.
    """
    return Hash32(keccak(normal_identifier(identifier).encode("utf-8")))


def content_hash_of_bytes(data: bytes) -> Hash32:
    """SHA-256 of the data, the content hash used for files (widely available outside Ethereum tooling)."""
    return Hash32(hashlib.sha256(data).digest())


def hex0x(value: bytes) -> str:
    return "0x" + value.hex()


def checksum(address: bytes) -> str:
    return to_checksum_address(address)


def _check32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidInput(f"{what} must be 32 bytes")
    return bytes(value)
