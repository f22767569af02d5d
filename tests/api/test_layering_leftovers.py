"""Who may read a certificate or a lineage export is the service's rule, and each is worked out once: the
certificate list reads each kept file once (for its summary and its check alike), a download reads its file once,
and an export walks the ancestry once and checks the records of that walk (services/trust.py,
services/operations.py). The same refusals read as 401 (anonymous) and 403 (a credential) over HTTP."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from provenance.api.auth import Principal
from provenance.api.deps import API, reveal_for
from provenance.errors import Forbidden, NotFound
from provenance.services import trust
from provenance.services.operations import Operations
from provenance.store.keys import IndexedRecord
from tests.support.served import Served


def general_only(rec: IndexedRecord) -> bool:
    """The anonymous caller's rule: general-grade records only."""
    return rec.grade == 0


def rid(text: str) -> bytes:
    return bytes.fromhex(text[2:])


@pytest.fixture(scope="module")
def issued(served: Served) -> dict[str, str]:
    """Three certificates of this node (SDE): a general record's, a core record's (owned by the merchant
    m-lingang), and one of the merchant's important-grade records whose lineage holds another owner's."""
    c = served.client
    hidden_parent = served.record("logistics-waybills")  # important, owned by Hangzhou, registered by ZJDE
    child = c.post(f"{API}/registrations", headers=served.auth("registrar"), json={
        "kind": "resource", "grade": "important", "owner": served.demo["entities"]["m-lingang"],
        "contentHash": "0x" + secrets.token_hex(32), "parents": [hidden_parent]})
    assert child.status_code == 201, child.text
    out = {}
    for name, record in (("general", served.record("port-vessel-traffic")),
                         ("core", served.record("personal-credit-files")), ("lineage", child.json()["id"])):
        res = c.post(f"{API}/certificates", json={"record": record, "days": 30}, headers=served.auth("registrar"))
        assert res.status_code == 201, res.text
        out[name] = c.post(f"{API}/certificates/verify", json=res.json()).json()["credentialHash"]
    return out


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the certificate files the trust service reads, in order."""
    seen: list[str] = []
    real = trust._read_certificate

    def counted(path: Path) -> dict[str, Any]:
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(trust, "_read_certificate", counted)
    return seen


@pytest.fixture
def walks(served: Served, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, int]]:
    """Every ancestry walk the node's index queries make: (record, max_depth)."""
    queries = served.runtime.ops.queries
    seen: list[tuple[bytes, int]] = []
    real = queries.ancestors

    def counted(record_id: bytes, *, max_depth: int = 64, max_nodes: int = 10_000) -> Any:
        seen.append((bytes(record_id), max_depth))
        return real(record_id, max_depth=max_depth, max_nodes=max_nodes)

    monkeypatch.setattr(queries, "ancestors", counted)
    return seen


def kept(served: Served) -> int:
    return len(list((served.data_dir / "certificates").glob("0x*.json")))


# ---------------------------------------------------------------------- certificates, at the service


def test_the_list_shows_each_caller_what_it_may_read(served: Served, issued: dict[str, str]) -> None:
    ops: Operations = served.runtime.ops
    everything = {c.credentialHash for c in ops.certificates()}
    assert set(issued.values()) <= everything  # the operator (the CLI's default) reads every one
    public = {c.credentialHash for c in ops.certificates(reveal=general_only)}
    assert issued["general"] in public and issued["core"] not in public and issued["lineage"] not in public
    assert not ops.certificates(reveal=False)
    members = {c.credentialHash for c in ops.certificates(reveal=True)}
    assert members == everything
    lingang = served.demo["entities"]["m-lingang"]
    merchant = {c.credentialHash for c in ops.certificates(
        reveal=reveal_for(Principal("merchant", "lingang", entity=lingang)))}
    # its own records, but not the one whose lineage states Hangzhou's important record in full
    assert issued["core"] in merchant and issued["general"] in merchant and issued["lineage"] not in merchant


def test_the_list_reads_each_certificate_file_once(served: Served, issued: dict[str, str], reads: list[str]) -> None:
    ops: Operations = served.runtime.ops
    n = kept(served)
    assert n >= len(issued)
    for reveal in (general_only, False, True, reveal_for(None)):
        reads.clear()
        ops.certificates(reveal=reveal)
        assert len(reads) == n and len(set(reads)) == n, (reveal, reads)
    reads.clear()
    ops.certificates(limit=1, reveal=general_only)
    assert len(reads) == 1


