"""``entity``: onboarding, recognition and mandates of merchants and other parties."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import read_json, reading, signer_of, with_federation, with_ops
from provenance.types import is_decimal


@reading(lambda args: read_json(args.profile, "entity profile") if getattr(args, "profile", None) else None)
def cmd_entity_add(ops: Any, args: argparse.Namespace, profile: Any) -> Any:
    from provenance.services.catalog import CatalogService

    account = args.account or ops.key_address(args.account_key)
    if profile is None:
        return ops.add_entity(args.identifier, account, args.role, signer=signer_of(ops, args))
    cat = CatalogService(ops)
    cat.check_profile(profile, args.identifier)  # refused before the entity is onboarded: nothing written
    out = ops.add_entity(args.identifier, account, args.role, signer=signer_of(ops, args))
    return {**out.document(), "profile": cat.set_profile(out.id, profile, signer=signer_of(ops, args))}


@with_ops
def cmd_entity_show(ops: Any, args: argparse.Namespace) -> Any:
    return ops.entity(int(args.entity)) if is_decimal(args.entity) else ops.entity_by_identifier(args.entity)


@with_ops
def cmd_entity_recognize(ops: Any, args: argparse.Namespace) -> Any:
    return ops.recognize_entity(args.entity_id, signer=signer_of(ops, args))


@with_federation
def cmd_entity_mandate(fed: Any, args: argparse.Namespace) -> Any:
    return fed.set_mandate(args.key, args.entity_id, args.exchange, not args.withdraw)
