"""The catalogue's publications on the registry (publishMetadata, publishProfiles): accepted, refused by every
rule, decoded from the raw logs with eth_abi, chunked by chain/catalog.py, and their gas measured."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode
from eth_account import Account
from eth_utils.crypto import keccak

from provenance.chain import catalog as chain_catalog
from provenance.chain.base import Log
from provenance.chain.reverts import revert_kind
from provenance.core import eip712, merkle
from provenance.core.entries import entry_leaf_hash, pack_batch, pack_entry
from provenance.core.ids import record_id
from provenance.errors import DocumentTooLarge, ErrorKind, InvalidInput
from provenance.types import Grade, Hash32, RecordId, Status
from tests.support.federation import Fed, request, reverts

METADATA_TOPIC = keccak(b"MetadataPublished(bytes32,uint16,bytes)")
PROFILE_TOPIC = keccak(b"EntityProfilePublished(uint32,uint16,bytes)")


def _doc(text: str, size: int | None = None) -> bytes:
    """A UTF-8 JSON document (Chinese text, so every byte is non-zero as real documents' are), padded to ``size``."""
    raw = ('{"title":{"zh":"' + text + '"},"description":{"zh":"').encode()
    if size is None:
        return raw + b'"}}'
    filler = "长三角港口集装箱吞吐量指数".encode() * (size // 39 + 1)
    body = raw + filler[:size - len(raw) - 3]
    body += b" " * (size - 3 - len(body))
    return body + b'"}}'


def _general(fed: Fed, owner: int, document: bytes, code: str = "SDE", grade: Grade = Grade.GENERAL) -> RecordId:
    return fed.register(code, request(owner, grade=grade, metadata=Hash32(keccak(document))))


def _tx_logs(fed: Fed, tx_hash: bytes, block: int) -> list[Log]:
    logs = [log for log in fed.chain.get_logs([fed.contracts.deployment.registry], block, block)
            if log.tx_hash == tx_hash]
    assert logs, "the transaction left no log"
    return logs


def _uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


# ------------------------------------------------------------------ accepted


def test_a_stored_general_record_publishes_its_document(fed: Fed) -> None:
    owner, _ = fed.entity()
    docs = [_doc("港口指数"), _doc("Yangtze index")]
    ids = [_general(fed, owner, d) for d in docs]
    before = fed.chain.block_number()
    pub = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], ids, docs)
    assert pub.counts == (2,) and pub.documents == 2 and len(pub.tx_hashes) == 1
    assert pub.block_numbers == (before + 1,) and pub.total_gas == pub.gas_used[0] > 0
    raw = _tx_logs(fed, pub.tx_hashes[0], pub.block_numbers[0])
    logs = [log for log in raw if log.topics[0] == METADATA_TOPIC]
    # Decoded independently of the node's ABI codec: topics by hand, data with eth_abi.
    assert [(bytes(log.topics[1]), _uint(log.topics[2])) for log in logs] == [(ids[0], 1), (ids[1], 1)]
    assert [decode(["bytes"], log.data)[0] for log in logs] == docs
    assert all(log.address == fed.contracts.deployment.registry for log in logs)
    events = fed.contracts.decode_logs(raw)
    assert [(e.name, e.args) for e in events] == [
        ("MetadataPublished", {"id": ids[i], "exchangeId": 1, "document": docs[i]}) for i in range(2)]


def test_a_profile_is_published_by_the_onboarding_exchange(fed: Fed) -> None:
    a, _ = fed.entity("SDE")
    b, _ = fed.entity("SDE")
    docs = [_doc("上海临港数据科技有限公司"), _doc("Lingang Data Technology")]
    pub = chain_catalog.publish_profiles(fed.contracts, fed.keys["SDE"], [a, b], docs)
    raw = _tx_logs(fed, pub.tx_hashes[0], pub.block_numbers[0])
    logs = [log for log in raw if log.topics[0] == PROFILE_TOPIC]
    assert [(_uint(log.topics[1]), _uint(log.topics[2])) for log in logs] == [(a, 1), (b, 1)]
    assert [decode(["bytes"], log.data)[0] for log in logs] == docs
    events = fed.contracts.decode_logs(raw)
    assert [e.args for e in events] == [{"entityId": a, "exchangeId": 1, "document": docs[0]},
                                        {"entityId": b, "exchangeId": 1, "document": docs[1]}]


