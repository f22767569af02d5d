"""The JSON-LD contexts shipped with the package: the VC 2.0 context is the published file (the digest the
Recommendation states), and pyld, which no one here wrote, expands a real certificate offline with the package's
loader, dropping nothing: every value of the document reaches the expanded form under an absolute IRI."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from provenance import contexts as X
from provenance.core import certificates as C
from tests.support.certificates import World, make_world

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(Path(tmp_path_factory.mktemp("contexts")))
    yield w
    w.close()


@pytest.fixture(scope="module")
def cert(world: World) -> Doc:
    doc = world.certifier.issue(world.product, world.fed.keys["SDE"])
    return world.certifier.recognize(doc, world.fed.keys["ZJDE"], on_chain=False)


def expand(doc: Any) -> Any:
    return jsonld.expand(doc, {"documentLoader": X.document_loader})


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


def leaves(value: Any, *, json_literal: frozenset[str] = frozenset({"eip712"})) -> Counter[str]:
    """Every scalar of a compacted document (a JSON literal's object counted as one)."""
    out: Counter[str] = Counter()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "@context":
                continue
            out += Counter({_literal(v): 1}) if k in json_literal else leaves(v)
    elif isinstance(value, list):
        for v in value:
            out += leaves(v)
    else:
        out[_scalar(value)] += 1
    return out


def _literal(value: Any) -> str:
    import json

    return "json:" + json.dumps(value, sort_keys=True)


def _scalar(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def expanded_leaves(value: Any, iris: set[str]) -> Counter[str]:
    """Every value of an expanded document: @value, @id and @type entries; property IRIs gathered in ``iris``."""
    out: Counter[str] = Counter()
    if isinstance(value, list):
        for v in value:
            out += expanded_leaves(v, iris)
        return out
    assert isinstance(value, dict)
    if "@value" in value:
        v = value["@value"]
        out[_literal(v) if value.get("@type") == "@json" else _scalar(v)] += 1
        return out
    for k, v in value.items():
        if k == "@id":
            out[_scalar(v)] += 1
        elif k == "@type":
            for t in v if isinstance(v, list) else [v]:
                out[f"type:{t}"] += 1
        elif k in ("@list", "@set", "@graph"):
            out += expanded_leaves(v, iris)
        else:
            assert not k.startswith("@"), k
            iris.add(k)
            out += expanded_leaves(v, iris)
    return out


def type_names(value: Any) -> Counter[str]:
    """How often each type name occurs in a compacted document."""
    out: Counter[str] = Counter()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "type":
                out.update(v if isinstance(v, list) else [v])
            elif k != "@context":
                out += type_names(v)
    elif isinstance(value, list):
        for v in value:
            out += type_names(v)
    return out


# Values of terms typed @vocab become IRIs on expansion.
VOCAB = {"str:assertionMethod": "str:https://w3id.org/security#assertionMethod",
         "str:recognition": "str:https://w3id.org/provenance/registration#recognition"}


def assert_nothing_dropped(doc: Doc) -> list[Any]:
    """Expand ``doc``; every scalar it holds is in the expanded form as often, every type name became one type
    IRI, and every property and type is an absolute IRI: no term was dropped or left relative."""
    expanded = expand(doc)
    iris: set[str] = set()
    got = expanded_leaves(expanded, iris)
    types = Counter({k: n for k, n in got.items() if k.startswith("type:")})
    names = type_names(doc)
    want = leaves(doc) - Counter({f"str:{t}": n for t, n in names.items()})
    want = Counter({VOCAB.get(k, k): n for k, n in want.items()})
    assert sum(types.values()) == sum(names.values())
    assert got - types == want, ((got - types) - want, want - (got - types))
    for iri in iris | {k[5:] for k in types}:
        assert iri.startswith(("https://", "http://")), iri
    return expanded  # type: ignore[no-any-return]


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
