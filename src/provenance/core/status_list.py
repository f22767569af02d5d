"""Bitstring Status List v1.0 (W3C Recommendation): the revocation and suspension of certificates, readable by
anyone holding only the certificate and the list.

One list per issuing exchange and purpose. Bit ``i`` is the status of the record whose dense sequence number in
the lineage index is ``i`` (assigned in chain order, so every node following the same chain assigns the same
numbers): a certificate's ``credentialStatus`` names its record's index. The purposes mean:

* ``revocation``: the record is revoked or superseded; permanent, as the registry's transitions are;
* ``suspension``: the record is suspended; cleared when its registrar reactivates it.

A certificate also fails verification when an *ancestor* is revoked or suspended; the list's bit is the record's
own status only, so a verifier relying on the list alone learns less than one that verifies the lineage.

Encoding (section 3.2 of the Recommendation): the bitstring, index 0 at the left-most (most significant) bit of
the first byte, at least 131,072 bits (:data:`MIN_BITS`, for herd privacy), GZIP-compressed, then multibase
base64url without padding (prefix ``u``). The status list credential is built deterministically from the
statuses at one block (GZIP with a zero modification time), so its SHA-256 over canonical JSON
(:func:`list_hash`) can be anchored on-chain and recomputed by anyone from the served document. This module
does no I/O.
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from provenance.core.canonical import MalformedDocument, hex0x, sha256_json

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PROVENANCE_CONTEXT = "https://w3id.org/provenance/registration/v1"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
CREDENTIAL_TYPE = "BitstringStatusListCredential"
PURPOSES = ("revocation", "suspension")
MIN_BITS = 131_072
"""The Recommendation's minimum length (16 KiB): a list smaller than this says too much about each holder."""
MAX_DECODED = 64 * 1024 * 1024
ENTRY_KEYS = frozenset({"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"})

_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def list_bits(max_index: int) -> int:
    """The length of a list holding ``max_index``: the least multiple of :data:`MIN_BITS` above it."""
    return (max_index // MIN_BITS + 1) * MIN_BITS


def bitstring(indexes: Iterable[int], length: int) -> bytes:
    """``length`` bits (a multiple of 8) with exactly the bits at ``indexes`` set (index 0: left-most bit)."""
    if length % 8 or length < MIN_BITS:
        raise MalformedDocument(f"a status list is a whole number of bytes of at least {MIN_BITS} bits")
    bits = bytearray(length // 8)
    for i in indexes:
        if not 0 <= i < length:
            raise MalformedDocument(f"status index {i} is outside a list of {length} bits")
        bits[i >> 3] |= 0x80 >> (i & 7)
    return bytes(bits)


def bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < 8 * len(bits):
        raise MalformedDocument(f"status index {index} is outside a list of {8 * len(bits)} bits")
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def encode(bits: bytes) -> str:
    """The ``encodedList``: multibase base64url (no padding) of the GZIP-compressed bitstring."""
    # Level 6 and no modification time: what zlib and pako write by default, so the empty list is byte for
    # byte the Recommendation's own example.
    compressed = gzip.compress(bits, compresslevel=6, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded: Any) -> bytes:
    """The bitstring of an ``encodedList``; MalformedDocument if it is not multibase base64url GZIP of at least
    :data:`MIN_BITS` bits (decompression stops at :data:`MAX_DECODED` bytes: a small text cannot exhaust memory)."""
    if not isinstance(encoded, str) or encoded[:1] != "u" or _B64URL.fullmatch(encoded[1:]) is None \
            or len(encoded) % 4 == 2:
        raise MalformedDocument("encodedList must be multibase base64url without padding (prefix 'u')")
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-(len(encoded) - 1) % 4))
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # GZIP framing only
        bits = inflater.decompress(raw, MAX_DECODED + 1)
        if len(bits) > MAX_DECODED or not inflater.eof or inflater.unused_data:
            raise MalformedDocument("encodedList is not one GZIP member of at most "
                                    f"{MAX_DECODED} bytes")
    except zlib.error as exc:
        raise MalformedDocument(f"encodedList is not GZIP: {exc}") from None
    if 8 * len(bits) < MIN_BITS:
        raise MalformedDocument(f"the status list holds {8 * len(bits)} bits, fewer than the {MIN_BITS} required")
    return bits


