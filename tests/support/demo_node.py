"""A node opened on a copy of the session's demo data directory (tests/conftest.py demo_dir), its [index]
confirmations set as asked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provenance.services.node import Node
from provenance.services.operations import Operations
from tests.support.passphrase import passphrase


def demo_node(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path, confirmations: int = 0) -> Node:
    src, _demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    toml = tmp_path / "data" / "node.toml"
    text = toml.read_text()
    assert "confirmations = 0" in text
    toml.write_text(text.replace("confirmations = 0", f"confirmations = {confirmations}"))
    return Node.open(tmp_path / "data", passphrase(tmp_path))


@contextmanager
def demo_operations(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path,
                    confirmations: int = 0) -> Iterator[Operations]:
    """:func:`demo_node`'s operations, synced; the node closed afterwards."""
    node = demo_node(demo_dir, tmp_path, confirmations)
    try:
        ops = Operations(node)
        ops.sync()
        yield ops
    finally:
        node.close()
