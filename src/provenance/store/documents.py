"""The node's document store: metadata documents by their keccak-256 hash, and the profiles it keeps locally.

Kept apart from the index (LevelDB at ``<data-dir>/documents``, not inside the index directory) because nothing
in it is derived from the chain: a document supplied off-chain for a hash-only record, or an individual's profile
that never leaves the onboarding node, cannot be recomputed from blocks, so ``index rebuild`` must not wipe it.
It is never wrong either: a document is stored under the hash of its own bytes, so the only question a reader
asks of it (does it hash to the record's metadataHash) is answered by the key.

Layout (one prefix byte):

    d <keccak256:32>      canonical document bytes
    p <entity:4>          the canonical profile of an entity this node keeps (organisations and individuals)
"""

from __future__ import annotations

import threading
from pathlib import Path

import plyvel

from provenance.core.catalog import MAX_DOCUMENT_BYTES
from provenance.core.keccak import keccak256
from provenance.errors import DataDirLocked, DocumentTooLarge, InvalidInput, StoreError

_DOC = b"d"
_PROFILE = b"p"


class DocumentStore:
    """Content-addressed documents and local entity profiles. Reads are thread-safe (plyvel's are); writes are
    serialised by a lock so a put and its idempotence check do not interleave."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = plyvel.DB(str(path), create_if_missing=True, bloom_filter_bits=10)
        except plyvel.IOError as exc:
            if "lock" in str(exc).lower():
                raise DataDirLocked(f"the document store {path} is in use by another process") from exc
            raise StoreError(f"cannot open the document store {path}: {exc}") from exc
        except plyvel.Error as exc:
            raise StoreError(f"cannot open the document store {path}: {exc}") from exc
        self.path = path
        self._lock = threading.Lock()

    def close(self) -> None:
        if not self._db.closed:
            self._db.close()

    # ------------------------------------------------------------------ documents

    def put(self, canonical: bytes) -> bytes:
        """Keep a document; returns its keccak-256 hash (the key). Putting the same bytes again writes nothing."""
        _check_size(canonical)
        digest = keccak256(canonical)
        key = _DOC + digest
        with self._lock:
            if self._db.get(key) is None:
                with self._db.write_batch(transaction=True) as wb:
                    wb.put(key, canonical)
        return digest

    def get(self, digest: bytes) -> bytes | None:
        _check_hash(digest)
        value: bytes | None = self._db.get(_DOC + digest)
        return value

    def has(self, digest: bytes) -> bool:
        return self.get(digest) is not None

    # ------------------------------------------------------------------ local profiles

    def put_profile(self, entity_id: int, canonical: bytes) -> None:
        """Keep (or replace) the profile of an entity this node onboarded. Individuals' profiles live only here."""
        _check_entity(entity_id)
        _check_size(canonical)
        with self._lock, self._db.write_batch(transaction=True) as wb:
            wb.put(_PROFILE + entity_id.to_bytes(4, "big"), canonical)

    def profile(self, entity_id: int) -> bytes | None:
        _check_entity(entity_id)
        value: bytes | None = self._db.get(_PROFILE + entity_id.to_bytes(4, "big"))
        return value

    def profiles(self) -> list[tuple[int, bytes]]:
        """Every local profile, by entity id (what the catalogue projection reads on a rebuild)."""
        with self._db.iterator(prefix=_PROFILE) as it:
            return [(int.from_bytes(k[1:], "big"), v) for k, v in it]


def _check_size(canonical: bytes) -> None:
    if not isinstance(canonical, bytes):
        raise InvalidInput("a document is stored as its canonical bytes")
    if len(canonical) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(f"document of {len(canonical)} bytes exceeds {MAX_DOCUMENT_BYTES}",
                               size=len(canonical), limit=MAX_DOCUMENT_BYTES)


def _check_hash(digest: bytes) -> None:
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise InvalidInput("a document hash is 32 bytes")


def _check_entity(entity_id: int) -> None:
    if not isinstance(entity_id, int) or not 0 <= entity_id < 2**32:
        raise InvalidInput(f"entity id {entity_id!r} out of range")
