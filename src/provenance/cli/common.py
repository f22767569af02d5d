"""What every command group shares: opening the node, the passphrase, running a handler with the node's
Operations, and reading the files given on the command line (bounded, as I-JSON)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.core.ijson import loads as ijson_loads
from provenance.errors import DocumentTooLarge, InvalidInput
from provenance.store.keystore import PassphraseSource

DATA_DIR_ENV = "PROVENANCE_DATA_DIR"


MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest document file the CLI reads (a certificate, snapshot, signed registration, manifest, report)."""


def open_node(args: argparse.Namespace) -> Any:
    from provenance.services.node import Node

    return Node.open(args.data_dir, passphrase_source(args))


def passphrase_source(args: argparse.Namespace) -> PassphraseSource:
    return PassphraseSource(file=args.passphrase_file)


def with_federation(fn: Callable[[Any, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """Run a handler with the node's FederationOperations (keys, members, proposals, mandates)."""

    def run(args: argparse.Namespace) -> Any:
        from provenance.services.federation import FederationOperations

        with open_node(args) as node:
            return fn(FederationOperations(node), args)

    return run


def with_ops(fn: Callable[[Any, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """Run a handler with the node's Operations (what the HTTP API calls too)."""

    def run(args: argparse.Namespace) -> Any:
        from provenance.services.operations import Operations

        with open_node(args) as node:
            return fn(Operations(node), args)

    return run


def reading(read: Callable[[argparse.Namespace], Any]) -> Callable[[Callable[[Any, argparse.Namespace, Any], Any]],
                                                                    Callable[[argparse.Namespace], Any]]:
    """Like with_ops, but the command's input files are read (and refused if not I-JSON or too large) before the
    node opens: bad input costs no chain, index or keystore work, and nothing is written."""

    def wrap(fn: Callable[[Any, argparse.Namespace, Any], Any]) -> Callable[[argparse.Namespace], Any]:
        def run(args: argparse.Namespace) -> Any:
            from provenance.services.operations import Operations

            data = read(args)
            with open_node(args) as node:
                return fn(Operations(node), args, data)

        return run

    return wrap


def signer_of(ops: Any, args: argparse.Namespace) -> Any:
    return ops.signer(args.key)


def read_json(path: Path, what: str, *, max_int: int | None = None) -> Any:
    """A document file given on the command line, read as I-JSON (provenance.core.ijson): nesting beyond 64
    levels, a repeated key, a file over MAX_DOCUMENT_BYTES and the rest are refused (exit 2) before anything is
    opened or written."""
    raw = read_bounded(path, f"the {what} {path}", MAX_DOCUMENT_BYTES)
    return ijson_loads(raw, max_bytes=MAX_DOCUMENT_BYTES, max_int=max_int, what=f"the {what} {path}")


def read_bounded(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a file no larger than ``limit`` (DocumentTooLarge otherwise, without reading it whole)."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise DocumentTooLarge(f"{what} is {size} bytes, more than the {limit} accepted", size=size,
                                       limit=limit)
            raw = fh.read(limit + 1)  # a pipe or a growing file has no size to trust
    except OSError as exc:
        raise InvalidInput(f"cannot read {what}: {exc.strerror}") from None
    if len(raw) > limit:
        raise DocumentTooLarge(f"{what} is more than the {limit} bytes accepted", size=len(raw), limit=limit)
    return raw


def write_or_return(doc: Any, out: Path | None) -> Any:
    if out is None:
        return doc
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return {"written": str(out)}


def bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(1, total)
    return "[" + "#" * filled + "." * (width - filled) + "]"
