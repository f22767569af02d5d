"""The Besu QBFT profile (node/besu/) read with code that is not ours: the genesis extraData decoded by the ``rlp``
package into the four validators of the committed list, the genesis JSON holding what Besu reads (milestones up
to Cancun at genesis, the qbft section, free gas, the BFT mixHash), and make-genesis.py regenerating the
committed file byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import is_checksum_address

BESU = Path(__file__).resolve().parents[2] / "node" / "besu"
SCRIPT = BESU / "make-genesis.py"
BFT_MIX_HASH = "0x" + b"ctical byzantine fault tolerance".hex()  # Besu's BftHelpers.EXPECTED_MIX_HASH


def _genesis() -> dict[str, Any]:
    return json.loads((BESU / "genesis.json").read_text("utf-8"))


def _validators() -> list[dict[str, str]]:
    return json.loads((BESU / "validators.json").read_text("utf-8"))["validators"]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60)


def test_extra_data_decodes_into_exactly_the_four_committed_validators() -> None:
    extra = bytes.fromhex(_genesis()["extraData"].removeprefix("0x"))
    decoded = rlp.decode(extra)
    assert isinstance(decoded, list) and len(decoded) == 5, "QBFT extraData is [vanity, validators, vote, round, seals]"
    vanity, validators, vote, round_, seals = decoded
    assert vanity == bytes(32)
    assert validators == [bytes.fromhex(v["address"][2:]) for v in _validators()]
    assert len(validators) == 4 and len(set(validators)) == 4
    assert vote == [] and seals == []
    assert round_ == b"", "round 0 is the empty scalar (writeIntScalar(0)), not four zero bytes"
    assert rlp.encode(decoded) == extra, "canonical RLP: re-encoding gives the same bytes"


def test_the_genesis_is_what_besu_reads_for_a_cancun_qbft_chain_with_free_gas() -> None:
    g = _genesis()
    config = g["config"]
    assert isinstance(config["chainId"], int) and config["chainId"] not in (1, 1502, 31337)
    for fork in ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
                 "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock"):
        assert config[fork] == 0, fork
    assert config["shanghaiTime"] == 0 and config["cancunTime"] == 0
    assert "pragueTime" not in config
    assert not {"clique", "ibft2", "ethash"} & set(config), "exactly one consensus section"
    qbft = config["qbft"]
    assert set(qbft) == {"blockperiodseconds", "epochlength", "requesttimeoutseconds"}
    assert all(isinstance(v, int) and v > 0 for v in qbft.values())
    assert qbft["requesttimeoutseconds"] > qbft["blockperiodseconds"]
    assert config["zeroBaseFee"] is True and g["alloc"] == {}
    assert g["mixHash"] == BFT_MIX_HASH and int(g["difficulty"], 16) == 1 and int(g["nonce"], 16) == 0
    # The largest transactions (README): registerEntities of 150 at ~78,200 gas each, and anchorBatch of the API's
    # largest batch, 5,000 records at ~4,400 gas each.
    assert int(g["gasLimit"], 16) >= max(150 * 78_200, 5_000 * 4_400) * 2


def test_the_committed_validators_are_the_published_development_keys() -> None:
    for v in _validators():
        assert is_checksum_address(v["address"]), v
        key = keccak(b"provenance besu development validator " + v["name"].encode())
        assert Account.from_key(key).address == v["address"], v["name"]
    assert [v["name"] for v in _validators()] == ["SDE", "ZJDE", "AHDE", "SUP"]


def test_make_genesis_regenerates_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "genesis.json"
    done = _run("--validators", BESU / "validators.json", "--out", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == (BESU / "genesis.json").read_bytes()
    assert _run("--check").returncode == 0
    out.write_text(out.read_text().replace('"blockperiodseconds": 2', '"blockperiodseconds": 3'))
    assert _run("--out", out, "--check").returncode == 1


def test_make_genesis_writes_the_development_key_files(tmp_path: Path) -> None:
    assert _run("--dev-keys", tmp_path).returncode == 0
    for v in _validators():
        key = (tmp_path / v["name"] / "key").read_text()
        assert Account.from_key(key).address == v["address"]
        assert (tmp_path / v["name"] / "key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("change", ["three", "duplicate", "bad-address"])
def test_make_genesis_refuses_a_list_that_cannot_make_a_qbft_network(tmp_path: Path, change: str) -> None:
    validators = _validators()
    if change == "three":
        validators = validators[:3]
    elif change == "duplicate":
        validators = [*validators[:3], {"name": "X", "address": validators[0]["address"]}]
    else:
        validators = [*validators[:3], {"name": "X", "address": "0x1234"}]
    path = tmp_path / "validators.json"
    path.write_text(json.dumps({"validators": validators}))
    done = _run("--validators", path, "--out", tmp_path / "genesis.json")
    assert done.returncode == 2 and "make-genesis:" in done.stderr
    assert not (tmp_path / "genesis.json").exists()
