"""The users' values of the data property register, turned into the contract's and checked before a transaction is
sent (the contract checks again): entity ids; amounts as decimal strings in a currency's major unit (ISO 4217:
"1250000.00" CNY is 125,000,000 fen on the chain, "3000" JPY is 3,000 yen); dates as ISO 8601 (``2027-06-30`` is
midnight UTC, a time needs its offset); rights, reason codes, assessment kinds, methods and outcomes by name; an
assessment by its order within the record (1, 2, ...) or its 0x id; a party's consent as its mandate or its
EIP-712 signature. Every mistake is an InvalidInput naming the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from provenance.chain import property as C
from provenance.chain.property import Consent
from provenance.core.ids import parse_hash32
from provenance.errors import InvalidInput
from provenance.services.requests import parse_signature, reason_hash
from provenance.types import Rights

ACTIONS = C.ACTIONS
# The contract's codes by name, from chain.property's lists: cancellation reasons 1..8, outcomes 1..3.
CANCEL_REASONS = tuple(C.CANCEL_REASONS[code] for code in sorted(C.CANCEL_REASONS))
OUTCOMES = tuple(C.OUTCOMES[code] for code in sorted(C.OUTCOMES))
ASSESSMENT_KINDS = C.ASSESSMENT_KINDS
METHODS = C.METHODS
U32 = 2**32 - 1

# ISO 4217 active codes by their minor unit (the exponent); every other active code has two decimals.
_MINOR_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_MINOR_3 = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_4 = "CLF UYW"
_MINOR_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF "
    "CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF "
    "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS "
    "SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD YER ZAR ZMW ZWG")
MINOR_UNITS: Mapping[str, int] = {
    code: digits for digits, codes in ((0, _MINOR_0), (2, _MINOR_2), (3, _MINOR_3), (4, _MINOR_4))
    for code in codes.split()
}
_AMOUNT = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")


# ---------------------------------------------------------------------- the users' values


def entity_id(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= U32:
        raise InvalidInput(f"{what} must be an entity id (1 to {U32})")
    return value


def currency_code(value: Any, what: str = "currency") -> str:
    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise InvalidInput(f"{what} must be an ISO 4217 currency code in capitals, e.g. CNY, got {value!r}")
    return value


def minor_amount(value: Any, currency: str, what: str = "amount", *, limit: int = 2**128) -> int:
    """A decimal string in the currency's major unit as its minor unit (the contract's integer). Integer arithmetic
    throughout: a 128-bit amount has more digits than a float or Decimal's default context keeps."""
    digits = MINOR_UNITS[currency]
    match = _AMOUNT.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"{what} must be a decimal string such as \"1250000.00\", got {value!r}")
    fraction = (match.group(2) or ".")[1:]
    if len(fraction.rstrip("0")) > digits:
        raise InvalidInput(f"{what} {value!r}: {currency} has {digits} decimal place(s)")
    minor: int = int(match.group(1)) * 10**digits + int(fraction[:digits].ljust(digits, "0") or "0")
    if not 0 < minor < limit:
        raise InvalidInput(f"{what} must be above zero and below {major_amount(limit, currency)} {currency}")
    return minor


def major_amount(minor: int, currency: str) -> str:
    """The contract's integer in the currency's major unit, as a decimal string with all its places."""
    digits = MINOR_UNITS.get(currency, 2)
    whole, part = divmod(minor, 10**digits)
    return f"{whole}.{part:0{digits}d}" if digits else str(whole)


