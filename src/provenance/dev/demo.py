"""The demo federation: Shanghai and two Yangtze River Delta partner exchanges, three merchants, and a small
lineage graph of resources, derived products and an asset, registered directly and by delegation.

Every step checks the chain first, so an interrupted demo picks up where it stopped and a second run only
prints the summary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.bootstrap import init_node
from provenance.config import CONFIG_NAME
from provenance.core.ids import hex0x, identifier_hash, record_id
from provenance.errors import ContractReverted, NotFound
from provenance.indexer.queries import IndexQueries, lineage_json
from provenance.keystore import PassphraseSource
from provenance.node import Node
from provenance.service import RegistryService
from provenance.types import (
    EntityRole,
    Grade,
    Hash32,
    Kind,
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
# key label, unified social credit code (demo values), role, home exchange
MERCHANTS = [
    ("m-lingang", "91310115MA1K4DEMO1", EntityRole.SUPPLIER, "SDE"),
    ("m-hangzhou", "91330106MA2GDEMO2", EntityRole.SUPPLIER, "ZJDE"),
    ("m-hefei", "91340100MA2TDEMO3", EntityRole.SERVICE_PROVIDER, "AHDE"),
]


def _h(text: str) -> Hash32:
    return Hash32(hashlib.sha256(text.encode("utf-8")).digest())


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

        # --- merchants, mandates, mutual recognition
        entity_ids: dict[str, int] = {}
        for label, uscc, role, home in MERCHANTS:
            ident = identifier_hash(uscc)
            try:
                entity_ids[label] = svc.entity_by_identifier(ident).id
            except NotFound:
                # The demo's keystore holds each merchant's key, so the merchant's consent is signed here.
                entity_ids[label] = svc.register_entity(ks.load(home), ident, ks.load(label), role)
                say(f"{home} onboards merchant {label} as entity {entity_ids[label]}")
            if not svc.has_mandate(entity_ids[label], home):
                svc.set_mandate(ks.load(label), entity_ids[label], home, True)
                say(f"{label} grants {home} a mandate to register its data")
        lingang, hangzhou, hefei = (entity_ids[m[0]] for m in MERCHANTS)
        if not svc.is_recognized(lingang, "ZJDE"):
            svc.recognize_entity(ks.load("ZJDE"), lingang)
            say(f"ZJDE recognises entity {lingang} (onboarded by SDE)")

        # --- the lineage graph
        def ensure(name: str, registrar: str, req: RegistrationRequest, *, delegated_by: str | None = None) -> RecordId:
            rid = record_id(svc.exchange_id(registrar), req.content_hash)
            try:
                svc.record(rid)
                return rid
            except NotFound:
                pass
            signer = ks.load(registrar)
            if delegated_by:
                signed = svc.sign_registration(ks.load(delegated_by), registrar, req)
                rid, res = svc.register_for(signer, signed)
                how = f"signed by {delegated_by} (EIP-712), submitted by {registrar}"
            else:
                rid, res = svc.register(signer, req)
                how = f"registered by {registrar} under mandate"
            say(f"{name}: {req.kind.label}/{req.grade.label} {hex0x(rid)[:18]}... {how}, gas {res.gas_used}")
            return rid

        hr = Rights.HOLDING | Rights.PROCESSING
        r1 = ensure("Port vessel traffic", "SDE", RegistrationRequest(
            Kind.RESOURCE, Grade.GENERAL, Source.PUBLIC, hr, lingang, _h("port vessel traffic 2026"),
            _h("meta: AIS feed, Yangshan port")))
        r2 = ensure("Logistics waybills", "ZJDE", RegistrationRequest(
            Kind.RESOURCE, Grade.IMPORTANT, Source.ENTERPRISE, hr, hangzhou, _h("zhejiang waybills 2026"),
            _h("meta: waybill records, de-identified")))
        r3 = ensure("Factory energy use", "AHDE", RegistrationRequest(
            Kind.RESOURCE, Grade.GENERAL, Source.ENTERPRISE, hr, hefei, _h("anhui factory energy 2026"),
            _h("meta: smart meter readings")))
        r4 = ensure("Personal credit files", "SDE", RegistrationRequest(
            Kind.RESOURCE, Grade.CORE, Source.PERSONAL, Rights.HOLDING, lingang, _h("personal credit files"),
            _h("meta: core data, holding only")))
        p1 = ensure("Delta logistics index", "ZJDE", RegistrationRequest(
            Kind.PRODUCT, Grade.IMPORTANT, Source.ENTERPRISE, Rights.OPERATION | Rights.PROCESSING, hangzhou,
            _h("yangtze delta logistics index v1"), _h("meta: weekly index"), parents=(r1, r2)))
        p2 = ensure("Port energy model", "SDE", RegistrationRequest(
            Kind.PRODUCT, Grade.GENERAL, Source.ENTERPRISE, hr, lingang, _h("port energy model v1"),
            _h("meta: regression model"), parents=(r1, r3)), delegated_by="m-lingang")
        a1 = ensure("Logistics index asset", "AHDE", RegistrationRequest(
            Kind.ASSET, Grade.IMPORTANT, Source.ENTERPRISE, Rights.HOLDING | Rights.OPERATION, hefei,
            _h("logistics index data asset 2026"), _h("meta: asset entry"), parents=(p1,)),
            delegated_by="m-hefei")

        # --- the rules at work: core data cannot be listed as a product
        try:
            svc.register(sde, RegistrationRequest(Kind.PRODUCT, Grade.CORE, Source.PERSONAL, Rights.OPERATION,
                                                  lingang, _h("credit score product"), _h("meta"), parents=(r4,)))
        except ContractReverted as exc:
            say(f"Refused as it should be: {exc.error}({', '.join(f'{k}={v}' for k, v in exc.args_by_name.items())})")

        if svc.record(r3).status == Status.ACTIVE:
            svc.set_status(ks.load("AHDE"), r3, Status.SUSPENDED, _h("quality review"))
            say("AHDE suspends 'Factory energy use' for a quality review")

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
        if not cert_path.exists():
            doc = certifier.issue(a1, ks.load("AHDE"))
            tmp = cert_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
            tmp.replace(cert_path)
            say(f"AHDE issues a certificate for the logistics index asset and its lineage: {cert_path}")

        flows = _demo_flows(node, svc, say, lingang=lingang, hangzhou=hangzhou, hefei=hefei,
                            records={"r1": r1, "r2": r2, "p1": p1, "r4": r4})

        summary = {
            "data_dir": str(data_dir),
            "federation": {"threshold": svc.threshold(),
                           "exchanges": [f"{e.id}:{e.code} {e.name}" for e in svc.exchanges()]},
            "entities": entity_ids,
            "records": {name: hex0x(rid) for name, rid in [
                ("port-vessel-traffic", r1), ("logistics-waybills", r2), ("factory-energy-use", r3),
                ("personal-credit-files", r4), ("delta-logistics-index", p1), ("port-energy-model", p2),
                ("logistics-index-asset", a1)]},
            "counts": svc.counts(),
            "certificate": str(cert_path),
            "flows": flows,
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
    from provenance.flow_operations import FlowOperations
    from provenance.operations import Operations

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


def _exists(svc: RegistryService, code: str) -> bool:
    try:
        svc.exchange_id(code)
        return True
    except NotFound:
        return False
