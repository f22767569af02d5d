"""The command line: what an operator types, what they read back, and the exit codes scripts rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import run

ROOT = Path(__file__).resolve().parents[2]


def test_init_register_show_status(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")
    assert code == 0 and out["chain"] == "embedded"  # type: ignore[index]
    code, out, err = run(capsys, "init", "--exchange", "SDE", "--name", "again")
    assert code == 3 and "already initialised" in err

    assert run(capsys, "key", "new", "merchant")[0] == 0
    code, ent, _ = run(capsys, "entity", "add", "--identifier", "91310000MA1TEST01X", "--account-key", "merchant")
    assert code == 0 and ent["id"] == 1 and ent["registrar"] == 1  # type: ignore[index]
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "merchant")[0] == 0

    data = env.parent / "data.csv"
    data.write_text("a,b\n1,2\n")
    code, reg, _ = run(capsys, "register", "--kind", "resource", "--grade", "important", "--owner", "1",
                       "--file", str(data), "--rights", "holding,processing")
    assert code == 0
    rid = reg["id"]  # type: ignore[index]
    assert reg["record"]["grade"] == "important" and reg["record"]["rights"] == ["holding", "processing"]  # type: ignore[index]

    code, child, _ = run(capsys, "register", "--kind", "product", "--grade", "important", "--owner", "1",
                         "--content-hash", "0x" + "ab" * 32, "--parent", rid, "--owner-key", "merchant")
    assert code == 0 and child["record"]["parents"] == [rid]  # type: ignore[index]

    code, shown, _ = run(capsys, "show", rid)
    assert code == 0 and shown["status"] == "active"  # type: ignore[index]
    assert run(capsys, "status", rid, "revoked", "--reason", "licence withdrawn")[0] == 0
    code, lineage, _ = run(capsys, "lineage", child["id"])  # type: ignore[index]
    assert code == 0 and lineage["inactive_ancestors"] == [rid]  # type: ignore[index]

    # A contract's refusal: exit code 8, decoded by name, as JSON on stderr.
    code, _, err = run(capsys, "status", rid, "active")
    assert code == 8
    doc = json.loads(err)
    assert doc["revert"]["error"] == "InvalidStatusTransition"

    code, info, _ = run(capsys, "info")
    assert code == 0 and info["counts"] == {"entities": 1, "registrations": 2}  # type: ignore[index]


@pytest.mark.parametrize(("args", "code", "needle"), [
    (["show", "0x1234"], 2, "64 hex digits"),
    (["show", "0x" + "00" * 32], 4, "no record"),
    (["register", "--kind", "dataset", "--owner", "1", "--content-hash", "0x" + "11" * 32], 2, "invalid kind"),
    (["register", "--kind", "resource", "--owner", "1", "--content-hash", "0x" + "11" * 32], 8, "NoMandate"),
    (["status", "0x" + "00" * 32, "gone"], 2, "invalid status"),
    (["entity", "show", "42"], 4, "no entity with id 42"),
    (["exchange", "show", "NOPE"], 4, "no exchange with code"),
    (["entity", "add", "--identifier", "X", "--account", "0x1234"], 2, "40 hex digits"),
])
def test_bad_input_gets_a_clear_error(env: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int,
                                      needle: str) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    got, _, err = run(capsys, *args)
    assert got == code and needle in err, err


def test_uninitialised_directory(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "info")
    assert code == 3 and "provenance init" in err


def test_wrong_passphrase(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "not-it")
    code, _, err = run(capsys, "entity", "add", "--identifier", "X", "--account", "0x" + "11" * 20)
    assert code == 6 and "wrong passphrase" in err and "not-it" not in err


def test_locked_data_directory(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.services.node import DataDirLock

    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    lock = DataDirLock(env)
    try:
        code, _, err = run(capsys, "info")
        assert code == 5 and "in use by another process" in err and str(os.getpid()) in err
    finally:
        lock.release()
    assert run(capsys, "info")[0] == 0


def test_demo_runs_twice_and_keeps_its_state(tmp_path: Path) -> None:
    """The README's first command, end to end in a real process (the second run only reports)."""
    env = dict(os.environ, PROVENANCE_PASSPHRASE="demo", PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "provenance.cli", "--data-dir", str(tmp_path / "demo"), "--json", "demo",
           "--scrypt-n", "1024"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["counts"] == {"entities": 6, "registrations": 7}  # 3 merchants, 3 property institutions
    assert summary["federation"]["threshold"] == 2 and len(summary["federation"]["exchanges"]) == 3
    assert summary["lineage"]["port-energy-model"]["inactive_ancestors"] == [summary["records"]["factory-energy-use"]]
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == summary
    assert second.stderr == ""


def test_governance_and_key_rotation_commands(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai", "--scrypt-n", "1024")[0] == 0
    zj = run(capsys, "key", "new", "ZJ")[1]["address"]  # type: ignore[index]
    code, out, _ = run(capsys, "exchange", "propose-add", "ZJDE", "Zhejiang", zj)
    assert code == 0 and out["executed"] is True  # type: ignore[index]
    assert run(capsys, "exchange", "propose-threshold", "2")[1]["executed"] is True  # type: ignore[index]
    ah = run(capsys, "key", "new", "AH")[1]["address"]  # type: ignore[index]
    code, out, _ = run(capsys, "exchange", "propose-add", "AHDE", "Anhui", ah)
    assert (out["approvals"], out["executed"]) == (1, False)  # type: ignore[index]
    code, out, err = run(capsys, "exchange", "approve", str(out["proposal_id"]))  # type: ignore[index]
    assert code == 8 and json.loads(err)["revert"]["error"] == "AlreadyApproved"
    code, out, _ = run(capsys, "--as", "ZJ", "exchange", "approve", "3")
    assert code == 0 and out["executed"] is True  # type: ignore[index]
    codes = [e["code"] for e in run(capsys, "exchange", "list")[1]]  # type: ignore[union-attr]
    assert codes == ["SDE", "ZJDE", "AHDE"]
    assert [p["executed"] for p in run(capsys, "exchange", "proposals")[1]] == [True, True, True]  # type: ignore[union-attr]

    old = run(capsys, "info")[1]["key"]["address"]  # type: ignore[index]
    code, out, _ = run(capsys, "key", "rotate", "SDE-2")
    assert code == 0 and out["revoked"] == old  # type: ignore[index]
    assert run(capsys, "info")[1]["key"]["label"] == "SDE-2"  # type: ignore[index]
    keys = {k["label"]: k for k in run(capsys, "key", "list")[1]}  # type: ignore[union-attr]
    assert keys["SDE"]["valid"] is False and keys["SDE-2"]["valid"] is True and keys["SDE-2"]["exchange"] == "SDE"
    shown = run(capsys, "exchange", "show", "SDE")[1]
    assert [k["valid_to"] == 0 for k in shown["keys"]] == [False, True]  # type: ignore[index]
    code, _, err = run(capsys, "--as", "SDE", "entity", "add", "--identifier", "X", "--account", zj)
    assert code == 8 and "NotExchangeKey" in err


def test_index_commands(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    assert run(capsys, "key", "new", "m")[0] == 0
    assert run(capsys, "entity", "add", "--identifier", "U1", "--account-key", "m")[0] == 0
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "m")[0] == 0
    ids = []
    for i in range(3):
        extra = ["--parent", ids[-1]] if ids else []
        code, out, _ = run(capsys, "register", "--kind", "resource" if not ids else "product", "--owner", "1",
                           "--content-hash", "0x" + f"{i + 1:02x}" * 32, *extra)
        assert code == 0
        ids.append(out["id"])  # type: ignore[index]
    code, st, _ = run(capsys, "index", "sync")
    assert code == 0 and st["records"] == 3 and st["lag"] == 0  # type: ignore[index]
    code, lin, _ = run(capsys, "lineage", ids[2])
    assert [n["id"] for n in lin["nodes"]] == [ids[2], ids[1], ids[0]]  # type: ignore[index]
    assert run(capsys, "status", ids[0], "revoked")[0] == 0
    code, imp, _ = run(capsys, "impact", ids[0])  # syncs first: sees the revocation
    assert imp["inactive"] is True and set(imp["affected"]) == {ids[1], ids[2]}  # type: ignore[index]
    assert run(capsys, "path", ids[2], ids[0])[1]["path"] == ids[::-1]  # type: ignore[index]
    code, _, err = run(capsys, "path", ids[0], ids[2])
    assert code == 4 and "not an ancestor" in err
    found = run(capsys, "search", "--kind", "product", "--status", "active")[1]["results"]  # type: ignore[index]
    assert [r["id"] for r in found] == ids[1:]
    prov = run(capsys, "lineage", ids[2], "--format", "prov")[1]
    assert len(prov["entity"]) == 3 and len(prov["wasDerivedFrom"]) == 2  # type: ignore[index]
    runs = run(capsys, "lineage", ids[2], "--format", "openlineage")[1]
    assert len(runs) == 2 and all(r["eventTime"].endswith("Z") and r["eventTime"][:2] == "20" for r in runs)  # type: ignore[union-attr,index]
    before = run(capsys, "index", "status")[1]
    code, rebuilt, _ = run(capsys, "index", "rebuild")
    assert code == 0 and rebuilt["records"] == 3 and rebuilt["checkpoint"] == before["checkpoint"]  # type: ignore[index]


def test_a_signed_registration_file_carries_the_document_a_wallet_signs(env: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")[0] == 0
    assert run(capsys, "key", "new", "owner")[0] == 0
    code, ent, _ = run(capsys, "entity", "add", "--identifier", "91310000MA1SIGN01X", "--account-key", "owner")
    assert code == 0
    signed = env.parent / "signed.json"
    code, _, err = run(capsys, "sign", "--kind", "resource", "--owner", str(ent["id"]),  # type: ignore[index]
                       "--content-hash", "0x" + "5a" * 32, "--registrar", "SDE", "--owner-key", "owner",
                       "--out", str(signed))
    assert code == 0, err
    doc = json.loads(signed.read_text())
    # The signature recovers to the owner's account from the typed-data document alone (eth-account's full message).
    owner = Account.recover_message(encode_typed_data(full_message=doc["typedData"]), signature=doc["signature"])
    assert owner.lower() == ent["account"]  # type: ignore[index]
    code, reg, err = run(capsys, "register", "--kind", "resource", "--owner", str(ent["id"]),  # type: ignore[index]
                         "--content-hash", "0x" + "5a" * 32, "--signed", str(signed))
    assert code == 0, err
    assert reg["record"]["owner"] == ent["id"]  # type: ignore[index]
