"""Verifying a certificate: every check of :data:`CHECKS`, each reported by name with what it found; the
certificate is valid only if all pass.

What the checks consult - keys and their history, anchored checkpoints, record statuses, the head block - comes
from a :class:`FederationView`: the node's index and the chain (online) or a signed federation snapshot (offline,
:mod:`provenance.core.snapshot`). :func:`verify` asks the compiled checks first (:mod:`._compiled`), which answer
only for a certificate that passes every check; any other certificate is read and checked here in Python, which
names what fails. Nothing here does I/O.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson

from provenance.core import eip712, ijson, merkle
from provenance.core.canonical import MalformedDocument, hex0x
from provenance.core.certificates._compiled import document_checks
from provenance.core.certificates.document import CertRecord, Inclusion, _Parsed
from provenance.core.certificates.parse import _parse
from provenance.core.certificates.property import PropertyNow, PropertyState, iso_time
from provenance.core.certificates.recognitions import recognitions_check
from provenance.core.ids import record_id
from provenance.errors import InvalidSignature, MalformedJson
from provenance.types import Status

CHECKS = ("format", "binding", "signature", "issuer_key", "key_valid", "record", "inclusion", "checkpoint",
          "lineage", "recognitions", "expiry", "term")
"""Every check a verification reports, in order. ``expiry`` is the certificate's validity; ``term`` the
registration's own (the data property register's terms): an expired registration fails it."""


# Ancestors that make a derived record unusable. A superseded ancestor is an older version, still valid lineage.
_BAD_ANCESTOR = {int(Status.REVOKED): "revoked", int(Status.SUSPENDED): "suspended",
                 int(Status.NONE): "unknown"}


# ---------------------------------------------------------------------- what verification consults


@dataclass(frozen=True)
class KeyInfo:
    """A registered key of an exchange: valid from block ``valid_from`` until ``valid_to`` (0: still valid)."""

    exchange: int
    valid_from: int
    valid_to: int

    def valid_at(self, block: int) -> bool:
        return self.valid_from <= block and (self.valid_to == 0 or block < self.valid_to)


class FederationView(Protocol):
    """What a verifier knows of the federation: from the chain and index (online) or a snapshot (offline)."""

    @property
    def mode(self) -> str: ...
    @property
    def chain_id(self) -> int: ...
    @property
    def registry(self) -> bytes: ...
    @property
    def head_block(self) -> int: ...
    @property
    def min_cosigners(self) -> int: ...

    def key(self, address: bytes) -> KeyInfo | None: ...
    def exchange_code(self, exchange: int) -> str | None: ...
    @property
    def member_count(self) -> int:
        """How many exchanges are members now (active: a removed exchange is a member no more)."""
        ...
    def is_member(self, exchange: int) -> bool:
        """Whether the exchange is a member now."""
        ...
    def anchored_root(self, exchange: int, tree_size: int) -> bytes | None: ...
    def record_status(self, rid: bytes) -> int:
        """The record's status as the view knows it (offline: ACTIVE unless the status list says otherwise)."""
        ...
    def record_leaf(self, rid: bytes) -> tuple[int, int, bytes] | None:
        """(registrar, leaf index, leaf hash) of a record the view holds, or None (offline: always None)."""
        ...

    # A view may also answer ``record_property(rid) -> PropertyNow | None``: the register's state of the record
    # now (the node's online view does). Views without it (a snapshot) judge the term as the certificate states
    # it; it is looked up with getattr, so views written before the register need nothing new.


# ---------------------------------------------------------------------- report


class Check(NamedTuple):
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    mode: str
    checks: tuple[Check, ...]
    credential_hash: bytes | None = None
    equivocations: tuple[dict[str, Any], ...] = ()
    # The record in the data property register beside what the certificate states (None: neither the
    # certificate nor the view says anything of it): "holder", "ownerChanged", "expiresAt", "expired",
    # "underDispute", "pledged", and "source" ("register": the view's state now; "certificate": as stated at
    # issuedBlock, which is all an offline verifier has).
    property_state: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "mode": self.mode,
                "credentialHash": hex0x(self.credential_hash) if self.credential_hash else None,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
                "equivocations": list(self.equivocations), "property": self.property_state}


