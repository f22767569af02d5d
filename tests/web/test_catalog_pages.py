"""The catalogue pages of the explorer in a real browser (Debian's Chromium driven by Playwright): search in Chinese
and English with facets and the cursor, boards, record and entity pages that speak names, the figures drawn as SVG,
and a merchant's title that tries to be HTML shown as text."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from provenance.api.auth import TokenStore
from provenance.dev.demo import DOCUMENTS, MERCHANTS
from tests.support.passphrase import passphrase
from tests.support.server import node_process

# The demo's general-grade records: the only ones a caller without a member credential finds in the catalogue.
PUBLIC = {"port-vessel-traffic": "resource", "factory-energy-use": "resource", "port-energy-model": "product"}
XSS = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.slow


def _serve(src: Path, root: Path) -> Iterator[dict[str, Any]]:
    data = root / "data"
    shutil.copytree(src, data)
    admin = TokenStore(data).create("admin", "catalog-admin")
    passphrase(root)
    with node_process(data, root / "passphrase.txt") as url:
        yield {"url": url, "admin": admin, "data": data}


@pytest.fixture(scope="module")
def site(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for s in _serve(demo_dir[0], tmp_path_factory.mktemp("catalog-web")):
        yield {**s, "demo": demo_dir[1]}


@pytest.fixture
def own_site(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A node of its own, for a test that registers: the shared site's listings and figures stay the demo's."""
    for s in _serve(demo_dir[0], tmp_path):
        yield {**s, "demo": demo_dir[1]}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    pg = ctx.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()
    assert not errors, errors
    assert not dialogs, dialogs  # nothing a merchant wrote ever ran as script


def rec(site: dict[str, Any], name: str) -> str:
    return str(site["demo"]["records"][name])


def listing_ids(page: Page) -> set[str]:
    items = page.locator("#listings li.listing")
    return {str(items.nth(i).get_attribute("data-id")) for i in range(items.count())}


def search(page: Page, words: str) -> None:
    page.fill("#catalog-q", words)
    page.click("#catalog-search button[type=submit]")
    expect(page.locator("#listing-count")).to_be_visible()


def test_catalogue_finds_a_demo_listing_by_a_chinese_word_and_an_english_word(site: dict[str, Any], page: Page) -> None:
    vessels = rec(site, "port-vessel-traffic")
    page.goto(site["url"] + "/#/catalog")
    for words in ("洋山", "vessel"):
        search(page, words)
        card = page.locator(f"#listings li.listing[data-id='{vessels}']")
        expect(card).to_be_visible()
        expect(card.locator("h3")).to_have_text(DOCUMENTS["port-vessel-traffic"]["title"]["en"])
        expect(card.locator("a.publisher")).to_have_text(MERCHANTS[0][5]["en"])
    # A word no demo record uses finds nothing.
    search(page, "quantum chromodynamics")
    expect(page.locator("#listings li.listing")).to_have_count(0)
    expect(page.locator("#listing-count")).to_have_attribute("data-total", "0")


def test_catalogue_facets_filter_and_the_cursor_pages(site: dict[str, Any], page: Page) -> None:
    page.goto(site["url"] + "/#/catalog")
    expect(page.locator("#listings li.listing")).to_have_count(len(PUBLIC))
    assert listing_ids(page) == {rec(site, n) for n in PUBLIC}
    product = page.locator("a.facet[data-facet=kind][data-value=product]")
    expect(product.locator(".count")).to_have_text("1")
    product.click()
    expect(page.locator("#active-filters a.chip[data-filter=kind]")).to_be_visible()
    expect(page.locator("#listings li.listing")).to_have_count(1)
    assert listing_ids(page) == {rec(site, "port-energy-model")}
    # Two a page: the cursor brings the third, and no listing shows twice.
    page.goto(site["url"] + "/#/catalog?order=recent&limit=2")
    expect(page.locator("#listings li.listing")).to_have_count(2)
    first = listing_ids(page)
    page.click("#next-page")
    expect(page.locator("#first-page")).to_be_visible()
    expect(page.locator("#listings li.listing")).to_have_count(1)
    assert not listing_ids(page) & first
    assert listing_ids(page) | first == {rec(site, n) for n in PUBLIC}
    expect(page.locator("#next-page")).to_have_count(0)


