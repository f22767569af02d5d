"""The federation's governance and keys, as the node's operator does them: this keystore's keys and their standing
on chain, adding, rotating and revoking them, member exchanges, proposals and approvals, mandates, and an owner's
signature over a registration. The CLI's ``key``, ``exchange``, ``entity mandate`` and ``sign`` commands call
these (the HTTP API reads the federation through :class:`~provenance.services.operations.Operations`)."""

from __future__ import annotations

from typing import Any

from provenance.chain.registry import RegistryService
from provenance.core import eip712
from provenance.core.ids import parse_address
from provenance.core.jsonable import jsonable
from provenance.services.node import Node
from provenance.services.requests import held_key, parse_signature
from provenance.services.results.federation import ExchangeDetailOut, ExchangeOut
from provenance.types import RegistrationRequest


class FederationOperations:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.svc = RegistryService(node.contracts)

    # ------------------------------------------------------------------ keys

    def keys(self) -> list[dict[str, Any]]:
        """Every key of this keystore, with the exchange it is a key of and whether it is valid now."""
        out = []
        for label, address in self.node.keystore.labels().items():
            rec = self.svc.key(parse_address(address))
            exchange = self.svc.exchange(rec.exchange_id).code if rec.exchange_id else None
            out.append({"label": label, "address": address, "exchange": exchange,
                        "valid": bool(rec.exchange_id) and rec.valid_to == 0})
        return out

    def rotate_key(self, old_label: str | None, new_label: str) -> dict[str, Any]:
        """Replace a key by a new one made in this keystore (which signs its own KeyGrant); the node's default
        key follows when it is the one rotated."""
        old_label = old_label or self.node.config.key
        old = self.node.signer(old_label)
        new = self.node.keystore.create(new_label)
        res = self.svc.rotate_key(old, new)
        if old_label == self.node.config.key:
            self.node.config.with_key(new_label).save()
        return {"revoked": old.address, "added": new.address, "label": new_label, "block": res.block_number}

    def add_key(self, signer: str | None, label: str) -> dict[str, Any]:
        address = self.node.keystore.address(label)
        res = self.svc.add_key(self.node.signer(signer), self.node.signer(label))  # the added key signs its grant
        return {"added": address, "block": res.block_number}

    def revoke_key(self, signer: str | None, address: str) -> dict[str, Any]:
        res = self.svc.revoke_key(self.node.signer(signer), parse_address(address))
        return {"revoked": address, "block": res.block_number}

    def key_consent(self, label: str, code: str, name: str, *, supervisor: bool) -> dict[str, Any]:
        """The MemberKey signature a proposer needs: this keystore's key consents to be the first key of the member
        (exchange, or supervisor) that a proposal with this code and name adds."""
        acct = self.node.signer(label)
        role = eip712.ROLE_SUPERVISOR if supervisor else eip712.ROLE_EXCHANGE
        digest = self.svc.member_key_digest(role, code, name, parse_address(acct.address))
        return {"address": acct.address, "keySignature": "0x" + eip712.sign_digest(digest, bytes(acct.key)).hex()}

    # ------------------------------------------------------------------ members and proposals

    def exchanges(self) -> list[ExchangeOut]:
        return [ExchangeOut.model_validate(jsonable(e)) for e in self.svc.exchanges()]

    def exchange(self, ref: int | str) -> ExchangeDetailOut:
        ex = self.svc.exchange(ref)
        return ExchangeDetailOut.model_validate({**jsonable(ex), "keys": jsonable(self.svc.keys_of(ex.id))})

    def propose_add(self, signer: str | None, code: str, name: str, key_address: str,
                    key_signature: str | None) -> Any:
        """Propose admitting an exchange with its first key: the key's MemberKey signature is given, or made here
        when this keystore holds the key."""
        address = parse_address(key_address)
        key = held_key(self.node, address) if key_signature is None else None
        signature = None if key_signature is None else parse_signature(key_signature)
        return jsonable(self.svc.propose_add_exchange(self.node.signer(signer), code, name,
                                                      key if key is not None else address, signature))

    def propose_remove(self, signer: str | None, exchange: int | str) -> Any:
        return jsonable(self.svc.propose_remove_exchange(self.node.signer(signer), exchange))

    def propose_threshold(self, signer: str | None, threshold: int) -> Any:
        return jsonable(self.svc.propose_threshold(self.node.signer(signer), threshold))

    def approve(self, signer: str | None, proposal_id: int) -> Any:
        return jsonable(self.svc.approve(self.node.signer(signer), proposal_id))

    def proposals(self) -> list[Any]:
        return [jsonable(p) for p in self.svc.proposals()]

    # ------------------------------------------------------------------ entities' consents

    def set_mandate(self, signer: str | None, entity_id: int, exchange: int | str, granted: bool) -> dict[str, Any]:
        res = self.svc.set_mandate(self.node.signer(signer), entity_id, exchange, granted)
        return {"entity": entity_id, "exchange": exchange, "granted": granted, "block": res.block_number}

    def sign_registration(self, owner_key: str, registrar: int | str, request: RegistrationRequest, *,
                          ttl_seconds: int) -> dict[str, Any]:
        """The owner's EIP-712 signature over a registration, with the eth_signTypedData_v4 document beside it so
        any EIP-712 tool can check what was signed."""
        signed = self.svc.sign_registration(self.node.keystore.load(owner_key), registrar, request,
                                            ttl_seconds=ttl_seconds)
        return {**jsonable(signed), "typedData": self.svc.registration_typed_data(signed)}
