"""The data property register as a node serves it: transfer (转让), change (变更), renewal (续展), cancellation (注销),
pledge (质押), assessment (评估), listing, dispute (争议) and arbitration (仲裁) of registered records.

``PropertyOperations`` takes what the people who use it think in (record and entity ids, decimal amounts, ISO 4217
currencies, ISO 8601 dates, names for codes: provenance.services.property_values reads them) and turns it into the
contract's values. An assessment is named by its order within the record (1, 2, ...) or by its 0x id, the name
the contract knows it by; answers give both. Every party consents by its mandate
to this node's exchange unless a signature is given (the EIP-712 ``PropertyConsent`` of :meth:`consent_typed_data`,
signed by the party's account), or this node's keystore holds the party's account key and ``sign`` names the
party, as the demo does.

Each write runs under the node's chain lock, then syncs the index and answers the record's property state read
back from it: what every other node will see. Who sees what the caller decides, as for records (redact_property).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from provenance.chain import property as C
from provenance.chain.property import AssessmentInput, Consent, PledgeTerms, PropertyService
from provenance.core.ids import hex0x, parse_hash32
from provenance.errors import Conflict, ContractReverted, InvalidInput, NotFound
from provenance.indexer.property_queries import Assessment, Dispute, Pledge, PropertyQueries, PropertyView
from provenance.services.property_values import (
    ACTIONS,
    CANCEL_REASONS,
    assessment_ref,
    entity_id,
    iso,
    major_amount,
    named,
    parse_consent,
    parse_terms,
)
from provenance.services.requests import held_key
from provenance.services.results.property import (
    AssessmentOut,
    AssessmentRefOut,
    ChangeOut,
    ConsentTypedDataOut,
    DisputeOut,
    EncumbranceOut,
    EncumbrancesOut,
    OwnerChangeOut,
    PledgeOut,
    PropertyOut,
    PublicPropertyOut,
)
from provenance.types import Rights

if TYPE_CHECKING:
    from provenance.services.operations import Operations

# Who consents to each action, in the order the contract takes (and numbers the nonces of) their consents.
PARTIES: Mapping[str, tuple[str, ...]] = {
    "transfer": ("holder", "receiver", "pledgee"), "change": ("holder",), "renew": ("holder",),
    "cancel": ("pledgee",), "pledge": ("holder", "pledgee"), "release": ("pledgee",), "enforce": ("pledgee",),
    "assess": ("assessor",), "withdraw": ("assessor",), "dispute": ("claimant",), "rule": ("arbitrator",),
}

# ---------------------------------------------------------------------- documents


def _assessment_json(a: Assessment, now: int) -> AssessmentOut:
    common: dict[str, Any] = {"index": a.index, "id": hex0x(a.id), "assessor": a.assessor, "kind": a.kind,
                              "standard": hex0x(a.standard), "validUntil": iso(a.valid_until),
                              "reportHash": hex0x(a.report_hash), "block": a.block, "withdrawn": a.withdrawn,
                              "inForce": not a.withdrawn and (a.valid_until == 0 or a.valid_until > now)}
    if a.kind == "quality":
        return AssessmentOut(**common, score=a.score)
    if a.kind == "compliance":
        return AssessmentOut(**common, passed=a.passed)
    currency = a.currency or ""
    return AssessmentOut(**common, method=a.method, currency=currency, valuationDate=iso(a.valuation_date),
                         amount=None if a.amount is None else major_amount(a.amount, currency))


def _pledge_fields(p: Pledge, now: int) -> dict[str, Any]:
    return {"seq": p.seq, "pledgee": p.pledgee, "amount": major_amount(p.amount, p.currency), "currency": p.currency,
            "until": iso(p.until), "due": p.until <= now, "reference": hex0x(p.reference), "block": p.block,
            "ended": p.ended, "endedBlock": p.ended_block}


def _pledge_json(p: Pledge, now: int) -> PledgeOut:
    return PledgeOut(**_pledge_fields(p, now))


def _dispute_json(d: Dispute) -> DisputeOut:
    return DisputeOut(seq=d.seq, claimant=d.claimant, claimHash=hex0x(d.claim_hash), block=d.block,
                      outcome=d.outcome, arbitrator=d.arbitrator, newOwner=d.new_owner,
                      rulingHash=None if d.ruling_hash is None else hex0x(d.ruling_hash), executed=d.executed)


def property_json(view: PropertyView, now: int) -> PropertyOut:
    assessments = [_assessment_json(a, now) for a in view.assessments]
    pledge = None
    if view.pledge is not None:
        # What a pledge's record shows beside the secured amount: the latest valuation in force by an assessor
        # still accredited.
        valuation = None if view.valuation is None else _assessment_json(view.valuation, now)
        pledge = PledgeOut(**_pledge_fields(view.pledge, now), valuation=valuation)
    dispute = None if view.dispute is None else _dispute_json(view.dispute)
    reason = view.cancelled_reason
    return PropertyOut(
        record=hex0x(view.record), owner=view.owner, originalOwner=view.original_owner,
        expiresAt=iso(view.expires_at), expired=view.expired, renewals=view.renewals, listed=view.listed,
        pledged=view.pledge is not None, disputed=view.dispute is not None and not view.dispute.executed,
        pledge=pledge, dispute=dispute, assessments=assessments, transfers=view.transfers, changes=view.changes,
        cancelled=None if reason is None else (CANCEL_REASONS[reason - 1] if 1 <= reason <= 8 else str(reason)),
        redacted=False)


# What anyone sees of a record's property: the states the issue wants shown everywhere ("under dispute", pledged,
# expired), never who holds, pledged or claims it, amounts or reports; those follow the record's own redaction.
PUBLIC_PROPERTY = tuple(name for name in PublicPropertyOut.model_fields if name not in ("redacted", "pledge"))


def redact_property(doc: PropertyOut, *, reveal: bool, sees_pledge: bool) -> PropertyOut | PublicPropertyOut:
    """The property document for a caller: ``reveal`` as for the record itself (members, the owner), else the
    public states only; the pledge in force only where ``sees_pledge`` (an encumbrance is open to members and its
    parties, whatever the record's grade: the caller decides who they are)."""
    pledge: dict[str, Any] = {} if doc.pledge is None else {"pledge": doc.pledge if sees_pledge else None}
    if reveal:
        return doc.model_copy(update=pledge)
    return PublicPropertyOut(**{k: getattr(doc, k) for k in PUBLIC_PROPERTY}, redacted=True, **pledge)


class PropertyOperations:
    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.node = ops.node
        self.lock = ops.lock
        self.svc = PropertyService(ops.node.contracts)
        self.queries = PropertyQueries(ops.node.index)

    def _now(self) -> int:
        return int(time.time())

    def _view(self, record: bytes) -> PropertyView:
        view = self.queries.view(record, now=self._now())
        if view is None:
            raise NotFound(f"no record {hex0x(record)} in the index")
        return view

    # ------------------------------------------------------------------ reads

    def property(self, record: bytes) -> PropertyOut:
        """The record's property state with its histories (the operator's view: redact for others)."""
        doc = property_json(self._view(record), self._now())
        histories = {name: self._history(record, what) for what, name in (
            ("owners", "owners"), ("changes", "changeHistory"), ("pledges", "pledges"), ("disputes", "disputes"))}
        return doc.model_copy(update=histories)

    def history(self, record: bytes, what: str) -> list[Any]:
        """One of the record's histories, oldest first: owners, changes, pledges, assessments or disputes."""
        self._view(record)
        return self._history(record, what)

    def _history(self, record: bytes, what: str) -> list[Any]:
        q, now = self.queries, self._now()
        if what == "owners":
            return [OwnerChangeOut(**{**asdict(o), "tx": hex0x(o.tx)}) for o in q.owners(record)]
        if what == "changes":
            return [ChangeOut(seq=c.seq, previousRights=Rights(c.previous_rights).labels(),
                              rights=Rights(c.rights).labels(), previousMetadataHash=hex0x(c.previous_metadata_hash),
                              metadataHash=hex0x(c.metadata_hash), reason=hex0x(c.reason), block=c.block)
                    for c in q.changes(record)]
        if what == "pledges":
            return [_pledge_json(p, now) for p in q.pledges(record)]
        if what == "assessments":
            return [_assessment_json(a, now) for a in q.assessments(record)]
        if what == "disputes":
            return [_dispute_json(d) for d in q.disputes(record)]
        raise InvalidInput(f"no history {what!r}: owners, changes, pledges, assessments or disputes")

    def encumbrances(self, *, pledgee: int | None = None, limit: int = 100,
                     after: str | None = None) -> EncumbrancesOut:
        """Pledges in force, by record (one pledgee's, or all): is this asset pledged, to whom, until when."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        cursor = bytes(parse_hash32(after, "after")) if after else None
        now = self._now()
        found = self.queries.encumbrances(pledgee=pledgee, limit=limit, after=cursor)
        items = [EncumbranceOut(record=hex0x(rid), **_pledge_fields(p, now)) for rid, p in found]
        return EncumbrancesOut(items=items, next=items[-1].record if len(items) == limit else None)

    def terms(self) -> dict[str, Any]:
        """The kinds' terms (seconds; 0: no expiry), the accredited assessors and the appointed arbitrators."""
        return {"terms": self.queries.terms(), **self.queries.accredited()}

    def decide(self, decision: str, subject: int | str, value: int | bool = 0,
               signer: LocalAccount | None = None) -> dict[str, Any]:
        """Propose a governance decision (threshold governance of the member exchanges; applied here once it
        executes): accredit-assessor, withdraw-accreditation, appoint-arbitrator, remove-arbitrator (subject an
        entity id), set-term (subject a kind, value seconds; 0: no expiry), set-compliance-rule (subject an
        exchange code or id, value on or off)."""
        labels = {d.label: d for d in C.PropertyDecision}
        if decision not in labels:
            raise InvalidInput(f"decision must be one of {', '.join(labels)}, got {decision!r}")
        d = labels[decision]
        if d is C.PropertyDecision.SET_TERM:
            subj = named(subject, C.KINDS, "kind")
        elif d is C.PropertyDecision.SET_COMPLIANCE_RULE:
            subj = self.ops.exchange_ref(subject)
        else:
            subj = entity_id(subject, "entity")
        if isinstance(value, bool) or d is C.PropertyDecision.SET_COMPLIANCE_RULE:
            value = int(bool(value))
        if not isinstance(value, int) or not 0 <= value < 2**32:
            raise InvalidInput("value must be seconds from 0 to 2**32 - 1")
        with self.lock:
            out = self.svc.propose_decision(signer or self.ops.signer(), d, subj, value)
            self.ops.follower.sync()
        return {"proposal": out.proposal_id, "approvals": out.approvals, "executed": out.executed,
                "tx": hex0x(out.tx_hash), **self.terms()}

    def approve_decision(self, proposal: int, signer: LocalAccount | None = None) -> dict[str, Any]:
        """Approve a proposed decision; the approval that executes it applies it here too."""
        with self.lock:
            signer = signer or self.ops.signer()
            out = self.ops.svc.approve(signer, proposal)
            if out.executed:
                try:
                    self.svc.apply_decision(signer, proposal)
                except ContractReverted as exc:
                    if exc.error != "DecisionAlreadyApplied":  # the approval applied it itself
                        raise
            self.ops.follower.sync()
        return {"proposal": proposal, "approvals": out.approvals, "executed": out.executed,
                "tx": hex0x(out.tx_hash), **self.terms()}

    # ------------------------------------------------------------------ consent

    def _parties(self, action: str, record: bytes, terms: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
        """Each party of the action: (the entity that consents, its counterparty), as the contract binds them."""
        view = self._view(record)
        holder = view.owner
        pledgee = view.pledge.pledgee if view.pledge is not None else 0
        if action == "transfer":
            return {"holder": (holder, terms["to"]), "receiver": (terms["to"], holder),
                    "pledgee": (pledgee, terms["to"])}
        if action in ("change", "renew"):
            return {"holder": (holder, 0)}
        if action in ("cancel", "release"):
            return {"pledgee": (pledgee, holder)}
        if action == "pledge":
            return {"holder": (holder, terms["pledgee"]), "pledgee": (terms["pledgee"], holder)}
        if action == "enforce":
            return {"pledgee": (pledgee, terms["to"])}
        if action == "assess":
            return {"assessor": (terms["assessor"], holder)}
        if action == "withdraw":
            return {"assessor": (terms["assessor"], holder)}
        if action == "dispute":
            return {"claimant": (terms["claimant"], holder)}
        return {"arbitrator": (terms["arbitrator"], holder)}

    def consent_typed_data(self, record: bytes, action: str, party: str, body: Mapping[str, Any], *,
                           deadline: int | None = None) -> ConsentTypedDataOut:
        """What ``party`` signs (``eth_signTypedData_v4``) to consent to ``action`` on these terms (the same body
        the write takes), with its current nonce; send back ``{deadline, signature}`` as ``consents.<party>``."""
        terms = self._terms(record, action, body)
        if party not in PARTIES[action]:
            raise InvalidInput(f"the parties of {action} are {', '.join(PARTIES[action])}, not {party!r}")
        entity, counterparty = self._parties(action, record, terms)[party]
        if entity == 0:
            raise Conflict(f"record {hex0x(record)} is not pledged: there is no pledgee to consent")
        terms_hash = _terms_hash(action, terms)
        with self.lock:
            deadline = self.ops.chain_time() + 3600 if deadline is None else deadline
            nonce = self.svc.nonce_of(entity)
            doc = self.svc.consent_typed_data(action, record, entity, counterparty, terms_hash, deadline, nonce)
            digest = self.svc.consent_digest(action, record, entity, counterparty, terms_hash, nonce, deadline)
        # (validated: action and party were checked above against the names the model allows)
        return ConsentTypedDataOut.model_validate({
            "action": action, "party": party, "entity": entity, "counterparty": counterparty, "deadline": deadline,
            "nonce": nonce, "digest": hex0x(digest), "typedData": doc})

    def _terms(self, record: bytes, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        terms = parse_terms(action, body)
        if action == "change":
            # A change names what stays as it is: the record's current rights or metadata hash.
            rec = self.ops.indexed(record)
            terms.setdefault("rights", rec.rights)
            terms.setdefault("metadata_hash", bytes(rec.metadata_hash))
        if action == "withdraw":
            a = self._assessment(record, terms["assessment"])
            terms.update(assessment_id=a.id, index=a.index, assessor=a.assessor)
        return terms

    def _assessment(self, record: bytes, ref: int | bytes) -> Assessment:
        """The record's assessment by its order (1, 2, ...) or its id, as the index holds it."""
        self._view(record)
        found = self.queries.assessment(record, ref)
        if found is None:
            name = ref if isinstance(ref, int) else hex0x(ref)
            raise NotFound(f"record {hex0x(record)} has no assessment {name}")
        return found

    def _compliance_evidence(self, record: bytes, ref: Any) -> bytes:
        """The compliance assessment a listing names: the one given, else the latest passed one in force by an
        assessor still accredited (what the registrar's compliance rule asks for), else none (the rule may be off:
        the contract decides)."""
        if ref is not None:
            return self._assessment(record, assessment_ref(ref, "complianceAssessment")).id
        now = self.ops.chain_time()
        accredited = set(self.queries.accredited()["assessors"])
        for a in reversed(self.queries.assessments(record)):
            if a.kind == "compliance" and a.passed and a.in_force(now) and a.assessor in accredited:
                return a.id
        return bytes(32)

    def _consents(self, action: str, record: bytes, terms: Mapping[str, Any], consents: Mapping[str, Any] | None,
                  sign: Iterable[str]) -> dict[str, Consent]:
        consents = consents or {}
        unknown = (set(consents) | set(sign)) - set(PARTIES[action])
        if unknown:
            raise InvalidInput(f"the parties of {action} are {', '.join(PARTIES[action])}, not "
                               f"{', '.join(sorted(unknown))}")
        parties = self._parties(action, record, terms)
        out: dict[str, Consent] = {}
        # Signatures made here take consecutive nonces in the contract's order of the parties.
        nonces: dict[int, int] = {}
        for party in PARTIES[action]:
            given = parse_consent(consents.get(party), party)
            if given is not None:
                out[party] = given
                continue
            entity, counterparty = parties[party]
            if party not in sign or entity == 0:
                out[party] = Consent.MANDATE
                continue
            key = self._party_key(entity, party)
            nonce = nonces.get(entity, self.svc.nonce_of(entity))
            nonces[entity] = nonce + 1
            deadline = self.ops.chain_time() + 3600
            out[party] = self.svc.sign_consent(key, action, record, entity, counterparty,
                                               _terms_hash(action, terms), deadline=deadline, nonce=nonce)
        return out

    def _party_key(self, entity: int, party: str) -> LocalAccount:
        account = self.ops.svc.entity(entity).account
        key = held_key(self.node, bytes(account))
        if key is None:
            raise InvalidInput(f"this node's keystore does not hold the account of {party} entity {entity}: send its "
                               f"signature (consent-typed-data) or rely on its mandate")
        return key

    # ------------------------------------------------------------------ writes

    def act(self, record: bytes, action: str, body: Mapping[str, Any] | None = None, *,
            consents: Mapping[str, Any] | None = None, sign: Iterable[str] = (),
            signer: LocalAccount | None = None) -> PropertyOut:
        """Carry out ``action`` on ``record`` with the users' values of ``body``; answers the property state read
        back from the index and the transaction. ``execute`` and ``list`` take no consent."""
        body = body or {}
        if action not in (*ACTIONS, "list", "execute"):
            raise InvalidInput(f"unknown property action {action!r}")
        terms: dict[str, Any] = {}
        tx: Any  # a WriteResult, or (assess) the new assessment's id and its WriteResult
        with self.lock:
            signer = signer or self.ops.signer()
            if action == "execute":
                tx = self.svc.execute_ruling(signer, record)
            elif action == "list":
                tx = self.svc.list_record(signer, record,
                                          self._compliance_evidence(record, body.get("complianceAssessment")))
            else:
                terms = self._terms(record, action, body)
                c = self._consents(action, record, terms, consents, sign)
                tx = self._send(signer, action, record, terms, c)
            self.ops.follower.sync()
        receipt = _receipt(tx)
        if action in ("assess", "withdraw"):
            # The assessment acted on, by both its names: withdraw takes either.
            ref = tx[0] if action == "assess" else terms["assessment_id"]
            a = self._assessment(record, ref)
            receipt["assessment"] = AssessmentRefOut(index=a.index, id=hex0x(a.id))
        return self.property(record).model_copy(update=receipt)

    def _send(self, signer: LocalAccount, action: str, record: bytes, t: Mapping[str, Any],
              c: Mapping[str, Consent]) -> Any:
        s = self.svc
        if action == "transfer":
            return s.transfer(signer, record, t["to"], holder=c["holder"], receiver=c["receiver"],
                              pledgee=c["pledgee"])
        if action == "change":
            return s.change(signer, record, t["rights"], t["metadata_hash"], t["reason"], holder=c["holder"])
        if action == "renew":
            return s.renew(signer, record, holder=c["holder"])
        if action == "cancel":
            return s.cancel(signer, record, t["reason_code"], pledgee=c["pledgee"])
        if action == "pledge":
            return s.pledge(signer, record, _pledge_terms(t), holder=c["holder"], pledgee=c["pledgee"])
        if action == "release":
            return s.release(signer, record, pledgee=c["pledgee"])
        if action == "enforce":
            return s.enforce(signer, record, t["to"], pledgee=c["pledgee"])
        if action == "assess":
            return s.assess(signer, record, _assessment_input(t), assessor=c["assessor"])
        if action == "withdraw":
            return s.withdraw_assessment(signer, record, t["assessment_id"], assessor=c["assessor"])
        if action == "dispute":
            return s.file_dispute(signer, record, t["claimant"], t["claim_hash"], claimant_consent=c["claimant"])
        return s.rule(signer, record, t["arbitrator"], t["outcome"], t["new_owner"], t["ruling_hash"],
                      arbitrator_consent=c["arbitrator"])


def _pledge_terms(t: Mapping[str, Any]) -> PledgeTerms:
    return PledgeTerms(t["pledgee"], t["amount"], t["currency"], t["until"], t["reference"])


def _assessment_input(t: Mapping[str, Any]) -> AssessmentInput:
    return AssessmentInput(assessor=t["assessor"], kind=t["kind"], report_hash=t["report_hash"], score=t["score"],
                           passed=t["passed"], method=t["method"], amount=t["amount"], currency=t["currency"],
                           standard=t["standard"], valuation_date=t["valuation_date"], valid_until=t["valid_until"])


def _terms_hash(action: str, t: Mapping[str, Any]) -> bytes:
    """The termsHash a party's signature covers: keccak256 of the action's ABI-encoded arguments."""
    if action in ("transfer", "enforce"):
        return C.transfer_terms(t["to"])
    if action == "change":
        return C.change_terms(t["rights"], t["metadata_hash"], t["reason"])
    if action == "cancel":
        return C.cancel_terms(t["reason_code"])
    if action == "pledge":
        return C.pledge_terms(_pledge_terms(t))
    if action == "assess":
        return C.assess_terms(_assessment_input(t))
    if action == "withdraw":
        return C.withdraw_terms(t["assessment_id"])
    if action == "dispute":
        return C.dispute_terms(t["claimant"], t["claim_hash"])
    if action == "rule":
        return C.rule_terms(t["arbitrator"], t["outcome"], t["new_owner"], t["ruling_hash"])
    return C.NO_TERMS


def _receipt(result: Any) -> dict[str, Any]:
    """A write's transaction (the adapter answers a WriteResult, or a number and the WriteResult)."""
    res = result[-1] if isinstance(result, tuple) else result
    return {"tx": hex0x(res.tx_hash), "block": res.block_number, "gasUsed": res.gas_used}


__all__ = ["PARTIES", "PropertyOperations", "property_json", "redact_property"]