def _respelled_proofs(doc: Any) -> list[int]:
    """The proofs whose proofValue is hex in upper or mixed case: the bytes the node writes (0x and lowercase hex)
    spelled another way. A proofValue is outside what is signed, so anyone could re-spell it and every signature
    would still verify: one certificate, several texts. A signature has one accepted encoding, as on-chain."""
    proofs = doc.get("proof") if isinstance(doc, dict) else None
    if not isinstance(proofs, list):
        return []
    return [i for i, p in enumerate(proofs)
            if isinstance(p, dict) and isinstance(v := p.get("proofValue"), str) and v != v.lower()]


_RESPELLED = "its proofValue is hex in upper case; a signature is written 0x and lowercase hex, its one encoding"


def verify_text(text: str | bytes, view: FederationView, *, now: int) -> Report:
    """Verify a certificate given as JSON text: anything that is not one I-JSON object (RFC 7493: a repeated key,
    which two readers could read as two different certificates, nesting beyond :data:`ijson.MAX_DEPTH`, a lone
    surrogate, NaN) fails ``format``, naming what, before any other check. (An integer beyond 2**53 - 1 fails
    ``format`` too, naming its path, when the credential hash is computed: no bound is asked of the reader, whose
    per-integer hook would cost a fifth of the parse.)"""
    try:
        doc = ijson.loads(text, what="the certificate")
    except MalformedJson as exc:
        return _malformed(view, exc.message)
    return verify(doc, view, now=now)


def _malformed(view: FederationView, why: str) -> Report:
    return Report(view.mode, tuple(
        Check(n, False, why if n == "format" else "not checked: the document is malformed") for n in CHECKS))


def verify(doc: Any, view: FederationView, *, now: int) -> Report:
    """Every check of :data:`CHECKS`, each reported by name with what it found."""
    report = _verify_fast(doc, view, now)
    if report is not None:
        return report
    return _verify_full(doc, view, now)


def _verify_fast(doc: Any, view: FederationView, now: int) -> Report | None:
    """The report of a certificate that passes every check, or None: then :func:`_verify_full` says what fails.

    The checks that need nothing but the document (its form, record ids, leaf hashes, inclusion proofs, the
    lineage's completeness, the credential hash and the digest the issuer signed) run compiled
    (:func:`._compiled.document_checks`, which answers None unless all of them hold, and always None without the
    compiled module); the checks that consult the view run here, with the same helpers as :func:`_verify_full`.
    A test holds the two to the same report for every certificate of the tamper matrix.
    """
    registry = bytes(view.registry)
    view_chain_id = view.chain_id
    core = document_checks(doc, view_chain_id, registry)
    if core is None:
        return None
    content, credential, digest, leaves, valid_from, valid_until, subject, checkpoints, state = core
    chain_id, doc_registry, issuer, code, _, valid_until_text, rec, lineage, _, key, block, sig, recs = content
    if chain_id != view_chain_id or doc_registry != registry or not valid_from <= now < valid_until:
        return None
    for proof in doc["proof"]:  # each a dict with a str proofValue: the compiled reader read them (_respelled_proofs)
        value = proof["proofValue"]
        if value != value.lower():
            return None
    try:
        if eip712.recover_address(digest, sig) != key:  # the certificate's own signature: seen once
            return None
    except InvalidSignature:
        return None
    mode = view.mode
    info = view.key(key)
    if info is None or info.exchange != issuer or view.exchange_code(issuer) != code or not info.valid_at(block) \
            or (mode == "online" and block > view.head_block):
        return None
    record_id_ = rec[0]
    if view.record_status(record_id_) != Status.ACTIVE:
        return None
    for r, leaf in zip((rec, *lineage), leaves, strict=True):
        held = view.record_leaf(r[0])
        if held is not None and held[2] != leaf:
            return None
    for r in lineage:
        if view.record_status(r[0]) in _BAD_ANCESTOR:
            return None
    for exchange, tree_size, root, signature, cosignatures in checkpoints:
        why, equivocations = _checkpoint_check(chain_id, registry, exchange, tree_size, root, signature, cosignatures,
                                               view)
        if why is not None or equivocations:
            return None
    if recs:
        try:
            recognitions = [
                (recognizer, signer, signature, hashlib.sha256(orjson.dumps(
                    {k: v for k, v in p.items() if k != "proofValue"}, option=orjson.OPT_SORT_KEYS)).digest())
                for (recognizer, signer, signature), p in zip(recs, doc["proof"][1:], strict=True)]
        except TypeError:
            return None
        ok, recognised = recognitions_check(recognitions, [p.get("created") for p in doc["proof"][1:]], chain_id,
                                            registry, credential, issuer, view, now)
        if not ok:
            return None
    else:
        recognised = "no partner recognitions"
    term, findings = _term(state, record_id_, rec[2], block, view, now)
    if not term.ok:
        return None
    passed = _passed
    return Report(mode, (
        _FORMAT_PASSED, _passed_binding(chain_id, registry), _passed_signature(key), _passed_issuer(issuer, code),
        passed("key_valid", f"valid at block {block}"), _passed_record(mode),
        passed("inclusion", f"leaf {subject[2]} of exchange {subject[1]}'s log at size {subject[4]}"),
        _passed_checkpoint(subject[4], subject[1], mode), _passed_lineage(len(lineage), mode),
        passed("recognitions", recognised), passed("expiry", f"valid until {valid_until_text}"), term,
    ), credential, (), findings)


