"""RFC 6962 / RFC 9162 Merkle trees: SHA-256, 0x00 leaf and 0x01 node prefixes, inclusion and consistency proofs.

The prefixes (RFC 6962 section 2.1) make a leaf hash and an interior node hash different functions, so an
interior node can never be presented as a leaf. Verification follows RFC 9162 sections 2.1.3.2 (inclusion)
and 2.1.4.2 (consistency): it recomputes the root from the proof and fails with a typed error that carries
the evidence, never with a bare False.

Plain values only: leaf hashes and proofs are lists of 32-byte strings.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

from provenance.errors import VerificationError

try:  # compiled from _speedups.c where the package was installed with a C compiler
    from provenance.core import _speedups
except ImportError:  # pragma: no cover - the Python loop below computes the same roots
    _speedups = None  # type: ignore[assignment]
if os.environ.get("PROVENANCE_NO_SPEEDUPS") == "1":
    # The Python loop alone, as in an install without a C compiler: the mutation runs (scripts/mutate) test it
    # in both modes, since otherwise the compiled loop answers first and hides the Python one's mutants.
    _speedups = None  # type: ignore[assignment]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class MerkleError(VerificationError):
    """Raised when a Merkle proof does not verify."""


class InvalidProofShape(MerkleError):
    """Raised when a proof has the wrong number of elements for its sizes, or an element is not 32 bytes."""


class IndexOutOfRange(MerkleError):
    """Raised when a leaf index is not below the tree size, or sizes go backwards."""


class RootMismatch(MerkleError):
    """Raised when the root recomputed from a proof is not the expected root."""

    def __init__(self, size: int, computed: bytes, expected: bytes) -> None:
        super().__init__(f"root mismatch for tree size {size}: computed {computed.hex()}, expected {expected.hex()}")
        self.size = size
        self.computed = computed
        self.expected = expected


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (RFC 9162 2.1.1)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 2.1.3.1)."""
    n = len(leaves)
    if not 0 <= index < n:
        raise IndexOutOfRange(f"leaf index {index} is not in a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(index, leaves[:k]) + [root(leaves[k:])]
    return inclusion_proof(index - k, leaves[k:]) + [root(leaves[:k])]


def consistency_proof(size1: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 2.1.4.1): that the first ``size1`` leaves are a prefix of ``leaves``."""
    n = len(leaves)
    if not 0 <= size1 <= n:
        raise IndexOutOfRange(f"size {size1} is not within a tree of size {n}")
    if size1 == 0 or size1 == n:
        return []
    return _subproof(size1, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


_HASH_TYPES = {bytes, bytearray}
_HASH_SIZES = {HASH_SIZE}


def _check_elements(proof: Sequence[bytes]) -> None:
    if not proof or (set(map(type, proof)) <= _HASH_TYPES and set(map(len, proof)) == _HASH_SIZES):
        return  # the common case, checked without a Python loop
    for i, p in enumerate(proof):
        if not isinstance(p, bytes | bytearray) or len(p) != HASH_SIZE:
            raise InvalidProofShape(f"proof element {i} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Recompute the root from an inclusion proof (RFC 9162 2.1.3.2 steps 1-5)."""
    if _speedups is not None:  # the same loop compiled; None for anything it leaves to the Python loop
        root = _speedups.inclusion_root(index, size, leaf, proof)
        if root is not None:
            return root
    return _root_from_inclusion(index, size, leaf, proof)


def _root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise IndexOutOfRange(f"leaf index {index} is not in a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise InvalidProofShape(f"the leaf hash is not {HASH_SIZE} bytes")
    _check_elements(proof)
    fn, sn, r = index, size - 1, bytes(leaf)
    sha256 = hashlib.sha256
    for p in proof:
        if sn == 0:
            raise InvalidProofShape(f"the proof has {len(proof)} elements, more than a tree of size {size} needs")
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r).digest()  # node_hash(p, r), inlined: this loop is most of a check
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(b"\x01" + r + p).digest()  # node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofShape(f"the proof has {len(proof)} elements, fewer than a tree of size {size} needs")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> None:
    """Raise unless ``proof`` shows leaf hash ``leaf`` at ``index`` of the tree of ``size`` with this root."""
    computed = root_from_inclusion(index, size, leaf, proof)
    if computed != expected_root:
        raise RootMismatch(size, computed, bytes(expected_root))


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Raise unless ``proof`` shows the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``."""
    if size1 < 0 or size2 < size1:
        raise IndexOutOfRange(f"tree sizes go backwards ({size1} then {size2})")
    _check_elements(proof)
    if size1 == size2:
        if proof:
            raise InvalidProofShape("equal sizes take an empty proof")
        if root1 != root2:
            raise RootMismatch(size1, bytes(root1), bytes(root2))
        return
    if size1 == 0:
        if proof:
            raise InvalidProofShape("consistency with the empty tree takes an empty proof")
        return
    if not proof:
        raise InvalidProofShape(f"a consistency proof from {size1} to {size2} cannot be empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node of the path
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofShape(f"the proof has more elements than sizes {size1} and {size2} need")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofShape(f"the proof has fewer elements than sizes {size1} and {size2} need")
    if fr != root1:
        raise RootMismatch(size1, fr, bytes(root1))
    if sr != root2:
        raise RootMismatch(size2, sr, bytes(root2))


SubtreeHash = Callable[[int, int], bytes]
"""``mth(start, end)``: MTH of leaves ``start .. end-1`` (a store answers it from saved subtree roots)."""


def inclusion_proof_with(index: int, size: int, mth: SubtreeHash) -> list[bytes]:
    """PATH(index, D[size]) for a tree the caller holds as subtree hashes rather than a list of leaves."""
    if not 0 <= index < size:
        raise IndexOutOfRange(f"leaf index {index} is not in a tree of size {size}")
    out: list[bytes] = []
    start, end, m = 0, size, index
    siblings: list[tuple[int, int]] = []
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start, m = start + k, m - k
    for a, b in reversed(siblings):  # PATH lists the siblings from the leaf up
        out.append(mth(a, b))
    return out


def consistency_proof_with(size1: int, size2: int, mth: SubtreeHash) -> list[bytes]:
    """PROOF(size1, D[size2]) for a tree the caller holds as subtree hashes."""
    if not 0 <= size1 <= size2:
        raise IndexOutOfRange(f"size {size1} is not within a tree of size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    parts: list[tuple[int, int]] = []
    start, end, m, complete = 0, size2, size1, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            parts.append((start + k, end))
            end = start + k
        else:
            parts.append((start, start + k))
            start, m, complete = start + k, m - k, False
    head = [] if complete else [mth(start, end)]
    return head + [mth(a, b) for a, b in reversed(parts)]


class CompactRange:
    """An append-only log's Merkle state in O(log n) space: the roots of its perfect subtrees, largest first.

    Appending merges equal-sized subtrees (like a binary counter); the root folds them right to left, which
    is exactly MTH of all the leaves appended so far. This is what an exchange keeps to extend its log and
    produce each checkpoint without holding every leaf.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != bin(size).count("1"):
            raise InvalidProofShape(f"a compact range of size {size} has {bin(max(size, 0)).count('1')} hashes")
        _check_elements(hashes)
        self.size = size
        self.hashes = [bytes(h) for h in hashes]

    def append(self, leaf: bytes, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        """Append a leaf hash; ``on_node(level, index, hash)`` hears of every perfect subtree it completes."""
        if len(leaf) != HASH_SIZE:
            raise InvalidProofShape(f"the leaf hash is not {HASH_SIZE} bytes")
        h = bytes(leaf)
        n = self.size
        level = 0
        while n & 1:  # each trailing one bit is a perfect subtree of the same size as the carry: merge
            h = node_hash(self.hashes.pop(), h)
            n >>= 1
            level += 1
            if on_node is not None:
                on_node(level, n, h)
        self.hashes.append(h)
        self.size += 1

    def encode(self) -> bytes:
        """size (8 bytes, big-endian) followed by the hashes."""
        return self.size.to_bytes(8, "big") + b"".join(self.hashes)

    @classmethod
    def decode(cls, value: bytes) -> CompactRange:
        if len(value) < 8 or (len(value) - 8) % HASH_SIZE:
            raise InvalidProofShape("a compact range encoding is 8 bytes of size and whole 32-byte hashes")
        size = int.from_bytes(value[:8], "big")
        return cls(size, [value[i:i + HASH_SIZE] for i in range(8, len(value), HASH_SIZE)])

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h
