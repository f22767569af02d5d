"""The OpenAPI document says what every endpoint returns: real responses are held to the documented models."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from provenance.core import eip712
from provenance.store.keystore import Keystore
from tests.support.passphrase import passphrase
from tests.support.served import Served, serve

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


@pytest.fixture
def supervisor_node(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Served]:
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    yield from serve(tmp_path / "data", demo, key="CAC")


def _flow_calls(served: Served, supervisor: Served) -> list[tuple[Served, str, str, str, Any, dict[str, str]]]:
    """Every cross-border route once, on an exchange's node and on a supervisor's node."""
    admin, registrar = served.auth("admin"), served.auth("registrar")
    sup, sup_member = supervisor.auth("admin"), supervisor.auth("member")
    rid = served.record("port-vessel-traffic")
    report = served.client.get(f"{API}/flows/spot-checks/1/report").json()
    terms = {"expiresAt": 0, "volumeLimit": 1000, "deadline": 2**40}
    typed = served.client.get(f"{API}/flows/applications/2/approval-typed-data", params=terms).json()
    cac = Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent)).load("CAC")
    signature = "0x" + eip712.sign_digest(bytes.fromhex(typed["digest"][2:]), bytes(cac.key)).hex()
    # A second pending application on the supervisor's copy, filed by SDE under Lingang's mandate.
    ks = Keystore(supervisor.data_dir / "keystore", passphrase(supervisor.data_dir.parent))
    pending = supervisor.runtime.ops.flows.file(
        {"recordId": rid, "exporter": 1, "receiver": 3, "destination": "US", "category": "MARITIME.AIS",
         "purpose": "openapi"}, signer=ks.load("SDE"))["id"]
    f = f"{API}/flows"
    # A proposed supervisor's key consents with its own signature.
    from eth_account import Account

    bureau = Account.create()
    digest = served.runtime.ops.svc.member_key_digest(1, "SHDB", "Shanghai Data Bureau",
                                                      bytes.fromhex(bureau.address[2:]))
    bureau_consent = "0x" + eip712.sign_digest(digest, bytes(bureau.key)).hex()
    return [
        (served, "GET", f"{API}/supervisors", f"{API}/supervisors", None, {}),
        (served, "POST", f"{API}/supervisors", f"{API}/supervisors",
         {"code": "SHDB", "name": "Shanghai Data Bureau", "key": bureau.address, "keySignature": bureau_consent},
         admin),
        (served, "GET", f"{f}/catalogue", f"{f}/catalogue", None, {}),
        (served, "GET", f"{f}/applications", f"{f}/applications?status=approved", None, {}),
        (served, "POST", f"{f}/applications", f"{f}/applications",
         {"recordId": served.record("port-energy-model"), "exporter": 1, "receiver": 3, "destination": "SG",
          "category": "MARITIME.AIS", "purpose": "openapi"}, registrar),
        (served, "GET", f"{f}/queue", f"{f}/queue", None, {}),
        (served, "GET", f"{f}/applications/{{app_id}}", f"{f}/applications/1", None, {}),
        (served, "GET", f"{f}/applications/{{app_id}}/approval-typed-data",
         f"{f}/applications/2/approval-typed-data?deadline=99", None, {}),
        (served, "POST", f"{f}/applications/{{app_id}}/signed-approval", f"{f}/applications/2/signed-approval",
         {**terms, "signature": signature}, registrar),
        (served, "POST", f"{f}/deliveries", f"{f}/deliveries",
         {"deliveries": [{"application": 4, "manifestHash": "0x" + "e1" * 32, "size": 10}]}, admin),  # filed above
        (served, "GET", f"{f}/deliveries", f"{f}/deliveries?application=1", None, {}),
        (served, "GET", f"{f}/deliveries/{{delivery_id}}", f"{f}/deliveries/1", None, {}),
        (served, "GET", f"{f}/spot-checks", f"{f}/spot-checks", None, {}),
        (served, "GET", f"{f}/spot-checks/{{check_id}}", f"{f}/spot-checks/1", None, {}),
        (served, "POST", f"{f}/reports/verify", f"{f}/reports/verify", report, {}),
        (supervisor, "PUT", f"{f}/catalogue", f"{f}/catalogue",
         {"category": "IOT.TELEMETRY", "destination": "SG", "maxValidity": 3600}, sup),
        (supervisor, "POST", f"{f}/applications/{{app_id}}/approval", f"{f}/applications/2/approval", {}, sup),
        (supervisor, "POST", f"{f}/applications/{{app_id}}/rejection", f"{f}/applications/{pending}/rejection",
         {"reason": "purpose too broad"}, sup),
        (supervisor, "POST", f"{f}/applications/{{app_id}}/revocation", f"{f}/applications/3/revocation",
         {"reason": "incident"}, sup),
        (supervisor, "POST", f"{f}/spot-checks", f"{f}/spot-checks", {"exporter": 1, "sampleSize": 2}, sup),
        (supervisor, "POST", f"{f}/spot-checks/{{check_id}}/draw", f"{f}/spot-checks/2/draw", None, sup_member),
        (supervisor, "GET", f"{f}/spot-checks/{{check_id}}/answer", f"{f}/spot-checks/2/answer", None, sup),
        (supervisor, "POST", f"{f}/spot-checks/{{check_id}}/answers", f"{f}/spot-checks/2/answers",
         lambda: supervisor.client.get(f"{f}/spot-checks/2/answer", headers=sup).json()["answers"], sup),
        (supervisor, "POST", f"{f}/spot-checks/{{check_id}}/conclusion", f"{f}/spot-checks/2/conclusion", None, sup),
    ]


def test_real_responses_match_the_documented_models(served: Served, supervisor_node: Served) -> None:
    c = served.client
    models = documented(served)
    rid = served.record("port-vessel-traffic")
    asset = served.record("logistics-index-asset")
    waybills = served.record("logistics-waybills")
    member, admin = served.auth("member"), served.auth("admin")
    cert = c.post(f"{API}/certificates", json={"record": rid}, headers=admin).json()
    h = c.post(f"{API}/certificates/verify", json=cert).json()["credentialHash"]
    snap = c.post(f"{API}/snapshots", json={"anchor": False}, headers=admin).json()
    # Onboarding carries the account's own consent: its signature of the typed data the node hands out.
    from eth_account import Account

    account = Account.create()
    query = f"identifier=91310000OPENAPI01&account={account.address}"
    consent = c.get(f"{API}/entities/consent?{query}").json()
    signature = "0x" + eip712.sign_digest(bytes.fromhex(consent["digest"][2:]), bytes(account.key)).hex()
    own = c.get(f"{API}/tlog/keys").json()["binding"]
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
        ("GET", f"{API}/entities", f"{API}/entities?identifier=91310115MA1K4LG83Y", None, {}),
        ("GET", f"{API}/entities/consent", f"{API}/entities/consent?{query}", None, {}),
        ("POST", f"{API}/entities", f"{API}/entities", {"identifier": "91310000OPENAPI01", "account": account.address,
                                                        "consent": signature, "deadline": consent["deadline"]}, admin),
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
        ("GET", f"{API}/certificates/{{credential}}/jwt", f"{API}/certificates/{h}/jwt", None, {}),
        ("GET", f"{API}/jwks", f"{API}/jwks", None, {}),
        ("POST", f"{API}/certificates/verify-jwt", f"{API}/certificates/verify-jwt", {"jwt": "x.y.z"}, {}),
        ("GET", f"{API}/status-lists/{{code}}/{{purpose}}", f"{API}/status-lists/SDE/revocation", None, {}),
        ("POST", f"{API}/status-lists/anchor", f"{API}/status-lists/anchor", None, admin),
        ("GET", f"{API}/tlog/keys", f"{API}/tlog/keys", None, {}),
        ("GET", f"{API}/tlog/note-keys/{{code}}", f"{API}/tlog/note-keys/SDE", None, {}),
        ("GET", f"{API}/tlog/bindings", f"{API}/tlog/bindings", None, {}),
        ("POST", f"{API}/tlog/bindings", f"{API}/tlog/bindings",
         {"statement": own["statement"], "signature": own["signature"]}, {}),
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
    for node, method, template, url, body, headers in _flow_calls(served, supervisor_node):
        if callable(body):
            body = {"answers": body()}
        r = node.client.request(method, url, json=body, headers=headers)
        status, model = models[(method, template)]
        assert r.status_code == status, (method, url, r.status_code, r.text[:300])
        if model is not None:
            TypeAdapter(model).validate_python(r.json())
        checked.add((method, template))
    r = served.client.get(f"{API}/flows/spot-checks/1/report")
    assert r.status_code == models[("GET", f"{API}/flows/spot-checks/{{check_id}}/report")][0]
    checked.add(("GET", f"{API}/flows/spot-checks/{{check_id}}/report"))
    # The catalogue's routes: tests/api/test_catalog_api.py (test_every_catalog_route_answers_as_documented) calls
    # each and holds it to its documented status and model.
    checked |= {(m, p) for m, p in models if p.startswith((f"{API}/catalog", f"{API}/schemas/"))
                or p.endswith(("/metadata", "/dcat", "/profile", "/records"))}
    # The property register's routes: tests/api/test_property_api.py (test_every_property_route_answers_as_documented)
    # calls each in an order the rules allow and holds it to its documented status and model.
    property_tails = ("property", "transfers", "changes", "renewals", "cancellation", "pledges", "assessments",
                      "listing", "disputes", "consent-typed-data")
    checked |= {(m, p) for m, p in models if p == f"{API}/encumbrances"
                or (p.startswith(f"{API}/registrations/{{record}}/") and p.split("/")[5] in property_tails)}
    assert set(models) - checked <= {("GET", "/metrics")}, set(models) - checked


def test_every_route_that_parses_a_body_is_one_whose_body_the_guard_checks(served: Served) -> None:
    """The guard (provenance.api.middleware) reads and checks the bodies of POST, PUT, PATCH and DELETE requests as
    I-JSON; FastAPI parses a JSON body only for a route with a body parameter. So no such route may answer another
    method, or a body would reach FastAPI's parser unchecked."""
    from provenance.api.middleware import Guard

    app = served.client.app
    assert any(m.cls is Guard for m in app.user_middleware)  # type: ignore[attr-defined]
    with_body = [r for r in app.routes if isinstance(r, APIRoute) and r.body_field is not None]  # type: ignore[attr-defined]
    assert len(with_body) >= 20
    unchecked = [(r.path, sorted(r.methods - {"POST", "PUT", "PATCH", "DELETE"})) for r in with_body
                 if r.methods - {"POST", "PUT", "PATCH", "DELETE"}]
    assert not unchecked, unchecked
