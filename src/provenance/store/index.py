"""The index on LevelDB (plyvel): atomic per-block writes with undo records, rollback, and reads.

A block is applied through :meth:`IndexStore.block`: every put and delete goes to an overlay that later reads
in the same block see; on exit the overlay, the block's hash, its undo record (the previous value of every key
it touched) and the new checkpoint are written in one ``write_batch(transaction=True)``, which writes nothing
if anything raised. :meth:`IndexStore.rollback` undoes blocks newest first, also in one batch.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import plyvel

from provenance.errors import DataDirLocked, StoreError
from provenance.store import keys as K
from provenance.store.keys import IndexedRecord


class BlockWriter:
    def __init__(self, db: plyvel.DB, capture_undo: bool) -> None:
        self._db = db
        self._capture = capture_undo
        self.writes: dict[bytes, bytes | None] = {}
        self.deletes = False  # whether any of the writes is a delete
        self.undo: list[tuple[bytes, bytes | None]] = []
        self._new: list[list[tuple[bytes, bytes]]] = []
        self._seen: set[bytes] = set()
        # Handlers keep per-block state here (e.g. a log's compact range) and write it back once, before the
        # block's batch is written, instead of decoding and re-encoding it for every event.
        self.state: dict[object, object] = {}
        self.before_commit: list[Callable[[], None]] = []

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        value: bytes | None = self._db.get(key)
        return value

    def stored_under(self, prefix: bytes) -> bool:
        """Whether the index held any key under ``prefix`` before this block (this block's writes are not
        looked at: the caller keeps track of its own)."""
        with self._db.iterator(prefix=prefix, include_value=False) as it:
            return next(it, None) is not None

    def _remember(self, key: bytes) -> None:
        if self._capture and key not in self._seen:
            self._seen.add(key)
            self.undo.append((key, self.get(key)))

    def put(self, key: bytes, value: bytes) -> None:
        self._remember(key)
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self._remember(key)
        self.writes[key] = None
        self.deletes = True

    def put_new(self, items: list[tuple[bytes, bytes]]) -> None:
        """Put keys the caller knows did not exist before this block (their undo is a delete, so nothing is read
        first and nothing is remembered per key: :meth:`undo_record` lists them ahead of the other keys)."""
        self.writes.update(items)
        if self._capture:
            self._new.append(items)

    def undo_record(self) -> list[tuple[bytes, bytes | None]]:
        """What undoes this block: every key's value before it, the earliest entry for a key being the one that
        counts (rollback applies them newest first)."""
        return [(key, None) for items in self._new for key, _ in items] + self.undo

    def encoded_undo(self) -> bytes:
        """:func:`keys.encode_undo` of :meth:`undo_record`, without building the pairs for the new keys."""
        absent = K.encode_undo_absent([key for items in self._new for key, _ in items])
        return absent + K.encode_undo(self.undo) if self.undo else absent


class IndexStore:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            # A bloom filter answers "no such key" without reading a block: the follower asks that for every
            # new record id (its duplicate check) and for many secondary-index keys.
            self._db = plyvel.DB(str(path), create_if_missing=True, bloom_filter_bits=10,
                                 lru_cache_size=64 << 20, write_buffer_size=32 << 20)
        except plyvel.IOError as exc:
            if "lock" in str(exc).lower():
                raise DataDirLocked(f"the index {path} is in use by another process") from exc
            raise StoreError(f"cannot open the index {path}: {exc}") from exc
        except plyvel.Error as exc:
            raise StoreError(f"cannot open the index {path}: {exc}") from exc
        self.path = path

    def close(self) -> None:
        if not self._db.closed:
            self._db.close()

    # ------------------------------------------------------------------ raw

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key)
        return value

    def scan(self, prefix: bytes, *, limit: int | None = None, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        n = 0
        with self._db.iterator(prefix=prefix, reverse=reverse) as it:
            for k, v in it:
                yield k, v
                n += 1
                if limit is not None and n >= limit:
                    return

    def scan_from(self, prefix: bytes, start: bytes, *, limit: int) -> Iterator[tuple[bytes, bytes]]:
        """Keys under ``prefix`` from ``start`` on, in key order, at most ``limit``."""
        n = 0
        with self._db.iterator(start=start, stop=_prefix_end(prefix)) as it:
            for k, v in it:
                if n >= limit:
                    return
                yield k, v
                n += 1

    def dump(self) -> list[tuple[bytes, bytes]]:
        """Every key and value, in key order (what two indexes are compared by), without the node-local
        ``catalog_epoch``: it says only that this node rolled back or wiped, which a clean index never did."""
        epoch = K.meta(K.CATALOG_EPOCH)
        return [(k, v) for k, v in self._db.iterator() if k != epoch]

    def get_meta(self, name: str) -> bytes | None:
        return self.get(K.meta(name))

    def put_meta(self, values: dict[str, bytes]) -> None:
        with self._db.write_batch(transaction=True) as wb:
            for name, value in values.items():
                wb.put(K.meta(name), value)

    def wipe(self) -> None:
        """Delete everything (for a rebuild), in one batch."""
        with self._db.write_batch(transaction=True) as wb:
            for k in self._db.iterator(include_value=False):
                wb.delete(k)
            wb.put(K.meta(K.CATALOG_EPOCH), _new_epoch())  # after the deletes: a batch applies in order

    # ------------------------------------------------------------------ blocks

    def checkpoint(self) -> tuple[int, bytes] | None:
        raw = self.get(K.CHECKPOINT)
        return None if raw is None else K.decode_checkpoint(raw)

    @contextmanager
    def block(self, number: int, block_hash: bytes, *, keep_for_reorg: bool,
              prune_below: int) -> Iterator[BlockWriter]:
        """Apply one block: effects, hash, undo (if within the reorg window) and checkpoint, atomically."""
        writer = BlockWriter(self._db, keep_for_reorg)
        yield writer
        for flush in writer.before_commit:
            flush()
        with self._db.write_batch(transaction=True) as wb:
            put, delete = wb.put, wb.delete
            writes = writer.writes
            if writer.deletes:
                for key, value in writes.items():
                    if value is None:
                        delete(key)
                    else:
                        put(key, value)
            else:
                # Most blocks of a catch-up only put (some ten keys a record): the batch is filled from C, without
                # a Python loop over the keys (a dict's keys and values come in the same order).
                deque(map(put, writes.keys(), writes.values()), maxlen=0)
            if keep_for_reorg:
                wb.put(K.block_key(K.BLOCK_HASH, number), block_hash)
                undo = writer.encoded_undo()
                if undo:
                    wb.put(K.block_key(K.UNDO, number), undo)
            wb.put(K.CHECKPOINT, K.encode_checkpoint(number, block_hash))
            for prefix in (K.BLOCK_HASH, K.UNDO):
                for key in self._db.iterator(start=prefix, stop=K.block_key(prefix, max(prune_below, 0)),
                                             include_value=False):
                    wb.delete(key)

    def recent_blocks(self) -> list[tuple[int, bytes]]:
        """The (number, hash) of indexed blocks still within the reorg window, newest first."""
        return [(int.from_bytes(k[1:], "big"), v) for k, v in self.scan(K.BLOCK_HASH, reverse=True)]

    def rollback(self, to_number: int, to_hash: bytes) -> int:
        """Undo every kept block above ``to_number``, newest first; return how many blocks were undone."""
        undone = 0
        with self._db.write_batch(transaction=True) as wb:
            overlay: dict[bytes, bytes | None] = {}
            start = K.block_key(K.UNDO, to_number + 1)
            for key, value in list(self._db.iterator(prefix=K.UNDO, reverse=True)):
                if key < start:
                    break
                for k, old in reversed(K.decode_undo(value)):
                    overlay[k] = old
                wb.delete(key)
                undone += 1
            for k, old in overlay.items():
                if old is None:
                    wb.delete(k)
                else:
                    wb.put(k, old)
            for key in self._db.iterator(start=K.block_key(K.BLOCK_HASH, to_number + 1),
                                         stop=K.BLOCK_HASH + b"\xff" * 9, include_value=False):
                wb.delete(key)
            wb.put(K.CHECKPOINT, K.encode_checkpoint(to_number, to_hash))
            if undone:
                # The catalogue projection (SQLite, outside this batch) may hold rows of the undone blocks.
                wb.put(K.meta(K.CATALOG_EPOCH), _new_epoch())
        return undone

    # ------------------------------------------------------------------ records

    def seq_of(self, record_id: bytes) -> int | None:
        raw = self.get(K.ID_SEQ + record_id)
        return None if raw is None else int.from_bytes(raw, "big")

    def record_by_seq(self, seq: int) -> IndexedRecord:
        raw = self.get(K.RECORD + K.seq_bytes(seq))
        if raw is None:
            raise StoreError(f"the index has no record with seq {seq} (corrupt adjacency)")
        rec, parent_seqs = K.decode_record(seq, raw)
        parents = tuple(self._id_of_seq(s) for s in parent_seqs)
        return IndexedRecord(**{**rec.__dict__, "parents": parents})

    def record(self, record_id: bytes) -> IndexedRecord | None:
        seq = self.seq_of(record_id)
        return None if seq is None else self.record_by_seq(seq)

    def _id_of_seq(self, seq: int) -> bytes:
        raw = self.get(K.RECORD + K.seq_bytes(seq))
        if raw is None:
            raise StoreError(f"the index has no record with seq {seq} (corrupt adjacency)")
        return raw[K._RECORD_HEAD.size:K._RECORD_HEAD.size + 32]

    def parent_seqs(self, seq: int) -> list[int]:
        raw = self.get(K.RECORD + K.seq_bytes(seq))
        if raw is None:
            return []
        return K.decode_record(seq, raw)[1]

    def child_seqs(self, seq: int) -> list[int]:
        prefix = K.CHILD + K.seq_bytes(seq)
        return [int.from_bytes(k[len(prefix):], "big") for k, _ in self.scan(prefix)]

    def id_of(self, seq: int) -> bytes:
        return self._id_of_seq(seq)

    def status_of_seq(self, seq: int) -> int:
        raw = self.get(K.RECORD + K.seq_bytes(seq))
        return raw[10] if raw is not None else 0

    def seqs_with(self, prefix: bytes, *, after: int = -1, limit: int = 100) -> list[int]:
        """Record seqs under a secondary-index prefix (e.g. BY_OWNER + owner), in registration order."""
        start = prefix + K.seq_bytes(after + 1) if after >= 0 else prefix
        out = []
        with self._db.iterator(start=start, stop=_prefix_end(prefix), include_value=False) as it:
            for k in it:
                out.append(int.from_bytes(k[-K.SEQ_BYTES:], "big"))
                if len(out) >= limit:
                    break
        return out


def _new_epoch() -> bytes:
    """A fresh catalogue epoch: random, so an epoch is never reused after a wipe (a counter would restart)."""
    return os.urandom(16)


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return b"\xff" * 64
    p[-1] += 1
    return bytes(p)
