"""The node's HTTP API: ``create_app(settings)`` builds it around one open node.

Every route calls :class:`provenance.services.operations.Operations` (the CLI calls the same) and holds no logic of its
own beyond who may call it and what the caller may see. Routes that only read the index are ``async`` (a
LevelDB read does not block for long); routes that touch the chain are plain functions, run in the thread pool,
because they wait for the node's chain lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from provenance.api import problems, web_page
from provenance.api.deps import ok, single_query_values
from provenance.api.middleware import Guard, TokenBuckets
from provenance.api.negotiate import coding_quality
from provenance.api.routes import catalog, certificates, federation, flows, registrations, vc
from provenance.api.routes import property as property_register  # not to shadow the builtin
from provenance.api.runtime import ApiSettings, Runtime
from provenance.api.schemas import HealthOut


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
        # A path with a trailing slash is not another spelling of a route: 404, not a redirect to a Location
        # built from the client's own Host header.
        redirect_slashes=False, dependencies=[Depends(single_query_values)],
        description="Writes need a token (`Authorization: Bearer pvt_...`) of a role of this node's exchange, or a "
                    "request signed by a registered key (X-Provenance-Key/-Timestamp/-Signature). Important- and "
                    "core-grade records are redacted for callers without a member credential. Errors are RFC 9457 "
                    "problem documents.")
    app.state.runtime = rt
    app.state.metrics = metrics
    problems.install(app)

    def _token_id(token: str) -> str | None:
        p = rt.tokens.lookup(token)
        return p.name if p else None

    buckets = TokenBuckets(settings.rate_per_second, settings.rate_burst) if settings.rate_per_second > 0 else None
    app.add_middleware(Guard, max_body=settings.max_body_bytes, buckets=buckets,
                       observe=metrics.observe, token_id=_token_id)

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

    # ------------------------------------------------------------------ the capabilities, one route module each

    # (The order is the order of the OpenAPI document's paths; the cross-border flows and the property register
    # install nothing on a deployment without their contract.)
    federation.install(app, rt)
    registrations.install(app, rt)
    certificates.install(app, rt)
    flows.install(app, rt)
    catalog.install(app, rt)
    property_register.install(app, rt)
    vc.install(app, rt)

    # ------------------------------------------------------------------ C2SP transparency logs

    from provenance.api.routes import tlog

    tlog.install(app, rt)

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
        built = web_page.build(web)

        @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
        async def page(request: Request) -> Response:
            # Two representations (gzip and as it is), each with its strong ETag; HEAD answers the same headers.
            codings = request.headers.get("accept-encoding", "")
            gzip_q = coding_quality(codings, "gzip")
            zipped = gzip_q > 0 and gzip_q >= coding_quality(codings, "identity")
            etag = built.gzip_etag if zipped else built.etag
            headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
            if web_page.none_match(request.headers.get("if-none-match", ""), etag):
                return Response(status_code=304, headers=headers)
            if zipped:
                return Response(built.gzipped, media_type="text/html; charset=utf-8",
                                headers={**headers, "Content-Encoding": "gzip"})
            return Response(built.html, media_type="text/html; charset=utf-8", headers=headers)

        app.mount("/static", StaticFiles(directory=str(web)), name="static")

    return app
