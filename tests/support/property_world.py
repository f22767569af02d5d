"""The property register driven directly through its ABI (no service layer): a federation with a bank, an
accredited assessor and an appointed arbitrator, governance decisions, consents by mandate or by an EIP-712
signature made with eth-account's full-message API (independent of the contract's own digest)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import TxResult
from provenance.types import EntityRole, Kind
from tests.support.federation import Fed, h, request

PR = "PropertyRegister"
MANDATE: tuple[int, bytes] = (0, b"")
PROPERTY_DECISION = 8
ACCREDIT, WITHDRAW_ACCREDITATION, APPOINT, REMOVE_ARBITRATOR, SET_TERM, SET_COMPLIANCE = range(6)
DAY = 86_400
FAR = 2**40
_n = itertools.count(1)

CONSENT_TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                     {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
    "PropertyConsent": [{"name": "action", "type": "string"}, {"name": "recordId", "type": "bytes32"},
                        {"name": "entityId", "type": "uint32"}, {"name": "counterparty", "type": "uint32"},
                        {"name": "termsHash", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
                        {"name": "deadline", "type": "uint256"}],
}


def consent_message(fed: Fed, action: str, record: bytes, entity: int, counterparty: int, terms_hash: bytes,
                    nonce: int, deadline: int) -> dict[str, Any]:
    return {
        "types": CONSENT_TYPES, "primaryType": "PropertyConsent",
        "domain": {"name": "ProvenancePropertyRegister", "version": "1", "chainId": fed.chain.chain_id,
                   "verifyingContract": "0x" + fed.contracts.address(PR).hex()},
        "message": {"action": action, "recordId": record, "entityId": entity, "counterparty": counterparty,
                    "termsHash": terms_hash, "nonce": nonce, "deadline": deadline},
    }


def keccak(data: bytes) -> bytes:
    from eth_utils import keccak as _k

    return bytes(_k(data))


def terms(types: list[str], values: list[Any]) -> bytes:
    """termsHash: keccak256 of the ABI encoding of the action's arguments (IPropertyRegister's table)."""
    return keccak(encode(types, values))


NO_TERMS = keccak(b"")
PLEDGE_TYPES = ["(uint32,uint128,bytes3,uint40,bytes32)"]
ASSESS_TYPES = ["(uint32,uint8,uint16,bool,uint8,uint128,bytes3,bytes32,uint40,uint40,bytes32)"]


@dataclass
class Party:
    id: int
    key: LocalAccount


class PropWorld:
    """SDE (registrar), ZJDE, AHDE; holders, a bank, an assessor and an arbitrator, all with mandates to SDE."""

    def __init__(self, fed: Fed) -> None:
        self.fed = fed
        self.c = fed.contracts
        self.sde = fed.keys["SDE"]
        self.zj = fed.keys["ZJDE"]
        self.alice = self.party()
        self.bob = self.party()
        self.carol = self.party()
        self.bank = self.party(EntityRole.FINANCIAL_INSTITUTION)
        self.assessor = self.party(EntityRole.ASSESSMENT_INSTITUTION)
        self.arbitrator = self.party(EntityRole.ARBITRATION_INSTITUTION)
        self.decide(ACCREDIT, self.assessor.id)
        self.decide(APPOINT, self.arbitrator.id)

    def party(self, role: EntityRole = EntityRole.SUPPLIER, mandate_to: tuple[str, ...] = ("SDE",)) -> Party:
        entity_id, key = self.fed.entity("SDE", mandate_to=mandate_to, role=role)
        return Party(entity_id, key)

    def propose(self, decision: int, subject: int, value: int = 0, target: bytes | None = None) -> int:
        payload = encode(["address", "uint8", "uint32", "uint64"],
                         ["0x" + (target or self.c.address(PR)).hex(), decision, subject, value])
        tx = self.c.transact(self.sde, "Federation", "propose", PROPERTY_DECISION, payload)
        return int(tx.event("ProposalCreated").args["proposalId"])

    def decide(self, decision: int, subject: int, value: int = 0) -> TxResult:
        return self.c.transact(self.sde, PR, "applyDecision", self.propose(decision, subject, value))

    def record(self, owner: Party | None = None, kind: Kind = Kind.PRODUCT, parents: tuple[bytes, ...] = ()) -> bytes:
        return bytes(self.fed.register("SDE", request((owner or self.alice).id, kind=kind,
                                                       content=h(f"prop-{next(_n)}"), parents=parents)))  # type: ignore[arg-type]

    def tx(self, fn: str, *args: Any, signer: LocalAccount | None = None) -> TxResult:
        return self.c.transact(signer or self.sde, PR, fn, *args)

    def view(self, fn: str, *args: Any) -> Any:
        out = self.c.call(PR, fn, *args)
        return out[0] if len(out) == 1 else out

    def owner(self, rid: bytes) -> int:
        return int(self.c.call("Registry", "getRecord", rid)[0][0])

    def status(self, rid: bytes) -> int:
        return int(self.c.call("Registry", "getRecord", rid)[0][6])

    def sign(self, party: Party, action: str, rid: bytes, counterparty: int, terms_hash: bytes,
             deadline: int = FAR, nonce: int | None = None) -> tuple[int, bytes]:
        n = self.view("nonceOf", party.id) if nonce is None else nonce
        msg = consent_message(self.fed, action, rid, party.id, counterparty, terms_hash, n, deadline)
        signed = Account.sign_typed_data(party.key.key, full_message=msg)
        return deadline, bytes(signed.signature)

    def timestamp(self) -> int:
        """The head block's time: what views judge by, and (with a fixed clock) what the next block carries."""
        return int(self.fed.chain.get_block(self.fed.chain.block_number()).timestamp)

    def pledge_terms(self, pledgee: int | None = None, amount: int = 10**8, until: int | None = None) -> tuple:
        return (self.bank.id if pledgee is None else pledgee, amount, b"CNY",
                until if until is not None else self.timestamp() + 365 * DAY, h("loan-ref"))

    def assessment(self, kind: int = 1, *, passed: bool = True, score: int = 0, method: int = 0, amount: int = 0,
                   valid_until: int = 0, report: bytes | None = None, assessor: int | None = None) -> tuple:
        return (self.assessor.id if assessor is None else assessor, kind, score, passed, method, amount, b"CNY",
                h("GB/T 36344"), self.timestamp(), valid_until,
                h("report") if report is None else report)