# The passed checks of the fast path, with the details _verify_full gives them (a test compares the reports).
# Checks are immutable, so those that depend only on the deployment, the issuer or the mode are made once.


def _passed(name: str, detail: str) -> Check:
    return tuple.__new__(Check, (name, True, detail))


_FORMAT_PASSED = _passed("format", "well-formed VC 2.0 certificate")


@functools.lru_cache(maxsize=64)
def _passed_binding(chain_id: int, registry: bytes) -> Check:
    return _passed("binding", f"chain {chain_id}, registry {hex0x(registry)}")


@functools.lru_cache(maxsize=1024)
def _passed_signature(key: bytes) -> Check:
    return _passed("signature", f"EIP-712 signature by {hex0x(key)}")


@functools.lru_cache(maxsize=1024)
def _passed_issuer(issuer: int, code: str) -> Check:
    return _passed("issuer_key", f"a key of exchange {issuer} ({code})")


@functools.lru_cache(maxsize=8)
def _passed_record(mode: str) -> Check:
    return _passed("record", f"present and active ({mode})")


@functools.lru_cache(maxsize=1024)
def _passed_checkpoint(tree_size: int, exchange: int, mode: str) -> Check:
    return _passed("checkpoint", f"checkpoint {tree_size} of exchange {exchange} "
                                 f"{'anchored' if mode == 'online' else 'trusted'}")


@functools.lru_cache(maxsize=1024)
def _passed_lineage(ancestors: int, mode: str) -> Check:
    return _passed("lineage", f"{ancestors} ancestors, complete, included and active ({mode})")


