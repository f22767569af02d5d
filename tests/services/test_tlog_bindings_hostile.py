"""Note key bindings offered by anyone (POST /tlog/bindings needs no credentials): a binding's signature has one
accepted encoding (0x and 130 lowercase hex digits, v 27 or 28, low s), so the public binding of an exchange cannot
be re-spelled into copies that fill its quota and block its next note key; a statement already held is a no-op,
and copies a node kept before this rule neither count nor are served twice."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_defunct

from provenance.core import eip712, tlog
from provenance.errors import Conflict, InvalidInput
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.tlog import MAX_BINDINGS, TlogService
from provenance.store.witness_state import TlogState
from tests.support.passphrase import passphrase


@pytest.fixture
def svc(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[TlogService]:
    src, _ = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    node = Node.open(data, passphrase(tmp_path))
    try:
        ops = Operations(node)
        ops.sync()
        yield TlogService(ops, exchange_id=ops.exchange_id, key_exchange=ops.acting_exchange, state=TlogState(data))
    finally:
        node.close()


def own(svc: TlogService) -> tuple[str, str]:
    assert svc.binding is not None
    return svc.binding.statement, svc.binding.signature


def held(svc: TlogService) -> list[str]:
    """The statements of the node's exchange's bindings, one a binding served."""
    return [b.statement for b in svc.bindings() if b.exchange == svc.own]


def new_statement(svc: TlogService, block: int) -> tuple[str, str]:
    """A genuine binding of the node's note key from ``block``, signed by the exchange's key."""
    assert svc.own is not None and svc.log_key is not None
    statement = tlog.binding_statement(chain_id=svc.chain_id, registry=svc.registry, exchange=svc.own,
                                       code=svc.code(svc.own), vkey=svc.log_key.verifier.vkey, block=block)
    sig = svc.ops.signer().sign_message(encode_defunct(text=statement)).signature
    return statement, "0x" + bytes(sig).hex()


def high_s(signature: str) -> str:
    """The same signature with s mirrored (n - s) and v flipped: valid for the same key, but malleable."""
    raw = bytes.fromhex(signature[2:])
    s = eip712.SECP256K1_N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def respellings(signature: str) -> list[tuple[str, str]]:
    digits = signature[2:]
    v = int(digits[-2:], 16)
    return [
        (digits, "does not start with 0x"),
        ("0X" + digits, "does not start with 0x"),
        ("0x" + digits.upper(), "upper-case hex digits"),
        ("0x" + digits[:10].upper() + digits[10:], "upper-case hex digits"),
        (signature[:12] + " " + signature[12:], "not hex digits"),
        (signature + "\n", "not hex digits"),
        (" " + signature, "does not start with 0x"),
        ("0x" + digits[:-2] + f"{v - 27:02x}", "v must be 27 or 28, got"),
        ("0x" + digits + "00", "132 digits"),
        ("0x" + digits[:-2], "128 digits"),
        (high_s(signature), "upper half of the curve order"),
    ]


def test_respelled_signatures_are_refused_by_name_and_use_no_slot(svc: TlogService) -> None:
    statement, signature = own(svc)
    before = held(svc)
    assert statement in before
    for spelling, fault in respellings(signature):
        with pytest.raises(InvalidInput, match=fault):
            svc.accept(statement, spelling)
    # The statement as it is held, sent again: the binding held, nothing added.
    again = svc.accept(statement, signature)
    assert again == svc.binding and held(svc) == before
    assert len([b for b in svc.state.bindings() if b["statement"] == statement]) == 1
    # The exchange can still bind every new note key statement its quota allows, then no more.
    room = MAX_BINDINGS - len(before)
    for block in range(1, room + 1):
        out = svc.accept(*new_statement(svc, 10_000 + block))
        assert out.signer == svc.ops.signer().address and out.block == 10_000 + block
    assert len(held(svc)) == MAX_BINDINGS
    with pytest.raises(Conflict, match=f"already has {MAX_BINDINGS} note key bindings"):
        svc.accept(*new_statement(svc, 20_000))
    assert svc.accept(statement, signature) == svc.binding  # a statement held is still a no-op at the quota


def test_copies_kept_before_the_rule_load_and_count_once(svc: TlogService) -> None:
    """A bindings.json written by a node that kept each spelling as its own binding: it loads, each statement is
    served once (with its signature in the one encoding), and the copies do not count against the quota."""
    statement, signature = own(svc)
    assert svc.binding is not None
    kept = svc.binding.model_dump()
    digits = signature[2:]
    for spelling in [digits, "0x" + digits.upper()] + [signature[:2 + 2 * i] + " " + signature[2 + 2 * i:]
                                                       for i in range(1, MAX_BINDINGS)]:
        svc.state.add_binding({**kept, "signature": spelling})
    assert len(svc.state.bindings()) >= MAX_BINDINGS + 1
    assert held(svc).count(statement) == 1
    assert [b.signature for b in svc.bindings() if b.statement == statement] == [signature]
    # A restart reads the file and finds its own binding in it.
    restarted = TlogService(svc.ops, exchange_id=svc.own, key_exchange=svc.key_exchange, state=svc.state)
    assert restarted.binding == svc.binding
    # The exchange's next note key binding is accepted: the copies used no slot.
    fresh = svc.accept(*new_statement(svc, 30_000))
    assert fresh.block == 30_000 and held(svc).count(fresh.statement) == 1
