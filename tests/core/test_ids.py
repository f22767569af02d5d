from __future__ import annotations

import subprocess
import sys

import pytest
from eth_abi import encode
from eth_hash.auto import keccak

from provenance.core.ids import (
    code_text,
    identifier_hash,
    parse_address,
    parse_exchange_code,
    parse_hash32,
    record_id,
)
from provenance.errors import InvalidInput
from provenance.types import Grade, Kind, Rights, Status


def test_record_id_matches_abi_encoding() -> None:
    content = bytes(range(32))
    assert record_id(7, content) == keccak(encode(["uint16", "bytes32"], [7, content]))


@pytest.mark.parametrize("registrar", [0, 65536, -1])
def test_record_id_registrar_range(registrar: int) -> None:
    with pytest.raises(InvalidInput):
        record_id(registrar, bytes(32))


@pytest.mark.parametrize("text", ["", "0x", "0x" + "0" * 63, "0x" + "g" * 64, "0x" + "0" * 65, " ", "12"])
def test_parse_hash32_refuses_malformed(text: str) -> None:
    with pytest.raises(InvalidInput, match="64 hex digits"):
        parse_hash32(text)


def test_parse_hash32_accepts_with_and_without_prefix() -> None:
    assert parse_hash32("ab" * 32) == parse_hash32("0x" + "AB" * 32) == bytes([0xAB]) * 32


def test_parse_address_checks_eip55() -> None:
    good = "0x52908400098527886E0F7030069857D2E4169EE7"
    assert parse_address(good) == bytes.fromhex(good[2:])
    assert parse_address(good.lower()) == bytes.fromhex(good[2:])
    with pytest.raises(InvalidInput, match="checksum"):
        parse_address("0x52908400098527886E0F7030069857D2E4169Ee7")
    with pytest.raises(InvalidInput, match="40 hex digits"):
        parse_address("0x1234")


@pytest.mark.parametrize("code", ["", "TOOLONGCODE", "S D", "SDE!", "上海"])
def test_exchange_codes(code: str) -> None:
    with pytest.raises(InvalidInput):
        parse_exchange_code(code)


def test_exchange_code_round_trip() -> None:
    raw = parse_exchange_code("sde")
    assert raw == b"SDE\0\0\0\0\0" and code_text(raw) == "SDE"


def test_identifier_hash_normalises_case_and_space() -> None:
    assert identifier_hash(" 91310115ma1k4demo1 ") == identifier_hash("91310115MA1K4DEMO1")
    with pytest.raises(InvalidInput):
        identifier_hash("  ")


def test_enum_parsing_names_the_choices() -> None:
    assert Kind.parse("Product") == Kind.PRODUCT and Grade.parse("2") == Grade.CORE
    assert Status.parse("revoked") == Status.REVOKED
    with pytest.raises(InvalidInput, match="general, important, core"):
        Grade.parse("secret")
    assert Rights.parse("holding, operation") == Rights.HOLDING | Rights.OPERATION
    assert Rights.parse("7") == Rights(7)
    for bad in ("", "0", "8", "ownership"):
        with pytest.raises(InvalidInput):
            Rights.parse(bad)


def test_pure_core_imports_no_adapters() -> None:
    """The core (hashes, ids, typed data, rules) must load without web3, plyvel, fastapi or eth-tester."""
    code = (
        "import sys; import provenance.core.ids, provenance.core.eip712, provenance.core.rules, "
        "provenance.core.merkle, provenance.core.lineage, provenance.core.export, provenance.store.keys, "
        "provenance.core.note, provenance.core.tlog, provenance.core.vc_jose, provenance.core.status_list, "
        "provenance.core.ijson; "
        "bad = [m for m in ('web3', 'plyvel', 'fastapi', 'eth_tester', 'eth', 'http.client') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
