"""One vector set, three judges: the contract (direct ``register``), the Python rules, and every index's
judgement of the same entries sent in a batch. All three must give each vector's expected verdict."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provenance.core import eip712, merkle
from provenance.core.entries import entry_leaf_hash, pack_batch, pack_entry
from provenance.core.ids import record_id
from provenance.errors import ContractReverted
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.services.batching import BatchIntake
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import Grade, Hash32, Kind, RecordId, RegistrationRequest, Rights, Source, Status
from tests.support.federation import Fed, h, make_fed, request
from tests.support.index import dump_of

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "rules" / "registration.json").read_text())[
    "vectors"]


@dataclass
class RuleWorld:
    fed: Fed
    entities: dict[str, int]
    records: dict[str, RecordId]
    contents: dict[str, bytes]


def build_world(path: Path) -> RuleWorld:
    fed = make_fed(path)
    e1, _ = fed.entity("SDE")
    e2, _ = fed.entity("ZJDE")
    e3, _ = fed.entity("SDE")
    records: dict[str, RecordId] = {}
    contents: dict[str, bytes] = {}
    for name, code, req in [
        ("gen", "SDE", request(e1)), ("imp", "SDE", request(e1, grade=Grade.IMPORTANT)),
        ("rev", "SDE", request(e1)), ("sus", "SDE", request(e1)), ("old", "SDE", request(e1)),
        ("zj", "ZJDE", request(e2)),
    ]:
        records[name] = fed.register(code, req)
        contents[name] = req.content_hash
    fed.svc.set_status(fed.keys["SDE"], records["rev"], Status.REVOKED)
    fed.svc.set_status(fed.keys["SDE"], records["sus"], Status.SUSPENDED)
    fed.register("SDE", request(e1, supersedes=records["old"]))
    return RuleWorld(fed, {"E1": e1, "E2": e2, "E3": e3}, records, contents)


def _ref(world: RuleWorld, ref: str, self_id: bytes) -> bytes:
    if ref == "#self":
        return self_id
    if ref.startswith("@"):
        return world.records[ref[1:]]
    return hashlib.sha256(ref.encode()).digest()


def to_request(world: RuleWorld, vec: dict[str, Any], index: int) -> RegistrationRequest:
    if vec["content"] == "zero":
        content = bytes(32)
    elif vec["content"].startswith("@"):
        content = world.contents[vec["content"][1:]]
    else:
        content = h(f"vector-{index}")
    self_id = record_id(1, content)
    return RegistrationRequest(
        kind=vec["kind"], grade=vec["grade"], source=vec["source"], rights=vec["rights"],
        owner=world.entities[vec["owner"]], content_hash=Hash32(content), metadata_hash=h("meta"),
        supersedes=Hash32(_ref(world, vec["supersedes"], self_id) if vec["supersedes"] else bytes(32)),
        parents=tuple(RecordId(_ref(world, p, self_id)) for p in vec["parents"]),
    )


def _raw_tuple(req: RegistrationRequest) -> tuple[Any, ...]:
    return (int(req.kind), int(req.grade), int(req.source), int(req.rights), req.owner, req.content_hash,
            req.metadata_hash, req.supersedes, list(req.parents))


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RuleWorld, RuleWorld]]:
    a = build_world(tmp_path_factory.mktemp("direct") / "chain")
    b = build_world(tmp_path_factory.mktemp("batched") / "chain")
    yield a, b
    a.fed.chain.close()
    b.fed.chain.close()


def test_the_vector_set_covers_every_rule() -> None:
    expected = {v["expect"] for v in VECTORS}
    assert {"ok", "NoMandate", "InvalidKind", "InvalidGrade", "InvalidSource", "InvalidRights", "ZeroContentHash",
            "CoreNotListable", "AlreadyRegistered", "TooManyParents", "SelfParent", "DuplicateParent",
            "UnknownParent", "ParentRevoked", "GradeBelowParent", "UnknownRecord", "NotRegistrar",
            "SupersedeMismatch", "InvalidStatusTransition"} <= expected


def test_contract_python_and_index_agree_on_every_vector(worlds: tuple[RuleWorld, RuleWorld],
                                                         tmp_path: Path) -> None:
    direct, batched = worlds
    # 1. The contract, one direct registration per vector.
    contract: list[str] = []
    for i, vec in enumerate(VECTORS):
        try:
            direct.fed.contracts.transact(direct.fed.keys["SDE"], "Registry", "register",
                                          _raw_tuple(to_request(direct, vec, i)))
            contract.append("ok")
        except ContractReverted as exc:
            contract.append(exc.error)
    # 2. The Python rules, against an index of the world before any vector.
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=batched.fed.chain, contracts=batched.fed.contracts, store=store)
    follower.sync()
    intake = BatchIntake(contracts=batched.fed.contracts, store=store, follower=follower,
                         signer=batched.fed.keys["SDE"], exchange=1)
    python = []
    for i, vec in enumerate(VECTORS):
        violation = intake.check(to_request(batched, vec, i))
        python.append("ok" if violation is None else violation.error)
    # 3. Every index, judging the same entries sent in one batch (no pre-check: the raw transaction).
    logs = LogQueries(store)
    first = logs.size(1)
    rng = merkle.CompactRange.decode(store.get(K.LOG_STATE + (1).to_bytes(2, "big")) or b"\0" * 8)
    entries = [pack_entry(to_request(batched, vec, i)) for i, vec in enumerate(VECTORS)]
    for e in entries:
        rng.append(entry_leaf_hash(1, e))
    root = rng.root()
    fed = batched.fed
    digest = eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, rng.size, root)
    fed.contracts.transact(fed.keys["SDE"], "Registry", "anchorBatch", rng.size, root, pack_batch(entries),
                           eip712.sign_digest(digest, bytes(fed.keys["SDE"].key)))
    follower.sync()
    index = []
    for i in range(len(VECTORS)):
        leaf = logs.leaf(1, first + i)
        index.append("ok" if leaf.outcome == K.LEAF_RECORD else leaf.reason.split("(")[0])
    anchor = logs.anchor(1, rng.size)
    assert anchor is not None and anchor.consistent
    want = [v["expect"] for v in VECTORS]
    names = [v["name"] for v in VECTORS]
    assert list(zip(names, contract, strict=True)) == list(zip(names, want, strict=True))
    assert list(zip(names, python, strict=True)) == list(zip(names, want, strict=True))
    assert list(zip(names, index, strict=True)) == list(zip(names, want, strict=True))
    # The incrementally built index equals a clean rebuild, byte for byte.
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "rebuild")
    store.close()


def test_batched_records_supersede_and_change_status_only_by_the_rules(fed: Fed, tmp_path: Path) -> None:
    owner, _ = fed.entity("SDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["SDE"],
                         exchange=1)
    stored = fed.register("SDE", request(owner))
    v1 = intake.submit(request(owner))
    intake.seal()
    rid1 = v1.result().record_id
    follower.sync()
    # A new batched version supersedes a batched record; a stored record cannot be superseded from a batch.
    v2 = intake.submit(request(owner, supersedes=rid1))
    intake.seal()
    follower.sync()
    assert store.record(rid1).status == Status.SUPERSEDED  # type: ignore[union-attr]
    assert store.record(v2.result().record_id).status == Status.ACTIVE  # type: ignore[union-attr]
    entry = pack_entry(request(owner, supersedes=stored))
    assert intake.check(request(owner, supersedes=stored)) is None  # the contract's rules allow it...
    f = intake.submit(request(owner, supersedes=stored))
    intake.seal()
    follower.sync()
    leaf = LogQueries(store).leaf(1, f.result().leaf_index)
    assert leaf.outcome == K.LEAF_REJECTED and leaf.reason.startswith("SupersedesStoredRecord")  # ...batches do not
    assert entry  # packed form is what the chain carries
    # Status requests for batched records: by the registrar only, legal transitions only.
    rid2 = v2.result().record_id
    fed.contracts.transact(fed.keys["ZJDE"], "Registry", "setBatchedStatus", rid2, int(Status.REVOKED), bytes(32))
    fed.contracts.transact(fed.keys["SDE"], "Registry", "setBatchedStatus", rid2, int(Status.SUPERSEDED), bytes(32))
    follower.sync()
    assert store.record(rid2).status == Status.ACTIVE  # type: ignore[union-attr]
    refused = [v.decode() for _, v in store.scan(K.REFUSED_STATUS)]
    assert refused[0].startswith("NotRegistrar") and refused[1].startswith("InvalidStatusTransition")
    fed.contracts.transact(fed.keys["SDE"], "Registry", "setBatchedStatus", rid2, int(Status.REVOKED), bytes(32))
    follower.sync()
    assert store.record(rid2).status == Status.REVOKED  # type: ignore[union-attr]
    from tests.support.federation import reverts
    with reverts("StoredRecord"):
        fed.contracts.transact(fed.keys["SDE"], "Registry", "setBatchedStatus", stored, 3, bytes(32))
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "rebuild")
    store.close()


def test_a_direct_registration_colliding_with_a_batched_record_is_indexed_not_fatal(fed: Fed,
                                                                                    tmp_path: Path) -> None:
    owner, _ = fed.entity("SDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["SDE"],
                         exchange=1)
    req = request(owner)
    sealed = intake.submit(req)
    intake.seal()
    fed.register("SDE", req)  # the contract does not know batched ids: it accepts
    follower.sync()
    leaves = LogQueries(store)
    assert leaves.leaf(1, sealed.result().leaf_index).outcome == K.LEAF_RECORD
    assert leaves.leaf(1, sealed.result().leaf_index + 1).outcome == K.LEAF_COLLIDED
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "rebuild")
    store.close()


def test_a_collision_in_the_block_of_the_exchanges_first_batch_is_still_a_collision(fed: Fed,
                                                                                    tmp_path: Path) -> None:
    """A chain may mine an exchange's first batch and a direct registration of one of its ids in one block: the
    batch's anchor is not stored yet when the registration is applied, and the registration is still a collision
    (the index skips the duplicate check only for exchanges that never anchored)."""
    from provenance.indexer.apply import apply_event
    from provenance.indexer.events import EventDecoder

    exchange = 2  # ZJDE
    owner, _ = fed.entity("ZJDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["ZJDE"],
                         exchange=exchange)
    follower.sync()
    assert not list(store.scan(K.ANCHOR + exchange.to_bytes(2, "big")))
    first = fed.chain.block_number() + 1
    req = request(owner)
    sealed = intake.submit(req)
    intake.seal()
    fed.register("ZJDE", req)  # the contract does not know batched ids: it accepts
    head = fed.chain.block_number()
    dep = fed.contracts.deployment
    decoder = EventDecoder(fed.contracts.abis, {dep.federation: "Federation", dep.registry: "Registry"})
    events = [e for e in map(decoder.decode, fed.chain.get_logs([dep.federation, dep.registry], first, head)) if e]
    assert [e.name for e in events].count("DataRegistered") == 1
    with store.block(head, fed.chain.get_block(head).hash, keep_for_reorg=False, prune_below=0) as w:
        for ev in events:  # both transactions' events as if one block held them
            apply_event(w, ev)
    leaves = LogQueries(store)
    assert leaves.leaf(exchange, sealed.result().leaf_index).outcome == K.LEAF_RECORD
    assert leaves.leaf(exchange, sealed.result().leaf_index + 1).outcome == K.LEAF_COLLIDED
    store.close()


def test_intake_refuses_rule_breakers_at_once_and_seals_by_count(fed: Fed, tmp_path: Path) -> None:
    from provenance.services.batching import RuleViolation

    owner, _ = fed.entity("SDE")
    other, _ = fed.entity("ZJDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["SDE"],
                         exchange=1, max_records=5, max_delay_ms=60_000)
    with pytest.raises(RuleViolation, match="NoMandate"):
        intake.submit(request(other))
    first = intake.submit(request(owner))
    with pytest.raises(RuleViolation, match="AlreadyRegistered"):
        intake.submit(request(owner, content=first_content(intake)))
    # A child of a queued record is judged against the queue.
    child = intake.submit(request(owner, kind=Kind.PRODUCT, parents=(first_id(intake),)))
    intake.start()
    futures = [intake.submit(request(owner, source=Source.PUBLIC, rights=Rights(3))) for _ in range(3)]
    results = [f.result(timeout=30) for f in [first, child, *futures]]
    intake.close()
    assert len({r.tx_hash for r in results}) == 1 and results[-1].tree_size == 5
    follower.sync()
    assert store.record(child.result().record_id).parents == (first.result().record_id,)  # type: ignore[union-attr]
    store.close()


def test_intake_follows_a_log_that_direct_registrations_moved(fed: Fed, tmp_path: Path) -> None:
    owner, _ = fed.entity("SDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["SDE"],
                         exchange=1, max_records=50, max_delay_ms=60_000)
    [intake.submit(request(owner)) for _ in range(3)]
    intake.seal()
    batch2 = [intake.submit(request(owner)) for _ in range(2)]
    intake.seal()  # no block in between: sealed on the log it knows
    fed.register("SDE", request(owner))  # a direct registration: the log's next leaf, outside the intake
    later = [intake.submit(request(owner)) for _ in range(2)]
    intake.seal()
    assert batch2[-1].result().tree_size == 5 and later[-1].result().tree_size == 8
    follower.sync()
    logs = LogQueries(store)
    assert logs.size(1) == 8
    assert all(a.consistent for a in logs.anchors(1))  # every anchored root is the root of the leaves before it
    assert [a.tree_size for a in logs.anchors(1)] == [3, 5, 8]
    store.close()


def first_content(intake: BatchIntake) -> Hash32:
    return intake._queue[0].request.content_hash


def first_id(intake: BatchIntake) -> RecordId:
    return intake._queue[0].rid


_ = (Grade, Kind)


def test_a_batch_that_does_not_split_stops_the_index_and_writes_nothing(tmp_path: Path) -> None:
    from provenance.errors import StoreError
    from provenance.indexer.apply import apply_event
    from provenance.indexer.events import Event

    store = IndexStore(tmp_path / "index")
    good = pack_batch([pack_entry(request(1))])
    for entries in (good[:-1], good + b"\0", b""):
        ev = Event("BatchAnchored", {"exchangeId": 1, "firstIndex": 0, "treeSize": 1, "root": h("root"),
                                     "entries": entries, "signature": bytes(65)}, 5, h("block"), 0, "Registry",
                   h("tx"))
        with pytest.raises(StoreError, match="block 5: exchange 1's anchored batch does not split"), \
                store.block(5, h("block"), keep_for_reorg=True, prune_below=0) as w:
            apply_event(w, ev)
        assert store.dump() == []  # not the block, not its checkpoint
    store.close()
