"""Identifiers at their bounds: every accepted extreme, every first refused value, and the exact message."""

from __future__ import annotations

import hashlib

import pytest
from eth_abi import encode
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from provenance.core import ids
from provenance.errors import InvalidInput


def refusal(fn: object, *args: object) -> str:
    with pytest.raises(InvalidInput) as info:
        fn(*args)  # type: ignore[operator]
    assert type(info.value) is InvalidInput
    return str(info.value)


@pytest.mark.parametrize("registrar", [1, 2, 255, 256, 65534, 65535])
def test_record_id_at_every_registrar_bound(registrar: int) -> None:
    content = bytes(range(1, 33))
    rid = ids.record_id(registrar, content)
    assert rid == keccak(encode(["uint16", "bytes32"], [registrar, content]))
    assert type(rid) is bytes
    assert ids.record_id(registrar, bytearray(content)) == rid


@pytest.mark.parametrize("registrar", [0, -1, 65536, 2**32])
def test_record_id_refuses_registrars_out_of_range(registrar: int) -> None:
    assert refusal(ids.record_id, registrar, bytes(32)) == f"registrar id {registrar} out of range 1..65535"


@pytest.mark.parametrize("content", [bytes(31), bytes(33), b"", "00" * 32, None, list(range(32))])
def test_record_id_refuses_a_content_hash_that_is_not_32_bytes(content: object) -> None:
    assert refusal(ids.record_id, 1, content) == "content hash must be 32 bytes"


def test_parse_hash32_strips_and_names_what_it_parses() -> None:
    value = bytes(range(32))
    assert ids.parse_hash32("  0x" + value.hex() + "\n") == value
    assert ids.parse_hash32(value.hex().upper()) == value
    assert type(ids.parse_hash32(value.hex())) is bytes
    assert refusal(ids.parse_hash32, "0x12", "record id") == (
        "invalid record id '0x12': expected 32 bytes as 64 hex digits")
    assert refusal(ids.parse_hash32, "0x12") == "invalid hash '0x12': expected 32 bytes as 64 hex digits"
    assert refusal(ids.parse_hash32, 12) == "invalid hash 12: expected 32 bytes as 64 hex digits"
    assert refusal(ids.parse_hash32, None) == "invalid hash None: expected 32 bytes as 64 hex digits"
    for bad in ("x" + "0" * 64, "0x" + "0" * 64 + "0", "0X" + "0" * 64, "00" * 31 + "0 0"):
        refusal(ids.parse_hash32, bad)


GOOD = "0x52908400098527886E0F7030069857D2E4169EE7"


def test_parse_address_every_accepted_form() -> None:
    raw = bytes.fromhex(GOOD[2:])
    mixed = to_checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")  # an EIP-55 example
    assert mixed != mixed.lower() and mixed != mixed.upper()
    for text in (GOOD, GOOD.lower(), "0x" + GOOD[2:].upper(), GOOD[2:], GOOD[2:].lower(), f"  {GOOD}\t"):
        assert ids.parse_address(text) == raw
    assert ids.parse_address(mixed) == bytes.fromhex(mixed[2:])
    assert ids.parse_address(mixed[2:]) == bytes.fromhex(mixed[2:])  # the checksum is checked without 0x too
    assert ids.parse_address(mixed.upper()[2:]) == bytes.fromhex(mixed[2:])  # one case carries no checksum
    assert ids.parse_address("0x" + mixed[2:].upper()) == bytes.fromhex(mixed[2:])
    assert type(ids.parse_address(GOOD)) is bytes


def test_parse_address_refusals_name_what_and_why() -> None:
    bad_sum = GOOD[:-1] + "e"
    assert refusal(ids.parse_address, bad_sum) == f"invalid address {bad_sum!r}: EIP-55 checksum does not match"
    assert refusal(ids.parse_address, bad_sum[2:], "owner") == (
        f"invalid owner {bad_sum[2:]!r}: EIP-55 checksum does not match")
    assert refusal(ids.parse_address, "0x1234", "key") == "invalid key '0x1234': expected 20 bytes as 40 hex digits"
    assert refusal(ids.parse_address, 5) == "invalid address 5: expected 20 bytes as 40 hex digits"
    for bad in (GOOD + "0", GOOD[:-1], "0x" + "g" * 40, "", "0x"):
        refusal(ids.parse_address, bad)


@pytest.mark.parametrize(("text", "raw"), [
    ("A", b"A" + b"\0" * 7), ("sde", b"SDE" + b"\0" * 5), (" 12345678 ", b"12345678"), ("z9\n", b"Z9" + b"\0" * 6),
])
def test_exchange_codes_at_their_bounds(text: str, raw: bytes) -> None:
    assert ids.parse_exchange_code(text) == raw
    assert len(raw) == 8


@pytest.mark.parametrize("text", ["", "123456789", "A-B", None, "Ａ"])
def test_exchange_codes_refused(text: object) -> None:
    assert refusal(ids.parse_exchange_code, text) == (
        f"invalid exchange code {text!r}: expected 1-8 letters or digits")


def test_code_text() -> None:
    assert ids.code_text(b"SDE\0\0\0\0\0") == "SDE"
    assert ids.code_text(b"12345678") == "12345678"
    assert ids.code_text(b"A\0B\0\0\0\0\0") == "A\0B"  # only trailing padding goes
    assert ids.code_text(b"S\xffE\0\0\0\0\0") == "S\ufffdE"  # bytes no code holds are shown, not raised
    assert ids.code_text("é".encode() + b"\0" * 6) == "\ufffd\ufffd"  # ASCII, even where UTF-8 would read
    assert ids.code_text(b"SDX\0\0\0\0\0") == "SDX"


def test_identifier_hash_is_keccak_of_the_normalised_utf8() -> None:
    assert ids.identifier_hash(" abc\n") == keccak(b"ABC")
    assert ids.identifier_hash("统一社会信用代码x") == keccak("统一社会信用代码X".encode())
    assert type(ids.identifier_hash("a")) is bytes
    assert refusal(ids.identifier_hash, " \t") == "entity identifier must not be empty"
    assert refusal(ids.identifier_hash, "") == "entity identifier must not be empty"


def test_content_hash_hex_and_checksum() -> None:
    assert ids.content_hash_of_bytes(b"") == hashlib.sha256(b"").digest()
    assert ids.content_hash_of_bytes(b"data") == hashlib.sha256(b"data").digest()
    assert ids.hex0x(b"\x00\xab") == "0x00ab"
    assert ids.hex0x(b"") == "0x"
    assert ids.checksum(bytes.fromhex(GOOD[2:])) == GOOD
