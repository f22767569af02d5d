"""The DCAT 3 export of the federated catalogue (JSON-LD): a listing as a ``dcat:Dataset``, the node's listings as a
``dcat:Catalog`` whose ``dcat:themeTaxonomy`` is the boards' SKOS concept scheme. Pure: no I/O.

Every value is an absolute IRI or a literal under the one context this package ships (:data:`CATALOG_CONTEXT_URL`),
so a reader needs no network. What DCAT-AP 3.0.1 makes mandatory (a dataset's title and description, an agent's
name) is written even where the node holds no metadata document or profile, from what it knows: a record's kind,
id and registrar, an entity's id and kind, in Chinese and English; a name stored as one string is tagged by its
script.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from provenance.core.catalog import BOARDS, LANGUAGES
from provenance.core.dcat_terms import BOARDS_TITLE, CATALOG_DESCRIPTION, FORMAT_MEDIA_TYPES


def iso_timestamp(seconds: int) -> str:
    """A block timestamp as xsd:dateTime in UTC (dct:issued)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


CATALOG_CONTEXT_URL = "https://w3id.org/provenance/catalog/v1"
"""The JSON-LD context of the export, shipped as ``provenance/contexts/catalog-v1.jsonld`` (served offline by
:func:`provenance.contexts.document_loader`): DCAT 3, Dublin Core terms, FOAF, vCard, SKOS and ODRL 2.2 IRIs."""
CATALOG_VOCAB = "https://w3id.org/provenance/catalog#"
"""This project's terms of the export (delivery modes, record kind, grade, status, registrar, metadata hash)."""
BOARD_SCHEME_IRI = "https://w3id.org/provenance/boards"
FREQUENCY_IRI = "http://publications.europa.eu/resource/authority/frequency/"
"""The EU Publications Office's frequency table, the controlled vocabulary DCAT-AP 3.0.1 sets for
dct:accrualPeriodicity."""
FREQUENCY_CODES = {"continuous": "CONT", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY",
                   "quarterly": "QUARTERLY", "annual": "ANNUAL", "irregular": "IRREG"}
"""A metadata document's update frequency (metadata-v1's accrualPeriodicity) as its code in that table."""
ODRL = "http://www.w3.org/ns/odrl/2/"
MEDIA_TYPE_IRI = "https://www.iana.org/assignments/media-types/"  # DCAT 3 recommends IANA IRIs for dcat:mediaType


_BOARD_IRIS = {b.code: b.iri for b in BOARDS}
_BOARDS_BY_IRI = {b.iri: b for b in BOARDS}


def _board_concept(board: Any) -> dict[str, Any]:
    return {"id": board.iri, "type": "Concept", "notation": board.code, "prefLabel": {"zh": board.zh, "en": board.en},
            "inScheme": BOARD_SCHEME_IRI}


def _theme(iri: str, in_catalog: bool) -> str | dict[str, Any]:
    """A dataset's dcat:theme. A board is a concept of the catalogue's theme taxonomy: in the catalogue its IRI
    suffices, in a dataset's own document the concept is written out. Another IRI is typed skos:Concept (dcat:theme's
    range, which DCAT-AP's shapes ask of the data) and nothing more is said of it."""
    board = _BOARDS_BY_IRI.get(iri)
    if board is None:
        return {"id": iri, "type": "Concept"}
    return iri if in_catalog else _board_concept(board)


def theme_iri(theme: str) -> str:
    """A theme's IRI: a board's under :data:`provenance.core.catalog.BOARD_IRI`, an absolute IRI as it is."""
    return _BOARD_IRIS.get(theme, theme)


def dcat_dataset(listing: Mapping[str, Any], *, base_url: str, required: bool = False) -> dict[str, Any]:
    """One listing as a ``dcat:Dataset`` JSON-LD document. ``listing`` is a Listing (catalog-spec) and, under
    ``document``, its metadata document where the node holds it (without it only the Listing's fields show, unless
    ``required``: then a title and description DCAT-AP requires are made from them, as in :func:`dcat_catalog`)."""
    return {"@context": CATALOG_CONTEXT_URL, **_dataset(listing, base_url.rstrip("/"), required, in_catalog=False)}


