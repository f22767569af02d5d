"""The node's HTTP API: ``create_app(settings)`` builds it around one open node.

Every route calls :class:`provenance.services.operations.Operations` (the CLI calls the same) and holds no logic of its
own beyond who may call it and what the caller may see. Routes that only read the index are ``async`` (a
LevelDB read does not block for long); routes that touch the chain are plain functions, run in the thread pool,
because they wait for the node's chain lock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from provenance.api import catalog_routes, problems, vc_routes
from provenance.api.auth import WRITE_ROLES, AuthError, Principal, recover_request_signer
from provenance.api.middleware import Guard, TokenBuckets
from provenance.api.models import (
    EXCHANGE_PATTERN,
    HASH_PATTERN,
    AnchorOut,
    BatchIn,
    BatchOut,
    CertificateSummaryOut,
    ConsistencyOut,
    EntityIn,
    EntityOut,
    ExchangeDetailOut,
    ExchangeOut,
    FederationOut,
    GradeName,
    HealthOut,
    ImpactOut,
    InclusionOut,
    IssueIn,
    KeyOut,
    KindName,
    LineageOut,
    LogOut,
    OfflineVerifyIn,
    OnboardingConsentOut,
    PathOut,
    Problem,
    ProposalOut,
    RecognitionOut,
    RecognizedEntityOut,
    RecognizeIn,
    RecordOut,
    RegisteredOut,
    RegisterIn,
    ReportOut,
    SearchOut,
    SnapshotIn,
    StatusIn,
    StatusOut,
    TypedDataIn,
    TypedDataOut,
    WitnessedOut,
)
from provenance.api.runtime import ApiSettings, Runtime
from provenance.chain.registry import SignedRegistration
from provenance.core.ids import parse_address, parse_hash32
from provenance.errors import Conflict
from provenance.services.catalog import PUBLIC as PUBLIC_VIEW
from provenance.services.requests import registration_from_json, request_from_json
from provenance.store.keys import IndexedRecord

API = "/api/v1"
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": title}
    for status, title in ((401, "No or invalid credentials"), (403, "The credentials do not allow this"),
                          (404, "Not found"), (413, "Body too large"), (422, "Invalid input or a rule refused it"),
                          (429, "Rate limited"))
}
WRITE_RESPONSES = {**PROBLEM_RESPONSES, 409: {"model": Problem, "description": "Conflicts with the chain's state"},
                   503: {"model": Problem, "description": "The chain cannot be reached"}}

def ok(model: Any, status: int = 200, *, write: bool = False) -> dict[int | str, dict[str, Any]]:
    """The documented responses of a route: its result model and the problems it may answer with."""
    return {**(WRITE_RESPONSES if write else PROBLEM_RESPONSES), status: {"model": model, "description": "OK"}}


def document(what: str, status: int = 200, *, write: bool = False,
             media_type: str | None = None) -> dict[int | str, dict[str, Any]]:
    """The documented responses of a route returning a document in a format of its own (VC 2.0, PROV-JSON...);
    ``media_type`` names the route's own type beside application/json, which a client gets by asking for it."""
    schema = {"type": "object", "description": what}
    content = {"application/json": {"schema": schema}} | ({media_type: {"schema": schema}} if media_type else {})
    return {**(WRITE_RESPONSES if write else PROBLEM_RESPONSES), status: {"description": what, "content": content}}


CERTIFICATE = ("A mutual-recognition certificate: a W3C Verifiable Credential 2.0 (JSON) with the record, its lineage, "
               "inclusion proofs under anchored checkpoints, and the issuer's EIP-712 proof (see core/certificates.py)")
SNAPSHOT = "A federation snapshot signed by this exchange, for offline verifiers (see core/snapshot.py)"


RecordPath = Annotated[str, Path(pattern=HASH_PATTERN, description="record id (0x and 64 hex digits)")]
ExchangeRef = Annotated[str, Path(pattern=EXCHANGE_PATTERN, description="exchange code (e.g. SDE) or numeric id")]
HashQuery = Annotated[str | None, Query(pattern=HASH_PATTERN)]
Depth = Annotated[int, Query(ge=1, le=256)]
Nodes = Annotated[int, Query(ge=1, le=100_000)]


# ---------------------------------------------------------------------- who is calling


