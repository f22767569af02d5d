"""The federation: chain and contracts, member exchanges with their key histories and checkpoints, governance
proposals, and the entities (merchants and other parties) the exchanges onboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path, Query

from provenance.api.deps import (
    API,
    Admin,
    ExchangeRef,
    Writer,
    answer,
    ok,
    typed,
)
from provenance.api.runtime import Runtime
from provenance.api.schemas import (
    AnchorOut,
    ConsistencyOut,
    EntityIn,
    EntityOut,
    ExchangeDetailOut,
    ExchangeOut,
    FederationOut,
    KeyOut,
    LogOut,
    OnboardingConsentOut,
    ProposalOut,
    RecognizedEntityOut,
    WitnessedOut,
)
from provenance.errors import InvalidInput


def install(app: FastAPI, rt: Runtime) -> None:
    ops = rt.ops

    @app.get(f"{API}/federation", tags=["federation"], summary="Chain, contracts, members and counts",
             responses=ok(FederationOut, 200))
    def federation() -> Any:
        info = ops.info()
        info.pop("key", None)
        return {**info, "exchange": rt.exchange_id, "supervisor": rt.supervisor_id, "index": rt.index_state()}

    @app.get(f"{API}/exchanges", tags=["federation"], summary="Member exchanges", **typed(list[ExchangeOut], 200))
    def exchanges() -> Any:
        return answer(ops.exchanges())

    @app.get(f"{API}/exchanges/{{exchange}}", tags=["federation"], summary="An exchange with its key history",
             **typed(ExchangeDetailOut, 200))
    def exchange(exchange: ExchangeRef) -> Any:
        return answer(ops.exchange(exchange))

    @app.get(f"{API}/exchanges/{{exchange}}/keys", tags=["federation"], summary="An exchange's keys, past and "
             "present, with the blocks they were valid in", **typed(list[KeyOut], 200))
    def exchange_keys(exchange: ExchangeRef) -> Any:
        return answer(ops.keys_of(exchange))

    @app.get(f"{API}/exchanges/{{exchange}}/checkpoints", tags=["federation"],
             summary="An exchange's transparency log: size, root, anchored checkpoints and their cosigners",
             **typed(LogOut, 200))
    def checkpoints(exchange: ExchangeRef, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> Any:
        return answer(ops.log(exchange, limit=limit))

    @app.get(f"{API}/exchanges/{{exchange}}/consistency", tags=["federation"],
             summary="RFC 9162 consistency proof between two sizes of an exchange's log",
             **typed(ConsistencyOut, 200))
    def consistency(exchange: ExchangeRef, size1: Annotated[int, Query(ge=0, le=2**63)],
                    size2: Annotated[int, Query(ge=0, le=2**63)]) -> Any:
        if size1 > size2:
            raise InvalidInput(f"size1 ({size1}) is larger than size2 ({size2}): a consistency proof goes from an "
                               f"earlier (smaller) size of the log to a later one")
        return answer(ops.consistency(exchange, size1, size2))

    @app.post(f"{API}/checkpoints", tags=["federation"], status_code=201, **typed(AnchorOut, 201, write=True),
              summary="Anchor this exchange's log as it stands (covers its direct registrations)")
    def anchor(_p: Writer) -> Any:
        return ops.anchor()

    @app.post(f"{API}/witness", tags=["federation"], **typed(list[WitnessedOut], 200, write=True),
              summary="Cosign partners' new checkpoints after checking their consistency")
    def witness(_p: Admin) -> Any:
        return ops.witness()

    @app.get(f"{API}/proposals", tags=["federation"], summary="Governance proposals",
             **typed(list[ProposalOut], 200))
    def proposals() -> Any:
        return answer(ops.proposals())

    # Before /entities/{entity}, which would otherwise take "consent" for an id.
    @app.get(f"{API}/entities/consent", tags=["federation"], **typed(OnboardingConsentOut, 200),
             summary="The EIP-712 typed data (eth_signTypedData_v4) an entity's account signs to consent "
                     "to its onboarding here")
    def onboarding_consent(identifier: Annotated[str, Query(min_length=1, max_length=128)],
                           account: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")],
                           role: Annotated[str, Query(pattern=r"^(supplier|demander|service-provider)$")] = "supplier",
                           deadline: Annotated[int | None, Query(ge=0, le=2**64 - 1)] = None) -> Any:
        return answer(ops.onboarding_consent(identifier, account, role, deadline))

    @app.get(f"{API}/entities/{{entity}}", tags=["federation"], summary="A merchant or other entity",
             **typed(EntityOut, 200))
    def entity(entity: Annotated[int, Path(ge=1, le=2**32 - 1)]) -> Any:
        return answer(ops.entity(entity))

    @app.get(f"{API}/entities", tags=["federation"], summary="Find an entity by its identifier",
             **typed(EntityOut, 200))
    def entity_by_identifier(identifier: Annotated[str, Query(min_length=1, max_length=128)]) -> Any:
        return answer(ops.entity_by_identifier(identifier))

    @app.post(f"{API}/entities", tags=["federation"], status_code=201, **typed(EntityOut, 201, write=True),
              summary="Onboard an entity at this exchange")
    def add_entity(body: EntityIn, _p: Admin) -> Any:
        if body.profile is not None:  # refused before the entity is onboarded: nothing written on a bad profile
            rt.catalog.check_profile(body.profile, body.identifier)
        out = ops.add_entity(body.identifier, body.account, body.role, deadline=body.deadline,
                             consent=body.consent)
        if body.profile is not None:
            rt.catalog.set_profile(out.id, body.profile)
        return out

    @app.post(f"{API}/entities/{{entity}}/recognition", tags=["federation"],
              **typed(RecognizedEntityOut, 200, write=True),
              summary="Recognise an entity onboarded by another exchange")
    def recognize_entity(entity: Annotated[int, Path(ge=1, le=2**32 - 1)], _p: Admin) -> Any:
        return ops.recognize_entity(entity)
