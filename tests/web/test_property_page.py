"""The record page's property sections in a real browser (Debian's Chromium driven by Playwright): an asset that
is pledged (the valuation in force beside the secured amount), assessed and under dispute, then transferred once;
what anyone sees of it and what a member sees, in English and Chinese."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from playwright.sync_api import Browser, Page, expect

from provenance.api.auth import TokenStore
from provenance.core.ids import identifier_hash
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.property import PropertyOperations
from provenance.types import EntityRole, Grade, Hash32, Kind, RegistrationRequest, Rights, Source
from tests.support.passphrase import passphrase
from tests.support.server import node_process

pytestmark = pytest.mark.slow


def _entity(ops: Operations, role: str) -> int:
    account = Account.create()
    entity = ops.svc.register_entity(ops.signer(), identifier_hash(f"91310000{secrets.token_hex(5).upper()}"),
                                     account, EntityRole.parse(role))
    ops.svc.set_mandate(account, entity, "SDE", True)
    return entity


def _seed(data: Path, root: Path, demo: dict[str, Any]) -> dict[str, Any]:
    """Through the services, before the node serves: governance, an asset of Lingang's, its valuation and
    quality assessments, a pledge to a bank, a transfer (the pledgee consenting), and a dispute."""
    with Node.open(data, passphrase(root)) as node:
        ops = Operations(node)
        ops.sync()
        prop = PropertyOperations(ops)
        bank, assessor, arbitrator, claimant = (_entity(ops, r) for r in (
            "financial-institution", "assessment-institution", "arbitration-institution", "supplier"))
        for decision, subject, value in (("accredit-assessor", assessor, 0), ("appoint-arbitrator", arbitrator, 0),
                                         ("set-term", "asset", 3 * 365 * 86400)):
            out = prop.decide(decision, subject, value)
            if not out["executed"]:
                prop.approve_decision(out["proposal"], signer=ops.signer("ZJDE"))
        lingang = int(demo["entities"]["m-lingang"])
        req = RegistrationRequest(Kind.ASSET, Grade.GENERAL, Source.ENTERPRISE, Rights.HOLDING | Rights.OPERATION,
                                  lingang, Hash32(secrets.token_bytes(32)), Hash32(bytes(32)))
        record = bytes.fromhex(ops.register(req)["id"][2:])
        quality = prop.act(record, "assess", {"assessor": assessor, "kind": "quality", "score": 9250,
                                              "standard": "GB/T 36344-2018", "report": "quality report 2026-31"})
        prop.act(record, "assess", {"assessor": assessor, "kind": "valuation", "amount": "3800000.00",
                                    "currency": "CNY", "method": "income", "valuationDate": "2026-11-30",
                                    "report": "valuation report 2026-117"})
        prop.act(record, "pledge", {"pledgee": bank, "amount": "1250000.00", "currency": "CNY",
                                    "until": "2029-12-31", "reference": "SPDB-2026-PL-0042"})
        prop.act(record, "transfer", {"to": claimant})
        # The first holder claims the transfer was void.
        prop.act(record, "dispute", {"claimant": lingang, "claim": "claim 2026-SH-88"})
        return {"record": "0x" + record.hex(), "bank": bank, "assessor": assessor, "lingang": lingang,
                "claimant": claimant, "quality": quality["assessment"]}


@pytest.fixture(scope="module")
def site(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    src, demo = demo_dir
    root = tmp_path_factory.mktemp("property-web")
    data = root / "data"
    shutil.copytree(src, data)
    seeded = _seed(data, root, demo)
    admin = TokenStore(data).create("admin", "property-admin")
    with node_process(data, root / "passphrase.txt") as url:
        yield {"url": url, "admin": admin, **seeded}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def open_record(page: Page, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/#/record/" + site["record"])
    expect(page.locator("#property")).to_be_visible()


def test_anyone_sees_the_dispute_and_that_it_is_pledged(site: dict[str, Any], page: Page) -> None:
    open_record(page, site)
    banner = page.locator("#dispute-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Under dispute")
    expect(banner).to_contain_text(f"entity #{site['lingang']}")
    section = page.locator("#property")
    expect(section).to_have_attribute("data-pledged", "true")
    expect(section).to_have_attribute("data-disputed", "true")
    # A general-grade asset: its holder, term and assessments are public; the pledge's terms are not.
    expect(page.locator("#holder")).to_contain_text(f"entity #{site['claimant']}")
    expect(page.locator("#expiry")).to_contain_text("expires ")
    expect(page.locator("#expiry")).to_have_attribute("data-expired", "false")
    expect(page.locator("#pledge")).to_have_attribute("data-state", "pledged")
    expect(page.locator("#pledge")).to_contain_text("details: members and the pledgee")
    expect(page.locator("#pledge-amount")).to_have_count(0)
    expect(page.locator("#assessments tbody tr")).to_have_count(2)
    expect(page.locator("#assessments tr[data-kind=quality] td.result")).to_have_text("92.50%")
    # Its number in the record and the id a withdrawal may name it by.
    quality = page.locator("#assessments tr[data-kind=quality]")
    expect(quality).to_have_attribute("data-id", site["quality"]["id"])
    expect(quality.locator("td").first).to_contain_text(f"{site['quality']['index']} 0x")
    expect(quality.locator("code.assessment-id")).to_have_attribute("title", site["quality"]["id"])
    expect(page.locator("#owner-history tbody tr")).to_have_count(1)
    expect(page.locator("#owner-history tbody tr td").nth(2)).to_have_text("transfer")
    expect(page.locator("#dispute")).to_contain_text("awaiting the arbitrator's ruling")


def test_a_member_sees_the_pledge_with_the_valuation_beside_it(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/")
    page.fill("#token", site["admin"])
    page.click("#token-form button[type=submit]")
    open_record(page, site)
    amount = page.locator("#pledge-amount")
    expect(amount).to_contain_text("1,250,000.00 CNY")
    expect(page.locator("#pledge-valuation")).to_contain_text("Valuation in force: 3,800,000.00 CNY")
    expect(page.locator("#pledge-valuation")).to_contain_text("income method")
    expect(page.locator("#pledge")).to_contain_text(f"pledged to entity #{site['bank']}")
    expect(page.locator("#pledge")).to_contain_text("2029-12-31")


def test_the_states_in_chinese(site: dict[str, Any], page: Page) -> None:
    open_record(page, site)
    page.click("#lang")
    expect(page.locator("#dispute-banner")).to_contain_text("争议中")
    expect(page.locator("#property h2")).to_have_text("数据产权登记")
    expect(page.locator("#pledge")).to_contain_text("已质押")
    expect(page.locator("#assessments tr[data-kind=valuation]")).to_contain_text("收益法")
    expect(page.locator("#owner-history tbody tr td").nth(2)).to_have_text("转让")
