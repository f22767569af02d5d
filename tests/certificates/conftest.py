"""The certificate modules' shared world: a federation with batched and direct records across exchanges, and the
product's certificate. Each module gets its own (module scope), since some change the chain under it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import certificates as C
from tests.support.certificates import World, make_world


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(Path(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])))
    yield w
    w.close()


@pytest.fixture(scope="module")
def issued(world: World) -> dict[str, Any]:
    """The product's certificate as its issuer (SDE) signs it, with no recognition."""
    return world.certifier.issue(world.product, world.fed.keys["SDE"])


@pytest.fixture(scope="module")
def cert(world: World, issued: dict[str, Any]) -> dict[str, Any]:
    # A partner's recognition, so the recognition proofs are checked too.
    return world.certifier.recognize(issued, world.fed.keys["ZJDE"], on_chain=False)


@pytest.fixture(scope="module")
def view(world: World) -> C.FederationView:
    return world.certifier.online_view()
