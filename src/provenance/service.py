"""The operations of a node, on plain values: what the CLI (and later the HTTP API) call.

Each write takes the signing key explicitly, so the caller decides who acts (the node's exchange key, an
entity's key); each returns typed values decoded from the contracts' events and views.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.chain.contracts import FEDERATION, REGISTRY, Contracts, TxResult
from provenance.core import eip712
from provenance.core.ids import code_text, parse_exchange_code
from provenance.errors import ContractReverted, InvalidInput, NotFound
from provenance.types import (
    Address,
    Entity,
    EntityRole,
    Exchange,
    ExchangeStatus,
    Grade,
    Hash32,
    KeyRecord,
    Kind,
    ProposalAction,
    Record,
    RecordId,
    RegistrationRequest,
    Rights,
    Source,
    Status,
)


@dataclass(frozen=True)
class Proposal:
    id: int
    action: ProposalAction
    proposer: int
    approvals: int
    executed: bool
    epoch: int
    expires_at: int
    payload: bytes


@dataclass(frozen=True)
class Supervisor:
    """A data-security authority of the federation: approves cross-border transfers and runs spot checks."""

    id: int
    code: str
    name: str
    status: ExchangeStatus
    joined_at: int
    removed_at: int
    keys: list[KeyRecord]


@dataclass(frozen=True)
class ProposalOutcome:
    proposal_id: int
    approvals: int
    executed: bool
    tx_hash: bytes
    gas_used: int


@dataclass(frozen=True)
class SignedRegistration:
    """An owner's consent to one registration by one exchange, as EIP-712 signature, nonce and deadline."""

    request: RegistrationRequest
    registrar: int
    nonce: int
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class WriteResult:
    tx_hash: bytes
    block_number: int
    gas_used: int


