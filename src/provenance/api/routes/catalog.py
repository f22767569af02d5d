"""HTTP routes of the federated catalogue (provenance.services.catalog; the shared design is issue 20's).

Who sees what, as for records: general-grade listings and organisations' profiles are public; important- and
core-grade listings and their documents need a member credential of the federation (admin, registrar or member);
a merchant sees its own. An individual's profile is served only to credentials this node issued (its admin,
registrar and member tokens), never to anonymous callers or to requests signed by another exchange's key: it
does not leave the exchange that onboarded the person. Supplying a document takes a writer; setting
a profile, the admin.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import Body, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from provenance.api.auth import AuthError, Principal
from provenance.api.deps import API, Admin, Caller, Writer, answer, document, typed, viewer_of
from provenance.api.negotiate import choose
from provenance.api.runtime import Runtime
from provenance.api.schemas import EXCHANGE_PATTERN, HASH_PATTERN, GradeName, KindName
from provenance.api.schemas.catalog import (
    BoardName,
    BoardOut,
    CatalogSearchOut,
    FiguresOut,
    OrderName,
    ProfileOut,
    SchemaName,
    SuppliedOut,
)
from provenance.core.ids import parse_hash32
from provenance.errors import Forbidden

LD_JSON = "application/ld+json"
DCAT_CATALOG = ("The federation's catalogue of general-grade listings as a W3C DCAT 3 dcat:Catalog (JSON-LD, its "
                "context inlined from the package: no network needed)")
DCAT_DATASET = "One listing as a W3C DCAT 3 dcat:Dataset (JSON-LD)"
METADATA = "The record's metadata document (schema: /api/v1/schemas/metadata-v1), exactly as hashed"
SCHEMA = "A published JSON Schema (2020-12)"

RecordPath = Annotated[str, Path(pattern=HASH_PATTERN, description="record id (0x and 64 hex digits)")]
EntityPath = Annotated[int, Path(ge=1, le=2**32 - 1, description="entity id")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$",
                                     description="the `next` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=100)]


def install(app: FastAPI, rt: Runtime) -> None:
    tags: list[str | Enum] = ["catalog"]
    cat = rt.catalog

    def seen(p: Principal | None, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the service; its refusal to show a listing to this caller reads as 401 (anonymous) or 403."""
        try:
            return fn(*args, **kwargs)
        except Forbidden as exc:
            if p is None:
                raise AuthError(401, exc.message) from None
            raise AuthError(403, exc.message) from None

    # Ids in the DCAT documents are under the node's configured public URL (provenance.config.public_url), the one
    # its certificates name; never the request's Host header, which would let a caller choose them.
    def public() -> str:
        return rt.ops.certifier.public_url

    def ld(request: Request, doc: Any) -> JSONResponse:
        return JSONResponse(doc, media_type=choose(request, (LD_JSON, "application/json")), headers={"Vary": "Accept"})

    @app.get(f"{API}/catalog", tags=tags, responses=document(DCAT_CATALOG, media_type=LD_JSON),
             summary="The catalogue as W3C DCAT 3 JSON-LD (general-grade listings with their documents)")
    def catalog_dcat(request: Request) -> JSONResponse:
        return ld(request, cat.dcat(public()))

    @app.get(f"{API}/catalog/search", tags=tags, **typed(CatalogSearchOut),
             summary="Full-text search (Chinese substrings, English words) over titles, descriptions, keywords and "
                     "publisher names, with facets and stable cursors")
    def catalog_search(
        p: Caller,
        q: Annotated[str | None, Query(max_length=200, description="words or a Chinese substring")] = None,
        kind: KindName | None = None,
        grade: GradeName | None = None,
        board: BoardName | None = None,
        registrar: Annotated[str | None, Query(pattern=EXCHANGE_PATTERN, description="exchange code")] = None,
        status: Annotated[str | None, Query(pattern="^(active|suspended|revoked|superseded)$")] = None,
        owner: Annotated[int | None, Query(ge=1, le=2**32 - 1, description="owner entity id")] = None,
        order: OrderName = "relevance",
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> Any:
        return answer(cat.search(viewer=viewer_of(p), q=q, kind=kind, grade=grade, board=board,
                                 registrar=registrar, status=status, owner=owner, order=order, cursor=cursor,
                                 limit=limit))

    @app.get(f"{API}/catalog/boards", tags=tags, **typed(list[BoardOut]),
             summary="The exchange's boards (板块) with the number of listings on each")
    def catalog_boards(p: Caller) -> Any:
        return answer(cat.boards(viewer_of(p)))

    @app.get(f"{API}/catalog/figures", tags=tags, **typed(FiguresOut),
             summary="The federation's figures: listings by board, kind, grade, exchange and month; entities by "
                     "kind, exchange and role")
    def catalog_figures(p: Caller) -> Any:
        return answer(cat.figures(viewer_of(p)))

    @app.get(f"{API}/registrations/{{record}}/metadata", tags=tags, responses=document(METADATA),
             summary="A record's metadata document (404 metadata-not-supplied for a hash-only record; above "
                     "general grade a member credential)")
    def get_metadata(record: RecordPath, p: Caller) -> Any:
        return seen(p, cat.metadata, parse_hash32(record, "record id"), viewer_of(p))

    @app.put(f"{API}/registrations/{{record}}/metadata", tags=tags, **typed(SuppliedOut, 200, write=True),
             summary="Supply the document of a hash-only record: accepted only if it hashes (keccak256 of its "
                     "RFC 8785 form) to the record's metadataHash and validates")
    def put_metadata(record: RecordPath, _p: Writer,
                     body: Annotated[dict[str, Any], Body(description="the metadata document")]) -> Any:
        return cat.supply(parse_hash32(record, "record id"), body, where="body")

    @app.get(f"{API}/registrations/{{record}}/dcat", tags=tags, responses=document(DCAT_DATASET, media_type=LD_JSON),
             summary="One listing as a W3C DCAT 3 dcat:Dataset (JSON-LD)")
    def get_dcat(record: RecordPath, p: Caller, request: Request) -> JSONResponse:
        return ld(request, seen(p, cat.dcat_dataset, parse_hash32(record, "record id"), public(),
                                viewer_of(p)))

    @app.get(f"{API}/entities/{{entity}}/profile", tags=tags, **typed(ProfileOut),
             summary="An entity's profile (an individual's only for this node's own credentials: others see the "
                     "id and role)")
    def get_profile(entity: EntityPath, p: Caller) -> Any:
        return answer(cat.profile(entity, viewer_of(p)))

    @app.put(f"{API}/entities/{{entity}}/profile", tags=tags, **typed(ProfileOut, 200, write=True),
             summary="Set the profile of an entity this exchange onboarded (an organisation's is published on "
                     "chain, bound to its credit code; an individual's stays here)")
    def put_profile(entity: EntityPath, _p: Admin,
                    body: Annotated[dict[str, Any], Body(description="the entity profile")]) -> Any:
        return cat.set_profile(entity, body)

    @app.get(f"{API}/entities/{{entity}}/records", tags=tags, **typed(CatalogSearchOut),
             summary="An entity's listings, newest first")
    def entity_records(entity: EntityPath, p: Caller, cursor: Cursor = None, limit: Limit = 20) -> Any:
        return answer(cat.entity_records(entity, viewer_of(p), cursor=cursor, limit=limit))

    @app.get(f"{API}/schemas/{{name}}", tags=tags, responses=document(SCHEMA, media_type="application/schema+json"),
             summary="The published JSON Schemas of metadata documents and entity profiles")
    def get_schema(name: SchemaName) -> Any:
        return cat.schema(name)