def test_a_batched_entry_is_emitted_unchecked_for_the_indexes_to_judge(fed: Fed) -> None:
    owner, _ = fed.entity()
    document = _doc("批量登记")
    req = request(owner, metadata=Hash32(keccak(document)))
    entry = pack_entry(req)
    root = merkle.root([entry_leaf_hash(1, entry)])
    note = eip712.sign_digest(eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, 1,
                                                       root), bytes(fed.keys["SDE"].key))
    fed.contracts.transact(fed.keys["SDE"], "Registry", "anchorBatch", 1, root, pack_batch([entry]), note)
    batched = record_id(1, req.content_hash)
    with reverts("UnknownRecord", id=batched):  # not stored: only the indexes know it
        fed.contracts.call("Registry", "getRecord", batched)
    # Even a document that does not hash to the entry, sent by another exchange: the contract cannot see the
    # entry, so it emits, and the indexes refuse it by the same rules.
    pub = chain_catalog.publish_metadata(fed.contracts, fed.keys["ZJDE"], [batched, batched],
                                         [document, _doc("篡改")])
    raw = _tx_logs(fed, pub.tx_hashes[0], pub.block_numbers[0])
    emitted = [(e.args["id"], e.args["exchangeId"], e.args["document"]) for e in fed.contracts.decode_logs(raw)]
    assert emitted == [(batched, 2, document), (batched, 2, _doc("篡改"))]


def test_any_status_publishes_and_a_repeat_is_harmless(fed: Fed) -> None:
    owner, _ = fed.entity()
    document = _doc("已撤销")
    rid = _general(fed, owner, document)
    fed.svc.set_status(fed.keys["SDE"], rid, Status.REVOKED)
    first = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], [rid], [document])
    again = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], [rid], [document])
    assert first.tx_hashes != again.tx_hashes and first.counts == again.counts == (1,)


def test_documents_up_to_the_limit_are_accepted(fed: Fed) -> None:
    owner, _ = fed.entity()
    assert fed.contracts.call("Registry", "MAX_DOCUMENT_BYTES")[0] == chain_catalog.MAX_DOCUMENT_BYTES == 16384
    docs = [b"{", _doc("满", 16384)]
    assert len(docs[1]) == 16384
    ids = [_general(fed, owner, d) for d in docs]
    assert chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], ids, docs).counts == (2,)
    assert chain_catalog.publish_profiles(fed.contracts, fed.keys["SDE"], [owner], [docs[1]]).counts == (1,)


# ------------------------------------------------------------------ refused by the contract


def test_metadata_refusals_each_named(fed: Fed) -> None:
    owner, _ = fed.entity("SDE", mandate_to=("SDE", "ZJDE"))
    c, sde = fed.contracts, fed.keys["SDE"]
    document = _doc("规则")
    rid = _general(fed, owner, document)
    with reverts("NotRegistrar", id=rid, registrar=1, caller=2):
        c.transact(fed.keys["ZJDE"], "Registry", "publishMetadata", [rid], [document])
    stranger = Account.create()
    with reverts("NotExchangeKey"):
        c.transact(stranger, "Registry", "publishMetadata", [rid], [document])
    important = _general(fed, owner, document, grade=Grade.IMPORTANT)
    with reverts("NotPublicGrade", id=important, grade=1):
        c.transact(sde, "Registry", "publishMetadata", [important], [document])
    core = _general(fed, owner, document, grade=Grade.CORE)
    with reverts("NotPublicGrade", id=core, grade=2):
        c.transact(sde, "Registry", "publishMetadata", [core], [document])
    tampered = document.replace("规则".encode(), "规矩".encode())
    with reverts("MetadataMismatch", id=rid, expected=keccak(document), actual=keccak(tampered)):
        c.transact(sde, "Registry", "publishMetadata", [rid], [tampered])
    too_large = _doc("大", 16385)
    with reverts("DocumentTooLarge", subject=rid, size=16385, max=16384):
        c.transact(sde, "Registry", "publishMetadata", [rid], [too_large])
    with reverts("EmptyDocument", subject=rid):
        c.transact(sde, "Registry", "publishMetadata", [rid], [b""])
    with reverts("DocumentCountMismatch", subjects=2, documents=1):
        c.transact(sde, "Registry", "publishMetadata", [rid, rid], [document])
    with reverts("EmptyBatch"):
        c.transact(sde, "Registry", "publishMetadata", [], [])


