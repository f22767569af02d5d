"""The ``provenance`` command. It parses arguments, calls the service, and prints; it holds no logic of its own.

Exit codes: 0 success; 2 invalid input or usage; 3 configuration; 4 not found; 5 storage (including a data
directory locked by another process); 6 keystore; 7 chain; 8 a contract refused the call; 9 a certificate or
snapshot failed verification; 1 anything else.
``--json`` prints one JSON document on stdout (errors as {"error": ..., "message": ...} on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.chain.reverts import exit_code
from provenance.core.ids import (
    parse_address,
    parse_hash32,
)
from provenance.core.ijson import EXACT_INT
from provenance.core.ijson import loads as ijson_loads
from provenance.errors import (
    ChainMismatch,
    ContractReverted,
    DocumentTooLarge,
    DuplicateKey,
    InvalidInput,
    ProvenanceError,
    VerificationError,
)
from provenance.jsonable import jsonable
from provenance.keystore import PassphraseSource
from provenance.tuning import tune_node
from provenance.types import (
    Grade,
    Hash32,
    Kind,
    RecordId,
    RegistrationRequest,
    Rights,
    Source,
)

if TYPE_CHECKING:
    from provenance.service import SignedRegistration

DATA_DIR_ENV = "PROVENANCE_DATA_DIR"
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Largest document file the CLI reads (a certificate, snapshot, signed registration, manifest, report)."""
MAX_BATCH_BYTES = 256 * 1024 * 1024
"""Largest JSON Lines or CSV file of registrations ``batch import`` reads."""
MAX_LINE_BYTES = 64 * 1024
"""Largest line (one registration) of a batch file; a registration with 16 parents is under 2 KiB."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        result = args.handler(args)
    except ProvenanceError as exc:
        _print_error(args, exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if result is not None:
        _print_result(args, result)
    return 0


# ---------------------------------------------------------------------- parser


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
    s.set_defaults(handler=_cmd_init)

    s = sub.add_parser("info", help="chain, contracts, federation and counts")
    s.set_defaults(handler=_cmd_info)

    s = sub.add_parser("demo", help="set up a demo federation of three exchanges and a lineage graph")
    s.add_argument("--scrypt-n", type=int, default=None, help="scrypt cost of the demo keys")
    s.set_defaults(handler=_cmd_demo)

    key = sub.add_parser("key", help="keys in the keystore and on-chain key rotation").add_subparsers(
        dest="key_command", metavar="ACTION", required=True)
    s = key.add_parser("list", help="keys in the keystore, with the exchange each signs for")
    s.set_defaults(handler=_cmd_key_list)
    s = key.add_parser("new", help="create a key in the keystore")
    s.add_argument("label")
    s.set_defaults(handler=_cmd_key_new)
    s = key.add_parser("rotate", help="replace the acting exchange key with a new one, on-chain")
    s.add_argument("new_label", help="label for the new key")
    s.set_defaults(handler=_cmd_key_rotate)
    s = key.add_parser("add", help="add a keystore key (by label) to the acting key's exchange")
    s.add_argument("label")
    s.set_defaults(handler=_cmd_key_add)
    s = key.add_parser("consent", help="sign a keystore key's consent to be the first key of a proposed member")
    s.add_argument("label")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("--supervisor", action="store_true", help="for a supervisor (default: an exchange)")
    s.set_defaults(handler=_cmd_key_consent)
    s = key.add_parser("revoke", help="revoke one of the acting exchange's keys")
    s.add_argument("address")
    s.set_defaults(handler=_cmd_key_revoke)

    ex = sub.add_parser("exchange", help="member exchanges and governance").add_subparsers(
        dest="exchange_command", metavar="ACTION", required=True)
    s = ex.add_parser("list", help="member exchanges")
    s.set_defaults(handler=_cmd_exchange_list)
    s = ex.add_parser("show", help="an exchange and its key history")
    s.add_argument("exchange", help="code or id")
    s.set_defaults(handler=_cmd_exchange_show)
    s = ex.add_parser("propose-add", help="propose a new member exchange")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("key_address", metavar="KEY", help="address of the new exchange's first key")
    s.add_argument("--key-signature", help="the key's own MemberKey signature (`key consent` where it is held); "
                   "not needed when this keystore holds the key")
    s.set_defaults(handler=_cmd_propose_add)
    s = ex.add_parser("propose-remove", help="propose removing a member exchange")
    s.add_argument("exchange")
    s.set_defaults(handler=_cmd_propose_remove)
    s = ex.add_parser("propose-threshold", help="propose a new approval threshold")
    s.add_argument("threshold", type=int)
    s.set_defaults(handler=_cmd_propose_threshold)
    s = ex.add_parser("approve", help="approve a proposal")
    s.add_argument("proposal_id", type=int)
    s.set_defaults(handler=_cmd_approve)
    s = ex.add_parser("proposals", help="all proposals")
    s.set_defaults(handler=_cmd_proposals)

    en = sub.add_parser("entity", help="merchants and other entities").add_subparsers(
        dest="entity_command", metavar="ACTION", required=True)
    s = en.add_parser("add", help="onboard an entity at the acting exchange")
    s.add_argument("--identifier", required=True, help="e.g. the unified social credit code (only its hash is stored)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--account", help="the entity's account address")
    g.add_argument("--account-key", help="keystore label whose address is the entity's account")
    s.add_argument("--role", default="supplier", help="supplier, demander or service-provider")
    s.set_defaults(handler=_cmd_entity_add)
    s = en.add_parser("show", help="an entity")
    s.add_argument("entity", help="entity id, or --identifier")
    s.set_defaults(handler=_cmd_entity_show)
    s = en.add_parser("recognize", help="recognise an entity onboarded by another exchange")
    s.add_argument("entity_id", type=int)
    s.set_defaults(handler=_cmd_entity_recognize)
    s = en.add_parser("mandate", help="(as the entity) grant or withdraw an exchange's mandate")
    s.add_argument("entity_id", type=int)
    s.add_argument("--exchange", required=True)
    s.add_argument("--key", required=True, help="keystore label of the entity's account key")
    s.add_argument("--withdraw", action="store_true")
    s.set_defaults(handler=_cmd_entity_mandate)

    s = sub.add_parser("register", help="register a data resource, product or asset")
    _request_args(s)
    g = s.add_mutually_exclusive_group()
    g.add_argument("--owner-key", help="keystore label of the owner's key: sign the registration (EIP-712)")
    g.add_argument("--signed", type=Path, help="a signed registration from `provenance sign`")
    s.set_defaults(handler=_cmd_register)

    s = sub.add_parser("sign", help="(as the owner) sign a registration for an exchange to submit")
    _request_args(s)
    s.add_argument("--registrar", required=True, help="exchange that may submit it (code or id)")
    s.add_argument("--owner-key", required=True, help="keystore label of the owner's key")
    s.add_argument("--ttl", type=int, default=3600, help="seconds the signature stays valid")
    s.add_argument("--out", type=Path, help="write the signed registration here (default: stdout)")
    s.set_defaults(handler=_cmd_sign)

    s = sub.add_parser("status", help="change a record's status (registrar only)")
    s.add_argument("record")
    s.add_argument("status", help="active, suspended or revoked")
    s.add_argument("--reason", default="", help="reason (a 32-byte hex hash, or text that is hashed)")
    s.set_defaults(handler=_cmd_status)

    s = sub.add_parser("show", help="a record with its parents")
    s.add_argument("record")
    s.set_defaults(handler=_cmd_show)

    s = sub.add_parser("lineage", help="a record's ancestors (or descendants), from the index")
    s.add_argument("record")
    s.add_argument("--descendants", action="store_true", help="walk down to derived records instead")
    s.add_argument("--max-depth", type=int, default=64)
    s.add_argument("--max-nodes", type=int, default=10_000)
    s.add_argument("--format", choices=["tree", "json", "prov", "openlineage"], default="tree",
                   help="tree (or JSON with --json), W3C PROV-JSON, or OpenLineage run events")
    s.set_defaults(handler=_cmd_lineage)
    s = sub.add_parser("impact", help="every record derived from this one, flagged if it is not active")
    s.add_argument("record")
    s.add_argument("--max-depth", type=int, default=64)
    s.set_defaults(handler=_cmd_impact)
    s = sub.add_parser("path", help="a derivation path from a record up to one of its ancestors")
    s.add_argument("descendant")
    s.add_argument("ancestor")
    s.set_defaults(handler=_cmd_path)
    s = sub.add_parser("search", help="records by content hash, owner, registrar, kind, grade or status")
    s.add_argument("--content-hash")
    s.add_argument("--owner", type=int)
    s.add_argument("--registrar", help="exchange code or id")
    s.add_argument("--kind")
    s.add_argument("--grade")
    s.add_argument("--status")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--after", type=int, default=-1, help="continue after this result cursor")
    s.set_defaults(handler=_cmd_search)

    ix = sub.add_parser("index", help="the LevelDB lineage index").add_subparsers(
        dest="index_command", metavar="ACTION", required=True)
    s = ix.add_parser("sync", help="index the chain up to its head (less the configured confirmations)")
    s.add_argument("--follow", type=float, metavar="SECONDS",
                   help="keep following the chain, polling every SECONDS, until interrupted")
    s.set_defaults(handler=_cmd_index_sync)
    s = ix.add_parser("rebuild", help="drop the index and rebuild it from the chain")
    s.set_defaults(handler=_cmd_index_rebuild)
    s = ix.add_parser("status", help="checkpoint, chain head, lag and counts")
    s.set_defaults(handler=_cmd_index_status)

    bt = sub.add_parser("batch", help="batched registrations, anchored in one transaction per batch").add_subparsers(
        dest="batch_command", metavar="ACTION", required=True)
    s = bt.add_parser("import", help="queue registrations from a JSON Lines or CSV file and seal them in batches")
    s.add_argument("file", type=Path, help="JSON Lines (one object a line) or CSV with a header row; fields: kind, "
                                           "grade, source, rights, owner, contentHash, metadataHash, parents "
                                           "(space-separated in CSV), supersedes")
    s.add_argument("--batch-size", type=int, default=1000, help="records a batch (default 1000)")
    s.set_defaults(handler=_cmd_batch_import)

    lg = sub.add_parser("log", help="the exchanges' transparency logs").add_subparsers(
        dest="log_command", metavar="ACTION", required=True)
    s = lg.add_parser("show", help="an exchange's log: size, root, anchored checkpoints")
    s.add_argument("exchange", help="exchange code or id")
    s.set_defaults(handler=_cmd_log_show)
    s = lg.add_parser("anchor", help="anchor the acting exchange's log as it stands (covers direct registrations)")
    s.set_defaults(handler=_cmd_log_anchor)
    s = lg.add_parser("proof", help="inclusion proof of a record under its latest anchored checkpoint")
    s.add_argument("record", help="record id")
    s.set_defaults(handler=_cmd_log_proof)
    s = lg.add_parser("consistency", help="consistency proof between two sizes of an exchange's log")
    s.add_argument("exchange", help="exchange code or id")
    s.add_argument("size1", type=int)
    s.add_argument("size2", type=int)
    s.set_defaults(handler=_cmd_log_consistency)
    s = lg.add_parser("witness", help="cosign partners' new checkpoints after checking consistency")
    s.set_defaults(handler=_cmd_log_witness)

    ce = sub.add_parser("cert", help="mutual-recognition certificates").add_subparsers(
        dest="cert_command", metavar="ACTION", required=True)
    s = ce.add_parser("issue", help="issue a certificate for one of the acting exchange's records")
    s.add_argument("record", help="record id")
    s.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    s.add_argument("--out", type=Path, help="write the certificate here")
    s.set_defaults(handler=_cmd_cert_issue)
    s = ce.add_parser("verify", help="verify a certificate, online against the chain or offline")
    s.add_argument("file", type=Path)
    s.add_argument("--offline", action="store_true", help="use only the certificate and a federation snapshot")
    s.add_argument("--snapshot", type=Path, help="federation snapshot (offline mode)")
    s.add_argument("--trust", action="append", default=[], metavar="ADDRESS",
                   help="a key trusted to sign snapshots (repeatable; default: the acting exchange's keys)")
    s.set_defaults(handler=_cmd_cert_verify)
    s = ce.add_parser("recognize", help="verify a partner's certificate, add this exchange's recognition")
    s.add_argument("file", type=Path)
    s.add_argument("--out", type=Path, help="write the recognised certificate here")
    s.add_argument("--off-chain", action="store_true", help="do not record the recognition on-chain")
    s.set_defaults(handler=_cmd_cert_recognize)
    s = ce.add_parser("list", help="certificates issued by this node, newest first")
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=_cmd_cert_list)
    s = ce.add_parser("show", help="an issued certificate, by its credential hash")
    s.add_argument("credential")
    s.add_argument("--out", type=Path, help="write it here")
    s.set_defaults(handler=_cmd_cert_show)
    s = ce.add_parser("recognitions", help="recognitions of a certificate recorded on-chain")
    s.add_argument("credential")
    s.set_defaults(handler=_cmd_cert_recognitions)
    s = sub.add_parser("snapshot", help="a signed federation snapshot for offline verifiers")
    s.add_argument("--out", type=Path, help="write the snapshot here")
    s.add_argument("--no-anchor", action="store_true", help="do not anchor the status list's hash on-chain")
    s.set_defaults(handler=_cmd_snapshot)

    s = sub.add_parser("serve", help="serve the HTTP API, the explorer and the verify page")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    s.add_argument("--demo", action="store_true",
                   help="seed the demo federation first if the data directory is new (and keep it after)")
    s.add_argument("--rate", type=float, default=200.0, help="requests a second allowed per client (default 200)")
    s.add_argument("--max-body", type=int, default=2 * 1024 * 1024, help="largest request body in bytes")
    s.set_defaults(handler=_cmd_serve)

    fl = sub.add_parser("flow", help="cross-border flows: supervisors, applications, deliveries, spot checks"
                        ).add_subparsers(dest="flow_command", metavar="ACTION", required=True)
    s = fl.add_parser("supervisors", help="supervisors and their keys")
    s.set_defaults(handler=_cmd_flow_supervisors)
    s = fl.add_parser("add-supervisor", help="propose a supervisor (threshold governance)")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("address", help="the supervisor's key address")
    s.add_argument("--key-signature", help="the key's own MemberKey signature (`key consent --supervisor`); not "
                   "needed when this keystore holds the key")
    s.set_defaults(handler=_cmd_flow_add_supervisor)
    s = fl.add_parser("remove-supervisor", help="propose removing a supervisor")
    s.add_argument("supervisor", help="code or id")
    s.set_defaults(handler=_cmd_flow_remove_supervisor)
    s = fl.add_parser("catalogue", help="the low-risk catalogue; with --set, list or delist a pair (supervisor)")
    s.add_argument("--set", nargs=2, metavar=("CATEGORY", "DEST"), help="the pair to list (with --days) or delist")
    s.add_argument("--days", type=int, default=0, help="validity of automatic approvals; 0 delists")
    s.add_argument("--max-bytes", type=int, default=0, help="volume of automatic approvals (0: no limit)")
    s.set_defaults(handler=_cmd_flow_catalogue)
    s = fl.add_parser("apply", help="file a transfer application for an exporter (under its mandate)")
    s.add_argument("--record", required=True)
    s.add_argument("--exporter", type=int, required=True, help="exporter entity id (the record's owner)")
    s.add_argument("--receiver", type=int, required=True, help="receiving entity id")
    s.add_argument("--to", dest="destination", required=True, help="destination jurisdiction, e.g. SG")
    s.add_argument("--category", required=True, help="data category code, e.g. IOT.TELEMETRY")
    s.add_argument("--purpose", required=True)
    s.add_argument("--assessment", help="security-assessment reference (important data)")
    s.set_defaults(handler=_cmd_flow_apply)
    s = fl.add_parser("list", help="applications")
    s.add_argument("--exporter", type=int)
    s.add_argument("--record")
    s.add_argument("--status", choices=["pending", "approved", "rejected", "revoked"])
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=_cmd_flow_list)
    s = fl.add_parser("queue", help="the supervisors' queue (pending applications)")
    s.set_defaults(handler=_cmd_flow_queue)
    s = fl.add_parser("show", help="one application, with its deliveries")
    s.add_argument("application", type=int)
    s.set_defaults(handler=_cmd_flow_show)
    for name, help_ in (("approve", "approve a pending application (with a supervisor's key: --as)"),
                        ("sign-approval", "sign an approval for someone else to relay (supervisor's key)")):
        s = fl.add_parser(name, help=help_)
        s.add_argument("application", type=int)
        s.add_argument("--days", type=int, default=0, help="approval valid for this many days (0: no expiry)")
        s.add_argument("--max-bytes", type=int, default=0, help="volume limit (0: none)")
        if name == "sign-approval":
            s.add_argument("--valid-minutes", type=int, default=60, help="relay deadline (default 60)")
            s.add_argument("--out", type=Path)
        s.set_defaults(handler=_cmd_flow_approve if name == "approve" else _cmd_flow_sign_approval)
    s = fl.add_parser("relay-approval", help="submit a supervisor's signed approval")
    s.add_argument("file", type=Path)
    s.set_defaults(handler=_cmd_flow_relay)
    for name, help_ in (("reject", "reject a pending application"), ("revoke", "withdraw an approval")):
        s = fl.add_parser(name, help=help_)
        s.add_argument("application", type=int)
        s.add_argument("reason", help="up to 32 bytes")
        s.set_defaults(handler=_cmd_flow_decide, decision=name)
    s = fl.add_parser("deliver", help="record deliveries under an approval (several manifests: one transaction)")
    s.add_argument("application", type=int)
    s.add_argument("manifests", type=Path, nargs="+", help="manifest JSON files ({files: [{path, sha256, size}]})")
    s.set_defaults(handler=_cmd_flow_deliver)
    s = fl.add_parser("deliveries", help="recorded deliveries")
    s.add_argument("--application", type=int)
    s.add_argument("--exporter", type=int)
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=_cmd_flow_deliveries)
    ck = fl.add_parser("check", help="spot checks").add_subparsers(dest="check_command", metavar="STEP",
                                                                   required=True)
    s = ck.add_parser("announce", help="announce a spot check of an exporter's deliveries (supervisor)")
    s.add_argument("exporter", type=int)
    s.add_argument("--sample", type=int, default=5, help="deliveries to sample (1-64)")
    s.set_defaults(handler=_cmd_check, step="announce")
    for step, help_ in (("draw", "draw the sample from the seed block's hash"), ("show", "a spot check"),
                        ("answer", "the exporter's answers: kept manifests of the sampled deliveries"),
                        ("conclude", "judge the answers and anchor the report (supervisor)"),
                        ("report", "the kept report")):
        s = ck.add_parser(step, help=help_)
        s.add_argument("check", type=int)
        if step in ("answer", "report"):
            s.add_argument("--out", type=Path)
        s.set_defaults(handler=_cmd_check, step=step)
    s = ck.add_parser("take-answers", help="take an exporter's answers file (supervisor)")
    s.add_argument("check", type=int)
    s.add_argument("file", type=Path)
    s.set_defaults(handler=_cmd_check, step="take-answers")
    s = ck.add_parser("list", help="spot checks")
    s.set_defaults(handler=_cmd_check, step="list", check=0)
    s = ck.add_parser("verify", help="check a report against the chain")
    s.add_argument("file", type=Path)
    s.set_defaults(handler=_cmd_check, step="verify", check=0)

    dn = sub.add_parser("devnet", help="a local federation: a Hardhat chain and three exchange nodes").add_subparsers(
        dest="devnet_command", metavar="ACTION", required=True)
    for name, handler, text in (("up", _cmd_devnet_up, "start the chain, deploy, admit, start the three nodes"),
                                ("down", _cmd_devnet_down, "stop the nodes and the chain"),
                                ("status", _cmd_devnet_status, "what runs, and the nodes' health")):
        s = dn.add_parser(name, help=text)
        s.add_argument("--dir", type=Path, default=Path("federation"), help="where the nodes keep their data")
        s.add_argument("--base-port", type=int, default=8601, help="first node's HTTP port (then +1, +2)")
        s.add_argument("--chain-port", type=int, default=8545, help="the local chain's JSON-RPC port")
        s.set_defaults(handler=handler)

    tk = sub.add_parser("token", help="API tokens of this node (stored hashed)").add_subparsers(
        dest="token_command", metavar="ACTION", required=True)
    s = tk.add_parser("create", help="create a token; it is printed once")
    s.add_argument("--role", required=True, choices=["admin", "registrar", "member", "merchant"])
    s.add_argument("--name", required=True, help="who holds it (unique)")
    s.add_argument("--entity", type=int, help="the entity a merchant token speaks for")
    s.add_argument("--exchange", type=int, help="the partner exchange a member token speaks for")
    s.set_defaults(handler=_cmd_token_create)
    s = tk.add_parser("list", help="tokens (names, roles; never the tokens)")
    s.set_defaults(handler=_cmd_token_list)
    s = tk.add_parser("revoke", help="revoke a token by name or id")
    s.add_argument("name")
    s.set_defaults(handler=_cmd_token_revoke)
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
    s.add_argument("--parent", action="append", default=[], help="parent record id (repeatable)")
    s.add_argument("--supersedes", help="id of the record this is a new version of")


# ---------------------------------------------------------------------- handlers


def _open(args: argparse.Namespace) -> Any:
    from provenance.node import Node

    return Node.open(args.data_dir, _passphrase(args))


def _passphrase(args: argparse.Namespace) -> PassphraseSource:
    return PassphraseSource(file=args.passphrase_file)


def _with_service(fn: Callable[[Any, Any, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    def run(args: argparse.Namespace) -> Any:
        from provenance.service import RegistryService

        with _open(args) as node:
            return fn(node, RegistryService(node.contracts), args)

    return run


def _with_ops(fn: Callable[[Any, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """Run a handler with the node's Operations (what the HTTP API calls too)."""

    def run(args: argparse.Namespace) -> Any:
        from provenance.operations import Operations

        with _open(args) as node:
            return fn(Operations(node), args)

    return run