def unix_time(value: Any, what: str) -> int:
    """An ISO 8601 date (midnight UTC) or date-time with its offset, or Unix seconds, as Unix seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**40:
            raise InvalidInput(f"{what}: Unix seconds from 0 to 2**40")
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be an ISO 8601 date or date-time, e.g. 2027-06-30")
    try:
        if len(value) == 10:
            return int(dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC).timestamp())
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{what} {value!r}: a date-time needs its offset (Z or +08:00)")
    stamp = int(moment.timestamp())
    if not 0 <= stamp < 2**40:
        raise InvalidInput(f"{what} is out of range")
    return stamp


def iso(stamp: int | None) -> str | None:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat().replace("+00:00", "Z") if stamp else None


def text_hash(value: Any, what: str) -> bytes:
    """A 32-byte hex hash as given, or the keccak-256 of a text (a reference number, a claim's summary)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what}: a 32-byte hex hash or a non-empty text")
    return bytes(reason_hash(value))


def named(value: Any, names: tuple[str, ...], what: str, *, base: int = 0) -> int:
    if isinstance(value, str) and value in names:
        return names.index(value) + base
    raise InvalidInput(f"{what} must be one of {', '.join(names)}, got {value!r}")


_DECIMAL = re.compile(r"^[1-9][0-9]{0,9}$")


def assessment_ref(value: Any, what: str) -> int | bytes:
    """An assessment as people name it: its order within the record (1, 2, ...; a number or its decimal text), or
    its 32-byte id as 0x hex (what the contract names it by, keccak256(assessor, kind, reportHash))."""
    if isinstance(value, str) and _DECIMAL.match(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= U32:
            raise InvalidInput(f"{what} must be an assessment's number in the record (1, 2, ...) or its 0x id")
        return value
    if isinstance(value, str) and value.startswith("0x"):
        return bytes(parse_hash32(value, what))
    raise InvalidInput(f"{what} must be an assessment's number in the record (1, 2, ...) or its 0x id, "
                       f"got {value!r}")


def _get(body: Mapping[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise InvalidInput(f"{name} is missing")
    return body[name]


def parse_terms(action: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The action's arguments (those its consents' termsHash covers) from the users' values, checked here so a
    mistake is named before a transaction is sent; the contract checks again."""
    if action == "transfer":
        return {"to": entity_id(_get(body, "to"), "to")}
    if action == "change":
        if body.get("rights") is None and body.get("metadataHash") is None:
            raise InvalidInput("a change gives rights, metadataHash or both")
        rights = body.get("rights")
        out: dict[str, Any] = {"reason": text_hash(_get(body, "reason"), "reason")}
        if rights is not None:
            if not (isinstance(rights, list) and rights and all(isinstance(r, str) for r in rights)):
                raise InvalidInput("rights: a list of holding, processing, operation")
            out["rights"] = int(Rights.parse(",".join(rights)))
        if body.get("metadataHash") is not None:
            out["metadata_hash"] = bytes(parse_hash32(str(body["metadataHash"]), "metadataHash"))
        return out
    if action == "cancel":
        return {"reason_code": named(_get(body, "reason"), CANCEL_REASONS, "reason", base=1)}
    if action == "pledge":
        currency = currency_code(_get(body, "currency"))
        return {"pledgee": entity_id(_get(body, "pledgee"), "pledgee"),
                "amount": minor_amount(_get(body, "amount"), currency), "currency": currency,
                "until": unix_time(_get(body, "until"), "until"),
                "reference": text_hash(_get(body, "reference"), "reference")}
    if action == "enforce":
        return {"to": entity_id(_get(body, "to"), "to")}
    if action == "assess":
        return _assessment(body)
    if action == "withdraw":
        return {"assessment": assessment_ref(_get(body, "assessment"), "assessment")}
    if action == "dispute":
        return {"claimant": entity_id(_get(body, "claimant"), "claimant"),
                "claim_hash": text_hash(_get(body, "claim"), "claim")}
    if action == "rule":
        outcome = named(_get(body, "outcome"), OUTCOMES, "outcome", base=1)
        new_owner = body.get("newOwner")
        if (outcome == 2) != (new_owner is not None):
            raise InvalidInput("newOwner is given with the outcome ownership, and only with it")
        return {"arbitrator": entity_id(_get(body, "arbitrator"), "arbitrator"), "outcome": outcome,
                "new_owner": 0 if new_owner is None else entity_id(new_owner, "newOwner"),
                "ruling_hash": text_hash(_get(body, "ruling"), "ruling")}
    if action in ("renew", "release"):
        return {}
    raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")


def _assessment(body: Mapping[str, Any]) -> dict[str, Any]:
    kind = named(_get(body, "kind"), ASSESSMENT_KINDS, "kind")
    valid_until = body.get("validUntil")
    a: dict[str, Any] = {"assessor": entity_id(_get(body, "assessor"), "assessor"), "kind": kind, "score": 0,
                         "passed": False, "method": 0, "amount": 0, "currency": "", "standard": bytes(32),
                         "valuation_date": 0, "valid_until": 0 if valid_until is None else unix_time(valid_until,
                                                                                                    "validUntil"),
                         "report_hash": text_hash(_get(body, "report"), "report")}
    if kind == 0:
        score = _get(body, "score")
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10_000:
            raise InvalidInput("score: basis points from 0 to 10000 (87.5% is 8750)")
        a.update(score=score, standard=text_hash(_get(body, "standard"), "standard"))
    elif kind == 1:
        passed = _get(body, "passed")
        if not isinstance(passed, bool):
            raise InvalidInput("passed must be true or false")
        a.update(passed=passed, standard=text_hash(_get(body, "scope"), "scope"))
    else:
        currency = currency_code(_get(body, "currency"))
        a.update(currency=currency, amount=minor_amount(_get(body, "amount"), currency, limit=2**72),
                 method=named(_get(body, "method"), METHODS, "method"),
                 valuation_date=unix_time(_get(body, "valuationDate"), "valuationDate"))
    return a


def parse_consent(value: Any, party: str) -> Consent | None:
    """A party's consent as given: None (its mandate, or a signature made here), or {deadline, signature}."""
    if value is None or value == "mandate":
        return None
    if not isinstance(value, Mapping) or set(value) != {"deadline", "signature"}:
        raise InvalidInput(f"consents.{party}: \"mandate\" or {{\"deadline\": unix seconds, \"signature\": 0x...}}")
    deadline = value["deadline"]
    if not isinstance(deadline, int) or isinstance(deadline, bool) or not 0 <= deadline < 2**63:
        raise InvalidInput(f"consents.{party}.deadline must be Unix seconds")
    return Consent(deadline, parse_signature(str(value["signature"])))


__all__ = ["ACTIONS", "ASSESSMENT_KINDS", "CANCEL_REASONS", "METHODS", "MINOR_UNITS", "OUTCOMES", "U32",
           "assessment_ref", "currency_code", "entity_id", "iso", "major_amount", "minor_amount", "named",
           "parse_consent", "parse_terms", "text_hash", "unix_time"]
