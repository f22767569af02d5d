"""Shapes of the catalogue's HTTP API (docs: /work/coord/catalog-spec.md, "HTTP API"): listings, search pages,
boards, figures, profiles (the service's results, provenance.services.results.catalog, named here too), and the
fields records and registration bodies gain.

The documents themselves (metadata documents, entity profiles) are validated by their published JSON Schemas in
provenance.core.catalog, not re-stated here: the API takes them as JSON objects and refuses them naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from provenance.services.results.catalog import (
    BoardOut,
    CatalogSearchOut,
    EntityFiguresOut,
    FiguresOut,
    LanguageMap,
    ListingFiguresOut,
    ListingOut,
    MetadataState,
    ProfileOut,
    PublisherOut,
    SuppliedOut,
)

BoardName = Literal["international", "finance", "shipping", "trade-logistics", "science-technology",
                    "manufacturing", "communications", "medical", "transportation", "energy", "credit",
                    "yangtze-delta", "digital-assets"]
OrderName = Literal["relevance", "recent"]
SchemaName = Literal["metadata-v1", "entity-profile-v1"]


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


__all__ = ["BoardName", "BoardOut", "CatalogNames", "CatalogSearchOut", "EntityFiguresOut", "FiguresOut",
           "InlineMetadata", "InlineProfile", "LanguageMap", "ListingFiguresOut", "ListingOut", "MetadataState",
           "OrderName", "ProfileOut", "PublisherOut", "SchemaName", "SuppliedOut"]
