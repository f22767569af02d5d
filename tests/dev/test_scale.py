"""The scale builder at a tiny size: what it puts on chain, the index and the catalogue agree, and the lineage
it draws keeps the seed's shape (1 to 5 parents, depth at most 6, parents never of a higher grade)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from provenance.core import catalog as C
from provenance.core.keccak import keccak256
from provenance.dev.scale import ScaleSpec, build, census, partner_catchup, queries
from provenance.errors import InvalidInput
from provenance.services.node import Node
from provenance.store.keystore import PassphraseSource
from provenance.types import Grade, Kind

SPEC = ScaleSpec(entities=30, resources=12, products=10, assets=3, publishers=6, seed=5)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PassphraseSource, dict[str, Any]]:
    root = tmp_path_factory.mktemp("scale")
    (root / "pass").write_text("scale-test")
    source = PassphraseSource(env=None, file=root / "pass", prompt=False)
    figures = build(root / "data", source, SPEC, scrypt_n=1024, say=lambda _m: None)
    return root / "data", source, figures


def test_chain_index_and_catalogue_hold_the_same_federation(built: tuple[Path, PassphraseSource,
                                                                         dict[str, Any]]) -> None:
    data, source, figures = built
    batched = int(SPEC.resources * SPEC.batched)
    records = SPEC.resources + SPEC.products + SPEC.assets
    with Node.open(data, source) as node:
        counts = census(node)
        general = sum(node.index.record_by_seq(seq).grade == Grade.GENERAL
                      for seq in range(counts["index_records"]))
        profiles = figures["profiles_published"]
    assert counts["chain_entities"] == counts["index_entities"] == SPEC.entities
    assert counts["index_records"] == records
    assert counts["chain_direct_records"] == records - batched
    assert counts["catalog_listings"] == records
    assert counts["index_rejected"] == 0
    # Every general-grade record's document was published and accepted; only those are public listings.
    assert counts["index_documents"] == counts["catalog_public_listings"] == general > 0
    assert counts["index_profiles"] == profiles
    assert SPEC.entities * 0.5 < profiles < SPEC.entities
    assert figures["gas_per_entity"] > 0 and figures["entities_onboard_s"] > 0


def test_lineage_has_one_to_five_parents_and_depth_at_most_six(built: tuple[Path, PassphraseSource,
                                                                          dict[str, Any]]) -> None:
    data, source, _ = built
    with Node.open(data, source) as node:
        recs = {r.id: r for r in (node.index.record_by_seq(s) for s in range(census(node)["index_records"]))}

        @functools.cache
        def depth(rid: bytes) -> int:
            # Parents as the chain stores them, not as the builder planned them.
            parents = node.contracts.call("Registry", "parentsOf", rid)[0]
            return 0 if not parents else 1 + max(depth(bytes(p)) for p in parents)

        kinds = {Kind.RESOURCE: 0, Kind.PRODUCT: 0, Kind.ASSET: 0}
        depths = set()
        for rid, rec in recs.items():
            kinds[Kind(rec.kind)] += 1
            if rec.kind == Kind.RESOURCE:
                assert rec.parents == ()
                continue
            assert 1 <= len(rec.parents) <= 5
            assert all(recs[p].grade <= rec.grade for p in rec.parents)
            assert all(not recs[p].batched for p in rec.parents)
            d = depth(rid)
            assert d <= 6
            if rec.kind == Kind.PRODUCT:
                depths.add(d)
            # The metadata document's hash is the record's, and it names the record's owner as publisher.
            doc = node.documents.get(rec.metadata_hash)
            assert doc is not None and keccak256(doc) == rec.metadata_hash
            assert C.parse_metadata(doc).publisher == rec.owner
    assert kinds == {Kind.RESOURCE: SPEC.resources, Kind.PRODUCT: SPEC.products, Kind.ASSET: SPEC.assets}
    assert depths == set(range(1, 7))  # ten products reach every level up to six


def test_search_queries_and_partner_catch_up(built: tuple[Path, PassphraseSource, dict[str, Any]],
                                             tmp_path: Path) -> None:
    data, source, _ = built
    qs = queries(40, 3, ["SDE", "ZJDE", "AHDE"])
    assert len(qs) == 40 and any(q.keys() != {"q"} for q in qs)
    assert any(all(ord(ch) < 128 for ch in q["q"]) for q in qs) and any(ord(q["q"][0]) > 0x2E80 for q in qs)
    with Node.open(data, source) as node:
        counts = census(node)
        partner = partner_catchup(node, tmp_path / "partner")
    assert partner["partner_records"] == counts["index_records"]
    assert partner["partner_public_listings"] == counts["catalog_public_listings"]


def test_a_second_build_returns_its_figures_and_other_directories_are_refused(
        built: tuple[Path, PassphraseSource, dict[str, Any]], tmp_path: Path) -> None:
    data, source, figures = built
    assert build(data, source, SPEC, say=lambda _m: None) == figures
    with pytest.raises(InvalidInput, match="another spec"):
        build(data, source, ScaleSpec(entities=31, resources=12, products=10, assets=3), say=lambda _m: None)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(InvalidInput, match="not a finished scale build"):
        build(tmp_path / "busy", source, SPEC, say=lambda _m: None)
    with pytest.raises(InvalidInput, match="at least 6 entities"):
        build(tmp_path / "new", source, ScaleSpec(entities=2), say=lambda _m: None)
