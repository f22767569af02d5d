"""The registration rules of ``Registry._register`` and ``Registry.setStatus``, as a pure function.

The contract is the authority; this mirror lets a node tell a user what is wrong before sending anything,
and lets every node judge records that reach it by other paths (batches) exactly as the contract would. The
checks run in the contract's order, so the first violation named here is the error the contract reverts with.
Property tests compare the two on random operation sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from provenance.core.ids import record_id
from provenance.types import Grade, Kind, RegistrationRequest, Status

MAX_PARENTS = 16


class RecordView(Protocol):
    @property
    def registrar(self) -> int: ...
    @property
    def owner(self) -> int: ...
    @property
    def kind(self) -> int: ...
    @property
    def grade(self) -> int: ...
    @property
    def status(self) -> int: ...


@dataclass(frozen=True)
class Violation:
    """A broken rule, named as the contract's custom error, with its arguments."""

    error: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        rendered = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in self.args.items())
        return f"{self.error}({rendered})"


Lookup = Callable[[bytes], RecordView | None]


def check_registration(registrar: int, request: RegistrationRequest, lookup: Lookup,
                       rid: bytes | None = None) -> Violation | None:
    """The first rule ``request`` breaks when ``registrar`` registers it, or None (mandate/signature aside).
    ``rid``: the record's id if the caller has it already (it is ``record_id(registrar, content_hash)``)."""
    kind, grade = int(request.kind), int(request.grade)
    if not 0 <= kind <= 2:
        return Violation("InvalidKind", {"kind": kind})
    if not 0 <= grade <= 2:
        return Violation("InvalidGrade", {"grade": grade})
    if not 0 <= int(request.source) <= 2:
        return Violation("InvalidSource", {"source": int(request.source)})
    if not 1 <= int(request.rights) <= 7:
        return Violation("InvalidRights", {"rights": int(request.rights)})
    if request.content_hash == bytes(32):
        return Violation("ZeroContentHash")
    if grade == Grade.CORE and kind != Kind.RESOURCE:
        return Violation("CoreNotListable", {"kind": kind})
    if rid is None:
        rid = record_id(registrar, request.content_hash)
    if lookup(rid) is not None:
        return Violation("AlreadyRegistered", {"id": rid})
    if request.supersedes == rid:  # as the contract checks it: else the record would be born superseded
        return Violation("SelfSupersede", {"id": rid})
    if len(request.parents) > MAX_PARENTS:
        return Violation("TooManyParents", {"count": len(request.parents), "max": MAX_PARENTS})
    for i, parent_id in enumerate(request.parents):
        if parent_id == rid:
            return Violation("SelfParent", {"id": rid})
        if parent_id in request.parents[:i]:
            return Violation("DuplicateParent", {"parentId": parent_id})
        parent = lookup(parent_id)
        if parent is None:
            return Violation("UnknownParent", {"parentId": parent_id})
        if parent.status == Status.REVOKED:
            return Violation("ParentRevoked", {"parentId": parent_id})
        if int(parent.grade) > grade:
            return Violation("GradeBelowParent", {"parentId": parent_id, "parentGrade": int(parent.grade),
                                                  "grade": grade})
    if request.supersedes != bytes(32):
        old = lookup(request.supersedes)
        if old is None:
            return Violation("UnknownRecord", {"id": request.supersedes})
        if old.registrar != registrar:
            return Violation("NotRegistrar", {"id": request.supersedes, "registrar": old.registrar,
                                              "caller": registrar})
        if old.owner != request.owner or old.kind != request.kind:
            return Violation("SupersedeMismatch", {"supersededId": request.supersedes})
        if old.status not in (Status.ACTIVE, Status.SUSPENDED):
            return Violation("InvalidStatusTransition", {"id": request.supersedes, "from": int(old.status),
                                                         "to": int(Status.SUPERSEDED)})
    return None


def transition_allowed(current: Status, new: Status) -> bool:
    """Active <-> Suspended; Active, Suspended or Superseded -> Revoked; Revoked is final."""
    if new == Status.REVOKED:
        return current != Status.REVOKED
    if new == Status.SUSPENDED:
        return current == Status.ACTIVE
    if new == Status.ACTIVE:
        return current == Status.SUSPENDED
    return False


def check_status_change(caller: int, rid: bytes, record: RecordView | None, new: Status) -> Violation | None:
    if record is None:
        return Violation("UnknownRecord", {"id": rid})
    if record.registrar != caller:
        return Violation("NotRegistrar", {"id": rid, "registrar": record.registrar, "caller": caller})
    if not transition_allowed(Status(record.status), new):
        return Violation("InvalidStatusTransition", {"id": rid, "from": int(record.status), "to": int(new)})
    return None
