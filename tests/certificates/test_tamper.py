"""The tamper matrix: every single-field change, every proof corruption, every bad signature, key and binding is
rejected, with the right check named. A valid certificate passes first, so none of these passes vacuously."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from provenance.core import certificates as C
from provenance.core import merkle
from provenance.core.eip712 import SECP256K1_N
from provenance.types import Status
from tests.support.certificates import World, make_world
from tests.support.federation import addr

Doc = dict[str, Any]


FAST_REPORTS: list[C.Report] = []


def verify(doc: Any, view: C.FederationView, now: int | None = None) -> C.Report:
    """C.verify, held to the Python verifier: the compiled fast path gives a report only for a certificate that
    passes every check, and then the very report the Python verifier gives."""
    now = now if now is not None else _now(doc)
    report = C.verify(doc, view, now=now)
    assert report == C._verify_full(doc, view, now)
    fast = C._verify_fast(doc, view, now)
    if fast is not None:
        assert fast == report and report.valid
        FAST_REPORTS.append(fast)
    return report


def _now(doc: Any) -> int:
    return C._parse_iso(doc["validFrom"], "$") + 60 if isinstance(doc, dict) and "validFrom" in doc else 0


def test_the_valid_certificate_passes_online_and_offline(world: World, cert: Doc, view: C.FederationView) -> None:
    report = verify(cert, view)
    assert report.valid, report.to_json()
    assert [c.name for c in report.checks] == list(C.CHECKS)
    assert C._verify_fast(cert, view, _now(cert)) == report  # the compiled path runs for a valid certificate
    snap = world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)
    offline = world.certifier.verify_offline(cert, snap, world.certifier.trusted_keys(2), now=_now(cert))
    assert offline.valid, offline.to_json()
    assert len(cert["credentialSubject"]["lineage"]) == 2


# ---------------------------------------------------------------------- every single-field change, unsigned


def _scalars(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _scalars(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _scalars(v, (*path, i))
    else:
        yield path, value


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        last = value[-1]
        return value[:-1] + ("1" if last != "1" else "2")
    return value + "x"


def _set(doc: Doc, path: tuple[Any, ...], value: Any) -> Doc:
    out = copy.deepcopy(doc)
    target: Any = out
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return out


_LABELS = {"kind", "grade", "source", "status", "@context", "type", "proofPurpose", "verificationMethod",
           "validFrom", "validUntil"}


def _expected(path: tuple[Any, ...], value: Any) -> str:
    """Which check must catch a change at ``path``."""
    if path[0] == "proof" and path[1] != 0:
        return "format" if path[2] in ("proofPurpose", "verificationMethod") else "recognitions"
    if path[:3] == ("proof", 0, "verificationMethod"):
        return "format" if not isinstance(value, str) or not value.endswith("Id") else "signature"
    if path[:2] == ("evidence", 0) and path[2] == "type":
        return "format"
    if path[:2] == ("evidence", 0) and path[2] in ("chainId", "registry"):
        return "binding"
    if path[0] == "evidence" and path[-1] == "type":
        return "format"
    if path == ("@context", 0) or path[0] == "type":
        return "format"
    name = next((p for p in reversed(path) if isinstance(p, str)), "")
    if name in ("kind", "grade", "source", "status", "validFrom", "validUntil", "proofPurpose"):
        return "format"
    if name == "rights" and value >= 7:
        return "format"
    return "signature"


def _cases(doc: Doc) -> list[tuple[tuple[Any, ...], Any]]:
    return list(_scalars(doc))


def test_every_single_field_change_is_rejected(cert: Doc, view: C.FederationView) -> None:
    cases = _cases(cert)
    assert len(cases) > 100
    missed = []
    for path, value in cases:
        if path[:2] == ("proof", 0) and path[2] == "verificationMethod":
            # A different address in the DID: the signature no longer recovers to it.
            mutated = _set(cert, path, value.replace("0x", "0x0", 1)[:-len("#blockchainAccountId") - 1]
                           + "#blockchainAccountId")
        elif path[:2] == ("proof", 0) and path[2] == "issuedBlock":
            mutated = _set(cert, path, value - 1)
        else:
            mutated = _set(cert, path, _mutate(value))
        report = verify(mutated, view, now=_now(cert))
        want = _expected(path, value)
        if report.valid or want not in report.failed:
            missed.append((path, want, report.failed))
    assert not missed, missed[:5]


def test_garbage_around_the_document_fails_format(cert: Doc, view: C.FederationView) -> None:
    text = json.dumps(cert)
    for bad in ("x" + text, text + "}", text[:-1], "", "[]", "null"):
        report = C.verify_text(bad, view, now=_now(cert))
        assert report.failed[0] == "format" and not report.valid


# ---------------------------------------------------------------------- forgeries signed by the issuer itself


def _forge(world: World, cert: Doc, change: Callable[[Doc], None], *, key: Any = None) -> Doc:
    doc = copy.deepcopy(cert)
    doc["proof"] = [{k: v for k, v in doc["proof"][0].items() if k != "proofValue"}]
    change(doc)
    signer = key or world.fed.keys["SDE"]
    if key is not None:
        doc["proof"][0]["verificationMethod"] = C.did_pkh(world.fed.chain.chain_id, addr(signer))
    return C.sign(doc, bytes(signer.key))


def _subject_evidence(doc: Doc) -> dict[str, Any]:
    rid = doc["credentialSubject"]["record"]["id"]
    return next(e for e in doc["evidence"][1:] if e["record"] == rid)


def _hx(b: bytes) -> str:
    return "0x" + b.hex()


def _flip(hexstr: str, bit: int) -> str:
    raw = bytearray(bytes.fromhex(hexstr[2:]))
    raw[bit // 8] ^= 1 << (bit % 8)
    return _hx(bytes(raw))


def _proof_corruptions(doc: Doc) -> Iterator[tuple[str, Callable[[Doc], None]]]:
    ev = _subject_evidence(doc)
    n = len(ev["proof"])
    assert n >= 1

    def on(fn: Callable[[dict[str, Any]], None]) -> Callable[[Doc], None]:
        return lambda d: fn(_subject_evidence(d))

    yield "index+1", on(lambda e: e.__setitem__("leafIndex", e["leafIndex"] + 1))
    if ev["leafIndex"] > 0:
        yield "index-1", on(lambda e: e.__setitem__("leafIndex", e["leafIndex"] - 1))
    yield "size*2", on(lambda e: e.__setitem__("treeSize", e["treeSize"] * 2))
    yield "size/2", on(lambda e: e.__setitem__("treeSize", e["treeSize"] // 2))
    yield "wrong leaf", on(lambda e: e.__setitem__("leafHash", _flip(e["leafHash"], 0)))
    yield "wrong root", on(lambda e: e.__setitem__("root", _flip(e["root"], 255)))
    for i in range(n):
        for bit in (0, 77, 255):
            yield f"element {i} bit {bit}", on(lambda e, i=i, bit=bit: e["proof"].__setitem__(i, _flip(e["proof"][i],
                                                                                                       bit)))
        yield f"element {i} removed", on(lambda e, i=i: e["proof"].pop(i))
        yield f"garbage before element {i}", on(lambda e, i=i: e["proof"].__setitem__(i, "0x00" + e["proof"][i][2:]))
        yield f"garbage after element {i}", on(lambda e, i=i: e["proof"].__setitem__(i, e["proof"][i] + "00"))
    yield "element added at the end", on(lambda e: e["proof"].append(_hx(bytes(32))))
    yield "element added at the start", on(lambda e: e["proof"].insert(0, _hx(bytes(32))))


def test_every_proof_corruption_is_rejected_by_inclusion(world: World, cert: Doc, view: C.FederationView) -> None:
    cases = list(_proof_corruptions(cert))
    assert len(cases) >= 12
    for name, change in cases:
        report = verify(_forge(world, cert, change), view)
        assert "inclusion" in report.failed, (name, report.failed)
        assert "signature" not in report.failed, name  # the issuer signed it: only the proof is wrong


def test_a_node_offered_as_a_leaf_is_rejected(world: World, cert: Doc, view: C.FederationView) -> None:
    ev = _subject_evidence(cert)
    index, size = ev["leafIndex"], ev["treeSize"]
    leaves = [world.certifier.logs.leaf(ev["exchange"], i).leaf_hash for i in range(size)]
    assert size >= 2 and 0 <= index < size
    # Every interior node one level above the leaves, each with its proof in the tree of that level. Taking them
    # all, not only the one over the subject's leaf, means the case runs whatever the tree's shape: the last leaf
    # of an odd tree has no sibling, but a tree of two leaves or more always has a node over a pair.
    level_up = [merkle.node_hash(leaves[i], leaves[i + 1]) if i + 1 < size else leaves[i]
                for i in range(0, size, 2)]
    assert merkle.root(level_up) == merkle.root(leaves)  # the nodes really are in the tree
    pairs = range(0, size - 1, 2)
    assert len(pairs) == size // 2 >= 1
    for pair in pairs:
        node = merkle.node_hash(leaves[pair], leaves[pair + 1])
        path = merkle.inclusion_proof(pair // 2, level_up)
        assert merkle.root_from_inclusion(pair // 2, len(level_up), node, path) == merkle.root(leaves)

        def change(d: Doc, node: bytes = node, at: int = pair // 2, path: list[bytes] = path) -> None:
            e = _subject_evidence(d)
            e.update(leafHash=_hx(node), leafIndex=at, treeSize=len(level_up), proof=[_hx(p) for p in path])

        report = verify(_forge(world, cert, change), view)
        assert "inclusion" in report.failed, (pair, report.failed)


@pytest.mark.parametrize(("name", "check"), [
    ("record grade", "inclusion"), ("record owner", "record"), ("ancestor removed", "lineage"),
    ("ancestor proof", "lineage"), ("ancestor grade", "lineage"), ("other chain id", "binding"),
    ("other registry", "binding"), ("validity reversed", "expiry"), ("issued before the key", "key_valid"),
    ("issued after the head", "key_valid"), ("checkpoint signed by another exchange", "checkpoint"),
    ("checkpoint not anchored", "checkpoint"), ("issuer code", "issuer_key"), ("record registrar 0", "record"),
    ("ancestor registrar 0", "lineage"),
])
def test_issuer_signed_lies_are_caught(world: World, cert: Doc, view: C.FederationView, name: str,
                                       check: str) -> None:
    other = world.fed.keys["ZJDE"]

    def change(d: Doc) -> None:
        subj = d["credentialSubject"]
        if name == "record grade":
            subj["record"]["grade"] = "important"
        elif name == "record owner":
            subj["record"]["owner"] += 1
        elif name == "ancestor removed":
            gone = subj["lineage"].pop()
            d["evidence"] = [e for e in d["evidence"] if e.get("record") != gone["id"]]
        elif name == "ancestor proof":
            anc = subj["lineage"][0]["id"]
            e = next(e for e in d["evidence"][1:] if e["record"] == anc)
            e["leafIndex"] += 1
        elif name == "ancestor grade":
            subj["lineage"][0]["grade"] = "core"
        elif name == "other chain id":
            d["evidence"][0]["chainId"] += 1
            d["proof"][0]["verificationMethod"] = C.did_pkh(d["evidence"][0]["chainId"], addr(world.fed.keys["SDE"]))
        elif name == "other registry":
            d["evidence"][0]["registry"] = _flip(d["evidence"][0]["registry"], 3)
        elif name == "validity reversed":
            d["validUntil"] = d["validFrom"]
        elif name == "issued before the key":
            d["proof"][0]["issuedBlock"] = 0
        elif name == "issued after the head":
            d["proof"][0]["issuedBlock"] = 10**9
        elif name == "checkpoint signed by another exchange":
            from provenance.core import eip712
            e = _subject_evidence(d)
            digest = eip712.checkpoint_digest(world.fed.chain.chain_id, world.fed.contracts.deployment.registry,
                                              e["exchange"], e["treeSize"], bytes.fromhex(e["root"][2:]))
            e["checkpointSignature"] = _hx(eip712.sign_digest(digest, bytes(other.key)))
        elif name == "checkpoint not anchored":
            # A bigger tree (one more leaf) the exchange signed but never anchored, with a valid proof for it.
            from provenance.core import eip712
            e = _subject_evidence(d)
            size = e["treeSize"] + 1
            leaves = [world.certifier.logs.leaf(e["exchange"], i).leaf_hash for i in range(size - 1)]
            leaves.append(bytes(32))
            root = merkle.root(leaves)
            assert world.fed.contracts.call("Registry", "anchoredRoot", e["exchange"], size)[0] == bytes(32)
            digest = eip712.checkpoint_digest(world.fed.chain.chain_id, world.fed.contracts.deployment.registry,
                                              e["exchange"], size, root)
            e.update(treeSize=size, root=_hx(root),
                     proof=[_hx(p) for p in merkle.inclusion_proof(e["leafIndex"], leaves)],
                     checkpointSignature=_hx(eip712.sign_digest(digest, bytes(world.fed.keys["SDE"].key))))
        elif name == "issuer code":
            d["issuer"]["code"] = "ZJDE"
        elif name == "record registrar 0":  # no exchange has id 0: a report, not an exception
            subj["record"]["registrar"] = 0
        elif name == "ancestor registrar 0":
            subj["lineage"][0]["registrar"] = 0

    doc = _forge(world, cert, change)
    report = verify(doc, view, now=_now(doc) if name != "validity reversed" else _now(cert))
    assert check in report.failed, (name, report.to_json())
    assert "signature" not in report.failed, name


# ---------------------------------------------------------------------- signatures and keys


def test_high_s_and_compact_signatures_are_refused(cert: Doc, view: C.FederationView) -> None:
    sig = bytes.fromhex(cert["proof"][0]["proofValue"][2:])
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    high = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # the malleable twin
    y_parity = v - 27
    compact = r + ((y_parity << 255) | s).to_bytes(32, "big")  # EIP-2098
    for bad in (high, compact, sig + b"\x00", sig[:64] + bytes([v + 2])):
        doc = copy.deepcopy(cert)
        doc["proof"][0]["proofValue"] = _hx(bad)
        report = verify(doc, view)
        assert report.failed == ["signature"], report.failed


def test_a_key_of_another_exchange_is_refused(world: World, cert: Doc, view: C.FederationView) -> None:
    doc = _forge(world, cert, lambda d: None, key=world.fed.keys["ZJDE"])
    report = verify(doc, view)
    assert "issuer_key" in report.failed and "signature" not in report.failed


def test_an_unregistered_key_is_refused(world: World, cert: Doc, view: C.FederationView) -> None:
    doc = _forge(world, cert, lambda d: None, key=Account.create())
    report = verify(doc, view)
    assert {"issuer_key", "key_valid"} <= set(report.failed)


def test_a_forged_recognition_is_refused(world: World, cert: Doc, view: C.FederationView) -> None:
    doc = copy.deepcopy(cert)
    doc["proof"][1]["recognizer"] = 3  # ZJDE's signature claimed as AHDE's
    assert verify(doc, view).failed == ["recognitions"]


def test_expired_and_premature_certificates_fail_expiry(cert: Doc, view: C.FederationView) -> None:
    until = C._parse_iso(cert["validUntil"], "$")
    start = C._parse_iso(cert["validFrom"], "$")
    assert verify(cert, view, now=until).failed == ["expiry"]
    assert verify(cert, view, now=start - 1).failed == ["expiry"]


class _OtherDeployment:
    def __init__(self, inner: C.FederationView, chain_id: int | None = None, registry: bytes | None = None) -> None:
        self._inner = inner
        self.mode = inner.mode
        self.chain_id = chain_id if chain_id is not None else inner.chain_id
        self.registry = registry if registry is not None else inner.registry
        self.head_block = inner.head_block
        self.min_cosigners = inner.min_cosigners

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_certificate_is_bound_to_its_chain_and_contract(cert: Doc, view: C.FederationView) -> None:
    assert "binding" in verify(cert, _OtherDeployment(view, chain_id=view.chain_id + 1)).failed  # type: ignore[arg-type]
    assert "binding" in verify(cert, _OtherDeployment(view, registry=bytes(20))).failed  # type: ignore[arg-type]


# ---------------------------------------------------------------------- revocation


def test_revocation_fails_online_at_once_and_offline_with_the_next_snapshot(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        cert = w.certifier.issue(w.product, w.fed.keys["SDE"])
        trusted = w.certifier.trusted_keys(2)
        old_snapshot = w.certifier.snapshot(w.fed.keys["ZJDE"])
        now = _now(cert)
        assert w.certifier.verify_online(cert, now=now).valid
        # The batched ancestor at ZJDE is revoked (a batched status request, judged by every index).
        w.fed.contracts.transact(w.fed.keys["ZJDE"], "Registry", "setBatchedStatus", w.resource_b,
                                 int(Status.REVOKED), bytes(32))
        online = w.certifier.verify_online(cert, now=now)
        assert online.failed == ["lineage"], online.to_json()
        assert w.certifier.verify_offline(cert, old_snapshot, trusted, now=now).valid  # not yet known offline
        new_snapshot = w.certifier.snapshot(w.fed.keys["ZJDE"])
        assert w.certifier.verify_offline(cert, new_snapshot, trusted, now=now).failed == ["lineage"]
        # The status list's hash is anchored on-chain.
        lists = w.certifier.logs.status_lists(2)
        assert lists and lists[-1][2].hex() == new_snapshot["statusList"]["hash"][2:]
        # Revoking the subject itself (a batched record of SDE) fails the record check.
        w.fed.contracts.transact(w.fed.keys["SDE"], "Registry", "setBatchedStatus", w.product,
                                 int(Status.SUSPENDED), bytes(32))
        assert "record" in w.certifier.verify_online(cert, now=now).failed
    finally:
        w.close()


def test_a_revoked_key_fails_online_at_once(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        svc, old = w.fed.svc, w.fed.keys["SDE"]
        new = Account.create()
        svc.add_key(old, new)
        cert = w.certifier.issue(w.product, old)
        now = _now(cert)
        assert w.certifier.verify_online(cert, now=now).valid
        svc.revoke_key(new, addr(old))
        # Signed before the revocation: still valid (key history); the key itself is retired.
        assert w.certifier.verify_online(cert, now=now).valid
        # The retired key signing after its revocation fails key_valid.
        late = _forge(w, cert, lambda d: d["proof"][0].__setitem__("issuedBlock", w.fed.chain.block_number()),
                      key=old)
        assert w.certifier.verify_online(late, now=now).failed == ["key_valid"]
        # The new key issues fresh certificates that verify.
        assert w.certifier.verify_online(w.certifier.issue(w.product, new), now=now).valid
    finally:
        w.close()


def test_snapshots_are_trusted_only_from_trusted_signers(world: World, cert: Doc) -> None:
    from provenance.core.snapshot import UntrustedSnapshot

    snap = world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)
    with pytest.raises(UntrustedSnapshot, match="does not trust"):
        world.certifier.verify_offline(cert, snap, world.certifier.trusted_keys(3))
    tampered = copy.deepcopy(snap)
    tampered["exchanges"][0]["keys"].append({"address": _hx(bytes(20)), "validFrom": 0, "validTo": 0})
    with pytest.raises(UntrustedSnapshot):
        world.certifier.verify_offline(cert, tampered, world.certifier.trusted_keys(2))
