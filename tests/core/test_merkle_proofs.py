"""Every Merkle proof builder and verifier held to transparency-dev/merkle's published probes and to a reference
written from RFC 9162's definitions, at every edge size, with the exact error (type and message) each refusal
raises. Runs the same with the compiled module and without it (PROVENANCE_NO_SPEEDUPS=1)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from provenance.core import merkle
from provenance.core.merkle import CompactRange, IndexOutOfRange, InvalidProofShape, MerkleError, RootMismatch

TD = json.loads((Path(__file__).parents[1] / "vectors/merkle/transparency-dev.json").read_text())
TD_LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in TD["leaf_inputs_hex"]]
NODES = [[bytes.fromhex(h) for h in level] for level in TD["node_hashes_hex"]]
TD_ROOTS = [merkle.EMPTY_ROOT] + [bytes.fromhex(h) for h in TD["roots_by_size_hex_from_1"]]
EDGE_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]
X = bytes(range(32))


# ---------------------------------------------------------------------- a reference from RFC 9162 2.1


def ref_mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = 1
    while 2 * k < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while 2 * k < len(d):
        k *= 2
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while 2 * k < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def leaves_of(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed * 1000 + n)
    return [merkle.leaf_hash(rng.randbytes(rng.randrange(0, 9)) + i.to_bytes(2, "big")) for i in range(n)]


class Holder:
    """A tree held as subtree hashes, as the store holds it: records every range a builder asks for."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.asked: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        assert 0 <= start < end <= len(self.leaves), (start, end)
        self.asked.append((start, end))
        return ref_mth(self.leaves[start:end])


def raised(exc_type: type[MerkleError], fn: object, *args: object) -> str:
    with pytest.raises(exc_type) as info:
        fn(*args)  # type: ignore[operator]
    assert type(info.value) is exc_type
    return str(info.value)


# ---------------------------------------------------------------------- published probes


def inclusion_error(index: int, size: int, leaf: bytes, proof: list[bytes]) -> type[MerkleError]:
    """The refusal a bad inclusion probe must raise, judged from its shape alone: a position outside the tree,
    then anything of the wrong length or count, and only a well-shaped proof as a root mismatch."""
    if not 0 <= index < size:
        return IndexOutOfRange
    if len(leaf) != 32 or any(len(x) != 32 for x in proof) or len(proof) != len(ref_path(index, leaves_of(size))):
        return InvalidProofShape
    return RootMismatch


