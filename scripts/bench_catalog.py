"""Catalogue projection bench: a synthetic index (the index's own write path, no chain) of N entities and M
published listings, the SQLite projection built from it, then mixed Chinese/English queries with facet filters.

    .venv/bin/python scripts/bench_catalog.py [--entities 100000] [--listings 25000] [--queries 1000]

Prints JSON: index build seconds, projection rebuild seconds, sqlite bytes, query p50/p99/max ms, wall clock and
process CPU time (the machine is shared: CPU time is what this process spent, wall time adds waiting for a core),
and the load average before and after the queries. One timed "query" is a search, and for every tenth one that
has a next page, that page too (each computed in full: nothing is kept between searches).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.catalog import build  # noqa: E402

from provenance.core.catalog import BOARDS  # noqa: E402
from provenance.indexer.catalog_search import CatalogIndex  # noqa: E402
from provenance.store.documents import DocumentStore  # noqa: E402
from provenance.store.index import IndexStore  # noqa: E402

TERMS = ("航运", "港口", "金融", "医疗", "指数", "集装箱", "长三角", "上海", "能源", "征信", "运价", "数据集",
         "贸易", "科技", "交通", "月度分析报告", "浦东", "航", "港", "port", "index", "shipping", "container",
         "credit", "energy", "Shanghai", "monthly report", "logistics", "medical", "patent", "AI", "数据 index",
         "valuation", "有限公司", "Lingang", "Technology", "throughput", "临港 数据")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--listings", type=int, default=25_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    store = IndexStore(root / "index")
    docs = DocumentStore(root / "documents")
    t = time.perf_counter()
    index_s = None
    if store.checkpoint() is None:  # an existing --dir keeps its index: only the projection is rebuilt
        build(store, entities=args.entities, listings=args.listings, important_every=20)
        index_s = round(time.perf_counter() - t, 2)
    cat = CatalogIndex(root / "catalog.sqlite", store, docs)
    t = time.perf_counter()
    cat.rebuild()
    rebuild_s = time.perf_counter() - t
    t = time.perf_counter()
    unchanged = cat.sync()
    sync_noop_ms = (time.perf_counter() - t) * 1000
    rng = random.Random(7)
    boards = [b.code for b in BOARDS]
    times: list[float] = []
    cpu: list[float] = []
    hits = 0
    load_before = os.getloadavg()
    for i in range(args.queries):
        q = rng.choice(TERMS)
        kw: dict[str, object] = {}
        r = rng.random()
        if r < 0.3:
            kw["board"] = rng.choice(boards)
        elif r < 0.5:
            kw["kind"] = rng.choice(("resource", "product", "asset"))
        elif r < 0.6:
            kw["registrar"] = rng.choice(("SDE", "SZDE", "ZJDE"))
        order = "recent" if i % 4 == 0 else "relevance"
        t, c = time.perf_counter(), time.process_time()
        page = cat.search(q, order=order, public_only=i % 5 != 0, **kw)  # type: ignore[arg-type]
        if page.next and i % 10 == 0:
            cat.search(q, order=order, public_only=i % 5 != 0, cursor=page.next, **kw)  # type: ignore[arg-type]
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        hits += page.total
    times.sort()
    cpu.sort()
    cat.close()
    size = (root / "catalog.sqlite").stat().st_size + sum(
        p.stat().st_size for p in root.glob("catalog.sqlite-*"))
    print(json.dumps({"catalog": {
        "entities": args.entities, "listings": args.listings, "queries": args.queries,
        "index_build_s": index_s, "projection_rebuild_s": round(rebuild_s, 2),
        "sync_noop_ms": round(sync_noop_ms, 3), "sync_noop_rows": unchanged,
        "search_p50_ms": round(statistics.median(times), 2),
        "search_p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "search_max_ms": round(times[-1], 2), "search_cpu_p50_ms": round(statistics.median(cpu), 2),
        "search_cpu_p99_ms": round(cpu[int(len(cpu) * 0.99) - 1], 2), "search_cpu_max_ms": round(cpu[-1], 2),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "mean_total": round(hits / len(times), 1),
        "catalog_bytes": size}}, indent=2))


if __name__ == "__main__":
    main()
