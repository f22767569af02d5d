"""Mutual-recognition certificates: issue, download, verify online and offline, recognise; federation
snapshots for offline verifiers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from provenance.api.deps import (
    API,
    CERTIFICATE,
    SNAPSHOT,
    Caller,
    RecordPath,
    Writer,
    answer,
    document,
    refusals_for,
    reveal_for,
    rid,
    typed,
)
from provenance.api.negotiate import choose
from provenance.api.runtime import Runtime
from provenance.api.schemas import (
    CertificateSummaryOut,
    IssueIn,
    OfflineVerifyIn,
    RecognitionOut,
    RecognizeIn,
    ReportOut,
    SnapshotIn,
)
from provenance.core.ids import parse_address, parse_hash32

VC_MEDIA_TYPE = "application/vc"
"""VC 2.0 section 6.3: the media type of a credential secured by an embedded proof, as a certificate is."""


def _media(request: Request) -> str:
    """application/vc, the media type of a VC 2.0 credential, or application/json for a client that takes only
    that (negotiated: provenance.api.negotiate)."""
    return choose(request, (VC_MEDIA_TYPE, "application/json"))


def install(app: FastAPI, rt: Runtime) -> None:
    ops = rt.ops

    @app.post(f"{API}/certificates", tags=["certificates"], status_code=201,
              responses=document(CERTIFICATE, 201, write=True, media_type=VC_MEDIA_TYPE),
              summary="Issue a mutual-recognition certificate for one of this exchange's records")
    def issue(body: IssueIn, _p: Writer, request: Request) -> JSONResponse:
        doc = ops.issue(rid(body.record), days=body.days)
        # The same document as its download, so the same media type (application/json when asked for).
        return JSONResponse(doc, status_code=201, media_type=_media(request), headers={"Vary": "Accept"})

    @app.get(f"{API}/certificates", tags=["certificates"], summary="Certificates issued by this node",
             **typed(list[CertificateSummaryOut], 200))
    async def certificates(p: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        # Only the certificates the caller may read (their records and lineage all visible to it) are listed.
        return answer(ops.certificates(limit=limit, reveal=reveal_for(p)))

    @app.get(f"{API}/certificates/{{credential}}", tags=["certificates"],
             responses=document(CERTIFICATE, media_type=VC_MEDIA_TYPE),
             summary="Download an issued certificate by its credential hash")
    async def download(credential: RecordPath, request: Request, p: Caller) -> JSONResponse:
        with refusals_for(p):
            doc = ops.certificate(parse_hash32(credential, "credential hash"), reveal=reveal_for(p))
        return JSONResponse(doc, media_type=_media(request), headers={
            "Content-Disposition": f'attachment; filename="{credential}.json"', "Vary": "Accept"})

    @app.post(f"{API}/certificates/verify", tags=["certificates"], **typed(ReportOut, 200),
              summary="Verify a certificate against this node's view of the chain: a report of every check")
    def verify(certificate: Annotated[dict[str, Any], Body(description="the certificate (VC 2.0 JSON)")]) \
            -> Any:
        return ops.verify(certificate)

    @app.post(f"{API}/certificates/verify-offline", tags=["certificates"], **typed(ReportOut, 200),
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
             summary="Recognitions of a certificate recorded on-chain", **typed(list[RecognitionOut], 200))
    async def recognitions(credential: RecordPath) -> Any:
        return answer(ops.recognitions(parse_hash32(credential, "credential hash")))

    @app.post(f"{API}/snapshots", tags=["certificates"], status_code=201, responses=document(SNAPSHOT, 201, write=True),
              summary="A signed federation snapshot for offline verifiers (its status list anchored on-chain)")
    def snapshot(body: SnapshotIn, _p: Writer) -> Any:
        return ops.snapshot(anchor=body.anchor)
