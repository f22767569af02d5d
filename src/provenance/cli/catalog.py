"""``catalog``: the federation's catalogue of listings (数据目录): search, show, supply a document, export, boards,
and entity profiles (``catalog profile set|show``).

The operator of a node sees everything its node holds (important- and core-grade listings, individuals' profiles
of its own exchange), as with records; ``--public`` shows what an anonymous caller of the API would see.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.cli.common import open_node, read_json
from provenance.config import public_url
from provenance.core.catalog import BOARDS
from provenance.core.ids import parse_hash32

BOARD_LABELS = {b.code: f"{b.zh} {b.en}" for b in BOARDS}


def with_catalog(read: Callable[[argparse.Namespace], Any] | None = None) -> Callable[..., Any]:
    """Run a handler with the node's CatalogService, the index and catalogue brought to the chain head first;
    ``read`` reads the command's input files before the node opens (a bad file costs nothing, writes nothing)."""

    def wrap(fn: Callable[..., Any]) -> Callable[[argparse.Namespace], Any]:
        def run(args: argparse.Namespace) -> Any:
            from provenance.services.catalog import CatalogService
            from provenance.services.operations import Operations

            data = read(args) if read is not None else None
            with open_node(args) as node:
                ops = Operations(node)
                ops.sync()
                cat = CatalogService(ops)
                cat.sync()
                return fn(cat, args, data) if read is not None else fn(cat, args)

        return run

    return wrap


def viewer(args: argparse.Namespace) -> Any:
    from provenance.services.catalog import OPERATOR, PUBLIC

    return PUBLIC if getattr(args, "public", False) else OPERATOR


@with_catalog()
def cmd_catalog_search(cat: Any, args: argparse.Namespace) -> Any:
    found = cat.search(viewer=viewer(args), q=args.query, kind=args.kind, grade=args.grade, board=args.board,
                       registrar=args.registrar, status=args.status, owner=args.owner, order=args.order,
                       cursor=args.cursor, limit=args.limit)
    if args.json:
        return found
    for line in render_listings(found):
        print(line)
    return None


def render_listings(found: dict[str, Any]) -> list[str]:
    """A page of listings in the words of the people who use them: title, publisher, board, exchange."""
    items = found.get("items", [])
    lines = [f"{found.get('total', len(items))} listing(s) 条目"]
    for item in items:
        title = _text(item.get("title")) or "(no title: metadata not supplied 未提供元数据)"
        publisher = item.get("publisher") or {}
        who = _text(publisher.get("name")) or f"entity 主体 {item.get('owner', publisher.get('id', '?'))}"
        boards = ", ".join(BOARD_LABELS.get(t, t) for t in item.get("themes") or []) or "-"
        lines.append(f"- {title}")
        lines.append(f"    {who} · {boards} · {item.get('registrar')} · {item.get('kind')}/{item.get('grade')} · "
                     f"{item.get('status')}")
        lines.append(f"    {item.get('id')}")
    if found.get("next"):
        lines.append(f"more 更多: --cursor {found['next']}")
    return lines


def _text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    parts = [value[k] for k in ("zh", "en") if value.get(k)]
    return " / ".join(dict.fromkeys(parts))


@with_catalog()
def cmd_catalog_show(cat: Any, args: argparse.Namespace) -> Any:
    from provenance.errors import NotFound

    rid = parse_hash32(args.record, "record id")
    listing = cat.listing(rid, viewer(args))
    try:
        document = cat.metadata(rid, viewer(args))
    except NotFound:
        document = None
    return {**listing, "document": document}


def _read_document(args: argparse.Namespace) -> Any:
    return read_json(args.file, "metadata document")


@with_catalog(_read_document)
def cmd_catalog_supply(cat: Any, args: argparse.Namespace, document: Any) -> Any:
    return cat.supply(parse_hash32(args.record, "record id"), document, signer=cat.ops.signer(args.key),
                      where=str(args.file))


@with_catalog()
def cmd_catalog_export(cat: Any, args: argparse.Namespace) -> Any:
    doc = cat.dcat(args.base_url or public_url(args.data_dir))
    if args.out is None:
        return doc
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return {"written": str(args.out), "datasets": len(doc.get("dataset", []))}


@with_catalog()
def cmd_catalog_boards(cat: Any, args: argparse.Namespace) -> Any:
    boards = cat.boards(viewer(args))
    if args.json:
        return boards
    for b in boards:
        print(f"{b['code']:<20} {b['zh']} {b['en']}: {b['count']}")
    return None