async def caller(request: Request) -> Principal | None:
    """The authenticated caller, None if anonymous; :class:`AuthError` for credentials that do not check out."""
    rt: Runtime = request.app.state.runtime
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "Authorization must be 'Bearer <token>'")
        p = rt.tokens.lookup(token.strip())
        if p is None:
            raise AuthError(401, "the API token is not known to this node (revoked or mistyped)")
        return p
    if "x-provenance-signature" in request.headers:
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # Only keys the node knows leave an entry in the replay guard: strangers' signatures cannot fill it.
        address = recover_request_signer(dict(request.headers), rt.chain_id, rt.registry, request.method, target,
                                         body, time.time(), rt.replay, lambda a: rt.key_exchange(a) is not None
                                         or rt.key_supervisor(a) is not None)
        exchange = rt.key_exchange(address)
        if exchange is None:
            supervisor = rt.key_supervisor(address)
            if supervisor is not None:
                # A supervisor's own key is the admin of its own node.
                role = "admin" if supervisor == rt.supervisor_id else "supervisor"
                return Principal(role, f"key:0x{address.hex()}", supervisor=supervisor)
            raise AuthError(401, f"0x{address.hex()} is not a valid key of an active member exchange or supervisor")
        if exchange == rt.exchange_id:
            return Principal("admin", f"key:0x{address.hex()}", exchange)
        return Principal("member", f"key:0x{address.hex()}", exchange)
    return None


def needs(*roles: str) -> Callable[..., Any]:
    allowed = frozenset(roles)

    async def check(p: Annotated[Principal | None, Depends(caller)]) -> Principal:
        if p is None:
            raise AuthError(401, "this operation needs credentials: a token or a signed request")
        if p.role not in allowed:
            who = f"a {p.role} credential" + (f" of exchange {p.exchange}" if p.exchange is not None else "")
            raise AuthError(403, f"{who} cannot do this; it needs one of: {', '.join(sorted(allowed))} "
                                 f"of this node's exchange")
        return p

    return check


Writer = Annotated[Principal, Depends(needs(*WRITE_ROLES))]
Admin = Annotated[Principal, Depends(needs("admin"))]
Caller = Annotated[Principal | None, Depends(caller)]


