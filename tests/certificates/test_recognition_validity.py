"""A partner's recognition counts only while it stands, and a certificate padded with recognitions is refused
before any of them is checked.

A recognition carries no block: it counts only if the recognizer is a member and its key is valid now (not retired
on chain, or in the snapshot offline). One that no longer stands (the partner rotated its key, or left) is not
counted and the report says so, but the certificate stays valid, and another exchange can still recognise it. One
that never stood fails ``recognitions``: a ``created`` time in the future or none, another signer. Recognitions
are outside what the issuer signed, so anyone can append them: a repeated recognizer, the issuer, or more
recognitions than the federation has other members fail ``recognitions`` with no signature recovered, and a
non-member is not counted without one. Offline, a witness's cosignature counts only from a key the snapshot still
holds valid. Each report is held to the compiled fast path's, as in the tamper matrix.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.core import certificates as C
from provenance.core import eip712
from provenance.core.canonical import hex0x, in_canonical_order, sha256_json
from provenance.core.certificates.recognitions import RECOGNITION_SKEW
from provenance.core.snapshot import SnapshotView
from tests.support.certificates import World, make_world
from tests.support.certificates import verify_both_paths as verify
from tests.support.federation import addr, request

Doc = dict[str, Any]


def recognise(doc: Doc, recognizer: int, account: LocalAccount, created: Any) -> Doc:
    """The document with a recognition appended whose ``created`` is written as given (C.add_recognition takes a
    time in seconds), correctly signed by ``account``: only the date can be at fault."""
    chain_id = doc["evidence"][0]["chainId"]
    registry = bytes.fromhex(doc["evidence"][0]["registry"][2:])
    options = {"type": C.PROOF_TYPE, "proofPurpose": "recognition", "recognizer": recognizer,
               "verificationMethod": C.did_pkh(chain_id, addr(account)), "created": created}
    digest = eip712.recognition_digest(chain_id, registry, C.credential_hash(doc), recognizer, sha256_json(options))
    out = copy.deepcopy(doc)
    out["proof"].append(in_canonical_order({**options,
                                            "proofValue": hex0x(eip712.sign_digest(digest, bytes(account.key)))}))
    return out


def recognitions(report: C.Report) -> str:
    return report.check("recognitions").detail


@dataclass
class Revoked:
    old: LocalAccount  # ZJDE's first key: it recognised the certificate, then ZJDE revoked it
    new: LocalAccount  # the key ZJDE carries on with
    revoked_at: int
    before: Doc  # the issued certificate as the old key recognised it, before the revocation
    snapshot_before: Doc  # signed by SDE before the revocation
    snapshot_after: Doc  # and after it
    trusted: list[bytes]


@pytest.fixture(scope="module")
def revoked(world: World, issued: Doc) -> Revoked:
    svc, old = world.fed.svc, world.fed.keys["ZJDE"]
    new = Account.create()
    svc.add_key(old, new)
    before = world.certifier.recognize(issued, old, on_chain=False)
    assert world.certifier.verify_online(before).valid
    snapshot_before = world.certifier.snapshot(world.fed.keys["SDE"], anchor=False)
    svc.revoke_key(new, addr(old))
    revoked_at = svc.key(addr(old)).valid_to
    assert revoked_at > 0
    snapshot_after = world.certifier.snapshot(world.fed.keys["SDE"], anchor=False)
    return Revoked(old, new, revoked_at, before, snapshot_before, snapshot_after, world.certifier.trusted_keys(1))


def _retired(r: Revoked) -> str:
    return (f"0 partner recognitions; not counted: recognition 1 (exchange 2): its key {hex0x(addr(r.old))} was "
            f"retired at block {r.revoked_at} (the exchange may recognise the certificate again)")


# ---------------------------------------------------------------------- a revoked key


def test_a_recognition_by_a_revoked_key_is_not_counted_online(world: World, issued: Doc, revoked: Revoked) -> None:
    # The certificate stays valid (a partner rotating its key does not make what it recognised false), but the
    # recognition no longer counts, and the report says which and why.
    now = int(time.time())
    view = world.certifier.online_view()
    report = verify(revoked.before, view, now)
    assert report.valid and recognitions(report) == _retired(revoked), report.to_json()
    assert recognitions(world.certifier.verify_online(revoked.before, now=now)) == _retired(revoked)
    # Made after the revocation with the leaked key: not counted either; dated ahead as well, it fails for that.
    late = C.add_recognition(issued, 2, addr(revoked.old), bytes(revoked.old.key), now)
    assert recognitions(verify(late, view, now)) == _retired(revoked)
    ahead = C.add_recognition(issued, 2, addr(revoked.old), bytes(revoked.old.key), now + 3600)
    failed = verify(ahead, view, now)
    assert failed.failed == ["recognitions"] and recognitions(failed).endswith("in the future")
    # The key ZJDE carries on with recognises it again.
    again = world.certifier.recognize(issued, revoked.new, on_chain=False)
    assert verify(again, view, now).valid
    assert recognitions(verify(again, view, now)) == "1 partner recognitions"


def test_a_third_exchange_recognises_a_certificate_holding_a_stale_recognition(world: World,
                                                                              revoked: Revoked) -> None:
    now = int(time.time())
    third = world.certifier.recognize(revoked.before, world.fed.keys["AHDE"], on_chain=False)
    report = verify(third, world.certifier.online_view(), now)
    assert report.valid and recognitions(report).startswith("1 partner recognitions; not counted: recognition 1 "
                                                            "(exchange 2): its key")


def test_a_recognition_by_a_revoked_key_is_not_counted_offline_once_the_snapshot_says_so(issued: Doc,
                                                                                        revoked: Revoked) -> None:
    now = int(time.time())
    after = SnapshotView(revoked.snapshot_after, revoked.trusted)
    report = verify(revoked.before, after, now)
    assert report.mode == "offline" and report.valid, report.to_json()
    assert recognitions(report) == _retired(revoked)
    # A snapshot taken before the revocation still holds the key valid.
    before = verify(revoked.before, SnapshotView(revoked.snapshot_before, revoked.trusted), now)
    assert before.valid and recognitions(before) == "1 partner recognitions"
    again = C.add_recognition(issued, 2, addr(revoked.new), bytes(revoked.new.key), now)
    assert recognitions(verify(again, after, now)) == "1 partner recognitions"


# ---------------------------------------------------------------------- created: a date, not in the future


def test_a_recognition_created_in_the_future_or_at_no_date_fails(world: World, issued: Doc,
                                                                  revoked: Revoked) -> None:
    now = int(time.time())
    views = (world.certifier.online_view(), SnapshotView(revoked.snapshot_after, revoked.trusted))
    new = revoked.new
    # The helper writes what add_recognition writes.
    assert recognise(issued, 2, new, C.iso_time(now)) == C.add_recognition(issued, 2, addr(new), bytes(new.key), now)
    for view in views:
        assert verify(C.add_recognition(issued, 2, addr(new), bytes(new.key), now + RECOGNITION_SKEW), view,
                      now).valid  # within the clock skew
        ahead = C.iso_time(now + RECOGNITION_SKEW + 1)
        report = verify(recognise(issued, 2, new, ahead), view, now)
        assert report.failed == ["recognitions"]
        assert recognitions(report) == f"recognition 1 (exchange 2): created at {ahead}, in the future"
        for created in ("2026-02-30T00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-01-01 00:00:00Z", "yesterday", 0,
                        None):
            report = verify(recognise(issued, 2, new, created), view, now)
            assert report.failed == ["recognitions"], (created, report.to_json())
            assert recognitions(report) == ("recognition 1 (exchange 2): its created time is not an XML Schema "
                                            "dateTime like 2026-01-01T00:00:00Z"), created
        no_date = recognise(issued, 2, new, C.iso_time(now))
        del no_date["proof"][1]["created"]
        assert verify(no_date, view, now).failed == ["recognitions"]


# ---------------------------------------------------------------------- refused before any recovery


class Counting:
    """The view, counting its key lookups."""

    def __init__(self, view: Any) -> None:
        self._view = view
        self.keys: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)

    def key(self, address: bytes) -> C.KeyInfo | None:
        self.keys.append(bytes(address))
        return self._view.key(address)  # type: ignore[no-any-return]


@pytest.fixture
def recoveries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """The digests of every signature recovery the checks make (the issuer's own is recovered apart)."""
    seen: list[bytes] = []
    real = eip712.recover_signer

    def counting(digest: bytes, signature: bytes) -> bytes:
        seen.append(digest)
        return real(digest, signature)

    monkeypatch.setattr(eip712, "recover_signer", counting)
    yield seen


def _costs(doc: Doc, view: Any, now: int, seen: list[bytes]) -> tuple[C.Report, tuple[int, int], tuple[int, int]]:
    """The report, and the recoveries and key lookups the fast path and the full one each took over it."""
    report = verify(doc, view, now)
    costs = []
    for path in (C._verify_fast, C._verify_full):
        counting = Counting(view)
        del seen[:]
        path(doc, counting, now)
        costs.append((len(seen), len(counting.keys)))
    return report, costs[0], costs[1]


def _padded(doc: Doc, recognizers: list[int]) -> Doc:
    """The document with recognitions appended by anyone: random low-s signatures, as a hostile caller sends."""
    chain_id = doc["evidence"][0]["chainId"]
    out = copy.deepcopy(doc)
    for r in recognizers:
        sig = os.urandom(32) + (int.from_bytes(os.urandom(32), "big") % (eip712.SECP256K1_N // 2)).to_bytes(32, "big")
        out["proof"].append({"type": C.PROOF_TYPE, "proofPurpose": "recognition", "recognizer": r,
                             "verificationMethod": C.did_pkh(chain_id, os.urandom(20)),
                             "created": "2026-01-01T00:00:00Z", "proofValue": hex0x(sig + b"\x1b")})
    return out


def test_a_certificate_padded_with_recognitions_is_refused_before_any_recovery(
        world: World, issued: Doc, revoked: Revoked, recoveries: list[bytes]) -> None:
    now = int(time.time())
    for view in (world.certifier.online_view(), SnapshotView(revoked.snapshot_after, revoked.trusted)):
        plain, *costs = _costs(issued, view, now, recoveries)
        # The checkpoints' signatures and their signers: the same with or without recognitions.
        assert plain.valid and costs[1][0] > 0 and costs[1][1] > 0
        padded, *padded_costs = _costs(_padded(issued, list(range(10, 5010))), view, now, recoveries)
        assert padded.failed == ["recognitions"]
        assert recognitions(padded) == ("5000 recognitions, more than the 2 member exchanges besides the issuer: "
                                        "each recognises a certificate once (no recognition was checked)")
        assert padded_costs == costs
        # Three, by the only two partners there are (one of them twice): too many, whoever signed them.
        three, *three_costs = _costs(_padded(issued, [2, 3, 2]), view, now, recoveries)
        assert recognitions(three).startswith("3 recognitions, more than the 2") and three_costs == costs


def test_a_repeated_recognizer_or_the_issuer_is_refused_and_a_stranger_not_counted_before_any_recovery(
        world: World, issued: Doc, revoked: Revoked, recoveries: list[bytes]) -> None:
    now = int(time.time())
    new, sde = revoked.new, world.fed.keys["SDE"]
    by_zjde = C.add_recognition(issued, 2, addr(new), bytes(new.key), now)
    refused: list[tuple[Doc, str]] = [
        (C.add_recognition(by_zjde, 2, addr(new), bytes(new.key), now),  # a genuine one, twice
         "recognition 2 (exchange 2): that exchange already recognised it"),
        (C.add_recognition(issued, 1, addr(sde), bytes(sde.key), now),  # signed by the issuer's own key
         "recognition 1 (exchange 1): the issuer does not recognise its own certificate"),
    ]
    for view in (world.certifier.online_view(), SnapshotView(revoked.snapshot_after, revoked.trusted)):
        _, *costs = _costs(issued, view, now, recoveries)
        for doc, why in refused:
            report, *doc_costs = _costs(doc, view, now, recoveries)
            assert report.failed == ["recognitions"], (why, report.to_json())
            assert recognitions(report) == f"{why} (no recognition was checked)"
            assert doc_costs == costs, why
        # An exchange that is not a member (never was, or no longer is) is not counted, and nothing is recovered.
        stranger = _padded(issued, [0])
        report, *doc_costs = _costs(stranger, view, now, recoveries)
        assert report.valid and recognitions(report) == ("0 partner recognitions; not counted: recognition 1 "
                                                         "(exchange 0): exchange 0 is not a member now")
        assert doc_costs == costs
        # The one genuine recognition is recovered and its key looked up, once on each path.
        report, *one_costs = _costs(by_zjde, view, now, recoveries)
        # (Without the compiled module the fast path stops before any check: nothing to count there.)
        compiled = C._verify_fast(by_zjde, view, now) is not None
        assert report.valid and one_costs == [(r + compiled, k + compiled) for r, k in costs[:1]] + [
            (costs[1][0] + 1, costs[1][1] + 1)]
        both = C.add_recognition(by_zjde, 9, addr(new), bytes(new.key), now)
        report, *both_costs = _costs(both, view, now, recoveries)
        assert report.valid and recognitions(report) == ("1 partner recognitions; not counted: recognition 2 "
                                                         "(exchange 9): exchange 9 is not a member now")
        assert both_costs == one_costs


# ---------------------------------------------------------------------- the online view keeps keys per head


def test_the_online_view_asks_for_each_key_once_per_head(world: World, issued: Doc, revoked: Revoked,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    doc = C.add_recognition(issued, 2, addr(revoked.new), bytes(revoked.new.key), now)
    view = world.certifier.online_view()
    asked: list[bytes] = []
    real: Callable[[bytes], Any] = view.svc.key

    def counting(address: bytes) -> Any:
        asked.append(bytes(address))
        return real(address)

    monkeypatch.setattr(view.svc, "key", counting)
    counted = Counting(view)
    assert verify(doc, counted, now).valid
    # The issuer's key and each checkpoint's signer are looked up again and again, asked of the chain once each.
    assert len(counted.keys) > len(set(counted.keys))
    assert sorted(asked) == sorted(set(counted.keys))
    # What it answers follows the chain: a key added since the view was made is known at the next block.
    extra = Account.create()
    assert view.key(addr(extra)) is None
    world.fed.svc.add_key(revoked.new, extra)
    info = view.key(addr(extra))
    assert info is not None and info.exchange == 2 and info.valid_to == 0
    assert view.member_count == 3 and view.is_member(2) and not view.is_member(4)


# ---------------------------------------------------------------------- removed exchanges, offline cosignatures


def test_offline_a_retired_key_cosigns_nothing(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        svc, sde, zjde, old = w.fed.svc, w.fed.keys["SDE"], w.fed.keys["ZJDE"], w.fed.keys["AHDE"]
        new = Account.create()
        svc.add_key(old, new)
        svc.revoke_key(new, addr(old))  # AHDE retires its first key
        snapshot = w.certifier.snapshot(zjde, anchor=False)  # before the next checkpoint is anchored
        view = SnapshotView(snapshot, w.certifier.trusted_keys(2))
        intake = w.intake("SDE")
        f = intake.submit(request(w.owner_sde))
        intake.seal()
        w.follower.sync()
        cert = w.certifier.issue(f.result().record_id, sde)  # anchors a checkpoint the snapshot does not hold
        now = int(time.time())
        assert verify(cert, view, now).failed == ["checkpoint"]

        def cosigned(*cosigners: tuple[int, LocalAccount]) -> Doc:
            doc = copy.deepcopy(cert)
            ev = doc["evidence"][1]
            digest = eip712.checkpoint_digest(w.fed.chain.chain_id, w.fed.contracts.deployment.registry,
                                              ev["exchange"], ev["treeSize"], bytes.fromhex(ev["root"][2:]))
            ev["cosignatures"] = [{"witness": witness, "signer": hex0x(addr(a)),
                                   "signature": hex0x(eip712.sign_digest(digest, bytes(a.key)))}
                                  for witness, a in cosigners]
            doc["proof"] = [{k: v for k, v in doc["proof"][0].items() if k != "proofValue"}]
            return C.sign(doc, bytes(sde.key))

        assert view.min_cosigners == 1
        assert verify(cosigned((3, new)), view, now).valid
        assert verify(cosigned((2, zjde)), view, now).valid
        retired = verify(cosigned((3, old)), view, now)  # AHDE's retired key, which anyone holding it can use
        assert retired.failed == ["checkpoint"]
        assert "0 valid partner cosignatures" in retired.check("checkpoint").detail
    finally:
        w.close()


def test_a_removed_exchanges_recognition_counts_no_more(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    try:
        svc, sde, zjde, ahde = w.fed.svc, w.fed.keys["SDE"], w.fed.keys["ZJDE"], w.fed.keys["AHDE"]
        cert = w.certifier.issue(w.product, sde)
        now = int(time.time())
        recognised = C.add_recognition(cert, 3, addr(ahde), bytes(ahde.key), now)
        online = w.certifier.online_view()
        assert online.member_count == 3 and online.is_member(3)
        assert verify(recognised, online, now).valid
        assert svc.propose_remove_exchange(sde, "AHDE").executed
        online = w.certifier.online_view()
        info = online.key(addr(ahde))
        assert online.member_count == 2 and not online.is_member(3) and info is not None and info.exchange == 3 \
            and info.valid_to == 0  # the key itself was never revoked
        report = verify(recognised, online, now)
        assert report.valid, report.to_json()
        assert recognitions(report) == ("0 partner recognitions; not counted: recognition 1 (exchange 3): exchange 3 "
                                        "is not a member now")
        # Offline the same, once a snapshot says so.
        after = SnapshotView(w.certifier.snapshot(zjde, anchor=False), w.certifier.trusted_keys(2))
        assert after.member_count == 2 and after.is_member(2) and not after.is_member(3)
        assert verify(recognised, after, now).valid
        assert recognitions(verify(recognised, after, now)) == recognitions(report)
    finally:
        w.close()


def test_an_exchange_recognises_again_over_its_own_stale_recognition(world: World, revoked: Revoked) -> None:
    # The certificate as partners hold it still carries ZJDE's recognition by the retired key: recognising it with
    # the current key replaces that one, rather than failing on it (or answering that ZJDE already recognised it).
    now = int(time.time())
    again = world.certifier.recognize(revoked.before, revoked.new, on_chain=False)
    report = verify(again, world.certifier.online_view(), now)
    assert report.valid and recognitions(report) == "1 partner recognitions"
    assert [p["verificationMethod"] for p in again["proof"][1:]] == [
        C.did_pkh(again["evidence"][0]["chainId"], addr(revoked.new))]