def _read_profile(args: argparse.Namespace) -> Any:
    return read_json(args.file, "entity profile")


@with_catalog(_read_profile)
def cmd_profile_set(cat: Any, args: argparse.Namespace, profile: Any) -> Any:
    return cat.set_profile(args.entity_id, profile, signer=cat.ops.signer(args.key))


@with_catalog()
def cmd_profile_show(cat: Any, args: argparse.Namespace) -> Any:
    return cat.profile(args.entity_id, viewer(args))


@with_catalog()
def cmd_entity_records(cat: Any, args: argparse.Namespace) -> Any:
    found = cat.entity_records(args.entity_id, viewer(args), cursor=args.cursor, limit=args.limit)
    if args.json:
        return found
    for line in render_listings(found):
        print(line)
    return None


def add_parser(sub: Any) -> None:
    """The ``catalog`` command group (registered by cli/main.py)."""
    ct = sub.add_parser("catalog", help="the federation's catalogue of listings (数据目录): search, show, supply, "
                                        "export, boards, profiles").add_subparsers(
        dest="catalog_command", metavar="ACTION", required=True)
    s = ct.add_parser("search", help="find listings by words (Chinese substrings, English words) and facets")
    s.add_argument("query", nargs="?", help="words of a title, description, keyword or publisher name")
    s.add_argument("--kind", choices=["resource", "product", "asset"])
    s.add_argument("--grade", choices=["general", "important", "core"])
    s.add_argument("--board", choices=[b.code for b in BOARDS], help="a board (板块), e.g. shipping (航运)")
    s.add_argument("--registrar", help="the listing exchange's code, e.g. SDE")
    s.add_argument("--status", choices=["active", "suspended", "revoked", "superseded"])
    s.add_argument("--owner", type=int, help="the publisher's entity id")
    s.add_argument("--order", choices=["relevance", "recent"], default="relevance")
    s.add_argument("--limit", type=int, default=20, help="listings a page (1-100, default 20)")
    s.add_argument("--cursor", help="the `next` cursor of the previous page")
    s.add_argument("--public", action="store_true", help="show only what an anonymous visitor sees")
    s.set_defaults(handler=cmd_catalog_search)
    s = ct.add_parser("show", help="a listing with its metadata document")
    s.add_argument("record", help="record id")
    s.add_argument("--public", action="store_true", help="show only what an anonymous visitor sees")
    s.set_defaults(handler=cmd_catalog_show)
    s = ct.add_parser("supply", help="supply the metadata document of a record registered with its hash only")
    s.add_argument("record", help="record id")
    s.add_argument("file", type=Path, help="the metadata document (JSON); it must hash to the record's metadataHash")
    s.set_defaults(handler=cmd_catalog_supply)
    s = ct.add_parser("export", help="the catalogue as W3C DCAT 3 JSON-LD (general-grade listings)")
    s.add_argument("--out", type=Path, help="write it here (default: stdout)")
    s.add_argument("--base-url", default=None,
                   help="the base of the datasets' IRIs (default: the node's public URL, [api] public_url)")
    s.set_defaults(handler=cmd_catalog_export)
    s = ct.add_parser("boards", help="the exchange's boards (板块) with their listing counts")
    s.add_argument("--public", action="store_true", help="count only what an anonymous visitor sees")
    s.set_defaults(handler=cmd_catalog_boards)
    s = ct.add_parser("records", help="an entity's listings, newest first")
    s.add_argument("entity_id", type=int)
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--cursor")
    s.add_argument("--public", action="store_true", help="show only what an anonymous visitor sees")
    s.set_defaults(handler=cmd_entity_records)
    pr = ct.add_parser("profile", help="entity profiles (主体信息)").add_subparsers(
        dest="profile_command", metavar="ACTION", required=True)
    s = pr.add_parser("set", help="set the profile of an entity this exchange onboarded (an organisation's is "
                                  "published on chain; an individual's never leaves this node)")
    s.add_argument("entity_id", type=int)
    s.add_argument("file", type=Path, help="the profile (JSON): name, kind, creditCode, region")
    s.set_defaults(handler=cmd_profile_set)
    s = pr.add_parser("show", help="an entity's profile")
    s.add_argument("entity_id", type=int)
    s.add_argument("--public", action="store_true", help="show only what an anonymous visitor sees")
    s.set_defaults(handler=cmd_profile_show)


__all__ = ["add_parser", "render_listings", "with_catalog"]
