"""The catalogue over HTTP: registering with a document, finding it by Chinese and English words, supplying a
document for a hash-only record, refusals that write nothing, who sees what, profiles, cursors, facets, and the
DCAT 3 export read back by rdflib (an independent JSON-LD/RDF library)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest
from eth_account import Account
from pydantic import TypeAdapter

from provenance.api.auth import sign_request
from provenance.api.schemas import RegisteredOut
from provenance.api.schemas.catalog import (
    BoardOut,
    CatalogSearchOut,
    FiguresOut,
    ProfileOut,
    SuppliedOut,
)
from provenance.core import catalog, eip712
from provenance.store import keys as K
from provenance.store.keystore import Keystore
from tests.support.passphrase import passphrase
from tests.support.served import Served

API = "/api/v1"


def content() -> str:
    return "0x" + secrets.token_hex(32)


def document(owner: int, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "title": {"zh": "长三角港口集装箱吞吐量指数", "en": "Yangtze Delta container throughput index"},
        "description": {"zh": "上海港、宁波舟山港的月度集装箱吞吐量，按航线汇总。",
                        "en": "Monthly container throughput of Shanghai and Ningbo-Zhoushan ports, by route."},
        "publisher": owner,
        "keywords": ["集装箱", "港口", "container", "port"],
        "themes": ["shipping", "yangtze-delta"],
        "spatial": "上海市",
        "temporal": {"start": "2024-01-01", "end": "2025-12-31"},
        "accrualPeriodicity": "monthly",
        "distributions": [{"title": {"en": "Monthly CSV"}, "format": "CSV", "mediaType": "text/csv",
                           "byteSize": 1048576, "delivery": "file"}],
        "policy": {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer",
                   "uid": "urn:provenance:policy:" + secrets.token_hex(8), "permission": [{"action": "use"}]},
        "contactPoint": {"name": "数据产品部", "email": "data@example.cn"},
    }
    doc.update(over)
    return doc


def owner(served: Served) -> int:
    return int(served.demo["entities"]["m-lingang"])


def register(served: Served, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = served.client.post(f"{API}/registrations", json=body, headers=served.auth("registrar"))
    assert r.status_code == status, r.text
    return dict(r.json())


def search(served: Served, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    r = served.client.get(f"{API}/catalog/search", params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    TypeAdapter(CatalogSearchOut).validate_python(r.json())
    return dict(r.json())


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def kept(served: Served) -> int:
    """Documents in the node's document store."""
    db = served.runtime.node.documents._db
    with db.iterator(prefix=b"d", include_value=False) as it:
        return sum(1 for _ in it)


def rejected(served: Served) -> float:
    """The /metrics count of published documents the index refused."""
    for line in served.client.get("/metrics").text.splitlines():
        if line.startswith("provenance_catalog_documents_rejected_total "):
            return float(line.split()[1])
    raise AssertionError("no provenance_catalog_documents_rejected_total in /metrics")


@pytest.fixture(scope="module")
def listed(served: Served) -> dict[str, Any]:
    """One general-grade product registered with its document inline."""
    doc = document(owner(served), title={"zh": "长三角港口集装箱吞吐量指数", "en": "Yangtze Delta container "
                                         "throughput index"})
    out = register(served, {"kind": "product", "owner": owner(served), "contentHash": content(),
                            "rights": ["holding"], "metadata": doc})
    TypeAdapter(RegisteredOut).validate_python(out)
    return {"id": out["id"], "doc": doc, "out": out}