def _reading(read: Callable[[argparse.Namespace], Any]) -> Callable[[Callable[[Any, argparse.Namespace, Any], Any]],
                                                                    Callable[[argparse.Namespace], Any]]:
    """Like _with_ops, but the command's input files are read (and refused if not I-JSON or too large) before the
    node opens: bad input costs no chain, index or keystore work, and nothing is written."""

    def wrap(fn: Callable[[Any, argparse.Namespace, Any], Any]) -> Callable[[argparse.Namespace], Any]:
        def run(args: argparse.Namespace) -> Any:
            from provenance.operations import Operations

            data = read(args)
            with _open(args) as node:
                return fn(Operations(node), args, data)

        return run

    return wrap


def _signer(ops: Any, args: argparse.Namespace) -> Any:
    return ops.signer(args.key)


def _cmd_init(args: argparse.Namespace) -> Any:
    from provenance.bootstrap import init_node

    node_cfg = init_node(
        args.data_dir, exchange=args.exchange, name=args.name, passphrase=_passphrase(args),
        chain_id=args.chain_id, rpc_url=args.rpc_url, federation=args.federation, registry=args.registry,
        cross_border=args.cross_border, scrypt_n=args.scrypt_n,
    )
    return {"data_dir": str(args.data_dir), "key": node_cfg.key, "chain": node_cfg.chain.backend,
            "contracts": node_cfg.deployment.to_json() if node_cfg.deployment else None}