def consistency_error(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> type[MerkleError]:
    if size1 < 0 or size2 < size1:
        return IndexOutOfRange
    if any(len(x) != 32 for x in proof):
        return InvalidProofShape
    if size1 in (0, size2):
        return InvalidProofShape if proof else RootMismatch
    return InvalidProofShape if len(proof) != len(ref_subproof(size1, leaves_of(size2), True)) else RootMismatch



@pytest.mark.parametrize("p", TD["inclusion"], ids=lambda p: p["path"].removeprefix("testdata/inclusion/"))
def test_transparency_dev_inclusion_probes(p: dict) -> None:  # type: ignore[type-arg]
    proof = [bytes.fromhex(x) for x in p["proof"]]
    leaf, root = bytes.fromhex(p["leafHash"] or ""), bytes.fromhex(p["root"] or "")
    args = (p["leafIdx"], p["treeSize"], leaf, proof, root)
    if p["wantErr"]:
        with pytest.raises(MerkleError) as info:
            merkle.verify_inclusion(*args)
        assert type(info.value) is inclusion_error(p["leafIdx"], p["treeSize"], leaf, proof)
        return
    merkle.verify_inclusion(*args)
    assert merkle._root_from_inclusion(p["leafIdx"], p["treeSize"], leaf, proof) == root
    if p["treeSize"] > 1:  # a tree of the published leaves: the builders give the published proof
        leaves = TD_LEAVES[:p["treeSize"]]
        assert merkle.inclusion_proof(p["leafIdx"], leaves) == proof
        assert merkle.inclusion_proof_with(p["leafIdx"], p["treeSize"], Holder(leaves)) == proof


# transparency-dev refuses every consistency check from the empty tree ("meaningless"); this node accepts one with
# an empty proof, as C2SP tlog-witness does for an old size of 0 (and, from 0 to 0, with equal roots).
FROM_EMPTY_ACCEPTED = {
    "testdata/consistency/additional/size1-is-zero-and-does-not-equal-size2.json",
    "testdata/consistency/additional/size1-is-zero-and-size2-is-not-zero.json",
    "testdata/consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
}


@pytest.mark.parametrize("p", TD["consistency"], ids=lambda p: p["path"].removeprefix("testdata/consistency/"))
def test_transparency_dev_consistency_probes(p: dict) -> None:  # type: ignore[type-arg]
    proof = [bytes.fromhex(x) for x in p["proof"]]
    args = (p["size1"], p["size2"], bytes.fromhex(p["root1"] or ""), bytes.fromhex(p["root2"] or ""), proof)
    if p["path"] in FROM_EMPTY_ACCEPTED:
        assert p["wantErr"] and p["size1"] == 0 and not proof
        merkle.verify_consistency(*args)
        return
    if p["wantErr"]:
        with pytest.raises(MerkleError) as info:
            merkle.verify_consistency(*args)
        assert type(info.value) is consistency_error(*args)
        return
    merkle.verify_consistency(*args)
    if 0 < p["size1"] <= p["size2"] <= len(TD_LEAVES) and args[3] == TD_ROOTS[p["size2"]]:
        leaves = TD_LEAVES[:p["size2"]]
        assert merkle.consistency_proof(p["size1"], leaves) == proof
        assert merkle.consistency_proof_with(p["size1"], p["size2"], Holder(leaves)) == proof


def test_published_hashes() -> None:
    assert [merkle.root(TD_LEAVES[:n]) for n in range(9)] == TD_ROOTS
    assert TD_LEAVES == NODES[0]
    for level in range(1, 4):
        for i, h in enumerate(NODES[level]):
            assert merkle.node_hash(NODES[level - 1][2 * i], NODES[level - 1][2 * i + 1]) == h


@pytest.mark.parametrize(("index", "size", "proof"), [
    # The last leaf at an even index of 4 or more: the root loop must climb past the missing right siblings.
    (4, 5, [NODES[2][0]]),
    (6, 7, [NODES[1][2], NODES[2][0]]),
    (2, 3, [NODES[1][0]]),
    (4, 6, [NODES[0][5], NODES[2][0]]),
    (7, 8, [NODES[0][6], NODES[1][2], NODES[2][0]]),
])
def test_inclusion_shapes_from_the_published_node_hashes(index: int, size: int, proof: list[bytes]) -> None:
    leaf, root = TD_LEAVES[index], TD_ROOTS[size]
    assert merkle.inclusion_proof(index, TD_LEAVES[:size]) == proof
    assert merkle.inclusion_proof_with(index, size, Holder(TD_LEAVES[:size])) == proof
    assert merkle._root_from_inclusion(index, size, leaf, proof) == root
    assert merkle.root_from_inclusion(index, size, leaf, proof) == root
    merkle.verify_inclusion(index, size, leaf, proof, root)


def test_every_leaf_of_every_published_tree() -> None:
    for n in range(1, 9):
        for i in range(n):
            proof = merkle.inclusion_proof(i, TD_LEAVES[:n])
            assert merkle._root_from_inclusion(i, n, TD_LEAVES[i], proof) == TD_ROOTS[n]
        for m in range(n + 1):
            merkle.verify_consistency(m, n, TD_ROOTS[m], TD_ROOTS[n], merkle.consistency_proof(m, TD_LEAVES[:n]))


# ---------------------------------------------------------------------- builders against the reference


@pytest.mark.parametrize("n", EDGE_SIZES)
def test_inclusion_builders_at_edge_sizes(n: int) -> None:
    leaves = leaves_of(n)
    r = ref_mth(leaves)
    assert merkle.root(leaves) == r
    for i in range(n):
        want = ref_path(i, leaves)
        holder = Holder(leaves)
        assert merkle.inclusion_proof_with(i, n, holder) == want
        assert len(holder.asked) == len(want)  # one subtree hash per element, none wasted
        assert merkle.inclusion_proof(i, leaves) == want
        assert merkle._root_from_inclusion(i, n, leaves[i], want) == r
        assert merkle.root_from_inclusion(i, n, bytearray(leaves[i]), [bytearray(p) for p in want]) == r


@pytest.mark.parametrize("n", EDGE_SIZES)
def test_consistency_builders_at_edge_sizes(n: int) -> None:
    leaves = leaves_of(n, seed=1)
    for m in range(n + 1):
        want = [] if m in (0, n) else ref_subproof(m, leaves, True)
        holder = Holder(leaves)
        assert merkle.consistency_proof_with(m, n, holder) == want
        assert len(holder.asked) == len(want)
        assert merkle.consistency_proof(m, leaves) == want
        merkle.verify_consistency(m, n, ref_mth(leaves[:m]), ref_mth(leaves), want)


def test_builders_on_random_trees() -> None:
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randrange(1, 200)
        leaves = leaves_of(n, seed=rng.randrange(1000))
        i, m = rng.randrange(n), rng.randrange(n + 1)
        assert merkle.inclusion_proof_with(i, n, Holder(leaves)) == ref_path(i, leaves)
        want = [] if m in (0, n) else ref_subproof(m, leaves, True)
        assert merkle.consistency_proof_with(m, n, Holder(leaves)) == want


def test_split() -> None:
    for n in range(2, 300):
        k = merkle._split(n)
        assert k < n <= 2 * k and k & (k - 1) == 0


# ---------------------------------------------------------------------- refusals, exact


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0), (-1, 0), (1, 1)])
def test_inclusion_builders_refuse_an_index_outside_the_tree(index: int, size: int) -> None:
    msg = f"leaf index {index} is not in a tree of size {size}"
    assert raised(IndexOutOfRange, merkle.inclusion_proof_with, index, size, Holder(leaves_of(max(size, 0)))) == msg
    assert raised(IndexOutOfRange, merkle.inclusion_proof, index, leaves_of(size)) == msg
    assert raised(IndexOutOfRange, merkle._root_from_inclusion, index, size, X, []) == msg
    assert raised(IndexOutOfRange, merkle.root_from_inclusion, index, size, X, []) == msg


