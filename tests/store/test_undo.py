"""Undo records: the one-step encoding of a block's new keys is the general encoding, byte for byte, and a block
applied and rolled back leaves the index as it was."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.store import keys as K
from provenance.store.index import IndexStore

_keys = st.lists(st.binary(min_size=0, max_size=300), max_size=30)
_values = st.one_of(st.none(), st.binary(max_size=50))


@settings(max_examples=300, deadline=None)
@given(_keys)
def test_absent_keys_encode_as_the_general_encoder_does(keys: list[bytes]) -> None:
    encoded = K.encode_undo_absent(keys)
    assert encoded == K.encode_undo([(k, None) for k in keys])
    assert K.decode_undo(encoded) == [(k, None) for k in keys]


# Keys under the records prefix only: the block's own keys (checkpoint, block hashes, undo) stay apart.
_small = st.binary(max_size=19).map(lambda b: K.RECORD + b)
_large = st.binary(min_size=20, max_size=40).map(lambda b: K.RECORD + b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_small, st.binary(max_size=20)), max_size=12),
       st.lists(st.tuples(_small, _values), max_size=12),
       st.lists(_large, max_size=12, unique=True))
def test_a_block_rolled_back_leaves_the_index_as_it_was(tmp_path_factory: object, before: list[tuple[bytes, bytes]],
                                                        changes: list[tuple[bytes, bytes | None]],
                                                        new: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("ix")  # type: ignore[attr-defined]
    store = IndexStore(Path(path))
    try:
        with store.block(1, b"\x01" * 32, keep_for_reorg=True, prune_below=0) as w:
            for k, v in before:
                w.put(k, v)
        snapshot = store.dump()
        with store.block(2, b"\x02" * 32, keep_for_reorg=True, prune_below=0) as w:
            w.put_new([(k, b"new") for k in new])  # longer than every other key: new by construction
            for k, v in changes:
                if v is None:
                    w.delete(k)
                else:
                    w.put(k, v)
            expected = K.encode_undo(w.undo_record())
            assert w.encoded_undo() == expected
        assert store.get(K.block_key(K.UNDO, 2)) in (expected, None)
        assert (store.get(K.block_key(K.UNDO, 2)) is None) == (expected == b"")
        assert store.rollback(1, b"\x01" * 32) == (1 if expected else 0)
        assert store.dump() == snapshot
    finally:
        store.close()
