"""RFC 6962 Merkle trees: the published vectors, every corruption rejected, and properties on random trees."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.core import merkle
from provenance.core.merkle import InvalidProofShape, MerkleError, RootMismatch

VECTORS = json.loads((Path(__file__).parents[1] / "vectors/merkle/rfc6962.json").read_text())
LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots_by_size_hex"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_roots_of_every_prefix() -> None:
    for size, expected in enumerate(ROOTS):
        assert merkle.root(LEAVES[:size]) == expected


@pytest.mark.parametrize("v", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}@{v['tree_size']}")
def test_inclusion_vectors(v: dict) -> None:  # type: ignore[type-arg]
    proof = [bytes.fromhex(p) for p in v["proof"]]
    i, n = v["leaf_index"], v["tree_size"]
    assert merkle.inclusion_proof(i, LEAVES[:n]) == proof
    merkle.verify_inclusion(i, n, LEAVES[i], proof, ROOTS[n])


@pytest.mark.parametrize("v", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_consistency_vectors(v: dict) -> None:  # type: ignore[type-arg]
    proof = [bytes.fromhex(p) for p in v["proof"]]
    m, n = v["size1"], v["size2"]
    assert merkle.consistency_proof(m, LEAVES[:n]) == proof
    merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)


def inclusion_corruptions(i: int, n: int, proof: list[bytes], root: bytes,
                          leaf: bytes) -> list[tuple[str, Callable[[], None]]]:
    v = merkle.verify_inclusion
    out: list[tuple[str, Callable[[], None]]] = [
        ("index-1", lambda: v(i - 1, n, leaf, proof, root)),
        ("index+1", lambda: v(i + 1, n, leaf, proof, root)),
        ("index^2", lambda: v(i ^ 2, n, leaf, proof, root)),
        ("size*2", lambda: v(i, n * 2, leaf, proof, root)),
        ("size/2", lambda: v(i, n // 2, leaf, proof, root)),
        ("wrong leaf", lambda: v(i, n, merkle.leaf_hash(b"WrongLeaf"), proof, root)),
        ("short leaf", lambda: v(i, n, b"WrongLeaf", proof, root)),
        ("empty root", lambda: v(i, n, leaf, proof, merkle.EMPTY_ROOT)),
        ("random root", lambda: v(i, n, leaf, proof, SOME_HASH)),
        ("trailing garbage", lambda: v(i, n, leaf, [*proof, b""], root)),
        ("trailing root", lambda: v(i, n, leaf, [*proof, root], root)),
        ("preceding garbage", lambda: v(i, n, leaf, [b"", *proof], root)),
        ("preceding root", lambda: v(i, n, leaf, [root, *proof], root)),
    ]
    for k in range(len(proof)):
        for bit in range(0, 256, 37):
            bad = list(proof)
            flipped = bytearray(bad[k])
            flipped[bit // 8] ^= 1 << (bit % 8)
            bad[k] = bytes(flipped)
            out.append((f"flip proof[{k}] bit {bit}", lambda b=bad: v(i, n, leaf, b, root)))
    if proof:
        out.append(("removed element", lambda: v(i, n, leaf, proof[:-1], root)))
        out.append(("inserted element", lambda: v(i, n, leaf, [proof[0], SOME_HASH, *proof[1:]], root)))
    return out


@pytest.mark.parametrize("v", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}@{v['tree_size']}")
def test_every_inclusion_corruption_is_rejected(v: dict) -> None:  # type: ignore[type-arg]
    i, n = v["leaf_index"], v["tree_size"]
    proof = [bytes.fromhex(p) for p in v["proof"]]
    for name, probe in inclusion_corruptions(i, n, proof, ROOTS[n], LEAVES[i]):
        with pytest.raises(MerkleError):
            probe()
        assert name


@pytest.mark.parametrize("v", [c for c in VECTORS["consistency"] if c["proof"]],
                         ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_every_consistency_corruption_is_rejected(v: dict) -> None:  # type: ignore[type-arg]
    m, n = v["size1"], v["size2"]
    p = [bytes.fromhex(x) for x in v["proof"]]
    r1, r2 = ROOTS[m], ROOTS[n]
    c = merkle.verify_consistency
    probes = [
        lambda: c(m - 1, n, r1, r2, p), lambda: c(m + 1, n, r1, r2, p), lambda: c(m ^ 2, n, r1, r2, p),
        lambda: c(m, n * 2, r1, r2, p), lambda: c(m, n // 2, r1, r2, p),
        lambda: c(m, n, SOME_HASH, r2, p), lambda: c(m, n, r1, SOME_HASH, p), lambda: c(m, n, r2, r1, p),
        lambda: c(m, n, r1, r2, []), lambda: c(m, n, r1, r2, [*p, b""]), lambda: c(m, n, r1, r2, [*p, r1]),
        lambda: c(m, n, r1, r2, [*p, r2]), lambda: c(m, n, r1, r2, [b"", *p]), lambda: c(m, n, r1, r2, [r1, *p]),
        lambda: c(m, n, r1, r2, [r2, *p]), lambda: c(m, n, r1, r2, [p[0], *p]), lambda: c(m, n, r1, r2, p[:-1]),
    ]
    for k in range(len(p)):
        bad = list(p)
        bad[k] = bytes([bad[k][0] ^ 16]) + bad[k][1:]
        probes.append(lambda b=bad: c(m, n, r1, r2, b))
    for probe in probes:
        with pytest.raises(MerkleError):
            probe()


def test_edge_cases_of_consistency() -> None:
    merkle.verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    merkle.verify_consistency(0, 5, ROOTS[0], ROOTS[5], [])
    merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    with pytest.raises(RootMismatch):
        merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])
    with pytest.raises(InvalidProofShape):
        merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[3], [SOME_HASH])
    with pytest.raises(merkle.IndexOutOfRange):
        merkle.verify_consistency(4, 3, ROOTS[4], ROOTS[3], [])


def test_a_node_cannot_pass_for_a_leaf() -> None:
    """The interior node over leaves 0 and 1, offered as leaf data, does not verify in any position."""
    node = merkle.node_hash(LEAVES[0], LEAVES[1])
    as_leaf = merkle.leaf_hash(LEAVES[0] + LEAVES[1])
    assert as_leaf != node
    proof = merkle.inclusion_proof(0, [node, *LEAVES[2:4]])  # a proof shaped for a 3-leaf view
    for index, size in ((0, 3), (0, 2), (0, 4)):
        with pytest.raises(MerkleError):
            merkle.verify_inclusion(index, size, as_leaf, proof, ROOTS[4])


def test_errors_carry_the_evidence() -> None:
    with pytest.raises(RootMismatch) as info:
        merkle.verify_inclusion(0, 1, LEAVES[0], [], SOME_HASH)
    assert (info.value.size, info.value.computed, info.value.expected) == (1, LEAVES[0], SOME_HASH)


# Distinct leaves: with two equal leaves, "the same leaf at the neighbouring index" is a true statement.
trees = st.lists(st.binary(max_size=8), min_size=1, max_size=40, unique=True).map(
    lambda xs: [merkle.leaf_hash(x) for x in xs])


@given(leaves=trees, data=st.data())
def test_every_proof_of_every_index_verifies_and_every_mutation_fails(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    r = merkle.root(leaves)
    for i in range(n):
        proof = merkle.inclusion_proof(i, leaves)
        merkle.verify_inclusion(i, n, leaves[i], proof, r)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(i, leaves)
    for _, probe in inclusion_corruptions(i, n, proof, r, leaves[i]):
        with pytest.raises(MerkleError):
            probe()


@given(leaves=trees, data=st.data())
def test_consistency_between_any_two_sizes(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    m = data.draw(st.integers(0, n))
    proof = merkle.consistency_proof(m, leaves)
    merkle.verify_consistency(m, n, merkle.root(leaves[:m]), merkle.root(leaves), proof)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        with pytest.raises(MerkleError):
            merkle.verify_consistency(m, n, merkle.root(leaves[:m]), merkle.root(leaves), bad)


def test_compact_range_roots_match_the_vectors() -> None:
    cr = merkle.CompactRange()
    assert cr.root() == ROOTS[0]
    for size, leaf in enumerate(LEAVES, start=1):
        cr.append(leaf)
        assert (cr.size, cr.root()) == (size, ROOTS[size])
        restored = merkle.CompactRange(cr.size, cr.hashes)  # what a node persists and reloads
        assert restored.root() == ROOTS[size]
    with pytest.raises(InvalidProofShape):
        merkle.CompactRange(3, [ROOTS[1]])  # size 3 needs two subtree hashes
    with pytest.raises(InvalidProofShape):
        cr.append(b"short")


@given(leaves=trees)
def test_compact_range_equals_the_full_tree(leaves: list[bytes]) -> None:
    cr = merkle.CompactRange()
    for i, leaf in enumerate(leaves):
        cr.append(leaf)
        assert cr.root() == merkle.root(leaves[: i + 1])


# ---------------------------------------------------------------------- the compiled loop (_speedups.c)


def python_outcome(i: object, n: object, leaf: object, proof: object) -> tuple[str, object]:
    try:
        return ("root", merkle._root_from_inclusion(i, n, leaf, proof))  # type: ignore[arg-type]
    except (MerkleError, TypeError) as exc:
        return ("error", type(exc))


def agree_with_python(i: object, n: object, leaf: object, proof: object) -> bytes | None:
    """The compiled loop gives the Python loop's root, or leaves the case to it (None); it never gives a root
    where the Python loop refuses, and the public function gives exactly the Python outcome."""
    from provenance.core import _speedups

    compiled = _speedups.inclusion_root(i, n, leaf, proof)  # type: ignore[arg-type]
    expected = python_outcome(i, n, leaf, proof)
    if compiled is not None:
        assert expected == ("root", compiled), (i, n, proof)
    try:
        public: tuple[str, object] = ("root", merkle.root_from_inclusion(i, n, leaf, proof))  # type: ignore[arg-type]
    except (MerkleError, TypeError) as exc:
        public = ("error", type(exc))
    assert public == expected
    return compiled


def corrupted_inputs(i: int, n: int, proof: list[bytes], leaf: bytes) -> list[tuple[object, ...]]:
    flipped = [bytes([p[0] ^ 1]) + p[1:] for p in proof]
    out: list[tuple[object, ...]] = [
        (i - 1, n, leaf, proof), (i + 1, n, leaf, proof), (i ^ 2, n, leaf, proof), (i, n * 2, leaf, proof),
        (i, n // 2, leaf, proof), (i, n, b"short", proof), (i, n, leaf + b"\x00", proof), (i, n, [*proof, b""], leaf),
        (i, n, leaf, [*proof, b""]), (i, n, leaf, [*proof, SOME_HASH]), (i, n, leaf, [SOME_HASH, *proof]),
        (i, n, leaf, proof[:-1]), (i, n, leaf, tuple(proof)), (i, n, bytearray(leaf), proof),
        (i, n, leaf, [bytearray(p) for p in proof]), (True, n, leaf, proof), (i, float(n), leaf, proof),
        (-1, n, leaf, proof), (i, -n, leaf, proof), (2**63, 2**64, leaf, proof), (i, 2**64 + n, leaf, proof),
        (i, n, leaf, [*proof[:1], "x" * 32, *proof[1:]]), (i, n, leaf, (p for p in proof)),
    ]
    out += [(i, n, leaf, [*proof[:k], flipped[k], *proof[k + 1:]]) for k in range(len(proof))]
    return out


@pytest.mark.parametrize("v", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}@{v['tree_size']}")
def test_the_compiled_loop_gives_the_python_result(v: dict) -> None:  # type: ignore[type-arg]
    i, n = v["leaf_index"], v["tree_size"]
    proof = [bytes.fromhex(p) for p in v["proof"]]
    assert agree_with_python(i, n, LEAVES[i], proof) == ROOTS[n]  # the compiled loop runs for real proofs
    for args in corrupted_inputs(i, n, proof, LEAVES[i]):
        agree_with_python(*args)


@given(leaves=trees, data=st.data())
def test_the_compiled_loop_on_random_trees(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(i, leaves)
    assert agree_with_python(i, n, leaves[i], proof) == merkle.root(leaves)
    for args in corrupted_inputs(i, n, proof, leaves[i]):
        agree_with_python(*args)
    j, m = data.draw(st.integers(-2, 2 * n + 2)), data.draw(st.integers(-2, 2 * n + 2))
    agree_with_python(j, m, leaves[i], proof)
