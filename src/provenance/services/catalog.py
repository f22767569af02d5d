"""The federated catalogue as a node serves it: registering with a metadata document, supplying one later,
entity profiles, search, the boards and figures, and the DCAT 3 export.

Where each piece lives: the rules (schema, canonical hash, boards, ODRL, DCAT) in ``core/catalog.py``; the
documents this node keeps in ``store/documents.py`` (never derived from the chain, so ``index rebuild`` keeps
them); the on-chain publication in ``chain/catalog.py``; the search projection in
``indexer/catalog_search.py``. This service decides the order of things:

* a document is kept in the document store *before* its registration's transaction is sent, so a crash between
  the two loses nothing (the record then shows "supplied" as soon as it is indexed);
* general-grade documents are published on chain after the registration commits, many in one transaction;
  important- and core-grade documents never leave this node;
* an organisation's profile is kept and published; an individual's is kept here only (personal information
  protection: other nodes see the entity id and role, nothing else).

Callers decide who sees what (``public_only``, ``reveal``), as they do for records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from provenance.core import catalog as C
from provenance.core import dcat as D
from provenance.core import ijson
from provenance.core.ids import hex0x, parse_hash32
from provenance.errors import Forbidden, InvalidInput, NotFound, ProvenanceError
from provenance.indexer.catalog import REJECTED_COUNTER
from provenance.services.requests import catalog_document
from provenance.services.results.catalog import BoardOut, CatalogSearchOut, FiguresOut, ProfileOut, SuppliedOut
from provenance.store import keys as K
from provenance.store.keys import IndexedRecord
from provenance.types import Grade, RegistrationRequest

if TYPE_CHECKING:
    from provenance.chain.registry import SignedRegistration
    from provenance.services.operations import Operations

log = logging.getLogger("provenance.catalog")



class MetadataNotSupplied(NotFound):
    """A record whose metadataHash no document this node holds or has indexed hashes to (yet)."""

    problem = "metadata-not-supplied"


@dataclass(frozen=True)
class Viewer:
    """What a caller may see: ``members`` sees important- and core-grade listings (a member credential of the
    federation), ``local`` also individuals' profiles (a credential of this node's own exchange), ``entity`` is
    a merchant's own entity (it sees its own records)."""

    members: bool = False
    local: bool = False
    entity: int | None = None

    def sees(self, rec: IndexedRecord) -> bool:
        return rec.grade == 0 or self.members or (self.entity is not None and rec.owner == self.entity)


PUBLIC = Viewer()
OPERATOR = Viewer(members=True, local=True)  # the CLI: the node's operator