def test_a_download_is_refused_unless_every_stated_record_is_visible(
        served: Served, issued: dict[str, str], reads: list[str]) -> None:
    ops: Operations = served.runtime.ops
    for name in ("core", "lineage"):
        reads.clear()
        with pytest.raises(Forbidden, match="important- or core-grade record in full"):
            ops.certificate(rid(issued[name]), reveal=general_only)
        assert len(reads) == 1
    doc = ops.certificate(rid(issued["general"]), reveal=general_only)
    assert doc["credentialSubject"]["record"]["id"] == served.record("port-vessel-traffic")
    assert ops.certificate(rid(issued["core"]), reveal=True) == ops.certificate(rid(issued["core"]))
    with pytest.raises(Forbidden):
        ops.certificate(rid(issued["general"]), reveal=False)
    # a certificate never issued is not found, whoever asks (before any question of who may read it)
    with pytest.raises(NotFound):
        ops.certificate(b"\x01" * 32, reveal=False)


def test_a_certificate_of_a_record_the_index_lacks_is_shown_to_no_caller_but_the_operator(
        served: Served, issued: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    ops: Operations = served.runtime.ops

    def missing(record: bytes) -> IndexedRecord:
        raise NotFound("not in this index")

    monkeypatch.setattr(ops, "indexed", missing)
    with pytest.raises(Forbidden):
        ops.certificate(rid(issued["general"]), reveal=lambda _r: True)
    assert not ops.certificates(reveal=lambda _r: True)
    assert ops.certificate(rid(issued["general"]))["credentialSubject"]["record"]["id"]


# ---------------------------------------------------------------------- certificates, over HTTP


def test_the_routes_read_each_file_once_and_refuse_as_before(
        served: Served, issued: dict[str, str], reads: list[str]) -> None:
    c = served.client
    n = kept(served)
    listed = c.get(f"{API}/certificates")
    assert listed.status_code == 200 and len(reads) == n
    assert {e["credentialHash"] for e in listed.json()} & set(issued.values()) == {issued["general"]}
    reads.clear()
    assert {e["credentialHash"] for e in c.get(f"{API}/certificates", headers=served.auth("member")).json()} >= \
        set(issued.values())
    assert len(reads) == n
    for path in ("", "/jwt"):
        reads.clear()
        anonymous = c.get(f"{API}/certificates/{issued['lineage']}{path}")
        assert anonymous.status_code == 401 and anonymous.json()["type"].endswith("unauthenticated"), anonymous.text
        assert "WWW-Authenticate" in anonymous.headers and len(reads) == 1
        merchant = c.get(f"{API}/certificates/{issued['lineage']}{path}", headers=served.auth("merchant"))
        assert merchant.status_code == 403 and merchant.json()["type"].endswith("forbidden"), merchant.text
        assert c.get(f"{API}/certificates/{issued['core']}{path}", headers=served.auth("merchant")).status_code == 200
        assert c.get(f"{API}/certificates/{issued['general']}{path}").status_code == 200
    missing = c.get(f"{API}/certificates/0x{'01' * 32}")
    assert missing.status_code == 404


# ---------------------------------------------------------------------- lineage exports


@pytest.mark.parametrize("fmt", ["prov", "openlineage"])
def test_an_export_walks_once_and_checks_that_walk(served: Served, fmt: str,
                                                   walks: list[tuple[bytes, int]]) -> None:
    ops: Operations = served.runtime.ops
    index = rid(served.record("delta-logistics-index"))  # important, from a general and an important record
    for depth in (1, 64, 256):
        walks.clear()
        with pytest.raises(Forbidden, match=r"includes 2 important- or core-grade record\(s\)"):
            ops.export(index, fmt, max_depth=depth, reveal=general_only)
        assert walks == [(index, depth)]
        walks.clear()
        assert ops.export(index, fmt, max_depth=depth, reveal=True) == ops.export(index, fmt, max_depth=depth)
        assert walks == [(index, depth), (index, depth)]
    model = rid(served.record("port-energy-model"))  # general, from general records
    walks.clear()
    assert ops.export(model, fmt, reveal=general_only) == ops.export(model, fmt)
    assert len(walks) == 2
    walks.clear()
    with pytest.raises(NotFound):
        ops.export(b"\x02" * 32, fmt, reveal=general_only)


@pytest.mark.parametrize("fmt", ["prov", "openlineage"])
def test_the_export_routes_walk_once_and_refuse_as_before(served: Served, fmt: str,
                                                          walks: list[tuple[bytes, int]]) -> None:
    c = served.client
    index = served.record("delta-logistics-index")
    anonymous = c.get(f"{API}/registrations/{index}/lineage/{fmt}", params={"max_depth": 3})
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers, anonymous.text
    assert walks == [(rid(index), 3)]
    walks.clear()
    merchant = c.get(f"{API}/registrations/{index}/lineage/{fmt}", headers=served.auth("merchant"))
    assert merchant.status_code == 403 and merchant.json()["type"].endswith("forbidden"), merchant.text
    assert len(walks) == 1
    walks.clear()
    member = c.get(f"{API}/registrations/{index}/lineage/{fmt}", headers=served.auth("member"))
    assert member.status_code == 200, member.text
    assert walks == [(rid(index), 64)]
    assert member.json() == served.runtime.ops.export(rid(index), fmt)
