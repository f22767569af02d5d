"""Federation: threshold governance over membership, key history and rotation."""

from __future__ import annotations

from eth_abi import encode
from eth_account import Account

from provenance.types import ExchangeStatus, ProposalAction
from tests.support.federation import Fed, addr, reverts


def test_bootstrap_member_and_members_added_by_proposal(fed: Fed) -> None:
    exchanges = fed.svc.exchanges()
    assert [(e.id, e.code, e.status) for e in exchanges] == [
        (1, "SDE", ExchangeStatus.ACTIVE), (2, "ZJDE", ExchangeStatus.ACTIVE), (3, "AHDE", ExchangeStatus.ACTIVE)]
    assert fed.svc.member_count() == 3 and fed.svc.threshold() == 1
    assert fed.svc.active_exchange_of(fed.keys["ZJDE"].address) == 2


def test_threshold_governance(fed: Fed) -> None:
    out = fed.svc.propose_threshold(fed.keys["SDE"], 2)
    assert out.executed and fed.svc.threshold() == 2
    new = Account.create()
    out = fed.svc.propose_add_exchange(fed.keys["SDE"], "JSDE", "Jiangsu", new)
    assert (out.approvals, out.executed) == (1, False)
    assert fed.svc.exchange_count() == 3
    with reverts("AlreadyApproved", proposalId=out.proposal_id, exchangeId=1):
        fed.svc.approve(fed.keys["SDE"], out.proposal_id)
    done = fed.svc.approve(fed.keys["AHDE"], out.proposal_id)
    assert (done.approvals, done.executed) == (2, True)
    assert fed.svc.exchange("JSDE").id == 4
    with reverts("ProposalAlreadyExecuted", proposalId=out.proposal_id):
        fed.svc.approve(fed.keys["ZJDE"], out.proposal_id)


def test_membership_change_makes_pending_proposals_stale(fed: Fed) -> None:
    fed.svc.propose_threshold(fed.keys["SDE"], 2)
    a = fed.svc.propose_add_exchange(fed.keys["SDE"], "AAA", "A", Account.create())
    b = fed.svc.propose_remove_exchange(fed.keys["ZJDE"], "AHDE")
    fed.svc.approve(fed.keys["ZJDE"], a.proposal_id)  # executes: epoch moves on
    with reverts("ProposalStale", proposalId=b.proposal_id):
        fed.svc.approve(fed.keys["SDE"], b.proposal_id)


def test_proposals_expire(fed: Fed) -> None:
    fed.svc.propose_threshold(fed.keys["SDE"], 2)
    p = fed.svc.propose_add_exchange(fed.keys["SDE"], "LATE", "Late", Account.create())
    proposal = fed.svc.proposal(p.proposal_id)
    fed.chain.clock = lambda: proposal.expires_at + 10  # type: ignore[method-assign]
    with reverts("ProposalExpired", proposalId=p.proposal_id, expiresAt=proposal.expires_at):
        fed.svc.approve(fed.keys["ZJDE"], p.proposal_id)


def test_remove_exchange_invalidates_its_keys_and_keeps_history(fed: Fed) -> None:
    zj = fed.keys["ZJDE"]
    before = fed.chain.block_number()
    out = fed.svc.propose_remove_exchange(fed.keys["SDE"], "ZJDE")
    assert out.executed
    removed_at = fed.chain.block_number()
    ex = fed.svc.exchange("ZJDE")
    assert ex.status == ExchangeStatus.REMOVED and ex.removed_at == removed_at
    with reverts("NotExchangeKey"):
        fed.svc.active_exchange_of(zj.address)
    valid = fed.contracts.call("Federation", "isKeyValidAt", zj.address, 2, before)[0]
    after = fed.contracts.call("Federation", "isKeyValidAt", zj.address, 2, removed_at)[0]
    assert valid and not after
    assert fed.svc.member_count() == 2
    with reverts("ExchangeNotActive", exchangeId=2):
        fed.svc.propose_remove_exchange(fed.keys["SDE"], "ZJDE")
    # The code stays taken: history must stay unambiguous.
    with reverts("DuplicateExchangeCode"):
        fed.svc.propose_add_exchange(fed.keys["SDE"], "ZJDE", "again", Account.create())


