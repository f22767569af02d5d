"""The index follows governance decisions over entities: a freeze (with the mandates it withdraws, which the
batch rules read), an unfreeze and a reassignment land in the index as on the chain."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account

from provenance.store import keys as K
from tests.support.federation import Fed, addr
from tests.support.index import build_index


def _entity(store: object, entity_id: int) -> bytes:
    value = store.get(K.ENTITY + entity_id.to_bytes(4, "big"))  # type: ignore[attr-defined]
    assert value is not None
    return bytes(value)


def _mandate(store: object, entity_id: int, exchange: int) -> bytes | None:
    return store.get(K.MANDATE + entity_id.to_bytes(4, "big") + exchange.to_bytes(2, "big"))  # type: ignore


def test_freeze_unfreeze_and_reassign_are_indexed(fed: Fed, tmp_path: Path) -> None:
    eid, account = fed.entity("SDE", mandate_to=("SDE", "ZJDE"))
    sde = fed.keys["SDE"]
    fed.svc.propose_freeze_entity(sde, eid)
    store = build_index(fed.chain, fed.contracts, tmp_path / "frozen")
    try:
        value = _entity(store, eid)
        assert value[35:55] == addr(account) and value[55:] == b"\x01"
        assert _mandate(store, eid, 1) == b"\x00" and _mandate(store, eid, 2) == b"\x00"
    finally:
        store.close()
    genuine = Account.create()
    fed.svc.propose_reassign_entity(sde, eid, addr(genuine))
    store = build_index(fed.chain, fed.contracts, tmp_path / "reassigned")
    try:
        value = _entity(store, eid)
        assert value[35:55] == addr(genuine) and value[55:] == b"\x00"
    finally:
        store.close()
    fed.svc.propose_freeze_entity(sde, eid)
    fed.svc.propose_unfreeze_entity(sde, eid)
    store = build_index(fed.chain, fed.contracts, tmp_path / "thawed")
    try:
        assert _entity(store, eid)[55:] == b"\x00"
    finally:
        store.close()
