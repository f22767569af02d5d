"""Every operation of a node as plain JSON-ready values: the CLI and the HTTP API both call these.

``Operations`` wraps one open :class:`~provenance.node.Node`. Anything that touches the chain or moves the index
(a transaction, a follower sync) runs under one re-entrant lock, because the embedded py-evm chain and the
follower are single-writer; reads of the index do not take it (LevelDB reads are thread-safe and every block
is committed to the index atomically, so a reader sees a block whole or not at all).

Reads of important- and core-grade records are redacted unless the caller ``reveal``s them: the HTTP layer
decides who may (members of the federation, the record's owner), the CLI (an operator of the node) always may.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from provenance.chain.contracts import REGISTRY
from provenance.core import catalog, export, ijson
from provenance.core import certificates as C
from provenance.core.ids import hex0x, identifier_hash, parse_address, parse_hash32
from provenance.errors import (
    ContractReverted,
    DocumentTooLarge,
    InvalidInput,
    NotFound,
    ProvenanceError,
    VerificationError,
)
from provenance.indexer.logs import LogQueries
from provenance.indexer.queries import IndexQueries, lineage_json, record_json
from provenance.jsonable import jsonable
from provenance.service import EntityConsent, RegistryService, SignedRegistration
from provenance.store.keys import IndexedRecord
from provenance.types import (
    Address,
    EntityRole,
    Grade,
    Hash32,
    Kind,
    RecordId,
    RegistrationRequest,
    Rights,
    Source,
    Status,
)

if TYPE_CHECKING:
    from provenance.flow_operations import FlowOperations
    from provenance.node import Node

ZERO32 = "0x" + "00" * 32
REQUEST_FIELDS = ("kind", "grade", "source", "rights", "owner", "contentHash", "metadataHash", "parents",
                  "supersedes")
# Fields of a record shown to anyone; the rest of an important- or core-grade record needs a member credential.
PUBLIC_FIELDS = ("id", "seq", "kind", "grade", "status", "registrar", "block", "leaf_index", "batched")


# ---------------------------------------------------------------------- parsing shared by CLI and API


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


# ---------------------------------------------------------------------- operations


class Operations:
    def __init__(self, node: Node, *, lock: threading.RLock | None = None, key: str | None = None) -> None:
        self.node = node
        self.lock = lock or threading.RLock()
        self.key = key  # keystore label this node acts with (default: node.toml's key)
        self.svc = RegistryService(node.contracts)
        self.queries = IndexQueries(node.index)
        self.logs = LogQueries(node.index)
        self.certifier = node.certifier()
        self.follower = self.certifier.follower
        self._exchange: int | None = None
        self._codes: dict[int, str] = {}
        self._flows: FlowOperations | None = None
        self._info: tuple[int, dict[str, Any]] | None = None

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self.lock:
            yield

    def signer(self, label: str | None = None) -> LocalAccount:
        return self.node.signer(label or self.key)

    @property
    def flows(self) -> FlowOperations:
        """Cross-border flow operations (ConfigError if the deployment has no cross-border contract)."""
        if self._flows is None:
            from provenance.flow_operations import FlowOperations

            self._flows = FlowOperations(self)
        return self._flows

    def identity(self) -> tuple[str, int]:
        """Whom this node's key acts for: ("exchange", id) or ("supervisor", id)."""
        address = self.signer().address
        with self.lock:
            try:
                return "exchange", self.svc.active_exchange_of(address)
            except ContractReverted as exc:
                if exc.error != "NotExchangeKey":
                    raise
            try:
                return "supervisor", self.svc.active_supervisor_of(address)
            except ContractReverted as exc:
                if exc.error != "NotSupervisorKey":
                    raise
        raise InvalidInput(f"this node's key {address} is neither an active exchange's nor a supervisor's key")

    @property
    def exchange_id(self) -> int:
        """The node's own exchange (the exchange of its default key)."""
        if self._exchange is None:
            with self.lock:
                self._exchange = self.svc.active_exchange_of(self.signer().address)
        return self._exchange

    def codes(self, need: int | None = None) -> dict[int, str]:
        """Exchange codes by id: cached, read again when an id is missing (exchanges are only ever added)."""
        codes = self._codes
        if not codes or (need is not None and need not in codes):
            self._codes = codes = self.queries.exchange_codes()
        return codes

    def sync(self) -> dict[str, Any]:
        with self.lock:
            st = self.follower.sync()
        return {"checkpoint": st.checkpoint, "events": st.events, "reorgs": st.reorgs}

    def exchange_ref(self, ref: int | str) -> int:
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        with self.lock:
            return self.svc.exchange_id(ref)

    # ------------------------------------------------------------------ federation

    def info(self) -> dict[str, Any]:
        """The chain, contracts, members and counts. Kept per chain head: the explorer asks on every page, and the
        answer (several contract calls under the chain lock) changes only with blocks."""
        with self.lock:
            node = self.node
            head = node.chain.block_number()
            cached = self._info
            if cached is not None and cached[0] == head:
                return copy.deepcopy(cached[1])
            out = {
                "chain": {"backend": node.chain.kind, "chain_id": node.chain.chain_id, "head": head},
                "contracts": node.contracts.deployment.to_json(),
                "federation": {"members": self.svc.member_count(), "threshold": self.svc.threshold(),
                               "exchanges": [e.code for e in self.svc.exchanges()]},
                "counts": self.svc.counts(),
                "key": {"label": node.config.key, "address": node.keystore.address(node.config.key)},
            }
            self._info = (head, copy.deepcopy(out))
            return out

    def exchanges(self) -> list[dict[str, Any]]:
        with self.lock:
            return [jsonable(e) for e in self.svc.exchanges()]

    def exchange(self, ref: int | str) -> dict[str, Any]:
        with self.lock:
            ex = self.svc.exchange(self.exchange_ref(ref))
            return {**jsonable(ex), "keys": [jsonable(k) for k in self.svc.keys_of(ex.id)]}

    def keys_of(self, ref: int | str) -> list[dict[str, Any]]:
        with self.lock:
            return [jsonable(k) for k in self.svc.keys_of(self.exchange_ref(ref))]

    def proposals(self) -> list[dict[str, Any]]:
        with self.lock:
            return [jsonable(p) for p in self.svc.proposals()]

    def entity(self, entity_id: int) -> dict[str, Any]:
        with self.lock:
            return self._entity_doc(self.svc.entity(entity_id))

    def entity_by_identifier(self, identifier: str) -> dict[str, Any]:
        ident = identifier_hash(identifier)
        with self.lock:
            return self._entity_doc(self.svc.entity_by_identifier(ident))

    def _entity_doc(self, entity: Any) -> dict[str, Any]:
        """An entity with the exchanges that recognise it and those it gave a mandate to register its data."""
        others = [e for e in self.svc.exchanges() if e.id != entity.registrar]
        return {**jsonable(entity),
                "recognizedBy": [e.code for e in others if self.svc.is_recognized(entity.id, e.id)],
                "mandates": [e.code for e in self.svc.exchanges() if self.svc.has_mandate(entity.id, e.id)]}

    def onboarding_consent(self, identifier: str, account: str, role: str,
                           deadline: int | None = None) -> dict[str, Any]:
        """What the entity's account signs (``eth_signTypedData_v4``) to consent to its onboarding by this node's
        exchange, and the deadline to send back with the signature (default: one hour from now)."""
        ident, addr, r = identifier_hash(identifier), parse_address(account, "account"), EntityRole.parse(role)
        with self.lock:
            registrar = self.svc.active_exchange_of(self.signer().address)
            deadline = self.svc.chain_time() + 3600 if deadline is None else deadline
            digest = self.svc.onboarding_digest(registrar, ident, addr, r, deadline)
            return {"typedData": self.svc.onboarding_typed_data(registrar, ident, addr, r, deadline),
                    "digest": hex0x(digest), "deadline": deadline}

    def add_entity(self, identifier: str, account: str, role: str, signer: LocalAccount | None = None, *,
                   deadline: int | None = None, consent: str | None = None) -> dict[str, Any]:
        """Onboard an entity with its account's consent: the signature of :meth:`onboarding_consent`'s typed data,
        or, where this node's keystore holds the account's key (as in the demo), one made here."""
        ident = identifier_hash(identifier)
        addr = parse_address(account, "account")
        r = EntityRole.parse(role)
        if (consent is None) != (deadline is None):
            raise InvalidInput("an onboarding consent is a signature and its deadline, both or neither")
        with self.lock:
            signer = signer or self.signer()
            if consent is not None and deadline is not None:
                registrar = self.svc.active_exchange_of(signer.address)
                signed = EntityConsent(ident, addr, r, registrar, deadline, parse_signature(consent))
                entity_id = self.svc.register_entity(signer, ident, addr, r, consent=signed)
            else:
                held = held_key(self.node, addr)
                if held is None:
                    raise InvalidInput("onboarding needs the account's consent: sign the typed data of "
                                       "GET /api/v1/entities/consent with the account and send consent and deadline")
                entity_id = self.svc.register_entity(signer, ident, held, r)
            return self._entity_doc(self.svc.entity(entity_id))

    def recognize_entity(self, entity_id: int, signer: LocalAccount | None = None) -> dict[str, Any]:
        with self.lock:
            res = self.svc.recognize_entity(signer or self.signer(), entity_id)
        return {"entity": entity_id, "recognized": True, "block": res.block_number}

    # ------------------------------------------------------------------ registrations: writes

    def register(self, request: RegistrationRequest, *, signed: SignedRegistration | None = None,
                 signer: LocalAccount | None = None) -> dict[str, Any]:
        """Register one record directly (under the owner's mandate, or with the owner's EIP-712 signature)."""
        with self.lock:
            signer = signer or self.signer()
            if signed is not None:
                rid, res = self.svc.register_for(signer, signed)
            else:
                rid, res = self.svc.register(signer, request)
            self.follower.sync()
            return {"id": hex0x(rid), "tx": hex0x(res.tx_hash), "block": res.block_number,
                    "gas_used": res.gas_used, "record": self.record(rid, reveal=True)}

    def register_group(self, requests: list[RegistrationRequest],
                       signer: LocalAccount | None = None) -> list[dict[str, Any] | ProvenanceError]:
        """Register several records in one transaction (group commit); on a refusal, each on its own.

        Returns, per request, the registration result or the error that refused it: one bad request never
        takes the others down with it, and none is registered twice (a retried one is new to the chain).
        """
        with self.lock:
            signer = signer or self.signer()
            out: list[dict[str, Any] | ProvenanceError] = []
            try:
                if len(requests) == 1:
                    rid, res = self.svc.register(signer, requests[0])
                    ids = [rid]
                else:
                    ids, res = self.svc.register_batch(signer, requests)
            except ContractReverted as exc:
                if len(requests) == 1:
                    return [exc]
                for req in requests:
                    try:
                        rid, one = self.svc.register(signer, req)
                        out.append(_tx_json(rid, one))
                    except ContractReverted as e:
                        out.append(e)
                self.follower.sync()
                return out
            self.follower.sync()
            return [_tx_json(rid, res) for rid in ids]

    def sign_registration(self, owner: LocalAccount, registrar: int | str, request: RegistrationRequest, *,
                          ttl: int = 3600) -> SignedRegistration:
        with self.lock:
            return self.svc.sign_registration(owner, registrar, request, ttl_seconds=ttl)

    def registration_typed_data(self, request: RegistrationRequest, *, deadline: int,
                                nonce: int | None = None) -> dict[str, Any]:
        """The EIP-712 typed data an owner signs to let this node's exchange register ``request`` for them: the
        ``eth_signTypedData_v4`` document its wallet signs (``typedData``), beside the digest and loose fields."""
        from provenance.core import eip712

        with self.lock:
            if nonce is None:
                nonce = self.svc.entity(request.owner).nonce
            dep = self.node.contracts.deployment
            terms = (dep.chain_id, Address(dep.registry), self.exchange_id, request, nonce, deadline)
            digest = eip712.registration_digest(*terms)
        return {"registrar": self.exchange_id, "nonce": nonce, "deadline": deadline, "digest": hex0x(digest),
                "chainId": dep.chain_id, "verifyingContract": hex0x(dep.registry),
                "request": request_json(request), "typedData": eip712.registration_typed_data(*terms)}

    def set_status(self, record: bytes, status: str, reason: str = "",
                   signer: LocalAccount | None = None) -> dict[str, Any]:
        st = Status.parse(status)
        rid = RecordId(record)
        with self.lock:
            signer = signer or self.signer()
            rec = self.node.index.record(rid)
            if rec is not None and rec.batched:
                self.node.contracts.transact(signer, REGISTRY, "setBatchedStatus", rid, int(st),
                                             reason_hash(reason))
                res_block = self.node.chain.block_number()
            else:
                res_block = self.svc.set_status(signer, rid, st, reason_hash(reason)).block_number
            self.follower.sync()
        return {"id": hex0x(rid), "status": st.label, "block": res_block}

    def batch(self, requests: list[RegistrationRequest], *, batch_size: int = 1000,
              signer: LocalAccount | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Queue registrations and seal them into anchored batches (one transaction per ``batch_size``)."""
        from provenance.batching import RuleViolation

        if not 1 <= batch_size <= 5000:
            raise InvalidInput("batch size must be between 1 and 5000")
        with self.lock:
            signer = signer or self.signer()
            intake = self.node.batch_intake(signer, max_records=batch_size,
                                            max_bytes=max(120_000, batch_size * 200))
            futures, refused = [], []
            for i, req in enumerate(requests):
                try:
                    futures.append((i, intake.submit(req)))
                except RuleViolation as exc:
                    refused.append({"index": i, "error": exc.violation.error, "detail": str(exc.violation)})
                if (i + 1) % batch_size == 0:
                    intake.seal()
                    if progress:
                        progress(i + 1, len(requests))
            intake.seal()
            if progress and requests:
                progress(len(requests), len(requests))
            sealed = [(i, f.result()) for i, f in futures]
            self.follower.sync()
            accepted, rejected = [], []
            for i, s in sealed:
                leaf = self.logs.leaf(intake.exchange, s.leaf_index)
                item = {"index": i, "id": hex0x(s.record_id), "leaf": s.leaf_index, "tx": hex0x(s.tx_hash)}
                if leaf.reason:
                    rejected.append({**item, "why": leaf.reason})
                else:
                    accepted.append(item)
        return {"queued": len(futures), "refused_at_intake": refused, "rejected_by_index": rejected,
                "accepted": accepted, "ids": [hex0x(s.record_id) for _, s in sealed],
                "batches": len({s.tx_hash for _, s in sealed}),
                "tree_size": sealed[-1][1].tree_size if sealed else None}

    # ------------------------------------------------------------------ registrations: reads (the index)

    def indexed(self, record: bytes) -> IndexedRecord:
        rec = self.node.index.record(record)
        if rec is None:
            raise NotFound(f"no record 0x{bytes(record).hex()} in the index")
        return rec

    def record(self, record: bytes, *, reveal: bool = True) -> dict[str, Any]:
        rec = self.indexed(record)
        return self.record_doc(rec, reveal=reveal)

    def record_doc(self, rec: IndexedRecord, *, reveal: bool) -> dict[str, Any]:
        doc = record_json(rec, self.codes(rec.registrar))
        doc["seq"] = rec.seq
        doc["leaf_index"] = rec.leaf_index
        doc["batched"] = rec.batched
        return doc if reveal else redact(doc)

    def record_on_chain(self, record: bytes) -> dict[str, Any]:
        with self.lock:
            return dict(jsonable(self.svc.record(RecordId(record))))

    def search(self, *, content_hash: bytes | None = None, owner: int | None = None, registrar: str | None = None,
               kind: str | None = None, grade: str | None = None, status: str | None = None, after: int = -1,
               limit: int = 50, reveal: Callable[[IndexedRecord], bool] | bool = True) -> dict[str, Any]:
        found = self.queries.search(
            content_hash=content_hash, owner=owner,
            registrar=self.exchange_ref(registrar) if registrar else None,
            kind=int(Kind.parse(kind)) if kind else None, grade=int(Grade.parse(grade)) if grade else None,
            status=int(Status.parse(status)) if status else None, after=after, limit=limit)
        show = reveal if callable(reveal) else (lambda _r: reveal)
        return {"results": [self.record_doc(r, reveal=show(r)) for r in found],
                "next": found[-1].seq if found else after}

    def lineage(self, record: bytes, *, direction: str = "ancestors", max_depth: int = 64, max_nodes: int = 10_000,
                reveal: Callable[[IndexedRecord], bool] | bool = True) -> dict[str, Any]:
        _bounds(max_depth, max_nodes)
        walk = self.queries.descendants if direction == "descendants" else self.queries.ancestors
        res = walk(record, max_depth=max_depth, max_nodes=max_nodes)
        doc = lineage_json(res, self.codes(), direction=direction)
        show = reveal if callable(reveal) else (lambda _r: reveal)
        doc["nodes"] = [{**self.record_doc(r, reveal=show(r)), "depth": d}
                        for r, d in [(res.root, 0), *res.records]]
        return doc

    def impact(self, record: bytes, *, max_depth: int = 64) -> dict[str, Any]:
        _bounds(max_depth, 100_000)
        res = self.queries.impact(record, max_depth=max_depth)
        return {"record": hex0x(res["record"].id), "status": Status(res["record"].status).label,
                "inactive": res["inactive"], "descendants": res["descendants"],
                "affected": ["0x" + r.id.hex() for r in res["affected"]], "truncated": res["truncated"]}

    def path(self, descendant: bytes, ancestor: bytes) -> dict[str, Any]:
        p = self.queries.path(descendant, ancestor)
        if p is None:
            raise NotFound(f"0x{ancestor.hex()} is not an ancestor of 0x{descendant.hex()}")
        return {"path": ["0x" + x.hex() for x in p]}

    def export(self, record: bytes, fmt: str, *, max_depth: int = 64) -> Any:
        """A record's ancestry as W3C PROV-JSON (``prov``) or OpenLineage run events (``openlineage``)."""
        _bounds(max_depth, 10_000)
        dep = self.node.contracts.deployment
        namespace = f"provenance://{dep.chain_id}/0x{dep.registry.hex()}"
        nodes = self.queries.lineage_nodes(record, self.codes(), max_depth=max_depth)
        if fmt == "prov":
            return export.to_prov_json(nodes, namespace=namespace)
        if fmt != "openlineage":
            raise InvalidInput(f"unknown lineage format {fmt!r}: prov or openlineage")
        with self.lock:
            times = {n: dt.datetime.fromtimestamp(self.node.chain.get_block(n).timestamp, dt.UTC)
                     .isoformat().replace("+00:00", "Z") for n in {x.block_number for x in nodes}}
        return export.to_openlineage(nodes, namespace=namespace, times=times)

    # ------------------------------------------------------------------ transparency logs

    def log(self, ref: int | str, *, limit: int = 20) -> dict[str, Any]:
        ex = self.exchange_ref(ref)
        anchors = self.logs.anchors(ex, limit=1_000_000)
        return {"exchange": ex, "code": self.codes().get(ex), "size": self.logs.size(ex),
                "root": hex0x(self.logs.root(ex)), "anchors": len(anchors),
                "anchored": [_anchor_json(a) | {"cosignedBy": [c.witness for c in
                                                               self.logs.cosignatures(ex, a.tree_size)]}
                             for a in anchors[-limit:]]}

    def anchor(self, signer: LocalAccount | None = None) -> dict[str, Any]:
        with self.lock:
            return _anchor_json(self.certifier.anchor_checkpoint(signer or self.signer()))

    def inclusion(self, record: bytes) -> dict[str, Any]:
        rec = self.indexed(record)
        anchor = self.logs.covering_anchor(rec.registrar, rec.leaf_index)
        if anchor is None:
            raise NotFound(f"record 0x{rec.id.hex()} is not under an anchored checkpoint yet")
        return {"record": hex0x(rec.id), "exchange": rec.registrar, "leafIndex": rec.leaf_index,
                "leafHash": hex0x(self.logs.leaf(rec.registrar, rec.leaf_index).leaf_hash), **_anchor_json(anchor),
                "proof": [hex0x(x) for x in self.logs.inclusion_proof(rec.registrar, rec.leaf_index,
                                                                       anchor.tree_size)]}

    def consistency(self, ref: int | str, size1: int, size2: int) -> dict[str, Any]:
        ex = self.exchange_ref(ref)
        return {"exchange": ex, "size1": size1, "size2": size2,
                "root1": hex0x(self.logs.root_at(ex, size1)), "root2": hex0x(self.logs.root_at(ex, size2)),
                "proof": [hex0x(x) for x in self.logs.consistency_proof(ex, size1, size2)]}

    def witness(self, signer: LocalAccount | None = None) -> list[dict[str, Any]]:
        with self.lock:
            done = self.certifier.witness(signer or self.signer())
        return [{"exchange": w.exchange, "treeSize": w.tree_size, "root": hex0x(w.root),
                 "transaction": hex0x(w.tx_hash) if w.tx_hash else None, "problem": w.problem} for w in done]

    # ------------------------------------------------------------------ certificates

    def issue(self, record: bytes, *, days: int = 365, signer: LocalAccount | None = None) -> dict[str, Any]:
        if not 1 <= days <= 3650:
            raise InvalidInput("a certificate is valid for 1 to 3650 days")
        with self.lock:
            doc = self.certifier.issue(record, signer or self.signer(), validity=days * 86400)
        self._keep_certificate(doc)
        return doc

    def _certificates_dir(self) -> Path:
        return self.node.config.data_dir / "certificates"

    def _keep_certificate(self, doc: dict[str, Any]) -> None:
        """Keep an issued certificate for download, by its credential hash (written whole or not at all)."""
        name = hex0x(C.credential_hash(doc))
        folder = self._certificates_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, folder / f"{name}.json")

    def certificate(self, credential_hash: bytes) -> dict[str, Any]:
        path = self._certificates_dir() / f"{hex0x(credential_hash)}.json"
        try:
            return ijson.loads(path.read_bytes(), what=f"the kept certificate {path.name}")  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFound(f"no certificate {hex0x(credential_hash)} was issued by this node") from None

    def certificates(self, *, limit: int = 100) -> list[dict[str, Any]]:
        folder = self._certificates_dir()
        if not folder.exists():
            return []
        files = sorted(folder.glob("0x*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
        out = []
        for f in files:
            doc = ijson.loads(f.read_bytes(), what=f"the kept certificate {f.name}")
            subject = doc.get("credentialSubject", {}).get("record", {})
            out.append({"credentialHash": f.stem, "record": subject.get("id"), "validFrom": doc.get("validFrom"),
                        "validUntil": doc.get("validUntil")})
        return out

    def verify(self, doc: Any, *, now: int | None = None) -> dict[str, Any]:
        """Verify a certificate online, against this node's view of the chain (the report names each check)."""
        with self.lock:
            view = self.certifier.online_view()
        text = doc if isinstance(doc, str | bytes) else None
        report = C.verify_text(text, view, now=int(time.time()) if now is None else now) if text is not None \
            else C.verify(doc, view, now=int(time.time()) if now is None else now)
        for ev in report.equivocations:
            self.certifier.record_equivocation({"kind": "signed-root-differs-from-anchored", **ev})
        return report.to_json()

    @staticmethod
    def verify_offline(doc: Any, snapshot: Any, trusted: Sequence[bytes], *, now: int | None = None) -> dict[str, Any]:
        from provenance.core.snapshot import SnapshotView

        view = SnapshotView(snapshot, list(trusted))
        when = int(time.time()) if now is None else now
        report = C.verify_text(doc, view, now=when) if isinstance(doc, str | bytes) else C.verify(doc, view, now=when)
        return report.to_json()

    def trusted_keys(self, exchange: int | None = None) -> list[bytes]:
        with self.lock:
            return self.certifier.trusted_keys(self.exchange_id if exchange is None else exchange)

    def recognize(self, doc: Any, *, on_chain: bool = True, signer: LocalAccount | None = None) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise InvalidInput("a certificate is a JSON object")
        with self.lock:
            return self.certifier.recognize(doc, signer or self.signer(), on_chain=on_chain)

    def recognitions(self, credential_hash: bytes) -> list[dict[str, Any]]:
        return [{"recognizer": ex, "recognizerCode": self.codes().get(ex), "block": block,
                 "record": hex0x(rid), "issuer": issuer}
                for ex, block, rid, issuer in self.logs.recognitions(credential_hash)]

    def snapshot(self, *, anchor: bool = True, signer: LocalAccount | None = None) -> dict[str, Any]:
        with self.lock:
            return self.certifier.snapshot(signer or self.signer(), anchor=anchor)

    # ------------------------------------------------------------------ the index

    def index_status(self) -> dict[str, Any]:
        cp = self.node.index.checkpoint()
        with self.lock:
            head = self.node.chain.block_number()
        return {"checkpoint": cp[0] if cp else None, "head": head, "lag": head - cp[0] if cp else None,
                **self.queries.counts(), "confirmations": self.node.config.index.confirmations,
                "reorg_depth": self.node.config.index.reorg_depth}

    def rebuild(self, progress: Callable[[Any], None] | None = None) -> dict[str, Any]:
        with self.lock:
            self.node.index.wipe()
            st = self.follower.sync(progress=progress)
        return {**self.index_status(), "indexed_events": st.events}


def _tx_json(rid: bytes, res: Any) -> dict[str, Any]:
    return {"id": hex0x(rid), "tx": hex0x(res.tx_hash), "block": res.block_number}


def _anchor_json(a: Any) -> dict[str, Any]:
    return {"treeSize": a.tree_size, "root": hex0x(a.root), "block": a.block, "consistent": a.consistent,
            "transaction": hex0x(a.tx_hash)}


def _bounds(max_depth: int, max_nodes: int) -> None:
    if not 1 <= max_depth <= 256:
        raise InvalidInput("max_depth must be between 1 and 256")
    if not 1 <= max_nodes <= 100_000:
        raise InvalidInput("max_nodes must be between 1 and 100000")


__all__ = ["Operations", "request_from_json", "request_json", "reason_hash", "redact", "VerificationError"]
