"""``flow``: cross-border applications, approvals, deliveries and spot checks."""

from __future__ import annotations

import argparse
import time
from typing import Any

from provenance.cli.common import read_json, reading, signer_of, with_ops, write_or_return
from provenance.core.ijson import EXACT_INT
from provenance.errors import InvalidInput
from provenance.services.results import documents


@with_ops
def cmd_flow_supervisors(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.supervisors()


@with_ops
def cmd_flow_add_supervisor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.propose_supervisor(args.code, args.name, args.address, signer=signer_of(ops, args),
                                        key_signature=args.key_signature)


@with_ops
def cmd_flow_remove_supervisor(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.propose_remove_supervisor(args.supervisor, signer=signer_of(ops, args))


@with_ops
def cmd_flow_catalogue(ops: Any, args: argparse.Namespace) -> Any:
    if args.set is None:
        return ops.flows.catalogue()
    if args.days < 0 or args.max_bytes < 0:
        raise InvalidInput("--days and --max-bytes must not be negative")
    return ops.flows.set_catalogue(args.set[0], args.set[1], args.days * 86400, args.max_bytes,
                                   signer=signer_of(ops, args))


@with_ops
def cmd_flow_apply(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.file({"recordId": args.record, "exporter": args.exporter, "receiver": args.receiver,
                           "destination": args.destination, "category": args.category, "purpose": args.purpose,
                           "assessmentRef": args.assessment}, signer=signer_of(ops, args))


@with_ops
def cmd_flow_list(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.applications(exporter=args.exporter, record=args.record, status=args.status, limit=args.limit)


@with_ops
def cmd_flow_queue(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.queue()


@with_ops
def cmd_flow_show(ops: Any, args: argparse.Namespace) -> Any:
    return {**ops.flows.application(args.application).document(),
            "deliveryList": ops.flows.deliveries(application=args.application, limit=1000)}


def _terms(ops: Any, args: argparse.Namespace) -> tuple[int, int]:
    if args.days < 0 or args.max_bytes < 0:
        raise InvalidInput("--days and --max-bytes must not be negative")
    now = ops.chain_time()
    return (now + args.days * 86400 if args.days else 0), args.max_bytes


@with_ops
def cmd_flow_approve(ops: Any, args: argparse.Namespace) -> Any:
    expires_at, volume = _terms(ops, args)
    return ops.flows.approve(args.application, expires_at=expires_at, volume_limit=volume, signer=signer_of(ops, args))


@with_ops
def cmd_flow_sign_approval(ops: Any, args: argparse.Namespace) -> Any:
    expires_at, volume = _terms(ops, args)
    if not 1 <= args.valid_minutes <= 7 * 24 * 60:
        raise InvalidInput("--valid-minutes must be between 1 and a week")
    doc = ops.flows.sign_approval(args.application, expires_at=expires_at, volume_limit=volume,
                                  deadline=int(time.time()) + 60 * args.valid_minutes, signer=signer_of(ops, args))
    return write_or_return(documents(doc), args.out)


@reading(lambda args: read_json(args.file, "signed approval"))
def cmd_flow_relay(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    if not isinstance(doc, dict) or not isinstance(doc.get("application"), int):
        raise InvalidInput(f"{args.file}: a signed approval names its application")
    return ops.flows.approve_signed(doc["application"], doc, signer=signer_of(ops, args))


@with_ops
def cmd_flow_decide(ops: Any, args: argparse.Namespace) -> Any:
    fn = ops.flows.reject if args.decision == "reject" else ops.flows.revoke
    return fn(args.application, args.reason, signer=signer_of(ops, args))


@reading(lambda args: [read_json(m, "manifest", max_int=EXACT_INT) for m in args.manifests])
def cmd_flow_deliver(ops: Any, args: argparse.Namespace, manifests: list[Any]) -> Any:
    items = [{"application": args.application, "manifest": m} for m in manifests]
    return ops.flows.deliver(items, signer=signer_of(ops, args))


@with_ops
def cmd_flow_deliveries(ops: Any, args: argparse.Namespace) -> Any:
    return ops.flows.deliveries(application=args.application, exporter=args.exporter, limit=args.limit)


def _check_input(args: argparse.Namespace) -> Any:
    if args.step not in ("take-answers", "verify"):
        return None
    return read_json(args.file, "answers" if args.step == "take-answers" else "report", max_int=EXACT_INT)


@reading(_check_input)
def cmd_check(ops: Any, args: argparse.Namespace, doc: Any) -> Any:
    f, step = ops.flows, args.step
    if step == "announce":
        return f.announce(args.exporter, args.sample, signer=signer_of(ops, args))
    if step == "draw":
        return f.draw(args.check, signer=signer_of(ops, args))
    if step == "show":
        return f.spot_check(args.check)
    if step == "list":
        return f.spot_checks()
    if step == "answer":
        return write_or_return(documents(f.answer(args.check)), args.out)
    if step == "take-answers":
        return f.submit_answers(args.check, doc.get("answers") if isinstance(doc, dict) and "answers" in doc else doc)
    if step == "conclude":
        return f.conclude(args.check, signer=signer_of(ops, args))
    if step == "report":
        return write_or_return(f.report(args.check), args.out)
    return f.verify_report(doc)
