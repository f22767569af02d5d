"""Certificates secured with JOSE: ``application/vc+jwt`` beside the embedded EIP-712 proof.

W3C "Securing Verifiable Credentials using JOSE and COSE" (VC-JOSE-COSE, section 3.1.1): the credential itself,
without its ``proof``, is the payload of a compact JWS (RFC 7515 section 7.1) whose protected header says
``typ: vc+jwt`` and ``cty: vc``. The algorithm is ES256K (RFC 8812 section 3.2): ECDSA over secp256k1 with
SHA-256 of the JWS signing input, the signature written as the 64 bytes ``r || s`` (RFC 7518 section 3.4), and
here always with ``s`` in the lower half of the curve order, so a signature has one encoding, as the registry
requires of its own.

The signer is a key of the issuing exchange, named by ``kid`` in the same form as the embedded proof's
``verificationMethod`` (``did:pkh:eip155:<chain>:<address>#blockchainAccountId``). The federation's key
history holds addresses, not public keys, so a verifier recovers the public key from the signature (trying both
recovery ids, as any ECDSA verifier may) and accepts only a key whose address is the ``kid``'s: that is the
ordinary ES256K verification against that key. Then the key must belong to the issuer, under the issuer's code,
and be valid at the block the credential was issued (the last field of its ``id``), as the
:class:`~provenance.core.certificates.FederationView` knows it; and now must lie in the validity period.

What the JWS proves is who issued the credential and when. :func:`verify` checks that alone; :func:`judge` then
runs every check of :func:`provenance.core.certificates.verify` on the payload (the record and its status,
inclusion, checkpoint, lineage, expiry, term) against the same view, the JWS standing in for the embedded proof
the payload has not: a revoked or suspended record fails ``record`` as it does for the certificate with its
embedded proof. Header and payload are written as canonical JSON (RFC 8785), so the node answers one token per
certificate and key. This module does no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey

from provenance.core import ijson
from provenance.core.canonical import MalformedDocument, canonical_json, hex0x
from provenance.core.certificates import (
    CERT_TYPE,
    PROOF_TYPE,
    VC_CONTEXT,
    Check,
    FederationView,
    Report,
    _binding,
    _parse_iso,
    _verify_full,
    did_pkh,
)
from provenance.core.certificates.document import _EIP712_OPTIONS
from provenance.core.eip712 import HALF_N, SECP256K1_N
from provenance.core.keccak import keccak256
from provenance.errors import InvalidSignature, MalformedJson, VerificationError

MEDIA_TYPE = "application/vc+jwt"
ALG = "ES256K"
TYP = "vc+jwt"
CTY = "vc"
MAX_TOKEN = 32 * 1024 * 1024
"""The longest token read: a certificate of :data:`~provenance.core.certificates.MAX_LINEAGE` ancestors is some
megabytes of JSON, a third more in base64url."""

_HEADER_KEYS = frozenset({"alg", "typ", "cty", "kid"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_KID = re.compile(r"did:pkh:eip155:([1-9][0-9]{0,19}):(0x[0-9a-f]{40})#blockchainAccountId")
_CERT_ID = re.compile(r"urn:provenance:certificate:([1-9][0-9]{0,19}):0x[0-9a-f]{64}:(0|[1-9][0-9]{0,19})")


class InvalidJws(VerificationError):
    """Raised when a vc+jwt is not a well-formed compact JWS of a certificate, or its header is not the one
    accepted (another algorithm, type or content type, an unknown header parameter)."""


class UntrustedJwsKey(VerificationError):
    """Raised when a vc+jwt is signed by a key that is not the issuer's, or not valid at the issuance block."""


class JwsOutsideValidity(VerificationError):
    """Raised when a vc+jwt's credential is not yet valid or has expired."""


