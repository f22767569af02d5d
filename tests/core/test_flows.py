"""The pure part of the cross-border flows: codes, manifests, the draw and the spot-check report."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.core import flows as F
from provenance.errors import InvalidInput


def manifest(n: int = 2, size: int = 10) -> dict[str, Any]:
    return {"files": [{"path": f"f{i}", "sha256": "0x" + f"{i:02x}" * 32, "size": size} for i in range(n)]}


def test_codes() -> None:
    assert F.category_code("IOT.TELEMETRY") == b"IOT.TELEMETRY".ljust(32, b"\0")
    assert F.category_text(F.category_code("A-1")) == "A-1"
    for bad in ("", "lower", "A B", "X" * 33, "Ä"):
        with pytest.raises(InvalidInput):
            F.category_code(bad)
    assert F.jurisdiction_code("SG") == b"SG"
    for bad in ("CN", "sg", "S", "SGP", "1A"):
        with pytest.raises(InvalidInput):
            F.jurisdiction_code(bad)
    with pytest.raises(InvalidInput):
        F.check_purpose("x" * 257)


def test_manifests() -> None:
    m = F.parse_manifest(manifest(3, 7))
    assert m.size == 21 and len(m.hash) == 32
    reordered = {"files": list(reversed(manifest(3, 7)["files"]))}
    assert F.parse_manifest(reordered).hash != m.hash  # file order is part of what was delivered
    same = dict(reversed(list({**manifest(3, 7), "note": "x"}.items())))
    assert F.parse_manifest(same).hash == F.parse_manifest({**manifest(3, 7), "note": "x"}).hash  # key order is not
    for bad in ({"files": []}, {"files": [{"path": "a", "sha256": "0x12", "size": 1}]},
                {"files": [{"path": "a", "sha256": "0x" + "00" * 32, "size": 0}]},
                {"files": [{"path": "a", "sha256": "0x" + "00" * 32, "size": 1}] * 2}, {"nofiles": 1}, [1]):
        with pytest.raises(InvalidInput):
            F.parse_manifest(bad)


@given(seed=st.binary(min_size=32, max_size=32), population=st.integers(1, 500), k=st.integers(1, 64))
def test_the_draw(seed: bytes, population: int, k: int) -> None:
    positions = F.sample_positions(seed, population, k)
    assert positions == F.sample_positions(seed, population, k)
    assert len(positions) == min(k, population) and len(set(positions)) == len(positions)
    assert all(0 <= p < population for p in positions)
    if k >= population:
        assert positions == list(range(population))


def _report(answers: dict[int, Any] | None = None) -> tuple[dict[str, Any], list[int]]:
    deliveries = list(range(101, 121))  # the exporter's deliveries, in order
    seed = F.seed_of(b"\x07" * 32, 1502, b"\x01" * 20, 3)
    positions = F.sample_positions(seed, 20, 4)
    sample = [F.RecordedDelivery(deliveries[p], 9, F.parse_manifest(manifest(p + 1)).hash, 10 * (p + 1))
              for p in positions]
    if answers is None:
        answers = {d.id: manifest(p + 1) for d, p in zip(sample, positions, strict=True)}
    report = F.build_report(chain_id=1502, contract=b"\x01" * 20, check_id=3, exporter=5, seed=seed,
                            population=20, sample_size=4, sample=sample, answers=answers)
    return report, deliveries


def test_a_report_holds_and_judges_each_answer() -> None:
    report, deliveries = _report()
    assert (report["passed"], report["failed"]) == (4, 0)
    assert F.verify_report(report, exporter_deliveries=deliveries, seed_block_hash=b"\x07" * 32) == []
    first, second = report["sample"][:2]
    partial, _ = _report({first: manifest(99)})
    assert (partial["passed"], partial["failed"]) == (0, 4)
    reasons = {o["delivery"]: o["reason"] for o in partial["outcomes"]}
    assert "hash differs" in reasons[first] and "no manifest" in reasons[second]
    assert F.verify_report(partial, exporter_deliveries=deliveries) == []


TAMPERS = [
    ("sample reordered", lambda r: r["sample"].reverse()),
    ("positions reordered", lambda r: r["positions"].reverse()),
    ("another delivery sampled", lambda r: r["sample"].__setitem__(0, 120 if r["sample"][0] != 120 else 119)),
    ("other seed", lambda r: r.update(seed="0x" + "22" * 32)),
    ("other population", lambda r: r.update(population=21)),
    ("outcome claims a pass", lambda r: r["outcomes"][0].update(manifestHash="0x" + "33" * 32)),
    ("counts", lambda r: r.update(passed=3, failed=1)),
    ("outcome dropped", lambda r: r["outcomes"].pop()),
    ("outcomes swapped", lambda r: r["outcomes"].reverse()),
    ("malformed", lambda r: r.pop("seed")),
]


@pytest.mark.parametrize(("name", "tamper"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_every_tampered_report_is_rejected(name: str, tamper: Any) -> None:
    report, deliveries = _report()
    bad = copy.deepcopy(report)
    tamper(bad)
    assert F.verify_report(bad, exporter_deliveries=deliveries, seed_block_hash=b"\x07" * 32), name
    assert F.report_hash(bad) != F.report_hash(report)


def test_the_seed_is_bound_to_its_block_chain_contract_and_check() -> None:
    report, deliveries = _report()
    assert F.verify_report(report, seed_block_hash=b"\x08" * 32)
    base = F.seed_of(b"\x07" * 32, 1502, b"\x01" * 20, 3)
    assert len({base, F.seed_of(b"\x07" * 32, 1503, b"\x01" * 20, 3), F.seed_of(b"\x07" * 32, 1502, b"\x02" * 20, 3),
                F.seed_of(b"\x07" * 32, 1502, b"\x01" * 20, 4)}) == 4
