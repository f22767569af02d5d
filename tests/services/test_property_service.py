"""The property register's service on the embedded chain, without HTTP: the users' values (decimal amounts in a
currency's major unit, ISO 8601 dates, names for codes) turned into the contract's, each write answered with the
state read back from the index, consent by mandate or by an EIP-712 signature made from the service's typed data
with eth-account, and who sees what of a record's property."""

from __future__ import annotations

import calendar
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from provenance.core.ids import identifier_hash
from provenance.errors import ContractReverted, InvalidInput, NotFound
from provenance.indexer.property_queries import Assessment, Pledge, PropertyView
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.property import PropertyOperations, property_json, redact_property
from provenance.services.property_values import MINOR_UNITS, major_amount, minor_amount, parse_terms, unix_time
from provenance.types import EntityRole, Grade, Hash32, Kind, RegistrationRequest, Rights, Source
from tests.support.passphrase import passphrase

YEAR = 365 * 86400


# ---------------------------------------------------------------------- the users' values (pure)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("1250000.00", "CNY", 125_000_000), ("1250000", "CNY", 125_000_000), ("0.01", "USD", 1),
    ("3000", "JPY", 3000), ("1.234", "KWD", 1234), ("0.0001", "CLF", 1)])
def test_amounts_are_read_in_the_currencys_major_unit(amount: str, currency: str, minor: int) -> None:
    assert minor_amount(amount, currency) == minor


@pytest.mark.parametrize(("amount", "currency", "fragment"), [
    ("1.5", "JPY", "0 decimal place"), ("0.001", "CNY", "2 decimal place"), ("0", "CNY", "above zero"),
    ("-5", "CNY", "decimal string"), ("1e6", "CNY", "decimal string"), ("01.00", "CNY", "decimal string"),
    ("１２", "CNY", "decimal string"), ("3402823669209384634633746074317682114.56", "CNY", "below")])
