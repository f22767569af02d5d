"""Cross-border flows read as a dishonest party would (issue 18): unbounded catalogue validity, approvals that
bind only part of what the supervisor judged, spot checks orphaned by a removed supervisor, frozen entities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account

from provenance.core import eip712
from provenance.core import flows as F
from tests.support.cross_border import DAY, World, cross_border_world
from tests.support.federation import h, reverts


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The same world of supervisors, exporter and receiver as the cross-border contract's tests."""
    yield from cross_border_world(tmp_path)


def test_catalogue_validity_is_bounded(world: World) -> None:
    max_validity = int(world.fed.contracts.call("CrossBorder", "MAX_VALIDITY")[0])
    assert max_validity == 3650 * DAY
    for too_long in (max_validity + 1, 2**64 - 1):
        with reverts("ValidityTooLong", maxValidity=too_long, max=max_validity):
            world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", too_long)
    # At the bound, general-grade filings for the pair are approved at once, far from any overflow.
    world.flows.set_catalogue(world.cac, "IOT.TELEMETRY", "SG", max_validity)
    app_id, status = world.file(world.record())
    assert status == "approved"
    assert world.flows.application(app_id).expires_at == world.now() + max_validity


def test_a_signed_approval_binds_every_stored_term_of_the_application(world: World) -> None:
    app_id, _ = world.file(world.record())
    app = world.flows.application(app_id)
    deadline = world.now() + 3600
    good = world.flows.sign_approval(world.cac, app_id, volume_limit=500, deadline=deadline)
    chain_id, contract = world.fed.chain.chain_id, world.flows.address
    terms = {"receiver": app.receiver, "destination": app.destination, "category": app.category,
             "purpose_hash": app.purpose_hash, "assessment_ref": app.assessment_ref}
    # What the supervisor judged differs from what is stored under this id in any one term: refused.
    for name, value in (("receiver", app.exporter), ("destination", "US"), ("category", "FINANCE"),
                        ("purpose_hash", h("another purpose")), ("assessment_ref", h("another assessment"))):
        judged = {**terms, name: value}
        digest = F.approval_digest(chain_id, contract, app_id, app.record_id, app.exporter, 0, 500, deadline,
                                   **judged)
        with reverts("NotSupervisorKey"):
            world.flows.approve_signed(world.sde, replace(good, signature=eip712.sign_digest(digest,
                                                                                            world.cac.key)))
    world.flows.approve_signed(world.sde, good)
    assert world.flows.application(app_id).status == "approved"


def test_a_removed_supervisors_spot_check_is_concluded_by_another(world: World) -> None:
    app_id = world.approved()
    world.flows.deliver(world.sde, app_id, h("m1"), 10)
    check_id, _ = world.flows.announce(world.cac, world.exporter, 1)
    world.fed.chain.mine(1)
    drawn = world.flows.draw(world.sde, check_id)
    with reverts("NotCheckSupervisor", checkId=check_id, supervisorId=2):
        world.flows.conclude(world.sh, check_id, drawn.sample, h("report"), 1, 0)
    world.fed.svc.propose_remove_supervisor(world.sde, "CAC")
    with reverts("NotSupervisorKey"):
        world.flows.conclude(world.cac, check_id, drawn.sample, h("report"), 1, 0)
    world.flows.conclude(world.sh, check_id, drawn.sample, h("report"), 1, 0)
    assert world.flows.spot_check(check_id)["state"] == "concluded"


def test_a_frozen_entity_is_neither_exporter_nor_receiver(world: World) -> None:
    app_id = world.approved()
    record = world.record()
    svc = world.fed.svc
    svc.propose_freeze_entity(world.sde, world.exporter)
    with reverts("EntityIsFrozen", entityId=world.exporter):
        world.file(record)
    with reverts("EntityIsFrozen", entityId=world.exporter):
        world.flows.deliver(world.sde, app_id, h("m"), 1)
    with reverts("EntityIsFrozen", entityId=world.exporter):
        world.flows.deliver(world.exporter_key, app_id, h("m"), 1)  # the entity's own account neither
    svc.propose_unfreeze_entity(world.sde, world.exporter)
    svc.set_mandate(world.exporter_key, world.exporter, "SDE", True)  # the freeze withdrew it
    svc.propose_freeze_entity(world.sde, world.receiver)
    with reverts("EntityIsFrozen", entityId=world.receiver):
        world.file(record)
    svc.propose_reassign_entity(world.sde, world.receiver, bytes.fromhex(Account.create().address[2:]))
    assert world.file(record)[1] == "pending"