class CatalogService:
    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.node = ops.node
        self.documents = ops.node.documents
        self.index = ops.node.catalog

    # ------------------------------------------------------------------ plumbing

    def sync(self) -> int:
        """Bring the search projection up to the lineage index (after a follower sync). Under the node's chain
        lock: the projection reads block timestamps from the chain."""
        with self.ops.lock:
            return int(self.index.sync())

    def _after_write(self) -> None:
        with self.ops.lock:
            self.ops.follower.sync()
            self.sync()

    def keep(self, canonical: bytes) -> bytes:
        return self.documents.put(canonical)

    # ------------------------------------------------------------------ registering with a document

    def register(self, request: RegistrationRequest, document: bytes | None, *,
                 signed: SignedRegistration | None = None, submit: Callable[..., Any] | None = None,
                 signer: LocalAccount | None = None) -> dict[str, Any]:
        """Register one record, keeping its document first. ``submit`` (the API's group-commit writer, which
        publishes after its group commits) takes the request and the document; without it the registration is
        sent here and the document published after it."""
        if document is not None:
            self.keep(document)
        if submit is not None and signed is None:
            out = dict(submit(request, document))
        else:
            out = self.ops.register(request, signed=signed, signer=signer)
            if document is not None:
                self.publish([(bytes.fromhex(out["id"][2:]), request.grade, document)], signer=signer)
        self.sync()
        rid = bytes.fromhex(out["id"][2:])
        rec = self.node.index.record(rid)  # None while its block awaits [index] confirmations
        out["record"] = None if rec is None else self.decorate(self.ops.record_doc(rec, reveal=True), rec, OPERATOR)
        return out

    def batch(self, requests: list[RegistrationRequest], documents: Sequence[bytes | None], *,
              batch_size: int = 1000, signer: LocalAccount | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """A batch import whose lines may carry documents (each already checked when its line was read): the
        documents are kept, the batch anchored, then the general-grade documents of the accepted entries
        published."""
        if len(documents) != len(requests):
            raise InvalidInput("a batch needs one document (or none) per registration")
        for doc in documents:
            if doc is not None:
                self.keep(doc)
        out = self.ops.batch(requests, batch_size=batch_size, signer=signer, progress=progress)
        todo = [(bytes.fromhex(item["id"][2:]), requests[item["index"]].grade, documents[item["index"]])
                for item in out["accepted"] if documents[item["index"]] is not None]
        out["published"] = self.publish([(rid, g, d) for rid, g, d in todo if d is not None], signer=signer)
        self.sync()
        return out

    def publish(self, items: Sequence[tuple[bytes, Grade | int, bytes]],
                signer: LocalAccount | None = None) -> int:
        """Publish the general-grade documents among ``items`` (record id, grade, canonical bytes) on chain in as
        few transactions as chain/catalog's calldata and gas bounds allow (all of them tried first, so a refusal
        sends nothing); the others stay here. Returns how many were published. A refusal
        is logged and reported, never raised: the registration stands, and the document is kept for a later
        ``catalog supply``."""
        general = [(rid, doc) for rid, grade, doc in items if int(grade) == int(Grade.GENERAL)]
        if not general:
            return 0
        from provenance.chain import catalog as chain_catalog

        try:
            with self.ops.lock:
                sent = chain_catalog.publish_metadata(self.node.contracts, signer or self.ops.signer(),
                                                      [rid for rid, _ in general], [doc for _, doc in general])
        except ProvenanceError as exc:
            log.warning("publishing %d metadata document(s) refused: %s", len(general), exc.message)
            return 0
        self._after_write()
        return sent.documents

    # ------------------------------------------------------------------ supplying a document later

    def supply(self, record: bytes, document: Any, *, signer: LocalAccount | None = None,
               where: str = "document") -> SuppliedOut:
        """The document of a hash-only record: accepted only if it hashes to the record's metadataHash and
        validates against the record; kept, shown at once, and (general grade, this node the registrar)
        published on chain."""
        rec = self.ops.indexed(record)
        if not any(rec.metadata_hash):
            raise InvalidInput(f"metadataHash: record {hex0x(rec.id)} was registered without a metadata hash; "
                               f"no document can be supplied for it")
        canonical, digest = catalog_document(document, rec, where)
        if digest != rec.metadata_hash:
            raise InvalidInput(f"metadataHash: the document hashes to {hex0x(digest)}, not to the record's "
                               f"metadataHash {hex0x(rec.metadata_hash)}")
        self.keep(canonical)
        published = 0
        if rec.grade == 0 and rec.registrar == self._own_exchange():
            published = self.publish([(rec.id, rec.grade, canonical)], signer=signer)
        with self.ops.lock:
            self.index.refresh_hash(digest)
        self.sync()
        return SuppliedOut(id=hex0x(rec.id), metadataHash=hex0x(digest), published=bool(published),
                           record=self.decorate(self.ops.record_doc(rec, reveal=True), rec, OPERATOR))

    def _own_exchange(self) -> int | None:
        try:
            return self.ops.exchange_id
        except ProvenanceError:  # a supervisor's node speaks for no exchange
            return None

    # ------------------------------------------------------------------ reading documents

    def document_bytes(self, rec: IndexedRecord) -> bytes | None:
        """The canonical document of a record: kept here, or accepted by the index from the chain."""
        if not any(rec.metadata_hash):
            return None
        raw = self.documents.get(rec.metadata_hash)
        if raw is None and rec.grade == 0:  # published on chain and accepted by the index's rules
            raw = self.node.index.get(K.CATALOG_METADATA + K.seq_bytes(rec.seq))
        return raw

    def metadata(self, record: bytes, viewer: Viewer) -> dict[str, Any]:
        rec = self.ops.indexed(record)
        if not viewer.sees(rec):
            raise Forbidden(f"record {hex0x(rec.id)} is of {Grade(rec.grade).label} grade: its metadata needs a "
                            f"member credential")
        raw = self.document_bytes(rec)
        if raw is None:
            raise MetadataNotSupplied(f"no metadata document was supplied for record {hex0x(rec.id)} (its "
                                      f"metadataHash is {hex0x(rec.metadata_hash)})")
        return ijson.loads(raw, what="a kept metadata document")  # type: ignore[no-any-return]

    def decorate(self, doc: dict[str, Any], rec: IndexedRecord, viewer: Viewer) -> dict[str, Any]:
        """A record document with its catalogue names: title, publisher and whether metadata was supplied."""
        if not viewer.sees(rec):
            return {**doc, "title": None, "publisher": None, "metadata": "redacted"}
        listing = self.index.listing(rec.id, public_only=False)
        if listing is not None:
            return {**doc, "title": listing.get("title"), "publisher": listing.get("publisher"),
                    "metadata": listing.get("metadata", "not-supplied")}
        raw = self.document_bytes(rec)
        title = ijson.loads(raw, what="a kept metadata document").get("title") if raw else None
        return {**doc, "title": title, "publisher": {"id": rec.owner, "name": None, "kind": None},
                "metadata": "supplied" if raw else "not-supplied"}

    def name(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record documents, already redacted for their reader, with their catalogue names (a search page, the
        nodes of a lineage graph): people read titles and merchants' names, not hashes."""
        found = self.index.listings([parse_hash32(d["id"]) for d in docs if not d.get("redacted")],
                                    public_only=False)  # one query for the page, not one a row
        out = []
        for d in docs:
            if d.get("redacted"):
                out.append({**d, "title": None, "publisher": None, "metadata": "redacted"})
                continue
            listing = found.get(parse_hash32(d["id"]))
            if listing is None:  # not yet in the projection (a block just indexed): named on the next read
                out.append({**d, "title": None, "publisher": {"id": d.get("owner"), "name": None, "kind": None},
                            "metadata": "not-supplied"})
            else:
                out.append({**d, "title": listing.get("title"), "publisher": listing.get("publisher"),
                            "metadata": listing.get("metadata", "not-supplied")})
        return out

    # ------------------------------------------------------------------ profiles

    @staticmethod
    def check_profile(profile: Any, identifier: str) -> None:
        """Refuse, before an entity is onboarded with it, a profile that is invalid or whose credit code is not
        the identifier the entity is onboarded with."""
        from provenance.core.ids import identifier_hash

        parsed = C.parse_profile(profile)
        if not parsed.is_individual:
            C.check_profile_binding(parsed, identifier_hash(identifier))

    def set_profile(self, entity_id: int, profile: Any, *, signer: LocalAccount | None = None) -> ProfileOut:
        """Keep (and for an organisation publish) the profile of an entity this node's exchange onboarded: an
        organisation's credit code must be the identifier it was onboarded with (its on-chain identifierHash)."""
        parsed = C.parse_profile(profile)
        with self.ops.lock:
            entity = self.ops.svc.entity(entity_id)
        own = self._own_exchange()
        if entity.registrar != own:
            raise Forbidden(f"entity {entity_id} was onboarded by exchange {entity.registrar}: only that exchange "
                            f"keeps and publishes its profile")
        if not parsed.is_individual:
            C.check_profile_binding(parsed, entity.identifier_hash)
        self.documents.put_profile(entity_id, parsed.canonical)
        if not parsed.is_individual:
            from provenance.chain import catalog as chain_catalog

            with self.ops.lock:
                chain_catalog.publish_profiles(self.node.contracts, signer or self.ops.signer(), [entity_id],
                                               [parsed.canonical])
            self._after_write()
        with self.ops.lock:
            self.index.refresh_entity(entity_id)
        self.sync()
        return ProfileOut(entity=entity_id, role=entity.role.label, profile=parsed.document,
                          published=not parsed.is_individual, redacted=False)

    def profile(self, entity_id: int, viewer: Viewer) -> ProfileOut:
        """An entity's profile: an organisation's for anyone; an individual's only for credentials this node
        issued and for the person's own merchant credential (everyone else gets the entity id and role)."""
        with self.ops.lock:
            entity = self.ops.svc.entity(entity_id)
        raw = self.documents.profile(entity_id) or self.node.index.get(K.CATALOG_PROFILE + entity_id.to_bytes(4, "big"))
        role = entity.role.label
        if raw is None:
            return ProfileOut(entity=entity_id, role=role, profile=None, redacted=False)
        doc = ijson.loads(raw, what="a kept entity profile")
        own = viewer.entity == entity_id or (viewer.local and entity.registrar == self._own_exchange())
        if doc.get("kind") == "individual" and not own:
            return ProfileOut(entity=entity_id, role=role, profile=None, redacted=True)
        return ProfileOut(entity=entity_id, role=role, profile=doc, redacted=False)

    # ------------------------------------------------------------------ search and browsing

    def search(self, *, viewer: Viewer, q: str | None = None, kind: str | None = None, grade: str | None = None,
               board: str | None = None, registrar: str | None = None, status: str | None = None,
               owner: int | None = None, order: str = "relevance", cursor: str | None = None,
               limit: int = 20) -> CatalogSearchOut:
        if not 1 <= limit <= 100:
            raise InvalidInput("limit must be between 1 and 100")
        if q is not None and len(q) > 200:
            raise InvalidInput("q: at most 200 characters")
        if order not in ("relevance", "recent"):
            raise InvalidInput("order: relevance or recent")
        return CatalogSearchOut.model_validate(self.index.search(
            q=q or None, kind=kind, grade=grade, board=board, registrar=registrar, status=status, owner=owner,
            order=order, cursor=cursor, limit=limit, public_only=not viewer.members).to_json())

    def boards(self, viewer: Viewer) -> list[BoardOut]:
        """The boards with their counts of general-grade listings (the same for every caller: a board's listings
        are public documents)."""
        del viewer
        return [BoardOut.model_validate(b) for b in self.index.boards()]

    def figures(self, viewer: Viewer) -> FiguresOut:
        """Counts only (no title, no name): the same for every caller."""
        del viewer
        return FiguresOut.model_validate(self.index.figures())

    def entity_records(self, entity_id: int, viewer: Viewer, *, cursor: str | None = None,
                       limit: int = 20) -> CatalogSearchOut:
        if not 1 <= limit <= 100:
            raise InvalidInput("limit must be between 1 and 100")
        with self.ops.lock:
            self.ops.svc.entity(entity_id)  # NotFound for an entity that does not exist
        return CatalogSearchOut.model_validate(self.index.entity_records(
            entity_id, cursor=cursor, limit=limit, public_only=not viewer.members).to_json())

    def listing(self, record: bytes, viewer: Viewer) -> dict[str, Any]:
        rec = self.ops.indexed(record)
        if not viewer.sees(rec):
            raise Forbidden(f"record {hex0x(rec.id)} is of {Grade(rec.grade).label} grade: its listing needs a "
                            f"member credential")
        found = self.index.listing(rec.id, public_only=False)
        if found is None:
            raise NotFound(f"record {hex0x(rec.id)} is not in the catalogue yet")
        return dict(found)

    def rejected(self) -> int:
        """Documents published on chain that the index refused (tampered, mismatched, invalid)."""
        raw = self.node.index.get_meta(REJECTED_COUNTER)
        return int.from_bytes(raw, "big") if raw else 0

    # ------------------------------------------------------------------ DCAT 3

    def dcat(self, base_url: str) -> dict[str, Any]:
        """The catalogue as one DCAT 3 JSON-LD document: the general-grade listings (with their documents where
        this node holds them), whoever asks, since an export is made to leave."""
        listings = [{**item, "document": self._document_of(item)} for item in self._public_listings()]
        return dict(D.dcat_catalog(listings, base_url=base_url, publisher=self._publisher()))

    def dcat_dataset(self, record: bytes, base_url: str, viewer: Viewer) -> dict[str, Any]:
        listing = self.listing(record, viewer)
        # What this node serves meets DCAT-AP: a record without its document gets the title and description made
        # from what the node knows, as in the catalogue.
        return dict(D.dcat_dataset({**listing, "document": self._document_of(listing)}, base_url=base_url,
                                   required=True))

    def _document_of(self, listing: dict[str, Any]) -> dict[str, Any] | None:
        if listing.get("metadata") != "supplied":
            return None
        rec = self.node.index.record(bytes.fromhex(listing["id"][2:]))
        raw = self.document_bytes(rec) if rec is not None else None
        return ijson.loads(raw, what="a kept metadata document") if raw else None

    def _public_listings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.index.search(order="recent", cursor=cursor, limit=100, public_only=True)
            out.extend(page.items)
            cursor = page.next
            if not cursor:
                return out

    def _publisher(self) -> dict[str, Any] | None:
        own = self._own_exchange()
        if own is None:
            return None
        with self.ops.lock:
            ex = self.ops.svc.exchange(own)
        # The chain holds one name with no language: the builder tags it by its script (an English name is not
        # Chinese text), and names the exchange by its code if the name is empty.
        return {"name": ex.name, "code": ex.code}

    # ------------------------------------------------------------------ schemas

    @staticmethod
    def schema(name: str) -> dict[str, Any]:
        if name not in C.SCHEMA_FILES:
            raise NotFound(f"no published schema {name!r}: {', '.join(sorted(C.SCHEMA_FILES))}")
        return C.schema(name)


__all__ = ["CatalogService", "MetadataNotSupplied", "Viewer", "PUBLIC", "OPERATOR"]
