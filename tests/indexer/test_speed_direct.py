"""The catch-up's hot path (provenance.indexer.direct) writes exactly what the generic path writes: the same keys,
values and undo records, block after block, for registrations of every shape and for logs it hands back to the
generic path (malformed ones, out-of-range values, leaf indexes that do not follow, collisions, unknown parents),
which fail with the same error."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from eth_abi.abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.chain.abi import ContractABI, load_artifact
from provenance.chain.base import Log
from provenance.chain.contracts import REGISTRY
from provenance.indexer.apply import apply_event
from provenance.indexer.direct import apply_logs
from provenance.indexer.events import DATA_REGISTERED, STATUS_CHANGED, EventDecoder
from provenance.store import keys as K
from provenance.store.index import IndexStore

REG = b"\x11" * 20
OTHER = b"\x22" * 20
_ABI = {REGISTRY: ContractABI(load_artifact("Registry"))}


def _decoder() -> EventDecoder:
    return EventDecoder(_ABI, {REG: REGISTRY, OTHER: "Federation"})


_WORDS: dict[int, bytes] = {}


def _word(rng: random.Random, n: int) -> bytes:
    """A topic word, sometimes the very bytes object of an earlier log's (as the JSON-RPC reader shares them)."""
    if rng.random() < 0.5:
        return n.to_bytes(32, "big")
    return _WORDS.setdefault(n, n.to_bytes(32, "big"))


def _registration(rng: random.Random, rid: bytes, registrar: int, leaf: int, parents: list[bytes], block: int,
                  index: int, *, odd: str = "") -> Log:
    small = [rng.randrange(256) for _ in range(4)]
    hashes = [rng.randbytes(32), rng.randbytes(32), bytes(32) if rng.random() < 0.7 else rng.randbytes(32)]
    data = encode(["uint8", "uint8", "uint8", "uint8", "bytes32", "bytes32", "bytes32", "bytes32[]", "bool",
                   "uint64"], [*small, *hashes, parents, rng.random() < 0.3, leaf])
    owner = rng.choice([1, 7, 2**32 - 1])
    topics = [DATA_REGISTERED, rid, _word(rng, registrar), _word(rng, owner)]
    address = REG
    if odd == "truncated":
        data = data[:-1]
    elif odd == "kind":  # a uint8 word with a high byte set
        data = b"\x01" + data[1:]
    elif odd == "delegated":  # a bool word of 2: eth-abi and the generic decoder read it as false
        data = data[:287] + b"\x02" + data[288:]
    elif odd == "offset":  # the parents array one word further than right after the head: still valid ABI
        data = data[:224] + (352).to_bytes(32, "big") + data[256:320] + b"\x09" * 32 + data[320:]
    elif odd == "topics":
        topics = topics[:3]
    elif odd == "owner":
        topics[3] = (2**32).to_bytes(32, "big")
    elif odd == "other contract":
        address = OTHER
    return Log(address, topics, data, block, block.to_bytes(32, "big"), rng.randbytes(32), index)


def _status(rid: bytes, registrar: int, block: int, index: int) -> Log:
    data = encode(["uint8", "uint8", "bytes32"], [1, 3, b"\x05" * 32])
    return Log(REG, [STATUS_CHANGED, rid, registrar.to_bytes(32, "big")], data, block, block.to_bytes(32, "big"),
               b"\x00" * 32, index)


_ABORTS = {"truncated", "kind", "topics", "owner", "leaf", "parent"}  # the generic path refuses the whole block


def _blocks(seed: int, n_blocks: int) -> tuple[list[list[Log]], bytes]:
    rng = random.Random(seed)
    ids: list[bytes] = []
    leaves = {1: 0, 2: 0}
    collide = rng.randbytes(32)
    blocks = []
    for b in range(n_blocks):
        logs: list[Log] = []
        kept_ids, kept_leaves = list(ids), dict(leaves)
        aborted = False
        for _ in range(rng.randrange(0, 12)):
            i = len(logs)
            roll = rng.random()
            registrar = rng.choice([1, 2])
            if roll < 0.06 and ids:
                logs.append(_status(rng.choice(ids), registrar, b + 2, i))
                continue
            parents = [rng.choice(ids) for _ in range(rng.choice([0, 1, 1, 2, 3]))] if ids else []
            odd = ""
            if roll > 0.93:
                odd = rng.choice(["truncated", "kind", "delegated", "offset", "topics", "owner", "other contract",
                                  "leaf", "parent", "collide"])
            if odd == "collide":
                registrar = 1
            rid = collide if odd == "collide" else rng.randbytes(32)
            if odd == "parent":
                parents = [*parents, rng.randbytes(32)]
            leaf = leaves[registrar] + (5 if odd == "leaf" else 0)
            logs.append(_registration(rng, rid, registrar, leaf, parents, b + 2, i, odd=odd))
            aborted = aborted or odd in _ABORTS
            leaves[registrar] += 1
            if odd != "collide":
                ids.append(rid)
        if aborted:
            ids, leaves = kept_ids, kept_leaves
        blocks.append(logs)
    return blocks, collide


def _index(path: Path, blocks: list[list[Log]], collide: bytes, direct: bool) -> tuple[list[tuple[bytes, bytes]],
                                                                                      list[str]]:
    store = IndexStore(path)
    decoder = _decoder()
    with store.block(1, b"\x01" * 32, keep_for_reorg=True, prune_below=0) as w:
        # Exchange 1 anchored a batch once: its direct registrations are checked for collisions with batched ids.
        w.put(K.anchor_key(1, 0), b"\x00" * 73)
        w.put(K.ID_SEQ + collide, K.seq_bytes(10**6))
    errors = []
    for logs in blocks:
        number = logs[0].block_number if logs else 0
        try:
            with store.block(number, number.to_bytes(32, "big"), keep_for_reorg=True, prune_below=0) as w:
                if direct:
                    apply_logs(w, logs, decoder, REG)
                else:
                    for log in logs:
                        ev = decoder.decode(log)
                        if ev is not None:
                            apply_event(w, ev)
        except Exception as exc:  # noqa: BLE001 - both paths must fail alike, whatever the error
            errors.append(f"{type(exc).__name__}: {exc}")
        else:
            errors.append("")
    dump = store.dump()
    store.close()
    return dump, errors


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_blocks=st.integers(1, 12))
def test_the_direct_path_writes_what_the_generic_path_writes(seed: int, n_blocks: int) -> None:
    blocks, collide = _blocks(seed, n_blocks)
    with tempfile.TemporaryDirectory() as tmp:
        fast, fast_errors = _index(Path(tmp) / "fast", blocks, collide, True)
        slow, slow_errors = _index(Path(tmp) / "slow", blocks, collide, False)
    assert fast_errors == slow_errors
    assert fast == slow


def test_every_odd_log_is_exercised_and_the_index_grows() -> None:
    """The generator above does produce records, collisions and failing blocks (so the comparison is not vacuous)."""
    blocks, collide = _blocks(3, 80)
    with tempfile.TemporaryDirectory() as tmp:
        dump, errors = _index(Path(tmp) / "fast", blocks, collide, True)
    keys = [k for k, _ in dump]
    assert sum(k[:1] == K.RECORD for k in keys) > 50
    assert any(k[:1] == K.LEAF and v[32] == K.LEAF_COLLIDED for k, v in dump)
    assert any(k[:1] == K.STATUS_HISTORY for k in keys)
    assert any(e.startswith("ChainError") for e in errors)
    assert any(e.startswith("StoreError") for e in errors)
    assert sum(e == "" for e in errors) > 20