def dcat_catalog(listings: Iterable[Mapping[str, Any]], *, base_url: str, title: Mapping[str, str] | None = None,
                 description: Mapping[str, str] | None = None,
                 publisher: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A ``dcat:Catalog`` of ``listings`` with the boards as its ``dcat:themeTaxonomy`` (a SKOS concept scheme).
    ``publisher`` is the node's exchange: ``name`` (``{"zh", "en"}``, or one string, tagged by its script),
    ``code`` (its name where it has none: foaf:name is mandatory in DCAT-AP), optionally an ``id`` IRI."""
    base = base_url.rstrip("/")
    catalog: dict[str, Any] = {"@context": CATALOG_CONTEXT_URL, "id": f"{base}/api/v1/catalog", "type": "Catalog",
                               "title": _language_map(title) or {"zh": "数据产品目录", "en": "Data product catalogue"},
                               "description": _language_map(description) or dict(CATALOG_DESCRIPTION)}
    if publisher:
        catalog["publisher"] = {"id": publisher.get("id") or f"{base}/#publisher", "type": "Agent",
                                "name": _language_map(publisher.get("name") or publisher.get("code"))
                                or {"zh": "数据交易所", "en": "Data exchange"}}
    catalog["themeTaxonomy"] = {
        "id": BOARD_SCHEME_IRI, "type": "ConceptScheme", "title": dict(BOARDS_TITLE), "prefLabel": dict(BOARDS_TITLE),
        "hasTopConcept": [_board_concept(b) for b in BOARDS]}
    catalog["dataset"] = [_dataset(listing, base, True, in_catalog=True) for listing in listings]
    return catalog


_CJK = re.compile("[\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


_NAMES = {"resource": ("数据资源", "Data resource"), "product": ("数据产品", "Data product"),  # the users' words
          "asset": ("数据资产", "Data asset"), "enterprise": ("企业", "Enterprise"),
          "public-body": ("公共机构", "Public body")}


def name_language(text: str) -> str:
    """``zh`` for a name holding a CJK ideograph (punctuation alone does not count), else ``en``: names on chain
    carry no language, and Latin text tagged ``zh`` would tell a reader it is Chinese."""
    return "zh" if _CJK.search(text) else "en"


def _language_map(value: Mapping[str, str] | str | None) -> dict[str, str]:
    if isinstance(value, str):
        return {name_language(value): value} if value.strip() else {}
    return {k: value[k] for k in LANGUAGES if value and value.get(k)}


def _fallback(item: Mapping[str, Any], term: str) -> dict[str, str]:
    """A listing's title or description, or an agent's name, where the node holds none (DCAT-AP makes all three
    mandatory), from what it knows: a record's kind, id and registrar, an entity's id and kind, nothing more."""
    zh, en = _NAMES.get(item.get("kind") or "", ("主体", "Entity") if term == "name" else _NAMES["resource"])
    if term != "description":
        ref = item["id"] if term == "name" else f"{str(item['id'])[:10]}…"  # 0x and the id's first 4 bytes
        return {"zh": f"{zh} {ref}", "en": f"{en} {ref}"}
    by = item.get("registrar")
    zh_by, en_by = (f"由数据交易所 {by} 登记的", f" by exchange {by}") if by else ("已登记的", "")
    return {"zh": f"{zh_by}{zh}，未在本节点公开元数据文档。",
            "en": f"{en} registered{en_by}; no metadata document is published on this node."}


def _dataset(listing: Mapping[str, Any], base: str, required: bool, *, in_catalog: bool) -> dict[str, Any]:
    doc: Mapping[str, Any] = listing.get("document") or {}
    rid = listing["id"]
    iri = f"{base}/api/v1/registrations/{rid}"
    node: dict[str, Any] = {"id": iri, "type": "Dataset", "identifier": rid}
    for term in ("title", "description"):
        if text := _language_map(listing.get(term) or doc.get(term)) or (_fallback(listing, term) if required else {}):
            node[term] = text
    who = listing.get("publisher") or {"id": listing.get("owner", doc.get("publisher"))}
    agent: dict[str, Any] = {"id": f"{base}/api/v1/entities/{who['id']}", "type": "Agent",
                             "name": _language_map(who.get("name")) or _fallback(who, "name")}
    if who.get("kind"):
        agent["entityKind"] = who["kind"]
    node["publisher"] = agent
    if keywords := listing.get("keywords") or doc.get("keywords"):
        node["keyword"] = list(keywords)
    if themes := listing.get("themes") or doc.get("themes"):
        node["theme"] = [_theme(theme_iri(t), in_catalog) for t in themes]
    if spatial := doc.get("spatial"):
        node["spatial"] = spatial if spatial.startswith(("http://", "https://")) else \
            {"type": "Location", "label": spatial}
    if doc.get("temporal"):
        node["temporal"] = {"type": "PeriodOfTime", **{term: doc["temporal"][k] for k, term in (
            ("start", "startDate"), ("end", "endDate")) if k in doc["temporal"]}}
    if doc.get("accrualPeriodicity"):
        # Typed in the export itself (dct:Frequency, as DCAT-AP's shapes ask), so no vocabulary need be loaded.
        node["accrualPeriodicity"] = {"id": FREQUENCY_IRI + FREQUENCY_CODES[doc["accrualPeriodicity"]],
                                      "type": "Frequency"}
    if doc.get("distributions"):
        # accessURL: where this node serves the metadata document (the delivery terms), never the data it lacks.
        node["distribution"] = [_distribution(d, access=f"{iri}/metadata") for d in doc["distributions"]]
    if doc.get("policy"):
        node["hasPolicy"] = _policy(doc["policy"], target=iri, assigner=agent["id"])
    if doc.get("contactPoint"):
        node["contactPoint"] = _contact(doc["contactPoint"])
    if listing.get("timestamp") is not None:
        node["issued"] = iso_timestamp(int(listing["timestamp"]))
    node.update({term: listing[key] for key, term in (("kind", "recordKind"), ("grade", "grade"), ("status", "status"),
                 ("registrar", "registrar"), ("metadataHash", "metadataHash")) if listing.get(key) is not None})
    return node


def _distribution(d: Mapping[str, Any], *, access: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Distribution", "accessURL": access}
    if title := _language_map(d.get("title")):
        out["title"] = title
    if d.get("format"):
        media = FORMAT_MEDIA_TYPES.get(d["format"].upper())
        # The document's own name of the format stays as the media type's label, so nothing it said is lost. A
        # format with no IANA media type (an API style: REST) is a node of that class too, named by its label alone:
        # DCAT-AP's shapes refuse a literal.
        out["format"] = {"type": "MediaTypeOrExtent", "label": d["format"]} if media is None else \
            {"id": MEDIA_TYPE_IRI + media, "type": "MediaTypeOrExtent", "label": d["format"]}
    if d.get("mediaType"):
        out["mediaType"] = {"id": MEDIA_TYPE_IRI + d["mediaType"], "type": "MediaType"}
    if d.get("byteSize") is not None:
        out["byteSize"] = d["byteSize"]
    out["delivery"] = CATALOG_VOCAB + d["delivery"]
    return out


def _policy(policy: Mapping[str, Any], *, target: str, assigner: str) -> dict[str, Any]:
    # The document's policy speaks ODRL's own JSON-LD (its context, uid, bare action names); the export says the
    # same with absolute IRIs under the one shipped context, so no other context is needed to read it.
    out: dict[str, Any] = {"id": policy["uid"], "type": policy["@type"], "target": target, "assigner": assigner}
    if policy.get("profile"):
        out["profile"] = policy["profile"]
    for key in ("permission", "prohibition"):
        if policy.get(key):
            out[key] = [_rule(r) for r in policy[key]]
    return out


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"action": ODRL + rule["action"]}
    if rule.get("constraint"):
        out["constraint"] = [{"leftOperand": ODRL + c["leftOperand"], "operator": ODRL + c["operator"],
                              "rightOperand": c["rightOperand"]} for c in rule["constraint"]]
    if rule.get("duty"):
        out["duty"] = [_rule(d) for d in rule["duty"]]
    return out


def _contact(contact: Mapping[str, Any]) -> dict[str, Any]:
    email, phone = contact.get("email"), contact.get("telephone")
    return {"type": "Kind", "fn": contact["name"], **({"hasEmail": "mailto:" + email} if email else {}),
            **({"hasTelephone": "tel:" + phone.replace(" ", "-")} if phone else {})}  # RFC 3966 visual separators
