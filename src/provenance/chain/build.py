"""Do the committed contract artifacts match the Solidity sources?

``python -m provenance.chain.build --check [--contracts DIR]`` exits 0 when every artifact's ``sourceHash``
equals the hash of ``contracts/`` (the same hash ``scripts/compile-contracts.cjs`` writes), 1 otherwise.
The scripts use it to recompile only when sources changed; the node needs no compiler at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from provenance.chain.abi import load_artifact

ARTIFACTS = ("Federation", "Registry", "CrossBorder", "PropertyRegister")


def source_hash(contracts_dir: Path) -> str:
    """SHA-256 over every .sol file as ``relative/path \\0 content \\0``, in sorted-walk order."""
    h = hashlib.sha256()

    def walk(directory: Path, prefix: str) -> None:
        for name in sorted(p.name for p in directory.iterdir()):
            path = directory / name
            rel = f"{prefix}/{name}" if prefix else name
            if path.is_dir():
                walk(path, rel)
            elif name.endswith(".sol"):
                h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")

    walk(contracts_dir, "")
    return h.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", required=True)
    parser.add_argument("--contracts", type=Path, default=Path("contracts"))
    args = parser.parse_args()
    want = source_hash(args.contracts)
    stale = [name for name in ARTIFACTS if load_artifact(name).source_hash != want]
    if stale:
        print(f"stale artifacts: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
