"""Cross-border flows on the contract: supervisors, applications and their rules, approvals (direct, signed,
forged, replayed), delivery evidence and its limits, spot checks and their reproducible draw."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from provenance.core import eip712
from provenance.core import flows as F
from provenance.errors import InvalidInput
from provenance.types import Grade, RecordId, Status
from tests.support.cross_border import DAY, World, cross_border_world
from tests.support.federation import addr, h, request, reverts


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from cross_border_world(tmp_path)


def _at(world: World, t: int) -> None:
    world.fed.chain.clock = lambda: t  # type: ignore[method-assign]


# ---------------------------------------------------------------------- supervisors


def test_supervisors_are_added_and_removed_by_threshold_governance(world: World) -> None:
    svc, keys = world.fed.svc, world.fed.keys
    assert [(s.id, s.code) for s in svc.supervisors()] == [(1, "CAC"), (2, "SHCAC")]
    svc.propose_threshold(keys["SDE"], 2)
    new = Account.create()
    out = svc.propose_add_supervisor(keys["SDE"], "NDRC", "Data Bureau", new)
    assert not out.executed and svc.supervisor_count() == 2
    with reverts("NotSupervisorKey"):
        svc.active_supervisor_of(new.address)
    assert svc.approve(keys["AHDE"], out.proposal_id).executed
    assert svc.active_supervisor_of(new.address) == 3
    # A supervisor has no vote.
    with reverts("NotExchangeKey"):
        svc.approve(world.cac, out.proposal_id)
    # Removal, by the same governance, ends its key at once.
    out = svc.propose_remove_supervisor(keys["SDE"], "NDRC")
    svc.approve(keys["ZJDE"], out.proposal_id)
    with reverts("NotSupervisorKey"):
        svc.active_supervisor_of(new.address)
    assert svc.supervisor("NDRC").status.name == "REMOVED"


def test_a_key_serves_one_party_only(world: World) -> None:
    svc, keys = world.fed.svc, world.fed.keys
    with reverts("KeyAlreadyUsed"):
        svc.propose_add_supervisor(keys["SDE"], "DUP", "Dup", keys["ZJDE"])
    with reverts("KeyAlreadyUsed"):
        svc.add_key(keys["SDE"], world.cac)
    with reverts("DuplicateSupervisorCode"):
        svc.propose_add_supervisor(keys["SDE"], "CAC", "again", Account.create())


def test_supervisor_key_rotation_keeps_history(world: World) -> None:
    svc = world.fed.svc
    new = Account.create()
    svc.rotate_supervisor_key(world.cac, new)
    with reverts("NotSupervisorKey"):
        svc.active_supervisor_of(world.cac.address)
    assert svc.active_supervisor_of(new.address) == 1
    keys = svc.supervisor("CAC").keys
    assert [k.address for k in keys] == [addr(world.cac), addr(new)] and keys[0].valid_to != 0 == keys[1].valid_to


def test_only_supervisors_keep_the_catalogue_and_decide(world: World) -> None:
    with reverts("NotSupervisorKey"):
        world.flows.set_catalogue(world.sde, "IOT.TELEMETRY", "SG", DAY)
    app_id, _ = world.file(world.record())
    for fn in (lambda k: world.flows.approve(k, app_id), lambda k: world.flows.reject(k, app_id, "no")):
        with reverts("NotSupervisorKey"):
            fn(world.sde)
        with reverts("NotSupervisorKey"):
            fn(world.exporter_key)


# ---------------------------------------------------------------------- application rules


def test_core_data_is_never_approved(world: World) -> None:
    rid = world.record(Grade.CORE)
    world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", DAY)
    with reverts("CoreDataNotExportable", recordId=rid):
        world.file(rid, assessment=h("assessment"))


def test_important_data_needs_an_assessment_and_a_supervisor(world: World) -> None:
    rid = world.record(Grade.IMPORTANT)
    world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", DAY)
    with reverts("AssessmentRequired", recordId=rid):
        world.file(rid)
    app_id, status = world.file(rid, assessment=h("assessment-2026-001"))
    assert status == "pending"  # the catalogue never approves important data
    with reverts("ApplicationNotApproved"):
        world.flows.deliver(world.sde, app_id, h("m"), 10)
    world.flows.approve(world.cac, app_id, expires_at=world.now() + DAY, volume_limit=1000)
    app = world.flows.application(app_id)
    assert (app.status, app.decided_by, app.grade, app.assessment_ref) == ("approved", 1, 1, h("assessment-2026-001"))


def test_general_data_on_the_low_risk_catalogue_is_approved_automatically(world: World) -> None:
    world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", 30 * DAY, 5_000)
    app_id, status = world.file(world.record())
    app = world.flows.application(app_id)
    assert (status, app.decided_by, app.volume_limit) == ("approved", 0, 5_000)
    assert app.expires_at == app.filed_at + 30 * DAY
    # Another destination, or another category, is not on the catalogue: a supervisor decides.
    assert world.file(world.record(), destination="US")[1] == "pending"
    assert world.file(world.record(), category="HEALTH.RECORDS")[1] == "pending"
    # Delisting takes the pair off.
    world.flows.set_catalogue(world.sh, "IOT.TELEMETRY", "SG", 0)
    assert world.file(world.record())[1] == "pending"
    with reverts("InvalidCatalogueEntry"):
        world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", 0, 10)


def test_suspended_and_revoked_records_are_refused(world: World) -> None:
    for status in (Status.SUSPENDED, Status.REVOKED):
        rid = world.record()
        world.fed.svc.set_status(world.sde, rid, status)
        with reverts("RecordNotActive", recordId=rid, status=int(status)):
            world.file(rid)
    # A record suspended while its application waits cannot be approved...
    rid = world.record()
    app_id, _ = world.file(rid)
    world.fed.svc.set_status(world.sde, rid, Status.SUSPENDED)
    with reverts("RecordNotActive"):
        world.flows.approve(world.cac, app_id)
    # ...and one suspended after approval takes no more deliveries.
    app_id = world.approved()
    rid = world.flows.application(app_id).record_id
    world.flows.deliver(world.sde, app_id, h("m1"), 10)
    world.fed.svc.set_status(world.sde, RecordId(rid), Status.SUSPENDED)
    with reverts("RecordNotActive"):
        world.flows.deliver(world.sde, app_id, h("m2"), 10)


def test_who_may_apply(world: World) -> None:
    rid = world.record()
    # The exporter itself, or an exchange holding its mandate; nobody else.
    assert world.file(rid, signer=world.exporter_key)[0] == 1
    with reverts("NotExporterAgent", exporter=world.exporter):
        world.file(rid, signer=world.fed.keys["ZJDE"])
    with reverts("NotExporterAgent"):
        world.file(rid, signer=Account.create())
    # Only the record's owner exports it.
    other, _ = world.fed.entity("SDE")
    with reverts("ExporterNotOwner", recordId=rid, owner=world.exporter, exporter=other):
        world.file(rid, exporter=other)
    with reverts("UnknownRecord"):
        world.file(RecordId(h("nothing")))


def test_application_fields_are_checked(world: World) -> None:
    rid = world.record()
    for destination in ("CN", "sg", "S1"):
        with pytest.raises(InvalidInput):  # the node refuses before sending
            world.file(rid, destination=destination)
    with pytest.raises(InvalidInput):
        world.file(rid, category="lower case")
    req = (rid, world.exporter, world.receiver, b"CN", F.category_code("A"), bytes(32), "p")
    with reverts("InvalidJurisdiction"):
        world.fed.contracts.transact(world.sde, "CrossBorder", "fileApplication", req)
    for bad_category in (b"a".ljust(32, b"\0"), bytes(32), b"A\0B".ljust(32, b"\0")):
        with reverts("InvalidCategory"):
            world.fed.contracts.transact(world.sde, "CrossBorder", "fileApplication",
                                         (rid, world.exporter, world.receiver, b"SG", bad_category, bytes(32), "p"))
    for purpose in ("", "x" * 257):
        with reverts("InvalidPurpose"):
            world.fed.contracts.transact(world.sde, "CrossBorder", "fileApplication",
                                         (rid, world.exporter, world.receiver, b"SG", F.category_code("A"), bytes(32),
                                          purpose))
    with reverts("UnknownEntity"):
        world.fed.contracts.transact(world.sde, "CrossBorder", "fileApplication",
                                     (rid, world.exporter, 999, b"SG", F.category_code("A"), bytes(32), "p"))


def test_decisions_are_final(world: World) -> None:
    app_id, _ = world.file(world.record())
    world.flows.reject(world.cac, app_id, "purpose too broad")
    with reverts("ApplicationNotPending", applicationId=app_id):
        world.flows.approve(world.sh, app_id)
    with reverts("ApplicationNotApproved"):
        world.flows.deliver(world.sde, app_id, h("m"), 1)
    app_id = world.approved()
    with reverts("ApplicationNotPending"):
        world.flows.reject(world.cac, app_id, "late")
    world.flows.revoke(world.sh, app_id, "incident 42")
    assert world.flows.application(app_id).status == "revoked"
    with reverts("ApplicationNotApproved"):
        world.flows.deliver(world.sde, app_id, h("m"), 1)
    with reverts("InvalidExpiry"):
        world.flows.approve(world.cac, world.file(world.record())[0], expires_at=world.now() - 1)


# ---------------------------------------------------------------------- signed approvals


def test_signed_approval_is_relayed_once(world: World) -> None:
    app_id, _ = world.file(world.record())
    deadline = world.now() + 3600
    signed = world.flows.sign_approval(world.cac, app_id, expires_at=world.now() + DAY, volume_limit=500,
                                       deadline=deadline)
    digest = world.flows.approval_digest(app_id, signed.expires_at, 500, deadline)
    assert digest == world.fed.contracts.call("CrossBorder", "approvalDigest", app_id, signed.expires_at, 500,
                                              deadline)[0]
    world.flows.approve_signed(world.fed.keys["AHDE"], signed)  # anyone may relay it
    app = world.flows.application(app_id)
    assert (app.status, app.decided_by, app.volume_limit) == ("approved", 1, 500)
    with reverts("ApplicationNotPending", applicationId=app_id):
        world.flows.approve_signed(world.sde, signed)  # replayed


def test_forged_and_misused_approvals_are_refused(world: World) -> None:
    app_id, _ = world.file(world.record())
    other_id, _ = world.file(world.record())
    deadline = world.now() + 3600
    good = world.flows.sign_approval(world.cac, app_id, volume_limit=500, deadline=deadline)
    # Signed by a key that is not a supervisor's (an exchange's, the exporter's, a stranger's).
    for key in (world.sde, world.exporter_key, Account.create()):
        forged = world.flows.sign_approval(key, app_id, volume_limit=500, deadline=deadline)
        with reverts("NotSupervisorKey"):
            world.flows.approve_signed(world.sde, forged)
    # The supervisor's signature with other terms, for another application, or past its deadline.
    from dataclasses import replace
    for variant in (replace(good, volume_limit=10**9), replace(good, expires_at=world.now() + 10 * DAY),
                    replace(good, application=other_id), replace(good, deadline=deadline + 1)):
        with reverts("NotSupervisorKey"):
            world.flows.approve_signed(world.sde, variant)
    # Bound to this chain and contract: a signature over another domain recovers another signer.
    here = world.fed.chain.chain_id
    for chain_id, contract in ((here + 1, world.flows.address), (here, bytes(20))):
        app = world.flows.application(app_id)
        digest = F.approval_digest(chain_id, contract, app_id, app.record_id, world.exporter, 0, 500, deadline,
                                   receiver=app.receiver, destination=app.destination, category=app.category,
                                   purpose_hash=app.purpose_hash, assessment_ref=app.assessment_ref)
        sig = eip712.sign_digest(digest, bytes(world.cac.key))
        with reverts("NotSupervisorKey"):
            world.flows.approve_signed(world.sde, replace(good, signature=sig))
    # Malformed and malleable encodings.
    n = eip712.SECP256K1_N
    r, s, v = good.signature[:32], int.from_bytes(good.signature[32:64], "big"), good.signature[64]
    twin = r + (n - s).to_bytes(32, "big") + bytes([55 - v])
    for sig in (good.signature[:64], twin, good.signature[:64] + b"\x05"):
        with reverts("InvalidSignature"):
            world.flows.approve_signed(world.sde, replace(good, signature=sig))
    late = world.flows.sign_approval(world.cac, app_id, volume_limit=500, deadline=world.now() - 1)
    with reverts("SignatureExpired"):
        world.flows.approve_signed(world.sde, late)
    # A removed supervisor's signature no longer counts.
    out = world.fed.svc.propose_remove_supervisor(world.sde, "CAC")
    assert out.executed
    with reverts("NotSupervisorKey"):
        world.flows.approve_signed(world.sde, good)


# ---------------------------------------------------------------------- evidence


def test_deliveries_within_volume_and_expiry(world: World) -> None:
    t0 = world.now()
    app_id = world.approved(expires_at=t0 + DAY, volume=1_000)
    d1, _ = world.flows.deliver(world.sde, app_id, h("m1"), 600)
    d2, _ = world.flows.deliver(world.exporter_key, app_id, h("m2"), 400)  # up to the limit exactly
    assert (d1, d2) == (1, 2)
    with reverts("VolumeExceeded", applicationId=app_id, volumeLimit=1_000, delivered=1_000, size=1):
        world.flows.deliver(world.sde, app_id, h("m3"), 1)
    app_id = world.approved(expires_at=t0 + DAY)
    _at(world, t0 + DAY)
    world.flows.deliver(world.sde, app_id, h("m4"), 10)  # at the expiry second: still valid
    _at(world, t0 + DAY + 1)
    with reverts("ApprovalExpired", applicationId=app_id, expiresAt=t0 + DAY):
        world.flows.deliver(world.sde, app_id, h("m5"), 10)
    with reverts("EmptyDelivery"):
        world.flows.deliver(world.sde, world.approved(), h("m"), 0)
    with reverts("EmptyDelivery"):
        world.flows.deliver(world.sde, world.approved(), bytes(32), 5)
    with reverts("UnknownApplication"):
        world.flows.deliver(world.sde, 999, h("m"), 5)


def test_evidence_for_someone_elses_approval_is_refused(world: World) -> None:
    mine = world.approved()
    rival, rival_key = world.fed.entity("ZJDE")  # mandate to ZJDE only
    rival_rid = world.fed.register("ZJDE", request(rival))
    theirs, _, _ = world.flows.file(world.fed.keys["ZJDE"], record_id=rival_rid, exporter=rival,
                                    receiver=world.receiver, destination="SG", category="A", purpose="p")
    world.flows.approve(world.cac, theirs)
    # SDE holds no mandate of the rival, and the exporter's key is not the rival's.
    for key in (world.sde, world.exporter_key):
        with reverts("NotExporterAgent", exporter=rival):
            world.flows.deliver(key, theirs, h("m"), 1)
    with reverts("NotExporterAgent", exporter=world.exporter):
        world.flows.deliver(rival_key, mine, h("m"), 1)
    # A batch mixing one's own and another's approval is refused whole.
    with reverts("NotExporterAgent", exporter=rival):
        world.flows.deliver_batch(world.sde, [(mine, h("a"), 1), (theirs, h("b"), 1)])
    assert world.flows.application(mine).deliveries == 0
    ids, _ = world.flows.deliver_batch(world.sde, [(mine, h("a"), 1), (mine, h("b"), 2)])
    assert ids == [1, 2] and world.flows.application(mine).delivered == 3


def test_batches_are_all_or_nothing(world: World) -> None:
    app_id = world.approved(volume=100)
    with reverts("VolumeExceeded"):
        world.flows.deliver_batch(world.sde, [(app_id, h("a"), 60), (app_id, h("b"), 41)])
    assert world.flows.application(app_id).delivered == 0
    with reverts("EmptyBatch"):
        world.fed.contracts.transact(world.sde, "CrossBorder", "recordDeliveries", [])


# ---------------------------------------------------------------------- spot checks


def _deliveries(world: World, n: int) -> list[int]:
    app_id = world.approved()
    return world.flows.deliver_batch(world.sde, [(app_id, h(f"m{i}"), 10 + i) for i in range(n)])[0]


def test_spot_check_sample_is_drawn_from_a_later_block_and_reproducible(world: World) -> None:
    ids = _deliveries(world, 20)
    with reverts("NotSupervisorKey"):
        world.flows.announce(world.sde, world.exporter, 5)
    check_id, seed_block = world.flows.announce(world.cac, world.exporter, 5)
    assert seed_block == world.fed.chain.block_number() + 1  # its hash did not exist at the announcement
    with reverts("SeedNotYetAvailable", seedBlock=seed_block):
        world.flows.draw(world.sde, check_id)  # this transaction is mined in the seed block itself
    world.fed.chain.mine(1)
    drawn = world.flows.draw(world.fed.keys["AHDE"], check_id)  # anyone may draw
    block_hash = world.fed.chain.get_block(seed_block).hash
    seed = F.seed_of(block_hash, world.fed.chain.chain_id, world.flows.address, check_id)
    assert drawn.seed == seed
    assert drawn.sample == [ids[p] for p in F.sample_positions(seed, 20, 5)] and len(set(drawn.sample)) == 5
    with reverts("SpotCheckNotAnnounced"):
        world.flows.draw(world.sde, check_id)
    check = world.flows.spot_check(check_id)
    assert check["state"] == "drawn" and check["sampleHash"] == "0x" + F.sample_hash(drawn.sample).hex()


def test_conclusion_with_another_sample_is_refused(world: World) -> None:
    ids = _deliveries(world, 12)
    check_id, _ = world.flows.announce(world.cac, world.exporter, 4)
    world.fed.chain.mine(1)
    drawn = world.flows.draw(world.sde, check_id)
    others = [i for i in ids if i not in drawn.sample]
    for sample in (drawn.sample[::-1], drawn.sample[:3], drawn.sample[:3] + others[:1], drawn.sample + others[:1]):
        with reverts("SampleMismatch", checkId=check_id):
            world.flows.conclude(world.cac, check_id, sample, h("report"), len(sample), 0)
    with reverts("ResultCountMismatch"):
        world.flows.conclude(world.cac, check_id, drawn.sample, h("report"), 1, 1)
    with reverts("NotCheckSupervisor"):
        world.flows.conclude(world.sh, check_id, drawn.sample, h("report"), 4, 0)
    world.flows.conclude(world.cac, check_id, drawn.sample, h("report"), 3, 1)
    check = world.flows.spot_check(check_id)
    assert (check["state"], check["passed"], check["failed"]) == ("concluded", 3, 1)
    with reverts("SpotCheckNotDrawn"):
        world.flows.conclude(world.cac, check_id, drawn.sample, h("report"), 3, 1)


def test_spot_check_limits_and_lapse(world: World) -> None:
    with reverts("NothingToCheck", exporter=world.exporter):
        world.flows.announce(world.cac, world.exporter, 3)
    _deliveries(world, 3)
    for size in (0, 65):
        with reverts("InvalidSampleSize"):
            world.flows.announce(world.cac, world.exporter, size)
    # A sample as large as the population takes all of it, in order.
    check_id, _ = world.flows.announce(world.cac, world.exporter, 10)
    world.fed.chain.mine(1)
    assert world.flows.draw(world.sde, check_id).sample == [1, 2, 3]
    # Nobody drew within 256 blocks: the hash is gone and the check lapses in the open.
    check_id, _ = world.flows.announce(world.cac, world.exporter, 2)
    world.fed.chain.mine(258)
    assert world.flows.draw(world.sde, check_id).lapsed
    assert world.flows.spot_check(check_id)["state"] == "lapsed"


def test_python_mirrors_the_contract(world: World) -> None:
    rng = random.Random(7)
    for _ in range(30):
        seed = rng.randbytes(32)
        population = rng.randrange(1, 200)
        size = rng.randrange(1, 65)
        assert F.sample_positions(seed, population, size) == \
            list(world.fed.contracts.call("CrossBorder", "sampleOf", seed, population, size)[0])
    block_hash = rng.randbytes(32)
    assert F.seed_of(block_hash, world.fed.chain.chain_id, world.flows.address, 9) == \
        world.fed.contracts.call("CrossBorder", "seedOf", 9, block_hash)[0]
    assert F.domain_separator(world.fed.chain.chain_id, world.flows.address) == \
        world.fed.contracts.call("CrossBorder", "domainSeparator")[0]
