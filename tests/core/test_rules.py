"""The registration and status rules, rule by rule: every field at its valid extremes and first invalid values,
each violation compared whole (the contract error's name and every argument), and the order the contract checks
them in (a request that breaks two rules is named for the first)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from provenance.core.ids import record_id
from provenance.core.rules import (
    MAX_PARENTS,
    Violation,
    check_registration,
    check_status_change,
    transition_allowed,
)
from provenance.types import RegistrationRequest, Status

ME, OTHER = 3, 9


@dataclass(frozen=True)
class Rec:
    registrar: int
    owner: int
    kind: int
    grade: int
    status: int


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


WORLD: dict[bytes, Rec] = {
    h(100): Rec(ME, 7, 0, 0, Status.ACTIVE),  # general resource
    h(101): Rec(ME, 7, 0, 1, Status.ACTIVE),  # important
    h(102): Rec(ME, 7, 0, 2, Status.ACTIVE),  # core
    h(103): Rec(ME, 7, 0, 0, Status.REVOKED),
    h(104): Rec(ME, 7, 0, 0, Status.SUSPENDED),
    h(105): Rec(ME, 7, 0, 0, Status.SUPERSEDED),
    h(106): Rec(OTHER, 7, 0, 0, Status.ACTIVE),  # another exchange's
    h(107): Rec(ME, 8, 0, 0, Status.ACTIVE),  # another owner's
    h(108): Rec(ME, 7, 1, 0, Status.ACTIVE),  # a product
}


def lookup(rid: bytes) -> Rec | None:
    return WORLD.get(rid)


def req(**kw: object) -> RegistrationRequest:
    base: dict[str, object] = {"kind": 0, "grade": 0, "source": 1, "rights": 1, "owner": 7, "content_hash": h(1),
                                   "metadata_hash": h(2), "supersedes": bytes(32), "parents": ()}
    base.update(kw)
    return RegistrationRequest(**base)  # type: ignore[arg-type]


def check(r: RegistrationRequest, rid: bytes | None = None) -> Violation | None:
    return check_registration(ME, r, lookup, rid)


@pytest.mark.parametrize("fields", [
    {"kind": 0}, {"kind": 1}, {"kind": 2}, {"grade": 1}, {"kind": 0, "grade": 2}, {"source": 0},
    {"source": 2}, {"rights": 1}, {"rights": 7}, {"rights": 6}, {"owner": 0}, {"owner": 2**32 - 1},
])
def test_every_field_at_its_valid_extremes(fields: dict[str, int]) -> None:
    assert check(req(**fields)) is None


@pytest.mark.parametrize(("fields", "violation"), [
    ({"kind": 3}, Violation("InvalidKind", {"kind": 3})),
    ({"kind": -1}, Violation("InvalidKind", {"kind": -1})),
    ({"grade": 3}, Violation("InvalidGrade", {"grade": 3})),
    ({"grade": -1}, Violation("InvalidGrade", {"grade": -1})),
    ({"source": 3}, Violation("InvalidSource", {"source": 3})),
    ({"source": -1}, Violation("InvalidSource", {"source": -1})),
    ({"rights": 0}, Violation("InvalidRights", {"rights": 0})),
    ({"rights": 8}, Violation("InvalidRights", {"rights": 8})),
    ({"content_hash": bytes(32)}, Violation("ZeroContentHash", {})),
    ({"kind": 1, "grade": 2}, Violation("CoreNotListable", {"kind": 1})),
    ({"kind": 2, "grade": 2}, Violation("CoreNotListable", {"kind": 2})),
])
def test_each_field_rule(fields: dict[str, object], violation: Violation) -> None:
    assert check(req(**fields)) == violation


def test_a_request_breaking_two_rules_is_named_for_the_first() -> None:
    assert check(req(kind=3, grade=3)) == Violation("InvalidKind", {"kind": 3})
    assert check(req(grade=3, source=3)) == Violation("InvalidGrade", {"grade": 3})
    assert check(req(source=3, rights=0)) == Violation("InvalidSource", {"source": 3})
    assert check(req(rights=0, content_hash=bytes(32))) == Violation("InvalidRights", {"rights": 0})
    assert check(req(content_hash=bytes(32), kind=1, grade=2)) == Violation("ZeroContentHash", {})
    assert check(req(kind=1, grade=2, content_hash=h(100)), rid=h(100)) == Violation("CoreNotListable", {"kind": 1})
    many = tuple(h(200 + i) for i in range(MAX_PARENTS + 1))
    assert check(req(parents=many), rid=h(100)) == Violation("AlreadyRegistered", {"id": h(100)})
    assert check(req(parents=(*many[:-1], h(5))), rid=h(5)) == Violation(
        "TooManyParents", {"count": MAX_PARENTS + 1, "max": MAX_PARENTS})
    assert check(req(parents=(h(999),), supersedes=h(998))) == Violation("UnknownParent", {"parentId": h(999)})


def test_the_record_id_is_derived_or_taken_as_given() -> None:
    content = h(55)
    rid = record_id(ME, content)
    WORLD[rid] = Rec(ME, 7, 0, 0, Status.ACTIVE)
    try:
        assert check(req(content_hash=content)) == Violation("AlreadyRegistered", {"id": rid})
        assert check(req(content_hash=content), rid=h(56)) is None  # the caller's id is the one looked up
        assert check_registration(ME + 1, req(content_hash=content), lookup) is None  # another registrar's id
        assert check(req(content_hash=content, parents=(rid,)), rid=h(56)) is None
        assert check(req(content_hash=h(57), parents=(record_id(ME, h(57)),))) == Violation(
            "SelfParent", {"id": record_id(ME, h(57))})
    finally:
        del WORLD[rid]


def test_a_registration_cannot_supersede_itself() -> None:
    rid = record_id(ME, h(60))
    assert check(req(content_hash=h(60), supersedes=rid)) == Violation("SelfSupersede", {"id": rid})
    # Checked after AlreadyRegistered and before the parents, in the contract's order.
    assert check(req(content_hash=h(60), supersedes=rid, parents=(rid,))) == Violation("SelfSupersede", {"id": rid})
    WORLD[rid] = Rec(ME, 7, 0, 0, Status.ACTIVE)
    try:
        assert check(req(content_hash=h(60), supersedes=rid)) == Violation("AlreadyRegistered", {"id": rid})
    finally:
        del WORLD[rid]


def test_parents() -> None:
    sixteen = tuple(h(100) for _ in range(1)) + tuple(h(300 + i) for i in range(MAX_PARENTS - 1))
    for p in sixteen[1:]:
        WORLD[p] = Rec(OTHER, 1, 1, 0, Status.ACTIVE)
    try:
        assert check(req(parents=sixteen)) is None  # 16 parents, any registrar's, any kind
        assert check(req(parents=(*sixteen, h(101)))) == Violation("TooManyParents", {"count": 17, "max": 16})
    finally:
        for p in sixteen[1:]:
            del WORLD[p]
    ok = (h(100), h(104), h(105), h(106), h(108))  # active, suspended, superseded, another's, a product
    assert check(req(parents=ok)) is None
    assert check(req(parents=(h(100), h(5))), rid=h(5)) == Violation("SelfParent", {"id": h(5)})
    assert check(req(parents=(h(100), h(104), h(100)))) == Violation("DuplicateParent", {"parentId": h(100)})
    assert check(req(parents=(h(104), h(100), h(100)))) == Violation("DuplicateParent", {"parentId": h(100)})
    assert check(req(parents=(h(100), h(999)))) == Violation("UnknownParent", {"parentId": h(999)})
    assert check(req(parents=(h(100), h(103)))) == Violation("ParentRevoked", {"parentId": h(103)})
    assert check(req(parents=(h(100), h(101)))) == Violation(
        "GradeBelowParent", {"parentId": h(101), "parentGrade": 1, "grade": 0})
    assert check(req(grade=1, parents=(h(101), h(102)))) == Violation(
        "GradeBelowParent", {"parentId": h(102), "parentGrade": 2, "grade": 1})
    assert check(req(grade=1, parents=(h(100), h(101)))) is None  # an equal or lower grade is fine
    assert check(req(grade=2, parents=(h(102),))) is None
    # per parent, the checks run in order: self before duplicate before unknown before revoked before grade
    assert check(req(parents=(h(5), h(5))), rid=h(5)) == Violation("SelfParent", {"id": h(5)})
    assert check(req(parents=(h(999), h(999)))) == Violation("UnknownParent", {"parentId": h(999)})
    assert check(req(parents=(h(103), h(101)))) == Violation("ParentRevoked", {"parentId": h(103)})


def test_supersedes() -> None:
    assert check(req(supersedes=h(100))) is None
    assert check(req(supersedes=h(104))) is None  # a suspended record can be superseded
    assert check(req(supersedes=h(999))) == Violation("UnknownRecord", {"id": h(999)})
    assert check(req(supersedes=h(106))) == Violation("NotRegistrar", {"id": h(106), "registrar": OTHER, "caller": ME})
    assert check(req(supersedes=h(107))) == Violation("SupersedeMismatch", {"supersededId": h(107)})
    assert check(req(supersedes=h(108))) == Violation("SupersedeMismatch", {"supersededId": h(108)})
    assert check(req(supersedes=h(108), kind=1)) is None
    for old, status in ((h(103), Status.REVOKED), (h(105), Status.SUPERSEDED)):
        assert check(req(supersedes=old)) == Violation(
            "InvalidStatusTransition", {"id": old, "from": int(status), "to": int(Status.SUPERSEDED)})
    # in order: unknown, registrar, mismatch, status
    WORLD[h(110)] = Rec(OTHER, 8, 1, 0, Status.REVOKED)
    WORLD[h(111)] = Rec(ME, 8, 0, 0, Status.REVOKED)
    try:
        assert check(req(supersedes=h(110))) == Violation(
            "NotRegistrar", {"id": h(110), "registrar": OTHER, "caller": ME})
        assert check(req(supersedes=h(111))) == Violation("SupersedeMismatch", {"supersededId": h(111)})
    finally:
        del WORLD[h(110)], WORLD[h(111)]
    assert check(req(supersedes=h(999), parents=(h(103),))) == Violation("ParentRevoked", {"parentId": h(103)})


S = Status
ALLOWED = {(S.ACTIVE, S.SUSPENDED), (S.SUSPENDED, S.ACTIVE), (S.ACTIVE, S.REVOKED), (S.SUSPENDED, S.REVOKED),
           (S.SUPERSEDED, S.REVOKED), (S.NONE, S.REVOKED)}


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("new", list(Status))
def test_every_status_transition(current: Status, new: Status) -> None:
    assert transition_allowed(current, new) is ((current, new) in ALLOWED)
    record = Rec(ME, 7, 0, 0, int(current))
    want = None if (current, new) in ALLOWED else Violation(
        "InvalidStatusTransition", {"id": h(1), "from": int(current), "to": int(new)})
    assert check_status_change(ME, h(1), record, new) == want


def test_status_change_refusals_in_order() -> None:
    assert check_status_change(ME, h(1), None, Status.REVOKED) == Violation("UnknownRecord", {"id": h(1)})
    theirs = Rec(OTHER, 7, 0, 0, Status.REVOKED)
    assert check_status_change(ME, h(1), theirs, Status.REVOKED) == Violation(
        "NotRegistrar", {"id": h(1), "registrar": OTHER, "caller": ME})


def test_violation_renders_as_the_contract_error() -> None:
    assert str(Violation("ZeroContentHash")) == "ZeroContentHash()"
    assert Violation("ZeroContentHash").args == {}
    v = Violation("NotRegistrar", {"id": b"\x01\xab", "registrar": 9, "caller": 3})
    assert str(v) == "NotRegistrar(id=0x01ab, registrar=9, caller=3)"
    assert replace(v, error="X") != v
