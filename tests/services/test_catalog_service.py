"""The catalogue service on the embedded chain, without HTTP: the order of keeping, registering and publishing,
publication in as few transactions as possible, supplying documents, profiles, and who sees what."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import catalog
from provenance.errors import ContractReverted, Forbidden, InvalidInput, NotFound
from provenance.services.catalog import OPERATOR, PUBLIC, CatalogService, MetadataNotSupplied, Viewer
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.requests import registration_from_json
from provenance.store import keys as K
from provenance.types import Grade
from tests.support.passphrase import passphrase


@pytest.fixture
def cat(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[tuple[CatalogService, dict[str, Any]]]:
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    node = Node.open(tmp_path / "data", passphrase(tmp_path))
    try:
        ops = Operations(node)
        ops.sync()
        service = CatalogService(ops)
        service.sync()
        yield service, demo
    finally:
        node.close()


def doc(owner: int, title: str, **over: Any) -> dict[str, Any]:
    return {"title": {"en": title}, "publisher": owner, "keywords": [title.split()[0].lower()],
            "themes": ["trade-logistics"], **over}


def request(owner: int, grade: str, document: dict[str, Any]) -> tuple[Any, bytes | None]:
    return registration_from_json({"kind": "resource", "grade": grade, "owner": owner,
                                   "contentHash": "0x" + secrets.token_hex(32), "metadata": document})


def published(service: CatalogService, record: str) -> bytes | None:
    rec = service.ops.indexed(bytes.fromhex(record[2:]))
    return service.node.index.get(K.CATALOG_METADATA + rec.seq.to_bytes(5, "big"))


def test_register_keeps_then_publishes_general_only(cat: tuple[CatalogService, dict[str, Any]]) -> None:
    service, demo = cat
    owner = demo["entities"]["m-lingang"]
    req, canonical = request(owner, "general", doc(owner, "Waybill volumes"))
    out = service.register(req, canonical)
    assert out["record"]["metadata"] == "supplied" and published(service, out["id"]) == canonical
    req, secret = request(owner, "core", doc(owner, "Customs declarations"))
    out = service.register(req, secret)
    assert secret is not None and service.documents.get(req.metadata_hash) == secret
    assert published(service, out["id"]) is None
    rid = bytes.fromhex(out["id"][2:])
    assert service.metadata(rid, OPERATOR)["title"] == {"en": "Customs declarations"}
    with pytest.raises(Forbidden):
        service.metadata(rid, PUBLIC)
    assert service.decorate({}, service.ops.indexed(rid), PUBLIC)["metadata"] == "redacted"
    assert out["id"] not in [i["id"] for i in service.search(viewer=PUBLIC, q="customs")["items"]]
    assert out["id"] in [i["id"] for i in service.search(viewer=Viewer(members=True), q="customs")["items"]]


def test_document_is_kept_before_the_transaction(cat: tuple[CatalogService, dict[str, Any]]) -> None:
    service, demo = cat
    hefei = demo["entities"]["m-hefei"]  # onboarded by AHDE: SDE holds no mandate for it
    req, canonical = request(hefei, "general", doc(hefei, "Factory telemetry"))
    with pytest.raises(ContractReverted):
        service.register(req, canonical)
    # Content-addressed and never shown for a record that does not exist: a retry finds it kept.
    assert service.documents.get(req.metadata_hash) == canonical


def test_publication_in_one_transaction(cat: tuple[CatalogService, dict[str, Any]]) -> None:
    service, demo = cat
    owner = demo["entities"]["m-lingang"]
    items = []
    for i in range(6):
        d = doc(owner, f"Hash-only {i}")
        req, canonical = registration_from_json({"kind": "resource", "owner": owner, "contentHash":
                                                 "0x" + secrets.token_hex(32),
                                                 "metadataHash": "0x" + catalog.document_hash(d).hex()})
        assert canonical is None
        rid = bytes.fromhex(service.ops.register(req)["id"][2:])
        items.append((rid, Grade.GENERAL, catalog.canonical_document(d)))
    items.append((items[0][0], Grade.IMPORTANT, items[0][2]))  # never published, whatever it is
    head = service.node.chain.block_number()
    assert service.publish(items) == 6
    assert service.node.chain.block_number() == head + 1
    for rid, _, canonical in items[:6]:
        assert published(service, "0x" + rid.hex()) == canonical


def test_supply(cat: tuple[CatalogService, dict[str, Any]]) -> None:
    service, demo = cat
    owner = demo["entities"]["m-lingang"]
    d = doc(owner, "Supplied later")
    req, _ = registration_from_json({"kind": "product", "owner": owner, "contentHash": "0x" + secrets.token_hex(32),
                                     "metadataHash": "0x" + catalog.document_hash(d).hex()})
    rid = bytes.fromhex(service.ops.register(req)["id"][2:])
    with pytest.raises(MetadataNotSupplied):
        service.metadata(rid, PUBLIC)
    with pytest.raises(InvalidInput, match="metadataHash"):
        service.supply(rid, {**d, "keywords": ["other"]})
    with pytest.raises(InvalidInput, match=r"\$\.publisher"):
        service.supply(rid, {**d, "publisher": owner + 1})
    out = service.supply(rid, d)
    assert out["published"] is True and service.metadata(rid, PUBLIC) == d
    # A record without a metadataHash takes no document.
    req, _ = registration_from_json({"kind": "product", "owner": owner, "contentHash": "0x" + secrets.token_hex(32)})
    bare = bytes.fromhex(service.ops.register(req)["id"][2:])
    with pytest.raises(InvalidInput, match="metadataHash"):
        service.supply(bare, d)
    with pytest.raises(NotFound):
        service.supply(b"\x01" * 32, d)


def test_profiles_only_by_the_onboarding_exchange(cat: tuple[CatalogService, dict[str, Any]]) -> None:
    service, demo = cat
    hangzhou = demo["entities"]["m-hangzhou"]  # onboarded by ZJDE
    code = "91330106MA2GHA7LW"
    profile = {"name": {"zh": "杭州数链物流科技有限公司"}, "kind": "enterprise",
               "creditCode": code + catalog.credit_code_check_char(code)}
    with pytest.raises(Forbidden):
        service.set_profile(hangzhou, profile)
    with pytest.raises(NotFound):
        service.profile(99_999, PUBLIC)
    with pytest.raises(InvalidInput, match="creditCode"):
        service.check_profile(profile, "91310000MA1TEST01X")
    service.check_profile({"name": {"zh": "王五"}, "kind": "individual"}, "any identifier")
    with pytest.raises(InvalidInput):
        service.check_profile({"name": {"zh": "王五"}, "kind": "individual", "creditCode": profile["creditCode"]},
                              "x")