def test_bad_amounts_are_refused_by_name(amount: str, currency: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        minor_amount(amount, currency)


@given(st.integers(min_value=1, max_value=2**128 - 1), st.sampled_from(sorted(MINOR_UNITS)))
def test_major_amount_is_the_inverse_of_minor_amount(minor: int, currency: str) -> None:
    text = major_amount(minor, currency)
    assert minor_amount(text, currency) == minor
    # Held to Decimal's own arithmetic, with the precision a 128-bit amount needs.
    assert Decimal(text).scaleb(MINOR_UNITS[currency], context=Context(prec=100)) == minor


def test_currencies_are_iso_4217_codes() -> None:
    assert {"CNY": 2, "JPY": 0, "KWD": 3, "EUR": 2, "HKD": 2}.items() <= MINOR_UNITS.items()
    for bad in ("cny", "RMB", "XYZ", "CN", ""):
        with pytest.raises(InvalidInput, match="ISO 4217"):
            parse_terms("pledge", {"pledgee": 5, "amount": "1.00", "currency": bad, "until": "2030-01-01",
                                   "reference": "loan 1"})


def test_dates_are_iso_8601() -> None:
    midnight = calendar.timegm((2027, 6, 30, 0, 0, 0))
    assert unix_time("2027-06-30", "until") == midnight
    assert unix_time("2027-06-30T08:00:00+08:00", "until") == midnight
    assert unix_time("2027-06-30T00:00:00Z", "until") == midnight
    for bad, fragment in (("2027-06-30T08:00:00", "offset"), ("30/06/2027", "ISO 8601"), ("2027-13-01", "ISO 8601"),
                          (3.5, "ISO 8601")):
        with pytest.raises(InvalidInput, match=fragment):
            unix_time(bad, "until")


@pytest.mark.parametrize(("action", "body", "fragment"), [
    ("transfer", {}, "to is missing"),
    ("transfer", {"to": 0}, "entity id"),
    ("change", {"reason": "x"}, "rights, metadataHash or both"),
    ("change", {"rights": ["flying"], "reason": "x"}, "flying"),
    ("change", {"rights": [1, 2], "reason": "x"}, "list of holding"),
    ("cancel", {"reason": "bored"}, "owner-request"),
    ("assess", {"assessor": 4, "kind": "beauty", "report": "r"}, "quality, compliance, valuation"),
    ("assess", {"assessor": 4, "kind": "quality", "score": 10_001, "standard": "GB/T 36344", "report": "r"},
     "basis points"),
    ("assess", {"assessor": 4, "kind": "valuation", "amount": "10", "currency": "CNY", "method": "vibes",
                "valuationDate": "2026-01-01", "report": "r"}, "cost, income, market"),
    ("assess", {"assessor": 4, "kind": "valuation", "amount": "5000000000000000000000", "currency": "JPY",
                "method": "market", "valuationDate": "2026-01-01", "report": "r"}, "below"),
    ("rule", {"arbitrator": 9, "outcome": "ownership", "ruling": "r"}, "newOwner"),
    ("rule", {"arbitrator": 9, "outcome": "dismissed", "newOwner": 4, "ruling": "r"}, "newOwner"),
    ("dispute", {"claimant": 3, "claim": "  "}, "claim"),
    ("withdraw", {}, "assessment is missing"),
    ("withdraw", {"assessment": 0}, "number in the record"),
    ("withdraw", {"assessment": "second"}, "number in the record"),
    ("withdraw", {"assessment": True}, "number in the record"),
    ("withdraw", {"assessment": "0x1234"}, "32 bytes"),
    ("sneeze", {}, "action must be one of"),
])
def test_terms_name_what_is_wrong(action: str, body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        parse_terms(action, body)


def _view(**over: Any) -> PropertyView:
    pledge = Pledge(1, 40, 125_000_000, "CNY", 2_000_000_000, bytes(32), 10, None, None)
    valuation = Assessment(3, 41, "valuation", None, None, "market", 380_000_000, "CNY", bytes(32), 1_700_000_000, 0,
                           b"\x01" * 32, 9, False)
    fields: dict[str, Any] = {
        "record": b"\x07" * 32, "owner": 5, "original_owner": 5, "expires_at": 0, "listed": False, "pledge": pledge,
        "dispute": None, "assessments": (valuation,), "transfers": 0, "changes": 0, "cancelled_reason": None,
        "valuation": valuation}
    return PropertyView(**{**fields, **over})


def test_a_pledge_shows_the_valuation_in_force_beside_its_amount() -> None:
    doc = property_json(_view(), now=1_800_000_000)
    assert doc["pledge"]["amount"] == "1250000.00" and doc["pledge"]["currency"] == "CNY"
    assert doc["pledge"]["valuation"]["amount"] == "3800000.00" and doc["pledge"]["valuation"]["method"] == "market"
    assert doc["assessments"][0]["inForce"] is True
    assert property_json(_view(valuation=None), now=1)["pledge"]["valuation"] is None


def test_redaction_keeps_the_states_and_hides_the_parties() -> None:
    doc = property_json(_view(), now=1)
    public = redact_property(doc, reveal=False, sees_pledge=False)
    assert public["redacted"] is True and public["pledged"] is True and public["pledge"] is None
    assert "owner" not in public and "assessments" not in public
    # A general-grade record shows its holder and assessments; its encumbrance stays the members' and the parties'.
    general = redact_property(doc, reveal=True, sees_pledge=False)
    assert general["owner"] == 5 and general["assessments"] and general["pledge"] is None
    assert redact_property(doc, reveal=False, sees_pledge=True)["pledge"] == doc["pledge"]


# ---------------------------------------------------------------------- on the chain


@dataclass
class World:
    prop: PropertyOperations
    ops: Operations
    demo: dict[str, Any]
    financier: tuple[int, LocalAccount]  # no mandate: consents by signature
    assessor: int
    arbitrator: int
    claimant: int

    @property
    def lingang(self) -> int:
        return int(self.demo["entities"]["m-lingang"])

    def asset(self, kind: Kind = Kind.ASSET) -> bytes:
        req = RegistrationRequest(kind, Grade.GENERAL, Source.ENTERPRISE, Rights.HOLDING | Rights.OPERATION,
                                  self.lingang, Hash32(secrets.token_bytes(32)), Hash32(bytes(32)))
        return bytes.fromhex(self.ops.register(req)["id"][2:])


def onboard(ops: Operations, role: str, *, mandate: bool = True) -> tuple[int, LocalAccount]:
    account = Account.create()
    entity = ops.svc.register_entity(ops.signer(), identifier_hash(f"91310000{secrets.token_hex(5).upper()}"),
                                     account, EntityRole.parse(role))
    if mandate:
        ops.svc.set_mandate(account, entity, "SDE", True)
    return entity, account


def governed(w: PropertyOperations, decision: str, subject: Any, value: int = 0) -> None:
    """A decision under the demo's threshold of two: SDE proposes, ZJDE's approval executes and applies it."""
    out = w.decide(decision, subject, value)
    if not out["executed"]:
        w.approve_decision(out["proposal"], signer=w.ops.signer("ZJDE"))


@pytest.fixture(scope="module")
def world(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    src, demo = demo_dir
    root = tmp_path_factory.mktemp("property-service")
    shutil.copytree(src, root / "data")
    node = Node.open(root / "data", passphrase(root))
    try:
        ops = Operations(node)
        ops.sync()
        prop = PropertyOperations(ops)
        financier = onboard(ops, "financial-institution", mandate=False)
        assessor, _ = onboard(ops, "assessment-institution")
        arbitrator, _ = onboard(ops, "arbitration-institution")
        claimant, _ = onboard(ops, "supplier")
        governed(prop, "accredit-assessor", assessor)
        governed(prop, "appoint-arbitrator", arbitrator)
        governed(prop, "set-term", "asset", YEAR)
        yield World(prop, ops, demo, financier, assessor, arbitrator, claimant)
    finally:
        node.close()


def signed(w: World, record: bytes, action: str, party: str, body: dict[str, Any], key: LocalAccount) -> Any:
    """The party's consent as a wallet makes it: eth-account signs the service's full eth_signTypedData_v4 document."""
    doc = w.prop.consent_typed_data(record, action, party, body)
    assert set(doc["typedData"]) == {"types", "primaryType", "domain", "message"}
    assert "EIP712Domain" in doc["typedData"]["types"]
    sig = Account.sign_typed_data(key.key, full_message=doc["typedData"])
    assert "0x" + bytes(sig.message_hash).hex() == doc["digest"]
    return {"deadline": doc["deadline"], "signature": "0x" + bytes(sig.signature).hex()}


def test_governance_accredits_appoints_and_sets_terms(world: World) -> None:
    terms = world.prop.terms()
    assert world.assessor in terms["assessors"] and world.arbitrator in terms["arbitrators"]
    assert terms["terms"]["asset"] == YEAR and terms["terms"]["resource"] == 0
    with pytest.raises(InvalidInput, match="decision must be one of"):
        world.prop.decide("crown-king", 1)


def test_pledge_with_a_valuation_and_a_transfer_that_needs_the_pledgee(world: World) -> None:
    w, record = world, world.asset()
    fi, fi_key = w.financier
    valuation = {"assessor": w.assessor, "kind": "valuation", "amount": "3800000.00", "currency": "CNY",
                 "method": "income", "valuationDate": "2026-11-30", "report": "valuation report 2026-117"}
    out = w.prop.act(record, "assess", valuation)
    assert out["assessments"][-1]["amount"] == "3800000.00" and out["tx"].startswith("0x")
    terms = {"pledgee": fi, "amount": "1250000.00", "currency": "CNY", "until": "2030-06-30",
             "reference": "SPDB-2026-PL-0042"}
    # The financial institution gave this exchange no mandate: without its signature the contract refuses.
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "pledge", terms)
    assert refused.value.error == "NoConsent" and refused.value.args_by_name["entityId"] == fi
    out = w.prop.act(record, "pledge", terms,
                     consents={"pledgee": signed(w, record, "pledge", "pledgee", terms, fi_key)})
    assert out["pledged"] and out["pledge"]["pledgee"] == fi and out["pledge"]["amount"] == "1250000.00"
    assert out["pledge"]["until"] == "2030-06-30T00:00:00Z"
    assert out["pledge"]["valuation"]["amount"] == "3800000.00"
    found = w.prop.encumbrances(pledgee=fi)["items"]
    assert [i["record"] for i in found] == ["0x" + record.hex()]
    # While pledged, a transfer needs the pledgee: its mandate is missing, so only its signature will do.
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "transfer", {"to": w.claimant})
    assert refused.value.error == "NoConsent"
    body = {"to": w.claimant}
    out = w.prop.act(record, "transfer", body,
                     consents={"pledgee": signed(w, record, "transfer", "pledgee", body, fi_key)})
    assert out["owner"] == w.claimant and out["transfers"] == 1
    assert [(o["previous"], o["owner"], o["cause"]) for o in out["owners"]] == [(w.lingang, w.claimant, "transfer")]
    assert w.ops.indexed(record).owner == w.claimant  # the record itself names its new holder


def test_a_used_signature_does_not_serve_twice(world: World) -> None:
    w, record = world, world.asset(Kind.PRODUCT)
    fi, fi_key = w.financier
    terms = {"pledgee": fi, "amount": "10", "currency": "USD", "until": "2031-01-01", "reference": "r-1"}
    consent = signed(w, record, "pledge", "pledgee", terms, fi_key)
    w.prop.act(record, "pledge", terms, consents={"pledgee": consent})
    out = w.prop.act(record, "release", consents={"pledgee": signed(w, record, "release", "pledgee", {}, fi_key)})
    assert not out["pledged"] and out["pledges"][-1]["ended"] == "released"
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "pledge", terms, consents={"pledgee": consent})
    assert refused.value.error == "WrongSigner"  # its nonce is spent: it no longer matches the message


