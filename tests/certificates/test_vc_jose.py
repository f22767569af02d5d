"""Certificates as application/vc+jwt (VC-JOSE-COSE, ES256K per RFC 8812): jwcrypto, which no one here wrote,
verifies the node's token with the issuer's public JWK; the module's own verifier accepts it online and offline,
and refuses every tampered payload, header and signature, a high-s twin, alg none and HS256 confusion, and keys
that are not the issuer's at the issuance block."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from coincurve import PrivateKey
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from provenance.core import certificates as C
from provenance.core import vc_jose as J
from provenance.core.canonical import canonical_json
from provenance.core.eip712 import SECP256K1_N
from provenance.core.snapshot import SnapshotView
from provenance.errors import InvalidSignature, VerificationError
from tests.support.certificates import World, make_world

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(Path(tmp_path_factory.mktemp("jose")))
    yield w
    w.close()


@pytest.fixture(scope="module")
def cert(world: World) -> Doc:
    return world.certifier.issue(world.product, world.fed.keys["SDE"])


@pytest.fixture(scope="module")
def key(world: World) -> bytes:
    return bytes(world.fed.keys["SDE"].key)


@pytest.fixture(scope="module")
def token(cert: Doc, key: bytes) -> str:
    return J.sign(cert, key)


@pytest.fixture(scope="module")
def view(world: World) -> C.FederationView:
    return world.certifier.online_view()


def now_of(cert: Doc) -> int:
    return C._parse_iso(cert["validFrom"], "$") + 60


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independent_jwk(private_key: bytes) -> jwk.JWK:
    """The public JWK built here from the uncompressed point, not by the module under test."""
    point = PrivateKey(private_key).public_key.format(compressed=False)
    assert point[0] == 4 and len(point) == 65
    return jwk.JWK(kty="EC", crv="secp256k1", x=b64(point[1:33]), y=b64(point[33:]))


def jwcrypto_payload(token: str, key: jwk.JWK) -> bytes:
    obj = jws.JWS()
    obj.allowed_algs = ["ES256K"]
    obj.deserialize(token)
    obj.verify(key)
    return bytes(obj.payload)


# ---------------------------------------------------------------------- the token as an independent library reads it


def test_jwcrypto_verifies_the_token_with_the_issuers_public_jwk(token: str, cert: Doc, key: bytes) -> None:
    payload = jwcrypto_payload(token, independent_jwk(key))
    assert json.loads(payload) == J.credential_of(cert)
    assert "proof" not in json.loads(payload) and json.loads(payload)["id"] == cert["id"]
    header = json.loads(unb64(token.split(".")[0]))
    assert header == {"alg": "ES256K", "typ": "vc+jwt", "cty": "vc",
                      "kid": cert["proof"][0]["verificationMethod"]}
    assert len(unb64(token.split(".")[2])) == 64  # raw r || s, not DER


def test_jwcrypto_refuses_the_token_under_another_key(token: str) -> None:
    with pytest.raises(JWException):
        jwcrypto_payload(token, independent_jwk(b"\x07" * 32))


def test_signing_is_deterministic_and_low_s(cert: Doc, key: bytes, token: str) -> None:
    assert J.sign(cert, key) == token
    s = int.from_bytes(unb64(token.split(".")[2])[32:], "big")
    assert 0 < s <= SECP256K1_N // 2


def test_the_public_jwk_is_the_one_built_independently(key: bytes, cert: Doc, world: World) -> None:
    pub = PrivateKey(key).public_key.format(compressed=True)
    mine = J.public_jwk(pub, world.fed.chain.chain_id)
    theirs = json.loads(independent_jwk(key).export_public())
    assert {k: mine[k] for k in ("kty", "crv", "x", "y")} == theirs
    assert mine["kid"] == cert["proof"][0]["verificationMethod"] and mine["alg"] == "ES256K"


# ---------------------------------------------------------------------- the module's verifier accepts it


def test_verifies_online(token: str, cert: Doc, view: C.FederationView, world: World) -> None:
    got = J.verify(token, view, now=now_of(cert))
    assert got.credential == J.credential_of(cert)
    assert got.key == bytes.fromhex(world.fed.keys["SDE"].address[2:])
    assert got.issuer == cert["issuer"]["exchangeId"] and got.issued_block == cert["proof"][0]["issuedBlock"]
    assert J.verify(token.encode() + b"\n", view, now=now_of(cert)) == got  # a downloaded file's newline


def test_only_one_trailing_newline_may_follow_the_token(token: str, cert: Doc, view: C.FederationView) -> None:
    # A downloaded file's newline (LF, or CRLF where it was saved so) is the one thing allowed around the token.
    got = J.verify(token, view, now=now_of(cert))
    assert J.verify(token + "\r\n", view, now=now_of(cert)) == got
    assert J.verify(token.encode() + b"\r\n", view, now=now_of(cert)) == got
    for around in (" " + token, token + " ", "\t" + token, token + "\n\n", token + "\r", "\n" + token,
                   token + " \n", token + "\r\n\r\n", "\r\n" + token + "\r\n"):
        with pytest.raises(J.InvalidJws, match="surrounded by white space"):
            J.verify(around, view, now=now_of(cert))
        with pytest.raises(J.InvalidJws, match="surrounded by white space"):
            J.verify(around.encode(), view, now=now_of(cert))


def test_verifies_offline_against_a_snapshot(token: str, cert: Doc, world: World) -> None:
    snap = world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)
    offline = SnapshotView(snap, world.certifier.trusted_keys(2))
    assert J.verify(token, offline, now=now_of(cert)).credential == J.credential_of(cert)


# ---------------------------------------------------------------------- tampering


def resigned(header: dict[str, Any], payload: Any, private_key: bytes, *, high_s: bool = False) -> str:
    """A token signed here (not by the module) over any header and payload."""
    signing_input = f"{b64(canonical_json(header))}.{b64(json.dumps(payload).encode())}"
    sig = PrivateKey(private_key).sign_recoverable(hashlib.sha256(signing_input.encode()).digest(), hasher=None)
    r, s = sig[:32], int.from_bytes(sig[32:64], "big")
    if high_s:
        s = SECP256K1_N - s
    return f"{signing_input}.{b64(r + s.to_bytes(32, 'big'))}"


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, p, s = token.split(".")
    return json.loads(unb64(h)), json.loads(unb64(p)), s


def swap(token: str, *, header: dict[str, Any] | None = None, payload: Any = None) -> str:
    """The token with a part replaced, the original signature kept."""
    h, p, s = token.split(".")
    if header is not None:
        h = b64(json.dumps(header).encode())
    if payload is not None:
        p = b64(json.dumps(payload).encode())
    return f"{h}.{p}.{s}"


def payload_edits(cert: Doc) -> list[tuple[str, Any]]:
    cred = J.credential_of(cert)
    edits: list[tuple[str, Any]] = []
    for path, value in [(("validUntil",), "2099-01-01T00:00:00Z"), (("issuer", "name"), "x"),
                        (("credentialSubject", "record", "owner"), 99),
                        (("credentialSubject", "record", "status"), "revoked"),
                        (("evidence", 1, "leafIndex"), 7)]:
        doc = json.loads(json.dumps(cred))
        target = doc
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
        edits.append(("/".join(map(str, path)), doc))
    edits.append(("with the proof", {**cred, "proof": cert["proof"]}))
    return edits


@pytest.mark.parametrize("index", range(6))
def test_a_changed_payload_is_refused_by_both(index: int, token: str, cert: Doc, key: bytes,
                                              view: C.FederationView) -> None:
    _name, payload = payload_edits(cert)[index]
    bad = swap(token, payload=payload)
    with pytest.raises(InvalidSignature):
        J.verify(bad, view, now=now_of(cert))
    with pytest.raises(JWException):
        jwcrypto_payload(bad, independent_jwk(key))


def test_a_proof_in_the_payload_is_refused_even_when_signed(cert: Doc, key: bytes, view: C.FederationView) -> None:
    header, _, _ = parts(J.sign(cert, key))
    with pytest.raises(J.InvalidJws, match="without an embedded proof"):
        J.verify(resigned(header, cert, key), view, now=now_of(cert))


@pytest.mark.parametrize("change", [
    {"typ": "JWT"}, {"cty": "json"}, {"alg": "ES256"},
    {"kid": "did:pkh:eip155:1:0x" + "11" * 20 + "#blockchainAccountId"}, {"crit": ["b64"]},
    {"b64": False}, {"jwk": {"kty": "EC"}},
])
def test_a_changed_header_is_refused(change: dict[str, Any], token: str, cert: Doc, key: bytes,
                                     view: C.FederationView) -> None:
    header, _, _ = parts(token)
    with pytest.raises(VerificationError):
        J.verify(swap(token, header={**header, **change}), view, now=now_of(cert))
    # and still refused when re-signed, except a kid change, which the signature then fails
    if "kid" not in change:
        with pytest.raises(J.InvalidJws):
            J.verify(resigned({**header, **change}, J.credential_of(cert), key), view, now=now_of(cert))


def test_another_keys_kid_is_refused(token: str, cert: Doc, world: World, view: C.FederationView) -> None:
    header, _, _ = parts(token)
    other = world.fed.keys["ZJDE"].address.lower()
    kid = f"did:pkh:eip155:{world.fed.chain.chain_id}:{other}#blockchainAccountId"
    with pytest.raises(InvalidSignature, match="not by the kid's key"):
        J.verify(swap(token, header={**header, "kid": kid}), view, now=now_of(cert))


@pytest.mark.parametrize("flip", [0, 31, 32, 63])
def test_a_changed_signature_is_refused_by_both(flip: int, token: str, cert: Doc, key: bytes,
                                                view: C.FederationView) -> None:
    h, p, s = token.split(".")
    sig = bytearray(unb64(s))
    sig[flip] ^= 1
    bad = f"{h}.{p}.{b64(bytes(sig))}"
    with pytest.raises(InvalidSignature):
        J.verify(bad, view, now=now_of(cert))
    with pytest.raises(JWException):
        jwcrypto_payload(bad, independent_jwk(key))


def test_the_high_s_twin_is_refused(token: str, cert: Doc, key: bytes, view: C.FederationView) -> None:
    header, _, _ = parts(token)
    twin = resigned(header, J.credential_of(cert), key, high_s=True)
    jwcrypto_payload(twin, independent_jwk(key))  # ECDSA itself accepts (r, n - s): the twin is a real signature
    with pytest.raises(InvalidSignature, match="upper half"):
        J.verify(twin, view, now=now_of(cert))


@pytest.mark.parametrize("sig", [b"", b"\x00" * 64, bytes(32) + b"\x01" * 32, b"\x01" * 65,
                                 SECP256K1_N.to_bytes(32, "big") + b"\x01" * 32])
def test_malformed_signatures_are_refused(sig: bytes, token: str, cert: Doc, view: C.FederationView) -> None:
    h, p, _ = token.split(".")
    with pytest.raises(InvalidSignature):
        J.verify(f"{h}.{p}.{b64(sig)}", view, now=now_of(cert))


def test_alg_none_is_refused(token: str, cert: Doc, view: C.FederationView) -> None:
    header, payload, _ = parts(token)
    unsigned = f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}.{b64(json.dumps(payload).encode())}."
    with pytest.raises(J.InvalidJws, match="algorithm"):
        J.verify(unsigned, view, now=now_of(cert))


def test_hs256_with_the_public_key_as_secret_is_refused(token: str, cert: Doc, key: bytes,
                                                        view: C.FederationView) -> None:
    header, payload, _ = parts(token)
    secret = PrivateKey(key).public_key.format(compressed=False)  # what a confused verifier would use
    signing_input = f"{b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(J.InvalidJws, match="algorithm"):
        J.verify(f"{signing_input}.{b64(mac)}", view, now=now_of(cert))


@pytest.mark.parametrize("mangle", [
    lambda t: t + ".x", lambda t: t.replace(".", "..", 1), lambda t: t.split(".", 1)[1],
    lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
    lambda t: t + "=", lambda t: "é" + t, lambda t: t[:-1] + ("B" if t[-1] == "A" else "A") + "Q",
])
def test_malformed_tokens_are_refused(mangle: Any, token: str, cert: Doc, view: C.FederationView) -> None:
    with pytest.raises(VerificationError):
        J.verify(mangle(token), view, now=now_of(cert))


def test_unused_base64_bits_are_refused(token: str, cert: Doc, view: C.FederationView) -> None:
    h, p, s = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 bytes encode to 86 characters; the last holds 2 bits and 4 unused ones.
    last = alphabet.index(s[-1])
    assert last & 0xF == 0
    with pytest.raises(J.InvalidJws, match="unused bits"):
        J.verify(f"{h}.{p}.{s[:-1]}{alphabet[last | 1]}", view, now=now_of(cert))


def test_a_non_credential_payload_is_refused(token: str, cert: Doc, key: bytes, view: C.FederationView) -> None:
    header, _, _ = parts(token)
    for payload, why in [([1], "JSON object"), ({**J.credential_of(cert), "@context": ["x"]}, "@context"),
                         ({**J.credential_of(cert), "type": ["VerifiableCredential"]}, "type"),
                         ({**J.credential_of(cert), "id": "urn:x"}, "id"),
                         ({**J.credential_of(cert), "issuer": {"code": "SDE"}}, "issuer")]:
        with pytest.raises(J.InvalidJws, match=why):
            J.verify(resigned(header, payload, key), view, now=now_of(cert))


# ---------------------------------------------------------------------- keys, deployment and time


def test_a_key_of_another_exchange_is_refused(cert: Doc, world: World, view: C.FederationView) -> None:
    theirs = J.sign(cert, bytes(world.fed.keys["ZJDE"].key))
    with pytest.raises(J.UntrustedJwsKey, match="not the issuer"):
        J.verify(theirs, view, now=now_of(cert))


def test_an_unregistered_key_is_refused(cert: Doc, view: C.FederationView) -> None:
    with pytest.raises(J.UntrustedJwsKey, match="not a registered key"):
        J.verify(J.sign(cert, b"\x05" * 32), view, now=now_of(cert))


class Shifted:
    """The view with every key's validity, the chain id or the exchange code replaced."""

    def __init__(self, view: C.FederationView, *, valid_from: int | None = None, valid_to: int | None = None,
                 chain_id: int | None = None, code: str | None = None) -> None:
        self._view, self._from, self._to, self._chain, self._code = view, valid_from, valid_to, chain_id, code

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)

    @property
    def chain_id(self) -> int:
        return self._chain if self._chain is not None else self._view.chain_id

    def exchange_code(self, exchange: int) -> str | None:
        return self._code if self._code is not None else self._view.exchange_code(exchange)

    def key(self, address: bytes) -> C.KeyInfo | None:
        info = self._view.key(address)
        if info is None:
            return None
        return C.KeyInfo(info.exchange, info.valid_from if self._from is None else self._from,
                         info.valid_to if self._to is None else self._to)


