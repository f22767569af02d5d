"""core.catalog: the metadata and profile schemas, canonical bytes and hash, errors named by path, the size bound,
the ODRL action table against the rights held, GB 32100 credit codes and the profile's binding to the chain."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from jsonschema import Draft202012Validator
from sha3 import keccak_256

from provenance.core import catalog as C
from provenance.core.ids import identifier_hash
from provenance.dev import catalog_samples as S
from provenance.errors import DocumentTooLarge, DuplicateKey, InvalidInput, MalformedJson
from provenance.types import Rights

Doc = dict[str, Any]

DOC: Doc = {
    "title": {"zh": "长三角港口集装箱吞吐量指数", "en": "Yangtze Delta container throughput index"},
    "description": {"zh": "每月更新的长三角主要港口集装箱吞吐量指数。", "en": "Monthly container throughput index."},
    "publisher": 12,
    "keywords": ["集装箱", "港口", "container", "port"],
    "themes": ["shipping", "trade-logistics"],
    "spatial": "上海市",
    "temporal": {"start": "2024-01-01", "end": "2025-12-31"},
    "accrualPeriodicity": "monthly",
    "distributions": [{"title": {"en": "Monthly CSV"}, "format": "CSV", "mediaType": "text/csv",
                       "byteSize": 1048576, "delivery": "file"}],
    "policy": {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer", "uid": "urn:provenance:policy:1",
               "permission": [{"action": "use"}, {"action": "distribute"}]},
    "contactPoint": {"name": "数据产品部", "email": "data@example.cn"},
}
PROFILE: Doc = {"name": {"zh": "上海临港数据科技有限公司", "en": "Lingang Data Technology Co., Ltd."},
                "kind": "enterprise", "creditCode": "91350100M000100Y43", "region": "310115"}


def _schema(name: str) -> Doc:
    return C.schema(name)


@pytest.mark.parametrize("name", sorted(C.SCHEMA_FILES))
def test_schemas_are_valid_2020_12_and_named(name: str) -> None:
    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://w3id.org/provenance/schemas/{name}.json"
    for words in ("RFC 8785", "keccak256", "16384"):
        assert words in schema["description"]
    assert schema["additionalProperties"] is False  # the data itself has no place in the document


def test_every_field_is_described() -> None:
    for name in C.SCHEMA_FILES:
        for field, sub in _schema(name)["properties"].items():
            assert sub.get("description"), (name, field)


def test_boards_follow_the_domain_list() -> None:
    domain = "国际板、金融、航运、贸易物流、科技、制造、通信、医疗、交通、能源、征信、长三角板、数字资产板"  # DOMAIN.md
    assert [b.zh for b in C.BOARDS] == domain.split("、")
    assert [b.code for b in C.BOARDS] == _schema("metadata-v1")["$defs"]["theme"]["anyOf"][0]["enum"]
    assert C.board("shipping").iri == "https://w3id.org/provenance/boards/shipping"
    with pytest.raises(InvalidInput, match="unknown board 'ports'"):
        C.board("ports")


def test_example_document_parses_and_hashes_as_rfc8785_keccak() -> None:
    meta = C.parse_metadata(DOC)
    independent = rfc8785.dumps(DOC)
    assert meta.canonical == independent == C.canonical_document(DOC)
    assert meta.hash == keccak_256(independent).digest() == C.document_hash(DOC) == C.document_hash(independent)
    assert meta.publisher == 12 and meta.themes == ("shipping", "trade-logistics")
    assert meta.keywords == ("集装箱", "港口", "container", "port")
    assert meta.display_title("en") == "Yangtze Delta container throughput index"
    assert meta.display_title("zh") == "长三角港口集装箱吞吐量指数"
    assert [b.code for b in meta.boards] == ["shipping", "trade-logistics"]
    assert C.parse_metadata(meta.canonical) == meta  # the bytes on chain read back as the same document
    assert meta.document == DOC and meta.document is not DOC


def test_display_falls_back_to_the_other_language() -> None:
    meta = C.parse_metadata({"title": {"en": "Port index"}, "publisher": 1})
    assert meta.display_title("zh") == "Port index" and meta.display_description() is None


@pytest.mark.parametrize("seed", range(60))
def test_samples_are_valid_and_fit_their_record(seed: int) -> None:
    rights = Rights(1 + seed % 7)
    for lang in ("zh", "en", "both"):
        doc = S.metadata_document(seed, publisher=seed + 1, kind=("product", "resource", "asset")[seed % 3],
                                  rights=rights, lang=lang)
        meta = C.parse_metadata(doc)
        C.check_against_record(meta, owner=seed + 1, rights=rights)
        assert meta.canonical == rfc8785.dumps(doc)
        assert 1 <= len(meta.keywords) <= 5
        assert set(meta.title) == ({"zh", "en"} if lang == "both" else {lang})
    assert S.metadata_document(seed, publisher=1) == S.metadata_document(seed, publisher=1)  # deterministic
    for kind in ("enterprise", "public-body", "individual"):
        profile = C.parse_profile(S.entity_profile(seed, kind=kind))
        assert profile.is_individual == (kind == "individual")
        assert (profile.credit_code is None) == (kind == "individual")


def _drop(*path: str | int) -> Callable[[Doc], None]:
    def f(doc: Doc) -> None:
        target: Any = doc
        for p in path[:-1]:
            target = target[p]
        del target[path[-1]]
    return f


def _set(value: Any, *path: str | int) -> Callable[[Doc], None]:
    def f(doc: Doc) -> None:
        target: Any = doc
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
    return f


METADATA_ERRORS = [
    (_drop("title"), "$.title: is required"),
    (_drop("publisher"), "$.publisher: is required"),
    (_set({}, "title"), "$.title: at least one of zh, en is required"),
    (_set({}, "description"), "$.description: at least one of zh, en is required"),
    (_set("", "title", "zh"), "$.title.zh: must not be empty"),
    (_set("   ", "title", "en"), "$.title.en: must not be empty"),
    (_set("x", "title", "fr"), "$.title.fr: is not a field of this document"),
    (_set("the rows themselves", "data"), "$.data: is not a field of this document (a document describes the data"),
    (_set("AAAA", "content"), "$.content: is not a field of this document"),
    (_set("12", "publisher"), "$.publisher: must be an integer"),
    (_set(0, "publisher"), "$.publisher: 0 is less than the minimum of 1"),
    (_set(2**32, "publisher"), "$.publisher: 4294967296 is greater than the maximum of 4294967295"),
    (_set("port", "keywords"), "$.keywords: must be an array"),
    (_set(["港口", "港口"], "keywords"), "$.keywords: holds the same value twice"),
    (_set("x" * 65, "keywords", 0), "$.keywords[0]: "),
    (_set(["ports"], "themes"), "$.themes[0]: \"ports\" is neither a board code"),
    (_set(["shipping", "ftp://x"], "themes"), "$.themes[1]: \"ftp://x\" is neither a board code"),
    (_set("2024-13-01", "temporal", "start"), "$.temporal.start: \"2024-13-01\" is not a valid date"),
    (_set("2024-1-01", "temporal", "end"), "$.temporal.end: "),
    (_set({}, "temporal"), "$.temporal: must not be empty"),
    (_set({"start": "2026-01-01", "end": "2025-01-01"}, "temporal"), "$.temporal: start 2026-01-01 is after end"),
    (_set("hourly", "accrualPeriodicity"), "$.accrualPeriodicity: \"hourly\" is not one of continuous, daily"),
    (_set("usb-stick", "distributions", 0, "delivery"), "$.distributions[0].delivery: \"usb-stick\" is not one of"),
    (_drop("distributions", 0, "delivery"), "$.distributions[0].delivery: is required"),
    (_set(-1, "distributions", 0, "byteSize"), "$.distributions[0].byteSize: -1 is less than the minimum of 0"),
    (_set("text csv", "distributions", 0, "mediaType"), "$.distributions[0].mediaType: \"text csv\" is not in the"),
    (_set("inline", "distributions", 0, "data"), "$.distributions[0].data: is not a field of this document"),
    (_set("https://example.org/odrl", "policy", "@context"), "$.policy[\"@context\"]: must be \"http://www.w3.org/"),
    (_set("Privacy", "policy", "@type"), "$.policy[\"@type\"]: \"Privacy\" is not one of Offer, Set, Agreement"),
    (_drop("policy", "uid"), "$.policy.uid: is required"),
    (_set([], "policy", "permission"), "$.policy.permission: [] should be non-empty"),
    (_set("lease", "policy", "permission", 1, "action"), "$.policy.permission[1].action: \"lease\" is not one of"),
    (_set([{"action": "use"}], "policy", "permission", 0, "duty"), "$.policy.permission[0].duty[0].action: \"use\""),
    (_drop("contactPoint", "name"), "$.contactPoint.name: is required"),
    (_set("data at example.cn", "contactPoint", "email"), "$.contactPoint.email: "),
]


@pytest.mark.parametrize(("mutate", "message"), METADATA_ERRORS)
def test_errors_name_the_field(mutate: Callable[[Doc], None], message: str) -> None:
    doc = copy.deepcopy(DOC)
    mutate(doc)
    with pytest.raises(InvalidInput) as info:
        C.parse_metadata(doc)
    assert info.value.message.startswith("metadata: " + message), info.value.message
    with pytest.raises(InvalidInput) as again:  # the same bytes give the same message, as on every node
        C.parse_metadata(rfc8785.dumps(doc))
    assert again.value.message == info.value.message


def test_the_reported_error_is_chosen_deterministically() -> None:
    doc = copy.deepcopy(DOC)
    doc["title"] = {}
    doc["themes"] = ["ports"]
    doc["data"] = "x"
    messages = set()
    for order in (doc, dict(reversed(list(doc.items())))):
        with pytest.raises(InvalidInput) as info:
            C.parse_metadata(order)
        messages.add(info.value.message)
    assert len(messages) == 1


def test_floats_and_non_objects_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"metadata: \$\.publisher: float values are not allowed"):
        C.parse_metadata({**DOC, "publisher": 12.0})
    with pytest.raises(InvalidInput, match=r"must be a JSON object"):
        C.parse_metadata(b"[1]")
    with pytest.raises(InvalidInput, match=r"must be a JSON object"):
        C.parse_metadata(["title"])  # type: ignore[arg-type]


def test_only_the_canonical_bytes_are_accepted() -> None:
    canonical = rfc8785.dumps(DOC)
    C.parse_metadata(canonical)
    for other in (json.dumps(DOC, ensure_ascii=False).encode(), json.dumps(DOC, sort_keys=True).encode(),
                  canonical + b"\n", b" " + canonical,
                  json.dumps(DOC, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode().replace(
                      "港".encode(), b"\\u6e2f")):
        assert json.loads(other) == DOC
        with pytest.raises(C.NotCanonical, match="not the canonical form"):
            C.parse_metadata(other)


def test_duplicate_keys_and_bad_text_are_refused() -> None:
    canonical = rfc8785.dumps(DOC)
    twice = canonical.replace(b'{"accrualPeriodicity":"monthly",', b'{"accrualPeriodicity":"monthly",'
                              b'"accrualPeriodicity":"daily",')
    with pytest.raises(DuplicateKey, match="repeats the key 'accrualPeriodicity'"):
        C.parse_metadata(twice)
    with pytest.raises(MalformedJson, match="not UTF-8"):
        C.parse_metadata(canonical.replace("港".encode(), b"\xff\xfe\xfd"))
    with pytest.raises(MalformedJson, match="lone surrogate"):
        C.parse_metadata(canonical.replace("港".encode(), b"\\ud800"))
    with pytest.raises(MalformedJson, match="nests more than"):
        C.parse_metadata(b"[" * 40 + b"]" * 40)


def test_size_limit() -> None:
    doc = copy.deepcopy(DOC)
    doc["description"] = {"en": "x" * 4000, "zh": "港" * 3000}
    doc["keywords"] = [f"{i:02d}" + "k" * 60 for i in range(32)]
    size = len(rfc8785.dumps(doc))
    assert size < C.MAX_DOCUMENT_BYTES
    C.parse_metadata(doc)
    doc["distributions"] = [{"title": {"zh": "港" * 200, "en": "y" * 200}, "delivery": "file"}] * 6
    size = len(rfc8785.dumps(doc))
    assert size > C.MAX_DOCUMENT_BYTES
    for raw in (doc, rfc8785.dumps(doc)):
        with pytest.raises(DocumentTooLarge) as info:
            C.parse_metadata(raw)
        assert (info.value.size, info.value.limit) == (size, 16384)
        assert "more than the 16384 accepted" in info.value.message
    with pytest.raises(DocumentTooLarge):
        C.parse_metadata(b" " * 16385)  # judged by its length before anything is parsed


@pytest.mark.parametrize(("action", "right"), [
    ("use", Rights.HOLDING), ("read", Rights.HOLDING), ("reproduce", Rights.HOLDING), ("display", Rights.HOLDING),
    ("derive", Rights.PROCESSING), ("aggregate", Rights.PROCESSING), ("anonymize", Rights.PROCESSING),
    ("transform", Rights.PROCESSING), ("annotate", Rights.PROCESSING),
    ("distribute", Rights.OPERATION), ("sell", Rights.OPERATION), ("transfer", Rights.OPERATION),
    ("grantUse", Rights.OPERATION),
])
def test_permitted_actions_need_their_right(action: str, right: Rights) -> None:
    doc = copy.deepcopy(DOC)
    doc["policy"]["permission"] = [{"action": action}]
    meta = C.parse_metadata(doc)
    C.check_against_record(meta, owner=12, rights=right)
    C.check_against_record(meta, owner=12, rights=Rights(7))
    names = {Rights.HOLDING: "holding", Rights.PROCESSING: "processing-and-use", Rights.OPERATION: "operation"}
    with pytest.raises(InvalidInput, match=rf"metadata: \$\.policy\.permission\[0\]\.action: '{action}' needs "
                       rf"the {names[right]} right, which the record does not hold"):
        C.check_against_record(meta, owner=12, rights=Rights(7) & ~right)
    assert C.required_rights(doc["policy"]) == right


def test_every_permitted_action_of_the_schema_has_a_right() -> None:
    actions = _schema("metadata-v1")["$defs"]["permission"]["properties"]["action"]["enum"]
    assert sorted(actions) == sorted(C.ACTION_RIGHTS)


def test_prohibitions_and_duties_need_no_right() -> None:
    doc = copy.deepcopy(DOC)
    doc["policy"]["permission"] = [{"action": "use", "duty": [{"action": "attribute"}, {"action": "compensate"}]}]
    doc["policy"]["prohibition"] = [{"action": "sell"}, {"action": "distribute"}]
    C.check_against_record(C.parse_metadata(doc), owner=12, rights=Rights.HOLDING)


def test_publisher_must_be_the_owner() -> None:
    meta = C.parse_metadata(DOC)
    with pytest.raises(InvalidInput, match=r"metadata: \$\.publisher: 12 is not the record's owner 13"):
        C.check_against_record(meta, owner=13, rights=Rights(7))
    C.check_against_record(C.parse_metadata({"title": {"zh": "无政策"}, "publisher": 13}), owner=13,
                           rights=Rights.HOLDING)


def test_search_text() -> None:
    text = C.search_text(C.parse_metadata(DOC))
    assert text == {"title": "长三角港口集装箱吞吐量指数 Yangtze Delta container throughput index",
                    "description": "每月更新的长三角主要港口集装箱吞吐量指数。 Monthly container throughput index.",
                    "keywords": "集装箱 港口 container port"}


# ---------------------------------------------------------------------- credit codes and profiles

# Codes of companies as published on public registers (business licences shown on their sites, procurement
# notices). Each holds a right GB 11714 organisation code check (character 17) as well as the GB 32100 check
# character (18), which a made-up string would do once in 341 tries.
PUBLISHED_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T", "914403001922038216",
                   "91110108551385082Q", "9144030071526726XG", "91330100799655058B"]


@pytest.mark.parametrize("code", PUBLISHED_CODES)
def test_published_codes_check(code: str) -> None:
    assert C.valid_credit_code(code)
    assert C.credit_code_check_char(code[:17]) == code[17]
    for wrong in {c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[17]}:
        assert not C.valid_credit_code(code[:17] + wrong)
    assert S.organisation_code_check(code[8:16]) == code[16]


def test_check_character_algorithm() -> None:
    # weights are 3**i mod 31; a code of zeros checks with 0, and (31 - 1) % 31 = 30, "Y", for one 1 first
    assert C.credit_code_check_char("0" * 17) == "0"
    assert C.credit_code_check_char("1" + "0" * 16) == "Y"
    assert C.credit_code_check_char("0" * 16 + "1") == "3"  # 31 - 28
    with pytest.raises(InvalidInput, match="17 characters"):
        C.credit_code_check_char("I" * 17)


def test_generated_codes_check_by_both_standards() -> None:
    for seed in range(200):
        code = S.credit_code(seed, region="310115")
        assert C.valid_credit_code(code) and code[2:8] == "310115"
        assert S.organisation_code_check(code[8:16]) == code[16]
    assert S.organisation_code_check("M000100Y") == "4"  # 91350100M000100Y43's organisation code


PROFILE_ERRORS = [
    (_drop("name"), "$.name: is required"),
    (_set({}, "name"), "$.name: at least one of zh, en is required"),
    (_set("company", "kind"), "$.kind: \"company\" is not one of enterprise, public-body, individual"),
    (_drop("creditCode"), "$.creditCode: is required for an enterprise or a public body"),
    (_set("91350100M000100Y44", "creditCode"), "$.creditCode: '91350100M000100Y44' does not end in its GB 32100 "
     "check character ('3' expected)"),
    (_set("91350100M000100I43", "creditCode"), "$.creditCode: \"91350100M000100I43\" is not in the expected form"),
    (_set("9135010", "creditCode"), "$.creditCode: \"9135010\" is not in the expected form"),
    (_set("", "region"), "$.region: must not be empty"),
    (_set("x", "idNumber"), "$.idNumber: is not a field of this document"),
]


@pytest.mark.parametrize(("mutate", "message"), PROFILE_ERRORS)
def test_profile_errors_name_the_field(mutate: Callable[[Doc], None], message: str) -> None:
    doc = copy.deepcopy(PROFILE)
    mutate(doc)
    with pytest.raises(InvalidInput) as info:
        C.parse_profile(doc)
    assert info.value.message == "profile: " + message


def test_individuals_carry_no_credit_code() -> None:
    person = {"name": {"zh": "张伟"}, "kind": "individual", "region": "310115"}
    profile = C.parse_profile(person)
    assert profile.is_individual and profile.credit_code is None and profile.display_name("en") == "张伟"
    with pytest.raises(InvalidInput, match=r"profile: \$\.creditCode: an individual's profile carries no credit"):
        C.parse_profile({**person, "creditCode": "91350100M000100Y43"})
    with pytest.raises(InvalidInput, match="not published on chain"):
        C.check_profile_binding(profile, identifier_hash("91350100M000100Y43"))


def test_profile_binding() -> None:
    profile = C.parse_profile(PROFILE)
    assert profile.hash == keccak_256(rfc8785.dumps(PROFILE)).digest()
    C.check_profile_binding(profile, identifier_hash("91350100M000100Y43"))
    C.check_profile_binding(profile, identifier_hash(" 91350100m000100y43 "))  # identifiers are normalised
    with pytest.raises(InvalidInput, match=r"\$\.creditCode: its identifier hash is not the entity's"):
        C.check_profile_binding(profile, identifier_hash("91110000802100433B"))
    assert C.parse_profile(profile.canonical) == profile
    with pytest.raises(C.NotCanonical):
        C.parse_profile(json.dumps(PROFILE).encode())


# ---------------------------------------------------------------------- the fast path agrees with jsonschema

_ODD_VALUES: list[Any] = ["", " ", "x" * 201, "港口", "shipping", "ftp://x", "https://example.org/t", "2024-02-30",
                          "2024-02-28", "a@b", "text/csv", "use", "lease", "individual", 0, -1, 1, 2**32, True, None,
                          [], ["港口"], ["港口", "港口"], {}, {"zh": "港"}, {"fr": "port"}, [{"action": "use"}]]


def _mutations(doc: Doc, rng: Any) -> Doc:
    out = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        target: Any = out
        while True:  # walk down to a random container
            children = list(target.items()) if isinstance(target, dict) else list(enumerate(target))
            containers = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
            if not containers or rng.random() < 0.4:
                break
            target = rng.choice(containers)[1]
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        what = rng.random()
        if keys and what < 0.3:
            del target[rng.choice(keys)]
        elif isinstance(target, dict) and what < 0.45:
            target[rng.choice(["data", "zh", "en", "action", "extra", "creditCode"])] = rng.choice(_ODD_VALUES)
        elif keys:
            target[rng.choice(keys)] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return out


@pytest.mark.parametrize("name", sorted(C.SCHEMA_FILES))
def test_the_fast_check_gives_jsonschemas_verdict(name: str) -> None:
    import random

    from provenance.core.catalog_schema import Unsure

    rng = random.Random(name)
    slow = Draft202012Validator(C.schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    fast = C._fast_check(name)
    judged = {True: 0, False: 0}
    for seed in range(400):
        base = S.metadata_document(seed, publisher=1, rights=Rights(1 + seed % 7)) if name == "metadata-v1" else \
            S.entity_profile(seed, kind=("enterprise", "public-body", "individual")[seed % 3])
        for doc in (base, _mutations(base, rng), _mutations(base, rng)):
            try:
                verdict = fast(doc)
            except Unsure:
                continue
            assert verdict == slow.is_valid(doc), doc
            judged[verdict] += 1
    assert judged[True] >= 400 and judged[False] >= 300, judged  # both verdicts were exercised


def test_a_node_that_cannot_check_uris_refuses_to_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.errors import ConfigError

    monkeypatch.delitem(Draft202012Validator.FORMAT_CHECKER.checkers, "uri")
    C._validator.cache_clear()
    C._fast_check.cache_clear()
    try:
        with pytest.raises(ConfigError, match="install rfc3986-validator"):
            C.parse_metadata(DOC)
    finally:
        C._validator.cache_clear()
        C._fast_check.cache_clear()


def test_the_catalogue_core_is_pure() -> None:
    import subprocess
    import sys

    code = ("import sys; import provenance.core.catalog, provenance.core.catalog_schema; "
            "bad = [m for m in ('web3', 'plyvel', 'fastapi', 'eth_tester', 'eth', 'http.client', 'urllib.request', "
            "'pyld', 'rdflib') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
