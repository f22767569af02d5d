"""The demo federation: Shanghai and two Yangtze River Delta partner exchanges, three merchants with their
published profiles, and a small lineage graph of resources, derived products and an asset, registered directly and
by delegation, each with a metadata document (title and description in Chinese and English, keywords, boards,
distributions, an ODRL policy within the record's rights) so the explorer and the catalogue speak names; then the
cross-border lifecycle and the property register (a bank, an assessor, an arbitrator; an assessed, listed, pledged
and disputed asset; a product transferred). Every step checks the chain first, so an interrupted demo picks up
where it stopped and a second run only prints the summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from provenance.chain.property import (
    AssessmentInput,
    PledgeTerms,
    PropertyDecision,
    PropertyService,
    assessment_id,
    change_terms,
    pledge_terms,
    transfer_terms,
)
from provenance.chain.registry import Proposal, RegistryService
from provenance.config import CONFIG_NAME
from provenance.core import catalog
from provenance.core.ids import hex0x, identifier_hash, record_id
from provenance.dev.catalog_samples import organisation_code_check
from provenance.dev.demo_status import anchor_changed_lists, issue_demo_certificate
from provenance.errors import ContractReverted, NotFound
from provenance.indexer.queries import IndexQueries, lineage_json
from provenance.services.bootstrap import init_node
from provenance.services.catalog import CatalogService
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.services.requests import reason_hash
from provenance.store.keystore import Keystore, PassphraseSource
from provenance.types import (
    EntityRole,
    Grade,
    Hash32,
    Kind,
    ProposalAction,
    RecordId,
    RegistrationRequest,
    Rights,
    Source,
    Status,
)

EXCHANGES = [
    ("SDE", "Shanghai Data Exchange"),
    ("ZJDE", "Zhejiang Big Data Exchange Center"),
    ("AHDE", "Anhui Data Exchange"),
]
# key label, GB/T 2260 region, the first 8 characters of the GB 11714 organisation code, role, home exchange, the
# enterprise's name. The codes are made up but well formed (registration authority 9 = market regulation, category
# 1 = enterprise, then both check characters), so the published profiles pass every node's GB 32100 check.
MERCHANTS = [
    ("m-lingang", "310115", "MA1K4LG8", EntityRole.SUPPLIER, "SDE",
     {"zh": "上海临港数据科技有限公司", "en": "Shanghai Lingang Data Technology Co., Ltd."}),
    ("m-hangzhou", "330106", "MA2GHK7L", EntityRole.SUPPLIER, "ZJDE",
     {"zh": "杭州数链物流科技有限公司", "en": "Hangzhou Shulian Logistics Technology Co., Ltd."}),
    ("m-hefei", "340100", "MA2THF5Q", EntityRole.SERVICE_PROVIDER, "AHDE",
     {"zh": "合肥智造数据服务有限公司", "en": "Hefei Smart Manufacturing Data Services Co., Ltd."}),
]


# The identifiers of the demo before the catalogue (not valid credit codes, so no profile can be bound to them).
LEGACY_CODES = {"m-lingang": "91310115MA1K4DEMO1", "m-hangzhou": "91330106MA2GDEMO2", "m-hefei": "91340100MA2TDEMO3"}


def credit_code(region: str, organisation: str, prefix: str = "91") -> str:
    first17 = prefix + region + organisation + organisation_code_check(organisation)
    return first17 + catalog.credit_code_check_char(first17)


# The property register's institutions (issue 22), onboarded by SDE: a bank (the pledgee), an assessment institution
# and an arbitration commission (accredited and appointed by governance). Key label, region, organisation code, prefix
# (91 an enterprise, 12 a public institution as arbitration commissions are), role, profile kind; made-up names.
INSTITUTIONS = [
    ("fi-pujiang-bank", "310115", "MA1FPJ3B", "91", EntityRole.FINANCIAL_INSTITUTION, "enterprise",
     {"zh": "浦江发展银行股份有限公司", "en": "Pujiang Development Bank Co., Ltd."}),
    ("as-huangpu-appraisal", "310101", "MA1HPA6W", "91", EntityRole.ASSESSMENT_INSTITUTION, "enterprise",
     {"zh": "上海黄浦数据资产评估有限公司", "en": "Shanghai Huangpu Data Asset Appraisal Co., Ltd."}),
    ("ar-delta-arbitration", "310000", "MA1DAC7K", "12", EntityRole.ARBITRATION_INSTITUTION, "public-body",
     {"zh": "长三角数据仲裁委员会", "en": "Yangtze River Delta Data Arbitration Commission"}),
]
TERM = 3 * 365 * 86_400  # the demo's registration term for products and assets; resources keep none
DAY = 86_400


def merchant_profile(label: str) -> dict[str, Any]:
    _label, region, organisation, _role, _home, name = next(m for m in MERCHANTS if m[0] == label)
    return {"name": name, "kind": "enterprise", "creditCode": credit_code(region, organisation), "region": region}


def _policy(name: str, allow: tuple[str, ...], forbid: tuple[str, ...] = ()) -> dict[str, Any]:
    policy: dict[str, Any] = {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer",
                              "uid": f"urn:provenance:policy:demo:{name}",
                              "permission": [{"action": a} for a in allow]}
    if forbid:
        policy["prohibition"] = [{"action": a} for a in forbid]
    return policy


# The demo's records as a data merchant would describe them. Each policy permits only what the record's rights
# cover (use and the like need holding, derive/aggregate/anonymize processing and use, distribute/sell/transfer
# operation): core.catalog refuses anything else, as every node's index does.
DOCUMENTS: dict[str, dict[str, Any]] = {
    "port-vessel-traffic": {
        "title": {"zh": "洋山港船舶交通流量数据（AIS）", "en": "Yangshan port vessel traffic (AIS)"},
        "description": {"zh": "洋山深水港及长江口水域船舶自动识别系统（AIS）报文，按船舶、航次与泊位整理，每小时更新，"
                              "用于港口调度、航运物流与通关预测。",
                        "en": "Automatic Identification System (AIS) messages for Yangshan deep-water port and the "
                              "Yangtze estuary, organised by vessel, voyage and berth and updated hourly, for port "
                              "scheduling, shipping logistics and customs forecasting."},
        "keywords": ["船舶", "港口", "洋山港", "AIS", "vessel", "port", "shipping"],
        "themes": ["shipping", "yangtze-delta"], "spatial": "上海市浦东新区洋山港",
        "temporal": {"start": "2026-01-01"}, "accrualPeriodicity": "continuous",
        "distributions": [{"title": {"zh": "AIS 报文接口", "en": "AIS message API"}, "format": "JSON",
                           "mediaType": "application/json", "delivery": "api"},
                          {"title": {"en": "Daily Parquet extract"}, "format": "Parquet", "delivery": "file",
                           "byteSize": 41_943_040}],
        "policy": _policy("port-vessel-traffic", ("use", "derive", "aggregate")),
        "contactPoint": {"name": "临港数据产品部", "email": "data@lingang-data.example.cn"}},
    "logistics-waybills": {
        "title": {"zh": "浙江电子运单脱敏数据", "en": "Zhejiang e-waybill records (de-identified)"},
        "description": {"zh": "浙江省内快递与干线物流电子运单，收寄件人信息已去标识化，含线路、时效与货类。",
                        "en": "Express and trunk-line e-waybills within Zhejiang with senders and receivers "
                              "de-identified: routes, transit times and cargo classes."},
        "keywords": ["运单", "物流", "快递", "waybill", "logistics", "express"],
        "themes": ["trade-logistics", "yangtze-delta"], "spatial": "浙江省",
        "temporal": {"start": "2025-01-01", "end": "2026-10-31"}, "accrualPeriodicity": "daily",
        "distributions": [{"title": {"zh": "隐私计算节点", "en": "Privacy-computing node"},
                           "delivery": "privacy-computing"}],
        "policy": _policy("logistics-waybills", ("use", "anonymize", "aggregate"), ("distribute",)),
        "contactPoint": {"name": "数链数据合规组", "email": "compliance@shulian.example.cn"}},
    "factory-energy-use": {
        "title": {"zh": "合肥工厂智能电表能耗数据", "en": "Hefei factory smart-meter energy use"},
        "description": {"zh": "合肥高新区制造企业智能电表十五分钟粒度的用电量与需量数据，用于能效评估与碳核算。",
                        "en": "Fifteen-minute electricity consumption and demand from smart meters of manufacturers "
                              "in the Hefei high-tech zone, for energy-efficiency assessment and carbon accounting."},
        "keywords": ["能耗", "电表", "制造", "碳核算", "energy", "smart meter", "manufacturing"],
        "themes": ["manufacturing", "energy"], "spatial": "340100",
        "temporal": {"start": "2025-06-01", "end": "2026-09-30"}, "accrualPeriodicity": "daily",
        "distributions": [{"title": {"en": "Monthly CSV"}, "format": "CSV", "mediaType": "text/csv",
                           "delivery": "file", "byteSize": 12_582_912}],
        "policy": _policy("factory-energy-use", ("use", "derive")),
        "contactPoint": {"name": "智造数据服务中心", "email": "service@hf-smartdata.example.cn"}},
    "personal-credit-files": {
        "title": {"zh": "个人征信档案", "en": "Personal credit files"},
        "description": {"zh": "个人信用记录原始档案，属核心数据，仅持有，不挂牌、不出境、不导出。",
                        "en": "Raw personal credit records: core data, held only, never listed, exported or sent "
                              "abroad."},
        "keywords": ["征信", "个人信用", "credit"], "themes": ["credit", "finance"], "spatial": "上海市",
        "policy": _policy("personal-credit-files", ("use",), ("distribute", "sell", "transfer")),
        "contactPoint": {"name": "临港数据安全官"}},
    "delta-logistics-index": {
        "title": {"zh": "长三角物流景气指数（周度）", "en": "Yangtze River Delta logistics index (weekly)"},
        "description": {"zh": "由洋山港船舶流量与浙江电子运单加工而成的周度物流景气指数，"
                              "覆盖上海、浙江、安徽主要枢纽。",
                        "en": "A weekly logistics activity index built from Yangshan vessel traffic and Zhejiang "
                              "e-waybills, covering the main hubs of Shanghai, Zhejiang and Anhui."},
        "keywords": ["物流指数", "长三角", "景气", "logistics index", "Yangtze Delta", "freight"],
        "themes": ["trade-logistics", "yangtze-delta", "shipping"], "spatial": "长江三角洲",
        "temporal": {"start": "2025-01-06"}, "accrualPeriodicity": "weekly",
        "distributions": [{"title": {"zh": "指数查询接口", "en": "Index query API"}, "format": "REST",
                           "delivery": "api"}],
        "policy": _policy("delta-logistics-index", ("distribute", "sell", "aggregate")),
        "contactPoint": {"name": "数链指数研究院", "email": "index@shulian.example.cn"}},
    "port-energy-model": {
        "title": {"zh": "港口能耗预测模型", "en": "Port energy consumption forecasting model"},
        "description": {"zh": "结合洋山港船舶流量与工厂能耗数据训练的港区用能预测模型，提供未来七天的逐时预测。",
                        "en": "A forecasting model of the port area's energy demand trained on Yangshan vessel "
                              "traffic and factory energy use, giving hourly forecasts seven days ahead."},
        "keywords": ["能耗预测", "港口", "模型", "forecast", "energy", "port"],
        "themes": ["shipping", "energy"], "spatial": "上海市浦东新区",
        "accrualPeriodicity": "weekly",
        "distributions": [{"title": {"zh": "预测服务接口", "en": "Forecast API"}, "format": "JSON",
                           "mediaType": "application/json", "delivery": "api"}],
        "policy": _policy("port-energy-model", ("use", "derive")),
        "contactPoint": {"name": "临港数据产品部", "email": "data@lingang-data.example.cn"}},
    "logistics-index-asset": {
        "title": {"zh": "长三角物流指数数据资产（2026）", "en": "Yangtze Delta logistics index data asset (2026)"},
        "description": {"zh": "长三角物流景气指数形成的数据资产，已完成资产评估，可用于质押融资与数据资产入表。",
                        "en": "The data asset formed by the Yangtze Delta logistics index, assessed and ready for "
                              "pledge financing and balance-sheet recognition."},
        "keywords": ["数据资产", "质押融资", "入表", "data asset", "pledge"],
        "themes": ["digital-assets", "finance", "trade-logistics"], "spatial": "长江三角洲",
        "temporal": {"start": "2026-01-01", "end": "2026-12-31"}, "accrualPeriodicity": "annual",
        "policy": _policy("logistics-index-asset", ("use", "transfer")),
        "contactPoint": {"name": "智造数据资产部", "email": "assets@hf-smartdata.example.cn"}},
}


def record_document(name: str, publisher: int) -> dict[str, Any]:
    """The demo record's metadata document, published by its owner entity."""
    return {**DOCUMENTS[name], "publisher": publisher}