def test_register_with_inline_document_then_find_it_by_words(served: Served, listed: dict[str, Any]) -> None:
    out = listed["out"]
    assert out["record"]["metadata"] == "supplied"
    assert out["record"]["title"]["zh"] == "长三角港口集装箱吞吐量指数"
    assert out["record"]["metadata_hash"] == "0x" + catalog.document_hash(listed["doc"]).hex()
    for q in ("港口", "集装箱吞吐量", "container", "throughput"):
        assert listed["id"] in ids(search(served, q=q)), q
    assert listed["id"] not in ids(search(served, q="潜水艇"))
    # The record document names it too, for anyone (general grade).
    rec = served.client.get(f"{API}/registrations/{listed['id']}").json()
    assert rec["title"]["en"] == "Yangtze Delta container throughput index" and rec["metadata"] == "supplied"
    assert rec["publisher"]["id"] == owner(served)
    got = served.client.get(f"{API}/registrations/{listed['id']}/metadata")
    assert got.status_code == 200 and got.json() == listed["doc"]
    # Published on chain and accepted by the index, as every node's index would.
    assert served.runtime.node.index.get(K.CATALOG_METADATA + rec["seq"].to_bytes(5, "big")) == \
        catalog.canonical_document(listed["doc"])


def test_record_lists_and_lineage_graphs_carry_the_names(served: Served, listed: dict[str, Any]) -> None:
    """A search page of records and the nodes of a lineage graph speak names, not only hashes; above general grade
    a reader without a member credential learns only that a title exists."""
    page = served.client.get(f"{API}/registrations", params={"owner": owner(served), "limit": 1000}).json()
    row = next(r for r in page["results"] if r["id"] == listed["id"])
    assert row["title"]["zh"] == "长三角港口集装箱吞吐量指数" and row["metadata"] == "supplied"
    assert row["publisher"]["id"] == owner(served)
    child_doc = document(owner(served), title={"zh": "港口能耗模型", "en": "Port energy model"})
    child = register(served, {"kind": "product", "owner": owner(served), "contentHash": content(),
                              "parents": [listed["id"]], "metadata": child_doc})
    graph = served.client.get(f"{API}/registrations/{child['id']}/ancestors").json()
    titles = {n["id"]: (n["title"] or {}).get("en") for n in graph["nodes"]}
    assert titles[listed["id"]] == "Yangtze Delta container throughput index"
    down = served.client.get(f"{API}/registrations/{listed['id']}/descendants").json()
    assert {n["id"]: n["title"]["zh"] for n in down["nodes"]}[child["id"]] == "港口能耗模型"
    secret = register(served, {"kind": "resource", "grade": "important", "owner": owner(served),
                               "contentHash": content(), "metadata": document(owner(served))})
    public = served.client.get(f"{API}/registrations", params={"owner": owner(served), "limit": 1000}).json()
    hidden = next(r for r in public["results"] if r["id"] == secret["id"])
    assert hidden["redacted"] is True and hidden["title"] is None and hidden["metadata"] == "redacted"


def test_hash_only_then_supply(served: Served) -> None:
    doc = document(owner(served), title={"zh": "洋山港冷链仓储周报", "en": "Yangshan cold-chain warehousing weekly"},
                   keywords=["冷链", "warehousing"])
    digest = "0x" + catalog.document_hash(doc).hex()
    out = register(served, {"kind": "resource", "owner": owner(served), "contentHash": content(),
                            "metadataHash": digest})
    rid = out["id"]
    assert out["record"]["metadata"] == "not-supplied" and out["record"]["title"] is None
    r = served.client.get(f"{API}/registrations/{rid}/metadata")
    assert r.status_code == 404 and r.json()["type"].endswith("metadata-not-supplied")
    assert rid not in ids(search(served, q="冷链仓储"))

    wrong = {**doc, "keywords": ["冷链", "other"]}
    r = served.client.put(f"{API}/registrations/{rid}/metadata", json=wrong, headers=served.auth("registrar"))
    assert r.status_code == 422 and "metadataHash" in r.json()["detail"], r.text
    r = served.client.put(f"{API}/registrations/{rid}/metadata", json=doc)
    assert r.status_code == 401
    r = served.client.put(f"{API}/registrations/{rid}/metadata", json=doc, headers=served.auth("registrar"))
    assert r.status_code == 200, r.text
    TypeAdapter(SuppliedOut).validate_python(r.json())
    assert r.json()["published"] is True
    assert served.client.get(f"{API}/registrations/{rid}/metadata").json() == doc
    assert rid in ids(search(served, q="冷链仓储"))
    assert rid in ids(search(served, q="warehousing"))


