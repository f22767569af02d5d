"""DCAT-AP 3.0.1 requirements the export meets, read back as RDF with rdflib, each shape this export once failed
checked as the triples it asks for: an access URL on every
distribution (this node's metadata endpoint, never the data), a description of the catalogue and a title of the
board taxonomy in Chinese and English, and dct:format as an IANA media type where the format is registered.
The shapes themselves run in tests/core/test_dcat_ap_shacl.py."""

from __future__ import annotations

import copy
from typing import Any

from rdflib import BNode, Literal, Namespace, URIRef

from provenance.core import dcat as D
from tests.support.dcat import BASE
from tests.support.dcat import graph as _graph
from tests.support.dcat import listing as _listing

RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
IANA = "https://www.iana.org/assignments/media-types/"


def _with_formats(i: int, formats: list[str]) -> dict[str, Any]:
    listing = _listing(i)
    doc = copy.deepcopy(listing["document"])
    doc["distributions"] = [{"format": f, "delivery": "file"} for f in formats]
    return {**listing, "document": doc}


def test_every_distribution_has_this_nodes_access_url() -> None:
    listings = [_listing(i) for i in range(1, 5)]
    g = _graph(D.dcat_catalog(listings, base_url=BASE))
    seen = 0
    for listing in listings:
        ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
        for dist in g.objects(ds, DCAT.distribution):
            assert list(g.objects(dist, DCAT.accessURL)) == [URIRef(f"{ds}/metadata")]
            seen += 1
    assert seen == sum(len(x["document"]["distributions"]) for x in listings) > 0


def test_catalog_description_and_board_taxonomy_title_in_both_languages() -> None:
    g = _graph(D.dcat_catalog([_listing(1)], base_url=BASE))
    cat = URIRef(f"{BASE}/api/v1/catalog")
    langs = {d.language for d in g.objects(cat, DCT.description)}
    assert langs == {"zh", "en"}
    scheme = URIRef(D.BOARD_SCHEME_IRI)
    assert set(g.objects(scheme, DCT.title)) == {Literal("板块", lang="zh"), Literal("Boards", lang="en")}
    given = _graph(D.dcat_catalog([], base_url=BASE, description={"en": "Ours"}))
    assert list(given.objects(cat, DCT.description)) == [Literal("Ours", lang="en")]


def test_format_is_an_iana_media_type_iri_where_one_is_registered() -> None:
    listing = _with_formats(2, ["CSV", "parquet", "REST", "XLSX"])
    g = _graph(D.dcat_dataset(listing, base_url=BASE))
    ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
    formats = {g.value(d, DCT["format"]) for d in g.objects(ds, DCAT.distribution)}
    want_iris = {URIRef(IANA + "text/csv"), URIRef(IANA + "application/vnd.apache.parquet"),
                 URIRef(IANA + "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    # An API style is no media type: it is a dct:MediaTypeOrExtent named by the document's word alone (the shapes
    # refuse a literal).
    rest = formats - want_iris
    assert len(rest) == 1 and isinstance(api := rest.pop(), BNode) and g.value(api, RDFS.label) == Literal("REST")
    for node in (*want_iris, api):
        assert (node, RDF.type, DCT.MediaTypeOrExtent) in g
    assert g.value(URIRef(IANA + "application/vnd.apache.parquet"), RDFS.label) == Literal("parquet")


def test_keywords_and_places_carry_no_guessed_language() -> None:
    # The metadata document does not say which language its keywords and place are in: no tag is invented.
    listing = _listing(3)
    g = _graph(D.dcat_dataset(listing, base_url=BASE))
    ds = URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")
    assert {k.language for k in g.objects(ds, DCAT.keyword)} == {None}
    place = g.value(ds, DCT.spatial)
    assert g.value(place, RDFS.label).language is None
