"""The embedded chain's one-pass storage trie update against py-trie's key-by-key HexaryTrie: the same root for
the same changes, and every node of the new trie readable from the database by the stock trie."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from eth.vm.forks.prague.state import PragueState
from eth_account import Account
from trie import HexaryTrie
from trie.exceptions import MissingTrieNode

from provenance.chain import embedded
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.evm_storage import CachingHexaryTrie, TrieBatch
from provenance.errors import TransactionFailed

# Runtime code: for each 64 bytes of calldata (slot, value), SSTORE(slot, value); a value of 0 clears the slot.
_STORE_RUNTIME = bytes.fromhex("60005b803611156018578060200135813555604001600256" "5b00")
_STORE_INIT = bytes.fromhex(f"60{len(_STORE_RUNTIME):02x}600c60003960{len(_STORE_RUNTIME):02x}6000f3") + _STORE_RUNTIME

KEY_SHAPES = {
    "hashed": lambda rng: rng.randbytes(32),  # storage keys are keccak hashes of slots
    "short": lambda rng: rng.randbytes(rng.randint(1, 3)),  # small nodes, held inline by their parents
    "prefixes": lambda rng: bytes([rng.choice((0, 1, 0x10, 0x11))]) * rng.randint(1, 4),  # keys prefixing keys
}
VALUES = (b"\x01", b"\x7f", b"\x82\x01\x00", bytes(40))


@pytest.mark.parametrize("shape", sorted(KEY_SHAPES))
@pytest.mark.parametrize("seed", range(6))
def test_batch_update_matches_key_by_key(shape: str, seed: int) -> None:
    rng = random.Random(f"{shape}:{seed}")
    new_key = KEY_SHAPES[shape]
    db: dict[bytes, bytes] = {}
    reference = HexaryTrie({})
    root = reference.root_hash
    known: dict[bytes, bytes] = {}
    for _ in range(12):
        changes: dict[bytes, bytes] = {}
        for _ in range(rng.choice((1, 2, 5, 40, 200))):
            if known and rng.random() < 0.45:
                key = rng.choice(sorted(known))
                changes[key] = b"" if rng.random() < 0.6 else rng.choice(VALUES)  # delete or overwrite
            elif rng.random() < 0.05:
                changes[new_key(rng)] = b""  # deleting a key that is not there changes nothing
            else:
                changes[new_key(rng)] = rng.choice(VALUES)
        for key, value in changes.items():
            reference[key] = value
            if value:
                known[key] = value
            else:
                known.pop(key, None)
        root = TrieBatch(db).update(root, changes)
        assert root == reference.root_hash
        stored = HexaryTrie(db, root)
        for key, value in known.items():
            assert stored[key] == value
    if not known:
        assert root == HexaryTrie({}).root_hash


def test_emptied_trie_has_the_blank_root() -> None:
    db: dict[bytes, bytes] = {}
    root = TrieBatch(db).update(HexaryTrie({}).root_hash, {b"\x01" * 32: b"\x01", b"\x02" * 32: b"\x02"})
    root = TrieBatch(db).update(root, {b"\x01" * 32: b"", b"\x02" * 32: b""})
    assert root == HexaryTrie({}).root_hash


def test_missing_node_is_a_key_error() -> None:
    db: dict[bytes, bytes] = {}
    root = TrieBatch(db).update(HexaryTrie({}).root_hash, {bytes([i]) * 32: b"\x01" for i in range(20)})
    with pytest.raises(KeyError):
        TrieBatch({}).update(root, {b"\x05" * 32: b"\x02"})


def _run(path: Path, rng: random.Random) -> tuple[list[tuple[bytes, bytes, int, int]], bytes, dict[int, int]]:
    """A storage-heavy workload on a fresh chain; each block's (state root, receipt root, gas used, bloom), the
    contract and the slots it should hold."""
    chain = EmbeddedChain(path, chain_id=1502)
    chain.clock = lambda: 2_000_000_000.0
    signer = Account.from_key(b"\x01" * 32)
    try:
        contract = chain.transact(signer, None, _STORE_INIT).contract_address
        assert contract is not None
        slots: dict[int, int] = {}
        for n in range(8):
            writes: dict[int, int] = {}
            for _ in range(rng.choice((1, 30, 300))):
                r = rng.random()
                if slots and r < 0.25:
                    writes[rng.choice(sorted(slots))] = 0
                elif slots and r < 0.4:
                    writes[rng.choice(sorted(slots))] = rng.randrange(1, 2**256)
                else:
                    writes[rng.randrange(2**256) if r < 0.8 else rng.randrange(64)] = rng.randrange(1, 2**40)
            data = b"".join(k.to_bytes(32, "big") + v.to_bytes(32, "big") for k, v in writes.items())
            if n == 4:  # runs out of gas: not mined, and nothing of it stays
                with pytest.raises(TransactionFailed):
                    chain.transact(signer, contract, data, gas=25_000 + 16 * len(data))
            chain.transact(signer, contract, data)
            for k, v in writes.items():
                if v:
                    slots[k] = v
                else:
                    slots.pop(k, None)
        blocks = []
        for number in range(chain.block_number() + 1):
            header = chain._chain.get_canonical_block_header_by_number(number)
            blocks.append((header.state_root, header.receipt_root, header.gas_used, header.bloom))
        return blocks, contract, slots
    finally:
        chain.close()


def test_chain_computes_what_stock_py_evm_computes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batched, contract, slots = _run(tmp_path / "batched", random.Random(7))
    with monkeypatch.context() as m:
        m.setattr(embedded._EmbeddedVM, "_state_class", PragueState)
        stock, _, _ = _run(tmp_path / "stock", random.Random(7))
    assert len(batched) == len(stock) == 10
    assert batched == stock
    # Every node was stored: a reopened chain reads every slot back.
    chain = EmbeddedChain(tmp_path / "batched")
    try:
        state = chain._chain.get_vm().state
        assert all(state.get_storage(contract, k) == v for k, v in slots.items())
        assert state.get_storage(contract, 2**255 + 12345) == 0
    finally:
        chain.close()


@pytest.mark.parametrize("shape", sorted(KEY_SHAPES))
def test_cached_reads_match_hexary_trie(shape: str) -> None:
    rng = random.Random(shape)
    new_key = KEY_SHAPES[shape]
    db: dict[bytes, bytes] = {}
    present = {new_key(rng): rng.choice(VALUES) for _ in range(300)}
    root = TrieBatch(db).update(HexaryTrie({}).root_hash, present)
    stock, cached = HexaryTrie(db, root), CachingHexaryTrie(db, root)
    probes = list(present) + [new_key(rng) for _ in range(300)] + [k[:-1] for k in present if len(k) > 1]
    for key in probes:
        assert cached.get(key) == stock.get(key)
    assert CachingHexaryTrie(db, HexaryTrie({}).root_hash).get(b"\x01" * 32) == b""
    broken = dict(db)
    del broken[root]
    with pytest.raises(MissingTrieNode):
        CachingHexaryTrie(broken, root).get(next(iter(present)))
