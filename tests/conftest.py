from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support.federation import Fed, make_fed
from tests.support.passphrase import passphrase

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[Fed]:
    f = make_fed(tmp_path / "chain")
    yield f
    f.chain.close()


@pytest.fixture(scope="session")
def hardhat_url() -> Iterator[str]:
    """A Hardhat node for the whole session (tests take snapshots where they need isolation)."""
    from tests.support.hardhat import hardhat_node

    with hardhat_node() as url:
        yield url


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from provenance.dev.demo import run_demo

    path = tmp_path_factory.mktemp("demo") / "data"
    summary = run_demo(path, passphrase(path.parent), scrypt_n=1024, say=lambda _m: None)
    return path, summary
