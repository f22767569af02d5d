"""The batch intake refuses at once an entry naming an expired parent, as the register's ``checkParents`` refuses a
direct registration and every index refuses the batched entry after sealing: a person learns it on submission,
not from a rejected leaf."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.chain.property import PropertyDecision
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.indexer.property_queries import PropertyQueries
from provenance.services.batching import BatchIntake, RuleViolation
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import Kind
from tests.support.federation import Fed, request, reverts
from tests.support.property import DAY, World, make_world


@pytest.fixture
def intake(fed: Fed, tmp_path: Path) -> Iterator[tuple[World, BatchIntake, IndexStore]]:
    world = make_world(fed)
    world.prop.propose_decision(world.sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), 5 * DAY)
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    batch = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=world.sde, exchange=1,
                        max_records=100, max_delay_ms=60_000)
    try:
        yield world, batch, store
    finally:
        store.close()


def test_an_entry_naming_an_expired_parent_is_refused_on_submission(intake: tuple[World, BatchIntake, IndexStore],
                                                                    fed: Fed) -> None:
    world, batch, store = intake
    parent = world.record(kind=Kind.PRODUCT)
    batch.follower.sync()
    fresh = batch.submit(request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,)))
    batch.seal()
    start = world.now()
    fed.chain.clock = lambda: start + 6 * DAY
    with reverts("ParentExpired"):  # the contract's rule for a direct registration, at the new time
        fed.register("SDE", request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,)))
    world.record(kind=Kind.RESOURCE)  # a block at the new time: the head's clock has passed the parent's expiry
    batch.follower.sync()
    expires = PropertyQueries(store).view(parent, now=world.now()).expires_at  # type: ignore[union-attr]
    assert 0 < expires <= world.now()
    with pytest.raises(RuleViolation, match="ParentExpired") as refused:
        batch.submit(request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,)))
    assert refused.value.violation.args == {"parentId": parent, "expiresAt": expires}
    assert batch.pending() == 0  # nothing queued
    # The entry sealed before the expiry stands; a renewal the index has not seen yet is found by catching up.
    assert LogQueries(store).leaf(1, fresh.result(timeout=30).leaf_index).outcome == K.LEAF_RECORD
    world.prop.renew(world.sde, parent)
    later = batch.submit(request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,)))
    batch.seal()
    batch.follower.sync()
    assert LogQueries(store).leaf(1, later.result(timeout=30).leaf_index).outcome == K.LEAF_RECORD


def test_parents_without_a_term_ask_the_chain_nothing(intake: tuple[World, BatchIntake, IndexStore],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    world, batch, _ = intake
    parent = world.record(kind=Kind.RESOURCE)  # a resource's term is 0: it never expires
    batch.follower.sync()
    asked: list[Any] = []
    chain = batch.contracts.chain
    real = chain.get_block

    def counted(number: int) -> Any:
        asked.append(number)
        return real(number)

    monkeypatch.setattr(chain, "get_block", counted)
    assert batch.check(request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,))) is None
    assert asked == []
    timed = world.record(kind=Kind.PRODUCT)
    batch.follower.sync()
    asked.clear()  # the follower reads blocks of its own
    assert batch.check(request(world.holder.id, kind=Kind.PRODUCT, parents=(parent, timed))) is None
    assert len(asked) == 1  # a parent with an expiry: judged at the head's time
