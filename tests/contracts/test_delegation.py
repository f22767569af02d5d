"""Delegated registration: the owner's EIP-712 signature, bound to chain, contract, registrar, nonce, deadline."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from provenance.chain.registry import SignedRegistration
from provenance.core import eip712
from provenance.core.ids import parse_exchange_code
from provenance.errors import InvalidSignature
from provenance.types import Address, Grade, Hash32, Kind, Rights, Source
from tests.support.federation import Fed, addr, make_fed, request, reverts


def _signed(fed: Fed, owner: int, key: bytes, *, registrar: int = 1, nonce: int | None = None,
            deadline: int | None = None, chain_id: int | None = None, contract: bytes | None = None,
            **req_kw: object) -> SignedRegistration:
    req = request(owner, **req_kw)  # type: ignore[arg-type]
    nonce = fed.svc.entity(owner).nonce if nonce is None else nonce
    deadline = int(time.time()) + 600 if deadline is None else deadline
    digest = eip712.registration_digest(chain_id or fed.chain.chain_id, contract or fed.contracts.deployment.registry,
                                        registrar, req, nonce, deadline)
    return SignedRegistration(req, registrar, nonce, deadline, eip712.sign_digest(digest, key))


def test_python_digest_equals_the_contracts(fed: Fed) -> None:
    owner, _ = fed.entity()
    p = fed.register("SDE", request(owner))
    req = request(owner, kind=Kind.PRODUCT, grade=Grade.IMPORTANT, parents=(p,), supersedes=b"\x07" * 32)
    ours = eip712.registration_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 2, req, 5, 1234)
    theirs = fed.contracts.call("Registry", "registrationDigest", 2, req.as_abi_tuple(), 5, 1234)[0]
    assert ours == theirs
    sep = fed.contracts.call("Registry", "domainSeparator")[0]
    assert sep == eip712.domain_separator(fed.chain.chain_id, fed.contracts.deployment.registry)


def test_delegated_registration_needs_no_mandate(fed: Fed) -> None:
    owner, account = fed.entity("SDE", mandate_to=())
    signed = _signed(fed, owner, account.key)
    rid, _ = fed.svc.register_for(fed.keys["SDE"], signed)
    tx_events = fed.chain.get_logs([fed.contracts.deployment.registry], fed.chain.block_number(),
                                   fed.chain.block_number())
    decoded = fed.contracts.decode_logs(tx_events)
    assert decoded[0].args["delegated"] is True and decoded[0].args["id"] == rid
    assert fed.svc.entity(owner).nonce == 1


def test_replay_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key)
    fed.svc.register_for(fed.keys["SDE"], signed)
    with reverts("InvalidNonce", owner=owner, expected=1, given=0):
        fed.svc.register_for(fed.keys["SDE"], signed)


def test_future_nonce_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    with reverts("InvalidNonce", owner=owner, expected=0, given=3):
        fed.svc.register_for(fed.keys["SDE"], _signed(fed, owner, account.key, nonce=3))


def test_expired_deadline_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key, deadline=int(time.time()) - 5)
    with reverts("SignatureExpired", deadline=signed.deadline):
        fed.svc.register_for(fed.keys["SDE"], signed)


def test_signature_for_another_chain_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key, chain_id=fed.chain.chain_id + 1)
    with reverts("WrongSigner", expected=bytes.fromhex(account.address[2:])):
        fed.svc.register_for(fed.keys["SDE"], signed)


def test_signature_for_another_contract_refused(fed: Fed, tmp_path: Path) -> None:
    owner, account = fed.entity()
    other = make_fed(tmp_path / "other")  # the same contracts deployed elsewhere
    try:
        other_owner, _ = other.entity()
        assert other_owner == owner
        signed = _signed(fed, owner, account.key, contract=other.contracts.deployment.registry)
        with reverts("WrongSigner"):
            fed.svc.register_for(fed.keys["SDE"], signed)
    finally:
        other.chain.close()


def test_signature_for_another_registrar_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key, registrar=1)
    with reverts("WrongSigner"):
        fed.svc.register_for(fed.keys["ZJDE"], signed)  # ZJDE submits what was signed for SDE


def test_wrong_signer_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    mallory = Account.create()
    with reverts("WrongSigner", recovered=bytes.fromhex(mallory.address[2:]),
                 expected=bytes.fromhex(account.address[2:])):
        fed.svc.register_for(fed.keys["SDE"], _signed(fed, owner, mallory.key))
    # The exchange itself cannot sign for the owner either.
    with reverts("WrongSigner"):
        fed.svc.register_for(fed.keys["SDE"], _signed(fed, owner, fed.keys["SDE"].key))


def test_high_s_refused(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key)
    r, s, v = signed.signature[:32], int.from_bytes(signed.signature[32:64], "big"), signed.signature[64]
    high = r + (eip712.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # the malleable twin
    with reverts("InvalidSignatureS"):
        fed.svc.register_for(fed.keys["SDE"], replace(signed, signature=high))


@pytest.mark.parametrize("mutate", ["compact", "long", "v0", "v29", "tampered"])
def test_malformed_signatures_refused(fed: Fed, mutate: str) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key)
    sig = signed.signature
    bad, error = {
        "compact": (sig[:64], "InvalidSignatureLength"),
        "long": (sig + b"\x00", "InvalidSignatureLength"),
        "v0": (sig[:64] + b"\x00", "InvalidSignatureV"),
        "v29": (sig[:64] + b"\x1d", "InvalidSignatureV"),
        "tampered": (sig[:5] + bytes([sig[5] ^ 1]) + sig[6:], "WrongSigner"),
    }[mutate]
    with reverts(error):
        fed.svc.register_for(fed.keys["SDE"], replace(signed, signature=bad))


def test_signed_request_cannot_be_altered(fed: Fed) -> None:
    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key, grade=Grade.IMPORTANT)
    for changed in (replace(signed.request, grade=Grade.GENERAL), replace(signed.request, kind=Kind.ASSET),
                    replace(signed.request, metadata_hash=b"\x01" * 32)):
        with reverts("WrongSigner"):
            fed.svc.register_for(fed.keys["SDE"], replace(signed, request=changed))
    with reverts("WrongSigner"):
        fed.svc.register_for(fed.keys["SDE"], replace(signed, deadline=signed.deadline + 1))


def test_delegated_registration_obeys_the_same_rules(fed: Fed) -> None:
    owner, account = fed.entity()
    core = fed.register("SDE", request(owner, grade=Grade.CORE))
    signed = _signed(fed, owner, account.key, kind=Kind.PRODUCT, grade=Grade.CORE, parents=(core,))
    with reverts("CoreNotListable"):
        fed.svc.register_for(fed.keys["SDE"], signed)
    assert fed.svc.entity(owner).nonce == 0  # a refused registration spends no nonce


def test_unknown_owner(fed: Fed) -> None:
    _, account = fed.entity()
    signed = _signed(fed, 1, account.key)
    with reverts("UnknownEntity", entityId=99):
        fed.svc.register_for(fed.keys["SDE"], replace(signed, request=replace(signed.request, owner=99)))


def test_python_recovery_refuses_what_the_contract_refuses(fed: Fed) -> None:
    from provenance.errors import InvalidSignature

    owner, account = fed.entity()
    signed = _signed(fed, owner, account.key)
    digest = eip712.registration_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, signed.request,
                                        signed.nonce, signed.deadline)
    assert eip712.recover_signer(digest, signed.signature) == bytes.fromhex(account.address[2:])
    s = int.from_bytes(signed.signature[32:64], "big")
    high = signed.signature[:32] + (eip712.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signed.signature[64]])
    for bad in (signed.signature[:64], high, signed.signature[:64] + b"\x01"):
        with pytest.raises(InvalidSignature):
            eip712.recover_signer(digest, bad)


# ---------------------------------------------------------------------- wallets sign whole typed-data documents


def _wallet_signature(doc: dict[str, object], key: bytes) -> bytes:
    return bytes(Account.sign_message(encode_typed_data(full_message=doc), key).signature)


def _wallet_digest(doc: dict[str, object]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


def _elsewhere(doc: dict[str, object], member: str, value: object) -> dict[str, object]:
    out = copy.deepcopy(doc)
    out["domain"][member] = value  # type: ignore[index]
    return out


def test_a_wallet_signed_registration_document_registers_every_field_at_its_bound(fed: Fed) -> None:
    owner, account = fed.entity(mandate_to=())  # no mandate: only the signature lets SDE register for it
    source_owner, _ = fed.entity()
    parents = tuple(fed.register("SDE", request(source_owner, grade=Grade.IMPORTANT)) for _ in range(16))
    req = request(owner, kind=Kind.ASSET, grade=Grade.IMPORTANT, source=Source.PERSONAL, rights=Rights(7),
                  parents=parents, metadata=Hash32(b"\xff" * 32))
    nonce, deadline = fed.svc.entity(owner).nonce, int(time.time()) + 600
    registry = fed.contracts.deployment.registry
    doc = eip712.registration_typed_data(fed.chain.chain_id, registry, 1, req, nonce, deadline)
    message = doc["message"]
    assert message["parents"] == ["0x" + p.hex() for p in parents] and message["rights"] == 7  # type: ignore[index]
    view = fed.contracts.call("Registry", "registrationDigest", 1, req.as_abi_tuple(), nonce, deadline)[0]
    assert _wallet_digest(doc) == eip712.registration_digest(fed.chain.chain_id, Address(registry), 1, req, nonce,
                                                             deadline) == view
    for member, value in (("chainId", fed.chain.chain_id + 1), ("verifyingContract", "0x" + "22" * 20)):
        forged = SignedRegistration(req, 1, nonce, deadline, _wallet_signature(_elsewhere(doc, member, value),
                                                                                 account.key))
        with reverts("WrongSigner", expected=bytes.fromhex(account.address[2:])):
            fed.svc.register_for(fed.keys["SDE"], forged)
    signed = SignedRegistration(req, 1, nonce, deadline, _wallet_signature(doc, account.key))
    rid, _ = fed.svc.register_for(fed.keys["SDE"], signed)
    assert fed.svc.record(rid).owner == owner and fed.svc.entity(owner).nonce == nonce + 1


def test_wallet_signed_key_documents_admit_their_keys(fed: Fed) -> None:
    newcomer, member = Account.create(), Account.create()
    federation = fed.contracts.deployment.federation
    grant = fed.svc.key_grant_typed_data(eip712.ROLE_EXCHANGE, 1, addr(newcomer))
    assert _wallet_digest(grant) == fed.svc.key_grant_digest(eip712.ROLE_EXCHANGE, 1, addr(newcomer)) == \
        fed.contracts.call("Federation", "keyGrantDigest", 0, 1, newcomer.address)[0]
    elsewhere = _wallet_signature(_elsewhere(grant, "chainId", fed.chain.chain_id + 1), newcomer.key)
    with reverts("WrongKeySigner"):
        fed.svc.add_key(fed.keys["SDE"], addr(newcomer), elsewhere)
    fed.svc.add_key(fed.keys["SDE"], addr(newcomer), _wallet_signature(grant, newcomer.key))
    assert addr(newcomer) in {k.address for k in fed.svc.keys_of(1)}

    code = parse_exchange_code("JSDE")
    doc = fed.svc.member_key_typed_data(eip712.ROLE_EXCHANGE, "JSDE", "Jiangsu 数据交易所", addr(member))
    assert doc["message"] == {"role": 0, "code": "0x" + code.hex(), "name": "Jiangsu 数据交易所",
                              "key": member.address}
    assert _wallet_digest(doc) == fed.contracts.call("Federation", "memberKeyDigest", 0, code, "Jiangsu 数据交易所",
                                                     member.address)[0]
    forged = _wallet_signature(_elsewhere(doc, "verifyingContract", "0x" + federation.hex()[::-1]), member.key)
    with reverts("WrongKeySigner"):
        fed.svc.propose_add_exchange(fed.keys["SDE"], "JSDE", "Jiangsu 数据交易所", addr(member), forged)
    outcome = fed.svc.propose_add_exchange(fed.keys["SDE"], "JSDE", "Jiangsu 数据交易所", addr(member),
                                           _wallet_signature(doc, member.key))
    assert outcome.proposal_id >= 0


def test_typed_data_documents_refuse_what_their_digests_refuse() -> None:
    assert eip712.type_fields(eip712.KEY_GRANT_TYPE) == [{"name": "role", "type": "uint8"},
                                                         {"name": "member", "type": "uint16"},
                                                         {"name": "key", "type": "address"}]
    with pytest.raises(InvalidSignature, match="uint16"):
        eip712.key_grant_typed_data(1, bytes(20), 0, 2**16, bytes(20))
    with pytest.raises(InvalidSignature, match="address"):
        eip712.key_grant_typed_data(1, bytes(20), 0, 1, bytes(19))
    with pytest.raises(InvalidSignature, match="bytes8"):
        eip712.member_key_typed_data(1, bytes(20), 0, b"SDE", "x", bytes(20))
    with pytest.raises(ValueError, match="one struct"):
        eip712.type_fields("Outer(Inner inner)Inner(uint8 x)")