def _h(text: str) -> Hash32:
    return Hash32(hashlib.sha256(text.encode("utf-8")).digest())


_NO_HASH = Hash32(bytes(32))  # replaced by the hash of the record's metadata document in ensure()


def run_demo(data_dir: Path, passphrase: PassphraseSource, *, scrypt_n: int | None = None,
             say: Callable[[str], None] = print) -> dict[str, Any]:
    if not (data_dir / CONFIG_NAME).exists():
        say(f"Initialising {data_dir}: key for SDE, embedded chain, contracts ...")
        init_node(data_dir, exchange="SDE", name=EXCHANGES[0][1], passphrase=passphrase, scrypt_n=scrypt_n)
    with Node.open(data_dir, passphrase) as node:
        svc = RegistryService(node.contracts)
        ks = node.keystore
        for label in [code for code, _ in EXCHANGES[1:]] + [m[0] for m in MERCHANTS]:
            if not ks.has(label):
                ks.create(label)
        sde = ks.load("SDE")

        # --- federation: threshold governance
        if not _exists(svc, "ZJDE"):
            out = svc.propose_add_exchange(sde, "ZJDE", EXCHANGES[1][1], ks.load("ZJDE"))
            say(f"SDE proposes ZJDE as a member (proposal {out.proposal_id}): executed={out.executed}")
        if svc.threshold() < 2:
            out = svc.propose_threshold(sde, 2)
            say(f"SDE proposes a threshold of 2 (proposal {out.proposal_id}): executed={out.executed}")
        if not _exists(svc, "AHDE"):
            pending = [p for p in svc.proposals() if not p.executed and p.action.label == "add-exchange"]
            if pending:
                pid = pending[-1].id
            else:
                pid = svc.propose_add_exchange(sde, "AHDE", EXCHANGES[2][1], ks.load("AHDE")).proposal_id
                say(f"SDE proposes AHDE (proposal {pid}): 1 of 2 approvals")
            out = svc.approve(ks.load("ZJDE"), pid)
            say(f"ZJDE approves proposal {pid}: executed={out.executed}")

        # --- merchants, their profiles, mandates, mutual recognition
        catalogs = {code: CatalogService(Operations(node, key=code)) for code, _name in EXCHANGES}
        entity_ids: dict[str, int] = {}
        names: dict[str, str] = {}
        credit_codes: dict[str, str] = {}
        for label, region, organisation, role, home, name in MERCHANTS:
            names[label] = name["zh"]
            credit_codes[label] = credit_code(region, organisation)
            ident = identifier_hash(credit_codes[label])
            legacy = False
            try:
                entity_ids[label] = svc.entity_by_identifier(ident).id
            except NotFound:
                try:  # a demo directory made before the catalogue: its merchants keep their entities
                    entity_ids[label] = svc.entity_by_identifier(identifier_hash(LEGACY_CODES[label])).id
                    legacy = True
                    credit_codes[label] = LEGACY_CODES[label]
                except NotFound:
                    # The demo's keystore holds each merchant's key, so the merchant's consent is signed here.
                    entity_ids[label] = svc.register_entity(ks.load(home), ident, ks.load(label), role)
                    say(f"{home} onboards {name['zh']} ({name['en']}) as entity {entity_ids[label]}")
            if legacy:
                say(f"entity {entity_ids[label]} was onboarded with a pre-catalogue demo code: no profile binds to it")
            elif not _profile_published(catalogs[home], entity_ids[label]):
                # Only the onboarding exchange publishes an entity's profile: each through its own service.
                catalogs[home].set_profile(entity_ids[label], merchant_profile(label), signer=ks.load(home))
                say(f"{home} publishes the profile of {name['zh']} (credit code {credit_codes[label]})")
            if not svc.has_mandate(entity_ids[label], home):
                svc.set_mandate(ks.load(label), entity_ids[label], home, True)
                say(f"{name['zh']} grants {home} a mandate to register its data")
        lingang, hangzhou, hefei = (entity_ids[m[0]] for m in MERCHANTS)
        if not svc.is_recognized(lingang, "ZJDE"):
            svc.recognize_entity(ks.load("ZJDE"), lingang)
            say(f"ZJDE recognises {names['m-lingang']} (entity {lingang}, onboarded by SDE)")

        # --- the lineage graph: every record registered with its metadata document inline (kept by this node
        # first; general-grade documents published on chain after the registration, the others kept here only)
        def ensure(name: str, registrar: str, req: RegistrationRequest, *, delegated_by: str | None = None) -> RecordId:
            doc = record_document(name, req.owner)
            meta = catalog.parse_metadata(doc)
            req = dataclasses.replace(req, metadata_hash=Hash32(bytes(meta.hash)))
            rid = record_id(svc.exchange_id(registrar), req.content_hash)
            title = doc["title"]["zh"]
            cat = catalogs[registrar]
            try:
                svc.record(rid)
            except NotFound:
                pass
            else:
                cat.ops.follower.sync()
                indexed = cat.ops.indexed(rid)
                # Registered but its document not kept (an interrupted run): supply it now. A record of a demo
                # directory made before the catalogue has a metadataHash no document hashes to: it stays unnamed.
                if indexed.metadata_hash == meta.hash and cat.document_bytes(indexed) is None:
                    cat.supply(rid, doc, signer=ks.load(registrar))
                    say(f"{registrar} supplies the metadata of {title}")
                return rid
            signer = ks.load(registrar)
            signed = svc.sign_registration(ks.load(delegated_by), registrar, req) if delegated_by else None
            out = cat.register(req, meta.canonical, signed=signed, signer=signer)
            how = (f"signed by {delegated_by} (EIP-712), submitted by {registrar}" if delegated_by
                   else f"registered by {registrar} under mandate")
            say(f"{title} ({doc['title']['en']}): {req.kind.label}/{req.grade.label} {out['id'][:18]}... {how}, "
                f"gas {out['gas_used']}")
            return RecordId(bytes.fromhex(out["id"][2:]))

        hr = Rights.HOLDING | Rights.PROCESSING
        r1 = ensure("port-vessel-traffic", "SDE", RegistrationRequest(
            Kind.RESOURCE, Grade.GENERAL, Source.PUBLIC, hr, lingang, _h("port vessel traffic 2026"), _NO_HASH))
        r2 = ensure("logistics-waybills", "ZJDE", RegistrationRequest(
            Kind.RESOURCE, Grade.IMPORTANT, Source.ENTERPRISE, hr, hangzhou, _h("zhejiang waybills 2026"), _NO_HASH))
        r3 = ensure("factory-energy-use", "AHDE", RegistrationRequest(
            Kind.RESOURCE, Grade.GENERAL, Source.ENTERPRISE, hr, hefei, _h("anhui factory energy 2026"), _NO_HASH))
        r4 = ensure("personal-credit-files", "SDE", RegistrationRequest(
            Kind.RESOURCE, Grade.CORE, Source.PERSONAL, Rights.HOLDING, lingang, _h("personal credit files"),
            _NO_HASH))
        p1 = ensure("delta-logistics-index", "ZJDE", RegistrationRequest(
            Kind.PRODUCT, Grade.IMPORTANT, Source.ENTERPRISE, Rights.OPERATION | Rights.PROCESSING, hangzhou,
            _h("yangtze delta logistics index v1"), _NO_HASH, parents=(r1, r2)))
        p2 = ensure("port-energy-model", "SDE", RegistrationRequest(
            Kind.PRODUCT, Grade.GENERAL, Source.ENTERPRISE, hr, lingang, _h("port energy model v1"), _NO_HASH,
            parents=(r1, r3)), delegated_by="m-lingang")
        a1 = ensure("logistics-index-asset", "AHDE", RegistrationRequest(
            Kind.ASSET, Grade.IMPORTANT, Source.ENTERPRISE, Rights.HOLDING | Rights.OPERATION, hefei,
            _h("logistics index data asset 2026"), _NO_HASH, parents=(p1,)), delegated_by="m-hefei")

        # --- the rules at work: core data cannot be listed as a product
        try:
            svc.register(sde, RegistrationRequest(Kind.PRODUCT, Grade.CORE, Source.PERSONAL, Rights.OPERATION,
                                                  lingang, _h("credit score product"), _h("meta"), parents=(r4,)))
        except ContractReverted as exc:
            say(f"Refused as it should be: {exc.error}({', '.join(f'{k}={v}' for k, v in exc.args_by_name.items())})")

        if svc.record(r3).status == Status.ACTIVE:
            svc.set_status(ks.load("AHDE"), r3, Status.SUSPENDED, _h("quality review"))
            say(f"AHDE suspends {DOCUMENTS['factory-energy-use']['title']['zh']} for a quality review")

        # --- transparency logs: each exchange anchors its log; the partners witness (cosign) the checkpoints
        certifier = node.certifier()
        for code, _name in EXCHANGES:
            head = node.chain.block_number()
            anchor = certifier.anchor_checkpoint(ks.load(code))
            if anchor.block > head:
                say(f"{code} anchors its log at size {anchor.tree_size}")
        for code, _name in EXCHANGES:
            for w in certifier.witness(ks.load(code)):
                if w.tx_hash:
                    say(f"{code} cosigns exchange {w.exchange}'s checkpoint at size {w.tree_size}")

        # --- a mutual-recognition certificate, for the verify page
        cert_path = data_dir / "demo-certificate.json"
        issue_demo_certificate(certifier, cert_path, a1, ks.load("AHDE"), say=say,
                               title=DOCUMENTS["logistics-index-asset"]["title"]["zh"])

        flows = _demo_flows(node, svc, say, lingang=lingang, hangzhou=hangzhou, hefei=hefei,
                            records={"r1": r1, "r2": r2, "p1": p1, "r4": r4})
        prop = _demo_property(node, svc, catalogs["SDE"], say, merchants=entity_ids, index=p1, asset=a1)
        anchor_changed_lists(node, [code for code, _name in EXCHANGES], say)

        summary = {
            "data_dir": str(data_dir),
            "federation": {"threshold": svc.threshold(),
                           "exchanges": [f"{e.id}:{e.code} {e.name}" for e in svc.exchanges()]},
            "entities": entity_ids,
            "merchants": {label: {"id": entity_ids[label], "name": name, "creditCode": credit_codes[label],
                                  "exchange": home}
                          for label, _region, _org, _role, home, name in MERCHANTS},
            "titles": {name: doc["title"] for name, doc in DOCUMENTS.items()},
            "records": {name: hex0x(rid) for name, rid in [
                ("port-vessel-traffic", r1), ("logistics-waybills", r2), ("factory-energy-use", r3),
                ("personal-credit-files", r4), ("delta-logistics-index", p1), ("port-energy-model", p2),
                ("logistics-index-asset", a1)]},
            "counts": svc.counts(),
            "certificate": str(cert_path),
            "flows": flows,
            "property": prop,
        }
        # The lineage comes from the node's LevelDB index, brought up to the chain head first.
        node.follower().sync()
        q = IndexQueries(node.index)
        codes = q.exchange_codes()
        cp = node.index.checkpoint()
        summary["index"] = {"checkpoint": cp[0] if cp else 0, **q.counts()}
        summary["lineage"] = {
            name: lineage_json(q.ancestors(rid), codes, direction="ancestors")
            for name, rid in (("logistics-index-asset", a1), ("port-energy-model", p2))
        }
        return summary


