"""EIP-712 typed-data digests for delegated registration (https://eips.ethereum.org/EIPS/eip-712).

The owner entity signs ``Registration(...)`` under the domain
``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`` with name
"ProvenanceRegistry" and version "1". The domain binds a signature to one chain and one registry contract;
the struct binds it to the registrar exchange that may submit it, the owner's next nonce and a deadline, so a
signature can be used once, by one exchange, on one deployment, before a time.

These functions mirror ``Registry._registrationDigest`` byte for byte; a test compares them with the
contract's own ``registrationDigest`` view.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from coincurve import PublicKey
from eth_abi.abi import encode
from eth_keys.datatypes import PrivateKey

from provenance.core.keccak import keccak256 as keccak
from provenance.errors import InvalidSignature
from provenance.types import Address, RegistrationRequest


def _keccak(data: bytes) -> bytes:
    return bytes(keccak(data))

DOMAIN_NAME = "ProvenanceRegistry"
DOMAIN_VERSION = "1"

DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
REGISTRATION_TYPE = (
    "Registration(uint16 registrar,uint8 kind,uint8 grade,uint8 source,uint8 rights,uint32 owner,"
    "bytes32 contentHash,bytes32 metadataHash,bytes32 supersedes,bytes32[] parents,uint256 nonce,uint256 deadline)"
)
REGISTRATION_TYPEHASH = keccak(REGISTRATION_TYPE.encode())

# secp256k1 group order; EIP-2 accepts only s <= n/2 so that every signature has one valid encoding.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def domain_separator(chain_id: int, verifying_contract: Address, name: str = DOMAIN_NAME) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(name.encode()), keccak(DOMAIN_VERSION.encode()), chain_id,
             verifying_contract],
        )
    )


def registration_struct_hash(registrar: int, request: RegistrationRequest, nonce: int, deadline: int) -> bytes:
    parents_hash = keccak(b"".join(request.parents))
    return keccak(
        encode(
            ["bytes32", "uint16", "uint8", "uint8", "uint8", "uint8", "uint32", "bytes32", "bytes32", "bytes32",
             "bytes32", "uint256", "uint256"],
            [REGISTRATION_TYPEHASH, registrar, int(request.kind), int(request.grade), int(request.source),
             int(request.rights), request.owner, request.content_hash, request.metadata_hash, request.supersedes,
             parents_hash, nonce, deadline],
        )
    )


def registration_digest(
    chain_id: int, registry: Address, registrar: int, request: RegistrationRequest, nonce: int, deadline: int
) -> bytes:
    return _keccak(
        b"\x19\x01" + domain_separator(chain_id, registry)
        + registration_struct_hash(registrar, request, nonce, deadline)
    )


def sign_digest(digest: bytes, private_key: bytes) -> bytes:
    """A 65-byte r||s||v signature (v in {27, 28}, low s) over a 32-byte digest."""
    sig = PrivateKey(private_key).sign_msg_hash(digest)
    r, s, v = int(sig.r), int(sig.s), int(sig.v)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])


def recover_address(digest: bytes, signature: bytes) -> Address:
    """Recover the signer of a 65-byte signature, refusing the encodings the contract refuses (not memoised: for
    a signature seen once, such as a certificate's own, where a cache would only cost)."""
    if len(signature) != 65:
        raise InvalidSignature(f"signature must be 65 bytes (r, s, v), got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if s > HALF_N:
        raise InvalidSignature("signature s is in the upper half of the curve order (malleable)")
    if v not in (27, 28):
        raise InvalidSignature(f"signature v must be 27 or 28, got {v}")
    if not (0 < r < SECP256K1_N and 0 < s):
        raise InvalidSignature("signature r or s out of range")
    if len(digest) != 32:
        raise InvalidSignature(f"a signed digest is 32 bytes, got {len(digest)}")
    try:
        # libsecp256k1 through coincurve directly: eth-keys' wrapper objects cost as much again as the recovery.
        pub = PublicKey.from_signature_and_message(signature[:64] + bytes((v - 27,)), digest, hasher=None)
    except Exception as exc:  # coincurve raises ValueError (and its own types) for signatures with no key
        raise InvalidSignature(f"signature does not recover to a key: {exc}") from exc
    return Address(keccak(pub.format(compressed=False)[1:])[12:])


recover_signer = functools.lru_cache(maxsize=8192)(recover_address)
"""Memoised :func:`recover_address` (a pure function of its inputs; failures are not cached): certificates of
records in one batch share their checkpoint's signed note and cosignatures, so a verifier checking many recovers
each of those once."""


# ---------------------------------------------------------------------- node-signed statements
#
# Checkpoints, certificates, recognitions and federation snapshots are signed under the same domain as the
# registry (this chain, this contract), so a signature made for one deployment is worthless on any other.

CHECKPOINT_TYPE = "Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)"
CERTIFICATE_TYPE = "Certificate(bytes32 credentialHash,uint16 issuer,uint64 issuedBlock)"
RECOGNITION_TYPE = "Recognition(bytes32 credentialHash,uint16 recognizer,bytes32 optionsHash)"
SNAPSHOT_TYPE = "FederationSnapshot(uint16 exchange,uint64 atBlock,bytes32 contentHash)"


@functools.lru_cache(maxsize=64)
def _cached_domain(chain_id: int, registry: bytes) -> bytes:
    return domain_separator(chain_id, Address(registry))


@functools.lru_cache(maxsize=16)
def _type_hash(type_string: str) -> bytes:
    return _keccak(type_string.encode())


_LIMIT = {"uint8": 1 << 8, "uint16": 1 << 16, "uint32": 1 << 32, "uint64": 1 << 64,
          "uint256": 1 << 256}


def _word(kind: str, value: object) -> bytes:
    """ABI encoding of one static field: bytes32 as is, unsigned integers as 32-byte big-endian words."""
    if kind == "address":
        if not isinstance(value, bytes | bytearray) or len(value) != 20:
            raise InvalidSignature("an address field of a signed statement is not 20 bytes")
        return bytes(12) + bytes(value)
    if kind == "bytes32":
        if type(value) is bytes and len(value) == 32:
            return value
        if not isinstance(value, bytes | bytearray) or len(value) != 32:
            raise InvalidSignature("a bytes32 field of a signed statement is not 32 bytes")
        return bytes(value)
    if not isinstance(value, int) or not 0 <= value < _LIMIT[kind]:
        raise InvalidSignature(f"a {kind} field of a signed statement is out of range: {value!r}")
    return value.to_bytes(32, "big")


def typed_digest(chain_id: int, registry: bytes, type_string: str, types: Sequence[str],
                 values: Sequence[object]) -> bytes:
    """keccak256(0x1901 || domainSeparator || hashStruct) for a struct of static fields (EIP-712 encodeData:
    each field one 32-byte word)."""
    if len(types) != len(values):
        raise ValueError(f"{type_string}: {len(values)} values for {len(types)} fields")
    struct_hash = keccak(_type_hash(type_string) + b"".join(map(_word, types, values)))
    return keccak(b"\x19\x01" + _cached_domain(chain_id, bytes(registry)) + struct_hash)


def checkpoint_digest(chain_id: int, registry: bytes, exchange: int, tree_size: int, root: bytes) -> bytes:
    """Mirrors ``Registry.checkpointDigest``: what an exchange signs for its log, and a witness cosigns."""
    return typed_digest(chain_id, registry, CHECKPOINT_TYPE, ("uint16", "uint64", "bytes32"),
                        (exchange, tree_size, root))


def certificate_digest(chain_id: int, registry: bytes, credential_hash: bytes, issuer: int,
                       issued_block: int) -> bytes:
    return typed_digest(chain_id, registry, CERTIFICATE_TYPE, ("bytes32", "uint16", "uint64"),
                        (credential_hash, issuer, issued_block))


def recognition_digest(chain_id: int, registry: bytes, credential_hash: bytes, recognizer: int,
                       options_hash: bytes) -> bytes:
    """``optionsHash`` covers the recognition's own proof fields (all but its signature)."""
    return typed_digest(chain_id, registry, RECOGNITION_TYPE, ("bytes32", "uint16", "bytes32"),
                        (credential_hash, recognizer, options_hash))


def snapshot_digest(chain_id: int, registry: bytes, exchange: int, at_block: int, content_hash: bytes) -> bytes:
    return typed_digest(chain_id, registry, SNAPSHOT_TYPE, ("uint16", "uint64", "bytes32"),
                        (exchange, at_block, content_hash))


# ---------------------------------------------------------------------- consents of entities and keys
#
# Mirrors ``Registry.onboardingDigest`` and ``Federation.keyGrantDigest`` / ``memberKeyDigest`` byte for byte (a
# test compares them with the contracts' views, and with eth-account's independent EIP-712 encoder).

ONBOARDING_TYPE = "Onboarding(bytes32 identifierHash,address account,uint8 role,uint16 registrar,uint256 deadline)"
FEDERATION_DOMAIN_NAME = "ProvenanceFederation"
KEY_GRANT_TYPE = "KeyGrant(uint8 role,uint16 member,address key)"
MEMBER_KEY_TYPE = "MemberKey(uint8 role,bytes8 code,string name,address key)"
ROLE_EXCHANGE = 0
ROLE_SUPERVISOR = 1


def onboarding_digest(chain_id: int, registry: bytes, identifier_hash: bytes, account: bytes, role: int,
                      registrar: int, deadline: int) -> bytes:
    """What an entity's account signs to consent to being onboarded as this identity, by this exchange."""
    return typed_digest(chain_id, registry, ONBOARDING_TYPE, ("bytes32", "address", "uint8", "uint16", "uint256"),
                        (identifier_hash, account, role, registrar, deadline))


def _federation_digest(chain_id: int, federation: bytes, struct_hash: bytes) -> bytes:
    return _keccak(b"\x19\x01" + domain_separator(chain_id, Address(bytes(federation)), FEDERATION_DOMAIN_NAME)
                   + struct_hash)


def key_grant_digest(chain_id: int, federation: bytes, role: int, member: int, key: bytes) -> bytes:
    """What a key signs to be added to (or rotated into) exchange or supervisor ``member``."""
    struct_hash = keccak(_type_hash(KEY_GRANT_TYPE) + _word("uint8", role) + _word("uint16", member)
                         + _word("address", key))
    return _federation_digest(chain_id, federation, struct_hash)


def member_key_digest(chain_id: int, federation: bytes, role: int, code: bytes, name: str, key: bytes) -> bytes:
    """What a key signs to be the first key of the member a proposal adds (``code``: the left-aligned bytes8)."""
    if len(code) != 8:
        raise InvalidSignature(f"a member code is 8 bytes, got {len(code)}")
    struct_hash = keccak(_type_hash(MEMBER_KEY_TYPE) + _word("uint8", role) + bytes(code).ljust(32, b"\0")
                         + _keccak(name.encode()) + _word("address", key))
    return _federation_digest(chain_id, federation, struct_hash)


# ---------------------------------------------------------------------- eth_signTypedData_v4 documents
#
# What a wallet signs is the whole typed-data document, not a digest, so that it can show the user the fields.
# Each document is built from the same type string as its digest (the fields are parsed out of it), so the two
# cannot drift apart; tests sign the documents with eth-account's full-message encoder and submit the signature.

_DOMAIN_FIELDS = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                  {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]


def type_fields(type_string: str) -> list[dict[str, str]]:
    """The members of an EIP-712 ``encodeType`` string of one struct (``Name(type name,...)``), in order."""
    primary, _, rest = type_string.partition("(")
    if not primary or not rest.endswith(")") or "(" in rest:
        raise ValueError(f"not the type string of one struct: {type_string!r}")
    members = [m.split(" ") for m in rest[:-1].split(",")] if rest != ")" else []
    return [{"name": m[1], "type": m[0]} for m in members]


def _json_value(kind: str, value: object) -> object:
    """One member as wallets take it: addresses EIP-55, fixed bytes as 0x hex, integers as JSON numbers (exact in
    Python and Go; eth-account and MetaMask also take decimal strings), arrays element by element."""
    if kind.endswith("[]"):
        if not isinstance(value, list | tuple):
            raise InvalidSignature(f"a {kind} field of a signed statement is not a list")
        return [_json_value(kind[:-2], v) for v in value]
    if kind == "string":
        if not isinstance(value, str):
            raise InvalidSignature("a string field of a signed statement is not text")
        return value
    if kind.startswith("bytes"):
        size = int(kind[5:])
        if not isinstance(value, bytes | bytearray) or len(value) != size:
            raise InvalidSignature(f"a {kind} field of a signed statement is not {size} bytes")
        return "0x" + bytes(value).hex()
    if kind == "address":
        return _checksum(_word(kind, value)[12:])
    _word(kind, value)  # the range check of the digest, so a document never holds what its digest refuses
    return value


def typed_data(domain_name: str, chain_id: int, contract: bytes, type_string: str,
               values: Sequence[object], *, version: str = DOMAIN_VERSION) -> dict[str, object]:
    """The ``eth_signTypedData_v4`` document of one struct (``type_string``, its members' ``values`` in order)
    under ``EIP712Domain(name, version, chainId, verifyingContract)``: every type spelled out, since a wallet may
    not infer the domain's type or the primary type as eth-account does."""
    fields = type_fields(type_string)
    if len(fields) != len(values):
        raise ValueError(f"{type_string}: {len(values)} values for {len(fields)} fields")
    primary = type_string.partition("(")[0]
    return {
        "types": {"EIP712Domain": [dict(f) for f in _DOMAIN_FIELDS], primary: fields},
        "primaryType": primary,
        "domain": {"name": domain_name, "version": version, "chainId": chain_id,
                   "verifyingContract": _checksum(bytes(contract))},
        "message": {f["name"]: _json_value(f["type"], v) for f, v in zip(fields, values, strict=True)},
    }


def onboarding_typed_data(chain_id: int, registry: bytes, identifier_hash: bytes, account: bytes, role: int,
                          registrar: int, deadline: int) -> dict[str, object]:
    """The document of :func:`onboarding_digest`: what a wallet holding the account signs."""
    return typed_data(DOMAIN_NAME, chain_id, registry, ONBOARDING_TYPE,
                      (bytes(identifier_hash), bytes(account), role, registrar, deadline))


def registration_typed_data(chain_id: int, registry: bytes, registrar: int, request: RegistrationRequest,
                            nonce: int, deadline: int) -> dict[str, object]:
    """The document of :func:`registration_digest`: what the owner's wallet signs for a delegated registration."""
    return typed_data(DOMAIN_NAME, chain_id, registry, REGISTRATION_TYPE,
                      (registrar, int(request.kind), int(request.grade), int(request.source), int(request.rights),
                       request.owner, bytes(request.content_hash), bytes(request.metadata_hash),
                       bytes(request.supersedes), [bytes(p) for p in request.parents], nonce, deadline))


def key_grant_typed_data(chain_id: int, federation: bytes, role: int, member: int, key: bytes) -> dict[str, object]:
    """The document of :func:`key_grant_digest`."""
    return typed_data(FEDERATION_DOMAIN_NAME, chain_id, federation, KEY_GRANT_TYPE, (role, member, bytes(key)))


def member_key_typed_data(chain_id: int, federation: bytes, role: int, code: bytes, name: str,
                          key: bytes) -> dict[str, object]:
    """The document of :func:`member_key_digest` (``code``: the left-aligned bytes8)."""
    return typed_data(FEDERATION_DOMAIN_NAME, chain_id, federation, MEMBER_KEY_TYPE, (role, bytes(code), name,
                                                                                     bytes(key)))


def _checksum(address: bytes) -> str:
    """EIP-55 mixed-case address text."""
    hex_addr = bytes(address).hex()
    digest = _keccak(hex_addr.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))
