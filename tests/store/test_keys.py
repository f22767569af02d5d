"""The index's key layout and value encodings, byte for byte as the layout (store/keys.py's docstring) states:
prefixes, fixed widths, big-endian numbers, every field of a record at its bounds, and corrupt values refused."""

from __future__ import annotations

import struct

import pytest

from provenance.errors import StoreError
from provenance.store import keys as K

LAYOUT = {
    "META": b"m", "CHECKPOINT": b"c", "ID_SEQ": b"i", "RECORD": b"r", "BY_CONTENT": b"h", "BY_OWNER": b"o",
    "BY_REGISTRAR": b"g", "BY_KIND": b"k", "BY_GRADE": b"d", "BY_STATUS": b"s", "PARENT": b"p", "CHILD": b"q",
    "STATUS_HISTORY": b"t", "ENTITY": b"e", "RECOGNITION": b"n", "MANDATE": b"a", "EXCHANGE": b"x",
    "EXCHANGE_KEY": b"y", "BLOCK_HASH": b"b", "UNDO": b"u", "LOG_STATE": b"v", "LEAF": b"l", "LOG_NODE": b"w",
    "ANCHOR": b"f", "COSIGNATURE": b"j", "REFUSED_STATUS": b"z", "STATUS_LIST": b"S", "CERT_RECOGNITION": b"C",
    "FLOW_APP": b"A", "FLOW_PENDING": b"P", "FLOW_APP_BY_EXPORTER": b"X", "FLOW_APP_BY_RECORD": b"R",
    "FLOW_DELIVERY": b"D", "FLOW_DELIVERY_BY_EXPORTER": b"E", "FLOW_DELIVERY_BY_APP": b"B", "FLOW_CHECK": b"K",
    "FLOW_CHECK_OPEN": b"O", "FLOW_CATALOGUE": b"L", "SUPERVISOR": b"V", "PROPERTY": b"G",
}


def test_prefixes_are_the_documented_bytes_and_distinct() -> None:
    assert {name: getattr(K, name) for name in LAYOUT} == LAYOUT
    assert len(set(LAYOUT.values())) == len(LAYOUT)
    assert (K.LEAF_RECORD, K.LEAF_REJECTED, K.LEAF_COLLIDED, K.LEAF_REJECTED_KEPT) == (1, 0, 2, 3)
    assert K.STORED_NODE_LEVEL == 4
    assert (K.SCHEMA_VERSION, K.SEQ_BYTES, K.MAX_SEQ) == (b"5", 5, 2**40 - 1)


def test_fixed_width_keys() -> None:
    assert K.seq_bytes(0) == bytes(5)
    assert K.seq_bytes(K.MAX_SEQ) == b"\xff" * 5
    assert K.seq_bytes(258) == b"\0\0\0\x01\x02"
    with pytest.raises(OverflowError):
        K.seq_bytes(K.MAX_SEQ + 1)
    assert K.meta("chain_id") == b"mchain_id"
    assert K.meta("名") == b"m" + "名".encode()
    assert K.block_key(K.UNDO, 258) == b"u" + (258).to_bytes(8, "big")
    assert K.block_key(K.BLOCK_HASH, 2**64 - 1) == b"b" + b"\xff" * 8
    assert K.leaf_key(0x0102, 0x0304) == b"l\x01\x02" + (0x0304).to_bytes(8, "big")
    assert K.leaf_key(65535, 2**64 - 1) == b"l" + b"\xff" * 10
    assert K.node_key(0x0102, 4, 0x0506) == b"w\x01\x02\x04" + (0x0506).to_bytes(8, "big")
    assert K.node_key(1, 255, 0) == b"w\x00\x01\xff" + bytes(8)
    assert K.anchor_key(0x0102, 0x0304) == b"f\x01\x02" + (0x0304).to_bytes(8, "big")
    # big-endian: byte order is numeric order, so a prefix scan comes back in order
    assert sorted([K.leaf_key(1, 256), K.leaf_key(1, 255), K.leaf_key(1, 2**32)]) == [
        K.leaf_key(1, 255), K.leaf_key(1, 256), K.leaf_key(1, 2**32)]


def test_checkpoint_encoding() -> None:
    raw = K.encode_checkpoint(0x0102030405060708, b"\xaa" * 32)
    assert raw == bytes(range(1, 9)) + b"\xaa" * 32
    assert K.decode_checkpoint(raw) == (0x0102030405060708, b"\xaa" * 32)
    assert K.decode_checkpoint(raw + b"tail") == (0x0102030405060708, b"\xaa" * 32)


def record(**kw: object) -> K.IndexedRecord:
    base: dict[str, object] = {
        "id": bytes([1]) * 32, "seq": 9, "owner": 7, "registrar": 3, "kind": 1, "grade": 2, "source": 1,
        "rights": 5, "status": 1, "delegated": False, "batched": False, "leaf_index": 11, "block_number": 12,
        "content_hash": bytes([2]) * 32, "metadata_hash": bytes([3]) * 32, "supersedes": bytes(32), "parents": ()}
    base.update(kw)
    return K.IndexedRecord(**base)  # type: ignore[arg-type]


HEAD = struct.Struct(">IHBBBBBBQQB")