def test_a_withdrawn_valuation_no_longer_stands_beside_the_pledge(world: World) -> None:
    w, record = world, world.asset(Kind.PRODUCT)
    fi, fi_key = w.financier
    out = w.prop.act(record, "assess", {"assessor": w.assessor, "kind": "valuation", "amount": "900000",
                                        "currency": "CNY", "method": "cost", "valuationDate": "2026-10-01",
                                        "report": "v-9"})
    index = out["assessments"][-1]["index"]
    terms = {"pledgee": fi, "amount": "500000.00", "currency": "CNY", "until": "2030-01-01", "reference": "r-9"}
    consent = signed(w, record, "pledge", "pledgee", terms, fi_key)
    out = w.prop.act(record, "pledge", terms, consents={"pledgee": consent})
    assert out["pledge"]["valuation"]["index"] == index
    out = w.prop.act(record, "withdraw", {"assessment": index})
    assert out["pledge"]["valuation"] is None and out["pledged"]
    assert out["assessments"][-1]["withdrawn"] and not out["assessments"][-1]["inForce"]
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "withdraw", {"assessment": index})
    assert refused.value.error == "AlreadyWithdrawn"


def test_an_assessment_is_named_by_its_number_or_its_id(world: World) -> None:
    w, record = world, world.asset()
    quality = {"assessor": w.assessor, "kind": "quality", "score": 9100, "standard": "GB/T 36344-2018"}
    first = w.prop.act(record, "assess", {**quality, "report": "q-1"})
    second = w.prop.act(record, "assess", {**quality, "report": "q-2"})
    # The contract's id, computed independently: keccak256(abi.encode(uint32 assessor, uint8 kind, bytes32 report)).
    report = keccak(text="q-2")
    expected = "0x" + keccak(abi_encode(["uint32", "uint8", "bytes32"], [w.assessor, 0, report])).hex()
    assert second["assessment"] == {"index": 2, "id": expected}
    assert [(a["index"], a["id"]) for a in second["assessments"]] == [
        (1, first["assessment"]["id"]), (2, expected)]
    with pytest.raises(ContractReverted) as refused:  # the same assessor, kind and report: the same assessment
        w.prop.act(record, "assess", {**quality, "score": 5000, "report": "q-2"})
    assert refused.value.error == "AlreadyAssessed"
    out = w.prop.act(record, "withdraw", {"assessment": expected})
    assert out["assessment"] == {"index": 2, "id": expected}
    assert [a["withdrawn"] for a in out["assessments"]] == [False, True]
    out = w.prop.act(record, "withdraw", {"assessment": "1"})
    assert out["assessment"]["index"] == 1 and all(a["withdrawn"] for a in out["assessments"])
    with pytest.raises(NotFound, match="no assessment 3"):
        w.prop.act(record, "withdraw", {"assessment": 3})
    with pytest.raises(NotFound, match="no assessment 0x"):
        w.prop.consent_typed_data(record, "withdraw", "assessor", {"assessment": "0x" + "ab" * 32})
    doc = w.prop.consent_typed_data(record, "withdraw", "assessor", {"assessment": 1})
    assert doc["entity"] == w.assessor and doc["typedData"]["message"]["termsHash"] == \
        "0x" + keccak(abi_encode(["bytes32"], [bytes.fromhex(first["assessment"]["id"][2:])])).hex()


