"""Lineage exports, pure: W3C PROV-JSON and OpenLineage 2-0-2 run events, so a record's lineage opens in the
tools data teams already use.

* PROV-JSON (W3C Member Submission, https://www.w3.org/submissions/prov-json/): each record is a PROV entity
  ``wasDerivedFrom`` its parents and ``wasAttributedTo`` its owner and its registrar exchange, both agents typed
  ``prov:Organization`` (the exchange also ``provenance:Exchange``). Qualified names and numbers are written as
  typed literals (``{"$": ..., "type": ...}``, §2.3 of the submission) so no reader has to guess a JSON value's
  datatype: a ``prov:type`` written as a bare string is an ``xsd:string``, and PROV tools then do not see the
  agent as an organisation.
* OpenLineage (https://openlineage.io/spec/2-0-2/OpenLineage.json): one COMPLETE run event per derived record.
  The run is the registration, its job ``register/<exchange>``, its inputs the parents and its output the record,
  which also carries the standard ``LineageDatasetFacet`` (facets/1-0-0/LineageFacet.json) naming the parents, so
  a consumer that reads dataset-to-dataset lineage needs no job semantics. The content hash is the dataset's
  ``DatasetVersionDatasetFacet``; the rest of a registration is the custom ``provenance_record`` dataset facet
  and ``provenance_block`` run facet, named ``{prefix}_{name}`` as the spec asks of custom facets.

Identifiers (all URIs, as OpenLineage's ``producer``, ``_producer`` and ``_schemaURL`` must be):

* ``PRODUCER`` is ``urn:provenance:node:<version>``: the node has no public source URL to point at, and the
  spec wants the producer to name the software version that wrote the event, which this URN does, stably.
* Custom facet schemas are ``urn:provenance:schema:openlineage:<Facet>:<version>`` with a JSON pointer to the
  definition; the JSON Schemas themselves ship in the package under ``provenance/schemas/provenance/openlineage``
  (their ``$id`` is that URN), beside the official OpenLineage schemas they extend (copied as published). A URN
  is not fetched by anyone; consumers that validate facets load the shipped files, which is what "immutable,
  versioned" asks of a facet schema URL. A change to a facet is a new version, never an edit.
* ``run_id`` is a UUIDv5 (RFC 9562 §5.5) over the record's IRI ``<namespace>/record/<id>`` in the URL namespace.
  A registration happens once, so its run is named by the record alone: the same record gets the same run id in
  every export, from any node, at any depth, and anyone recomputes it with a standard UUID library. The
  namespace (chain id and registry address) keeps equal record ids on different deployments apart. A UUIDv7
  would sort by time, but its time bits would have to come from a block timestamp, tying the id to a second
  value the record id already determines.

Nodes are checked before anything is written; a malformed one raises ``InvalidInput`` naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provenance import __version__
from provenance.errors import InvalidInput

KIND = ("resource", "product", "asset")
GRADE = ("general", "important", "core")
SOURCE = ("public", "enterprise", "personal")
STATUS = ("none", "active", "suspended", "revoked", "superseded")

PRODUCER = f"urn:provenance:node:{__version__}"
# The vocabulary of this registry's own PROV terms (kinds, the exchange agent type, record attributes).
VOCABULARY = "urn:provenance:ns:"

RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
LINEAGE_FACET_SCHEMA = "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageDatasetFacet"
VERSION_FACET_SCHEMA = ("https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
                        "#/$defs/DatasetVersionDatasetFacet")
RECORD_FACET_SCHEMA = ("urn:provenance:schema:openlineage:ProvenanceRecordDatasetFacet:1-0-0"
                       "#/$defs/ProvenanceRecordDatasetFacet")
BLOCK_FACET_SCHEMA = "urn:provenance:schema:openlineage:ProvenanceBlockRunFacet:1-0-0#/$defs/ProvenanceBlockRunFacet"

_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_CODE = re.compile(r"[A-Z0-9]{1,8}")  # core/ids.py's exchange codes, or the registrar number when unknown
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)
_INT64_MAX = 2**63 - 1  # xsd:long, the PROV datatype of block numbers


@dataclass(frozen=True)
class LineageNode:
    id: str  # 0x-hex record id
    kind: int
    grade: int
    source: int
    rights: int
    status: int
    owner: int
    registrar: str  # exchange code
    content_hash: str
    metadata_hash: str
    block_number: int
    parents: tuple[str, ...]


def record_iri(namespace: str, record_id: str) -> str:
    """The record's IRI: the ``rec:`` names of PROV-JSON expand to it, and the OpenLineage run id hashes it."""
    return f"{namespace}/record/{record_id}"


