"""Routes answering a service's typed result (provenance.services.results, issue 19): the OpenAPI document names
the route's model, and what the route actually answers validates against it and is exactly the model's document
(no member more or less, in the model's order: the JSON the interfaces have always shown)."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, RootModel, TypeAdapter

from provenance.core.certificates import credential_hash
from provenance.core.ids import hex0x
from provenance.services.results import Result
from tests.support.served import Served

API = "/api/v1"
ACCOUNT = "0x" + "11" * 20

# Every typed read route, the URLs it is called with (the demo's records and entities) and the credential to use.
READS: dict[str, list[tuple[str, str | None]]] = {
    "/exchanges": [("/exchanges", None)],
    "/exchanges/{exchange}": [("/exchanges/SDE", None), ("/exchanges/2", None)],
    "/exchanges/{exchange}/keys": [("/exchanges/ZJDE/keys", None)],
    "/exchanges/{exchange}/checkpoints": [("/exchanges/SDE/checkpoints", None),
                                          ("/exchanges/2/checkpoints?limit=1", None)],
    "/exchanges/{exchange}/consistency": [("/exchanges/SDE/consistency?size1=1&size2=3", None),
                                          ("/exchanges/ZJDE/consistency?size1=0&size2=2", "member")],
    "/proposals": [("/proposals", None)],
    "/entities/consent": [(f"/entities/consent?identifier=x-1&account={ACCOUNT}&deadline=5", None)],
    "/entities/{entity}": [("/entities/1", None), ("/entities/4", None)],
    "/entities": [("/entities?identifier={credit}", None)],
    "/catalog/search": [("/catalog/search", None), ("/catalog/search?limit=2", "member"),
                        ("/catalog/search?q=logistics", "admin")],
    "/catalog/boards": [("/catalog/boards", None)],
    "/catalog/figures": [("/catalog/figures", None)],
    "/entities/{entity}/profile": [("/entities/1/profile", None), ("/entities/4/profile", "admin")],
    "/entities/{entity}/records": [("/entities/1/records", None), ("/entities/1/records?limit=1", "member")],
    "/registrations/{record}/property": [("/registrations/{asset}/property", None),
                                         ("/registrations/{asset}/property", "member"),
                                         ("/registrations/{general}/property", "merchant")],
    "/registrations/{record}/transfers": [("/registrations/{transferred}/transfers", "member")],
    "/registrations/{record}/changes": [("/registrations/{asset}/changes", "member")],
    "/registrations/{record}/pledges": [("/registrations/{asset}/pledges", "member")],
    "/registrations/{record}/assessments": [("/registrations/{asset}/assessments", "member")],
    "/registrations/{record}/disputes": [("/registrations/{asset}/disputes", "member")],
    "/certificates": [("/certificates", None), ("/certificates?limit=1", "member")],
    "/certificates/{credential}/recognitions": [("/certificates/{credential}/recognitions", None)],
    "/encumbrances": [("/encumbrances", "admin"), ("/encumbrances?limit=1", "member")],
}


def _typed_routes(served: Served) -> list[APIRoute]:
    routes = [r for r in served.client.app.routes  # type: ignore[attr-defined]
              if isinstance(r, APIRoute) and r.response_model is not None and _models(r.response_model)]
    return routes


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The result models an annotation names (a model, a list of them, or a RootModel of a union of them)."""
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return [m for arg in typing.get_args(annotation.model_fields["root"].annotation) for m in _models(arg)] \
            or [annotation]
    if isinstance(annotation, type) and issubclass(annotation, Result):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _certificate(served: Served) -> dict[str, Any]:
    return json.loads(Path(served.demo["certificate"]).read_text("utf-8"))  # type: ignore[no-any-return]


def _url(served: Served, template: str) -> str:
    demo = served.demo
    return API + template.format(
        credential=hex0x(credential_hash(_certificate(served))) if "{credential}" in template else "",
        asset=demo["property"]["asset"], transferred=demo["property"]["transfer"]["record"],
        general=served.record("port-vessel-traffic"),
        credit=demo["property"]["institutions"]["fi-pujiang-bank"]["creditCode"])


def test_the_services_answer_typed_results_on_every_converted_capability(served: Served) -> None:
    paths = {r.path.removeprefix(API) for r in _typed_routes(served)}
    assert set(READS) <= paths, sorted(set(READS) - paths)
    assert {"/entities", "/registrations/{record}/transfers", "/registrations/{record}/metadata",
            "/entities/{entity}/recognition", "/checkpoints", "/witness",
            "/certificates/verify", "/certificates/verify-offline"} <= paths


def test_the_openapi_document_names_each_routes_model(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()
    for route in _typed_routes(served):
        for method in route.methods:
            op = spec["paths"][route.path][method.lower()]
            code = str(route.status_code or 200)
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            model = route.response_model
            name = (typing.get_args(model)[0] if typing.get_origin(model) is list else model).__name__
            assert ref == f"#/components/schemas/{name}", (method, route.path, schema)
            assert name in spec["components"]["schemas"]


def test_every_typed_read_answers_its_model_exactly(served: Served) -> None:
    by_path = {(r.path.removeprefix(API)): r for r in _typed_routes(served) if "GET" in r.methods}
    checked = 0
    for template, calls in READS.items():
        route = by_path[template]
        adapter = TypeAdapter(route.response_model)
        for url, who in calls:
            r = served.client.get(_url(served, url), headers=served.auth(who) if who else {})
            assert r.status_code == 200, (url, who, r.text[:300])
            value = adapter.validate_python(r.json())
            again = adapter.dump_python(value, mode="json", exclude_unset=True)
            # The same document, member for member and in the same order, as the route sent.
            assert json.dumps(again, ensure_ascii=False) == json.dumps(r.json(), ensure_ascii=False), url
            checked += 1
    assert checked == sum(len(c) for c in READS.values())


def test_a_redacted_property_answer_is_the_public_model(served: Served) -> None:
    from provenance.services.results.property import PropertyOut, PublicPropertyOut

    demo = served.demo
    public = served.client.get(_url(served, "/registrations/{asset}/property")).json()
    assert public["redacted"] is True
    PublicPropertyOut.model_validate(public)
    full = served.client.get(_url(served, "/registrations/{asset}/property"), headers=served.auth("member")).json()
    assert full["redacted"] is False and full["owner"] == PropertyOut.model_validate(full).owner
    assert set(public) < set(full) | {"redacted"} and "owner" not in public
    assert demo["property"]["asset"] == full["record"]


def test_a_verification_report_is_its_model_exactly(served: Served) -> None:
    from provenance.services.results.certificates import ReportOut

    good = served.client.post(f"{API}/certificates/verify", json=_certificate(served))
    bad = served.client.post(f"{API}/certificates/verify", json={"hello": "world"})
    for r, valid in ((good, True), (bad, False)):
        assert r.status_code == 200, r.text[:300]
        report = ReportOut.model_validate(r.json())
        assert report.valid is valid and report.mode == "online" and report.checks
        assert json.dumps(report.document(), ensure_ascii=False) == json.dumps(r.json(), ensure_ascii=False)
    # An unchecked certificate has no property state, and says so (null), rather than leaving the member out.
    assert "property" in bad.json() and bad.json()["property"] is None
