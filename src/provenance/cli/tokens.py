"""``token``: the API's bearer tokens."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.errors import InvalidInput


def cmd_token_create(args: argparse.Namespace) -> Any:
    from provenance.store.tokens import TokenStore

    if not (args.data_dir / "node.toml").exists():
        raise InvalidInput(f"{args.data_dir} is not an initialised data directory")
    token = TokenStore(args.data_dir).create(args.role, args.name, entity=args.entity, exchange=args.exchange)
    return {"name": args.name, "role": args.role, "token": token,
            "note": "shown once: the node keeps only its hash"}


def cmd_token_list(args: argparse.Namespace) -> Any:
    from provenance.store.tokens import TokenStore

    return TokenStore(args.data_dir).list()


def cmd_token_revoke(args: argparse.Namespace) -> Any:
    from provenance.store.tokens import TokenStore

    return {"revoked": TokenStore(args.data_dir).revoke(args.name)}
