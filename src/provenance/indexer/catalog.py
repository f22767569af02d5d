"""What the catalogue's two events do to the index, and the change log the SQLite projection follows.

Every node judges a published document with the same rules from the same index state, so all honest nodes hold
the same catalogue (layout in provenance.store.keys):

- ``MetadataPublished(id, exchangeId, document)`` is accepted iff the record is in the index (direct or batched),
  is general grade, the publishing exchange is its registrar, keccak256(document) is its metadataHash, and the
  bytes are the canonical form of a document that passes core.catalog's validation and whose publisher and
  policy agree with the record. Accepted: ``M <seq>``.
- ``EntityProfilePublished(entityId, exchangeId, document)`` is accepted iff the entity exists, the exchange is
  its registrar, the bytes are the canonical form of a valid profile, the kind is not individual, and
  identifier_hash(creditCode) is the entity's on-chain identifierHash. Accepted: ``Q <entity>``.

A refused document is counted (meta ``catalog_rejected``) and its reason kept under ``N <block> <log>``; it is
never shown. The contract already refuses most of these for direct records; the index repeats every check
because batched entries are judged only here, and because a node must not trust that the chain ran the code it
expects. All writes go through the block's writer, so a reorg undoes them with the block.

The change log ``T <n:8>`` names each record seq (b"r") or entity id (b"e") whose catalogue row may have changed,
at most once a block; the projection replays it from its stored position. The end of this module holds what a
row shows (publisher_of, document_of: the same rules applied to documents supplied off-chain), its searchable
text, which provenance.indexer.catalog_search writes to SQLite, and the pure parts of its search (row keys,
filters, facet counts, pages).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol, cast

import orjson

from provenance.core import catalog as C
from provenance.core.keccak import keccak256
from provenance.errors import InvalidInput
from provenance.indexer.events import Event
from provenance.indexer.queries import GRADES, KINDS, STATUSES
from provenance.store import keys as K
from provenance.store.documents import DocumentStore
from provenance.store.index import BlockWriter
from provenance.types import Rights

LOG_COUNTER = "catalog_log"
REJECTED_COUNTER = "catalog_rejected"
RECORD_ROW = b"r"
ENTITY_ROW = b"e"


def _counter(w: BlockWriter, name: str) -> int:
    raw = w.get(K.meta(name))
    return int.from_bytes(raw, "big") if raw else 0


def _held(w: BlockWriter, name: str) -> int:
    """A counted log's size in this block: read once a block and written back once, before the commit."""
    state = ("catalog counter", name)
    held = w.state.get(state)
    if held is not None:
        return cast(int, held)
    value = _counter(w, name)

    def save() -> None:
        w.put(K.meta(name), cast(int, w.state[state]).to_bytes(8, "big"))

    w.before_commit.append(save)
    w.state[state] = value
    return value


def _append(w: BlockWriter, name: str, key_of: Any, entry: bytes) -> None:
    """Append to a counted log."""
    value = _held(w, name)
    if key_of is not None:
        w.put_new([(key_of(value), entry)])
    w.state[("catalog counter", name)] = value + 1


def change_log_for_new_rows(w: BlockWriter) -> tuple[set[bytes], int]:
    """For a caller that names rows of records new in this block itself (provenance.indexer.direct): the rows
    named this block and the change log's next index. It puts ``K.CATALOG_LOG + n.to_bytes(8, "big")`` ->
    ``RECORD_ROW + seq`` for each, adds each row to the set, and hands the next index back with
    :func:`set_change_log_size`, which is what :func:`touch_record` does one row at a time."""
    seen = cast("set[bytes] | None", w.state.get("catalog touched"))
    if seen is None:
        seen = set()
        w.state["catalog touched"] = seen
    return seen, _held(w, LOG_COUNTER)


def set_change_log_size(w: BlockWriter, size: int) -> None:
    w.state[("catalog counter", LOG_COUNTER)] = size


def touch(w: BlockWriter, row: bytes) -> None:
    """Name a catalogue row (b"r" + seq or b"e" + entity id) in the change log, once a block."""
    seen = cast("set[bytes] | None", w.state.get("catalog touched"))
    if seen is None:
        seen = set()
        w.state["catalog touched"] = seen
    if row in seen:
        return
    seen.add(row)
    _append(w, LOG_COUNTER, lambda n: K.CATALOG_LOG + n.to_bytes(8, "big"), row)


def touch_record(w: BlockWriter, seq_bytes: bytes) -> None:
    touch(w, RECORD_ROW + seq_bytes)


