"""HTTP routes of the W3C track: certificates as application/vc+jwt (VC-JOSE-COSE), the node's public JWK set,
and verification of a vc+jwt (see provenance.core.vc_jose).

Reads are open, like the certificates' download: a certificate is a document meant for anyone to check.

(No ``from __future__ import annotations`` here, as in flow_routes: FastAPI resolves the annotations of the
routes local to ``install`` in the module's globals.)
"""

import time
from typing import Annotated, Any

from coincurve import PrivateKey
from fastapi import FastAPI, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from provenance.api.models import HASH_PATTERN
from provenance.api.runtime import Runtime
from provenance.core import vc_jose
from provenance.core.canonical import hex0x
from provenance.core.ids import parse_hash32
from provenance.errors import VerificationError


class JwtIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jwt: str = Field(description="the compact JWS (application/vc+jwt)", max_length=vc_jose.MAX_TOKEN)


CredentialPath = Annotated[str, Path(pattern=HASH_PATTERN, description="credential hash (0x and 64 hex digits)")]

JWT = ("The certificate's credential (without its embedded proof) as a compact JWS, application/vc+jwt "
       "(VC-JOSE-COSE; ES256K, RFC 8812), signed by this exchange's key valid at the issuance block (its kid)")


def _jwt_responses(problems: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {**problems, 200: {"description": JWT, "content": {vc_jose.MEDIA_TYPE: {"schema": {"type": "string"}}}}}


def install(app: FastAPI, rt: Runtime, *, api: str, ok: Any, document: Any, needs: Any, caller: Any) -> None:
    ops = rt.ops
    problems = {k: v for k, v in document("x").items() if k != 200}

    def token_of(credential: str) -> str:
        doc = ops.certificate(parse_hash32(credential, "credential hash"))
        with ops.lock:
            return ops.certifier.jose(doc, ops.signer())

    @app.get(f"{api}/certificates/{{credential}}/jwt", tags=["certificates"], responses=_jwt_responses(problems),
             summary="Download an issued certificate as application/vc+jwt (VC-JOSE-COSE, ES256K)")
    def certificate_jwt(credential: CredentialPath) -> Response:
        return Response(token_of(credential) + "\n", media_type=vc_jose.MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{credential}.jwt"'})

    @app.get(f"{api}/jwks", tags=["certificates"],
             responses=document("This node's public key as a JWK set (RFC 7517): the key its vc+jwt tokens name"),
             summary="The JWK set of this node's signing key (secp256k1, ES256K)")
    def jwks() -> Any:
        signer = ops.signer()
        public = PrivateKey(bytes(signer.key)).public_key.format(compressed=True)
        return {"keys": [vc_jose.public_jwk(public, rt.node.contracts.chain.chain_id)]}

    @app.post(f"{api}/certificates/verify-jwt", tags=["certificates"],
              responses=document("Whether the vc+jwt verified: its issuer, key and issuance block, or why not"),
              summary="Verify a certificate given as application/vc+jwt against this node's view of the chain")
    def verify_jwt(body: JwtIn) -> Any:
        # The token comes inside JSON: every request body the node reads is I-JSON (api/middleware.py).
        with ops.lock:
            view = ops.certifier.online_view()
        try:
            got = vc_jose.verify(body.jwt, view, now=int(time.time()))
        except VerificationError as exc:
            return {"valid": False, "error": type(exc).__name__, "detail": exc.message}
        return {"valid": True, "issuer": got.issuer, "key": hex0x(got.key), "issuedBlock": got.issued_block,
                "kid": got.header["kid"], "credential": got.credential}
