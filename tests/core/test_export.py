"""The lineage exports checked by tools no one here wrote: OpenLineage events rebuilt as openlineage-python's
models and validated by jsonschema against the official 2-0-2 schema and the facet schemas the package ships;
PROV-JSON read by the ``prov`` package, written as PROV-N, read back and compared."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.base import DatasetFacet, RunFacet
from openlineage.client.generated.dataset_version_dataset import DatasetVersionDatasetFacet
from openlineage.client.generated.lineage import LineageDatasetFacet, LineageDatasetInput
from openlineage.client.serde import Serde
from prov.constants import PROV, XSD_LONG
from prov.identifier import QualifiedName
from prov.model import ProvAgent, ProvAttribution, ProvDerivation, ProvDocument, ProvEntity
from referencing import Registry, Resource

import provenance
from provenance.core import catalog, export
from provenance.errors import InvalidInput

NAMESPACE = "provenance://1502/0x5fbdb2315678afecb367f032d93f642f64180aa3"
PROV_ORGANIZATION = PROV["Organization"]
SCHEMAS = Path(provenance.__file__).parent / "schemas"
CODES = ("SDE", "ZJDE", "AHDE", "7")

# Each graph: node i's parents, by index; -1 is a parent beyond the walk (named, not among the nodes).
GRAPHS: dict[str, list[list[int]]] = {
    "roots": [[], []],
    "one-derivation": [[], [0]],
    "depth-3": [[], [0], [1], [2]],
    "multiple-parents": [[], [], [], [0, 1, 2]],
    "diamond": [[], [0], [0], [1, 2]],
    "truncated": [[-1], [0, -1]],
}


def rid(i: int) -> str:
    return "0x" + hashlib.sha256(b"rec" + i.to_bytes(8, "big", signed=True)).hexdigest()


def nodes_of(parents: list[list[int]]) -> list[export.LineageNode]:
    return [export.LineageNode(
        id=rid(i), kind=0 if not ps else 1 + i % 2, grade=min(i, 2) if ps else 0, source=i % 3, rights=1 + i % 7,
        status=1 + i % 4, owner=1 + i % 3, registrar=CODES[i % len(CODES)],
        content_hash="0x" + hashlib.sha256(b"content%d" % i).hexdigest(),
        metadata_hash="0x" + hashlib.sha256(b"meta%d" % i).hexdigest(), block_number=10 + i // 2,
        parents=tuple(rid(p) for p in ps)) for i, ps in enumerate(parents)]


def times_of(nodes: list[export.LineageNode]) -> dict[int, str]:
    return {n.block_number: f"2026-12-01T10:{n.block_number % 60:02d}:05Z" for n in nodes}


def openlineage(parents: list[list[int]]) -> list[dict[str, Any]]:
    nodes = nodes_of(parents)
    return export.to_openlineage(nodes, namespace=NAMESPACE, times=times_of(nodes))


# ---------------------------------------------------------------------------------------------- openlineage-python

@attr.define
class ProvenanceRecordDatasetFacet(DatasetFacet):
    """The custom dataset facet as a consumer declares it with openlineage-python."""

    kind: str
    grade: str
    source: str
    rights: int
    status: str
    owner: int
    registrar: str
    contentHash: str  # noqa: N815
    metadataHash: str  # noqa: N815
    block: int

    @staticmethod
    def _get_schema() -> str:
        return export.RECORD_FACET_SCHEMA


@attr.define
class ProvenanceBlockRunFacet(RunFacet):
    number: int

    @staticmethod
    def _get_schema() -> str:
        return export.BLOCK_FACET_SCHEMA


def _plain(cls: type) -> Callable[[dict[str, Any]], Any]:
    return lambda f: cls(**{k: v for k, v in f.items() if not k.startswith("_")}, producer=f["_producer"])


FACET_MODELS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "lineage": lambda f: LineageDatasetFacet(
        inputs=[LineageDatasetInput(namespace=i["namespace"], name=i["name"], type=i["type"]) for i in f["inputs"]],
        producer=f["_producer"]),
    "version": _plain(DatasetVersionDatasetFacet),
    "provenance_record": _plain(ProvenanceRecordDatasetFacet),
    "provenance_block": _plain(ProvenanceBlockRunFacet),
}


def facet_models(facets: dict[str, Any]) -> dict[str, Any]:
    unknown = set(facets) - set(FACET_MODELS)
    assert not unknown, f"facets without a model: {unknown}"
    return {k: FACET_MODELS[k](f) for k, f in facets.items()}


def as_model(ev: dict[str, Any]) -> RunEvent:
    """Rebuild an exported event from openlineage-python's classes, whose validators check it as they build."""
    return RunEvent(
        eventType=RunState(ev["eventType"]), eventTime=ev["eventTime"], producer=ev["producer"],
        run=Run(runId=ev["run"]["runId"], facets=facet_models(ev["run"].get("facets", {}))),
        job=Job(namespace=ev["job"]["namespace"], name=ev["job"]["name"],
                facets=facet_models(ev["job"].get("facets", {}))),
        inputs=[InputDataset(namespace=d["namespace"], name=d["name"], facets=facet_models(d.get("facets", {})))
                for d in ev["inputs"]],
        outputs=[OutputDataset(namespace=d["namespace"], name=d["name"], facets=facet_models(d.get("facets", {})))
                 for d in ev["outputs"]])