def test_catalogue_browses_by_board(site: dict[str, Any], page: Page) -> None:
    boards = Counter(b for n in PUBLIC for b in DOCUMENTS[n]["themes"])
    page.goto(site["url"] + "/#/catalog")
    expect(page.locator("#boards a.board")).to_have_count(13)  # every board of DOMAIN.md, empty ones too
    for code, n in boards.items():
        expect(page.locator(f"#boards a.board[data-board='{code}']")).to_have_attribute("data-count", str(n))
    expect(page.locator("#boards a.board[data-board=medical]")).to_have_attribute("data-count", "0")
    page.click("#boards a.board[data-board=shipping]")
    expect(page.locator("#listings li.listing")).to_have_count(boards["shipping"])
    assert listing_ids(page) == {rec(site, n) for n in PUBLIC if "shipping" in DOCUMENTS[n]["themes"]}


def test_record_page_shows_its_title_and_publisher_in_both_languages(site: dict[str, Any], page: Page) -> None:
    doc, lingang = DOCUMENTS["port-energy-model"], MERCHANTS[0][5]
    page.goto(site["url"] + f"/#/record/{rec(site, 'port-energy-model')}")
    expect(page.locator("h1")).to_contain_text(doc["title"]["en"])
    expect(page.locator("h1")).to_contain_text("Product")
    expect(page.locator("p.byline a.publisher")).to_have_text(lingang["en"])
    expect(page.locator("table.fields")).to_contain_text(doc["description"]["en"])
    expect(page.locator("#hashes")).to_contain_text("Content hash")  # hashes sit in the details section
    # The lineage graph's nodes are named too: the model's two sources by their titles.
    graph = page.locator("#lineage-graph")
    source = graph.locator(f"g.node[data-id='{rec(site, 'port-vessel-traffic')}']")
    full = DOCUMENTS["port-vessel-traffic"]["title"]["en"]
    expect(source.locator("text.title")).to_contain_text(full[:24])  # cut to the box, the whole in its tooltip
    expect(source.locator("title")).to_contain_text(full)
    page.click("#lang")
    expect(page.locator("h1")).to_contain_text(doc["title"]["zh"])
    expect(page.locator("h1")).to_contain_text("数据产品")
    expect(page.locator("p.byline a.publisher")).to_have_text(lingang["zh"])
    expect(graph.locator(f"g.node[data-id='{rec(site, 'factory-energy-use')}'] text.title")).to_have_text(
        DOCUMENTS["factory-energy-use"]["title"]["zh"])
    page.click("#lang")  # the choice is kept: leave the next test in English
    expect(page.locator("#lang")).to_have_attribute("data-lang", "en")


def test_entity_page_lists_the_entity_records(site: dict[str, Any], page: Page) -> None:
    lingang = site["demo"]["entities"]["m-lingang"]
    page.goto(site["url"] + f"/#/record/{rec(site, 'port-vessel-traffic')}")
    page.click("p.byline a.publisher")
    expect(page).to_have_url(site["url"] + f"/#/entity/{lingang}")
    expect(page.locator("#entity-name")).to_have_text(MERCHANTS[0][5]["en"])
    expect(page.locator("table.fields")).to_contain_text(site["demo"]["merchants"]["m-lingang"]["creditCode"])
    rows = page.locator("#entity-records table.records tbody tr")
    owned = {rec(site, n) for n in PUBLIC if n in ("port-vessel-traffic", "port-energy-model")}
    expect(rows).to_have_count(len(owned))  # its core-grade credit files are never listed
    assert {rows.nth(i).get_attribute("data-id") for i in range(rows.count())} == owned
    expect(rows.first.locator("a.record-title")).not_to_have_text("metadata not supplied")


