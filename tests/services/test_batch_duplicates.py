"""Batch intake refuses a copy of a record sealed moments earlier, before the index has applied its batch: from an
earlier sub-batch of the same request, from an earlier request or intake, from a batch whose transaction may still
be mined. A leaf the index rejects stays in the exchange's log for good, so nothing the intake can know is invalid
may be sealed. The sealed view lasts until the index has judged the batch, and no longer (a reorg drops it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.chain.contracts import Contracts, TxResult
from provenance.core.ids import hex0x, record_id
from provenance.errors import ChainUnavailable, TransactionTimeout
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.services.batching import BatchIntake, RuleViolation
from provenance.services.operations import Operations
from provenance.services.requests import request_from_json
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import Status
from tests.support.demo_node import demo_operations
from tests.support.federation import Fed, request


@pytest.fixture
def ops(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Operations]:
    with demo_operations(demo_dir, tmp_path) as o:
        yield o


def _record(owner: int = 1) -> Any:
    return request_from_json({"kind": "resource", "owner": owner, "contentHash": "0x" + os.urandom(32).hex()}, "r")


def _outcomes(store: IndexStore, exchange: int, start: int) -> list[int]:
    logs = LogQueries(store)
    return [logs.leaf(exchange, i).outcome for i in range(start, logs.size(exchange))]


def test_a_copy_in_a_later_sub_batch_is_refused_at_intake(ops: Operations) -> None:
    """The hostile tester's request: the same contentHash twice, one record per sub-batch."""
    ex = ops.exchange_id
    before = LogQueries(ops.node.index).size(ex)
    r = _record()
    out = ops.batch([r, r], batch_size=1)
    assert out["rejected_by_index"] == []
    assert [(x["index"], x["error"]) for x in out["refused_at_intake"]] == [(1, "AlreadyRegistered")]
    assert out["queued"] == 1 and [x["index"] for x in out["accepted"]] == [0]
    assert _outcomes(ops.node.index, ex, before) == [K.LEAF_RECORD]


def test_a_refused_item_is_named_with_the_item_it_copies(ops: Operations) -> None:
    ex = ops.exchange_id
    before = LogQueries(ops.node.index).size(ex)
    a, b, c = _record(), _record(), _record()
    out = ops.batch([a, b, a, c, b], batch_size=2)  # sub-batches [a, b] [a, c] [b]: each copy in a later one
    rid_a, rid_b = out["accepted"][0]["id"], out["accepted"][1]["id"]
    assert out["refused_at_intake"] == [
        {"index": 2, "error": "AlreadyRegistered",
         "detail": f"AlreadyRegistered(id={rid_a}): the same record as item 0 of this request"},
        {"index": 4, "error": "AlreadyRegistered",
         "detail": f"AlreadyRegistered(id={rid_b}): the same record as item 1 of this request"},
    ]
    assert out["rejected_by_index"] == [] and [x["index"] for x in out["accepted"]] == [0, 1, 3]
    assert _outcomes(ops.node.index, ex, before) == [K.LEAF_RECORD] * 3