@pytest.mark.parametrize(("size1", "size2"), [(-1, 5), (6, 5), (1, 0), (-1, -1)])
def test_consistency_builders_refuse_sizes_that_go_backwards(size1: int, size2: int) -> None:
    msg = f"size {size1} is not within a tree of size {size2}"
    assert raised(IndexOutOfRange, merkle.consistency_proof_with, size1, size2, Holder([])) == msg
    if size2 >= 0:
        assert raised(IndexOutOfRange, merkle.consistency_proof, size1, leaves_of(size2)) == msg
    assert raised(IndexOutOfRange, merkle.verify_consistency, size1, size2, X, X, []) == (
        f"tree sizes go backwards ({size1} then {size2})")


def test_edge_sizes_of_the_builders() -> None:
    assert merkle.inclusion_proof_with(0, 1, Holder([X])) == []
    assert merkle.inclusion_proof(0, [X]) == []
    for n in (0, 1, 5):
        assert merkle.consistency_proof_with(0, n, Holder(leaves_of(n))) == []
        assert merkle.consistency_proof_with(n, n, Holder(leaves_of(n))) == []
        assert merkle.consistency_proof(0, leaves_of(n)) == []
        assert merkle.consistency_proof(n, leaves_of(n)) == []
    assert merkle.root([]) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("root_fn", [merkle._root_from_inclusion, merkle.root_from_inclusion])
