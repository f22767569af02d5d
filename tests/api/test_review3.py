"""Hostile review (third round): HTTP semantics of the explorer page and of the content-negotiated documents.

Each test fails on the code it was written against; its comment says what is wrong and what the relevant RFC
asks for instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.served import Served

API = "/api/v1"


def _raw(served: Served, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes as sent (httpx would undo a gzip content coding)."""
    with served.client.stream("GET", path, headers=headers) as res:
        return res.status_code, dict(res.headers), b"".join(res.iter_raw())


def _certificate(served: Served) -> tuple[str, dict[str, Any]]:
    """(credential hash, certificate) of a certificate this node issued."""
    r = served.client.post(f"{API}/certificates", json={"record": served.record("port-vessel-traffic"), "days": 30},
                           headers=served.auth("registrar"))
    assert r.status_code == 201, r.text
    cert = r.json()
    report = served.client.post(f"{API}/certificates/verify", json=cert).json()
    return str(report["credentialHash"]), cert


# ---------------------------------------------------------------------- the explorer page (GET /)


def test_if_none_match_star_is_answered_304(served: Served) -> None:
    # RFC 9110 13.1.2: "If the field value is '*', the condition is false if the origin server has a current
    # representation for the target resource", and a false If-None-Match on GET is answered 304. The page route
    # looks for its own ETag as a substring of the header, so '*' (what a cache sends to ask "anything new?")
    # gets the whole page again.
    res = served.client.get("/", headers={"If-None-Match": "*", "Accept-Encoding": "identity"})
    assert res.status_code == 304 and res.content == b""


@pytest.mark.parametrize(("accept_encoding", "gzipped"), [
    ("*, gzip;q=0", False),   # gzip refused by name: '*' stands only for codings not listed
    ("*;q=0, gzip", True),    # gzip asked for by name; '*;q=0' excludes everything else, identity included
])
def test_a_named_coding_outranks_the_wildcard(served: Served, accept_encoding: str, gzipped: bool) -> None:
    # RFC 9110 12.5.3: '"*" matches any available content coding not explicitly listed in the header field', and
    # identity is excluded by '*;q=0' when no entry names it. The first reader decided on the first entry that was
    # gzip or '*', in the order written, so "*, gzip;q=0" got gzip the client refused by name, and "*;q=0, gzip"
    # got the identity form the client excluded instead of the gzip it asked for (now api/negotiate.py).
    status, headers, _body = _raw(served, "/", {"Accept-Encoding": accept_encoding})
    assert status == 200
    assert (headers.get("content-encoding") == "gzip") is gzipped, headers


def test_the_gzip_and_identity_forms_have_different_strong_etags(served: Served) -> None:
    # RFC 9110 8.8.1 and 8.8.3: a strong validator is unique across all representations of a resource; the
    # gzip-coded page is another representation (other bytes, Content-Encoding: gzip) from the identity one, and
    # 8.8.3.3's example gives each its own entity tag. Both are sent with the one strong ETag, so a cache that
    # stored one form may be told 304 for the other and serve bytes of the wrong coding (and a Range request
    # validated with If-Match/If-Range would splice the two).
    _s, plain, _b = _raw(served, "/", {"Accept-Encoding": "identity"})
    _s, zipped, _b = _raw(served, "/", {"Accept-Encoding": "gzip"})
    assert zipped.get("content-encoding") == "gzip"
    assert plain["etag"] != zipped["etag"] or plain["etag"].startswith("W/"), (plain["etag"], zipped["etag"])


def test_head_of_the_page_is_answered_like_get(served: Served) -> None:
    # RFC 9110 9.1: "All general-purpose servers MUST support the methods GET and HEAD", and 9.3.2: HEAD is GET
    # without content, with the same header fields. The page is registered for GET only, so HEAD / (what link
    # checkers and monitors send) is refused with 405.
    get = served.client.get("/", headers={"Accept-Encoding": "identity"})
    head = served.client.head("/", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200, (head.status_code, head.text[:200])
    assert head.content == b"" and head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]


# ---------------------------------------------------------------------- content negotiation (Accept)


def test_a_media_type_refused_with_q_0_is_not_sent(served: Served) -> None:
    # RFC 9110 12.4.2: a qvalue of 0 means "not acceptable". The status-list route signed and sent a vc+jwt when
    # the Accept header merely contained "application/vc+jwt", so a client that said "anything but a JWT" got a
    # JWT; the certificate's vc+jwt download did the same (a substring test, now api/negotiate.py).
    res = served.client.get(f"{API}/status-lists/SDE/revocation",
                            headers={"Accept": "application/vc+jwt;q=0, application/vc"})
    assert res.status_code == 200
    assert res.headers["content-type"].split(";")[0] == "application/vc", res.headers["content-type"]
    credential, _cert = _certificate(served)
    res = served.client.get(f"{API}/certificates/{credential}/jwt",
                            headers={"Accept": "application/vc+jwt;q=0, application/json"})
    assert res.status_code == 200
    assert res.headers["content-type"].split(";")[0] == "application/json", res.headers["content-type"]


