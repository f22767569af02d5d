"""DCAT-AP 3.0.1's mandatory properties where the node knows a record only by its hash: every dcat:Dataset has a
dct:title and a dct:description (sh:minCount 1), every foaf:Agent a foaf:name, each made from what the node knows
(kind, id, registrar; entity id and kind) in Chinese and English, never beyond it; and every name's language tag
matches its script. Read back as RDF with rdflib, offline, through the shipped context (tests/support/dcat.py):
the shapes' minCounts checked as the triples they ask for (tests/core/test_dcat_ap_shacl.py runs the shapes
themselves)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
import rdflib
from rdflib import Literal, Namespace, URIRef

from provenance.core import dcat as D
from tests.support.dcat import BASE
from tests.support.dcat import graph as _graph
from tests.support.dcat import listing as _listing

RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")


def _hash_only(i: int, *, kind: str = "product", owner: int = 7, registrar: str | None = "SDE") -> dict[str, Any]:
    """A listing as the index shows a record registered with only a metadataHash: no document, no title, no
    description, and a publisher without a published profile."""
    return {"id": "0x" + bytes([0x40 + i]).hex() * 32, "kind": kind, "grade": "general", "status": "active",
            "registrar": registrar, "owner": owner, "publisher": {"id": owner, "name": None, "kind": None},
            "title": None, "description": None, "keywords": [], "themes": [], "block": 20 + i,
            "timestamp": 1764547300 + i, "metadataHash": "0x" + "ab" * 32, "metadata": "not-supplied",
            "document": None}


def _ds(listing: dict[str, Any]) -> URIRef:
    return URIRef(f"{BASE}/api/v1/registrations/{listing['id']}")


def _has_cjk(text: str) -> bool:
    # Independent of the builder's own ranges: Unicode's name of every ideograph says so.
    return any(unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))
               for ch in text)


def _check_required(g: rdflib.Graph) -> None:
    datasets = set(g.subjects(RDF.type, DCAT.Dataset))
    agents = set(g.subjects(RDF.type, FOAF.Agent))
    assert datasets and agents
    for ds in datasets:
        for term in (DCT.title, DCT.description):
            values = list(g.objects(ds, term))
            assert values, (ds, term)
            assert all(isinstance(v, Literal) and str(v).strip() for v in values)
    for agent in agents:
        assert list(g.objects(agent, FOAF.name)), agent
    for term in (DCT.title, DCT.description, FOAF.name):
        for s, o in g.subject_objects(term):
            if isinstance(o, Literal) and o.language is not None:
                assert o.language == ("zh" if _has_cjk(str(o)) else "en"), (s, term, o)


def test_a_catalogue_of_hash_only_records_has_every_mandatory_property() -> None:
    listings = [_listing(1), _hash_only(1), _hash_only(2, kind="resource", owner=8), _hash_only(3, kind="asset")]
    g = _graph(D.dcat_catalog(listings, base_url=BASE, publisher={"name": "Shanghai Data Exchange", "code": "SDE"}))
    _check_required(g)
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 4


@pytest.mark.parametrize(("kind", "zh", "en"), [("product", "数据产品", "Data product"),
                                                ("resource", "数据资源", "Data resource"),
                                                ("asset", "数据资产", "Data asset")])
def test_a_generated_title_and_description_say_only_what_the_node_knows(kind: str, zh: str, en: str) -> None:
    listing = _hash_only(5, kind=kind)
    g = _graph(D.dcat_catalog([listing], base_url=BASE))
    short = listing["id"][:10] + "…"
    assert set(g.objects(_ds(listing), DCT.title)) == {Literal(f"{zh} {short}", lang="zh"),
                                                       Literal(f"{en} {short}", lang="en")}
    assert set(g.objects(_ds(listing), DCT.description)) == {
        Literal(f"由数据交易所 SDE 登记的{zh}，未在本节点公开元数据文档。", lang="zh"),
        Literal(f"{en} registered by exchange SDE; no metadata document is published on this node.", lang="en")}


def test_without_a_registrar_the_description_names_none() -> None:
    listing = _hash_only(6, registrar=None)
    g = _graph(D.dcat_catalog([listing], base_url=BASE))
    assert set(g.objects(_ds(listing), DCT.description)) == {
        Literal("已登记的数据产品，未在本节点公开元数据文档。", lang="zh"),
        Literal("Data product registered; no metadata document is published on this node.", lang="en")}


def test_the_listings_own_text_is_kept_in_the_languages_it_has() -> None:
    # A Chinese-only title stays Chinese-only; only the missing description is made.
    listing = {**_hash_only(7), "title": {"zh": "上海港集装箱吞吐量", "en": None}}
    g = _graph(D.dcat_catalog([listing], base_url=BASE))
    assert list(g.objects(_ds(listing), DCT.title)) == [Literal("上海港集装箱吞吐量", lang="zh")]
    assert {d.language for d in g.objects(_ds(listing), DCT.description)} == {"zh", "en"}
    full = _listing(2)
    g = _graph(D.dcat_catalog([full], base_url=BASE))
    assert set(g.objects(_ds(full), DCT.title)) == {Literal(v, lang=k) for k, v in full["title"].items()}
    assert set(g.objects(_ds(full), DCT.description)) == {Literal(v, lang=k) for k, v in full["description"].items()}


@pytest.mark.parametrize(("kind", "names"), [(None, {("主体 7", "zh"), ("Entity 7", "en")}),
                                             ("enterprise", {("企业 7", "zh"), ("Enterprise 7", "en")}),
                                             ("public-body", {("公共机构 7", "zh"), ("Public body 7", "en")}),
                                             ("individual", {("主体 7", "zh"), ("Entity 7", "en")})])
def test_an_agent_without_a_profile_is_named_by_its_id_and_kind(kind: str | None, names: set[tuple[str, str]]) -> None:
    listing = {**_hash_only(8), "publisher": {"id": 7, "name": None, "kind": kind}}
    g = _graph(D.dcat_catalog([listing], base_url=BASE))
    agent = URIRef(f"{BASE}/api/v1/entities/7")
    assert {(str(n), n.language) for n in g.objects(agent, FOAF.name)} == names


def test_a_listing_without_a_publisher_is_named_by_its_owner() -> None:
    listing = {**_hash_only(9, owner=12), "publisher": None}
    g = _graph(D.dcat_catalog([listing], base_url=BASE))
    agent = URIRef(f"{BASE}/api/v1/entities/12")
    assert g.value(_ds(listing), DCT.publisher) == agent
    assert {(str(n), n.language) for n in g.objects(agent, FOAF.name)} == {("主体 12", "zh"), ("Entity 12", "en")}


@pytest.mark.parametrize(("name", "lang"), [("Shanghai Data Exchange", "en"), ("上海数据交易所", "zh"),
                                            ("浙江大数据交易中心 (ZJDE)", "zh"), ("Anhui 数据 Exchange", "zh"),
                                            ("SDE", "en"), ("Data Exchange ·「」", "en"), ("𠀀 Exchange", "zh")])
def test_a_name_without_a_language_is_tagged_by_its_script(name: str, lang: str) -> None:
    assert D.name_language(name) == lang
    g = _graph(D.dcat_catalog([], base_url=BASE, publisher={"name": name, "code": "SDE"}))
    publisher = g.value(URIRef(f"{BASE}/api/v1/catalog"), DCT.publisher)
    assert list(g.objects(publisher, FOAF.name)) == [Literal(name, lang=lang)]


def test_an_exchange_without_a_name_is_named_by_its_code() -> None:
    g = _graph(D.dcat_catalog([], base_url=BASE, publisher={"name": "", "code": "SDE"}))
    publisher = g.value(URIRef(f"{BASE}/api/v1/catalog"), DCT.publisher)
    assert list(g.objects(publisher, FOAF.name)) == [Literal("SDE", lang="en")]
    both = _graph(D.dcat_catalog([], base_url=BASE, publisher={"name": {"zh": "上海数据交易所",
                                                                        "en": "Shanghai Data Exchange"}}))
    publisher = both.value(URIRef(f"{BASE}/api/v1/catalog"), DCT.publisher)
    assert set(both.objects(publisher, FOAF.name)) == {Literal("上海数据交易所", lang="zh"),
                                                       Literal("Shanghai Data Exchange", lang="en")}


def test_the_served_dataset_document_meets_the_same_rules() -> None:
    listing = _hash_only(10, owner=8)
    _check_required(_graph(D.dcat_dataset(listing, base_url=BASE, required=True)))
    # The pure builder's default shows only the listing's own fields (tests/core/test_dcat.py holds that).
    g = _graph(D.dcat_dataset(listing, base_url=BASE))
    assert g.value(_ds(listing), DCT.title) is None and g.value(_ds(listing), DCT.description) is None
