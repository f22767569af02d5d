"""The tamper matrix, re-encoded: every signature a certificate or a snapshot carries, written another way (v as
0/1, its high-s twin, the compact form, trailing bytes, r or s out of range, other spellings of its hex), makes the
document invalid, online and offline, with the check of that signature named. A signature has one accepted
encoding, as the contracts require, so no one but the signer can make a second document that verifies.

The untouched documents verify first, so none of these passes vacuously.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.core import certificates as C
from provenance.core.eip712 import SECP256K1_N
from provenance.core.snapshot import SnapshotView, UntrustedSnapshot
from tests.support.certificates import World, make_world
from tests.support.federation import request

Doc = dict[str, Any]
N = SECP256K1_N


def _hx(b: bytes) -> str:
    return "0x" + b.hex()


def reencodings(text: str) -> dict[str, str]:
    """Every other way to write the 65-byte signature ``text`` (0x and lowercase hex, v 27/28, low s)."""
    sig = bytes.fromhex(text[2:])
    assert text == _hx(sig) and len(sig) == 65 and sig[64] in (27, 28) and int.from_bytes(sig[32:64], "big") <= N // 2
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = r + (N - s).to_bytes(32, "big")
    return {
        "v as 0/1": _hx(sig[:64] + bytes([v - 27])),
        "v as 29/30": _hx(sig[:64] + bytes([v + 2])),
        "high-s twin, v flipped": _hx(twin + bytes([55 - v])),
        "high-s twin, v flipped, as 0/1": _hx(twin + bytes([28 - v])),
        "compact EIP-2098": _hx(r + (((v - 27) << 255) | s).to_bytes(32, "big")),
        "trailing zero byte": _hx(sig + b"\x00"),
        "trailing bytes": _hx(sig + b"\x1b\x1c"),
        "r = 0": _hx(bytes(32) + sig[32:]),
        "s = 0": _hx(r + bytes(32) + sig[64:]),
        "s = n": _hx(r + N.to_bytes(32, "big") + sig[64:]),
        "uppercase hex": "0x" + sig.hex().upper(),
        "mixed-case hex": "0x" + sig.hex()[:64].upper() + sig.hex()[64:],
    }


NAMES = list(reencodings(_hx(bytes(32) + (1).to_bytes(32, "big") + b"\x1b")))
# Spellings that are not hex as the documents write it at all: the document is malformed.
MALFORMED: dict[str, Callable[[str], str]] = {
    "no 0x": lambda t: t[2:], "0X": lambda t: "0X" + t[2:], "space inside": lambda t: t[:66] + " " + t[66:]}


@pytest.fixture(scope="module")
def snapshot(world: World) -> Doc:
    return world.certifier.snapshot(world.fed.keys["ZJDE"], anchor=False)


@pytest.fixture(scope="module")
def trusted(world: World) -> list[bytes]:
    return world.certifier.trusted_keys(2)


def _now(doc: Doc) -> int:
    return C._parse_iso(doc["validFrom"], "$") + 60


def online(doc: Doc, view: C.FederationView) -> C.Report:
    """C.verify, held to the Python verifier (the compiled path answers only for a certificate passing all)."""
    now = _now(doc)
    report = C.verify(doc, view, now=now)
    assert report == C._verify_full(doc, view, now)
    fast = C._verify_fast(doc, view, now)
    assert fast is None or (fast == report and report.valid)
    return report


def offline(doc: Doc, snapshot: Doc, trusted: list[bytes]) -> C.Report:
    return C.verify(doc, SnapshotView(snapshot, trusted), now=_now(doc))


def _sign_again(world: World, doc: Doc) -> Doc:
    """The document signed afresh by its issuer: what a re-encoding inside the signed part leaves to be found."""
    out = copy.deepcopy(doc)
    out["proof"] = [{k: v for k, v in out["proof"][0].items() if k != "proofValue"}]
    return C.sign(out, bytes(world.fed.keys["SDE"].key))


def _with(doc: Doc, change: Callable[[Doc], None]) -> Doc:
    out = copy.deepcopy(doc)
    change(out)
    return out


def test_the_untouched_documents_verify(cert: Doc, view: C.FederationView, snapshot: Doc,
                                        trusted: list[bytes]) -> None:
    assert online(cert, view).valid, online(cert, view).to_json()
    assert offline(cert, snapshot, trusted).valid, offline(cert, snapshot, trusted).to_json()
    assert len(cert["proof"]) == 2  # the recognition is in the matrix too
    assert all(e["checkpointSignature"] for e in cert["evidence"][1:])


# ---------------------------------------------------------------------- the signatures outside what is signed


@pytest.mark.parametrize("name", NAMES)
def test_a_re_encoded_issuer_signature_fails_the_signature_check(name: str, cert: Doc, view: C.FederationView,
                                                                  snapshot: Doc, trusted: list[bytes]) -> None:
    text = reencodings(cert["proof"][0]["proofValue"])[name]
    doc = _with(cert, lambda d: d["proof"][0].__setitem__("proofValue", text))
    for where, report in (("online", online(doc, view)), ("offline", offline(doc, snapshot, trusted))):
        assert report.failed == ["signature"], (where, report.to_json())
        assert report.check("signature").detail, where


@pytest.mark.parametrize("name", NAMES)
def test_a_re_encoded_recognition_fails_the_recognitions_check(name: str, cert: Doc, view: C.FederationView,
                                                                snapshot: Doc, trusted: list[bytes]) -> None:
    text = reencodings(cert["proof"][1]["proofValue"])[name]
    doc = _with(cert, lambda d: d["proof"][1].__setitem__("proofValue", text))
    for where, report in (("online", online(doc, view)), ("offline", offline(doc, snapshot, trusted))):
        assert report.failed == ["recognitions"], (where, report.to_json())
        assert "exchange 2" in report.check("recognitions").detail, where


@pytest.mark.parametrize("name", list(MALFORMED))
def test_signatures_not_written_as_hex_make_the_document_malformed(name: str, cert: Doc, view: C.FederationView,
                                                                    snapshot: Doc, trusted: list[bytes]) -> None:
    for proof in (0, 1):
        doc = copy.deepcopy(cert)
        doc["proof"][proof]["proofValue"] = MALFORMED[name](doc["proof"][proof]["proofValue"])
        for where, report in (("online", online(doc, view)), ("offline", offline(doc, snapshot, trusted))):
            assert report.failed[:1] == ["format"] and not report.valid, (proof, where, report.to_json())
            assert f"proof[{proof}].proofValue" in report.check("format").detail, (proof, where)


# ---------------------------------------------------------------------- the signatures inside what is signed


@pytest.mark.parametrize("name", NAMES)
def test_a_re_encoded_checkpoint_signature_breaks_the_issuers_signature(name: str, cert: Doc, view: C.FederationView,
                                                                         snapshot: Doc, trusted: list[bytes]) -> None:
    """Re-encoded by anyone but the issuer, a checkpoint's signature changes the signed credential."""
    ev = cert["evidence"][1]
    text = reencodings(ev["checkpointSignature"])[name]
    doc = _with(cert, lambda d: d["evidence"][1].__setitem__("checkpointSignature", text))
    for where, report in (("online", online(doc, view)), ("offline", offline(doc, snapshot, trusted))):
        assert "signature" in report.failed and not report.valid, (where, report.to_json())


