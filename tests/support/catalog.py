"""A synthetic catalogue written through the index's own write path (apply_event), without a chain: exchanges,
entities with profiles, registrations whose metadataHash commits to a sample document, and that document
published (MetadataPublished), block by block as the follower would apply them."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from provenance.core.catalog import canonical_document
from provenance.core.ids import identifier_hash, record_id
from provenance.core.keccak import keccak256
from provenance.dev.catalog_samples import entity_profile, metadata_document
from provenance.indexer.apply import apply_event
from provenance.indexer.events import Event
from provenance.store.index import IndexStore
from provenance.types import Rights

EXCHANGES = ((1, b"SDE", "Shanghai Data Exchange"), (2, b"SZDE", "Shenzhen Data Exchange"),
             (3, b"ZJDE", "Zhejiang Data Exchange"))


def _ev(name: str, args: dict[str, Any], block: int, log_index: int) -> Event:
    return Event(name, args, block, hashlib.sha256(block.to_bytes(8, "big")).digest(), log_index, "Registry")


@dataclass
class SyntheticCatalog:
    """Writes blocks into ``store``; remembers what it registered so tests can name it."""

    store: IndexStore
    block: int = 1
    entities: int = 0
    records: list[bytes] = field(default_factory=list)
    leaves: dict[int, int] = field(default_factory=dict)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    documents: dict[bytes, dict[str, Any]] = field(default_factory=dict)

    def write(self, events: list[tuple[str, dict[str, Any]]], *, keep_for_reorg: bool = False) -> int:
        """Apply ``events`` as one block; returns its number."""
        n = self.block
        h = hashlib.sha256(n.to_bytes(8, "big")).digest()
        with self.store.block(n, h, keep_for_reorg=keep_for_reorg, prune_below=0) as w:
            for i, (name, args) in enumerate(events):
                apply_event(w, _ev(name, args, n, i))
        self.block += 1
        return n

    def exchanges(self) -> None:
        self.write([("ExchangeAdded", {"exchangeId": ex, "code": code.ljust(8, b"\0"), "name": name})
                    for ex, code, name in EXCHANGES])

    def entity_events(self, n: int, *, individual_every: int = 10, publish: bool = True,
                      registrar: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for _ in range(n):
            self.entities += 1
            eid = self.entities
            kind = "individual" if eid % individual_every == 0 else ("public-body" if eid % 7 == 0 else "enterprise")
            profile = entity_profile(eid, kind=kind)
            self.profiles[eid] = profile
            ident = identifier_hash(profile.get("creditCode") or f"person-{eid}")
            ex = registrar or 1 + eid % 3
            out.append(("EntityRegistered", {"entityId": eid, "registrar": ex, "role": eid % 3,
                                             "identifierHash": ident, "account": "0x" + bytes(20).hex()}))
            if publish and kind != "individual":
                out.append(("EntityProfilePublished", {"entityId": eid, "exchangeId": ex,
                                                       "document": canonical_document(profile)}))
        return out

    def registration_events(self, i: int, *, owner: int, registrar: int, grade: int = 0, kind: int = 1,
                            publish: bool = True, doc: dict[str, Any] | None = None,
                            lang: str = "both") -> list[tuple[str, dict[str, Any]]]:
        document = doc if doc is not None else metadata_document(
            i, publisher=owner, kind=("resource", "product", "asset")[kind], rights=Rights.HOLDING,
            lang=lang)  # type: ignore[arg-type]
        raw = canonical_document(document)
        content = hashlib.sha256(b"content" + i.to_bytes(8, "big")).digest()
        rid = record_id(registrar, content)
        self.documents[rid] = document
        self.records.append(rid)
        leaf = self.leaves.get(registrar, 0)
        self.leaves[registrar] = leaf + 1
        out: list[tuple[str, dict[str, Any]]] = [("DataRegistered", {
            "id": rid, "registrar": registrar, "owner": owner, "kind": kind, "grade": grade, "source": 1,
            "rights": int(Rights.HOLDING), "contentHash": content, "metadataHash": keccak256(raw),
            "supersedes": bytes(32), "parents": (), "delegated": False, "leafIndex": leaf})]
        if publish:
            out.append(("MetadataPublished", {"id": rid, "exchangeId": registrar, "document": raw}))
        return out


def build(store: IndexStore, *, entities: int, listings: int, per_block: int = 500, seed: int = 1,
          important_every: int = 0) -> SyntheticCatalog:
    """A catalogue of ``entities`` entities (every 10th an individual) and ``listings`` published listings."""
    cat = SyntheticCatalog(store)
    cat.exchanges()
    for start in range(0, entities, per_block * 4):
        cat.write(cat.entity_events(min(per_block * 4, entities - start)))
    rng = random.Random(seed)
    batch: list[tuple[str, dict[str, Any]]] = []
    for i in range(listings):
        owner = rng.randint(1, max(entities, 1))
        registrar = 1 + owner % 3
        grade = 1 if important_every and i % important_every == important_every - 1 else 0
        batch += cat.registration_events(i, owner=owner, registrar=registrar, grade=grade, kind=i % 3,
                                         publish=grade == 0, lang=("zh", "en", "both")[i % 3])
        if len(batch) >= per_block:
            cat.write(batch)
            batch = []
    if batch:
        cat.write(batch)
    return cat
