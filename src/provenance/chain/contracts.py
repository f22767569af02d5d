"""The deployed registry contracts: deploy, attach (checking the code is ours), call and transact.

Every revert reaches the caller as :class:`ContractReverted`, decoded by name and arguments from the ABIs of
every contract (the registry calls the federation and the property register, the property register calls both,
and their errors bubble up).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_account.signers.local import LocalAccount

from provenance.chain.abi import ContractABI, decode_revert, load_artifact
from provenance.chain.base import Chain, Log, Receipt, Reverted
from provenance.errors import ChainError, ChainMismatch, ContractReverted

FEDERATION = "Federation"
REGISTRY = "Registry"
CROSS_BORDER = "CrossBorder"
PROPERTY_REGISTER = "PropertyRegister"


@dataclass(frozen=True)
class Deployment:
    """Where the contracts live: what a node pins and a partner needs to verify against."""

    chain_id: int
    federation: bytes
    registry: bytes
    block: int  # block the federation was deployed in (the registry follows it): indexing starts here
    cross_border: bytes | None = None  # the cross-border flows contract, when deployed
    property_register: bytes | None = None  # the data property register; attach reads it from the registry if unset

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chain_id": self.chain_id, "federation": "0x" + self.federation.hex(),
                               "registry": "0x" + self.registry.hex(), "block": self.block}
        if self.cross_border is not None:
            out["cross_border"] = "0x" + self.cross_border.hex()
        if self.property_register is not None:
            out["property_register"] = "0x" + self.property_register.hex()
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Deployment:
        try:
            cb, pr = raw.get("cross_border"), raw.get("property_register")
            return cls(int(raw["chain_id"]), _address(raw["federation"]), _address(raw["registry"]),
                       int(raw["block"]), None if cb in (None, "") else _address(cb),
                       None if pr in (None, "") else _address(pr))
        except (KeyError, ValueError, TypeError) as exc:
            raise ChainError(f"malformed deployment record: {exc}") from exc


def _address(value: Any) -> bytes:
    raw = bytes.fromhex(str(value).removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"{value!r} is not a 20-byte address")
    return raw


@dataclass(frozen=True)
class Event:
    contract: str
    name: str
    args: dict[str, Any]
    log: Log


@dataclass(frozen=True)
class TxResult:
    receipt: Receipt
    events: list[Event]

    def event(self, name: str) -> Event:
        for e in self.events:
            if e.name == name:
                return e
        raise ChainError(f"transaction {self.receipt.tx_hash.hex()} emitted no {name} event")


class Contracts:
    def __init__(self, *, chain: Chain, deployment: Deployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.abis = {name: ContractABI(load_artifact(name))
                     for name in (FEDERATION, REGISTRY, CROSS_BORDER, PROPERTY_REGISTER)}
        self._addresses = {FEDERATION: deployment.federation, REGISTRY: deployment.registry}
        if deployment.cross_border is not None:
            self._addresses[CROSS_BORDER] = deployment.cross_border
        if deployment.property_register is not None:
            self._addresses[PROPERTY_REGISTER] = deployment.property_register
        self._by_address = {address: name for name, address in self._addresses.items()}

    @property
    def has_cross_border(self) -> bool:
        return CROSS_BORDER in self._addresses

    @property
    def has_property_register(self) -> bool:
        return PROPERTY_REGISTER in self._addresses

    @classmethod
    def deploy(cls, chain: Chain, deployer: LocalAccount, *, code: bytes, name: str, first_key: bytes) -> Contracts:
        """Deploy the federation (bootstrapping its first member), the property register, the registry naming
        both, bind the registry to the property register, and deploy the cross-border flows contract."""
        fed_abi = ContractABI(load_artifact(FEDERATION))
        reg_abi = ContractABI(load_artifact(REGISTRY))
        cb_abi = ContractABI(load_artifact(CROSS_BORDER))
        pr_abi = ContractABI(load_artifact(PROPERTY_REGISTER))
        abis = [fed_abi, reg_abi, cb_abi, pr_abi]
        fed = _deploy(chain, deployer, fed_abi.deploy_data(code, name, first_key), abis)
        pr = _deploy(chain, deployer, pr_abi.deploy_data(fed.contract_address), abis)
        reg = _deploy(chain, deployer, reg_abi.deploy_data(fed.contract_address, pr.contract_address), abis)
        assert fed.contract_address is not None and reg.contract_address is not None
        assert pr.contract_address is not None
        try:
            chain.transact(deployer, pr.contract_address, pr_abi.encode_call("bindRegistry", reg.contract_address))
        except Reverted as exc:
            name_, args = decode_revert(abis, exc.data)
            raise ContractReverted("deployment", name_, args, exc.data) from None
        cb = _deploy(chain, deployer, cb_abi.deploy_data(fed.contract_address, reg.contract_address), abis)
        assert cb.contract_address is not None
        deployment = Deployment(chain.chain_id, fed.contract_address, reg.contract_address, fed.block_number,
                                cb.contract_address, pr.contract_address)
        return cls(chain=chain, deployment=deployment)

    @classmethod
    def attach(cls, chain: Chain, deployment: Deployment) -> Contracts:
        """Attach to deployed contracts after checking the chain id and that the code is this release's."""
        if chain.chain_id != deployment.chain_id:
            raise ChainMismatch(
                f"the chain answers with chain id {chain.chain_id}, but the contracts were deployed on "
                f"chain id {deployment.chain_id}"
            )
        self = cls(chain=chain, deployment=deployment)
        self._check_code()
        if deployment.property_register is None:
            # A configuration written before the property register was recorded: the registry names it.
            named = bytes.fromhex(self.call(REGISTRY, "propertyRegister")[0][2:])
            self = cls(chain=chain, deployment=replace(deployment, property_register=named))
            self._check_code()
        fed_of_registry = self.call(REGISTRY, "federation")[0]
        if bytes.fromhex(fed_of_registry[2:]) != deployment.federation:
            raise ChainMismatch("the registry is bound to another federation contract than the one configured")
        pr_address = self.deployment.property_register
        if pr_address is not None:
            if bytes.fromhex(self.call(REGISTRY, "propertyRegister")[0][2:]) != pr_address:
                raise ChainMismatch("the registry is bound to another property register than the one configured")
            if bytes.fromhex(self.call(PROPERTY_REGISTER, "registry")[0][2:]) != deployment.registry:
                raise ChainMismatch("the property register is not bound to the registry configured")
        if deployment.cross_border is not None:
            fed_of_cb = self.call(CROSS_BORDER, "federation")[0]
            reg_of_cb = self.call(CROSS_BORDER, "registry")[0]
            if (bytes.fromhex(fed_of_cb[2:]), bytes.fromhex(reg_of_cb[2:])) != (deployment.federation,
                                                                               deployment.registry):
                raise ChainMismatch("the cross-border contract is bound to other federation or registry contracts "
                                    "than the ones configured")
        return self

    def _check_code(self) -> None:
        for name, address in self._addresses.items():
            code = self.chain.get_code(address)
            if not code:
                raise ChainMismatch(f"no contract at the {name} address 0x{address.hex()} on this chain")
            if not self.abis[name].artifact.code_matches(code):
                raise ChainMismatch(
                    f"the contract at 0x{address.hex()} is not this release's {name} (its code differs)"
                )

    def address(self, contract: str) -> bytes:
        return self._addresses[contract]

    def call(self, contract: str, fn: str, *args: Any, block: int | None = None,
             sender: bytes | None = None) -> tuple[Any, ...]:
        abi = self.abis[contract]
        try:
            out = self.chain.call(self._addresses[contract], abi.encode_call(fn, *args), sender=sender, block=block)
        except Reverted as exc:
            raise self._reverted(contract, exc.data) from None
        return abi.decode_output(fn, out)

    def transact(self, signer: LocalAccount, contract: str, fn: str, *args: Any,
                 gas: int | None = None) -> TxResult:
        abi = self.abis[contract]
        try:
            receipt = self.chain.transact(signer, self._addresses[contract], abi.encode_call(fn, *args), gas=gas)
        except Reverted as exc:
            raise self._reverted(contract, exc.data) from None
        return TxResult(receipt, self.decode_logs(receipt.logs))

    def decode_logs(self, logs: list[Log]) -> list[Event]:
        events = []
        for log in logs:
            contract = self._by_address.get(log.address)
            if contract is None:
                continue
            decoded = self.abis[contract].decode_log(log.topics, log.data)
            if decoded is not None:
                events.append(Event(contract, decoded[0], decoded[1], log))
        return events

    def _reverted(self, contract: str, data: bytes) -> ContractReverted:
        name, args = decode_revert(list(self.abis.values()), data)
        return ContractReverted(contract, name, args, data)


def _deploy(chain: Chain, deployer: LocalAccount, data: bytes, abis: list[ContractABI]) -> Receipt:
    try:
        receipt = chain.transact(deployer, None, data)
    except Reverted as exc:
        name, args = decode_revert(abis, exc.data)
        raise ContractReverted("deployment", name, args, exc.data) from None
    if receipt.contract_address is None:
        raise ChainError("deployment produced no contract address")
    return receipt
