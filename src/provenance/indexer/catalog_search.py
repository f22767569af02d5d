"""The catalogue's search projection: SQLite (stdlib sqlite3, FTS5) at ``<data-dir>/catalog.sqlite``.

Derived only from the index (records, ``M``/``Q`` documents, entities, exchanges) and the node's document store
(documents supplied off-chain, local profiles), so it can always be dropped and refilled. :meth:`CatalogIndex.sync`
replays the index's change log (``T``) from the position stored in SQLite, in one SQLite transaction with the new
position: a crash between the index's LevelDB commit and this commit replays the same entries, which rewrite the
same rows. A rollback or wipe of the index replaces meta ``catalog_epoch``; a projection that sees another epoch
than it recorded (or a position beyond the log) rebuilds from scratch.

Text search: FTS5 with the trigram tokenizer finds any substring of three or more characters (Chinese has no
spaces to split words at). A trigram index cannot answer one- or two-character terms (航运, 港口, "AI"), so every
row also carries the set of its one- and two-character substrings as tokens of contentless tables
(``detail=none``: membership only), which answer those terms from an index instead of a scan. Each kind of text
is split in two tables, head (title, keywords) and rest (publisher, description). Query terms are
whitespace-separated and all must match; each is passed to MATCH as a quoted string (quotes doubled) or as an
encoded gram of [0-9a-z] only, so no user text is ever FTS syntax.

A search reads each term's match once a table, as one rowid list, and answers from those lists and an in-memory
copy of every listing's facet values packed in one integer (``KEY_SQL``): the hits are counted by key in one
pass (a few hundred distinct keys), the filters are tested on the keys, and total and facets come from the
admitted keys' counts, exactly; the page is the first admitted hits in order. A term held by most listings
(有限公司 in publisher names) thus costs one index read, with no row read a hit.

Relevance is a score of the row alone (how many of the terms its head table matches; ties newest first), not
bm25: bm25 depends on the whole corpus, so a page boundary would move as listings are added, and a keyset cursor
on (score, seq) would repeat or skip items. Recency is (block, seq), which is seq order: records get their seq
in chain order.

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
    BOARD_BITS,
    BOARD_CODES,
    ENTITY_ROW,
    KEY_SQL,
    LOG_COUNTER,
    RECORD_ROW,
    FacetNames,
    KeyFilter,
    Publisher,
    count_keys,
    decode_cursor,
    document_of,
    encode_cursor,
    facet_counts,
    filter_of,
    fingerprint,
    fts_string,
    gram_token,
    listing_json,
    page_of,
    parse_seqs,
    publisher_of,
    query_terms,
    rank_levels,
    row_grams,
    row_key,
    search_columns,
)
from provenance.indexer.queries import GRADES, KINDS, STATUSES
from provenance.store import keys as K
from provenance.store.documents import DocumentStore
from provenance.store.index import IndexStore

BlockTimes = Callable[[list[int]], dict[int, int]]

_BOARD_BIT = BOARD_BITS
ROLES = ("supplier", "demander", "service-provider", "financial-institution", "assessment-institution",
         "arbitration-institution")
MAX_LIMIT = 100
_SCHEMA_VERSION = "4"

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
CREATE VIRTUAL TABLE IF NOT EXISTS head_fts USING fts5(title, keywords, tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS rest_fts USING fts5(publisher, description, tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS head_short USING fts5(g, tokenize='unicode61', content='', detail='none');
CREATE VIRTUAL TABLE IF NOT EXISTS rest_short USING fts5(g, tokenize='unicode61', content='', detail='none');
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
        self._keys: list[int | None] | None = None
        self._data_version: int | None = None
        self._pending: dict[int, int | None] = {}

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
            with self._write():
                n = 0
                for row in rows:
                    if row[:1] == RECORD_ROW:
                        n += self._refresh_record(int.from_bytes(row[1:], "big"))
                    elif row[:1] == ENTITY_ROW:
                        n += self._refresh_entity(int.from_bytes(row[1:], "big"))
                if self._epoch() != epoch:  # rolled back while we read: these rows may be of undone blocks
                    raise _Restart
                self._set_state("position", size.to_bytes(8, "big"))
            return n

    def rebuild(self) -> int:
        """Drop every row and refill from the index and the document store."""
        with self._lock:
            epoch, size = self._epoch(), self._log_size()
            self._codes = self._exchange_codes()
            with self._write():
                # Dropped, not emptied: a file of an older layout gets this one (DDL is transactional in SQLite);
                # entity_fts (layouts 1-3) indexed entity names nothing searched: a quarter of the file.
                for table in ("listing", "entity", "block_time", "listing_fts", "listing_short", "entity_fts",
                              *_TEXT_TABLES):
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
                # Bulk inserts leave each text index in many segments that every match merges: one b-tree each
                # halves a common term's match (about 1 s at 25,000 listings).
                for table in _TEXT_TABLES:
                    self._db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            # A rebuild wrote every page through the WAL: fold it back and truncate it, or the WAL file stays
            # the size of the whole catalogue.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._keys = None
            self._facet_keys()  # read now, not by the first search
            return len(rows) + len(names)

    def refresh_hash(self, metadata_hash: bytes) -> int:
        """Re-derive the rows whose metadataHash is ``metadata_hash`` (a document supplied off-chain)."""
        with self._lock:
            seqs = [r[0] for r in self._db.execute("SELECT seq FROM listing WHERE metadata_hash = ?",
                                                   (metadata_hash,))]
            with self._write():
                n = sum(self._refresh_record(s) for s in seqs)
            return n

    def refresh_entity(self, entity_id: int) -> int:
        """Re-derive an entity's row and its listings' publisher (a local profile was stored)."""
        with self._lock, self._write():
            n = self._refresh_entity(entity_id)
            return n

    def _exchange_codes(self) -> dict[int, str]:
        return {int.from_bytes(k[1:3], "big"): v[1:9].rstrip(b"\0").decode("ascii", "replace")
                for k, v in self._index.scan(K.EXCHANGE)}

    @contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction; the facet keys it wrote reach the in-memory copy only once it commits."""
        self._pending = {}
        try:
            with _transaction(self._db):
                yield
        except BaseException:
            self._keys = None  # whatever it applied is undone: read them again
            raise
        finally:
            pending, self._pending = self._pending, {}
        keys = self._keys
        if keys is not None:
            for seq, key in pending.items():
                if seq >= len(keys):
                    keys.extend([None] * (seq + 1 - len(keys)))
                keys[seq] = key

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
        return _Row(values, search_columns(title, keywords, pub, desc))

    def _write_rows(self, rows: list[_Row]) -> None:
        if not rows:
            return
        times = self._times({r.values[7] for r in rows})
        self._db.executemany("INSERT OR REPLACE INTO listing VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             [(*r.values[:8], times.get(r.values[7]), *r.values[9:]) for r in rows])
        self._db.executemany("INSERT INTO head_fts(rowid, title, keywords) VALUES (?,?,?)",
                             [(r.values[0], *r.text[:2]) for r in rows])
        self._db.executemany("INSERT INTO rest_fts(rowid, publisher, description) VALUES (?,?,?)",
                             [(r.values[0], *r.text[2:]) for r in rows])
        short = [(r.values[0], *row_grams(r.text)) for r in rows]
        self._db.executemany("INSERT INTO head_short(rowid, g) VALUES (?, ?)", [(q, h) for q, h, _ in short])
        self._db.executemany("INSERT INTO rest_short(rowid, g) VALUES (?, ?)", [(q, r) for q, _, r in short])
        for r in rows:
            v = r.values
            self._pending[v[0]] = row_key(v[2], v[3], v[4], v[5], v[17])

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
        head = self._db.execute("SELECT title, keywords FROM head_fts WHERE rowid = ?", (seq,)).fetchone()
        rest = self._db.execute("SELECT publisher, description FROM rest_fts WHERE rowid = ?", (seq,)).fetchone()
        if head is not None and rest is not None:  # a contentless table forgets a row only given its values
            grams_head, grams_rest = row_grams((*head, *rest))
            self._db.execute("INSERT INTO head_short(head_short, rowid, g) VALUES ('delete', ?, ?)", (seq, grams_head))
            self._db.execute("INSERT INTO rest_short(rest_short, rowid, g) VALUES ('delete', ?, ?)", (seq, grams_rest))
        self._db.execute("DELETE FROM listing WHERE seq = ?", (seq,))
        self._db.execute("DELETE FROM head_fts WHERE rowid = ?", (seq,))
        self._db.execute("DELETE FROM rest_fts WHERE rowid = ?", (seq,))
        self._pending[seq] = None

    def _refresh_record(self, seq: int) -> int:
        self._delete_listing(seq)
        value = self._index.get(K.RECORD + K.seq_bytes(seq))
        if value is not None:
            self._write_rows([self._record_row(seq, value)])
        return 1

    def _refresh_entity(self, eid: int) -> int:
        self._db.execute("DELETE FROM entity WHERE id = ?", (eid,))
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
            flt = self._filters(public_only=public_only, kind=kind, grade=grade, board=board,
                                registrar=registrar, status=status, owner=owner)
            ranked = order == "relevance" and bool(terms)
            fp = fingerprint(order, terms, flt, owner)
            after = None
            if cursor is not None:
                a, b = decode_cursor(cursor, fp)
                after = (a, b) if ranked else (0, b)  # (block, seq) < (a, b) is seq < b: seq follows chain order
            try:
                # One read transaction: the text match, the facet keys and the page's rows see one snapshot
                # even while another process writes the file.
                self._db.execute("BEGIN")
                try:
                    page, more, total, facets = self._answer(terms, flt, owner, ranked, after, limit)
                    by_seq = {r[0]: r for r in self._db.execute(
                        f"SELECT * FROM listing WHERE seq IN ({','.join('?' * len(page))})", [s for _, s in page])}
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:  # terms are quoted: this is a bug, not the caller's input
                raise StoreError(f"catalogue query failed: {exc}") from exc
            rows = [by_seq[s] for _, s in page if s in by_seq]
            nxt = None
            if more and rows:
                last_score, last_seq = page[-1]
                nxt = encode_cursor((last_score, last_seq) if ranked else (rows[-1][7], last_seq), fp)
            return SearchPage([listing_json(r, self._codes) for r in rows], nxt, total, facets)

    def _answer(self, terms: list[str], flt: KeyFilter, owner: int | None, ranked: bool,
                after: tuple[int, int] | None, limit: int,
                ) -> tuple[list[tuple[int, int]], bool, int, dict[str, dict[str, int]]]:
        """The page's (score, seq), whether more follow, the total and the facets. Each term's text match runs
        once a table (a rowid list); total, facets and page are then counted from those lists and the facet keys
        of every listing, so a term held by most listings costs one index read, not one a use."""
        keys = self._facet_keys()
        heads: list[list[int]] = []
        hits: set[int] | None = None
        for t in terms:
            long = len(t) >= 3
            expr = fts_string(t) if long else gram_token(t.lower())
            tables = ("head_fts", "rest_fts") if long else ("head_short", "rest_short")
            head, rest = (parse_seqs(self._db.execute(
                f"SELECT json_group_array(rowid) FROM {table} WHERE {table} MATCH ?", (expr,)).fetchone()[0])
                for table in tables)
            heads.append(head)
            found = set(head)
            found.update(rest)
            hits = found if hits is None else hits & found
        if owner is not None:
            mine = set(parse_seqs(self._db.execute("SELECT json_group_array(seq) FROM listing WHERE owner = ?",
                                                   (owner,)).fetchone()[0]))
            hits = mine if hits is None else hits & mine
        counts = count_keys(keys, hits)
        admitted = flt.admitted(counts)
        facets = facet_counts(counts, admitted, self._names())
        total = sum(facets["kind"].values())
        page = page_of(rank_levels(keys, hits, heads if ranked else None), keys, admitted, after, limit + 1)
        return page[:limit], len(page) > limit, total, facets

    def _facet_keys(self) -> list[int | None]:
        """Every listing's facet key by seq (None: no listing), held in memory: written by this process as it
        commits, read again when another process changed the file (data_version) or after a rebuild."""
        self._db.execute("SELECT 1 FROM state LIMIT 1").fetchall()  # the read snapshot starts here
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._keys is None or version != self._data_version:
            keys: list[int | None] = []
            for seq, key in self._db.execute(f"SELECT seq, {KEY_SQL} FROM listing ORDER BY seq"):
                keys.extend([None] * (seq - len(keys)))
                keys.append(key)
            self._keys, self._data_version = keys, version
        return self._keys

    def _names(self) -> FacetNames:
        codes = self._codes
        return KINDS, GRADES, STATUSES, BOARD_CODES, lambda ex: codes.get(ex, str(ex))

    def _filters(self, *, public_only: bool, kind: str | None, grade: str | None, board: str | None,
                 registrar: str | int | None, status: str | None, owner: int | None) -> KeyFilter:
        flt = filter_of(public_only=public_only, kind=kind, grade=grade, board=board, status=status,
                        exchange=None if registrar is None else self._exchange_id(registrar))
        if owner is not None and (not isinstance(owner, int) or not 0 <= owner < 2**32):
            raise InvalidInput(f"owner: {owner!r} is not an entity id")
        return flt

    def _exchange_id(self, registrar: str | int) -> int:
        if isinstance(registrar, int):
            return registrar
        if not self._codes:
            self._codes = self._exchange_codes()
        for ex, code in self._codes.items():
            if code == registrar:
                return ex
        if registrar.isascii() and registrar.isdigit() and len(registrar) <= 5:  # an exchange id is a uint16
            return int(registrar)
        raise InvalidInput(f"registrar: unknown exchange {registrar!r}")

    def listing(self, record_id: bytes, *, public_only: bool = True) -> dict[str, Any] | None:
        """One listing; an important- or core-grade one comes redacted (no title, description or keywords)
        unless ``public_only`` is False (a member credential)."""
        return self.listings([record_id], public_only=public_only).get(bytes(record_id))

    def listings(self, record_ids: list[bytes], *, public_only: bool = True) -> dict[bytes, dict[str, Any]]:
        """:meth:`listing` of many records (a page of a list, a lineage graph's nodes) in a query per 500, by id;
        a record not in the projection is left out."""
        with self._lock:
            ids = list(dict.fromkeys(bytes(r) for r in record_ids))
            rows = [r for i in range(0, len(ids), 500) for r in self._db.execute(
                f"SELECT * FROM listing WHERE id IN ({','.join('?' * len(ids[i:i + 500]))}) ORDER BY seq",
                ids[i:i + 500])]
            if rows and not self._codes:
                self._codes = self._exchange_codes()
            # reversed: the first row of an id (in seq order) is the one kept, as a single lookup would find it
            return {bytes(row[1]): listing_json(row, self._codes, redact=public_only and row[3] != 0)
                    for row in reversed(rows)}

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


_TEXT_TABLES = ("head_fts", "rest_fts", "head_short", "rest_short")


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
