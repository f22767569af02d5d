"""``property``: the data property register (数据产权登记) of a record: show, transfer (转让), change (变更),
renew (续展), cancel (注销), pledge (质押), release, enforce, assess (评估), withdraw, list, dispute (争议),
rule (仲裁), execute, and the encumbrance search.

Every party consents by its mandate to this node's exchange unless ``--consent PARTY=FILE`` gives its signature
(a JSON ``{"deadline": ..., "signature": "0x..."}``) or ``--sign PARTY`` has this node sign with the party's
account key, where the keystore holds it (the demo's). The operator of a node sees everything, as with records.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.cli.common import open_node, read_json
from provenance.core.ids import parse_hash32
from provenance.errors import InvalidInput
from provenance.services.property import PARTIES
from provenance.services.property_values import CANCEL_REASONS, METHODS, OUTCOMES
from provenance.types import is_decimal

PARTY_NAMES = sorted({p for parties in PARTIES.values() for p in parties})


def _consents(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--consent PARTY=FILE`` documents, read (as I-JSON, bounded) before the node opens."""
    out: dict[str, Any] = {}
    for item in getattr(args, "consent", None) or []:
        party, sep, path = item.partition("=")
        if not sep or party not in PARTY_NAMES or not path:
            raise InvalidInput(f"--consent {item!r}: PARTY=FILE, PARTY one of {', '.join(PARTY_NAMES)}")
        out[party] = read_json(Path(path), f"{party}'s consent")
    return out


def with_property(fn: Callable[[Any, argparse.Namespace, dict[str, Any]], Any]) -> Callable[[argparse.Namespace], Any]:
    def run(args: argparse.Namespace) -> Any:
        from provenance.services.operations import Operations
        from provenance.services.property import PropertyOperations

        consents = _consents(args)
        with open_node(args) as node:
            ops = Operations(node)
            ops.sync()
            return fn(PropertyOperations(ops), args, consents)

    return run


def _record(args: argparse.Namespace) -> bytes:
    return bytes(parse_hash32(args.record, "record id"))


def _body(args: argparse.Namespace) -> dict[str, Any]:
    """The action's values as the API takes them, from the options given."""
    names = {"to": "to", "rights": "rights", "metadata_hash": "metadataHash", "reason": "reason",
             "pledgee": "pledgee", "amount": "amount", "currency": "currency", "until": "until",
             "reference": "reference", "assessor": "assessor", "assessment_kind": "kind", "score": "score",
             "standard": "standard", "scope": "scope", "method": "method", "valuation_date": "valuationDate",
             "valid_until": "validUntil", "report": "report", "assessment": "assessment", "claimant": "claimant",
             "claim": "claim", "arbitrator": "arbitrator", "outcome": "outcome", "new_owner": "newOwner",
             "ruling": "ruling", "compliance": "complianceAssessment"}
    body = {api: getattr(args, attr) for attr, api in names.items() if getattr(args, attr, None) is not None}
    if isinstance(body.get("rights"), str):
        body["rights"] = [r.strip() for r in body["rights"].split(",") if r.strip()]
    if getattr(args, "passed", None) is not None:
        body["passed"] = args.passed == "passed"
    return body


@with_property
def cmd_property_action(prop: Any, args: argparse.Namespace, consents: dict[str, Any]) -> Any:
    return prop.act(_record(args), args.action, _body(args), consents=consents, sign=getattr(args, "sign", None) or (),
                    signer=prop.ops.signer(args.key))


@with_property
def cmd_property_show(prop: Any, args: argparse.Namespace, _consents: dict[str, Any]) -> Any:
    return prop.property(_record(args))


@with_property
def cmd_property_consent(prop: Any, args: argparse.Namespace, _consents: dict[str, Any]) -> Any:
    return prop.consent_typed_data(_record(args), args.consent_action, args.party, _body(args),
                                   deadline=args.deadline)