class FastJSON(JSONResponse):
    """JSON rendered by orjson, returned as is: the hot read routes skip FastAPI's re-encoding of plain dicts."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("provenance_http_requests", "HTTP requests by method, route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("provenance_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.registry.register(_NodeCollector(runtime))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:  # routes are templates, so there are few of these
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                              self.latency.labels(method, route))
        children[0].inc()
        children[1].observe(seconds)


class _NodeCollector:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def collect(self) -> Any:
        st = self.rt.index_state()
        counts = self.rt.ops.counts()
        for name, doc, value in (
            ("provenance_index_height", "last block in the index", st["checkpoint"]),
            ("provenance_chain_head", "chain head seen by the follower", st["head"]),
            ("provenance_index_lag_blocks", "blocks the index is behind the head", st["lag"]),
            ("provenance_registration_queue", "registrations waiting for the next group commit",
             self.rt.writer.pending()),
            ("provenance_index_records", "records in the index", counts["records"]),
            ("provenance_follower_errors", "follower errors since start", self.rt.follow_errors),
        ):
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], value)
            yield g
        yield CounterMetricFamily("provenance_catalog_documents_rejected",
                                  "published metadata documents and profiles the index refused (tampered, not "
                                  "matching their record, invalid)", value=self.rt.catalog.rejected())


def create_app(settings: ApiSettings, runtime: Runtime | None = None) -> FastAPI:
    """The API around a node: opens ``settings.data_dir`` (unless given an open ``runtime``), closed on shutdown."""
    rt = runtime or Runtime(settings)
    metrics = Metrics(rt)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        rt.close()

    app = FastAPI(
        title="provenance node API", version="1",
        summary="Data registration, lineage and mutual-recognition certificates of a federated data exchange",
        # /docs is served below from Swagger UI's files in the swagger-ui-bundle-v2 package, so it works offline;
        # FastAPI's own pages load their scripts from a CDN (and ReDoc has no packaged copy): both are off.
        docs_url=None, redoc_url=None,
        openapi_url="/openapi.json", lifespan=lifespan,
        description="Writes need a token (`Authorization: Bearer pvt_...`) of a role of this node's exchange, or a "
                    "request signed by a registered key (X-Provenance-Key/-Timestamp/-Signature). Important- and "
                    "core-grade records are redacted for callers without a member credential. Errors are RFC 9457 "
                    "problem documents.")
    app.state.runtime = rt
    app.state.metrics = metrics
    problems.install(app)
    ops = rt.ops

    def _token_id(token: str) -> str | None:
        p = rt.tokens.lookup(token)
        return p.name if p else None

    buckets = TokenBuckets(settings.rate_per_second, settings.rate_burst) if settings.rate_per_second > 0 else None
    app.add_middleware(Guard, max_body=settings.max_body_bytes, buckets=buckets,
                       observe=metrics.observe, token_id=_token_id)

    def reveal_for(p: Principal | None) -> Callable[[IndexedRecord], bool]:
        if p is not None and p.role in ("admin", "registrar", "member"):
            return lambda _r: True
        if p is not None and p.role == "merchant":
            return lambda r: r.grade == 0 or r.owner == p.entity
        return lambda r: r.grade == 0

    def rid(text: str) -> bytes:
        return parse_hash32(text, "record id")

    # ------------------------------------------------------------------ health and metrics

    @app.get("/health", tags=["node"], summary="Liveness and index state", responses=ok(HealthOut, 200))
    async def health() -> Any:
        st = rt.index_state()
        healthy = st["last_error"] is None
        return {"status": "ok" if healthy else "degraded", "exchange": rt.exchange_id,
                "supervisor": rt.supervisor_id, "chainId": rt.chain_id,
                "index": st}

    @app.get("/metrics", tags=["node"], summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    # ------------------------------------------------------------------ federation

    @app.get(f"{API}/federation", tags=["federation"], summary="Chain, contracts, members and counts",
             responses=ok(FederationOut, 200))
    def federation() -> Any:
        info = ops.info()
        info.pop("key", None)
        return {**info, "exchange": rt.exchange_id, "supervisor": rt.supervisor_id, "index": rt.index_state()}

    @app.get(f"{API}/exchanges", tags=["federation"], summary="Member exchanges", responses=ok(list[ExchangeOut], 200))
    def exchanges() -> Any:
        return ops.exchanges()

    @app.get(f"{API}/exchanges/{{exchange}}", tags=["federation"], summary="An exchange with its key history",
             responses=ok(ExchangeDetailOut, 200))
    def exchange(exchange: ExchangeRef) -> Any:
        return ops.exchange(exchange)

    @app.get(f"{API}/exchanges/{{exchange}}/keys", tags=["federation"], summary="An exchange's keys, past and "
             "present, with the blocks they were valid in", responses=ok(list[KeyOut], 200))
    def exchange_keys(exchange: ExchangeRef) -> Any:
        return ops.keys_of(exchange)

    @app.get(f"{API}/exchanges/{{exchange}}/checkpoints", tags=["federation"],
             summary="An exchange's transparency log: size, root, anchored checkpoints and their cosigners",
             responses=ok(LogOut, 200))
    def checkpoints(exchange: ExchangeRef, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> Any:
        return ops.log(exchange, limit=limit)

    @app.get(f"{API}/exchanges/{{exchange}}/consistency", tags=["federation"],
             summary="RFC 9162 consistency proof between two sizes of an exchange's log",
             responses=ok(ConsistencyOut, 200))
    def consistency(exchange: ExchangeRef, size1: Annotated[int, Query(ge=0, le=2**63)],
                    size2: Annotated[int, Query(ge=0, le=2**63)]) -> Any:
        return ops.consistency(exchange, size1, size2)

    @app.post(f"{API}/checkpoints", tags=["federation"], status_code=201, responses=ok(AnchorOut, 201, write=True),
              summary="Anchor this exchange's log as it stands (covers its direct registrations)")
    def anchor(_p: Writer) -> Any:
        return ops.anchor()

    @app.post(f"{API}/witness", tags=["federation"], responses=ok(list[WitnessedOut], 200, write=True),
              summary="Cosign partners' new checkpoints after checking their consistency")
    def witness(_p: Admin) -> Any:
        return ops.witness()

    @app.get(f"{API}/proposals", tags=["federation"], summary="Governance proposals",
             responses=ok(list[ProposalOut], 200))
    def proposals() -> Any:
        return ops.proposals()

    # Before /entities/{entity}, which would otherwise take "consent" for an id.
    @app.get(f"{API}/entities/consent", tags=["federation"], responses=ok(OnboardingConsentOut, 200),
             summary="The EIP-712 typed data (eth_signTypedData_v4) an entity's account signs to consent "
                     "to its onboarding here")
    def onboarding_consent(identifier: Annotated[str, Query(min_length=1, max_length=128)],
                           account: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")],
                           role: Annotated[str, Query(pattern=r"^(supplier|demander|service-provider)$")] = "supplier",
                           deadline: Annotated[int | None, Query(ge=0, le=2**64 - 1)] = None) -> Any:
        return ops.onboarding_consent(identifier, account, role, deadline)

    @app.get(f"{API}/entities/{{entity}}", tags=["federation"], summary="A merchant or other entity",
             responses=ok(EntityOut, 200))
    def entity(entity: Annotated[int, Path(ge=1, le=2**32 - 1)]) -> Any:
        return ops.entity(entity)

    @app.get(f"{API}/entities", tags=["federation"], summary="Find an entity by its identifier",
             responses=ok(EntityOut, 200))
    def entity_by_identifier(identifier: Annotated[str, Query(min_length=1, max_length=128)]) -> Any:
        return ops.entity_by_identifier(identifier)

    @app.post(f"{API}/entities", tags=["federation"], status_code=201, responses=ok(EntityOut, 201, write=True),
              summary="Onboard an entity at this exchange")
    def add_entity(body: EntityIn, _p: Admin) -> Any:
        if body.profile is not None:  # refused before the entity is onboarded: nothing written on a bad profile
            rt.catalog.check_profile(body.profile, body.identifier)
        out = ops.add_entity(body.identifier, body.account, body.role, deadline=body.deadline,
                             consent=body.consent)
        if body.profile is not None:
            rt.catalog.set_profile(out["id"], body.profile)
        return out

    @app.post(f"{API}/entities/{{entity}}/recognition", tags=["federation"],
              responses=ok(RecognizedEntityOut, 200, write=True),
              summary="Recognise an entity onboarded by another exchange")
    def recognize_entity(entity: Annotated[int, Path(ge=1, le=2**32 - 1)], _p: Admin) -> Any:
        return ops.recognize_entity(entity)

    # ------------------------------------------------------------------ registrations

    @app.post(f"{API}/registrations", tags=["registrations"], status_code=201,
              responses=ok(RegisteredOut, 201, write=True),
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
            return rt.catalog.register(request, metadata, signed=signed)
        return rt.catalog.register(request, metadata,
                                   submit=lambda r, d: rt.writer.submit(r, d).result(timeout=120))

    @app.post(f"{API}/registrations/typed-data", tags=["registrations"], responses=ok(TypedDataOut, 200),
              summary="The EIP-712 typed data (eth_signTypedData_v4) an owner signs to let this exchange "
                      "register a record for it")
    def typed_data(body: TypedDataIn) -> Any:
        request = request_from_json(body.model_dump(exclude={"ttl"}), "body")
        return ops.registration_typed_data(request, deadline=int(time.time()) + body.ttl)

    @app.post(f"{API}/registrations/batch", tags=["registrations"], status_code=201,
              responses=ok(BatchOut, 201, write=True),
              summary="Register many records as anchored batches (one transaction per batch)")
    def register_batch(body: BatchIn, _p: Writer) -> Any:
        parsed = [registration_from_json(r.model_dump(), f"body.records[{i}]") for i, r in enumerate(body.records)]
        return rt.catalog.batch([r for r, _ in parsed], [d for _, d in parsed], batch_size=body.batchSize)

    @app.get(f"{API}/registrations", tags=["registrations"], responses=ok(SearchOut, 200),
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
    ) -> Any:
        p = await caller(request)
        page = ops.search(content_hash=rid(content_hash) if content_hash else None, owner=owner,
                          registrar=registrar, kind=kind, grade=grade, status=status, after=after,
                          limit=limit, reveal=reveal_for(p))
        return FastJSON({**page, "results": rt.catalog.name(page["results"])})

    @app.get(f"{API}/registrations/{{record}}", tags=["registrations"], responses=ok(RecordOut, 200),
             summary="A record as indexed (redacted above general grade without a member credential)")
    async def get_record(record: RecordPath, request: Request) -> Any:
        # The hottest route: the caller is read here rather than through a dependency (FastAPI's dependency
        # solving was a sixth of this route's time under load).
        p = await caller(request)
        rec = ops.indexed(rid(record))
        shown = reveal_for(p)(rec)
        return FastJSON(rt.catalog.decorate(ops.record_doc(rec, reveal=shown), rec,
                                            catalog_routes.viewer_of(p) if shown else PUBLIC_VIEW))

    @app.post(f"{API}/registrations/{{record}}/status", tags=["registrations"],
              responses=ok(StatusOut, 200, write=True),
              summary="Change a record's status (its registrar only)")
    def set_status(record: RecordPath, body: StatusIn, _p: Writer) -> Any:
        return ops.set_status(rid(record), body.status, body.reason)

    @app.get(f"{API}/registrations/{{record}}/ancestors", tags=["lineage"], responses=ok(LineageOut, 200),
             summary="Every record this one derives from, with depth; inactive ancestors listed")
    async def ancestors(record: RecordPath, p: Caller, max_depth: Depth = 64, max_nodes: Nodes = 10_000) -> Any:
        graph = ops.lineage(rid(record), direction="ancestors", max_depth=max_depth, max_nodes=max_nodes,
                            reveal=reveal_for(p))
        return FastJSON({**graph, "nodes": rt.catalog.name(graph["nodes"])})

    @app.get(f"{API}/registrations/{{record}}/descendants", tags=["lineage"], responses=ok(LineageOut, 200),
             summary="Every record derived from this one, with depth")
    async def descendants(record: RecordPath, p: Caller, max_depth: Depth = 64, max_nodes: Nodes = 10_000) -> Any:
        graph = ops.lineage(rid(record), direction="descendants", max_depth=max_depth, max_nodes=max_nodes,
                            reveal=reveal_for(p))
        return FastJSON({**graph, "nodes": rt.catalog.name(graph["nodes"])})

    @app.get(f"{API}/registrations/{{record}}/impact", tags=["lineage"], responses=ok(ImpactOut, 200),
             summary="What a record's status affects: its descendants, flagged if it is not active")
    async def impact(record: RecordPath, max_depth: Depth = 64) -> Any:
        return ops.impact(rid(record), max_depth=max_depth)

    @app.get(f"{API}/registrations/{{record}}/path/{{ancestor}}", tags=["lineage"], responses=ok(PathOut, 200),
             summary="A derivation path from a record up to one of its ancestors")
    async def path(record: RecordPath, ancestor: RecordPath) -> Any:
        return ops.path(rid(record), rid(ancestor))

    @app.get(f"{API}/registrations/{{record}}/lineage/prov", tags=["lineage"],
             responses=document("W3C PROV-JSON of the record and its ancestors"),
             summary="The record's ancestry as W3C PROV-JSON (member credential needed above general grade)")
    def prov(record: RecordPath, p: Caller, max_depth: Depth = 64) -> Any:
        _need_reveal_all(record, p)
        return ops.export(rid(record), "prov", max_depth=max_depth)

    @app.get(f"{API}/registrations/{{record}}/lineage/openlineage", tags=["lineage"],
             responses=document("OpenLineage run events, one per derivation"),
             summary="The record's ancestry as OpenLineage run events (member credential needed above general)")
    def openlineage(record: RecordPath, p: Caller, max_depth: Depth = 64) -> Any:
        _need_reveal_all(record, p)
        return ops.export(rid(record), "openlineage", max_depth=max_depth)

    def _need_reveal_all(record: str, p: Principal | None) -> None:
        show = reveal_for(p)
        res = ops.ancestors(rid(record))
        hidden = [r for r in [res.root, *(r for r, _ in res.records)] if not show(r)]
        if hidden:
            raise AuthError(401 if p is None else 403,
                            f"the lineage includes {len(hidden)} important- or core-grade record(s); exporting it "
                            f"needs a member credential")

    @app.get(f"{API}/registrations/{{record}}/proof", tags=["lineage"], responses=ok(InclusionOut, 200),
             summary="Inclusion proof of a record under its exchange's latest covering anchored checkpoint")
    async def inclusion(record: RecordPath) -> Any:
        return ops.inclusion(rid(record))

    # ------------------------------------------------------------------ certificates

    @app.post(f"{API}/certificates", tags=["certificates"], status_code=201,
              responses=document(CERTIFICATE, 201, write=True),
              summary="Issue a mutual-recognition certificate for one of this exchange's records")
    def issue(body: IssueIn, _p: Writer) -> Any:
        return ops.issue(rid(body.record), days=body.days)

    @app.get(f"{API}/certificates", tags=["certificates"], summary="Certificates issued by this node",
             responses=ok(list[CertificateSummaryOut], 200))
    async def certificates(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        return ops.certificates(limit=limit)

    @app.get(f"{API}/certificates/{{credential}}", tags=["certificates"],
             responses=document(CERTIFICATE, media_type="application/vc"),
             summary="Download an issued certificate by its credential hash")
    async def download(credential: RecordPath, request: Request) -> JSONResponse:
        doc = ops.certificate(parse_hash32(credential, "credential hash"))
        # application/vc, the media type of a VC 2.0 credential, unless the client asks for plain JSON.
        media = "application/json" if vc_routes.wants_plain_json(request, "application/vc") else "application/vc"
        return JSONResponse(doc, media_type=media,
                            headers={"Content-Disposition": f'attachment; filename="{credential}.json"'})

    @app.post(f"{API}/certificates/verify", tags=["certificates"], responses=ok(ReportOut, 200),
              summary="Verify a certificate against this node's view of the chain: a report of every check")
    def verify(certificate: Annotated[dict[str, Any], Body(description="the certificate (VC 2.0 JSON)")]) \
            -> Any:
        return ops.verify(certificate)

    @app.post(f"{API}/certificates/verify-offline", tags=["certificates"], responses=ok(ReportOut, 200),
              summary="Verify a certificate against a signed federation snapshot only (no chain access)")
    def verify_offline(body: OfflineVerifyIn) -> Any:
        trusted: list[bytes] = [parse_address(a, "trusted[]") for a in body.trusted] or ops.trusted_keys()
        return ops.verify_offline(body.certificate, body.snapshot, trusted)

    @app.post(f"{API}/certificates/recognize", tags=["certificates"],
              responses=document(CERTIFICATE + "; with this exchange's recognition", write=True),
              summary="Verify a partner's certificate and add this exchange's recognition (recorded on-chain)")
    def recognize(body: RecognizeIn, _p: Writer) -> Any:
        return ops.recognize(body.certificate, on_chain=body.onChain)

    @app.get(f"{API}/certificates/{{credential}}/recognitions", tags=["certificates"],
             summary="Recognitions of a certificate recorded on-chain", responses=ok(list[RecognitionOut], 200))
    async def recognitions(credential: RecordPath) -> Any:
        return ops.recognitions(parse_hash32(credential, "credential hash"))

    @app.post(f"{API}/snapshots", tags=["certificates"], status_code=201, responses=document(SNAPSHOT, 201, write=True),
              summary="A signed federation snapshot for offline verifiers (its status list anchored on-chain)")
    def snapshot(body: SnapshotIn, _p: Writer) -> Any:
        return ops.snapshot(anchor=body.anchor)

    # ------------------------------------------------------------------ cross-border flows

    if rt.node.contracts.has_cross_border:
        from provenance.api import flow_routes

        flow_routes.install(app, rt, api=API, ok=ok, document=document, needs=needs, caller=caller)

    # ------------------------------------------------------------------ the federated catalogue

    catalog_routes.install(app, rt, api=API, ok=ok, document=document, needs=needs, caller=caller)

    # ------------------------------------------------------------------ VC-JOSE and status lists

    vc_routes.install(app, rt, api=API, ok=ok, document=document, needs=needs, caller=caller)

    # ------------------------------------------------------------------ C2SP transparency logs

    from provenance.api import tlog_routes

    tlog_routes.install(app, rt, api=API, ok=ok)

    if settings.docs:
        from swagger_ui_bundle import swagger_ui_path

        app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

        @app.get("/docs", include_in_schema=False)
        async def docs() -> HTMLResponse:
            return get_swagger_ui_html(openapi_url="/openapi.json", title="provenance node API",
                                       swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                       swagger_css_url="/docs-assets/swagger-ui.css",
                                       swagger_favicon_url="/docs-assets/favicon-32x32.png")

    # ------------------------------------------------------------------ the web page

    if settings.web:
        web = resources.files("provenance") / "web"
        index_html = (web / "index.html").read_text("utf-8")

        @app.get("/", include_in_schema=False)
        async def page() -> HTMLResponse:
            return HTMLResponse(index_html)

        app.mount("/static", StaticFiles(directory=str(web)), name="static")

    return app