@pytest.mark.parametrize(("bad", "field"), [
    ({"title": {}}, "$.title"),
    ({"themes": ["shipping", "not a board"]}, "$.themes"),
    ({"data": "the data itself"}, "$.data"),
    ({"distributions": [{"format": "CSV", "delivery": "pigeon"}]}, "$.distributions[0].delivery"),
    ({"policy": {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer", "uid": "urn:x:y",
                 "permission": [{"action": "sell"}]}}, "$.policy.permission[0].action"),
])
def test_schema_errors_name_the_field_and_write_nothing(served: Served, bad: dict[str, Any], field: str) -> None:
    before, records = kept(served), served.runtime.ops.queries.counts()["records"]
    cid = content()
    r = served.client.post(f"{API}/registrations", headers=served.auth("registrar"),
                           json={"kind": "product", "owner": owner(served), "contentHash": cid,
                                 "metadata": document(owner(served), **bad)})
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"], r.json()["detail"]
    assert kept(served) == before and served.runtime.ops.queries.counts()["records"] == records
    assert served.client.get(f"{API}/registrations?content_hash={cid}").json()["results"] == []


def test_publisher_must_be_the_owner_and_a_given_hash_must_match(served: Served) -> None:
    before = kept(served)
    r = served.client.post(f"{API}/registrations", headers=served.auth("registrar"),
                           json={"kind": "product", "owner": owner(served), "contentHash": content(),
                                 "metadata": document(owner(served) + 1)})
    assert r.status_code == 422 and "$.publisher" in r.json()["detail"]
    r = served.client.post(f"{API}/registrations", headers=served.auth("registrar"),
                           json={"kind": "product", "owner": owner(served), "contentHash": content(),
                                 "metadataHash": "0x" + "22" * 32, "metadata": document(owner(served))})
    assert r.status_code == 422 and "metadataHash" in r.json()["detail"]
    assert kept(served) == before


def test_oversize_document_is_413_and_writes_nothing(served: Served) -> None:
    before, records = kept(served), served.runtime.ops.queries.counts()["records"]
    big = document(owner(served), description={"zh": "港" * 4000, "en": "p" * 4000},
                   keywords=[f"关键词{i}" + "字" * 50 for i in range(32)])
    assert len(catalog.canonical_document(big)) > catalog.MAX_DOCUMENT_BYTES
    r = served.client.post(f"{API}/registrations", headers=served.auth("registrar"),
                           json={"kind": "product", "owner": owner(served), "contentHash": content(), "metadata": big})
    assert r.status_code == 413, r.text
    assert kept(served) == before and served.runtime.ops.queries.counts()["records"] == records
    rid = register(served, {"kind": "product", "owner": owner(served), "contentHash": content(),
                            "metadataHash": "0x" + catalog.document_hash(big).hex()})["id"]
    r = served.client.put(f"{API}/registrations/{rid}/metadata", json=big, headers=served.auth("registrar"))
    assert r.status_code == 413 and kept(served) == before


