"""Initialising a data directory: the exchange key, the chain, and the deployed (or attached) contracts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from provenance.chain.contracts import Contracts, Deployment
from provenance.config import CONFIG_NAME, ChainConfig, NodeConfig
from provenance.core.ids import parse_address, parse_exchange_code
from provenance.errors import ChainError, ConfigError, ContractReverted, InvalidInput
from provenance.services.node import DataDirLock, open_chain
from provenance.store.keystore import DEFAULT_SCRYPT_N, Keystore, PassphraseSource


def init_node(
    data_dir: Path,
    *,
    exchange: str,
    name: str,
    passphrase: PassphraseSource,
    chain_id: int | None = None,
    rpc_url: str | None = None,
    federation: str | None = None,
    registry: str | None = None,
    cross_border: str | None = None,
    scrypt_n: int | None = None,
) -> NodeConfig:
    """Create the exchange key, open the chain and deploy the contracts (or attach to deployed ones).

    With ``federation`` and ``registry`` the node joins an existing deployment; its key must then be added
    to the federation by the members' governance before it can write.
    """
    code = parse_exchange_code(exchange)
    if bool(federation) != bool(registry):
        raise InvalidInput("give both --federation and --registry to attach, or neither to deploy")
    if cross_border and not federation:
        raise InvalidInput("--cross-border attaches with --federation and --registry")
    if federation and not rpc_url:
        raise InvalidInput("attaching to deployed contracts needs --rpc-url (an embedded chain starts empty)")
    if not name.strip():
        raise InvalidInput("the exchange name must not be empty")
    lock = DataDirLock(data_dir)
    try:
        if (data_dir / CONFIG_NAME).exists():
            raise ConfigError(f"{data_dir} is already initialised ({CONFIG_NAME} exists)")
        label = exchange.strip().upper()
        n = scrypt_n or DEFAULT_SCRYPT_N
        keystore = Keystore(data_dir / "keystore", passphrase, scrypt_n=n)
        account = keystore.load(label) if keystore.has(label) else keystore.create(label)
        chain_cfg = ChainConfig(backend="rpc" if rpc_url else "embedded", chain_id=chain_id, rpc_url=rpc_url or "")
        chain = open_chain(data_dir, chain_cfg)
        try:
            if federation and registry:
                deployment = Deployment(chain.chain_id, parse_address(federation, "federation address"),
                                        parse_address(registry, "registry address"), 0,
                                        parse_address(cross_border, "cross-border address") if cross_border else None)
                Contracts.attach(chain, deployment)
            else:
                try:
                    contracts = Contracts.deploy(chain, account, code=code, name=name.strip(),
                                                 first_key=parse_address(account.address))
                except ContractReverted:
                    raise
                except ChainError as exc:
                    raise ChainError(
                        f"deploying the contracts from {account.address} failed: {exc.message}. If that account "
                        f"has no funds for gas, fund it and run init again: the key {label!r} is kept"
                    ) from exc
                deployment = contracts.deployment
            cfg = NodeConfig(data_dir=data_dir, key=label, chain=replace(chain_cfg, chain_id=chain.chain_id),
                             deployment=deployment, scrypt_n=n)
            cfg.save()
            return cfg
        finally:
            chain.close()
    finally:
        lock.release()