def _verify_full(doc: Any, view: FederationView, now: int) -> Report:
    try:
        c = _parse(doc)
    except MalformedDocument as exc:
        return _malformed(view, str(exc))
    results: dict[str, Check] = {"format": Check("format", True, "well-formed VC 2.0 certificate")}
    equivocations: list[dict[str, Any]] = []

    def put(name: str, ok: bool, detail: str) -> None:
        results[name] = Check(name, ok, detail)

    # binding: this deployment, and nothing else
    if (c.chain_id, c.registry) != (view.chain_id, bytes(view.registry)):
        put("binding", False, f"issued for chain {c.chain_id} registry {hex0x(c.registry)}; this verifier is bound "
                              f"to chain {view.chain_id} registry {hex0x(view.registry)}")
    else:
        put("binding", True, f"chain {c.chain_id}, registry {hex0x(c.registry)}")

    # signature
    digest = eip712.certificate_digest(c.chain_id, c.registry, c.credential_hash, c.issuer, c.issued_block)
    try:
        signer = eip712.recover_signer(digest, c.signature)
        if signer != c.key:
            put("signature", False, f"signed by {hex0x(signer)}, not by the stated key {hex0x(c.key)}")
        else:
            put("signature", True, f"EIP-712 signature by {hex0x(c.key)}")
    except InvalidSignature as exc:
        put("signature", False, str(exc))
    respelled = _respelled_proofs(doc)
    if 0 in respelled:
        put("signature", False, f"the issuer's proof: {_RESPELLED}")

    # issuer_key / key_valid
    info = view.key(c.key)
    code = view.exchange_code(c.issuer)
    if info is None:
        put("issuer_key", False, f"{hex0x(c.key)} is not a registered key of any exchange")
        put("key_valid", False, "unknown key")
    else:
        if info.exchange != c.issuer:
            put("issuer_key", False, f"{hex0x(c.key)} belongs to exchange {info.exchange}, not the issuer {c.issuer}")
        elif code != c.issuer_code:
            put("issuer_key", False, f"exchange {c.issuer} is {code!r}, not {c.issuer_code!r}")
        else:
            put("issuer_key", True, f"a key of exchange {c.issuer} ({code})")
        if c.issued_block > view.head_block and view.mode == "online":
            put("key_valid", False, f"issued at block {c.issued_block}, beyond the chain head {view.head_block}")
        elif not info.valid_at(c.issued_block):
            until = f"until block {info.valid_to}" if info.valid_to else "on"
            put("key_valid", False, f"the key is valid from block {info.valid_from} {until}, not at the issuance "
                                    f"block {c.issued_block}")
        else:
            put("key_valid", True, f"valid at block {c.issued_block}")

    # record
    rec = c.record
    problems = _record_problems(rec, view)
    if rec.registrar != c.issuer:
        problems.append(f"registered by exchange {rec.registrar}, not by the issuer {c.issuer}")
    status = view.record_status(rec.id)
    if status != Status.ACTIVE:
        problems.append(f"the record is {Status(status).label} ({view.mode})")
    put("record", not problems, "; ".join(problems) or f"present and active ({view.mode})")

    # inclusion and checkpoint of the record itself
    inc = c.evidence.get(rec.id)
    if inc is None:
        put("inclusion", False, "no inclusion evidence for the record")
        put("checkpoint", False, "no checkpoint for the record")
    else:
        why = _inclusion_problem(rec, inc)
        put("inclusion", why is None, why or f"leaf {inc.leaf_index} of exchange {inc.exchange}'s log at size "
                                               f"{inc.tree_size}")
        why, equiv = _checkpoint_problem(inc, c, view)
        equivocations.extend(equiv)
        put("checkpoint", why is None, why or f"checkpoint {inc.tree_size} of exchange {inc.exchange} "
                                               f"{'anchored' if view.mode == 'online' else 'trusted'}")

    # lineage: complete, each ancestor included, anchored and active
    put("lineage", *_lineage(c, view, equivocations))

    # recognitions by partners
    ok, detail = _recognitions(c, doc, view, now)
    if any(respelled):
        ok, detail = False, "; ".join(f"recognition {i} (exchange {c.recognitions[i - 1][0]}): {_RESPELLED}"
                                      for i in respelled if i)
    put("recognitions", ok, detail)

    # expiry
    if now < c.valid_from:
        put("expiry", False, f"not valid before {c.valid_from_text}")
    elif now >= c.valid_until:
        put("expiry", False, f"expired at {c.valid_until_text}")
    elif c.valid_until <= c.valid_from:
        put("expiry", False, "validUntil is not after validFrom")
    else:
        put("expiry", True, f"valid until {c.valid_until_text}")

    # term: the registration's own, in the register now (online) or as the certificate states it
    term, findings = _term(c.property_state, rec.id, rec.owner, c.issued_block, view, now)
    results["term"] = term
    return Report(view.mode, tuple(results[n] for n in CHECKS), c.credential_hash, tuple(equivocations), findings)