def _cmd_demo(args: argparse.Namespace) -> Any:
    from provenance.dev.demo import run_demo

    summary = run_demo(args.data_dir, _passphrase(args), scrypt_n=args.scrypt_n,
                       say=(lambda _m: None) if args.json else print)
    if args.json:
        return summary
    names = {rid: name for name, rid in summary["records"].items()}
    fed = summary["federation"]
    print(f"\nFederation (threshold {fed['threshold']}): " + "; ".join(fed["exchanges"]))
    print(f"Entities: {summary['counts']['entities']}, registrations: {summary['counts']['registrations']}")
    for name, lineage in summary["lineage"].items():
        print(f"\nLineage of {name}:")
        for line in render_lineage(lineage, names):
            print("  " + line)
        if lineage["inactive_ancestors"]:
            print(f"  ! {len(lineage['inactive_ancestors'])} ancestor(s) not active: this product is affected")
    print(f"\nData directory: {summary['data_dir']}. Try: scripts/run show {summary['records']['port-energy-model']}")
    return None


@_with_ops
def _cmd_info(ops: Any, args: argparse.Namespace) -> Any:
    return ops.info()


@_with_service
def _cmd_key_list(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    out = []
    for label, address in node.keystore.labels().items():
        rec = svc.key(parse_address(address))
        exchange = svc.exchange(rec.exchange_id).code if rec.exchange_id else None
        out.append({"label": label, "address": address, "exchange": exchange,
                    "valid": bool(rec.exchange_id) and rec.valid_to == 0})
    return out


def _cmd_key_new(args: argparse.Namespace) -> Any:
    from provenance.config import NodeConfig
    from provenance.keystore import Keystore
    from provenance.node import DataDirLock

    lock = DataDirLock(args.data_dir)
    try:
        cfg = NodeConfig.load(args.data_dir)
        acct = Keystore(args.data_dir / "keystore", _passphrase(args), scrypt_n=cfg.scrypt_n).create(args.label)
    finally:
        lock.release()
    return {"label": args.label, "address": acct.address}


@_with_service
def _cmd_key_rotate(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    old_label = args.key or node.config.key
    old = node.signer(old_label)
    new = node.keystore.create(args.new_label)
    res = svc.rotate_key(old, new)  # the new key signs its own KeyGrant
    if old_label == node.config.key:
        cfg = node.config.with_key(args.new_label)
        cfg.save()
    return {"revoked": old.address, "added": new.address, "label": args.new_label, "block": res.block_number}


@_with_service
def _cmd_key_add(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    address = node.keystore.address(args.label)
    res = svc.add_key(node.signer(args.key), node.signer(args.label))  # the added key signs its own KeyGrant
    return {"added": address, "block": res.block_number}


@_with_service
def _cmd_key_revoke(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    res = svc.revoke_key(node.signer(args.key), parse_address(args.address))
    return {"revoked": args.address, "block": res.block_number}


@_with_service
def _cmd_exchange_list(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return [jsonable(e) for e in svc.exchanges()]


@_with_service
def _cmd_exchange_show(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    ex = svc.exchange(args.exchange)
    return {**jsonable(ex), "keys": [jsonable(k) for k in svc.keys_of(ex.id)]}


@_with_service
def _cmd_propose_add(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    from provenance.operations import held_key, parse_signature

    address = parse_address(args.key_address)
    key = held_key(node, address) if args.key_signature is None else None
    signature = None if args.key_signature is None else parse_signature(args.key_signature)
    return jsonable(svc.propose_add_exchange(node.signer(args.key), args.code, args.name,
                                             key if key is not None else address, signature))


@_with_service
def _cmd_key_consent(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    """The MemberKey signature a proposer needs: this keystore's key consents to be the first key of the member
    (exchange, or supervisor with --supervisor) that a proposal with this code and name adds."""
    from provenance.core import eip712

    acct = node.signer(args.label)
    role = eip712.ROLE_SUPERVISOR if args.supervisor else eip712.ROLE_EXCHANGE
    digest = svc.member_key_digest(role, args.code, args.name, parse_address(acct.address))
    return {"address": acct.address, "keySignature": "0x" + eip712.sign_digest(digest, bytes(acct.key)).hex()}


@_with_service
def _cmd_propose_remove(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.propose_remove_exchange(node.signer(args.key), args.exchange))


@_with_service
def _cmd_propose_threshold(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.propose_threshold(node.signer(args.key), args.threshold))


@_with_service
def _cmd_approve(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return jsonable(svc.approve(node.signer(args.key), args.proposal_id))


@_with_service
def _cmd_proposals(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    return [jsonable(p) for p in svc.proposals()]


@_with_ops
def _cmd_entity_add(ops: Any, args: argparse.Namespace) -> Any:
    account = args.account or ops.node.keystore.address(args.account_key)
    return ops.add_entity(args.identifier, account, args.role, signer=_signer(ops, args))


@_with_ops
def _cmd_entity_show(ops: Any, args: argparse.Namespace) -> Any:
    return ops.entity(int(args.entity)) if args.entity.isdigit() else ops.entity_by_identifier(args.entity)


@_with_ops
def _cmd_entity_recognize(ops: Any, args: argparse.Namespace) -> Any:
    return ops.recognize_entity(args.entity_id, signer=_signer(ops, args))


@_with_service
def _cmd_entity_mandate(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    res = svc.set_mandate(node.signer(args.key), args.entity_id, args.exchange, not args.withdraw)
    return {"entity": args.entity_id, "exchange": args.exchange, "granted": not args.withdraw,
            "block": res.block_number}


def _request(args: argparse.Namespace) -> RegistrationRequest:
    from provenance.operations import hash_file

    content = parse_hash32(args.content_hash, "content hash") if args.content_hash else hash_file(args.file)
    if args.metadata_hash:
        metadata = parse_hash32(args.metadata_hash, "metadata hash")
    elif args.metadata_file:
        metadata = hash_file(args.metadata_file)
    else:
        metadata = Hash32(bytes(32))
    return RegistrationRequest(
        kind=Kind.parse(args.kind), grade=Grade.parse(args.grade), source=Source.parse(args.source),
        rights=Rights.parse(args.rights), owner=args.owner, content_hash=content, metadata_hash=metadata,
        supersedes=parse_hash32(args.supersedes, "superseded record id") if args.supersedes else Hash32(bytes(32)),
        parents=tuple(RecordId(parse_hash32(p, "parent record id")) for p in args.parent),
    )


@_reading(lambda args: _load_signed(args.signed) if args.signed else None)
def _cmd_register(ops: Any, args: argparse.Namespace, signed: SignedRegistration | None) -> Any:
    signer = _signer(ops, args)
    if signed is not None:
        return ops.register(signed.request, signed=signed, signer=signer)
    request = _request(args)
    if args.owner_key:
        registrar = ops.svc.active_exchange_of(signer.address)
        signed = ops.sign_registration(ops.node.keystore.load(args.owner_key), registrar, request)
        return ops.register(request, signed=signed, signer=signer)
    return ops.register(request, signer=signer)


@_with_service
def _cmd_sign(node: Any, svc: Any, args: argparse.Namespace) -> Any:
    signed = svc.sign_registration(node.keystore.load(args.owner_key), args.registrar, _request(args),
                                   ttl_seconds=args.ttl)
    doc = jsonable(signed)
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
        return {"written": str(args.out), "nonce": signed.nonce, "deadline": signed.deadline}
    return doc


def _load_signed(path: Path) -> SignedRegistration:
    from provenance.service import SignedRegistration

    raw = _read_json(path, "signed registration")
    try:
        req = raw["request"]
        request = RegistrationRequest(
            kind=Kind.parse(req["kind"]), grade=Grade.parse(req["grade"]), source=Source.parse(req["source"]),
            rights=Rights.parse(",".join(req["rights"])), owner=int(req["owner"]),
            content_hash=parse_hash32(req["content_hash"], "content hash"),
            metadata_hash=parse_hash32(req["metadata_hash"], "metadata hash"),
            supersedes=parse_hash32(req["supersedes"], "supersedes"),
            parents=tuple(RecordId(parse_hash32(p, "parent")) for p in req["parents"]),
        )
        signature = bytes.fromhex(str(raw["signature"]).removeprefix("0x"))
        return SignedRegistration(request, int(raw["registrar"]), int(raw["nonce"]), int(raw["deadline"]), signature)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not a signed registration: {exc}") from exc


@_with_ops
def _cmd_status(ops: Any, args: argparse.Namespace) -> Any:
    return ops.set_status(parse_hash32(args.record, "record id"), args.status, args.reason, signer=_signer(ops, args))


@_with_ops
def _cmd_show(ops: Any, args: argparse.Namespace) -> Any:
    rid = parse_hash32(args.record, "record id")
    ops.sync()
    return {**ops.record_on_chain(rid), "index": ops.record(rid)}


@_with_ops
def _cmd_lineage(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    rid = parse_hash32(args.record, "record id")
    if args.format in ("prov", "openlineage"):
        return ops.export(rid, args.format, max_depth=args.max_depth)
    doc = ops.lineage(rid, direction="descendants" if args.descendants else "ancestors", max_depth=args.max_depth,
                      max_nodes=args.max_nodes)
    if args.json or args.format == "json" or args.descendants:
        return doc
    for line in render_lineage(doc):
        print(line)
    return None


@_with_ops
def _cmd_impact(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.impact(parse_hash32(args.record, "record id"), max_depth=args.max_depth)


@_with_ops
def _cmd_path(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.path(parse_hash32(args.descendant, "descendant id"), parse_hash32(args.ancestor, "ancestor id"))


@_with_ops
def _cmd_search(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.search(content_hash=parse_hash32(args.content_hash, "content hash") if args.content_hash else None,
                      owner=args.owner, registrar=args.registrar, kind=args.kind, grade=args.grade,
                      status=args.status, after=args.after, limit=args.limit)


@_with_ops
def _cmd_index_sync(ops: Any, args: argparse.Namespace) -> Any:
    import threading

    from provenance.services.follow import Follower, Round

    with ops.lock:
        st = ops.follower.sync(progress=_sync_progress(args))
    _end_progress(args)
    if args.follow:
        if args.follow <= 0:
            raise InvalidInput("--follow takes a positive number of seconds")
        last = st

        def report(done: Round) -> None:
            nonlocal last
            new = done.synced
            if new is not None:
                if new.events or new.reorgs != last.reorgs:
                    print(json.dumps({"checkpoint": new.checkpoint, "events": new.events, "reorgs": new.reorgs}),
                          flush=True)
                last = new
            if done.drawn:
                print(json.dumps({"drawn": list(done.drawn)}), flush=True)

        # The same loop as serve's follower: the index at the head, and every due spot check drawn.
        following = Follower(ops, interval=args.follow, always_sync=True)
        try:
            following.run(threading.Event(), on_round=report, keep_going=False)
        except KeyboardInterrupt:
            pass
        st = last
    return {**ops.index_status(), "indexed_events": st.events, "reorgs": st.reorgs}


@_with_ops
def _cmd_index_rebuild(ops: Any, args: argparse.Namespace) -> Any:
    tune_node(serving=False)  # a long catch-up: the node's interpreter settings, serving nobody
    out = ops.rebuild(progress=_sync_progress(args))
    _end_progress(args)
    return out


def _sync_progress(args: argparse.Namespace) -> Callable[[Any], None] | None:
    """A progress bar of blocks indexed, on a terminal (never in --json output)."""
    if args.json or not sys.stderr.isatty():
        return None

    def show(st: Any) -> None:
        print(f"\r{_bar(st.checkpoint, st.target)} indexed block {st.checkpoint} of {st.target}", end="",
              file=sys.stderr, flush=True)

    return show


def _end_progress(args: argparse.Namespace) -> None:
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)


@_with_ops
def _cmd_index_status(ops: Any, args: argparse.Namespace) -> Any:
    return ops.index_status()


# ---------------------------------------------------------------------- output


def _print_result(args: argparse.Namespace, result: Any) -> None:
    if args.json:
        json.dump(jsonable(result), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    _print_human(jsonable(result), 0)


def _print_human(value: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                print(f"{pad}{k}:")
                _print_human(v, indent + 1)
            else:
                print(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                print(f"{pad}-")
                _print_human(item, indent + 1)
            else:
                print(f"{pad}- {_scalar(item)}")
    else:
        print(f"{pad}{_scalar(value)}")


def render_lineage(lineage: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """An ancestor graph as indented tree lines; a node reached twice is shown once, then referenced."""
    names = names or {}
    by_id = {n["id"]: n for n in lineage["nodes"]}
    lines: list[str] = []
    shown: set[str] = set()

    def label(node: dict[str, Any]) -> str:
        name = names.get(node["id"], node["id"][:10] + "…")
        flag = "" if node["status"] == "active" else f"  <-- {node['status'].upper()}"
        return f"{name}  {node['kind']}/{node['grade']}  {node['status']}  at {node['registrar']}{flag}"

    def walk(node_id: str, prefix: str, last: bool, depth: int) -> None:
        node = by_id.get(node_id)
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        if node is None:
            lines.append(f"{prefix}{branch}{node_id[:10]}… (beyond the depth limit)")
            return
        if node_id in shown:
            lines.append(f"{prefix}{branch}{names.get(node_id, node_id[:10] + '…')} (shown above)")
            return
        shown.add(node_id)
        lines.append(f"{prefix}{branch}{label(node)}")
        child_prefix = prefix if depth == 0 else prefix + ("   " if last else "│  ")
        parents = node["parents"]
        for i, parent in enumerate(parents):
            walk(parent, child_prefix, i == len(parents) - 1, depth + 1)

    walk(lineage["root"], "", True, 0)
    return lines


def _scalar(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or "-"
    return "-" if v is None else str(v)


def _print_error(args: argparse.Namespace, exc: ProvenanceError) -> None:
    if getattr(args, "json", False):
        doc: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message}
        if isinstance(exc, ContractReverted):
            doc["revert"] = {"contract": exc.contract, "error": exc.error, "args": jsonable(exc.args_by_name)}
        json.dump(doc, sys.stderr, ensure_ascii=False)
        sys.stderr.write("\n")
    else:
        print(f"error: {exc.message}", file=sys.stderr)


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


# ---------------------------------------------------------------------- batches, logs, certificates


def _load_requests(path: Path) -> list[RegistrationRequest]:
    """Registrations from a JSON Lines file (one I-JSON object a line) or a CSV file with a header row; the whole
    file is read and checked before anything is submitted (MAX_BATCH_BYTES a file, MAX_LINE_BYTES a line)."""
    import csv

    from provenance.operations import REQUEST_FIELDS, request_from_json

    raw = _read_bounded(path, f"the batch file {path}", MAX_BATCH_BYTES)
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    for n, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8")) > MAX_LINE_BYTES:
            size = len(line.encode("utf-8"))
            raise DocumentTooLarge(f"{path}:{n}: the line is {size} bytes, more than the {MAX_LINE_BYTES} accepted",
                                   size=size, limit=MAX_LINE_BYTES)
    out = []
    if path.suffix.lower() == ".csv":
        header = next(csv.reader(lines[:1]), [])
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:  # DictReader would keep the last of the columns: two readers, two registrations
            raise DuplicateKey(f"{path}:1: the column {repeated[0]!r} appears more than once in the header",
                               key=repeated[0], path=f"{path}:1")
        rows = csv.DictReader(lines)
        try:
            for n, row in enumerate(rows, 2):
                obj: dict[str, Any] = {k: v for k, v in row.items() if k in REQUEST_FIELDS and v not in (None, "")}
                extra = set(row) - set(REQUEST_FIELDS)
                if extra:
                    raise InvalidInput(f"{path}: unknown columns {', '.join(sorted(str(e) for e in extra))}")
                if "owner" in obj:
                    if not str(obj["owner"]).isdigit():
                        raise InvalidInput(f"{path}:{n}: owner must be an entity id (integer)")
                    obj["owner"] = int(obj["owner"])
                if "parents" in obj:
                    obj["parents"] = [p for p in str(obj["parents"]).replace(";", " ").split() if p]
                out.append(request_from_json(obj, f"{path}:{n}"))
        except csv.Error as exc:
            raise InvalidInput(f"{path}:{rows.line_num}: not CSV: {exc}") from None
        return out
    for n, line in enumerate(lines, 1):
        if line.strip():
            obj = ijson_loads(line, max_bytes=MAX_LINE_BYTES, what=f"{path}:{n}")
            out.append(request_from_json(obj, f"{path}:{n}"))
    return out


@_reading(lambda args: _load_requests(args.file))
def _cmd_batch_import(ops: Any, args: argparse.Namespace, requests: list[RegistrationRequest]) -> Any:

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\r{_bar(done, total)} sealed {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    return ops.batch(requests, batch_size=args.batch_size, signer=_signer(ops, args), progress=progress)


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(1, total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


@_with_ops
def _cmd_log_show(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.log(args.exchange)


@_with_ops
def _cmd_log_anchor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.anchor(signer=_signer(ops, args))


@_with_ops
def _cmd_log_proof(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.inclusion(parse_hash32(args.record, "record id"))


@_with_ops
def _cmd_log_consistency(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.consistency(args.exchange, args.size1, args.size2)


@_with_ops
def _cmd_log_witness(ops: Any, args: argparse.Namespace) -> Any:
    return ops.witness(signer=_signer(ops, args))


def _read_json(path: Path, what: str, *, max_int: int | None = None) -> Any:
    """A document file given on the command line, read as I-JSON (provenance.core.ijson): nesting beyond 64
    levels, a repeated key, a file over MAX_DOCUMENT_BYTES and the rest are refused (exit 2) before anything is
    opened or written."""
    raw = _read_bounded(path, f"the {what} {path}", MAX_DOCUMENT_BYTES)
    return ijson_loads(raw, max_bytes=MAX_DOCUMENT_BYTES, max_int=max_int, what=f"the {what} {path}")


def _read_bounded(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a file no larger than ``limit`` (DocumentTooLarge otherwise, without reading it whole)."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise DocumentTooLarge(f"{what} is {size} bytes, more than the {limit} accepted", size=size,
                                       limit=limit)
            raw = fh.read(limit + 1)  # a pipe or a growing file has no size to trust
    except OSError as exc:
        raise InvalidInput(f"cannot read {what}: {exc.strerror}") from None
    if len(raw) > limit:
        raise DocumentTooLarge(f"{what} is more than the {limit} bytes accepted", size=len(raw), limit=limit)
    return raw


def _write_or_return(doc: Any, out: Path | None) -> Any:
    if out is None:
        return doc
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return {"written": str(out)}


@_with_ops
def _cmd_cert_issue(ops: Any, args: argparse.Namespace) -> Any:
    doc = ops.issue(parse_hash32(args.record, "record id"), days=args.days, signer=_signer(ops, args))
    return _write_or_return(doc, args.out)


def _cmd_cert_verify(args: argparse.Namespace) -> Any:
    from provenance.operations import Operations

    if not args.file.is_file():
        raise InvalidInput(f"no certificate file {args.file}")
    if args.offline and args.snapshot is None:
        raise InvalidInput("offline verification needs --snapshot")
    # Both documents are read, as I-JSON, before anything else is opened: a repeated key, deep nesting or an
    # oversized file is refused (exit 2) before any verification or node work.
    doc = _read_json(args.file, "certificate", max_int=EXACT_INT)
    if args.offline:
        snapshot = _read_json(args.snapshot, "snapshot", max_int=EXACT_INT)
        trusted: list[bytes] = [parse_address(a) for a in args.trust]
        if not trusted:
            with _open(args) as node:
                ops = Operations(node)
                trusted = ops.trusted_keys(ops.svc.active_exchange_of(ops.signer(args.key).address))
        out = Operations.verify_offline(doc, snapshot, trusted)
    else:
        with _open(args) as node:
            out = Operations(node).verify(doc)
    if not out["valid"]:
        raise CertificateInvalid(out)
    return out


class CertificateInvalid(VerificationError):
    """Raised when a certificate fails verification (the report names each failed check)."""

    def __init__(self, report: dict[str, Any]) -> None:
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in report["checks"] if not c["ok"])
        super().__init__(f"the certificate is NOT valid ({report['mode']}): {failed}")
        self.report = report


@_with_ops
def _cmd_cert_list(ops: Any, args: argparse.Namespace) -> Any:
    if not 1 <= args.limit <= 1000:
        raise InvalidInput("--limit must be between 1 and 1000")
    return ops.certificates(limit=args.limit)


@_with_ops
def _cmd_cert_show(ops: Any, args: argparse.Namespace) -> Any:
    return _write_or_return(ops.certificate(parse_hash32(args.credential, "credential hash")), args.out)


@_with_ops
def _cmd_cert_recognitions(ops: Any, args: argparse.Namespace) -> Any:
    ops.sync()
    return ops.recognitions(parse_hash32(args.credential, "credential hash"))


@_reading(lambda args: _read_json(args.file, "certificate", max_int=EXACT_INT))
def _cmd_cert_recognize(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    return _write_or_return(ops.recognize(doc, on_chain=not args.off_chain, signer=_signer(ops, args)), args.out)


@_with_ops
def _cmd_snapshot(ops: Any, args: argparse.Namespace) -> Any:
    return _write_or_return(ops.snapshot(anchor=not args.no_anchor, signer=_signer(ops, args)), args.out)


# ---------------------------------------------------------------------- the service and its tokens


def _cmd_serve(args: argparse.Namespace) -> Any:
    from provenance.api import ApiSettings, create_app
    from provenance.api.auth import TokenStore
    from provenance.api.server import serve

    if not 0 <= args.port < 65536:
        raise InvalidInput("--port must be between 0 and 65535")
    passphrase = _passphrase(args)
    if args.demo:
        from provenance.config import CONFIG_NAME
        from provenance.dev.demo import run_demo

        first = not (args.data_dir / CONFIG_NAME).exists()
        print("Seeding the demo federation (first start) ..." if first else "Checking the demo federation ...",
              flush=True)
        try:
            run_demo(args.data_dir, passphrase, say=print if first else (lambda _m: None))
        except ChainMismatch as exc:
            # A demo directory seeded by an older release (other contract code): keep it aside and seed anew.
            aside = args.data_dir.with_name(f"{args.data_dir.name}.old-{int(time.time())}")
            print(f"The demo data in {args.data_dir} belongs to another release ({exc.message}); "
                  f"moving it to {aside} and seeding a new demo federation ...", flush=True)
            args.data_dir.rename(aside)
            run_demo(args.data_dir, passphrase, say=print)
        token_file = args.data_dir / "demo-admin.token"
        if not token_file.exists():
            token = TokenStore(args.data_dir).create("admin", f"demo-admin-{int(time.time())}")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token + "\n")
        print(f"Admin API token of the demo (keep it secret in real use): {token_file}", flush=True)
    settings = ApiSettings(data_dir=args.data_dir, passphrase=passphrase, rate_per_second=args.rate,
                           rate_burst=max(1, int(args.rate * 2)), max_body_bytes=args.max_body,
                           key=args.key)  # `provenance --as CAC serve`: a supervisor's node
    app = create_app(settings)
    tune_node()  # GIL switch interval and garbage collector thresholds: see provenance.tuning
    base = f"http://{args.host if args.host not in ('0.0.0.0', '::') else '127.0.0.1'}:{args.port}"
    print(f"Explorer and verify page: {base}/", flush=True)
    print(f"API docs:                 {base}/docs", flush=True)
    print(f"Metrics:                  {base}/metrics   (Ctrl-C stops the node; its data stays in "
          f"{args.data_dir})", flush=True)
    serve(app, host=args.host, port=args.port)  # uvicorn, whose own refusals are problem documents too
    return None


def _devnet(args: argparse.Namespace) -> Any:
    from provenance.dev.devnet import Devnet

    return Devnet(args.dir, base_port=args.base_port, chain_port=args.chain_port,
                  passphrase=os.environ.get("PROVENANCE_PASSPHRASE") or "devnet")


def _cmd_devnet_up(args: argparse.Namespace) -> Any:
    net = _devnet(args)
    net.up(say=(lambda _m: None) if args.json else (lambda m: print(m, flush=True)))
    return net.status()


def _cmd_devnet_down(args: argparse.Namespace) -> Any:
    _devnet(args).down(say=(lambda _m: None) if args.json else print)
    return None


def _cmd_devnet_status(args: argparse.Namespace) -> Any:
    return _devnet(args).status()


def _cmd_token_create(args: argparse.Namespace) -> Any:
    from provenance.api.auth import TokenStore

    if not (args.data_dir / "node.toml").exists():
        raise InvalidInput(f"{args.data_dir} is not an initialised data directory")
    token = TokenStore(args.data_dir).create(args.role, args.name, entity=args.entity, exchange=args.exchange)
    return {"name": args.name, "role": args.role, "token": token,
            "note": "shown once: the node keeps only its hash"}


def _cmd_token_list(args: argparse.Namespace) -> Any:
    from provenance.api.auth import TokenStore

    return TokenStore(args.data_dir).list()


def _cmd_token_revoke(args: argparse.Namespace) -> Any:
    from provenance.api.auth import TokenStore

    return {"revoked": TokenStore(args.data_dir).revoke(args.name)}



# ---------------------------------------------------------------------- cross-border flows


@_with_ops
def _cmd_flow_supervisors(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.supervisors()


@_with_ops
def _cmd_flow_add_supervisor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.propose_supervisor(args.code, args.name, args.address, signer=_signer(ops, args),
                                        key_signature=args.key_signature)


@_with_ops
def _cmd_flow_remove_supervisor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.propose_remove_supervisor(args.supervisor, signer=_signer(ops, args))


@_with_ops
def _cmd_flow_catalogue(ops: Any, args: argparse.Namespace) -> Any:
    if args.set is None:
        return ops.flows.catalogue()
    if args.days < 0 or args.max_bytes < 0:
        raise InvalidInput("--days and --max-bytes must not be negative")
    return ops.flows.set_catalogue(args.set[0], args.set[1], args.days * 86400, args.max_bytes,
                                   signer=_signer(ops, args))


@_with_ops
def _cmd_flow_apply(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.file({"recordId": args.record, "exporter": args.exporter, "receiver": args.receiver,
                           "destination": args.destination, "category": args.category, "purpose": args.purpose,
                           "assessmentRef": args.assessment}, signer=_signer(ops, args))


@_with_ops
def _cmd_flow_list(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.applications(exporter=args.exporter, record=args.record, status=args.status, limit=args.limit)


@_with_ops
def _cmd_flow_queue(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.queue()


@_with_ops
def _cmd_flow_show(ops: Any, args: argparse.Namespace) -> Any:
    return {**ops.flows.application(args.application),
            "deliveryList": ops.flows.deliveries(application=args.application, limit=1000)}


def _terms(ops: Any, args: argparse.Namespace) -> tuple[int, int]:
    if args.days < 0 or args.max_bytes < 0:
        raise InvalidInput("--days and --max-bytes must not be negative")
    now = ops.node.chain.get_block(ops.node.chain.block_number()).timestamp
    return (now + args.days * 86400 if args.days else 0), args.max_bytes


@_with_ops
def _cmd_flow_approve(ops: Any, args: argparse.Namespace) -> Any:
    expires_at, volume = _terms(ops, args)
    return ops.flows.approve(args.application, expires_at=expires_at, volume_limit=volume, signer=_signer(ops, args))


@_with_ops
def _cmd_flow_sign_approval(ops: Any, args: argparse.Namespace) -> Any:
    expires_at, volume = _terms(ops, args)
    if not 1 <= args.valid_minutes <= 7 * 24 * 60:
        raise InvalidInput("--valid-minutes must be between 1 and a week")
    doc = ops.flows.sign_approval(args.application, expires_at=expires_at, volume_limit=volume,
                                  deadline=int(time.time()) + 60 * args.valid_minutes, signer=_signer(ops, args))
    return _write_or_return(doc, args.out)


@_reading(lambda args: _read_json(args.file, "signed approval"))
def _cmd_flow_relay(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    if not isinstance(doc, dict) or not isinstance(doc.get("application"), int):
        raise InvalidInput(f"{args.file}: a signed approval names its application")
    return ops.flows.approve_signed(doc["application"], doc, signer=_signer(ops, args))


@_with_ops
def _cmd_flow_decide(ops: Any, args: argparse.Namespace) -> Any:
    fn = ops.flows.reject if args.decision == "reject" else ops.flows.revoke
    return fn(args.application, args.reason, signer=_signer(ops, args))


@_reading(lambda args: [_read_json(m, "manifest", max_int=EXACT_INT) for m in args.manifests])
def _cmd_flow_deliver(ops: Any, args: argparse.Namespace, manifests: list[Any]) -> Any:
    items = [{"application": args.application, "manifest": m} for m in manifests]
    return ops.flows.deliver(items, signer=_signer(ops, args))


@_with_ops
def _cmd_flow_deliveries(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.deliveries(application=args.application, exporter=args.exporter, limit=args.limit)


def _check_input(args: argparse.Namespace) -> Any:
    if args.step not in ("take-answers", "verify"):
        return None
    return _read_json(args.file, "answers" if args.step == "take-answers" else "report", max_int=EXACT_INT)


@_reading(_check_input)
def _cmd_check(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    f, step = ops.flows, args.step
    if step == "announce":
        return f.announce(args.exporter, args.sample, signer=_signer(ops, args))
    if step == "draw":
        return f.draw(args.check, signer=_signer(ops, args))
    if step == "show":
        return f.spot_check(args.check)
    if step == "list":
        return f.spot_checks()
    if step == "answer":
        return _write_or_return(f.answer(args.check), args.out)
    if step == "take-answers":
        return f.submit_answers(args.check, doc.get("answers") if isinstance(doc, dict) and "answers" in doc else doc)
    if step == "conclude":
        return f.conclude(args.check, signer=_signer(ops, args))
    if step == "report":
        return _write_or_return(f.report(args.check), args.out)
    return f.verify_report(doc)


if __name__ == "__main__":
    run()
