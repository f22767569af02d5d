"""The compiled fast paths (src/provenance/core/_speedups.c) compute what the Python code computes: SHA-256 by
either route (OpenSSL's functions directly where hashlib loaded them, or hashlib), dates, and the pure checks of a
certificate. The reader and the Merkle loop are held to the Python code in tests/certificates/test_parsing.py and
tests/core/test_merkle.py; whole verifications, fast path against the Python verifier, in
tests/certificates/test_tamper.py."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.core import certificates as C
from provenance.core import eip712, merkle
from provenance.core.certificates._compiled import speedups
from provenance.core.ids import record_id
from provenance.core.keccak import keccak256
from provenance.types import Grade, Kind, Source, Status
from tests.support.parsing import DOC_ODD_VALUES, KEY, paths, replaced

# The compiled module as verification configures it, on first use (importing the certificates configures nothing).
_speedups: Any = speedups()


@pytest.fixture(params=[True, False], ids=["openssl", "hashlib"])
def route(request: pytest.FixtureRequest) -> Iterator[bool]:
    yield _speedups.use_openssl(request.param)
    _speedups.use_openssl(True)


@given(data=st.binary(max_size=300) | st.integers(0, 5000).map(lambda n: bytes(range(256)) * (n // 256 + 1)))
def test_sha256_by_either_route(data: bytes) -> None:
    for flag in (True, False):
        _speedups.use_openssl(flag)
        assert _speedups.sha256(data) == hashlib.sha256(data).digest()
    _speedups.use_openssl(True)


@given(data=st.binary(max_size=600))
def test_keccak256_is_ethereums(data: bytes) -> None:
    assert _speedups.keccak256(data) == keccak256(data)


def test_keccak256_known_answers() -> None:
    assert _speedups.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert _speedups.keccak256(b"\x19Ethereum").hex() == keccak256(b"\x19Ethereum").hex()
    assert _speedups.keccak256(eip712.CERTIFICATE_TYPE.encode()) == eip712._type_hash(eip712.CERTIFICATE_TYPE)


def test_the_compiled_keccak_is_checked_before_use() -> None:
    with pytest.raises(RuntimeError, match="differs from keccak256 on 0 bytes"):
        _speedups.configure_hashes(lambda data: hashlib.sha3_256(data).digest(), eip712.CERTIFICATE_TYPE)
    _speedups.configure_hashes(keccak256, eip712.CERTIFICATE_TYPE)


def python_seconds(text: Any) -> int | None:
    try:
        return C._iso_seconds(text)
    except (ValueError, TypeError):
        return None


def test_dates_on_every_edge_of_the_calendar() -> None:
    years, months, days = [0, 1, 4, 99, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2100, 9999], range(14), \
        [0, 1, 28, 29, 30, 31, 32]
    for y, mo, d, h, mi, s in itertools.product(years, months, days, [0, 23, 24], [0, 59, 60], [0, 59, 60]):
        text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
        assert _speedups.iso_seconds(text) == python_seconds(text), text


@given(st.text(alphabet="0123456789-T:Z z+\u0660", min_size=18, max_size=22))
def test_dates_of_any_text_near_the_form(text: str) -> None:
    assert _speedups.iso_seconds(text) == python_seconds(text)


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00z", "2026-01-01 00:00:00Z",
                                   "2026-01-01T00:00:00+00:00", "２０２６-01-01T00:00:00Z", 5, None, b"x"])
def test_dates_of_other_forms(value: Any) -> None:
    assert _speedups.iso_seconds(value) == (python_seconds(value) if isinstance(value, str) else None)


CHAIN, REGISTRY = 31337, bytes.fromhex("cd" * 20)


def rec(content: int, parents: tuple[bytes, ...] = (), registrar: int = 1) -> C.CertRecord:
    c = bytes([content]) * 32
    return C.CertRecord(record_id(registrar, c), registrar, 7, int(Kind.PRODUCT), int(Grade.GENERAL),
                        int(Source.ENTERPRISE), 3, c, bytes([2]) * 32, bytes(32), parents, int(Status.ACTIVE), 9, True)


def build(subject: C.CertRecord, lineage: list[C.CertRecord], *, evidence_for: list[C.CertRecord] | None = None,
          issuer: int = 1, exchange: int | None = None) -> dict[str, Any]:
    """A signed certificate whose inclusion proofs are real: every record given (and those evidence is given for)
    is a leaf of one tree."""
    covered = evidence_for if evidence_for is not None else [subject, *lineage]
    leaves = [r.leaf_hash() for r in covered] + [merkle.leaf_hash(b"another")]
    root = merkle.root(leaves)
    evidence = [C.Inclusion(r.id, exchange or r.registrar, i, leaves[i], len(leaves), root,
                            tuple(merkle.inclusion_proof(i, leaves)), 10, bytes([9]) * 32, bytes([10]) * 65)
                for i, r in enumerate(covered)]
    doc = C.build_unsigned(chain_id=CHAIN, registry=REGISTRY, issuer=C.Issuer(issuer, "SDE", "Shanghai", bytes(20)),
                           record=subject, lineage=lineage, evidence=evidence, issued_at=1_790_000_000,
                           valid_until=1_800_000_000, issued_block=12)
    return C.sign(doc, KEY)


def consistent_document() -> dict[str, Any]:
    """A signed certificate whose pure checks all hold: real record ids, leaves and inclusion proofs (its
    checkpoint signature and the key are not registered anywhere: those are the view's checks)."""
    ancestor = rec(1)
    return build(rec(3, (ancestor.id,)), [ancestor])


def forgeries() -> dict[str, dict[str, Any]]:
    """Documents that break exactly one pure check each, consistent (and signed) in every other respect."""
    a, b = rec(1), rec(4)
    out = {}
    wrong_id = dataclasses.replace(rec(3, (a.id,)), id=bytes([5]) * 32)
    out["record id"] = build(wrong_id, [a])
    out["ancestor id"] = build(rec(3, (wrong_id.id,)), [dataclasses.replace(a, id=bytes([5]) * 32)])
    out["registrar 0"] = build(dataclasses.replace(rec(3, (a.id,)), registrar=0), [a], exchange=1)
    out["log of another exchange"] = build(rec(3, (a.id,)), [a], exchange=2)
    out["registrar is not the issuer"] = build(rec(3, (a.id,), registrar=2), [a])
    out["ancestor outside the lineage"] = build(rec(3, (a.id,)), [a, b])
    out["ancestor missing"] = build(rec(3, (a.id, b.id)), [a])
    out["evidence for another record"] = build(rec(3, (a.id,)), [a], evidence_for=[rec(3, (a.id,)), a, b])
    out["evidence missing"] = build(rec(3, (a.id,)), [a], evidence_for=[rec(3, (a.id,))])
    out["one ancestor missing, another outside the lineage"] = build(rec(3, (a.id, b.id)), [a, rec(6)])
    own = rec(3, (rec(3).id,))
    out["the record its own ancestor"] = build(own, [own], evidence_for=[own])
    out["the record its own ancestor, evidence for another"] = build(own, [own], evidence_for=[own, b])
    out["an ancestor listed twice"] = build(rec(3, (a.id,)), [a, a], evidence_for=[rec(3, (a.id,)), a])
    out["an ancestor listed twice, evidence for another"] = build(rec(3, (a.id,)), [a, a],
                                                                 evidence_for=[rec(3, (a.id,)), a, b])
    out["two inclusions of one record"] = build(rec(3, (a.id,)), [a], evidence_for=[rec(3, (a.id,)), a, a])
    zero = dataclasses.replace(rec(3), registrar=0, id=keccak256(bytes(32) + bytes([3]) * 32))
    out["registrar 0 throughout"] = build(zero, [], issuer=0, exchange=0)
    return out


def test_every_broken_pure_check_leaves_the_verdict_to_python() -> None:
    assert core_outcome(consistent_document()) is not None
    for name, doc in forgeries().items():
        assert core_outcome(doc) is None, name


def core_outcome(doc: Any) -> Any:
    return _speedups.verify_core(doc, eip712._cached_domain(CHAIN, REGISTRY))


def test_the_pure_checks_of_a_consistent_document() -> None:
    doc = consistent_document()
    out = core_outcome(doc)
    assert out is not None
    content, credential, digest, leaves, valid_from, valid_until, subject, checkpoints = out
    parsed = C._parse_plain(doc)
    inc = parsed.evidence[parsed.record.id]
    assert subject[:3] == (inc.record, inc.exchange, inc.leaf_index)
    assert checkpoints == {(i.exchange, i.tree_size, i.root, i.checkpoint_signature, i.cosignatures)
                           for i in parsed.evidence.values()}
    assert credential == parsed.credential_hash == C.credential_hash(doc)
    assert digest == eip712.certificate_digest(CHAIN, REGISTRY, credential, 1, 12)
    assert leaves == (parsed.record.leaf_hash(), parsed.lineage[0].leaf_hash())
    assert (valid_from, valid_until) == (parsed.valid_from, parsed.valid_until)


def test_the_pure_checks_by_either_route(route: bool) -> None:
    """Every value of a consistent document changed: both SHA-256 routes give the same answers, and a change
    that breaks a pure check (an id, a leaf, a proof, the lineage) gives None."""
    doc = consistent_document()
    variants = [replaced(doc, path, value) for path in paths(doc)[1:] for value in DOC_ODD_VALUES[:12]]
    outcomes = [core_outcome(v) for v in variants]
    _speedups.use_openssl(not route)
    assert outcomes == [core_outcome(v) for v in variants]
    assert any(o is None for o in outcomes) and any(o is not None for o in outcomes)
    for path in (("credentialSubject", "record", "contentHash"), ("credentialSubject", "lineage", 0, "owner"),
                 ("evidence", 1, "leafIndex"), ("evidence", 2, "proof", 0), ("credentialSubject", "record", "parents"),
                 ("evidence", 1, "root"), ("credentialSubject", "lineage", 0, "registrar")):
        node: Any = doc
        for step in path:
            node = node[step]
        changed = (node + 1 if isinstance(node, int) else [] if isinstance(node, list)
                   else node[:-1] + ("0" if node[-1] != "0" else "1"))
        assert core_outcome(replaced(doc, path, changed)) is None, path


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=80) | st.floats()
    | st.sampled_from(["0x" + "ab" * 32, "0x" + "cd" * 20, "0x", "2026-01-01T00:00:00Z", "active", "product"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


@given(data=st.data())
def test_any_value_anywhere_is_read_without_error(data: st.DataObject) -> None:
    """Random JSON values (and non-JSON ones: floats, huge integers) at any place of a consistent document: the
    compiled code answers a result or None, never an exception or a crash, and agrees with the Python reader."""
    doc = consistent_document()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths(doc)[1:]))
        doc = replaced(doc, path, data.draw(json_values))
    compiled = C._parse_compiled(doc)  # the compiled reader, its dates checked
    core = core_outcome(doc)
    try:
        plain = C._parse_plain(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        plain = None
    if compiled is not None:
        assert compiled == plain
    if core is not None:
        assert plain is not None and core[1] == plain.credential_hash


def _reordered(value: Any, order: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k], order) for k in order(list(value))}
    if isinstance(value, list):
        return [_reordered(v, order) for v in value]
    return value


