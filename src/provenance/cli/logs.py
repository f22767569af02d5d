"""``log``: the exchanges' registration logs, their anchors, proofs and witnessing."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import signer_of, with_ops
from provenance.core.ids import parse_hash32


@with_ops
def cmd_log_show(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.log(args.exchange)


@with_ops
def cmd_log_anchor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.anchor(signer=signer_of(ops, args))


@with_ops
def cmd_log_proof(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.inclusion(parse_hash32(args.record, "record id"))


@with_ops
def cmd_log_consistency(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.consistency(args.exchange, args.size1, args.size2)


@with_ops
def cmd_log_witness(ops: Any, args: argparse.Namespace) -> Any:
    return ops.witness(signer=signer_of(ops, args))
