"""The catalogue's search projection: SQLite (stdlib sqlite3, FTS5) at ``<data-dir>/catalog.sqlite``.

Derived only from the index (records, ``M``/``Q`` documents, entities, exchanges) and the node's document store
(documents supplied off-chain, local profiles), so it can always be dropped and refilled. :meth:`CatalogIndex.sync`
replays the index's change log (``T``) from the position stored in SQLite, in one SQLite transaction with the new
position: a crash between the index's LevelDB commit and this commit replays the same entries, which rewrite the
same rows. A rollback or wipe of the index replaces meta ``catalog_epoch``; a projection that sees another epoch
than it recorded (or a position beyond the log) rebuilds from scratch.

Text search: FTS5 with the trigram tokenizer finds any substring of three or more characters (Chinese has no
spaces to split words at). A trigram index cannot answer one- or two-character terms (航运, 港口, "AI"), so every
row also carries the set of its one- and two-character substrings as tokens of a second FTS5 table
(``detail=none``: membership only, no positions), which answers those terms from an index instead of a scan.
Query terms are whitespace-separated and all must match; each is passed to MATCH as a quoted string (quotes
doubled) or as an encoded gram of [0-9a-z] only, so no user text is ever FTS syntax.

Relevance is a score of the row alone (how many of the terms occur in its title or keywords; ties newest
first), not bm25: bm25 depends on the whole corpus, so a page boundary would move as listings are added, and a
keyset cursor on (score, seq) would repeat or skip items. Recency is (block, seq), which is seq order: records get
their seq in chain order.

Privacy: an individual's name is never written to a row; organisations' names come from their accepted public
profile, else from a local organisation profile bound to the on-chain identifier hash. Important- and core-grade
listings are indexed (members may search them) and filtered out of every public query, totals and facets too.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from provenance.core import catalog as C
from provenance.errors import InvalidInput, StoreError
from provenance.indexer.catalog import (
    ENTITY_ROW,
    LOG_COUNTER,
    RECORD_ROW,
    Publisher,
    decode_cursor,
    document_of,
    encode_cursor,
    fingerprint,
    fts_string,
    gram_token,
    grams,
    publisher_of,
    query_terms,
)
from provenance.indexer.queries import GRADES, KINDS, STATUSES
from provenance.store import keys as K
from provenance.store.documents import DocumentStore
from provenance.store.index import IndexStore

BlockTimes = Callable[[list[int]], dict[int, int]]

BOARD_CODES = tuple(b.code for b in C.BOARDS)
_BOARD_BIT = {code: 1 << i for i, code in enumerate(BOARD_CODES)}
ROLES = ("supplier", "demander", "service-provider")
MAX_LIMIT = 100
_SCHEMA_VERSION = "2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE IF NOT EXISTS listing(
  seq INTEGER PRIMARY KEY, id BLOB NOT NULL, kind INTEGER, grade INTEGER, status INTEGER, registrar INTEGER,
  owner INTEGER, block INTEGER, timestamp INTEGER, metadata_hash BLOB, has_doc INTEGER,
  title_zh TEXT, title_en TEXT, description_zh TEXT, description_en TEXT, keywords TEXT, themes TEXT,
  boards INTEGER, publisher_zh TEXT, publisher_en TEXT, publisher_kind TEXT);
CREATE INDEX IF NOT EXISTS listing_id ON listing(id);
CREATE INDEX IF NOT EXISTS listing_hash ON listing(metadata_hash);
CREATE INDEX IF NOT EXISTS listing_owner ON listing(owner, grade, kind, status, registrar, boards);
CREATE INDEX IF NOT EXISTS listing_facet ON listing(grade, kind, status, registrar, boards, owner);
CREATE TABLE IF NOT EXISTS entity(
  id INTEGER PRIMARY KEY, registrar INTEGER, role INTEGER, kind TEXT, name_zh TEXT, name_en TEXT, region TEXT,
  has_profile INTEGER);
CREATE TABLE IF NOT EXISTS block_time(block INTEGER PRIMARY KEY, ts INTEGER);
CREATE VIRTUAL TABLE IF NOT EXISTS listing_fts USING fts5(title, keywords, publisher, description,
  tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS listing_short USING fts5(head, rest, tokenize='unicode61', content='',
  detail='column');
CREATE VIRTUAL TABLE IF NOT EXISTS entity_fts USING fts5(name, tokenize='trigram');
"""


