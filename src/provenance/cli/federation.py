"""``init``, ``info``, ``key`` and ``exchange``: the node's setup, its keys and the federation's governance."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import passphrase_source, with_ops, with_service
from provenance.core.ids import parse_address
from provenance.core.jsonable import jsonable


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


@with_service
def cmd_key_list(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    out = []
    for label, address in node.keystore.labels().items():
        rec = svc.key(parse_address(address))
        exchange = svc.exchange(rec.exchange_id).code if rec.exchange_id else None
        out.append({"label": label, "address": address, "exchange": exchange,
                    "valid": bool(rec.exchange_id) and rec.valid_to == 0})
    return out


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


@with_service
def cmd_key_rotate(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    old_label = args.key or node.config.key
    old = node.signer(old_label)
    new = node.keystore.create(args.new_label)
    res = svc.rotate_key(old, new)  # the new key signs its own KeyGrant
    if old_label == node.config.key:
        cfg = node.config.with_key(args.new_label)
        cfg.save()
    return {"revoked": old.address, "added": new.address, "label": args.new_label, "block": res.block_number}


@with_service
def cmd_key_add(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    address = node.keystore.address(args.label)
    res = svc.add_key(node.signer(args.key), node.signer(args.label))  # the added key signs its own KeyGrant
    return {"added": address, "block": res.block_number}


@with_service
def cmd_key_revoke(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    res = svc.revoke_key(node.signer(args.key), parse_address(args.address))
    return {"revoked": args.address, "block": res.block_number}


@with_service
def cmd_exchange_list(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return [jsonable(e) for e in svc.exchanges()]


@with_service
def cmd_exchange_show(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    ex = svc.exchange(args.exchange)
    return {**jsonable(ex), "keys": [jsonable(k) for k in svc.keys_of(ex.id)]}


@with_service
def cmd_propose_add(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    from provenance.services.requests import held_key, parse_signature

    address = parse_address(args.key_address)
    key = held_key(node, address) if args.key_signature is None else None
    signature = None if args.key_signature is None else parse_signature(args.key_signature)
    return jsonable(svc.propose_add_exchange(node.signer(args.key), args.code, args.name,
                                             key if key is not None else address, signature))


@with_service
def cmd_key_consent(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    """The MemberKey signature a proposer needs: this keystore's key consents to be the first key of the member
    (exchange, or supervisor with --supervisor) that a proposal with this code and name adds."""
    from provenance.core import eip712

    acct = node.signer(args.label)
    role = eip712.ROLE_SUPERVISOR if args.supervisor else eip712.ROLE_EXCHANGE
    digest = svc.member_key_digest(role, args.code, args.name, parse_address(acct.address))
    return {"address": acct.address, "keySignature": "0x" + eip712.sign_digest(digest, bytes(acct.key)).hex()}


@with_service
def cmd_propose_remove(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.propose_remove_exchange(node.signer(args.key), args.exchange))


@with_service
def cmd_propose_threshold(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.propose_threshold(node.signer(args.key), args.threshold))


@with_service
def cmd_approve(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.approve(node.signer(args.key), args.proposal_id))


@with_service
def cmd_proposals(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return [jsonable(p) for p in svc.proposals()]