def test_a_certificate_is_not_sent_as_a_media_type_the_client_did_not_accept(served: Served) -> None:
    # RFC 9110 12.5.1: the server picks a representation among those the Accept header admits (or 406). A client
    # that accepted application/json or application/vc+jwt was sent application/vc, which it did not list: the
    # old reader tested "application/vc" as a substring of the header, and it is one of "application/vc+jwt". The
    # same held for "application/vc;q=0, application/json" (refused, yet sent).
    credential, _cert = _certificate(served)
    for accept in ("application/json, application/vc+jwt", "application/vc;q=0, application/json"):
        res = served.client.get(f"{API}/certificates/{credential}", headers={"Accept": accept})
        assert res.status_code == 200
        assert res.headers["content-type"].split(";")[0] == "application/json", (accept, res.headers["content-type"])


def test_negotiated_documents_say_vary_accept(served: Served) -> None:
    # RFC 9110 12.5.5: an origin server SHOULD send Vary when it picks the representation by a request header
    # other than the method and target. A certificate's download is application/vc or application/json by Accept,
    # with no Vary and no Cache-Control: a shared cache may store the application/vc answer and hand it to the
    # next client, which asked for application/json.
    credential, _cert = _certificate(served)
    res = served.client.get(f"{API}/certificates/{credential}", headers={"Accept": "application/json"})
    assert res.status_code == 200
    vary = {v.strip().lower() for v in res.headers.get("vary", "").split(",")}
    assert "accept" in vary or "*" in vary, res.headers


# ---------------------------------------------------------------------- who may read a certificate


def test_an_anonymous_caller_cannot_read_a_core_grade_record_through_its_certificate(served: Served) -> None:
    # docs/security.md (threat model): an unauthenticated client may not "read important- or core-grade records in
    # full", and GET /registrations/{id} redacts them (no owner, content or metadata hash). But GET /certificates
    # lists every issued certificate's hash to anyone, and GET /certificates/{hash} hands anyone the certificate,
    # whose credentialSubject carries the record unredacted. The listing and the download of a certificate whose
    # record (or any record of its lineage) the caller may not see should answer 401 (403 for a credential that
    # does not reveal it), as the lineage exports do.
    c = served.client
    record = served.record("personal-credit-files")  # core grade, registered by SDE, this node's exchange
    full = c.get(f"{API}/registrations/{record}", headers=served.auth("admin")).json()
    assert full["grade"] == "core"
    secret = full["content_hash"]
    assert secret not in c.get(f"{API}/registrations/{record}").text  # redacted for an anonymous caller
    issued = c.post(f"{API}/certificates", json={"record": record, "days": 30}, headers=served.auth("registrar"))
    assert issued.status_code == 201, issued.text
    credential = c.post(f"{API}/certificates/verify", json=issued.json()).json()["credentialHash"]
    # listed to members, not to anyone
    assert any(e["credentialHash"] == credential
               for e in c.get(f"{API}/certificates", headers=served.auth("member")).json())
    assert not any(e["credentialHash"] == credential for e in c.get(f"{API}/certificates").json())
    dl = c.get(f"{API}/certificates/{credential}")
    assert dl.status_code == 401 and secret not in dl.text, (dl.status_code, secret in dl.text)
    assert dl.headers["content-type"] == "application/problem+json"
    # the vc+jwt download carries the same credential (base64url in its payload)
    assert c.get(f"{API}/certificates/{credential}/jwt").status_code == 401
    # a merchant reads it only if it owns the record (403 otherwise), a member reads it
    owns = full["owner"] == served.demo["entities"]["m-lingang"]
    assert c.get(f"{API}/certificates/{credential}", headers=served.auth("merchant")).status_code == (
        200 if owns else 403)
    member = c.get(f"{API}/certificates/{credential}", headers=served.auth("member"))
    assert member.status_code == 200 and secret in member.text
    assert c.get(f"{API}/certificates/{credential}/jwt", headers=served.auth("member")).status_code == 200


# ---------------------------------------------------------------------- body limits on every method


