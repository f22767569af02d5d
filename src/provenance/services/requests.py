"""Parsing shared by the CLI and the API: a registration request from its JSON form, a status reason, a signature,
a file's content hash, a record's public (redacted) view."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from provenance.core import catalog
from provenance.core.ids import hex0x, parse_address, parse_hash32
from provenance.errors import DocumentTooLarge, InvalidInput
from provenance.store.keys import IndexedRecord
from provenance.types import Grade, Hash32, Kind, RecordId, RegistrationRequest, Rights, Source

if TYPE_CHECKING:
    from provenance.services.node import Node

ZERO32 = "0x" + "00" * 32
REQUEST_FIELDS = ("kind", "grade", "source", "rights", "owner", "contentHash", "metadataHash", "parents",
                  "supersedes")
# Fields of a record shown to anyone; the rest of an important- or core-grade record needs a member credential.
PUBLIC_FIELDS = ("id", "seq", "kind", "grade", "status", "registrar", "block", "leaf_index", "batched")



def request_from_json(obj: Any, where: str = "request") -> RegistrationRequest:
    """A registration request from its JSON form (the API body, a line of a JSON Lines import); an inline
    ``metadata`` document is checked and gives the request its metadataHash (see :func:`registration_from_json`
    for the document's canonical bytes too)."""
    return registration_from_json(obj, where)[0]


def registration_from_json(obj: Any, where: str = "request") -> tuple[RegistrationRequest, bytes | None]:
    """A registration request and, when the JSON carries a ``metadata`` document inline, that document's
    canonical bytes. The document is checked here, before anything is written: against the schema (an error
    names the field path), the size limit (DocumentTooLarge), the record (publisher is the owner, the policy's
    actions are covered by the rights) and, when the request also gives a metadataHash, that hash."""
    if not isinstance(obj, Mapping):
        raise InvalidInput(f"{where}: expected a JSON object")
    request = _request({k: v for k, v in obj.items() if k != "metadata"}, where)
    if obj.get("metadata") is None:
        return request, None
    canonical, digest = catalog_document(obj["metadata"], request, where)
    if any(request.metadata_hash) and request.metadata_hash != digest:
        raise InvalidInput(f"{where}.metadataHash: {hex0x(request.metadata_hash)} is not the hash of the metadata "
                           f"document ({hex0x(digest)}); give one or the other, or the hash of this document")
    return dataclasses.replace(request, metadata_hash=Hash32(digest)), canonical


def catalog_document(doc: Any, request: RegistrationRequest | IndexedRecord,
                     where: str = "request") -> tuple[bytes, bytes]:
    """The canonical bytes and keccak-256 hash of a metadata document for a request or an indexed record,
    refused (naming the field) unless it validates and fits the record's owner and rights."""
    try:
        meta = catalog.parse_metadata(doc)
        catalog.check_against_record(meta, owner=request.owner, rights=Rights(request.rights))
    except DocumentTooLarge as exc:
        raise DocumentTooLarge(f"{where}: {exc.message}", size=exc.size, limit=exc.limit) from None
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    return meta.canonical, bytes(meta.hash)


def _request(obj: Mapping[str, Any], where: str) -> RegistrationRequest:
    unknown = set(obj) - set(REQUEST_FIELDS)
    if unknown:
        raise InvalidInput(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    for name in ("kind", "owner", "contentHash"):
        if obj.get(name) is None:
            raise InvalidInput(f"{where}: {name} is missing")
    owner = obj["owner"]
    if not isinstance(owner, int) or isinstance(owner, bool) or not 0 < owner < 2**32:
        raise InvalidInput(f"{where}: owner must be an entity id (a positive integer)")
    parents = obj.get("parents") or []
    if not isinstance(parents, list):
        raise InvalidInput(f"{where}: parents must be a list of record ids")
    rights = obj.get("rights", "holding")
    if isinstance(rights, list):
        rights = ",".join(str(r) for r in rights)
    try:
        return RegistrationRequest(
            kind=Kind.parse(obj["kind"]), grade=Grade.parse(obj.get("grade") or "general"),
            source=Source.parse(obj.get("source") or "enterprise"), rights=Rights.parse(rights),
            owner=owner, content_hash=parse_hash32(str(obj["contentHash"]), "contentHash"),
            metadata_hash=parse_hash32(str(obj.get("metadataHash") or ZERO32), "metadataHash"),
            supersedes=parse_hash32(str(obj.get("supersedes") or ZERO32), "supersedes"),
            parents=tuple(RecordId(parse_hash32(str(x), "parents[]")) for x in parents))
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None


def request_json(req: RegistrationRequest) -> dict[str, Any]:
    return {"kind": req.kind.label, "grade": req.grade.label, "source": req.source.label,
            "rights": req.rights.labels(), "owner": req.owner, "contentHash": hex0x(req.content_hash),
            "metadataHash": hex0x(req.metadata_hash), "supersedes": hex0x(req.supersedes),
            "parents": [hex0x(p) for p in req.parents]}


def reason_hash(text: str) -> bytes:
    """A status reason: a 32-byte hex value as given, or the keccak hash of a text."""
    if not text:
        return bytes(32)
    try:
        return parse_hash32(text)
    except InvalidInput:
        return keccak(text.encode("utf-8"))


def hash_file(path: Path) -> Hash32:
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    return Hash32(h.digest())


def redact(doc: dict[str, Any]) -> dict[str, Any]:
    """A record's public view: important- and core-grade records keep only what identifies them."""
    if doc.get("grade", "general") == "general":
        return doc
    out = {k: doc[k] for k in PUBLIC_FIELDS if k in doc}
    out["redacted"] = True
    if "depth" in doc:
        out["depth"] = doc["depth"]
    return out


def held_key(node: Node, address: bytes) -> LocalAccount | None:
    """The key of ``address`` if this node's keystore holds it: the node may then sign that key's (or account's)
    own consent, as the demo does for its members and merchants."""
    labels = [label for label, a in node.keystore.labels().items() if parse_address(a) == address]
    return node.signer(labels[0]) if labels else None


def parse_signature(text: str) -> bytes:
    """A 65-byte r||s||v signature given as 0x-prefixed hex."""
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InvalidInput("a signature is 0x-prefixed hex") from None
    if len(raw) != 65:
        raise InvalidInput(f"a signature is 65 bytes (r, s, v), got {len(raw)}")
    return raw
