"""Log entries: the packed form of a registration that batches carry and transparency-log leaves commit to.

An entry (see ``IRegistry``) is ``kind, grade, source, rights`` (1 byte each), ``owner`` (4 bytes, big-endian),
``contentHash``, ``metadataHash``, ``supersedes`` (32 bytes each), the parent count (1 byte) and the parents
(32 bytes each): 105 + 32n bytes. A leaf of exchange ``e``'s log is ``uint16 e || entry``, hashed as an RFC 6962
leaf (``sha256(0x00 || leaf)``), whether the registration came directly or in a batch. The registrar is in the
leaf so that a leaf of one exchange's log can never be presented as a leaf of another's.

Pure: bytes in, values out. The contract parses the same framing (``Registry._countEntries``); a batch that does
not tile exactly is refused there, so every entry the indexes see parses.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from typing import cast

from provenance.errors import InvalidInput
from provenance.types import Grade, Hash32, Kind, RecordId, RegistrationRequest, Rights, Source

ENTRY_HEAD = 105
MAX_ENTRY_PARENTS = 255
_HEAD = struct.Struct(">BBBBI32s32s32sB")


def pack_entry(request: RegistrationRequest) -> bytes:
    if len(request.parents) > MAX_ENTRY_PARENTS:
        raise InvalidInput(f"an entry holds at most {MAX_ENTRY_PARENTS} parents, got {len(request.parents)}")
    return pack_entry_fields(int(request.kind), int(request.grade), int(request.source), int(request.rights),
                             request.owner, request.content_hash, request.metadata_hash, request.supersedes,
                             request.parents)


def pack_entry_fields(kind: int, grade: int, source: int, rights: int, owner: int, content: bytes,
                      metadata: bytes, supersedes: bytes, parents: tuple[bytes, ...] | list[bytes]) -> bytes:
    return _HEAD.pack(kind, grade, source, rights, owner, content, metadata, supersedes, len(parents)) + b"".join(
        parents)


def split_entries(entries: bytes) -> Iterator[bytes]:
    """The packed entries of a batch, one by one; raises InvalidInput if they do not tile ``entries`` exactly."""
    pos, n = 0, len(entries)
    while pos < n:
        if n - pos < ENTRY_HEAD:
            raise InvalidInput(f"malformed batch: the entry at byte {pos} is cut short")
        end = pos + ENTRY_HEAD + 32 * entries[pos + ENTRY_HEAD - 1]
        if end > n:
            raise InvalidInput(f"malformed batch: the parents of the entry at byte {pos} run past the end")
        yield entries[pos:end]
        pos = end


def unpack_entry(entry: bytes) -> RegistrationRequest:
    """The request an entry packs. Out-of-range kinds and grades stay numbers: the rules judge them."""
    kind, grade, source, rights, owner, content, metadata, supersedes, n = _HEAD.unpack_from(entry)
    parents = tuple(RecordId(entry[ENTRY_HEAD + 32 * i:ENTRY_HEAD + 32 * i + 32]) for i in range(n))
    # Out-of-range values stay plain ints (typed as the enums they fail to be) so the rules can name them.
    return RegistrationRequest(cast(Kind, _enum(Kind, kind)), cast(Grade, _enum(Grade, grade)),
                               cast(Source, _enum(Source, source)), cast(Rights, _rights(rights)), owner,
                               Hash32(content), Hash32(metadata), Hash32(supersedes), parents)


def entry_fields(entry: bytes) -> tuple[int, int, int, int, int, bytes, bytes, bytes, tuple[bytes, ...]]:
    """(kind, grade, source, rights, owner, content, metadata, supersedes, parents) without enum conversion."""
    kind, grade, source, rights, owner, content, metadata, supersedes, n = _HEAD.unpack_from(entry)
    parents = tuple(entry[ENTRY_HEAD + 32 * i:ENTRY_HEAD + 32 * i + 32] for i in range(n))
    return kind, grade, source, rights, owner, content, metadata, supersedes, parents


def leaf_data(registrar: int, entry: bytes) -> bytes:
    return registrar.to_bytes(2, "big") + entry


def entry_leaf_hash(registrar: int, entry: bytes) -> bytes:
    """The RFC 6962 leaf hash of an exchange's log entry."""
    return hashlib.sha256(b"\x00" + registrar.to_bytes(2, "big") + entry).digest()


def _enum(cls: type[Kind] | type[Grade] | type[Source], value: int) -> Kind | Grade | Source | int:
    try:
        return cls(value)
    except ValueError:
        return value  # judged by the rules (InvalidKind etc.), never silently clamped


def _rights(value: int) -> Rights | int:
    return Rights(value) if 1 <= value <= 7 else value