def test_a_key_not_valid_at_the_issuance_block_is_refused(token: str, cert: Doc, view: C.FederationView) -> None:
    block = cert["proof"][0]["issuedBlock"]
    for shifted in (Shifted(view, valid_from=block + 1), Shifted(view, valid_to=block)):
        with pytest.raises(J.UntrustedJwsKey, match="issuance block"):
            J.verify(token, shifted, now=now_of(cert))  # type: ignore[arg-type]
    J.verify(token, Shifted(view, valid_to=block + 1), now=now_of(cert))  # type: ignore[arg-type]


def test_another_deployment_or_code_is_refused(token: str, cert: Doc, view: C.FederationView) -> None:
    with pytest.raises(J.InvalidJws, match="chain"):
        J.verify(token, Shifted(view, chain_id=view.chain_id + 1), now=now_of(cert))  # type: ignore[arg-type]
    with pytest.raises(J.UntrustedJwsKey, match="not 'SDE'"):
        J.verify(token, Shifted(view, code="XX"), now=now_of(cert))  # type: ignore[arg-type]


def test_outside_the_validity_period_is_refused(token: str, cert: Doc, view: C.FederationView) -> None:
    start, end = C._parse_iso(cert["validFrom"], "$"), C._parse_iso(cert["validUntil"], "$")
    J.verify(token, view, now=start)
    for now in (start - 1, end):
        with pytest.raises(J.JwsOutsideValidity):
            J.verify(token, view, now=now)


