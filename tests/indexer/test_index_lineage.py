"""Lineage queries on the LevelDB index, on random DAGs written through the index's own write path, against
the plain in-memory model."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core import export
from provenance.dev.synthetic import synthetic_id, write_graph
from provenance.indexer.queries import IndexQueries
from provenance.store import keys as K
from provenance.store.index import IndexStore
from tests.support.lineage import children_of, dags, distances


@settings(max_examples=30)
@given(g=dags(max_nodes=30), data=st.data())
def test_index_lineage_matches_the_model(g: dict[int, list[int]], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp))
        try:
            write_graph(store, [g[i] for i in range(len(g))], per_block=7)
            q = IndexQueries(store)
            start = data.draw(st.sampled_from(sorted(g)))
            rid = synthetic_id(start)
            anc = q.ancestors(rid)
            assert {r.id: d for r, d in anc.records} == {synthetic_id(n): d for n, d in distances(start, g).items()}
            desc = q.descendants(rid)
            kids = children_of(g)
            assert {r.id: d for r, d in desc.records} == {
                synthetic_id(n): d for n, d in distances(start, kids).items()}
            assert all(child in {synthetic_id(c) for c in kids[g_index(p, g)]} for child, p in desc.edges)
            other = data.draw(st.sampled_from(sorted(g)))
            p = q.path(rid, synthetic_id(other))
            dist = distances(start, g)
            assert (p is None) == (other != start and other not in dist)
            assert q.record(rid).parents == tuple(synthetic_id(x) for x in g[start])
        finally:
            store.close()


def g_index(record_id: bytes, g: dict[int, list[int]]) -> int:
    return next(i for i in g if synthetic_id(i) == record_id)


def test_corrupted_index_with_a_cycle_still_terminates(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_graph(store, [[], [0], [1]])
    # Corrupt it: make record 0 a child of record 2 (a cycle the contract could never produce).
    store._db.put(K.CHILD + K.seq_bytes(2) + K.seq_bytes(0), b"")  # noqa: SLF001
    q = IndexQueries(store)
    res = q.descendants(synthetic_id(0))
    assert sorted(r.seq for r, _ in res.records) == [1, 2]
    store.close()


def test_exports(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    write_graph(store, [[], [], [0, 1], [2]])
    q = IndexQueries(store)
    nodes = q.lineage_nodes(synthetic_id(3), {1: "SDE", 2: "ZJDE", 3: "AHDE"})
    prov = export.to_prov_json(nodes, namespace="provenance://1502/0xabc")
    assert len(prov["entity"]) == 4 and len(prov["wasDerivedFrom"]) == 3
    ids = {f"rec:0x{synthetic_id(i).hex()}" for i in range(4)}
    assert set(prov["entity"]) == ids
    derived = {(d["prov:generatedEntity"], d["prov:usedEntity"]) for d in prov["wasDerivedFrom"].values()}
    assert (f"rec:0x{synthetic_id(3).hex()}", f"rec:0x{synthetic_id(2).hex()}") in derived
    runs = export.to_openlineage(nodes, namespace="provenance://1502/0xabc",
                                 times={n.block_number: "2026-12-01T00:00:00Z" for n in nodes})
    assert len(runs) == 2  # two derived records
    run = next(r for r in runs if r["outputs"][0]["name"] == "0x" + synthetic_id(2).hex())
    assert {i["name"] for i in run["inputs"]} == {"0x" + synthetic_id(0).hex(), "0x" + synthetic_id(1).hex()}
    assert run["eventType"] == "COMPLETE" and run["job"]["namespace"] == "provenance://1502/0xabc"
    store.close()
