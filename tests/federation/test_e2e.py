"""A federation of separate exchange nodes on a real JSON-RPC chain: real processes, cooperating only through it.

`provenance devnet up` starts a Hardhat chain, deploys the contracts from Shanghai's node, attaches the two
partners and admits them by governance, and starts three `provenance serve` processes: the same path an operator
takes. The tests talk to each node over HTTP only, as partner exchanges would.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from provenance.chain.contracts import Contracts
from provenance.core import eip712
from provenance.dev.devnet import free_port
from provenance.store.keystore import Keystore
from tests.support.devnet import CODES, eventually, running_devnet
from tests.support.devnet import DevnetClients as Fed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fed]:
    with running_devnet(tmp_path_factory.mktemp("federation")) as clients:
        yield clients


def verify(fed: Fed, code: str, cert: dict[str, Any]) -> dict[str, Any]:
    r = fed[code].post("/certificates/verify", json=cert)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_certificate_from_a_verifies_at_b_online_and_offline_and_c_sees_b_recognise_it(fed: Fed) -> None:
    rid = fed.register("SDE")
    r = fed["SDE"].post("/certificates", json={"record": rid})
    assert r.status_code == 201, r.text
    cert = r.json()
    eventually(lambda: fed["ZJDE"].get(f"/registrations/{rid}").status_code == 200, what="B indexing A's record")
    report = eventually(lambda: (rep := verify(fed, "ZJDE", cert))["valid"] and rep, what="valid at B")
    assert report["mode"] == "online"
    snap = fed["ZJDE"].post("/snapshots", json={"anchor": True})
    assert snap.status_code == 201, snap.text
    off = fed["ZJDE"].post("/certificates/verify-offline", json={"certificate": cert, "snapshot": snap.json()})
    assert off.status_code == 200 and off.json()["valid"] is True and off.json()["mode"] == "offline", off.text
    rec = fed["ZJDE"].post("/certificates/recognize", json={"certificate": cert})
    assert rec.status_code == 200, rec.text
    h = report["credentialHash"]
    seen = eventually(lambda: fed["AHDE"].get(f"/certificates/{h}/recognitions").json(), what="C seeing it")
    assert [x["recognizerCode"] for x in seen] == ["ZJDE"] and seen[0]["record"] == rid
    # The recognised certificate (with B's recognition) verifies at C too.
    assert eventually(lambda: verify(fed, "AHDE", rec.json())["valid"], what="recognised certificate at C")


def test_lineage_certificate_from_b_verifies_at_c_and_fails_there_once_a_revokes_the_source(fed: Fed) -> None:
    source = fed.register("SDE")
    assert fed["SDE"].post("/checkpoints").status_code == 201  # A anchors its log: the source is provable
    eventually(lambda: fed["ZJDE"].get(f"/registrations/{source}").status_code == 200, what="B indexing the source")
    product = fed.register("ZJDE", kind="product", parents=[source])

    def issue() -> Any:
        r = fed["ZJDE"].post("/certificates", json={"record": product})
        return r.json() if r.status_code == 201 else None

    cert = eventually(issue, what="B issuing (once A's checkpoint is indexed at B)")
    assert [x["id"] for x in cert["credentialSubject"]["lineage"]] == [source]
    assert eventually(lambda: verify(fed, "AHDE", cert)["valid"], what="valid at C")
    r = fed["SDE"].post(f"/registrations/{source}/status", json={"status": "revoked", "reason": "licence withdrawn"})
    assert r.status_code == 200, r.text

    def failed_at_c() -> Any:
        rep = verify(fed, "AHDE", cert)
        return None if rep["valid"] else rep

    rep = eventually(failed_at_c, what="the certificate failing at C")
    failing = {c["name"]: c["detail"] for c in rep["checks"] if not c["ok"]}
    assert "lineage" in failing and "revoked" in failing["lineage"], failing


def test_a_killed_node_catches_up_with_nothing_lost_or_doubled(fed: Fed) -> None:
    fed.net.kill_node("ZJDE", signal.SIGKILL)
    with pytest.raises(httpx.TransportError):
        fed["ZJDE"].get("/registrations", params={"limit": 1})
    written = [fed.register("SDE") for _ in range(25)]
    fed.net.start_node("ZJDE")
    fed.clients["ZJDE"] = fed.client("ZJDE")

    def all_of_sde() -> list[str] | None:
        out, after = [], -1
        while True:
            page = fed["ZJDE"].get("/registrations", params={"registrar": "SDE", "after": after, "limit": 1000})
            assert page.status_code == 200, page.text
            body = page.json()
            out += [x["id"] for x in body["results"]]
            if not body["results"]:
                break
            after = body["next"]
        return out if set(written) <= set(out) else None

    at_b = eventually(all_of_sde, what="B catching up")
    assert len(at_b) == len(set(at_b)), "a record indexed twice"
    at_a = fed["SDE"].get("/registrations", params={"registrar": "SDE", "limit": 1000}).json()["results"]
    assert sorted(at_b) == sorted(x["id"] for x in at_a)


def test_a_reorg_is_followed_by_every_node(fed: Fed) -> None:
    snapshot = fed.chain.request("evm_snapshot", [])
    doomed = fed.register("SDE")
    for code in CODES:
        eventually(lambda c=code: fed[c].get(f"/registrations/{doomed}").status_code == 200, what=f"{code} seeing X")
    assert fed.chain.request("evm_revert", [snapshot]) is True
    kept = fed.register("SDE")  # the competing branch: another registration at the same height
    fed.chain.request("hardhat_mine", ["0x3"])
    for code in CODES:
        eventually(lambda c=code: fed[c].get(f"/registrations/{doomed}").status_code == 404,
                   what=f"{code} dropping the orphaned registration")
        eventually(lambda c=code: fed[c].get(f"/registrations/{kept}").status_code == 200,
                   what=f"{code} indexing the competing branch")
        eventually(lambda c=code: (h := httpx.get(fed.net.member(c).url + "/health").json())["status"] == "ok"
                   and h["index"]["lag"] == 0, what=f"{code} at the head of the new branch")


def test_a_node_pointed_at_the_wrong_chain_or_contract_refuses_to_start(fed: Fed, tmp_path: Path) -> None:
    src = fed.net.member("AHDE").data_dir
    cases = {
        "registry": (lambda raw: raw.replace(f'registry = "0x{fed.deployment.registry.hex()}"',
                                             'registry = "0x' + "42" * 20 + '"'),
                     "no contract at the Registry address"),
        "chain": (lambda raw: raw.replace("chain_id = 31337", "chain_id = 1502"), "chain id 31337"),
    }
    for name, (edit, message) in cases.items():
        data = tmp_path / name
        data.mkdir()
        shutil.copytree(src / "keystore", data / "keystore")
        raw = (src / "node.toml").read_text()
        changed = edit(raw)
        assert changed != raw
        tomllib.loads(changed)
        (data / "node.toml").write_text(changed)
        proc = subprocess.run([sys.executable, "-m", "provenance.cli", "--data-dir", str(data), "serve", "--port",
                               str(free_port())], capture_output=True, text=True, timeout=60,
                              env={"PROVENANCE_PASSPHRASE": fed.net.passphrase, "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 7, (name, proc.returncode, proc.stderr[-1000:])
        assert message in proc.stderr, (name, proc.stderr[-1000:])


def test_cross_border_flow_across_nodes_with_a_supervisor_signing_offline(fed: Fed) -> None:
    """A supervisor admitted by two members' approvals; SDE files for its exporter; the supervisor's approval,
    signed away from any node, is relayed by ZJDE; deliveries at SDE; a spot check announced by the supervisor's
    own transaction, drawn by the nodes as soon as the seed block is mined, answered from SDE's kept manifests,
    concluded by the supervisor and its report verified at AHDE."""
    ks = Keystore(fed.net.member("ZJDE").data_dir / "keystore", fed.net._pass())
    cac = Account.create()
    fed.chain.request("hardhat_setBalance", [cac.address, hex(10**20)])
    # The supervisor's key consents to its admission (it signs away from any node, as it signs approvals).
    member_key = fed.svc.member_key_digest(eip712.ROLE_SUPERVISOR, "CAC", "Cyberspace Administration",
                                           bytes.fromhex(cac.address[2:]))
    r = fed["SDE"].post("/supervisors", json={"code": "CAC", "name": "Cyberspace Administration",
                                              "key": cac.address.lower(),
                                              "keySignature": "0x" + eip712.sign_digest(member_key, cac.key).hex()})
    assert r.status_code == 201 and not r.json()["executed"], r.text  # threshold 2
    assert fed.svc.approve(ks.load("ZJDE"), r.json()["proposal"]).executed
    eventually(lambda: fed["AHDE"].get("/supervisors").json(), what="AHDE indexing the supervisor")

    exporter, receiver = fed.merchant("SDE"), fed.merchant("AHDE")
    rid = fed.register("SDE", grade="important")
    body = {"recordId": rid, "exporter": exporter, "receiver": receiver, "destination": "SG",
            "category": "IOT.TELEMETRY", "purpose": "predictive maintenance"}
    r = fed["SDE"].post("/flows/applications", json=body)
    assert r.status_code == 422 and r.json()["rule"] == "AssessmentRequired"
    r = fed["SDE"].post("/flows/applications", json={**body, "assessmentRef": "CAC-SA-2026-0200"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    app_id = r.json()["id"]
    eventually(lambda: [a["id"] for a in fed["ZJDE"].get("/flows/queue").json()] == [app_id], what="queue at B")

    terms = {"expiresAt": 0, "volumeLimit": 10_000, "deadline": int(time.time()) + 3600}
    typed = fed["ZJDE"].get(f"/flows/applications/{app_id}/approval-typed-data", params=terms).json()
    signature = "0x" + eip712.sign_digest(bytes.fromhex(typed["digest"][2:]), bytes(cac.key)).hex()
    r = fed["ZJDE"].post(f"/flows/applications/{app_id}/signed-approval", json={**terms, "signature": signature})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    r = fed["AHDE"].post(f"/flows/applications/{app_id}/signed-approval", json={**terms, "signature": signature})
    assert r.status_code == 409 and r.json()["rule"] == "ApplicationNotPending"  # replayed at another node

    eventually(lambda: fed["SDE"].get(f"/flows/applications/{app_id}").json()["open"], what="approval at A")
    manifests = [{"files": [{"path": f"t{i}.parquet", "sha256": "0x" + f"{i:02x}" * 32, "size": 2000}]}
                 for i in range(4)]
    r = fed["SDE"].post("/flows/deliveries", json={"deliveries": [{"application": app_id, "manifest": m}
                                                                   for m in manifests]})
    assert r.status_code == 201, r.text
    r = fed["SDE"].post("/flows/deliveries", json={"deliveries": [{"application": app_id, "manifest": manifests[0]}
                                                                   for _ in range(2)]})
    assert r.status_code == 422 and r.json()["rule"] == "VolumeExceeded"  # 8,000 + 4,000 > 10,000
    r = fed["ZJDE"].post("/flows/deliveries", json={"deliveries": [{"application": app_id, "manifestHash":
                                                                    "0x" + "77" * 32, "size": 1}]})
    assert r.status_code == 403 and r.json()["rule"] == "NotExporterAgent"  # B holds no mandate of A's exporter

    from provenance.chain.cross_border import FlowService

    flows = FlowService(Contracts.attach(fed.chain, fed.deployment))
    check_id, seed_block = flows.announce(cac, exporter, 2)
    fed.chain.request("evm_mine", [])  # the seed block: from here any node may draw, and each tries at once
    check = eventually(lambda: (x := fed["SDE"].get(f"/flows/spot-checks/{check_id}").json()).get("state") == "drawn"
                       and x, what="a node drawing the sample")
    assert check["drawnBlock"] > seed_block and len(check["sample"]) == 2
    seed = bytes.fromhex(check["seed"][2:])
    answers = fed["SDE"].get(f"/flows/spot-checks/{check_id}/answer").json()
    assert answers["missing"] == [] and len(answers["answers"]) == 2
    # The supervisor judges on its own machine (pure core) and anchors the report.
    from provenance.core import flows as F

    sample = [F.RecordedDelivery(d, app_id, flows.delivery(d).manifest_hash, flows.delivery(d).size)
              for d in check["sample"]]
    report = F.build_report(chain_id=fed.chain.chain_id, contract=flows.address, check_id=check_id,
                            exporter=exporter, seed=seed, population=4, sample_size=2, sample=sample,
                            answers={int(k): v for k, v in answers["answers"].items()})
    assert report["passed"] == 2 and report["positions"] == F.sample_positions(seed, 4, 2)
    assert seed == F.seed_of(fed.chain.get_block(seed_block).hash, fed.chain.chain_id, flows.address, check_id)
    flows.conclude(cac, check_id, report["sample"], F.report_hash(report), 2, 0)
    assert fed.chain.get_block(seed_block).hash  # the seed block exists: anyone can recompute the draw
    out = eventually(lambda: (v := fed["AHDE"].post("/flows/reports/verify", json=report).json())["valid"] and v,
                     what="the report verified at C")
    assert out["problems"] == []
    bad = {**report, "sample": report["sample"][::-1]}
    assert not fed["AHDE"].post("/flows/reports/verify", json=bad).json()["valid"]
