"""The cross-border lifecycle from the command line: a supervisor by governance, an application, a relayed
signed approval, deliveries from manifest files, and a spot check whose report verifies (and a tampered one not)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "test-pass-phrase")
    monkeypatch.setenv("PROVENANCE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_the_lifecycle_from_the_command_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")[0] == 0
    for label in ("merchant", "buyer", "CAC"):
        assert run(capsys, "key", "new", label)[0] == 0
    cac = run(capsys, "key", "list")[1]
    cac_address = next(k["address"] for k in cac if k["label"] == "CAC")
    code, out, err = run(capsys, "flow", "add-supervisor", "CAC", "Cyberspace Administration", cac_address)
    assert code == 0 and out["executed"], err
    assert run(capsys, "flow", "supervisors")[1][0]["code"] == "CAC"
    run(capsys, "entity", "add", "--identifier", "91310000MA1FLOW01", "--account-key", "merchant")
    run(capsys, "entity", "add", "--identifier", "91310000MA1FLOW02", "--account-key", "buyer")
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "merchant")[0] == 0
    code, reg, _ = run(capsys, "register", "--kind", "resource", "--grade", "important", "--owner", "1",
                       "--content-hash", "0x" + "ab" * 32)
    rid = reg["id"]

    code, _, err = run(capsys, "flow", "apply", "--record", rid, "--exporter", "1", "--receiver", "2", "--to", "SG",
                       "--category", "IOT.TELEMETRY", "--purpose", "maintenance")
    assert code == 8 and "AssessmentRequired" in err
    code, app, _ = run(capsys, "flow", "apply", "--record", rid, "--exporter", "1", "--receiver", "2", "--to", "SG",
                       "--category", "IOT.TELEMETRY", "--purpose", "maintenance", "--assessment", "CAC-SA-1")
    assert code == 0 and app["status"] == "pending"
    assert [a["id"] for a in run(capsys, "flow", "queue")[1]] == [app["id"]]
    code, _, err = run(capsys, "flow", "approve", str(app["id"]))  # with the exchange's own key
    assert code == 8 and "NotSupervisorKey" in err

    signed = env / "approval.json"
    assert run(capsys, "--as", "CAC", "flow", "sign-approval", str(app["id"]), "--days", "30", "--max-bytes", "5000",
               "--out", str(signed))[0] == 0
    code, approved, _ = run(capsys, "flow", "relay-approval", str(signed))
    assert code == 0 and (approved["status"], approved["volumeLimit"], approved["signed"]) == ("approved", 5000, True)
    code, _, err = run(capsys, "flow", "relay-approval", str(signed))
    assert code == 8 and "ApplicationNotPending" in err

    files = []
    for i in range(4):
        f = env / f"m{i}.json"
        f.write_text(json.dumps({"files": [{"path": f"part-{i}", "sha256": "0x" + f"{i:02x}" * 32, "size": 1000}]}))
        files.append(str(f))
    code, out, _ = run(capsys, "flow", "deliver", str(app["id"]), *files)
    assert code == 0 and len(out["deliveries"]) == 4
    code, _, err = run(capsys, "flow", "deliver", str(app["id"]), files[0], files[1])  # 6000 > 5000
    assert code == 8 and "VolumeExceeded" in err

    code, check, _ = run(capsys, "--as", "CAC", "flow", "check", "announce", "1", "--sample", "2")
    assert code == 0 and check["state"] == "announced"
    code, check, _ = run(capsys, "flow", "check", "draw", str(check["id"]))
    assert check["state"] == "drawn" and len(check["sample"]) == 2
    answers = env / "answers.json"
    assert run(capsys, "flow", "check", "answer", str(check["id"]), "--out", str(answers))[0] == 0
    assert run(capsys, "--as", "CAC", "flow", "check", "take-answers", str(check["id"]), str(answers))[0] == 0
    code, done, _ = run(capsys, "--as", "CAC", "flow", "check", "conclude", str(check["id"]))
    assert code == 0 and (done["report"]["passed"], done["report"]["failed"]) == (2, 0)
    report = env / "report.json"
    run(capsys, "flow", "check", "report", str(check["id"]), "--out", str(report))
    assert run(capsys, "flow", "check", "verify", str(report))[1]["valid"]
    doc = json.loads(report.read_text())
    doc["sample"].reverse()
    report.write_text(json.dumps(doc))
    out = run(capsys, "flow", "check", "verify", str(report))[1]
    assert not out["valid"] and any("differs" in p for p in out["problems"])
