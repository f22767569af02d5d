"""Witnesses cosign partners' checkpoints after checking consistency; equivocation is kept as evidence; offline
verification accepts a checkpoint the snapshot lacks only with enough partner cosignatures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from provenance.core import certificates as C
from provenance.core import eip712
from tests.support.certificates import make_world
from tests.support.federation import request


def test_witnesses_cosign_consistent_checkpoints_and_refuse_a_rewritten_log(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        done = w.certifier.witness(w.fed.keys["AHDE"])
        assert {(x.exchange, x.problem) for x in done} == {(1, None), (2, None)}
        assert w.certifier.logs.cosignatures(1, 2)[0].witness == 3
        assert w.certifier.witness(w.fed.keys["AHDE"]) == []  # nothing new
        intake = w.intake("SDE")
        intake.submit(request(w.owner_sde))
        intake.seal()
        again = w.certifier.witness(w.fed.keys["AHDE"])
        assert [(x.exchange, x.tree_size, x.problem) for x in again] == [(1, 3, None)]
        # The witness remembers a different root for size 3 than the log now proves: a rewritten history.
        state_path = w.certifier._witness_state_path()
        state = json.loads(state_path.read_text())
        state["3"]["1"] = [3, "11" * 32]
        state_path.write_text(json.dumps(state))
        intake.submit(request(w.owner_sde))
        intake.seal()
        refused = w.certifier.witness(w.fed.keys["AHDE"])
        assert refused[0].problem is not None and "consistent" in refused[0].problem
        assert w.certifier.equivocations()[-1]["kind"] == "inconsistent-checkpoint"
        assert w.certifier.logs.cosignatures(1, 4) == []  # not cosigned
    finally:
        w.close()


def test_a_signed_root_that_differs_from_the_anchored_one_is_kept_as_equivocation(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        cert = w.certifier.issue(w.product, w.fed.keys["SDE"])
        doc = copy.deepcopy(cert)
        ev = next(e for e in doc["evidence"][1:] if e["record"] == doc["credentialSubject"]["record"]["id"])
        other_root = bytes(31) + b"\x01"
        digest = eip712.checkpoint_digest(w.fed.chain.chain_id, w.fed.contracts.deployment.registry, 1,
                                          ev["treeSize"], other_root)
        ev["root"] = "0x" + other_root.hex()
        ev["checkpointSignature"] = "0x" + eip712.sign_digest(digest, bytes(w.fed.keys["SDE"].key)).hex()
        report = w.certifier.verify_online(doc)
        assert "checkpoint" in report.failed and "equivocation" in report.check("checkpoint").detail
        kept = w.certifier.equivocations()
        assert kept and kept[-1]["signedRoot"] == "0x" + other_root.hex() and kept[-1]["treeSize"] == ev["treeSize"]
    finally:
        w.close()


def test_offline_a_checkpoint_missing_from_the_snapshot_needs_partner_cosignatures(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        snapshot = w.certifier.snapshot(w.fed.keys["ZJDE"], anchor=False)  # taken before the next checkpoint
        trusted = w.certifier.trusted_keys(2)
        intake = w.intake("SDE")
        f = intake.submit(request(w.owner_sde))
        intake.seal()
        w.follower.sync()
        rid = f.result().record_id
        bare = w.certifier.issue(rid, w.fed.keys["SDE"])
        now = int(__import__("time").time())
        assert w.certifier.verify_offline(bare, snapshot, trusted, now=now).failed == ["checkpoint"]
        w.certifier.witness(w.fed.keys["ZJDE"])
        w.certifier.witness(w.fed.keys["AHDE"])
        cosigned = w.certifier.issue(rid, w.fed.keys["SDE"])
        ev = cosigned["evidence"][1]
        assert {c["witness"] for c in ev["cosignatures"]} == {2, 3}
        now = C._parse_iso(cosigned["validFrom"], "$") + 60  # issued a moment after `bare`
        rep = w.certifier.verify_offline(cosigned, snapshot, trusted, now=now)
        assert rep.valid, [(c.name, c.detail) for c in rep.checks if not c.ok]
        # A cosignature by a key that is not the witness's own does not count.
        forged = copy.deepcopy(cosigned)
        for c in forged["evidence"][1]["cosignatures"]:
            c["witness"] = 1
        doc = copy.deepcopy(forged)
        doc["proof"] = [{k: v for k, v in doc["proof"][0].items() if k != "proofValue"}]
        doc = C.sign(doc, bytes(w.fed.keys["SDE"].key))
        assert w.certifier.verify_offline(doc, snapshot, trusted, now=now).failed == ["checkpoint"]
    finally:
        w.close()
