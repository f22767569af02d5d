"""The cross-border flows' routes answer the flows service's typed results (provenance.services.results.flows,
issue 19): the OpenAPI document names each route's model, and what a route actually answers, to an anonymous
caller, a merchant, a member, a partner exchange's key, a supervisor's key and this node's admin, validates
against that model and is exactly its document, member for member, in the order the flows have always answered."""

from __future__ import annotations

import itertools
import json
import time
import typing
from typing import Any

import orjson
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, RootModel, TypeAdapter

from provenance.api.auth import SIGNATURE_WINDOW, sign_request
from provenance.services.flows import PUBLIC_APPLICATION_FIELDS
from provenance.services.results import Result
from provenance.services.results import flows as R
from provenance.store.keystore import Keystore
from tests.support.passphrase import passphrase
from tests.support.served import Served

API = "/api/v1"

# Every typed read of the flows, with the URLs it is called with (the demo has applications 1 (general grade,
# approved on the catalogue), 2 (important, pending) and 3 (important, approved), 9 deliveries and a concluded
# spot check).
READS: dict[str, list[str]] = {
    "/supervisors": ["/supervisors"],
    "/flows/catalogue": ["/flows/catalogue"],
    "/flows/applications": ["/flows/applications", "/flows/applications?status=approved",
                            "/flows/applications?exporter=2", "/flows/applications?after=1&limit=1"],
    "/flows/queue": ["/flows/queue"],
    "/flows/applications/{app_id}": ["/flows/applications/1", "/flows/applications/2", "/flows/applications/3"],
    "/flows/applications/{app_id}/approval-typed-data": [
        "/flows/applications/2/approval-typed-data?deadline=5&volumeLimit=7"],
    "/flows/deliveries": ["/flows/deliveries", "/flows/deliveries?application=3", "/flows/deliveries?exporter=1"],
    "/flows/deliveries/{delivery_id}": ["/flows/deliveries/1", "/flows/deliveries/9"],
    "/flows/spot-checks": ["/flows/spot-checks"],
    "/flows/spot-checks/{check_id}": ["/flows/spot-checks/1"],
}
CALLERS = ("anonymous", "merchant", "member", "exchange", "supervisor", "admin")
# The spot check's report stays a document of its own format (its hash is anchored on-chain).
DOCUMENT_ROUTES = {"/flows/spot-checks/{check_id}/report"}
# A signed request counts once (the replay guard): each of the same GET is signed at another second of the window.
_SECONDS = itertools.count()


