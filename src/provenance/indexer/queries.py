"""Reads of the index: records, searches, and lineage through the pure walks of provenance.core.lineage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from provenance.core import export, lineage
from provenance.errors import InvalidInput, NotFound, StoreError
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.store.keys import IndexedRecord

ACTIVE = 1


@dataclass(frozen=True)
class LineageResult:
    root: IndexedRecord
    records: list[tuple[IndexedRecord, int]]  # (record, depth)
    edges: list[tuple[bytes, bytes]]  # (child id, parent id)
    truncated: bool


class IndexQueries:
    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def _seq(self, record_id: bytes) -> int:
        seq = self.store.seq_of(record_id)
        if seq is None:
            raise NotFound(f"no record with id 0x{record_id.hex()} in the index")
        return seq

    def record(self, record_id: bytes) -> IndexedRecord:
        return self.store.record_by_seq(self._seq(record_id))

    def counts(self) -> dict[str, int]:
        def c(name: str) -> int:
            raw = self.store.get_meta(name)
            return int.from_bytes(raw, "big") if raw else 0

        return {"records": c("records"), "entities": c("entities")}

    def search(self, *, content_hash: bytes | None = None, owner: int | None = None, registrar: int | None = None,
               kind: int | None = None, grade: int | None = None, status: int | None = None, after: int = -1,
               limit: int = 100) -> list[IndexedRecord]:
        """Records matching every given filter, in registration order, ``limit`` at a time after seq ``after``."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        if after < -1:
            raise InvalidInput("after must be -1 or a result cursor")
        if after >= K.MAX_SEQ:
            return []  # past the last sequence number there can be
        filters: list[bytes] = []
        if content_hash is not None:
            filters.append(K.BY_CONTENT + content_hash)
        if owner is not None:
            filters.append(K.BY_OWNER + owner.to_bytes(4, "big"))
        if registrar is not None:
            filters.append(K.BY_REGISTRAR + registrar.to_bytes(2, "big"))
        if kind is not None:
            filters.append(K.BY_KIND + bytes([kind]))
        if grade is not None:
            filters.append(K.BY_GRADE + bytes([grade]))
        if status is not None:
            filters.append(K.BY_STATUS + bytes([status]))
        out: list[IndexedRecord] = []
        if not filters:
            n = self.counts()["records"]
            seqs = range(after + 1, min(n, after + 1 + limit))
            return [self.store.record_by_seq(s) for s in seqs]
        driver, rest = filters[0], filters[1:]
        cursor = after
        while len(out) < limit:
            batch = self.store.seqs_with(driver, after=cursor, limit=limit * 4)
            if not batch:
                break
            for seq in batch:
                sb = K.seq_bytes(seq)
                if all(self.store.get(f + sb) is not None for f in rest):
                    out.append(self.store.record_by_seq(seq))
                    if len(out) >= limit:
                        break
            cursor = batch[-1]
        return out

    def _walk(self, record_id: bytes, up: bool, max_depth: int, max_nodes: int) -> LineageResult:
        start = self._seq(record_id)
        raw: dict[int, bytes] = {}

        def value(seq: int) -> bytes:
            v = raw.get(seq)
            if v is None:
                got = self.store.get(K.RECORD + K.seq_bytes(seq))
                if got is None:
                    raise StoreError(f"the index has no record with seq {seq} (corrupt adjacency)")
                v = raw[seq] = got
            return v

        def step(seq: int) -> list[int]:
            return K.parent_seqs_of(value(seq)) if up else self.store.child_seqs(seq)

        w = lineage.walk(start, step, max_depth=max_depth, max_nodes=max_nodes)

        def record(seq: int) -> IndexedRecord:
            rec, parent_seqs = K.decode_record(seq, value(seq))
            return replace(rec, parents=tuple(K.record_id_of(value(p)) for p in parent_seqs))

        edges = [(K.record_id_of(value(a)), K.record_id_of(value(b))) for a, b in w.edges]
        if not up:
            edges = [(b, a) for a, b in edges]  # always (child, parent)
        return LineageResult(record(start), [(record(s), d) for s, d in w.nodes], edges, w.truncated)

    def ancestors(self, record_id: bytes, *, max_depth: int = 64, max_nodes: int = 10_000) -> LineageResult:
        return self._walk(record_id, True, max_depth, max_nodes)

    def descendants(self, record_id: bytes, *, max_depth: int = 64, max_nodes: int = 10_000) -> LineageResult:
        return self._walk(record_id, False, max_depth, max_nodes)

    def path(self, descendant: bytes, ancestor: bytes, *, max_depth: int = 64,
             max_nodes: int = 100_000) -> list[bytes] | None:
        seqs = lineage.path(self._seq(descendant), self._seq(ancestor), self.store.parent_seqs,
                            max_depth=max_depth, max_nodes=max_nodes)
        return None if seqs is None else [self.store.id_of(s) for s in seqs]

    def impact(self, record_id: bytes, *, max_depth: int = 64, max_nodes: int = 100_000) -> dict[str, Any]:
        """What depends on a record: every descendant, each flagged affected if the record is not active."""
        res = self.descendants(record_id, max_depth=max_depth, max_nodes=max_nodes)
        inactive = res.root.status != ACTIVE
        return {"record": res.root, "inactive": inactive,
                "affected": [r for r, _ in res.records] if inactive else [],
                "descendants": len(res.records), "truncated": res.truncated}

    def inactive_ancestors(self, record_id: bytes, *, max_depth: int = 64,
                           max_nodes: int = 10_000) -> tuple[list[IndexedRecord], bool]:
        res = self.ancestors(record_id, max_depth=max_depth, max_nodes=max_nodes)
        return [r for r, _ in res.records if r.status != ACTIVE], res.truncated

    def lineage_nodes(self, record_id: bytes, exchange_codes: dict[int, str], *, max_depth: int = 64,
                      max_nodes: int = 10_000) -> list[export.LineageNode]:
        res = self.ancestors(record_id, max_depth=max_depth, max_nodes=max_nodes)
        return [lineage_node(r, exchange_codes) for r in [res.root, *(r for r, _ in res.records)]]

    def exchange_codes(self) -> dict[int, str]:
        out = {}
        for k, v in self.store.scan(K.EXCHANGE):
            out[int.from_bytes(k[1:3], "big")] = v[1:9].rstrip(b"\0").decode("ascii", "replace")
        return out


