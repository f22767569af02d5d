"""The JSON-LD contexts shipped with the package: the VC 2.0 context is the published file (the digest the
Recommendation states), and pyld, which no one here wrote, expands a real certificate offline with the package's
loader, dropping nothing: every value of the document reaches the expanded form under an absolute IRI."""

from __future__ import annotations

import hashlib

import pytest
from pyld import jsonld

from provenance import contexts as X
from provenance.core import certificates as C
from tests.support.jsonld import Doc, assert_nothing_dropped, expand


def test_the_vc_context_is_the_published_file() -> None:
    raw = X.context_bytes(X.VC_V2)
    # The digest VC 2.0 (W3C Recommendation, section B.1) gives for https://www.w3.org/ns/credentials/v2.
    assert hashlib.sha256(raw).hexdigest() == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"


def test_the_certificate_names_the_shipped_contexts(cert: Doc) -> None:
    assert cert["@context"] == [X.VC_V2, X.PROVENANCE_V1] == [C.VC_CONTEXT, C.PROVENANCE_CONTEXT]


def test_the_loader_serves_nothing_else() -> None:
    for url in ("https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/v2", "file:///etc/passwd",
                X.VC_V2 + "/", "http://www.w3.org/ns/credentials/v2"):
        with pytest.raises(X.UnknownContext):
            X.document_loader(url)
    with pytest.raises(jsonld.JsonLdError):
        expand({"@context": "https://example.org/ctx", "name": "x"})


def test_pyld_expands_a_real_certificate_offline_dropping_nothing(cert: Doc) -> None:
    expanded = assert_nothing_dropped(cert)
    node = expanded[0]
    assert node["@type"] == ["https://www.w3.org/2018/credentials#VerifiableCredential",
                             "https://w3id.org/provenance/registration#DataRegistrationCertificate"]
    subject = node["https://www.w3.org/2018/credentials#credentialSubject"][0]
    record = subject["https://w3id.org/provenance/registration#record"][0]
    assert record["https://w3id.org/provenance/registration#recordId"] == [
        {"@value": cert["credentialSubject"]["record"]["id"]}]
    assert len(subject["https://w3id.org/provenance/registration#lineage"][0]["@list"]) == 2
    proofs = node["https://w3id.org/security#proof"]
    assert len(proofs) == 2  # the issuer's proof and the partner's recognition, each its own graph


def test_a_term_the_contexts_do_not_define_is_caught(cert: Doc) -> None:
    """The check above can fail: an undefined term is dropped by expansion, and the comparison sees it."""
    bad = {**cert, "credentialSubject": {**cert["credentialSubject"], "surprise": "dropped"}}
    with pytest.raises(AssertionError):
        assert_nothing_dropped(bad)


def test_rdflib_reads_the_certificate_as_json_ld(cert: Doc) -> None:
    import json

    import rdflib

    graph = rdflib.Dataset()
    graph.parse(data=json.dumps(expand(cert)), format="json-ld")
    subject = rdflib.URIRef(cert["credentialSubject"]["id"])
    record_id = rdflib.URIRef("https://w3id.org/provenance/registration#recordId")
    assert any(str(o) == cert["credentialSubject"]["record"]["id"] for o in graph.objects(None, record_id))
    assert (None, None, subject) in graph and len(graph) > 100