def test_figures_page_draws_the_counts_as_svg(site: dict[str, Any], page: Page) -> None:
    figures = httpx.get(site["url"] + "/api/v1/catalog/figures").json()
    listings, entities = figures["listings"], figures["entities"]
    # Boards come from documents, and only general-grade documents are public; the other figures count records.
    assert listings["byBoard"] == dict(Counter(b for n in PUBLIC for b in DOCUMENTS[n]["themes"]))
    assert listings["byGrade"]["general"] == len(PUBLIC)
    total = sum(listings["byGrade"].values())
    assert sum(listings["byKind"].values()) == sum(listings["byExchange"].values()) == total
    assert sum(listings["byMonth"].values()) == total
    assert entities["byRole"] == {"supplier": 2, "service-provider": 1, "financial-institution": 1,
                                  "assessment-institution": 1, "arbitration-institution": 1}
    assert entities["byKind"] == {"enterprise": 5, "public-body": 1}
    page.goto(site["url"] + "/#/figures")
    expect(page.locator("svg.chart")).to_have_count(8)
    charts = {"listings": ("byBoard", "byKind", "byGrade", "byExchange", "byMonth"),
              "entities": ("byKind", "byExchange", "byRole")}
    for group, names in charts.items():
        for name in names:
            counts = figures[group][name]
            bars = page.locator(f"svg.chart[data-chart='{group}.{name}'] g.bar")
            expect(bars).to_have_count(len(counts))
            drawn = {bars.nth(i).get_attribute("data-key"): int(bars.nth(i).get_attribute("data-value") or -1)
                     for i in range(bars.count())}
            assert drawn == counts, (group, name)
    # The bars are to scale: the longest belongs to the largest count.
    widths = page.eval_on_selector_all("svg.chart[data-chart='listings.byBoard'] g.bar rect",
                                       "rs => rs.map(r => [r.parentNode.dataset.value, r.getBBox().width])")
    top = max(widths, key=lambda w: w[1])
    assert int(top[0]) == max(figures["listings"]["byBoard"].values())


def test_a_title_that_is_html_renders_as_text(own_site: dict[str, Any], page: Page) -> None:
    lingang = own_site["demo"]["entities"]["m-lingang"]
    title = {"en": XSS, "zh": "<script>window.__xss = 1</script>港口数据"}
    body = {"kind": "resource", "grade": "general", "source": "enterprise", "rights": ["holding"], "owner": lingang,
            "contentHash": "0x" + "5a" * 32,
            "metadata": {"title": title, "publisher": lingang, "keywords": [XSS, "xsscheck"],
                         "description": {"en": "<b onmouseover=alert(2)>bold</b>"}}}
    res = httpx.post(own_site["url"] + "/api/v1/registrations", json=body,
                     headers={"Authorization": f"Bearer {own_site['admin']}"}, timeout=120)
    assert res.status_code == 201, res.text
    rid = res.json()["id"]
    page.goto(own_site["url"] + "/#/catalog")
    search(page, "xsscheck")
    card = page.locator(f"#listings li.listing[data-id='{rid}']")
    expect(card.locator("h3")).to_have_text(XSS)
    expect(card.locator(".description")).to_have_text("<b onmouseover=alert(2)>bold</b>")
    page.goto(own_site["url"] + f"/#/record/{rid}")
    expect(page.locator("h1")).to_contain_text(XSS)
    page.click("#lang")
    expect(page.locator("h1")).to_contain_text(title["zh"])
    page.goto(own_site["url"] + "/")
    expect(page.locator(f"table.records tr[data-id='{rid}'] a.record-title")).to_have_text(title["zh"])
    assert page.locator("img").count() == 0
    assert page.locator("#view script, #view b").count() == 0
    assert page.evaluate("window.__xss") is None


def no_such_endpoint(route: Route) -> None:
    """What a node without the catalogue answers (its problem handler's 404 for an unknown route)."""
    path = urlsplit(route.request.url).path
    route.fulfill(status=404, content_type="application/problem+json",
                  body=json.dumps({"type": "https://w3id.org/provenance/problems/not-found", "title": "Not Found",
                                   "status": 404, "detail": f"no such endpoint: GET {path}"}))


def test_pages_degrade_on_a_node_without_the_catalogue(site: dict[str, Any], page: Page) -> None:
    page.route("**/api/v1/catalog/**", no_such_endpoint)
    page.route("**/api/v1/entities/*/profile", no_such_endpoint)
    page.route("**/api/v1/entities/*/records*", no_such_endpoint)
    page.goto(site["url"] + "/#/catalog")
    expect(page.locator("#not-served")).to_have_text("This node does not serve the catalogue (yet).")
    expect(page.locator("#boards a.board")).to_have_count(0)
    page.goto(site["url"] + "/#/figures")
    expect(page.locator("#not-served")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(0)
    lingang = site["demo"]["entities"]["m-lingang"]
    page.goto(site["url"] + f"/#/entity/{lingang}")
    expect(page.locator("#entity-name")).to_have_text(f"entity #{lingang}")  # the entity itself is still shown
    expect(page.locator("table.fields")).to_contain_text("no profile published")
    expect(page.locator("#entity-records #not-served")).to_be_visible()
