"""``lineage``, ``impact``, ``path`` and ``search``: reading the lineage index."""

from __future__ import annotations

import argparse
from typing import Any

from provenance.cli.common import with_ops
from provenance.cli.render import render_lineage
from provenance.core.ids import parse_hash32


@with_ops
def cmd_lineage(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    rid = parse_hash32(args.record, "record id")
    if args.format in ("prov", "openlineage"):
        return ops.export(rid, args.format, max_depth=args.max_depth)
    doc = ops.lineage(rid, direction="descendants" if args.descendants else "ancestors", max_depth=args.max_depth,
                      max_nodes=args.max_nodes)
    if args.json or args.format == "json" or args.descendants:
        return doc
    for line in render_lineage(doc):
        print(line)
    return None


@with_ops
def cmd_impact(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.impact(parse_hash32(args.record, "record id"), max_depth=args.max_depth)


@with_ops
def cmd_path(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.path(parse_hash32(args.descendant, "descendant id"), parse_hash32(args.ancestor, "ancestor id"))


@with_ops
def cmd_search(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.search(content_hash=parse_hash32(args.content_hash, "content hash") if args.content_hash else None,
                      owner=args.owner, registrar=args.registrar, kind=args.kind, grade=args.grade,
                      status=args.status, after=args.after, limit=args.limit)
