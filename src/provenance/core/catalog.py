"""The federated catalogue's documents: metadata documents and entity profiles, validated, hashed and checked.

A registration's ``metadataHash`` commits to a metadata document (``schemas/provenance/metadata-v1.schema.json``),
an entity's public profile is an entity profile (``entity-profile-v1.schema.json``); both are JSON Schema 2020-12,
published at ``GET /api/v1/schemas/{name}``. No I/O beyond reading those two files from the package.

* Canonical form and hash: the JSON Canonicalization Scheme (RFC 8785, :mod:`provenance.core.canonical`), and
  ``metadataHash = keccak256(canonical UTF-8 bytes)``. Bytes taken from the chain or a peer are read with the
  I-JSON reader (:mod:`provenance.core.ijson`: duplicate keys, lone surrogates, deep nesting refused) and must
  *be* the canonical form: a second text of the same document (other spacing, other member order) is refused, so
  one document has exactly one text and one hash on every node.
* Size: :data:`MAX_DOCUMENT_BYTES` canonical bytes, the bound the contract repeats; beyond it
  :class:`~provenance.errors.DocumentTooLarge` (HTTP 413), checked before anything is parsed.
* Errors name the field by JSON path (``metadata: $.title: at least one of zh, en is required``); where a document
  breaks several rules, jsonschema's ``best_match`` picks the one reported, the same one on every node.

The usage terms of a record are an ODRL 2.2 policy (https://www.w3.org/TR/odrl-vocab/); every action it
*permits* must be covered by the rights the record holds (:class:`provenance.types.Rights`, the three rights of
the data property register):

=====================  ==================================================================================
right                  ODRL 2.2 actions it covers
=====================  ==================================================================================
holding (持有权)        use, read, display, present, print, play, stream, reproduce, archive, index,
                       concurrentUse, execute, install, uninstall, synchronize, textToSpeech, move, delete
processing-and-use     derive, aggregate, anonymize, transform, annotate, modify, translate, extract, include,
(加工使用权)            watermark, digitize: actions that make new data out of the data
operation (经营权)      distribute, sell, transfer, give, grantUse: actions that pass the data or a right on
=====================  ==================================================================================

Prohibitions and duties need no right (forbidding or requiring something grants nothing).

The DCAT 3 export of listings is :mod:`provenance.core.dcat`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from provenance.core import ijson
from provenance.core.canonical import canonical_json
from provenance.core.catalog_schema import Check, Unsure, compile_schema
from provenance.core.ids import identifier_hash
from provenance.core.keccak import keccak256
from provenance.errors import ConfigError, DocumentTooLarge, InvalidInput, MalformedJson
from provenance.types import Hash32, Rights

MAX_DOCUMENT_BYTES = 16384
"""The largest canonical document accepted (metadata and profiles alike); Registry.sol holds the same bound."""

METADATA_SCHEMA_ID = "https://w3id.org/provenance/schemas/metadata-v1.json"
PROFILE_SCHEMA_ID = "https://w3id.org/provenance/schemas/entity-profile-v1.json"
SCHEMA_FILES = {"metadata-v1": "metadata-v1.schema.json", "entity-profile-v1": "entity-profile-v1.schema.json"}
"""The published schemas by the name ``GET /api/v1/schemas/{name}`` serves them under."""

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Board:
    """A board (listing section, 板块) of the exchange: a catalogue theme."""

    code: str
    zh: str
    en: str

    @property
    def iri(self) -> str:
        return BOARD_IRI + self.code


BOARD_IRI = "https://w3id.org/provenance/boards/"
BOARDS: tuple[Board, ...] = (
    Board("international", "国际板", "International"),
    Board("finance", "金融", "Finance"),
    Board("shipping", "航运", "Shipping"),
    Board("trade-logistics", "贸易物流", "Trade and logistics"),
    Board("science-technology", "科技", "Science and technology"),
    Board("manufacturing", "制造", "Manufacturing"),
    Board("communications", "通信", "Communications"),
    Board("medical", "医疗", "Medical care"),
    Board("transportation", "交通", "Transportation"),
    Board("energy", "能源", "Energy"),
    Board("credit", "征信", "Credit"),
    Board("yangtze-delta", "长三角板", "Yangtze River Delta"),
    Board("digital-assets", "数字资产板", "Digital assets"),
)
_BOARDS = {b.code: b for b in BOARDS}


def board(code: str) -> Board:
    try:
        return _BOARDS[code]
    except (KeyError, TypeError):
        raise InvalidInput(f"unknown board {code!r}; the boards are {', '.join(_BOARDS)}") from None


# ---------------------------------------------------------------------- ODRL actions and rights

_HOLDING_ACTIONS = frozenset({"use", "read", "display", "present", "print", "play", "stream", "reproduce", "archive",
                              "index", "concurrentUse", "execute", "install", "uninstall", "synchronize",
                              "textToSpeech", "move", "delete"})
_PROCESSING_ACTIONS = frozenset({"derive", "aggregate", "anonymize", "transform", "annotate", "modify", "translate",
                                 "extract", "include", "watermark", "digitize"})
_OPERATION_ACTIONS = frozenset({"distribute", "sell", "transfer", "give", "grantUse"})
ACTION_RIGHTS: Mapping[str, Rights] = {
    **dict.fromkeys(_HOLDING_ACTIONS, Rights.HOLDING),
    **dict.fromkeys(_PROCESSING_ACTIONS, Rights.PROCESSING),
    **dict.fromkeys(_OPERATION_ACTIONS, Rights.OPERATION),
}
"""The right an ODRL action permitted by a policy needs (the module docstring's table)."""


def required_rights(policy: Mapping[str, Any]) -> Rights:
    """The rights a (validated) policy's permissions need together."""
    need = Rights(0)
    for rule in policy.get("permission", ()):
        need |= ACTION_RIGHTS[rule["action"]]
    return need


# ---------------------------------------------------------------------- canonical form and hash


def canonical_document(doc: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of ``doc`` (floats and non-JSON values refused, naming where)."""
    if not isinstance(doc, Mapping):
        raise InvalidInput("a document must be a JSON object")
    return canonical_json(doc if type(doc) is dict else _plain(doc))


def document_hash(doc: Mapping[str, Any] | bytes) -> Hash32:
    """keccak256 of the canonical bytes: ``bytes`` are taken as already canonical (as on chain)."""
    raw = bytes(doc) if isinstance(doc, bytes | bytearray | memoryview) else canonical_document(doc)
    return Hash32(keccak256(raw))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _read(raw: bytes | bytearray | memoryview | Mapping[str, Any], what: str) -> tuple[dict[str, Any], bytes]:
    """The document and its canonical bytes; bytes must be canonical, anything too large is refused first."""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _too_large(what, len(data))
        doc = ijson.loads(data, max_int=ijson.EXACT_INT, max_bytes=MAX_DOCUMENT_BYTES, max_depth=16, what=what)
        if not isinstance(doc, dict):
            raise InvalidInput(f"{what}: $: must be a JSON object")
        canonical = _canonical(doc, what)
        if canonical != data:
            raise NotCanonical(f"{what}: the bytes are not the canonical form (RFC 8785) of the document they hold; "
                               f"a document is published as exactly its canonical bytes")
        return doc, canonical
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{what}: $: must be a JSON object")
    canonical = _canonical(raw, what)
    if len(canonical) > MAX_DOCUMENT_BYTES:
        raise _too_large(what, len(canonical))
    # A fresh copy read back from the canonical text: the caller's objects are never kept, and what is validated
    # is exactly what was hashed.
    return ijson.loads(canonical, max_int=ijson.EXACT_INT, what=what), canonical


def _canonical(doc: Mapping[str, Any], what: str) -> bytes:
    try:
        return canonical_document(doc)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc.message}") from None


def _too_large(what: str, size: int) -> DocumentTooLarge:
    return DocumentTooLarge(f"{what} is {size} canonical bytes, more than the {MAX_DOCUMENT_BYTES} accepted",
                            size=size, limit=MAX_DOCUMENT_BYTES)


class NotCanonical(MalformedJson):
    """Raised when the bytes of a document are JSON but not its RFC 8785 canonical form."""


# ---------------------------------------------------------------------- schema validation


def schema(name: str) -> dict[str, Any]:
    """A published schema by name (``metadata-v1``, ``entity-profile-v1``): a fresh copy each call, so what a
    caller does with it never reaches the validators."""
    return json.loads(_schema_text(name))  # type: ignore[no-any-return]


@functools.cache
def _schema_text(name: str) -> str:
    if (file := SCHEMA_FILES.get(name)) is None:
        raise InvalidInput(f"unknown schema {name!r}; the schemas are {', '.join(SCHEMA_FILES)}")
    return (resources.files("provenance") / "schemas" / "provenance" / file).read_text("utf-8")


_FORMATS_USED = frozenset({"date", "email", "uri"})


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    # jsonschema checks "uri" only when rfc3986-validator (or rfc3987) is installed and otherwise passes any
    # string: a node without it would accept documents every other node refuses, so it refuses to judge at all.
    missing = _FORMATS_USED - set(Draft202012Validator.FORMAT_CHECKER.checkers)
    if missing:
        raise ConfigError(f"jsonschema cannot check the formats {sorted(missing)} the catalogue's schemas use; "
                          f"install rfc3986-validator")
    return Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _path(error: ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if str(part).isidentifier() else \
            f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _message(error: ValidationError) -> str:
    """One sentence saying what is wrong at the error's path, the same for every reader."""
    v, value, sch = error.validator, error.instance, error.schema
    path = _path(error)
    if path.startswith("$.themes[") and path.endswith("]") and isinstance(value, str):
        # best_match reports one branch of the theme's anyOf; the person needs both
        return f"{path}: {_short(value)} is neither a board code ({', '.join(_BOARDS)}) nor an absolute http(s) IRI"
    if v == "required":
        name = next((r for r in sch["required"] if isinstance(value, dict) and r not in value), "?")
        where = f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"
        if name == "creditCode":
            return f"{where}: is required for an enterprise or a public body"
        return f"{where}: is required"
    if v == "not" and path == "$" and isinstance(value, dict) and "creditCode" in value:
        return "$.creditCode: an individual's profile carries no credit code"
    if v == "minProperties":
        both = set(sch.get("properties", {})) == set(LANGUAGES)
        return f"{path}: at least one of zh, en is required" if both else f"{path}: must not be empty"
    if v == "additionalProperties":
        extra = sorted(set(value) - set(sch.get("properties", {})))
        where = f"{path}.{extra[0]}" if extra and extra[0].isidentifier() else path
        hint = " (a document describes the data and never carries it)" if "distributions" in sch.get(
            "properties", {}) else ""
        return f"{where}: is not a field of this document{hint}"
    if v == "type":
        name = str(error.validator_value)
        return f"{path}: must be {'an' if name in ('object', 'array', 'integer') else 'a'} {name}"
    if v in ("minLength", "pattern") and isinstance(value, str) and (not value or not value.strip()):
        return f"{path}: must not be empty"
    if v == "enum":
        return f"{path}: {_short(value)} is not one of {', '.join(map(str, sch['enum']))}"
    if v == "const":
        return f"{path}: must be {json.dumps(sch['const'])}"
    if v == "format":
        return f"{path}: {_short(value)} is not a valid {error.validator_value}"
    if v == "uniqueItems":
        return f"{path}: holds the same value twice"
    if v in ("maxLength", "maxItems", "maximum", "minimum", "minItems"):
        return f"{path}: {error.message}"
    if v == "pattern" and isinstance(value, str) and sch["pattern"].startswith(_TEXT_PATTERN_START):
        # A paragraph (text4000) may hold tabs and line breaks; its pattern's controls start past them.
        return f"{path}: {_text_fault(value, paragraph=_PARAGRAPH_CONTROLS in sch['pattern'])}"
    if v == "pattern":
        return f"{path}: {_short(value)} is not in the expected form"
    return f"{path}: {error.message}"


_TEXT_PATTERN_START = "^(?=[\\s\\S]*"  # the schemas' text and name patterns: a visible character, no controls
_PARAGRAPH_CONTROLS = "\\u0000-\\u0008\\u000b"
_TEXT_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _text_fault(value: str, *, paragraph: bool) -> str:
    """What breaks a text pattern, named: the first control or bidirectional control character, or no visible
    character at all."""
    for found in _TEXT_FORBIDDEN.finditer(value):
        if paragraph and found.group() in "\t\n\r":
            continue
        return (f"holds the {'bidirectional control' if ord(found.group()) >= 0x202A else 'control'} character "
                f"U+{ord(found.group()):04X} at position {found.start()}")
    return "holds no visible character"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


@functools.cache
def _fast_check(name: str) -> Check:
    _validator(name)  # the same format checks, or none at all
    return compile_schema(schema(name))


def _validate(name: str, doc: dict[str, Any], what: str) -> None:
    with contextlib.suppress(Unsure):
        if _fast_check(name)(doc):
            return  # valid: the subset only ever accepts what jsonschema accepts
    error = best_match(_validator(name).iter_errors(doc))
    if error is not None:
        raise InvalidInput(f"{what}: {_message(error)}")


# ---------------------------------------------------------------------- metadata documents


@dataclass(frozen=True)
class Metadata:
    """A valid metadata document, its canonical bytes and its hash (the record's ``metadataHash``)."""

    document: dict[str, Any]
    canonical: bytes
    hash: Hash32
    title: dict[str, str]
    description: dict[str, str]
    publisher: int
    keywords: tuple[str, ...]
    themes: tuple[str, ...]

    def display_title(self, lang: str = "zh") -> str:
        """The title in ``lang``, else in the other language."""
        return self.title.get(lang) or next(self.title[k] for k in LANGUAGES if k in self.title)

    def display_description(self, lang: str = "zh") -> str | None:
        return self.description.get(lang) or next((self.description[k] for k in LANGUAGES
                                                   if k in self.description), None)

    @property
    def boards(self) -> tuple[Board, ...]:
        """The themes that are boards of the exchange (IRIs of other schemes left out)."""
        return tuple(_BOARDS[t] for t in self.themes if t in _BOARDS)

    @property
    def policy(self) -> dict[str, Any] | None:
        return self.document.get("policy")


def parse_metadata(raw: bytes | bytearray | memoryview | Mapping[str, Any]) -> Metadata:
    """A :class:`Metadata` from canonical bytes (as on chain) or a decoded document; InvalidInput naming the field
    (DocumentTooLarge beyond :data:`MAX_DOCUMENT_BYTES`, NotCanonical for another text of a document)."""
    what = "metadata"
    doc, canonical = _read(raw, what)
    _validate("metadata-v1", doc, what)
    temporal = doc.get("temporal", {})
    if "start" in temporal and "end" in temporal and temporal["start"] > temporal["end"]:
        raise InvalidInput(f"{what}: $.temporal: start {temporal['start']} is after end {temporal['end']}")
    return Metadata(document=doc, canonical=canonical, hash=Hash32(keccak256(canonical)), title=dict(doc["title"]),
                    description=dict(doc.get("description", {})), publisher=doc["publisher"],
                    keywords=tuple(doc.get("keywords", ())), themes=tuple(doc.get("themes", ())))


def check_against_record(meta: Metadata, *, owner: int, rights: Rights) -> None:
    """Refuse (InvalidInput) a document that does not fit its record: another publisher than the owner, or a
    policy permitting an action the record's rights do not cover (the module docstring's table)."""
    if meta.publisher != owner:
        raise InvalidInput(f"metadata: $.publisher: {meta.publisher} is not the record's owner {owner}")
    for i, rule in enumerate((meta.policy or {}).get("permission", ())):
        need = ACTION_RIGHTS[rule["action"]]
        if not need & rights:
            raise InvalidInput(f"metadata: $.policy.permission[{i}].action: {rule['action']!r} needs the "
                               f"{_right_name(need)} right, which the record does not hold "
                               f"(it holds {_right_name(rights) or 'none'})")


def _right_name(rights: Rights) -> str:
    names = {Rights.HOLDING: "holding", Rights.PROCESSING: "processing-and-use", Rights.OPERATION: "operation"}
    return ", ".join(n for r, n in names.items() if r & rights)


def search_text(meta: Metadata) -> dict[str, str]:
    """The text the full-text index holds for a listing: title and description (both languages) and keywords."""
    return {"title": " ".join(meta.title[k] for k in LANGUAGES if k in meta.title),
            "description": " ".join(meta.description[k] for k in LANGUAGES if k in meta.description),
            "keywords": " ".join(meta.keywords)}


# ---------------------------------------------------------------------- entity profiles

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: the 31 characters, no I, O, Z, S, V
_CODE_VALUE = {c: i for i, c in enumerate(_CODE_CHARS)}
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(c not in _CODE_VALUE for c in first17):
        raise InvalidInput(f"invalid credit code prefix {first17!r}: 17 characters of {_CODE_CHARS} expected")
    total = sum(_CODE_VALUE[c] * w for c, w in zip(first17, _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """True if ``code`` is 18 characters of the GB 32100 character set ending in its check character."""
    return (isinstance(code, str) and len(code) == 18 and all(c in _CODE_VALUE for c in code)
            and code[2:8].isdigit() and credit_code_check_char(code[:17]) == code[17])


@dataclass(frozen=True)
class Profile:
    """A valid entity profile, its canonical bytes and hash."""

    document: dict[str, Any]
    canonical: bytes
    hash: Hash32
    name: dict[str, str]
    kind: str
    credit_code: str | None
    region: str | None

    @property
    def is_individual(self) -> bool:
        return self.kind == "individual"

    def display_name(self, lang: str = "zh") -> str:
        return self.name.get(lang) or next(self.name[k] for k in LANGUAGES if k in self.name)


def parse_profile(raw: bytes | bytearray | memoryview | Mapping[str, Any]) -> Profile:
    """A :class:`Profile` from canonical bytes or a decoded document; InvalidInput naming the field."""
    what = "profile"
    doc, canonical = _read(raw, what)
    _validate("entity-profile-v1", doc, what)
    code = doc.get("creditCode")
    if code is not None and not valid_credit_code(code):
        raise InvalidInput(f"{what}: $.creditCode: {code!r} does not end in its GB 32100 check character "
                           f"({credit_code_check_char(code[:17])!r} expected)")
    return Profile(document=doc, canonical=canonical, hash=Hash32(keccak256(canonical)), name=dict(doc["name"]),
                   kind=doc["kind"], credit_code=code, region=doc.get("region"))


def check_profile_binding(profile: Profile, identifier_hash_on_chain: bytes) -> None:
    """Refuse a profile whose credit code is not the identifier the entity was registered with on chain (and any
    individual's profile: it is never bound to the chain, never published)."""
    if profile.credit_code is None:
        raise InvalidInput("profile: an individual's profile is not published on chain")
    if identifier_hash(profile.credit_code) != bytes(identifier_hash_on_chain):
        raise InvalidInput("profile: $.creditCode: its identifier hash is not the entity's identifierHash on chain")
