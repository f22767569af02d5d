"""The catalogue's index rules on the embedded chain with the real contracts: what MetadataPublished and
EntityProfilePublished make the index accept or refuse (direct and batched records, organisations and
individuals), the change log, a reorg that orphans a listing, and a crash between the index's commit and the
projection's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from provenance.chain.catalog import publish_metadata, publish_profiles
from provenance.core.catalog import canonical_document
from provenance.core.ids import identifier_hash
from provenance.core.keccak import keccak256
from provenance.dev.catalog_samples import entity_profile, metadata_document
from provenance.indexer import catalog_search
from provenance.indexer.catalog_search import CatalogIndex
from provenance.indexer.follower import Follower
from provenance.services.batching import BatchIntake
from provenance.store import keys as K
from provenance.store.documents import DocumentStore
from provenance.store.index import IndexStore
from provenance.types import EntityRole, Grade, Hash32, Kind, RecordId, Rights, Status
from tests.support.federation import Fed, make_fed, request


def _org(fed: Fed, seed: int, home: str = "SDE") -> tuple[int, dict[str, Any]]:
    profile = entity_profile(seed)
    account = Account.create()
    eid = fed.svc.register_entity(fed.keys[home], identifier_hash(profile["creditCode"]), account,
                                  EntityRole.SUPPLIER)
    fed.svc.set_mandate(account, eid, home, True)
    return eid, profile


def _listing(fed: Fed, owner: int, seed: int, *, code: str = "SDE", grade: Grade = Grade.GENERAL,
             doc: dict[str, Any] | None = None) -> tuple[RecordId, bytes]:
    raw = canonical_document(doc or metadata_document(seed, publisher=owner, rights=Rights.HOLDING))
    rid = fed.register(code, request(owner, grade=grade, kind=Kind.PRODUCT, metadata=Hash32(keccak256(raw))))
    return rid, raw


def _refusals(store: IndexStore) -> list[str]:
    """Why each refusal: the value after its subject (b"r" + record id or b"e" + entity id)."""
    return [v[33 if v[:1] == b"r" else 5:].decode() for _k, v in store.scan(K.CATALOG_REFUSED)]


def _rejected(store: IndexStore) -> int:
    raw = store.get_meta("catalog_rejected")
    return int.from_bytes(raw, "big") if raw else 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("catalog-index")
    fed = make_fed(base / "chain")
    org, profile = _org(fed, 1)
    store = IndexStore(base / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    yield fed, org, profile, store, follower
    store.close()
    fed.chain.close()


def test_a_valid_document_is_accepted_and_every_broken_one_refused(world: Any) -> None:
    fed, org, _profile, store, follower = world
    good, good_raw = _listing(fed, org, 10)
    # Documents whose hash the contract accepts but the index's rules do not:
    invalid = b'{"publisher":%d,"title":{}}' % org  # no title in any language
    invalid_rid = fed.register("SDE", request(org, metadata=Hash32(keccak256(invalid))))
    doc = metadata_document(11, publisher=org)
    spaced = canonical_document(doc).replace(b",", b", ", 1)  # valid JSON, not its canonical form
    spaced_rid = fed.register("SDE", request(org, metadata=Hash32(keccak256(spaced))))
    other = metadata_document(12, publisher=org + 1)  # another publisher than the owner
    other_rid, other_raw = _listing(fed, org, 12, doc=other)
    mismatch = metadata_document(13, publisher=org, rights=Rights.OPERATION)  # policy beyond the rights held
    mismatch_rid, mismatch_raw = _listing(fed, org, 13, doc=mismatch)
    follower.sync()
    before = _rejected(store)
    publish_metadata(fed.contracts, fed.keys["SDE"], [good, invalid_rid, spaced_rid, other_rid, mismatch_rid],
                     [good_raw, invalid, spaced, other_raw, mismatch_raw])
    follower.sync()
    seq = store.seq_of(good)
    assert seq is not None and store.get(K.CATALOG_METADATA + K.seq_bytes(seq)) == good_raw
    for rid in (invalid_rid, spaced_rid, other_rid, mismatch_rid):
        assert store.get(K.CATALOG_METADATA + K.seq_bytes(store.seq_of(rid))) is None
    assert _rejected(store) == before + 4
    reasons = _refusals(store)[-4:]
    assert [r.split(":")[0] for r in reasons] == ["InvalidInput", "NotCanonical", "InvalidInput",
                                                      "InvalidInput"]
    assert "publisher" in reasons[2] and "right" in reasons[3]


def test_batched_entries_are_judged_like_records(world: Any) -> None:
    fed, org, _profile, store, follower = world
    intake = BatchIntake(contracts=fed.contracts, store=store, follower=follower, signer=fed.keys["SDE"],
                         exchange=1)
    docs = [canonical_document(metadata_document(20 + i, publisher=org)) for i in range(3)]
    grades = (Grade.GENERAL, Grade.IMPORTANT, Grade.GENERAL)
    futures = [intake.submit(request(org, grade=g, metadata=Hash32(keccak256(d)))) for g, d in zip(grades, docs,
                                                                                                  strict=True)]
    intake.seal()
    ids = [f.result().record_id for f in futures]
    follower.sync()
    before = _rejected(store)
    # Entry 0 valid; entry 1 important grade; entry 2 the wrong bytes; an id no index holds; ZJDE not its registrar.
    publish_metadata(fed.contracts, fed.keys["SDE"], [ids[0], ids[1], ids[2], bytes(31) + b"\x01"],
                     [docs[0], docs[1], docs[0], docs[0]])
    publish_metadata(fed.contracts, fed.keys["ZJDE"], [ids[2]], [docs[2]])
    follower.sync()
    assert store.get(K.CATALOG_METADATA + K.seq_bytes(store.seq_of(ids[0]))) == docs[0]
    for rid in ids[1:]:
        assert store.get(K.CATALOG_METADATA + K.seq_bytes(store.seq_of(rid))) is None
    assert _rejected(store) == before + 4
    assert _refusals(store)[-4:] == ["NotGeneralGrade", "HashMismatch", "UnknownRecord", "NotRegistrar"]


def test_profiles_only_of_organisations_bound_to_their_identifier(world: Any) -> None:
    fed, org, profile, store, follower = world
    second, second_profile = _org(fed, 2)
    person = fed.svc.register_entity(fed.keys["SDE"], identifier_hash("person-1"), Account.create(),
                                     EntityRole.DEMANDER)
    individual = entity_profile(3, kind="individual")
    follower.sync()
    before = _rejected(store)
    publish_profiles(fed.contracts, fed.keys["SDE"], [org, second, person],
                     [canonical_document(profile), canonical_document(profile), canonical_document(individual)])
    follower.sync()
    assert store.get(K.CATALOG_PROFILE + org.to_bytes(4, "big")) == canonical_document(profile)
    assert store.get(K.CATALOG_PROFILE + second.to_bytes(4, "big")) is None  # org's code, not second's
    assert store.get(K.CATALOG_PROFILE + person.to_bytes(4, "big")) is None
    assert _rejected(store) == before + 2
    assert [r.split(":")[0] for r in _refusals(store)[-2:]] == ["IdentifierMismatch", "IndividualProfile"]
    publish_profiles(fed.contracts, fed.keys["SDE"], [second], [canonical_document(second_profile)])
    follower.sync()
    assert store.get(K.CATALOG_PROFILE + second.to_bytes(4, "big")) == canonical_document(second_profile)


def test_the_change_log_names_every_row_that_changed(world: Any) -> None:
    fed, org, _profile, store, follower = world
    follower.sync()
    start = int.from_bytes(store.get_meta("catalog_log") or bytes(8), "big")
    rid, _raw = _listing(fed, org, 30)
    other, _raw = _listing(fed, org, 31)
    fed.svc.set_status(fed.keys["SDE"], other, Status.SUSPENDED)
    newer = fed.register("SDE", request(org, kind=Kind.PRODUCT, supersedes=rid))
    eid, _p = _org(fed, 4)
    follower.sync()
    log = [v for k, v in store.scan(K.CATALOG_LOG) if int.from_bytes(k[1:], "big") >= start]
    seq, other_seq, newer_seq = store.seq_of(rid), store.seq_of(other), store.seq_of(newer)
    assert seq is not None and other_seq is not None and newer_seq is not None
    # Registration and supersession; registration and suspension; the new record; the new entity.
    assert log.count(b"r" + K.seq_bytes(seq)) == 2
    assert log.count(b"r" + K.seq_bytes(other_seq)) == 2
    assert b"r" + K.seq_bytes(newer_seq) in log and b"e" + eid.to_bytes(4, "big") in log
    assert int.from_bytes(store.get_meta("catalog_log") or b"", "big") == start + len(log)


def test_a_reorg_removes_an_orphaned_listing_from_the_projection(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        org, _profile = _org(fed, 5)
        kept, kept_raw = _listing(fed, org, 40)
        publish_metadata(fed.contracts, fed.keys["SDE"], [kept], [kept_raw])
        fork = fed.chain.block_number()
        orphan_doc = metadata_document(41, publisher=org)
        orphan_doc["title"] = {"zh": "孤块航运指数", "en": "Orphaned shipping index"}
        orphan, orphan_raw = _listing(fed, org, 41, doc=orphan_doc)
        publish_metadata(fed.contracts, fed.keys["SDE"], [orphan], [orphan_raw])
        store = IndexStore(tmp_path / "index")
        docs = DocumentStore(tmp_path / "documents")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=16)
        follower.sync()
        cidx = CatalogIndex(tmp_path / "catalog.sqlite", store, docs)
        cidx.sync()
        assert [i["id"] for i in cidx.search("孤块").items] == ["0x" + orphan.hex()]
        fed.chain.rewind(fork)
        for _ in range(3):
            fed.register("SDE", request(org))
        follower.sync()
        assert follower.reorgs == 1
        cidx.sync()
        assert cidx.search("孤块").total == 0 and cidx.search("Orphaned").total == 0
        assert cidx.listing(orphan) is None
        assert cidx.listing(kept)["metadata"] == "supplied"  # type: ignore[index]
        fresh = CatalogIndex(tmp_path / "fresh.sqlite", store, docs)
        fresh.sync()
        assert cidx.search(None, public_only=False).to_json() == fresh.search(None, public_only=False).to_json()
        fresh.close()
        cidx.close()
        docs.close()
        store.close()
    finally:
        fed.chain.close()


def test_a_crash_between_the_index_commit_and_the_projection_commit_replays(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        org, profile = _org(fed, 6)
        store = IndexStore(tmp_path / "index")
        docs = DocumentStore(tmp_path / "documents")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
        follower.sync()
        cidx = CatalogIndex(tmp_path / "catalog.sqlite", store, docs)
        cidx.sync()
        position = cidx.position()
        rid, raw = _listing(fed, org, 50)
        publish_metadata(fed.contracts, fed.keys["SDE"], [rid], [raw])
        publish_profiles(fed.contracts, fed.keys["SDE"], [org], [canonical_document(profile)])
        follower.sync()  # the index has committed the blocks

        def crash(*_: object) -> None:
            raise KeyboardInterrupt("killed before the SQLite commit")

        monkeypatch.setattr(catalog_search.CatalogIndex, "_set_state", crash)
        with pytest.raises(KeyboardInterrupt):
            cidx.sync()
        monkeypatch.undo()
        cidx.close()
        again = CatalogIndex(tmp_path / "catalog.sqlite", store, docs)
        assert again.position() == position and again.listing(rid) is None  # nothing half-written
        assert again.sync() > 0
        item = again.listing(rid)
        assert item is not None and item["metadata"] == "supplied"
        assert item["publisher"]["name"] == profile["name"]
        fresh = CatalogIndex(tmp_path / "fresh.sqlite", store, docs)
        fresh.sync()
        assert again.search(None).to_json() == fresh.search(None).to_json()
        assert again.figures() == fresh.figures()
        for c in (again, fresh):
            c.close()
        docs.close()
        store.close()
    finally:
        fed.chain.close()
