"""Certificates of records the data property register acts on: the record and its lineage are stated as registered,
so their inclusion proofs hold after a transfer or a change; the register's state at the issuing block is stated
in ``credentialSubject.property`` and signed with the rest; online verification reports a transfer and a dispute
since issuance and fails ``term`` for an expired registration, offline verification judges the term as stated;
certificates without the member verify as they did."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provenance.chain.property import PropertyDecision
from provenance.core import certificates as C
from provenance.core.canonical import MalformedDocument
from provenance.core.certificates._compiled import speedups
from provenance.errors import InvalidInput
from provenance.indexer.follower import Follower
from provenance.indexer.property import as_registered
from provenance.services.certificates import Certifier
from provenance.store.index import IndexStore
from provenance.types import Kind, Rights
from tests.support.certificates import verify_both_paths as verify
from tests.support.federation import h, make_fed, request
from tests.support.jsonld import assert_nothing_dropped
from tests.support.parsing import DOC_ODD_VALUES, Obj, Text, paths, replaced
from tests.support.property import DAY, World, compliance, make_world, quality, valuation

Doc = dict[str, Any]
TERM = 30 * DAY


class Scene:
    """A federation with a property register, an index and a certifier; ``rid``: an asset of SDE's with a term,
    its rights and metadata changed, pledged, and assessed by all three kinds; ``cert`` its certificate."""

    def __init__(self, tmp: Path) -> None:
        self.fed = make_fed(tmp / "chain")
        self.world: World = make_world(self.fed)
        self.store = IndexStore(tmp / "index")
        self.follower = Follower(chain=self.fed.chain, contracts=self.fed.contracts, store=self.store)
        self.certifier = Certifier(contracts=self.fed.contracts, store=self.store, follower=self.follower,
                                   data_dir=tmp / "node")
        w, prop, sde = self.world, self.world.prop, self.world.sde
        prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.ASSET), TERM)
        self.parent = w.record(kind=Kind.RESOURCE)
        self.rid = self.fed.register("SDE", request(w.holder.id, kind=Kind.ASSET, parents=(self.parent,)))
        w.records.append(self.rid)
        prop.change(sde, self.rid, int(Rights.HOLDING | Rights.OPERATION), h("metadata v2"), h("operation right"))
        prop.pledge(sde, self.rid, w.pledge_terms(amount=5_000_000, days=20))
        self.assessed = [prop.assess(sde, self.rid, make(w))[0] for make in (quality, compliance, valuation)]
        self.cert = self.issue()

    def issue(self) -> Doc:
        return self.certifier.issue(self.rid, self.fed.keys["SDE"], now=self.world.now())

    def view(self) -> C.FederationView:
        return self.certifier.online_view()

    def close(self) -> None:
        self.store.close()
        self.fed.chain.close()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    s = Scene(tmp_path_factory.mktemp("property-certificates"))
    yield s
    s.close()


def fast_path_runs(doc: Doc, view: C.FederationView, now: int, report: C.Report) -> bool:
    """The compiled fast path gave this (valid) certificate's report; trivially so where the compiled module is
    left out (PROVENANCE_NO_SPEEDUPS=1, an install without a C compiler), where only the Python path runs."""
    return speedups() is None or C._verify_fast(doc, view, now) == report


def _soon(scene: Scene) -> int:
    return scene.world.now() + 60


def _resign(scene: Scene, doc: Doc) -> Doc:
    unsigned = copy.deepcopy(doc)
    unsigned["proof"] = [{k: v for k, v in doc["proof"][0].items() if k != "proofValue"}]
    return C.sign(unsigned, bytes(scene.fed.keys["SDE"].key))


# ---------------------------------------------------------------------- issuing


def test_the_certificate_states_the_record_as_registered_and_the_register_beside_it(scene: Scene) -> None:
    w, cert = scene.world, scene.cert
    rec = scene.store.record(scene.rid)
    assert rec is not None and (rec.rights, rec.metadata_hash) == (int(Rights.HOLDING | Rights.OPERATION),
                                                                  h("metadata v2"))
    stated = cert["credentialSubject"]["record"]
    registered = as_registered(scene.store, rec)
    assert (stated["owner"], stated["rights"], stated["metadataHash"]) == (
        registered.owner, int(Rights.HOLDING), "0x" + h("metadata").hex())
    prop = cert["credentialSubject"]["property"]
    pledge = w.prop.pledge_of(scene.rid)
    expires = w.prop.property_of(scene.rid).expires_at
    assert prop["holder"] == w.holder.id and prop["rights"] == int(Rights.HOLDING | Rights.OPERATION)
    assert prop["metadataHash"] == "0x" + h("metadata v2").hex() and prop["underDispute"] is False
    assert prop["expiresAt"] == datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert prop["encumbrances"] == [{"pledgee": w.bank.id, "amount": "5000000", "currency": "CNY",
                                     "until": datetime.fromtimestamp(pledge.until, UTC).strftime(
                                         "%Y-%m-%dT%H:%M:%SZ")}]
    kinds = [a["kind"] for a in prop["assessments"]]
    assert kinds == ["quality", "compliance", "valuation"]
    q, c, v = prop["assessments"]
    assert (q["score"], q["assessor"], set(q)) == (8_500, w.assessor.id, {
        "kind", "assessor", "reportHash", "score", "standard"})
    assert c["passed"] is True and "validUntil" in c and c["scope"] == "0x" + h("scope: personal information").hex()
    assert (v["amount"], v["currency"], v["method"]) == ("12000000", "CNY", "market")
    report = verify(cert, scene.view(), _soon(scene))
    assert report.valid, report.to_json()
    assert fast_path_runs(cert, scene.view(), _soon(scene), report)  # the compiled path takes the member too
    assert report.property_state == {"source": "register", "holder": w.holder.id, "ownerChanged": False,
                                     "underDispute": False, "pledged": True, "expiresAt": prop["expiresAt"],
                                     "expired": False}
    assert report.to_json()["property"] == report.property_state
    assert report.check("term").detail == f"the registration runs until {prop['expiresAt']} (in the register)"


def test_json_ld_expansion_drops_nothing_of_the_member(scene: Scene) -> None:
    expanded = assert_nothing_dropped(scene.cert)
    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    state = subject["https://w3id.org/provenance/registration#propertyState"][0]
    assert len(state["https://w3id.org/provenance/registration#assessment"]) == 3
    assert state["https://w3id.org/provenance/registration#expiresAt"][0]["@type"] == \
        "http://www.w3.org/2001/XMLSchema#dateTime"


def test_the_readers_agree_on_the_member(scene: Scene) -> None:
    doc = scene.cert
    parsed = C._parse_strict(doc)
    assert parsed.property_state is not None and len(parsed.property_state.assessments) == 3
    assert C._parse_plain(doc) == parsed
    compiled = C._parse_compiled(doc)
    assert compiled is None or compiled == parsed
    base = ("credentialSubject", "property")
    for path in paths(doc["credentialSubject"]["property"], base)[1:]:
        for value in (*DOC_ODD_VALUES, "2026-02-30T00:00:00Z", "36812-02-20T00:00:00Z", "1969-12-31T23:59:59Z"):
            _agree(replaced(doc, path, value))
    node = doc["credentialSubject"]["property"]
    for changed in ({**node, "extra": "x"}, Obj(node), {k: v for k, v in node.items() if k != "holder"},
                    {**node, "expiresAt": Text(node["expiresAt"])}, {**node, "assessments": [{}]}):
        _agree(replaced(doc, base, changed))


def _agree(doc: Any) -> None:
    try:
        fast = C._parse_plain(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        fast = None
    try:
        strict = C._parse_strict(doc)
    except MalformedDocument:
        strict = None
    if fast is not None:
        assert strict == fast, doc["credentialSubject"]["property"]
    compiled = C._parse_compiled(doc)
    if compiled is not None:
        assert fast is not None and compiled == fast


def test_register_times_beyond_the_year_9999_round_trip() -> None:
    for ts in (0, 1, 86_399, 951_782_400, 1_790_000_000, 253_402_300_799):  # datetime's range: compare with it
        text = C.iso_time(ts)
        assert text == datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") and C.time_seconds(text) == ts
    assert C.iso_time(253_402_300_800) == "10000-01-01T00:00:00Z"
    assert C.time_seconds(C.iso_time(2**40 - 1)) == 2**40 - 1
    for bad in (-1, 2**40, True):
        with pytest.raises(ValueError):
            C.iso_time(bad)


def test_an_expired_registration_is_not_certified(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    w = make_world(fed)
    w.prop.propose_decision(w.sde, PropertyDecision.SET_TERM, int(Kind.ASSET), DAY)
    rid = w.record(kind=Kind.ASSET)
    store = IndexStore(tmp_path / "index")
    certifier = Certifier(contracts=fed.contracts, store=store, data_dir=tmp_path / "node",
                          follower=Follower(chain=fed.chain, contracts=fed.contracts, store=store))
    start = w.now()
    fed.chain.clock = lambda: start + 2 * DAY
    w.prop.propose_decision(w.sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), DAY)  # a block at the new time
    with pytest.raises(InvalidInput, match="expired"):
        certifier.issue(rid, fed.keys["SDE"], now=w.now())
    w.prop.renew(w.sde, rid)
    assert certifier.issue(rid, fed.keys["SDE"], now=w.now())["credentialSubject"]["property"]["expiresAt"]
    store.close()
    fed.chain.close()


# ---------------------------------------------------------------------- tampering with the member


def _property_tampers(doc: Doc) -> Iterator[tuple[str, Doc]]:
    prop = doc["credentialSubject"]["property"]

    def with_prop(change: Any) -> Doc:
        out = copy.deepcopy(doc)
        change(out["credentialSubject"]["property"])
        return out

    yield "holder", with_prop(lambda p: p.__setitem__("holder", p["holder"] + 1))
    yield "rights", with_prop(lambda p: p.__setitem__("rights", 1))
    yield "metadata", with_prop(lambda p: p.__setitem__("metadataHash", "0x" + h("other").hex()))
    yield "dispute hidden", with_prop(lambda p: p.__setitem__("underDispute", not p["underDispute"]))
    yield "term removed", with_prop(lambda p: p.pop("expiresAt"))
    yield "term extended", with_prop(lambda p: p.__setitem__("expiresAt", C.iso_time(
        C.time_seconds(prop["expiresAt"]) + 365 * DAY)))
    yield "pledge removed", with_prop(lambda p: p.__setitem__("encumbrances", []))
    yield "pledge amount", with_prop(lambda p: p["encumbrances"][0].__setitem__("amount", "1"))
    yield "pledge until", with_prop(lambda p: p["encumbrances"][0].__setitem__("until", C.iso_time(1)))
    yield "pledgee", with_prop(lambda p: p["encumbrances"][0].__setitem__("pledgee", 1))
    yield "assessment removed", with_prop(lambda p: p["assessments"].pop(0))
    yield "assessment added", with_prop(lambda p: p["assessments"].append(p["assessments"][0]))
    yield "score", with_prop(lambda p: p["assessments"][0].__setitem__("score", 10_000))
    yield "compliance failed", with_prop(lambda p: p["assessments"][1].__setitem__("passed", False))
    yield "valuation", with_prop(lambda p: p["assessments"][2].__setitem__("amount", "99000000"))
    yield "valuation method", with_prop(lambda p: p["assessments"][2].__setitem__("method", "cost"))
    yield "report hash", with_prop(lambda p: p["assessments"][2].__setitem__("reportHash", "0x" + h("x").hex()))
    yield "assessment validity", with_prop(lambda p: p["assessments"][1].pop("validUntil"))
    member_gone = copy.deepcopy(doc)
    del member_gone["credentialSubject"]["property"]
    yield "member removed", member_gone


def test_every_edit_of_the_member_is_rejected(scene: Scene) -> None:
    view, now = scene.view(), _soon(scene)
    cases = list(_property_tampers(scene.cert))
    assert len(cases) == 19
    for name, doc in cases:
        report = verify(doc, view, now)
        assert not report.valid and "signature" in report.failed, (name, report.failed)
    # Every scalar of the member, changed alone: the credential hash covers it, or the readers refuse it.
    base = ("credentialSubject", "property")
    for path in paths(scene.cert["credentialSubject"]["property"], base)[1:]:
        node: Any = scene.cert
        for step in path:
            node = node[step]
        if isinstance(node, dict | list):
            continue
        changed = (not node) if isinstance(node, bool) else node + 1 if isinstance(node, int) else node[:-1] + (
            "1" if node[-1] != "1" else "2")
        report = verify(replaced(scene.cert, path, changed), view, now)
        assert not report.valid and "signature" in report.failed, (path, report.failed)


def test_the_member_added_to_a_certificate_without_it_is_rejected(scene: Scene) -> None:
    old = copy.deepcopy(scene.cert)
    del old["credentialSubject"]["property"]
    old = _resign(scene, old)
    grafted = copy.deepcopy(old)
    grafted["credentialSubject"]["property"] = scene.cert["credentialSubject"]["property"]
    assert "signature" in verify(grafted, scene.view(), _soon(scene)).failed


# ---------------------------------------------------------------------- after issuance


def test_after_a_transfer_and_a_dispute_the_certificate_verifies_and_says_so(scene: Scene) -> None:
    w, prop, sde = scene.world, scene.world.prop, scene.world.sde
    old = scene.cert
    prop.transfer(sde, scene.rid, w.buyer.id)  # the pledgee's consent by its mandate
    prop.file_dispute(sde, scene.rid, w.holder.id, h("the seller's claim"))
    view, now = scene.view(), _soon(scene)
    report = verify(old, view, now)
    assert report.valid, report.to_json()
    assert report.property_state is not None and (
        report.property_state["holder"], report.property_state["ownerChanged"],
        report.property_state["underDispute"]) == (w.buyer.id, True, True)
    # A certificate issued now states the record as registered still, the new holder beside it.
    fresh = scene.issue()
    assert fresh["credentialSubject"]["record"] == old["credentialSubject"]["record"]
    assert fresh["credentialSubject"]["property"]["holder"] == w.buyer.id
    assert fresh["credentialSubject"]["property"]["underDispute"] is True
    report = verify(fresh, view, now)
    assert report.valid and report.property_state["ownerChanged"] is False  # type: ignore[index]
    assert fast_path_runs(fresh, view, now, report)
    # Offline, the member is all there is: the state as stated at the issuing block, the term judged from it.
    snap = scene.certifier.snapshot(scene.fed.keys["ZJDE"], anchor=False)
    trusted = scene.certifier.trusted_keys(2)
    offline = scene.certifier.verify_offline(fresh, snap, trusted, now=now)
    assert offline.valid, offline.to_json()
    assert offline.property_state is not None and offline.property_state["source"] == "certificate"
    assert offline.property_state["asOfBlock"] == fresh["proof"][0]["issuedBlock"]
    assert offline.property_state["holder"] == w.buyer.id and offline.property_state["underDispute"] is True
    expires = C.time_seconds(fresh["credentialSubject"]["property"]["expiresAt"])
    late = scene.certifier.verify_offline(fresh, snap, trusted, now=expires)
    assert late.failed == ["term"] and "as stated at block" in late.check("term").detail


def test_an_expired_registration_fails_term_online(scene: Scene) -> None:
    expires = scene.world.prop.property_of(scene.rid).expires_at
    view = scene.view()
    assert verify(scene.cert, view, expires - 1).valid
    report = verify(scene.cert, view, expires)
    assert report.failed == ["term"], report.to_json()
    assert report.check("term").detail.startswith("the registration expired at ")
    assert report.property_state is not None and report.property_state["expired"] is True


def test_a_certificate_without_the_member_verifies_as_it_did(scene: Scene) -> None:
    old = copy.deepcopy(scene.cert)
    del old["credentialSubject"]["property"]
    old = _resign(scene, old)
    view, now = scene.view(), _soon(scene)
    report = verify(old, view, now)
    assert report.valid, report.to_json()
    assert fast_path_runs(old, view, now, report)
    assert report.property_state is not None and report.property_state["source"] == "register"
    snap = scene.certifier.snapshot(scene.fed.keys["ZJDE"], anchor=False)
    offline = scene.certifier.verify_offline(old, snap, scene.certifier.trusted_keys(2), now=now)
    assert offline.valid and offline.property_state is None
    assert offline.check("term").detail == "no term stated"


def test_a_malformed_member_fails_format_naming_it(scene: Scene) -> None:
    doc = copy.deepcopy(scene.cert)
    doc["credentialSubject"]["property"]["encumbrances"][0]["amount"] = "05"
    report = verify(doc, scene.view(), _soon(scene))
    assert "format" in report.failed
    assert "$.credentialSubject.property.encumbrances[0].amount" in report.check("format").detail