def touch_entity(w: BlockWriter, entity_id: int) -> None:
    touch(w, ENTITY_ROW + entity_id.to_bytes(4, "big"))


def _refuse(w: BlockWriter, ev: Event, subject: bytes, why: str) -> None:
    w.put(K.CATALOG_REFUSED + ev.block_number.to_bytes(8, "big") + ev.log_index.to_bytes(4, "big"),
          subject + why.encode())
    _append(w, REJECTED_COUNTER, None, b"")


def _why(exc: Exception) -> str:
    return str(exc)[:200] or type(exc).__name__


def judge_metadata(document: bytes, *, owner: int, rights: int) -> str | None:
    """Why a document's bytes are not an acceptable metadata document of a record with this owner and rights
    (None: acceptable): too large, not canonical, invalid, or not fitting the record. The hash and grade checks
    are the caller's."""
    try:
        meta = C.parse_metadata(document)  # bytes must be exactly the canonical form (NotCanonical otherwise)
        C.check_against_record(meta, owner=owner, rights=Rights(rights & 7))
    except InvalidInput as exc:
        return f"{type(exc).__name__}: {_why(exc)}"
    return None


def judge_profile(document: bytes, *, identifier: bytes) -> str | None:
    """Why a profile's bytes are not an acceptable public profile of an entity with this on-chain identifier
    hash (None: acceptable)."""
    try:
        profile = C.parse_profile(document)
    except InvalidInput as exc:
        return f"{type(exc).__name__}: {_why(exc)}"
    if profile.is_individual:
        # An individual's profile must never be public, whoever published it.
        return "IndividualProfile"
    try:
        C.check_profile_binding(profile, identifier)
    except InvalidInput as exc:
        return f"IdentifierMismatch: {_why(exc)}"
    return None