@dataclass(frozen=True)
class Verified:
    """A vc+jwt that verified: its credential, and the key and block it was judged at."""

    credential: dict[str, Any]
    header: dict[str, Any]
    key: bytes
    issuer: int
    issued_block: int


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str, what: str) -> bytes:
    """Strict base64url without padding (RFC 7515 section 2): other alphabets, padding, and spellings whose
    unused trailing bits are set (several texts, one value) are refused."""
    if _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise InvalidJws(f"the JWS {what} is not base64url without padding")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:
        raise InvalidJws(f"the JWS {what} is base64url with unused bits set: not its one encoding")
    return raw


def credential_of(certificate: Mapping[str, Any]) -> dict[str, Any]:
    """The credential a certificate secures: the document without its embedded ``proof``."""
    return {k: v for k, v in certificate.items() if k != "proof"}


def address_of(public_key: PublicKey) -> bytes:
    return keccak256(public_key.format(compressed=False)[1:])[12:]


def public_jwk(public_key: bytes, chain_id: int) -> dict[str, str]:
    """The JWK (RFC 7517, RFC 8812 section 3.1) of a secp256k1 public key, with the ``kid`` its tokens carry."""
    point = PublicKey(public_key).format(compressed=False)
    return {"kty": "EC", "crv": "secp256k1", "x": b64url(point[1:33]), "y": b64url(point[33:]), "alg": ALG,
            "use": "sig", "kid": did_pkh(chain_id, address_of(PublicKey(point)))}


def sign(certificate: Mapping[str, Any], private_key: bytes) -> str:
    """The compact JWS of a certificate's credential, signed ES256K with ``private_key``."""
    credential = credential_of(certificate)
    chain_id, _registry = _binding(credential)
    key = PrivateKey(private_key)
    header = {"alg": ALG, "typ": TYP, "cty": CTY, "kid": did_pkh(chain_id, address_of(key.public_key))}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(credential))}"
    # libsecp256k1 signs deterministically (RFC 6979) and always with a low s.
    signature = key.sign_recoverable(hashlib.sha256(signing_input.encode("ascii")).digest(), hasher=None)[:64]
    return f"{signing_input}.{b64url(signature)}"


def verify(token: str | bytes, view: FederationView, *, now: int) -> Verified:
    """The credential of a vc+jwt whose signature is by a key of its issuer valid at the issuance block.

    Raises :class:`InvalidJws` (malformed, or a header other than ES256K / vc+jwt / vc with a did:pkh kid),
    :class:`~provenance.errors.InvalidSignature` (not a low-s ES256K signature by the kid's key),
    :class:`UntrustedJwsKey` or :class:`JwsOutsideValidity`.
    """
    header, credential, signing_input, signature = _split(token)
    address = _kid_address(header, view.chain_id)
    _check_signature(signing_input, signature, address)
    issuer, code, issued_block = _credential_facts(credential, view)
    info = view.key(address)
    if info is None:
        raise UntrustedJwsKey(f"{hex0x(address)} is not a registered key of any exchange")
    if info.exchange != issuer:
        raise UntrustedJwsKey(f"{hex0x(address)} belongs to exchange {info.exchange}, not the issuer {issuer}")
    if view.exchange_code(issuer) != code:
        raise UntrustedJwsKey(f"exchange {issuer} is {view.exchange_code(issuer)!r}, not {code!r}")
    if view.mode == "online" and issued_block > view.head_block:
        raise UntrustedJwsKey(f"issued at block {issued_block}, beyond the chain head {view.head_block}")
    if not info.valid_at(issued_block):
        until = f"until block {info.valid_to}" if info.valid_to else "on"
        raise UntrustedJwsKey(f"the key is valid from block {info.valid_from} {until}, not at the issuance block "
                              f"{issued_block}")
    try:
        valid_from = _parse_iso(credential.get("validFrom"), "$.validFrom")
        valid_until = _parse_iso(credential.get("validUntil"), "$.validUntil")
    except MalformedDocument as exc:
        raise InvalidJws(f"the JWS payload: {exc}") from None
    if not valid_from <= now < valid_until:
        raise JwsOutsideValidity(f"the credential is valid from {credential['validFrom']} until "
                                 f"{credential['validUntil']}")
    return Verified(credential, header, address, issuer, issued_block)