def _manifest(name: str, files: int, size: int) -> dict[str, Any]:
    return {"delivery": name, "format": "parquet", "files": [
        {"path": f"{name}/part-{i:03d}.parquet", "sha256": hex0x(_h(f"{name}/{i}")), "size": size}
        for i in range(files)]}


def _demo_flows(node: Node, svc: RegistryService, say: Callable[[str], None], *, lingang: int, hangzhou: int,
                hefei: int, records: dict[str, RecordId]) -> dict[str, Any]:
    """The cross-border lifecycle: a supervisor, the low-risk catalogue, applications of each grade, deliveries
    and a spot check. One process plays every party here; in a pilot each runs its own node and key."""
    from provenance.services.flows import FlowOperations

    ks = node.keystore
    if not ks.has("CAC"):
        ks.create("CAC")
    cac = ks.load("CAC")
    if svc.supervisor_count() == 0:
        pending = [p for p in svc.proposals() if not p.executed and p.action.label == "add-supervisor"]
        pid = pending[-1].id if pending else svc.propose_add_supervisor(
            ks.load("SDE"), "CAC", "Cyberspace Administration (Lin-gang data port)", cac).proposal_id
        svc.approve(ks.load("ZJDE"), pid)
        say(f"SDE proposes the supervisor CAC, ZJDE approves (proposal {pid})")
    ops = Operations(node, key="SDE")
    flows = FlowOperations(ops)
    if not flows.catalogue():
        flows.set_catalogue("MARITIME.AIS", "SG", 90 * 86400, 50 * 2**30, signer=cac)
        say("CAC lists maritime AIS data to Singapore as low-risk (90 days, 50 GiB)")
    if not flows.applications(limit=1):
        auto = flows.file({"recordId": hex0x(records["r1"]), "exporter": lingang, "receiver": hefei,
                           "destination": "SG", "category": "MARITIME.AIS",
                           "purpose": "vessel scheduling for a Singapore terminal operator"}, signer=ks.load("SDE"))
        say(f"Application {auto['id']} (general, on the catalogue): {auto['status']} at once")
        for i in range(8):
            flows.deliver([{"application": auto["id"], "manifest": _manifest(f"ais-2026-11-{i + 1:02d}", 3,
                                                                             40_000_000 + i)}],
                          signer=ks.load("SDE"))
        say(f"SDE records 8 deliveries under application {auto['id']} (manifests kept for spot checks)")
        queued = flows.file({"recordId": hex0x(records["r2"]), "exporter": hangzhou, "receiver": lingang,
                             "destination": "DE", "category": "LOGISTICS.WAYBILL",
                             "purpose": "customs pre-clearance with a Hamburg forwarder",
                             "assessmentRef": "CAC-SA-2026-0117"}, signer=ks.load("ZJDE"))
        say(f"Application {queued['id']} (important): waits in the supervisors' queue")
        index = flows.file({"recordId": hex0x(records["p1"]), "exporter": hangzhou, "receiver": hefei,
                            "destination": "HK", "category": "LOGISTICS.INDEX",
                            "purpose": "index licensing to a Hong Kong research desk",
                            "assessmentRef": "CAC-SA-2026-0098"}, signer=ks.load("ZJDE"))
        now = node.chain.get_block(node.chain.block_number()).timestamp
        flows.approve(index["id"], expires_at=now + 180 * 86400, volume_limit=10 * 2**30, signer=cac)
        flows.deliver([{"application": index["id"], "manifest": _manifest("delta-index-w47", 1, 2_500_000)}],
                      signer=ks.load("ZJDE"))
        say(f"CAC approves application {index['id']} (important) for 180 days and 10 GiB; ZJDE records a delivery")
        try:
            flows.file({"recordId": hex0x(records["r4"]), "exporter": lingang, "receiver": hefei,
                        "destination": "SG", "category": "FINANCE.CREDIT", "purpose": "credit scoring"},
                       signer=ks.load("SDE"))
        except ContractReverted as exc:
            say(f"Refused as it should be: {exc.error} (core data never leaves)")
    if not flows.spot_checks(limit=1):
        check = flows.announce(lingang, 3, signer=cac)
        check = flows.draw(check["id"], signer=ks.load("SDE"))
        answers = flows.answer(check["id"])["answers"]
        flows.submit_answers(check["id"], answers)
        done = flows.conclude(check["id"], signer=cac)
        say(f"CAC spot-checks m-lingang: sample {check['sample']} drawn from block {check['seedBlock']}'s hash; "
            f"{done['report']['passed']} passed, {done['report']['failed']} failed; report anchored")
    return {"supervisor": "CAC", "applications": [a["id"] for a in flows.applications()],
            "queue": [a["id"] for a in flows.queue()], "spotChecks": [c["id"] for c in flows.spot_checks()]}