def _metadata_published(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rid: bytes = a["id"]
    document: bytes = a["document"]
    subject = RECORD_ROW + rid
    raw_seq = w.get(K.ID_SEQ + rid)
    value = None if raw_seq is None else w.get(K.RECORD + raw_seq)
    if raw_seq is None or value is None:
        _refuse(w, ev, subject, "UnknownRecord")
        return
    owner, registrar, _kind, grade, _source, rights, *_ = K.record_head(value)
    metadata_hash = value[K.RECORD_ID_OFFSET + 64:K.RECORD_ID_OFFSET + 96]
    why: str | None
    if grade != 0:
        why = "NotGeneralGrade"  # important and core documents stay with the registrar's node
    elif a["exchangeId"] != registrar:
        why = "NotRegistrar"
    elif keccak256(document) != metadata_hash:
        why = "HashMismatch"
    else:
        why = judge_metadata(document, owner=owner, rights=rights)
    if why is not None:
        _refuse(w, ev, subject, why)
        return
    w.put(K.CATALOG_METADATA + raw_seq, document)
    touch_record(w, raw_seq)


def _entity_profile_published(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    entity: int = a["entityId"]
    document: bytes = a["document"]
    eb = entity.to_bytes(4, "big")
    subject = ENTITY_ROW + eb
    value = w.get(K.ENTITY + eb)
    why: str | None
    if value is None:
        why = "UnknownEntity"
    elif a["exchangeId"] != int.from_bytes(value[:2], "big"):
        why = "NotRegistrar"
    else:
        why = judge_profile(document, identifier=value[3:35])
    if why is not None:
        _refuse(w, ev, subject, why)
        return
    w.put(K.CATALOG_PROFILE + eb, document)
    touch_entity(w, entity)


# ---------------------------------------------------------------------- what a catalogue row shows

Publisher = tuple[str | None, str | None, str | None]
"""(name zh, name en, kind) an entity is shown with in public rows."""


def publisher_of(index: _Reader, documents: DocumentStore, entity_id: int) -> Publisher:
    """An organisation's name and kind from its accepted public profile (``Q``), else from a local profile the
    index's rules would accept; nothing for individuals or the unknown (their names never enter a public row)."""
    eb = entity_id.to_bytes(4, "big")
    raw = index.get(K.CATALOG_PROFILE + eb)
    if raw is None:
        raw = documents.profile(entity_id)
        entity = index.get(K.ENTITY + eb)
        if raw is None or entity is None:
            return None, None, None
        try:
            if orjson.loads(raw).get("kind") == "individual":  # not even validated: it is never shown
                return None, None, None
        except (orjson.JSONDecodeError, AttributeError):
            return None, None, None
        if judge_profile(raw, identifier=entity[3:35]) is not None:
            return None, None, None
    doc = orjson.loads(raw)
    return doc["name"].get("zh"), doc["name"].get("en"), doc["kind"]


def document_of(index: _Reader, documents: DocumentStore, seq: int, metadata_hash: bytes, owner: int,
                rights: int) -> dict[str, Any] | None:
    """A record's document: the one the index accepted (``M``), else one supplied off-chain that hashes to its
    metadataHash (the store's key) and passes the same rules."""
    raw = index.get(K.CATALOG_METADATA + K.seq_bytes(seq))
    if raw is None:
        raw = documents.get(metadata_hash)
        if raw is None or judge_metadata(raw, owner=owner, rights=rights) is not None:
            return None
    return dict(orjson.loads(raw))


# ---------------------------------------------------------------------- searchable text

MAX_QUERY_CHARS = 200
MAX_TERMS = 8


def grams(texts: Iterable[str]) -> str:
    """Every distinct one- and two-character substring of the words in ``texts`` (lower-cased), each encoded
    as a token of [0-9a-z] so the unicode61 tokenizer keeps it whole (order does not matter to the table)."""
    out: set[str] = set()
    for text in texts:
        for word in text.lower().split():
            out.update(word)
            out.update(word[i:i + 2] for i in range(len(word) - 1))
    tokens = _TOKENS
    return " ".join([tokens.get(g) or _token(g) for g in out])


_TOKENS: dict[str, str] = {}  # a catalogue's grams repeat across rows: each is encoded once a process


def _token(gram: str) -> str:
    token = "g" + "x".join(f"{ord(c):x}" for c in gram)
    if len(_TOKENS) < 1_000_000:
        _TOKENS[gram] = token
    return token


def gram_token(gram: str) -> str:
    return _TOKENS.get(gram) or _token(gram)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls (Unicode category Cc)
_CONTROLS_TO_SPACE = dict.fromkeys((*range(0x20), *range(0x7F, 0xA0)), " ")


def search_text(text: str) -> str:
    """Text as the full-text tables index it: a control character (a NUL would end FTS5's text there) reads as a
    space between words."""
    return text.translate(_CONTROLS_TO_SPACE)


def search_columns(title: Mapping[str, str], keywords: Sequence[str], publisher: Sequence[str | None],
                   description: Mapping[str, str]) -> tuple[str, str, str, str]:
    """A listing's full-text columns: title, keywords, publisher names (Chinese, English), description."""
    return (search_text(" ".join(x for x in (title.get("zh"), title.get("en")) if x)), search_text(" ".join(keywords)),
            search_text(" ".join(x for x in (publisher[0], publisher[1]) if x)),
            search_text(" ".join(x for x in (description.get("zh"), description.get("en")) if x)))


def row_grams(text: tuple[str, ...]) -> tuple[str, str]:
    """The gram table's columns of a row's text: title and keywords apart, for the relevance score."""
    return grams(text[:2]), grams(text[2:])


def fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def ascii_lower(text: str) -> str:
    """Lower-case as SQLite's lower() does (ASCII only), so the score's instr() sees the same text."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def query_terms(q: str | None) -> list[str]:
    if q is None:
        return []
    if not isinstance(q, str):
        raise InvalidInput("q: must be text")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput(f"q: longer than {MAX_QUERY_CHARS} characters")
    if (control := _CONTROL.search(q)) is not None:  # SQLite's FTS5 ends a quoted term at a NUL
        raise InvalidInput(f"q: holds the control character U+{ord(control.group()):04X} at position "
                           f"{control.start()}; search words are text")
    terms = list(dict.fromkeys(t for t in q.split() if t))
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"q: more than {MAX_TERMS} terms")
    return terms


def encode_cursor(parts: tuple[int, int], fingerprint: str) -> str:
    raw = f"{parts[0]}.{parts[1]}.{fingerprint}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        a, b, fp = raw.split(".")
        parts = int(a), int(b)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor: not a cursor this node issued") from exc
    if fp != fingerprint or not all(0 <= p < 2**63 for p in parts):
        raise InvalidInput("cursor: issued for another query, order or filter")
    return parts


def fingerprint(*values: object) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


class _Reader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


HANDLERS = {
    "MetadataPublished": _metadata_published,
    "EntityProfilePublished": _entity_profile_published,
}


# ---------------------------------------------------------------------- result sets

KEY_SQL = "kind | (grade << 2) | (status << 4) | (registrar << 8) | (boards << 24)"  # SQL: | binds as << does
"""A listing's facet values packed in one integer (kind 2 bits, grade 2, status 4, registrar 16, then the board
bitmask): a search counts its hits by this key in one pass and applies its filters to the distinct keys."""
KIND_MASK, GRADE_MASK, STATUS_MASK, REGISTRAR_MASK = 3, 3 << 2, 15 << 4, 0xFFFF << 8
BOARD_SHIFT = 24


BOARD_CODES = tuple(b.code for b in C.BOARDS)
BOARD_BITS = {code: 1 << i for i, code in enumerate(BOARD_CODES)}
_KIND = {n: i for i, n in enumerate(KINDS)}
_GRADE = {n: i for i, n in enumerate(GRADES)}
_STATUS = {n: i for i, n in enumerate(STATUSES) if i}


def _number(values: dict[str, int], name: str | None, what: str) -> int | None:
    if name is not None and name not in values:
        raise InvalidInput(f"unknown {what} {name!r}: one of {', '.join(values)}")
    return None if name is None else values[name]


def filter_of(*, public_only: bool, kind: str | None, grade: str | None, board: str | None, status: str | None,
              exchange: int | None) -> KeyFilter:
    """The search filters as a condition on row keys; an unknown name is InvalidInput."""
    conditions: list[tuple[int, int]] = []
    if public_only:
        conditions.append((GRADE_MASK, 0))
    for mask, shift, value in ((KIND_MASK, 0, _number(_KIND, kind, "kind")),
                               (GRADE_MASK, 2, _number(_GRADE, grade, "grade")),
                               (STATUS_MASK, 4, _number(_STATUS, status, "status"))):
        if value is not None:
            conditions.append((mask, value << shift))
    bit = 0
    if board is not None:
        if board not in BOARD_BITS:
            raise InvalidInput(f"board: unknown board {board!r}")
        bit = BOARD_BITS[board] << BOARD_SHIFT
    if exchange is not None:  # an id outside 0..65535 is no exchange: a condition no key meets
        conditions.append((REGISTRAR_MASK, exchange << 8 if 0 <= exchange <= 0xFFFF else -1))
    return key_filter(conditions, bit)


def count_keys(keys: Sequence[int | None], hits: set[int] | None) -> Counter[int]:
    """How many hits (every listing: None) have each row key."""
    if hits is None:
        counts = Counter(keys)
    else:  # itemgetter looks every hit up in one C call; the keys are few, so counting them is the pass
        counts = Counter(itemgetter(*hits)(keys) if len(hits) > 1 else [keys[s] for s in hits])
    counts.pop(None, None)
    return cast("Counter[int]", counts)


def rank_levels(keys: Sequence[int | None], hits: set[int] | None,
                heads: list[list[int]] | None) -> list[tuple[int, list[int]]]:
    """The hits by score, highest first, each level's seqs ascending. ``heads``: each term's title/keyword
    matches (relevance: how many of the terms the title or keywords hold), or None (recent: one level)."""
    if hits is None:
        return [(0, [s for s, k in enumerate(keys) if k is not None])]
    if heads is None:
        return [(0, sorted(hits))]
    if len(heads) == 1:
        return [(1, sorted(heads[0])), (0, sorted(hits.difference(heads[0])))]
    score: Counter[int] = Counter()
    for head in heads:
        score.update(filter(hits.__contains__, head))
    by: dict[int, list[int]] = {0: [s for s in hits if s not in score]}
    for s, n in score.items():
        by.setdefault(n, []).append(s)
    return [(n, sorted(by[n])) for n in sorted(by, reverse=True)]


def row_key(kind: int, grade: int, status: int, registrar: int, boards: int) -> int:
    return kind | grade << 2 | status << 4 | registrar << 8 | boards << BOARD_SHIFT


def parse_seqs(joined: str | None) -> list[int]:
    """The rowids of a ``json_group_array(rowid)``: one text value crosses into Python, not a row a hit."""
    return orjson.loads(joined) if joined else []


@dataclass(frozen=True)
class KeyFilter:
    """Filters as one condition on a row key, ``key & mask == value``, and the board bit if one is set; a value
    of -1 admits nothing (contradicting filters)."""

    mask: int = 0
    value: int = 0
    board_bit: int = 0

    def admitted(self, keys: Iterable[int]) -> set[int]:
        m, v, bit = self.mask, self.value, self.board_bit
        if bit:
            return {k for k in keys if k & m == v and k & bit}
        return {k for k in keys if k & m == v}


def key_filter(conditions: Iterable[tuple[int, int]], board_bit: int) -> KeyFilter:
    mask = value = 0
    for m, v in conditions:
        if v < 0 or v & ~m or (mask & m and value & m != v):
            return KeyFilter(0, -1, board_bit)
        mask, value = mask | m, value | v
    return KeyFilter(mask, value, board_bit)


FacetNames = tuple[Sequence[str], Sequence[str], Sequence[str], Sequence[str], Callable[[int], str]]
"""kind, grade and status names by number, board codes by bit, exchange code by id."""


def facet_counts(counts: Mapping[int, int], admitted: set[int], names: FacetNames) -> dict[str, dict[str, int]]:
    """The facets of the admitted keys, from the count of hits by key (a few hundred keys, not a key a hit)."""
    kinds, grades, statuses, boards, code = names
    # Two small groupings first (the low bits, the board bits), then each group decoded once.
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    low_bits = (1 << BOARD_SHIFT) - 1
    for key in admitted:
        n = counts[key]
        k = key & low_bits
        low[k] = low.get(k, 0) + n
        k = key >> BOARD_SHIFT
        high[k] = high.get(k, 0) + n
    by_kind, by_grade, by_status = [0] * 4, [0] * 4, [0] * 16
    by_registrar: dict[int, int] = {}
    for key, n in low.items():
        by_kind[key & 3] += n
        by_grade[key >> 2 & 3] += n
        by_status[key >> 4 & 15] += n
        ex = key >> 8
        by_registrar[ex] = by_registrar.get(ex, 0) + n
    by_board = [0] * len(boards)
    for bits, n in high.items():
        while bits:
            b = bits & -bits
            by_board[b.bit_length() - 1] += n
            bits ^= b

    def named(values: list[int], labels: Sequence[str]) -> dict[str, int]:
        return {labels[i] if i < len(labels) else str(i): n for i, n in enumerate(values) if n}

    registrars: dict[str, int] = {}
    for ex, n in by_registrar.items():
        registrars[code(ex)] = registrars.get(code(ex), 0) + n
    return {"kind": named(by_kind, kinds), "grade": named(by_grade, grades), "board": named(by_board, boards),
            "registrar": registrars, "status": named(by_status, statuses)}


def page_of(levels: list[tuple[int, list[int]]], keys: Sequence[int | None], admitted: set[int],
            after: tuple[int, int] | None, want: int) -> list[tuple[int, int]]:
    """Up to ``want`` (score, seq) of admitted hits in (score, seq) descending order, strictly after ``after``.
    ``levels`` holds each score's seqs ascending, highest score first; a keyset position, so a page boundary
    stays put while listings are added."""
    out: list[tuple[int, int]] = []
    for score, seqs in levels:
        end = len(seqs)
        if after is not None:
            if score > after[0]:
                continue
            if score == after[0]:
                end = bisect.bisect_left(seqs, after[1])
        for i in range(end - 1, -1, -1):
            s = seqs[i]
            if keys[s] in admitted:
                out.append((score, s))
                if len(out) == want:
                    return out
    return out


def listing_json(r: tuple[Any, ...], codes: Mapping[int, str], *, redact: bool = False) -> dict[str, Any]:
    """A listing row (catalog_search's listing table) as the API shows it; redacted: no document fields."""
    (seq, rid, kind, grade, status, registrar, owner, block, ts, mhash, has_doc, tzh, ten, dzh, den, kw, th,
     _boards, pzh, pen, pkind) = r[:21]
    supplied = bool(has_doc) and not redact
    return {
        "id": "0x" + bytes(rid).hex(), "kind": KINDS[kind], "grade": GRADES[grade], "status": STATUSES[status],
        "registrar": codes.get(registrar, str(registrar)), "owner": owner,
        "publisher": {"id": owner, "name": {"zh": pzh, "en": pen} if pzh or pen else None, "kind": pkind},
        "title": {"zh": tzh, "en": ten} if supplied and (tzh or ten) else None,
        "description": {"zh": dzh, "en": den} if supplied and (dzh or den) else None,
        "keywords": orjson.loads(kw) if supplied else [], "themes": orjson.loads(th) if supplied else [],
        "block": block, "timestamp": ts, "metadataHash": "0x" + bytes(mhash).hex(),
        "metadata": "redacted" if redact else "supplied" if has_doc else "not-supplied",
    }