def _term(state: PropertyState | None, rid: bytes, registered_owner: int, issued_block: int, view: FederationView,
          now: int) -> tuple[Check, dict[str, Any] | None]:
    """The ``term`` check and the report's ``property`` findings: the same for both verification paths.

    A transfer since issuance is a finding, not a failure: the certificate states the record as of its block, and
    that still holds. An expired registration fails: the register reads it as expired until it is renewed."""
    ask = getattr(view, "record_property", None)
    now_state: PropertyNow | None = ask(rid) if ask is not None else None
    stated_holder = state.holder if state is not None else registered_owner
    if now_state is not None:
        expires, source = now_state.expires_at, "register"
        findings: dict[str, Any] = {
            "source": source, "holder": now_state.holder, "ownerChanged": now_state.holder != stated_holder,
            "underDispute": now_state.under_dispute, "pledged": now_state.pledged}
    elif state is not None:
        expires, source = state.expires_at, "certificate"
        findings = {"source": source, "asOfBlock": issued_block, "holder": state.holder, "ownerChanged": False,
                    "underDispute": state.under_dispute, "pledged": bool(state.encumbrances)}
    else:
        return _passed("term", "no term stated"), None
    expired = expires != 0 and now >= expires
    findings.update(expiresAt=iso_time(expires) if expires else None, expired=expired)
    where = "in the register" if source == "register" else f"as stated at block {issued_block}"
    if expired:
        return Check("term", False, f"the registration expired at {iso_time(expires)} ({where}); it must be "
                                    f"renewed"), findings
    if expires:
        return _passed("term", f"the registration runs until {iso_time(expires)} ({where})"), findings
    return _passed("term", f"the registration has no term ({where})"), findings


def _record_problems(rec: CertRecord, view: FederationView) -> list[str]:
    problems = []
    if rec.registrar == 0:  # exchange ids start at 1; record_id refuses 0 (the readers refuse above 0xFFFF)
        problems.append(f"record {hex0x(rec.id)}: registrar 0 is not an exchange")
    elif record_id(rec.registrar, rec.content_hash) != rec.id:
        problems.append(f"record {hex0x(rec.id)}: the id does not match its registrar and content hash")
    held = view.record_leaf(rec.id)
    if held is not None and held[2] != rec.leaf_hash():
        problems.append(f"record {hex0x(rec.id)}: its fields differ from the registered record")
    return problems


def _inclusion_problem(rec: CertRecord, inc: Inclusion) -> str | None:
    leaf = rec.leaf_hash()
    if inc.exchange != rec.registrar:
        return f"the evidence names exchange {inc.exchange}'s log, but the record's registrar is {rec.registrar}"
    if inc.leaf_hash != leaf:
        return f"the evidence's leaf hash {hex0x(inc.leaf_hash)} is not the hash of the record's fields {hex0x(leaf)}"
    try:
        merkle.verify_inclusion(inc.leaf_index, inc.tree_size, leaf, inc.proof, inc.root)
    except merkle.MerkleError as exc:
        return f"inclusion proof of leaf {inc.leaf_index} at size {inc.tree_size}: {exc}"
    return None


@functools.lru_cache(maxsize=4096)
def _checkpoint_digest(chain_id: int, registry: bytes, exchange: int, tree_size: int, root: bytes) -> bytes:
    """Memoised: the records of one batch, and their certificates, share a checkpoint."""
    return eip712.checkpoint_digest(chain_id, registry, exchange, tree_size, root)


def _checkpoint_problem(inc: Inclusion, c: _Parsed, view: FederationView) -> tuple[str | None,
                                                                                 list[dict[str, Any]]]:
    return _checkpoint_check(c.chain_id, c.registry, inc.exchange, inc.tree_size, inc.root, inc.checkpoint_signature,
                             [(co.witness, co.signer, co.signature) for co in inc.cosignatures], view)


