"""POST /certificates/verify-jwt judges the payload as /certificates/verify judges the certificate: a vc+jwt of a
suspended or revoked record is invalid (``record`` fails, the status list says so), a valid one valid, a tampered
token fails at its signature; and the issue answer is application/vc like the download."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import certificates as C
from provenance.core import status_list
from provenance.core import vc_jose as J
from provenance.core.canonical import canonical_json
from provenance.types import Status
from tests.support.certificates import World, make_world

API = "/api/v1"


@pytest.fixture(scope="module")
def client(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from provenance.api import ApiSettings, create_app
    from provenance.api.auth import TokenStore
    from tests.support.passphrase import passphrase

    src, demo = demo_dir
    data = tmp_path_factory.mktemp("jose-status-node") / "data"
    shutil.copytree(src, data)
    token = TokenStore(data).create("registrar", "desk")
    app = create_app(ApiSettings(data_dir=data, passphrase=passphrase(data.parent), rate_per_second=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.registrar = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        c.demo = demo  # type: ignore[attr-defined]
        yield c


def issue(client: Any) -> tuple[dict[str, Any], str]:
    r = client.post(f"{API}/certificates", json={"record": client.demo["records"]["port-vessel-traffic"],
                                                 "days": 30}, headers=client.registrar)
    assert r.status_code == 201, r.text
    cert = r.json()
    dl = client.get(f"{API}/certificates/0x{C.credential_hash(cert).hex()}/jwt")
    assert dl.status_code == 200, dl.text
    return cert, dl.text


def judged(client: Any, token: str) -> dict[str, Any]:
    r = client.post(f"{API}/certificates/verify-jwt", json={"jwt": token})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def checks_of(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in answer["checks"]}


def set_status(client: Any, cert: dict[str, Any], status: str) -> None:
    rid = cert["credentialSubject"]["record"]["id"]
    r = client.post(f"{API}/registrations/{rid}/status", json={"status": status}, headers=client.registrar)
    assert r.status_code == 200, r.text


def status_bit(client: Any, cert: dict[str, Any], purpose: str) -> bool:
    entry = next(e for e in cert["credentialStatus"] if e["statusPurpose"] == purpose)
    r = client.get(f"{API}/status-lists/SDE/{purpose}", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return status_list.status(r.json(), entry)


def test_issue_answers_application_vc_like_the_download(client: Any) -> None:
    cert, _ = issue(client)
    r = client.post(f"{API}/certificates", json={"record": client.demo["records"]["port-vessel-traffic"],
                                                 "days": 30}, headers=client.registrar)
    assert r.status_code == 201 and r.headers["content-type"].split(";")[0] == "application/vc", r.headers
    h = f"0x{C.credential_hash(cert).hex()}"
    assert client.get(f"{API}/certificates/{h}").headers["content-type"].split(";")[0] == "application/vc"
    plain = client.post(f"{API}/certificates", json={"record": client.demo["records"]["port-vessel-traffic"]},
                        headers={**client.registrar, "Accept": "application/json"})
    assert plain.status_code == 201 and plain.headers["content-type"].split(";")[0] == "application/json"
    assert plain.json()["type"] == cert["type"]


def test_a_valid_vc_jwt_is_valid_with_every_check_named(client: Any) -> None:
    cert, token = issue(client)
    got = judged(client, token)
    assert got["valid"] is True and "error" not in got, got
    assert got["credential"] == J.credential_of(cert) and got["issuedBlock"] == cert["proof"][0]["issuedBlock"]
    assert [c["name"] for c in got["checks"]] == ["jose", *C.CHECKS]
    assert all(c["ok"] for c in got["checks"]) and got["mode"] == "online"
    assert got["byJose"] == ["signature", "issuer_key", "key_valid"]
    assert "ES256K" in checks_of(got)["signature"]["detail"]
    # The same checks, and findings, as the certificate with its embedded proof.
    full = client.post(f"{API}/certificates/verify", json=cert).json()
    assert full["valid"] is True
    same = {c["name"]: c for c in full["checks"]}
    for name in ("format", "binding", "issuer_key", "key_valid", "record", "inclusion", "checkpoint", "lineage",
                 "expiry", "term"):
        assert checks_of(got)[name] == same[name], name
    assert got["property"] == full["property"]


def test_a_tampered_vc_jwt_fails_at_the_signature(client: Any) -> None:
    _, token = issue(client)
    h, p, s = token.strip().split(".")
    sig = bytearray(J._unb64url(s, "signature"))
    sig[10] ^= 1  # one bit of r: "AA" at the end would leave a signature whose last byte is zero as it was
    forged = judged(client, f"{h}.{p}.{J.b64url(bytes(sig))}")
    assert forged == {"valid": False, "error": "InvalidSignature", "detail": forged["detail"]}
    # A payload changed and re-encoded, under the original signature.
    payload = json.loads(J._unb64url(p, "payload"))
    payload["issuer"]["name"] += " (forged)"
    tampered = judged(client, f"{h}.{J.b64url(canonical_json(payload))}.{s}")
    assert tampered == {"valid": False, "error": "InvalidSignature", "detail": tampered["detail"]}


def test_suspended_then_revoked_record_fails_verify_jwt_at_record(client: Any) -> None:
    # The last test of the node: the demo record it revokes can be certified no more.
    cert, token = issue(client)
    set_status(client, cert, "suspended")
    got = judged(client, token)
    assert got["valid"] is False and got["error"] == "CertificateInvalid", got
    record = checks_of(got)["record"]
    assert record["ok"] is False and "suspended" in record["detail"] and "record" in got["detail"]
    assert checks_of(got)["jose"]["ok"] is True  # the signature still holds: the record's status does not
    assert [c["name"] for c in got["checks"] if not c["ok"]] == ["record"]
    assert status_bit(client, cert, "suspension")
    set_status(client, cert, "active")
    assert judged(client, token)["valid"] is True
    set_status(client, cert, "revoked")
    got = judged(client, token)
    full = client.post(f"{API}/certificates/verify", json=cert).json()
    assert full["valid"] is False and got["valid"] is False, got
    assert checks_of(got)["record"] == {c["name"]: c for c in full["checks"]}["record"]
    assert "revoked" in checks_of(got)["record"]["detail"]
    assert [c["name"] for c in got["checks"] if not c["ok"]] == ["record"]
    assert status_bit(client, cert, "revocation")


# ---------------------------------------------------------------------- the core function, both reading paths


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(Path(tmp_path_factory.mktemp("jose-status")))
    yield w
    w.close()


def test_judge_gives_one_report_by_the_compiled_and_the_plain_reader(world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cert = world.certifier.issue(world.product, world.fed.keys["SDE"])
    token = J.sign(cert, bytes(world.fed.keys["SDE"].key))
    view = world.certifier.online_view()
    now = C._parse_iso(cert["validFrom"], "$") + 60
    first = J.judge(token, view, now=now)
    assert first.report.valid and first.report.check("jose").ok, first.report.failed
    from provenance.core.certificates import parse

    monkeypatch.setattr(parse, "_parse_compiled", lambda _doc: None)
    plain = J.judge(token, view, now=now)
    assert plain.report == first.report
    assert first.report.checks[1:] != C.verify(cert, view, now=now).checks  # signature and recognitions say JOSE
    monkeypatch.undo()

    # A suspended ancestor fails lineage, a suspended record fails record: by both readers alike.
    sde = world.fed.keys["SDE"]
    for record, check, fn in ((world.resource_a, "lineage", "setStatus"), (world.product, "record",
                                                                           "setBatchedStatus")):
        world.fed.contracts.transact(sde, "Registry", fn, record, int(Status.SUSPENDED), bytes(32))
        view = world.certifier.online_view()
        compiled = J.judge(token, view, now=now).report
        with monkeypatch.context() as m:
            m.setattr(parse, "_parse_compiled", lambda _doc: None)
            assert J.judge(token, view, now=now).report == compiled
        assert check in compiled.failed and "suspended" in compiled.check(check).detail, compiled.failed
        assert compiled.check(check) == C.verify(cert, view, now=now).check(check)
