"""Delegated registration: the owner's EIP-712 signature, bound to chain, contract, registrar, nonce, deadline."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account

from provenance.core import eip712
from provenance.service import SignedRegistration
from provenance.types import Grade, Kind
from tests.helpers import Fed, make_fed, request, reverts


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