def run_id(namespace: str, record_id: str) -> str:
    """The OpenLineage run id of the record's registration: UUIDv5 of its IRI (see the module docstring)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, record_iri(namespace, record_id)))


def _check(nodes: Sequence[LineageNode], namespace: str) -> None:
    if not namespace or any(c.isspace() for c in namespace):
        raise InvalidInput(f"invalid lineage namespace {namespace!r}: expected a URI")
    for n in nodes:
        bad = _problem(n)
        if bad:
            raise InvalidInput(f"lineage node {n.id!r} cannot be exported: {bad}")


def _problem(n: LineageNode) -> str | None:
    for name, value in (("id", n.id), ("content hash", n.content_hash), ("metadata hash", n.metadata_hash),
                        *(("parent", p) for p in n.parents)):
        if not isinstance(value, str) or not _HEX32.fullmatch(value):
            return f"{name} {value!r} is not 0x and 64 lower-case hex digits"
    enums: tuple[tuple[str, object, int], ...] = (("kind", n.kind, len(KIND)), ("grade", n.grade, len(GRADE)),
                                                  ("source", n.source, len(SOURCE)), ("status", n.status, len(STATUS)))
    for name, number, size in enums:
        # type() and not isinstance(): a bool is an int, and True is no kind.
        if type(number) is not int or not 0 <= number < size:
            return f"{name} {number!r} is not one of 0..{size - 1}"
    if type(n.rights) is not int or not 1 <= n.rights <= 7:
        return f"rights {n.rights!r} is not a non-empty subset of 1, 2, 4"
    if type(n.owner) is not int or n.owner < 0:
        return f"owner {n.owner!r} is not an entity id"
    if type(n.block_number) is not int or not 0 <= n.block_number <= _INT64_MAX:
        return f"block {n.block_number!r} is not a block number"
    if not isinstance(n.registrar, str) or not _CODE.fullmatch(n.registrar):
        return f"registrar {n.registrar!r} is not an exchange code"
    return None


# ---------------------------------------------------------------------------------------------------- PROV-JSON

def _qname(name: str) -> dict[str, str]:
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def _typed(value: int, datatype: str) -> dict[str, str]:
    return {"$": str(value), "type": datatype}


def _attrs(n: LineageNode) -> dict[str, Any]:
    return {
        "prov:type": _qname(f"provenance:{KIND[n.kind].capitalize()}"),
        "provenance:grade": GRADE[n.grade],
        "provenance:source": SOURCE[n.source],
        "provenance:rights": _typed(n.rights, "xsd:int"),
        "provenance:status": STATUS[n.status],
        "provenance:contentHash": n.content_hash,
        "provenance:metadataHash": n.metadata_hash,
        "provenance:block": _typed(n.block_number, "xsd:long"),
    }


def to_prov_json(nodes: Sequence[LineageNode], *, namespace: str) -> dict[str, Any]:
    """The records as one PROV-JSON document; derivations only between records present (a truncated walk's
    outermost parents are left out rather than named without their attributes)."""
    _check(nodes, namespace)
    doc: dict[str, Any] = {
        "prefix": {"rec": record_iri(namespace, ""), "ent": f"{namespace}/entity/", "ex": f"{namespace}/exchange/",
                   "provenance": VOCABULARY},
        "entity": {}, "agent": {}, "wasDerivedFrom": {}, "wasAttributedTo": {},
    }
    present = {n.id for n in nodes}
    for n in nodes:
        doc["entity"][f"rec:{n.id}"] = _attrs(n)
        doc["agent"][f"ent:{n.owner}"] = {"prov:type": _qname("prov:Organization")}
        doc["agent"][f"ex:{n.registrar}"] = {"prov:type": [_qname("prov:Organization"),
                                                            _qname("provenance:Exchange")]}
        doc["wasAttributedTo"][f"_:owner-{n.id}"] = {"prov:entity": f"rec:{n.id}", "prov:agent": f"ent:{n.owner}"}
        doc["wasAttributedTo"][f"_:registrar-{n.id}"] = {"prov:entity": f"rec:{n.id}",
                                                         "prov:agent": f"ex:{n.registrar}"}
        for p in n.parents:
            if p in present:
                doc["wasDerivedFrom"][f"_:{n.id}-{p}"] = {"prov:generatedEntity": f"rec:{n.id}",
                                                          "prov:usedEntity": f"rec:{p}"}
    return doc


# --------------------------------------------------------------------------------------------------- OpenLineage

def _facet(schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": schema, **fields}


def _record_facets(n: LineageNode) -> dict[str, Any]:
    return {
        "version": _facet(VERSION_FACET_SCHEMA, datasetVersion=n.content_hash),
        "provenance_record": _facet(
            RECORD_FACET_SCHEMA, kind=KIND[n.kind], grade=GRADE[n.grade], source=SOURCE[n.source], rights=n.rights,
            status=STATUS[n.status], owner=n.owner, registrar=n.registrar, contentHash=n.content_hash,
            metadataHash=n.metadata_hash, block=n.block_number),
    }


def _event_time(times: Mapping[int, str], n: LineageNode) -> str:
    text = times.get(n.block_number)
    if text is None:
        raise InvalidInput(f"no time given for block {n.block_number} of record {n.id}")
    try:
        # The pattern holds the RFC 3339 form (fromisoformat also takes week dates and offsets without a colon);
        # fromisoformat then rejects impossible dates and times.
        parsed = dt.datetime.fromisoformat(text) if isinstance(text, str) and _RFC3339.fullmatch(text) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"time {text!r} of block {n.block_number} is not an RFC 3339 date-time with an offset")
    return text


def to_openlineage(nodes: Sequence[LineageNode], *, namespace: str,
                   times: Mapping[int, str]) -> list[dict[str, Any]]:
    """One COMPLETE run event per derived record, in the order of ``nodes``; ``times`` maps the block numbers
    of the derived records to RFC 3339 times (the event time is when the registration's block was mined)."""
    _check(nodes, namespace)
    by_id = {n.id: n for n in nodes}

    def dataset(node_id: str, **extra: Any) -> dict[str, Any]:
        node = by_id.get(node_id)
        # A parent beyond the walk's depth is named only: its attributes were not read.
        facets = {} if node is None else _record_facets(node)
        return {"namespace": namespace, "name": node_id, "facets": {**facets, **extra}}

    events = []
    for n in nodes:
        if not n.parents:
            continue
        lineage = _facet(LINEAGE_FACET_SCHEMA,
                         inputs=[{"namespace": namespace, "name": p, "type": "DATASET"} for p in n.parents])
        events.append({
            "eventType": "COMPLETE",
            "eventTime": _event_time(times, n),
            "producer": PRODUCER,
            "schemaURL": RUN_EVENT_SCHEMA,
            "run": {"runId": run_id(namespace, n.id),
                    "facets": {"provenance_block": _facet(BLOCK_FACET_SCHEMA, number=n.block_number)}},
            "job": {"namespace": namespace, "name": f"register/{n.registrar}"},
            "inputs": [dataset(p) for p in n.parents],
            "outputs": [dataset(n.id, lineage=lineage)],
        })
    return events
