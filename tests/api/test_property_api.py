"""The property register over HTTP: who may write (a writer of this node's exchange) and who reads what (the
records' redaction; an encumbrance for members and its pledgee only), every write answering the state read back
from the index, every refusal a problem document naming the contract's rule, and a party's consent signed with
eth-account's full-message API from the typed data the node serves, which the contract accepts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.reverts import revert_kind
from provenance.core.ids import identifier_hash
from provenance.errors import OUTCOMES
from provenance.services.operations import Operations
from provenance.services.property import PropertyOperations
from provenance.types import EntityRole
from tests.support.served import Served

YEAR = 365 * 86400


@dataclass
class Parties:
    bank: int
    bank_key: LocalAccount
    bank_token: str
    assessor: int
    arbitrator: int
    claimant: int


def onboard(ops: Operations, role: str, *, mandate: bool = True) -> tuple[int, LocalAccount]:
    account = Account.create()
    entity = ops.svc.register_entity(ops.signer(), identifier_hash(f"91310000{secrets.token_hex(5).upper()}"),
                                     account, EntityRole.parse(role))
    if mandate:
        ops.svc.set_mandate(account, entity, "SDE", True)
    return entity, account


@pytest.fixture(scope="module")
def parties(served: Served) -> Parties:
    """A bank (which gave this exchange no mandate: it signs), an accredited assessor and an appointed arbitrator
    (by governance: SDE proposes, ZJDE's approval executes), a claimant; assets have a term of a year."""
    ops = served.runtime.ops
    prop = PropertyOperations(ops)
    bank, bank_key = onboard(ops, "financial-institution", mandate=False)
    assessor, _ = onboard(ops, "assessment-institution")
    arbitrator, _ = onboard(ops, "arbitration-institution")
    claimant, _ = onboard(ops, "supplier")
    for decision, subject, value in (("accredit-assessor", assessor, 0), ("appoint-arbitrator", arbitrator, 0),
                                     ("set-term", "asset", YEAR)):
        out = prop.decide(decision, subject, value)
        if not out["executed"]:
            prop.approve_decision(out["proposal"], signer=ops.signer("ZJDE"))
    token = served.runtime.tokens.create("merchant", f"bank-{bank}", entity=bank)
    return Parties(bank, bank_key, token, assessor, arbitrator, claimant)


def asset(served: Served, grade: str = "important") -> str:
    body = {"kind": "asset", "grade": grade, "owner": served.demo["entities"]["m-lingang"],
            "rights": ["holding", "operation"], "contentHash": "0x" + secrets.token_hex(32)}
    r = served.client.post("/api/v1/registrations", json=body, headers=served.auth("registrar"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def path(record: str, tail: str) -> str:
    return f"/api/v1/registrations/{record}/{tail}"


def signed(served: Served, record: str, action: str, party: str, terms: dict[str, Any], key: LocalAccount) -> Any:
    r = served.client.post(path(record, "consent-typed-data"), params={"action": action, "party": party},
                           json=terms, headers=served.auth("registrar"))
    assert r.status_code == 200, r.text
    doc = r.json()
    typed = doc["typedData"]
    assert set(typed) == {"types", "primaryType", "domain", "message"} and "EIP712Domain" in typed["types"]
    register = served.runtime.node.contracts.deployment.property_register
    assert register is not None and typed["domain"]["verifyingContract"].lower() == "0x" + bytes(register).hex()
    sig = Account.sign_typed_data(key.key, full_message=typed)
    assert "0x" + bytes(sig.message_hash).hex() == doc["digest"]
    return {"deadline": doc["deadline"], "signature": "0x" + bytes(sig.signature).hex()}


def refused(r: Any, rule: str) -> dict[str, Any]:
    """A refusal: a problem document naming the contract's rule, with the status the one table gives its kind."""
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    doc: dict[str, Any] = r.json()
    assert doc["rule"] == rule, doc
    assert r.status_code == OUTCOMES[revert_kind(rule)].http_status
    return doc


def test_writes_need_a_writer_of_this_exchange(served: Served, parties: Parties) -> None:
    record = asset(served)
    body = {"to": parties.claimant}
    assert served.client.post(path(record, "transfers"), json=body).status_code == 401
    for role in ("member", "merchant"):
        r = served.client.post(path(record, "transfers"), json=body, headers=served.auth(role))
        assert r.status_code == 403, r.text
    r = served.client.post(path(record, "transfers"), json=body,
                           headers={"Authorization": f"Bearer {parties.bank_token}"})
    assert r.status_code == 403
    r = served.client.post(path(record, "transfers"), json=body, headers=served.auth("registrar"))
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == parties.claimant and r.json()["owners"][-1]["cause"] == "transfer"


def test_signed_pledge_valuation_and_the_encumbrance_search(served: Served, parties: Parties) -> None:
    record = asset(served)
    reg = served.auth("registrar")
    valuation = {"assessor": parties.assessor, "kind": "valuation", "amount": "3800000.00", "currency": "CNY",
                 "method": "market", "valuationDate": "2026-11-30", "validUntil": "2030-01-01",
                 "report": "CAS valuation report 2026-0117"}
    r = served.client.post(path(record, "assessments"), json=valuation, headers=reg)
    assert r.status_code == 200, r.text
    terms = {"pledgee": parties.bank, "amount": "1250000.00", "currency": "CNY", "until": "2029-12-31",
             "reference": "SPDB-2026-PL-0042"}
    refused(served.client.post(path(record, "pledges"), json=terms, headers=reg), "NoConsent")
    consent = signed(served, record, "pledge", "pledgee", terms, parties.bank_key)
    r = served.client.post(path(record, "pledges"), json={**terms, "consents": {"pledgee": consent}}, headers=reg)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["pledged"] and doc["pledge"]["amount"] == "1250000.00" and doc["pledge"]["currency"] == "CNY"
    assert doc["pledge"]["valuation"]["amount"] == "3800000.00" and doc["tx"].startswith("0x")
    # The same signature again: its nonce is spent, so it no longer matches (and the record is pledged anyway).
    again = served.client.post(path(record, "pledges"), json={**terms, "consents": {"pledgee": consent}}, headers=reg)
    refused(again, again.json()["rule"])
    assert again.json()["rule"] in ("AlreadyPledged", "WrongSigner")

    # An important-grade asset: anyone sees that it is pledged, nobody outside the federation to whom.
    public = served.client.get(path(record, "property")).json()
    assert public["redacted"] and public["pledged"] and public["pledge"] is None and "owner" not in public
    bank = {"Authorization": f"Bearer {parties.bank_token}"}
    own = served.client.get(path(record, "property"), headers=bank).json()
    assert own["pledge"]["pledgee"] == parties.bank and own["pledge"]["valuation"]["method"] == "market"
    member = served.client.get(path(record, "property"), headers=served.auth("member")).json()
    assert not member["redacted"] and member["pledge"]["reference"].startswith("0x")
    assert served.client.get(path(record, "assessments")).status_code == 401
    assert served.client.get(path(record, "assessments"), headers=served.auth("member")).json()[0]["kind"] == \
        "valuation"

    # The encumbrance search: members, and the pledgee for its own.
    assert served.client.get("/api/v1/encumbrances").status_code == 401
    everyone = served.client.get("/api/v1/encumbrances", headers=served.auth("member")).json()["items"]
    assert record in [i["record"] for i in everyone]
    mine = served.client.get("/api/v1/encumbrances", headers=bank).json()["items"]
    assert [i["record"] for i in mine] == [record] and mine[0]["until"] == "2029-12-31T00:00:00Z"
    other = served.client.get("/api/v1/encumbrances", headers=served.auth("merchant"))
    assert other.status_code == 200 and other.json()["items"] == []
    assert served.client.get("/api/v1/encumbrances", params={"pledgee": parties.bank},
                             headers=served.auth("merchant")).status_code == 403

    # While pledged, no transfer without the pledgee; with its signature, the record passes.
    refused(served.client.post(path(record, "transfers"), json={"to": parties.claimant}, headers=reg), "NoConsent")
    consent = signed(served, record, "transfer", "pledgee", {"to": parties.claimant}, parties.bank_key)
    r = served.client.post(path(record, "transfers"), json={"to": parties.claimant,
                                                             "consents": {"pledgee": consent}}, headers=reg)
    assert r.status_code == 200 and r.json()["owner"] == parties.claimant and r.json()["pledged"]


def test_consent_typed_data_goes_to_members_and_the_party_only(served: Served, parties: Parties) -> None:
    record = asset(served)  # important grade: its holder is not for anyone to read
    url, query = path(record, "consent-typed-data"), {"action": "pledge", "party": "pledgee"}
    terms = {"pledgee": parties.bank, "amount": "1.00", "currency": "CNY", "until": "2030-01-01", "reference": "x"}
    assert served.client.post(url, params=query, json=terms).status_code == 401
    other = served.client.post(url, params=query, json=terms, headers=served.auth("merchant"))  # Lingang's token
    assert other.status_code == 403 and f"entity {served.demo['entities']['m-lingang']}" in other.json()["detail"]
    own = served.client.post(url, params=query, json=terms, headers={"Authorization": f"Bearer {parties.bank_token}"})
    assert own.status_code == 200 and own.json()["typedData"]["message"]["entityId"] == parties.bank
    holder = served.client.post(url, params={"action": "pledge", "party": "holder"}, json=terms,
                                headers=served.auth("merchant"))
    assert holder.status_code == 200 and holder.json()["counterparty"] == parties.bank


def test_dispute_ruling_execution_over_http(served: Served, parties: Parties) -> None:
    record = asset(served, grade="general")
    reg = served.auth("registrar")
    r = served.client.post(path(record, "disputes"), json={"claimant": parties.claimant, "claim": "claim no. 88"},
                           headers=reg)
    assert r.status_code == 200 and r.json()["disputed"]
    assert served.client.get(path(record, "property")).json()["disputed"]  # shown to anyone
    refused(served.client.post(path(record, "disputes"), json={"claimant": parties.claimant, "claim": "twice"},
                               headers=reg), "AlreadyDisputed")
    refused(served.client.post(path(record, "cancellation"), json={"reason": "other"}, headers=reg), "UnderDispute")
    r = served.client.post(path(record, "disputes/ruling"), headers=reg,
                           json={"arbitrator": parties.arbitrator, "outcome": "cancelled", "ruling": "award 19"})
    assert r.status_code == 200 and r.json()["dispute"]["outcome"] == "cancelled" and r.json()["disputed"]
    r = served.client.post(path(record, "disputes/execution"), headers=reg)
    assert r.status_code == 200, r.text
    assert not r.json()["disputed"] and r.json()["cancelled"] == "arbitration-ruling"
    assert served.client.get(f"/api/v1/registrations/{record}").json()["status"] == "revoked"
    disputes = served.client.get(path(record, "disputes")).json()
    assert disputes[0]["executed"] and disputes[0]["arbitrator"] == parties.arbitrator


def test_bad_input_is_named_before_any_transaction(served: Served, parties: Parties) -> None:
    record = asset(served)
    reg = served.auth("registrar")
    for body, field in (({"pledgee": parties.bank, "amount": "1,250,000", "currency": "CNY", "until": "2029-12-31",
                          "reference": "x"}, "amount"),
                        ({"pledgee": parties.bank, "amount": "12.5", "currency": "yen", "until": "2029-12-31",
                          "reference": "x"}, "currency")):
        r = served.client.post(path(record, "pledges"), json=body, headers=reg)
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    r = served.client.post(path(record, "pledges"), headers=reg, json={
        "pledgee": parties.bank, "amount": "12.5", "currency": "JPY", "until": "2029-12-31", "reference": "x"})
    assert r.status_code == 422 and "decimal place" in r.json()["detail"]
    r = served.client.post(path(record, "cancellation"), json={"reason": "bored"}, headers=reg)
    assert r.status_code == 422
    r = served.client.post(path(record, "consent-typed-data"), params={"action": "renew", "party": "pledgee"},
                           headers=reg)
    assert r.status_code == 422 and "parties of renew" in r.json()["detail"]
    unknown = "0x" + "ee" * 32
    assert served.client.get(path(unknown, "property")).status_code == 404


def test_change_renewal_and_listing(served: Served, parties: Parties) -> None:
    record = asset(served, grade="general")
    reg = served.auth("registrar")
    before = served.client.get(path(record, "property")).json()
    assert before["expiresAt"] is not None and before["owner"] == served.demo["entities"]["m-lingang"]
    r = served.client.post(path(record, "renewals"), headers=reg)
    assert r.status_code == 200 and r.json()["expiresAt"] > before["expiresAt"]
    r = served.client.post(path(record, "changes"), headers=reg,
                           json={"rights": ["holding", "processing", "operation"], "reason": "licence 2026-7"})
    assert r.status_code == 200 and r.json()["changeHistory"][-1]["previousRights"] == ["holding", "operation"]
    assert served.client.get(f"/api/v1/registrations/{record}").json()["rights"] == \
        ["holding", "processing", "operation"]
    r = served.client.post(path(record, "listing"), headers=reg)
    assert r.status_code == 200 and r.json()["listed"]
    refused(served.client.post(path(record, "listing"), headers=reg), "AlreadyListed")


def test_an_assessment_is_withdrawn_by_its_number_or_its_id(served: Served, parties: Parties) -> None:
    record = asset(served, grade="general")
    reg = served.auth("registrar")
    quality = {"assessor": parties.assessor, "kind": "quality", "score": 9000, "standard": "GB/T 36344-2018"}
    made = []
    for report in ("q-a", "q-b"):
        r = served.client.post(path(record, "assessments"), json={**quality, "report": report}, headers=reg)
        assert r.status_code == 200, r.text
        made.append(r.json()["assessment"])
    assert [(a["index"], a["id"]) for a in r.json()["assessments"]] == [(m["index"], m["id"]) for m in made]
    assert [m["index"] for m in made] == [1, 2]
    refused(served.client.post(path(record, "assessments"), json={**quality, "report": "q-b"}, headers=reg),
            "AlreadyAssessed")
    r = served.client.post(path(record, f"assessments/{made[1]['id']}/withdrawal"), headers=reg)
    assert r.status_code == 200 and r.json()["assessment"] == made[1], r.text
    r = served.client.post(path(record, "assessments/1/withdrawal"), headers=reg)
    assert r.status_code == 200 and [a["withdrawn"] for a in r.json()["assessments"]] == [True, True], r.text
    assert served.client.post(path(record, "assessments/7/withdrawal"), headers=reg).status_code == 404
    for bad in ("0", "first", "0x1234"):
        assert served.client.post(path(record, f"assessments/{bad}/withdrawal"), headers=reg).status_code == 422
    r = served.client.post(path(record, "listing"), json={"complianceAssessment": "latest"}, headers=reg)
    assert r.status_code == 422


def test_the_routes_are_documented(served: Served) -> None:
    spec = served.client.get("/openapi.json").json()["paths"]
    for tail in ("property", "transfers", "changes", "renewals", "cancellation", "pledges", "pledges/release",
                 "pledges/enforce", "assessments", "assessments/{index}/withdrawal", "listing", "disputes",
                 "disputes/ruling", "disputes/execution", "consent-typed-data"):
        assert f"/api/v1/registrations/{{record}}/{tail}" in spec, tail
    assert "/api/v1/encumbrances" in spec


def test_every_property_route_answers_as_documented(served: Served, parties: Parties) -> None:
    """Each route once, in an order the rules allow, its answer held to its documented status and model (the
    models forbid undocumented fields, so a field the service adds or drops fails here)."""
    from fastapi.routing import APIRoute
    from pydantic import TypeAdapter

    documented: dict[tuple[str, str], tuple[int, Any]] = {}
    for route in served.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "property" in route.tags and route.methods:
            code, spec = next((c, s) for c, s in route.responses.items() if isinstance(c, int) and c < 300)
            documented |= {(m, route.path): (code, spec.get("model")) for m in route.methods}
    record = asset(served, grade="general")
    reg, bank = served.auth("registrar"), parties.bank_key
    pledge = {"pledgee": parties.bank, "amount": "880000.00", "currency": "CNY", "until": "2029-06-30",
              "reference": "ICBC-2026-77"}
    calls: list[tuple[str, str, Any, dict[str, str]]] = [
        ("POST", "transfers", {"to": parties.claimant}, reg),
        ("POST", "assessments", {"assessor": parties.assessor, "kind": "quality", "score": 8700,
                                 "standard": "GB/T 36344-2018", "report": "q-1"}, reg),
        ("POST", "assessments/{index}/withdrawal", None, reg),
        ("POST", "listing", None, reg),
        ("POST", "changes", {"rights": ["holding"], "reason": "narrowed"}, reg),
        ("POST", "renewals", None, reg),
        ("POST", "pledges", lambda: {**pledge, "consents": {
            "pledgee": signed(served, record, "pledge", "pledgee", pledge, bank)}}, reg),
        ("POST", "pledges/release", lambda: {"consents": {
            "pledgee": signed(served, record, "release", "pledgee", {}, bank)}}, reg),
        ("POST", "pledges", lambda: {**pledge, "consents": {
            "pledgee": signed(served, record, "pledge", "pledgee", pledge, bank)}}, reg),
        ("POST", "pledges/enforce", lambda: {"to": parties.bank, "consents": {
            "pledgee": signed(served, record, "enforce", "pledgee", {"to": parties.bank}, bank)}}, reg),
        ("POST", "disputes", {"claimant": parties.claimant, "claim": "claim 3"}, reg),
        ("POST", "disputes/ruling", {"arbitrator": parties.arbitrator, "outcome": "dismissed", "ruling": "r"}, reg),
        ("POST", "disputes/execution", None, reg),
        ("POST", "cancellation", {"reason": "owner-request"}, reg),
        ("POST", "consent-typed-data?action=transfer&party=holder", {"to": parties.claimant}, served.auth("member")),
        *[("GET", tail, None, served.auth("member")) for tail in
          ("property", "transfers", "changes", "pledges", "assessments", "disputes")],
    ]
    checked = set()
    index = None
    for method, tail, body, headers in calls:
        url = path(record, tail.replace("{index}", str(index)))
        r = served.client.request(method, url, json=body() if callable(body) else body, headers=headers)
        template = f"/api/v1/registrations/{{record}}/{tail.partition('?')[0]}"
        status, model = documented[(method, template)]
        assert r.status_code == status, (method, url, r.text[:300])
        TypeAdapter(model).validate_python(r.json())
        if tail == "assessments" and method == "POST":
            index = r.json()["assessments"][-1]["index"]
        checked.add((method, template))
    final = served.client.get(path(record, "property"), headers=served.auth("member")).json()
    assert [o["cause"] for o in final["owners"]] == ["transfer", "enforcement"] and final["owner"] == parties.bank
    assert [p["ended"] for p in final["pledges"]] == ["released", "enforced"] and final["cancelled"] == "owner-request"
    r = served.client.get("/api/v1/encumbrances", headers=served.auth("admin"))
    TypeAdapter(documented[("GET", "/api/v1/encumbrances")][1]).validate_python(r.json())
    checked.add(("GET", "/api/v1/encumbrances"))
    assert set(documented) == checked, set(documented) - checked


@pytest.mark.parametrize("to", [True, "5", 5.0, [5], {"id": 5}])
def test_a_number_is_a_json_number(served: Served, parties: Parties, to: Any) -> None:
    """A body's entity id, score or deadline is a JSON integer: true, "5" or 5.0 used to be read as entity 1 or 5
    and sent to the contract; now the body is refused naming the member, and nothing is sent."""
    record = asset(served)
    before = served.client.get(path(record, "property"), headers=served.auth("registrar")).json()
    r = served.client.post(path(record, "transfers"), json={"to": to}, headers=served.auth("registrar"))
    assert r.status_code == 422, r.text
    assert "to" in r.text
    assert served.client.get(path(record, "property"), headers=served.auth("registrar")).json() == before
