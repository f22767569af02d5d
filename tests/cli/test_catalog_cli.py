"""``provenance catalog``, ``register --metadata``, ``entity add --profile`` and batch lines with documents inline:
what an operator types and reads back, refusals that write nothing, and the exit codes of errors.OUTCOMES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.core import catalog
from provenance.errors import OUTCOMES, ErrorKind
from tests.support.cli import run

CODE = "91310115MA1K4CL1A" + catalog.credit_code_check_char("91310115MA1K4CL1A")
PROFILE = {"name": {"zh": "上海临港数据科技有限公司", "en": "Lingang Data Technology Co., Ltd."},
           "kind": "enterprise", "creditCode": CODE, "region": "310115"}


def doc(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"title": {"zh": "长三角港口集装箱吞吐量指数",
                                   "en": "Yangtze Delta container throughput index"},
                         "publisher": 1, "keywords": ["集装箱", "港口", "container"], "themes": ["shipping"],
                         "distributions": [{"format": "CSV", "delivery": "file", "byteSize": 2048}]}
    d.update(over)
    return d


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture
def node(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A one-exchange node with entity 1 (an enterprise with a published profile) under a mandate."""
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")[0] == 0
    assert run(capsys, "key", "new", "merchant")[0] == 0
    code, ent, err = run(capsys, "entity", "add", "--identifier", CODE, "--account-key", "merchant",
                         "--profile", str(write(env.parent / "profile.json", PROFILE)))
    assert code == 0, err
    assert ent["id"] == 1 and ent["profile"]["published"] is True  # type: ignore[index]
    assert run(capsys, "entity", "mandate", "1", "--exchange", "SDE", "--key", "merchant")[0] == 0
    return env


