"""Output rendering: a result as JSON or as indented text, the lineage tree, and errors on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from provenance.core.jsonable import jsonable
from provenance.errors import ContractReverted, ProvenanceError
from provenance.services.results import documents


def print_result(args: argparse.Namespace, result: Any) -> None:
    # A service's typed result prints as the API answers it: its JSON document, unset members left out.
    result = documents(result)
    if args.json:
        json.dump(jsonable(result), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    _print_human(jsonable(result), 0)


def _print_human(value: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                print(f"{pad}{k}:")
                _print_human(v, indent + 1)
            else:
                print(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                print(f"{pad}-")
                _print_human(item, indent + 1)
            else:
                print(f"{pad}- {_scalar(item)}")
    else:
        print(f"{pad}{_scalar(value)}")


def render_lineage(lineage: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """An ancestor graph as indented tree lines; a node reached twice is shown once, then referenced."""
    names = names or {}
    by_id = {n["id"]: n for n in lineage["nodes"]}
    lines: list[str] = []
    shown: set[str] = set()

    def label(node: dict[str, Any]) -> str:
        name = names.get(node["id"], node["id"][:10] + "…")
        flag = "" if node["status"] == "active" else f"  <-- {node['status'].upper()}"
        return f"{name}  {node['kind']}/{node['grade']}  {node['status']}  at {node['registrar']}{flag}"

    def walk(node_id: str, prefix: str, last: bool, depth: int) -> None:
        node = by_id.get(node_id)
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        if node is None:
            lines.append(f"{prefix}{branch}{node_id[:10]}… (beyond the depth limit)")
            return
        if node_id in shown:
            lines.append(f"{prefix}{branch}{names.get(node_id, node_id[:10] + '…')} (shown above)")
            return
        shown.add(node_id)
        lines.append(f"{prefix}{branch}{label(node)}")
        child_prefix = prefix if depth == 0 else prefix + ("   " if last else "│  ")
        parents = node["parents"]
        for i, parent in enumerate(parents):
            walk(parent, child_prefix, i == len(parents) - 1, depth + 1)

    walk(lineage["root"], "", True, 0)
    return lines


def _scalar(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or "-"
    return "-" if v is None else str(v)


def print_error(args: argparse.Namespace, exc: ProvenanceError) -> None:
    if getattr(args, "json", False):
        doc: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message}
        if isinstance(exc, ContractReverted):
            doc["revert"] = {"contract": exc.contract, "error": exc.error, "args": jsonable(exc.args_by_name)}
        json.dump(doc, sys.stderr, ensure_ascii=False)
        sys.stderr.write("\n")
    else:
        print(f"error: {exc.message}", file=sys.stderr)
