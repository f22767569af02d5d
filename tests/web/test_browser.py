"""The explorer, the lineage graph and the verify page, in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from provenance.api.auth import TokenStore
from provenance.dev.demo import DOCUMENTS, MERCHANTS
from tests.support.passphrase import passphrase
from tests.support.server import node_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    src, demo = demo_dir
    root = tmp_path_factory.mktemp("web")
    data = root / "data"
    shutil.copytree(src, data)
    member = TokenStore(data).create("member", "browser-member")
    passphrase(root)
    with node_process(data, root / "passphrase.txt") as url:
        yield {"url": url, "demo": demo, "member": member, "data": data}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def rec(site: dict[str, Any], name: str) -> str:
    return str(site["demo"]["records"][name])


def test_explorer_lists_and_searches_registrations(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/")
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(7)
    page.select_option("select[name=kind]", "product")
    page.click("#search button[type=submit]")
    expect(rows).to_have_count(2)
    ids = {rows.nth(i).get_attribute("data-id") for i in range(2)}
    assert ids == {rec(site, "delta-logistics-index"), rec(site, "port-energy-model")}
    page.fill("input[name=id]", rec(site, "port-vessel-traffic"))
    page.click("#search button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Resource")
    expect(page.locator("h1")).to_contain_text(DOCUMENTS["port-vessel-traffic"]["title"]["en"])


def test_explorer_lists_speak_names_in_english_and_chinese(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/")
    vessels = page.locator(f"table.records tr[data-id='{rec(site, 'port-vessel-traffic')}']")
    expect(vessels.locator("a.record-title")).to_have_text(DOCUMENTS["port-vessel-traffic"]["title"]["en"])
    expect(vessels.locator("a.publisher")).to_have_text(MERCHANTS[0][5]["en"])
    expect(vessels).not_to_contain_text("0x")  # hashes live on the record page's details section
    # An important-grade record keeps its title and owner for members; the public sees that they exist.
    waybills = page.locator(f"table.records tr[data-id='{rec(site, 'logistics-waybills')}']")
    expect(waybills.locator("a.record-title")).to_have_text("title visible to members")
    expect(waybills.locator(".publisher")).to_have_text("(member view)")
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(vessels.locator("a.record-title")).to_have_text(DOCUMENTS["port-vessel-traffic"]["title"]["zh"])
    expect(vessels.locator("a.publisher")).to_have_text(MERCHANTS[0][5]["zh"])
    expect(vessels).to_contain_text("数据资源")
    expect(vessels).to_contain_text("一般数据")
    expect(page.locator("nav a[data-nav=catalog]")).to_have_text("数据目录")
    page.reload()  # the choice of language is kept
    expect(vessels.locator("a.record-title")).to_have_text(DOCUMENTS["port-vessel-traffic"]["title"]["zh"])


def test_record_page_draws_the_lineage_and_marks_inactive_and_affected(site: dict[str, Any], page: Page) -> None:
    model = rec(site, "port-energy-model")
    page.goto(site["url"] + f"/#/record/{model}")
    graph = page.locator("#lineage-graph")
    expect(graph).to_be_visible()
    nodes = graph.locator("g.node")
    expect(nodes).to_have_count(3)  # the model and its two sources
    suspended = graph.locator(f"g.node[data-id='{rec(site, 'factory-energy-use')}']")
    expect(suspended).to_have_class("node inactive")
    expect(graph.locator(f"g.node[data-id='{model}']")).to_have_class("node root affected")
    expect(page.locator("#affected")).to_contain_text("1 ancestor(s) are not active")
    expect(page.locator("#affected")).to_contain_text(DOCUMENTS["factory-energy-use"]["title"]["en"])
    # Names cut to the node's box (the whole name in its tooltip).
    expect(suspended.locator("text.title")).to_contain_text(DOCUMENTS["factory-energy-use"]["title"]["en"][:24])
    expect(suspended.locator("text.publisher")).to_contain_text(MERCHANTS[2][5]["en"][:24])
    expect(suspended.locator("title")).to_contain_text(DOCUMENTS["factory-energy-use"]["title"]["en"])
    assert graph.locator("path.edge").count() == 2
    # A derived product drawn downstream of its source; clicking a node opens that record.
    suspended.click()
    expect(page).to_have_url(site["url"] + f"/#/record/{rec(site, 'factory-energy-use')}")
    expect(page.locator("span.badge[data-status=suspended]")).to_be_visible()
    expect(page.locator("#lineage-graph g.node")).to_have_count(2)  # the source and the product it feeds


def test_important_records_need_a_member_token(site: dict[str, Any], page: Page) -> None:
    waybills = rec(site, "logistics-waybills")
    page.goto(site["url"] + f"/#/record/{waybills}")
    expect(page.locator("table.fields")).to_contain_text("need a member credential")
    page.fill("#token", site["member"])
    page.click("#token-form button")
    expect(page.locator("table.fields")).to_contain_text("Content hash")
    expect(page.locator("h1")).to_contain_text(DOCUMENTS["logistics-waybills"]["title"]["en"])
    expect(page.locator("p.byline a.publisher")).to_have_text(MERCHANTS[1][5]["en"])


def test_exchanges_page_shows_checkpoints_and_cosigners(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/#/exchanges")
    cards = page.locator(".exchange")
    expect(cards).to_have_count(3)
    sde = page.locator(".exchange[data-code=SDE]")
    expect(sde).to_contain_text("Log size 3")
    expect(sde.locator("tbody tr").first).to_contain_text("2, 3")  # cosigned by both partners


def verify(page: Page, site: dict[str, Any], text: str) -> None:
    page.goto(site["url"] + "/#/verify")
    page.fill("#certificate", text)
    page.click("#verify-button")
    expect(page.locator("#verdict")).to_be_visible()


def test_verify_page_passes_a_valid_certificate(site: dict[str, Any], page: Page) -> None:
    verify(page, site, (site["data"] / "demo-certificate.json").read_text())
    expect(page.locator("#verdict")).to_have_attribute("data-valid", "true")
    checks = page.locator("#checks li")
    assert checks.count() >= 10
    expect(page.locator("#checks li[data-ok=false]")).to_have_count(0)


def test_verify_page_fails_a_tampered_certificate_and_shows_the_check(site: dict[str, Any], page: Page) -> None:
    doc = json.loads((site["data"] / "demo-certificate.json").read_text())
    doc["credentialSubject"]["record"]["contentHash"] = "0x" + "ee" * 32
    verify(page, site, json.dumps(doc))
    expect(page.locator("#verdict")).to_have_attribute("data-valid", "false")
    failed = page.locator("#checks li[data-ok=false]")
    expect(failed.first).to_be_visible()
    names = [failed.nth(i).get_attribute("data-check") for i in range(failed.count())]
    assert "signature" in names or "inclusion" in names, names
    expect(page.locator("#verdict")).to_contain_text("NOT valid")


def test_verify_page_reads_a_dropped_file(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/#/verify")
    text = (site["data"] / "demo-certificate.json").read_text()
    handle = page.evaluate_handle(
        """(text) => { const dt = new DataTransfer();
            dt.items.add(new File([text], 'certificate.json', {type: 'application/json'})); return dt; }""", text)
    page.dispatch_event("#drop", "drop", {"dataTransfer": handle})
    expect(page.locator("#verdict")).to_have_attribute("data-valid", "true")


def test_verify_page_explains_input_that_is_not_json(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/#/verify")
    page.fill("#certificate", "{not json")
    page.click("#verify-button")
    expect(page.locator("#report .error")).to_contain_text("Not JSON")


def test_cross_border_pages_show_the_queue_an_application_and_a_spot_check(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/#/flows")
    expect(page.locator("#queue tbody tr")).to_have_count(1)  # the important-grade application waits
    expect(page.locator("#queue tbody tr").first.locator("span.badge")).to_have_text("pending")
    expect(page.locator("#queue tbody tr").first).to_have_attribute("data-redacted", "true")  # important data
    expect(page.locator("#applications tbody tr")).to_have_count(3)
    expect(page.locator("#applications tbody tr[data-application='1'] a.record-title")).to_have_text(
        DOCUMENTS["port-vessel-traffic"]["title"]["en"])  # records named; the important ones by id for the public
    expect(page.locator("#catalogue")).to_contain_text("MARITIME.AIS")
    expect(page.locator("#spot-checks tbody tr").first).to_contain_text("3 passed, 0 failed")
    page.click("#applications tbody tr[data-application='1'] a[href='#/flows/application/1']")
    expect(page.locator("#app-status span.badge")).to_have_text("approved")
    expect(page.locator("#application")).to_contain_text("the low-risk catalogue")
    expect(page.locator("#deliveries tbody tr")).to_have_count(8)
    page.goto(site["url"] + "/#/flows/check/1")
    expect(page.locator("#report-verdict")).to_have_attribute("data-valid", "true")
    expect(page.locator("#sample tbody tr")).to_have_count(3)
    expect(page.locator("#sample td.ok")).to_have_count(3)
    expect(page.locator("#check-state")).to_have_text("concluded")
