"""A partner follows the federation's chain by subscription: with ``[chain] ws`` set, node B's follower is woken by
each new head pushed over the WebSocket, so a registration at A becomes verifiable at B without B polling; when
the socket is cut, B falls back to polling at its interval, and it subscribes again when the socket comes back.

B runs in this process (node A and C are the devnet's processes) so that its follower's counters can be read."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from provenance.api import ApiSettings, create_app
from provenance.config import NodeConfig
from provenance.services import follow
from provenance.store.keystore import PassphraseSource
from tests.support.cuttable_proxy import CuttableProxy, wait_for
from tests.support.devnet import DevnetClients, running_devnet

pytestmark = pytest.mark.slow


def _indexed(b: TestClient, token: str, rid: str) -> bool:
    """Whether B's index holds the record: the follower's work (a verification would sync the index by itself)."""
    return b.get(f"/api/v1/registrations/{rid}", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _verifiable(b: TestClient, token: str, cert: dict[str, Any]) -> bool:
    r = b.post("/api/v1/certificates/verify", json=cert, headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200 and bool(r.json()["valid"])


def _certified(fed: DevnetClients) -> tuple[str, dict[str, Any]]:
    rid = fed.register("SDE")
    cert = fed["SDE"].post("/certificates", json={"record": rid})
    assert cert.status_code == 201, cert.text
    return rid, dict(cert.json())


def test_b_is_woken_by_new_heads_and_polls_while_the_socket_is_cut(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # While subscribed, B's safety poll is a minute away: whatever B indexes within the test came by a pushed head.
    monkeypatch.setattr(follow, "SUBSCRIBED_POLL_S", 60.0)
    with running_devnet(tmp_path) as fed:
        net = fed.net
        fed.merchant("SDE")  # onboarded before B subscribes: the blocks that follow are the registrations'
        net.kill_node("ZJDE", signal.SIGTERM)
        proxy = CuttableProxy(("127.0.0.1", net.chain_port))
        b_dir = net.member("ZJDE").data_dir
        cfg = NodeConfig.load(b_dir)
        replace(cfg, chain=replace(cfg.chain, ws=proxy.ws_url)).save()
        settings = ApiSettings(data_dir=b_dir, rate_per_second=0, sync_interval=0.2,
                               passphrase=PassphraseSource(env=None, file=net.root / ".passphrase", prompt=False))
        app = create_app(settings)
        token = net.token("ZJDE")
        try:
            with TestClient(app, raise_server_exceptions=False) as b:
                runtime = app.state.runtime
                following = runtime.following

                def caught_up() -> bool:  # only B's follower moves B's index until B verifies something
                    return bool(runtime.index_state()["checkpoint"] == fed.chain.block_number())
                sub = wait_for(lambda: following.subscription, what="B's subscription")
                wait_for(lambda: following.subscribed, what="B subscribed")

                polled = following.polled
                rid, cert = _certified(fed)
                wait_for(lambda: _indexed(b, token, rid), timeout=30, what="B indexing A's record")
                wait_for(caught_up, timeout=30, what="B indexing the anchor's block too")
                assert following.woken >= 1 and sub.heads >= 2, "the registration's and the anchor's blocks were pushed"
                assert following.polled == polled, "no poll ran out while subscribed"
                assert _verifiable(b, token, cert)

                proxy.down()
                wait_for(lambda: not following.subscribed, what="the cut")
                wait_for(caught_up, what="B at the head")
                woken = following.woken
                rid, cert = _certified(fed)
                wait_for(lambda: _indexed(b, token, rid), timeout=30, what="B indexing it by polling")
                assert following.woken == woken, "nothing was pushed while the socket was down"
                assert following.polled > polled, "B polled at its interval"
                assert _verifiable(b, token, cert)

                proxy.up()
                wait_for(lambda: sub.connected and sub.connects == 2, what="B subscribed again")
                polled = following.polled
                rid, cert = _certified(fed)
                wait_for(lambda: _indexed(b, token, rid), timeout=30, what="B indexing it, subscribed again")
                assert following.woken > woken
                assert following.polled <= polled + 1, "at most a wait begun before the reconnection ran out"
                assert _verifiable(b, token, cert)
                assert following.errors == 0
        finally:
            proxy.down()
        assert not sub.connected and not following.subscribed  # closed with the node
