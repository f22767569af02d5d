"""A status change made through the node re-anchors its exchange's status lists, so a verifier without a snapshot
sees the revocation in a list whose hash is on-chain; if anchoring fails, the change still stands."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import status_list
from provenance.errors import ChainError
from provenance.services.node import Node
from provenance.services.operations import Operations
from tests.support.passphrase import passphrase


@pytest.fixture
def ops(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[tuple[Operations, dict[str, Any]]]:
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    node = Node.open(tmp_path / "data", passphrase(tmp_path))
    try:
        o = Operations(node)
        o.sync()
        yield o, demo
    finally:
        node.close()


def _own_record(o: Operations, demo: dict[str, Any]) -> bytes:
    for rid in demo["records"].values():
        rec = o.indexed(bytes.fromhex(rid[2:]))
        if rec.registrar == o.exchange_id and rec.status == 1:
            return bytes(rec.id)
    raise AssertionError("the demo has no active record of the node's own exchange")


@pytest.mark.parametrize("status, purpose", [("revoked", "revocation"), ("suspended", "suspension")])
def test_a_status_change_reanchors_the_lists(ops: tuple[Operations, dict[str, Any]], status: str,
                                             purpose: str) -> None:
    o, demo = ops
    rid = _own_record(o, demo)
    code = o.codes()[o.exchange_id]
    before, _ = o.certifier.current_status_list(code, purpose)
    seq = o.indexed(rid).seq
    assert not status_list.bit(status_list.decode(before["credentialSubject"]["encodedList"]), seq)
    o.set_status(rid, status, "a test")
    doc, anchored = o.certifier.current_status_list(code, purpose)
    assert anchored is not None, "the list carrying the change is not anchored on-chain"
    assert status_list.bit(status_list.decode(doc["credentialSubject"]["encodedList"]), seq)
    assert o.certifier.anchored_status_list(doc) == anchored


def test_the_change_stands_when_anchoring_fails(ops: tuple[Operations, dict[str, Any]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    o, demo = ops
    rid = _own_record(o, demo)

    def unreachable(_signer: Any) -> Any:
        raise ChainError("the chain cannot be reached")

    monkeypatch.setattr(o.certifier, "anchor_status_lists", unreachable)
    out = o.set_status(rid, "revoked", "a test")
    assert out["status"] == "revoked" and o.indexed(rid).status == 3
    code = o.codes()[o.exchange_id]
    doc, anchored = o.certifier.current_status_list(code, "revocation")
    assert anchored is None  # served, but not yet anchored: a verifier would not trust it