def test_important_grade_is_for_members_only(served: Served) -> None:
    doc = document(owner(served), title={"zh": "临港重点企业电力负荷曲线", "en": "Lingang key-enterprise power load"},
                   keywords=["电力负荷", "load"], themes=["energy"])
    rid = register(served, {"kind": "resource", "grade": "important", "owner": owner(served),
                            "contentHash": content(), "metadata": doc})["id"]
    assert rid not in ids(search(served, q="电力负荷"))
    assert rid in ids(search(served, served.auth("member"), q="电力负荷"))
    assert rid in ids(search(served, served.auth("member"), q="load", grade="important"))
    assert served.client.get(f"{API}/registrations/{rid}/metadata").status_code == 401
    assert served.client.get(f"{API}/registrations/{rid}/metadata", headers=served.auth("member")).json() == doc
    rec = served.client.get(f"{API}/registrations/{rid}").json()
    assert rec["redacted"] is True and rec["metadata"] == "redacted" and rec["title"] is None
    assert served.client.get(f"{API}/registrations/{rid}/dcat").status_code == 401
    # Kept here, never published on chain: the index accepted no MetadataPublished for it.
    seq = served.client.get(f"{API}/registrations/{rid}", headers=served.auth("member")).json()["seq"]
    assert served.runtime.node.index.get(K.CATALOG_METADATA + seq.to_bytes(5, "big")) is None
    assert served.runtime.node.documents.get(catalog.document_hash(doc)) == catalog.canonical_document(doc)
    assert served.client.get(f"{API}/catalog/figures").json()["listings"]["byGrade"]["important"] >= 1  # counts only


def _onboard(served: Served, identifier: str, profile: dict[str, Any] | None) -> tuple[int, Any]:
    account = Account.create()
    query = f"identifier={identifier}&account={account.address}"
    consent = served.client.get(f"{API}/entities/consent?{query}").json()
    signature = "0x" + eip712.sign_digest(bytes.fromhex(consent["digest"][2:]), bytes(account.key)).hex()
    body = {"identifier": identifier, "account": account.address, "consent": signature,
            "deadline": consent["deadline"]}
    if profile is not None:
        body["profile"] = profile
    r = served.client.post(f"{API}/entities", json=body, headers=served.auth("admin"))
    return r.status_code, r.json()


def test_profiles_organisation_public_individual_local(served: Served) -> None:
    code = "91310115MA1K4PF0A" + catalog.credit_code_check_char("91310115MA1K4PF0A")
    org = {"name": {"zh": "上海浦江数据服务有限公司", "en": "Pujiang Data Services Co., Ltd."}, "kind": "enterprise",
           "creditCode": code, "region": "310115"}
    status, ent = _onboard(served, code, org)
    assert status == 201, ent
    r = served.client.get(f"{API}/entities/{ent['id']}/profile")
    assert r.status_code == 200
    TypeAdapter(ProfileOut).validate_python(r.json())
    assert r.json()["profile"] == org

    person = {"name": {"zh": "张三"}, "kind": "individual", "region": "310104"}
    status, ind = _onboard(served, "310104199001011234", person)
    assert status == 201, ind
    anon = served.client.get(f"{API}/entities/{ind['id']}/profile").json()
    assert anon["profile"] is None and anon["redacted"] is True and anon["role"] == "supplier"
    assert "张三" not in json.dumps(anon, ensure_ascii=False)
    own = served.client.get(f"{API}/entities/{ind['id']}/profile", headers=served.auth("admin")).json()
    assert own["profile"] == person
    # A member token this node issued sees it; a partner exchange signing with its own key does not.
    member = served.client.get(f"{API}/entities/{ind['id']}/profile", headers=served.auth("member")).json()
    assert member["profile"] == person
    path = f"{API}/entities/{ind['id']}/profile"
    zjde = Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent)).load("ZJDE")
    signed = sign_request(bytes(zjde.key), served.runtime.chain_id, served.runtime.registry, "GET", path, b"")
    partner = served.client.get(path, headers=signed)
    assert partner.status_code == 200 and partner.json()["profile"] is None and partner.json()["redacted"] is True
    assert "张三" not in json.dumps(search(served, q="张三"), ensure_ascii=False)

    # A profile whose credit code is not the identifier onboarded is refused, and no entity is onboarded.
    other = "91310115MA1K4PF0B" + catalog.credit_code_check_char("91310115MA1K4PF0B")
    entities = served.runtime.ops.info()["counts"]["entities"]
    status, err = _onboard(served, other, org)
    assert status == 422 and "creditCode" in err["detail"]
    assert served.runtime.ops.info()["counts"]["entities"] == entities
    # Only the admin sets a profile.
    r = served.client.put(f"{API}/entities/{ent['id']}/profile", json=org, headers=served.auth("registrar"))
    assert r.status_code == 403