def test_one_refused_document_refuses_the_whole_transaction(fed: Fed) -> None:
    owner, _ = fed.entity()
    good, bad = _doc("好"), _doc("坏")
    ids = [_general(fed, owner, good), _general(fed, owner, good)]
    head = fed.chain.block_number()
    with reverts("MetadataMismatch", id=ids[1]):
        fed.contracts.transact(fed.keys["SDE"], "Registry", "publishMetadata", ids, [good, bad])
    assert fed.chain.block_number() == head


def test_profile_refusals_each_named(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    c, sde = fed.contracts, fed.keys["SDE"]
    profile = _doc("企业")
    with reverts("NotEntityRegistrar", entityId=owner, registrar=1, caller=2):
        c.transact(fed.keys["ZJDE"], "Registry", "publishProfiles", [owner], [profile])
    fed.svc.recognize_entity(fed.keys["ZJDE"], owner)  # recognition does not make ZJDE its registrar
    with reverts("NotEntityRegistrar", entityId=owner, registrar=1, caller=2):
        c.transact(fed.keys["ZJDE"], "Registry", "publishProfiles", [owner], [profile])
    with reverts("UnknownEntity", entityId=999):
        c.transact(sde, "Registry", "publishProfiles", [999], [profile])
    with reverts("NotExchangeKey"):
        c.transact(Account.create(), "Registry", "publishProfiles", [owner], [profile])
    with reverts("DocumentTooLarge", subject=owner.to_bytes(32, "big"), size=16385, max=16384):
        c.transact(sde, "Registry", "publishProfiles", [owner], [_doc("大", 16385)])
    with reverts("EmptyDocument", subject=owner.to_bytes(32, "big")):
        c.transact(sde, "Registry", "publishProfiles", [owner], [b""])
    with reverts("DocumentCountMismatch", subjects=1, documents=2):
        c.transact(sde, "Registry", "publishProfiles", [owner], [profile, profile])
    with reverts("EmptyBatch"):
        c.transact(sde, "Registry", "publishProfiles", [], [])


def test_new_errors_have_their_kinds() -> None:
    assert revert_kind("DocumentTooLarge") is ErrorKind.LIMIT_EXCEEDED
    assert revert_kind("NotEntityRegistrar") is ErrorKind.FORBIDDEN
    for name in ("DocumentCountMismatch", "EmptyDocument", "MetadataMismatch", "NotPublicGrade"):
        assert revert_kind(name) is ErrorKind.RULE_VIOLATED


# ------------------------------------------------------------------ the typed calls' own checks and chunking


def test_typed_calls_refuse_bad_input_before_sending(fed: Fed) -> None:
    owner, _ = fed.entity()
    rid = _general(fed, owner, _doc("x"))
    sde, head = fed.keys["SDE"], fed.chain.block_number()
    with pytest.raises(DocumentTooLarge) as info:
        chain_catalog.publish_metadata(fed.contracts, sde, [rid], [_doc("大", 16385)])
    assert (info.value.size, info.value.limit) == (16385, 16384)
    for ids, docs in (([rid], [b""]), ([rid, rid], [b"{}"]), ([], []), ([b"short"], [b"{}"])):
        with pytest.raises(InvalidInput):
            chain_catalog.publish_metadata(fed.contracts, sde, ids, docs)
    for entity in (0, 2**32, -1, True):
        with pytest.raises(InvalidInput):
            chain_catalog.publish_profiles(fed.contracts, sde, [entity], [b"{}"])
    assert fed.chain.block_number() == head


def test_many_documents_are_chunked_in_order_within_the_bounds(fed: Fed) -> None:
    owner, _ = fed.entity()
    docs = [_doc(f"文档{i}", 1000 + 37 * i) for i in range(40)]
    ids = [_general(fed, owner, d) for d in docs]
    bound = 20_000
    pub = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], ids, docs, max_calldata=bound)
    assert len(pub.tx_hashes) > 2 and pub.documents == 40
    seen = []
    start = 0
    for tx_hash, block, count, gas in zip(pub.tx_hashes, pub.block_numbers, pub.counts, pub.gas_used, strict=True):
        chunk = docs[start:start + count]
        assert chain_catalog.calldata_size(chunk) <= bound and gas <= chain_catalog.estimate_gas(chunk)
        seen += [(e.args["id"], e.args["document"]) for e in fed.contracts.decode_logs(_tx_logs(fed, tx_hash, block))]
        start += count
    assert seen == list(zip(ids, docs, strict=True))
    # The bound is calldata as the ABI encodes it: the estimate is the transaction's true input, to the byte.
    data = fed.contracts.abis["Registry"].encode_call("publishMetadata", ids[:3], docs[:3])
    assert len(data) <= chain_catalog.calldata_size(docs[:3]) <= len(data) + 32


