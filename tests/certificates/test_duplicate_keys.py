"""A certificate whose JSON text repeats a key: two readers would read two certificates (the standard library keeps
the last value, a strict or first-wins reader the first), so verification refuses the text, online and offline,
failing ``format`` with the key and its path named - for every key of every object of a real certificate, and
before any other check runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import certificates as C
from provenance.core.snapshot import SnapshotView
from tests.support.certificates import World, make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(Path(tmp_path_factory.mktemp("duplicates")))
    yield w
    w.close()


@pytest.fixture(scope="module")
def cert(world: World) -> dict[str, Any]:
    doc = world.certifier.issue(world.product, world.fed.keys["SDE"])
    return world.certifier.recognize(doc, world.fed.keys["ZJDE"], on_chain=False)


@pytest.fixture(scope="module")
def views(world: World) -> dict[str, C.FederationView]:
    snap = world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)
    return {"online": world.certifier.online_view(),
            "offline": SnapshotView(snap, world.certifier.trusted_keys(2))}


def _now(doc: dict[str, Any]) -> int:
    return C._parse_iso(doc["validFrom"], "$") + 60


def _objects(value: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from _objects(v, f"{path}.{k}" if k.isidentifier() else f"{path}[{json.dumps(k)}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _objects(v, f"{path}[{i}]")



def _with_repeat(doc: dict[str, Any], target: dict[str, Any], key: str, first_value: Any) -> str:
    """The certificate's text with ``key`` of ``target`` written twice: first ``first_value``, then the real one."""
    def render(value: Any) -> str:
        if isinstance(value, dict):
            members = [f"{json.dumps(k)}: {render(v)}" for k, v in value.items()]
            if value is target:
                members.insert(0, f"{json.dumps(key)}: {json.dumps(first_value)}")
            return "{" + ", ".join(members) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(render(v) for v in value) + "]"
        return json.dumps(value)

    return render(doc)


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 998
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
    return 999


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_the_genuine_text_verifies(cert: dict[str, Any], views: dict[str, C.FederationView], mode: str) -> None:
    report = C.verify_text(json.dumps(cert), views[mode], now=_now(cert))
    assert report.valid, report.to_json()


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_the_issues_example_is_refused_naming_owner(cert: dict[str, Any], views: dict[str, C.FederationView],
                                                    mode: str) -> None:
    record = cert["credentialSubject"]["record"]
    text = _with_repeat(cert, record, "owner", 999)
    assert json.loads(text) == cert  # a last-wins reader sees the genuine certificate: it used to verify
    report = C.verify_text(text, views[mode], now=_now(cert))
    assert not report.valid and report.failed == list(C.CHECKS)  # nothing else was even looked at
    detail = report.check("format").detail
    assert "'owner'" in detail and "$.credentialSubject.record" in detail, detail
    assert all(c.detail == "not checked: the document is malformed" for c in report.checks[1:])


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_every_key_of_every_object_repeated_is_refused(cert: dict[str, Any], views: dict[str, C.FederationView],
                                                       mode: str) -> None:
    view, now = views[mode], _now(cert)
    cases = 0
    missed = []
    for path, obj in _objects(cert):
        for key, value in obj.items():
            for first in (_other(value), value):  # a different value, and the same value twice
                text = _with_repeat(cert, obj, key, first)
                report = C.verify_text(text, view, now=now)
                detail = report.check("format").detail
                cases += 1
                if report.valid or report.failed[0] != "format" or repr(key) not in detail or path not in detail:
                    missed.append((path, key, report.failed[:2], detail[:120]))
    assert not missed, missed[:5]
    assert cases > 200  # 112 members: the record, its lineage, the evidence, the proofs


def test_a_repeated_key_in_the_snapshot_is_refused_before_it_is_trusted(cert: dict[str, Any], world: World) -> None:
    from provenance.core import ijson
    from provenance.errors import DuplicateKey

    snap = world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)
    text = _with_repeat(snap, snap["exchanges"][0], "code", "XXXX")
    assert json.loads(text) == snap
    with pytest.raises(DuplicateKey) as err:
        ijson.loads(text, max_int=ijson.EXACT_INT, what="the snapshot")
    assert err.value.key == "code" and err.value.path == "$.exchanges[0]"


def test_over_http_both_verify_routes_refuse_the_text_naming_the_key(demo_dir: tuple[Path, dict[str, Any]],
                                                                      tmp_path: Path) -> None:
    import shutil

    from tests.support.served import serve

    shutil.copytree(demo_dir[0], tmp_path / "data")
    gen = serve(tmp_path / "data", demo_dir[1])
    served = next(gen)
    try:
        c = served.client
        genuine = json.loads((tmp_path / "data" / "demo-certificate.json").read_text())
        r = c.post("/api/v1/certificates/verify", json=genuine)
        assert r.status_code == 200 and r.json()["valid"], r.text
        text = _with_repeat(genuine, genuine["credentialSubject"]["record"], "owner", 999)
        r = c.post("/api/v1/certificates/verify", content=text, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        doc = r.json()
        assert doc["type"].endswith("duplicate-key") and doc["key"] == "owner"
        assert doc["path"] == "$.credentialSubject.record" and "'owner'" in doc["detail"]
        body = {"certificate": genuine, "snapshot": {"type": "FederationSnapshot"}, "trusted": []}
        wrapped = _with_repeat(body, genuine["issuer"], "code", "ZZZ")
        r = c.post("/api/v1/certificates/verify-offline", content=wrapped, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["key"] == "code"
        assert r.json()["path"] == "$.certificate.issuer"
    finally:
        gen.close()