def test_search_cursors_and_facets(served: Served) -> None:
    word = "cursorword" + secrets.token_hex(3)
    made = []
    for i, kind in enumerate(["resource", "product", "product", "asset", "product"]):
        doc = document(owner(served), title={"zh": f"游标测试数据集{i}", "en": f"Cursor test {i} {word}"},
                       keywords=[word], themes=["finance" if i % 2 else "credit"])
        made.append(register(served, {"kind": kind, "owner": owner(served), "contentHash": content(),
                                      "metadata": doc})["id"])
    for order in ("relevance", "recent"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"q": word, "limit": 2, "order": order}
            if cursor:
                params["cursor"] = cursor
            page = search(served, **params)
            assert page["total"] == 5 and len(page["items"]) <= 2
            seen += ids(page)
            pages += 1
            cursor = page["next"]
            if not cursor:
                break
        assert pages == 3 and sorted(seen) == sorted(made), order
    page = search(served, q=word)
    assert page["facets"]["kind"] == {"resource": 1, "product": 3, "asset": 1}
    assert page["facets"]["board"]["finance"] == 2 and page["facets"]["board"]["credit"] == 3
    assert page["facets"]["grade"] == {"general": 5}
    assert page["facets"]["registrar"] == {"SDE": 5}
    assert set(ids(search(served, q=word, kind="product"))) == {made[1], made[2], made[4]}
    assert set(ids(search(served, q=word, board="finance"))) == {made[1], made[3]}
    assert ids(search(served, q=word, order="recent", limit=1))[0] == made[-1]
    records = served.client.get(f"{API}/entities/{owner(served)}/records", params={"limit": 100}).json()
    TypeAdapter(CatalogSearchOut).validate_python(records)
    assert set(made) <= set(ids(records))


def test_bad_queries_are_422_not_500(served: Served) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"q": "x" * 201}, {"kind": "dataset"}, {"board": "moon"},
                   {"order": "random"}, {"cursor": "not a cursor!"}, {"grade": "secret"}):
        r = served.client.get(f"{API}/catalog/search", params=params)
        assert r.status_code == 422, (params, r.text)
    r = served.client.get(f"{API}/catalog/search", params={"cursor": "AAAA"})
    assert r.status_code in (200, 422), r.text


def test_boards_figures_schemas_metrics(served: Served, listed: dict[str, Any]) -> None:
    boards = served.client.get(f"{API}/catalog/boards").json()
    TypeAdapter(list[BoardOut]).validate_python(boards)
    by_code = {b["code"]: b for b in boards}
    assert by_code["shipping"]["zh"] == "航运" and by_code["shipping"]["count"] >= 1
    assert len(boards) == len(catalog.BOARDS)
    figures = served.client.get(f"{API}/catalog/figures").json()
    TypeAdapter(FiguresOut).validate_python(figures)
    assert figures["listings"]["byBoard"]["shipping"] >= 1 and figures["listings"]["byExchange"]["SDE"] >= 1
    for name in ("metadata-v1", "entity-profile-v1"):
        schema = served.client.get(f"{API}/schemas/{name}").json()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert served.client.get(f"{API}/schemas/other").status_code == 422
    assert rejected(served) == 0.0