def test_a_refusal_in_a_later_chunk_sends_nothing(fed: Fed) -> None:
    owner, _ = fed.entity()
    docs = [_doc(f"文档{i}", 4000) for i in range(10)]
    ids = [_general(fed, owner, d) for d in docs]
    head = fed.chain.block_number()
    with reverts("MetadataMismatch", id=ids[9]):
        chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], ids, [*docs[:9], docs[0]],
                                       max_calldata=20_000)
    assert fed.chain.block_number() == head


def test_bounds_too_small_for_one_document_are_refused() -> None:
    with pytest.raises(InvalidInput):
        chain_catalog.chunk_bounds([b"{}"], max_calldata=1000)
    with pytest.raises(InvalidInput):
        chain_catalog.chunk_bounds([b"{}"], max_gas=100_000)
    assert chain_catalog.chunk_bounds([]) == []


# ------------------------------------------------------------------ gas


def test_gas_of_a_publication(fed: Fed) -> None:
    owner, _ = fed.entity()
    used = {}
    for size in (1024, 4096):
        document = _doc("计量", size)
        rid = _general(fed, owner, document)
        pub = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], [rid], [document])
        used[size] = pub.gas_used[0]
        assert used[size] <= chain_catalog.estimate_gas([document])
        profile = chain_catalog.publish_profiles(fed.contracts, fed.keys["SDE"], [owner], [document])
        used[-size] = profile.gas_used[0]
    per_byte = (used[4096] - used[1024]) / 3072
    print(f"\npublishMetadata gas: 1 KiB {used[1024]}, 4 KiB {used[4096]}, {per_byte:.1f} per byte; "
          f"publishProfiles: 1 KiB {used[-1024]}, 4 KiB {used[-4096]}")
    # EIP-7623's floor (40 gas per non-zero calldata byte) is what a document costs on these chain rules.
    assert 39 <= per_byte <= 42
    assert 60_000 < used[1024] < 75_000 and 180_000 < used[4096] < 200_000


def test_a_full_chunk_fits_the_default_transaction_gas(fed: Fed) -> None:
    owner, _ = fed.entity()
    docs = [_doc(f"满{i}", 16384) for i in range(15)]
    ids = [_general(fed, owner, d) for d in docs]
    assert len(chain_catalog.chunk_bounds(docs)) == 1
    pub = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], ids, docs)
    assert pub.counts == (15,) and pub.gas_used[0] <= chain_catalog.estimate_gas(docs) <= chain_catalog.MAX_TX_GAS
    # Small documents: the per-publication cost dominates, and the estimate still bounds it.
    small = [b'{"t":"' + str(i).encode() + b'"}' for i in range(60)]
    small_ids = [_general(fed, owner, d) for d in small]
    tiny = chain_catalog.publish_metadata(fed.contracts, fed.keys["SDE"], small_ids, small)
    assert tiny.counts == (60,) and tiny.gas_used[0] <= chain_catalog.estimate_gas(small)
    print(f"\n15 x 16 KiB in one transaction: {pub.gas_used[0]} gas; 60 x 12 bytes: {tiny.gas_used[0]} gas")
    many = [b'{"t":"' + str(i).encode() + b'"}' for i in range(600)]
    bounds = chain_catalog.chunk_bounds(many)
    assert len(bounds) > 1 and all(chain_catalog.estimate_gas(many[s:e]) <= chain_catalog.MAX_TX_GAS
                                   for s, e in bounds)
