"""Log entries: the packed form of a registration that batches carry and transparency-log leaves commit to.

An entry (see ``IRegistry``) is ``kind, grade, source, rights`` (1 byte each), ``owner`` (4 bytes, big-endian),
``contentHash``, ``metadataHash``, ``supersedes`` (32 bytes each), the parent count (1 byte) and the parents
(32 bytes each): 105 + 32n bytes. A leaf of exchange ``e``'s log is ``uint16 e || entry``, hashed as an RFC 6962
leaf (``sha256(0x00 || leaf)``), whether the registration came directly or in a batch. The registrar is in the
leaf so that a leaf of one exchange's log can never be presented as a leaf of another's.

A batch of n entries (``anchorBatch``'s calldata) lays them out column by column: the n parent counts, the n heads
(the 104 bytes before the count), then every entry's parents in order; 105n + 32 * (sum of the counts) bytes. The
contract checks that length (``Registry._checkFraming``: the counts come first so that it sums them a word at a
time) and refuses a batch that does not add up, so every batch the indexes see splits.

Pure: bytes in, values out.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from provenance.errors import InvalidInput
from provenance.types import RegistrationRequest

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


def pack_batch(entries: Sequence[bytes]) -> bytes:
    """The calldata form of a batch: parent counts, heads, parents (see the module's docstring)."""
    return (bytes(e[ENTRY_HEAD - 1] for e in entries) + b"".join(e[:ENTRY_HEAD - 1] for e in entries)
            + b"".join(e[ENTRY_HEAD:] for e in entries))


def batch_problem(batch: bytes, count: int) -> str | None:
    """Why ``batch`` is not ``count`` entries (the contract's MalformedBatch), or None."""
    if count < 1:
        return f"a batch holds at least one entry, not {count}"
    need = ENTRY_HEAD * count
    if len(batch) >= need:
        need += 32 * sum(batch[:count])
    if len(batch) != need:
        return f"{count} entries with these parent counts take {need} bytes, the batch has {len(batch)}"
    return None


def split_batch(batch: bytes, count: int) -> list[bytes]:
    """The ``count`` entries of a batch, each as a leaf commits to it; InvalidInput if the batch is malformed."""
    problem = batch_problem(batch, count)
    if problem is not None:
        raise InvalidInput(f"malformed batch: {problem}")
    head, pos = count, count + (ENTRY_HEAD - 1) * count
    out = []
    for i in range(count):
        end = pos + 32 * batch[i]
        out.append(batch[head:head + ENTRY_HEAD - 1] + batch[i:i + 1] + batch[pos:end])
        head += ENTRY_HEAD - 1
        pos = end
    return out


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
