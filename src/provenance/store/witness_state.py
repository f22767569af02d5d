"""What a node keeps for the C2SP transparency-log interface, under ``<data-dir>/tlog/``.

* ``bindings.json``: the EIP-191 statements binding note keys to exchanges (the node's own and the ones it
  accepted), so a restart trusts the same keys.
* ``witness.json``: per origin, the size and root of the latest checkpoint this node cosigned. tlog-witness asks
  that checking the old size and recording the new checkpoint be one atomic step, else two concurrent requests
  can roll a log back; :meth:`TlogState.advance` holds a lock (a thread lock and ``flock`` on ``lock``) across the
  read, the caller's checks and the write, and writes by temporary file, fsync, rename and fsync of the directory,
  so a crash leaves the old state or the new one, never half of either.
* ``signed.json``: likewise, the latest checkpoint the node signed for its own exchange, so it never signs one
  inconsistent with it (tlog-checkpoint: "a log MUST not sign any checkpoint which is inconsistent").
* ``cosigned.json``: per origin, the size of the node's latest checkpoint that witnesses cosigned when it pushed
  it to them (services/tlog_push.py), and each witness's cosignature line (by the witness's vkey), served with
  that checkpoint as extra signature lines (c2sp.org/tlog-cosignature).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provenance.core import ijson
from provenance.errors import Conflict, StoreError


class SizeConflict(Conflict):
    """Raised when a witness request's old size is not the size of the latest checkpoint cosigned for its origin."""

    def __init__(self, origin: str, size: int) -> None:
        super().__init__(f"the latest checkpoint cosigned for {origin} has size {size}")
        self.size = size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class TlogState:
    def __init__(self, data_dir: Path | str) -> None:
        self.dir = Path(data_dir) / "tlog"
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.dir}: {exc}") from exc
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ documents

    def _read(self, name: str) -> dict[str, Any]:
        path = self.dir / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        doc = ijson.loads(raw, what=str(path))
        if not isinstance(doc, dict):
            raise StoreError(f"{path} is not a JSON object")
        return doc

    def _write(self, name: str, doc: dict[str, Any]) -> None:
        path = self.dir / name
        tmp = path.with_suffix(".tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(json.dumps(doc, sort_keys=True, indent=1).encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(self.dir)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc}") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, open(self.dir / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ bindings

    def bindings(self) -> list[dict[str, str]]:
        with self._locked():
            return list(self._read("bindings.json").get("bindings", []))

    def add_binding(self, binding: dict[str, str]) -> None:
        with self._locked():
            doc = self._read("bindings.json")
            have = list(doc.get("bindings", []))
            if binding not in have:
                self._write("bindings.json", {"bindings": [*have, binding]})

    # ------------------------------------------------------------------ cosignatures of the node's own checkpoints

    def cosignatures(self, origin: str, size: int) -> list[bytes]:
        """The cosignature lines kept for ``origin``'s checkpoint of ``size`` (none for any other size)."""
        with self._locked():
            entry = self._read("cosigned.json").get(origin)
        if entry is None or int(entry["size"]) != size:
            return []
        return [str(line).encode() for _, line in sorted(entry["lines"].items())]

    def keep_cosignature(self, origin: str, size: int, witness: str, line: bytes) -> None:
        """Keep ``witness``'s cosignature line of ``origin``'s checkpoint of ``size``; a larger size replaces the
        lines of a smaller one, and a line for a smaller size than the one kept is dropped."""
        with self._locked():
            doc = self._read("cosigned.json")
            entry = doc.get(origin)
            if entry is not None and int(entry["size"]) > size:
                return
            lines = dict(entry["lines"]) if entry is not None and int(entry["size"]) == size else {}
            lines[witness] = line.decode()
            doc[origin] = {"size": size, "lines": lines}
            self._write("cosigned.json", doc)

    # ------------------------------------------------------------------ checkpoints

    def latest(self, file: str, origin: str) -> tuple[int, bytes | None]:
        with self._locked():
            return self._latest(file, origin)

    def _latest(self, file: str, origin: str) -> tuple[int, bytes | None]:
        entry = self._read(file).get(origin)
        if entry is None:
            return 0, None
        return int(entry["size"]), base64.b64decode(entry["root"])

    def note(self, file: str, origin: str) -> bytes | None:
        """The signed note kept with the latest checkpoint of ``origin``, if any."""
        with self._locked():
            entry = self._read(file).get(origin)
        return None if entry is None or "note" not in entry else str(entry["note"]).encode()

    def advance(self, file: str, origin: str,
                check: Callable[[int, bytes | None], tuple[int, bytes, bytes]]) -> None:
        """Atomically: read the latest (size, root) of ``origin`` (0, None if none), let ``check`` judge the new
        checkpoint against it (raising to refuse) and return it with its signed note, then persist them before
        returning."""
        with self._locked():
            size, root = self._latest(file, origin)
            new_size, new_root, signed = check(size, root)
            doc = self._read(file)
            doc[origin] = {"size": new_size, "root": base64.b64encode(new_root).decode(), "note": signed.decode()}
            self._write(file, doc)