@pytest.mark.parametrize("fields", [
    {},
    {"delegated": True}, {"batched": True}, {"supersedes": bytes([4]) * 32},
    {"delegated": True, "batched": True, "supersedes": b"\xff" * 32},
    {"owner": 2**32 - 1, "registrar": 65535, "kind": 255, "grade": 255, "source": 255, "rights": 255,
     "status": 255, "block_number": 2**64 - 1, "leaf_index": 2**64 - 1},
    {"owner": 0, "registrar": 0, "kind": 0, "grade": 0, "source": 0, "rights": 0, "status": 0, "block_number": 0,
     "leaf_index": 0},
])
@pytest.mark.parametrize("parents", [[], [0], [1, K.MAX_SEQ], list(range(255))])
def test_record_round_trip(fields: dict[str, object], parents: list[int]) -> None:
    r = record(**fields)
    raw = K.encode_record(r, parents)
    flags = (1 if r.delegated else 0) | (2 if r.supersedes != bytes(32) else 0) | (4 if r.batched else 0)
    head = HEAD.pack(r.owner, r.registrar, r.kind, r.grade, r.source, r.rights, r.status, flags, r.block_number,
                     r.leaf_index, len(parents))
    sup = r.supersedes if flags & 2 else b""
    assert raw == head + r.id + r.content_hash + r.metadata_hash + sup + b"".join(K.seq_bytes(p) for p in parents)
    back, seqs = K.decode_record(r.seq, raw)
    assert back == r and seqs == parents
    assert K.parent_seqs_of(raw) == parents
    assert K.record_id_of(raw) == r.id
    assert K.RECORD_ID_OFFSET == HEAD.size == 29
    assert K.record_head(raw) == (r.owner, r.registrar, r.kind, r.grade, r.source, r.rights, r.status, flags,
                                  r.block_number, r.leaf_index, len(parents))
    assert K.is_batched(K.record_head(raw)[7]) is r.batched
    moved = K.with_status(raw, 4)
    assert K.decode_record(r.seq, moved)[0] == record(**{**fields, "status": 4})
    assert len(moved) == len(raw) and moved[:10] == raw[:10] and moved[11:] == raw[11:]


def test_flags() -> None:
    assert [K.is_batched(f) for f in (0, 1, 2, 3, 4, 5, 7, 8)] == [False] * 4 + [True] * 3 + [False]


@pytest.mark.parametrize("cut", [1, 28, 29, 60, 125, 130])
def test_a_truncated_record_is_refused(cut: int) -> None:
    raw = K.encode_record(record(supersedes=bytes([4]) * 32), [1, 2])  # 29 + 96 + 32 + 10 = 167 bytes
    assert len(raw) == 167
    with pytest.raises(StoreError) as info:
        K.decode_record(42, raw[:cut])
    assert str(info.value).startswith("corrupt index record (seq 42): ")
    assert type(info.value) is StoreError


def test_a_record_with_extra_bytes_is_refused() -> None:
    raw = K.encode_record(record(), [1])
    with pytest.raises(StoreError) as info:
        K.decode_record(7, raw + b"\0")
    assert str(info.value) == "corrupt index record (seq 7): length mismatch"
    with pytest.raises(StoreError) as info:
        K.decode_record(7, raw[:-1])
    assert str(info.value) == "corrupt index record (seq 7): length mismatch"


def test_a_record_without_parents() -> None:
    raw = K.encode_record(record(), [])
    assert K.parent_seqs_of(raw) == []
    assert K.decode_record(1, raw)[1] == []


def test_undo_encoding_layout() -> None:
    entries: list[tuple[bytes, bytes | None]] = [(b"k1", None), (b"", b""), (b"r" * 300, b"v" * 70000), (b"x", b"1")]
    raw = K.encode_undo(entries)
    assert raw == (b"\x00\x02k1\xff\xff\xff\xff" + b"\x00\x00\x00\x00\x00\x00" + b"\x01\x2c" + b"r" * 300
                   + (70000).to_bytes(4, "big") + b"v" * 70000 + b"\x00\x01x\x00\x00\x00\x011")
    assert K.decode_undo(raw) == entries
    assert K.encode_undo([]) == b"" and K.decode_undo(b"") == []
    assert K.encode_undo_absent([]) == b""
    assert K.encode_undo_absent([b"a", b"bc"]) == b"\x00\x01a\xff\xff\xff\xff\x00\x02bc\xff\xff\xff\xff"
    for n in (0, 1, 255, 256, 300):  # 256 bytes or more: the general encoder, same bytes
        key = b"k" * n
        raw = K.encode_undo_absent([b"a", key])
        assert raw == K.encode_undo([(b"a", None), (key, None)])
        assert K.decode_undo(raw) == [(b"a", None), (key, None)]


def test_record_fields_default_to_a_direct_registration_at_leaf_zero() -> None:
    raw = K.encode_record_fields(1, 2, 0, 0, 0, 1, 1, False, 5, bytes(32), bytes(32), bytes(32), bytes(32), [])
    head = K.record_head(raw)
    assert (head[7], head[9]) == (0, 0)  # no flag (not batched), leaf index 0
    assert raw == K.encode_record_fields(1, 2, 0, 0, 0, 1, 1, False, 5, bytes(32), bytes(32), bytes(32), bytes(32),
                                         [], batched=False, leaf_index=0)


def test_undo_keys_of_any_length_up_to_two_bytes_of_size() -> None:
    entries: list[tuple[bytes, bytes | None]] = [(b"k" * 40000, b"v"), (b"z" * 65535, None)]
    raw = K.encode_undo(entries)
    assert raw[:2] == (40000).to_bytes(2, "big")
    assert K.decode_undo(raw) == entries
