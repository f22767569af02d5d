"""The scale section of scripts/bench.py: the seed's scale built through the node's write paths, then
search, a partner's catch-up and the explorer in headless Chromium."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_chain import _log

from provenance.chain.registry import RegistryService
from provenance.types import Grade, Kind


def _bytes_under(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def bench_scale(args: argparse.Namespace) -> dict[str, Any]:
    """The seed's scale (provenance.dev.scale): build, then search in-process through the catalogue service,
    a partner's catch-up from genesis, and the explorer in headless Chromium against the node served by uvicorn
    in its own process (whose peak RSS is node_rss_mib)."""
    import resource
    import shutil
    import subprocess
    import urllib.request

    from provenance.dev.scale import ScaleSpec, build, census, partner_catchup, queries
    from provenance.services.node import Node
    from provenance.store.keystore import PassphraseSource

    spec = ScaleSpec(entities=args.scale_entities, resources=args.scale_resources, products=args.scale_products,
                     assets=args.scale_assets)
    tmp = Path(tempfile.mkdtemp(prefix="scale-"))
    data = args.scale_keep or tmp / "data"
    os.environ.setdefault("PROVENANCE_PASSPHRASE", "scale")
    source = PassphraseSource(prompt=False)
    try:
        out: dict[str, Any] = build(data, source, spec, scrypt_n=1024, say=_log)
        with Node.open(data, source) as node:
            out.update(census(node))
            out["entities"], out["products"] = out["index_entities"], spec.products
            codes = [x.code for x in RegistryService(node.contracts).exchanges()]
            times, hits, timed = [], 0, []
            for q in queries(args.scale_queries, spec.seed, codes):
                t0 = time.perf_counter()
                hits += bool(node.catalog.search(public_only=True, limit=20, **q).items)
                times.append((time.perf_counter() - t0) * 1000)
                timed.append((round(times[-1], 1), q))
            out.update({"search_queries": len(times), "search_with_hits": hits,
                        "search_p50_ms": round(_pct(times, 0.5), 2), "search_p99_ms": round(_pct(times, 0.99), 2),
                        "search_slowest": sorted(timed, key=lambda t: -t[0])[:5]})
            product = next(r for r in (node.index.record_by_seq(s) for s in range(out["index_records"] - 1, -1, -1))
                           if r.kind == Kind.PRODUCT and r.grade == Grade.GENERAL)
            out.update(partner_catchup(node, tmp / "partner"))
        out["build_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out["chain_bytes"] = _bytes_under(data / "chain")
        out["index_bytes"] = _bytes_under(data / "index")
        out["catalog_bytes"] = _bytes_under(data / "catalog.sqlite") + _bytes_under(data / "documents")
        out.update(_explorer(data, "0x" + product.id.hex(), subprocess, urllib.request))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Onboarding is linear in the count (one transaction each): a reduced run is judged by its projection.
    out["entities_onboard_100k_s"] = round(out["entities_onboard_s"] * 100_000 / spec.entities, 1)
    targets = {"entities_onboard_100k_s": 600, "search_p99_ms": 20, "explorer_first_page_ms": 500,
               "record_page_ms": 500, "partner_catchup_s": 300, "node_rss_mib": 1024}
    out["targets"] = targets
    out["met"] = {k: out.get(k) is not None and out[k] <= v for k, v in targets.items()}
    return out


def _explorer(data: Path, record: str, subprocess: Any, request: Any) -> dict[str, Any]:
    """First page and a record page in headless Chromium (as tests/web/test_browser.py drives it), each loaded
    cold in a new browser context: navigation start to the rows (the record's title) shown."""
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "provenance.cli", "--data-dir", str(data), "serve", "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        first, rec = [], []
        page_rows = "table.records tbody tr a.record-title"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            # The clock runs from the navigation to the rows (the record's title) visible, and nothing else: goto
            # returns at the navigation's commit, not at the load event (which the page does not wait for to show
            # them), and one wait looks for the element with its text, instead of a second round trip after it.
            titled = re.compile(r"\S.{11}")  # the record's own title, not the page's "loading" line
            for _ in range(5):
                for target, shown, into in ((url + "/", page_rows, first), (url + "/#/record/" + record, titled, rec)):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = ctx.new_page()
                    t0 = time.perf_counter()
                    page.goto(target, wait_until="commit")
                    if isinstance(shown, str):
                        page.locator(shown).first.wait_for(state="visible", timeout=30_000)
                    else:
                        page.locator("h1", has_text=shown).first.wait_for(state="visible", timeout=30_000)
                    into.append((time.perf_counter() - t0) * 1000)
                    ctx.close()
            browser.close()
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"explorer_first_page_ms": round(statistics.median(first), 1),
            "explorer_first_page_cold_ms": round(first[0], 1), "record_page_ms": round(statistics.median(rec), 1),
            "record_page_cold_ms": round(rec[0], 1), "node_rss_mib": round(hwm / 1024, 1)}
