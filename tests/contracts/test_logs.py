"""The transparency-log functions of the registry: anchoring rules, the Solidity inclusion verifier against the
Python one, witnesses' cosignatures."""

from __future__ import annotations

import hashlib
import random

import pytest

from provenance.core import eip712, merkle
from provenance.core.entries import batch_problem, entry_leaf_hash, pack_batch, pack_entry, split_batch
from provenance.errors import InvalidInput
from tests.support.federation import Fed, h, request, reverts


def _note(fed: Fed, code: str, exchange: int, size: int, root: bytes) -> bytes:
    digest = eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, exchange, size, root)
    return eip712.sign_digest(digest, bytes(fed.keys[code].key))


def test_the_inclusion_verifier_agrees_with_python_on_1000_cases(fed: Fed) -> None:
    rng = random.Random(6962)
    c = fed.contracts
    agreed = accepted = 0
    for case in range(1000):
        size = rng.randint(1, 300)
        leaves = [hashlib.sha256(f"{case}/{i}".encode()).digest() for i in range(size)]
        index = rng.randrange(size)
        proof = merkle.inclusion_proof(index, leaves)
        root = merkle.root(leaves)
        leaf, idx, sz = leaves[index], index, size
        mutation = rng.randrange(6)
        if mutation == 1 and proof:
            proof[rng.randrange(len(proof))] = bytes(32)
        elif mutation == 2:
            idx = (index + 1) % size
        elif mutation == 3:
            sz = size * 2
        elif mutation == 4 and proof:
            proof = proof[:-1]
        elif mutation == 5:
            proof = [*proof, bytes(32)]
        try:
            merkle.verify_inclusion(idx, sz, leaf, proof, root)
            py = True
        except merkle.MerkleError:
            py = False
        sol_root = bytes(c.call("Registry", "inclusionRoot", sz, idx, leaf, proof)[0])
        assert (sol_root == root) == py, (case, mutation)
        agreed += 1
        accepted += py
    assert agreed == 1000 and 100 < accepted < 900  # both outcomes well represented


def test_anchoring_checks_sizes_signatures_and_framing(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    c = fed.contracts
    entries = [pack_entry(request(owner)) for _ in range(3)]
    leaves = [entry_leaf_hash(1, e) for e in entries]
    root = merkle.root(leaves)
    batch = pack_batch(entries)
    with reverts("MalformedBatch", count=4, length=len(batch)):  # four entries declared, three given
        c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 4, root, batch, _note(fed, "SDE", 1, 4, root))
    with reverts("MalformedBatch", count=3, length=len(batch) - 1):
        c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 3, root, batch[:-1], _note(fed, "SDE", 1, 3, root))
    with reverts("EmptyBatch"):
        c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 0, root, b"", _note(fed, "SDE", 1, 0, root))
    with reverts("WrongSigner"):
        c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 3, root, batch, _note(fed, "ZJDE", 1, 3, root))
    c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 3, root, batch, _note(fed, "SDE", 1, 3, root))
    with reverts("TreeSizeMismatch", expected=3, given=2):  # a batch cannot take the log back
        c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 2, root, batch, _note(fed, "SDE", 1, 2, root))
    assert c.call("Registry", "logState", 1) == (3, 3)
    assert bytes(c.call("Registry", "anchoredRoot", 1, 3)[0]) == root
    # Sizes strictly grow: the same size cannot be anchored again, with this root or another.
    with reverts("CheckpointExists"):
        c.transact(fed.keys["SDE"], "Registry", "anchorCheckpoint", 3, h("other"), _note(fed, "SDE", 1, 3,
                                                                                        h("other")))
    # A direct registration is the next leaf; a checkpoint must then name size 4.
    fed.register("SDE", request(owner))
    assert c.call("Registry", "logState", 1) == (4, 3)
    with reverts("TreeSizeMismatch"):
        c.transact(fed.keys["SDE"], "Registry", "anchorCheckpoint", 3, root, _note(fed, "SDE", 1, 3, root))
    assert c.call("Registry", "verifyInclusion", 1, 3, 1, leaves[1], merkle.inclusion_proof(1, leaves))[0] is True
    assert c.call("Registry", "verifyInclusion", 1, 3, 1, leaves[0], merkle.inclusion_proof(1, leaves))[0] is False
    assert c.call("Registry", "verifyInclusion", 1, 2, 1, leaves[1], merkle.inclusion_proof(1, leaves[:2]))[0] is False


