"""Pushing the node's checkpoints to C2SP witnesses (c2sp.org/tlog-witness), in the background.

After the node anchors a new checkpoint of its log (the index's latest anchor of its exchange grows), a thread
sends each witness of ``[tlog] witnesses`` an ``add-checkpoint`` request: the size it last cosigned (0 at first),
the consistency proof from that size, and the node's signed checkpoint. A 409 answers with the size the witness
has (``text/x.tlog.size``): the request is made again from that size, which is how a node that forgot (or never
knew) a witness's state catches up. The cosignature a witness answers with is checked against the witness's key
(the vkey given in the configuration, else the ``witness`` a provenance node reports at ``<prefix>/keys``) and
kept, so the node serves it with the checkpoint (services/tlog.TlogService.checkpoint).

Nothing here blocks the writer or a request: one daemon thread, each request bounded by ``[tlog] timeout``, at
most ``[tlog] retries`` attempts per witness and round, and a witness that failed is tried again only on the next
anchor or after :data:`RETRY_AFTER` seconds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from provenance.config import TlogConfig, Witness
from provenance.core import ijson, note, tlog
from provenance.errors import ProvenanceError
from provenance.services.tlog import TEXT, TlogService

log = logging.getLogger("provenance.tlog.push")

RETRY_AFTER = 30.0  # seconds before a witness that failed is tried again without a new anchor
MAX_ANSWER = 64 * 1024  # a cosignature line or a size is a few hundred bytes

# (method, url, body or None, timeout) -> (status, body); a transport failure raises WitnessUnreachable.
Transport = Callable[[str, str, bytes | None, float], tuple[int, bytes]]


class WitnessUnreachable(ProvenanceError):
    """Raised when a witness cannot be reached or does not answer in time."""


@dataclass(frozen=True)
class PushResult:
    """What one witness did with one checkpoint: ``cosigned`` (the line kept), ``refused`` (its status and
    message), ``unreachable``, or ``unverified`` (cosigned, but its line could not be checked, so not served)."""

    witness: str
    size: int
    outcome: str
    detail: str = ""


def http(method: str, url: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
    """One request with the standard library; the witness's URL is the configuration's, never a proxy's."""
    headers = {"Content-Type": TEXT} if body is not None else {"Accept": "application/json"}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as r:
            return int(r.status), r.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read(MAX_ANSWER)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WitnessUnreachable(f"{url}: {exc}") from exc


_SIZE = re.compile(rb"(0|[1-9][0-9]{0,19})\n")  # text/x.tlog.size: an ASCII decimal without leading zeroes


def _size(body: bytes) -> int | None:
    m = _SIZE.fullmatch(body)
    return int(m[1]) if m is not None and int(m[1]) < 2**64 else None