def _demo_property(node: Node, svc: RegistryService, cat: CatalogService, say: Callable[[str], None], *,
                   merchants: dict[str, int], index: RecordId, asset: RecordId) -> dict[str, Any]:
    """The property register: its institutions, governance's accreditation, appointment and terms, then the asset's
    quality and valuation assessments, its listing and a pledge to the bank; Lingang buys the logistics index from
    Hangzhou Shulian (a transfer, then a change naming the new holder's document) and claims rights in the asset
    built on it (a dispute left open, so every view shows the asset under dispute)."""
    ks = node.keystore
    prop = PropertyService(node.contracts)
    ids: dict[str, int] = {}
    for label, region, organisation, prefix, role, kind, name in INSTITUTIONS:
        code = credit_code(region, organisation, prefix)
        try:
            ids[label] = svc.entity_by_identifier(identifier_hash(code)).id
        except NotFound:
            if not ks.has(label):
                ks.create(label)
            ids[label] = svc.register_entity(ks.load("SDE"), identifier_hash(code), ks.load(label), role)
            say(f"SDE onboards {name['zh']} ({name['en']}) as {role.label} {ids[label]}")
        if not _profile_published(cat, ids[label]):
            cat.set_profile(ids[label], {"name": name, "kind": kind, "creditCode": code, "region": region},
                            signer=ks.load("SDE"))
        if not svc.has_mandate(ids[label], "SDE"):
            svc.set_mandate(ks.load(label), ids[label], "SDE", True)
    (bank, assessor, arbitrator), (lingang, hangzhou, hefei) = ((ids[i[0]] for i in INSTITUTIONS),
                                                                (merchants[m[0]] for m in MERCHANTS))
    decisions = (
            (PropertyDecision.ACCREDIT_ASSESSOR, assessor, 0, prop.is_accredited(assessor), "accredit the assessor"),
            (PropertyDecision.APPOINT_ARBITRATOR, arbitrator, 0, prop.is_arbitrator(arbitrator), "name the arbitrator"),
            (PropertyDecision.SET_TERM, int(Kind.PRODUCT), TERM, prop.term_of(int(Kind.PRODUCT)) == TERM,
             "give products a three-year term"),
            (PropertyDecision.SET_TERM, int(Kind.ASSET), TERM, prop.term_of(int(Kind.ASSET)) == TERM,
             "give assets a three-year term"))
    known = svc.proposals() if not all(d[3] for d in decisions) else []  # read once: each read walks them all
    for decision, subject, value, done, what in decisions:
        if not done:
            pid = _decide(svc, prop, ks, known, decision, subject, value)
            say(f"SDE proposes to {what}, ZJDE approves: proposal {pid}")
    now = svc.chain_time()
    midnight = now - now % DAY
    assessed: dict[str, bytes] = {}
    for what, a in (("quality", AssessmentInput(assessor, 0, reason_hash("HPA-DQ-2026-0311 数据质量评价报告"),
                                                score=9_120, standard=reason_hash("GB/T 36344-2018"))),
                    ("valuation", AssessmentInput(  # income method, CNY 38.6 million, valid for a year
                        assessor, 2, reason_hash("HPA-VA-2026-0117 数据资产评估报告"), method=1, amount=38_600_000_00,
                        currency="CNY", standard=reason_hash("数据资产评估指导意见（中评协〔2023〕17号）"),
                        valuation_date=midnight - DAY, valid_until=midnight + 365 * DAY))):
        assessed[what] = assessment_id(a.assessor, a.kind, a.report_hash)
        try:
            prop.assessment(asset, assessed[what])
        except NotFound:
            prop.assess(ks.load("SDE"), asset, a)
            say(f"{INSTITUTIONS[1][6]['zh']} attests a {what} assessment of the logistics index asset")
    ahde = ks.load("AHDE")
    if not prop.property_of(asset).listed:
        prop.list_record(ahde, asset)
        say("AHDE lists the logistics index asset for trading")
    if prop.pledge_of(asset).seq == 0:
        terms = PledgeTerms(bank, 15_000_000_00, "CNY", midnight + 2 * 365 * DAY, reason_hash("PJDB-2026-ZY-0088"))
        # The bank gave AHDE no mandate: it consents by its account's EIP-712 signature.
        consent = prop.sign_consent(ks.load(INSTITUTIONS[0][0]), "pledge", asset, bank, hefei, pledge_terms(terms),
                                    deadline=now + 3600)
        prop.pledge(ahde, asset, terms, pledgee=consent)
        say(f"{INSTITUTIONS[0][6]['zh']} takes a pledge of the asset for CNY 15,000,000.00 (by signature)")
    zjde = ks.load("ZJDE")
    if svc.record(index).owner == hangzhou:
        receiver = prop.sign_consent(ks.load("m-lingang"), "transfer", index, lingang, hangzhou,
                                     transfer_terms(lingang), deadline=now + 3600)
        prop.transfer(zjde, index, lingang, receiver=receiver)
        say("Hangzhou Shulian transfers the logistics index to Lingang (the buyer consenting by signature)")
    doc = {**DOCUMENTS["delta-logistics-index"], "publisher": lingang,
           "contactPoint": {"name": "临港数据产品部", "email": "data@lingang-data.example.cn"}}
    meta = catalog.parse_metadata(doc)
    cat.ops.follower.sync()
    indexed = cat.ops.indexed(index)
    if indexed.metadata_hash != meta.hash:
        reason = reason_hash("转让登记后变更元数据：持有人为上海临港数据科技有限公司")
        holder = prop.sign_consent(ks.load("m-lingang"), "change", index, lingang, 0,
                                   change_terms(int(indexed.rights), bytes(meta.hash), reason), deadline=now + 3600)
        prop.change(zjde, index, int(indexed.rights), bytes(meta.hash), reason, holder=holder)
        cat.ops.follower.sync()
        indexed = cat.ops.indexed(index)
    if cat.document_bytes(indexed) is None:
        cat.supply(index, doc, signer=zjde)
        say("ZJDE records a change of the logistics index: its document now names Lingang")
    if prop.dispute_of(asset).seq == 0:
        prop.file_dispute(ks.load("SDE"), asset, lingang,
                          reason_hash("临港数据主张：该资产所依据的物流指数已转让予本公司，资产经营权应随之转移"))
        say("Lingang files a dispute over the logistics index asset: it stays under dispute")
    pledge, dispute = prop.pledge_of(asset), prop.dispute_of(asset)
    return {"institutions": {i[0]: {"id": ids[i[0]], "name": i[6], "role": i[4].label, "exchange": "SDE",
                                    "creditCode": credit_code(*i[1:4])} for i in INSTITUTIONS},
            "terms": {"product": prop.term_of(int(Kind.PRODUCT)), "asset": prop.term_of(int(Kind.ASSET))},
            "asset": hex0x(asset), "assessments": {k: hex0x(v) for k, v in assessed.items()},
            "pledge": {"pledgee": pledge.pledgee, "amount": pledge.amount, "currency": pledge.currency,
                       "until": pledge.until},
            "dispute": {"claimant": dispute.claimant, "seq": dispute.seq, "claim": hex0x(dispute.claim_hash)},
            "transfer": {"record": hex0x(index), "from": hangzhou, "to": lingang}}