def test_malformed_inclusion_proofs_refused_exactly(root_fn: object) -> None:
    leaves = leaves_of(6)
    proof = ref_path(4, leaves)  # 2 elements
    f = root_fn
    assert raised(InvalidProofShape, f, 4, 6, leaves[4][:31], proof) == "the leaf hash is not 32 bytes"
    assert raised(InvalidProofShape, f, 4, 6, leaves[4] + b"\0", proof) == "the leaf hash is not 32 bytes"
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], [*proof, X]) == (
        "the proof has 3 elements, more than a tree of size 6 needs")
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], proof[:1]) == (
        "the proof has 1 elements, fewer than a tree of size 6 needs")
    assert raised(InvalidProofShape, f, 0, 1, leaves[0], [X]) == (
        "the proof has 1 elements, more than a tree of size 1 needs")
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], [proof[0], proof[1][:31]]) == (
        "proof element 1 is not a 32-byte hash")
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], [proof[0] + b"\0", proof[1]]) == (
        "proof element 0 is not a 32-byte hash")
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], [proof[0], "x" * 32]) == (
        "proof element 1 is not a 32-byte hash")
    assert raised(InvalidProofShape, f, 4, 6, leaves[4], [memoryview(proof[0]), proof[1]]) == (
        "proof element 0 is not a 32-byte hash")
    assert raised(InvalidProofShape, f, 0, 2, leaves[0], [b""]) == "proof element 0 is not a 32-byte hash"
    # too many elements where the extra ones are well formed: refused at the first one past the root
    assert raised(InvalidProofShape, f, 3, 4, leaves[3], [X, X, X]) == (
        "the proof has 3 elements, more than a tree of size 4 needs")


def test_root_mismatch_of_inclusion_carries_the_evidence() -> None:
    leaves = leaves_of(5)
    proof = ref_path(4, leaves)
    with pytest.raises(RootMismatch) as info:
        merkle.verify_inclusion(4, 5, leaves[4], proof, bytearray(X))
    e = info.value
    assert (e.size, e.computed, e.expected) == (5, ref_mth(leaves), X) and type(e.expected) is bytes
    assert str(e) == f"root mismatch for tree size 5: computed {ref_mth(leaves).hex()}, expected {X.hex()}"
    merkle.verify_inclusion(4, 5, leaves[4], proof, ref_mth(leaves))


def consistency_case(m: int, n: int) -> tuple[list[bytes], bytes, bytes]:
    leaves = leaves_of(n, seed=3)
    return ref_subproof(m, leaves, True), ref_mth(leaves[:m]), ref_mth(leaves)


def test_malformed_consistency_proofs_refused_exactly() -> None:
    c = merkle.verify_consistency
    p, r1, r2 = consistency_case(3, 7)
    assert raised(InvalidProofShape, c, 3, 3, r1, r1, [X]) == "equal sizes take an empty proof"
    assert raised(InvalidProofShape, c, 0, 7, merkle.EMPTY_ROOT, r2, [X]) == (
        "consistency with the empty tree takes an empty proof")
    assert raised(InvalidProofShape, c, 3, 7, r1, r2, []) == "a consistency proof from 3 to 7 cannot be empty"
    assert raised(InvalidProofShape, c, 3, 7, r1, r2, [*p, X]) == (
        "the proof has more elements than sizes 3 and 7 need")
    assert raised(InvalidProofShape, c, 3, 7, r1, r2, p[:-1]) == (
        "the proof has fewer elements than sizes 3 and 7 need")
    assert raised(InvalidProofShape, c, 3, 7, r1, r2, [*p[:-1], p[-1][:5]]) == (
        f"proof element {len(p) - 1} is not a 32-byte hash")
    assert raised(InvalidProofShape, c, 3, 3, r1, r1, [b"x"]) == "proof element 0 is not a 32-byte hash"
    p4, r41, r42 = consistency_case(4, 9)  # size1 a power of two: its root is implied, not sent
    assert len(p4) == 2
    assert raised(InvalidProofShape, c, 4, 9, r41, r42, [*p4, X]) == (
        "the proof has more elements than sizes 4 and 9 need")
    assert raised(InvalidProofShape, c, 4, 9, r41, r42, p4[:-1]) == (
        "the proof has fewer elements than sizes 4 and 9 need")
    c(4, 9, bytearray(r41), r42, p4)


