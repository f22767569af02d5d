"""Every typed-data endpoint answers an ``eth_signTypedData_v4`` document a wallet signs as it is.

Each document is fetched over HTTP, signed with eth-account's full-message API (``encode_typed_data`` and
``Account.sign_message``: an EIP-712 encoder no one here wrote, standing in for a wallet), and the signature is
submitted over HTTP for the contract to judge. The digest eth-account computes equals the node's ``digest`` and the
contract's own view; a document altered to another chain or contract gives a signature the contract refuses.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.address import to_checksum_address

from provenance.services.requests import request_from_json
from provenance.store.keystore import Keystore
from tests.support.passphrase import passphrase
from tests.support.served import Served, serve

API = "/api/v1"
DOMAIN_TYPES = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
TAMPERED = [("chainId", lambda d: d["chainId"] + 1),
            ("verifyingContract", lambda d: to_checksum_address("0x" + "11" * 20))]


@pytest.fixture
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Served]:
    """The demo node as SDE, fresh for each test (each one spends a nonce or decides an application)."""
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    yield from serve(tmp_path / "data", demo)


def wallet_key(served: Served, label: str) -> bytes:
    return bytes(Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent)).load(label).key)


def wallet_digest(doc: dict[str, Any]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


def wallet_sign(doc: dict[str, Any], key: bytes) -> str:
    return "0x" + bytes(Account.sign_message(encode_typed_data(full_message=doc), key).signature).hex()


def tampered(doc: dict[str, Any], member: str, change: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["domain"][member] = change(out["domain"])
    return out


def assert_whole_document(doc: dict[str, Any], primary: str, name: str, contract: bytes, chain_id: int) -> None:
    """Spelled out in full, as a wallet needs it: eth-account would infer a missing domain type or primaryType."""
    assert list(doc) == ["types", "primaryType", "domain", "message"]
    assert set(doc["types"]) == {"EIP712Domain", primary} and doc["types"]["EIP712Domain"] == DOMAIN_TYPES
    assert doc["primaryType"] == primary
    assert doc["domain"] == {"name": name, "version": "1", "chainId": chain_id,
                             "verifyingContract": to_checksum_address(contract)}
    assert [f["name"] for f in doc["types"][primary]] == list(doc["message"])


def test_a_wallet_signs_the_registration_document_and_the_registry_accepts_it(node: Served) -> None:
    c, contracts = node.client, node.runtime.ops.node.contracts
    owner = node.demo["entities"]["m-lingang"]
    req = {"kind": "product", "grade": "important", "owner": owner, "contentHash": "0x" + "7a" * 32,
           "parents": [node.record("port-vessel-traffic"), node.record("logistics-waybills")]}
    r = c.post(f"{API}/registrations/typed-data", json=req)
    assert r.status_code == 200, r.text
    answer = r.json()
    doc = answer["typedData"]
    registry = contracts.address("Registry")
    assert_whole_document(doc, "Registration", "ProvenanceRegistry", registry, answer["chainId"])
    message = doc["message"]
    assert message["parents"] == req["parents"] and message["contentHash"] == req["contentHash"]
    assert (message["registrar"], message["owner"], message["nonce"], message["deadline"]) == \
        (answer["registrar"], owner, answer["nonce"], answer["deadline"])
    request = request_from_json(req)
    view = contracts.call("Registry", "registrationDigest", answer["registrar"], request.as_abi_tuple(),
                          answer["nonce"], answer["deadline"])[0]
    assert wallet_digest(doc) == bytes.fromhex(answer["digest"][2:]) == view

    key = wallet_key(node, "m-lingang")
    terms = {"nonce": answer["nonce"], "deadline": answer["deadline"]}
    for member, change in TAMPERED:
        bad = wallet_sign(tampered(doc, member, change), key)
        r = c.post(f"{API}/registrations", json={**req, "ownerSignature": {**terms, "signature": bad}},
                   headers=node.auth("registrar"))
        assert r.status_code == 422 and r.json()["rule"] == "WrongSigner", (member, r.text)
    r = c.post(f"{API}/registrations", json={**req, "ownerSignature": {**terms, "signature": wallet_sign(doc, key)}},
               headers=node.auth("registrar"))
    assert r.status_code == 201, r.text
    assert r.json()["record"]["delegated"] is True and r.json()["record"]["owner"] == owner


def test_a_supervisors_wallet_signs_the_approval_document_and_anyone_relays_it(node: Served) -> None:
    c, admin, contracts = node.client, node.auth("admin"), node.runtime.ops.node.contracts
    terms = {"expiresAt": 2**40, "volumeLimit": 123_456, "deadline": 2**41}
    r = c.get(f"{API}/flows/applications/2/approval-typed-data", params=terms)
    assert r.status_code == 200, r.text
    doc, digest = r.json()["typedData"], bytes.fromhex(r.json()["digest"][2:])
    chain_id = node.runtime.ops.node.chain.chain_id
    assert_whole_document(doc, "Approval", "ProvenanceCrossBorder", contracts.address("CrossBorder"), chain_id)
    application = c.get(f"{API}/flows/applications/2", headers=admin).json()
    message = doc["message"]
    # Every stored term the digest binds is shown to the supervisor, as the contract holds it.
    assert [f["name"] for f in doc["types"]["Approval"]] == [
        "application", "recordId", "exporter", "receiver", "destination", "category", "purposeHash",
        "assessmentRef", "expiresAt", "volumeLimit", "deadline"]
    assert (message["application"], message["exporter"], message["receiver"]) == \
        (2, application["exporter"], application["receiver"])
    assert message["destination"] == "0x" + application["destination"].encode().hex()
    assert message["category"] == "0x" + application["category"].encode().ljust(32, b"\0").hex()
    assert {k: message[k] for k in terms} == terms
    view = contracts.call("CrossBorder", "approvalDigest", 2, terms["expiresAt"], terms["volumeLimit"],
                          terms["deadline"])[0]
    assert wallet_digest(doc) == digest == view

    cac = wallet_key(node, "CAC")
    for member, change in TAMPERED:
        bad = wallet_sign(tampered(doc, member, change), cac)
        r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": bad}, headers=admin)
        assert r.status_code == 403 and r.json()["rule"] == "NotSupervisorKey", (member, r.text)
    r = c.post(f"{API}/flows/applications/2/signed-approval", json={**terms, "signature": wallet_sign(doc, cac)},
               headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decidedBy"], r.json()["signed"]) == ("approved", 1, True)
    assert (r.json()["expiresAt"], r.json()["volumeLimit"]) == (terms["expiresAt"], terms["volumeLimit"])


def test_a_wallet_signs_the_onboarding_document_and_the_registry_onboards_the_entity(node: Served) -> None:
    c, admin, contracts = node.client, node.auth("admin"), node.runtime.ops.node.contracts
    account = Account.create()
    query = {"identifier": "91310000WALLET001", "account": account.address, "role": "service-provider"}
    r = c.get(f"{API}/entities/consent", params=query)
    assert r.status_code == 200, r.text
    answer = r.json()
    doc = answer["typedData"]
    chain_id = node.runtime.ops.node.chain.chain_id
    assert_whole_document(doc, "Onboarding", "ProvenanceRegistry", contracts.address("Registry"), chain_id)
    message = doc["message"]
    assert message["account"] == account.address and message["deadline"] == answer["deadline"]
    view = contracts.call("Registry", "onboardingDigest", bytes.fromhex(message["identifierHash"][2:]),
                          account.address, message["role"], message["registrar"], message["deadline"])[0]
    assert wallet_digest(doc) == bytes.fromhex(answer["digest"][2:]) == view

    body = {**query, "deadline": answer["deadline"]}
    for member, change in TAMPERED:
        bad = wallet_sign(tampered(doc, member, change), account.key)
        r = c.post(f"{API}/entities", json={**body, "consent": bad}, headers=admin)
        assert r.status_code in (403, 422) and r.json()["rule"] == "WrongSigner", (member, r.text)
    r = c.post(f"{API}/entities", json={**body, "consent": wallet_sign(doc, account.key)}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["account"].lower() == account.address.lower() and r.json()["role"] == "service-provider"


def test_a_document_for_a_missing_application_is_not_found(node: Served) -> None:
    r = node.client.get(f"{API}/flows/applications/999/approval-typed-data", params={"deadline": 1})
    assert r.status_code == 404, r.text


def test_what_the_node_signs_for_the_cli_carries_the_document_it_covers(node: Served) -> None:
    """``flow sign-approval`` and ``sign`` write the signature beside the document it covers: eth-account recovers
    the signer from the document alone."""
    ops, ks = node.runtime.ops, Keystore(node.data_dir / "keystore", passphrase(node.data_dir.parent))
    cac, owner = ks.load("CAC"), ks.load("m-lingang")
    signed = ops.flows.sign_approval(2, expires_at=0, volume_limit=77, deadline=2**40, signer=cac)
    doc = signed["typedData"]
    assert {k: doc["message"][k] for k in ("application", "expiresAt", "volumeLimit", "deadline")} == \
        {"application": 2, "expiresAt": 0, "volumeLimit": 77, "deadline": 2**40}
    assert Account.recover_message(encode_typed_data(full_message=doc), signature=signed["signature"]) == cac.address
    request = request_from_json({"kind": "resource", "owner": node.demo["entities"]["m-lingang"],
                                 "contentHash": "0x" + "7b" * 32})
    registration = ops.sign_registration(owner, 1, request)
    doc = ops.svc.registration_typed_data(registration)
    assert Account.recover_message(encode_typed_data(full_message=doc),
                                   signature=registration.signature) == owner.address
    r = node.client.post(f"{API}/flows/applications/2/signed-approval", headers=node.auth("admin"),
                         json={k: signed[k] for k in ("expiresAt", "volumeLimit", "deadline", "signature")})
    assert r.status_code == 200 and r.json()["volumeLimit"] == 77, r.text
