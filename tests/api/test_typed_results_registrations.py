"""The registrations' and lineage's routes declare their results (provenance.services.results.registrations,
issue 19): the OpenAPI document names each route's model, what the routes answer (to every kind of reader, redacted
or not) validates against it with no member more or less, and the cold answers (impact, a path, the proof, a
status change, the typed data) are the model's document exactly, as the service returns it typed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from provenance.core.ids import parse_hash32
from provenance.services.results import Result
from provenance.services.results import registrations as R
from provenance.services.results.trust import InclusionOut
from tests.support.served import Served

API = "/api/v1"

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("POST", "/registrations"): R.RegisteredOut,
    ("POST", "/registrations/typed-data"): R.TypedDataOut,
    ("POST", "/registrations/batch"): R.BatchOut,
    ("GET", "/registrations"): R.SearchOut,
    ("GET", "/registrations/{record}"): R.RecordOut,
    ("POST", "/registrations/{record}/status"): R.StatusOut,
    ("GET", "/registrations/{record}/ancestors"): R.LineageOut,
    ("GET", "/registrations/{record}/descendants"): R.LineageOut,
    ("GET", "/registrations/{record}/impact"): R.ImpactOut,
    ("GET", "/registrations/{record}/path/{ancestor}"): R.PathOut,
    ("GET", "/registrations/{record}/proof"): InclusionOut,
}


def _route(served: Served, method: str, path: str) -> APIRoute:
    return next(r for r in served.client.app.routes  # type: ignore[attr-defined]
                if isinstance(r, APIRoute) and r.path == API + path and method in r.methods)


def _same_members(model: type[BaseModel], doc: Any) -> BaseModel:
    """The document as its model, which holds every member the document has and no other."""
    value = model.model_validate(doc)
    again = value.model_dump(mode="json", exclude_unset=True)
    assert again == doc, (model.__name__, doc)
    return value


def _exact(model: type[BaseModel], doc: Any) -> None:
    """The document is the model's own, member for member and in the model's order."""
    again = _same_members(model, doc).model_dump(mode="json", exclude_unset=True)
    assert json.dumps(again, ensure_ascii=False) == json.dumps(doc, ensure_ascii=False), model.__name__


def test_each_registrations_route_declares_its_model_and_openapi_names_it(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()
    for (method, path), model in MODELS.items():
        route = _route(served, method, path)
        assert route.response_model is model, (method, path, route.response_model)
        code = str(route.status_code or 200)
        schema = spec["paths"][API + path][method.lower()]["responses"][code]["content"]["application/json"]
        assert schema["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}, (method, path)
        assert spec["components"]["schemas"][model.__name__]["title"] == model.__name__
    # The old documented shapes in api/schemas are not what the routes name any more (one model per name).
    assert set(spec["components"]["schemas"]["RecordOut"]["properties"]) == set(R.RecordOut.model_fields)


def test_records_and_pages_validate_for_every_kind_of_reader(served: Served) -> None:
    c = served.client
    core = served.record("personal-credit-files")
    redacted = seen = 0
    for who in (None, "member", "merchant", "admin"):
        h = served.auth(who) if who else {}
        for name in served.demo["records"]:
            r = c.get(f"{API}/registrations/{served.record(name)}", headers=h)
            assert r.status_code == 200, r.text[:300]
            rec = _same_members(R.RecordOut, r.json())
            redacted += bool(r.json().get("redacted"))
            seen += 1
            assert rec.id == served.record(name)  # type: ignore[attr-defined]
        for query in ("", "?limit=2", "?latest=true&limit=3", "?grade=core", "?after=2&limit=3"):
            r = c.get(f"{API}/registrations{query}", headers=h)
            assert r.status_code == 200, r.text[:300]
            _same_members(R.SearchOut, r.json())
        asset = served.record("logistics-index-asset")
        for direction in ("ancestors", "descendants"):
            r = c.get(f"{API}/registrations/{asset}/{direction}", headers=h)
            graph = _same_members(R.LineageOut, r.json())
            assert graph.direction == direction and graph.nodes[0].depth == 0  # type: ignore[attr-defined]
    # Both shapes of a record were checked: the redacted public view and the full record.
    assert 0 < redacted < seen
    assert c.get(f"{API}/registrations/{core}").json()["redacted"] is True


def test_cold_reads_are_the_services_typed_results_exactly(served: Served) -> None:
    c, ops = served.client, served.runtime.ops
    asset, root = served.record("logistics-index-asset"), served.record("port-vessel-traffic")
    for name in served.demo["records"]:
        record = served.record(name)
        r = c.get(f"{API}/registrations/{record}/impact")
        _exact(R.ImpactOut, r.json())
        result = ops.impact(parse_hash32(record))
        assert isinstance(result, R.ImpactOut) and result.document() == r.json()
        proof = c.get(f"{API}/registrations/{record}/proof").json()
        InclusionOut.model_validate(proof)
        assert list(proof)[:2] == ["record", "exchange"]  # the trust service's order, kept
    r = c.get(f"{API}/registrations/{asset}/path/{root}")
    _exact(R.PathOut, r.json())
    path = ops.path(parse_hash32(asset), parse_hash32(root))
    assert isinstance(path, R.PathOut) and path.path[0] == asset and path.path[-1] == root
    assert path.document() == r.json()


def test_writes_answer_their_models(served: Served) -> None:
    c = served.client
    h = served.auth("registrar")
    body = {"kind": "resource", "owner": 1, "contentHash": "0x" + "5a" * 32}
    typed = c.post(f"{API}/registrations/typed-data", json={**body, "ttl": 600})
    assert typed.status_code == 200, typed.text[:300]
    _exact(R.TypedDataOut, typed.json())
    r = c.post(f"{API}/registrations", json=body, headers=h)
    assert r.status_code == 201, r.text[:300]
    registered = _same_members(R.RegisteredOut, r.json())
    record = registered.record.id  # type: ignore[attr-defined]
    assert record == r.json()["id"]
    r = c.post(f"{API}/registrations/batch", headers=h,
               json={"records": [{"kind": "product", "owner": 1, "contentHash": "0x" + "5b" * 32}]})
    assert r.status_code == 201, r.text[:300]
    batch = _same_members(R.BatchOut, r.json())
    assert batch.queued == 1 and len(batch.ids) == 1  # type: ignore[attr-defined]
    r = c.post(f"{API}/registrations/{record}/status", json={"status": "suspended", "reason": "audit"}, headers=h)
    assert r.status_code == 200, r.text[:300]
    _exact(R.StatusOut, r.json())
    assert r.json()["status"] == "suspended"
    # An answer that is not its model is never sent: the results refuse a member they do not declare.
    with pytest.raises(ValidationError, match="extra"):
        R.StatusOut.model_validate({**r.json(), "extra": 1})
    assert issubclass(R.StatusOut, Result)