def test_a_listing_names_the_compliance_assessment_in_force(world: World) -> None:
    w, record = world, world.asset(Kind.PRODUCT)
    exchange = w.ops.exchange_ref("SDE")
    governed(w.prop, "set-compliance-rule", "SDE", 1)
    try:
        with pytest.raises(ContractReverted) as refused:
            w.prop.act(record, "list")
        assert refused.value.error == "ComplianceRequired"
        failed = w.prop.act(record, "assess", {"assessor": w.assessor, "kind": "compliance", "passed": False,
                                               "scope": "personal information", "report": "c-1"})
        with pytest.raises(ContractReverted) as refused:  # named, a failed assessment does not do
            w.prop.act(record, "list", {"complianceAssessment": failed["assessment"]["id"]})
        assert refused.value.error == "ComplianceRequired"
        w.prop.act(record, "assess", {"assessor": w.assessor, "kind": "compliance", "passed": True,
                                      "scope": "personal information", "report": "c-2"})
        with pytest.raises(NotFound, match="no assessment 9"):
            w.prop.act(record, "list", {"complianceAssessment": 9})
        out = w.prop.act(record, "list")  # unnamed: the latest passed one in force is the evidence
        assert out["listed"]
    finally:
        governed(w.prop, "set-compliance-rule", exchange, 0)