BY_JOSE = ("signature", "issuer_key", "key_valid")
"""The checks of a judged vc+jwt made on its JWS, not on an embedded proof: the ES256K signature, and the kid's
key as the issuer's, valid at the block of the credential's id."""


@dataclass(frozen=True)
class Judged:
    """A vc+jwt whose JWS verified (:func:`verify`), and the report of every certificate check on its payload:
    ``jose`` first, then :data:`~provenance.core.certificates.CHECKS`. The report has no credential hash: that is
    the hash of the document with its embedded proof, which a vc+jwt does not carry."""

    verified: Verified
    report: Report


def judge(token: str | bytes, view: FederationView, *, now: int) -> Judged:
    """:func:`verify`, then the checks :func:`provenance.core.certificates.verify` makes of a certificate, on the
    payload and against ``view``; valid only if the JWS and every check hold.

    The checks run on the payload with, in the place of its embedded proof, one naming the kid's key and the
    issuance block of the credential's id: the document checks and the view's (record status, inclusion, lineage,
    expiry, term) are the certificate's, and ``issuer_key`` and ``key_valid`` judge the key that signed the JWS.
    The stand-in proof has no EIP-712 signature: ``signature`` reports the JWS's, which :func:`verify` checked.
    Raises what :func:`verify` raises: a payload no valid JWS vouches for is not checked further.
    """
    got = verify(token, view, now=now)
    stand_in = {**got.credential, "proof": [{
        "type": PROOF_TYPE, "proofPurpose": "assertionMethod", "verificationMethod": got.header["kid"],
        "created": got.credential.get("validFrom"), "issuedBlock": got.issued_block, "eip712": _EIP712_OPTIONS,
        "proofValue": hex0x(bytes(65))}]}
    # The full path: the compiled fast path accepts only a valid EIP-712 signature, which the stand-in has not.
    full = _verify_full(stand_in, view, now)
    kid = got.header["kid"]
    replaced = {
        "signature": Check("signature", True, f"ES256K vc+jwt signature by {hex0x(got.key)} (JOSE, in the place of "
                                              f"the embedded EIP-712 proof)"),
        "recognitions": Check("recognitions", True, "none carried: a vc+jwt secures the issuer's credential; "
                                                    "partner recognitions are embedded proofs"),
    }
    jose = Check("jose", True, f"ES256K by {kid}, a key of exchange {got.issuer} valid at block {got.issued_block}")
    if not full.check("format").ok:  # the payload is no certificate: nothing but the JWS was checked
        del replaced["recognitions"]
    checks = (jose, *(replaced.get(c.name, c) for c in full.checks))
    return Judged(got, Report(full.mode, checks, None, full.equivocations, full.property_state))


def _split(token: str | bytes) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    if isinstance(token, bytes | bytearray):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise InvalidJws("a compact JWS is ASCII text") from None
    if not isinstance(token, str):
        raise InvalidJws("a compact JWS is text")
    if len(token) > MAX_TOKEN:
        raise InvalidJws(f"the JWS is {len(token)} characters, more than the {MAX_TOKEN} accepted")
    # A downloaded file ends with a newline (\n, or \r\n where it was saved so); nothing else may surround the token.
    token = token.removesuffix("\n").removesuffix("\r") if token.endswith("\n") else token
    if token != token.strip():
        raise InvalidJws("the JWS is surrounded by white space; only one newline may follow it")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJws(f"a compact JWS has three parts separated by '.', this has {len(parts)}")
    try:
        header = ijson.loads(_unb64url(parts[0], "header"), what="the JWS header")
        payload = ijson.loads(_unb64url(parts[1], "payload"), max_int=ijson.EXACT_INT, what="the JWS payload")
    except MalformedJson as exc:
        raise InvalidJws(exc.message) from None
    if not isinstance(header, dict) or header.keys() != _HEADER_KEYS:
        raise InvalidJws(f"the JWS header must hold exactly {sorted(_HEADER_KEYS)}")
    if header["alg"] != ALG:
        raise InvalidJws(f"the JWS algorithm must be {ALG}, not {header['alg']!r}")
    if header["typ"] != TYP or header["cty"] != CTY:
        raise InvalidJws(f"the JWS header must say typ {TYP!r} and cty {CTY!r}")
    if not isinstance(payload, dict):
        raise InvalidJws("the JWS payload must be a credential (a JSON object)")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), _unb64url(parts[2], "signature")


