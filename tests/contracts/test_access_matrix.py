"""Access control: every state-changing function, called by every kind of unauthorised caller, reverts with the
right error and changes nothing (on the embedded chain a refused transaction does not even make a block)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.cross_border import FlowService
from provenance.core import eip712
from provenance.core import flows as F
from provenance.core.entries import pack_batch, pack_entry
from tests.support.federation import Fed, addr, h, make_fed, request, reverts
from tests.support.property_world import MANDATE, PR, PropWorld


@dataclass
class World:
    fed: Fed
    callers: dict[str, LocalAccount]
    record: bytes
    entity: int
    proposal: int
    calls: dict[str, Callable[[LocalAccount], Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    fed = make_fed(Path(tmp_path_factory.mktemp("matrix")) / "chain")
    svc = fed.svc
    owner, owner_account = fed.entity("SDE")
    other_entity, other_account = fed.entity("ZJDE")
    record = fed.register("SDE", request(owner))
    # The property register's parties and states, made while SDE's first key (the binder) and threshold 1 hold.
    pw = PropWorld(fed)
    product = pw.record(pw.alice)
    pledged = pw.record(pw.alice)
    pw.tx("pledge", pledged, pw.pledge_terms(), MANDATE, MANDATE)
    assessed = pw.record(pw.alice)
    assessment = pw.tx("assess", assessed, pw.assessment(1), MANDATE).event("Assessed").args["assessmentId"]
    disputed, ruled = pw.record(pw.alice), pw.record(pw.alice)
    for rid in (disputed, ruled):
        pw.tx("fileDispute", rid, pw.carol.id, h("claim"), MANDATE)
    pw.tx("rule", ruled, pw.arbitrator.id, 1, 0, h("ruling"), MANDATE)
    # A revoked key of SDE (SDE carries on with a new key) and a key of a removed exchange.
    old_sde = fed.keys["SDE"]
    new_sde = Account.create()
    svc.add_key(old_sde, new_sde)
    svc.revoke_key(new_sde, addr(old_sde))
    fed.keys["SDE"] = new_sde
    removed = fed.keys["AHDE"]
    # Supervisors: CAC acts; RM was removed; OLD is a key CAC rotated away from.
    rotated, cac, rm = Account.create(), Account.create(), Account.create()
    svc.propose_add_supervisor(new_sde, "CAC", "Cyberspace Administration", rotated)
    svc.rotate_supervisor_key(rotated, cac)
    svc.propose_add_supervisor(new_sde, "RM", "Removed", rm)
    svc.propose_remove_supervisor(new_sde, "RM")
    flows = FlowService(fed.contracts)
    file_req = (record, owner, other_entity, b"SG", F.category_code("IOT"), bytes(32), "maintenance")
    pending_app, _, _ = flows.file(new_sde, record_id=record, exporter=owner, receiver=other_entity,
                                   destination="SG", category="IOT", purpose="p")
    approved_app, _, _ = flows.file(new_sde, record_id=record, exporter=owner, receiver=other_entity,
                                    destination="SG", category="IOT", purpose="p")
    flows.approve(cac, approved_app)
    flows.deliver(new_sde, approved_app, h("manifest"), 10)
    drawn_check, _ = flows.announce(cac, owner, 1)
    fed.chain.mine(1)
    sample = flows.draw(new_sde, drawn_check).sample
    svc.propose_remove_exchange(new_sde, "AHDE")
    svc.propose_threshold(new_sde, 2)
    pending = svc.propose_add_exchange(new_sde, "PEND", "Pending", Account.create()).proposal_id
    pending_freeze = svc.propose_freeze_entity(new_sde, other_entity).proposal_id
    pw.sde = new_sde
    pending_property = pw.propose(0, pw.assessor.id)
    sde_note_key = h("sde note key")  # any 32 bytes: the contract cannot check an Ed25519 key
    fed.contracts.transact(new_sde, "Federation", "addNoteKey", sde_note_key)
    # Consents made for SDE (exchange 1): a key's KeyGrant, an account's Onboarding. Any other caller is refused,
    # an exchange by the signature check (a member cannot use a consent given to another).
    chain_id, registry = fed.chain.chain_id, fed.contracts.deployment.registry

    def grant(role: int = eip712.ROLE_EXCHANGE, member: int = 1) -> tuple[str, bytes]:
        key = Account.create()
        return key.address, eip712.sign_digest(svc.key_grant_digest(role, member, addr(key)), key.key)

    def onboarding(a: LocalAccount) -> Any:
        account = Account.create()
        digest = eip712.onboarding_digest(chain_id, registry, h("new"), addr(account), 0, 1, 2**40)
        return c.transact(a, "Registry", "registerEntity", h("new"), account.address, 0, 2**40,
                          eip712.sign_digest(digest, account.key))

    def onboarding_batch(a: LocalAccount) -> Any:
        account = Account.create()
        digest = eip712.onboarding_digest(chain_id, registry, h("new-batch"), addr(account), 0, 1, 2**40)
        item = (h("new-batch"), account.address, 0, 2**40, eip712.sign_digest(digest, account.key))
        return c.transact(a, "Registry", "registerEntities", [item])

    req = request(owner)
    digest = eip712.registration_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, req, 0, 2**40)
    sig = eip712.sign_digest(digest, owner_account.key)
    c = fed.contracts
    calls: dict[str, Callable[[LocalAccount], Any]] = {
        "propose": lambda a: c.transact(a, "Federation", "propose", 2, encode(["uint16"], [1])),
        "approve": lambda a: c.transact(a, "Federation", "approve", pending),
        "addKey": lambda a: c.transact(a, "Federation", "addKey", *grant()),
        "revokeKey": lambda a: c.transact(a, "Federation", "revokeKey", new_sde.address),
        "rotateKey": lambda a: c.transact(a, "Federation", "rotateKey", *grant()),
        "addNoteKey": lambda a: c.transact(a, "Federation", "addNoteKey", h(f"note key of {a.address}")),
        "revokeNoteKey": lambda a: c.transact(a, "Federation", "revokeNoteKey", sde_note_key),
        "registerEntity": onboarding,
        "registerEntities": onboarding_batch,
        # Anyone may apply an executed decision (the authority is the threshold of approvals); none may apply
        # one the federation has not executed.
        "applyEntityDecision": lambda a: c.transact(a, "Registry", "applyEntityDecision", pending_freeze),
        "recognizeEntity": lambda a: c.transact(a, "Registry", "recognizeEntity", other_entity),
        "register": lambda a: c.transact(a, "Registry", "register", request(owner).as_abi_tuple()),
        "registerBatch": lambda a: c.transact(a, "Registry", "registerBatch", [request(owner).as_abi_tuple()]),
        "registerFor": lambda a: c.transact(a, "Registry", "registerFor", req.as_abi_tuple(), 0, 2**40, sig),
        "setStatus": lambda a: c.transact(a, "Registry", "setStatus", record, 3, bytes(32)),
        "setEntityAccount": lambda a: c.transact(a, "Registry", "setEntityAccount", owner, a.address),
        "setMandate": lambda a: c.transact(a, "Registry", "setMandate", owner, 2, True),
        "anchorBatch": lambda a: c.transact(a, "Registry", "anchorBatch", 2, h("root"),
                                                pack_batch([pack_entry(request(owner))]),
                                                bytes(65)),
        "anchorCheckpoint": lambda a: c.transact(a, "Registry", "anchorCheckpoint", 1, h("root"), bytes(65)),
        "cosignCheckpoint": lambda a: c.transact(a, "Registry", "cosignCheckpoint", 1, 1, h("root"), bytes(65)),
        "setBatchedStatus": lambda a: c.transact(a, "Registry", "setBatchedStatus", h("batched"), 3, bytes(32)),
        "anchorStatusList": lambda a: c.transact(a, "Registry", "anchorStatusList", 1, h("list")),
        "recognizeCertificate": lambda a: c.transact(a, "Registry", "recognizeCertificate", h("cred"), record, 1),
        "publishMetadata": lambda a: c.transact(a, "Registry", "publishMetadata", [record], [b"{}"]),
        "publishProfiles": lambda a: c.transact(a, "Registry", "publishProfiles", [owner], [b"{}"]),
        "rotateSupervisorKey": lambda a: c.transact(a, "Federation", "rotateSupervisorKey",
                                                    *grant(eip712.ROLE_SUPERVISOR, 1)),
        "setCatalogueEntry": lambda a: c.transact(a, "CrossBorder", "setCatalogueEntry", F.category_code("IOT"), b"SG",
                                                  86400, 0),
        "fileApplication": lambda a: c.transact(a, "CrossBorder", "fileApplication", file_req),
        "approveApplication": lambda a: c.transact(a, "CrossBorder", "approveApplication", pending_app, 0, 0),
        # Anyone may relay a signed approval: what is authorised is the signer, here the caller itself.
        "approveWithSignature": lambda a: flows.approve_signed(
            new_sde, flows.sign_approval(a, pending_app, deadline=2**40)),
        "rejectApplication": lambda a: c.transact(a, "CrossBorder", "rejectApplication", pending_app, h("no")),
        "revokeApproval": lambda a: c.transact(a, "CrossBorder", "revokeApproval", approved_app, h("no")),
        "recordDelivery": lambda a: c.transact(a, "CrossBorder", "recordDelivery", approved_app, h("m"), 1),
        "recordDeliveries": lambda a: c.transact(a, "CrossBorder", "recordDeliveries", [(approved_app, h("m"), 1)]),
        "announceSpotCheck": lambda a: c.transact(a, "CrossBorder", "announceSpotCheck", owner, 1),
        "concludeSpotCheck": lambda a: c.transact(a, "CrossBorder", "concludeSpotCheck", drawn_check, sample,
                                                  h("report"), 1, 0),
        # The property register (its consents are mandates to SDE: another exchange is refused by the party's
        # consent where any member may submit) and the Registry's hooks, which only the property register calls.
        "bindRegistry": lambda a: c.transact(a, PR, "bindRegistry", "0x" + c.address("Registry").hex()),
        "transfer": lambda a: c.transact(a, PR, "transfer", product, pw.bob.id, MANDATE, MANDATE, MANDATE),
        "change": lambda a: c.transact(a, PR, "change", product, 7, h("m"), h("r"), MANDATE),
        "renew": lambda a: c.transact(a, PR, "renew", product, MANDATE),
        "cancel": lambda a: c.transact(a, PR, "cancel", product, 1, MANDATE),
        "pledge": lambda a: c.transact(a, PR, "pledge", product, pw.pledge_terms(), MANDATE, MANDATE),
        "release": lambda a: c.transact(a, PR, "release", pledged, MANDATE),
        "enforce": lambda a: c.transact(a, PR, "enforce", pledged, pw.bank.id, MANDATE),
        "list": lambda a: c.transact(a, PR, "list", product, bytes(32)),
        "assess": lambda a: c.transact(a, PR, "assess", product, pw.assessment(1), MANDATE),
        "withdrawAssessment": lambda a: c.transact(a, PR, "withdrawAssessment", assessed, assessment, MANDATE),
        "fileDispute": lambda a: c.transact(a, PR, "fileDispute", product, pw.carol.id, h("claim"), MANDATE),
        "rule": lambda a: c.transact(a, PR, "rule", disputed, pw.arbitrator.id, 1, 0, h("ruling"), MANDATE),
        # Any member exchange carries a ruling out: only non-members are refused.
        "executeRuling": lambda a: c.transact(a, PR, "executeRuling", ruled),
        # Anyone may apply an executed decision; none may apply one the federation has not executed.
        "applyDecision": lambda a: c.transact(a, PR, "applyDecision", pending_property),
        "propertyUpdate": lambda a: c.transact(a, "Registry", "propertyUpdate", product, pw.bob.id, 7, h("m")),
        "propertyRevoke": lambda a: c.transact(a, "Registry", "propertyRevoke", product, bytes(32)),
    }
    callers = {
        "stranger": Account.create(),
        "revoked-key": old_sde,
        "removed-exchange": removed,
        "merchant": other_account,
        "other-exchange": fed.keys["ZJDE"],
        "owner-registrar": new_sde,
        "supervisor": cac,
        "rotated-supervisor-key": rotated,
        "removed-supervisor": rm,
    }
    return World(fed, callers, record, owner, pending, calls)


EXCHANGE_ONLY = ["propose", "approve", "addKey", "revokeKey", "rotateKey", "addNoteKey", "revokeNoteKey",
                 "registerEntity", "registerEntities",
                 "recognizeEntity", "register", "registerBatch", "registerFor", "setStatus", "anchorBatch",
                 "anchorCheckpoint", "cosignCheckpoint", "setBatchedStatus", "anchorStatusList", "recognizeCertificate",
                 "publishMetadata", "publishProfiles"]
ENTITY_ONLY = ["setEntityAccount", "setMandate"]
SUPERVISOR_ONLY = ["rotateSupervisorKey", "setCatalogueEntry", "approveApplication", "approveWithSignature",
                   "rejectApplication", "revokeApproval", "announceSpotCheck", "concludeSpotCheck"]
EXPORTER_AGENT_ONLY = ["fileApplication", "recordDelivery", "recordDeliveries"]
PROPERTY_REGISTRAR_ONLY = ["transfer", "change", "renew", "cancel", "pledge", "release", "enforce", "list"]
PROPERTY_MEMBER_WITH_CONSENT = ["assess", "withdrawAssessment", "fileDispute", "rule"]
PROPERTY_REGISTER_ONLY = ["propertyUpdate", "propertyRevoke"]
NON_MEMBERS = ("stranger", "revoked-key", "removed-exchange", "merchant", "supervisor", "rotated-supervisor-key",
               "removed-supervisor")
NOT_SUPERVISORS = ("stranger", "revoked-key", "removed-exchange", "merchant", "other-exchange", "owner-registrar",
                   "rotated-supervisor-key", "removed-supervisor")
ALL_CALLERS = NOT_SUPERVISORS + ("supervisor",)
# drawSample is open to anyone on purpose: it takes no input, and its outcome is fixed by the seed block's hash.
PUBLIC = {"drawSample"}

CASES = (
    [(fn, who, "NotExchangeKey") for fn in EXCHANGE_ONLY
     for who in ("stranger", "revoked-key", "removed-exchange", "merchant")]
    + [("setStatus", "other-exchange", "NotRegistrar"), ("revokeKey", "other-exchange", "KeyNotOwned"),
       ("revokeNoteKey", "other-exchange", "UnknownNoteKey"),
       ("cosignCheckpoint", "owner-registrar", "SelfWitness"),
       ("recognizeCertificate", "owner-registrar", "SelfWitness"),
       ("publishMetadata", "other-exchange", "NotRegistrar"),
       ("publishProfiles", "other-exchange", "NotEntityRegistrar")]
    + [(fn, who, "NotEntityAccount") for fn in ENTITY_ONLY
       for who in ("stranger", "revoked-key", "removed-exchange", "merchant", "other-exchange", "owner-registrar")]
    + [(fn, "supervisor", "NotExchangeKey") for fn in EXCHANGE_ONLY]
    + [(fn, "supervisor", "NotEntityAccount") for fn in ENTITY_ONLY]
    + [(fn, who, "NotSupervisorKey") for fn in SUPERVISOR_ONLY for who in NOT_SUPERVISORS]
    + [("addKey", "other-exchange", "WrongKeySigner"), ("rotateKey", "other-exchange", "WrongKeySigner"),
       ("registerEntity", "other-exchange", "WrongSigner"), ("registerEntities", "other-exchange", "WrongSigner")]
    + [("applyEntityDecision", who, "ProposalNotExecuted") for who in ALL_CALLERS]
    + [(fn, who, "NotExporterAgent") for fn in EXPORTER_AGENT_ONLY
       for who in ("stranger", "revoked-key", "removed-exchange", "merchant", "other-exchange", "supervisor",
                   "rotated-supervisor-key", "removed-supervisor")]
    + [(fn, who, "NotExchangeKey") for fn in PROPERTY_REGISTRAR_ONLY + PROPERTY_MEMBER_WITH_CONSENT
       + ["executeRuling"] for who in NON_MEMBERS]
    + [(fn, "other-exchange", "NotRegistrar") for fn in PROPERTY_REGISTRAR_ONLY]
    + [(fn, "other-exchange", "NoConsent") for fn in PROPERTY_MEMBER_WITH_CONSENT]
    + [("applyDecision", who, "ProposalNotExecuted") for who in ALL_CALLERS]
    + [("bindRegistry", who, "NotBinder") for who in ALL_CALLERS if who != "revoked-key"]
    + [("bindRegistry", "revoked-key", "AlreadyBound")]  # the deployer's key (since revoked) bound it already
    + [(fn, who, "NotPropertyRegister") for fn in PROPERTY_REGISTER_ONLY for who in ALL_CALLERS]
)


@pytest.mark.parametrize(("fn", "who", "error"), CASES, ids=[f"{f}-by-{w}" for f, w, _ in CASES])
def test_unauthorised_callers_are_refused(world: World, fn: str, who: str, error: str) -> None:
    head = world.fed.chain.block_number()
    counts = world.fed.svc.counts(), FlowService(world.fed.contracts).counts()
    with reverts(error):
        world.calls[fn](world.callers[who])
    assert world.fed.chain.block_number() == head
    assert (world.fed.svc.counts(), FlowService(world.fed.contracts).counts()) == counts


def test_every_state_changing_function_is_in_the_matrix(world: World) -> None:
    mutating = set()
    for abi in world.fed.contracts.abis.values():
        for item in abi.artifact.abi:
            if item["type"] == "function" and item["stateMutability"] not in ("view", "pure"):
                mutating.add(item["name"])
    assert mutating == set(world.calls) | PUBLIC
    assert {fn for fn, _, _ in CASES} | PUBLIC == mutating
