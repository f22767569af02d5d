"""List once, circulate across the chain: a listing registered at one exchange's node is in every node's catalogue,
found there by a Chinese and an English word, still shown when its registrar's node is down, rebuilt from the chain
by a node that joins later, and never shown when its document was tampered with on the way (counted instead).

Three `provenance serve` processes on a Hardhat chain (`provenance devnet`), talked to over HTTP only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenance.dev.devnet import free_port
from tests.support.devnet import DevnetClients, eventually, running_devnet
from tests.support.tamper_proxy import TamperingProxy

pytestmark = pytest.mark.slow

TITLE_ZH = "长三角港口集装箱吞吐量指数"
TITLE_EN = "Yangtze Delta container throughput index"


def listing_document(owner: int) -> dict[str, Any]:
    return {
        "title": {"zh": TITLE_ZH, "en": TITLE_EN},
        "description": {"zh": "上海港、宁波舟山港月度集装箱吞吐量，按航线汇总。",
                        "en": "Monthly container throughput of the ports of Shanghai and Ningbo-Zhoushan, by route."},
        "publisher": owner,
        "keywords": ["集装箱", "港口", "container", "port"],
        "themes": ["shipping", "yangtze-delta"],
        "accrualPeriodicity": "monthly",
        "distributions": [{"format": "CSV", "mediaType": "text/csv", "byteSize": 1_048_576, "delivery": "file"}],
    }


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetClients]:
    with running_devnet(tmp_path_factory.mktemp("catalog-federation")) as clients:
        yield clients


def found(client: httpx.Client, query: str, rid: str) -> dict[str, Any] | None:
    r = client.get("/catalog/search", params={"q": query})
    assert r.status_code == 200, r.text
    return next((x for x in r.json()["items"] if x["id"] == rid), None)


class ExtraNode:
    """A node that joins later: AHDE's key and configuration, a fresh data directory (so a fresh index), its own
    process, and optionally its own JSON-RPC endpoint."""

    def __init__(self, fed: DevnetClients, data: Path, *, rpc_url: str | None = None) -> None:
        src = fed.net.member("AHDE").data_dir
        data.mkdir()
        shutil.copytree(src / "keystore", data / "keystore")
        toml = (src / "node.toml").read_text()
        if rpc_url is not None:
            toml = toml.replace(f'rpc_url = "{fed.net.chain_url}"', f'rpc_url = "{rpc_url}"')
            assert rpc_url in toml
        (data / "node.toml").write_text(toml)
        self.url = f"http://127.0.0.1:{free_port()}"
        log = open(data / "serve.log", "w")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "provenance.cli", "--data-dir", str(data), "serve", "--host", "127.0.0.1",
             "--port", self.url.rsplit(":", 1)[1]],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PROVENANCE_PASSPHRASE=fed.net.passphrase))
        log.close()
        self.client = httpx.Client(base_url=self.url + "/api/v1", timeout=60)

        def up() -> bool:
            assert self.proc.poll() is None, (data / "serve.log").read_text()[-2000:]
            try:
                return httpx.get(self.url + "/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        eventually(up, timeout=90, what="the late node answering")

    def caught_up(self, head: int) -> bool:
        index = httpx.get(self.url + "/health", timeout=5).json()["index"]
        return bool(index["checkpoint"] >= head and index["lag"] == 0)

    def close(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_a_listing_at_a_is_found_at_b_and_c_survives_a_stopping_and_reaches_a_late_node(fed: DevnetClients,
                                                                                       tmp_path: Path) -> None:
    owner = fed.merchant("SDE")
    rid = fed.register("SDE", metadata=listing_document(owner))
    for code in ("ZJDE", "AHDE"):
        for query in ("集装箱吞吐", "港口", "throughput", "Yangtze"):
            hit = eventually(lambda c=code, q=query: found(fed[c], q, rid), what=f"{code} finding {query!r}")
            assert hit["title"] == {"zh": TITLE_ZH, "en": TITLE_EN}
            assert hit["registrar"] == "SDE" and hit["metadata"] == "supplied"
        # A board filter and the document itself, as the partner's own copy.
        assert found(fed[code], "集装箱", rid) is not None
        r = fed[code].get("/catalog/search", params={"board": "shipping"})
        assert rid in [x["id"] for x in r.json()["items"]], r.text
        doc = fed[code].get(f"/registrations/{rid}/metadata")
        assert doc.status_code == 200 and doc.json()["title"]["zh"] == TITLE_ZH, doc.text

    # A stops: B still shows the listing, from its own index of the chain.
    fed.net.kill_node("SDE", signal.SIGTERM)
    with pytest.raises(httpx.TransportError):
        fed["SDE"].get("/health")
    assert found(fed["ZJDE"], "吞吐量", rid) is not None
    head = fed.chain.block_number()

    # A node that joins while A is down rebuilds A's general-grade listings from the chain alone.
    late = ExtraNode(fed, tmp_path / "late")
    try:
        eventually(lambda: late.caught_up(head), timeout=120, what="the late node catching up")
        hit = eventually(lambda: found(late.client, "集装箱", rid), what="the late node finding the listing")
        assert hit["title"]["en"] == TITLE_EN
    finally:
        late.close()

    # A node whose endpoint tampers with the documents on the way never shows them, and counts them.
    proxy = TamperingProxy(fed.net.chain_url)
    tampered = ExtraNode(fed, tmp_path / "tampered", rpc_url=proxy.url)
    try:
        eventually(lambda: tampered.caught_up(head), timeout=120, what="the tampered node catching up")
        assert proxy.tampered >= 1
        assert tampered.client.get(f"/registrations/{rid}").status_code == 200  # the record itself is on chain
        assert found(tampered.client, "throughput", rid) is None
        meta = tampered.client.get(f"/registrations/{rid}/metadata")
        assert meta.status_code == 404, meta.text
        metrics = httpx.get(tampered.url + "/metrics", timeout=5).text
        line = next(x for x in metrics.splitlines() if x.startswith("provenance_catalog_documents_rejected_total"))
        assert float(line.split()[-1]) >= 1, line
    finally:
        tampered.close()
        proxy.close()
    fed.net.start_node("SDE")
    fed.clients["SDE"] = fed.client("SDE")
