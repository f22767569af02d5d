"""Two exchanges' data directories on one JSON-RPC chain (Hardhat): deploy, attach, admit, register."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.chain.rpc import RpcChain
from provenance.cli import main


@pytest.fixture
def rpc_url(hardhat_url: str) -> Iterator[str]:
    chain = RpcChain(hardhat_url)
    snapshot = chain.request("evm_snapshot")
    yield hardhat_url
    chain.request("evm_revert", [snapshot])
    chain.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = main(["--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def test_deploy_attach_admit_register(rpc_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "pw")
    sde, zj = str(tmp_path / "sde"), str(tmp_path / "zj")
    chain = RpcChain(rpc_url)

    code, _, err = run(capsys, "--data-dir", sde, "init", "--exchange", "SDE", "--name", "Shanghai",
                       "--rpc-url", rpc_url, "--scrypt-n", "1024")
    assert code == 7 and "fund it and run init again" in err
    address = next((tmp_path / "sde" / "keystore").glob("SDE--*.json")).name.split("--")[1][:-5]
    chain.request("hardhat_setBalance", ["0x" + address, hex(10**21)])
    code, out, err = run(capsys, "--data-dir", sde, "init", "--exchange", "SDE", "--name", "Shanghai",
                         "--rpc-url", rpc_url, "--scrypt-n", "1024")
    assert code == 0, err
    contracts = out["contracts"]
    assert contracts["chain_id"] == 31337

    code, out, err = run(capsys, "--data-dir", zj, "init", "--exchange", "ZJDE", "--name", "Zhejiang",
                         "--rpc-url", rpc_url, "--federation", contracts["federation"],
                         "--registry", contracts["registry"], "--scrypt-n", "1024")
    assert code == 0, err
    zj_key = run(capsys, "--data-dir", zj, "info")[1]["key"]["address"]
    chain.request("hardhat_setBalance", [zj_key, hex(10**21)])
    code, _, err = run(capsys, "--data-dir", zj, "entity", "add", "--identifier", "X1", "--account", zj_key)
    assert code == 8 and "NotExchangeKey" in err  # not a member yet
    # The new member's key consents on its own node; the proposer carries the signature.
    zj_label = run(capsys, "--data-dir", zj, "info")[1]["key"]["label"]
    consent = run(capsys, "--data-dir", zj, "key", "consent", zj_label, "ZJDE", "Zhejiang")[1]["keySignature"]
    assert run(capsys, "--data-dir", sde, "exchange", "propose-add", "ZJDE", "Zhejiang", zj_key,
               "--key-signature", consent)[1]["executed"]
    code, ent, err = run(capsys, "--data-dir", zj, "entity", "add", "--identifier", "X1", "--account", zj_key)
    assert code == 0 and ent["registrar"] == 2, err
    assert run(capsys, "--data-dir", sde, "entity", "recognize", "1")[0] == 0

    # A node pointed at a chain without these contracts refuses to start.
    cfg = (tmp_path / "zj" / "node.toml").read_text()
    (tmp_path / "zj" / "node.toml").write_text(cfg.replace(contracts["registry"], "0x" + "42" * 20))
    code, _, err = run(capsys, "--data-dir", zj, "info")
    assert code == 7 and "no contract at the Registry address" in err
    chain.close()
