"""Every operation of a node as plain JSON-ready values: the CLI and the HTTP API both call these.

``Operations`` wraps one open :class:`~provenance.services.node.Node`. Anything that touches the chain or moves
the index (a transaction, a follower sync) runs under one re-entrant lock, because the embedded py-evm chain and the
follower are single-writer; reads of the index do not take it (LevelDB reads are thread-safe and every block
is committed to the index atomically, so a reader sees a block whole or not at all).

Reads of important- and core-grade records are redacted unless the caller ``reveal``s them: the HTTP layer
decides who may (members of the federation, the record's owner), the CLI (an operator of the node) always may.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import REGISTRY
from provenance.chain.registry import EntityConsent, RegistryService, SignedRegistration
from provenance.core import export
from provenance.core.ids import hex0x, identifier_hash, legacy_identifier_hash, parse_address
from provenance.core.jsonable import jsonable
from provenance.errors import (
    Conflict,
    ContractReverted,
    Forbidden,
    InvalidInput,
    NotFound,
    ProvenanceError,
    VerificationError,
)
from provenance.indexer.logs import LogQueries
from provenance.indexer.queries import IndexQueries, lineage_json, lineage_node, record_json
from provenance.services.requests import (
    held_key,
    parse_signature,
    reason_hash,
    redact,
    request_json,
)
from provenance.services.results.federation import (
    EntityOut,
    ExchangeDetailOut,
    ExchangeOut,
    KeyOut,
    OnboardingConsentOut,
    ProposalOut,
    RecognizedEntityOut,
)
from provenance.services.results.registrations import ImpactOut, PathOut, StatusOut, TypedDataOut
from provenance.services.trust import TrustOperations
from provenance.store.keys import IndexedRecord
from provenance.types import (
    Address,
    EntityRole,
    Grade,
    Kind,
    RecordId,
    RegistrationRequest,
    Status,
    is_decimal,
)

if TYPE_CHECKING:
    from provenance.services.flows import FlowOperations
    from provenance.services.node import Node



# ---------------------------------------------------------------------- operations


log = logging.getLogger("provenance.operations")

class Operations(TrustOperations):
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
        self._exchange_signers: dict[int, tuple[int, str | None]] = {}  # exchange -> (chain head, keystore label)

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
            from provenance.services.flows import FlowOperations

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

    def active_exchange_of(self, address: bytes | str) -> int:
        """The active exchange a key acts for (NotExchangeKey if it is not one's current key)."""
        with self.lock:
            return self.svc.active_exchange_of(address)

    def acting_exchange(self, address: bytes) -> int | None:
        """The exchange ``address`` is a current key of while that exchange is an active member, else None."""
        with self.lock:
            rec = self.svc.key(address)
            if not rec.exchange_id or rec.valid_to != 0:
                return None
            ex = self.svc.exchange(rec.exchange_id)
        return ex.id if ex.status.label == "active" else None

    def exchange_signer(self, code: str) -> LocalAccount | None:
        """The key this node signs as exchange ``code`` (a code or an id) with: its own key for its own exchange,
        else a key its keystore holds that the Federation has as a current key of that exchange while it is an
        active member (the demo node holds all three demo exchanges' keys); None if it holds none. NotFound if
        there is no such exchange.

        Which label answers is kept per chain head (the keys and members change only with blocks); the keystore
        keeps what it decrypts, so the slow scrypt load happens once per key."""
        with self.lock:
            ex = self.svc.exchange(code)
            try:
                own = self.exchange_id
            except ContractReverted as exc:  # a supervisor's node (`--as CAC`) has no exchange of its own
                if exc.error != "NotExchangeKey":
                    raise
                own = None
            if ex.id == own:
                return self.signer()
            head = self.node.chain.block_number()
            known = self._exchange_signers.get(ex.id)
            if known is None or known[0] != head:
                held = {address.lower(): label for label, address in self.node.keystore.labels().items()}
                label = next((held[hex0x(k.address)] for k in self.svc.keys_of(ex.id)
                              if k.valid_to == 0 and hex0x(k.address) in held
                              and self.acting_exchange(bytes(k.address)) == ex.id), None)
                known = self._exchange_signers[ex.id] = (head, label)
            return None if known[1] is None else self.node.keystore.load(known[1])

    def serves_exchange(self, code: str) -> bool:
        """Whether this node serves the exchange's status lists: it holds a current key of that exchange to sign
        them with (:meth:`exchange_signer`)."""
        return self.exchange_signer(code) is not None

    def key_address(self, label: str) -> str:
        """The address of a key this node's keystore holds."""
        return self.node.keystore.address(label)

    def load_key(self, label: str) -> LocalAccount:
        """A key from this node's keystore (an owner's key, to sign that owner's consent)."""
        return self.node.keystore.load(label)

    def chain_time(self) -> int:
        """The chain head's block time, the clock every term on the chain is measured by."""
        with self.lock:
            return self.node.chain.get_block(self.node.chain.block_number()).timestamp

    def counts(self) -> dict[str, int]:
        """What the index holds: exchanges, entities, records, ..."""
        return self.queries.counts()

    def codes(self, need: int | None = None) -> dict[int, str]:
        """Exchange codes by id: cached, read again when an id is missing (exchanges are only ever added)."""
        codes = self._codes
        if not codes or (need is not None and need not in codes):
            self._codes = codes = self.queries.exchange_codes()
        return codes

    def sync(self) -> dict[str, Any]:
        st = self.sync_index()
        return {"checkpoint": st.checkpoint, "events": st.events, "reorgs": st.reorgs}

    def sync_index(self, progress: Callable[[Any], None] | None = None) -> Any:
        """Bring the index up to the confirmed head (the follower's sync state)."""
        with self.lock:
            return self.follower.sync(progress=progress)

    def exchange_ref(self, ref: int | str) -> int:
        if isinstance(ref, str) and is_decimal(ref):
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

    def exchanges(self) -> list[ExchangeOut]:
        with self.lock:
            return [ExchangeOut.model_validate(jsonable(e)) for e in self.svc.exchanges()]

    def exchange(self, ref: int | str) -> ExchangeDetailOut:
        with self.lock:
            ex = self.svc.exchange(self.exchange_ref(ref))
            return ExchangeDetailOut.model_validate({**jsonable(ex), "keys": jsonable(self.svc.keys_of(ex.id))})

    def keys_of(self, ref: int | str) -> list[KeyOut]:
        with self.lock:
            return [KeyOut.model_validate(jsonable(k)) for k in self.svc.keys_of(self.exchange_ref(ref))]

    def proposals(self) -> list[ProposalOut]:
        with self.lock:
            return [ProposalOut.model_validate(jsonable(p)) for p in self.svc.proposals()]

    def entity(self, entity_id: int) -> EntityOut:
        with self.lock:
            return self._entity_doc(self.svc.entity(entity_id))

    def entity_by_identifier(self, identifier: str) -> EntityOut:
        """The entity onboarded under ``identifier``: by its hash today, else (an entity onboarded before the
        identifier was normalised as it is now) by the hash it had then."""
        legacy = legacy_identifier_hash(identifier)
        with self.lock:
            try:
                return self._entity_doc(self.svc.entity_by_identifier(identifier_hash(identifier)))
            except (NotFound, InvalidInput):
                if legacy is None:
                    raise
                return self._entity_doc(self.svc.entity_by_identifier(legacy))

    def _entity_doc(self, entity: Any) -> EntityOut:
        """An entity with the exchanges that recognise it and those it gave a mandate to register its data."""
        others = [e for e in self.svc.exchanges() if e.id != entity.registrar]
        return EntityOut.model_validate({
            **jsonable(entity), "recognizedBy": [e.code for e in others if self.svc.is_recognized(entity.id, e.id)],
            "mandates": [e.code for e in self.svc.exchanges() if self.svc.has_mandate(entity.id, e.id)]})

    def onboarding_consent(self, identifier: str, account: str, role: str,
                           deadline: int | None = None) -> OnboardingConsentOut:
        """What the entity's account signs (``eth_signTypedData_v4``) to consent to its onboarding by this node's
        exchange, and the deadline to send back with the signature (default: one hour from now)."""
        ident, addr, r = identifier_hash(identifier), parse_address(account, "account"), EntityRole.parse(role)
        with self.lock:
            registrar = self.svc.active_exchange_of(self.signer().address)
            deadline = self.svc.chain_time() + 3600 if deadline is None else deadline
            digest = self.svc.onboarding_digest(registrar, ident, addr, r, deadline)
            return OnboardingConsentOut(typedData=self.svc.onboarding_typed_data(registrar, ident, addr, r, deadline),
                                        digest=hex0x(digest), deadline=deadline)

    def add_entity(self, identifier: str, account: str, role: str, signer: LocalAccount | None = None, *,
                   deadline: int | None = None, consent: str | None = None) -> EntityOut:
        """Onboard an entity with its account's consent: the signature of :meth:`onboarding_consent`'s typed data,
        or, where this node's keystore holds the account's key (as in the demo), one made here."""
        ident = identifier_hash(identifier)
        addr = parse_address(account, "account")
        r = EntityRole.parse(role)
        if (consent is None) != (deadline is None):
            raise InvalidInput("an onboarding consent is a signature and its deadline, both or neither")
        legacy = legacy_identifier_hash(identifier)
        with self.lock:
            if legacy is not None:  # onboarded before, under the hash this identifier had then: not twice
                try:
                    earlier = self.svc.entity_by_identifier(legacy)
                except NotFound:
                    pass
                else:
                    raise Conflict(f"entity {earlier.id} holds this identifier already (onboarded under its hash "
                                   f"before identifiers were normalised): an identifier is onboarded once")
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

    def recognize_entity(self, entity_id: int, signer: LocalAccount | None = None) -> RecognizedEntityOut:
        with self.lock:
            res = self.svc.recognize_entity(signer or self.signer(), entity_id)
        return RecognizedEntityOut(entity=entity_id, recognized=True, block=res.block_number)

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
            # With [index] confirmations the block is not indexed yet: the registration stands, its record follows.
            rec = self.node.index.record(rid)
            return {"id": hex0x(rid), "tx": hex0x(res.tx_hash), "block": res.block_number,
                    "gas_used": res.gas_used, "record": None if rec is None else self.record_doc(rec, reveal=True)}

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
                                nonce: int | None = None) -> TypedDataOut:
        """The EIP-712 typed data an owner signs to let this node's exchange register ``request`` for them: the
        ``eth_signTypedData_v4`` document its wallet signs (``typedData``), beside the digest and loose fields."""
        from provenance.core import eip712

        with self.lock:
            if nonce is None:
                nonce = self.svc.entity(request.owner).nonce
            dep = self.node.contracts.deployment
            terms = (dep.chain_id, Address(dep.registry), self.exchange_id, request, nonce, deadline)
            digest = eip712.registration_digest(*terms)
        return TypedDataOut(registrar=self.exchange_id, nonce=nonce, deadline=deadline, digest=hex0x(digest),
                            chainId=dep.chain_id, verifyingContract=hex0x(dep.registry),
                            request=request_json(request), typedData=eip712.registration_typed_data(*terms))

    def set_status(self, record: bytes, status: str, reason: str = "",
                   signer: LocalAccount | None = None) -> StatusOut:
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
            self._reanchor_status_lists(signer)
        return StatusOut(id=hex0x(rid), status=st.label, block=res_block)

    def _reanchor_status_lists(self, signer: LocalAccount) -> None:
        """A verifier without a snapshot learns of a suspension or revocation from the exchange's status lists,
        and trusts a served list only when its hash is anchored on-chain: so every status change this node makes
        re-anchors them at once. The change itself stands if anchoring fails (the next change, ``POST
        status-lists/anchor`` or a snapshot anchors again); the failure is logged."""
        try:
            self.certifier.anchor_status_lists(signer)
        except ProvenanceError as exc:
            log.warning("the status change is made, but re-anchoring the status lists failed: %s", exc)

    def batch(self, requests: list[RegistrationRequest], *, batch_size: int = 1000,
              signer: LocalAccount | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Queue registrations and seal them into anchored batches (one transaction per ``batch_size``).

        Each item is judged on submission against the index, the batches sealed that the index has not applied yet
        (earlier sub-batches of this request, or earlier requests) and the queue; an item that breaks a rule is
        named in ``refused_at_intake`` and nothing of it is sent."""
        from provenance.services.batching import RuleViolation, batch_outcomes

        if not 1 <= batch_size <= 5000:
            raise InvalidInput("batch size must be between 1 and 5000")
        with self.lock:
            signer = signer or self.signer()
            intake = self.node.batch_intake(signer, max_records=batch_size,
                                            max_bytes=max(120_000, batch_size * 200))
            futures, refused = [], []
            queued: dict[bytes, int] = {}  # content hash -> the item of this request queued with it
            for i, req in enumerate(requests):
                try:
                    futures.append((i, intake.submit(req)))
                    queued.setdefault(req.content_hash, i)
                except RuleViolation as exc:
                    # A copy of an earlier item is refused whichever sub-batch that item went into, sealed or not.
                    same = queued.get(req.content_hash) if exc.violation.error == "AlreadyRegistered" else None
                    note = f"the same record as item {same} of this request" if same is not None else exc.note
                    refused.append({"index": i, "error": exc.violation.error,
                                    "detail": str(exc.violation) + (f": {note}" if note else "")})
                if (i + 1) % batch_size == 0:
                    intake.seal()
                    if progress:
                        progress(i + 1, len(requests))
            intake.seal()
            if progress and requests:
                progress(len(requests), len(requests))
            sealed = [(i, f.result()) for i, f in futures]
            self.follower.sync()
        return {"queued": len(futures), "refused_at_intake": refused,
                **batch_outcomes(self.logs, intake.exchange, sealed)}

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

    def impact(self, record: bytes, *, max_depth: int = 64) -> ImpactOut:
        _bounds(max_depth, 100_000)
        res = self.queries.impact(record, max_depth=max_depth)
        return ImpactOut(record=hex0x(res["record"].id), status=Status(res["record"].status).label,
                         inactive=res["inactive"], descendants=res["descendants"],
                         affected=["0x" + r.id.hex() for r in res["affected"]], truncated=res["truncated"])

    def path(self, descendant: bytes, ancestor: bytes) -> PathOut:
        p = self.queries.path(descendant, ancestor)
        if p is None:
            raise NotFound(f"0x{ancestor.hex()} is not an ancestor of 0x{descendant.hex()}")
        return PathOut(path=["0x" + x.hex() for x in p])

    def export(self, record: bytes, fmt: str, *, max_depth: int = 64,
               reveal: Callable[[IndexedRecord], bool] | bool = True) -> Any:
        """A record's ancestry as W3C PROV-JSON (``prov``) or OpenLineage run events (``openlineage``).

        An export states every record of the walk in full, so it is refused (Forbidden) unless the caller may see
        (``reveal``) each of them; the check is made on the export's own walk, whatever its depth."""
        _bounds(max_depth, 10_000)
        if fmt not in ("prov", "openlineage"):
            raise InvalidInput(f"unknown lineage format {fmt!r}: prov or openlineage")
        res = self.queries.ancestors(record, max_depth=max_depth)
        walked = [res.root, *(r for r, _ in res.records)]
        show = reveal if callable(reveal) else (lambda _r: reveal)
        hidden = sum(1 for r in walked if not show(r))
        if hidden:
            raise Forbidden(f"the lineage includes {hidden} important- or core-grade record(s); exporting it needs a "
                            f"member credential")
        # The index's own conversion (the one its lineage_nodes makes), on the records the check just read.
        codes = self.codes()
        nodes = [lineage_node(r, codes) for r in walked]
        dep = self.node.contracts.deployment
        namespace = f"provenance://{dep.chain_id}/0x{dep.registry.hex()}"
        if fmt == "prov":
            return export.to_prov_json(nodes, namespace=namespace)
        with self.lock:
            times = {n: dt.datetime.fromtimestamp(self.node.chain.get_block(n).timestamp, dt.UTC)
                     .isoformat().replace("+00:00", "Z") for n in {x.block_number for x in nodes}}
        return export.to_openlineage(nodes, namespace=namespace, times=times)

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


def _bounds(max_depth: int, max_nodes: int) -> None:
    if not 1 <= max_depth <= 256:
        raise InvalidInput("max_depth must be between 1 and 256")
    if not 1 <= max_nodes <= 100_000:
        raise InvalidInput("max_nodes must be between 1 and 100000")


__all__ = ["Operations", "VerificationError"]
