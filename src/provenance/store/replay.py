"""The signed requests a node has accepted and must not accept again, kept on disk so a restart forgets none.

An entry is one signed request as signed: the signer's address and the digest of what it signed (the EIP-191
digest of :func:`provenance.api.auth.signed_request_message`, which holds the request's time). Two encodings of
one signature, or two signatures of one message by one key, are therefore one entry. An entry expires at a time
fixed when it is admitted (the caller passes it: the signed timestamp plus twice the acceptance window, so that a
clock stepped back by up to one window still refuses the replay).

The file, ``<data-dir>/replay-guard.bin``, is an 8-byte header (``PVRPLAY`` and a format version) followed by
fixed records of 64 bytes: the address (20), the digest (32), the expiry in Unix seconds (8, big-endian) and a
CRC-32 of those 60 bytes (4, big-endian). A record is appended and flushed to the disk (``fdatasync``) before the
caller accepts its request, one at a time under a lock, so after a crash only the last record can be torn: it is
dropped (its request was never answered), and a bad record anywhere else is damage, refused by name. The file is
rewritten without the expired entries (temporary file, fsync, rename, fsync of the directory) when the node
starts and whenever it holds more than twice the live entries, so it stays under ``2 * capacity * 64`` bytes.

Memory and disk are bounded: at most ``capacity`` live entries, and at most ``per_signer`` for one address, so
that one member exchange with its eight keys cannot fill the guard for the others. At either bound a new request
is refused (:class:`GuardFull`), never admitted by forgetting an older entry, until entries expire.

One process holds a data directory (:class:`provenance.services.node.DataDirLock`); within it the lock makes admission
atomic across threads.
"""

from __future__ import annotations

import heapq
import os
import struct
import threading
import weakref
import zlib
from pathlib import Path

from provenance.errors import Conflict, ProvenanceError, StoreError

FILE_NAME = "replay-guard.bin"
MAGIC = b"PVRPLAY\x01"
RECORD = struct.Struct(">20s32sQI")
COMPACT_MIN = 4096  # records: below this the file is not worth rewriting while the node runs
assert RECORD.size == 64


class Replayed(Conflict):
    """Raised when a signed request was admitted before (by the same key, over the same message)."""


class GuardFull(ProvenanceError):
    """Raised when admitting a request would exceed the guard's bound (overall or for one signer)."""

    def __init__(self, message: str, *, per_signer: bool) -> None:
        super().__init__(message)
        self.per_signer = per_signer


