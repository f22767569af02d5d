"""Registrations (one, delegated by the owner's signature, a batch; search; a record; its status) and their
lineage (ancestors, descendants, impact, paths, PROV-JSON and OpenLineage exports, the inclusion proof)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request

from provenance.api.deps import (
    API,
    Caller,
    Depth,
    FastJSON,
    HashQuery,
    Nodes,
    RecordPath,
    Writer,
    answer,
    caller,
    document,
    refusals_for,
    reveal_for,
    rid,
    typed,
    viewer_of,
)
from provenance.api.negotiate import choose
from provenance.api.runtime import Runtime
from provenance.api.schemas import (
    EXCHANGE_PATTERN,
    BatchIn,
    GradeName,
    KindName,
    RegisterIn,
    StatusIn,
    TypedDataIn,
)
from provenance.chain.registry import SignedRegistration
from provenance.errors import Conflict, InvalidInput
from provenance.services.catalog import PUBLIC as PUBLIC_VIEW
from provenance.services.requests import registration_from_json, request_from_json
from provenance.services.results import Result
from provenance.services.results.registrations import (
    BatchOut,
    ImpactOut,
    LineageOut,
    PathOut,
    RecordOut,
    RegisteredOut,
    SearchOut,
    StatusOut,
    TypedDataOut,
)
from provenance.services.results.trust import InclusionOut


def install(app: FastAPI, rt: Runtime) -> None:
    ops = rt.ops

    @app.post(f"{API}/registrations", tags=["registrations"], status_code=201,
              **typed(RegisteredOut, 201, write=True),
              summary="Register one record (under the owner's mandate, or with its EIP-712 signature)")
    def register(body: RegisterIn, _p: Writer) -> Any:
        fields = body.model_dump(exclude={"ownerSignature"})
        request, metadata = registration_from_json(fields, "body")
        if body.ownerSignature is not None:
            if rt.exchange_id is None:
                raise Conflict("this is a supervisor's node: it registers nothing")
            s = body.ownerSignature
            signed = SignedRegistration(request, rt.exchange_id, s.nonce, s.deadline,
                                        bytes.fromhex(s.signature[2:]))
            return _finished(RegisteredOut, rt.catalog.register(request, metadata, signed=signed), 201)
        return _finished(RegisteredOut, rt.catalog.register(
            request, metadata, submit=lambda r, d: rt.writer.submit(r, d).result(timeout=120)), 201)

    @app.post(f"{API}/registrations/typed-data", tags=["registrations"], **typed(TypedDataOut),
              summary="The EIP-712 typed data (eth_signTypedData_v4) an owner signs to let this exchange "
                      "register a record for it")
    def typed_data(body: TypedDataIn) -> Any:
        request = request_from_json(body.model_dump(exclude={"ttl"}), "body")
        return ops.registration_typed_data(request, deadline=int(time.time()) + body.ttl)

    @app.post(f"{API}/registrations/batch", tags=["registrations"], status_code=201,
              **typed(BatchOut, 201, write=True),
              summary="Register many records as anchored batches (one transaction per batch)")
    def register_batch(body: BatchIn, _p: Writer) -> Any:
        parsed = [registration_from_json(r.model_dump(), f"body.records[{i}]") for i, r in enumerate(body.records)]
        return _finished(BatchOut, rt.catalog.batch([r for r, _ in parsed], [d for _, d in parsed],
                                                    batch_size=body.batchSize), 201)

    @app.get(f"{API}/registrations", tags=["registrations"], **typed(SearchOut),
             summary="Search records; with no filter, every record in registration order (tail with `after`)")
    async def search(
        request: Request,
        content_hash: HashQuery = None,
        owner: Annotated[int | None, Query(ge=1, le=2**32 - 1)] = None,
        registrar: Annotated[str | None, Query(pattern=EXCHANGE_PATTERN)] = None,
        kind: KindName | None = None,
        grade: GradeName | None = None,
        status: Annotated[str | None, Query(pattern="^(active|suspended|revoked|superseded)$")] = None,
        after: Annotated[int, Query(ge=-1, le=2**40, description="the `next` cursor of the previous page")] = -1,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        latest: Annotated[bool, Query(description="the newest `limit` records, oldest first, in place of `after` "
                                                  "(no filter): what the explorer's first page shows")] = False,
    ) -> Any:
        p = await caller(request)
        if latest:
            # One request instead of two (the record count, then the page): the explorer's first page asks for it
            # before its scripts have loaded.
            if any(v is not None for v in (content_hash, owner, registrar, kind, grade, status)) or after != -1:
                raise InvalidInput("latest lists the newest records of the whole index: give it no filter and "
                                   "no after")
            after = max(-1, ops.counts()["records"] - limit - 1)
        page = ops.search(content_hash=rid(content_hash) if content_hash else None, owner=owner,
                          registrar=registrar, kind=kind, grade=grade, status=status, after=after,
                          limit=limit, reveal=reveal_for(p))
        return FastJSON({**page, "results": rt.catalog.name(page["results"])})

    @app.get(f"{API}/registrations/{{record}}", tags=["registrations"], **typed(RecordOut),
             summary="A record as indexed (redacted above general grade without a member credential)")
    async def get_record(record: RecordPath, request: Request) -> Any:
        # The hottest route: the caller is read here rather than through a dependency (FastAPI's dependency
        # solving was a sixth of this route's time under load).
        p = await caller(request)
        rec = ops.indexed(rid(record))
        shown = reveal_for(p)(rec)
        return FastJSON(rt.catalog.decorate(ops.record_doc(rec, reveal=shown), rec,
                                            viewer_of(p) if shown else PUBLIC_VIEW))

    @app.post(f"{API}/registrations/{{record}}/status", tags=["registrations"],
              **typed(StatusOut, write=True),
              summary="Change a record's status (its registrar only)")
    def set_status(record: RecordPath, body: StatusIn, _p: Writer) -> Any:
        return ops.set_status(rid(record), body.status, body.reason)

    @app.get(f"{API}/registrations/{{record}}/ancestors", tags=["lineage"], **typed(LineageOut),
             summary="Every record this one derives from, with depth; inactive ancestors listed")
    async def ancestors(record: RecordPath, p: Caller, max_depth: Depth = 64, max_nodes: Nodes = 10_000) -> Any:
        graph = ops.lineage(rid(record), direction="ancestors", max_depth=max_depth, max_nodes=max_nodes,
                            reveal=reveal_for(p))
        return FastJSON({**graph, "nodes": rt.catalog.name(graph["nodes"])})

    @app.get(f"{API}/registrations/{{record}}/descendants", tags=["lineage"], **typed(LineageOut),
             summary="Every record derived from this one, with depth")
    async def descendants(record: RecordPath, p: Caller, max_depth: Depth = 64, max_nodes: Nodes = 10_000) -> Any:
        graph = ops.lineage(rid(record), direction="descendants", max_depth=max_depth, max_nodes=max_nodes,
                            reveal=reveal_for(p))
        return FastJSON({**graph, "nodes": rt.catalog.name(graph["nodes"])})

    @app.get(f"{API}/registrations/{{record}}/impact", tags=["lineage"], **typed(ImpactOut),
             summary="What a record's status affects: its descendants, flagged if it is not active")
    async def impact(record: RecordPath, max_depth: Depth = 64) -> Any:
        return answer(ops.impact(rid(record), max_depth=max_depth))

    @app.get(f"{API}/registrations/{{record}}/path/{{ancestor}}", tags=["lineage"], **typed(PathOut),
             summary="A derivation path from a record up to one of its ancestors")
    async def path(record: RecordPath, ancestor: RecordPath) -> Any:
        return answer(ops.path(rid(record), rid(ancestor)))

    @app.get(f"{API}/registrations/{{record}}/lineage/prov", tags=["lineage"],
             responses=document("W3C PROV-JSON of the record and its ancestors"),
             summary="The record's ancestry as W3C PROV-JSON (member credential needed above general grade)")
    def prov(request: Request, record: RecordPath, p: Caller, max_depth: Depth = 64) -> Any:
        choose(request, ("application/json",))  # the one representation; an Accept that refuses it is 406
        # The export checks every record of its own walk against the caller's view (services/operations.export).
        with refusals_for(p):
            return ops.export(rid(record), "prov", max_depth=max_depth, reveal=reveal_for(p))

    @app.get(f"{API}/registrations/{{record}}/lineage/openlineage", tags=["lineage"],
             responses=document("OpenLineage run events, one per derivation"),
             summary="The record's ancestry as OpenLineage run events (member credential needed above general)")
    def openlineage(request: Request, record: RecordPath, p: Caller, max_depth: Depth = 64) -> Any:
        choose(request, ("application/json",))
        with refusals_for(p):
            return ops.export(rid(record), "openlineage", max_depth=max_depth, reveal=reveal_for(p))

    @app.get(f"{API}/registrations/{{record}}/proof", tags=["lineage"], **typed(InclusionOut),
             summary="Inclusion proof of a record under its exchange's latest covering anchored checkpoint")
    async def inclusion(record: RecordPath) -> Any:
        # The trust service answers the proof as a document, record first (results/trust.py says why).
        return FastJSON(ops.inclusion(rid(record)))


def _finished(model: type[Result], doc: dict[str, Any], status: int) -> FastJSON:
    """A registration's answer, checked against its model and sent as the catalogue finished it: FastAPI's own
    pass would send the members in the model's order, and a record's title keeps its document's (en or zh
    first), so the answer stays the one clients have always read."""
    model.model_validate(doc)
    return FastJSON(doc, status_code=status)
