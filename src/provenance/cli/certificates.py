"""``cert`` and ``snapshot``: certificates issued, verified and recognised; federation snapshots."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import open_node, read_json, reading, signer_of, with_ops, write_or_return
from provenance.core.ids import parse_address, parse_hash32
from provenance.core.ijson import EXACT_INT
from provenance.errors import InvalidInput, VerificationError


@with_ops
def cmd_cert_issue(ops: Any, args: argparse.Namespace) -> Any:
    doc = ops.issue(parse_hash32(args.record, "record id"), days=args.days, signer=signer_of(ops, args))
    return write_or_return(doc, args.out)


def cmd_cert_verify(args: argparse.Namespace) -> Any:
    from provenance.services.operations import Operations

    if not args.file.exists():
        raise InvalidInput(f"no certificate file {args.file}")
    if not args.file.is_file():
        raise InvalidInput(f"{args.file} is not a regular file (a certificate is read from a file)")
    if args.offline and args.snapshot is None:
        raise InvalidInput("offline verification needs --snapshot")
    # Both documents are read, as I-JSON, before anything else is opened: a repeated key, deep nesting or an
    # oversized file is refused (exit 2) before any verification or node work.
    doc = read_json(args.file, "certificate", max_int=EXACT_INT)
    if args.offline:
        snapshot = read_json(args.snapshot, "snapshot", max_int=EXACT_INT)
        trusted: list[bytes] = [parse_address(a) for a in args.trust]
        if not trusted:
            with open_node(args) as node:
                ops = Operations(node)
                trusted = ops.trusted_keys(ops.active_exchange_of(ops.signer(args.key).address))
        out = Operations.verify_offline(doc, snapshot, trusted)
    else:
        with open_node(args) as node:
            out = Operations(node).verify(doc)
    if not out.valid:
        raise CertificateInvalid(out.document())
    return out


class CertificateInvalid(VerificationError):
    """Raised when a certificate fails verification (the report names each failed check)."""

    def __init__(self, report: dict[str, Any]) -> None:
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in report["checks"] if not c["ok"])
        super().__init__(f"the certificate is NOT valid ({report['mode']}): {failed}")
        self.report = report


@with_ops
def cmd_cert_list(ops: Any, args: argparse.Namespace) -> Any:
    if not 1 <= args.limit <= 1000:
        raise InvalidInput("--limit must be between 1 and 1000")
    return ops.certificates(limit=args.limit)


@with_ops
def cmd_cert_show(ops: Any, args: argparse.Namespace) -> Any:
    return write_or_return(ops.certificate(parse_hash32(args.credential, "credential hash")), args.out)


@with_ops
def cmd_cert_recognitions(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.recognitions(parse_hash32(args.credential, "credential hash"))


@reading(lambda args: read_json(args.file, "certificate", max_int=EXACT_INT))
def cmd_cert_recognize(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    return write_or_return(ops.recognize(doc, on_chain=not args.off_chain, signer=signer_of(ops, args)), args.out)


@with_ops
def cmd_snapshot(ops: Any, args: argparse.Namespace) -> Any:
    return write_or_return(ops.snapshot(anchor=not args.no_anchor, signer=signer_of(ops, args)), args.out)
