"""Cross-border flow operations as typed results (services/results/flows.py): what the CLI and the HTTP API call.

``FlowOperations`` shares the node's lock with :class:`~provenance.services.operations.Operations`. Writes return
the state read back from the index after a sync, so the caller sees what every other node will see.

Off-chain material stays under the data directory, written whole or not at all:

* ``flows/manifests/<hash>.json``: manifests of deliveries recorded through this node (the exporter's side keeps
  them to answer spot checks);
* ``flows/checks/<id>/answers.json`` and ``report.json``: on the supervisor's side, the exporter's answers to a
  spot check and the report whose hash was anchored.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from provenance.chain.cross_border import FlowService, SignedApproval
from provenance.core import flows as F
from provenance.core import ijson
from provenance.core.canonical import MalformedDocument
from provenance.core.ids import hex0x, parse_address, parse_hash32
from provenance.errors import ChainError, Conflict, Forbidden, InvalidInput, NotFound, VerificationError
from provenance.indexer.flows import FlowQueries
from provenance.services.requests import held_key, parse_signature
from provenance.services.results.flows import (
    AnswerOut,
    AnswersTakenOut,
    ApplicationOut,
    ApprovalTypedDataOut,
    CatalogueEntryOut,
    CatalogueSetOut,
    ConcludedOut,
    DeliveriesOut,
    DeliveryOut,
    FlowProposalOut,
    PublicApplicationOut,
    ReportCheckOut,
    SignedApprovalOut,
    SpotCheckOut,
    SpotCheckStateOut,
    SupervisorOut,
)
from provenance.types import Status, is_decimal

if TYPE_CHECKING:
    from provenance.services.operations import Operations

MAX_BATCH = 200
# What anyone sees of an application for an important-grade record; the rest (exporter, receiver, destination,
# category, purpose, assessment) needs a member credential, like the record itself.
PUBLIC_APPLICATION_FIELDS = ("id", "recordId", "grade", "status", "filedBlock", "decidedBlock", "decidedBy", "signed",
                             "expiresAt", "volumeLimit", "delivered", "deliveries", "expired", "volumeLeft", "open")


def redact_application(app: ApplicationOut, *, full: bool = False) -> ApplicationOut | PublicApplicationOut:
    """An application read as its caller may see it: in full (``redacted: false``) for a caller who may see its
    record (``full``) and for anyone where the record is general-grade; else its public fields (``redacted: true``)."""
    if full or app.grade == 0:
        return app.model_copy(update={"redacted": False})
    doc = app.document()
    return PublicApplicationOut.model_validate({**{k: doc[k] for k in PUBLIC_APPLICATION_FIELDS}, "redacted": True})


def _atomic_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _int(value: Any, what: str, *, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise InvalidInput(f"{what} must be an integer from {lo} to {hi}")
    return value


class FlowOperations:
    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.node = ops.node
        self.lock = ops.lock
        self.svc = FlowService(ops.node.contracts)
        self.queries = FlowQueries(ops.node.index)
        self.root = self.node.config.data_dir / "flows"

    def _signer(self, signer: LocalAccount | None) -> LocalAccount:
        return signer or self.ops.signer()

    def _sync(self) -> None:
        self.ops.follower.sync()

    # ------------------------------------------------------------------ supervisors and catalogue

    def supervisors(self) -> list[SupervisorOut]:
        return [SupervisorOut.model_validate(s) for s in self.queries.supervisors()]

    def propose_supervisor(self, code: str, name: str, key: str, signer: LocalAccount | None = None, *,
                           key_signature: str | None = None) -> FlowProposalOut:
        """Propose a supervisor whose key consents with its own signature (``key_signature``, or made here where
        this node's keystore holds the key)."""
        address = parse_address(key, "key")
        if not name.strip():
            raise InvalidInput("name must not be empty")
        named: LocalAccount | bytes = address
        if key_signature is None:
            held = held_key(self.ops.node, address)
            if held is None:
                raise InvalidInput("the supervisor's key must consent: send keySignature, its EIP-712 MemberKey "
                                   "signature (role 1, this code and name)")
            named = held
        signature = None if key_signature is None else parse_signature(key_signature)
        with self.lock:
            out = self.ops.svc.propose_add_supervisor(self._signer(signer), code, name.strip(), named, signature)
            self._sync()
        return FlowProposalOut(proposal=out.proposal_id, approvals=out.approvals, executed=out.executed,
                               tx=hex0x(out.tx_hash))

    def propose_remove_supervisor(self, ref: str, signer: LocalAccount | None = None) -> FlowProposalOut:
        with self.lock:
            out = self.ops.svc.propose_remove_supervisor(self._signer(signer), int(ref) if is_decimal(ref) else ref)
            self._sync()
        return FlowProposalOut(proposal=out.proposal_id, approvals=out.approvals, executed=out.executed,
                               tx=hex0x(out.tx_hash))

    def catalogue(self) -> list[CatalogueEntryOut]:
        return [CatalogueEntryOut.model_validate(e) for e in self.queries.catalogue()]

    def set_catalogue(self, category: str, destination: str, max_validity: int, max_volume: int = 0,
                      signer: LocalAccount | None = None) -> CatalogueSetOut:
        _int(max_validity, "maxValidity")
        _int(max_volume, "maxVolume")
        if max_validity == 0 and max_volume != 0:
            raise InvalidInput("a delisting (maxValidity 0) carries no maxVolume")
        with self.lock:
            tx = self.svc.set_catalogue(self._signer(signer), category, destination, max_validity, max_volume)
            self._sync()
        entry = [e for e in self.catalogue() if (e.category, e.destination) == (category, destination)]
        return CatalogueSetOut(category=category, destination=destination, listed=bool(entry),
                               entry=entry[0] if entry else None, tx=hex0x(tx))

    # ------------------------------------------------------------------ applications

    def application(self, app_id: int, *, now: int | None = None) -> ApplicationOut:
        return self._app_doc(self.queries.application(app_id), now)

    def _app_doc(self, app: dict[str, Any], now: int | None) -> ApplicationOut:
        """An application with what is left of its approval: whether deliveries may be recorded under it now."""
        t = int(time.time()) if now is None else now
        expired = bool(app["expiresAt"]) and t > app["expiresAt"]
        left = None if not app["volumeLimit"] else app["volumeLimit"] - app["delivered"]
        # Deliveries are recorded only under an approved application of an active record (RecordNotActive)
        rec = self.ops.node.index.record(parse_hash32(app["recordId"], "recordId"))
        active = rec is not None and rec.status == Status.ACTIVE
        open_ = app["status"] == "approved" and not expired and (left is None or left > 0) and active
        return ApplicationOut.model_validate({**app, "expired": expired, "volumeLeft": left, "open": open_})

    def applications(self, *, exporter: int | None = None, record: str | None = None, status: str | None = None,
                     after: int = 0, limit: int = 100) -> list[ApplicationOut]:
        if status is not None and status not in F.APPLICATION_STATUS[1:]:
            raise InvalidInput(f"status must be one of {', '.join(F.APPLICATION_STATUS[1:])}")
        rid = parse_hash32(record, "record") if record else None
        now = int(time.time())
        return [self._app_doc(a, now) for a in
                self.queries.applications(exporter=exporter, record=rid, status=status, after=after, limit=limit)]

    def queue(self, *, after: int = 0, limit: int = 100) -> list[ApplicationOut]:
        """The supervisors' queue: applications waiting for a decision, oldest first."""
        return self.applications(status="pending", after=after, limit=limit)

    def file(self, body: Mapping[str, Any], signer: LocalAccount | None = None) -> ApplicationOut:
        rid = parse_hash32(str(body.get("recordId", "")), "recordId")
        exporter = _int(body.get("exporter"), "exporter", lo=1, hi=2**32 - 1)
        receiver = _int(body.get("receiver"), "receiver", lo=1, hi=2**32 - 1)
        destination = str(body.get("destination", ""))
        category = str(body.get("category", ""))
        purpose = body.get("purpose")
        if not isinstance(purpose, str):
            raise InvalidInput("purpose must be text")
        F.jurisdiction_code(destination)
        F.category_code(category)
        F.check_purpose(purpose)
        ref = body.get("assessmentRef")
        assessment: bytes | None = None
        if ref:
            # A reference number as text is hashed; a 32-byte hex value is taken as the hash itself.
            try:
                assessment = bytes(parse_hash32(str(ref), "assessmentRef"))
            except InvalidInput:
                assessment = F.assessment_hash(str(ref))
        with self.lock:
            app_id, _status, tx = self.svc.file(self._signer(signer), record_id=rid, exporter=exporter,
                                                receiver=receiver, destination=destination, category=category,
                                                purpose=purpose, assessment_ref=assessment)
            self._sync()
        return self._written(app_id, tx)

    def approve(self, app_id: int, *, expires_at: int = 0, volume_limit: int = 0,
                signer: LocalAccount | None = None) -> ApplicationOut:
        with self.lock:
            tx = self.svc.approve(self._signer(signer), app_id, expires_at=_int(expires_at, "expiresAt"),
                                  volume_limit=_int(volume_limit, "volumeLimit"))
            self._sync()
        return self._written(app_id, tx)

    def approval_typed_data(self, app_id: int, *, expires_at: int, volume_limit: int,
                            deadline: int) -> ApprovalTypedDataOut:
        """What a supervisor signs (EIP-712) to approve an application on these terms, for relaying by anyone: the
        ``eth_signTypedData_v4`` document its wallet signs, and the digest that document hashes to."""
        terms = (app_id, _int(expires_at, "expiresAt"), _int(volume_limit, "volumeLimit"), _int(deadline, "deadline"))
        with self.lock:
            digest = self.svc.approval_digest(*terms)
            typed = self.svc.approval_typed_data(*terms)
        return ApprovalTypedDataOut(digest=hex0x(digest), typedData=typed)

    def sign_approval(self, app_id: int, *, expires_at: int, volume_limit: int, deadline: int,
                      signer: LocalAccount | None = None) -> SignedApprovalOut:
        with self.lock:
            signed = self.svc.sign_approval(self._signer(signer), app_id, expires_at=expires_at,
                                            volume_limit=volume_limit, deadline=deadline)
            typed = self.svc.approval_typed_data(app_id, signed.expires_at, signed.volume_limit, signed.deadline)
        # The document beside the signature lets any EIP-712 tool check what was signed; relaying ignores it.
        return SignedApprovalOut.model_validate({**signed.to_json(), "typedData": typed})

    def approve_signed(self, app_id: int, body: Mapping[str, Any],
                       signer: LocalAccount | None = None) -> ApplicationOut:
        try:
            signature = bytes.fromhex(str(body.get("signature", "")).removeprefix("0x"))
        except ValueError:
            raise InvalidInput("signature must be hex") from None
        if len(signature) != 65:
            raise InvalidInput("signature must be 65 bytes (r, s, v)")
        signed = SignedApproval(app_id, _int(body.get("expiresAt", 0), "expiresAt"),
                                _int(body.get("volumeLimit", 0), "volumeLimit"),
                                _int(body.get("deadline"), "deadline"), signature)
        with self.lock:
            tx = self.svc.approve_signed(self._signer(signer), signed)
            self._sync()
        return self._written(app_id, tx)

    def reject(self, app_id: int, reason: str, signer: LocalAccount | None = None) -> ApplicationOut:
        with self.lock:
            tx = self.svc.reject(self._signer(signer), app_id, reason)
            self._sync()
        return self._written(app_id, tx)

    def revoke(self, app_id: int, reason: str, signer: LocalAccount | None = None) -> ApplicationOut:
        with self.lock:
            tx = self.svc.revoke(self._signer(signer), app_id, reason)
            self._sync()
        return self._written(app_id, tx)

    def _written(self, app_id: int, tx: bytes) -> ApplicationOut:
        """A decision's or filing's answer: the application read back, with the transaction that made it."""
        return self.application(app_id).model_copy(update={"tx": hex0x(tx)})

    # ------------------------------------------------------------------ evidence

    def _delivery_item(self, item: Any, where: str) -> tuple[int, bytes, int, dict[str, Any] | None]:
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{where}: expected an object")
        app_id = _int(item.get("application"), f"{where}.application", lo=1)
        if item.get("manifest") is not None:
            try:
                m = F.parse_manifest(item["manifest"])
            except MalformedDocument as exc:
                raise InvalidInput(f"{where}: {exc.message}") from None
            return app_id, m.hash, m.size, m.document
        manifest_hash = parse_hash32(str(item.get("manifestHash", "")), f"{where}.manifestHash")
        return app_id, manifest_hash, _int(item.get("size"), f"{where}.size", lo=1), None

    def deliver(self, items: list[Any], signer: LocalAccount | None = None) -> DeliveriesOut:
        """Record deliveries: each a manifest document (kept here to answer spot checks) or its hash and size.

        One item is one ``recordDelivery``; several go in one ``recordDeliveries`` transaction, all or none.
        """
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
            raise InvalidInput(f"deliveries: give 1 to {MAX_BATCH} items")
        parsed = [self._delivery_item(x, f"deliveries[{i}]") for i, x in enumerate(items)]
        # Keep the manifests before the chain records them: a delivery on record whose manifest the exporter lost
        # would fail its spot check. A manifest kept for a refused delivery is harmless (content-addressed).
        for _app, h, _size, doc in parsed:
            if doc is not None:
                _atomic_json(self.root / "manifests" / f"{hex0x(h)}.json", doc)
        with self.lock:
            if len(parsed) == 1:
                app_id, h, size, _ = parsed[0]
                did, tx = self.svc.deliver(self._signer(signer), app_id, h, size)
                ids = [did]
            else:
                ids, tx = self.svc.deliver_batch(self._signer(signer), [(a, h, s) for a, h, s, _ in parsed])
            self._sync()
        return DeliveriesOut(deliveries=[self.delivery(i) for i in ids], tx=hex0x(tx))

    def delivery(self, delivery_id: int) -> DeliveryOut:
        return DeliveryOut.model_validate(self.queries.delivery(delivery_id))

    def deliveries(self, *, application: int | None = None, exporter: int | None = None, after: int = 0,
                   limit: int = 100) -> list[DeliveryOut]:
        return [DeliveryOut.model_validate(d) for d in
                self.queries.deliveries(application=application, exporter=exporter, after=after, limit=limit)]

    def manifest(self, manifest_hash: bytes) -> dict[str, Any]:
        path = self.root / "manifests" / f"{hex0x(manifest_hash)}.json"
        try:
            doc: dict[str, Any] = ijson.loads(path.read_bytes(), what=f"the kept manifest {path.name}")
        except FileNotFoundError:
            raise NotFound(f"this node keeps no manifest {hex0x(manifest_hash)}") from None
        return doc

    # ------------------------------------------------------------------ spot checks

    def spot_checks(self, *, after: int = 0, limit: int = 100) -> list[SpotCheckStateOut]:
        return [SpotCheckStateOut.model_validate(c) for c in self.queries.spot_checks(after=after, limit=limit)]

    def spot_check(self, check_id: int) -> SpotCheckOut:
        check = self.queries.spot_check(check_id)
        out = {**check, "deliveries": [self.queries.delivery(i) for i in check["sample"]]}
        report = self.root / "checks" / str(check_id) / "report.json"
        out["reportKept"] = report.exists()
        answers = self.root / "checks" / str(check_id) / "answers.json"
        kept = ijson.loads(answers.read_bytes(), what="the kept answers") if answers.exists() else {}
        out["answered"] = sorted(int(k) for k in kept)
        return SpotCheckOut.model_validate(out)

    def announce(self, exporter: int, sample_size: int, signer: LocalAccount | None = None) -> SpotCheckOut:
        _int(exporter, "exporter", lo=1, hi=2**32 - 1)
        _int(sample_size, "sampleSize", lo=1, hi=F.MAX_SAMPLE)
        with self.lock:
            check_id, _seed_block = self.svc.announce(self._signer(signer), exporter, sample_size)
            self._sync()
        return self.spot_check(check_id)

    def draw(self, check_id: int, signer: LocalAccount | None = None) -> SpotCheckOut:
        """Draw an announced check's sample. On the embedded chain (no other block producer) an empty block is
        mined to pass the seed block; on a JSON-RPC chain the seed block must have been mined (409 until then)."""
        check = self.queries.spot_check(check_id)
        if check["state"] != "announced":
            raise Conflict(f"spot check {check_id} is {check['state']}, not announced")
        with self.lock:
            chain = self.node.chain
            head = chain.block_number()
            if head < check["seedBlock"]:  # the draw's own block must come after the seed block
                mine = getattr(chain, "mine", None)
                if mine is None:
                    raise Conflict(f"the seed block {check['seedBlock']} of spot check {check_id} is not mined yet "
                                   f"(head {head}); draw after it")
                mine(check["seedBlock"] - head)
            self.svc.draw(self._signer(signer), check_id)
            self._sync()
        return self.spot_check(check_id)

    def answer(self, check_id: int) -> AnswerOut:
        """The exporter's side: the kept manifests of the sampled deliveries, as answers for the supervisor."""
        check = self.queries.spot_check(check_id)
        if check["state"] != "drawn":
            raise Conflict(f"spot check {check_id} is {check['state']}: there is no drawn sample to answer")
        answers: dict[str, Any] = {}
        missing = []
        for d_id in check["sample"]:
            d = self.queries.delivery(d_id)
            try:
                answers[str(d_id)] = self.manifest(parse_hash32(d["manifestHash"]))
            except NotFound:
                missing.append(d_id)
        return AnswerOut(check=check_id, answers=answers, missing=missing)

    def submit_answers(self, check_id: int, answers: Any, *, by_exchange: int | None = None,
                       by: str = "operator") -> AnswersTakenOut:
        """The supervisor's side: take the exporter's manifests for sampled deliveries (kept; later ones win).

        ``by_exchange``: the exchange handing them in, which must hold the exporter's mandate (None: this node's
        own operator). Every submission is appended to ``answers-log.jsonl`` with who handed it in.
        """
        check = self.queries.spot_check(check_id)
        if by_exchange is not None:
            with self.lock:
                if not self.ops.svc.has_mandate(check["exporter"], by_exchange):
                    raise Forbidden(f"exchange {by_exchange} holds no mandate of exporter {check['exporter']}: only "
                                    f"the exporter's exchanges answer for it")
        if check["state"] != "drawn":
            raise Conflict(f"spot check {check_id} is {check['state']}: answers are taken while it is drawn")
        if not isinstance(answers, Mapping) or not answers:
            raise InvalidInput("answers: an object of delivery id -> manifest")
        sample = set(check["sample"])
        for k, v in answers.items():
            if not is_decimal(str(k)) or int(k) not in sample:
                raise InvalidInput(f"answers: delivery {k} is not in spot check {check_id}'s sample")
            if not isinstance(v, Mapping):
                raise InvalidInput(f"answers[{k}]: a manifest is a JSON object")
        path = self.root / "checks" / str(check_id) / "answers.json"
        kept: dict[str, Any] = ijson.loads(path.read_bytes(), what="the kept answers") if path.exists() else {}
        kept.update({str(int(k)): v for k, v in answers.items()})
        _atomic_json(path, kept)
        with (path.parent / "answers-log.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps({"at": int(time.time()), "by": by, "exchange": by_exchange,
                                  "deliveries": sorted(int(k) for k in answers)}) + "\n")
        return AnswersTakenOut(check=check_id, answered=sorted(int(k) for k in kept),
                               outstanding=sorted(sample - {int(k) for k in kept}))

    def conclude(self, check_id: int, signer: LocalAccount | None = None) -> ConcludedOut:
        """Judge each sampled delivery against its answer, anchor the report's hash, keep the report."""
        check = self.queries.spot_check(check_id)
        if check["state"] != "drawn":
            raise Conflict(f"spot check {check_id} is {check['state']}, not drawn")
        path = self.root / "checks" / str(check_id) / "answers.json"
        kept: dict[str, Any] = ijson.loads(path.read_bytes(), what="the kept answers") if path.exists() else {}
        sample = []
        for d_id in check["sample"]:
            d = self.queries.delivery(d_id)
            sample.append(F.RecordedDelivery(d_id, d["application"], parse_hash32(d["manifestHash"]), d["size"]))
        report = F.build_report(chain_id=self.node.chain.chain_id, contract=self.svc.address, check_id=check_id,
                                exporter=check["exporter"], seed=parse_hash32(check["seed"]),
                                population=check["population"], sample_size=check["sampleSize"], sample=sample,
                                answers={int(k): v for k, v in kept.items()})
        problems = F.verify_report(report, exporter_deliveries=self.queries.delivery_ids_of(check["exporter"]))
        if problems:  # the node's own index disagrees with the chain's draw: refuse to anchor anything
            raise VerificationError(f"spot check {check_id}: the report does not hold: {'; '.join(problems)}")
        _atomic_json(self.root / "checks" / str(check_id) / "report.json", report)
        with self.lock:
            tx = self.svc.conclude(self._signer(signer), check_id, report["sample"], F.report_hash(report),
                                   report["passed"], report["failed"])
            self._sync()
        return ConcludedOut(check=self.spot_check(check_id), report=report, tx=hex0x(tx))

    def report(self, check_id: int) -> dict[str, Any]:
        path = self.root / "checks" / str(check_id) / "report.json"
        try:
            doc: dict[str, Any] = ijson.loads(path.read_bytes(), what="the kept report")
        except FileNotFoundError:
            raise NotFound(f"this node keeps no report of spot check {check_id}") from None
        return doc

    def verify_report(self, report: Any) -> ReportCheckOut:
        """Check a spot-check report against the chain as this node indexed it: the seed block's hash, the draw,
        the exporter's deliveries at the drawn positions, the recorded manifest hashes and the anchored hash."""
        problems: list[str] = []
        try:
            check_id = _int(report.get("check") if isinstance(report, Mapping) else None, "report.check", lo=1)
            check = self.queries.spot_check(check_id)
        except (InvalidInput, NotFound) as exc:
            return ReportCheckOut(valid=False, problems=[exc.message])
        if report.get("chainId") != self.node.chain.chain_id or report.get("contract") != hex0x(self.svc.address):
            problems.append("the report is bound to another chain or contract than this node's")
        block_hash = None
        try:
            block_hash = self.node.chain.get_block(check["seedBlock"]).hash
        except ChainError:
            problems.append("the seed block cannot be read from the chain")
        problems += F.verify_report(report, exporter_deliveries=self.queries.delivery_ids_of(check["exporter"]),
                                    seed_block_hash=block_hash)
        if check["seed"] is not None and report.get("seed") != check["seed"]:
            problems.append("the seed differs from the one drawn on-chain")
        if report.get("sample") != check["sample"]:
            problems.append("the sample differs from the one drawn on-chain")
        for o in report.get("outcomes", []) if isinstance(report.get("outcomes"), list) else []:
            try:
                d = self.queries.delivery(int(o["delivery"]))
            except (NotFound, KeyError, TypeError, ValueError):
                problems.append(f"outcome for an unknown delivery: {o!r:.80}")
                continue
            if o.get("recordedManifestHash") != d["manifestHash"] or o.get("recordedSize") != d["size"]:
                problems.append(f"delivery {d['id']}: the report's recorded hash or size is not the chain's")
        anchored = check.get("reportHash")
        if anchored is None:
            problems.append("no report of this check was anchored yet")
        elif anchored != hex0x(F.report_hash(report)):
            problems.append("the report's hash is not the one anchored on-chain")
        return ReportCheckOut(valid=not problems, problems=problems, check=check_id)


def parse_reason(body: Mapping[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not 0 < len(reason.encode()) <= 32:
        raise InvalidInput("reason: 1 to 32 bytes of text")
    return reason


__all__ = ["FlowOperations", "parse_reason", "redact_application"]
