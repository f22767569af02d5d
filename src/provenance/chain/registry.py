"""The operations of a node, on plain values: what the CLI (and later the HTTP API) call.

Each write takes the signing key explicitly, so the caller decides who acts (the node's exchange key, an
entity's key); each returns typed values decoded from the contracts' events and views.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.chain.contracts import FEDERATION, REGISTRY, Contracts, TxResult
from provenance.core import eip712
from provenance.core.ids import code_text, parse_address, parse_exchange_code
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

# Entities per registerEntities transaction: about 78,000 gas each (three new slots, an ecrecover, the event), so
# 150 stay under the 12M a transaction is kept to (the embedded chain refuses above 15M).
ENTITY_CHUNK = 150


class EntityDecision(enum.IntEnum):
    """The federation's governance actions over a disputed entity (``IFederation.ProposalAction`` 5-7): the
    federation counts the approvals, the registry named in the payload applies the executed decision."""

    FREEZE = 5
    UNFREEZE = 6
    REASSIGN = 7

    @property
    def label(self) -> str:
        """As the proposals' other actions are named: "freeze-entity", "unfreeze-entity", "reassign-entity"."""
        return f"{self.name.lower()}-entity"


def proposal_action(value: int) -> ProposalAction | EntityDecision:
    """The action of a proposal read from the chain: a membership action or an entity decision."""
    return EntityDecision(value) if value in EntityDecision._value2member_map_ else ProposalAction(value)