@with_property
def cmd_property_decide(prop: Any, args: argparse.Namespace, _consents: dict[str, Any]) -> Any:
    subject = int(args.subject) if is_decimal(args.subject) and args.decision != "set-compliance-rule" else args.subject
    value: int | bool = args.value
    if args.decision == "set-term":
        value = args.days * 86400
    elif args.decision == "set-compliance-rule":
        value = args.on
    return prop.decide(args.decision, subject, value, signer=prop.ops.signer(args.key))


@with_property
def cmd_property_approve(prop: Any, args: argparse.Namespace, _consents: dict[str, Any]) -> Any:
    return prop.approve_decision(args.proposal, signer=prop.ops.signer(args.key))


@with_property
def cmd_property_encumbrances(prop: Any, args: argparse.Namespace, _consents: dict[str, Any]) -> Any:
    return prop.encumbrances(pledgee=args.pledgee, after=args.after, limit=args.limit)


def _consent_args(s: argparse.ArgumentParser, action: str) -> None:
    parties = PARTIES.get(action, ())
    if not parties:
        return
    s.add_argument("--consent", action="append", metavar="PARTY=FILE",
                   help=f"a party's signed consent ({', '.join(parties)}); the others consent by mandate")
    s.add_argument("--sign", action="append", choices=parties,
                   help="sign this party's consent here with its account key (held in this keystore)")


def _terms_args(s: argparse.ArgumentParser, action: str) -> None:
    """The options of an action's terms (those its consents sign)."""
    if action in ("transfer", "enforce"):
        s.add_argument("--to", type=int, required=True,
                       help="the receiving entity" if action == "transfer" else "the pledgee or the buyer it names")
    if action == "change":
        s.add_argument("--rights", help="comma list of holding, processing, operation")
        s.add_argument("--metadata-hash", help="the new metadata document's hash")
        s.add_argument("--reason", required=True, help="the grounds (text, hashed, or a 32-byte hex hash)")
    if action == "cancel":
        s.add_argument("--reason", required=True, choices=CANCEL_REASONS)
    if action == "pledge":
        s.add_argument("--pledgee", type=int, required=True, help="a financial institution's entity id")
        s.add_argument("--amount", required=True, help="secured amount, e.g. 1250000.00")
        s.add_argument("--currency", required=True, help="ISO 4217, e.g. CNY")
        s.add_argument("--until", required=True, help="due date, ISO 8601 (2027-06-30)")
        s.add_argument("--reference", required=True, help="the pledgee's reference (text or hash)")
    if action == "assess":
        s.add_argument("--assessor", type=int, required=True, help="an accredited assessor's entity id")
        s.add_argument("--kind", dest="assessment_kind", required=True,
                       choices=["quality", "compliance", "valuation"])
        s.add_argument("--score", type=int, help="quality: basis points 0-10000")
        s.add_argument("--standard", help="quality: the standard used")
        s.add_argument("--passed", choices=["passed", "failed"], help="compliance: the result")
        s.add_argument("--scope", help="compliance: the scope")
        s.add_argument("--amount", help="valuation: amount, e.g. 3800000.00")
        s.add_argument("--currency", help="valuation: ISO 4217")
        s.add_argument("--method", choices=METHODS, help="valuation method")
        s.add_argument("--valuation-date", help="valuation: ISO 8601 date")
        s.add_argument("--valid-until", help="ISO 8601 date (default: open-ended)")
        s.add_argument("--report", required=True, help="the report's hash, or its text")
    if action == "withdraw":
        s.add_argument("assessment", help="the assessment: its number in the record (1, 2, ...) or its 0x id")
    if action == "dispute":
        s.add_argument("--claimant", type=int, required=True)
        s.add_argument("--claim", required=True, help="the claim (text, hashed, or its hash)")
    if action == "rule":
        s.add_argument("--arbitrator", type=int, required=True, help="an appointed arbitrator's entity id")
        s.add_argument("--outcome", required=True, choices=OUTCOMES)
        s.add_argument("--new-owner", type=int, help="with --outcome ownership")
        s.add_argument("--ruling", required=True, help="the ruling (text, hashed, or its hash)")
    if action == "list":
        s.add_argument("--compliance", help="the passed compliance assessment in force, by its number or 0x id "
                                            "(default: the record's latest such)")


