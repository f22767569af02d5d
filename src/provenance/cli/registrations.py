"""``register``, ``sign``, ``status`` and ``show``: one registration at a time."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.common import read_json, reading, signer_of, with_federation, with_ops
from provenance.core.ids import hex0x, parse_hash32
from provenance.errors import InvalidInput
from provenance.types import Hash32, RegistrationRequest

if TYPE_CHECKING:
    from provenance.chain.registry import SignedRegistration


def request_from_args(args: argparse.Namespace, document: Any = None) -> tuple[RegistrationRequest, bytes | None]:
    """The request the arguments describe and, with ``--metadata``, the document's canonical bytes (the request
    then carries its hash, once the document is checked against the request's owner and rights)."""
    from provenance.services.requests import catalog_document

    request = _plain_request(args)
    if document is None:
        return request, None
    canonical, digest = catalog_document(document, request, str(args.metadata))
    return dataclasses.replace(request, metadata_hash=Hash32(digest)), canonical


def _plain_request(args: argparse.Namespace) -> RegistrationRequest:
    """The request the arguments describe, through the one parser the API uses too (the hex values are checked
    here first, so an error names the option)."""
    from provenance.services.requests import hash_file, request_from_json

    content = parse_hash32(args.content_hash, "content hash") if args.content_hash else hash_file(args.file)
    if args.metadata_hash:
        metadata = parse_hash32(args.metadata_hash, "metadata hash")
    elif args.metadata_file:
        metadata = hash_file(args.metadata_file)
    else:
        metadata = Hash32(bytes(32))
    supersedes = parse_hash32(args.supersedes, "superseded record id") if args.supersedes else Hash32(bytes(32))
    parents = [parse_hash32(p, "parent record id") for p in args.parent]
    return request_from_json({
        "kind": args.kind, "grade": args.grade, "source": args.source, "rights": args.rights, "owner": args.owner,
        "contentHash": hex0x(content), "metadataHash": hex0x(metadata), "supersedes": hex0x(supersedes),
        "parents": [hex0x(p) for p in parents]}, "arguments")


def _register_inputs(args: argparse.Namespace) -> tuple[SignedRegistration | None, Any]:
    signed = _load_signed(args.signed) if args.signed else None
    document = read_json(args.metadata, "metadata document") if getattr(args, "metadata", None) else None
    return signed, document


@reading(_register_inputs)
def cmd_register(ops: Any, args: argparse.Namespace, inputs: tuple[SignedRegistration | None, Any]) -> Any:
    from provenance.services.catalog import CatalogService
    from provenance.services.requests import catalog_document

    signed, document = inputs
    signer = signer_of(ops, args)
    cat = CatalogService(ops)
    if signed is not None:
        canonical = None
        if document is not None:  # the signature covers the hash: the document must be the one signed for
            canonical, digest = catalog_document(document, signed.request, str(args.metadata))
            if digest != signed.request.metadata_hash:
                raise InvalidInput(f"{args.metadata}: metadataHash: the document hashes to 0x{digest.hex()}, not to "
                                   f"the signed registration's 0x{signed.request.metadata_hash.hex()}")
        return cat.register(signed.request, canonical, signed=signed, signer=signer)
    request, canonical = request_from_args(args, document)
    if args.owner_key:
        registrar = ops.active_exchange_of(signer.address)
        signed = ops.sign_registration(ops.load_key(args.owner_key), registrar, request)
        return cat.register(request, canonical, signed=signed, signer=signer)
    return cat.register(request, canonical, signer=signer)


@with_federation
def cmd_sign(fed: Any, args: argparse.Namespace) -> Any:
    document = read_json(args.metadata, "metadata document") if args.metadata else None
    doc = fed.sign_registration(args.owner_key, args.registrar, request_from_args(args, document)[0],
                                ttl_seconds=args.ttl)
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
        return {"written": str(args.out), "nonce": doc["nonce"], "deadline": doc["deadline"]}
    return doc


def _load_signed(path: Path) -> SignedRegistration:
    from provenance.chain.registry import SignedRegistration
    from provenance.services.requests import request_from_json

    raw = read_json(path, "signed registration")
    try:
        req = raw["request"]
        # The file is the signed registration as `provenance sign` writes it (snake_case fields); the request in
        # it is read by the one parser of requests.
        request = request_from_json({
            "kind": req["kind"], "grade": req["grade"], "source": req["source"], "rights": req["rights"],
            "owner": req["owner"], "contentHash": req["content_hash"], "metadataHash": req["metadata_hash"],
            "supersedes": req["supersedes"], "parents": req["parents"]}, f"{path}: request")
        signature = bytes.fromhex(str(raw["signature"]).removeprefix("0x"))
        return SignedRegistration(request, int(raw["registrar"]), int(raw["nonce"]), int(raw["deadline"]), signature)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not a signed registration: {exc}") from exc


@with_ops
def cmd_status(ops: Any, args: argparse.Namespace) -> Any:
    return ops.set_status(parse_hash32(args.record, "record id"), args.status, args.reason, signer=signer_of(ops, args))


@with_ops
def cmd_show(ops: Any, args: argparse.Namespace) -> Any:
    rid = parse_hash32(args.record, "record id")
    ops.sync()
    return {**ops.record_on_chain(rid), "index": ops.record(rid)}
