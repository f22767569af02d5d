"""HTTP routes of the data property register (provenance.services.property; the contract is PropertyRegister.sol),
under ``/api/v1/registrations/{id}/...`` and ``/api/v1/encumbrances``.

Who may call what:

* every write is sent with this node's exchange key, so it needs a writer of this node (an admin or registrar
  token, or a request signed by the exchange's key); the contract then decides whether this exchange may (the
  registrar for a transfer, any member exchange for an assessment or a dispute) and whether every party
  consented: by its mandate to this exchange, or by the signature given in ``consents``;
* what a caller reads follows the record's redaction: above general grade, the property's history, holders,
  assessments and dispute need a member credential (or the owner's merchant token); anyone sees the states
  (pledged, under dispute, expired, listed);
* an encumbrance (who holds the pledge, the amount, until when) is open to members and to the pledgee only,
  whatever the grade: ``/encumbrances`` takes a member credential, or the pledgee's merchant token (which sees its
  own pledges);
* a consent's typed data names the party and its counterparty (often the holder or the pledgee), so it is served
  to members and to the party's own merchant token, not to anyone.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query

from provenance.api.auth import AuthError, Principal
from provenance.api.deps import API, Caller, RecordPath, Writer, answer, needs, reveal_for, rid, typed
from provenance.api.runtime import Runtime
from provenance.api.schemas import HASH_PATTERN
from provenance.api.schemas.property import (
    ActionName,
    AssessIn,
    AssessmentOut,
    CancelIn,
    ChangeIn,
    ChangeOut,
    ConsentOnlyIn,
    ConsentTypedDataOut,
    DisputeIn,
    DisputeOut,
    EncumbrancesOut,
    EnforceIn,
    ListIn,
    OwnerChangeOut,
    PartyName,
    PledgeIn,
    PledgeOut,
    PropertyOut,
    PropertyStateOut,
    PublicPropertyOut,
    RuleIn,
    TransferIn,
)
from provenance.services.property import PropertyOperations, redact_property

MEMBERS = ("admin", "registrar", "member")
# The path keeps the name {index}: an assessment's order within the record (1, 2, ...), or its 0x id.
AssessmentPath = Annotated[str, Path(pattern=r"^([1-9][0-9]{0,9}|0x[0-9a-fA-F]{64})$",
                                     description="the assessment's order in the record (1, 2, ...) or its 0x id")]
# The encumbrance search: members of the federation, or a merchant token (a pledgee sees its own pledges).
Searcher = Annotated[Principal, Depends(needs(*MEMBERS, "merchant"))]


def install(app: FastAPI, rt: Runtime) -> None:
    """The routes, where the deployment has a property register (a federation deployed before it has none)."""
    if not rt.node.contracts.has_property_register:
        return
    tags: list[str | Enum] = ["property"]
    prop = PropertyOperations(rt.ops)
    base = f"{API}/registrations/{{record}}"

    def pledgee_of(p: Principal | None) -> int | None:
        return p.entity if p is not None and p.role == "merchant" else None

    def shown(p: Principal | None, doc: PropertyOut) -> PropertyOut | PublicPropertyOut:
        """The property document as this caller may see it (see the module docstring)."""
        if p is not None and p.role in MEMBERS:
            return doc
        rec = rt.ops.indexed(rid(doc.record))
        entity = pledgee_of(p)
        pledge = doc.pledge
        # The owner consented to its pledge and the pledgee holds it; nobody else outside the federation sees it.
        sees = entity is not None and (entity == rec.owner or (pledge is not None and pledge.pledgee == entity))
        out = redact_property(doc, reveal=reveal_for(p)(rec), sees_pledge=sees)
        if isinstance(out, PropertyOut) and out.pledges is not None:
            # ended pledges are encumbrance records too: a merchant sees those it held
            out = out.model_copy(update={"pledges": [x for x in out.pledges if x.pledgee == entity]})
        return out

    def readable(record: str, p: Principal | None) -> bytes:
        """The record's id, once the caller may read its property histories (401 or 403 otherwise)."""
        r = rid(record)
        if not reveal_for(p)(rt.ops.indexed(r)):
            raise AuthError(401 if p is None else 403, "an important- or core-grade record's property history needs "
                                                       "a member credential or the owner's")
        return r

    def write(record: str, action: str, body: Any, p: Principal, **fields: Any) -> PropertyOut | PublicPropertyOut:
        if body is not None:
            fields.update(body.model_dump(exclude={"consents"}, exclude_none=True))
        consents = {k: (v if isinstance(v, str) else v.model_dump()) for k, v in
                    getattr(body, "consents", {}).items()}
        return shown(p, prop.act(rid(record), action, fields, consents=consents))

    # ------------------------------------------------------------------ reads

    @app.get(f"{base}/property", tags=tags, **typed(PropertyStateOut),
             summary="The record's property: holder, term and expiry, pledge (with the valuation in force), "
                     "assessments, dispute (争议中), and their histories")
    def get_property(record: RecordPath, p: Caller) -> Any:
        return answer(shown(p, prop.property(rid(record))))

    @app.get(f"{base}/transfers", tags=tags, **typed(list[OwnerChangeOut]),
             summary="The record's holders: every transfer, enforcement and ruling that passed it on")
    def get_transfers(record: RecordPath, p: Caller) -> Any:
        return answer(prop.history(readable(record, p), "owners"))

    @app.get(f"{base}/changes", tags=tags, **typed(list[ChangeOut]),
             summary="Changes (变更) of the record's rights or metadata document")
    def get_changes(record: RecordPath, p: Caller) -> Any:
        return answer(prop.history(readable(record, p), "changes"))

    @app.get(f"{base}/pledges", tags=tags, **typed(list[PledgeOut]),
             summary="The record's pledges (质押), ended ones too: members, and a pledgee its own")
    def get_pledges(record: RecordPath, p: Searcher) -> Any:
        pledges = prop.history(rid(record), "pledges")
        return answer(pledges if p.role in MEMBERS else [x for x in pledges if x.pledgee == p.entity])

    @app.get(f"{base}/assessments", tags=tags, **typed(list[AssessmentOut]),
             summary="Assessments (评估) of quality, compliance and value, withdrawn ones marked")
    def get_assessments(record: RecordPath, p: Caller) -> Any:
        return answer(prop.history(readable(record, p), "assessments"))

    @app.get(f"{base}/disputes", tags=tags, **typed(list[DisputeOut]),
             summary="Disputes (争议) filed against the record and their rulings (仲裁)")
    def get_disputes(record: RecordPath, p: Caller) -> Any:
        return answer(prop.history(readable(record, p), "disputes"))

    @app.get(f"{API}/encumbrances", tags=tags, **typed(EncumbrancesOut),
             summary="The encumbrance search: pledges in force (is this asset pledged, to whom, until when); "
                     "members, and a pledgee for its own")
    def encumbrances(p: Searcher, pledgee: Annotated[int | None, Query(ge=1, le=2**32 - 1)] = None,
                     after: Annotated[str | None, Query(pattern=HASH_PATTERN)] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        if p.role == "merchant":
            if pledgee is not None and pledgee != p.entity:
                raise AuthError(403, f"a merchant credential sees its own pledges only (entity {p.entity})")
            pledgee = p.entity
        return answer(prop.encumbrances(pledgee=pledgee, after=after, limit=limit))

    @app.post(f"{base}/consent-typed-data", tags=tags, **typed(ConsentTypedDataOut),
              summary="The EIP-712 typed data (eth_signTypedData_v4) a party signs to consent to an action on these "
                      "terms (the body the action's write takes): members, and a merchant for its own consent")
    def consent_typed_data(record: RecordPath, action: Annotated[ActionName, Query()],
                           party: Annotated[PartyName, Query()], p: Searcher,
                           deadline: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
                           body: Annotated[dict[str, Any] | None, Body()] = None) -> Any:
        terms = {k: v for k, v in (body or {}).items() if k != "consents"}
        doc = prop.consent_typed_data(rid(record), action, party, terms, deadline=deadline)
        # The message names the party and its counterparty (the holder, a pledgee): who holds an important-grade
        # record, and every encumbrance, stay the members' and the parties' own.
        if p.role not in MEMBERS and p.entity != doc.entity:
            raise AuthError(403, f"a merchant credential gets the typed data of its own consents only (entity "
                                 f"{p.entity}, not {doc.entity})")
        return doc

    # ------------------------------------------------------------------ writes

    @app.post(f"{base}/transfers", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Transfer (转让) the record to another entity: the holder's and the receiver's consent, and "
                      "while pledged the pledgee's")
    def transfer(record: RecordPath, body: TransferIn, p: Writer) -> Any:
        return write(record, "transfer", body, p)

    @app.post(f"{base}/changes", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Change (变更) the record's rights or metadata document, with the holder's consent")
    def change(record: RecordPath, body: ChangeIn, p: Writer) -> Any:
        return write(record, "change", body, p)

    @app.post(f"{base}/renewals", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Renew (续展) the record for its kind's term, with the holder's consent")
    def renew(record: RecordPath, p: Writer, body: Annotated[ConsentOnlyIn | None, Body()] = None) -> Any:
        return write(record, "renew", body, p)

    @app.post(f"{base}/cancellation", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Cancel (注销) the record with a published reason; while pledged, with the pledgee's consent")
    def cancel(record: RecordPath, body: CancelIn, p: Writer) -> Any:
        return write(record, "cancel", body, p)

    @app.post(f"{base}/pledges", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Register a pledge (质押) of a product or asset: the holder's and the pledgee's consent")
    def pledge(record: RecordPath, body: PledgeIn, p: Writer) -> Any:
        return write(record, "pledge", body, p)

    @app.post(f"{base}/pledges/release", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Release the pledge, with the pledgee's consent")
    def release(record: RecordPath, p: Writer, body: Annotated[ConsentOnlyIn | None, Body()] = None) -> Any:
        return write(record, "release", body, p)

    @app.post(f"{base}/pledges/enforce", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Enforce the pledge on default: the record passes to the pledgee or a named buyer (this "
                      "registrar's transaction is its confirmation)")
    def enforce(record: RecordPath, body: EnforceIn, p: Writer) -> Any:
        return write(record, "enforce", body, p)

    @app.post(f"{base}/assessments", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Record an accredited assessor's assessment (评估), with its consent")
    def assess(record: RecordPath, body: AssessIn, p: Writer) -> Any:
        return write(record, "assess", body, p)

    @app.post(f"{base}/assessments/{{index}}/withdrawal", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Withdraw an assessment (named by its number in the record or its id), with its assessor's "
                      "consent")
    def withdraw(record: RecordPath, index: AssessmentPath, p: Writer,
                 body: Annotated[ConsentOnlyIn | None, Body()] = None) -> Any:
        return write(record, "withdraw", body, p, assessment=index)

    @app.post(f"{base}/listing", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="List a product or asset for trading (where the registrar's rule needs it, with a passed "
                      "compliance assessment in force)")
    def listing(record: RecordPath, p: Writer, body: Annotated[ListIn | None, Body()] = None) -> Any:
        return write(record, "list", body or ListIn(), p)

    @app.post(f"{base}/disputes", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="File a dispute (争议) with the hash of the claim, with the claimant's consent")
    def dispute(record: RecordPath, body: DisputeIn, p: Writer) -> Any:
        return write(record, "dispute", body, p)

    @app.post(f"{base}/disputes/ruling", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="An appointed arbitrator's ruling (仲裁): dismissed, ownership to another entity, or cancelled")
    def rule(record: RecordPath, body: RuleIn, p: Writer) -> Any:
        return write(record, "rule", body, p)

    @app.post(f"{base}/disputes/execution", tags=tags, **typed(PropertyStateOut, 200, write=True),
              summary="Carry out the ruling by this exchange's own transaction; the dispute closes")
    def execute(record: RecordPath, p: Writer) -> Any:
        return write(record, "execute", None, p)