def test_dispute_ruling_and_its_execution(world: World) -> None:
    w, record = world, world.asset()
    out = w.prop.act(record, "dispute", {"claimant": w.claimant, "claim": "claim 2026-SH-88: co-ownership"})
    assert out["disputed"] and out["dispute"]["claimant"] == w.claimant
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "transfer", {"to": w.claimant})
    assert refused.value.error == "UnderDispute"
    out = w.prop.act(record, "rule", {"arbitrator": w.arbitrator, "outcome": "ownership", "newOwner": w.claimant,
                                      "ruling": "SHAC award 2026-19"})
    assert out["disputed"] and out["dispute"]["outcome"] == "ownership" and out["owner"] == w.lingang
    out = w.prop.act(record, "execute")
    assert not out["disputed"] and out["owner"] == w.claimant
    assert out["owners"][-1]["cause"] == "ruling" and out["disputes"][-1]["executed"]


def test_change_renew_and_cancel(world: World) -> None:
    w, record = world, world.asset()
    first = w.prop.property(record)
    assert first["expiresAt"] is not None and not first["expired"]
    out = w.prop.act(record, "renew")
    assert out["expiresAt"] > first["expiresAt"] and out["renewals"] == 1
    out = w.prop.act(record, "change", {"rights": ["holding", "processing", "operation"], "reason": "licence"})
    assert out["changes"] == 1 and out["changeHistory"][0]["rights"] == ["holding", "processing", "operation"]
    assert w.ops.indexed(record).rights == 7
    with pytest.raises(ContractReverted) as refused:
        w.prop.act(record, "change", {"rights": ["holding", "processing", "operation"], "reason": "again"})
    assert refused.value.error == "NoChange"
    out = w.prop.act(record, "cancel", {"reason": "court-order"})
    assert out["cancelled"] == "court-order"
    assert w.ops.record(record)["status"] == "revoked"


def test_consent_typed_data_names_its_parties(world: World) -> None:
    w, record = world, world.asset()
    with pytest.raises(InvalidInput, match="parties of renew"):
        w.prop.consent_typed_data(record, "renew", "pledgee", {})
    doc = w.prop.consent_typed_data(record, "transfer", "receiver", {"to": w.claimant})
    message = doc["typedData"]["message"]
    assert (message["entityId"], message["counterparty"], message["action"]) == (w.claimant, w.lingang, "transfer")
    assert doc["typedData"]["domain"]["name"] == "ProvenancePropertyRegister"