def _kid_address(header: Mapping[str, Any], chain_id: int) -> bytes:
    kid = header["kid"]
    m = _KID.fullmatch(kid) if isinstance(kid, str) else None
    if m is None:
        raise InvalidJws("the JWS kid must be did:pkh:eip155:<chain id>:<lower-case address>#blockchainAccountId")
    if int(m.group(1)) != chain_id:
        raise InvalidJws(f"the JWS kid names a key on chain {m.group(1)}; this verifier is bound to chain {chain_id}")
    return bytes.fromhex(m.group(2)[2:])


def _check_signature(signing_input: bytes, signature: bytes, address: bytes) -> None:
    if len(signature) != 64:
        raise InvalidSignature(f"an ES256K signature is 64 bytes (r || s), got {len(signature)}")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise InvalidSignature("the ES256K signature's r or s is out of range")
    if s > HALF_N:
        raise InvalidSignature("the ES256K signature's s is in the upper half of the curve order (malleable)")
    digest = hashlib.sha256(signing_input).digest()
    for recovery_id in (0, 1):
        try:
            candidate = PublicKey.from_signature_and_message(signature + bytes((recovery_id,)), digest, hasher=None)
        except Exception:  # coincurve raises its own types for an r with no point on the curve
            continue
        if address_of(candidate) == address:
            # Recovery yields the key for which the signature holds; check it the ordinary way too.
            if candidate.verify(_der(r, s), digest, hasher=None):
                return
    raise InvalidSignature(f"the ES256K signature is not by the kid's key {hex0x(address)}")


def _der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        raw = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading zero byte keeps it positive
        return b"\x02" + bytes((len(raw),)) + raw

    body = integer(r) + integer(s)
    return b"\x30" + bytes((len(body),)) + body


def _credential_facts(credential: Mapping[str, Any], view: FederationView) -> tuple[int, str, int]:
    """(issuer exchange, issuer code, issuance block) of the payload, bound to the verifier's deployment."""
    if "proof" in credential:
        raise InvalidJws("the JWS payload is a credential without an embedded proof")
    ctx, types = credential.get("@context"), credential.get("type")
    if not isinstance(ctx, list) or not ctx or ctx[0] != VC_CONTEXT:
        raise InvalidJws(f"the JWS payload's @context must start with {VC_CONTEXT}")
    if not isinstance(types, list) or "VerifiableCredential" not in types or CERT_TYPE not in types:
        raise InvalidJws(f"the JWS payload's type must include VerifiableCredential and {CERT_TYPE}")
    try:
        chain_id, registry = _binding(credential)
    except MalformedDocument as exc:
        raise InvalidJws(f"the JWS payload: {exc}") from None
    if (chain_id, registry) != (view.chain_id, bytes(view.registry)):
        raise InvalidJws(f"the credential is bound to chain {chain_id} registry {hex0x(registry)}; this verifier "
                         f"is bound to chain {view.chain_id} registry {hex0x(view.registry)}")
    cid = credential.get("id")
    m = _CERT_ID.fullmatch(cid) if isinstance(cid, str) else None
    if m is None or int(m.group(1)) != chain_id:
        raise InvalidJws(f"the credential's id must be urn:provenance:certificate:{chain_id}:<record>:<block>")
    issuer = credential.get("issuer")
    exchange = issuer.get("exchangeId") if isinstance(issuer, dict) else None
    code = issuer.get("code") if isinstance(issuer, dict) else None
    if type(exchange) is not int or not 0 < exchange <= 0xFFFF or not isinstance(code, str):
        raise InvalidJws("the credential's issuer must carry its exchangeId and code")
    return exchange, code, int(m.group(2))