def _in_rfc8785_order(value: Any) -> bool:
    if isinstance(value, dict):
        keys = list(value)
        return keys == sorted(keys, key=lambda k: k.encode("utf-16-be")) and all(map(_in_rfc8785_order,
                                                                                      value.values()))
    return all(map(_in_rfc8785_order, value)) if isinstance(value, list) else True


def test_the_credential_hash_in_any_member_order() -> None:
    """The issuer writes every member in RFC 8785 order, which lets the compiled hash skip orjson's sorting; a
    document in any other order (a partner's tool may rewrite it) hashes the same, to the ``rfc8785`` package's
    canonical form: reversed, rotated, or out of order in one object deep inside, between two names that share
    their first letter."""
    import rfc8785

    doc = consistent_document()
    assert _in_rfc8785_order(doc)
    unsigned = {**doc, "proof": [{k: v for k, v in doc["proof"][0].items() if k != "proofValue"}]}
    want = hashlib.sha256(rfc8785.dumps(unsigned)).digest()
    deep = _reordered(doc, lambda keys: keys)
    record = deep["credentialSubject"]["record"]
    deep["credentialSubject"]["record"] = {k: record[k] for k in sorted(record, key=lambda k: (k != "supersedes", k))}
    assert list(deep["credentialSubject"]["record"])[:1] == ["supersedes"] and list(record)[-1] == "supersedes"
    for variant in (doc, _reordered(doc, lambda keys: keys[::-1]), _reordered(doc, lambda keys: keys[1:] + keys[:1]),
                    deep):
        out = core_outcome(variant)
        assert out is not None and out[1] == want == C.credential_hash(variant)
