"""Transparency logs and certificates, as the node's operations (mixed into
:class:`~provenance.services.operations.Operations`, which holds the node, its lock, its certifier and its log
queries)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from provenance.core import certificates as C
from provenance.core import ijson, vc_jose
from provenance.core.ids import hex0x, parse_hash32
from provenance.errors import Forbidden, InvalidInput, NotFound, VerificationError
from provenance.indexer.logs import LogQueries
from provenance.services.results.certificates import CertificateSummaryOut, RecognitionOut, ReportOut
from provenance.services.results.trust import AnchoredOut, AnchorOut, ConsistencyOut, LogOut, WitnessedOut

HIDDEN_CERTIFICATE = ("the certificate states an important- or core-grade record in full; reading it needs a member "
                      "credential (or, for a merchant, its own record)")

if TYPE_CHECKING:
    from provenance.services.certificates import Certifier
    from provenance.services.node import Node
    from provenance.store.keys import IndexedRecord


class TrustOperations:
    """What a partner checks an exchange by: its transparency log (anchors, proofs, witnesses) and the
    certificates it issues, verifies and recognises."""

    node: Node
    lock: threading.RLock
    certifier: Certifier
    logs: LogQueries

    if TYPE_CHECKING:  # provided by Operations
        @property
        def exchange_id(self) -> int: ...
        def signer(self, label: str | None = None) -> LocalAccount: ...
        def exchange_ref(self, ref: int | str) -> int: ...
        def codes(self, need: int | None = None) -> dict[int, str]: ...
        def indexed(self, record: bytes) -> IndexedRecord: ...

    # ------------------------------------------------------------------ transparency logs

    def log(self, ref: int | str, *, limit: int = 20) -> LogOut:
        ex = self.exchange_ref(ref)
        anchors = self.logs.anchors(ex, limit=1_000_000)
        return LogOut(exchange=ex, code=self.codes().get(ex), size=self.logs.size(ex),
                      root=hex0x(self.logs.root(ex)), anchors=len(anchors),
                      anchored=[AnchoredOut(**_anchor_json(a), cosignedBy=[c.witness for c in
                                                                        self.logs.cosignatures(ex, a.tree_size)])
                                for a in anchors[-limit:]])

    def anchor(self, signer: LocalAccount | None = None) -> AnchorOut:
        with self.lock:
            return AnchorOut(**_anchor_json(self.certifier.anchor_checkpoint(signer or self.signer())))

    def inclusion(self, record: bytes) -> dict[str, Any]:
        rec = self.indexed(record)
        anchor = self.logs.covering_anchor(rec.registrar, rec.leaf_index)
        if anchor is None:
            raise NotFound(f"record 0x{rec.id.hex()} is not under an anchored checkpoint yet")
        return {"record": hex0x(rec.id), "exchange": rec.registrar, "leafIndex": rec.leaf_index,
                "leafHash": hex0x(self.logs.leaf(rec.registrar, rec.leaf_index).leaf_hash), **_anchor_json(anchor),
                "proof": [hex0x(x) for x in self.logs.inclusion_proof(rec.registrar, rec.leaf_index,
                                                                       anchor.tree_size)]}

    def consistency(self, ref: int | str, size1: int, size2: int) -> ConsistencyOut:
        ex = self.exchange_ref(ref)
        return ConsistencyOut(exchange=ex, size1=size1, size2=size2,
                              root1=hex0x(self.logs.root_at(ex, size1)), root2=hex0x(self.logs.root_at(ex, size2)),
                              proof=[hex0x(x) for x in self.logs.consistency_proof(ex, size1, size2)])

    def witness(self, signer: LocalAccount | None = None) -> list[WitnessedOut]:
        with self.lock:
            done = self.certifier.witness(signer or self.signer())
        return [WitnessedOut(exchange=w.exchange, treeSize=w.tree_size, root=hex0x(w.root),
                             transaction=hex0x(w.tx_hash) if w.tx_hash else None, problem=w.problem) for w in done]

    # ------------------------------------------------------------------ certificates

    def issue(self, record: bytes, *, days: int = 365, signer: LocalAccount | None = None) -> dict[str, Any]:
        if not 1 <= days <= 3650:
            raise InvalidInput("a certificate is valid for 1 to 3650 days")
        with self.lock:
            doc = self.certifier.issue(record, signer or self.signer(), validity=days * 86400)
        self._keep_certificate(doc)
        return doc

    def _certificates_dir(self) -> Path:
        return self.node.config.data_dir / "certificates"

    def _keep_certificate(self, doc: dict[str, Any]) -> None:
        """Keep an issued certificate for download, by its credential hash (written whole or not at all)."""
        name = hex0x(C.credential_hash(doc))
        folder = self._certificates_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, folder / f"{name}.json")

    def certificate(self, credential_hash: bytes, *,
                    reveal: Callable[[IndexedRecord], bool] | bool = True) -> dict[str, Any]:
        """A certificate this node issued, by its credential hash: NotFound if it issued none, Forbidden if the
        caller may not see (``reveal``) every record it states in full."""
        path = self._certificates_dir() / f"{hex0x(credential_hash)}.json"
        try:
            doc = _read_certificate(path)
        except FileNotFoundError:
            raise NotFound(f"no certificate {hex0x(credential_hash)} was issued by this node") from None
        if not self._shows_certificate(doc, reveal):
            raise Forbidden(HIDDEN_CERTIFICATE)
        return doc

    def certificates(self, *, limit: int = 100,
                     reveal: Callable[[IndexedRecord], bool] | bool = True) -> list[CertificateSummaryOut]:
        """The latest ``limit`` certificates this node issued, newest first, less those the caller may not read
        (``reveal``, as :meth:`certificate`): each file is read once, for its summary and its check alike."""
        folder = self._certificates_dir()
        if not folder.exists():
            return []
        files = sorted(folder.glob("0x*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
        out = []
        for f in files:
            doc = _read_certificate(f)
            if not self._shows_certificate(doc, reveal):
                continue
            subject = doc.get("credentialSubject", {}).get("record", {})
            out.append(CertificateSummaryOut(credentialHash=f.stem, record=subject.get("id"),
                                             validFrom=doc.get("validFrom"), validUntil=doc.get("validUntil")))
        return out

    def _shows_certificate(self, doc: dict[str, Any], reveal: Callable[[IndexedRecord], bool] | bool) -> bool:
        """Whether a caller may read a certificate: it states its record and lineage in full (owner, hashes,
        rights), so only a caller who may see every one of them reads it. ``reveal=True`` is the node's operator
        (the CLI), who reads everything the node issued."""
        if reveal is True:
            return True
        show = reveal if callable(reveal) else (lambda _r: False)
        for record in certificate_records(doc):
            try:
                rec = self.indexed(record)
            except NotFound:  # a record this index does not hold: nothing says it may be shown
                return False
            if not show(rec):
                return False
        return True

    def verify(self, doc: Any, *, now: int | None = None) -> ReportOut:
        """Verify a certificate online, against this node's view of the chain (the report names each check)."""
        with self.lock:
            view = self.certifier.online_view()
        text = doc if isinstance(doc, str | bytes) else None
        report = C.verify_text(text, view, now=int(time.time()) if now is None else now) if text is not None \
            else C.verify(doc, view, now=int(time.time()) if now is None else now)
        for ev in report.equivocations:
            self.certifier.record_equivocation({"kind": "signed-root-differs-from-anchored", **ev})
        return ReportOut.model_validate(report.to_json())

    def verify_jwt(self, token: str, *, now: int | None = None) -> dict[str, Any]:
        """Verify a certificate given as a vc+jwt online: its JWS (:func:`provenance.core.vc_jose.verify`), then
        every check :meth:`verify` makes, on its payload (:func:`provenance.core.vc_jose.judge`).

        A JWS that does not verify is answered ``{"valid": false, "error", "detail"}`` alone: no one vouches for
        its payload. Otherwise the answer is the JWS's facts (issuer, key, issuedBlock, kid, credential) and the
        report of :meth:`verify` with the ``jose`` check first and ``byJose`` naming the checks the JWS made
        instead of an embedded proof; when a check fails, ``error`` is ``CertificateInvalid`` and ``detail``
        names the failed checks."""
        with self.lock:
            view = self.certifier.online_view()
        try:
            judged = vc_jose.judge(token, view, now=int(time.time()) if now is None else now)
        except VerificationError as exc:
            return {"valid": False, "error": type(exc).__name__, "detail": exc.message}
        report = judged.report
        for ev in report.equivocations:
            self.certifier.record_equivocation({"kind": "signed-root-differs-from-anchored", **ev})
        got = judged.verified
        out: dict[str, Any] = {
            **report.to_json(), "issuer": got.issuer, "key": hex0x(got.key),
            "issuedBlock": got.issued_block, "kid": got.header["kid"], "credential": got.credential,
            "byJose": list(vc_jose.BY_JOSE)}
        if not report.valid:
            out["error"] = "CertificateInvalid"
            out["detail"] = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
        return out

    @staticmethod
    def verify_offline(doc: Any, snapshot: Any, trusted: Sequence[bytes], *, now: int | None = None) -> ReportOut:
        from provenance.core.snapshot import SnapshotView

        view = SnapshotView(snapshot, list(trusted))
        when = int(time.time()) if now is None else now
        report = C.verify_text(doc, view, now=when) if isinstance(doc, str | bytes) else C.verify(doc, view, now=when)
        return ReportOut.model_validate(report.to_json())

    def trusted_keys(self, exchange: int | None = None) -> list[bytes]:
        with self.lock:
            return self.certifier.trusted_keys(self.exchange_id if exchange is None else exchange)

    def recognize(self, doc: Any, *, on_chain: bool = True, signer: LocalAccount | None = None) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise InvalidInput("a certificate is a JSON object")
        with self.lock:
            return self.certifier.recognize(doc, signer or self.signer(), on_chain=on_chain)

    def recognitions(self, credential_hash: bytes) -> list[RecognitionOut]:
        return [RecognitionOut(recognizer=ex, recognizerCode=self.codes().get(ex), block=block, record=hex0x(rid),
                               issuer=issuer)
                for ex, block, rid, issuer in self.logs.recognitions(credential_hash)]

    def snapshot(self, *, anchor: bool = True, signer: LocalAccount | None = None) -> dict[str, Any]:
        with self.lock:
            return self.certifier.snapshot(signer or self.signer(), anchor=anchor)


def _read_certificate(path: Path) -> dict[str, Any]:
    """A kept certificate (FileNotFoundError if there is none)."""
    return ijson.loads(path.read_bytes(), what=f"the kept certificate {path.name}")  # type: ignore[no-any-return]


def certificate_records(doc: dict[str, Any]) -> list[bytes]:
    """The ids of the records a certificate of this node states in full: its subject and every ancestor."""
    subject = doc.get("credentialSubject") or {}
    found = [subject.get("record") or {}, *(subject.get("lineage") or [])]
    return [parse_hash32(r["id"], "record id") for r in found if isinstance(r, dict) and isinstance(r.get("id"), str)]


def _anchor_json(a: Any) -> dict[str, Any]:
    return {"treeSize": a.tree_size, "root": hex0x(a.root), "block": a.block, "consistent": a.consistent,
            "transaction": hex0x(a.tx_hash)}
