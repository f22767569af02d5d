"""The registrations' and lineage's results (services/operations.py): a record as indexed, a search page, a
lineage graph, a record's impact, a derivation path, a registration's and a batch's answers, a status change and
the typed data an owner signs. Ids and hashes are 0x hex, members in the order the documents have always shown
them.

A record's document is built by the index (``record_json``), redacted for its reader and named by the catalogue,
and the hot reads (a record, a search page, ancestors and descendants) hand that document to the API as it is:
validating every row into a model would cost those routes more than the rest of their work. The models below
state its shape for the OpenAPI document and the tests; a redacted record keeps the public members in the order
``services.requests.PUBLIC_FIELDS`` gives them, an order a model declaring the full record's order cannot give.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from provenance.services.results import Result
from provenance.services.results.catalog import LanguageMap, MetadataState, PublisherOut

KindName = Literal["resource", "product", "asset"]
GradeName = Literal["general", "important", "core"]
SourceName = Literal["public", "enterprise", "personal"]
RightName = Literal["holding", "processing", "operation"]
StatusName = Literal["active", "suspended", "revoked", "superseded"]


class RecordOut(Result):
    """A record as indexed. Above general grade, without a member credential, only the public fields and
    ``redacted: true``."""

    id: str
    kind: KindName
    grade: GradeName
    source: SourceName | None = None
    rights: list[RightName] | None = None
    status: StatusName
    owner: int | None = None
    registrar: str
    block: int
    content_hash: str | None = None
    metadata_hash: str | None = None
    supersedes: str | None = None
    delegated: bool | None = None
    parents: list[str] | None = None
    seq: int
    leaf_index: int
    batched: bool
    redacted: bool | None = None
    title: LanguageMap | None = None
    publisher: PublisherOut | None = None
    metadata: MetadataState | None = None


class SearchOut(Result):
    results: list[RecordOut]
    next: int = Field(description="cursor: pass it as `after` for the next page")


class LineageNodeOut(RecordOut):
    depth: int


class LineageOut(Result):
    root: str
    direction: Literal["ancestors", "descendants"]
    nodes: list[LineageNodeOut]
    edges: list[list[str]] = Field(description="[child id, parent id] pairs")
    inactive_ancestors: list[str] | None = None
    inactive_descendants: list[str] | None = None
    truncated: bool


class ImpactOut(Result):
    record: str
    status: str
    inactive: bool
    descendants: int
    affected: list[str]
    truncated: bool


class PathOut(Result):
    path: list[str]


class RegisteredOut(Result):
    id: str
    tx: str
    block: int
    gas_used: int | None = None
    record: RecordOut | None = Field(description="the record as indexed; null while its block awaits the node's "
                                                 "[index] confirmations (the registration stands)")


class StatusOut(Result):
    id: str
    status: str
    block: int


class BatchItemOut(Result):
    index: int
    id: str
    leaf: int
    tx: str
    why: str | None = None


class BatchRefusedOut(Result):
    index: int
    error: str
    detail: str


class BatchOut(Result):
    queued: int
    refused_at_intake: list[BatchRefusedOut]
    rejected_by_index: list[BatchItemOut]
    accepted: list[BatchItemOut]
    awaiting_confirmation: list[BatchItemOut] = Field(
        default_factory=list, description="anchored in a block the index does not follow yet ([index] confirmations): "
                                          "judged, and their documents publishable, once it is confirmed")
    ids: list[str]
    batches: int
    tree_size: int | None
    published: int | None = Field(default=None, description="metadata documents published on chain after anchoring")


class TypedDataOut(Result):
    registrar: int
    nonce: int
    deadline: int
    digest: str
    chainId: int
    verifyingContract: str
    request: dict[str, Any]
    typedData: dict[str, Any] = Field(description="the eth_signTypedData_v4 document the owner's wallet signs "
                                                  "(types, primaryType, domain, message); it hashes to digest")


__all__ = ["BatchItemOut", "BatchOut", "BatchRefusedOut", "GradeName", "ImpactOut", "KindName", "LineageNodeOut",
           "LineageOut", "PathOut", "RecordOut", "RegisteredOut", "RightName", "SearchOut", "SourceName",
           "StatusName", "StatusOut", "TypedDataOut"]
