"""Entities onboarded before identifiers were normalised as they are now (``strip().upper()`` of every letter)
keep being found by the identifier as written, and are not onboarded a second time under today's hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from provenance.core.ids import identifier_hash, legacy_identifier_hash
from provenance.core.keccak import keccak256
from provenance.errors import Conflict, InvalidInput, NotFound
from provenance.services.operations import Operations
from provenance.types import EntityRole, Hash32
from tests.support.demo_node import demo_operations


@pytest.fixture
def ops(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Operations]:
    with demo_operations(demo_dir, tmp_path) as o:
        yield o


@pytest.mark.parametrize("written", ["müller-01", "ＦＵＬＬ７", "SPACED ID 7", "straße-9"])
def test_an_entity_onboarded_under_the_old_hash_is_found_and_not_onboarded_twice(ops: Operations,
                                                                                   written: str) -> None:
    old = Hash32(keccak256(written.strip().upper().encode()))
    assert legacy_identifier_hash(written) == old
    entity = ops.svc.register_entity(ops.signer(), old, Account.create(), EntityRole.SUPPLIER)
    assert ops.entity_by_identifier(written).id == entity
    try:
        today = identifier_hash(written)
    except InvalidInput:  # a space inside is refused from now on, for onboarding; the old entity is still found
        with pytest.raises(InvalidInput, match="U\\+0020"):
            ops.add_entity(written, Account.create().address, "supplier")
        return
    assert today != old
    with pytest.raises(Conflict, match=f"entity {entity} holds this identifier already"):
        ops.add_entity(written, Account.create().address, "supplier")


def test_ascii_identifiers_have_no_legacy_hash(ops: Operations) -> None:
    assert legacy_identifier_hash("91310000MA1K35KX7N") is None and legacy_identifier_hash(" abc ") is None
    with pytest.raises(NotFound):
        ops.entity_by_identifier("NOBODY-HAS-THIS-1")
