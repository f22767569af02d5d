"""The data property register's state in a certificate: ``credentialSubject.property``, as of the issuing block.

The record a certificate states is the record as registered (what its log leaf covers); what the register did to
it since - its holder now, its rights and metadata after a change, its term, the pledges and the assessments in
force, an open dispute - is this member. It is signed with the rest (the credential hash covers the whole
document), so a verifier offline reads it as the issuer stated it at ``issuedBlock``; online, the node compares it
with the register as it stands (provenance.core.certificates.checks: the ``term`` check and the report's
``property``). Certificates issued before the member verify as they did: it is optional.

Times are XML Schema dateTimes in UTC, whole seconds, with as many year digits as the time needs: the register
keeps them as uint40 seconds, which reach past the year 9999. Amounts are decimal strings (uint256 in the minor
unit of the currency; JSON numbers stop at 2**53). A member absent from an object is a value the register does not
have (no term, an open-ended assessment): JSON-LD expansion drops nulls, and the shipped context must keep every
value a certificate states.

Each value has the two readers of :mod:`.document`: ``_from_plain_json`` (exactly the shape written here, builtin
errors otherwise) and ``from_json`` (strict, MalformedDocument naming the path; it accepts extension members and
subclasses of the JSON types, as the other strict readers do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provenance.core.canonical import MalformedDocument, as_bool, as_hex, as_int, as_list, as_str, hex0x
from provenance.core.canonical import field as get
from provenance.core.certificates._readers import _bool, _h32, _uint

ASSESSMENT_KINDS = ("quality", "compliance", "valuation")
METHODS = ("cost", "income", "market")
MAX_TIME = 2**40 - 1  # the register's uint40 seconds
MAX_AMOUNT = 2**256 - 1
MAX_ITEMS = 1024  # pledges in force are at most one; assessments in force are bounded by the register's gas

_AMOUNT = re.compile(r"0|[1-9][0-9]{0,77}")
_CURRENCY = re.compile(r"[A-Z0-9]{1,32}")
_TIME = re.compile(r"(0[0-9]{3}|[1-9][0-9]{3,7})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


# ---------------------------------------------------------------------- times and amounts


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm: exact for any year)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def iso_time(ts: int) -> str:
    """Unix seconds 0..2**40-1 as an XML Schema dateTime in UTC."""
    if type(ts) is not int or not 0 <= ts <= MAX_TIME:
        raise ValueError(f"a register time is 0..2**40-1 seconds, not {ts!r}")
    days, secs = divmod(ts, 86_400)
    y, m, d = _civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}Z"


def time_seconds(text: Any) -> int:
    """The inverse of :func:`iso_time`: only the text it writes (ValueError or TypeError otherwise)."""
    if type(text) is not str:
        raise TypeError
    m = _TIME.fullmatch(text)
    if m is None:
        raise ValueError
    y, mo, d, hh, mm, ss = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31 and hh < 24 and mm < 60 and ss < 60):
        raise ValueError
    ts = _days_from_civil(y, mo, d) * 86_400 + hh * 3600 + mm * 60 + ss
    if not 0 <= ts <= MAX_TIME or iso_time(ts) != text:  # 31 February and the like do not come back
        raise ValueError
    return ts


def _time_strict(value: Any, path: str) -> int:
    text = as_str(value, path)
    try:
        return time_seconds(str(text))
    except (TypeError, ValueError):
        raise MalformedDocument(f"{path} must be an XML Schema dateTime in UTC like 2026-01-01T00:00:00Z, from "
                                f"1970 to the register's last second") from None


def _amount(value: Any) -> int:
    if type(value) is not str or _AMOUNT.fullmatch(value) is None:
        raise ValueError
    n = int(value)
    if n > MAX_AMOUNT:
        raise ValueError
    return n


def _amount_strict(value: Any, path: str) -> int:
    text = as_str(value, path)
    try:
        return _amount(str(text))
    except ValueError:
        raise MalformedDocument(f"{path} must be a decimal integer string from 0 to 2**256-1, no leading zeros") \
            from None


def _currency(value: Any) -> str:
    if type(value) is not str or _CURRENCY.fullmatch(value) is None:
        raise ValueError
    return value


def _currency_strict(value: Any, path: str) -> str:
    text = as_str(value, path)
    if _CURRENCY.fullmatch(text) is None:
        raise MalformedDocument(f"{path} must be a currency code of 1 to 32 upper-case letters or digits")
    return str(text)


def _keys(obj: Any, keys: frozenset[str]) -> dict[str, Any]:
    if type(obj) is not dict or obj.keys() != keys:
        raise ValueError
    return obj


# ---------------------------------------------------------------------- values


@dataclass(frozen=True)
class Encumbrance:
    """A pledge in force: the pledgee entity, the secured amount (minor unit) and currency, and its term."""

    pledgee: int
    amount: int
    currency: str
    until: int

    def to_json(self) -> dict[str, Any]:
        return {"pledgee": self.pledgee, "amount": str(self.amount), "currency": self.currency,
                "until": iso_time(self.until)}

    @classmethod
    def _from_plain_json(cls, obj: Any) -> Encumbrance:
        o = _keys(obj, _ENCUMBRANCE_KEYS)
        return cls(_uint(o["pledgee"], 0xFFFFFFFF), _amount(o["amount"]), _currency(o["currency"]),
                   time_seconds(o["until"]))

    @classmethod
    def from_json(cls, obj: Any, path: str) -> Encumbrance:
        return cls(as_int(get(obj, "pledgee", path), f"{path}.pledgee", hi=0xFFFFFFFF),
                   _amount_strict(get(obj, "amount", path), f"{path}.amount"),
                   _currency_strict(get(obj, "currency", path), f"{path}.currency"),
                   _time_strict(get(obj, "until", path), f"{path}.until"))


_ENCUMBRANCE_KEYS = frozenset({"pledgee", "amount", "currency", "until"})


@dataclass(frozen=True)
class AssessmentStatement:
    """An assessment in force by an accredited assessor. ``detail`` by kind: quality (score in basis points,
    standard), compliance (passed, scope), valuation (amount, currency, method, valuation date)."""

    kind: str
    assessor: int
    report_hash: bytes
    valid_until: int  # 0: open-ended
    score: int | None = None
    standard: bytes | None = None  # quality: the standard used; compliance: the scope
    passed: bool | None = None
    amount: int | None = None
    currency: str | None = None
    method: str | None = None
    valuation_date: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "assessor": self.assessor, "reportHash": hex0x(self.report_hash)}
        if self.valid_until:
            out["validUntil"] = iso_time(self.valid_until)
        if self.kind == "quality":
            out.update(score=self.score, standard=hex0x(self.standard or bytes(32)))
        elif self.kind == "compliance":
            out.update(passed=self.passed, scope=hex0x(self.standard or bytes(32)))
        else:
            out.update(amount=str(self.amount), currency=self.currency, method=self.method,
                       valuationDate=iso_time(self.valuation_date or 0))
        return out

    @classmethod
    def _from_plain_json(cls, obj: Any) -> AssessmentStatement:
        if type(obj) is not dict:
            raise TypeError
        kind = obj["kind"]
        keys = _ASSESSMENT_KEYS[kind] | ({"validUntil"} if "validUntil" in obj else set())
        o = _keys(obj, frozenset(keys))
        base = (kind, _uint(o["assessor"], 0xFFFFFFFF), _h32(o["reportHash"]),
                time_seconds(o["validUntil"]) if "validUntil" in o else 0)
        if base[3] == 0 and "validUntil" in o:
            raise ValueError  # open-ended is written without validUntil
        if kind == "quality":
            return cls(*base, score=_uint(o["score"], 10_000), standard=_h32(o["standard"]))
        if kind == "compliance":
            return cls(*base, passed=_bool(o["passed"]), standard=_h32(o["scope"]))
        if o["method"] not in METHODS:
            raise ValueError
        return cls(*base, amount=_amount(o["amount"]), currency=_currency(o["currency"]), method=o["method"],
                   valuation_date=time_seconds(o["valuationDate"]))

    @classmethod
    def from_json(cls, obj: Any, path: str) -> AssessmentStatement:
        kind = as_str(get(obj, "kind", path), f"{path}.kind")
        if kind not in ASSESSMENT_KINDS:
            raise MalformedDocument(f"{path}.kind: unknown value {kind!r}")
        kind = ASSESSMENT_KINDS[ASSESSMENT_KINDS.index(kind)]  # the plain str, not a subclass
        valid_until = _time_strict(obj["validUntil"], f"{path}.validUntil") if "validUntil" in obj else 0
        if "validUntil" in obj and valid_until == 0:
            raise MalformedDocument(f"{path}.validUntil: an open-ended assessment is written without it")
        base = (kind, as_int(get(obj, "assessor", path), f"{path}.assessor", hi=0xFFFFFFFF),
                as_hex(get(obj, "reportHash", path), f"{path}.reportHash", 32), valid_until)
        if kind == "quality":
            return cls(*base, score=as_int(get(obj, "score", path), f"{path}.score", hi=10_000),
                       standard=as_hex(get(obj, "standard", path), f"{path}.standard", 32))
        if kind == "compliance":
            return cls(*base, passed=as_bool(get(obj, "passed", path), f"{path}.passed"),
                       standard=as_hex(get(obj, "scope", path), f"{path}.scope", 32))
        method = as_str(get(obj, "method", path), f"{path}.method")
        if method not in METHODS:
            raise MalformedDocument(f"{path}.method: unknown value {method!r}")
        return cls(*base, amount=_amount_strict(get(obj, "amount", path), f"{path}.amount"),
                   currency=_currency_strict(get(obj, "currency", path), f"{path}.currency"),
                   method=METHODS[METHODS.index(method)],
                   valuation_date=_time_strict(get(obj, "valuationDate", path), f"{path}.valuationDate"))


_COMMON = {"kind", "assessor", "reportHash"}
_ASSESSMENT_KEYS = {"quality": frozenset(_COMMON | {"score", "standard"}),
                    "compliance": frozenset(_COMMON | {"passed", "scope"}),
                    "valuation": frozenset(_COMMON | {"amount", "currency", "method", "valuationDate"})}


@dataclass(frozen=True)
class PropertyState:
    """The register's state of the certified record at the issuing block."""

    holder: int
    rights: int
    metadata_hash: bytes
    expires_at: int  # 0: the record does not expire
    under_dispute: bool
    encumbrances: tuple[Encumbrance, ...] = ()
    assessments: tuple[AssessmentStatement, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"holder": self.holder, "rights": self.rights, "metadataHash": hex0x(self.metadata_hash),
                               "underDispute": self.under_dispute,
                               "encumbrances": [e.to_json() for e in self.encumbrances],
                               "assessments": [a.to_json() for a in self.assessments]}
        if self.expires_at:
            out["expiresAt"] = iso_time(self.expires_at)
        return out

    @classmethod
    def _from_plain_json(cls, obj: Any) -> PropertyState:
        if type(obj) is not dict:
            raise TypeError
        o = _keys(obj, _STATE_KEYS | {"expiresAt"} if "expiresAt" in obj else _STATE_KEYS)
        enc, asm = o["encumbrances"], o["assessments"]
        if type(enc) is not list or type(asm) is not list or len(enc) > MAX_ITEMS or len(asm) > MAX_ITEMS:
            raise TypeError
        expires = time_seconds(o["expiresAt"]) if "expiresAt" in o else 0
        if "expiresAt" in o and expires == 0:
            raise ValueError  # no term is written without expiresAt
        return cls(_uint(o["holder"], 0xFFFFFFFF), _uint(o["rights"], 7, lo=1), _h32(o["metadataHash"]), expires,
                   _bool(o["underDispute"]), tuple(Encumbrance._from_plain_json(e) for e in enc),
                   tuple(AssessmentStatement._from_plain_json(a) for a in asm))

    @classmethod
    def from_json(cls, obj: Any, path: str) -> PropertyState:
        """The member as stated; MalformedDocument naming the field if it is not well-formed."""
        try:
            return cls._from_plain_json(obj)
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls._from_json_strict(obj, path)

    @classmethod
    def _from_json_strict(cls, obj: Any, path: str) -> PropertyState:
        enc = as_list(get(obj, "encumbrances", path), f"{path}.encumbrances")
        asm = as_list(get(obj, "assessments", path), f"{path}.assessments")
        for name, items in (("encumbrances", enc), ("assessments", asm)):
            if len(items) > MAX_ITEMS:
                raise MalformedDocument(f"{path}.{name}: more than {MAX_ITEMS}")
        expires = _time_strict(obj["expiresAt"], f"{path}.expiresAt") if "expiresAt" in obj else 0
        if "expiresAt" in obj and expires == 0:
            raise MalformedDocument(f"{path}.expiresAt: a record without a term is written without it")
        return cls(
            holder=as_int(get(obj, "holder", path), f"{path}.holder", hi=0xFFFFFFFF),
            rights=as_int(get(obj, "rights", path), f"{path}.rights", lo=1, hi=7),
            metadata_hash=as_hex(get(obj, "metadataHash", path), f"{path}.metadataHash", 32),
            expires_at=expires,
            under_dispute=as_bool(get(obj, "underDispute", path), f"{path}.underDispute"),
            encumbrances=tuple(Encumbrance.from_json(e, f"{path}.encumbrances[{i}]") for i, e in enumerate(enc)),
            assessments=tuple(AssessmentStatement.from_json(a, f"{path}.assessments[{i}]")
                              for i, a in enumerate(asm)))


_STATE_KEYS = frozenset({"holder", "rights", "metadataHash", "underDispute", "encumbrances", "assessments"})


@dataclass(frozen=True)
class PropertyNow:
    """What an online verifier's view knows of the record in the register now (provenance.services)."""

    holder: int
    expires_at: int  # 0: no term
    under_dispute: bool
    pledged: bool


__all__ = ["AssessmentStatement", "Encumbrance", "PropertyNow", "PropertyState", "iso_time", "time_seconds"]
