"""``init``, ``info``, ``key`` and ``exchange``: the node's setup, its keys and the federation's governance."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import passphrase_source, with_federation, with_ops


def cmd_init(args: argparse.Namespace) -> Any:
    from provenance.services.bootstrap import init_node

    node_cfg = init_node(
        args.data_dir, exchange=args.exchange, name=args.name, passphrase=passphrase_source(args),
        chain_id=args.chain_id, rpc_url=args.rpc_url, federation=args.federation, registry=args.registry,
        cross_border=args.cross_border, scrypt_n=args.scrypt_n,
    )
    return {"data_dir": str(args.data_dir), "key": node_cfg.key, "chain": node_cfg.chain.backend,
            "contracts": node_cfg.deployment.to_json() if node_cfg.deployment else None}


@with_ops
def cmd_info(ops: Any, args: argparse.Namespace) -> Any:
    return ops.info()


@with_federation
def cmd_key_list(fed: Any, args: argparse.Namespace) -> Any:
    return fed.keys()


def cmd_key_new(args: argparse.Namespace) -> Any:
    from provenance.config import NodeConfig
    from provenance.services.node import DataDirLock
    from provenance.store.keystore import Keystore

    lock = DataDirLock(args.data_dir)
    try:
        cfg = NodeConfig.load(args.data_dir)
        acct = Keystore(args.data_dir / "keystore", passphrase_source(args), scrypt_n=cfg.scrypt_n).create(args.label)
    finally:
        lock.release()
    return {"label": args.label, "address": acct.address}


@with_federation
def cmd_key_rotate(fed: Any, args: argparse.Namespace) -> Any:
    return fed.rotate_key(args.key, args.new_label)


@with_federation
def cmd_key_add(fed: Any, args: argparse.Namespace) -> Any:
    return fed.add_key(args.key, args.label)


@with_federation
def cmd_key_revoke(fed: Any, args: argparse.Namespace) -> Any:
    return fed.revoke_key(args.key, args.address)


@with_federation
def cmd_exchange_list(fed: Any, args: argparse.Namespace) -> Any:
    return fed.exchanges()


@with_federation
def cmd_exchange_show(fed: Any, args: argparse.Namespace) -> Any:
    return fed.exchange(args.exchange)


@with_federation
def cmd_propose_add(fed: Any, args: argparse.Namespace) -> Any:
    return fed.propose_add(args.key, args.code, args.name, args.key_address, args.key_signature)


@with_federation
def cmd_key_consent(fed: Any, args: argparse.Namespace) -> Any:
    return fed.key_consent(args.label, args.code, args.name, supervisor=args.supervisor)


@with_federation
def cmd_propose_remove(fed: Any, args: argparse.Namespace) -> Any:
    return fed.propose_remove(args.key, args.exchange)


@with_federation
def cmd_propose_threshold(fed: Any, args: argparse.Namespace) -> Any:
    return fed.propose_threshold(args.key, args.threshold)


@with_federation
def cmd_approve(fed: Any, args: argparse.Namespace) -> Any:
    return fed.approve(args.key, args.proposal_id)


@with_federation
def cmd_proposals(fed: Any, args: argparse.Namespace) -> Any:
    return fed.proposals()
