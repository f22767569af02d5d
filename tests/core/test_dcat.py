"""The DCAT 3 export: expanded offline with the shipped context (nothing dropped), then read as RDF with rdflib and
checked against the listings it was made from: titles with language tags, publishers, themes and their concept
scheme, distributions, temporal coverage, frequency, contact point and the ODRL policy."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import rdflib
from pyld import jsonld
from rdflib import BNode, Literal, Namespace, URIRef

from provenance import contexts as X
from provenance.core import catalog as C
from provenance.core import dcat as D
from provenance.dev import catalog_samples as S
from provenance.types import Rights
from tests.support.dcat import BASE
from tests.support.dcat import graph as _graph
from tests.support.dcat import listing as _listing

# Plain namespaces: pytest's collection probes module attributes, which rdflib's closed namespaces warn about.
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
PCAT = Namespace("https://w3id.org/provenance/catalog#")
def test_the_context_is_shipped_and_served_offline() -> None:
    assert X.CATALOG_V1 == D.CATALOG_CONTEXT_URL
    served = X.document_loader(D.CATALOG_CONTEXT_URL)
    assert served["document"]["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    with pytest.raises(X.UnknownContext):
        X.document_loader("https://www.w3.org/ns/dcat3.jsonld")


def test_catalog_triples_match_the_listings() -> None:
    langs: tuple[S.Lang, ...] = ("both", "zh", "en") * 2
    listings = [_listing(i, lang=lang) for i, lang in zip(range(1, 7), langs, strict=True)]
    catalog = D.dcat_catalog(listings, base_url=BASE + "/", title={"zh": "上海数据交易所目录", "en": "SDE catalogue"},
                             publisher={"name": {"zh": "上海数据交易所", "en": "Shanghai Data Exchange"}})
    g = _graph(catalog)
    cat = URIRef(f"{BASE}/api/v1/catalog")
    assert (cat, RDF.type, DCAT.Catalog) in g
    assert set(g.objects(cat, DCT.title)) == {Literal("上海数据交易所目录", lang="zh"),
                                             Literal("SDE catalogue", lang="en")}
    exchange = g.value(cat, DCT.publisher)
    assert (exchange, FOAF.name, Literal("Shanghai Data Exchange", lang="en")) in g
    scheme = g.value(cat, DCAT.themeTaxonomy)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in g
    assert len(list(g.objects(scheme, SKOS.hasTopConcept))) == len(C.BOARDS)
    for b in C.BOARDS:
        concept = URIRef(b.iri)
        assert set(g.objects(concept, SKOS.prefLabel)) == {Literal(b.zh, lang="zh"), Literal(b.en, lang="en")}
        assert (concept, SKOS.inScheme, scheme) in g
    datasets = set(g.objects(cat, DCAT.dataset))
    assert len(datasets) == len(listings)
    for listing in listings:
        _check_dataset(g, listing)


def _check_dataset(g: rdflib.Graph, listing: dict[str, Any]) -> None:
    doc = listing["document"]
    ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert g.value(ds, DCT.identifier) == Literal(listing["id"])
    assert set(g.objects(ds, DCT.title)) == {Literal(v, lang=k) for k, v in listing["title"].items()}
    assert set(g.objects(ds, DCT.description)) == {Literal(v, lang=k) for k, v in listing["description"].items()}
    assert set(g.objects(ds, DCAT.keyword)) == {Literal(k) for k in listing["keywords"]}
    assert set(g.objects(ds, DCAT.theme)) == {URIRef(C.BOARD_IRI + t) for t in listing["themes"]}
    agent = g.value(ds, DCT.publisher)
    assert agent == URIRef(f"{BASE}/api/v1/entities/{listing['owner']}")
    assert (agent, RDF.type, FOAF.Agent) in g
    assert set(g.objects(agent, FOAF.name)) == {Literal(v, lang=k) for k, v in listing["publisher"]["name"].items()}
    period = g.value(ds, DCT.temporal)
    assert (period, RDF.type, DCT.PeriodOfTime) in g
    assert g.value(period, DCAT.startDate) == Literal(doc["temporal"]["start"], datatype=XSD.date)
    assert g.value(period, DCAT.endDate) == Literal(doc["temporal"]["end"], datatype=XSD.date)
    frequency = g.value(ds, DCT.accrualPeriodicity)
    assert frequency == URIRef("http://publications.europa.eu/resource/authority/frequency/"
                               + D.FREQUENCY_CODES[doc["accrualPeriodicity"]])
    assert (frequency, RDF.type, DCT.Frequency) in g  # DCAT-AP's shapes ask the value's class of the data graph
    place = g.value(ds, DCT.spatial)
    assert (place, RDF.type, DCT.Location) in g and str(g.value(place, RDFS.label)) == doc["spatial"]
    seconds = listing["timestamp"] - 1764547200  # 2025-12-01T00:00:00Z
    assert g.value(ds, DCT.issued) == Literal(f"2025-12-01T00:00:{seconds:02d}Z", datatype=XSD.dateTime)
    dists = list(g.objects(ds, DCAT.distribution))
    assert len(dists) == len(doc["distributions"])
    want = {(d["delivery"], d.get("format"), d.get("mediaType"), d.get("byteSize")) for d in doc["distributions"]}
    got = set()
    for dist in dists:
        assert (dist, RDF.type, DCAT.Distribution) in g
        media = g.value(dist, DCAT.mediaType)
        assert media is None or (media, RDF.type, DCT.MediaType) in g
        size = g.value(dist, DCAT.byteSize)
        fmt = g.value(dist, DCT["format"])
        if fmt is not None:  # an IANA media type where one is registered, labelled with the document's name
            assert isinstance(fmt, BNode) or str(fmt).startswith(D.MEDIA_TYPE_IRI)
            assert (fmt, RDF.type, DCT.MediaTypeOrExtent) in g
            fmt = g.value(fmt, RDFS.label)
        got.add((str(g.value(dist, PCAT.delivery)).removeprefix(str(PCAT)), None if fmt is None else str(fmt),
                 None if media is None else str(media).removeprefix("https://www.iana.org/assignments/media-types/"),
                 None if size is None else int(str(size))))
        if size is not None:
            assert isinstance(size, Literal) and size.datatype == XSD.nonNegativeInteger
    assert got == want
    policy = g.value(ds, ODRL.hasPolicy)
    assert policy == URIRef(doc["policy"]["uid"]) and (policy, RDF.type, ODRL.Offer) in g
    assert (policy, ODRL.target, ds) in g and (policy, ODRL.assigner, agent) in g
    actions = {g.value(p, ODRL.action) for p in g.objects(policy, ODRL.permission)}
    assert actions == {ODRL[p["action"]] for p in doc["policy"]["permission"]}
    contact = g.value(ds, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in g and str(g.value(contact, VCARD.fn)) == doc["contactPoint"]["name"]
    assert g.value(contact, VCARD.hasEmail) == URIRef("mailto:" + doc["contactPoint"]["email"])
    assert str(g.value(ds, PCAT.metadataHash)) == listing["metadataHash"]


def test_one_dataset_document() -> None:
    listing = _listing(9, rights=Rights.HOLDING | Rights.PROCESSING)
    doc = D.dcat_dataset(listing, base_url=BASE)
    assert doc["@context"] == D.CATALOG_CONTEXT_URL
    g = _graph(doc)
    _check_dataset(g, listing)
    policy = URIRef(listing["document"]["policy"]["uid"])
    forbidden = {g.value(p, ODRL.action) for p in g.objects(policy, ODRL.prohibition)}
    assert forbidden == {ODRL.distribute}  # no operation right: the sample forbids passing the data on


def test_constraints_duties_and_iri_themes() -> None:
    listing = _listing(3)
    doc = copy.deepcopy(listing["document"])
    doc["themes"] = ["shipping", "http://publications.europa.eu/resource/authority/data-theme/TRAN"]
    doc["policy"]["permission"] = [{"action": "use", "constraint": [
        {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["research", "statistics"]}]},
        {"action": "distribute", "duty": [{"action": "attribute"}]}]
    doc["spatial"] = "https://sws.geonames.org/1796236/"
    C.parse_metadata(doc)
    listing.update(document=doc, themes=doc["themes"])
    g = _graph(D.dcat_dataset(listing, base_url=BASE))
    ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
    assert set(g.objects(ds, DCAT.theme)) == {URIRef(C.BOARD_IRI + "shipping"),
                                              URIRef("http://publications.europa.eu/resource/authority/data-theme/TRAN")}
    assert g.value(ds, DCT.spatial) == URIRef("https://sws.geonames.org/1796236/")
    rules = {g.value(p, ODRL.action): p for p in g.objects(URIRef(doc["policy"]["uid"]), ODRL.permission)}
    constraint = g.value(rules[ODRL.use], ODRL.constraint)
    assert g.value(constraint, ODRL.leftOperand) == ODRL.purpose
    assert g.value(constraint, ODRL.operator) == ODRL.isAnyOf
    assert set(g.objects(constraint, ODRL.rightOperand)) == {Literal("research"), Literal("statistics")}
    assert g.value(g.value(rules[ODRL.distribute], ODRL.duty), ODRL.action) == ODRL.attribute


def test_a_listing_without_its_document() -> None:
    listing = _listing(4, lang="zh")
    listing.update(document=None, metadata="not-supplied", title=None, description=None, keywords=[], themes=[])
    doc = D.dcat_dataset(listing, base_url=BASE)
    g = _graph(doc)
    ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert g.value(ds, DCT.title) is None and g.value(ds, DCAT.distribution) is None
    assert g.value(ds, DCT.publisher) == URIRef(f"{BASE}/api/v1/entities/{listing['owner']}")


def test_every_property_is_a_term_of_the_context() -> None:
    # Compacting the expanded form with the shipped context gives back the same keys: every property the export
    # writes is a term there (none falls back to a prefixed or absolute IRI).
    doc = D.dcat_catalog([_listing(5)], base_url=BASE)
    expanded = jsonld.expand(doc, {"documentLoader": X.document_loader})
    compacted = jsonld.compact(expanded, D.CATALOG_CONTEXT_URL, {"documentLoader": X.document_loader})
    assert _keys(compacted) == _keys(doc)
    assert all(":" not in k for k in _keys(doc))


def _keys(value: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= {k} | _keys(v)
    elif isinstance(value, list):
        for v in value:
            out |= _keys(v)
    return out
