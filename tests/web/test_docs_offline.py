"""/docs works with no network: Swagger UI's files come from the node, and Chromium is refused every other host."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Route, sync_playwright

from tests.support.browser import CHROMIUM, FLAGS
from tests.support.passphrase import passphrase
from tests.support.server import node_process

pytestmark = pytest.mark.slow


def test_docs_render_with_the_network_off(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, _demo = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    passphrase(tmp_path)
    with node_process(data, tmp_path / "passphrase.txt") as url:
        html = httpx.get(url + "/docs").text
        assert "cdn." not in html and "/docs-assets/swagger-ui-bundle.js" in html
        node_host = urlsplit(url).netloc
        asked: list[str] = []
        refused: list[str] = []

        def offline(route: Route) -> None:
            target = route.request.url
            asked.append(target)
            if urlsplit(target).netloc == node_host:
                route.continue_()
            else:  # what a machine with no network gets
                refused.append(target)
                route.abort("internetdisconnected")

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                ctx = browser.new_context()
                ctx.route("**/*", offline)
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url + "/docs")
                page.wait_for_selector(".opblock", timeout=30_000)
                # The operations of the served OpenAPI document are listed, one block each.
                assert page.locator(".opblock").count() >= 30
                assert page.locator(".info .title").inner_text().startswith("provenance node API")
                assert not errors, errors
                assert not refused, refused
                assert any(a.endswith("/openapi.json") for a in asked)
            finally:
                browser.close()