def test_a_retried_request_refuses_what_the_first_sealed_before_the_index_applied_it(
        ops: Operations, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first request anchors its batch, then fails catching the index up (the endpoint went away); the client
    retries the same records before anything has synced."""
    ex = ops.exchange_id
    before = LogQueries(ops.node.index).size(ex)
    a, b = _record(), _record()

    def gone(*_a: Any, **_k: Any) -> None:
        raise ChainUnavailable("the chain endpoint went away")

    monkeypatch.setattr(ops.follower, "sync", gone)
    with pytest.raises(ChainUnavailable):
        ops.batch([a, b], batch_size=1)
    monkeypatch.undo()
    assert LogQueries(ops.node.index).size(ex) == before  # anchored, not applied
    out = ops.batch([b, a])
    assert out["queued"] == 0 and out["rejected_by_index"] == []
    assert [(x["index"], x["error"]) for x in out["refused_at_intake"]] == [(0, "AlreadyRegistered"),
                                                                           (1, "AlreadyRegistered")]
    assert out["refused_at_intake"][0]["detail"].endswith(
        f": sealed at leaf {before + 1} of exchange {ex}'s log in block {ops.node.chain.block_number()}, which the "
        "index has not applied yet")
    assert _outcomes(ops.node.index, ex, before) == [K.LEAF_RECORD] * 2


@pytest.fixture
def index(fed: Fed, tmp_path: Path) -> Iterator[tuple[IndexStore, Follower]]:
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    try:
        yield store, follower
    finally:
        store.close()


def _intake(fed: Fed, store: IndexStore) -> BatchIntake:
    # As a node makes one per request: its own follower, on the node's one index.
    return BatchIntake(contracts=fed.contracts, store=store, signer=fed.keys["SDE"], exchange=1,
                       follower=Follower(chain=fed.chain, contracts=fed.contracts, store=store))


def test_another_intake_judges_against_what_one_sealed_until_the_index_applies_it(
        fed: Fed, index: tuple[IndexStore, Follower], monkeypatch: pytest.MonkeyPatch) -> None:
    store, follower = index
    owner, _ = fed.entity("SDE")
    first, second = _intake(fed, store), _intake(fed, store)
    r = request(owner)
    sealed = first.submit(r)
    first.seal()
    rid = sealed.result().record_id
    with pytest.raises(RuleViolation, match="AlreadyRegistered") as refused:
        second.submit(r)
    assert refused.value.note == (f"sealed at leaf {sealed.result().leaf_index} of exchange 1's log in block "
                                  f"{sealed.result().block_number}, which the index has not applied yet")
    assert second.pending() == 0
    # A child of the sealed record is judged against it, as the index will judge it, without a sync.
    synced: list[int] = []
    monkeypatch.setattr(second.follower, "sync", lambda *_a, **_k: synced.append(1))
    child = second.submit(request(owner, parents=(rid,)))
    assert synced == []
    monkeypatch.undo()
    second.seal()
    follower.sync()
    assert len(second.sealed) == 2  # both records, until a submission looks: then the index has both batches
    assert second.check(r) is not None and len(second.sealed) == 0
    assert _outcomes(store, 1, 0)[-2:] == [K.LEAF_RECORD, K.LEAF_RECORD]
    assert store.record(child.result().record_id).parents == (rid,)  # type: ignore[union-attr]


def test_a_batch_whose_receipt_never_came_counts_as_sealed(fed: Fed, index: tuple[IndexStore, Follower],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store, follower = index
    owner, _ = fed.entity("SDE")
    intake = _intake(fed, store)
    real = Contracts.transact

    def mined_but_unheard(self: Contracts, *args: Any, **kw: Any) -> TxResult:
        real(self, *args, **kw)
        raise TransactionTimeout("no receipt after 120s; it may still be mined")

    monkeypatch.setattr(Contracts, "transact", mined_but_unheard)
    r = request(owner)
    lost = intake.submit(r)
    intake.seal()
    with pytest.raises(TransactionTimeout):
        lost.result()
    monkeypatch.undo()
    first = LogQueries(store).size(1)
    with pytest.raises(RuleViolation, match="AlreadyRegistered") as refused:
        _intake(fed, store).submit(r)
    assert refused.value.note == f"sent in a batch whose transaction may still be mined (leaf {first} of exchange " \
                                 "1's log)"
    follower.sync()
    again = _intake(fed, store)
    with pytest.raises(RuleViolation, match="AlreadyRegistered") as indexed:
        again.submit(r)
    assert indexed.value.note == "" and len(again.sealed) == 0  # the index holds it now
    assert _outcomes(store, 1, first) == [K.LEAF_RECORD]


def test_a_batch_a_reorg_took_away_stops_counting_once_the_index_is_past_its_block(
        fed: Fed, index: tuple[IndexStore, Follower]) -> None:
    store, follower = index
    owner, _ = fed.entity("SDE")
    follower.sync()
    intake = _intake(fed, store)
    r = request(owner)
    orphan = intake.submit(r)
    intake.seal()
    block = orphan.result().block_number
    with pytest.raises(RuleViolation, match="AlreadyRegistered"):
        intake.submit(r)
    fed.chain.rewind(block - 1)
    fed.chain.mine(2)
    follower.sync()  # the index is past the batch's block, on a branch without it
    assert store.record(orphan.result().record_id) is None
    again = intake.submit(r)
    intake.seal()
    follower.sync()
    assert again.result().leaf_index == orphan.result().leaf_index
    assert _outcomes(store, 1, again.result().leaf_index) == [K.LEAF_RECORD]


def test_a_record_already_superseded_by_a_queued_or_sealed_entry_is_not_superseded_again(
        fed: Fed, index: tuple[IndexStore, Follower]) -> None:
    store, follower = index
    owner, _ = fed.entity("SDE")
    intake = _intake(fed, store)
    v1 = intake.submit(request(owner))
    w1 = intake.submit(request(owner))
    intake.seal()
    follower.sync()
    start = LogQueries(store).size(1)
    v2 = intake.submit(request(owner, supersedes=v1.result().record_id))
    intake.seal()  # sealed, not applied
    with pytest.raises(RuleViolation, match="InvalidStatusTransition") as sealed:
        _intake(fed, store).submit(request(owner, supersedes=v1.result().record_id))
    assert sealed.value.note.startswith(f"superseded by {hex0x(v2.result().record_id)}, sealed at leaf {start} ")
    w2 = request(owner, supersedes=w1.result().record_id)
    intake.submit(w2)
    with pytest.raises(RuleViolation, match="InvalidStatusTransition") as queued:
        intake.submit(request(owner, supersedes=w1.result().record_id))
    assert queued.value.note == f"superseded by {hex0x(record_id(1, w2.content_hash))}, queued for the next batch"
    intake.seal()
    follower.sync()
    assert _outcomes(store, 1, start) == [K.LEAF_RECORD, K.LEAF_RECORD]
    assert store.record(v1.result().record_id).status == Status.SUPERSEDED  # type: ignore[union-attr]
    assert store.record(w1.result().record_id).status == Status.SUPERSEDED  # type: ignore[union-attr]
