"""Plain values shared by every layer: enums mirroring the contracts, ids, and frozen records."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NewType, Self

from provenance.errors import InvalidInput

Hash32 = NewType("Hash32", bytes)
"""A 32-byte hash (content hash, metadata hash, record id)."""
RecordId = NewType("RecordId", bytes)
"""keccak256(abi.encode(uint16 registrar, bytes32 contentHash))."""
Address = NewType("Address", bytes)
"""A 20-byte account address."""


def is_decimal(text: str, digits: int = 12) -> bool:
    """Whether ``text`` is a number written in at most ``digits`` ASCII digits: ``str.isdigit`` alone is true of
    "²" (which ``int`` refuses) and of other scripts' digits (which ``int`` reads), and a long one costs ``int``."""
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()


class _Named(enum.IntEnum):
    """An enum whose members parse from their lower-case name or their number."""

    @classmethod
    def parse(cls, value: str | int) -> Self:
        if isinstance(value, int) or (isinstance(value, str) and is_decimal(value)):
            try:
                return cls(int(value))
            except ValueError:
                pass
        else:
            key = value.strip().lower().replace("_", "-")
            for member in cls:
                if member.label == key:
                    return member
        choices = ", ".join(m.label for m in cls)
        raise InvalidInput(f"invalid {cls.__name__.lower()} {value!r}: expected one of {choices}")

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class Kind(_Named):
    RESOURCE = 0
    PRODUCT = 1
    ASSET = 2


class Grade(_Named):
    GENERAL = 0
    IMPORTANT = 1
    CORE = 2


class Source(_Named):
    PUBLIC = 0
    ENTERPRISE = 1
    PERSONAL = 2


class Status(_Named):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    SUPERSEDED = 4


class EntityRole(_Named):
    SUPPLIER = 0
    DEMANDER = 1
    SERVICE_PROVIDER = 2
    FINANCIAL_INSTITUTION = 3  # a pledgee (issue 22)
    ASSESSMENT_INSTITUTION = 4  # accredited by governance to assess records
    ARBITRATION_INSTITUTION = 5  # appointed by governance to rule on disputes


class ExchangeStatus(_Named):
    NONE = 0
    ACTIVE = 1
    REMOVED = 2


class ProposalAction(_Named):
    ADD_EXCHANGE = 0
    REMOVE_EXCHANGE = 1
    SET_THRESHOLD = 2
    ADD_SUPERVISOR = 3
    REMOVE_SUPERVISOR = 4
    PROPERTY_DECISION = 8  # 5-7 are the entity decisions (provenance.chain.registry.EntityDecision)


class Rights(enum.IntFlag):
    HOLDING = 1
    PROCESSING = 2  # processing-and-use
    OPERATION = 4

    @classmethod
    def parse(cls, value: str | int) -> Rights:
        """Parse "holding,processing,operation" (any subset) or the bit value 1..7."""
        # ASCII digits only: "²" is a digit to str.isdigit but not to int(), and a long one costs int() time
        if isinstance(value, int) or (value.strip().isascii() and value.strip().isdigit()):
            bits = value if isinstance(value, int) else int(value) if len(value.strip().lstrip("0")) <= 3 else 0
            if 1 <= bits <= 7:
                return cls(bits)
            raise InvalidInput(f"invalid rights {value!r}: expected 1..7 or names")
        names = {"holding": cls.HOLDING, "processing": cls.PROCESSING, "processing-and-use": cls.PROCESSING,
                 "operation": cls.OPERATION}
        result = cls(0)
        for part in value.split(","):
            part = part.strip().lower()
            if part not in names:
                raise InvalidInput(f"invalid right {part!r}: expected holding, processing or operation")
            result |= names[part]
        if not result:
            raise InvalidInput("rights must name at least one of holding, processing, operation")
        return result

    def labels(self) -> list[str]:
        return [n for n, bit in (("holding", 1), ("processing", 2), ("operation", 4)) if self & bit]


@dataclass(frozen=True)
class RegistrationRequest:
    """What an exchange asks the registry to record (mirrors IRegistry.RegistrationRequest)."""

    kind: Kind
    grade: Grade
    source: Source
    rights: Rights
    owner: int
    content_hash: Hash32
    metadata_hash: Hash32
    supersedes: Hash32 = Hash32(bytes(32))
    parents: tuple[RecordId, ...] = field(default_factory=tuple)

    def as_abi_tuple(self) -> tuple[object, ...]:
        return (int(self.kind), int(self.grade), int(self.source), int(self.rights), self.owner,
                self.content_hash, self.metadata_hash, self.supersedes, list(self.parents))


@dataclass(frozen=True)
class Record:
    """A registration as stored on-chain, with its parents."""

    id: RecordId
    owner: int
    registrar: int
    kind: Kind
    grade: Grade
    source: Source
    rights: Rights
    status: Status
    timestamp: int
    block_number: int
    content_hash: Hash32
    metadata_hash: Hash32
    parents: tuple[RecordId, ...]


@dataclass(frozen=True)
class Entity:
    id: int
    identifier_hash: Hash32
    account: Address
    registrar: int
    role: EntityRole
    registered_at: int
    nonce: int


@dataclass(frozen=True)
class Exchange:
    id: int
    code: str
    name: str
    status: ExchangeStatus
    joined_at: int
    removed_at: int


@dataclass(frozen=True)
class KeyRecord:
    address: Address
    exchange_id: int
    valid_from: int
    valid_to: int  # 0 while valid