def list_url(base_url: str, code: str, purpose: str) -> str:
    """Where the issuing node serves an exchange's list (api/routes/vc.py)."""
    if purpose not in PURPOSES:
        raise MalformedDocument(f"a status purpose is one of {PURPOSES}, not {purpose!r}")
    return f"{base_url.rstrip('/')}/api/v1/status-lists/{code}/{purpose}"


def entries(base_url: str, code: str, index: int) -> list[dict[str, str]]:
    """A certificate's ``credentialStatus``: its record's bit in each of its issuer's lists."""
    out = []
    for purpose in PURPOSES:
        url = list_url(base_url, code, purpose)
        out.append({"id": f"{url}#{index}", "type": ENTRY_TYPE, "statusPurpose": purpose,
                    "statusListIndex": str(index), "statusListCredential": url})
    return out


def check_entries(value: Any, path: str) -> list[tuple[str, int, str]]:
    """(purpose, index, list URL) of each entry of a ``credentialStatus``; MalformedDocument naming the field."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MalformedDocument(f"{path} is empty")
    out = []
    for i, e in enumerate(items):
        p = f"{path}[{i}]" if isinstance(value, list) else path
        if not isinstance(e, Mapping) or not ENTRY_KEYS <= e.keys():
            raise MalformedDocument(f"{p} must be an object with {sorted(ENTRY_KEYS)}")
        if any(type(e[k]) is not str for k in ENTRY_KEYS):
            raise MalformedDocument(f"{p}: {sorted(ENTRY_KEYS)} are strings")
        if e["type"] != ENTRY_TYPE:
            raise MalformedDocument(f"{p}.type must be {ENTRY_TYPE}")
        if e["statusPurpose"] not in PURPOSES:
            raise MalformedDocument(f"{p}.statusPurpose must be one of {PURPOSES}")
        if _INDEX.fullmatch(e["statusListIndex"]) is None:
            raise MalformedDocument(f"{p}.statusListIndex must be a decimal integer without leading zeros")
        out.append((e["statusPurpose"], int(e["statusListIndex"]), e["statusListCredential"]))
    if len({(purpose, url) for purpose, _, url in out}) != len(out):
        raise MalformedDocument(f"{path} names one list twice")
    return out


def build_credential(*, url: str, issuer: Mapping[str, Any], chain_id: int, registry: bytes, at_block: int,
                     purpose: str, indexes: Iterable[int], length: int) -> dict[str, Any]:
    """The status list credential of one exchange and purpose, as the statuses stood at ``at_block``."""
    if purpose not in PURPOSES:
        raise MalformedDocument(f"a status purpose is one of {PURPOSES}, not {purpose!r}")
    return {
        "@context": [VC_CONTEXT, PROVENANCE_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": dict(issuer),
        "credentialSubject": {"id": f"{url}#list", "type": LIST_TYPE, "statusPurpose": purpose,
                              "encodedList": encode(bitstring(indexes, length)), "atBlock": at_block},
        "evidence": [{"type": "RegistryBinding", "chainId": chain_id, "registry": hex0x(registry)}],
    }


def list_hash(credential: Mapping[str, Any]) -> bytes:
    """What ``anchorStatusList`` anchors: SHA-256 of the canonical (RFC 8785) status list credential."""
    return sha256_json({k: v for k, v in credential.items() if k != "proof"})


def status(credential: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether the entry's bit is set in the list credential (section 3.2's validation algorithm, steps on the
    document: the list is the one the entry names, for the same purpose, and long enough)."""
    [(purpose, index, url)] = check_entries(entry, "$.credentialStatus")
    subject = credential.get("credentialSubject")
    types = credential.get("type")
    if not isinstance(types, list) or CREDENTIAL_TYPE not in types or not isinstance(subject, Mapping) \
            or subject.get("type") != LIST_TYPE:
        raise MalformedDocument(f"a status list credential is a {CREDENTIAL_TYPE} with a {LIST_TYPE} subject")
    if credential.get("id") != url:
        raise MalformedDocument(f"the entry names the list {url}, not {credential.get('id')!r}")
    if subject.get("statusPurpose") != purpose:
        raise MalformedDocument(f"the entry is for {purpose}, the list for {subject.get('statusPurpose')!r}")
    return bit(decode(subject.get("encodedList")), index)
