"""The seed's scale: a federation of three exchanges on the embedded chain with the action plan's numbers
(100,000 entities, 20,000 resources, 5,000 products, 500 assets by default), every record with a realistic
metadata document, built through the node's own write paths. ``scripts/bench scale`` measures it;
``provenance demo --scale seed`` builds the same data directory to browse.

Nothing is written to the index or the catalogue directly: entities are onboarded with each account's EIP-712
consent, profiles and general-grade documents are published on chain, records are registered directly
(``registerBatch`` groups) or in anchored batches, and the follower and the catalogue's projection index what
the chain holds, as on any node.

Lineage: resources are depth 0; a product of depth d has one parent of depth d - 1 and the others shallower, so
depth never passes ``max_depth``; a parent is never of a higher grade than its child (the registration rules),
and core-grade resources are leaves (only resources may be core). Batched resources are leaves too: a direct
registration's parents must be stored on chain.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain import catalog as chain_catalog
from provenance.chain.registry import ENTITY_CHUNK, EntityConsent
from provenance.config import CONFIG_NAME
from provenance.core import catalog as C
from provenance.core import eip712
from provenance.core.ids import identifier_hash, parse_address, record_id
from provenance.core.keccak import keccak256
from provenance.dev import catalog_samples as samples
from provenance.errors import InvalidInput
from provenance.services.bootstrap import init_node
from provenance.services.catalog import CatalogService
from provenance.services.node import Node
from provenance.services.operations import Operations
from provenance.store.keystore import PassphraseSource
from provenance.types import Address, EntityRole, Grade, Hash32, Kind, RecordId, RegistrationRequest, Rights, Source

EXCHANGES = (("SDE", "Shanghai Data Exchange"), ("ZJDE", "Zhejiang Big Data Exchange Center"),
             ("AHDE", "Anhui Data Exchange"))
MARKER = "scale.json"
CONSENT_TTL = 7 * 86_400  # every consent is signed before the run starts; a full build takes hours at worst
GROUP = 40  # records per registerBatch: 40 products with five parents stay well inside the transaction gas cap
LANGS: tuple[samples.Lang, ...] = ("zh", "en", "both")


@dataclass(frozen=True)
class ScaleSpec:
    entities: int = 100_000
    resources: int = 20_000
    products: int = 5_000
    assets: int = 500
    individuals: float = 0.10  # share of entities that are individuals (the rest organisations with profiles)
    batched: float = 0.5  # share of resources registered in anchored batches rather than directly
    publishers: int = 300  # organisations that own the records (each grants its exchange a mandate)
    max_depth: int = 6
    max_parents: int = 5
    seed: int = 20

    def check(self) -> None:
        if self.entities < 3 * 2:
            raise InvalidInput("scale: at least 6 entities (a publisher and an individual per exchange)")
        if self.resources < 3 or self.products < 1 or self.assets < 0:
            raise InvalidInput("scale: at least 3 resources and 1 product")
        if not 0 <= self.individuals < 1 or not 0 <= self.batched < 1:
            raise InvalidInput("scale: the individuals' and batched shares are fractions below 1")
        if not 1 <= self.max_depth <= 64 or not 1 <= self.max_parents <= 16:
            raise InvalidInput("scale: max_depth 1..64, max_parents 1..16")


@dataclass
class Planned:
    """One record to register: its request, document (canonical bytes), depth and how it goes on chain."""

    request: RegistrationRequest
    document: bytes
    registrar: int
    depth: int
    batched: bool = False
    id: RecordId = field(default=RecordId(bytes(32)))


def _key(seed: int, i: int) -> LocalAccount:
    acct: LocalAccount = Account.from_key(keccak256(f"provenance-scale:{seed}:{i}".encode()))
    return acct


def _timed(figures: dict[str, Any], name: str, start: float) -> None:
    figures[name] = round(time.perf_counter() - start, 2)


class ScaleBuilder:
    def __init__(self, node: Node, spec: ScaleSpec, say: Callable[[str], None]) -> None:
        self.node, self.spec, self.say = node, spec, say
        self.ops = Operations(node)
        self.svc = self.ops.svc
        self.catalog = CatalogService(self.ops)
        self.rng = random.Random(spec.seed)
        self.keys = {code: node.keystore.load(code) for code, _ in EXCHANGES}
        self.ids: dict[str, int] = {}
        self.figures: dict[str, Any] = {}
        self.publishers: list[tuple[int, int]] = []  # (entity id, home exchange id)

    # ------------------------------------------------------------------ federation

    def federation(self) -> None:
        sde = self.keys["SDE"]
        for code, name in EXCHANGES[1:]:
            try:
                self.svc.exchange_id(code)
            except Exception:  # noqa: BLE001 - NotFound, or any refusal: then the proposal below names it
                self.svc.propose_add_exchange(sde, code, name, self.keys[code])
        self.ids = {code: self.svc.exchange_id(code) for code, _ in EXCHANGES}
        self.codes = {v: k for k, v in self.ids.items()}

    # ------------------------------------------------------------------ entities

    def entities(self) -> None:
        spec, svc = self.spec, self.svc
        rng = random.Random(spec.seed * 7 + 1)
        deadline = svc.chain_time() + CONSENT_TTL
        seen: set[bytes] = set()
        plans: list[tuple[int, Hash32, LocalAccount, EntityRole, bytes, dict[str, Any]]] = []
        t0 = time.perf_counter()
        for i in range(spec.entities):
            home = self.ids[EXCHANGES[i % 3][0]]
            # The first three of each exchange are organisations: every exchange has publishers.
            kind = ("individual" if i >= 6 and rng.random() < spec.individuals
                    else "public-body" if rng.random() < 0.07 else "enterprise")
            lang = rng.choice(LANGS)
            tries = 0
            while True:
                profile = samples.entity_profile(f"{spec.seed}:{i}:{tries}", kind=kind, lang=lang)
                ident = identifier_hash(profile["creditCode"] if kind != "individual"
                                        else f"ID-{spec.seed}-{i}-{tries}")
                if ident not in seen:
                    break
                tries += 1  # two generated credit codes collided: draw another
            seen.add(ident)
            key = _key(spec.seed, i)
            role = EntityRole(rng.choice((0, 0, 1, 1, 2)) if kind != "individual" else 1)
            digest = svc.onboarding_digest(home, ident, parse_address(key.address), role, deadline)
            plans.append((home, ident, key, role, eip712.sign_digest(digest, bytes(key.key)), profile))
        _timed(self.figures, "consents_sign_s", t0)
        self.say(f"{len(plans)} consents signed in {self.figures['consents_sign_s']} s; onboarding ...")
        # One registerEntities transaction per chunk of an exchange's consents, the exchanges taking turns.
        by_home: dict[int, list[int]] = {}
        for i, plan in enumerate(plans):
            by_home.setdefault(plan[0], []).append(i)
        chunks = [idx[k:k + ENTITY_CHUNK] for idx in by_home.values() for k in range(0, len(idx), ENTITY_CHUNK)]
        chunks.sort(key=lambda part: part[0])
        gas = 0
        ids: dict[int, int] = {}
        t0 = time.perf_counter()
        done = 0
        for part in chunks:
            home = plans[part[0]][0]
            consents = [EntityConsent(ident, Address(parse_address(key.address)), role, home, deadline, sig)
                        for _, ident, key, role, sig, _ in (plans[i] for i in part)]
            got, writes = svc.register_entities(self.keys[self.codes[home]], consents)
            gas += sum(w.gas_used for w in writes)
            ids.update(zip(part, got, strict=True))
            if (done + len(part)) // 5000 > done // 5000:
                self.say(f"  {done + len(part)} entities, {(done + len(part)) / (time.perf_counter() - t0):.1f}/s")
            done += len(part)
        made = [(ids[i], home, key, profile) for i, (home, _, key, _, _, profile) in enumerate(plans)]
        _timed(self.figures, "entities_onboard_s", t0)
        self.figures["gas_per_entity"] = round(gas / len(plans))
        self.say(f"{len(plans)} entities onboarded in {self.figures['entities_onboard_s']} s")
        self.profiles(made)
        self.mandates(made)

    def profiles(self, made: Sequence[tuple[int, int, LocalAccount, dict[str, Any]]]) -> None:
        """Organisations' profiles are published by their onboarding exchange; individuals' stay with it (here,
        those this node, SDE, onboarded: the partners' individuals live at the partners' nodes)."""
        own = self.ids["SDE"]
        t0 = time.perf_counter()
        by_home: dict[int, tuple[list[int], list[bytes]]] = {}
        for eid, home, _, profile in made:
            canonical = C.canonical_document(profile)
            if home == own:
                self.node.documents.put_profile(eid, canonical)
            if profile["kind"] != "individual":
                ids, docs = by_home.setdefault(home, ([], []))
                ids.append(eid)
                docs.append(canonical)
        gas = 0
        for home, (ids, docs) in by_home.items():
            pub = chain_catalog.publish_profiles(self.node.contracts, self.keys[self.codes[home]], ids, docs)
            gas += pub.total_gas
        _timed(self.figures, "profiles_publish_s", t0)
        self.figures["profiles_published"] = sum(len(ids) for ids, _ in by_home.values())
        self.figures["gas_per_profile"] = round(gas / max(1, self.figures["profiles_published"]))

    def mandates(self, made: Sequence[tuple[int, int, LocalAccount, dict[str, Any]]]) -> None:
        orgs = [(eid, home, key) for eid, home, key, profile in made if profile["kind"] != "individual"]
        per_home = max(1, self.spec.publishers // 3)
        chosen: list[tuple[int, int, LocalAccount]] = []
        for home in self.ids.values():
            chosen += [o for o in orgs if o[1] == home][:per_home]
        t0 = time.perf_counter()
        for eid, home, key in chosen:
            self.svc.set_mandate(key, eid, home, True)
            self.publishers.append((eid, home))
        _timed(self.figures, "mandates_s", t0)

    # ------------------------------------------------------------------ records

    def _plan(self, kind: Kind, grade: Grade, n: int, depth: int, parents: tuple[RecordId, ...] = (),
              owner_home: tuple[int, int] | None = None) -> Planned:
        rng = self.rng
        owner, home = owner_home or rng.choice(self.publishers)
        rights = {Kind.RESOURCE: Rights.HOLDING | Rights.PROCESSING,
                  Kind.PRODUCT: Rights.HOLDING | Rights.PROCESSING | Rights.OPERATION,
                  Kind.ASSET: Rights.HOLDING | Rights.OPERATION}[kind]
        doc = samples.metadata_document(f"{self.spec.seed}:{kind.label}:{n}", publisher=owner, kind=kind.label,
                                        rights=rights, lang=rng.choice(LANGS))
        canonical = C.canonical_document(doc)
        source = rng.choice((Source.ENTERPRISE, Source.ENTERPRISE, Source.PUBLIC))
        content = Hash32(keccak256(f"content:{self.spec.seed}:{kind.label}:{n}".encode()))
        req = RegistrationRequest(kind, grade, source, rights, owner, content, C.document_hash(canonical),
                                  parents=parents)
        return Planned(req, canonical, home, depth, id=record_id(home, content))

    def _register(self, plans: Sequence[Planned]) -> None:
        """Direct registrations in registerBatch groups per registrar, then their general-grade documents."""
        for home, code in self.codes.items():
            mine = [p for p in plans if p.registrar == home]
            for i in range(0, len(mine), GROUP):
                group = mine[i:i + GROUP]
                for p in group:
                    self.catalog.keep(p.document)
                results = self.ops.register_group([p.request for p in group], signer=self.keys[code])
                refused = [r for r in results if isinstance(r, Exception)]
                if refused:
                    raise refused[0]
            self.catalog.publish([(p.id, p.request.grade, p.document) for p in mine], signer=self.keys[code])

    def _batch(self, plans: Sequence[Planned]) -> None:
        for home, code in self.codes.items():
            mine = [p for p in plans if p.registrar == home]
            if mine:
                out = self.catalog.batch([p.request for p in mine], [p.document for p in mine],
                                         signer=self.keys[code])
                if out["refused_at_intake"] or out["rejected_by_index"]:
                    raise InvalidInput(f"scale: batch refused {out['refused_at_intake'][:1]}"
                                       f"{out['rejected_by_index'][:1]}")

    def records(self) -> None:
        spec, rng = self.spec, self.rng
        t0 = time.perf_counter()
        n_batched = int(spec.resources * spec.batched)
        resources = [self._plan(Kind.RESOURCE, _grade(rng, core=True), n, 0) for n in range(spec.resources)]
        for p in resources[:n_batched]:
            p.batched = True
        direct = resources[n_batched:]
        self._batch(resources[:n_batched])
        self._register(direct)
        _timed(self.figures, "resources_register_s", t0)
        self.say(f"{spec.resources} resources registered ({n_batched} batched) in "
                 f"{self.figures['resources_register_s']} s")
        # Products level by level, so every parent is on chain before its children.
        t0 = time.perf_counter()
        pool: dict[int, list[Planned]] = {0: [p for p in direct if p.request.grade != Grade.CORE]}
        depths = _depths(rng, spec.products, spec.max_depth)
        n = 0
        for d in range(1, spec.max_depth + 1):
            level = []
            for _ in range(depths.count(d)):
                level.append(self._child(Kind.PRODUCT, n, d, pool))
                n += 1
            self._register(level)
            pool[d] = level
        _timed(self.figures, "products_register_s", t0)
        self.say(f"{spec.products} products registered in {self.figures['products_register_s']} s")
        t0 = time.perf_counter()
        product_pool = {d: v for d, v in pool.items() if d >= 1 and d < spec.max_depth}
        assets = [self._child(Kind.ASSET, i, 0, product_pool, assets=True) for i in range(spec.assets)]
        self._register(assets)
        _timed(self.figures, "assets_register_s", t0)

    def _child(self, kind: Kind, n: int, depth: int, pool: dict[int, list[Planned]], *,
               assets: bool = False) -> Planned:
        rng, spec = self.rng, self.spec
        if assets:  # an asset's parents are products below max_depth, of any depth
            first = rng.choice(rng.choice([v for v in pool.values() if v]))
        else:
            first = rng.choice(pool.get(depth - 1) or pool[0])
        chosen = [first]
        shallower = [p for d, v in pool.items() if d <= first.depth for p in v]
        for _ in range(rng.randint(1, spec.max_parents) - 1):
            cand = rng.choice(shallower)
            if all(cand is not c for c in chosen):
                chosen.append(cand)
        depth = 1 + max(p.depth for p in chosen)
        grade = Grade(max(int(p.request.grade) for p in chosen))
        if grade == Grade.GENERAL and rng.random() < 0.05:
            grade = Grade.IMPORTANT
        owner_home = (chosen[0].request.owner, chosen[0].registrar) if rng.random() < 0.5 else None
        return self._plan(kind, grade, n, depth, tuple(p.id for p in chosen), owner_home)


def _grade(rng: random.Random, *, core: bool) -> Grade:
    x = rng.random()
    return Grade.GENERAL if x < 0.85 else Grade.IMPORTANT if x < 0.97 or not core else Grade.CORE


def _depths(rng: random.Random, n: int, max_depth: int) -> list[int]:
    """Depths 1..max_depth, halving in number at each level, every level present when n allows."""
    weights = [2.0 ** -d for d in range(max_depth)]
    out = list(range(1, min(n, max_depth) + 1))
    out += rng.choices(range(1, max_depth + 1), weights=weights, k=n - len(out))
    return sorted(out)


def build(data_dir: Path, passphrase: PassphraseSource, spec: ScaleSpec = ScaleSpec(), *,
          scrypt_n: int | None = None, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the federation in ``data_dir`` (new), index it and its catalogue, and return the build figures.
    A directory already built with the same spec returns its figures; any other existing directory is refused."""
    spec.check()
    marker = data_dir / MARKER
    if marker.exists():
        done = json.loads(marker.read_text(encoding="utf-8"))
        if done.get("spec") != asdict(spec):
            raise InvalidInput(f"scale: {data_dir} was built with another spec: {done.get('spec')}")
        return dict(done)
    if (data_dir / CONFIG_NAME).exists() or (data_dir.exists() and any(data_dir.iterdir())):
        raise InvalidInput(f"scale: {data_dir} exists and is not a finished scale build; give a new directory")
    init_node(data_dir, exchange="SDE", name=EXCHANGES[0][1], passphrase=passphrase, scrypt_n=scrypt_n)
    t_all = time.perf_counter()
    with Node.open(data_dir, passphrase) as node:
        for code, _ in EXCHANGES[1:]:
            node.keystore.create(code)
        b = ScaleBuilder(node, spec, say)
        b.federation()
        b.entities()
        t0 = time.perf_counter()
        b.ops.follower.sync()
        _timed(b.figures, "entities_index_s", t0)
        b.records()
        t0 = time.perf_counter()
        b.ops.follower.sync()
        node.catalog.sync()
        _timed(b.figures, "catalog_sync_s", t0)
        figures = {"spec": asdict(spec), **b.figures, "build_s": round(time.perf_counter() - t_all, 1),
                   "block": node.chain.block_number()}
    marker.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return figures


