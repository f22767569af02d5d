"""Shapes of the catalogue's HTTP API (docs: /work/coord/catalog-spec.md, "HTTP API"): listings, search pages,
boards, figures, profiles, and the fields records and registration bodies gain.

The documents themselves (metadata documents, entity profiles) are validated by their published JSON Schemas in
provenance.core.catalog, not re-stated here: the API takes them as JSON objects and refuses them naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BoardName = Literal["international", "finance", "shipping", "trade-logistics", "science-technology",
                    "manufacturing", "communications", "medical", "transportation", "energy", "credit",
                    "yangtze-delta", "digital-assets"]
OrderName = Literal["relevance", "recent"]
SchemaName = Literal["metadata-v1", "entity-profile-v1"]
MetadataState = Literal["supplied", "not-supplied", "redacted"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LanguageMap(BaseModel):
    """A text in Chinese (zh) and/or English (en)."""

    model_config = ConfigDict(extra="forbid")
    zh: str | None = None
    en: str | None = None


class PublisherOut(_Out):
    id: int
    name: LanguageMap | None = None
    kind: str | None = None


class CatalogNames(BaseModel):
    """What a record document gains from the catalogue: its title, its publisher, whether metadata was supplied."""

    title: LanguageMap | None = None
    publisher: PublisherOut | None = None
    metadata: MetadataState | None = None


class InlineMetadata(BaseModel):
    metadata: dict[str, Any] | None = Field(
        default=None, description="the metadata document itself (schema: GET /api/v1/schemas/metadata-v1): the node "
                                  "hashes it (keccak256 of its RFC 8785 form) into metadataHash, validates and keeps "
                                  "it and, for general grade, publishes it on chain")


class InlineProfile(BaseModel):
    profile: dict[str, Any] | None = Field(
        default=None, description="the entity's profile (schema: GET /api/v1/schemas/entity-profile-v1); an "
                                  "individual's never leaves this node")


class ListingOut(_Out):
    id: str
    kind: str
    grade: str
    status: str
    registrar: str
    owner: int | None = None
    publisher: PublisherOut | None = None
    title: LanguageMap | None = None
    description: LanguageMap | None = None
    keywords: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    block: int
    timestamp: int | None = None
    metadataHash: str | None = None
    metadata: MetadataState


class CatalogSearchOut(_Out):
    items: list[ListingOut]
    next: str | None
    total: int
    facets: dict[str, dict[str, int]]


class BoardOut(_Out):
    code: str
    zh: str
    en: str
    count: int


class ListingFiguresOut(_Out):
    byBoard: dict[str, int]
    byKind: dict[str, int]
    byGrade: dict[str, int]
    byExchange: dict[str, int]
    byMonth: dict[str, int]


class EntityFiguresOut(_Out):
    byKind: dict[str, int]
    byExchange: dict[str, int]
    byRole: dict[str, int]


class FiguresOut(_Out):
    listings: ListingFiguresOut
    entities: EntityFiguresOut


class ProfileOut(_Out):
    """An entity's profile; an individual's only for this node's own credentials (``redacted`` for others)."""

    entity: int
    role: str
    profile: dict[str, Any] | None
    redacted: bool
    published: bool | None = None


class SuppliedOut(_Out):
    id: str
    metadataHash: str
    published: bool
    record: dict[str, Any]
