"""Batches, logs and certificates from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run


def test_batch_import_log_and_certificate_round_trip(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai", "--scrypt-n", "1024")[0] == 0
    assert run(capsys, "key", "new", "merchant")[0] == 0
    assert run(capsys, "entity", "add", "--identifier", "91310000MA1TEST01X", "--account-key", "merchant")[0] == 0
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "merchant")[0] == 0
    code, direct, _ = run(capsys, "register", "--kind", "resource", "--owner", "1", "--content-hash", "0x" + "11" * 32)
    assert code == 0
    rows = [{"kind": "product", "owner": 1, "contentHash": "0x" + f"{i:064x}", "parents": [direct["id"]]}  # type: ignore[index]
            for i in range(1, 6)]
    rows.append({"kind": "product", "grade": "core", "owner": 1, "contentHash": "0x" + "22" * 32})
    batch = env.parent / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    code, out, _ = run(capsys, "batch", "import", str(batch), "--batch-size", "3")
    assert code == 0, out
    assert out["queued"] == 5 and out["batches"] == 2 and out["tree_size"] == 6  # type: ignore[index]
    assert out["refused_at_intake"][0]["error"] == "CoreNotListable"  # type: ignore[index]
    bad = env.parent / "bad.jsonl"
    bad.write_text('{"kind": "resource", "owner": 1}\n')
    code, _, err = run(capsys, "batch", "import", str(bad))
    assert code == 2 and "bad.jsonl:1: contentHash is missing" in err

    code, log, _ = run(capsys, "log", "show", "SDE")
    assert code == 0 and log["size"] == 6 and log["anchored"][-1]["treeSize"] == 6  # type: ignore[index]
    assert run(capsys, "log", "anchor")[0] == 0  # already anchored at 6: returns that checkpoint
    code, proof, _ = run(capsys, "log", "proof", out["ids"][0])  # type: ignore[index]
    assert code == 0 and proof["leafIndex"] == 1 and proof["treeSize"] == 6  # type: ignore[index]
    code, cons, _ = run(capsys, "log", "consistency", "SDE", "4", "6")
    assert code == 0 and len(cons["proof"]) >= 1  # type: ignore[index]

    cert = env.parent / "cert.json"
    assert run(capsys, "cert", "issue", out["ids"][0], "--out", str(cert))[0] == 0  # type: ignore[index]
    code, report, _ = run(capsys, "cert", "verify", str(cert))
    assert code == 0 and report["valid"] and report["mode"] == "online"  # type: ignore[index]
    snap = env.parent / "snapshot.json"
    assert run(capsys, "snapshot", "--out", str(snap))[0] == 0
    code, report, _ = run(capsys, "cert", "verify", str(cert), "--offline", "--snapshot", str(snap))
    assert code == 0 and report["mode"] == "offline"  # type: ignore[index]

    doc = json.loads(cert.read_text())
    doc["credentialSubject"]["record"]["owner"] = 2
    cert.write_text(json.dumps(doc))
    code, _, err = run(capsys, "cert", "verify", str(cert))
    assert code == 9 and "NOT valid" in err and "signature" in err
    assert run(capsys, "cert", "issue", out["ids"][1], "--out", str(cert))[0] == 0  # type: ignore[index]
    assert run(capsys, "status", direct["id"], "revoked")[0] == 0  # type: ignore[index]
    code, _, err = run(capsys, "cert", "verify", str(cert))
    assert code == 9 and "lineage" in err and "revoked" in err
    code, _, err = run(capsys, "cert", "issue", out["ids"][2])  # type: ignore[index]
    assert code == 2 and "derives from revoked record" in err

    # Issued certificates are kept: listed newest first and downloadable by credential hash.
    code, listed, _ = run(capsys, "cert", "list")
    assert code == 0 and len(listed) == 2  # type: ignore[arg-type]
    code, shown, _ = run(capsys, "cert", "show", listed[0]["credentialHash"])  # type: ignore[index]
    assert code == 0 and shown["credentialSubject"]["record"]["id"] == listed[0]["record"]  # type: ignore[index]
    assert run(capsys, "cert", "show", "0x" + "00" * 32)[0] == 4
    code, recognitions, _ = run(capsys, "cert", "recognitions", listed[0]["credentialHash"])  # type: ignore[index]
    assert code == 0 and recognitions == []


def test_api_tokens_are_created_once_listed_without_secrets_and_revoked(env: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.api.auth import TokenStore

    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")[0] == 0
    code, made, _ = run(capsys, "token", "create", "--role", "registrar", "--name", "desk")
    assert code == 0 and made["token"].startswith("pvt_")  # type: ignore[index]
    assert run(capsys, "token", "create", "--role", "registrar", "--name", "desk")[0] == 2  # names are unique
    assert run(capsys, "token", "create", "--role", "merchant", "--name", "m")[0] == 2  # needs --entity
    code, listed, _ = run(capsys, "token", "list")
    assert code == 0 and [t["name"] for t in listed] == ["desk"]  # type: ignore[union-attr]
    stored = (env / "api-tokens.json").read_text()
    assert made["token"] not in stored and "token" not in listed[0]  # type: ignore[index]
    assert TokenStore(env).lookup(made["token"]).role == "registrar"  # type: ignore[index,union-attr]
    assert run(capsys, "token", "revoke", "desk")[0] == 0
    assert TokenStore(env).lookup(made["token"]) is None  # type: ignore[index]
    assert run(capsys, "token", "revoke", "desk")[0] == 4