# ---------------------------------------------------------------------- what the build holds, and measures


def census(node: Node) -> dict[str, int]:
    """Counts as the chain, the index and the catalogue's projection each hold them (they must agree)."""
    from provenance.store import keys as K

    ix = node.index

    def meta(name: str) -> int:
        return int.from_bytes(ix.get_meta(name) or b"", "big")

    entities, direct = node.contracts.call("Registry", "counts")
    every = node.catalog.search(public_only=False, order="recent", limit=1).total
    public = node.catalog.search(public_only=True, order="recent", limit=1).total
    return {"chain_entities": int(entities), "chain_direct_records": int(direct),
            "index_entities": meta("entities"), "index_records": meta("records"),
            "index_documents": sum(1 for _ in ix.scan(K.CATALOG_METADATA)),
            "index_profiles": sum(1 for _ in ix.scan(K.CATALOG_PROFILE)),
            "index_rejected": meta("catalog_rejected"),
            "catalog_listings": every, "catalog_public_listings": public}


def queries(n: int, seed: int, codes: Sequence[str]) -> list[dict[str, Any]]:
    """``n`` mixed Chinese and English searches, half with a facet filter, from words the samples use."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        doc = samples.metadata_document(f"query:{seed}:{i}", publisher=1, lang=rng.choice(("zh", "en")))
        title = next(iter(doc["title"].values()))
        if rng.random() < 0.5:
            q = rng.choice(doc["keywords"])
        elif " " in title:
            q = rng.choice([w for w in title.split() if len(w) >= 3] or [title])
        else:
            start = rng.randrange(max(1, len(title) - 3))
            q = title[start:start + rng.choice((3, 4))]
        query: dict[str, Any] = {"q": q}
        facet = rng.choice(("", "", "kind", "board", "registrar", "status"))
        if facet == "kind":
            query["kind"] = rng.choice(("resource", "product", "asset"))
        elif facet == "board":
            query["board"] = rng.choice(doc["themes"])
        elif facet == "registrar":
            query["registrar"] = rng.choice(list(codes))
        elif facet == "status":
            query["status"] = "active"
        out.append(query)
    return out


def partner_catchup(node: Node, folder: Path) -> dict[str, Any]:
    """A partner's new index and catalogue built from genesis over the same chain (the embedded chain is one
    process's: the partner shares its blocks, not a copy), timed until the catalogue holds every listing."""
    from provenance.indexer.catalog_search import CatalogIndex
    from provenance.indexer.follower import Follower
    from provenance.store.documents import DocumentStore
    from provenance.store.index import IndexStore

    t0 = time.perf_counter()
    store = IndexStore(folder / "index")
    documents = DocumentStore(folder / "documents")
    projection = CatalogIndex(folder / "catalog.sqlite", store, documents)
    try:
        Follower(chain=node.chain, contracts=node.contracts, store=store).sync()
        t_index = time.perf_counter() - t0
        projection.sync()
        total = time.perf_counter() - t0
        public = projection.search(public_only=True, order="recent", limit=1).total
        return {"partner_catchup_s": round(total, 2), "partner_index_s": round(t_index, 2),
                "partner_public_listings": public,
                "partner_records": int.from_bytes(store.get_meta("records") or b"", "big")}
    finally:
        projection.close()
        documents.close()
        store.close()