@pytest.mark.parametrize(("m", "n"), [(1, 2), (3, 7), (4, 6), (4, 8), (6, 8), (5, 16), (7, 9), (8, 9), (15, 17)])
def test_consistency_root_mismatches_name_the_tree(m: int, n: int) -> None:
    p, r1, r2 = consistency_case(m, n)
    merkle.verify_consistency(m, n, r1, r2, p)
    with pytest.raises(RootMismatch) as info:
        merkle.verify_consistency(m, n, r1, X, p)
    assert (info.value.size, info.value.computed, info.value.expected) == (n, r2, X)
    if m & (m - 1):  # a power-of-two size1 takes its root as given, so only root2 can then mismatch
        with pytest.raises(RootMismatch) as info:
            merkle.verify_consistency(m, n, X, r2, p)
        assert (info.value.size, info.value.computed, info.value.expected) == (m, r1, X)
    bad = list(p)
    bad[-1] = bytes([bad[-1][0] ^ 1]) + bad[-1][1:]
    with pytest.raises(RootMismatch):
        merkle.verify_consistency(m, n, r1, r2, bad)


def test_equal_sizes_compare_the_roots() -> None:
    merkle.verify_consistency(5, 5, X, bytearray(X), [])
    with pytest.raises(RootMismatch) as info:
        merkle.verify_consistency(5, 5, X, bytearray(32), [])
    assert (info.value.size, info.value.computed, info.value.expected) == (5, X, bytes(32))
    assert type(info.value.computed) is bytes and type(info.value.expected) is bytes
    merkle.verify_consistency(0, 9, X, bytes(32), [])  # anything is consistent with the empty tree


# ---------------------------------------------------------------------- CompactRange


def perfect_subtrees(n: int) -> list[tuple[int, int]]:
    out, start = [], 0
    for bit in reversed(range(n.bit_length())):
        if n >> bit & 1:
            out.append((start, start + (1 << bit)))
            start += 1 << bit
    return out


@pytest.mark.parametrize("n", [0, *EDGE_SIZES, 127, 128, 129])
def test_compact_range_state_encoding_and_nodes(n: int) -> None:
    leaves = leaves_of(n, seed=5)
    heard: list[tuple[int, int, bytes]] = []
    cr = CompactRange()
    for leaf in leaves:
        cr.append(bytearray(leaf), lambda lv, ix, h: heard.append((lv, ix, h)))
    want_heard = [(lv, (j + 1 >> lv) - 1, ref_mth(leaves[(j + 1 - (1 << lv)):j + 1]))
                  for j in range(n) for lv in range(1, 20) if (j + 1) % (1 << lv) == 0]
    assert heard == want_heard
    assert cr.size == n
    assert cr.hashes == [ref_mth(leaves[a:b]) for a, b in perfect_subtrees(n)]
    assert all(type(h) is bytes for h in cr.hashes)
    assert cr.root() == ref_mth(leaves)
    raw = cr.encode()
    assert raw == n.to_bytes(8, "big") + b"".join(cr.hashes)
    back = CompactRange.decode(raw)
    assert (back.size, back.hashes, back.root()) == (n, cr.hashes, cr.root())
    again = CompactRange(n, [bytearray(h) for h in cr.hashes])
    assert again.hashes == cr.hashes and all(type(h) is bytes for h in again.hashes)
    plain = CompactRange()
    for leaf in leaves:
        plain.append(leaf)  # no listener: the same state
    assert (plain.size, plain.hashes) == (n, cr.hashes)