def test_a_signed_get_with_a_chunked_body_over_the_limit_is_413(served: Served) -> None:
    # docs/security.md: request bodies are limited (2 MiB by default, 413 before any route reads them). The guard
    # (api/middleware.Guard) reads and bounds bodies only for POST, PUT, PATCH and DELETE, and checks a declared
    # Content-Length; a GET with a chunked body (no Content-Length) passes unread. deps.caller then reads it
    # whole (``await request.body()``) as soon as the request carries X-Provenance-Signature, before looking at
    # any other header, on every read route that knows its caller: an anonymous client makes the node buffer as
    # much as it sends. The answer should be 413 body-too-large, with no more than the limit read.
    limit = served.runtime.settings.max_body_bytes
    sent = [0]

    def chunks() -> Any:
        piece = b" " * 65536
        for _ in range(limit // len(piece) + 16):  # a MiB past the limit
            sent[0] += len(piece)
            yield piece

    res = served.client.request("GET", f"{API}/registrations/{served.record('port-vessel-traffic')}",
                                content=chunks(), headers={"X-Provenance-Signature": "0x00"})
    assert res.status_code == 413, (res.status_code, res.text[:300], sent[0])
    assert res.headers["content-type"].startswith("application/problem+json")



# ---------------------------------------------------------------------- lineage exports


def test_a_lineage_export_deeper_than_its_access_check_leaks_hidden_ancestors(served: Served) -> None:
    # The PROV-JSON and OpenLineage exports refuse a caller who may not see every record of the lineage
    # (routes/registrations._need_reveal_all). That check walks the ancestors to the default depth, 64, while the
    # export walks to the caller's max_depth, up to 256: an ancestor at depth 65 or more is exported in full
    # (owner, content hash, metadata hash) to a caller that may not see it. Here a merchant sees its own
    # important-grade chain of 65 records, whose first parent is another owner's important-grade record: the
    # export at max_depth=64 is 200 (nothing hidden within reach), the one at max_depth=256 must be 403.
    c = served.client
    hidden = served.record("logistics-waybills")  # important, owned by Hangzhou (not the merchant's)
    secret = c.get(f"{API}/registrations/{hidden}", headers=served.auth("admin")).json()["content_hash"]
    lingang = served.demo["entities"]["m-lingang"]
    parent = hidden
    for i in range(65):
        r = c.post(f"{API}/registrations", headers=served.auth("registrar"), json={
            "kind": "resource", "grade": "important", "owner": lingang, "contentHash": f"0x{0xd00 + i:064x}",
            "parents": [parent]})
        assert r.status_code == 201, r.text
        parent = r.json()["id"]
    merchant = served.auth("merchant")
    near = c.get(f"{API}/registrations/{parent}/lineage/prov", params={"max_depth": 64}, headers=merchant)
    assert near.status_code == 200 and secret not in near.text
    for fmt in ("prov", "openlineage"):
        deep = c.get(f"{API}/registrations/{parent}/lineage/{fmt}", params={"max_depth": 256}, headers=merchant)
        assert deep.status_code == 403 and secret not in deep.text, (fmt, deep.status_code, secret in deep.text)


# ---------------------------------------------------------------------- recognitions count once


def _demo_certificate(served: Served) -> dict[str, Any]:
    """The demo's certificate: AHDE's, of its logistics-index asset (a partner's certificate for this SDE node)."""
    return dict(json.loads((served.data_dir / "demo-certificate.json").read_text("utf-8")))


def test_a_repeated_recognition_counts_once(served: Served) -> None:
    # docs/security.md: no client can "make a signature count twice". A recognition proof is outside what the
    # issuer signed, so anyone holding a recognised certificate can copy a proof; core/certificates/checks.
    # _recognition_check verifies each proof on its own and reports len(proofs), so the certificate with SDE's
    # one recognition written twice verifies valid with "2 partner recognitions". A second recognition by the same
    # exchange must be refused (format) or counted once.
    c = served.client
    recognised = c.post(f"{API}/certificates/recognize", json={"certificate": _demo_certificate(served),
                                                               "onChain": False}, headers=served.auth("registrar"))
    assert recognised.status_code == 200, recognised.text
    doc = recognised.json()
    assert len(doc["proof"]) == 2
    doc["proof"].append(doc["proof"][1])
    report = c.post(f"{API}/certificates/verify", json=doc).json()
    counted = next(ch for ch in report["checks"] if ch["name"] == "recognitions")
    assert report["valid"] is False or "2 partner" not in counted["detail"], counted


def test_recognising_a_certificate_twice_adds_one_recognition(served: Served) -> None:
    # The same fault on the writing side: POST /certificates/recognize on a certificate this exchange already
    # recognised appends another SDE recognition (three proofs, two by SDE) instead of answering 409 or the
    # certificate as it is.
    c = served.client
    once = c.post(f"{API}/certificates/recognize", json={"certificate": _demo_certificate(served), "onChain": False},
                  headers=served.auth("registrar"))
    assert once.status_code == 200, once.text
    twice = c.post(f"{API}/certificates/recognize", json={"certificate": once.json(), "onChain": False},
                   headers=served.auth("registrar"))
    assert twice.status_code == 409 or len(twice.json()["proof"]) == 2, (twice.status_code, twice.text[:200])
