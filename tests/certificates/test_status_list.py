"""Bitstring Status List v1.0: the encoding against the Recommendation's own example and an independent bit
layout; certificates carry a BitstringStatusListEntry per purpose (signed, tamper-evident, on the compiled fast
path); the issuing exchange's lists follow suspensions, reactivations and revocations from the index; their
hashes are anchored on-chain; certificates issued before status lists still verify; the node serves the lists."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jws
from pyld import jsonld

from provenance import contexts as X
from provenance.core import certificates as C
from provenance.core import status_list as S
from provenance.core import vc_jose as J
from provenance.core.canonical import MalformedDocument
from provenance.types import Status
from tests.support.certificates import World
from tests.support.jsonld import assert_nothing_dropped

Doc = dict[str, Any]

# The encodedList of the Recommendation's examples (section 2.1 and 2.2): 131,072 bits, none set.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


# ---------------------------------------------------------------------- the encoding


def test_the_recommendations_example_list() -> None:
    bits = S.decode(SPEC_EXAMPLE)
    assert len(bits) * 8 == S.MIN_BITS == 131_072 and not any(bits)
    assert S.encode(bytes(S.MIN_BITS // 8)) == SPEC_EXAMPLE  # byte for byte what the Recommendation shows


def independent_bits(indexes: set[int], length: int) -> bytes:
    """Index 0 at the left-most bit (section 3.2): a big-endian integer whose bit (length - 1 - i) is set."""
    return sum(1 << (length - 1 - i) for i in indexes).to_bytes(length // 8, "big")


@pytest.mark.parametrize("seed", range(5))
def test_bits_are_laid_out_as_the_recommendation_says(seed: int) -> None:
    rng = random.Random(seed)
    length = S.MIN_BITS * rng.choice((1, 2))
    indexes = {rng.randrange(length) for _ in range(rng.randrange(1, 300))} | {0, length - 1}
    bits = S.bitstring(indexes, length)
    assert bits == independent_bits(indexes, length)
    encoded = S.encode(bits)
    assert encoded[0] == "u" and "=" not in encoded
    # decoded by the standard library alone: base64url, then GZIP
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-(len(encoded) - 1) % 4))
    assert gzip.decompress(raw) == bits == S.decode(encoded)
    for i in rng.sample(range(length), 200):
        assert S.bit(bits, i) is (i in indexes)


def test_list_lengths() -> None:
    assert S.list_bits(0) == S.list_bits(131_071) == 131_072
    assert S.list_bits(131_072) == 262_144
    with pytest.raises(MalformedDocument):
        S.bitstring([], 131_064)  # below the minimum
    with pytest.raises(MalformedDocument):
        S.bitstring([131_072], 131_072)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("encoded, why", [
    (SPEC_EXAMPLE[1:], "multibase"),
    ("z" + SPEC_EXAMPLE[1:], "multibase"),
    (SPEC_EXAMPLE + "=", "multibase"),
    ("u" + base64.b64encode(gzip.compress(bytes(16384), mtime=0)).decode().rstrip("=") + "+/", "multibase"),
    ("u" + _b64(bytes(100)), "GZIP"),
    ("u" + _b64(gzip.compress(bytes(1000))), "fewer than"),
    ("u" + _b64(gzip.compress(bytes(16384)) + b"x"), "one GZIP member"),
    ("u" + _b64(gzip.compress(bytes(S.MAX_DECODED + 8))), "one GZIP member"),  # a bomb stops at the limit
    (12, "multibase"),
])
def test_malformed_lists_are_refused(encoded: Any, why: str) -> None:
    with pytest.raises(MalformedDocument, match=why):
        S.decode(encoded)


@pytest.mark.parametrize("change, why", [
    ({"type": "StatusList2021Entry"}, "type"), ({"statusPurpose": "message"}, "statusPurpose"),
    ({"statusListIndex": "01"}, "statusListIndex"), ({"statusListIndex": 1}, "strings"),
    ({"statusListIndex": "-1"}, "statusListIndex"), ({"statusListCredential": None}, "strings"),
])
def test_malformed_entries_are_refused(change: dict[str, Any], why: str) -> None:
    entry = {**S.entries("https://x.example", "SDE", 7)[0], **change}
    with pytest.raises(MalformedDocument, match=why):
        S.check_entries([entry], "$.credentialStatus")
    with pytest.raises(MalformedDocument, match="twice"):
        S.check_entries(S.entries("https://x.example", "SDE", 7) * 2, "$.credentialStatus")


# ---------------------------------------------------------------------- certificates and lists


@pytest.fixture(scope="module")
def world(world: World) -> World:
    """The shared world (conftest.py), its lists named under a fixed base URL before anything is issued."""
    world.certifier.public_url = "https://sde.example"
    return world


def now_of(cert: Doc) -> int:
    return C._parse_iso(cert["validFrom"], "$") + 60


def test_a_certificate_names_its_records_bit_in_each_list(world: World, issued: Doc) -> None:
    seq = world.store.seq_of(world.product)
    base = "https://sde.example/api/v1/status-lists/SDE"
    assert issued["credentialStatus"] == [
        {"id": f"{base}/{p}#{seq}", "type": "BitstringStatusListEntry", "statusPurpose": p,
         "statusListIndex": str(seq), "statusListCredential": f"{base}/{p}"} for p in ("revocation", "suspension")]


def test_a_new_certificate_verifies_on_the_compiled_path(world: World, issued: Doc) -> None:
    view = world.certifier.online_view()
    now = now_of(issued)
    received = json.loads(json.dumps(issued))
    report = C.verify(received, view, now=now)
    assert report.valid, report.to_json()
    assert report == C._verify_full(received, view, now)
    if C._speedups is not None:
        assert C._verify_fast(received, view, now) == report  # not left to the slower readers
    assert C._parse_plain(received).credential_hash == C.credential_hash(received) == report.credential_hash


def test_the_status_is_signed(world: World, issued: Doc) -> None:
    view = world.certifier.online_view()
    now = now_of(issued)
    stripped = {k: v for k, v in issued.items() if k != "credentialStatus"}
    moved = copy.deepcopy(issued)
    moved["credentialStatus"][0]["statusListIndex"] = "0"
    swapped = copy.deepcopy(issued)
    swapped["credentialStatus"].reverse()
    elsewhere = copy.deepcopy(issued)
    elsewhere["credentialStatus"][1]["statusListCredential"] = "https://evil.example/list"
    for doc in (stripped, moved, swapped, elsewhere):
        report = C.verify(doc, view, now=now)
        assert report.failed == ["signature"], report.to_json()
        assert report == C._verify_full(doc, view, now)


@pytest.mark.parametrize("bad, why", [
    ([], "empty"), ([{"type": "BitstringStatusListEntry"}], "must be an object with"),
    ("https://x", "must be an object"),
])
def test_a_malformed_status_fails_format(world: World, issued: Doc, bad: Any, why: str) -> None:
    report = C.verify({**issued, "credentialStatus": bad}, world.certifier.online_view(), now=now_of(issued))
    assert not report.check("format").ok and why in report.check("format").detail


def test_a_certificate_issued_before_status_lists_still_verifies(world: World, issued: Doc) -> None:
    options = {k: v for k, v in issued["proof"][0].items() if k != "proofValue"}
    old = C.sign({**{k: v for k, v in issued.items() if k != "credentialStatus"}, "proof": [options]},
                 bytes(world.fed.keys["SDE"].key))
    assert "credentialStatus" not in old and old.keys() == C._TOP_KEYS
    view = world.certifier.online_view()
    report = C.verify(old, view, now=now_of(issued))
    assert report.valid and report == C._verify_full(old, view, now_of(issued))
    if C._speedups is not None:
        assert C._verify_fast(old, view, now_of(issued)) == report


def test_the_contexts_define_every_term_of_a_status_list_credential(world: World, issued: Doc) -> None:
    assert_nothing_dropped(issued)
    doc = world.certifier.status_list("SDE", "revocation")
    expanded = assert_nothing_dropped(doc)
    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject["@type"] == ["https://www.w3.org/ns/credentials/status#BitstringStatusList"]
    assert jsonld.expand(issued["credentialStatus"][0] | {"@context": X.VC_V2},
                         {"documentLoader": X.document_loader})[0]["@type"] == [
        "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry"]


def bit_of(world: World, cert: Doc, purpose: str) -> bool:
    [entry] = [e for e in cert["credentialStatus"] if e["statusPurpose"] == purpose]
    doc = json.loads(json.dumps(world.certifier.status_list("SDE", purpose)))
    assert doc["id"] == entry["statusListCredential"]
    return S.status(doc, entry)


def test_lists_follow_suspension_reactivation_and_revocation(world: World, issued: Doc) -> None:
    sde = world.fed.keys["SDE"]
    view_now = now_of(issued)
    doc = world.certifier.status_list("SDE", "suspension")
    assert len(S.decode(doc["credentialSubject"]["encodedList"])) * 8 >= S.MIN_BITS
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert doc["issuer"] == issued["issuer"]
    assert not bit_of(world, issued, "suspension") and not bit_of(world, issued, "revocation")
    before = S.list_hash(doc)
    assert S.list_hash(world.certifier.status_list("SDE", "suspension")) == before  # deterministic

    world.fed.contracts.transact(sde, "Registry", "setBatchedStatus", world.product, int(Status.SUSPENDED),
                                 bytes(32))
    assert bit_of(world, issued, "suspension") and not bit_of(world, issued, "revocation")
    assert "record" in world.certifier.verify_online(issued, now=view_now).failed
    # Another exchange's list does not carry SDE's records.
    zj = world.certifier.status_list("ZJDE", "suspension")
    assert not any(S.decode(zj["credentialSubject"]["encodedList"]))

    world.fed.contracts.transact(sde, "Registry", "setBatchedStatus", world.product, int(Status.ACTIVE),
                                 bytes(32))
    assert not bit_of(world, issued, "suspension")
    assert world.certifier.verify_online(issued, now=view_now).valid

    anchored = world.certifier.anchor_status_lists(sde)
    assert [a["purpose"] for a in anchored] == ["revocation", "suspension"]
    for a in anchored:
        doc, block = world.certifier.current_status_list("SDE", a["purpose"])  # the anchored one: nothing changed
        assert S.list_hash(doc).hex() == a["listHash"][2:] and doc["credentialSubject"]["atBlock"] == a["atBlock"]
        assert block is not None and world.certifier.anchored_status_list(doc) == block
        # The index moved on (the anchoring transactions): a fresh list is the same bits at a later block.
        fresh = world.certifier.status_list("SDE", a["purpose"])
        assert fresh["credentialSubject"]["encodedList"] == doc["credentialSubject"]["encodedList"]
        on_chain = world.certifier.logs.status_lists(1)
        assert any(h.hex() == a["listHash"][2:] and taken == a["atBlock"] for _b, taken, h in on_chain)

    world.fed.contracts.transact(sde, "Registry", "setBatchedStatus", world.product, int(Status.REVOKED), bytes(32))
    assert bit_of(world, issued, "revocation") and not bit_of(world, issued, "suspension")
    changed, block = world.certifier.current_status_list("SDE", "revocation")
    assert block is None and S.status(changed, issued["credentialStatus"][0])  # changed since the anchor
    assert "record" in world.certifier.verify_online(issued, now=view_now).failed


def test_status_of_a_list_checks_the_entry_matches() -> None:
    entry = S.entries("https://x.example", "SDE", 5)[0]
    doc = S.build_credential(url=entry["statusListCredential"], issuer={"id": "urn:x"}, chain_id=1,
                             registry=bytes(20), at_block=3, purpose="revocation", indexes=[5], length=S.MIN_BITS)
    assert S.status(doc, entry) is True
    assert S.status(doc, {**entry, "statusListIndex": "4"}) is False
    with pytest.raises(MalformedDocument, match="names the list"):
        S.status({**doc, "id": "https://y.example"}, entry)
    with pytest.raises(MalformedDocument, match="is for"):
        S.status(doc, {**entry, "statusPurpose": "suspension"})


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
    data = tmp_path_factory.mktemp("status-node") / "data"
    shutil.copytree(src, data)
    for key in (data / "keystore").glob("ZJDE--*.json"):
        key.unlink()  # the demo node holds every demo exchange's key: this copy serves SDE's and AHDE's lists only
    token = TokenStore(data).create("registrar", "desk")
    app = create_app(ApiSettings(data_dir=data, passphrase=passphrase(data.parent), rate_per_second=0))
    assert any(getattr(r, "path", "") == f"{API}/status-lists/anchor" for r in app.routes)  # api/routes/vc.py
    with TestClient(app, raise_server_exceptions=False) as c:
        c.registrar = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        c.demo = demo  # type: ignore[attr-defined]
        yield c


def test_the_node_serves_and_anchors_its_lists(client: Any) -> None:
    rid = client.demo["records"]["port-vessel-traffic"]
    cert = client.post(f"{API}/certificates", json={"record": rid, "days": 30}, headers=client.registrar).json()
    entry = cert["credentialStatus"][0]
    path = entry["statusListCredential"].split("/api/v1", 1)[1]
    r = client.get(f"{API}{path}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vc")
    assert r.headers["cache-control"] == "no-cache" and "provenance-anchored-block" not in r.headers
    doc = r.json()
    assert S.status(doc, entry) is False
    assert r.headers["provenance-status-list-hash"] == "0x" + S.list_hash(doc).hex()
    jwt = client.get(f"{API}{path}", headers={"Accept": J.MEDIA_TYPE})
    assert jwt.headers["content-type"].startswith(J.MEDIA_TYPE)
    keys = client.get(f"{API}/jwks").json()["keys"]
    verifier = jws.JWS()
    verifier.allowed_algs = ["ES256K"]
    verifier.deserialize(jwt.text.strip())
    verifier.verify(jwk.JWK(**{k: keys[0][k] for k in ("kty", "crv", "x", "y")}))  # jwcrypto, with the served key
    assert json.loads(verifier.payload) == doc
    assert client.post(f"{API}/status-lists/anchor").status_code == 401
    anchored = client.post(f"{API}/status-lists/anchor", headers=client.registrar)
    assert anchored.status_code == 201, anchored.text
    again = client.get(f"{API}{path}")
    assert again.json() == doc and int(again.headers["provenance-anchored-block"]) > 0
    assert client.get(f"{API}/status-lists/ZJDE/revocation").status_code == 404  # a node holding no key of ZJDE's
    assert client.get(f"{API}/status-lists/SDE/message").status_code == 422
