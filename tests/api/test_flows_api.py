"""Cross-border flows over HTTP: on an exchange's node (filings, deliveries, relayed approvals) and on a
supervisor's node (decisions, spot checks), with the demo federation's flows as the starting state."""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.api.auth import sign_request
from provenance.core import eip712
from provenance.store.keystore import Keystore
from tests.support.passphrase import passphrase
from tests.support.served import Served, serve

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Served]:
    """The demo node as SDE (an exchange), fresh for each test."""
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    yield from serve(tmp_path / "data", demo)


@pytest.fixture
def supervisor(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Served]:
    """The demo data directory served with the supervisor CAC's key: a supervisor's node."""
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    yield from serve(tmp_path / "data", demo, key="CAC")


def key(served: Served, label: str) -> bytes:
    return bytes(Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent)).load(label).key)


def manifest(name: str, size: int = 1000) -> dict[str, Any]:
    return {"files": [{"path": f"{name}.csv", "sha256": "0x" + "ab" * 32, "size": size}]}


def rule_of(r: Any) -> str:
    assert r.headers["content-type"].startswith(PROBLEM), r.text
    return str(r.json().get("rule"))


def test_reads_show_the_lifecycle(node: Served) -> None:
    c = node.client
    assert [s["code"] for s in c.get(f"{API}/supervisors").json()] == ["CAC"]
    assert c.get(f"{API}/flows/catalogue").json()[0]["category"] == "MARITIME.AIS"
    queue = c.get(f"{API}/flows/queue").json()
    assert [a["id"] for a in queue] == [2] and queue[0]["status"] == "pending"
    app = c.get(f"{API}/flows/applications/1").json()
    assert (app["status"], app["decidedBy"], app["deliveries"], app["open"]) == ("approved", 0, 8, True)
    assert len(c.get(f"{API}/flows/deliveries", params={"application": 1}).json()) == 8
    assert c.get(f"{API}/flows/applications", params={"exporter": 2}, headers=node.auth("member")).json()[0][
        "exporter"] == 2
    assert c.get(f"{API}/flows/applications", params={"status": "approved"}).json()
    check = c.get(f"{API}/flows/spot-checks/1").json()
    assert check["state"] == "concluded" and len(check["sample"]) == 3 and check["passed"] == 3
    assert [d["id"] for d in check["deliveries"]] == check["sample"]
    assert c.get(f"{API}/flows/applications/99").status_code == 404
    assert c.get(f"{API}/flows/spot-checks/99").status_code == 404


def test_applications_for_important_data_are_redacted_without_a_member_credential(node: Served) -> None:
    c = node.client
    anonymous = c.get(f"{API}/flows/applications/2").json()
    assert anonymous["redacted"] and anonymous["grade"] == 1 and anonymous["status"] == "pending"
    assert all(anonymous.get(f) is None for f in ("purpose", "receiver", "exporter", "destination", "category"))
    assert c.get(f"{API}/flows/queue").json()[0]["redacted"]
    assert c.get(f"{API}/flows/applications/2", headers=node.auth("merchant")).json()["redacted"]  # not its own
    full = c.get(f"{API}/flows/applications/2", headers=node.auth("member")).json()
    assert not full["redacted"] and full["purpose"].startswith("customs") and full["destination"] == "DE"
    general = c.get(f"{API}/flows/applications/1").json()
    assert not general["redacted"] and general["purpose"]
    listed = {a["id"]: a["redacted"] for a in c.get(f"{API}/flows/applications").json()}
    assert listed == {1: False, 2: True, 3: True}