def without_empty(value: Any) -> Any:
    """openlineage-python writes empty facet maps and lists the exports leave out; both mean none."""
    if isinstance(value, dict):
        return {k: without_empty(v) for k, v in value.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [without_empty(v) for v in value]
    return value


@pytest.mark.parametrize("graph", GRAPHS)
def test_events_are_what_openlineage_python_writes(graph: str) -> None:
    events = openlineage(GRAPHS[graph])
    assert len(events) == sum(1 for ps in GRAPHS[graph] if ps)
    for ev in events:
        model = as_model(ev)
        assert model.schemaURL == ev["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        assert without_empty(Serde.to_dict(model)) == without_empty(ev)


def test_openlineage_python_refuses_the_old_run_id() -> None:
    ev = openlineage(GRAPHS["one-derivation"])[0]
    ev["run"]["runId"] = ev["outputs"][0]["name"]  # what the export wrote before: the record id
    with pytest.raises(ValueError):
        as_model(ev)


def test_standard_facets_carry_openlineage_pythons_schema_urls() -> None:
    assert LineageDatasetFacet._get_schema() == export.LINEAGE_FACET_SCHEMA
    assert DatasetVersionDatasetFacet._get_schema() == export.VERSION_FACET_SCHEMA
    assert RunEvent._get_schema() == export.RUN_EVENT_SCHEMA


# --------------------------------------------------------------------------------------------------- JSON Schema

# The official schemas as published, pinned to the OpenLineage repository at 8f02abfb7a252783b95df79f443edb13959bf52c.
# path: ($id, SHA-256 of the file), so an edit to a shipped copy fails here.
PUBLISHED = {
    "openlineage/spec/2-0-2/OpenLineage.json": (
        "https://openlineage.io/spec/2-0-2/OpenLineage.json",
        "69f68bee00b9beac88a87059c0102410e7bb05f3f43c46d02a0409831eceb0d2"),
    "openlineage/spec/facets/1-0-0/LineageFacet.json": (
        "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json",
        "a60708365707faaa3d430f0f1465991abda3ed0dfd562d8eb614d38a603acf13"),
    "openlineage/spec/facets/1-0-1/DatasetVersionDatasetFacet.json": (
        "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json",
        "91f57b67bc6d639bb6d600e26b827dac551e3520a233d1785d65870da263dc34"),
}


def schema_files() -> dict[str, dict[str, Any]]:
    return {p.relative_to(SCHEMAS).as_posix(): json.loads(p.read_text("utf-8")) for p in SCHEMAS.rglob("*.json")}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry().with_resources((doc["$id"], Resource.from_contents(doc)) for doc in schema_files().values())


def checker() -> FormatChecker:
    fc = Draft202012Validator.FORMAT_CHECKER
    # Without rfc3986-validator and rfc3339-validator jsonschema passes any "uri" and "date-time": make sure not.
    assert not fc.conforms("provenance", "uri") and fc.conforms("urn:provenance:node:0.1.0", "uri")
    assert not fc.conforms("", "date-time") and not fc.conforms(rid(0), "uuid")
    return fc


def errors(instance: Any, schema_url: str, registry: Registry) -> list[str]:
    v = Draft202012Validator({"$ref": schema_url}, registry=registry, format_checker=checker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


def facets_in(ev: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = list(ev["run"].get("facets", {}).items()) + list(ev["job"].get("facets", {}).items())
    for d in ev["inputs"] + ev["outputs"]:
        for group in ("facets", "inputFacets", "outputFacets"):
            out += list(d.get(group, {}).items())
    return out


def test_shipped_schemas() -> None:
    files = schema_files()
    for path, (schema_id, digest) in PUBLISHED.items():
        assert files[path]["$id"] == schema_id
        assert hashlib.sha256((SCHEMAS / path).read_bytes()).hexdigest() == digest, path
    for path, doc in files.items():
        Draft202012Validator.check_schema(doc)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
    ours = {doc["$id"] for path, doc in files.items() if path.startswith("provenance/")}
    # Ours: the two OpenLineage facets the exports name, and the catalogue's metadata documents and entity profiles.
    assert ours == {export.RECORD_FACET_SCHEMA.split("#")[0], export.BLOCK_FACET_SCHEMA.split("#")[0],
                    catalog.METADATA_SCHEMA_ID, catalog.PROFILE_SCHEMA_ID}


@pytest.mark.parametrize("graph", GRAPHS)
def test_events_validate_against_the_official_schema(graph: str, registry: Registry) -> None:
    for ev in openlineage(GRAPHS[graph]):
        assert errors(ev, export.RUN_EVENT_SCHEMA, registry) == []
        # The core schema checks a facet only as a BaseFacet; a consumer checks each against its own schema.
        for key, facet in facets_in(ev):
            assert errors(facet, facet["_schemaURL"], registry) == [], key
            root = facet["_schemaURL"].split("#")[0]
            assert errors({key: facet}, root, registry) == [], key  # the facet under the key its schema names


def test_every_facet_names_a_shipped_schema(registry: Registry) -> None:
    ev = openlineage(GRAPHS["diamond"])[-1]
    keys = {key for key, _ in facets_in(ev)}
    assert keys == {"provenance_block", "provenance_record", "version", "lineage"}
    for _, facet in facets_in(ev):
        registry.resolver().lookup(facet["_schemaURL"])  # raises if the package does not ship it


def _mutations() -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    def facet(ev: dict[str, Any], key: str) -> dict[str, Any]:
        return dict(facets_in(ev))[key]

    return [
        ("run id is the record id", lambda ev: ev["run"].update(runId=ev["outputs"][0]["name"])),
        ("producer is not a URI", lambda ev: ev.update(producer="provenance")),
        ("no event time", lambda ev: ev.update(eventTime="")),
        ("facet producer is not a URI", lambda ev: facet(ev, "provenance_block").update(_producer="provenance")),
        ("facet without a schema URL", lambda ev: facet(ev, "provenance_block").pop("_schemaURL")),
        ("custom facet with an undeclared field", lambda ev: facet(ev, "provenance_record").update(colour="red")),
        ("custom facet with a bad grade", lambda ev: facet(ev, "provenance_record").update(grade="secret")),
        ("lineage input of no known type", lambda ev: facet(ev, "lineage")["inputs"][0].update(type="TABLE")),
        ("dataset version missing", lambda ev: facet(ev, "version").pop("datasetVersion")),
    ]


@pytest.mark.parametrize(("what", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_the_validation_catches(what: str, mutate: Callable[[dict[str, Any]], None], registry: Registry) -> None:
    ev = copy.deepcopy(openlineage(GRAPHS["multiple-parents"])[0])
    mutate(ev)
    found = errors(ev, export.RUN_EVENT_SCHEMA, registry)
    for key, facet in facets_in(ev):
        found += errors({key: facet}, facet["_schemaURL"].split("#")[0], registry) if "_schemaURL" in facet else []
    assert found, what


@pytest.mark.parametrize("graph", GRAPHS)
def test_lineage_facets_name_every_parent(graph: str) -> None:
    parents = GRAPHS[graph]
    edges = {(out["name"], i["name"]) for ev in openlineage(parents) for out in ev["outputs"]
             for i in out["facets"]["lineage"]["inputs"]}
    assert edges == {(rid(c), rid(p)) for c, ps in enumerate(parents) for p in ps}
    for ev in openlineage(parents):
        assert [i["name"] for i in ev["inputs"]] == [i["name"] for i in ev["outputs"][0]["facets"]["lineage"]["inputs"]]
        assert all(i["namespace"] == ev["job"]["namespace"] == NAMESPACE for i in ev["inputs"])


def test_run_id_is_the_uuid5_of_the_record_iri() -> None:
    nodes = nodes_of(GRAPHS["diamond"])
    events = export.to_openlineage(nodes, namespace=NAMESPACE, times=times_of(nodes))
    for ev in events:
        record = ev["outputs"][0]["name"]
        u = uuid.UUID(ev["run"]["runId"])
        assert u.version == 5 and u == uuid.uuid5(uuid.NAMESPACE_URL, f"{NAMESPACE}/record/{record}")
    # The same registration has the same run in a shallower export, and another deployment's run is another.
    shallow = export.to_openlineage(nodes[1:2], namespace=NAMESPACE, times=times_of(nodes))
    assert shallow[0]["run"]["runId"] == events[0]["run"]["runId"]
    elsewhere = export.to_openlineage(nodes[1:2], namespace="provenance://1/0x00", times=times_of(nodes))
    assert elsewhere[0]["run"]["runId"] != events[0]["run"]["runId"]
    assert len({ev["run"]["runId"] for ev in events}) == len(events)


def test_truncated_parents_are_named_without_facets() -> None:
    ev = openlineage(GRAPHS["truncated"])[0]
    assert ev["inputs"] == [{"namespace": NAMESPACE, "name": rid(-1), "facets": {}}]


# ------------------------------------------------------------------------------------------------------- PROV-JSON

def uri(name: Any) -> str:
    assert isinstance(name, QualifiedName), name
    return str(name.uri)


def prov_doc(parents: list[list[int]]) -> tuple[dict[str, Any], ProvDocument]:
    doc = export.to_prov_json(nodes_of(parents), namespace=NAMESPACE)
    return doc, ProvDocument.deserialize(content=json.dumps(doc), format="json")


@pytest.mark.parametrize("graph", GRAPHS)
def test_prov_json_round_trips_through_prov_n(graph: str) -> None:
    _, doc = prov_doc(GRAPHS[graph])
    provn = doc.get_provn(strict=True)
    back = ProvDocument.deserialize(content=provn, format="provn", profile="strict")
    assert back == doc
    assert ProvDocument.deserialize(content=back.serialize(format="json"), format="json") == doc
    assert back.get_provn(strict=True) == provn


@pytest.mark.parametrize("graph", GRAPHS)
def test_prov_sees_the_records_and_their_derivations(graph: str) -> None:
    parents = GRAPHS[graph]
    _, doc = prov_doc(parents)
    rec = doc.valid_qualified_name  # resolves prefixed names against the document's namespaces
    entities = {uri(e.identifier): e for e in doc.get_records(ProvEntity)}
    assert set(entities) == {f"{NAMESPACE}/record/{rid(i)}" for i in range(len(parents))}
    present = set(range(len(parents)))
    derived = {(uri(d.get_attribute("prov:generatedEntity").pop()), uri(d.get_attribute("prov:usedEntity").pop()))
               for d in doc.get_records(ProvDerivation)}
    assert derived == {(f"{NAMESPACE}/record/{rid(c)}", f"{NAMESPACE}/record/{rid(p)}")
                       for c, ps in enumerate(parents) for p in ps if p in present}
    assert len(list(doc.get_records(ProvAttribution))) == 2 * len(parents)
    for i, n in enumerate(nodes_of(parents)):
        e = entities[f"{NAMESPACE}/record/{rid(i)}"]
        assert e.get_asserted_types() == {rec(f"provenance:{export.KIND[n.kind].capitalize()}")}
        (block,) = e.get_attribute("provenance:block")
        assert block.datatype == XSD_LONG and int(block.value) == n.block_number
        assert e.get_attribute("provenance:rights") == {n.rights}  # prov reads an xsd:int as a Python int
        assert e.get_attribute("provenance:contentHash") == {n.content_hash}


@pytest.mark.parametrize("graph", GRAPHS)
def test_prov_sees_agents_as_organizations(graph: str) -> None:
    parents = GRAPHS[graph]
    _, doc = prov_doc(parents)
    agents = {uri(a.identifier): a for a in doc.get_records(ProvAgent)}
    nodes = nodes_of(parents)
    owners = {f"{NAMESPACE}/entity/{n.owner}" for n in nodes}
    exchanges = {f"{NAMESPACE}/exchange/{n.registrar}" for n in nodes}
    assert set(agents) == owners | exchanges
    for name, agent in agents.items():
        types = {uri(t) for t in agent.get_asserted_types()}
        assert PROV_ORGANIZATION in agent.get_asserted_types() and "http://www.w3.org/ns/prov#Organization" in types
        assert (export.VOCABULARY + "Exchange" in types) == (name in exchanges)


def test_plain_string_types_are_not_organizations() -> None:
    """What the export wrote before: ``prov`` reads a bare string as an xsd:string, not a qualified name."""
    doc, _ = prov_doc(GRAPHS["one-derivation"])
    for agent in doc["agent"].values():
        agent["prov:type"] = "prov:Organization"
    old = ProvDocument.deserialize(content=json.dumps(doc), format="json")
    assert all(PROV_ORGANIZATION not in a.get_asserted_types() for a in old.get_records(ProvAgent))


# ---------------------------------------------------------------------------------------------------------- random

@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 12) -> list[list[int]]:
    n = draw(st.integers(1, max_nodes))
    return [draw(st.lists(st.integers(-1, i - 1), max_size=4, unique=True)) if i else [] for i in range(n)]


@settings(max_examples=30, deadline=None)
@given(dags())
def test_random_lineage_validates_and_round_trips(parents: list[list[int]]) -> None:
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in schema_files().values())
    for ev in openlineage(parents):
        assert errors(ev, export.RUN_EVENT_SCHEMA, registry) == []
        assert all(errors(f, f["_schemaURL"], registry) == [] for _, f in facets_in(ev))
        assert without_empty(Serde.to_dict(as_model(ev))) == without_empty(ev)
    _, doc = prov_doc(parents)
    assert ProvDocument.deserialize(content=doc.get_provn(strict=True), format="provn", profile="strict") == doc


# ---------------------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("field", "value"), [
    ("id", "0x12"), ("id", rid(0).upper().replace("0X", "0x")), ("kind", 3), ("grade", -1), ("source", True),
    ("status", 5), ("rights", 0), ("rights", 8), ("owner", -1), ("block_number", 2**63), ("registrar", "sde"),
    ("registrar", "A B"), ("content_hash", "0x"), ("metadata_hash", None), ("parents", ("nope",)),
])
def test_malformed_nodes_are_refused(field: str, value: Any) -> None:
    node = dataclasses.replace(nodes_of(GRAPHS["one-derivation"])[1], **{field: value})
    with pytest.raises(InvalidInput, match="cannot be exported"):
        export.to_prov_json([node], namespace=NAMESPACE)
    with pytest.raises(InvalidInput, match="cannot be exported"):
        export.to_openlineage([node], namespace=NAMESPACE, times={node.block_number: "2026-12-01T00:00:00Z"})


@pytest.mark.parametrize("times", [{}, {10: "2026-12-01"}, {10: "2026-12-01T00:00:00"}, {10: "yesterday"},
                                   {10: "2026-12-01T00:00:00+0100"}, {10: "2026-W48-2T00:00:00Z"},
                                   {10: "2026-02-30T00:00:00Z"}, {10: "2026-12-01T24:00:00Z"},
                                   {11: "2026-12-01T00:00:00Z"}])
def test_event_times_must_be_given_as_rfc3339(times: dict[int, str]) -> None:
    nodes = nodes_of(GRAPHS["one-derivation"])
    with pytest.raises(InvalidInput, match="block 10"):
        export.to_openlineage(nodes, namespace=NAMESPACE, times=times)


def test_namespace_must_be_a_uri() -> None:
    with pytest.raises(InvalidInput, match="namespace"):
        export.to_prov_json(nodes_of(GRAPHS["roots"]), namespace="not a uri")