@dataclass
class SearchPage:
    items: list[dict[str, Any]]
    next: str | None
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:  # the HTTP API's search answer
        return {"items": self.items, "next": self.next, "total": self.total, "facets": self.facets}


@dataclass(frozen=True)
class _Row:
    """A listing row as written: the listing table's columns, then the searchable text."""

    values: tuple[Any, ...]
    text: tuple[str, str, str, str]


def _name(values: dict[str, int], name: str | None, what: str) -> int | None:
    if name is not None and name not in values:
        raise InvalidInput(f"unknown {what} {name!r}: one of {', '.join(values)}")
    return None if name is None else values[name]


_KIND = {n: i for i, n in enumerate(KINDS)}
_GRADE = {n: i for i, n in enumerate(GRADES)}
_STATUS = {n: i for i, n in enumerate(STATUSES) if i}


class CatalogIndex:
    """The projection. One connection (check_same_thread off) guarded by a lock: FastAPI calls from a thread
    pool, and SQLite serialises writers anyway; WAL lets another process read while this one writes."""

    def __init__(self, path: Path, index: IndexStore, documents: DocumentStore, *,
                 block_times: BlockTimes | None = None) -> None:
        self.path = path
        self._index = index
        self._documents = documents
        self._block_times = block_times
        self._lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-65536")  # 64 MiB: the text and gram indexes stay in memory
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the catalogue {path}: {exc}") from exc
        self._codes: dict[int, str] = {}
        self._generation = 0
        self._facet_cache: dict[tuple[Any, ...], dict[str, dict[str, int]]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ state

    def _state(self, name: str) -> bytes | None:
        row = self._db.execute("SELECT v FROM state WHERE k = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def _set_state(self, name: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO state(k, v) VALUES (?, ?)", (name, value))

    def position(self) -> int:
        raw = self._state("position")
        return int.from_bytes(raw, "big") if raw else 0

    def _log_size(self) -> int:
        raw = self._index.get_meta(LOG_COUNTER)
        return int.from_bytes(raw, "big") if raw else 0

    def _epoch(self) -> bytes:
        return self._index.get_meta(K.CATALOG_EPOCH) or b""

    # ------------------------------------------------------------------ sync

    def sync(self) -> int:
        """Bring the projection up to the index; returns how many rows were rewritten (0: nothing changed)."""
        try:
            return self._sync()
        except _Restart:
            return self.rebuild()

    def _sync(self) -> int:
        with self._lock:
            epoch, size = self._epoch(), self._log_size()
            pos = self.position()
            if (self._state("epoch") != epoch or self._state("schema") != _SCHEMA_VERSION.encode()
                    or pos > size):
                return self.rebuild()
            if pos == size:
                return 0
            rows: dict[bytes, None] = {}
            for _k, v in self._index.scan_from(K.CATALOG_LOG, K.CATALOG_LOG + pos.to_bytes(8, "big"),
                                                limit=size - pos):
                rows[v] = None
            self._codes = self._exchange_codes()
            with _transaction(self._db):
                n = 0
                for row in rows:
                    if row[:1] == RECORD_ROW:
                        n += self._refresh_record(int.from_bytes(row[1:], "big"))
                    elif row[:1] == ENTITY_ROW:
                        n += self._refresh_entity(int.from_bytes(row[1:], "big"))
                if self._epoch() != epoch:  # rolled back while we read: these rows may be of undone blocks
                    raise _Restart
                self._set_state("position", size.to_bytes(8, "big"))
            self._generation += 1
            return n

    def rebuild(self) -> int:
        """Drop every row and refill from the index and the document store."""
        with self._lock:
            epoch, size = self._epoch(), self._log_size()
            self._codes = self._exchange_codes()
            with _transaction(self._db):
                # Dropped, not emptied: a file of an older layout gets this one (DDL is transactional in SQLite).
                for table in ("listing", "entity", "block_time", "listing_fts", "listing_short", "entity_fts"):
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    self._db.execute(statement)
                names = self._fill_entities()
                rows = [self._record_row(int.from_bytes(k[1:], "big"), v, names)
                        for k, v in self._index.scan(K.RECORD)]
                self._write_rows(rows)
                self._set_state("epoch", epoch)
                self._set_state("schema", _SCHEMA_VERSION.encode())
                self._set_state("position", size.to_bytes(8, "big"))
            # A rebuild wrote every page through the WAL: fold it back and truncate it, or the WAL file stays
            # the size of the whole catalogue.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._generation += 1
            return len(rows) + len(names)

    def refresh_hash(self, metadata_hash: bytes) -> int:
        """Re-derive the rows whose metadataHash is ``metadata_hash`` (a document supplied off-chain)."""
        with self._lock:
            seqs = [r[0] for r in self._db.execute("SELECT seq FROM listing WHERE metadata_hash = ?",
                                                   (metadata_hash,))]
            with _transaction(self._db):
                n = sum(self._refresh_record(s) for s in seqs)
            self._generation += 1
            return n

    def refresh_entity(self, entity_id: int) -> int:
        """Re-derive an entity's row and its listings' publisher (a local profile was stored)."""
        with self._lock, _transaction(self._db):
            n = self._refresh_entity(entity_id)
            self._generation += 1
            return n

    def _exchange_codes(self) -> dict[int, str]:
        return {int.from_bytes(k[1:3], "big"): v[1:9].rstrip(b"\0").decode("ascii", "replace")
                for k, v in self._index.scan(K.EXCHANGE)}

    # ------------------------------------------------------------------ rows

    def _publisher(self, entity_id: int) -> Publisher:
        return publisher_of(self._index, self._documents, entity_id)

    def _fill_entities(self) -> dict[int, Publisher]:
        names: dict[int, Publisher] = {}
        rows = []
        for k, v in self._index.scan(K.ENTITY):
            eid = int.from_bytes(k[1:5], "big")
            pub = names[eid] = self._publisher(eid)
            rows.append(self._entity_values(eid, v, pub))
        self._write_entities(rows)
        return names

    def _entity_values(self, eid: int, value: bytes, pub: Publisher) -> tuple[Any, ...]:
        region = None
        raw = self._index.get(K.CATALOG_PROFILE + eid.to_bytes(4, "big"))
        if raw is not None:
            region = orjson.loads(raw).get("region")
        return (eid, int.from_bytes(value[:2], "big"), value[2], pub[2], pub[0], pub[1], region,
                1 if pub[2] is not None else 0)

    def _write_entities(self, rows: list[tuple[Any, ...]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO entity VALUES (?,?,?,?,?,?,?,?)", rows)
        self._db.executemany("INSERT INTO entity_fts(rowid, name) VALUES (?, ?)",
                             [(r[0], " ".join(x for x in (r[4], r[5]) if x)) for r in rows if r[4] or r[5]])

    def _record_row(self, seq: int, value: bytes,
                    names: dict[int, Publisher] | None = None) -> _Row:
        rec, _parents = K.decode_record(seq, value)
        doc = document_of(self._index, self._documents, seq, rec.metadata_hash, rec.owner, rec.rights)
        pub = names.get(rec.owner) if names is not None else None
        if pub is None:
            pub = self._publisher(rec.owner)
        title = doc.get("title", {}) if doc else {}
        desc = doc.get("description", {}) if doc else {}
        keywords = list(doc.get("keywords", [])) if doc else []
        themes = list(doc.get("themes", [])) if doc else []
        boards = 0
        for t in themes:
            boards |= _BOARD_BIT.get(t, 0)
        values = (seq, rec.id, rec.kind, rec.grade, rec.status, rec.registrar, rec.owner, rec.block_number, None,
                  rec.metadata_hash, 1 if doc else 0, title.get("zh"), title.get("en"), desc.get("zh"),
                  desc.get("en"), orjson.dumps(keywords).decode(), orjson.dumps(themes).decode(), boards,
                  pub[0], pub[1], pub[2])
        text = (" ".join(x for x in (title.get("zh"), title.get("en")) if x), " ".join(keywords),
                " ".join(x for x in (pub[0], pub[1]) if x),
                " ".join(x for x in (desc.get("zh"), desc.get("en")) if x))
        return _Row(values, text)

    def _write_rows(self, rows: list[_Row]) -> None:
        if not rows:
            return
        times = self._times({r.values[7] for r in rows})
        self._db.executemany("INSERT OR REPLACE INTO listing VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             [(*r.values[:8], times.get(r.values[7]), *r.values[9:]) for r in rows])
        self._db.executemany("INSERT INTO listing_fts(rowid, title, keywords, publisher, description) "
                             "VALUES (?,?,?,?,?)", [(r.values[0], *r.text) for r in rows])
        self._db.executemany("INSERT INTO listing_short(rowid, head, rest) VALUES (?, ?, ?)",
                             [(r.values[0], *_short(r.text)) for r in rows])

    def _times(self, blocks: set[int]) -> dict[int, int]:
        if self._block_times is None or not blocks:
            return {}
        known = {}
        for b in blocks:
            row = self._db.execute("SELECT ts FROM block_time WHERE block = ?", (b,)).fetchone()
            if row is not None:
                known[b] = row[0]
        missing = sorted(blocks - set(known))
        if missing:
            fetched = self._block_times(missing)
            self._db.executemany("INSERT OR REPLACE INTO block_time VALUES (?, ?)", list(fetched.items()))
            known.update(fetched)
        return known

    def _delete_listing(self, seq: int) -> None:
        old = self._db.execute("SELECT title, keywords, publisher, description FROM listing_fts WHERE rowid = ?",
                               (seq,)).fetchone()
        if old is not None:  # a contentless table forgets a row only when told the values it was given
            self._db.execute("INSERT INTO listing_short(listing_short, rowid, head, rest) VALUES ('delete', ?, ?, ?)",
                             (seq, *_short(tuple(old))))
        self._db.execute("DELETE FROM listing WHERE seq = ?", (seq,))
        self._db.execute("DELETE FROM listing_fts WHERE rowid = ?", (seq,))

    def _refresh_record(self, seq: int) -> int:
        self._delete_listing(seq)
        value = self._index.get(K.RECORD + K.seq_bytes(seq))
        if value is not None:
            self._write_rows([self._record_row(seq, value)])
        return 1

    def _refresh_entity(self, eid: int) -> int:
        self._db.execute("DELETE FROM entity WHERE id = ?", (eid,))
        self._db.execute("DELETE FROM entity_fts WHERE rowid = ?", (eid,))
        value = self._index.get(K.ENTITY + eid.to_bytes(4, "big"))
        if value is not None:
            self._write_entities([self._entity_values(eid, value, self._publisher(eid))])
        # The entity's listings show its name: re-derive them too.
        seqs = [s for (s,) in self._db.execute("SELECT seq FROM listing WHERE owner = ?", (eid,))]
        for s in seqs:
            self._refresh_record(s)
        return 1 + len(seqs)

    # ------------------------------------------------------------------ reads

    def search(self, q: str | None = None, *, kind: str | None = None, grade: str | None = None,
               board: str | None = None, registrar: str | int | None = None, status: str | None = None,
               owner: int | None = None, public_only: bool = True, order: str = "relevance",
               cursor: str | None = None, limit: int = 20) -> SearchPage:
        """Listings matching every whitespace-separated term of ``q`` (substrings, any case) and the filters."""
        if order not in ("relevance", "recent"):
            raise InvalidInput(f"order: {order!r} is not relevance or recent")
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit: {limit!r} is not between 1 and {MAX_LIMIT}")
        terms = query_terms(q)
        with self._lock:
            if not self._codes:  # a search before the first sync of this process
                self._codes = self._exchange_codes()
            where, args = self._filters(public_only=public_only, kind=kind, grade=grade, board=board,
                                        registrar=registrar, status=status, owner=owner)
            long = [t for t in terms if len(t) >= 3]
            short = [t for t in terms if len(t) < 3]
            matches = []
            if long:
                matches.append(("listing_fts", " AND ".join(fts_string(t) for t in long)))
            if short:
                matches.append(("listing_short", " AND ".join(gram_token(t.lower()) for t in short)))
            # The text match drives (CROSS JOIN keeps that order): the planner would otherwise walk a filter's
            # index over every listing and test each against the match.
            source, src_args = "listing l", []
            if matches:
                table, expr = matches[0]
                source = (f"(SELECT rowid AS m FROM {table} WHERE {table} MATCH ?) h "
                          "CROSS JOIN listing l ON l.seq = h.m")
                src_args = [expr]
            for table, expr in matches[1:]:
                where.append(f"l.seq IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
                args.append(expr)
            cond = " AND ".join(where) or "1"
            fp = fingerprint(order, terms, cond, src_args, args)
            key_args: list[Any] = []
            if order == "relevance" and terms:
                score = " + ".join(
                    "(l.seq IN (SELECT rowid FROM listing_fts WHERE listing_fts MATCH ?))" if len(t) >= 3 else
                    "(l.seq IN (SELECT rowid FROM listing_short WHERE listing_short MATCH ?))" for t in terms)
                # Plain ? placeholders bind in text order: the score's come before the filters'.
                score_args: list[Any] = ["{title keywords} : " + fts_string(t) if len(t) >= 3 else
                                         "head : " + gram_token(t.lower()) for t in terms]
                # Only seq and score (from the covering index): the page's rows are read afterwards.
                inner = f"SELECT l.seq AS seq, {score} AS score FROM {source} WHERE {cond}"
                sql = f"SELECT * FROM ({inner}) WHERE 1"
                if cursor is not None:
                    a, b = decode_cursor(cursor, fp)
                    sql += " AND (score, seq) < (?, ?)"
                    key_args = [a, b]
                sql += " ORDER BY score DESC, seq DESC LIMIT ?"
                params = [*score_args, *src_args, *args, *key_args, limit + 1]
            else:
                sql = f"SELECT l.seq, 0 AS score FROM {source} WHERE {cond}"
                if cursor is not None:
                    _block, b = decode_cursor(cursor, fp)
                    sql += " AND l.seq < ?"  # (block, seq) < (a, b) is seq < b: seq follows chain order
                    key_args = [b]
                sql += " ORDER BY l.seq DESC LIMIT ?"
                params = [*src_args, *args, *key_args, limit + 1]
            try:
                keys = self._db.execute(sql, params).fetchall()
                facets = self._facets(source, cond, [*src_args, *args])
            except sqlite3.OperationalError as exc:  # terms are quoted: this is a bug, not the caller's input
                raise StoreError(f"catalogue query failed: {exc}") from exc
            more = len(keys) > limit
            keys = keys[:limit]
            by_seq = {r[0]: r for r in self._db.execute(
                f"SELECT * FROM listing WHERE seq IN ({','.join('?' * len(keys))})", [k[0] for k in keys])}
            rows = [by_seq[k[0]] for k in keys]
            nxt = None
            if more:
                last_seq, last_score = keys[-1]
                nxt = encode_cursor((last_score, last_seq) if order == "relevance" and terms
                                    else (by_seq[last_seq][7], last_seq), fp)
            total = sum(facets["kind"].values())
            return SearchPage([self._listing_json(r) for r in rows], nxt, total, facets)

    def _filters(self, *, public_only: bool, kind: str | None, grade: str | None, board: str | None,
                 registrar: str | int | None, status: str | None, owner: int | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if public_only:
            where.append("l.grade = 0")
        for col, value in (("kind", _name(_KIND, kind, "kind")), ("grade", _name(_GRADE, grade, "grade")),
                           ("status", _name(_STATUS, status, "status"))):
            if value is not None:
                where.append(f"l.{col} = ?")
                args.append(value)
        if board is not None:
            if board not in _BOARD_BIT:
                raise InvalidInput(f"board: unknown board {board!r}")
            where.append("(l.boards & ?) != 0")
            args.append(_BOARD_BIT[board])
        if registrar is not None:
            ex = self._exchange_id(registrar)
            where.append("l.registrar = ?")
            args.append(ex)
        if owner is not None:
            if not isinstance(owner, int) or not 0 <= owner < 2**32:
                raise InvalidInput(f"owner: {owner!r} is not an entity id")
            where.append("l.owner = ?")
            args.append(owner)
        return where, args

    def _exchange_id(self, registrar: str | int) -> int:
        if isinstance(registrar, int):
            return registrar
        if not self._codes:
            self._codes = self._exchange_codes()
        for ex, code in self._codes.items():
            if code == registrar:
                return ex
        if registrar.isdigit():
            return int(registrar)
        raise InvalidInput(f"registrar: unknown exchange {registrar!r}")

    def _facets(self, source: str, cond: str, args: list[Any]) -> dict[str, dict[str, int]]:
        key = (self._generation, source, cond, tuple(args))
        cached = self._facet_cache.get(key)
        if cached is not None:
            return cached
        out: dict[str, dict[str, int]] = {"kind": {}, "grade": {}, "board": {}, "registrar": {}, "status": {}}

        def add(facet: str, name: str, n: int) -> None:
            out[facet][name] = out[facet].get(name, 0) + n

        for kind, grade, status, registrar, boards, n in self._db.execute(
                f"SELECT kind, grade, status, registrar, boards, count(*) FROM {source} WHERE {cond} "
                "GROUP BY 1, 2, 3, 4, 5", args):
            add("kind", KINDS[kind], n)
            add("grade", GRADES[grade], n)
            add("status", STATUSES[status], n)
            add("registrar", self._codes.get(registrar, str(registrar)), n)
            for code, bit in _BOARD_BIT.items():
                if boards & bit:
                    add("board", code, n)
        if len(self._facet_cache) > 256:
            self._facet_cache.clear()
        self._facet_cache[key] = out
        return out

    def _listing_json(self, r: tuple[Any, ...], *, redact: bool = False) -> dict[str, Any]:
        (seq, rid, kind, grade, status, registrar, owner, block, ts, mhash, has_doc, tzh, ten, dzh, den, kw, th,
         _boards, pzh, pen, pkind) = r[:21]
        supplied = bool(has_doc) and not redact
        return {
            "id": "0x" + bytes(rid).hex(), "kind": KINDS[kind], "grade": GRADES[grade], "status": STATUSES[status],
            "registrar": self._codes.get(registrar, str(registrar)), "owner": owner,
            "publisher": {"id": owner, "name": {"zh": pzh, "en": pen} if pzh or pen else None, "kind": pkind},
            "title": {"zh": tzh, "en": ten} if supplied and (tzh or ten) else None,
            "description": {"zh": dzh, "en": den} if supplied and (dzh or den) else None,
            "keywords": orjson.loads(kw) if supplied else [], "themes": orjson.loads(th) if supplied else [],
            "block": block, "timestamp": ts, "metadataHash": "0x" + bytes(mhash).hex(),
            "metadata": "redacted" if redact else "supplied" if has_doc else "not-supplied",
        }

    def listing(self, record_id: bytes, *, public_only: bool = True) -> dict[str, Any] | None:
        """One listing; an important- or core-grade one comes redacted (no title, description or keywords)
        unless ``public_only`` is False (a member credential)."""
        with self._lock:
            row = self._db.execute("SELECT * FROM listing WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return None
            if not self._codes:
                self._codes = self._exchange_codes()
            return self._listing_json(row, redact=public_only and row[3] != 0)

    def entity_records(self, entity_id: int, cursor: str | None = None, limit: int = 20, *,
                       public_only: bool = True) -> SearchPage:
        """The listings an entity owns, newest first."""
        return self.search(None, owner=entity_id, public_only=public_only, order="recent", cursor=cursor,
                           limit=limit)

    def entity(self, entity_id: int) -> dict[str, Any] | None:
        """An entity as everybody may see it: id, role, exchange; name, kind and region of organisations."""
        with self._lock:
            row = self._db.execute("SELECT * FROM entity WHERE id = ?", (entity_id,)).fetchone()
            if row is None:
                return None
            eid, registrar, role, kind, nzh, nen, region, has_profile = row
            return {"id": eid, "registrar": self._codes.get(registrar, str(registrar)),
                    "role": ROLES[role] if role < len(ROLES) else str(role), "kind": kind,
                    "name": {"zh": nzh, "en": nen} if nzh or nen else None, "region": region,
                    "profile": bool(has_profile)}

    def boards(self) -> list[dict[str, Any]]:
        """Every board with its count of public (general-grade) listings."""
        with self._lock:
            counts = dict.fromkeys(BOARD_CODES, 0)
            for boards, n in self._db.execute("SELECT boards, count(*) FROM listing WHERE grade = 0 GROUP BY 1"):
                for code, bit in _BOARD_BIT.items():
                    if boards & bit:
                        counts[code] += n
            return [{"code": b.code, "zh": b.zh, "en": b.en, "count": counts[b.code]} for b in C.BOARDS]

    def figures(self) -> dict[str, Any]:
        """The federation's figures (spec: listings by board, kind, grade, exchange and month; entities by kind,
        exchange and role). Boards count public listings only: only their documents are public."""
        with self._lock:
            def group(sql: str, name: Callable[[Any], str]) -> dict[str, int]:
                out: dict[str, int] = {}
                for key, n in self._db.execute(sql):
                    k = name(key)
                    out[k] = out.get(k, 0) + n
                return out

            code = self._codes.get
            listings = {
                "byBoard": {b["code"]: b["count"] for b in self.boards() if b["count"]},
                "byKind": group("SELECT kind, count(*) FROM listing GROUP BY 1", lambda k: KINDS[k]),
                "byGrade": group("SELECT grade, count(*) FROM listing GROUP BY 1", lambda g: GRADES[g]),
                "byExchange": group("SELECT registrar, count(*) FROM listing GROUP BY 1", lambda e: code(e, str(e))),
                "byMonth": group("SELECT strftime('%Y-%m', timestamp, 'unixepoch'), count(*) FROM listing "
                                 "WHERE timestamp IS NOT NULL GROUP BY 1 ORDER BY 1", str),
            }
            entities = {
                "byKind": group("SELECT coalesce(kind, 'undisclosed'), count(*) FROM entity GROUP BY 1", str),
                "byExchange": group("SELECT registrar, count(*) FROM entity GROUP BY 1", lambda e: code(e, str(e))),
                "byRole": group("SELECT role, count(*) FROM entity GROUP BY 1",
                                lambda r: ROLES[r] if r < len(ROLES) else str(r)),
            }
            return {"listings": listings, "entities": entities}


def _short(text: tuple[str, ...]) -> tuple[str, str]:
    """The gram table's columns of a row's text: title and keywords apart, for the relevance score."""
    return grams(text[:2]), grams(text[2:])


class _Restart(Exception):
    """The index rolled back while a sync read it: the transaction is undone and the caller rebuilds."""


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
