"""The ``provenance`` command's parser and entry point; the handlers live in one module per command group."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from provenance.chain.reverts import exit_code
from provenance.cli.batch import cmd_batch_import
from provenance.cli.catalog import add_parser as catalog_parser
from provenance.cli.certificates import (
    cmd_cert_issue,
    cmd_cert_list,
    cmd_cert_recognitions,
    cmd_cert_recognize,
    cmd_cert_show,
    cmd_cert_verify,
    cmd_snapshot,
)
from provenance.cli.common import DATA_DIR_ENV
from provenance.cli.dev import cmd_demo, cmd_devnet_down, cmd_devnet_status, cmd_devnet_up
from provenance.cli.entities import cmd_entity_add, cmd_entity_mandate, cmd_entity_recognize, cmd_entity_show
from provenance.cli.federation import (
    cmd_approve,
    cmd_exchange_list,
    cmd_exchange_show,
    cmd_info,
    cmd_init,
    cmd_key_add,
    cmd_key_consent,
    cmd_key_list,
    cmd_key_new,
    cmd_key_revoke,
    cmd_key_rotate,
    cmd_proposals,
    cmd_propose_add,
    cmd_propose_remove,
    cmd_propose_threshold,
)
from provenance.cli.flows import (
    cmd_check,
    cmd_flow_add_supervisor,
    cmd_flow_apply,
    cmd_flow_approve,
    cmd_flow_catalogue,
    cmd_flow_decide,
    cmd_flow_deliver,
    cmd_flow_deliveries,
    cmd_flow_list,
    cmd_flow_queue,
    cmd_flow_relay,
    cmd_flow_remove_supervisor,
    cmd_flow_show,
    cmd_flow_sign_approval,
    cmd_flow_supervisors,
)
from provenance.cli.index import cmd_index_rebuild, cmd_index_status, cmd_index_sync
from provenance.cli.lineage import cmd_impact, cmd_lineage, cmd_path, cmd_search
from provenance.cli.logs import cmd_log_anchor, cmd_log_consistency, cmd_log_proof, cmd_log_show, cmd_log_witness
from provenance.cli.property import add_parser as property_parser
from provenance.cli.registrations import cmd_register, cmd_show, cmd_sign, cmd_status
from provenance.cli.render import print_error, print_result
from provenance.cli.serve import cmd_serve
from provenance.cli.tlog import add_parser as tlog_parser
from provenance.cli.tokens import cmd_token_create, cmd_token_list, cmd_token_revoke
from provenance.errors import ProvenanceError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        result = args.handler(args)
    except ProvenanceError as exc:
        print_error(args, exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print_result(args, result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="provenance", description="Data registration and provenance node.")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get(DATA_DIR_ENV, "data")),
                   help=f"node data directory (default: ${DATA_DIR_ENV} or ./data)")
    p.add_argument("--passphrase-file", type=Path, help="read the keystore passphrase from this file")
    p.add_argument("--as", dest="key", metavar="LABEL", help="keystore label of the exchange key to act with")
    p.add_argument("--json", action="store_true", help="print JSON")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("init", help="initialise a data directory: key, chain, contracts")
    s.add_argument("--exchange", required=True,
                   help="code of this node's exchange, e.g. SDE (a supervisor's node, which attaches, its code)")
    s.add_argument("--name", required=True, help="display name of the exchange")
    s.add_argument("--chain-id", type=int, help="chain id of a new embedded chain (default 1502)")
    s.add_argument("--rpc-url", help="use this JSON-RPC endpoint instead of the embedded chain")
    s.add_argument("--federation", help="attach to a deployed federation at this address (with --registry)")
    s.add_argument("--registry", help="attach to a deployed registry at this address")
    s.add_argument("--cross-border", help="and to the deployed cross-border flows contract at this address")
    s.add_argument("--scrypt-n", type=int, default=None, help="scrypt cost of new keys (default 2**18)")
    s.set_defaults(handler=cmd_init)

    s = sub.add_parser("info", help="chain, contracts, federation and counts")
    s.set_defaults(handler=cmd_info)

    s = sub.add_parser("demo", help="set up a demo federation of three exchanges and a lineage graph")
    s.add_argument("--scrypt-n", type=int, default=None, help="scrypt cost of the demo keys")
    s.add_argument("--scale", choices=["seed"], default=None,
                   help="build the action plan's scale instead: 100,000 entities and 25,500 records with metadata "
                        "documents, the data directory `scripts/bench scale` measures (long: see README)")
    s.set_defaults(handler=cmd_demo)

    key = sub.add_parser("key", help="keys in the keystore and on-chain key rotation").add_subparsers(
        dest="key_command", metavar="ACTION", required=True)
    s = key.add_parser("list", help="keys in the keystore, with the exchange each signs for")
    s.set_defaults(handler=cmd_key_list)
    s = key.add_parser("new", help="create a key in the keystore")
    s.add_argument("label")
    s.set_defaults(handler=cmd_key_new)
    s = key.add_parser("rotate", help="replace the acting exchange key with a new one, on-chain")
    s.add_argument("new_label", help="label for the new key")
    s.set_defaults(handler=cmd_key_rotate)
    s = key.add_parser("add", help="add a keystore key (by label) to the acting key's exchange")
    s.add_argument("label")
    s.set_defaults(handler=cmd_key_add)
    s = key.add_parser("consent", help="sign a keystore key's consent to be the first key of a proposed member")
    s.add_argument("label")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("--supervisor", action="store_true", help="for a supervisor (default: an exchange)")
    s.set_defaults(handler=cmd_key_consent)
    s = key.add_parser("revoke", help="revoke one of the acting exchange's keys")
    s.add_argument("address")
    s.set_defaults(handler=cmd_key_revoke)

    ex = sub.add_parser("exchange", help="member exchanges and governance").add_subparsers(
        dest="exchange_command", metavar="ACTION", required=True)
    s = ex.add_parser("list", help="member exchanges")
    s.set_defaults(handler=cmd_exchange_list)
    s = ex.add_parser("show", help="an exchange and its key history")
    s.add_argument("exchange", help="code or id")
    s.set_defaults(handler=cmd_exchange_show)
    s = ex.add_parser("propose-add", help="propose a new member exchange")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("key_address", metavar="KEY", help="address of the new exchange's first key")
    s.add_argument("--key-signature", help="the key's own MemberKey signature (`key consent` where it is held); "
                   "not needed when this keystore holds the key")
    s.set_defaults(handler=cmd_propose_add)
    s = ex.add_parser("propose-remove", help="propose removing a member exchange")
    s.add_argument("exchange")
    s.set_defaults(handler=cmd_propose_remove)
    s = ex.add_parser("propose-threshold", help="propose a new approval threshold")
    s.add_argument("threshold", type=int)
    s.set_defaults(handler=cmd_propose_threshold)
    s = ex.add_parser("approve", help="approve a proposal")
    s.add_argument("proposal_id", type=int)
    s.set_defaults(handler=cmd_approve)
    s = ex.add_parser("proposals", help="all proposals")
    s.set_defaults(handler=cmd_proposals)

    en = sub.add_parser("entity", help="merchants and other entities").add_subparsers(
        dest="entity_command", metavar="ACTION", required=True)
    s = en.add_parser("add", help="onboard an entity at the acting exchange")
    s.add_argument("--identifier", required=True, help="e.g. the unified social credit code (only its hash is stored)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--account", help="the entity's account address")
    g.add_argument("--account-key", help="keystore label whose address is the entity's account")
    s.add_argument("--role", default="supplier", help="supplier, demander or service-provider")
    s.add_argument("--profile", type=Path, metavar="FILE",
                   help="the entity's profile (JSON: name, kind, creditCode, region); an organisation's is published "
                        "on chain, an individual's never leaves this node")
    s.set_defaults(handler=cmd_entity_add)
    s = en.add_parser("show", help="an entity")
    s.add_argument("entity", help="entity id, or --identifier")
    s.set_defaults(handler=cmd_entity_show)
    s = en.add_parser("recognize", help="recognise an entity onboarded by another exchange")
    s.add_argument("entity_id", type=int)
    s.set_defaults(handler=cmd_entity_recognize)
    s = en.add_parser("mandate", help="(as the entity) grant or withdraw an exchange's mandate")
    s.add_argument("entity_id", type=int)
    s.add_argument("--exchange", required=True)
    s.add_argument("--key", required=True, help="keystore label of the entity's account key")
    s.add_argument("--withdraw", action="store_true")
    s.set_defaults(handler=cmd_entity_mandate)

    s = sub.add_parser("register", help="register a data resource, product or asset")
    _request_args(s)
    g = s.add_mutually_exclusive_group()
    g.add_argument("--owner-key", help="keystore label of the owner's key: sign the registration (EIP-712)")
    g.add_argument("--signed", type=Path, help="a signed registration from `provenance sign`")
    s.set_defaults(handler=cmd_register)

    s = sub.add_parser("sign", help="(as the owner) sign a registration for an exchange to submit")
    _request_args(s)
    s.add_argument("--registrar", required=True, help="exchange that may submit it (code or id)")
    s.add_argument("--owner-key", required=True, help="keystore label of the owner's key")
    s.add_argument("--ttl", type=int, default=3600, help="seconds the signature stays valid")
    s.add_argument("--out", type=Path, help="write the signed registration here (default: stdout)")
    s.set_defaults(handler=cmd_sign)

    s = sub.add_parser("status", help="change a record's status (registrar only)")
    s.add_argument("record")
    s.add_argument("status", help="active, suspended or revoked")
    s.add_argument("--reason", default="", help="reason (a 32-byte hex hash, or text that is hashed)")
    s.set_defaults(handler=cmd_status)

    s = sub.add_parser("show", help="a record with its parents")
    s.add_argument("record")
    s.set_defaults(handler=cmd_show)

    s = sub.add_parser("lineage", help="a record's ancestors (or descendants), from the index")
    s.add_argument("record")
    s.add_argument("--descendants", action="store_true", help="walk down to derived records instead")
    s.add_argument("--max-depth", type=int, default=64)
    s.add_argument("--max-nodes", type=int, default=10_000)
    s.add_argument("--format", choices=["tree", "json", "prov", "openlineage"], default="tree",
                   help="tree (or JSON with --json), W3C PROV-JSON, or OpenLineage run events")
    s.set_defaults(handler=cmd_lineage)
    s = sub.add_parser("impact", help="every record derived from this one, flagged if it is not active")
    s.add_argument("record")
    s.add_argument("--max-depth", type=int, default=64)
    s.set_defaults(handler=cmd_impact)
    s = sub.add_parser("path", help="a derivation path from a record up to one of its ancestors")
    s.add_argument("descendant")
    s.add_argument("ancestor")
    s.set_defaults(handler=cmd_path)
    s = sub.add_parser("search", help="records by content hash, owner, registrar, kind, grade or status")
    s.add_argument("--content-hash")
    s.add_argument("--owner", type=int)
    s.add_argument("--registrar", help="exchange code or id")
    s.add_argument("--kind")
    s.add_argument("--grade")
    s.add_argument("--status")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--after", type=int, default=-1, help="continue after this result cursor")
    s.set_defaults(handler=cmd_search)

    ix = sub.add_parser("index", help="the LevelDB lineage index").add_subparsers(
        dest="index_command", metavar="ACTION", required=True)
    s = ix.add_parser("sync", help="index the chain up to its head (less the configured confirmations)")
    s.add_argument("--follow", type=float, metavar="SECONDS",
                   help="keep following the chain, polling every SECONDS, until interrupted")
    s.set_defaults(handler=cmd_index_sync)
    s = ix.add_parser("rebuild", help="drop the index and rebuild it from the chain")
    s.set_defaults(handler=cmd_index_rebuild)
    s = ix.add_parser("status", help="checkpoint, chain head, lag and counts")
    s.set_defaults(handler=cmd_index_status)

    bt = sub.add_parser("batch", help="batched registrations, anchored in one transaction per batch").add_subparsers(
        dest="batch_command", metavar="ACTION", required=True)
    s = bt.add_parser("import", help="queue registrations from a JSON Lines or CSV file and seal them in batches")
    s.add_argument("file", type=Path, help="JSON Lines (one object a line) or CSV with a header row; fields: kind, "
                                           "grade, source, rights, owner, contentHash, metadataHash, parents "
                                           "(space-separated in CSV), supersedes; a JSON line may carry its "
                                           "metadata document inline as metadata")
    s.add_argument("--batch-size", type=int, default=1000, help="records a batch (default 1000)")
    s.set_defaults(handler=cmd_batch_import)

    lg = sub.add_parser("log", help="the exchanges' transparency logs").add_subparsers(
        dest="log_command", metavar="ACTION", required=True)
    s = lg.add_parser("show", help="an exchange's log: size, root, anchored checkpoints")
    s.add_argument("exchange", help="exchange code or id")
    s.set_defaults(handler=cmd_log_show)
    s = lg.add_parser("anchor", help="anchor the acting exchange's log as it stands (covers direct registrations)")
    s.set_defaults(handler=cmd_log_anchor)
    s = lg.add_parser("proof", help="inclusion proof of a record under its latest anchored checkpoint")
    s.add_argument("record", help="record id")
    s.set_defaults(handler=cmd_log_proof)
    s = lg.add_parser("consistency", help="consistency proof between two sizes of an exchange's log")
    s.add_argument("exchange", help="exchange code or id")
    s.add_argument("size1", type=int)
    s.add_argument("size2", type=int)
    s.set_defaults(handler=cmd_log_consistency)
    s = lg.add_parser("witness", help="cosign partners' new checkpoints after checking consistency")
    s.set_defaults(handler=cmd_log_witness)

    ce = sub.add_parser("cert", help="mutual-recognition certificates").add_subparsers(
        dest="cert_command", metavar="ACTION", required=True)
    s = ce.add_parser("issue", help="issue a certificate for one of the acting exchange's records")
    s.add_argument("record", help="record id")
    s.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    s.add_argument("--out", type=Path, help="write the certificate here")
    s.set_defaults(handler=cmd_cert_issue)
    s = ce.add_parser("verify", help="verify a certificate, online against the chain or offline")
    s.add_argument("file", type=Path)
    s.add_argument("--offline", action="store_true", help="use only the certificate and a federation snapshot")
    s.add_argument("--snapshot", type=Path, help="federation snapshot (offline mode)")
    s.add_argument("--trust", action="append", default=[], metavar="ADDRESS",
                   help="a key trusted to sign snapshots (repeatable; default: the acting exchange's keys)")
    s.set_defaults(handler=cmd_cert_verify)
    s = ce.add_parser("recognize", help="verify a partner's certificate, add this exchange's recognition")
    s.add_argument("file", type=Path)
    s.add_argument("--out", type=Path, help="write the recognised certificate here")
    s.add_argument("--off-chain", action="store_true", help="do not record the recognition on-chain")
    s.set_defaults(handler=cmd_cert_recognize)
    s = ce.add_parser("list", help="certificates issued by this node, newest first")
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=cmd_cert_list)
    s = ce.add_parser("show", help="an issued certificate, by its credential hash")
    s.add_argument("credential")
    s.add_argument("--out", type=Path, help="write it here")
    s.set_defaults(handler=cmd_cert_show)
    s = ce.add_parser("recognitions", help="recognitions of a certificate recorded on-chain")
    s.add_argument("credential")
    s.set_defaults(handler=cmd_cert_recognitions)
    s = sub.add_parser("snapshot", help="a signed federation snapshot for offline verifiers")
    s.add_argument("--out", type=Path, help="write the snapshot here")
    s.add_argument("--no-anchor", action="store_true", help="do not anchor the status list's hash on-chain")
    s.set_defaults(handler=cmd_snapshot)

    s = sub.add_parser("serve", help="serve the HTTP API, the explorer and the verify page")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    s.add_argument("--demo", action="store_true",
                   help="seed the demo federation first if the data directory is new (and keep it after)")
    s.add_argument("--rate", type=float, default=200.0, help="requests a second allowed per client (default 200)")
    s.add_argument("--max-body", type=int, default=2 * 1024 * 1024, help="largest request body in bytes")
    s.add_argument("--public-url", help="where others reach this node, written into the documents it signs "
                                        "(default: node.toml's [api] public_url, else http://HOST:PORT)")
    s.set_defaults(handler=cmd_serve)

    fl = sub.add_parser("flow", help="cross-border flows: supervisors, applications, deliveries, spot checks"
                        ).add_subparsers(dest="flow_command", metavar="ACTION", required=True)
    s = fl.add_parser("supervisors", help="supervisors and their keys")
    s.set_defaults(handler=cmd_flow_supervisors)
    s = fl.add_parser("add-supervisor", help="propose a supervisor (threshold governance)")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("address", help="the supervisor's key address")
    s.add_argument("--key-signature", help="the key's own MemberKey signature (`key consent --supervisor`); not "
                   "needed when this keystore holds the key")
    s.set_defaults(handler=cmd_flow_add_supervisor)
    s = fl.add_parser("remove-supervisor", help="propose removing a supervisor")
    s.add_argument("supervisor", help="code or id")
    s.set_defaults(handler=cmd_flow_remove_supervisor)
    s = fl.add_parser("catalogue", help="the low-risk catalogue; with --set, list or delist a pair (supervisor)")
    s.add_argument("--set", nargs=2, metavar=("CATEGORY", "DEST"), help="the pair to list (with --days) or delist")
    s.add_argument("--days", type=int, default=0, help="validity of automatic approvals; 0 delists")
    s.add_argument("--max-bytes", type=int, default=0, help="volume of automatic approvals (0: no limit)")
    s.set_defaults(handler=cmd_flow_catalogue)
    s = fl.add_parser("apply", help="file a transfer application for an exporter (under its mandate)")
    s.add_argument("--record", required=True)
    s.add_argument("--exporter", type=int, required=True, help="exporter entity id (the record's owner)")
    s.add_argument("--receiver", type=int, required=True, help="receiving entity id")
    s.add_argument("--to", dest="destination", required=True, help="destination jurisdiction, e.g. SG")
    s.add_argument("--category", required=True, help="data category code, e.g. IOT.TELEMETRY")
    s.add_argument("--purpose", required=True)
    s.add_argument("--assessment", help="security-assessment reference (important data)")
    s.set_defaults(handler=cmd_flow_apply)
    s = fl.add_parser("list", help="applications")
    s.add_argument("--exporter", type=int)
    s.add_argument("--record")
    s.add_argument("--status", choices=["pending", "approved", "rejected", "revoked"])
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=cmd_flow_list)
    s = fl.add_parser("queue", help="the supervisors' queue (pending applications)")
    s.set_defaults(handler=cmd_flow_queue)
    s = fl.add_parser("show", help="one application, with its deliveries")
    s.add_argument("application", type=int)
    s.set_defaults(handler=cmd_flow_show)
    for name, help_ in (("approve", "approve a pending application (with a supervisor's key: --as)"),
                        ("sign-approval", "sign an approval for someone else to relay (supervisor's key)")):
        s = fl.add_parser(name, help=help_)
        s.add_argument("application", type=int)
        s.add_argument("--days", type=int, default=0, help="approval valid for this many days (0: no expiry)")
        s.add_argument("--max-bytes", type=int, default=0, help="volume limit (0: none)")
        if name == "sign-approval":
            s.add_argument("--valid-minutes", type=int, default=60, help="relay deadline (default 60)")
            s.add_argument("--out", type=Path)
        s.set_defaults(handler=cmd_flow_approve if name == "approve" else cmd_flow_sign_approval)
    s = fl.add_parser("relay-approval", help="submit a supervisor's signed approval")
    s.add_argument("file", type=Path)
    s.set_defaults(handler=cmd_flow_relay)
    for name, help_ in (("reject", "reject a pending application"), ("revoke", "withdraw an approval")):
        s = fl.add_parser(name, help=help_)
        s.add_argument("application", type=int)
        s.add_argument("reason", help="up to 32 bytes")
        s.set_defaults(handler=cmd_flow_decide, decision=name)
    s = fl.add_parser("deliver", help="record deliveries under an approval (several manifests: one transaction)")
    s.add_argument("application", type=int)
    s.add_argument("manifests", type=Path, nargs="+", help="manifest JSON files ({files: [{path, sha256, size}]})")
    s.set_defaults(handler=cmd_flow_deliver)
    s = fl.add_parser("deliveries", help="recorded deliveries")
    s.add_argument("--application", type=int)
    s.add_argument("--exporter", type=int)
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=cmd_flow_deliveries)
    ck = fl.add_parser("check", help="spot checks").add_subparsers(dest="check_command", metavar="STEP",
                                                                   required=True)
    s = ck.add_parser("announce", help="announce a spot check of an exporter's deliveries (supervisor)")
    s.add_argument("exporter", type=int)
    s.add_argument("--sample", type=int, default=5, help="deliveries to sample (1-64)")
    s.set_defaults(handler=cmd_check, step="announce")
    for step, help_ in (("draw", "draw the sample from the seed block's hash"), ("show", "a spot check"),
                        ("answer", "the exporter's answers: kept manifests of the sampled deliveries"),
                        ("conclude", "judge the answers and anchor the report (supervisor)"),
                        ("report", "the kept report")):
        s = ck.add_parser(step, help=help_)
        s.add_argument("check", type=int)
        if step in ("answer", "report"):
            s.add_argument("--out", type=Path)
        s.set_defaults(handler=cmd_check, step=step)
    s = ck.add_parser("take-answers", help="take an exporter's answers file (supervisor)")
    s.add_argument("check", type=int)
    s.add_argument("file", type=Path)
    s.set_defaults(handler=cmd_check, step="take-answers")
    s = ck.add_parser("list", help="spot checks")
    s.set_defaults(handler=cmd_check, step="list", check=0)
    s = ck.add_parser("verify", help="check a report against the chain")
    s.add_argument("file", type=Path)
    s.set_defaults(handler=cmd_check, step="verify", check=0)

    dn = sub.add_parser("devnet", help="a local federation: a local chain and three exchange nodes").add_subparsers(
        dest="devnet_command", metavar="ACTION", required=True)
    for name, handler, text in (("up", cmd_devnet_up, "start the chain, deploy, admit, start the three nodes"),
                                ("down", cmd_devnet_down, "stop the nodes and the chain"),
                                ("status", cmd_devnet_status, "what runs, and the nodes' health")):
        s = dn.add_parser(name, help=text)
        s.add_argument("--dir", type=Path, default=Path("federation"), help="where the nodes keep their data")
        s.add_argument("--base-port", type=int, default=8601, help="first node's HTTP port (then +1, +2)")
        s.add_argument("--chain-port", type=int, default=8545, help="the local chain's JSON-RPC port")
        s.add_argument("--chain", choices=["anvil", "hardhat"], default="anvil",
                       help="anvil keeps the chain in <dir>/chain/state.json, so `up` after `down` resumes the same "
                            "federation; Hardhat lives in memory (default: anvil)")
        s.set_defaults(handler=handler)

    catalog_parser(sub)
    property_parser(sub)
    tlog_parser(sub)

    tk = sub.add_parser("token", help="API tokens of this node (stored hashed)").add_subparsers(
        dest="token_command", metavar="ACTION", required=True)
    s = tk.add_parser("create", help="create a token; it is printed once")
    s.add_argument("--role", required=True, choices=["admin", "registrar", "member", "merchant"])
    s.add_argument("--name", required=True, help="who holds it (unique)")
    s.add_argument("--entity", type=int, help="the entity a merchant token speaks for")
    s.add_argument("--exchange", type=int, help="the partner exchange a member token speaks for")
    s.set_defaults(handler=cmd_token_create)
    s = tk.add_parser("list", help="tokens (names, roles; never the tokens)")
    s.set_defaults(handler=cmd_token_list)
    s = tk.add_parser("revoke", help="revoke a token by name or id")
    s.add_argument("name")
    s.set_defaults(handler=cmd_token_revoke)
    return p


def _request_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--kind", required=True, help="resource, product or asset")
    s.add_argument("--grade", default="general", help="general, important or core")
    s.add_argument("--source", default="enterprise", help="public, enterprise or personal")
    s.add_argument("--rights", default="holding", help="comma list of holding, processing, operation")
    s.add_argument("--owner", required=True, type=int, help="owner entity id")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--content-hash", help="32-byte hex content hash")
    g.add_argument("--file", type=Path, help="hash this file's content (SHA-256)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--metadata-hash", help="32-byte hex metadata hash")
    g.add_argument("--metadata-file", type=Path, help="hash this metadata file (SHA-256)")
    g.add_argument("--metadata", type=Path, metavar="FILE",
                   help="the metadata document (JSON, schema metadata-v1: title, description, publisher, keywords, "
                        "themes...): checked, hashed (keccak256 of its RFC 8785 form), kept and, for general grade, "
                        "published to the federation's catalogue")
    s.add_argument("--parent", action="append", default=[], help="parent record id (repeatable)")
    s.add_argument("--supersedes", help="id of the record this is a new version of")


def run() -> None:
    """Console entry point: run, flush, and leave without interpreter teardown.

    After a block has been mined into the LevelDB-backed py-evm chain, CPython's final teardown prints a bare
    "Error in sys.excepthook" (an error raised while modules are being destroyed, after every database was
    closed). Nothing is left to clean up once main() returned, so skip the teardown rather than show noise.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