def test_witnesses_cosign_only_the_anchored_root_with_their_own_key(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    c = fed.contracts
    entry = pack_entry(request(owner))
    root = merkle.root([entry_leaf_hash(1, entry)])
    c.transact(fed.keys["SDE"], "Registry", "anchorBatch", 1, root, entry, _note(fed, "SDE", 1, 1, root))
    with reverts("CheckpointRootMismatch"):
        c.transact(fed.keys["ZJDE"], "Registry", "cosignCheckpoint", 1, 1, h("x"), _note(fed, "ZJDE", 1, 1, h("x")))
    with reverts("CheckpointNotAnchored"):
        c.transact(fed.keys["ZJDE"], "Registry", "cosignCheckpoint", 1, 2, root, _note(fed, "ZJDE", 1, 2, root))
    with reverts("WrongSigner"):
        c.transact(fed.keys["ZJDE"], "Registry", "cosignCheckpoint", 1, 1, root, _note(fed, "AHDE", 1, 1, root))
    with reverts("SelfWitness"):
        c.transact(fed.keys["SDE"], "Registry", "cosignCheckpoint", 1, 1, root, _note(fed, "SDE", 1, 1, root))
    tx = c.transact(fed.keys["ZJDE"], "Registry", "cosignCheckpoint", 1, 1, root, _note(fed, "ZJDE", 1, 1, root))
    assert tx.event("CheckpointCosigned").args["witnessId"] == 2


def test_checkpoint_digest_matches_the_contract(fed: Fed) -> None:
    want = bytes(fed.contracts.call("Registry", "checkpointDigest", 7, 99, h("r"))[0])
    assert want == eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 7, 99, h("r"))


@pytest.mark.parametrize("n", [1, 2, 3, 17, 64])
def test_python_proofs_from_subtree_hashes_equal_list_proofs(n: int) -> None:
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(n)]
    for i in range(n):
        assert merkle.inclusion_proof_with(i, n, lambda a, b: merkle.root(leaves[a:b])) == merkle.inclusion_proof(
            i, leaves)
    for m in range(n + 1):
        assert merkle.consistency_proof_with(m, n, lambda a, b: merkle.root(leaves[a:b])) == \
            merkle.consistency_proof(m, leaves)


def test_the_contract_frames_batches_as_python_does(fed: Fed) -> None:
    """Random batches, whole or cut or padded or with a count byte changed, under a right or wrong number of
    entries: the contract accepts exactly the batches Python splits, and the split gives back the entries."""
    rng = random.Random(105)
    owner, _ = fed.entity("SDE")
    c, key = fed.contracts, fed.keys["SDE"]
    sender = bytes.fromhex(key.address[2:])
    root = h("root")
    outcomes = {"tiled": 0, "malformed": 0}
    for case in range(300):
        # up to 70 entries, so that the parent counts span several 32-byte words
        entries = [pack_entry(request(owner, parents=tuple(h(f"{case}/{i}/{j}") for j in range(
            rng.choice([0, 0, 0, 1, 2, 5, 16]))))) for i in range(rng.choice([1, 2, 5, 31, 32, 33, 70]))]
        batch, count = pack_batch(entries), len(entries)
        cut = rng.random()
        if cut < 0.15:
            batch = batch[:rng.randrange(0, len(batch))]
        elif cut < 0.3:
            batch += bytes([rng.randrange(256) for _ in range(rng.choice([1, 31, 32, 33, 105]))])
        elif cut < 0.4:
            i = rng.randrange(count)
            batch = batch[:i] + bytes([(batch[i] + rng.choice([1, 255])) % 256]) + batch[i + 1:]
        elif cut < 0.5:
            count += rng.choice([-1, 1])
        problem = batch_problem(batch, count) if count else "none"
        if problem is None:
            assert split_batch(batch, count) == entries
        note = _note(fed, "SDE", 1, max(count, 1), root)
        if problem is None:
            c.call("Registry", "anchorBatch", count, root, batch, note, sender=sender)
            outcomes["tiled"] += 1
        elif count:
            with reverts("MalformedBatch", count=count, length=len(batch)):
                c.call("Registry", "anchorBatch", count, root, batch, note, sender=sender)
            with pytest.raises(InvalidInput, match="malformed batch"):
                split_batch(batch, count)
            outcomes["malformed"] += 1
    assert min(outcomes.values()) > 60, outcomes
