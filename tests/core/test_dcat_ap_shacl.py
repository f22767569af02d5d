"""The catalogue export against DCAT-AP 3.0.1's own SHACL shapes (tests/vectors/dcat-ap-3.0.1, the release's file
byte for byte), validated by pyshacl: listings with a bilingual, a Chinese-only and an English-only document, formats
with and without an IANA media type, and records the node knows only by their hash, published by an entity with no
profile. The export reads offline through the shipped context (tests/support/dcat.py); the shapes' class
constraints (dct:Frequency, dct:MediaType, dct:MediaTypeOrExtent) are met by the export's own typing, with no
vocabulary loaded."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyshacl
import pytest
import rdflib
from rdflib import Namespace

from provenance.core import dcat as D
from tests.support.dcat import BASE
from tests.support.dcat import graph as _graph
from tests.support.dcat import listing as _listing

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES = Path(__file__).parents[1] / "vectors" / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl"
PUBLISHER = {"name": {"zh": "上海数据交易所", "en": "Shanghai Data Exchange"}, "code": "SDE"}


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES, format="turtle")


def _hash_only(i: int) -> dict[str, Any]:
    # As the index shows a record registered with only its metadataHash, published by an entity with no profile.
    return {"id": "0x" + bytes([0x60 + i]).hex() * 32, "kind": "resource", "grade": "important", "status": "active",
            "registrar": "SDE", "owner": 7, "publisher": {"id": 7, "name": None, "kind": None}, "title": None,
            "description": None, "keywords": [], "themes": [], "block": 30 + i, "timestamp": 1764547400 + i,
            "metadataHash": "0x" + "cd" * 32, "metadata": "not-supplied", "document": None}


def _with_formats(i: int, formats: list[str]) -> dict[str, Any]:
    listing = _listing(i)
    doc = copy.deepcopy(listing["document"])
    doc["distributions"] = [{"format": f, "mediaType": "text/csv", "delivery": "api"} for f in formats]
    return {**listing, "document": doc}


def _violations(g: rdflib.Graph, shapes: rdflib.Graph) -> list[tuple[str, str, str]]:
    conforms, report, _ = pyshacl.validate(g, shacl_graph=shapes, inference="none", advanced=True)
    found = sorted((str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                    str(report.value(r, SH.resultMessage)))
                   for r in report.subjects(rdflib.RDF.type, SH.ValidationResult)
                   if report.value(r, SH.resultSeverity) == SH.Violation)
    assert conforms == (not found)
    return found


def _catalog() -> dict[str, Any]:
    listings = [_listing(1), _listing(2, lang="zh"), _listing(3, lang="en"),
                _with_formats(4, ["CSV", "REST", "parquet"]), _hash_only(1), _hash_only(2)]
    return D.dcat_catalog(listings, base_url=BASE, publisher=PUBLISHER)


def test_the_catalogue_conforms_to_the_dcat_ap_shapes(shapes: rdflib.Graph) -> None:
    assert _violations(_graph(_catalog()), shapes) == []


def test_one_dataset_document_conforms(shapes: rdflib.Graph) -> None:
    for listing in (_listing(5), _hash_only(3)):
        assert _violations(_graph(D.dcat_dataset(listing, base_url=BASE, required=True)), shapes) == []


@pytest.mark.parametrize(("spoil", "path"), [
    # What the export once wrote, each a violation the shapes report: the check is not vacuous.
    (lambda ds: ds.update(accrualPeriodicity=ds["accrualPeriodicity"]["id"]), "accrualPeriodicity"),
    (lambda ds: [d.update(mediaType=d["mediaType"]["id"]) for d in ds["distribution"]], "mediaType"),
    (lambda ds: ds["distribution"][1].update(format="REST"), "format"),
    (lambda ds: ds.pop("title"), "title"),
    (lambda ds: ds["publisher"].pop("name"), "name"),
])
def test_each_former_fault_is_a_violation(shapes: rdflib.Graph, spoil: Any, path: str) -> None:
    catalog = _catalog()
    spoil(catalog["dataset"][3])  # the one whose distributions all say text/csv: an IRI typed nowhere else
    found = _violations(_graph(catalog), shapes)
    assert found and all(p.rsplit("/", 1)[-1].rsplit("#", 1)[-1] == path for _, p, _ in found), found
