"""The OpenAPI document says what every endpoint returns: real responses are held to the documented models."""

from __future__ import annotations

import json
from typing import Any

from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from tests.api.conftest import Served

API = "/api/v1"


def documented(served: Served) -> dict[tuple[str, str], tuple[int, Any]]:
    out = {}
    for route in served.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.include_in_schema:
            ok = [(code, spec.get("model")) for code, spec in route.responses.items()
                  if isinstance(code, int) and code < 300]
            for method in route.methods:
                if ok:
                    out[(method, route.path)] = ok[0]
    return out


def test_every_endpoint_documents_its_result(served: Served) -> None:
    doc = served.client.get("/openapi.json").json()
    missing = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = [c for c in op["responses"] if c.startswith("2")]
            schemas = [op["responses"][c].get("content", {}).get("application/json", {}).get("schema") for c in codes]
            if path != "/metrics" and not any(s and (s.get("$ref") or s.get("items") or s.get("description"))
                                              for s in schemas):
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


def test_real_responses_match_the_documented_models(served: Served) -> None:
    c = served.client
    models = documented(served)
    rid = served.record("port-vessel-traffic")
    asset = served.record("logistics-index-asset")
    waybills = served.record("logistics-waybills")
    member, admin = served.auth("member"), served.auth("admin")
    cert = c.post(f"{API}/certificates", json={"record": rid}, headers=admin).json()
    h = c.post(f"{API}/certificates/verify", json=cert).json()["credentialHash"]
    snap = c.post(f"{API}/snapshots", json={"anchor": False}, headers=admin).json()
    calls: list[tuple[str, str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("GET", "/health", "/health", None, {}),
        ("GET", f"{API}/federation", f"{API}/federation", None, {}),
        ("GET", f"{API}/exchanges", f"{API}/exchanges", None, {}),
        ("GET", f"{API}/exchanges/{{exchange}}", f"{API}/exchanges/SDE", None, {}),
        ("GET", f"{API}/exchanges/{{exchange}}/keys", f"{API}/exchanges/2/keys", None, {}),
        ("GET", f"{API}/exchanges/{{exchange}}/checkpoints", f"{API}/exchanges/SDE/checkpoints", None, {}),
        ("GET", f"{API}/exchanges/{{exchange}}/consistency", f"{API}/exchanges/SDE/consistency?size1=1&size2=3",
         None, {}),
        ("GET", f"{API}/proposals", f"{API}/proposals", None, {}),
        ("GET", f"{API}/entities/{{entity}}", f"{API}/entities/1", None, {}),
        ("GET", f"{API}/entities", f"{API}/entities?identifier=91310115MA1K4DEMO1", None, {}),
        ("POST", f"{API}/entities", f"{API}/entities", {"identifier": "91310000OPENAPI01", "account": "0x" + "12" * 20},
         admin),
        ("POST", f"{API}/entities/{{entity}}/recognition", f"{API}/entities/2/recognition", None, admin),
        ("POST", f"{API}/registrations", f"{API}/registrations",
         {"kind": "resource", "owner": 1, "contentHash": "0x" + "a1" * 32}, admin),
        ("POST", f"{API}/registrations/typed-data", f"{API}/registrations/typed-data",
         {"kind": "resource", "owner": 1, "contentHash": "0x" + "a2" * 32}, {}),
        ("POST", f"{API}/registrations/batch", f"{API}/registrations/batch",
         {"records": [{"kind": "resource", "owner": 1, "contentHash": "0x" + "a3" * 32},
                      {"kind": "product", "grade": "core", "owner": 1, "contentHash": "0x" + "a4" * 32}]}, admin),
        ("GET", f"{API}/registrations", f"{API}/registrations?limit=100", None, {}),
        ("GET", f"{API}/registrations", f"{API}/registrations?grade=important", None, member),
        ("GET", f"{API}/registrations/{{record}}", f"{API}/registrations/{waybills}", None, {}),
        ("GET", f"{API}/registrations/{{record}}", f"{API}/registrations/{waybills}", None, member),
        ("GET", f"{API}/registrations/{{record}}/ancestors", f"{API}/registrations/{asset}/ancestors", None, {}),
        ("GET", f"{API}/registrations/{{record}}/descendants", f"{API}/registrations/{rid}/descendants", None, member),
        ("GET", f"{API}/registrations/{{record}}/impact", f"{API}/registrations/{rid}/impact", None, {}),
        ("GET", f"{API}/registrations/{{record}}/path/{{ancestor}}", f"{API}/registrations/{asset}/path/{rid}",
         None, {}),
        ("GET", f"{API}/registrations/{{record}}/proof", f"{API}/registrations/{rid}/proof", None, {}),
        ("POST", f"{API}/checkpoints", f"{API}/checkpoints", None, admin),
        ("POST", f"{API}/witness", f"{API}/witness", None, admin),
        ("GET", f"{API}/certificates", f"{API}/certificates", None, {}),
        ("POST", f"{API}/certificates/verify", f"{API}/certificates/verify", cert, {}),
        ("POST", f"{API}/certificates/verify-offline", f"{API}/certificates/verify-offline",
         {"certificate": cert, "snapshot": snap}, {}),
        ("GET", f"{API}/certificates/{{credential}}/recognitions", f"{API}/certificates/{h}/recognitions", None, {}),
    ]
    checked = set()
    for method, template, url, body, headers in calls:
        r = c.request(method, url, json=body, headers=headers)
        status, model = models[(method, template)]
        assert r.status_code == status, (method, url, r.status_code, r.text[:300])
        if model is not None:
            TypeAdapter(model).validate_python(r.json())
        checked.add((method, template))
    for method, template, url, body, headers in [
        ("GET", f"{API}/certificates/{{credential}}", f"{API}/certificates/{h}", None, {}),
        ("GET", f"{API}/registrations/{{record}}/lineage/prov", f"{API}/registrations/{asset}/lineage/prov", None,
         member),
        ("GET", f"{API}/registrations/{{record}}/lineage/openlineage",
         f"{API}/registrations/{asset}/lineage/openlineage", None, member),
        ("POST", f"{API}/certificates/recognize", f"{API}/certificates/recognize",
         {"certificate": json.loads((served.data_dir / "demo-certificate.json").read_text())}, admin),  # AHDE's
    ]:
        r = c.request(method, url, json=body, headers=headers)
        assert r.status_code == models[(method, template)][0] and isinstance(r.json(), dict | list), r.text[:300]
        checked.add((method, template))
    r = c.post(f"{API}/registrations/{rid}/status", json={"status": "suspended"}, headers=admin)
    status, model = models[("POST", f"{API}/registrations/{{record}}/status")]
    assert r.status_code == status
    TypeAdapter(model).validate_python(r.json())
    checked.add(("POST", f"{API}/registrations/{{record}}/status"))
    # Issuing and snapshots were called above; /metrics is Prometheus text.
    checked |= {("POST", f"{API}/certificates"), ("POST", f"{API}/snapshots")}
    assert set(models) - checked <= {("GET", "/metrics")}, set(models) - checked
