"""What every route module shares: the API prefix, the documented responses, the path and query types, who is
calling (a token or a signed request) and what the caller may see."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from provenance.api.auth import SENT_METHOD, WRITE_ROLES, AuthError, Principal, recover_request_signer
from provenance.api.runtime import Runtime
from provenance.api.schemas import EXCHANGE_PATTERN, HASH_PATTERN, Problem
from provenance.core.ids import parse_hash32
from provenance.errors import Forbidden
from provenance.services.catalog import PUBLIC, Viewer
from provenance.services.results import Result, documents
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


def typed(model: Any, status: int = 200, *, write: bool = False) -> dict[str, Any]:
    """The decorator arguments of a route answering a service's typed result (provenance.services.results):
    FastAPI checks the result against ``model`` and renders it with its unset members left out, as the CLI
    renders it (``Result.document``); the OpenAPI document names the model and the problems the route may answer."""
    return {"response_model": model, "response_model_exclude_unset": True,
            "responses": ok(model, status, write=write)}


def document(what: str, status: int = 200, *, write: bool = False,
             media_type: str | None = None) -> dict[int | str, dict[str, Any]]:
    """The documented responses of a route returning a document in a format of its own (VC 2.0, PROV-JSON...);
    ``media_type`` names the route's own type beside application/json, which a client gets by asking for it."""
    schema = {"type": "object", "description": what}
    content = {"application/json": {"schema": schema}} | ({media_type: {"schema": schema}} if media_type else {})
    return {**(WRITE_RESPONSES if write else PROBLEM_RESPONSES), status: {"description": what, "content": content}}


CERTIFICATE = ("A mutual-recognition certificate: a W3C Verifiable Credential 2.0 (JSON) with the record, its lineage, "
               "inclusion proofs under anchored checkpoints, and the issuer's EIP-712 proof (see core/certificates/)")
SNAPSHOT = "A federation snapshot signed by this exchange, for offline verifiers (see core/snapshot.py)"


RecordPath = Annotated[str, Path(pattern=HASH_PATTERN, description="record id (0x and 64 hex digits)")]
ExchangeRef = Annotated[str, Path(pattern=EXCHANGE_PATTERN, description="exchange code (e.g. SDE) or numeric id")]
HashQuery = Annotated[str | None, Query(pattern=HASH_PATTERN)]
Depth = Annotated[int, Query(ge=1, le=256)]
Nodes = Annotated[int, Query(ge=1, le=100_000)]


# ---------------------------------------------------------------------- the query


# id(route) -> (the route, kept so its id is not reused; the names of its query parameters that take several values)
_LIST_QUERIES: dict[int, tuple[Any, frozenset[str]]] = {}


def _takes_several(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_takes_several(a) for a in get_args(annotation) if a is not type(None))
    if origin is Annotated:
        return _takes_several(get_args(annotation)[0])
    return origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset)


def _list_queries(route: Any) -> frozenset[str]:
    known = _LIST_QUERIES.get(id(route))
    if known is not None:
        return known[1]
    found: set[str] = set()
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is not None:
            found.update(f.alias for f in dependant.query_params if _takes_several(f.field_info.annotation))
            pending.extend(dependant.dependencies)
    names = frozenset(found)
    _LIST_QUERIES[id(route)] = (route, names)
    return names


async def single_query_values(request: Request) -> None:
    """Every route's first dependency: a query parameter given twice is refused (422 naming it) unless the route
    declares it a list; the framework would otherwise take the last value and ignore the others."""
    query = request.scope.get("query_string") or b""
    if b"&" not in query:
        return
    params = request.query_params
    repeated = [name for name in dict.fromkeys(params.keys()) if len(params.getlist(name)) > 1]
    if repeated:
        several = _list_queries(request.scope.get("route"))
        repeated = [name for name in repeated if name not in several]
    if repeated:
        raise RequestValidationError([{"loc": ("query", name), "type": "repeated",
                                       "msg": "given more than once; this parameter takes one value"}
                                      for name in repeated])


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
        method = request.scope.get(SENT_METHOD, request.method)  # HEAD as sent, though the route sees GET
        address = recover_request_signer(dict(request.headers), rt.chain_id, rt.registry, method, target,
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


def reveal_for(p: Principal | None) -> Callable[[IndexedRecord], bool]:
    """Whether the caller may see a record in full: members of the federation every record, a merchant its own,
    anyone else general-grade records."""
    if p is not None and p.role in ("admin", "registrar", "member"):
        return lambda _r: True
    if p is not None and p.role == "merchant":
        return lambda r: r.grade == 0 or r.owner == p.entity
    return lambda r: r.grade == 0


@contextmanager
def refusals_for(p: Principal | None) -> Iterator[None]:
    """A service's refusal to show this caller something (Forbidden) reads as 401 to an anonymous caller, whom a
    credential might let in, and as 403 to a credential that does not."""
    try:
        yield
    except Forbidden as exc:
        raise AuthError(401 if p is None else 403, exc.message) from None


def viewer_of(p: Principal | None) -> Viewer:
    """The catalogue's view of a caller (the same rule as records' redaction, plus this node's own credentials
    for individuals' profiles)."""
    if p is None:
        return PUBLIC
    if p.role in ("admin", "registrar"):
        return Viewer(members=True, local=True)
    if p.role == "member":
        # A member token is a credential this node issued; a request signed by a partner exchange's own key is
        # the partner speaking for itself, and an individual's profile does not leave this exchange for it.
        return Viewer(members=True, local=not p.name.startswith("key:"))
    return Viewer(entity=p.entity) if p.role == "merchant" else PUBLIC


def rid(text: str) -> bytes:
    """A record id from a path or query parameter."""
    return parse_hash32(text, "record id")


class FastJSON(JSONResponse):
    """JSON rendered by orjson, returned as is: the hot read routes skip FastAPI's re-encoding of plain dicts."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def answer(result: Result | Sequence[Result]) -> FastJSON:
    """A read route's typed result, rendered at once. The service validated it as it built it; FastAPI's own
    response_model pass (dump, validate again, serialise) would double the cost of the explorer's reads (the
    record page's property, the catalogue's search), so read routes declare the model (``typed``) and hand FastAPI
    the finished document. Writes, bound by the chain, return the result and let FastAPI check it once more."""
    return FastJSON(documents(result))