KINDS = ("resource", "product", "asset")
GRADES = ("general", "important", "core")
SOURCES = ("public", "enterprise", "personal")
STATUSES = ("none", "active", "suspended", "revoked", "superseded")
RIGHTS = ((1, "holding"), (2, "processing"), (4, "operation"))


def record_json(r: IndexedRecord, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "id": "0x" + r.id.hex(), "kind": KINDS[r.kind], "grade": GRADES[r.grade], "source": SOURCES[r.source],
        "rights": [name for bit, name in RIGHTS if r.rights & bit], "status": STATUSES[r.status],
        "owner": r.owner, "registrar": codes.get(r.registrar, str(r.registrar)), "block": r.block_number,
        "content_hash": "0x" + r.content_hash.hex(), "metadata_hash": "0x" + r.metadata_hash.hex(),
        "supersedes": "0x" + r.supersedes.hex() if any(r.supersedes) else None,
        "delegated": r.delegated, "parents": ["0x" + p.hex() for p in r.parents],
    }


def lineage_json(res: LineageResult, codes: dict[int, str], *, direction: str) -> dict[str, Any]:
    """A lineage walk as JSON: the root and every record reached with its depth, the inactive ones flagged."""
    nodes = [{**record_json(res.root, codes), "depth": 0}]
    nodes += [{**record_json(r, codes), "depth": d} for r, d in res.records]
    inactive = ["0x" + r.id.hex() for r, _ in res.records if r.status != ACTIVE]
    return {"root": "0x" + res.root.id.hex(), "direction": direction, "nodes": nodes,
            "edges": [["0x" + c.hex(), "0x" + p.hex()] for c, p in res.edges],
            ("inactive_ancestors" if direction == "ancestors" else "inactive_descendants"): inactive,
            "truncated": res.truncated}


def lineage_node(r: IndexedRecord, codes: dict[int, str]) -> export.LineageNode:
    """A record as a node of a lineage export (the same conversion for lineage_nodes and the services' export)."""
    return export.LineageNode(
        id="0x" + r.id.hex(), kind=r.kind, grade=r.grade, source=r.source, rights=r.rights, status=r.status,
        owner=r.owner, registrar=codes.get(r.registrar, str(r.registrar)), content_hash="0x" + r.content_hash.hex(),
        metadata_hash="0x" + r.metadata_hash.hex(), block_number=r.block_number,
        parents=tuple("0x" + p.hex() for p in r.parents))
