"""HTTP routes of the W3C track: certificates as application/vc+jwt (VC-JOSE-COSE), the node's public JWK set,
verification of a vc+jwt (see provenance.core.vc_jose), and the exchanges' Bitstring Status Lists
(provenance.core.status_list) that certificates' ``credentialStatus`` entries name: those of every exchange the
node holds a current key of, each signed by that exchange's key.

Reads are open, like the certificates' download: a certificate and its status are meant for anyone to check.
Anchoring a status list's hash on-chain is a write of the node's exchange (a writer's token or signed request).
"""

from __future__ import annotations

from typing import Annotated, Any

from coincurve import PrivateKey
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from provenance.api.auth import Principal
from provenance.api.deps import API, PROBLEM_RESPONSES, Caller, Writer, document, refusals_for, reveal_for
from provenance.api.negotiate import choose
from provenance.api.runtime import Runtime
from provenance.api.schemas import EXCHANGE_PATTERN, HASH_PATTERN
from provenance.core import vc_jose
from provenance.core.canonical import canonical_json, hex0x
from provenance.core.ids import parse_hash32
from provenance.core.status_list import list_hash
from provenance.errors import NotFound


class JwtIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jwt: str = Field(description="the compact JWS (application/vc+jwt)", max_length=vc_jose.MAX_TOKEN)


VC_MEDIA_TYPE = "application/vc"
"""VC 2.0 section 6.3: a credential secured by an embedded proof, or none, as JSON-LD compacted form."""
CodePath = Annotated[str, Path(pattern=EXCHANGE_PATTERN, description="exchange code (e.g. SDE) or numeric id")]
PurposePath = Annotated[str, Path(pattern=r"^(revocation|suspension)$", description="status purpose")]
STATUS_LIST = ("A W3C Bitstring Status List credential (application/vc; application/vc+jwt when asked for in "
               "Accept): bit i is the status of the exchange's record of index sequence number i, at atBlock")

ExchangeQuery = Annotated[str | None, Query(pattern=EXCHANGE_PATTERN, description=(
    "an exchange code or id whose status lists this node serves: the JWK set of the key it signs them with"))]
CredentialPath = Annotated[str, Path(pattern=HASH_PATTERN, description="credential hash (0x and 64 hex digits)")]

JWT = ("The certificate's credential (without its embedded proof) as a compact JWS, application/vc+jwt "
       "(VC-JOSE-COSE; ES256K, RFC 8812), signed by this exchange's key valid at the issuance block (its kid)")


JWT_RESPONSES: dict[int | str, dict[str, Any]] = {**PROBLEM_RESPONSES, 200: {"description": JWT, "content": {
    vc_jose.MEDIA_TYPE: {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object", "description": "with Accept: application/json, "
                                                                     "the token as {\"jwt\": ...}"}}}}}


def install(app: FastAPI, rt: Runtime) -> None:
    ops = rt.ops

    def token_of(credential: str, p: Principal | None) -> str:
        with refusals_for(p):
            doc = ops.certificate(parse_hash32(credential, "credential hash"), reveal=reveal_for(p))
        with ops.lock:
            return ops.certifier.jose(doc, ops.signer())

    @app.get(f"{API}/certificates/{{credential}}/jwt", tags=["certificates"], responses=JWT_RESPONSES,
             summary="Download an issued certificate as application/vc+jwt (VC-JOSE-COSE, ES256K)")
    def certificate_jwt(credential: CredentialPath, request: Request, p: Caller) -> Response:
        media = choose(request, (vc_jose.MEDIA_TYPE, "application/json"))
        token = token_of(credential, p)
        if media == "application/json":
            return JSONResponse({"jwt": token}, headers={"Vary": "Accept"})
        return Response(token + "\n", media_type=vc_jose.MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{credential}.jwt"', "Vary": "Accept"})

    @app.get(f"{API}/jwks", tags=["certificates"],
             responses=document("This node's public key as a JWK set (RFC 7517): the key its vc+jwt tokens name; "
                                "with ?exchange=, the key it signs that exchange's status lists with"),
             summary="The JWK set of this node's signing key (secp256k1, ES256K)")
    def jwks(exchange: ExchangeQuery = None) -> Any:
        with ops.lock:
            signer = ops.signer() if exchange is None else ops.exchange_signer(exchange)
        if signer is None:
            raise NotFound(f"this node holds no current key of exchange {exchange}")
        public = PrivateKey(bytes(signer.key)).public_key.format(compressed=True)
        return {"keys": [vc_jose.public_jwk(public, rt.node.contracts.chain.chain_id)]}

    @app.post(f"{API}/certificates/verify-jwt", tags=["certificates"],
              responses=document("Whether the vc+jwt verified: its JWS (issuer, key, issuance block) or why not, "
                                 "and, once the JWS verifies, the report of /certificates/verify on its payload "
                                 "(valid, mode, checks: jose first, byJose: the checks the JWS made)"),
              summary="Verify a certificate given as application/vc+jwt against this node's view of the chain")
    def verify_jwt(body: JwtIn) -> Any:
        # The token comes inside JSON: every request body the node reads is I-JSON (api/middleware.py).
        return ops.verify_jwt(body.jwt)

    @app.get(f"{API}/status-lists/{{code}}/{{purpose}}", tags=["certificates"], summary=STATUS_LIST,
             responses={**PROBLEM_RESPONSES, 200: {"description": STATUS_LIST, "content": {
                 VC_MEDIA_TYPE: {"schema": {"type": "object"}}, vc_jose.MEDIA_TYPE: {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object", "description": STATUS_LIST}}}}})
    def status_list(code: CodePath, purpose: PurposePath, request: Request) -> Response:
        media = choose(request, (VC_MEDIA_TYPE, vc_jose.MEDIA_TYPE, "application/json"))
        with ops.lock:
            # A list is signed by a current key of the exchange it is the list of (its issuer), never by the
            # node's own key when it is another exchange's: so the node serves only the exchanges it holds one of.
            signer = ops.exchange_signer(code)
            if signer is None:
                raise NotFound(f"this node holds no current key of exchange {code}, so it does not serve "
                               f"{code}'s status lists: that exchange's own node does")
            doc, anchored = ops.certifier.current_status_list(code, purpose)
            token = vc_jose.sign(doc, bytes(signer.key)) if media == vc_jose.MEDIA_TYPE else None
        # The list changes as records are suspended and revoked: a cache must ask again.
        headers = {"Cache-Control": "no-cache", "Provenance-Status-List-Hash": hex0x(list_hash(doc)), "Vary": "Accept"}
        if anchored is not None:
            headers["Provenance-Anchored-Block"] = str(anchored)
        if token is not None:
            return Response(token + "\n", media_type=vc_jose.MEDIA_TYPE, headers=headers)
        return Response(canonical_json(doc), media_type=media, headers=headers)

    @app.post(f"{API}/status-lists/anchor", tags=["certificates"], status_code=201,
              responses=document("What was anchored: each list's purpose, block, hash, transaction and URL", 201,
                                 write=True),
              summary="Anchor the hash of this exchange's status lists on-chain (anchorStatusList)")
    def anchor_status_lists(_p: Writer) -> Any:
        with ops.lock:
            return ops.certifier.anchor_status_lists(ops.signer())