def test_a_report_verifies_and_every_tampered_variant_fails(node: Served) -> None:
    c = node.client
    report = c.get(f"{API}/flows/spot-checks/1/report").json()
    assert c.post(f"{API}/flows/reports/verify", json=report).json() == {"valid": True, "problems": [], "check": 1}
    variants: list[dict[str, Any]] = []
    for mutate in (
        lambda r: r["sample"].reverse(),
        lambda r: r["positions"].reverse(),
        lambda r: r.update(sample=[r["sample"][0]] * len(r["sample"])),
        lambda r: r.update(seed="0x" + "11" * 32),
        lambda r: r.update(population=r["population"] + 1),
        lambda r: r["outcomes"][0].update(recordedManifestHash="0x" + "22" * 32),
        lambda r: r["outcomes"][0].update(ok=False, reason="x"),
        lambda r: r.update(passed=r["passed"] - 1, failed=r["failed"] + 1),
        lambda r: r.update(chainId=r["chainId"] + 1),
        lambda r: r["outcomes"].pop(),
    ):
        v = copy.deepcopy(report)
        mutate(v)
        variants.append(v)
    for v in variants:
        out = c.post(f"{API}/flows/reports/verify", json=v).json()
        assert not out["valid"] and out["problems"], v


def test_filing_on_an_exchange_node(node: Served) -> None:
    c, admin = node.client, node.auth("admin")
    lingang, hefei = node.demo["entities"]["m-lingang"], node.demo["entities"]["m-hefei"]
    r = c.post(f"{API}/registrations", json={"kind": "resource", "owner": lingang, "contentHash": "0x" + "c1" * 32},
               headers=admin)
    rid = r.json()["id"]
    body = {"recordId": rid, "exporter": lingang, "receiver": hefei, "destination": "SG",
            "category": "MARITIME.AIS", "purpose": "berth planning"}
    for headers, status in (({}, 401), (node.auth("member"), 403), (node.auth("merchant"), 403)):
        r = c.post(f"{API}/flows/applications", json=body, headers=headers)
        assert r.status_code == status, r.text
    r = c.post(f"{API}/flows/applications", json=body, headers=node.auth("registrar"))
    assert r.status_code == 201 and r.json()["status"] == "approved" and r.json()["volumeLimit"] == 50 * 2**30
    app_id = r.json()["id"]
    # The rules, each named.
    core = node.record("personal-credit-files")
    r = c.post(f"{API}/flows/applications", json={**body, "recordId": core}, headers=admin)
    assert r.status_code == 422 and rule_of(r) == "CoreDataNotExportable"
    waybills = node.record("logistics-waybills")  # Hangzhou's: SDE holds no mandate of it
    r = c.post(f"{API}/flows/applications", json={**body, "recordId": waybills, "exporter": 2}, headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotExporterAgent"
    r = c.post(f"{API}/flows/applications", json={**body, "exporter": hefei}, headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotExporterAgent"
    for field, bad in (("destination", "CN"), ("destination", "sg"), ("category", "a b"), ("purpose", "")):
        r = c.post(f"{API}/flows/applications", json={**body, field: bad}, headers=admin)
        assert r.status_code == 422 and field in r.text, (field, r.text)
    # Supervisors' decisions need a supervisor's key: this node's is an exchange's.
    r = c.post(f"{API}/flows/applications/2/approval", json={}, headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotSupervisorKey"
    r = c.put(f"{API}/flows/catalogue", json={"category": "X", "destination": "SG", "maxValidity": 60},
              headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotSupervisorKey"
    assert c.put(f"{API}/flows/catalogue", json={"category": "X", "destination": "SG", "maxValidity": 60},
                 headers=node.auth("registrar")).status_code == 403
    # Deliveries: manifests (kept), or hash and size; beyond the volume refused, nothing half-recorded.
    two = [{"application": app_id, "manifest": manifest("a")},
           {"application": app_id, "manifestHash": "0x" + "d1" * 32, "size": 5}]
    r = c.post(f"{API}/flows/deliveries", json={"deliveries": two}, headers=admin)
    assert r.status_code == 201 and [d["size"] for d in r.json()["deliveries"]] == [1000, 5]
    r = c.post(f"{API}/flows/deliveries", json={"deliveries": [
        {"application": app_id, "manifest": manifest("b")},
        {"application": app_id, "manifestHash": "0x" + "d2" * 32, "size": 50 * 2**30}]}, headers=admin)
    assert r.status_code == 422 and rule_of(r) == "VolumeExceeded"
    assert c.get(f"{API}/flows/applications/{app_id}").json()["deliveries"] == 2
    r = c.post(f"{API}/flows/deliveries", json={"deliveries": [
        {"application": app_id, "manifest": {"files": [{"path": "x", "sha256": "0x12", "size": 1}]}}]}, headers=admin)
    assert r.status_code == 422 and "sha256" in r.json()["detail"]
    r = c.post(f"{API}/flows/deliveries", json={"deliveries": [{"application": 2, "manifestHash": "0x" + "d3" * 32,
                                                                "size": 1}]}, headers=admin)
    assert r.status_code in (403, 422) and rule_of(r) in ("NotExporterAgent", "ApplicationNotApproved")


def test_a_supervisors_signed_approval_is_relayed_once(node: Served) -> None:
    c, admin = node.client, node.auth("admin")
    deadline = 2**40
    terms = {"expiresAt": 0, "volumeLimit": 10_000, "deadline": deadline}
    typed = c.get(f"{API}/flows/applications/2/approval-typed-data", params=terms).json()
    digest = bytes.fromhex(typed["digest"][2:])
    forged = "0x" + eip712.sign_digest(digest, key(node, "SDE")).hex()
    r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": forged}, headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotSupervisorKey"
    good = "0x" + eip712.sign_digest(digest, key(node, "CAC")).hex()
    r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "volumeLimit": 10**9, "signature": good},
               headers=admin)
    assert r.status_code == 403 and rule_of(r) == "NotSupervisorKey"  # other terms: another signer recovered
    assert c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": good},
                  headers=node.auth("member")).status_code == 403
    r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": good}, headers=admin)
    assert r.status_code == 200 and (r.json()["status"], r.json()["decidedBy"], r.json()["signed"]) == \
        ("approved", 1, True)
    r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": good}, headers=admin)
    assert r.status_code == 409 and rule_of(r) == "ApplicationNotPending"


def test_a_supervisors_node_decides_and_runs_spot_checks(supervisor: Served) -> None:
    c, admin = supervisor.client, supervisor.auth("admin")
    health = c.get("/health").json()
    assert (health["exchange"], health["supervisor"]) == (None, 1)
    r = c.post(f"{API}/flows/applications/2/approval", json={"volumeLimit": 10**6}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decidedBy"] == 1
    assert c.get(f"{API}/flows/queue").json() == []
    r = c.post(f"{API}/flows/applications/2/rejection", json={"reason": "late"}, headers=admin)
    assert r.status_code == 409 and rule_of(r) == "ApplicationNotPending"
    r = c.post(f"{API}/flows/applications/3/revocation", json={"reason": "incident 7"}, headers=admin)
    assert r.json()["status"] == "revoked" and r.json()["reason"] == "incident 7" and not r.json()["open"]
    r = c.put(f"{API}/flows/catalogue", json={"category": "IOT.TELEMETRY", "destination": "DE",
                                              "maxValidity": 86400}, headers=admin)
    assert r.json()["listed"] and len(c.get(f"{API}/flows/catalogue").json()) == 2
    # A spot check: announce, draw (a later block's hash), the exporter's answers, one of them wrong, conclude.
    lingang = supervisor.demo["entities"]["m-lingang"]
    r = c.post(f"{API}/flows/spot-checks", json={"exporter": lingang, "sampleSize": 4}, headers=admin)
    assert r.status_code == 201 and r.json()["state"] == "announced" and r.json()["population"] == 8
    check_id = r.json()["id"]
    r = c.post(f"{API}/flows/spot-checks/{check_id}/answers", json={"answers": {"1": manifest("x")}}, headers=admin)
    assert r.status_code == 409  # not drawn yet
    assert c.post(f"{API}/flows/spot-checks/{check_id}/draw").status_code == 401
    r = c.post(f"{API}/flows/spot-checks/{check_id}/draw", headers=supervisor.auth("member"))
    assert r.status_code == 200 and r.json()["state"] == "drawn" and len(r.json()["sample"]) == 4
    sample = r.json()["sample"]
    answers = c.get(f"{API}/flows/spot-checks/{check_id}/answer", headers=admin).json()
    assert sorted(int(k) for k in answers["answers"]) == sorted(sample) and answers["missing"] == []
    outsider = next(i for i in range(1, 10) if i not in sample)
    r = c.post(f"{API}/flows/spot-checks/{check_id}/answers", json={"answers": {str(outsider): manifest("x")}},
               headers=admin)
    assert r.status_code == 422 and "not in spot check" in r.json()["detail"]
    tampered = dict(answers["answers"])
    tampered[str(sample[0])] = {**tampered[str(sample[0])], "format": "csv"}  # not what was delivered
    del tampered[str(sample[1])]  # and one never answered
    # Only an exchange holding the exporter's mandate answers for it: ZJDE's member token may not, SDE's key may.
    r = c.post(f"{API}/flows/spot-checks/{check_id}/answers", json={"answers": tampered},
               headers=supervisor.auth("member"))
    assert r.status_code == 403 and "mandate" in r.json()["detail"]
    target = f"{API}/flows/spot-checks/{check_id}/answers"
    raw = json.dumps({"answers": tampered}).encode()
    headers = sign_request(key(supervisor, "SDE"), supervisor.runtime.chain_id, supervisor.runtime.registry,
                           "POST", target, raw)
    r = c.post(target, content=raw, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["outstanding"] == [sample[1]], r.text
    log = (supervisor.data_dir / "flows" / "checks" / str(check_id) / "answers-log.jsonl").read_text().splitlines()
    assert [json.loads(x)["exchange"] for x in log] == [1]
    r = c.post(f"{API}/flows/spot-checks/{check_id}/conclusion", headers=admin)
    assert r.status_code == 200
    report = r.json()["report"]
    assert (report["passed"], report["failed"]) == (2, 2)
    reasons = {o["delivery"]: o["reason"] for o in report["outcomes"]}
    assert "hash differs" in reasons[sample[0]] and "no manifest" in reasons[sample[1]]
    check = c.get(f"{API}/flows/spot-checks/{check_id}").json()
    assert check["state"] == "concluded" and check["reportKept"] and (check["passed"], check["failed"]) == (2, 2)
    assert c.post(f"{API}/flows/reports/verify", json=report).json()["valid"]
    r = c.post(f"{API}/flows/spot-checks/{check_id}/conclusion", headers=admin)
    assert r.status_code == 409


def test_nodes_draw_a_check_as_soon_as_its_seed_block_is_mined(supervisor: Served) -> None:
    """Nobody, the announcing supervisor included, can hold a draw back until its seed block's hash is gone."""
    c, admin = supervisor.client, supervisor.auth("admin")
    lingang = supervisor.demo["entities"]["m-lingang"]
    check = c.post(f"{API}/flows/spot-checks", json={"exporter": lingang, "sampleSize": 2}, headers=admin).json()
    assert check["state"] == "announced"
    # Any later transaction mines the seed block; the node's follower then draws on its own.
    c.put(f"{API}/flows/catalogue", json={"category": "X.Y", "destination": "JP", "maxValidity": 60}, headers=admin)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = c.get(f"{API}/flows/spot-checks/{check['id']}").json()
        if got["state"] == "drawn":
            break
        time.sleep(0.1)
    assert got["state"] == "drawn" and len(got["sample"]) == 2
    assert got["drawnBlock"] > got["seedBlock"]


def test_an_approval_of_a_record_no_longer_active_is_not_open(node: Served) -> None:
    """Deliveries are refused under it (RecordNotActive), so the application does not say it is open (an
    independent check found "open": true beside a refused delivery)."""
    c = node.client
    app = c.get(f"{API}/flows/applications/1").json()
    assert app["open"] is True
    r = c.post(f"{API}/registrations/{app['recordId']}/status", json={"status": "suspended"},
               headers=node.auth("registrar"))
    assert r.status_code == 200, r.text
    assert c.get(f"{API}/flows/applications/1").json()["open"] is False
    assert c.post(f"{API}/registrations/{app['recordId']}/status", json={"status": "active"},
                  headers=node.auth("registrar")).status_code == 200
    assert c.get(f"{API}/flows/applications/1").json()["open"] is True