def test_threshold_cannot_exceed_members(fed: Fed) -> None:
    with reverts("InvalidThreshold", threshold=4, members=3):
        fed.svc.propose_threshold(fed.keys["SDE"], 4)
    with reverts("InvalidThreshold", threshold=0, members=3):
        fed.contracts.transact(fed.keys["SDE"], "Federation", "propose", 2, encode(["uint16"], [0]))
    fed.svc.propose_threshold(fed.keys["SDE"], 3)
    p = fed.svc.propose_remove_exchange(fed.keys["SDE"], "AHDE")
    fed.svc.approve(fed.keys["ZJDE"], p.proposal_id)
    with reverts("InvalidThreshold", threshold=3, members=2):
        fed.svc.approve(fed.keys["AHDE"], p.proposal_id)


def test_malformed_proposals_refused_at_once(fed: Fed) -> None:
    sde = fed.keys["SDE"]
    with reverts("InvalidPayload"):
        fed.contracts.transact(sde, "Federation", "propose", int(ProposalAction.REMOVE_EXCHANGE), b"\x01")
    with reverts("InvalidPayload"):
        fed.contracts.transact(sde, "Federation", "propose", int(ProposalAction.ADD_EXCHANGE), b"\x00" * 32)
    with reverts("UnknownExchange", exchangeId=9):
        fed.contracts.transact(sde, "Federation", "propose", 1, encode(["uint16"], [9]))
    for bad in (b"sde".ljust(8, b"\0"), b"\0SDE".ljust(8, b"\0"), b"S D".ljust(8, b"\0"), bytes(8)):
        with reverts("InvalidExchangeCode"):
            fed.contracts.transact(sde, "Federation", "propose", 0,
                                   encode(["bytes8", "string", "address", "bytes"],
                                          [bad, "x", Account.create().address, b""]))
    with reverts("InvalidExchangeName"):
        fed.svc.propose_add_exchange(sde, "NEW", "", Account.create())
    with reverts("ZeroKey"):
        fed.svc.propose_add_exchange(sde, "NEW", "New", bytes(20))
    with reverts("KeyAlreadyUsed"):
        fed.svc.propose_add_exchange(sde, "NEW", "New", fed.keys["ZJDE"])
    with reverts("UnknownProposal", proposalId=42):
        fed.svc.approve(sde, 42)


def test_key_rotation_and_history(fed: Fed) -> None:
    old = fed.keys["SDE"]
    new = Account.create()
    added_at = fed.chain.block_number() + 1
    fed.svc.rotate_key(old, new)
    history = fed.svc.keys_of("SDE")
    assert [k.address for k in history] == [addr(old), addr(new)]
    assert history[0].valid_to == added_at and history[1].valid_from == added_at and history[1].valid_to == 0
    with reverts("NotExchangeKey"):
        fed.svc.rotate_key(old, Account.create())
    assert fed.svc.active_exchange_of(new.address) == 1
    # A revoked key is never reused, by anyone.
    with reverts("KeyAlreadyUsed"):
        fed.svc.add_key(fed.keys["ZJDE"], old)
    is_valid = fed.contracts.call("Federation", "isKeyValidAt", old.address, 1, added_at - 1)[0]
    assert is_valid
    assert not fed.contracts.call("Federation", "isKeyValidAt", old.address, 1, added_at)[0]
    assert not fed.contracts.call("Federation", "isKeyValidAt", old.address, 2, added_at - 1)[0]
    assert not fed.contracts.call("Federation", "isKeyValidAt", new.address, 1, added_at - 1)[0]


def test_key_add_and_revoke_rules(fed: Fed) -> None:
    sde, zj = fed.keys["SDE"], fed.keys["ZJDE"]
    with reverts("LastActiveKey"):
        fed.svc.revoke_key(sde, addr(sde))
    with reverts("KeyNotOwned", key=addr(zj), exchangeId=1):
        fed.svc.revoke_key(sde, addr(zj))
    with reverts("ZeroKey"):
        fed.svc.add_key(sde, bytes(20))
    second = Account.create()
    fed.svc.add_key(sde, second)
    fed.svc.revoke_key(second, addr(sde))  # the new key may retire the old
    with reverts("KeyAlreadyRevoked"):
        fed.svc.revoke_key(second, addr(sde))
    for _ in range(7):
        fed.svc.add_key(second, Account.create())
    with reverts("TooManyKeys", exchangeId=1):
        fed.svc.add_key(second, Account.create())