def _checkpoint_check(chain_id: int, registry: bytes, exchange: int, tree_size: int, root: bytes, signature: bytes,
                      cosignatures: Sequence[tuple[int, bytes, bytes]],
                      view: FederationView) -> tuple[str | None, list[dict[str, Any]]]:
    """What is wrong with a checkpoint (exchange, size, root) and its signatures, and any equivocation found."""
    # The exchange's own signed note over the checkpoint.
    digest = _checkpoint_digest(chain_id, registry, exchange, tree_size, root)
    try:
        signer = eip712.recover_signer(digest, signature)
    except InvalidSignature as exc:
        return f"the checkpoint's signature: {exc}", []
    key = view.key(signer)
    if key is None or key.exchange != exchange:
        return f"the checkpoint is signed by {hex0x(signer)}, not a key of exchange {exchange}", []
    anchored = view.anchored_root(exchange, tree_size)
    if anchored is not None and anchored != root:
        evidence = {"exchange": exchange, "treeSize": tree_size, "anchoredRoot": hex0x(anchored),
                    "signedRoot": hex0x(root), "signer": hex0x(signer), "signature": hex0x(signature)}
        return (f"equivocation: exchange {exchange} signed root {hex0x(root)} for size {tree_size}, "
                f"but anchored {hex0x(anchored)}"), [evidence]
    if anchored is not None:
        return None, []
    if view.mode == "online":
        return f"checkpoint {tree_size} of exchange {exchange} is not anchored on-chain", []
    # Offline and not in the snapshot: enough distinct partner witnesses must have cosigned it, each with a key
    # still valid in the snapshot, of an exchange still a member. A checkpoint the snapshot does not hold was
    # anchored after it, and witnesses cosign anchored checkpoints: a key the snapshot already shows retired (or an
    # exchange it shows removed) signed after that, or someone holding a leaked key did.
    witnesses = set()
    for witness, cosigner, cosignature in cosignatures:
        wkey = view.key(cosigner)
        if wkey is None or wkey.exchange != witness or witness == exchange or wkey.valid_to != 0 \
                or not view.is_member(witness):
            continue
        try:
            if eip712.recover_signer(digest, cosignature) == cosigner:
                witnesses.add(witness)
        except InvalidSignature:
            continue
    if len(witnesses) >= view.min_cosigners:
        return None, []
    return (f"checkpoint {tree_size} of exchange {exchange} is not in the snapshot and has "
            f"{len(witnesses)} valid partner cosignatures, fewer than {view.min_cosigners}"), []


def _lineage(c: _Parsed, view: FederationView, equivocations: list[dict[str, Any]]) -> tuple[bool, str]:
    by_id: dict[bytes, CertRecord] = {}
    for r in c.lineage:
        if r.id in by_id or r.id == c.record.id:
            return False, f"ancestor {hex0x(r.id)} is listed twice"
        by_id[r.id] = r
    problems: list[str] = []
    seen: set[bytes] = set()
    frontier = list(c.record.parents)
    while frontier:
        pid = frontier.pop()
        if pid in seen:
            continue
        seen.add(pid)
        anc = by_id.get(pid)
        if anc is None:
            problems.append(f"ancestor {hex0x(pid)} is missing")
            continue
        frontier.extend(anc.parents)
    extra = set(by_id) - seen
    if extra:
        problems.append(f"{len(extra)} listed ancestors are not in the record's lineage")
    if len(c.evidence) != c.evidence_count or set(c.evidence) != {c.record.id, *by_id}:
        problems.append("the inclusion evidence does not cover exactly the record and its ancestors")
    for anc in c.lineage:
        problems.extend(_record_problems(anc, view))
        st = view.record_status(anc.id)
        if st in _BAD_ANCESTOR:
            problems.append(f"ancestor {hex0x(anc.id)} is {_BAD_ANCESTOR[st]} ({view.mode})")
        inc = c.evidence.get(anc.id)
        if inc is None:
            continue
        why = _inclusion_problem(anc, inc)
        if why is None:
            why, equiv = _checkpoint_problem(inc, c, view)
            equivocations.extend(equiv)
        if why is not None:
            problems.append(f"ancestor {hex0x(anc.id)}: {why}")
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(c.lineage)} ancestors, complete, included and active ({view.mode})"


def _recognitions(c: _Parsed, doc: Any, view: FederationView, now: int) -> tuple[bool, str]:
    proofs = doc["proof"]  # the reader took it: a list whose items after the first are c.recognitions, in order
    created = [p.get("created") if isinstance(p, Mapping) else None for p in proofs[1:]]
    return recognitions_check(c.recognitions, created, c.chain_id, c.registry, c.credential_hash, c.issuer, view,
                              now)