def test_compact_range_refusals() -> None:
    assert raised(InvalidProofShape, CompactRange, 3, [X]) == "a compact range of size 3 has 2 hashes"
    assert raised(InvalidProofShape, CompactRange, 4, [X, X]) == "a compact range of size 4 has 1 hashes"
    assert raised(InvalidProofShape, CompactRange, 0, [X]) == "a compact range of size 0 has 0 hashes"
    assert raised(InvalidProofShape, CompactRange, -1, []) == "a compact range of size -1 has 0 hashes"
    assert raised(InvalidProofShape, CompactRange, 1, [X[:31]]) == "proof element 0 is not a 32-byte hash"
    assert raised(InvalidProofShape, CompactRange().append, X[:31]) == "the leaf hash is not 32 bytes"
    assert raised(InvalidProofShape, CompactRange().append, X + b"\0") == "the leaf hash is not 32 bytes"
    msg = "a compact range encoding is 8 bytes of size and whole 32-byte hashes"
    for bad in (b"", bytes(7), bytes(9), bytes(8 + 31), bytes(8 + 33)):
        assert raised(InvalidProofShape, CompactRange.decode, bad) == msg
    assert raised(InvalidProofShape, CompactRange.decode, (3).to_bytes(8, "big") + X) == (
        "a compact range of size 3 has 2 hashes")
    assert CompactRange.decode(bytes(8)).size == 0
    one = CompactRange.decode((1).to_bytes(8, "big") + X)
    assert (one.size, one.hashes, one.root()) == (1, [X], X)
    big = CompactRange.decode((2**40).to_bytes(8, "big") + X)
    assert big.size == 2**40 and big.root() == X
    assert CompactRange().root() == merkle.EMPTY_ROOT


def test_leaf_and_node_hashes_are_rfc6962() -> None:
    assert merkle.leaf_hash(b"") == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert merkle.node_hash(NODES[0][0], NODES[0][1]) == NODES[1][0]
    assert merkle.HASH_SIZE == 32


def test_every_pair_of_small_sizes() -> None:
    """All (index, size) and (size1, size2) up to 40 leaves: the right border of every shape (e.g. 9 -> 10, where
    the two paths meet at a node with two trailing zero bits)."""
    leaves = leaves_of(40, seed=9)
    roots = [ref_mth(leaves[:n]) for n in range(41)]
    for n in range(1, 41):
        for i in range(n):
            proof = merkle.inclusion_proof(i, leaves[:n])
            assert merkle._root_from_inclusion(i, n, leaves[i], proof) == roots[n]
        for m in range(1, n):
            proof = merkle.consistency_proof(m, leaves[:n])
            assert proof == ref_subproof(m, leaves[:n], True)
            merkle.verify_consistency(m, n, roots[m], roots[n], proof)
            with pytest.raises(InvalidProofShape):
                merkle.verify_consistency(m, n, roots[m], roots[n], [*proof, X])
            if len(proof) > 1:
                with pytest.raises(InvalidProofShape):
                    merkle.verify_consistency(m, n, roots[m], roots[n], proof[:-1])


def test_the_compiled_loop_answers_valid_proofs_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the compiled module loaded, a valid proof never reaches the Python loop (the fast path is taken); with
    it switched off (PROVENANCE_NO_SPEEDUPS=1) or absent, every proof does."""
    leaves = leaves_of(13)
    proof = ref_path(12, leaves)

    def python_loop(*args: object) -> bytes:
        raise AssertionError("the Python loop ran")

    monkeypatch.setattr(merkle, "_root_from_inclusion", python_loop)
    if merkle._speedups is not None:
        assert merkle.root_from_inclusion(12, 13, leaves[12], proof) == ref_mth(leaves)
        merkle.verify_inclusion(12, 13, leaves[12], proof, ref_mth(leaves))
    else:
        with pytest.raises(AssertionError, match="the Python loop ran"):
            merkle.root_from_inclusion(12, 13, leaves[12], proof)
