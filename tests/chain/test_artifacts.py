"""The committed artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from provenance.chain.abi import load_artifact
from provenance.chain.build import ARTIFACTS, source_hash

ROOT = Path(__file__).resolve().parents[2]


def test_recompiling_the_sources_gives_the_committed_bytecode(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "Node.js is required to recompile the contracts (scripts/test installs the compiler)"
    assert (ROOT / "node/node_modules/solc").is_dir(), "run scripts/test: it installs the pinned solc from npm"
    subprocess.run([node, str(ROOT / "scripts/compile-contracts.cjs"), "--out", str(tmp_path)], check=True,
                   cwd=ROOT, capture_output=True, timeout=600)
    for name in ARTIFACTS:
        fresh = json.loads((tmp_path / f"{name}.json").read_text())
        committed = json.loads((ROOT / f"src/provenance/chain/artifacts/{name}.json").read_text())
        assert fresh["compiler"]["settings"]["evmVersion"] == "cancun"
        assert fresh["compiler"]["version"] == committed["compiler"]["version"]
        for field in ("bytecode", "deployedBytecode", "abi", "immutableReferences", "sourceHash"):
            assert fresh[field] == committed[field], f"{name}.{field} differs: recompile and commit the artifacts"


def test_artifacts_match_the_sources_hash() -> None:
    want = source_hash(ROOT / "contracts")
    for name in ARTIFACTS:
        assert load_artifact(name).source_hash == want, f"{name} artifact is stale"


def test_deployed_code_fits_the_size_limit() -> None:
    for name in ARTIFACTS:
        assert len(load_artifact(name).deployed_bytecode) <= 24_576  # EIP-170
