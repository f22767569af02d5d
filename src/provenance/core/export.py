"""Lineage exports, pure: W3C PROV-JSON (https://www.w3.org/submissions/prov-json/) and OpenLineage-style
run events (https://openlineage.io/spec), so a record's lineage opens in the tools data teams already use.

Each record is a PROV entity ``prov:wasDerivedFrom`` its parents, attributed to its owner entity and its
registrar exchange (agents); in OpenLineage each derived record is the output dataset of one registration run
whose inputs are its parents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KIND = ("resource", "product", "asset")
GRADE = ("general", "important", "core")
SOURCE = ("public", "enterprise", "personal")
STATUS = ("none", "active", "suspended", "revoked", "superseded")


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


def _attrs(n: LineageNode) -> dict[str, Any]:
    return {
        "prov:type": f"provenance:{KIND[n.kind].capitalize()}",
        "provenance:grade": GRADE[n.grade],
        "provenance:source": SOURCE[n.source],
        "provenance:rights": n.rights,
        "provenance:status": STATUS[n.status],
        "provenance:contentHash": n.content_hash,
        "provenance:metadataHash": n.metadata_hash,
        "provenance:block": n.block_number,
    }


def to_prov_json(nodes: Sequence[LineageNode], *, namespace: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "prefix": {"rec": f"{namespace}/record/", "ent": f"{namespace}/entity/", "ex": f"{namespace}/exchange/",
                   "provenance": "https://provenance.example/ns#"},
        "entity": {}, "agent": {}, "wasDerivedFrom": {}, "wasAttributedTo": {},
    }
    present = {n.id for n in nodes}
    for n in nodes:
        doc["entity"][f"rec:{n.id}"] = _attrs(n)
        doc["agent"][f"ent:{n.owner}"] = {"prov:type": "prov:Organization"}
        doc["agent"][f"ex:{n.registrar}"] = {"prov:type": "provenance:Exchange"}
        doc["wasAttributedTo"][f"_:owner-{n.id}"] = {"prov:entity": f"rec:{n.id}", "prov:agent": f"ent:{n.owner}"}
        doc["wasAttributedTo"][f"_:registrar-{n.id}"] = {"prov:entity": f"rec:{n.id}",
                                                         "prov:agent": f"ex:{n.registrar}"}
        for p in n.parents:
            if p in present:
                doc["wasDerivedFrom"][f"_:{n.id}-{p}"] = {"prov:generatedEntity": f"rec:{n.id}",
                                                          "prov:usedEntity": f"rec:{p}"}
    return doc


def to_openlineage(nodes: Sequence[LineageNode], *, namespace: str,
                   times: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
    """One COMPLETE run event per derived record; ``times`` maps block numbers to ISO-8601 times."""
    by_id = {n.id: n for n in nodes}
    events = []
    for n in nodes:
        if not n.parents:
            continue

        def ds(node_id: str) -> dict[str, Any]:
            node = by_id.get(node_id)
            facets = {} if node is None else {"provenance": {
                "_producer": "provenance", "_schemaURL": "https://provenance.example/facets/record.json",
                "kind": KIND[node.kind], "grade": GRADE[node.grade], "status": STATUS[node.status],
                "contentHash": node.content_hash, "registrar": node.registrar}}
            return {"namespace": namespace, "name": node_id, "facets": facets}

        events.append({
            "eventType": "COMPLETE",
            "eventTime": (times or {}).get(n.block_number, ""),
            "producer": "provenance",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": n.id, "facets": {"block": {"_producer": "provenance", "number": n.block_number}}},
            "job": {"namespace": namespace, "name": f"register/{n.registrar}"},
            "inputs": [ds(p) for p in n.parents],
            "outputs": [ds(n.id)],
        })
    return events
