"""The development federation on anvil outlives `devnet down`: its chain state is kept in a file, and `up` resumes
the same federation (genesis, contracts, records, each node's index and keys) instead of starting a new one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import ChainError
from tests.support.devnet import DevnetClients, eventually, start_devnet

pytestmark = pytest.mark.slow


def test_down_then_up_resumes_the_same_federation_with_its_records_and_certificates(tmp_path: Path) -> None:
    net = start_devnet(tmp_path, chain="anvil")
    fed = DevnetClients(net)
    try:
        rid = fed.register("SDE")
        cert = fed["SDE"].post("/certificates", json={"record": rid})
        assert cert.status_code == 201, cert.text
        eventually(lambda: fed["ZJDE"].get(f"/registrations/{rid}").status_code == 200, what="B indexing A's record")
        before = net.state()
        head = fed.chain.block_number()
    finally:
        try:
            fed.close()
        finally:
            net.down(say=lambda _m: None)
    assert (tmp_path / "chain" / "state.json").stat().st_size > 0

    said: list[str] = []
    net.up(say=said.append)
    fed = DevnetClients(net)
    try:
        assert any("resumed the federation" in m for m in said), said
        after = net.state()
        assert after["contracts"] == before["contracts"] and after["genesis"] == before["genesis"]
        assert not list(tmp_path.glob("previous-*")), "resuming must not move the data directories aside"
        assert fed.chain.block_number() >= head
        # What was registered before `down` is still there, at B too, and A's certificate still verifies at B.
        assert fed["ZJDE"].get(f"/registrations/{rid}").status_code == 200
        report = eventually(lambda: (r := fed["ZJDE"].post("/certificates/verify", json=cert.json()).json())["valid"]
                            and r, what="the certificate verifying at B after the restart")
        assert report["mode"] == "online"
        # And the federation carries on: a new merchant and a new record at A, indexed at C.
        rid2 = fed.register("SDE")
        eventually(lambda: fed["AHDE"].get(f"/registrations/{rid2}").status_code == 200, what="C indexing it")
    finally:
        try:
            fed.close()
        finally:
            net.down(say=lambda _m: None)


def test_a_saved_chain_of_another_genesis_is_refused_not_mixed_with_the_data_directories(tmp_path: Path) -> None:
    net = start_devnet(tmp_path, chain="anvil")
    net.down(say=lambda _m: None)
    state = json.loads((tmp_path / "devnet.json").read_text())
    state["genesis"] = "0x" + "11" * 32
    (tmp_path / "devnet.json").write_text(json.dumps(state))
    with pytest.raises(ChainError, match="genesis"):
        net.up(say=lambda _m: None)
    assert not json.loads((tmp_path / "devnet.json").read_text()).get("nodes"), "no node was left running"
