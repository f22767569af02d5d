"""EIP-712 digests held to eth-account's independent typed-data encoder (full-message API), every field at its
bounds, and signature checks at theirs, each refusal with its exact message."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_hash.auto import keccak as eth_keccak
from eth_keys.datatypes import PrivateKey, Signature
from eth_utils import to_checksum_address

from provenance.core import eip712
from provenance.errors import InvalidSignature
from provenance.types import RegistrationRequest

CHAIN, REGISTRY = 31337, bytes.fromhex("5FbDB2315678afecb367f032d93F642f64180aa3")
DOMAIN_TYPES = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]


def reference(primary: str, fields: list[tuple[str, str]], message: dict[str, Any], chain: int = CHAIN,
              registry: bytes = REGISTRY) -> bytes:
    doc = {
        "types": {"EIP712Domain": DOMAIN_TYPES, primary: [{"name": n, "type": t} for n, t in fields]},
        "primaryType": primary,
        "domain": {"name": "ProvenanceRegistry", "version": "1", "chainId": chain,
                   "verifyingContract": "0x" + registry.hex()},
        "message": message,
    }
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


def test_domain_separator_and_type_hashes() -> None:
    assert eip712.DOMAIN_NAME == "ProvenanceRegistry" and eip712.DOMAIN_VERSION == "1"
    ref = encode_typed_data(full_message={
        "types": {"EIP712Domain": DOMAIN_TYPES, "T": [{"name": "x", "type": "uint8"}]}, "primaryType": "T",
        "domain": {"name": "ProvenanceRegistry", "version": "1", "chainId": CHAIN,
                   "verifyingContract": "0x" + REGISTRY.hex()}, "message": {"x": 0}})
    assert eip712.domain_separator(CHAIN, REGISTRY) == bytes(ref.header)
    assert eip712.domain_separator(CHAIN + 1, REGISTRY) != bytes(ref.header)


REG_FIELDS = [("registrar", "uint16"), ("kind", "uint8"), ("grade", "uint8"), ("source", "uint8"),
              ("rights", "uint8"), ("owner", "uint32"), ("contentHash", "bytes32"), ("metadataHash", "bytes32"),
              ("supersedes", "bytes32"), ("parents", "bytes32[]"), ("nonce", "uint256"), ("deadline", "uint256")]


@pytest.mark.parametrize(("registrar", "kind", "grade", "source", "rights", "owner", "parents", "nonce", "deadline"), [
    (1, 0, 0, 0, 1, 0, 0, 0, 0),
    (65535, 2, 2, 2, 7, 2**32 - 1, 3, 2**256 - 1, 2**64),
    (3, 1, 1, 1, 5, 7, 1, 12, 1_700_000_000),
])
def test_registration_digest_is_eip712(registrar: int, kind: int, grade: int, source: int, rights: int, owner: int,
                                       parents: int, nonce: int, deadline: int) -> None:
    request = RegistrationRequest(kind, grade, source, rights, owner, bytes([1]) * 32, bytes([2]) * 32,  # type: ignore[arg-type]
                                  bytes([3]) * 32, tuple(bytes([10 + i]) * 32 for i in range(parents)))  # type: ignore[arg-type]
    want = reference("Registration", REG_FIELDS, {
        "registrar": registrar, "kind": kind, "grade": grade, "source": source, "rights": rights, "owner": owner,
        "contentHash": request.content_hash, "metadataHash": request.metadata_hash, "supersedes": request.supersedes,
        "parents": list(request.parents), "nonce": nonce, "deadline": deadline})
    assert eip712.registration_digest(CHAIN, REGISTRY, registrar, request, nonce, deadline) == want
    assert eip712.REGISTRATION_TYPE == "Registration(" + ",".join(f"{t} {n}" for n, t in REG_FIELDS) + ")"


STATEMENTS = [
    (eip712.checkpoint_digest, "Checkpoint", [("exchange", "uint16"), ("treeSize", "uint64"), ("root", "bytes32")]),
    (eip712.certificate_digest, "Certificate",
     [("credentialHash", "bytes32"), ("issuer", "uint16"), ("issuedBlock", "uint64")]),
    (eip712.recognition_digest, "Recognition",
     [("credentialHash", "bytes32"), ("recognizer", "uint16"), ("optionsHash", "bytes32")]),
    (eip712.snapshot_digest, "FederationSnapshot",
     [("exchange", "uint16"), ("atBlock", "uint64"), ("contentHash", "bytes32")]),
]
LOW = {"uint16": 0, "uint64": 0, "bytes32": bytes(32)}
HIGH = {"uint16": 2**16 - 1, "uint64": 2**64 - 1, "bytes32": b"\xff" * 32}
MID = {"uint16": 258, "uint64": 1 << 40, "bytes32": bytes(range(32))}


@pytest.mark.parametrize(("fn", "primary", "fields"), STATEMENTS, ids=[s[1] for s in STATEMENTS])
def test_node_signed_statements_are_eip712(fn: Any, primary: str, fields: list[tuple[str, str]]) -> None:
    type_string = f"{primary}(" + ",".join(f"{t} {n}" for n, t in fields) + ")"
    assert type_string in (eip712.CHECKPOINT_TYPE, eip712.CERTIFICATE_TYPE, eip712.RECOGNITION_TYPE,
                           eip712.SNAPSHOT_TYPE)
    for values in (LOW, HIGH, MID):
        args = [values[t] for _, t in fields]
        want = reference(primary, fields, {n: values[t] for n, t in fields})
        assert fn(CHAIN, REGISTRY, *args) == want
        assert fn(CHAIN, bytearray(REGISTRY), *[bytearray(a) if isinstance(a, bytes) else a for a in args]) == want
        assert fn(1, REGISTRY, *args) == reference(primary, fields, {n: values[t] for n, t in fields}, chain=1)
    for i, (_, t) in enumerate(fields):
        args = [MID[x] for _, x in fields]
        args[i] = HIGH[t] + 1 if t != "bytes32" else bytes(33)
        with pytest.raises(InvalidSignature) as info:
            fn(CHAIN, REGISTRY, *args)
        if t == "bytes32":
            assert str(info.value) == "a bytes32 field of a signed statement is not 32 bytes"
        else:
            assert str(info.value) == f"a {t} field of a signed statement is out of range: {HIGH[t] + 1!r}"


@pytest.mark.parametrize(("kind", "ok", "bad"), [
    ("uint8", [0, 255], [256, -1]), ("uint16", [0, 65535], [65536, -1]), ("uint32", [2**32 - 1], [2**32, -1]),
    ("uint64", [2**64 - 1], [2**64, -1]), ("uint256", [2**256 - 1], [2**256, -1]),
])
def test_word_bounds(kind: str, ok: list[int], bad: list[int]) -> None:
    for v in ok:
        assert eip712._word(kind, v) == v.to_bytes(32, "big")
    for v in bad:
        with pytest.raises(InvalidSignature) as info:
            eip712._word(kind, v)
        assert str(info.value) == f"a {kind} field of a signed statement is out of range: {v!r}"
    with pytest.raises(InvalidSignature) as info:
        eip712._word(kind, "1")
    assert str(info.value) == f"a {kind} field of a signed statement is out of range: '1'"


def test_bytes32_words() -> None:
    assert eip712._word("bytes32", bytes(range(32))) == bytes(range(32))
    got = eip712._word("bytes32", bytearray(range(32)))
    assert got == bytes(range(32)) and type(got) is bytes
    for bad in (bytes(31), bytes(33), bytearray(31), "0" * 32, 5):
        with pytest.raises(InvalidSignature) as info:
            eip712._word("bytes32", bad)
        assert str(info.value) == "a bytes32 field of a signed statement is not 32 bytes"


def test_typed_digest_counts_its_fields() -> None:
    with pytest.raises(ValueError) as info:
        eip712.typed_digest(CHAIN, REGISTRY, "T(uint8 a)", ("uint8",), (1, 2))
    assert str(info.value) == "T(uint8 a): 2 values for 1 fields"
    assert type(info.value) is ValueError
    assert eip712.typed_digest(CHAIN, REGISTRY, "T(uint8 a)", ("uint8",), (1,)) == reference(
        "T", [("a", "uint8")], {"a": 1})


KEY = (0xB0B).to_bytes(32, "big")


def test_sign_digest_low_s_and_v() -> None:
    for i in range(8):
        digest = bytes([i]) * 32
        sig = eip712.sign_digest(digest, KEY)
        assert len(sig) == 65 and sig[64] in (27, 28)
        s = int.from_bytes(sig[32:64], "big")
        assert 0 < s <= eip712.HALF_N
        expect = PrivateKey(KEY).sign_msg_hash(digest)
        assert sig == expect.r.to_bytes(32, "big") + expect.s.to_bytes(32, "big") + bytes([expect.v + 27])
        assert eip712.recover_address(digest, sig) == PrivateKey(KEY).public_key.to_canonical_address()
    assert {eip712.sign_digest(bytes([i]) * 32, KEY)[64] for i in range(16)} == {27, 28}


def sig_of(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def refusal(digest: bytes, sig: bytes) -> str:
    with pytest.raises(InvalidSignature) as info:
        eip712.recover_address(digest, sig)
    assert type(info.value) is InvalidSignature
    return str(info.value)


def test_signature_bounds() -> None:
    assert eip712.SECP256K1_N == 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    assert eip712.HALF_N == eip712.SECP256K1_N // 2
    digest = bytes(range(32))
    good = eip712.sign_digest(digest, KEY)
    r = int.from_bytes(good[:32], "big")
    for s, v in ((eip712.HALF_N, 27), (eip712.HALF_N, 28), (1, 27), (1, 28)):  # s = n/2 is still low
        want = Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest).to_canonical_address()
        assert eip712.recover_address(digest, sig_of(r, s, v)) == want
    assert refusal(digest, good[:64]) == "signature must be 65 bytes (r, s, v), got 64"
    assert refusal(digest, good + b"\0") == "signature must be 65 bytes (r, s, v), got 66"
    assert refusal(digest, sig_of(r, eip712.HALF_N + 1, 27)) == (
        "signature s is in the upper half of the curve order (malleable)")
    for v in (0, 1, 26, 29):
        assert refusal(digest, sig_of(r, 1, v)) == f"signature v must be 27 or 28, got {v}"
    for rr, ss in ((0, 1), (eip712.SECP256K1_N, 1), (eip712.SECP256K1_N + 1, 1), (r, 0)):
        assert refusal(digest, sig_of(rr, ss, 27)) == "signature r or s out of range"
    assert refusal(digest[:31], good) == "a signed digest is 32 bytes, got 31"
    assert refusal(digest + b"\0", good) == "a signed digest is 32 bytes, got 33"
    # the checks run in this order
    assert refusal(digest[:31], sig_of(0, eip712.HALF_N + 1, 5)) == (
        "signature s is in the upper half of the curve order (malleable)")
    assert refusal(digest[:31], sig_of(0, 1, 5)) == "signature v must be 27 or 28, got 5"
    assert refusal(digest[:31], sig_of(0, 1, 27)) == "signature r or s out of range"
    assert refusal(digest, sig_of(5, 1, 27)).startswith("signature does not recover to a key: ")


def test_recover_signer_memoises_recover_address() -> None:
    digest = bytes(range(32))
    sig = eip712.sign_digest(digest, KEY)
    assert eip712.recover_signer(digest, sig) == eip712.recover_address(digest, sig)
    assert eip712.recover_signer.__wrapped__ is eip712.recover_address  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- consents of entities and keys


FEDERATION = bytes.fromhex("e7f1725E7734CE288F8367e1Bb143E90bb3F0512")


def federation_reference(primary: str, fields: list[tuple[str, str]], message: dict[str, Any]) -> bytes:
    doc = {
        "types": {"EIP712Domain": DOMAIN_TYPES, primary: [{"name": n, "type": t} for n, t in fields]},
        "primaryType": primary,
        "domain": {"name": "ProvenanceFederation", "version": "1", "chainId": CHAIN,
                   "verifyingContract": "0x" + FEDERATION.hex()},
        "message": message,
    }
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


ONBOARDING_FIELDS = [("identifierHash", "bytes32"), ("account", "address"), ("role", "uint8"),
                     ("registrar", "uint16"), ("deadline", "uint256")]


@pytest.mark.parametrize(("account", "role", "registrar", "deadline"), [
    (bytes(20), 0, 1, 0), (b"\xff" * 20, 255, 65535, 2**256 - 1), (bytes(range(20)), 2, 7, 1_700_000_000)])
def test_onboarding_consent_is_eip712(account: bytes, role: int, registrar: int, deadline: int) -> None:
    ident = bytes(range(32, 64))
    want = reference("Onboarding", ONBOARDING_FIELDS, {"identifierHash": ident, "account": "0x" + account.hex(),
                                                       "role": role, "registrar": registrar, "deadline": deadline})
    assert eip712.onboarding_digest(CHAIN, REGISTRY, ident, account, role, registrar, deadline) == want
    doc = eip712.onboarding_typed_data(CHAIN, REGISTRY, ident, account, role, registrar, deadline)
    assert bytes(_hash_eip191_message(encode_typed_data(full_message=doc))) == want  # what a wallet signs
    # eth-account infers what a document leaves out; a wallet may not, so the document is compared whole
    assert doc["types"] == {"EIP712Domain": DOMAIN_TYPES,
                            "Onboarding": [{"name": n, "type": t} for n, t in ONBOARDING_FIELDS]}
    assert doc["primaryType"] == "Onboarding"
    assert list(doc) == ["types", "primaryType", "domain", "message"]
    assert doc["domain"] == {"name": "ProvenanceRegistry", "version": "1", "chainId": CHAIN,  # type: ignore[index]
                             "verifyingContract": to_checksum_address(REGISTRY)}
    assert doc["message"] == {"identifierHash": "0x" + ident.hex(), "account": to_checksum_address(account),
                              "role": role, "registrar": registrar, "deadline": deadline}
    assert eip712.ONBOARDING_TYPE == "Onboarding(" + ",".join(f"{t} {n}" for n, t in ONBOARDING_FIELDS) + ")"
    with pytest.raises(InvalidSignature) as info:
        eip712.onboarding_digest(CHAIN, REGISTRY, ident, account[:19], role, registrar, deadline)
    assert str(info.value) == "an address field of a signed statement is not 20 bytes"


@pytest.mark.parametrize(("role", "member", "key"), [(0, 1, bytes(20)), (1, 65535, b"\xff" * 20),
                                                     (255, 300, bytes(range(20)))])
def test_key_grant_is_eip712(role: int, member: int, key: bytes) -> None:
    want = federation_reference("KeyGrant", [("role", "uint8"), ("member", "uint16"), ("key", "address")],
                                {"role": role, "member": member, "key": "0x" + key.hex()})
    assert eip712.key_grant_digest(CHAIN, FEDERATION, role, member, key) == want
    assert eip712.key_grant_digest(CHAIN, bytearray(FEDERATION), role, member, bytearray(key)) == want
    assert eip712.KEY_GRANT_TYPE == "KeyGrant(uint8 role,uint16 member,address key)"


@pytest.mark.parametrize(("code", "name"), [(b"SDE\0\0\0\0\0", "Shanghai Data Exchange"), (b"12345678", ""),
                                            (b"A\0\0\0\0\0\0\0", "上海数据交易所")])
def test_member_key_is_eip712(code: bytes, name: str) -> None:
    key = bytes(range(1, 21))
    fields = [("role", "uint8"), ("code", "bytes8"), ("name", "string"), ("key", "address")]
    want = federation_reference("MemberKey", fields, {"role": 1, "code": code, "name": name,
                                                      "key": "0x" + key.hex()})
    assert eip712.member_key_digest(CHAIN, FEDERATION, 1, code, name, key) == want
    assert eip712.MEMBER_KEY_TYPE == "MemberKey(" + ",".join(f"{t} {n}" for n, t in fields) + ")"
    for bad in (code[:7], code + b"\0"):
        with pytest.raises(InvalidSignature) as info:
            eip712.member_key_digest(CHAIN, FEDERATION, 1, bad, name, key)
        assert str(info.value) == f"a member code is 8 bytes, got {len(bad)}"


def test_address_words_and_checksums() -> None:
    assert eip712._word("address", b"\x01" * 20) == bytes(12) + b"\x01" * 20
    assert eip712._word("address", bytearray(b"\x02" * 20)) == bytes(12) + b"\x02" * 20
    for bad in (bytes(19), bytes(21), bytes(32), "0x" + "00" * 20, 0):
        with pytest.raises(InvalidSignature) as info:
            eip712._word("address", bad)
        assert str(info.value) == "an address field of a signed statement is not 20 bytes"
    for i in range(64):
        addr = keccak_bytes(i)[:20]
        assert eip712._checksum(addr) == to_checksum_address(addr)
    assert (eip712.ROLE_EXCHANGE, eip712.ROLE_SUPERVISOR) == (0, 1)
    assert eip712.FEDERATION_DOMAIN_NAME == "ProvenanceFederation"
    assert eip712.domain_separator(CHAIN, REGISTRY, "ProvenanceFederation") != eip712.domain_separator(CHAIN, REGISTRY)


def keccak_bytes(i: int) -> bytes:
    return bytes(eth_keccak(i.to_bytes(4, "big")))


# ---------------------------------------------------------------------- wallet documents (eth_signTypedData_v4)


def whole(primary: str, fields: list[tuple[str, str]], message: dict[str, Any], name: str = "ProvenanceRegistry",
          contract: bytes = REGISTRY) -> dict[str, Any]:
    return {"types": {"EIP712Domain": DOMAIN_TYPES, primary: [{"name": n, "type": t} for n, t in fields]},
            "primaryType": primary,
            "domain": {"name": name, "version": "1", "chainId": CHAIN,
                       "verifyingContract": to_checksum_address(contract)},
            "message": message}


def signed(doc: dict[str, Any]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


def test_registration_document() -> None:
    parents = (bytes([10]) * 32, bytes([11]) * 32)
    request = RegistrationRequest(1, 2, 2, 7, 2**32 - 1, bytes([1]) * 32, bytes([2]) * 32,  # type: ignore[arg-type]
                                  bytes([3]) * 32, parents)  # type: ignore[arg-type]
    doc = eip712.registration_typed_data(CHAIN, REGISTRY, 65535, request, 5, 2**64)
    assert doc == whole("Registration", REG_FIELDS, {
        "registrar": 65535, "kind": 1, "grade": 2, "source": 2, "rights": 7, "owner": 2**32 - 1,
        "contentHash": "0x" + "01" * 32, "metadataHash": "0x" + "02" * 32, "supersedes": "0x" + "03" * 32,
        "parents": ["0x" + "0a" * 32, "0x" + "0b" * 32], "nonce": 5, "deadline": 2**64})
    assert signed(doc) == eip712.registration_digest(CHAIN, REGISTRY, 65535, request, 5, 2**64)


def test_key_documents() -> None:
    key = bytes(range(1, 21))
    doc = eip712.key_grant_typed_data(CHAIN, FEDERATION, 1, 300, key)
    assert doc == whole("KeyGrant", [("role", "uint8"), ("member", "uint16"), ("key", "address")],
                        {"role": 1, "member": 300, "key": to_checksum_address(key)}, "ProvenanceFederation", FEDERATION)
    assert signed(doc) == eip712.key_grant_digest(CHAIN, FEDERATION, 1, 300, key)
    doc = eip712.member_key_typed_data(CHAIN, FEDERATION, 0, b"SDE\0\0\0\0\0", "上海", key)
    assert doc == whole("MemberKey", [("role", "uint8"), ("code", "bytes8"), ("name", "string"), ("key", "address")],
                        {"role": 0, "code": "0x5344450000000000", "name": "上海", "key": to_checksum_address(key)},
                        "ProvenanceFederation", FEDERATION)
    assert signed(doc) == eip712.member_key_digest(CHAIN, FEDERATION, 0, b"SDE\0\0\0\0\0", "上海", key)


def test_typed_data_of_any_struct() -> None:
    doc = eip712.typed_data("N", 1, REGISTRY, "T(uint8 a,bytes32[] b,string c)", (255, [bytes(32)], ""),
                            version="2")
    assert doc == {"types": {"EIP712Domain": DOMAIN_TYPES, "T": [{"name": "a", "type": "uint8"},
                                                                  {"name": "b", "type": "bytes32[]"},
                                                                  {"name": "c", "type": "string"}]},
                   "primaryType": "T",
                   "domain": {"name": "N", "version": "2", "chainId": 1,
                              "verifyingContract": to_checksum_address(REGISTRY)},
                   "message": {"a": 255, "b": ["0x" + "00" * 32], "c": ""}}
    assert eip712.typed_data("N", 1, REGISTRY, "E()", ())["types"]["E"] == []  # type: ignore[index]
    with pytest.raises(ValueError) as info:
        eip712.typed_data("N", 1, REGISTRY, "T(uint8 a)", (1, 2))
    assert str(info.value) == "T(uint8 a): 2 values for 1 fields"


@pytest.mark.parametrize("bad", ["", "T", "(uint8 a)", "T(uint8 a", "T(uint8 a)(", "T(S(uint8 a))", "T(uint8 a)x"])
def test_type_fields_refuses_what_is_not_one_struct(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        eip712.type_fields(bad)
    assert str(info.value) == f"not the type string of one struct: {bad!r}"


def test_type_fields() -> None:
    assert eip712.type_fields("Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)") == [
        {"name": "exchange", "type": "uint16"}, {"name": "treeSize", "type": "uint64"},
        {"name": "root", "type": "bytes32"}]
    assert eip712.type_fields("E()") == []


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("bytes32[]", bytes(32), "a bytes32[] field of a signed statement is not a list"),
    ("bytes32[]", [bytes(31)], "a bytes32 field of a signed statement is not 32 bytes"),
    ("string", b"x", "a string field of a signed statement is not text"),
    ("bytes8", bytes(7), "a bytes8 field of a signed statement is not 8 bytes"),
    ("bytes8", "0x" + "00" * 8, "a bytes8 field of a signed statement is not 8 bytes"),
    ("address", bytes(19), "an address field of a signed statement is not 20 bytes"),
    ("uint8", 256, "a uint8 field of a signed statement is out of range: 256"),
    ("uint16", -1, "a uint16 field of a signed statement is out of range: -1"),
])
def test_document_values_refused_as_their_digests_refuse_them(kind: str, value: object, message: str) -> None:
    with pytest.raises(InvalidSignature) as info:
        eip712._json_value(kind, value)
    assert str(info.value) == message


def test_document_values() -> None:
    assert eip712._json_value("uint256", 2**256 - 1) == 2**256 - 1
    assert eip712._json_value("bytes8", bytearray(b"\x01" * 8)) == "0x" + "01" * 8
    assert eip712._json_value("bytes32[]", (bytes(32),)) == ["0x" + "00" * 32]
    assert eip712._json_value("uint8[]", []) == []
    assert eip712._json_value("string", "é") == "é"
    assert eip712._json_value("address", bytearray(REGISTRY)) == to_checksum_address(REGISTRY)