def test_batch_with_inline_documents(served: Served) -> None:
    word = "batchword" + secrets.token_hex(3)
    good = [{"kind": "resource", "owner": owner(served), "contentHash": content(),
             "metadata": document(owner(served), title={"en": f"Batch {i} {word}"}, keywords=[word])}
            for i in range(3)]
    before = kept(served)
    bad = [*good[:1], {**good[1], "metadata": document(owner(served), title={"en": ""})}, good[2]]
    r = served.client.post(f"{API}/registrations/batch", json={"records": bad}, headers=served.auth("registrar"))
    assert r.status_code == 422 and "records[1]" in r.json()["detail"] and "$.title" in r.json()["detail"]
    assert kept(served) == before
    r = served.client.post(f"{API}/registrations/batch", json={"records": good}, headers=served.auth("registrar"))
    assert r.status_code == 201, r.text
    assert r.json()["published"] == 3
    assert set(ids(search(served, q=word))) == set(r.json()["ids"])


def test_dcat_export_read_by_rdflib(served: Served, listed: dict[str, Any]) -> None:
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS

    from provenance.contexts import CATALOG_V1, context

    r = served.client.get(f"{API}/catalog")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["@context"] == CATALOG_V1
    g = Graph()
    # The shipped context, inlined: the export needs no network to read.
    g.parse(data=json.dumps({**doc, "@context": context(CATALOG_V1)["@context"]}), format="json-ld")
    base = served.runtime.ops.certifier.public_url  # the node's public URL, not the test client's Host
    ds = URIRef(f"{base}/api/v1/registrations/{listed['id']}")
    assert (ds, RDF.type, DCAT.Dataset) in g
    titles = set(g.objects(ds, DCTERMS.title))
    assert Literal("长三角港口集装箱吞吐量指数", lang="zh") in titles
    assert Literal("Yangtze Delta container throughput index", lang="en") in titles
    publisher = g.value(ds, DCTERMS.publisher)
    assert publisher == URIRef(f"{base}/api/v1/entities/{owner(served)}")
    names = {str(n) for n in g.objects(publisher, FOAF.name)}
    profile = served.client.get(f"{API}/entities/{owner(served)}/profile").json()["profile"]
    if profile is not None:
        assert profile["name"]["zh"] in names
    themes = set(g.objects(ds, DCAT.theme))
    assert URIRef(catalog.BOARD_IRI + "shipping") in themes
    dist = g.value(ds, DCAT.distribution)
    assert g.value(dist, DCAT.byteSize) is not None and str(g.value(dist, DCTERMS.format)) == \
        "https://www.iana.org/assignments/media-types/text/csv"  # dct:format names the IANA media type of "CSV"
    assert str(g.value(g.value(dist, DCTERMS.format), RDFS.label)) == "CSV"
    # Every general-grade listing with a document is in the export; nothing of a higher grade.
    pcat = Namespace("https://w3id.org/provenance/catalog#")
    assert {str(o) for o in g.objects(None, pcat.grade)} <= {"general"}
    one = served.client.get(f"{API}/registrations/{listed['id']}/dcat")
    assert one.status_code == 200
    g1 = Graph().parse(data=json.dumps({**one.json(), "@context": context(CATALOG_V1)["@context"]}),
                       format="json-ld")
    assert set(g1.objects(ds, DCTERMS.title)) == titles