@dataclass(frozen=True)
class EntityConsent:
    """An account's consent to be onboarded as one identity (identifier hash, role) by one exchange: its
    EIP-712 ``Onboarding`` signature, valid until ``deadline`` (unix time)."""

    identifier_hash: Hash32
    account: Address
    role: EntityRole
    registrar: int
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class Proposal:
    id: int
    action: ProposalAction | EntityDecision
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
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) <= 12):
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
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) <= 12):
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

    def rotate_supervisor_key(self, signer: LocalAccount, new_key: LocalAccount | bytes,
                              signature: bytes | None = None) -> WriteResult:
        """Replace the signer's supervisor key by ``new_key``, with the new key's own ``KeyGrant`` signature
        (made here when ``new_key`` is an account)."""
        key, sig = self._key_and_grant(new_key, signature, eip712.ROLE_SUPERVISOR,
                                       lambda: self.active_supervisor_of(signer.address))
        return _write(self._tx(signer, FEDERATION, "rotateSupervisorKey", to_checksum_address(key), sig))

    def proposals(self) -> list[Proposal]:
        n = int(self._fed("proposalCount")[0])
        return [self.proposal(i) for i in range(1, n + 1)]

    def proposal(self, proposal_id: int) -> Proposal:
        action, proposer, approvals, executed, epoch, expires_at, payload = self._fed("getProposal", proposal_id)[0]
        return Proposal(proposal_id, proposal_action(action), proposer, approvals, executed, epoch, expires_at,
                        payload)

    # ------------------------------------------------------------------ federation writes

    def propose_add_exchange(self, signer: LocalAccount, code: str, name: str, key: LocalAccount | bytes,
                             key_signature: bytes | None = None) -> ProposalOutcome:
        """Propose a new member exchange whose first key is ``key``, with the key's own ``MemberKey`` signature
        (made here when ``key`` is an account): nobody can name, and so burn, a key it does not hold."""
        payload = self._member_payload(eip712.ROLE_EXCHANGE, code, name, key, key_signature)
        return self._propose(signer, ProposalAction.ADD_EXCHANGE, payload)

    def propose_remove_exchange(self, signer: LocalAccount, ref: int | str) -> ProposalOutcome:
        return self._propose(signer, ProposalAction.REMOVE_EXCHANGE, encode(["uint16"], [self.exchange_id(ref)]))

    def propose_threshold(self, signer: LocalAccount, threshold: int) -> ProposalOutcome:
        if not 0 < threshold < 2**16:
            raise InvalidInput(f"threshold {threshold} out of range")
        return self._propose(signer, ProposalAction.SET_THRESHOLD, encode(["uint16"], [threshold]))

    def propose_add_supervisor(self, signer: LocalAccount, code: str, name: str, key: LocalAccount | bytes,
                               key_signature: bytes | None = None) -> ProposalOutcome:
        payload = self._member_payload(eip712.ROLE_SUPERVISOR, code, name, key, key_signature)
        return self._propose(signer, ProposalAction.ADD_SUPERVISOR, payload)

    def propose_remove_supervisor(self, signer: LocalAccount, ref: int | str) -> ProposalOutcome:
        return self._propose(signer, ProposalAction.REMOVE_SUPERVISOR, encode(["uint16"], [self.supervisor_id(ref)]))

    def approve(self, signer: LocalAccount, proposal_id: int) -> ProposalOutcome:
        tx = self._tx(signer, FEDERATION, "approve", proposal_id)
        outcome = self._outcome(tx, proposal_id)
        if outcome.executed and isinstance(self.proposal(proposal_id).action, EntityDecision):
            self.apply_entity_decision(signer, proposal_id)
        return outcome

    def add_key(self, signer: LocalAccount, key: LocalAccount | bytes, signature: bytes | None = None) -> WriteResult:
        """Add ``key`` to the signer's exchange, with the key's own ``KeyGrant`` signature (made here when ``key``
        is an account; an address without a signature is sent as is, for the contract to refuse by name)."""
        address, sig = self._key_and_grant(key, signature, eip712.ROLE_EXCHANGE,
                                           lambda: self.active_exchange_of(signer.address))
        return _write(self._tx(signer, FEDERATION, "addKey", to_checksum_address(address), sig))

    def revoke_key(self, signer: LocalAccount, key: bytes) -> WriteResult:
        return _write(self._tx(signer, FEDERATION, "revokeKey", to_checksum_address(key)))

    def rotate_key(self, signer: LocalAccount, new_key: LocalAccount | bytes,
                   signature: bytes | None = None) -> WriteResult:
        address, sig = self._key_and_grant(new_key, signature, eip712.ROLE_EXCHANGE,
                                           lambda: self.active_exchange_of(signer.address))
        return _write(self._tx(signer, FEDERATION, "rotateKey", to_checksum_address(address), sig))

    def key_grant_digest(self, role: int, member: int, key: bytes) -> bytes:
        """What ``key`` signs to serve exchange (role 0) or supervisor (role 1) ``member``."""
        return eip712.key_grant_digest(self.chain.chain_id, self.contracts.deployment.federation, role, member, key)

    def member_key_digest(self, role: int, code: str, name: str, key: bytes) -> bytes:
        """What ``key`` signs to be the first key of the exchange (role 0) or supervisor (role 1) a proposal adds."""
        return eip712.member_key_digest(self.chain.chain_id, self.contracts.deployment.federation, role,
                                        parse_exchange_code(code), name, key)

    def key_grant_typed_data(self, role: int, member: int, key: bytes) -> dict[str, object]:
        """The ``eth_signTypedData_v4`` document of :meth:`key_grant_digest`: what the key's wallet signs."""
        return eip712.key_grant_typed_data(self.chain.chain_id, self.contracts.deployment.federation, role, member,
                                           key)

    def member_key_typed_data(self, role: int, code: str, name: str, key: bytes) -> dict[str, object]:
        """The ``eth_signTypedData_v4`` document of :meth:`member_key_digest`: what the key's wallet signs."""
        return eip712.member_key_typed_data(self.chain.chain_id, self.contracts.deployment.federation, role,
                                            parse_exchange_code(code), name, key)

    def _key_and_grant(self, key: LocalAccount | bytes, signature: bytes | None, role: int,
                       member: Callable[[], int]) -> tuple[bytes, bytes]:
        if isinstance(key, LocalAccount):
            address = parse_address(key.address)
            if signature is None:
                signature = eip712.sign_digest(self.key_grant_digest(role, member(), address), bytes(key.key))
            return address, signature
        return key, b"" if signature is None else signature

    def _member_payload(self, role: int, code: str, name: str, key: LocalAccount | bytes,
                        signature: bytes | None) -> bytes:
        address = parse_address(key.address) if isinstance(key, LocalAccount) else key
        if isinstance(key, LocalAccount) and signature is None:
            signature = eip712.sign_digest(self.member_key_digest(role, code, name, address), bytes(key.key))
        return encode(["bytes8", "string", "address", "bytes"],
                      [parse_exchange_code(code), name, address, b"" if signature is None else signature])

    # ------------------------------------------------------------------ entity decisions (threshold governance)

    def propose_freeze_entity(self, signer: LocalAccount, entity_id: int) -> ProposalOutcome:
        """Propose freezing a disputed entity; applied to the registry at once if the proposal executes."""
        return self._propose_decision(signer, EntityDecision.FREEZE, entity_id)

    def propose_unfreeze_entity(self, signer: LocalAccount, entity_id: int) -> ProposalOutcome:
        return self._propose_decision(signer, EntityDecision.UNFREEZE, entity_id)

    def propose_reassign_entity(self, signer: LocalAccount, entity_id: int, new_account: bytes) -> ProposalOutcome:
        """Propose moving a disputed entity to ``new_account`` (withdrawing its mandates, ending a freeze)."""
        return self._propose_decision(signer, EntityDecision.REASSIGN, entity_id, new_account)

    def apply_entity_decision(self, signer: LocalAccount, proposal_id: int) -> WriteResult:
        """Apply an executed entity decision to the registry (anyone may send it; it applies once)."""
        return _write(self._tx(signer, REGISTRY, "applyEntityDecision", proposal_id))

    def is_frozen(self, entity_id: int) -> bool:
        return bool(self._reg("isFrozen", entity_id)[0])

    def _propose_decision(self, signer: LocalAccount, decision: EntityDecision, entity_id: int,
                          new_account: bytes | None = None) -> ProposalOutcome:
        """Propose, and apply at once if it executed; the registry's refusal to apply (e.g. EntityIsFrozen for a
        second freeze) then surfaces as ContractReverted, the proposal staying executed and unapplied."""
        if not 0 < entity_id < 2**32:
            raise InvalidInput(f"entity id {entity_id} out of range")
        registry = to_checksum_address(self.contracts.deployment.registry)
        if new_account is None:
            payload = encode(["address", "uint32"], [registry, entity_id])
        else:
            payload = encode(["address", "uint32", "address"], [registry, entity_id,
                                                                to_checksum_address(new_account)])
        outcome = self._propose(signer, decision, payload)
        if outcome.executed:
            self.apply_entity_decision(signer, outcome.proposal_id)
        return outcome

    def _propose(self, signer: LocalAccount, action: ProposalAction | EntityDecision,
                 payload: bytes) -> ProposalOutcome:
        tx = self._tx(signer, FEDERATION, "propose", int(action), payload)
        return self._outcome(tx, int(tx.event("ProposalCreated").args["proposalId"]))

    def _outcome(self, tx: TxResult, proposal_id: int) -> ProposalOutcome:
        approvals = int(tx.event("ProposalApproved").args["approvals"])
        executed = any(e.name == "ProposalExecuted" for e in tx.events)
        return ProposalOutcome(proposal_id, approvals, executed, tx.receipt.tx_hash, tx.receipt.gas_used)

    # ------------------------------------------------------------------ entities

    def register_entity(self, signer: LocalAccount, identifier_hash: Hash32, account: LocalAccount | bytes,
                        role: EntityRole, *, consent: EntityConsent | None = None) -> int:
        """Onboard an entity for the signer's exchange, with the account's consent: ``consent`` as signed by the
        account (e.g. in its wallet, from :meth:`onboarding_typed_data`), or made here when ``account`` is a key
        this node holds."""
        address = parse_address(account.address) if isinstance(account, LocalAccount) else account
        if consent is None and isinstance(account, LocalAccount):
            consent = self.sign_onboarding(account, self.active_exchange_of(signer.address), identifier_hash, role)
        if consent is not None and (consent.account != address or consent.identifier_hash != identifier_hash
                                    or consent.role != role):
            raise InvalidInput("the consent is for another account, identifier or role")
        # Without a consent the request goes as is, for the contract to refuse by name (SignatureExpired).
        deadline, signature = (0, b"") if consent is None else (consent.deadline, consent.signature)
        tx = self._tx(signer, REGISTRY, "registerEntity", identifier_hash, to_checksum_address(address), int(role),
                      deadline, signature)
        return int(tx.event("EntityRegistered").args["entityId"])

    def register_entities(self, signer: LocalAccount, consents: Sequence[EntityConsent], *,
                          chunk: int = ENTITY_CHUNK) -> tuple[list[int], list[WriteResult]]:
        """Onboard many entities for the signer's exchange, each with its account's signed consent: one
        ``registerEntities`` transaction per ``chunk`` consents, in order. Returns the entity ids in the consents'
        order and each transaction's result.

        Each transaction is all or none. When there is more than one, every chunk is first tried as a call against
        the current state, so a consent the contract would refuse is named before anything is written; a refusal
        that only arises between the calls and the transactions (another onboarding of the same identifier, a
        deadline passing) leaves the earlier chunks written, and the error says how many."""
        if not consents:
            raise InvalidInput("nothing to onboard: give at least one consent")
        if not 1 <= chunk <= ENTITY_CHUNK:
            raise InvalidInput(f"chunk must be 1 to {ENTITY_CHUNK} entities per transaction, not {chunk}")
        registrar = self.active_exchange_of(signer.address)
        seen: set[bytes] = set()
        for c in consents:
            if c.registrar != registrar:
                raise InvalidInput(f"the consent for {c.identifier_hash.hex()} is for exchange {c.registrar}, "
                                   f"not the signer's {registrar}")
            if c.identifier_hash in seen:
                raise InvalidInput(f"identifier {c.identifier_hash.hex()} is given twice")
            seen.add(c.identifier_hash)
        items = [(c.identifier_hash, to_checksum_address(c.account), int(c.role), c.deadline, c.signature)
                 for c in consents]
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        if len(chunks) > 1:
            sender = bytes.fromhex(signer.address[2:])
            for part in chunks:
                self.contracts.call(REGISTRY, "registerEntities", part, sender=sender)
        ids: list[int] = []
        writes: list[WriteResult] = []
        for part in chunks:
            try:
                tx = self._tx(signer, REGISTRY, "registerEntities", part)
            except ContractReverted as exc:
                if ids:
                    exc.add_note(f"{len(ids)} of {len(items)} entities were onboarded before this refusal")
                raise
            ids += [int(e.args["entityId"]) for e in tx.events if e.name == "EntityRegistered"]
            writes.append(_write(tx))
        return ids, writes

    def onboarding_digest(self, registrar: int, identifier_hash: Hash32, account: bytes, role: EntityRole,
                          deadline: int) -> bytes:
        return eip712.onboarding_digest(self.chain.chain_id, self.contracts.deployment.registry, identifier_hash,
                                        account, int(role), registrar, deadline)

    def onboarding_typed_data(self, registrar: int | str, identifier_hash: Hash32, account: bytes,
                              role: EntityRole, deadline: int) -> dict[str, Any]:
        """The ``eth_signTypedData_v4`` document the account signs to consent to its onboarding by ``registrar``."""
        return eip712.onboarding_typed_data(self.chain.chain_id, self.contracts.deployment.registry,
                                            identifier_hash, account, int(role), self.exchange_id(registrar),
                                            deadline)

    def sign_onboarding(self, account_signer: LocalAccount, registrar: int | str, identifier_hash: Hash32,
                        role: EntityRole, *, ttl_seconds: int = 3600) -> EntityConsent:
        """The account's side of onboarding: sign its consent for one exchange, valid ``ttl_seconds``."""
        registrar_id = self.exchange_id(registrar)
        address = Address(parse_address(account_signer.address))
        deadline = self.chain_time() + ttl_seconds
        digest = self.onboarding_digest(registrar_id, identifier_hash, address, role, deadline)
        return EntityConsent(identifier_hash, address, EntityRole(role), registrar_id, deadline,
                             eip712.sign_digest(digest, bytes(account_signer.key)))

    def chain_time(self) -> int:
        """The later of the clock and the head block's time: deadlines are judged against block time."""
        return max(int(time.time()), self.chain.get_block(self.chain.block_number()).timestamp)

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

    def registration_typed_data(self, signed: SignedRegistration) -> dict[str, object]:
        """The ``eth_signTypedData_v4`` document a signed registration's signature covers (what a wallet signs)."""
        return eip712.registration_typed_data(self.chain.chain_id, self.contracts.deployment.registry,
                                              signed.registrar, signed.request, signed.nonce, signed.deadline)

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