def _record(key: bytes, expiry: int) -> bytes:
    head = RECORD.pack(key[:20], key[20:], expiry, 0)[:60]
    return head + struct.pack(">I", zlib.crc32(head))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SeenRequests:
    """Admitted signed requests until their expiry; persisted in ``data_dir`` unless it is None (memory only)."""

    def __init__(self, data_dir: Path | None, *, now: float, capacity: int = 250_000, per_signer: int = 25_000) -> None:
        if capacity < 1 or not 1 <= per_signer <= capacity:
            raise ValueError("capacity and per_signer must be positive and per_signer at most capacity")
        self.capacity = capacity
        self.per_signer = per_signer
        self.path = None if data_dir is None else data_dir / FILE_NAME
        self._lock = threading.Lock()
        self._expiry: dict[bytes, int] = {}  # signer || digest -> expiry
        self._by_signer: dict[bytes, int] = {}
        self._buckets: dict[int, list[bytes]] = {}  # expiry -> its keys, so expiring costs what expires
        self._due: list[int] = []  # heap of the buckets' expiries
        self._fd: int | None = None
        self._in_file = 0
        self._broken: str | None = None
        self._closer: weakref.finalize[[int], SeenRequests] | None = None
        if self.path is not None:
            for key, expiry in self._read(self.path):
                if expiry > now and key not in self._expiry:
                    self._add(key, expiry)
            self._compact()

    def __len__(self) -> int:
        return len(self._expiry)

    # ------------------------------------------------------------------ admission

    def admit(self, signer: bytes, digest: bytes, expiry: int, now: float) -> None:
        """Record the request, durably, or raise :class:`Replayed`, :class:`GuardFull` or :class:`StoreError`."""
        if len(signer) != 20 or len(digest) != 32:
            raise ValueError("a signer is 20 bytes and a digest 32")
        key = signer + digest
        with self._lock:
            if self._broken is not None:
                raise StoreError(f"the replay guard cannot record signed requests: {self._broken}; restart the node")
            self._expire(now)
            if key in self._expiry:
                raise Replayed("this signed request was already used (replay)")
            if len(self._expiry) >= self.capacity:
                raise GuardFull(f"the node holds {self.capacity} signed requests that have not expired, its limit; "
                                f"signed requests are refused until older ones expire (use an API token meanwhile)",
                                per_signer=False)
            if self._by_signer.get(signer, 0) >= self.per_signer:
                raise GuardFull(f"0x{signer.hex()} has {self.per_signer} signed requests that have not expired, "
                                f"the most one key may have; retry when older ones expire", per_signer=True)
            if self._fd is not None:
                self._append(_record(key, expiry))
            self._add(key, expiry)
            if self._fd is not None and self._in_file > max(COMPACT_MIN, 2 * len(self._expiry)):
                self._compact()

    def close(self) -> None:
        """Close the file; the guard then refuses every request rather than admit one it cannot record."""
        with self._lock:
            if self._closer is not None:
                self._closer()
            self._fd = None
            if self.path is not None:
                self._broken = "it was closed"

    # ------------------------------------------------------------------ memory

    def _add(self, key: bytes, expiry: int) -> None:
        self._expiry[key] = expiry
        signer = key[:20]
        self._by_signer[signer] = self._by_signer.get(signer, 0) + 1
        bucket = self._buckets.get(expiry)
        if bucket is None:
            self._buckets[expiry] = bucket = []
            heapq.heappush(self._due, expiry)
        bucket.append(key)

    def _expire(self, now: float) -> None:
        while self._due and self._due[0] <= now:
            for key in self._buckets.pop(heapq.heappop(self._due)):
                del self._expiry[key]
                signer = key[:20]
                left = self._by_signer[signer] - 1
                if left:
                    self._by_signer[signer] = left
                else:
                    del self._by_signer[signer]

    # ------------------------------------------------------------------ disk

    @staticmethod
    def _read(path: Path) -> list[tuple[bytes, int]]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read the replay guard {path}: {exc}") from exc
        if not data:  # created, then the node stopped before the header reached the disk
            return []
        if data[:len(MAGIC)] != MAGIC:
            raise StoreError(f"{path} is not a replay-guard file of this release (header {data[:8]!r}); it holds the "
                             f"signed requests of the last minutes: move it aside only with the node stopped for "
                             f"ten minutes")
        out = []
        body = memoryview(data)[len(MAGIC):]
        count = len(body) // RECORD.size
        for i in range(count):
            rec = bytes(body[i * RECORD.size:(i + 1) * RECORD.size])
            signer, digest, expiry, crc = RECORD.unpack(rec)
            if zlib.crc32(rec[:60]) != crc:
                if i == count - 1 and len(body) == count * RECORD.size:
                    break  # the last append, torn by a crash before it was acknowledged
                raise StoreError(f"{path} is damaged at byte {len(MAGIC) + i * RECORD.size} (checksum); it holds the "
                                 f"signed requests of the last minutes: move it aside only with the node stopped "
                                 f"for ten minutes")
            out.append((signer + digest, expiry))
        return out  # a partial record after the last whole one is a torn append too, dropped likewise

    def _compact(self) -> None:
        """Rewrite the file with the live entries only, atomically, and append to the new one."""
        assert self.path is not None
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                chunks = [MAGIC, *(_record(k, e) for k, e in self._expiry.items())]
                self._write_all(fd, b"".join(chunks))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            new = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            self._broken = f"rewriting {self.path} failed: {exc}"
            raise StoreError(f"cannot write the replay guard {self.path}: {exc}") from exc
        if self._closer is not None:
            self._closer()
        self._fd = new
        self._closer = weakref.finalize(self, os.close, new)
        self._in_file = len(self._expiry)

    def _append(self, rec: bytes) -> None:
        assert self._fd is not None
        try:
            self._write_all(self._fd, rec)
            os.fdatasync(self._fd)
        except OSError as exc:
            # A part of the record may be on disk: later appends would be misaligned, so none follow.
            self._broken = f"appending to {self.path} failed: {exc}"
            raise StoreError(f"cannot record the signed request in {self.path}: {exc}") from exc
        self._in_file += 1

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
