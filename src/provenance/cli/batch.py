"""``batch import``: registrations from a JSON Lines or CSV file, anchored in batches."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from provenance.cli.common import bar, read_bounded, reading, signer_of
from provenance.core.ijson import loads as ijson_loads
from provenance.errors import DocumentTooLarge, DuplicateKey, InvalidInput
from provenance.types import RegistrationRequest, is_decimal

MAX_BATCH_BYTES = 256 * 1024 * 1024
"""Largest JSON Lines or CSV file of registrations ``batch import`` reads."""
MAX_LINE_BYTES = 64 * 1024
"""Largest line (one registration) of a batch file; a registration with 16 parents is under 2 KiB."""


def _load_requests(path: Path) -> tuple[list[RegistrationRequest], list[bytes | None]]:
    """Registrations from a JSON Lines file (one I-JSON object a line, with its metadata document inline if it
    has one) or a CSV file with a header row, and each line's document (canonical bytes) or None; the whole file
    is read and checked before anything is submitted (MAX_BATCH_BYTES a file, MAX_LINE_BYTES a line): a bad
    line or document is refused naming the line and the field, and nothing is written."""
    import csv

    from provenance.services.requests import REQUEST_FIELDS, registration_from_json, request_from_json

    raw = read_bounded(path, f"the batch file {path}", MAX_BATCH_BYTES)
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    for n, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8")) > MAX_LINE_BYTES:
            size = len(line.encode("utf-8"))
            raise DocumentTooLarge(f"{path}:{n}: the line is {size} bytes, more than the {MAX_LINE_BYTES} accepted",
                                   size=size, limit=MAX_LINE_BYTES)
    out = []
    if path.suffix.lower() == ".csv":
        header = next(csv.reader(lines[:1]), [])
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:  # DictReader would keep the last of the columns: two readers, two registrations
            raise DuplicateKey(f"{path}:1: the column {repeated[0]!r} appears more than once in the header",
                               key=repeated[0], path=f"{path}:1")
        rows = csv.DictReader(lines)
        try:
            for n, row in enumerate(rows, 2):
                obj: dict[str, Any] = {k: v for k, v in row.items() if k in REQUEST_FIELDS and v not in (None, "")}
                extra = set(row) - set(REQUEST_FIELDS)
                if extra:
                    raise InvalidInput(f"{path}: unknown columns {', '.join(sorted(str(e) for e in extra))}")
                if "owner" in obj:
                    if not is_decimal(str(obj["owner"]), 10):
                        raise InvalidInput(f"{path}:{n}: owner must be an entity id (integer)")
                    obj["owner"] = int(obj["owner"])
                if "parents" in obj:
                    obj["parents"] = [p for p in str(obj["parents"]).replace(";", " ").split() if p]
                out.append(request_from_json(obj, f"{path}:{n}"))
        except csv.Error as exc:
            raise InvalidInput(f"{path}:{rows.line_num}: not CSV: {exc}") from None
        return out, [None] * len(out)
    documents: list[bytes | None] = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            obj = ijson_loads(line, max_bytes=MAX_LINE_BYTES, what=f"{path}:{n}")
            request, document = registration_from_json(obj, f"{path}:{n}")
            out.append(request)
            documents.append(document)
    return out, documents


@reading(lambda args: _load_requests(args.file))
def cmd_batch_import(ops: Any, args: argparse.Namespace,
                     loaded: tuple[list[RegistrationRequest], list[bytes | None]]) -> Any:
    from provenance.services.catalog import CatalogService

    requests, documents = loaded

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\r{bar(done, total)} sealed {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    if not any(d is not None for d in documents):
        return ops.batch(requests, batch_size=args.batch_size, signer=signer_of(ops, args), progress=progress)
    return CatalogService(ops).batch(requests, documents, batch_size=args.batch_size, signer=signer_of(ops, args),
                                     progress=progress)