HELP = {
    "transfer": "transfer the record (转让) with the holder's and receiver's consent",
    "change": "change its rights or metadata document (变更)",
    "renew": "renew it for its kind's term (续展)",
    "cancel": "cancel it (注销) with a reason",
    "pledge": "register a pledge (质押) of a product or asset",
    "release": "release the pledge",
    "enforce": "enforce the pledge on default: the record passes to --to",
    "assess": "record an accredited assessor's assessment (评估)",
    "withdraw": "withdraw an assessment",
    "list": "list a product or asset for trading (挂牌)",
    "dispute": "file a dispute (争议)",
    "rule": "an arbitrator's ruling (仲裁)",
    "execute": "carry out the ruling",
}


def add_parser(sub: Any) -> None:
    pr = sub.add_parser("property", help="the property register: transfers, pledges, assessments, disputes"
                        ).add_subparsers(dest="property_command", metavar="ACTION", required=True)
    s = pr.add_parser("show", help="a record's property: holder, term, pledge, assessments, dispute, histories")
    s.add_argument("record")
    s.set_defaults(handler=cmd_property_show)
    for action, text in HELP.items():
        s = pr.add_parser(action, help=text)
        s.add_argument("record")
        _terms_args(s, action)
        _consent_args(s, action)
        s.set_defaults(handler=cmd_property_action, action=action)
    s = pr.add_parser("consent", help="the EIP-712 typed data a party signs to consent to an action")
    s.add_argument("consent_action", metavar="ACTION", choices=list(PARTIES))
    s.add_argument("record")
    s.add_argument("party", choices=PARTY_NAMES)
    s.add_argument("--deadline", type=int, help="Unix seconds (default: an hour from the chain's time)")
    for action in PARTIES:  # every action's terms, all optional here: the action decides which it reads
        for flag, kw in _term_options(action):
            try:
                s.add_argument(flag, **kw)
            except argparse.ArgumentError:
                pass  # shared by two actions: added once
    s.set_defaults(handler=cmd_property_consent)
    s = pr.add_parser("decide", help="propose a governance decision: accredit an assessor, appoint an arbitrator, "
                      "set a kind's term, an exchange's compliance rule")
    s.add_argument("decision", choices=["accredit-assessor", "withdraw-accreditation", "appoint-arbitrator",
                                        "remove-arbitrator", "set-term", "set-compliance-rule"])
    s.add_argument("subject", help="an entity id; for set-term a kind (resource, product, asset); for "
                                   "set-compliance-rule an exchange code or id")
    s.add_argument("--days", type=int, default=0, help="set-term: the term in days (0: no expiry)")
    s.add_argument("--on", action=argparse.BooleanOptionalAction, default=True,
                   help="set-compliance-rule: turn the rule on (--no-on: off)")
    s.set_defaults(handler=cmd_property_decide, value=0)
    s = pr.add_parser("approve", help="approve a proposed decision (applied once it executes)")
    s.add_argument("proposal", type=int)
    s.set_defaults(handler=cmd_property_approve)
    s = pr.add_parser("encumbrances", help="pledges in force (is this asset pledged, to whom, until when)")
    s.add_argument("--pledgee", type=int)
    s.add_argument("--after", help="the `next` of the previous page")
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=cmd_property_encumbrances)


def _term_options(action: str) -> list[tuple[str, dict[str, Any]]]:
    """An action's term options, optional and without positionals (for ``property consent``)."""
    probe = argparse.ArgumentParser(add_help=False)
    _terms_args(probe, action)
    out = []
    for a in probe._actions:  # noqa: SLF001 - argparse keeps the declared options only here
        if not a.option_strings:
            out.append(("--" + a.dest, {"dest": a.dest, "help": a.help}))
            continue
        kw: dict[str, Any] = {"dest": a.dest, "help": a.help}
        if a.type is not None:
            kw["type"] = a.type
        if a.choices is not None:
            kw["choices"] = a.choices
        out.append((a.option_strings[0], kw))
    return out