def _decide(svc: RegistryService, prop: PropertyService, ks: Keystore, known: list[Proposal],
            decision: PropertyDecision, subject: int, value: int) -> int:
    """SDE proposes, ZJDE's approval executes, the register applies; an interrupted run's proposal is carried on."""
    payload = encode(["address", "uint8", "uint32", "uint64"],
                     [to_checksum_address(prop.address), int(decision), subject, value])
    now = svc.chain_time()
    left = [p for p in known if p.action == ProposalAction.PROPERTY_DECISION and p.payload == payload
            and (p.executed or p.expires_at > now)]
    out = None if left else prop.propose_decision(ks.load("SDE"), decision, subject, value)
    if out is not None and out.executed:  # a threshold of one: proposing applied it
        return out.proposal_id
    pid, executed = (left[-1].id, left[-1].executed) if out is None else (out.proposal_id, False)
    if not executed:
        svc.approve(ks.load("ZJDE"), pid)
    prop.apply_decision(ks.load("ZJDE"), pid)
    return pid


def _profile_published(cat: CatalogService, entity_id: int) -> bool:
    with cat.ops.lock:
        cat.ops.follower.sync()
    cat.sync()
    row = cat.index.entity(entity_id)
    return bool(row and row["profile"])


def _exists(svc: RegistryService, code: str) -> bool:
    try:
        svc.exchange_id(code)
        return True
    except NotFound:
        return False
