"""The ``recognitions`` check of a certificate: partner exchanges' recognitions (``proof[1:]``), judged against a
federation view. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from provenance.core import eip712
from provenance.core.canonical import hex0x
from provenance.core.certificates.document import _iso_seconds
from provenance.errors import InvalidSignature

if TYPE_CHECKING:
    from provenance.core.certificates.checks import FederationView

RECOGNITION_SKEW = 300
"""Seconds a recognition's ``created`` time may run ahead of the verifier's clock (the window the API allows a
signed request's timestamp)."""


def _created_at(value: Any) -> int | None:
    """A recognition's ``created`` time in seconds, or None if it is not the dateTime the issuer writes."""
    if not isinstance(value, str):
        return None
    try:
        return _iso_seconds(value)
    except ValueError:
        return None


def recognitions_check(recognitions: Sequence[tuple[int, bytes, bytes, bytes]], created: Sequence[Any],
                       chain_id: int, registry: bytes, credential: bytes, issuer: int, view: FederationView,
                       now: int) -> tuple[bool, str]:
    """The ``recognitions`` check: ``recognitions`` as read (recognizer, key, signature, options hash) and each
    one's ``created`` as written, in proof order (recognition 1 is ``proof[1]``).

    Recognitions are outside what the issuer signed, so anyone can append them: what needs only the document and
    the members (how many, by whom) is judged before any signature is recovered, so a certificate padded with
    recognitions costs no more than the federation's size. A recognition carries no block, so it counts only while
    it stands: signed by a key of the recognizer valid now (not retired as of the view's head, or in the snapshot),
    by an exchange still a member. One that no longer stands (a partner rotated its key, or left) is not counted
    and the detail says so; the certificate is no less valid for it. A recognition that never stood (another
    signer, a date in the future or none, a repeated recognizer, the issuer) fails the check: someone added it."""
    if not recognitions:
        return True, "no partner recognitions"
    partners = view.member_count - (1 if view.is_member(issuer) else 0)
    if len(recognitions) > partners:
        return False, (f"{len(recognitions)} recognitions, more than the {partners} member exchanges besides the "
                       f"issuer: each recognises a certificate once (no recognition was checked)")
    problems = []
    seen: set[int] = set()
    for i, (recognizer, _key, _sig, _options) in enumerate(recognitions, start=1):
        where = f"recognition {i} (exchange {recognizer})"
        # An exchange recognises a certificate once: a second proof of the same exchange (a copy, or another key
        # of it) would count one recognition twice.
        if recognizer in seen:
            problems.append(f"{where}: that exchange already recognised it")
        elif recognizer == issuer:
            problems.append(f"{where}: the issuer does not recognise its own certificate")
        seen.add(recognizer)
    if problems:
        return False, "; ".join(problems) + " (no recognition was checked)"
    stale: list[str] = []
    for i, ((recognizer, key, sig, options_hash), when) in enumerate(zip(recognitions, created, strict=True),
                                                                      start=1):
        where = f"recognition {i} (exchange {recognizer})"
        if not view.is_member(recognizer):  # nothing to recover: no key of a non-member counts
            stale.append(f"{where}: exchange {recognizer} is not a member now")
            continue
        at = _created_at(when)
        if at is None:
            problems.append(f"{where}: its created time is not an XML Schema dateTime like 2026-01-01T00:00:00Z")
            continue
        if at > now + RECOGNITION_SKEW:
            problems.append(f"{where}: created at {when}, in the future")
            continue
        digest = eip712.recognition_digest(chain_id, registry, credential, recognizer, options_hash)
        try:
            signer = eip712.recover_signer(digest, sig)
        except InvalidSignature as exc:
            problems.append(f"{where}: {exc}")
            continue
        info = view.key(signer) if signer == key else None
        if info is None or info.exchange != recognizer:
            problems.append(f"{where}: not signed by one of its keys")
        elif info.valid_to != 0:
            stale.append(f"{where}: its key {hex0x(signer)} was retired at block {info.valid_to} (the exchange may "
                         f"recognise the certificate again)")
    if problems:
        return False, "; ".join(problems)
    counted = f"{len(recognitions) - len(stale)} partner recognitions"
    return True, counted + (f"; not counted: {'; '.join(stale)}" if stale else "")