def _flows_routes(served: Served) -> list[APIRoute]:
    return [r for r in served.client.app.routes  # type: ignore[attr-defined]
            if isinstance(r, APIRoute) and r.path.removeprefix(API).startswith(("/flows", "/supervisors"))]


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The result models an annotation names (a model, a list of them, or a RootModel of a union of them)."""
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return [m for arg in typing.get_args(annotation.model_fields["root"].annotation) for m in _models(arg)]
    if isinstance(annotation, type) and issubclass(annotation, Result):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _headers(served: Served, who: str, url: str) -> dict[str, str]:
    """A caller's credentials: a token, or a request signed by a key (ZJDE's for a partner exchange, CAC's for the
    supervisor), as a partner's node or a supervisor's client sends it."""
    if who == "anonymous":
        return {}
    if who in ("exchange", "supervisor"):
        ks = Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent))
        key = bytes(ks.load("ZJDE" if who == "exchange" else "CAC").key)
        at = int(time.time()) - next(_SECONDS) % (SIGNATURE_WINDOW // 2)
        return sign_request(key, served.runtime.chain_id, served.runtime.registry, "GET", url, b"", timestamp=at)
    return served.auth(who)


def _get(served: Served, who: str, url: str) -> Any:
    r = served.client.get(API + url, headers=_headers(served, who, API + url))
    assert r.status_code == 200, (who, url, r.text[:300])
    return r


def test_each_flows_route_names_its_model_in_the_openapi_document(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    routes = _flows_routes(served)
    assert {r.path.removeprefix(API) for r in routes} >= set(READS) | DOCUMENT_ROUTES
    typed = 0
    for route in routes:
        if route.path.removeprefix(API) in DOCUMENT_ROUTES:
            assert not _models(route.response_model)
            continue
        models = _models(route.response_model)
        assert models and all(m.__module__ == R.__name__ for m in models), (route.path, route.response_model)
        model = route.response_model
        name = (typing.get_args(model)[0] if typing.get_origin(model) is list else model).__name__
        for method in route.methods or ():
            op = spec["paths"][route.path][method.lower()]
            schema = op["responses"][str(route.status_code or 200)]["content"]["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref == f"#/components/schemas/{name}", (method, route.path, schema)
            typed += 1
    assert typed == len(routes) - len(DOCUMENT_ROUTES)
    # The schema names the flows always had stay; a redacted application has its own model beside them.
    assert {"SupervisorOut", "SupervisorKeyOut", "FlowProposalOut", "CatalogueEntryOut", "CatalogueSetOut",
            "ApplicationOut", "ApprovalTypedDataOut", "DeliveryOut", "DeliveriesOut", "SpotCheckOut", "AnswerOut",
            "AnswersTakenOut", "ConcludedOut", "ReportCheckOut", "PublicApplicationOut",
            "ApplicationViewOut"} <= set(schemas)
    view = schemas["ApplicationViewOut"]["anyOf"]
    assert view == [{"$ref": "#/components/schemas/ApplicationOut"},
                    {"$ref": "#/components/schemas/PublicApplicationOut"}]
    # The members are declared in the order the wire has them: the index's in alphabetical order, then what the
    # service adds; a redacted application in the order of PUBLIC_APPLICATION_FIELDS.
    full = list(schemas["ApplicationOut"]["properties"])
    added = full.index("expired")
    assert full[:added] == sorted(full[:added]) and full[added:] == ["expired", "volumeLeft", "open", "redacted", "tx"]
    assert list(schemas["PublicApplicationOut"]["properties"]) == [*PUBLIC_APPLICATION_FIELDS, "redacted"]
    check = list(schemas["SpotCheckOut"]["properties"])
    assert check[:-3] == sorted(check[:-3]) and check[-3:] == ["deliveries", "reportKept", "answered"]
    for name in ("SupervisorOut", "CatalogueEntryOut", "DeliveryOut"):
        assert list(schemas[name]["properties"]) == sorted(schemas[name]["properties"]), name


@pytest.mark.parametrize("who", CALLERS)
def test_every_flows_read_answers_its_model_member_for_member(served: Served, who: str) -> None:
    by_path = {r.path.removeprefix(API): r for r in _flows_routes(served) if "GET" in (r.methods or ())}
    checked = 0
    for template, urls in READS.items():
        adapter = TypeAdapter(by_path[template].response_model)
        for url in urls:
            r = _get(served, who, url)
            value = adapter.validate_json(r.content)
            # The very bytes the route sent: no member more or less, each in its place.
            assert orjson.dumps(adapter.dump_python(value, mode="json", exclude_unset=True)) == r.content, url
            checked += 1
    assert checked == sum(len(u) for u in READS.values())


@pytest.mark.parametrize("who", CALLERS)
def test_an_application_is_shown_in_full_or_redacted_by_who_asks(served: Served, who: str) -> None:
    general, pending, approved = (_get(served, who, f"/flows/applications/{i}").json() for i in (1, 2, 3))
    # A general-grade record's application is public in full; the important ones only to the federation's members,
    # supervisors and this node (a merchant sees its own: the merchant here is Lingang, the exporter of 1 only).
    assert general["redacted"] is False and R.ApplicationOut.model_validate(general).exporter == 1
    for doc in (pending, approved):
        if who in ("anonymous", "merchant"):
            assert list(doc) == [*PUBLIC_APPLICATION_FIELDS, "redacted"] and doc["redacted"] is True
            R.PublicApplicationOut.model_validate(doc)
            with pytest.raises(ValueError):
                R.ApplicationOut.model_validate(doc)
        else:
            app = R.ApplicationOut.model_validate(doc)
            assert app.redacted is False and app.exporter == 2 and "tx" not in doc
            assert list(doc)[-4:] == ["expired", "volumeLeft", "open", "redacted"]
    listed = _get(served, who, "/flows/applications").json()
    assert [d["redacted"] for d in listed] == [False] + [who in ("anonymous", "merchant")] * 2
    assert listed[1:] == [pending, approved]


def test_the_supervisors_queue_and_checks_are_their_models(served: Served) -> None:
    queue = [R.ApplicationViewOut.model_validate(d).root for d in _get(served, "member", "/flows/queue").json()]
    assert [(a.id, a.status) for a in queue] == [(2, "pending")]
    check = R.SpotCheckOut.model_validate(_get(served, "anonymous", "/flows/spot-checks/1").json())
    assert check.state == "concluded" and [d.id for d in check.deliveries] == check.sample and check.reportKept
    assert check.concludedBlock is not None and check.drawnBlock is not None
    supervisors = [R.SupervisorOut.model_validate(s) for s in _get(served, "anonymous", "/supervisors").json()]
    assert [(s.code, s.status, len(s.keys)) for s in supervisors] == [("CAC", "active", 1)]
    answer = served.client.get(f"{API}/flows/spot-checks/1/answer", headers=served.auth("admin"))
    # A concluded check has no drawn sample to answer: a conflict, not a document the model would have to bend to.
    assert answer.status_code == 409, answer.text


def test_the_flows_writes_answer_their_models_member_for_member(served: Served) -> None:
    """A filing and a delivery on the exchange's node: their answers are the write models' documents exactly
    (the application read back with its transaction and no ``redacted``; the deliveries as the index has them)."""
    filed = served.client.post(f"{API}/flows/applications", headers=served.auth("registrar"), json={
        "recordId": served.record("port-energy-model"), "exporter": 1, "receiver": 3, "destination": "SG",
        "category": "MARITIME.AIS", "purpose": "typed results"})
    assert filed.status_code == 201, filed.text
    app = R.ApplicationOut.model_validate_json(filed.content)
    assert app.status == "approved" and app.tx is not None and "redacted" not in filed.json()
    assert json.dumps(app.document(), ensure_ascii=False, separators=(",", ":")).encode() == filed.content
    assert list(filed.json())[-4:] == ["expired", "volumeLeft", "open", "tx"]
    delivered = served.client.post(f"{API}/flows/deliveries", headers=served.auth("admin"), json={"deliveries": [
        {"application": app.id, "manifest": {"files": [{"path": "a.parquet", "sha256": "0x" + "ab" * 32, "size": 5}]}},
        {"application": app.id, "manifestHash": "0x" + "cd" * 32, "size": 7}]})
    assert delivered.status_code == 201, delivered.text
    out = R.DeliveriesOut.model_validate_json(delivered.content)
    assert [(d.application, d.size) for d in out.deliveries] == [(app.id, 5), (app.id, 7)]
    assert json.dumps(out.document(), ensure_ascii=False, separators=(",", ":")).encode() == delivered.content
    # What a read of the new application answers is the same application, read as a read: redacted false, no tx.
    read = _get(served, "anonymous", f"/flows/applications/{app.id}").json()
    assert read == {**{k: v for k, v in filed.json().items() if k != "tx"}, "delivered": 12, "deliveries": 2,
                    "volumeLeft": read["volumeLeft"], "redacted": False}
    verified = served.client.post(f"{API}/flows/reports/verify", json={"check": 99})
    assert verified.status_code == 200 and verified.json() == {"valid": False,
                                                               "problems": ["no spot check 99 in this index"]}
    R.ReportCheckOut.model_validate_json(verified.content)
