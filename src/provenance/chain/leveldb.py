"""A py-evm database on LevelDB (plyvel), with all-or-nothing commits.

py-evm 0.12 ships only an in-memory backend. Its database interface is small: get, set, delete, exists and
``atomic_batch``. This adapter implements it over one plyvel database under a key prefix, and adds
:meth:`LevelChainDB.transaction`: every write made inside it (applying a transaction, mining the block,
moving the canonical head) is buffered and reaches disk in one LevelDB write batch
(``write_batch(transaction=True)``, which writes nothing if an exception escapes). A process killed at any
point therefore leaves either the whole block on disk or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import plyvel
from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

from provenance.errors import StoreError


class LevelChainDB(BaseAtomicDB):
    def __init__(self, db: plyvel.DB, *, prefix: bytes, sync: bool) -> None:
        self._db = db
        self._prefix = prefix
        self._sync = sync
        self._pending: dict[bytes, bytes | None] | None = None

    # --- the DatabaseAPI py-evm uses -------------------------------------------------------------

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get_raw(self._prefix + key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.put_raw(self._prefix + key, value)

    def __delitem__(self, key: bytes) -> None:
        raw = self._prefix + key
        if self.get_raw(raw) is None:
            raise KeyError(key)
        if self._pending is not None:
            self._pending[raw] = None
        else:
            self._db.delete(raw, sync=self._sync)

    def _exists(self, key: bytes) -> bool:
        return self.get_raw(self._prefix + key) is not None

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        # py-evm's own batch buffers writes and, on success, applies them here one key at a time; run that
        # inside a transaction so they reach disk as one write batch.
        with self.transaction(), AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    # --- raw access, shared with the node's own metadata -----------------------------------------

    def get_raw(self, raw_key: bytes) -> bytes | None:
        if self._pending is not None and raw_key in self._pending:
            return self._pending[raw_key]
        try:
            value: bytes | None = self._db.get(raw_key)
        except plyvel.Error as exc:
            raise StoreError(f"chain database read failed: {exc}") from exc
        return value

    def put_raw(self, raw_key: bytes, value: bytes) -> None:
        if self._pending is not None:
            self._pending[raw_key] = value
        else:
            try:
                self._db.put(raw_key, value, sync=self._sync)
            except plyvel.Error as exc:
                raise StoreError(f"chain database write failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Buffer every write until the block exits; commit them in one atomic batch, or drop them all."""
        if self._pending is not None:  # nested: the outermost transaction commits
            yield
            return
        self._pending = {}
        try:
            yield
        except BaseException:
            self._pending = None
            raise
        pending, self._pending = self._pending, None
        try:
            with self._db.write_batch(transaction=True, sync=self._sync) as wb:
                for key, value in pending.items():
                    if value is None:
                        wb.delete(key)
                    else:
                        wb.put(key, value)
        except plyvel.Error as exc:
            raise StoreError(f"chain database commit failed: {exc}") from exc
