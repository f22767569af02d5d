"""Every registration rule of the Registry, accepted and refused."""

from __future__ import annotations

import pytest
from eth_account import Account

from provenance.core.ids import record_id
from provenance.types import Grade, Kind, RecordId, Rights, Source, Status
from tests.support.federation import Fed, addr, h, request, reverts


def test_registration_is_stored_with_everything(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    parent = fed.register("SDE", request(owner, grade=Grade.IMPORTANT))
    req = request(owner, kind=Kind.PRODUCT, grade=Grade.IMPORTANT, source=Source.PERSONAL,
                  rights=Rights.HOLDING | Rights.OPERATION, parents=(parent,), metadata=h("m1"))
    rid = fed.register("SDE", req)
    assert rid == record_id(1, req.content_hash)
    rec = fed.svc.record(rid)
    assert (rec.owner, rec.registrar, rec.kind, rec.grade, rec.source, rec.rights, rec.status) == (
        owner, 1, Kind.PRODUCT, Grade.IMPORTANT, Source.PERSONAL, Rights.HOLDING | Rights.OPERATION, Status.ACTIVE)
    assert rec.content_hash == req.content_hash and rec.metadata_hash == h("m1")
    assert rec.parents == (parent,)
    assert rec.block_number == fed.chain.block_number()
    assert rec.timestamp == fed.chain.get_block(rec.block_number).timestamp
    assert fed.svc.counts() == {"entities": 1, "registrations": 2}


def test_registered_event_carries_what_an_indexer_needs(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    p = fed.register("SDE", request(owner))
    req = request(owner, kind=Kind.PRODUCT, parents=(p,))
    tx = fed.contracts.transact(fed.keys["SDE"], "Registry", "register", req.as_abi_tuple())
    ev = tx.event("DataRegistered").args
    assert ev["id"] == record_id(1, req.content_hash)
    assert (ev["registrar"], ev["owner"], ev["kind"], ev["grade"], ev["source"], ev["rights"]) == (
        1, owner, 1, 0, 1, 1)
    assert ev["contentHash"] == req.content_hash and ev["metadataHash"] == req.metadata_hash
    assert ev["parents"] == (p,) and ev["delegated"] is False and ev["supersedes"] == bytes(32)


def test_unknown_parent_refused(fed: Fed) -> None:
    owner, _ = fed.entity()
    missing = RecordId(h("nope"))
    with reverts("UnknownParent", parentId=missing):
        fed.register("SDE", request(owner, parents=(missing,)))


def test_revoked_parent_refused_but_suspended_parent_allowed(fed: Fed) -> None:
    owner, _ = fed.entity()
    p = fed.register("SDE", request(owner))
    fed.svc.set_status(fed.keys["SDE"], p, Status.SUSPENDED)
    fed.register("SDE", request(owner, parents=(p,)))
    fed.svc.set_status(fed.keys["SDE"], p, Status.REVOKED)
    with reverts("ParentRevoked", parentId=p):
        fed.register("SDE", request(owner, parents=(p,)))


def test_self_parent_refused(fed: Fed) -> None:
    owner, _ = fed.entity()
    content = h("self")
    own_id = record_id(1, content)
    with reverts("SelfParent", id=own_id):
        fed.register("SDE", request(owner, content=content, parents=(own_id,)))


def test_duplicate_parent_refused(fed: Fed) -> None:
    owner, _ = fed.entity()
    p = fed.register("SDE", request(owner))
    with reverts("DuplicateParent", parentId=p):
        fed.register("SDE", request(owner, parents=(p, p)))


def test_parent_count_bounded(fed: Fed) -> None:
    owner, _ = fed.entity()
    parents = tuple(fed.register("SDE", request(owner)) for _ in range(17))
    fed.register("SDE", request(owner, parents=parents[:16]))
    with reverts("TooManyParents", count=17, max=16):
        fed.register("SDE", request(owner, parents=parents))


@pytest.mark.parametrize(("parent_grade", "grade", "ok"), [
    (Grade.GENERAL, Grade.GENERAL, True), (Grade.GENERAL, Grade.IMPORTANT, True),
    (Grade.IMPORTANT, Grade.IMPORTANT, True), (Grade.IMPORTANT, Grade.GENERAL, False),
    (Grade.CORE, Grade.IMPORTANT, False), (Grade.CORE, Grade.GENERAL, False),
])
def test_derived_grade_at_least_highest_parent_grade(fed: Fed, parent_grade: Grade, grade: Grade, ok: bool) -> None:
    owner, _ = fed.entity()
    low = fed.register("SDE", request(owner, grade=Grade.GENERAL))
    high = fed.register("SDE", request(owner, grade=parent_grade))
    req = request(owner, grade=grade, parents=(low, high))
    if ok:
        fed.register("SDE", req)
    else:
        with reverts("GradeBelowParent", parentId=high, parentGrade=int(parent_grade), grade=int(grade)):
            fed.register("SDE", req)


@pytest.mark.parametrize("kind", [Kind.PRODUCT, Kind.ASSET])
def test_core_data_is_never_listed(fed: Fed, kind: Kind) -> None:
    owner, _ = fed.entity()
    core = fed.register("SDE", request(owner, grade=Grade.CORE))  # a core resource is fine
    assert fed.svc.record(core).grade == Grade.CORE
    fed.register("SDE", request(owner, grade=Grade.CORE, parents=(core,)))  # a derived core resource too
    with reverts("CoreNotListable", kind=int(kind)):
        fed.register("SDE", request(owner, kind=kind, grade=Grade.CORE, parents=(core,)))
    with reverts("CoreNotListable", kind=int(kind)):
        fed.register("SDE", request(owner, kind=kind, grade=Grade.CORE))


def test_one_registrar_cannot_register_the_same_content_twice(fed: Fed) -> None:
    owner, _ = fed.entity(mandate_to=("SDE", "ZJDE"))
    content = h("same data")
    first = fed.register("SDE", request(owner, content=content))
    with reverts("AlreadyRegistered", id=first):
        fed.register("SDE", request(owner, content=content, kind=Kind.PRODUCT))
    # Another exchange listing the same data gets its own record, found by the same content hash.
    second = fed.register("ZJDE", request(owner, content=content))
    assert second != first and fed.svc.record(second).content_hash == content


@pytest.mark.parametrize(("field", "value", "error"), [
    ("kind", 3, "InvalidKind"), ("grade", 3, "InvalidGrade"), ("source", 3, "InvalidSource"),
    ("rights", 0, "InvalidRights"), ("rights", 8, "InvalidRights"),
])
def test_out_of_range_fields_refused(fed: Fed, field: str, value: int, error: str) -> None:
    owner, _ = fed.entity()
    t = list(request(owner).as_abi_tuple())
    t[["kind", "grade", "source", "rights"].index(field)] = value
    with reverts(error):
        fed.contracts.transact(fed.keys["SDE"], "Registry", "register", tuple(t))


def test_zero_content_hash_refused(fed: Fed) -> None:
    owner, _ = fed.entity()
    with reverts("ZeroContentHash"):
        fed.register("SDE", request(owner, content=h("x").__class__(bytes(32))))


def test_direct_registration_needs_the_owners_mandate(fed: Fed) -> None:
    owner, account = fed.entity("SDE", mandate_to=())
    with reverts("NoMandate", owner=owner, exchangeId=1):
        fed.register("SDE", request(owner))
    fed.svc.set_mandate(account, owner, "SDE", True)
    fed.register("SDE", request(owner))
    fed.svc.set_mandate(account, owner, "SDE", False)
    with reverts("NoMandate"):
        fed.register("SDE", request(owner))
    # A mandate to one exchange is not a mandate to another.
    fed.svc.set_mandate(account, owner, "SDE", True)
    with reverts("NoMandate", owner=owner, exchangeId=2):
        fed.register("ZJDE", request(owner))


def test_unknown_owner_has_no_mandate(fed: Fed) -> None:
    with reverts("NoMandate", owner=999):
        fed.register("SDE", request(999))


# ---------------------------------------------------------------------- status


def test_only_the_registrar_changes_status(fed: Fed) -> None:
    owner, _ = fed.entity()
    rid = fed.register("SDE", request(owner))
    with reverts("NotRegistrar", id=rid, registrar=1, caller=2):
        fed.svc.set_status(fed.keys["ZJDE"], rid, Status.SUSPENDED)
    with reverts("NotExchangeKey"):
        fed.svc.set_status(Account.create(), rid, Status.SUSPENDED)


@pytest.mark.parametrize(("path", "refused"), [
    ([Status.SUSPENDED, Status.ACTIVE, Status.REVOKED], None),
    ([Status.SUSPENDED, Status.REVOKED], None),
    ([Status.REVOKED, Status.ACTIVE], Status.ACTIVE),
    ([Status.REVOKED, Status.SUSPENDED], Status.SUSPENDED),
    ([Status.REVOKED, Status.REVOKED], Status.REVOKED),
    ([Status.ACTIVE], Status.ACTIVE),
    ([Status.SUSPENDED, Status.SUSPENDED], Status.SUSPENDED),
    ([Status.SUPERSEDED], Status.SUPERSEDED),
    ([Status.NONE], Status.NONE),
])
def test_status_transitions(fed: Fed, path: list[Status], refused: Status | None) -> None:
    owner, _ = fed.entity()
    rid = fed.register("SDE", request(owner))
    for i, status in enumerate(path):
        if refused is not None and i == len(path) - 1:
            before = fed.svc.record(rid).status
            with reverts("InvalidStatusTransition", id=rid, to=int(status)) as info:
                fed.svc.set_status(fed.keys["SDE"], rid, status)
            assert info.value.args_by_name["from"] == int(before)
            assert fed.svc.record(rid).status == before
        else:
            fed.svc.set_status(fed.keys["SDE"], rid, status)
            assert fed.svc.record(rid).status == status


def test_status_change_of_unknown_record(fed: Fed) -> None:
    with reverts("UnknownRecord"):
        fed.svc.set_status(fed.keys["SDE"], RecordId(h("missing")), Status.REVOKED)


def test_status_event_carries_reason(fed: Fed) -> None:
    owner, _ = fed.entity()
    rid = fed.register("SDE", request(owner))
    tx = fed.contracts.transact(fed.keys["SDE"], "Registry", "setStatus", rid, int(Status.REVOKED), h("why"))
    ev = tx.event("StatusChanged").args
    assert (ev["id"], ev["registrar"], ev["previous"], ev["current"], ev["reason"]) == (
        rid, 1, int(Status.ACTIVE), int(Status.REVOKED), h("why"))


# ---------------------------------------------------------------------- versions


def test_new_version_supersedes_the_old(fed: Fed) -> None:
    owner, _ = fed.entity()
    v1 = fed.register("SDE", request(owner))
    tx = fed.contracts.transact(fed.keys["SDE"], "Registry", "register",
                                request(owner, supersedes=v1).as_abi_tuple())
    v2 = tx.event("DataRegistered").args["id"]
    changed = tx.event("StatusChanged").args
    assert (changed["id"], changed["current"], changed["reason"]) == (v1, int(Status.SUPERSEDED), v2)
    assert fed.svc.record(v1).status == Status.SUPERSEDED
    # Superseded is reached only through a new version, may still be revoked, and cannot be superseded twice.
    with reverts("InvalidStatusTransition"):
        fed.register("SDE", request(owner, supersedes=v1))
    with reverts("InvalidStatusTransition"):
        fed.svc.set_status(fed.keys["SDE"], v1, Status.ACTIVE)
    fed.svc.set_status(fed.keys["SDE"], v1, Status.REVOKED)


def test_supersede_rules(fed: Fed) -> None:
    owner, _ = fed.entity(mandate_to=("SDE", "ZJDE"))
    other, _ = fed.entity("SDE")
    v1 = fed.register("SDE", request(owner))
    with reverts("UnknownRecord"):
        fed.register("SDE", request(owner, supersedes=h("missing")))
    with reverts("NotRegistrar", id=v1, registrar=1, caller=2):
        fed.register("ZJDE", request(owner, supersedes=v1))
    with reverts("SupersedeMismatch", supersededId=v1):
        fed.register("SDE", request(other, supersedes=v1))
    with reverts("SupersedeMismatch", supersededId=v1):
        fed.register("SDE", request(owner, kind=Kind.PRODUCT, supersedes=v1))
    fed.svc.set_status(fed.keys["SDE"], v1, Status.REVOKED)
    with reverts("InvalidStatusTransition"):
        fed.register("SDE", request(owner, supersedes=v1))


# ---------------------------------------------------------------------- batches


def test_batch_is_all_or_nothing(fed: Fed) -> None:
    owner, _ = fed.entity()
    good = [request(owner) for _ in range(3)]
    ids, _ = fed.svc.register_batch(fed.keys["SDE"], good)
    assert ids == [record_id(1, r.content_hash) for r in good]
    before = fed.svc.counts()
    bad = [request(owner), request(owner, parents=(RecordId(h("missing")),))]
    with reverts("UnknownParent"):
        fed.svc.register_batch(fed.keys["SDE"], bad)
    assert fed.svc.counts() == before
    from provenance.errors import NotFound

    with pytest.raises(NotFound):
        fed.svc.record(record_id(1, bad[0].content_hash))


def test_batch_member_may_derive_from_an_earlier_member(fed: Fed) -> None:
    owner, _ = fed.entity()
    first = request(owner)
    second = request(owner, parents=(record_id(1, first.content_hash),))
    ids, _ = fed.svc.register_batch(fed.keys["SDE"], [first, second])
    assert fed.svc.record(ids[1]).parents == (ids[0],)


# ---------------------------------------------------------------------- entities


def test_entity_lifecycle(fed: Fed) -> None:
    account = Account.create()
    eid = fed.svc.register_entity(fed.keys["ZJDE"], h("uscc-1"), account, fed.svc.entity(
        fed.entity()[0]).role)
    e = fed.svc.entity(eid)
    assert (e.registrar, e.account, e.identifier_hash, e.nonce) == (2, addr(account), h("uscc-1"), 0)
    assert fed.svc.entity_by_identifier(h("uscc-1")).id == eid
    with reverts("EntityExists", identifierHash=h("uscc-1"), entityId=eid):
        fed.svc.register_entity(fed.keys["SDE"], h("uscc-1"), addr(Account.create()), e.role)
    with reverts("ZeroIdentifier"):
        fed.svc.register_entity(fed.keys["SDE"], h("x").__class__(bytes(32)), addr(account), e.role)
    with reverts("ZeroAccount"):
        fed.svc.register_entity(fed.keys["SDE"], h("uscc-2"), bytes(20), e.role)
    with reverts("InvalidRole", role=6):
        fed.contracts.transact(fed.keys["SDE"], "Registry", "registerEntity", h("uscc-3"), account.address, 6, 0,
                               b"")
    # Recognition by another exchange, once; never by the onboarding exchange.
    with reverts("SelfRecognition", entityId=eid, exchangeId=2):
        fed.svc.recognize_entity(fed.keys["ZJDE"], eid)
    fed.svc.recognize_entity(fed.keys["SDE"], eid)
    assert fed.svc.is_recognized(eid, "SDE") and not fed.svc.is_recognized(eid, "AHDE")
    with reverts("AlreadyRecognized"):
        fed.svc.recognize_entity(fed.keys["SDE"], eid)
    with reverts("UnknownEntity", entityId=77):
        fed.svc.recognize_entity(fed.keys["SDE"], 77)
    # Account rotation by the entity itself.
    new = Account.create()
    with reverts("NotEntityAccount"):
        fed.svc.set_entity_account(new, eid, addr(new))
    fed.svc.set_entity_account(account, eid, addr(new))
    assert fed.svc.entity(eid).account == addr(new)
    with reverts("ZeroAccount"):
        fed.svc.set_entity_account(new, eid, bytes(20))


def test_mandate_only_for_active_exchanges(fed: Fed) -> None:
    eid, account = fed.entity("SDE", mandate_to=())
    with reverts("UnknownExchange", exchangeId=9):
        fed.contracts.transact(account, "Registry", "setMandate", eid, 9, True)
    fed.svc.propose_remove_exchange(fed.keys["SDE"], "AHDE")
    with reverts("ExchangeNotActive", exchangeId=3):
        fed.svc.set_mandate(account, eid, 3, True)
    fed.svc.set_mandate(account, eid, 3, False)  # withdrawing always works
