"""The certificates' results (services/trust.py's certificate operations, services/certificates.py's verifier):
a verification report with each check, the certificates this node issued, and the recognitions recorded on-chain.
The certificates themselves and the snapshots stay documents of their own formats (W3C VC 2.0, the federation
snapshot), which the routes describe as such."""

from __future__ import annotations

from typing import Any, Literal

from provenance.services.results import Result


class CheckOut(Result):
    name: str
    ok: bool
    detail: str


class ReportOut(Result):
    valid: bool
    mode: Literal["online", "offline"]
    credentialHash: str | None
    checks: list[CheckOut]
    equivocations: list[dict[str, Any]]
    property: dict[str, Any] | None = None


class CertificateSummaryOut(Result):
    credentialHash: str
    record: str | None
    validFrom: str | None
    validUntil: str | None


class RecognitionOut(Result):
    recognizer: int
    recognizerCode: str | None
    block: int
    record: str
    issuer: int


__all__ = ["CertificateSummaryOut", "CheckOut", "RecognitionOut", "ReportOut"]
