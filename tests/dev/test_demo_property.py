"""The demo's property register (issue 22): its institutions, governance's accreditation, appointment and terms,
the logistics index asset assessed, listed, pledged and under dispute, the logistics index transferred and changed;
read back from the index (PropertyQueries), from the contract's own views and over the HTTP API, and kept as it is
by a second run of the demo."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.chain.property import PropertyService
from provenance.dev.demo import INSTITUTIONS, TERM, run_demo
from provenance.indexer.property_queries import PropertyQueries
from provenance.services.catalog import PUBLIC, CatalogService
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.types import EntityRole, Kind, RecordId
from tests.support.passphrase import passphrase
from tests.support.served import Served, serve

# GB 32100-2015: the check character of a unified social credit code, computed here apart from the catalogue's own.
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _gb32100_ok(code: str) -> bool:
    total = sum(_CHARS.index(c) * w for c, w in zip(code[:17], _WEIGHTS, strict=True))
    return len(code) == 18 and code[17] == _CHARS[(31 - total % 31) % 31]


def _rid(hex_id: str) -> RecordId:
    return RecordId(bytes.fromhex(hex_id[2:]))


@pytest.fixture(scope="module")
def demo_copy(demo_dir: tuple[Path, dict[str, Any]],
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    src, demo = demo_dir
    dst = tmp_path_factory.mktemp("demo-property") / "data"
    shutil.copytree(src, dst)
    return dst, demo


@pytest.fixture(scope="module")
def node(demo_copy: tuple[Path, dict[str, Any]]) -> Iterator[Node]:
    path, _demo = demo_copy
    n = Node.open(path, passphrase(path.parent))
    try:
        Operations(n).sync()
        yield n
    finally:
        n.close()


def _now(node: Node) -> int:
    return node.chain.get_block(node.chain.block_number()).timestamp


def test_the_institutions_are_onboarded_with_their_roles_and_profiles(node: Node,
                                                                      demo_dir: tuple[Path, dict[str, Any]]) -> None:
    demo = demo_dir[1]
    ops = Operations(node)
    institutions = demo["property"]["institutions"]
    assert list(institutions) == [i[0] for i in INSTITUTIONS]
    roles = [EntityRole.FINANCIAL_INSTITUTION, EntityRole.ASSESSMENT_INSTITUTION, EntityRole.ARBITRATION_INSTITUTION]
    cat = CatalogService(ops)
    for (label, entry), role in zip(institutions.items(), roles, strict=True):
        assert ops.svc.entity(entry["id"]).role == role and entry["role"] == role.label, label
        assert _gb32100_ok(entry["creditCode"]), entry["creditCode"]
        answer = cat.profile(entry["id"], PUBLIC)
        assert answer["role"] == role.label and answer["profile"]["creditCode"] == entry["creditCode"], label
        assert answer["profile"]["name"] == entry["name"]
    # The merchants' ids and the summary's other keys are what they were before the register.
    assert set(demo["entities"]) == {"m-lingang", "m-hangzhou", "m-hefei"}
    assert institutions["ar-delta-arbitration"]["creditCode"].startswith("12")  # a public institution


def test_governance_accredited_appointed_and_set_the_terms(node: Node, demo_dir: tuple[Path, dict[str, Any]]) -> None:
    demo = demo_dir[1]["property"]
    assessor = demo["institutions"]["as-huangpu-appraisal"]["id"]
    arbitrator = demo["institutions"]["ar-delta-arbitration"]["id"]
    q = PropertyQueries(node.index)
    assert q.terms() == {"resource": 0, "product": TERM, "asset": TERM}
    accredited = q.accredited()
    assert assessor in accredited["assessors"] and arbitrator in accredited["arbitrators"]
    prop = PropertyService(node.contracts)
    assert prop.is_accredited(assessor) and prop.is_arbitrator(arbitrator)
    assert not prop.is_accredited(arbitrator) and not prop.is_arbitrator(assessor)
    assert demo["terms"] == {"product": TERM, "asset": TERM}


def test_the_asset_is_assessed_listed_pledged_and_under_dispute(node: Node,
                                                                demo_dir: tuple[Path, dict[str, Any]]) -> None:
    demo = demo_dir[1]
    asset = _rid(demo["records"]["logistics-index-asset"])
    assert demo["property"]["asset"] == demo["records"]["logistics-index-asset"]
    bank = demo["property"]["institutions"]["fi-pujiang-bank"]["id"]
    assessor = demo["property"]["institutions"]["as-huangpu-appraisal"]["id"]
    lingang, hefei = demo["entities"]["m-lingang"], demo["entities"]["m-hefei"]
    now = _now(node)
    view = PropertyQueries(node.index).view(asset, now=now)
    assert view is not None and view.owner == hefei and view.listed and not view.expired
    assert view.expires_at == Operations(node).svc.record(asset).timestamp + TERM
    assert [(a.kind, a.assessor, a.withdrawn) for a in view.assessments] == [
        ("quality", assessor, False), ("valuation", assessor, False)]
    assert ["0x" + a.id.hex() for a in view.assessments] == list(demo["property"]["assessments"].values())
    quality, valuation = view.assessments
    assert quality.score == 9_120
    assert (valuation.amount, valuation.currency, valuation.method) == (38_600_000_00, "CNY", "income")
    assert valuation.valuation_date is not None and valuation.valuation_date < now < valuation.valid_until
    assert view.valuation is not None and view.valuation.id == valuation.id  # shown beside the pledge
    assert view.pledge is not None and view.pledge.ended is None
    assert (view.pledge.pledgee, view.pledge.amount, view.pledge.currency) == (bank, 15_000_000_00, "CNY")
    assert view.pledge.until == demo["property"]["pledge"]["until"] > now + 365 * 86_400
    assert view.dispute is not None and view.dispute.claimant == lingang
    assert view.dispute.outcome is None and not view.dispute.executed
    # The contract says the same.
    prop = PropertyService(node.contracts)
    state = prop.property_of(asset)
    assert state.listed and state.pledged and state.disputed and not state.ruled and not state.expired
    assert prop.encumbered(asset)
    chain_pledge = prop.pledge_of(asset)
    assert (chain_pledge.pledgee, chain_pledge.amount, chain_pledge.currency, chain_pledge.until) == (
        bank, 15_000_000_00, "CNY", view.pledge.until)
    dispute = prop.dispute_of(asset)
    assert dispute.open and dispute.claimant == lingang and "0x" + dispute.claim_hash.hex() == \
        demo["property"]["dispute"]["claim"]
    assert demo["property"]["dispute"]["seq"] == dispute.seq == 1


def test_the_logistics_index_passed_to_lingang_and_still_has_its_document(
        node: Node, demo_dir: tuple[Path, dict[str, Any]]) -> None:
    demo = demo_dir[1]
    index = _rid(demo["records"]["delta-logistics-index"])
    lingang, hangzhou = demo["entities"]["m-lingang"], demo["entities"]["m-hangzhou"]
    assert demo["property"]["transfer"] == {"record": demo["records"]["delta-logistics-index"],
                                            "from": hangzhou, "to": lingang}
    q = PropertyQueries(node.index)
    view = q.view(index, now=_now(node))
    assert view is not None and view.owner == lingang and view.original_owner == hangzhou
    assert view.transfers == 1 and view.changes == 1 and view.pledge is None and view.dispute is None
    assert [(o.previous, o.owner, o.cause) for o in q.owners(index)] == [(hangzhou, lingang, "transfer")]
    ops = Operations(node)
    record = ops.indexed(index)
    assert record.owner == lingang and record.kind == Kind.PRODUCT
    assert ops.svc.record(index).owner == lingang
    cat = CatalogService(ops)
    kept = cat.document_bytes(record)
    assert kept is not None and f'"publisher":{lingang}'.encode() in kept  # the new holder's document


def test_anyone_sees_over_the_api_that_the_asset_is_pledged_and_under_dispute(
        demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, demo = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    served: Served
    for served in serve(data, demo):
        url = f"/api/v1/registrations/{demo['records']['logistics-index-asset']}/property"
        public = served.client.get(url)
        assert public.status_code == 200, public.text
        doc = public.json()
        assert doc["disputed"] and doc["pledged"] and doc["listed"]
        assert doc["redacted"] and doc["pledge"] is None  # an important-grade asset: to whom stays with members
        member = served.client.get(url, headers=served.auth("member")).json()
        bank = demo["property"]["institutions"]["fi-pujiang-bank"]["id"]
        assert member["pledge"]["pledgee"] == bank and member["pledge"]["amount"] == "15000000.00"
        assert member["pledge"]["valuation"]["amount"] == "38600000.00"
        found = served.client.get("/api/v1/encumbrances", headers=served.auth("member")).json()["items"]
        assert demo["records"]["logistics-index-asset"] in [i["record"] for i in found]


def test_a_second_run_changes_nothing(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, demo = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    with Node.open(data, passphrase(tmp_path)) as n:
        head = n.chain.block_number()
    said: list[str] = []
    again = run_demo(data, passphrase(tmp_path), scrypt_n=1024, say=said.append)
    assert [m for m in said if not m.startswith("Refused as it should be")] == []  # the refusals are re-shown
    where = ("data_dir", "certificate")
    assert {k: v for k, v in again.items() if k not in where} == {k: v for k, v in demo.items() if k not in where}
    with Node.open(data, passphrase(tmp_path)) as n:
        assert n.chain.block_number() == head