@pytest.mark.parametrize("name", [n for n in NAMES if "case" not in n])
def test_a_non_canonical_checkpoint_signature_fails_the_checkpoint_check(name: str, world: World, cert: Doc,
                                                                          view: C.FederationView, snapshot: Doc,
                                                                          trusted: list[bytes]) -> None:
    """Even signed by the issuer, a checkpoint signature in a form the contracts refuse is no signature."""
    text = reencodings(cert["evidence"][1]["checkpointSignature"])[name]
    doc = _sign_again(world, _with(cert, lambda d: d["evidence"][1].__setitem__("checkpointSignature", text)))
    for where, report in (("online", online(doc, view)), ("offline", offline(doc, snapshot, trusted))):
        assert report.failed == ["checkpoint"], (where, report.to_json())
        assert "checkpoint's signature" in report.check("checkpoint").detail, where


# ---------------------------------------------------------------------- snapshots and cosignatures (offline)


@pytest.mark.parametrize("name", NAMES)
def test_a_snapshot_with_a_re_encoded_signature_is_not_trusted(name: str, cert: Doc, snapshot: Doc,
                                                               trusted: list[bytes]) -> None:
    text = reencodings(snapshot["signature"]["proofValue"])[name]
    bad = _with(snapshot, lambda s: s["signature"].__setitem__("proofValue", text))
    with pytest.raises(UntrustedSnapshot, match="signature"):
        offline(cert, bad, trusted)


@pytest.fixture(scope="module")
def cosigned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Doc, Doc, list[bytes]]]:
    """A certificate whose checkpoint the snapshot lacks, so offline it stands on its two partner cosignatures."""
    w = make_world(Path(tmp_path_factory.mktemp("cosigned")))
    try:
        snapshot = w.certifier.snapshot(w.fed.keys["ZJDE"], anchor=False)
        intake = w.intake("SDE")
        f = intake.submit(request(w.owner_sde))
        intake.seal()
        w.follower.sync()
        w.certifier.witness(w.fed.keys["ZJDE"])
        w.certifier.witness(w.fed.keys["AHDE"])
        doc = w.certifier.issue(f.result().record_id, w.fed.keys["SDE"])
        yield w, doc, snapshot, w.certifier.trusted_keys(2)
    finally:
        w.close()


def _first_cosignature_only(change: Callable[[dict[str, Any]], None] = lambda c: None) -> Callable[[Doc], None]:
    def keep(d: Doc) -> None:
        ev = d["evidence"][1]
        ev["cosignatures"] = ev["cosignatures"][:1]
        change(ev["cosignatures"][0])

    return keep


def test_the_cosigned_certificate_verifies_offline_on_one_cosignature(
        cosigned: tuple[World, Doc, Doc, list[bytes]]) -> None:
    w, doc, snapshot, trusted = cosigned
    assert len(doc["evidence"][1]["cosignatures"]) == 2
    assert offline(doc, snapshot, trusted).valid, offline(doc, snapshot, trusted).to_json()
    one = _sign_again(w, _with(doc, _first_cosignature_only()))
    assert offline(one, snapshot, trusted).valid, offline(one, snapshot, trusted).to_json()
    none = _sign_again(w, _with(doc, lambda d: d["evidence"][1].__setitem__("cosignatures", [])))
    assert offline(none, snapshot, trusted).failed == ["checkpoint"]


@pytest.mark.parametrize("name", [n for n in NAMES if "case" not in n])
def test_a_non_canonical_cosignature_does_not_count(name: str, cosigned: tuple[World, Doc, Doc, list[bytes]]) -> None:
    w, doc, snapshot, trusted = cosigned
    text = reencodings(doc["evidence"][1]["cosignatures"][0]["signature"])[name]
    bad = _sign_again(w, _with(doc, _first_cosignature_only(lambda c: c.__setitem__("signature", text))))
    report = offline(bad, snapshot, trusted)
    assert report.failed == ["checkpoint"], report.to_json()
    assert "0 valid partner cosignatures" in report.check("checkpoint").detail
