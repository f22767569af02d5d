"""RFC 9457 problem documents: every error the API returns, naming the field or rule at fault.

No stack trace reaches a client: an unexpected exception is logged with an incident id and answered with a
500 problem carrying only that id.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from provenance.api.auth import AuthError
from provenance.chain.reverts import revert_kind
from provenance.core.jsonable import jsonable
from provenance.errors import (
    OUTCOMES,
    ChainError,
    Conflict,
    ContractReverted,
    DocumentTooLarge,
    DuplicateKey,
    Forbidden,
    InvalidInput,
    KeystoreError,
    MalformedJson,
    NestingTooDeep,
    NotFound,
    ProvenanceError,
    StoreError,
    VerificationError,
)
from provenance.services.batching import RuleViolation

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:provenance:problem:"
log = logging.getLogger("provenance.api")

TITLES = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 406: "Not acceptable", 408: "Request timeout", 409: "Conflict",
          413: "Request body too large",
          415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
          431: "Request header fields too large", 500: "Internal error", 501: "Not implemented",
          503: "Service unavailable"}

KIND_TITLES = {"verification-failed": "Verification failed"}
"""Titles of problem types that share a status with others (RFC 9457: a title summarises the type)."""


def problem(status: int, kind: str, detail: str, *, instance: str | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    title = KIND_TITLES.get(kind) or TITLES.get(status, "Error")
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        return f"{where}.{'.'.join(rest)}" if rest else where
    return ".".join(parts)


def error_response(exc: BaseException, path: str) -> JSONResponse:
    """The problem document for an exception raised while handling ``path``."""
    if isinstance(exc, AuthError):
        headers = {"WWW-Authenticate": 'Bearer realm="provenance"'} if exc.status == 401 else \
            {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        kind = exc.kind or ("unauthenticated" if exc.status == 401 else "forbidden")
        return problem(exc.status, kind, exc.detail, instance=path, headers=headers)
    if isinstance(exc, RuleViolation):
        return problem(422, "rule-violated", exc.message, instance=path, rule=exc.violation.error)
    if isinstance(exc, ContractReverted):
        status = OUTCOMES[revert_kind(exc.error)].http_status
        return problem(status, "rule-violated", exc.message, instance=path, rule=exc.error,
                       args=jsonable(dict(exc.args_by_name)), contract=exc.contract)
    if isinstance(exc, DocumentTooLarge):
        return problem(413, "body-too-large", exc.message, instance=path, limit=exc.limit)
    if isinstance(exc, NestingTooDeep):
        return problem(422, "nesting-too-deep", exc.message, instance=path, limit=exc.limit)
    if isinstance(exc, DuplicateKey):
        return problem(422, "duplicate-key", exc.message, instance=path, key=exc.key, path=exc.path)
    if isinstance(exc, MalformedJson):
        return problem(422, "malformed-json", exc.message, instance=path)
    if isinstance(exc, InvalidInput | Conflict | Forbidden | NotFound):
        # A refusal may name its own problem type within its kind (the catalogue's metadata-not-supplied).
        kind = getattr(exc, "problem", None) or exc.kind.value
        return problem(OUTCOMES[exc.kind].http_status, kind, exc.message, instance=path)
    if isinstance(exc, VerificationError):
        return problem(422, "verification-failed", exc.message, instance=path)
    if isinstance(exc, ChainError):
        return problem(503, "chain-unavailable", exc.message, instance=path)
    if isinstance(exc, StoreError | KeystoreError | ProvenanceError):
        incident = secrets.token_hex(6)
        log.error("incident %s on %s: %s", incident, path, exc)
        return problem(503, "node-unavailable", f"the node cannot serve this now (incident {incident})",
                       instance=path, incident=incident)
    incident = secrets.token_hex(6)
    log.exception("incident %s on %s", incident, path, exc_info=exc)
    return problem(500, "internal-error", f"an internal error occurred (incident {incident})", instance=path,
                   incident=incident)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": "request", "message": "invalid"}
        detail = f"{first['field']}: {first['message']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem(422, "invalid-input", detail, instance=request.url.path, errors=errors,
                       field=first["field"])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 406: "not-acceptable"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405 and headers is not None:
            # The guard serves HEAD wherever GET is (provenance.api.middleware); the router's Allow leaves it out.
            allow = [m.strip() for m in headers.get("Allow", headers.get("allow", "")).split(",") if m.strip()]
            if "GET" in allow and "HEAD" not in allow:
                headers.pop("allow", None)
                headers["Allow"] = ", ".join([*allow, "HEAD"])
        return problem(exc.status_code, kind, detail, instance=request.url.path, headers=headers)

    async def _known(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc, request.url.path)

    # Anything else is answered by the guard middleware (provenance.api.middleware), without re-raising.
    for cls in (AuthError, ProvenanceError):
        app.add_exception_handler(cls, _known)