class RegistryService:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.chain = contracts.chain

    # ------------------------------------------------------------------ federation reads

    def exchange_count(self) -> int:
        return int(self._fed("exchangeCount")[0])

    def threshold(self) -> int:
        return int(self._fed("threshold")[0])

    def member_count(self) -> int:
        return int(self._fed("memberCount")[0])

    def exchanges(self) -> list[Exchange]:
        return [self.exchange(i) for i in range(1, self.exchange_count() + 1)]

    def exchange(self, ref: int | str) -> Exchange:
        exchange_id = self.exchange_id(ref)
        code, status, joined, removed, name = self._fed("getExchange", exchange_id)[0]
        return Exchange(exchange_id, code_text(code), name, ExchangeStatus(status), joined, removed)

    def exchange_id(self, ref: int | str) -> int:
        """Resolve an exchange code ("SDE") or id ("1", 1) to its id."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            exchange_id = int(ref)
            if not 0 < exchange_id <= self.exchange_count():
                raise NotFound(f"no exchange with id {exchange_id}")
            return exchange_id
        exchange_id = int(self._fed("exchangeIdByCode", parse_exchange_code(ref))[0])
        if exchange_id == 0:
            raise NotFound(f"no exchange with code {ref!r}")
        return exchange_id

    def keys_of(self, ref: int | str) -> list[KeyRecord]:
        exchange_id = self.exchange_id(ref)
        return [self.key(bytes.fromhex(a[2:])) for a in self._fed("keysOf", exchange_id)[0]]

    def key(self, address: bytes) -> KeyRecord:
        exchange_id, valid_from, valid_to = self._fed("getKey", to_checksum_address(address))[0]
        return KeyRecord(Address(address), exchange_id, valid_from, valid_to)

    def active_exchange_of(self, address: bytes | str) -> int:
        """The exchange a key currently signs for; raises ContractReverted(NotExchangeKey) otherwise."""
        return int(self._fed("activeExchangeOf", to_checksum_address(address))[0])

    def supervisor_count(self) -> int:
        return int(self._fed("supervisorCount")[0])

    def supervisors(self) -> list[Supervisor]:
        return [self.supervisor(i) for i in range(1, self.supervisor_count() + 1)]

    def supervisor(self, ref: int | str) -> Supervisor:
        supervisor_id = self.supervisor_id(ref)
        code, status, joined, removed, name = self._fed("getSupervisor", supervisor_id)[0]
        keys = [bytes.fromhex(a[2:]) for a in self._fed("supervisorKeysOf", supervisor_id)[0]]
        records = []
        for k in keys:
            _sid, valid_from, valid_to = self._fed("getSupervisorKey", to_checksum_address(k))[0]
            records.append(KeyRecord(Address(k), supervisor_id, valid_from, valid_to))
        return Supervisor(supervisor_id, code_text(code), name, ExchangeStatus(status), joined, removed, records)

    def supervisor_id(self, ref: int | str) -> int:
        """Resolve a supervisor code ("CAC") or id to its id."""
        count = self.supervisor_count()
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            if not 0 < int(ref) <= count:
                raise NotFound(f"no supervisor with id {ref}")
            return int(ref)
        want = parse_exchange_code(ref)
        for i in range(1, count + 1):
            if self._fed("getSupervisor", i)[0][0] == want:
                return i
        raise NotFound(f"no supervisor with code {ref!r}")

    def active_supervisor_of(self, address: bytes | str) -> int:
        """The supervisor whose current key this is; raises ContractReverted(NotSupervisorKey) otherwise."""
        return int(self._fed("activeSupervisorOf", to_checksum_address(address))[0])

    def rotate_supervisor_key(self, signer: LocalAccount, new_key: bytes) -> WriteResult:
        return _write(self._tx(signer, FEDERATION, "rotateSupervisorKey", to_checksum_address(new_key)))

    def proposals(self) -> list[Proposal]:
        n = int(self._fed("proposalCount")[0])
        return [self.proposal(i) for i in range(1, n + 1)]

    def proposal(self, proposal_id: int) -> Proposal:
        action, proposer, approvals, executed, epoch, expires_at, payload = self._fed("getProposal", proposal_id)[0]
        return Proposal(proposal_id, ProposalAction(action), proposer, approvals, executed, epoch, expires_at,
                        payload)

    # ------------------------------------------------------------------ federation writes

    def propose_add_exchange(self, signer: LocalAccount, code: str, name: str, key: bytes) -> ProposalOutcome:
        payload = encode(["bytes8", "string", "address"], [parse_exchange_code(code), name, key])
        return self._propose(signer, ProposalAction.ADD_EXCHANGE, payload)

    def propose_remove_exchange(self, signer: LocalAccount, ref: int | str) -> ProposalOutcome:
        return self._propose(signer, ProposalAction.REMOVE_EXCHANGE, encode(["uint16"], [self.exchange_id(ref)]))

    def propose_threshold(self, signer: LocalAccount, threshold: int) -> ProposalOutcome:
        if not 0 < threshold < 2**16:
            raise InvalidInput(f"threshold {threshold} out of range")
        return self._propose(signer, ProposalAction.SET_THRESHOLD, encode(["uint16"], [threshold]))

    def propose_add_supervisor(self, signer: LocalAccount, code: str, name: str, key: bytes) -> ProposalOutcome:
        payload = encode(["bytes8", "string", "address"], [parse_exchange_code(code), name, key])
        return self._propose(signer, ProposalAction.ADD_SUPERVISOR, payload)

    def propose_remove_supervisor(self, signer: LocalAccount, ref: int | str) -> ProposalOutcome:
        return self._propose(signer, ProposalAction.REMOVE_SUPERVISOR, encode(["uint16"], [self.supervisor_id(ref)]))

    def approve(self, signer: LocalAccount, proposal_id: int) -> ProposalOutcome:
        tx = self._tx(signer, FEDERATION, "approve", proposal_id)
        return self._outcome(tx, proposal_id)

    def add_key(self, signer: LocalAccount, key: bytes) -> WriteResult:
        return _write(self._tx(signer, FEDERATION, "addKey", to_checksum_address(key)))

    def revoke_key(self, signer: LocalAccount, key: bytes) -> WriteResult:
        return _write(self._tx(signer, FEDERATION, "revokeKey", to_checksum_address(key)))

    def rotate_key(self, signer: LocalAccount, new_key: bytes) -> WriteResult:
        return _write(self._tx(signer, FEDERATION, "rotateKey", to_checksum_address(new_key)))

    def _propose(self, signer: LocalAccount, action: ProposalAction, payload: bytes) -> ProposalOutcome:
        tx = self._tx(signer, FEDERATION, "propose", int(action), payload)
        return self._outcome(tx, int(tx.event("ProposalCreated").args["proposalId"]))

    def _outcome(self, tx: TxResult, proposal_id: int) -> ProposalOutcome:
        approvals = int(tx.event("ProposalApproved").args["approvals"])
        executed = any(e.name == "ProposalExecuted" for e in tx.events)
        return ProposalOutcome(proposal_id, approvals, executed, tx.receipt.tx_hash, tx.receipt.gas_used)

    # ------------------------------------------------------------------ entities

    def register_entity(self, signer: LocalAccount, identifier_hash: Hash32, account: bytes,
                        role: EntityRole) -> int:
        tx = self._tx(signer, REGISTRY, "registerEntity", identifier_hash, to_checksum_address(account), int(role))
        return int(tx.event("EntityRegistered").args["entityId"])

    def recognize_entity(self, signer: LocalAccount, entity_id: int) -> WriteResult:
        return _write(self._tx(signer, REGISTRY, "recognizeEntity", entity_id))

    def set_entity_account(self, entity_signer: LocalAccount, entity_id: int, new_account: bytes) -> WriteResult:
        return _write(self._tx(entity_signer, REGISTRY, "setEntityAccount", entity_id,
                               to_checksum_address(new_account)))

    def set_mandate(self, entity_signer: LocalAccount, entity_id: int, exchange: int | str,
                    granted: bool) -> WriteResult:
        exchange_id = self.exchange_id(exchange)
        return _write(self._tx(entity_signer, REGISTRY, "setMandate", entity_id, exchange_id, granted))

    def entity(self, entity_id: int) -> Entity:
        try:
            ident, account, registrar, role, registered_at, nonce = self._reg("getEntity", entity_id)[0]
        except ContractReverted as exc:
            if exc.error == "UnknownEntity":
                raise NotFound(f"no entity with id {entity_id}") from None
            raise
        return Entity(entity_id, Hash32(ident), Address(bytes.fromhex(account[2:])), registrar, EntityRole(role),
                      registered_at, nonce)

    def entity_by_identifier(self, identifier_hash: Hash32) -> Entity:
        entity_id = int(self._reg("entityIdOf", identifier_hash)[0])
        if entity_id == 0:
            raise NotFound(f"no entity with identifier hash 0x{identifier_hash.hex()}")
        return self.entity(entity_id)

    def has_mandate(self, entity_id: int, exchange: int | str) -> bool:
        return bool(self._reg("hasMandate", entity_id, self.exchange_id(exchange))[0])

    def is_recognized(self, entity_id: int, exchange: int | str) -> bool:
        return bool(self._reg("isRecognized", entity_id, self.exchange_id(exchange))[0])

    # ------------------------------------------------------------------ registrations

    def register(self, signer: LocalAccount, request: RegistrationRequest) -> tuple[RecordId, WriteResult]:
        tx = self._tx(signer, REGISTRY, "register", request.as_abi_tuple())
        return RecordId(tx.event("DataRegistered").args["id"]), _write(tx)

    def register_batch(self, signer: LocalAccount,
                       requests: list[RegistrationRequest]) -> tuple[list[RecordId], WriteResult]:
        tx = self._tx(signer, REGISTRY, "registerBatch", [r.as_abi_tuple() for r in requests])
        ids = [RecordId(e.args["id"]) for e in tx.events if e.name == "DataRegistered"]
        return ids, _write(tx)

    def sign_registration(self, owner_signer: LocalAccount, registrar: int | str, request: RegistrationRequest,
                          *, ttl_seconds: int = 3600, nonce: int | None = None) -> SignedRegistration:
        """The owner's side of a delegated registration: sign the EIP-712 digest for one registrar."""
        registrar_id = self.exchange_id(registrar)
        if nonce is None:
            nonce = self.entity(request.owner).nonce
        deadline = int(time.time()) + ttl_seconds
        digest = eip712.registration_digest(self.chain.chain_id, Address(self.contracts.deployment.registry),
                                            registrar_id,
                                            request, nonce, deadline)
        return SignedRegistration(request, registrar_id, nonce, deadline,
                                  eip712.sign_digest(digest, bytes(owner_signer.key)))

    def register_for(self, signer: LocalAccount, signed: SignedRegistration) -> tuple[RecordId, WriteResult]:
        tx = self._tx(signer, REGISTRY, "registerFor", signed.request.as_abi_tuple(), signed.nonce,
                      signed.deadline, signed.signature)
        return RecordId(tx.event("DataRegistered").args["id"]), _write(tx)

    def set_status(self, signer: LocalAccount, record: RecordId, status: Status,
                   reason: bytes = bytes(32)) -> WriteResult:
        if len(reason) != 32:
            raise InvalidInput("a status reason is 32 bytes (a hash or a short code)")
        return _write(self._tx(signer, REGISTRY, "setStatus", record, int(status), reason))

    def record(self, record_id: RecordId) -> Record:
        try:
            (owner, registrar, kind, grade, source, rights, status, _count, ts, block, content, metadata) = \
                self._reg("getRecord", record_id)[0]
        except ContractReverted as exc:
            if exc.error == "UnknownRecord":
                raise NotFound(f"no record with id 0x{record_id.hex()}") from None
            raise
        parents = tuple(RecordId(p) for p in self._reg("parentsOf", record_id)[0])
        return Record(record_id, owner, registrar, Kind(kind), Grade(grade), Source(source), Rights(rights),
                      Status(status), ts, block, Hash32(content), Hash32(metadata), parents)

    def counts(self) -> dict[str, int]:
        entities, registrations = self._reg("counts")
        return {"entities": int(entities), "registrations": int(registrations)}

    # ------------------------------------------------------------------ plumbing

    def _fed(self, fn: str, *args: Any) -> tuple[Any, ...]:
        return self.contracts.call(FEDERATION, fn, *args)

    def _reg(self, fn: str, *args: Any) -> tuple[Any, ...]:
        return self.contracts.call(REGISTRY, fn, *args)

    def _tx(self, signer: LocalAccount, contract: str, fn: str, *args: Any) -> TxResult:
        return self.contracts.transact(signer, contract, fn, *args)


def _write(tx: TxResult) -> WriteResult:
    return WriteResult(tx.receipt.tx_hash, tx.receipt.block_number, tx.receipt.gas_used)
