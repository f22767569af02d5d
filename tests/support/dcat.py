"""The DCAT export's test fixtures: a sample listing as the catalogue service hands it to the exporter, and the
export read as RDF offline (pyld expands it with the shipped context; rdflib reads the expanded form)."""

from __future__ import annotations

import json
from typing import Any

import rdflib

from provenance.core import catalog as C
from provenance.dev import catalog_samples as S
from provenance.types import Rights
from tests.support.jsonld import assert_nothing_dropped

BASE = "http://127.0.0.1:8645"


def listing(i: int, *, lang: S.Lang = "both", rights: Rights = Rights.HOLDING | Rights.PROCESSING | Rights.OPERATION
            ) -> dict[str, Any]:
    doc = S.metadata_document(i, publisher=100 + i, kind="product", rights=rights, lang=lang)
    meta = C.parse_metadata(doc)
    profile = S.entity_profile(i)
    return {"id": "0x" + bytes([i]).hex() * 32, "kind": "product", "grade": "general", "status": "active",
            "registrar": "SDE", "owner": 100 + i,
            "publisher": {"id": 100 + i, "name": profile["name"], "kind": "enterprise"},
            "title": meta.title, "description": meta.description, "keywords": list(meta.keywords),
            "themes": list(meta.themes), "block": 10 + i, "timestamp": 1764547200 + i,
            "metadataHash": "0x" + meta.hash.hex(), "metadata": "supplied", "document": doc}


def graph(doc: dict[str, Any]) -> rdflib.Graph:
    # rdflib's own JSON-LD reader would fetch the context; pyld expands with the shipped one, offline, and rdflib
    # reads the expanded form, which names no context.
    expanded = assert_nothing_dropped(doc)
    return rdflib.Graph().parse(data=json.dumps(expanded), format="json-ld")