class CheckpointPusher:
    def __init__(self, svc: TlogService, cfg: TlogConfig, *, interval: float = 0.5,
                 transport: Transport = http) -> None:
        if svc.own is None:
            raise ProvenanceError("only an exchange's node has checkpoints to push")
        self.svc, self.cfg, self.interval, self.transport = svc, cfg, interval, transport
        self.own: int = svc.own
        self._sizes: dict[str, int] = {}  # what each witness last cosigned, as far as this process knows
        self._keys: dict[str, note.Verifier] = {}
        self._failed: dict[str, float] = {}  # witness -> monotonic time of its last failure
        self._last_anchor = -1
        self.results: list[PushResult] = []  # the last round's, for the operator and the tests
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the thread

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tlog-push", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # A request in flight ends within the configured timeout; the thread is a daemon past that.
            self._thread.join(timeout=self.cfg.timeout + 1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                anchor = self.svc.tiles.latest_anchor(self.own)
                size = anchor.tree_size if anchor is not None else 0
                now = time.monotonic()
                due = [w for w in self.cfg.witnesses if str(w) in self._failed
                       and now - self._failed[str(w)] >= RETRY_AFTER]
                if size > self._last_anchor:
                    self._last_anchor = size
                    self.push()
                elif due:
                    self.push(due)
            except ProvenanceError as exc:  # the index or the chain failed: try again on the next tick
                log.warning("pushing checkpoints to witnesses failed: %s", exc.message)

    # ------------------------------------------------------------------ one round

    def push(self, witnesses: tuple[Witness, ...] | list[Witness] | None = None) -> list[PushResult]:
        """Send the node's current signed checkpoint to each witness (every configured one by default)."""
        msg = self.svc.signed_checkpoint(self.own)
        cp = tlog.Checkpoint.from_text(note.parse(msg)[0])
        results = []
        for w in self.cfg.witnesses if witnesses is None else witnesses:
            r = self._push_one(w, cp, msg)
            if r.outcome in ("cosigned", "unverified"):
                self._failed.pop(str(w), None)
            else:
                self._failed[str(w)] = time.monotonic()
                log.warning("witness %s did not cosign size %d: %s %s", w.url, cp.size, r.outcome, r.detail)
            results.append(r)
        self.results = results
        self.rounds += 1
        return results

    def _push_one(self, w: Witness, cp: tlog.Checkpoint, msg: bytes) -> PushResult:
        old = self._sizes.get(str(w), 0)
        outcome = PushResult(w.url, cp.size, "unreachable", "no attempt made")
        for attempt in range(self.cfg.retries):
            if old > cp.size:
                return PushResult(w.url, cp.size, "refused",
                                  f"the witness cosigned size {old}, beyond this log's {cp.size}: a fork or a "
                                  f"rolled-back index")
            proof = [] if old in (0, cp.size) else self.svc.tiles.consistency_proof(self.own, old, cp.size)
            try:
                status, body = self.transport("POST", w.url + "/add-checkpoint",
                                              tlog.add_checkpoint_body(old, proof, msg), self.cfg.timeout)
            except WitnessUnreachable as exc:
                outcome = PushResult(w.url, cp.size, "unreachable", exc.message)
                if self._stop.wait(min(2.0 ** attempt * 0.1, self.cfg.timeout)):
                    break
                continue
            if status == 409:
                have = _size(body)
                if have is None:
                    return PushResult(w.url, cp.size, "refused", "a 409 without a text/x.tlog.size body")
                old = self._sizes[str(w)] = have
                outcome = PushResult(w.url, cp.size, "refused", f"409: the witness has size {have}")
                continue
            if status != 200:
                return PushResult(w.url, cp.size, "refused", f"{status}: {body[:200].decode('utf-8', 'replace')}")
            self._sizes[str(w)] = cp.size
            return self._keep(w, msg, body, cp.size)
        return outcome

    def _keep(self, w: Witness, msg: bytes, line: bytes, size: int) -> PushResult:
        try:
            key = self._witness_key(w)
            self.svc.keep_cosignature(key, msg, line)
        except (ProvenanceError, ValueError) as exc:
            why = exc.message if isinstance(exc, ProvenanceError) else str(exc)
            log.warning("witness %s cosigned size %d, but its line is not kept: %s", w.url, size, why)
            return PushResult(w.url, size, "unverified", why)
        return PushResult(w.url, size, "cosigned")

    def _witness_key(self, w: Witness) -> note.Verifier:
        key = self._keys.get(str(w))
        if key is None:
            vkey = w.vkey
            if not vkey:
                status, body = self.transport("GET", w.url + "/keys", None, self.cfg.timeout)
                # The witness's answer is outside input: the I-JSON reader, whose depth limit does not depend on
                # the recursion limit py_ecc raises (the stdlib decoder overflows the C stack on 64 KiB of '[').
                doc = ijson.loads(body, max_depth=4, max_bytes=MAX_ANSWER, what=f"witness {w.url}'s keys") \
                    if status == 200 else None
                vkey = doc.get("witness", "") if isinstance(doc, dict) else ""
                if not isinstance(vkey, str) or not vkey:
                    raise ProvenanceError(f"witness {w.url} names no cosignature key; give its vkey in [tlog]")
            key = note.Verifier.from_vkey(vkey)
            if key.sig_type != note.SIG_COSIGNATURE_V1:
                raise ProvenanceError(f"witness {w.url}'s key is not a tlog-cosignature/v1 key")
            self._keys[str(w)] = key
        return key
