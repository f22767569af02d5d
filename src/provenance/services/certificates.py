"""Issuing, verifying and recognising certificates; federation snapshots; witnessing partners' checkpoints.

The adapter around :mod:`provenance.core.certificates` and :mod:`provenance.core.snapshot`: it reads the index
and the chain, signs with the node's keys and sends transactions. Online verification syncs the index first
and asks the contracts directly for what changes at once (keys, anchored roots, the status of stored records),
so a revoked key or record fails verification in the same block it is revoked.

The data property register rewrites a record's owner (a transfer), rights and metadata hash (a change) in the
index, but a record's log leaf covers what was registered: a certificate states its record and lineage as
registered (provenance.indexer.property.as_registered), so their inclusion proofs hold whatever the register did
since, and states the register's state at the issuing block beside them (``credentialSubject.property``). Online
verification compares that with the register now: a transfer since is reported, an expiry fails ``term``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.chain.contracts import FEDERATION, REGISTRY, Contracts
from provenance.chain.registry import RegistryService
from provenance.chain.tlog import NoteKeyService
from provenance.config import public_url
from provenance.core import certificates as C
from provenance.core import eip712, merkle, status_list, vc_jose
from provenance.core.canonical import hex0x
from provenance.core.snapshot import SnapshotExchange, SnapshotView, build_snapshot, sign_snapshot
from provenance.errors import Conflict, ContractReverted, InvalidInput, NotFound, VerificationError
from provenance.indexer.follower import Follower
from provenance.indexer.logs import Anchor, LogQueries
from provenance.indexer.property import as_registered
from provenance.indexer.property_queries import PropertyQueries
from provenance.indexer.queries import IndexQueries
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.store.keys import IndexedRecord
from provenance.types import Address, Exchange, ExchangeStatus, Status

DEFAULT_VALIDITY = 365 * 24 * 3600
# Records whose certificates a status list marks, by purpose (core/status_list.py says what each means).
LISTED = {"revocation": (Status.REVOKED, Status.SUPERSEDED), "suspension": (Status.SUSPENDED,)}


class OnlineView:
    """The federation as the chain and this node's (synced) index know it now.

    Keys and exchanges are asked of the contracts at the chain's head and kept while the head stays where it is
    (they change only with blocks): one verification asks for the same few keys again and again (the issuer's, each
    checkpoint's signer), and each contract call costs about a millisecond."""

    mode = "online"
    KEPT = 1024  # the keys (and the exchanges) kept at one head; past that the cache starts over

    def __init__(self, *, contracts: Contracts, store: IndexStore, svc: RegistryService) -> None:
        self.contracts = contracts
        self.store = store
        self.svc = svc
        self.logs = LogQueries(store)
        self.chain_id = contracts.chain.chain_id
        self.registry = contracts.deployment.registry
        self.head_block = contracts.chain.block_number()
        members = svc.member_count()
        self.min_cosigners = max(1, min(svc.threshold(), members - 1))
        self._kept_at = self.head_block
        self._member_count: int | None = members
        self._keys: dict[bytes, C.KeyInfo | None] = {}
        self._exchanges: dict[int, Exchange | None] = {}

    def _current(self) -> None:
        """Forget the keys and exchanges kept if the chain has moved on since they were read."""
        head = self.contracts.chain.block_number()
        if head != self._kept_at:
            self._kept_at = head
            self._member_count = None
            self._keys = {}
            self._exchanges = {}

    def key(self, address: bytes) -> C.KeyInfo | None:
        self._current()
        address = bytes(address)
        keys = self._keys
        if address in keys:
            return keys[address]
        try:
            rec = self.svc.key(address)
        except ContractReverted:
            info = None
        else:
            info = None if rec.exchange_id == 0 else C.KeyInfo(rec.exchange_id, rec.valid_from, rec.valid_to)
        if len(keys) >= self.KEPT:
            keys.clear()
        keys[address] = info
        return info

    def _exchange(self, exchange: int) -> Exchange | None:
        self._current()
        kept = self._exchanges
        if exchange not in kept:
            try:
                found: Exchange | None = self.svc.exchange(exchange)
            except (ContractReverted, NotFound):
                found = None
            if len(kept) >= self.KEPT:
                kept.clear()
            kept[exchange] = found
        return kept[exchange]

    def exchange_code(self, exchange: int) -> str | None:
        ex = self._exchange(exchange)
        return None if ex is None else ex.code

    @property
    def member_count(self) -> int:
        self._current()
        if self._member_count is None:
            self._member_count = self.svc.member_count()
        return self._member_count

    def is_member(self, exchange: int) -> bool:
        ex = self._exchange(exchange)
        return ex is not None and ex.status == ExchangeStatus.ACTIVE

    def anchored_root(self, exchange: int, tree_size: int) -> bytes | None:
        root = bytes(self.contracts.call(REGISTRY, "anchoredRoot", exchange, tree_size)[0])
        if root == bytes(32):
            return None
        anchor = self.logs.anchor(exchange, tree_size)
        if anchor is not None and not anchor.consistent:
            return None  # anchored, but not the root of the leaves the chain carries
        return root

    def record_status(self, rid: bytes) -> int:
        try:
            return int(self.svc.record(rid).status)  # type: ignore[arg-type]
        except NotFound:
            pass
        seq = self.store.seq_of(rid)
        return int(Status.NONE) if seq is None else self.store.status_of_seq(seq)

    def record_leaf(self, rid: bytes) -> tuple[int, int, bytes] | None:
        rec = self.store.record(rid)
        if rec is None:
            return None
        return rec.registrar, rec.leaf_index, self.logs.leaf(rec.registrar, rec.leaf_index).leaf_hash

    def record_property(self, rid: bytes) -> C.PropertyNow | None:
        """The record in the register as the synced index has it now (None: the index does not hold it)."""
        view = PropertyQueries(self.store).view(rid, now=0)  # the fields read here do not depend on the time
        if view is None:
            return None
        return C.PropertyNow(view.owner, view.expires_at, view.dispute is not None, view.pledge is not None)


@dataclass(frozen=True)
class Witnessed:
    exchange: int
    tree_size: int
    root: bytes
    tx_hash: bytes | None
    problem: str | None


class Certifier:
    def __init__(self, *, contracts: Contracts, store: IndexStore, follower: Follower, data_dir: Path) -> None:
        self.contracts = contracts
        self.store = store
        self.follower = follower
        self.svc = RegistryService(contracts)
        self.logs = LogQueries(store)
        self.queries = IndexQueries(store)
        self.data_dir = data_dir
        self.public_url = public_url(data_dir)  # status lists and credentialStatus name it: provenance.config

    @property
    def chain_id(self) -> int:
        return self.contracts.chain.chain_id

    @property
    def registry(self) -> Address:
        return Address(self.contracts.deployment.registry)

    # ------------------------------------------------------------------ anchoring

    def anchor_checkpoint(self, signer: LocalAccount) -> Anchor:
        """Anchor the signer's exchange's log as it stands (covers its direct registrations)."""
        exchange = self.svc.active_exchange_of(signer.address)
        self.follower.sync()
        size = self.logs.size(exchange)
        latest = self.logs.latest_anchor(exchange)
        if latest is not None and latest.tree_size == size:
            return latest
        root = self.logs.root(exchange)
        note = eip712.sign_digest(eip712.checkpoint_digest(self.chain_id, self.registry, exchange, size, root),
                                  bytes(signer.key))
        self.contracts.transact(signer, REGISTRY, "anchorCheckpoint", size, root, note)
        self.follower.sync()
        anchor = self.logs.anchor(exchange, size)
        assert anchor is not None
        return anchor

    # ------------------------------------------------------------------ issuing

    def _inclusion(self, rec: IndexedRecord, signer: LocalAccount | None, own: int) -> C.Inclusion:
        anchor = self.logs.covering_anchor(rec.registrar, rec.leaf_index)
        if anchor is None:
            if signer is None or rec.registrar != own:
                raise NotFound(f"record 0x{rec.id.hex()} (leaf {rec.leaf_index} of exchange {rec.registrar}) is not "
                               f"under an anchored checkpoint yet; its exchange must anchor one")
            anchor = self.anchor_checkpoint(signer)
        proof = self.logs.inclusion_proof(rec.registrar, rec.leaf_index, anchor.tree_size)
        cos = tuple(C.Cosignature(c.witness, c.signer, c.signature)
                    for c in self.logs.cosignatures(rec.registrar, anchor.tree_size))
        return C.Inclusion(rec.id, rec.registrar, rec.leaf_index, self.logs.leaf(rec.registrar,
                                                                                 rec.leaf_index).leaf_hash,
                           anchor.tree_size, anchor.root, tuple(proof), anchor.block, anchor.tx_hash,
                           anchor.signature, cos)

    def _cert_record(self, rec: IndexedRecord) -> C.CertRecord:
        """The record as registered: the fields its log leaf covers, whatever transfers and changes did since."""
        rec = as_registered(self.store, rec)
        return C.CertRecord(rec.id, rec.registrar, rec.owner, rec.kind, rec.grade, rec.source, rec.rights,
                            rec.content_hash, rec.metadata_hash, rec.supersedes, rec.parents, rec.status,
                            rec.block_number, rec.batched)

    def _property_state(self, rec: IndexedRecord, at: int) -> C.PropertyState:
        """The register's state of ``rec`` at time ``at`` (the issuing block's): the pledge in force, and the
        assessments in force by assessors still accredited, as the register judges them."""
        q = PropertyQueries(self.store)
        view = q.view(rec.id, now=at)
        assert view is not None  # the record was read from the index
        if view.expired:
            raise InvalidInput(f"record 0x{rec.id.hex()}'s registration expired at {C.iso_time(view.expires_at)}; "
                               f"it is certified again once renewed")
        accredited = set(q.accredited()["assessors"])
        pledge = view.pledge
        encumbrances = () if pledge is None else (
            C.Encumbrance(pledge.pledgee, pledge.amount, pledge.currency, pledge.until),)
        assessments = tuple(
            C.AssessmentStatement(a.kind, a.assessor, a.report_hash, a.valid_until, score=a.score,
                                  standard=a.standard if a.kind != "valuation" else None, passed=a.passed,
                                  amount=a.amount, currency=a.currency, method=a.method,
                                  valuation_date=a.valuation_date)
            for a in view.assessments if a.in_force(at) and a.assessor in accredited)
        return C.PropertyState(view.owner, view.rights, view.metadata_hash, view.expires_at,
                               view.dispute is not None, encumbrances, assessments)

    def issue(self, record_id: bytes, signer: LocalAccount, *, validity: int = DEFAULT_VALIDITY,
              now: int | None = None) -> dict[str, Any]:
        """A signed certificate for one of this exchange's records and its whole lineage."""
        if validity <= 0:
            raise InvalidInput("a certificate's validity must be positive")
        self.follower.sync()
        issuer = self.svc.active_exchange_of(signer.address)
        rec = self.store.record(record_id)
        if rec is None:
            raise NotFound(f"no record 0x{record_id.hex()} in the index")
        if rec.registrar != issuer:
            raise InvalidInput(f"record 0x{record_id.hex()} was registered by exchange {rec.registrar}; only its "
                               f"registrar certifies it")
        if rec.status != Status.ACTIVE:
            raise InvalidInput(f"record 0x{record_id.hex()} is {Status(rec.status).label}: only active records are "
                               f"certified")
        ancestors = self.queries.ancestors(record_id, max_depth=64, max_nodes=C.MAX_LINEAGE)
        if ancestors.truncated:
            raise InvalidInput(f"the lineage of 0x{record_id.hex()} exceeds {C.MAX_LINEAGE} ancestors")
        lineage = [r for r, _depth in ancestors.records if r.id != record_id]
        bad = [r for r in lineage if r.status in (Status.REVOKED, Status.SUSPENDED)]
        if bad:
            raise InvalidInput(f"record 0x{record_id.hex()} derives from {Status(bad[0].status).label} record "
                               f"0x{bad[0].id.hex()}; its lineage cannot be certified")
        evidence = [self._inclusion(rec, signer, issuer)]
        for anc in lineage:
            evidence.append(self._inclusion(anc, signer, issuer))
        ex = self.svc.exchange(issuer)
        now = int(time.time()) if now is None else now
        seq = self.store.seq_of(record_id)
        assert seq is not None  # the record was read from the index above
        issued_block = self.contracts.chain.block_number()
        state = self._property_state(rec, self.contracts.chain.get_block(issued_block).timestamp)
        doc = C.build_unsigned(
            status=status_list.entries(self.public_url, ex.code, seq),
            chain_id=self.chain_id, registry=self.registry,
            issuer=C.Issuer(issuer, ex.code, ex.name, bytes.fromhex(signer.address[2:])),
            record=self._cert_record(rec), lineage=[self._cert_record(a) for a in lineage],
            evidence=evidence, issued_at=now, valid_until=now + validity, issued_block=issued_block,
            property_state=state)
        return C.sign(doc, bytes(signer.key))

    def jose(self, doc: dict[str, Any], signer: LocalAccount) -> str:
        """The certificate as application/vc+jwt, signed with ``signer``: a key of the issuer valid at the block
        the certificate was issued (a key added since cannot vouch for it; the key that signed it can)."""
        issuer = doc.get("issuer", {}).get("exchangeId") if isinstance(doc.get("issuer"), dict) else None
        proofs = doc.get("proof")
        block = proofs[0].get("issuedBlock") if isinstance(proofs, list) and proofs and isinstance(proofs[0], dict) \
            else None
        if type(block) is not int or type(issuer) is not int:
            raise InvalidInput("the certificate names no issuer or issuance block")
        info = self.online_view().key(bytes.fromhex(signer.address[2:]))
        if info is None or info.exchange != issuer or not info.valid_at(block):
            raise Conflict(f"the node's key {signer.address} is not a key of exchange {issuer} valid at the issuance "
                           f"block {block}; sign with the key that was")
        return vc_jose.sign(doc, bytes(signer.key))

    # ------------------------------------------------------------------ verifying

    def online_view(self) -> OnlineView:
        self.follower.sync()
        return OnlineView(contracts=self.contracts, store=self.store, svc=self.svc)

    def verify_online(self, doc: Any, *, now: int | None = None) -> C.Report:
        report = C.verify(doc, self.online_view(), now=int(time.time()) if now is None else now)
        self._keep_evidence(report)
        return report

    def verify_jose(self, token: str | bytes, *, now: int | None = None) -> vc_jose.Verified:
        """A vc+jwt judged against this node's view of the chain (named VerificationErrors otherwise)."""
        return vc_jose.verify(token, self.online_view(), now=int(time.time()) if now is None else now)

    @staticmethod
    def verify_offline(doc: Any, snapshot: Any, trusted: list[bytes], *, now: int | None = None) -> C.Report:
        view = SnapshotView(snapshot, trusted)
        return C.verify(doc, view, now=int(time.time()) if now is None else now)

    def _keep_evidence(self, report: C.Report) -> None:
        for ev in report.equivocations:
            self.record_equivocation({"kind": "signed-root-differs-from-anchored", **ev})

    def record_equivocation(self, evidence: dict[str, Any]) -> None:
        """Keep evidence of an exchange signing two roots for one tree size (append-only, fsynced)."""
        path = self.data_dir / "evidence" / "equivocations.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(json.dumps({"observedAt": int(time.time()), **evidence}, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def equivocations(self) -> list[dict[str, Any]]:
        path = self.data_dir / "evidence" / "equivocations.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # ------------------------------------------------------------------ recognising

    def recognize(self, doc: dict[str, Any], signer: LocalAccount, *, on_chain: bool = True) -> dict[str, Any]:
        """Verify a partner's certificate online, add this exchange's recognition, and record it on-chain.

        A recognition stands only while its key does: this exchange's own recognitions by a key retired since are
        dropped first, so that it recognises the certificate again with a current key."""
        me = self.svc.active_exchange_of(signer.address)
        doc = self._without_stale_recognitions(doc, me)
        report = self.verify_online(doc)
        if not report.valid:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
            raise VerificationError(f"the certificate does not verify, so it is not recognised: {failed}")
        # The proofs verified above, so each recognition names its exchange as an integer.
        if any(p.get("recognizer") == me for p in doc["proof"][1:]):
            raise Conflict(f"exchange {me} already recognised this certificate: a recognition counts once")
        out = C.add_recognition(doc, me, bytes.fromhex(signer.address[2:]), bytes(signer.key), int(time.time()))
        if on_chain:
            issuer = int(doc["issuer"]["exchangeId"])
            rid = bytes.fromhex(doc["credentialSubject"]["record"]["id"][2:])
            assert report.credential_hash is not None
            self.contracts.transact(signer, REGISTRY, "recognizeCertificate", report.credential_hash, rid, issuer)
        return out

    def _without_stale_recognitions(self, doc: dict[str, Any], me: int) -> dict[str, Any]:
        """``doc`` without exchange ``me``'s recognitions whose key is no longer valid (anything else is judged by
        the verification)."""
        proofs = doc.get("proof")
        if not isinstance(proofs, list) or len(proofs) < 2:
            return doc
        view = self.online_view()

        def stale(p: Any) -> bool:
            if not isinstance(p, dict) or p.get("recognizer") != me or not isinstance(p.get("verificationMethod"), str):
                return False
            address = p["verificationMethod"].removesuffix("#blockchainAccountId").rpartition(":")[2]
            try:
                info = view.key(bytes.fromhex(address.removeprefix("0x")))
            except ValueError:
                return False
            return info is not None and info.exchange == me and info.valid_to != 0

        kept = [proofs[0], *(p for p in proofs[1:] if not stale(p))]
        return doc if len(kept) == len(proofs) else {**doc, "proof": kept}

    # ------------------------------------------------------------------ snapshots

    def snapshot(self, signer: LocalAccount, *, anchor: bool = True) -> dict[str, Any]:
        """A signed federation snapshot at the current head; its status list's hash is anchored on-chain."""
        self.follower.sync()
        exchange = self.svc.active_exchange_of(signer.address)
        cp = self.store.checkpoint()
        at_block = cp[0] if cp else 0
        block_hash = cp[1] if cp else bytes(32)
        exchanges = []
        checkpoints = []
        note_keys = NoteKeyService(self.contracts)
        for ex in self.svc.exchanges():
            keys = tuple((bytes(k.address), k.valid_from, k.valid_to) for k in self.svc.keys_of(ex.id))
            try:
                noted = tuple((k.public_key, k.added_at, k.revoked_at) for k in note_keys.of(ex.id))
            except ContractReverted:  # a Federation older than note keys lists none
                noted = ()
            exchanges.append(SnapshotExchange(ex.id, ex.code, ex.name, ex.status.label, keys, noted))
            for a in self.logs.anchors(ex.id, limit=1_000_000):
                if a.consistent:
                    checkpoints.append((ex.id, a.tree_size, a.root, a.block))
        statuses: list[tuple[bytes, int]] = []
        for st in (Status.SUSPENDED, Status.REVOKED, Status.SUPERSEDED):
            after = -1
            while True:
                seqs = self.store.seqs_with(K.BY_STATUS + bytes((int(st),)), after=after, limit=10_000)
                if not seqs:
                    break
                statuses.extend((self.store.id_of(s), int(st)) for s in seqs)
                after = seqs[-1]
        statuses.sort()
        snap = build_snapshot(chain_id=self.chain_id, registry=self.registry, at_block=at_block,
                              block_hash=block_hash, threshold=self.svc.threshold(), exchanges=exchanges,
                              checkpoints=checkpoints, statuses=statuses)
        if anchor:  # at_block is at most the head, so below the block this transaction makes
            self.contracts.transact(signer, REGISTRY, "anchorStatusList", at_block,
                                    bytes.fromhex(snap["statusList"]["hash"][2:]))
            self.follower.sync()
        return sign_snapshot(snap, exchange, bytes(signer.key), bytes.fromhex(signer.address[2:]))

    # ------------------------------------------------------------------ status lists

    def status_list(self, ref: int | str, purpose: str) -> dict[str, Any]:
        """An exchange's Bitstring Status List credential for ``purpose``, as the synced index stands: bit ``seq``
        set for each of its records the purpose lists (:data:`LISTED`). Deterministic for a given block."""
        if purpose not in LISTED:
            raise NotFound(f"no status list for {purpose!r}; the purposes are {sorted(LISTED)}")
        self.follower.sync()
        ex = self.svc.exchange(ref)
        cp = self.store.checkpoint()
        at_block = cp[0] if cp else 0
        records = int.from_bytes(self.store.get_meta("records") or b"", "big")
        indexes: list[int] = []
        for st in LISTED[purpose]:
            after = -1
            while seqs := self.store.seqs_with(K.BY_STATUS + bytes((int(st),)), after=after, limit=10_000):
                indexes.extend(s for s in seqs if self.store.record_by_seq(s).registrar == ex.id)
                after = seqs[-1]
        issuer = {"id": f"urn:provenance:exchange:{self.chain_id}:{hex0x(self.registry)}:{ex.id}",
                  "exchangeId": ex.id, "code": ex.code, "name": ex.name}
        return status_list.build_credential(
            url=status_list.list_url(self.public_url, ex.code, purpose), issuer=issuer, chain_id=self.chain_id,
            registry=self.registry, at_block=at_block, purpose=purpose, indexes=sorted(indexes),
            length=status_list.list_bits(records))

    def anchor_status_lists(self, signer: LocalAccount) -> list[dict[str, Any]]:
        """Anchor the hash of each of the signer's exchange's status lists on-chain (``anchorStatusList``, the
        event snapshots' status lists use too) and keep the anchored documents; what was anchored, by purpose."""
        exchange = self.svc.active_exchange_of(signer.address)
        out = []
        for purpose in LISTED:
            doc = self.status_list(exchange, purpose)
            digest = status_list.list_hash(doc)
            at_block = doc["credentialSubject"]["atBlock"]
            tx = self.contracts.transact(signer, REGISTRY, "anchorStatusList", at_block, digest)
            self._keep_status_list(exchange, purpose, at_block, doc)
            out.append({"purpose": purpose, "atBlock": at_block, "listHash": hex0x(digest),
                        "transaction": hex0x(tx.receipt.tx_hash), "url": doc["id"]})
        self.follower.sync()
        return out

    def anchored_status_list(self, doc: dict[str, Any]) -> int | None:
        """The block whose ``StatusListAnchored`` event carries this list's hash (by its exchange), or None."""
        digest = status_list.list_hash(doc)
        at_block = doc["credentialSubject"]["atBlock"]
        for block, taken_at, anchored in self.logs.status_lists(int(doc["issuer"]["exchangeId"])):
            if anchored == digest and taken_at == at_block:
                return block
        return None

    def current_status_list(self, ref: int | str, purpose: str) -> tuple[dict[str, Any], int | None]:
        """The list to serve, and the block that anchored its hash (None if not anchored): the last anchored list
        while the statuses it carries are still the index's (a newer block alone changes nothing a verifier
        reads, and its hash stays checkable on-chain); otherwise the list as the index stands now."""
        fresh = self.status_list(ref, purpose)
        exchange = int(fresh["issuer"]["exchangeId"])
        kept = sorted(self.data_dir.glob(f"status-lists/{exchange}-{purpose}-*.json"),
                      key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if kept:
            doc = json.loads(kept[-1].read_text("utf-8"))
            if doc["credentialSubject"]["encodedList"] == fresh["credentialSubject"]["encodedList"] \
                    and doc["id"] == fresh["id"]:
                block = self.anchored_status_list(doc)
                if block is not None:
                    return doc, block
        return fresh, self.anchored_status_list(fresh)

    def _keep_status_list(self, exchange: int, purpose: str, at_block: int, doc: dict[str, Any]) -> None:
        folder = self.data_dir / "status-lists"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{exchange}-{purpose}-{at_block}.tmp"
        tmp.write_text(json.dumps(doc, sort_keys=True) + "\n", "utf-8")
        os.replace(tmp, folder / f"{exchange}-{purpose}-{at_block}.json")

    # ------------------------------------------------------------------ witnessing

    def _witness_state_path(self) -> Path:
        return self.data_dir / "witness.json"

    def _witness_state(self) -> dict[str, dict[str, list[Any]]]:
        path = self._witness_state_path()
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_witness_state(self, state: dict[str, dict[str, list[Any]]]) -> None:
        path = self._witness_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True))
        os.replace(tmp, path)

    def witness(self, signer: LocalAccount) -> list[Witnessed]:
        """Cosign every partner's latest anchored checkpoint that is consistent with the last one cosigned here.

        Consistency is checked with an RFC 9162 consistency proof built from this node's index, between the
        checkpoint this node cosigned last (kept outside the index, so a rebuilt or forked index cannot move it)
        and the new one. A checkpoint that fails is not cosigned; the evidence is kept.
        """
        self.follower.sync()
        me = self.svc.active_exchange_of(signer.address)
        all_state = self._witness_state()
        state = all_state.setdefault(str(me), {})  # per witnessing exchange: a node may hold several keys
        out = []
        for ex in self.svc.exchanges():
            if ex.id == me or ex.status.label != "active":
                continue
            latest = self.logs.latest_anchor(ex.id)
            if latest is None:
                continue
            last_size, last_root = state.get(str(ex.id), [0, merkle.EMPTY_ROOT.hex()])
            if latest.tree_size <= last_size:
                continue
            problem = None
            if not latest.consistent:
                problem = f"anchored root {hex0x(latest.root)} is not the root of the leaves on-chain"
            else:
                try:
                    proof = self.logs.consistency_proof(ex.id, last_size, latest.tree_size)
                    merkle.verify_consistency(last_size, latest.tree_size, bytes.fromhex(last_root), latest.root,
                                              proof)
                except (merkle.MerkleError, NotFound) as exc:
                    problem = f"not consistent with the checkpoint cosigned before (size {last_size}): {exc}"
            if problem is not None:
                self.record_equivocation({"kind": "inconsistent-checkpoint", "exchange": ex.id,
                                          "treeSize": latest.tree_size, "anchoredRoot": hex0x(latest.root),
                                          "previousSize": last_size, "previousRoot": "0x" + last_root,
                                          "detail": problem})
                out.append(Witnessed(ex.id, latest.tree_size, latest.root, None, problem))
                continue
            sig = eip712.sign_digest(eip712.checkpoint_digest(self.chain_id, self.registry, ex.id,
                                                              latest.tree_size, latest.root), bytes(signer.key))
            tx = self.contracts.transact(signer, REGISTRY, "cosignCheckpoint", ex.id, latest.tree_size,
                                         latest.root, sig)
            state[str(ex.id)] = [latest.tree_size, latest.root.hex()]
            self._save_witness_state(all_state)
            out.append(Witnessed(ex.id, latest.tree_size, latest.root, tx.receipt.tx_hash, None))
        self.follower.sync()
        return out

    def trusted_keys(self, exchange: int) -> list[bytes]:
        """The keys (current and past) of an exchange: whom an offline verifier trusts for snapshots."""
        return [bytes(k.address) for k in self.svc.keys_of(exchange)]


def checksum(address: bytes) -> str:
    return to_checksum_address(address)


__all__ = ["Certifier", "OnlineView", "Witnessed", "FEDERATION"]
