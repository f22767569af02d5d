"""The one public URL of a node (`serve --public-url`, else node.toml's [api] public_url, else the address it
serves on) names every document it writes: certificates' credentialStatus, the status lists and the DCAT ids. A
request's Host header never does, so a caller cannot make the node sign or publish addresses of its choosing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import demo_node

API = "/api/v1"
PUBLIC = "https://sde.example/node"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, dict[str, str], dict[str, Any]]]:
    with demo_node(demo_dir, tmp_path_factory.mktemp("public-url"), "--rate", "0",
                   "--public-url", PUBLIC + "/") as (url, admin):
        yield url, admin, demo_dir[1]


def _urls(value: Any) -> list[str]:
    """Every http(s) string anywhere in a JSON value."""
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) else []


def test_certificates_name_the_public_url_whatever_the_host_header(
        node: tuple[str, dict[str, str], dict[str, Any]]) -> None:
    url, admin, demo = node
    rid = demo["records"]["port-vessel-traffic"]
    for headers in ({}, {"Host": "attacker.example"}):
        r = httpx.post(f"{url}{API}/certificates", json={"record": rid, "days": 30}, headers={**admin, **headers},
                       timeout=60)
        assert r.status_code == 201, r.text
        status = r.json()["credentialStatus"]
        found = _urls(status)
        assert found and all(u.startswith(PUBLIC + "/api/v1/status-lists/") for u in found), status
        assert "attacker" not in json.dumps(r.json()) and "127.0.0.1" not in json.dumps(status)


def test_dcat_ids_are_under_the_public_url_whatever_the_host_header(
        node: tuple[str, dict[str, str], dict[str, Any]]) -> None:
    url, _admin, demo = node
    rid = demo["records"]["port-vessel-traffic"]
    answers = []
    for headers in ({}, {"Host": "attacker.example"}):
        catalog = httpx.get(f"{url}{API}/catalog", headers=headers, timeout=60)
        dataset = httpx.get(f"{url}{API}/registrations/{rid}/dcat", headers=headers, timeout=60)
        assert catalog.status_code == 200 and dataset.status_code == 200, (catalog.text, dataset.text)
        assert catalog.json()["id"] == PUBLIC + "/api/v1/catalog"
        assert dataset.json()["id"] == f"{PUBLIC}/api/v1/registrations/{rid}"
        body = catalog.text + dataset.text
        assert "attacker.example" not in body and "127.0.0.1" not in body
        answers.append((catalog.json(), dataset.json()))
    assert answers[0] == answers[1]