def test_every_catalog_route_answers_as_documented(served: Served, listed: dict[str, Any]) -> None:
    """Each catalogue operation once, its status and body held to the model its OpenAPI entry documents (the
    documents of their own formats: a JSON object)."""
    from fastapi.routing import APIRoute

    documented: dict[tuple[str, str], tuple[int, Any]] = {}
    for route in served.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            ok = [(c, spec.get("model")) for c, spec in route.responses.items() if isinstance(c, int) and c < 300]
            for method in route.methods:
                if ok:
                    documented[(method, route.path)] = ok[0]
    d = document(owner(served), title={"en": "Documented route check"})
    rid = register(served, {"kind": "resource", "owner": owner(served), "contentHash": content(),
                            "metadataHash": "0x" + catalog.document_hash(d).hex()})["id"]
    profile = served.client.get(f"{API}/entities/{owner(served)}/profile", headers=served.auth("admin")).json()
    admin = served.auth("admin")
    calls: list[tuple[str, str, str, Any, dict[str, str]]] = [
        ("GET", f"{API}/catalog", f"{API}/catalog", None, {}),
        ("GET", f"{API}/catalog/search", f"{API}/catalog/search?q=港口&board=shipping", None, {}),
        ("GET", f"{API}/catalog/boards", f"{API}/catalog/boards", None, {}),
        ("GET", f"{API}/catalog/figures", f"{API}/catalog/figures", None, {}),
        ("PUT", f"{API}/registrations/{{record}}/metadata", f"{API}/registrations/{rid}/metadata", d, admin),
        ("GET", f"{API}/registrations/{{record}}/metadata", f"{API}/registrations/{rid}/metadata", None, {}),
        ("GET", f"{API}/registrations/{{record}}/dcat", f"{API}/registrations/{listed['id']}/dcat", None, {}),
        ("GET", f"{API}/entities/{{entity}}/profile", f"{API}/entities/{owner(served)}/profile", None, {}),
        ("GET", f"{API}/entities/{{entity}}/records", f"{API}/entities/{owner(served)}/records", None, {}),
        ("GET", f"{API}/schemas/{{name}}", f"{API}/schemas/metadata-v1", None, {}),
    ]
    if profile["profile"] is not None:
        calls.append(("PUT", f"{API}/entities/{{entity}}/profile", f"{API}/entities/{owner(served)}/profile",
                      profile["profile"], admin))
    for method, template, url, body, headers in calls:
        r = served.client.request(method, url, json=body, headers=headers)
        status, model = documented[(method, template)]
        assert r.status_code == status, (method, url, r.text[:300])
        if model is not None:
            TypeAdapter(model).validate_python(r.json())
        else:
            assert isinstance(r.json(), dict)


def test_a_document_not_in_canonical_form_is_never_shown_and_is_counted(served: Served) -> None:
    """Bytes that hash to the record's metadataHash but are not the canonical text of a document pass the
    contract (it checks the hash only) and are refused by the index: never shown, counted in /metrics."""
    from provenance.chain import catalog as chain_catalog
    from provenance.core.keccak import keccak256

    before = rejected(served)
    d = document(owner(served), title={"en": "Spaced out tampered text"}, keywords=["spacedout"])
    raw = json.dumps(d, indent=2, ensure_ascii=False).encode()  # the same document, another text
    rid = register(served, {"kind": "resource", "owner": owner(served), "contentHash": content(),
                            "metadataHash": "0x" + keccak256(raw).hex()})["id"]
    ops = served.runtime.ops
    with ops.lock:
        chain_catalog.publish_metadata(ops.node.contracts, ops.signer(), [bytes.fromhex(rid[2:])], [raw])
    served.runtime.ops.sync()
    served.runtime.catalog.sync()
    assert rejected(served) == before + 1
    assert served.client.get(f"{API}/registrations/{rid}/metadata").status_code == 404
    assert rid not in ids(search(served, q="spacedout"))
    assert served.client.get(f"{API}/registrations/{rid}").json()["metadata"] == "not-supplied"


def test_a_status_change_made_here_reaches_the_catalogue(served: Served) -> None:
    """A write through this node syncs the lineage index itself, so its follower sees no new block: the search
    projection used to keep the old status until another node's block came (an independent check found it)."""
    doc = document(owner(served), title={"zh": "港口能耗监测数据", "en": "Port energy monitoring data"})
    rid = register(served, {"kind": "resource", "owner": owner(served), "contentHash": content(),
                            "rights": ["holding"], "metadata": doc})["id"]
    r = served.client.post(f"{API}/registrations/{rid}/status", json={"status": "suspended"},
                           headers=served.auth("registrar"))
    assert r.status_code == 200, r.text
    assert served.client.get(f"{API}/registrations/{rid}").json()["status"] == "suspended"
    deadline = time.monotonic() + 10
    while True:
        found = [i for i in search(served, q="港口能耗监测")["items"] if i["id"] == rid]
        if found and found[0]["status"] == "suspended":
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
