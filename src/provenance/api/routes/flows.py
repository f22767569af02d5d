"""HTTP routes of the cross-border flows (see provenance.services.flows; the contract is CrossBorder.sol).

Who may call what:

* supervisors' decisions (catalogue, approval, rejection, revocation, spot checks' announcement and conclusion)
  are made with the node's own key, so they need the admin of a *supervisor's* node (an admin token, or a request
  signed by that supervisor's key); on an exchange's node the contract refuses them (403, ``NotSupervisorKey``);
* filings and deliveries are made by an exchange under the exporter's mandate: a writer of the exchange's node;
* a supervisor's signed approval may be relayed by any writer (the signature is what is checked);
* drawing a sample takes no input and any authenticated caller may ask for it;
* the exporter's exchange hands its answers to the supervisor's node as a member (a request signed by its key,
  or a member token naming the exchange): only an exchange holding the exporter's mandate may;
* reads are open, like the registry's: the flows' records are what supervisors and partners check.

Every route answers the flows service's typed result (provenance.services.results.flows), declared as its
response_model; the read routes hand FastAPI the finished document (deps.answer), the writes return the result.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query

from provenance.api import deps
from provenance.api.auth import Principal
from provenance.api.deps import API, Admin, Caller, Writer, document, needs, typed
from provenance.api.runtime import Runtime
from provenance.api.schemas import (
    HASH_PATTERN,
)
from provenance.api.schemas.flows import (
    AnswerOut,
    AnswersIn,
    AnswersTakenOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationViewOut,
    ApprovalIn,
    ApprovalTypedDataOut,
    AppStatusName,
    CatalogueEntryOut,
    CatalogueIn,
    CatalogueSetOut,
    ConcludedOut,
    DecisionIn,
    DeliveriesIn,
    DeliveriesOut,
    DeliveryOut,
    FlowProposalOut,
    PublicApplicationOut,
    ReportCheckOut,
    SignedApprovalIn,
    SpotCheckIn,
    SpotCheckOut,
    SupervisorIn,
    SupervisorOut,
)
from provenance.errors import Forbidden
from provenance.services.flows import redact_application

REPORT = ("A spot-check report: the draw (seed, population, positions, sampled deliveries) and each sampled delivery "
          "judged against the exporter's manifest; its SHA-256 (RFC 8785 JSON) is anchored on-chain")

AppId = Annotated[int, Path(ge=1, le=2**63 - 1, description="application id")]
CheckId = Annotated[int, Path(ge=1, le=2**63 - 1, description="spot check id")]
After = Annotated[int, Query(ge=0, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
EntityQ = Annotated[int | None, Query(ge=1, le=2**32 - 1)]
# Drawing a sample: any authenticated caller of the federation; handing answers in: this node's staff or a partner.
AnyoneKnown = Annotated[Principal, Depends(needs("admin", "registrar", "member", "supervisor"))]
Answerer = Annotated[Principal, Depends(needs("admin", "registrar", "member"))]


def install(app: FastAPI, rt: Runtime) -> None:
    """The routes, where the deployment has a CrossBorder contract (a federation deployed before it has none)."""
    if not rt.node.contracts.has_cross_border:
        return
    tags: list[str | Enum] = ["cross-border"]

    def flows() -> Any:
        return rt.ops.flows

    def shown(p: Principal | None, app: ApplicationOut) -> ApplicationOut | PublicApplicationOut:
        """An application as the caller may see it: an important-grade one in full for members of the federation
        (and supervisors), for a merchant its own; redacted for anyone else, like the records themselves."""
        full = p is not None and (p.role in ("admin", "registrar", "member", "supervisor")
                                  or (p.role == "merchant" and p.entity == app.exporter))
        return redact_application(app, full=full)

    @app.get(f"{API}/supervisors", tags=tags, summary="Supervisors (data-security authorities) with their keys",
             **typed(list[SupervisorOut]))
    def supervisors() -> Any:
        return deps.answer(flows().supervisors())

    @app.post(f"{API}/supervisors", tags=tags, status_code=201, **typed(FlowProposalOut, 201, write=True),
              summary="Propose adding a supervisor (threshold governance of the member exchanges)")
    def propose_supervisor(body: SupervisorIn, _p: Admin) -> Any:
        return flows().propose_supervisor(body.code, body.name, body.key, key_signature=body.keySignature)

    @app.get(f"{API}/flows/catalogue", tags=tags, summary="The low-risk catalogue: (category, destination) pairs "
             "whose general-grade data is approved automatically", **typed(list[CatalogueEntryOut]))
    def catalogue() -> Any:
        return deps.answer(flows().catalogue())

    @app.put(f"{API}/flows/catalogue", tags=tags, **typed(CatalogueSetOut, 200, write=True),
             summary="List or delist a low-risk pair (a supervisor's node)")
    def set_catalogue(body: CatalogueIn, _p: Admin) -> Any:
        return flows().set_catalogue(body.category, body.destination, body.maxValidity, body.maxVolume)

    @app.get(f"{API}/flows/applications", tags=tags, summary="Transfer applications, by exporter, record or status",
             **typed(list[ApplicationViewOut]))
    def applications(p: Caller, exporter: EntityQ = None,
                     record: Annotated[str | None, Query(pattern=HASH_PATTERN)] = None,
                     status: AppStatusName | None = None, after: After = 0, limit: Limit = 100) -> Any:
        return deps.answer([shown(p, a) for a in flows().applications(exporter=exporter, record=record, status=status,
                                                                 after=after, limit=limit)])

    @app.post(f"{API}/flows/applications", tags=tags, status_code=201, **typed(ApplicationOut, 201, write=True),
              summary="File a transfer application for the exporter (this exchange holds its mandate)")
    def file_application(body: ApplicationIn, _p: Writer) -> Any:
        return flows().file(body.model_dump())

    @app.get(f"{API}/flows/queue", tags=tags, summary="The supervisors' queue: applications awaiting a decision",
             **typed(list[ApplicationViewOut]))
    def queue(p: Caller, after: After = 0, limit: Limit = 100) -> Any:
        return deps.answer([shown(p, a) for a in flows().queue(after=after, limit=limit)])

    @app.get(f"{API}/flows/applications/{{app_id}}", tags=tags, summary="An application and what is left of it",
             **typed(ApplicationViewOut))
    def application(app_id: AppId, p: Caller) -> Any:
        return deps.answer(shown(p, flows().application(app_id)))

    @app.get(f"{API}/flows/applications/{{app_id}}/approval-typed-data", tags=tags,
             summary="The EIP-712 typed data (eth_signTypedData_v4) a supervisor signs to approve on these terms",
             **typed(ApprovalTypedDataOut))
    def approval_typed_data(app_id: AppId, deadline: Annotated[int, Query(ge=0, le=2**63 - 1)],
                            expiresAt: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
                            volumeLimit: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0) -> Any:
        return deps.answer(flows().approval_typed_data(app_id, expires_at=expiresAt, volume_limit=volumeLimit,
                                                  deadline=deadline))

    @app.post(f"{API}/flows/applications/{{app_id}}/approval", tags=tags, **typed(ApplicationOut, 200, write=True),
              summary="Approve a pending application with this supervisor's key")
    def approve(app_id: AppId, _p: Admin, body: Annotated[ApprovalIn | None, Body()] = None) -> Any:
        terms = body or ApprovalIn()
        return flows().approve(app_id, expires_at=terms.expiresAt, volume_limit=terms.volumeLimit)

    @app.post(f"{API}/flows/applications/{{app_id}}/signed-approval", tags=tags,
              **typed(ApplicationOut, 200, write=True),
              summary="Relay a supervisor's EIP-712 approval (bound to this chain, contract, application and terms)")
    def approve_signed(app_id: AppId, body: SignedApprovalIn, _p: Writer) -> Any:
        return flows().approve_signed(app_id, body.model_dump())

    @app.post(f"{API}/flows/applications/{{app_id}}/rejection", tags=tags,
              **typed(ApplicationOut, 200, write=True), summary="Reject a pending application")
    def reject(app_id: AppId, body: DecisionIn, _p: Admin) -> Any:
        return flows().reject(app_id, body.reason)

    @app.post(f"{API}/flows/applications/{{app_id}}/revocation", tags=tags,
              **typed(ApplicationOut, 200, write=True), summary="Withdraw an approval: no further deliveries")
    def revoke(app_id: AppId, body: DecisionIn, _p: Admin) -> Any:
        return flows().revoke(app_id, body.reason)

    @app.post(f"{API}/flows/deliveries", tags=tags, status_code=201, **typed(DeliveriesOut, 201, write=True),
              summary="Record deliveries under approvals (one, or several in one transaction: all or none)")
    def deliver(body: DeliveriesIn, _p: Writer) -> Any:
        return flows().deliver([d.model_dump(exclude_none=True) for d in body.deliveries])

    @app.get(f"{API}/flows/deliveries", tags=tags, summary="Deliveries, by application or exporter",
             **typed(list[DeliveryOut]))
    def deliveries(application: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None, exporter: EntityQ = None,
                   after: After = 0, limit: Limit = 100) -> Any:
        return deps.answer(flows().deliveries(application=application, exporter=exporter, after=after, limit=limit))

    @app.get(f"{API}/flows/deliveries/{{delivery_id}}", tags=tags, summary="A delivery's evidence",
             **typed(DeliveryOut))
    def delivery(delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> Any:
        return deps.answer(flows().delivery(delivery_id))

    @app.get(f"{API}/flows/spot-checks", tags=tags, summary="Spot checks", **typed(list[SpotCheckOut]))
    def spot_checks(after: After = 0, limit: Limit = 100) -> Any:
        return deps.answer([flows().spot_check(c.id) for c in flows().spot_checks(after=after, limit=limit)])

    @app.post(f"{API}/flows/spot-checks", tags=tags, status_code=201, **typed(SpotCheckOut, 201, write=True),
              summary="Announce a spot check of an exporter's deliveries so far (a supervisor's node)")
    def announce(body: SpotCheckIn, _p: Admin) -> Any:
        return flows().announce(body.exporter, body.sampleSize)

    @app.get(f"{API}/flows/spot-checks/{{check_id}}", tags=tags, summary="A spot check: seed, sample and result",
             **typed(SpotCheckOut))
    def spot_check(check_id: CheckId) -> Any:
        return deps.answer(flows().spot_check(check_id))

    @app.post(f"{API}/flows/spot-checks/{{check_id}}/draw", tags=tags, **typed(SpotCheckOut, 200, write=True),
              summary="Draw the sample from the seed block's hash (once that block is mined)")
    def draw(check_id: CheckId, _p: AnyoneKnown) -> Any:
        return flows().draw(check_id)

    @app.get(f"{API}/flows/spot-checks/{{check_id}}/answer", tags=tags, **typed(AnswerOut),
             summary="The exporter's side: the kept manifests of the sampled deliveries")
    def answer(check_id: CheckId, _p: Writer) -> Any:
        return deps.answer(flows().answer(check_id))

    @app.post(f"{API}/flows/spot-checks/{{check_id}}/answers", tags=tags,
              **typed(AnswersTakenOut, 200, write=True),
              summary="The supervisor's side: take the exporter's manifests for sampled deliveries")
    def submit_answers(check_id: CheckId, body: AnswersIn, p: Answerer) -> Any:
        # This node's own staff may hand answers in; a partner only for an exporter whose mandate it holds.
        by_exchange = p.exchange if p.role == "member" else None
        if p.role == "member" and by_exchange is None:
            raise Forbidden("a member credential that names no exchange cannot answer for an exporter")
        return flows().submit_answers(check_id, body.answers, by_exchange=by_exchange, by=p.name)

    @app.post(f"{API}/flows/spot-checks/{{check_id}}/conclusion", tags=tags,
              **typed(ConcludedOut, 200, write=True),
              summary="Judge the answers against the recorded hashes and anchor the report (a supervisor's node)")
    def conclude(check_id: CheckId, _p: Admin) -> Any:
        return flows().conclude(check_id)

    @app.get(f"{API}/flows/spot-checks/{{check_id}}/report", tags=tags, responses=document(REPORT),
             summary="The report of a concluded spot check, as kept by the supervisor's node")
    def report(check_id: CheckId) -> Any:
        return flows().report(check_id)

    @app.post(f"{API}/flows/reports/verify", tags=tags, **typed(ReportCheckOut),
              summary="Check a spot-check report against the chain: draw, sample, recorded hashes, anchored hash")
    def verify_report(report: Annotated[dict[str, Any], Body()]) -> Any:
        return flows().verify_report(report)
