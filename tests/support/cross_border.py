"""The cross-border contract's test world: a federation with two supervisors, an exporter and a receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.cross_border import FlowService
from provenance.types import Grade, RecordId
from tests.support.federation import Fed, h, make_fed, request

DAY = 86_400


@dataclass
class World:
    fed: Fed
    flows: FlowService
    cac: LocalAccount  # supervisor 1
    sh: LocalAccount  # supervisor 2
    exporter: int
    exporter_key: LocalAccount
    receiver: int

    @property
    def sde(self) -> LocalAccount:
        return self.fed.keys["SDE"]

    def record(self, grade: Grade = Grade.GENERAL, owner: int | None = None) -> RecordId:
        return self.fed.register("SDE", request(self.exporter if owner is None else owner, grade=grade))

    def file(self, rid: RecordId, *, category: str = "IOT.TELEMETRY", destination: str = "SG",
             assessment: bytes | None = None, signer: LocalAccount | None = None,
             exporter: int | None = None) -> tuple[int, str]:
        app_id, status, _ = self.flows.file(signer or self.sde, record_id=rid,
                                            exporter=self.exporter if exporter is None else exporter,
                                            receiver=self.receiver, destination=destination, category=category,
                                            purpose="after-sales maintenance", assessment_ref=assessment)
        return app_id, status

    def approved(self, *, expires_at: int = 0, volume: int = 0, grade: Grade = Grade.GENERAL) -> int:
        app_id, status = self.file(self.record(grade), assessment=h("assessment") if grade == Grade.IMPORTANT else None)
        assert status == "pending"
        self.flows.approve(self.cac, app_id, expires_at=expires_at, volume_limit=volume)
        return app_id

    def now(self) -> int:
        return self.fed.chain.get_block(self.fed.chain.block_number()).timestamp


def cross_border_world(tmp_path: Path) -> Iterator[World]:
    fed = make_fed(tmp_path / "chain")
    cac, sh = Account.create(), Account.create()
    assert fed.svc.propose_add_supervisor(fed.keys["SDE"], "CAC", "Cyberspace Administration", cac).executed
    assert fed.svc.propose_add_supervisor(fed.keys["ZJDE"], "SHCAC", "Shanghai Cyberspace Office", sh).executed
    exporter, exporter_key = fed.entity("SDE")
    receiver, _ = fed.entity("ZJDE")
    yield World(fed, FlowService(fed.contracts), cac, sh, exporter, exporter_key, receiver)
    fed.chain.close()