def test_register_with_metadata_then_search_show_export(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = write(node.parent / "meta.json", doc())
    code, reg, err = run(capsys, "register", "--kind", "product", "--owner", "1", "--content-hash", "0x" + "ab" * 32,
                         "--metadata", str(meta))
    assert code == 0, err
    rid = reg["id"]  # type: ignore[index]
    assert reg["record"]["metadata"] == "supplied"  # type: ignore[index]
    assert reg["record"]["metadata_hash"] == "0x" + catalog.document_hash(doc()).hex()  # type: ignore[index]
    for q in ("港口", "集装箱吞吐量", "container"):
        code, found, _ = run(capsys, "catalog", "search", q)
        assert code == 0 and rid in [i["id"] for i in found["items"]], q  # type: ignore[index]
    code, found, _ = run(capsys, "catalog", "search", "--board", "shipping", "--kind", "product")
    assert code == 0 and [i["id"] for i in found["items"]] == [rid]  # type: ignore[index]

    # The human page speaks names: title, publisher, board, exchange.
    assert main(["catalog", "search", "港口"]) == 0
    out = capsys.readouterr().out
    assert "长三角港口集装箱吞吐量指数" in out and "上海临港数据科技有限公司" in out and "航运" in out and "SDE" in out

    code, shown, _ = run(capsys, "catalog", "show", rid)
    assert code == 0 and shown["document"] == doc() and shown["title"]["en"].startswith("Yangtze")  # type: ignore[index]
    code, boards, _ = run(capsys, "catalog", "boards")
    assert code == 0 and {b["code"]: b["count"] for b in boards}["shipping"] == 1  # type: ignore[union-attr]

    out_file = node.parent / "catalog.jsonld"
    code, written, _ = run(capsys, "catalog", "export", "--out", str(out_file), "--base-url", "https://sde.example")
    assert code == 0 and written["datasets"] == 1  # type: ignore[index]
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import DCTERMS, FOAF

    from provenance.contexts import CATALOG_V1, context

    exported = json.loads(out_file.read_text("utf-8"))
    g = Graph().parse(data=json.dumps({**exported, "@context": context(CATALOG_V1)["@context"]}), format="json-ld")
    ds = URIRef(f"https://sde.example/api/v1/registrations/{rid}")
    assert Literal("长三角港口集装箱吞吐量指数", lang="zh") in set(g.objects(ds, DCTERMS.title))
    assert Literal("上海临港数据科技有限公司", lang="zh") in set(g.objects(g.value(ds, DCTERMS.publisher), FOAF.name))


def test_hash_only_then_supply(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = doc(title={"en": "Port berth occupancy"}, keywords=["berth"])
    code, reg, _ = run(capsys, "register", "--kind", "resource", "--owner", "1", "--content-hash", "0x" + "cd" * 32,
                       "--metadata-hash", "0x" + catalog.document_hash(d).hex())
    assert code == 0 and reg["record"]["metadata"] == "not-supplied"  # type: ignore[index]
    rid = reg["id"]  # type: ignore[index]
    code, _, err = run(capsys, "catalog", "supply", rid, str(write(node.parent / "wrong.json", doc())))
    assert code == OUTCOMES[ErrorKind.INVALID_INPUT].exit_code and "metadataHash" in err
    code, done, err = run(capsys, "catalog", "supply", rid, str(write(node.parent / "right.json", d)))
    assert code == 0 and done["published"] is True, err  # type: ignore[index]
    code, found, _ = run(capsys, "catalog", "search", "berth")
    assert code == 0 and [i["id"] for i in found["items"]] == [rid]  # type: ignore[index]
    code, records, _ = run(capsys, "catalog", "records", "1")
    assert code == 0 and rid in [i["id"] for i in records["items"]]  # type: ignore[index]

    # An important-grade listing: the operator sees it, an anonymous visitor's view does not.
    secret = node.parent / "secret.json"
    code, reg, err = run(capsys, "register", "--kind", "resource", "--grade", "important", "--owner", "1",
                         "--content-hash", "0x" + "ce" * 32, "--metadata",
                         str(write(secret, doc(title={"zh": "重点数据目录"}, keywords=["重点"]))))
    assert code == 0, err
    code, shown, _ = run(capsys, "catalog", "show", reg["id"])  # type: ignore[index]
    assert code == 0 and shown["title"] == {"zh": "重点数据目录", "en": None}  # type: ignore[index]
    code, _, err = run(capsys, "catalog", "show", reg["id"], "--public")  # type: ignore[index]
    assert code == OUTCOMES[ErrorKind.FORBIDDEN].exit_code and "member credential" in err
    code, found, _ = run(capsys, "catalog", "search", "重点", "--public")
    assert code == 0 and found["items"] == []  # type: ignore[index]


def test_refusals_name_the_field_and_write_nothing(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "register", "--kind", "product", "--owner", "1", "--content-hash", "0x" + "ef" * 32,
                       "--metadata", str(write(node.parent / "bad.json", doc(themes=["moon"]))))
    assert code == 2 and "$.themes" in err
    big = doc(description={"zh": "港" * 4000, "en": "p" * 4000}, keywords=[f"词{i}" + "字" * 60 for i in range(32)])
    code, _, err = run(capsys, "register", "--kind", "product", "--owner", "1", "--content-hash", "0x" + "ef" * 32,
                       "--metadata", str(write(node.parent / "big.json", big)))
    assert code == 2 and "16384" in err
    code, info, _ = run(capsys, "info")
    assert info["counts"]["registrations"] == 0  # type: ignore[index]

    lines = [{"kind": "resource", "owner": 1, "contentHash": "0x" + f"{i:064x}", "metadata": doc(title={"en": f"L{i}"})}
             for i in range(1, 4)]
    lines[1]["metadata"] = doc(publisher=2)
    batch = node.parent / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    code, _, err = run(capsys, "batch", "import", str(batch))
    assert code == 2 and f"{batch}:2" in err and "$.publisher" in err
    code, info, _ = run(capsys, "info")
    assert info["counts"]["registrations"] == 0  # type: ignore[index]

    lines[1]["metadata"] = doc(title={"en": "L2 batched listing"}, keywords=["batched"])
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    code, out, err = run(capsys, "batch", "import", str(batch))
    assert code == 0 and out["published"] == 3, err  # type: ignore[index]
    code, found, _ = run(capsys, "catalog", "search", "batched")
    assert code == 0 and [i["id"] for i in found["items"]] == [out["ids"][1]]  # type: ignore[index]


def test_profiles(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, shown, _ = run(capsys, "catalog", "profile", "show", "1", "--public")
    assert code == 0 and shown["profile"] == PROFILE  # type: ignore[index]
    assert run(capsys, "key", "new", "person")[0] == 0
    code, ent, err = run(capsys, "entity", "add", "--identifier", "310104199001011234", "--account-key", "person",
                         "--profile", str(write(node.parent / "person.json",
                                                {"name": {"zh": "李四"}, "kind": "individual"})))
    assert code == 0 and ent["profile"]["published"] is False, err  # type: ignore[index]
    code, shown, _ = run(capsys, "catalog", "profile", "show", str(ent["id"]), "--public")  # type: ignore[index]
    assert code == 0 and shown["profile"] is None and shown["redacted"] is True  # type: ignore[index]
    code, shown, _ = run(capsys, "catalog", "profile", "show", str(ent["id"]))  # type: ignore[index]
    assert code == 0 and shown["profile"]["name"] == {"zh": "李四"}  # type: ignore[index]
    # A profile whose credit code is not the entity's identifier: refused, nothing onboarded.
    assert run(capsys, "key", "new", "other")[0] == 0
    other = "91310115MA1K4CL2B" + catalog.credit_code_check_char("91310115MA1K4CL2B")
    code, _, err = run(capsys, "entity", "add", "--identifier", other, "--account-key", "other",
                       "--profile", str(write(node.parent / "p2.json", PROFILE)))
    assert code == 2 and "creditCode" in err
    code, info, _ = run(capsys, "info")
    assert info["counts"]["entities"] == 2  # type: ignore[index]
    code, _, err = run(capsys, "catalog", "profile", "show", "99")
    assert code == OUTCOMES[ErrorKind.NOT_FOUND].exit_code
