"""The catalogue's results (provenance.services.catalog; the shared design is issue 20's): listings, search pages,
boards, figures, profiles and a supplied document's answer. Members come in the order the catalogue has always
answered them (a listing as indexer/catalog.listing_json writes it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from provenance.services.results import Result

MetadataState = Literal["supplied", "not-supplied", "redacted"]


class LanguageMap(Result):
    """A text in Chinese (zh) and/or English (en)."""

    zh: str | None = None
    en: str | None = None


class PublisherOut(Result):
    id: int
    name: LanguageMap | None = None
    kind: str | None = None


class ListingOut(Result):
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


class CatalogSearchOut(Result):
    items: list[ListingOut]
    next: str | None
    total: int
    facets: dict[str, dict[str, int]]


class BoardOut(Result):
    code: str
    zh: str
    en: str
    count: int


class ListingFiguresOut(Result):
    byBoard: dict[str, int]
    byKind: dict[str, int]
    byGrade: dict[str, int]
    byExchange: dict[str, int]
    byMonth: dict[str, int]


class EntityFiguresOut(Result):
    byKind: dict[str, int]
    byExchange: dict[str, int]
    byRole: dict[str, int]


class FiguresOut(Result):
    listings: ListingFiguresOut
    entities: EntityFiguresOut


class ProfileOut(Result):
    """An entity's profile; an individual's only for this node's own credentials (``redacted`` for others).
    ``published`` answers a profile's write: whether it went on chain (an organisation's) or stays here."""

    entity: int
    role: str
    profile: dict[str, Any] | None
    published: bool | None = None
    redacted: bool


class SuppliedOut(Result):
    id: str
    metadataHash: str
    published: bool
    record: dict[str, Any]


__all__ = ["BoardOut", "CatalogSearchOut", "EntityFiguresOut", "FiguresOut", "LanguageMap", "ListingFiguresOut",
           "ListingOut", "MetadataState", "ProfileOut", "PublisherOut", "SuppliedOut"]
