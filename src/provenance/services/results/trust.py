"""The transparency logs' results (services/trust.py): an exchange's log with its anchored checkpoints and their
cosigners, an anchor, a consistency proof, the witness's answers, and the inclusion proof's shape. Hashes and
roots are 0x hex, sizes and blocks integers, in the order the log endpoints have always shown them."""

from __future__ import annotations

from provenance.services.results import Result


class AnchorOut(Result):
    treeSize: int
    root: str
    block: int
    consistent: bool
    transaction: str


class AnchoredOut(AnchorOut):
    cosignedBy: list[int]


class LogOut(Result):
    exchange: int
    code: str | None
    size: int
    root: str
    anchors: int
    anchored: list[AnchoredOut]


class ConsistencyOut(Result):
    exchange: int
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


# The documented shape of a record's inclusion proof (GET registrations/{record}/proof). The service still answers
# it as a document: its members come record first, then the anchor's, an order a subclass of AnchorOut cannot give,
# and reordering the model would change the published schema.
class InclusionOut(AnchorOut):
    record: str
    exchange: int
    leafIndex: int
    leafHash: str
    proof: list[str]


class WitnessedOut(Result):
    exchange: int
    treeSize: int
    root: str
    transaction: str | None
    problem: str | None


__all__ = ["AnchorOut", "AnchoredOut", "ConsistencyOut", "InclusionOut", "LogOut", "WitnessedOut"]