# ---------------------------------------------------------------------- served by the node


API = "/api/v1"


@pytest.fixture(scope="module")
def client(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import shutil

    from fastapi.testclient import TestClient

    from provenance.api import ApiSettings, create_app
    from provenance.api.auth import TokenStore
    from tests.support.passphrase import passphrase

    src, demo = demo_dir
    data = tmp_path_factory.mktemp("jose-node") / "data"
    shutil.copytree(src, data)
    token = TokenStore(data).create("registrar", "desk")
    app = create_app(ApiSettings(data_dir=data, passphrase=passphrase(data.parent), rate_per_second=0))
    assert any(getattr(r, "path", "") == f"{API}/jwks" for r in app.routes)  # api/routes/vc.py
    with TestClient(app, raise_server_exceptions=False) as c:
        c.registrar = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        c.demo = demo  # type: ignore[attr-defined]
        yield c


def test_the_node_serves_a_certificate_as_vc_jwt(client: Any) -> None:
    rid = client.demo["records"]["port-vessel-traffic"]
    r = client.post(f"{API}/certificates", json={"record": rid, "days": 30},
                    headers=client.registrar)
    assert r.status_code == 201, r.text
    cert = r.json()
    h = "0x" + C.credential_hash(cert).hex()
    dl = client.get(f"{API}/certificates/{h}/jwt")
    assert dl.status_code == 200, dl.text
    assert dl.headers["content-type"].startswith("application/vc+jwt")
    token = dl.text.strip()
    keys = client.get(f"{API}/jwks").json()["keys"]
    assert [k["kid"] for k in keys] == [cert["proof"][0]["verificationMethod"]]
    public = jwk.JWK(**{k: keys[0][k] for k in ("kty", "crv", "x", "y")})
    assert json.loads(jwcrypto_payload(token, public)) == J.credential_of(cert)
    judged = client.post(f"{API}/certificates/verify-jwt", json={"jwt": dl.text}).json()
    assert judged.get("valid") is True and judged["credential"] == J.credential_of(cert), judged
    assert judged["issuedBlock"] == cert["proof"][0]["issuedBlock"]
    h_, p_, s_ = token.split(".")
    # One bit of r flipped: replacing the last characters with "AA" left the signature as it was whenever its last
    # byte was zero (one run in 256), and that run's "forgery" verified.
    sig = bytearray(base64.urlsafe_b64decode(s_ + "=" * (-len(s_) % 4)))
    sig[10] ^= 1
    s_forged = base64.urlsafe_b64encode(bytes(sig)).rstrip(b"=").decode()
    forged = client.post(f"{API}/certificates/verify-jwt", json={"jwt": f"{h_}.{p_}.{s_forged}"}).json()
    assert forged == {"valid": False, "error": "InvalidSignature", "detail": forged["detail"]}
    assert client.get(f"{API}/certificates/0x{'00' * 32}/jwt").status_code == 404
