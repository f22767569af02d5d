"""The cross-border flows in the index: what each CrossBorder (and supervisor) event does, and the reads.

Flows are few beside registrations, so their values are small canonical JSON objects (sorted keys) rather than
packed structs; keys are still big-endian ids so that scans come back in id order:

    A <app:8>                       an application (JSON), kept current by the decision and delivery events
    P <app:8>                       the supervisors' queue: applications waiting for a decision
    X <exporter:4> <app:8>          applications by exporter
    R <record:32> <app:8>           applications by record
    D <delivery:8>                  a delivery (JSON)
    E <exporter:4> <delivery:8>     deliveries by exporter (the spot checks' population, in order)
    B <app:8> <delivery:8>          deliveries by application
    K <check:8>                     a spot check (JSON)
    O <check:8>                     spot checks announced and not yet drawn (what nodes draw as soon as they may)
    L <category:32> <dest:2>        a low-risk catalogue entry (JSON); deleted when delisted
    V <supervisor:2>                a supervisor (JSON, with its key history)
"""

from __future__ import annotations

from typing import Any

import orjson

from provenance.core import flows as F
from provenance.core.ids import code_text, hex0x
from provenance.errors import NotFound, StoreError
from provenance.indexer.events import Event
from provenance.store import keys as K
from provenance.store.index import BlockWriter, IndexStore


def _dump(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _u(n: int, width: int) -> bytes:
    return n.to_bytes(width, "big")


def _load(w: BlockWriter, key: bytes, what: str) -> dict[str, Any]:
    raw = w.get(key)
    if raw is None:
        raise StoreError(f"{what} is not in the index (corrupt index or events out of order)")
    value: dict[str, Any] = orjson.loads(raw)
    return value


def _address(value: str) -> str:
    return value.lower() if value.startswith("0x") else "0x" + value.lower()


# ---------------------------------------------------------------------- handlers


def _application_filed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    app_id = a["applicationId"]
    value = {
        "id": app_id, "recordId": hex0x(a["recordId"]), "exporter": a["exporter"], "receiver": a["receiver"],
        "destination": a["destination"].decode("ascii", "replace"), "category": F.category_text(a["category"]),
        "grade": a["grade"], "assessmentRef": hex0x(a["assessmentRef"]), "filedBy": a["filedBy"],
        "purpose": a["purpose"], "status": "pending", "filedBlock": ev.block_number, "filedTx": hex0x(ev.tx_hash),
        "decidedBy": 0, "decidedBlock": 0, "signed": False, "expiresAt": 0, "volumeLimit": 0, "delivered": 0,
        "deliveries": 0, "reason": "",
    }
    w.put_new([
        (K.FLOW_APP + _u(app_id, 8), _dump(value)),
        (K.FLOW_PENDING + _u(app_id, 8), b""),
        (K.FLOW_APP_BY_EXPORTER + _u(a["exporter"], 4) + _u(app_id, 8), b""),
        (K.FLOW_APP_BY_RECORD + a["recordId"] + _u(app_id, 8), b""),
    ])


def _decide(w: BlockWriter, ev: Event, status: str, **fields: Any) -> None:
    app_id = ev.args["applicationId"]
    key = K.FLOW_APP + _u(app_id, 8)
    value = _load(w, key, f"application {app_id}")
    value.update(status=status, **fields)
    w.put(key, _dump(value))
    w.delete(K.FLOW_PENDING + _u(app_id, 8))


def _application_approved(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _decide(w, ev, "approved", decidedBy=a["supervisorId"], decidedBlock=ev.block_number, signed=a["signed"],
            expiresAt=a["expiresAt"], volumeLimit=a["volumeLimit"])


def _application_rejected(w: BlockWriter, ev: Event) -> None:
    _decide(w, ev, "rejected", decidedBy=ev.args["supervisorId"], decidedBlock=ev.block_number,
            reason=_reason(ev.args["reason"]))


def _approval_revoked(w: BlockWriter, ev: Event) -> None:
    _decide(w, ev, "revoked", revokedBy=ev.args["supervisorId"], revokedBlock=ev.block_number,
            reason=_reason(ev.args["reason"]))


def _delivery_recorded(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    d_id, app_id, exporter = a["deliveryId"], a["applicationId"], a["exporter"]
    key = K.FLOW_APP + _u(app_id, 8)
    app = _load(w, key, f"application {app_id}")
    app["delivered"] = a["delivered"]
    app["deliveries"] += 1
    w.put(key, _dump(app))
    value = {"id": d_id, "application": app_id, "exporter": exporter, "manifestHash": hex0x(a["manifestHash"]),
             "size": a["size"], "timestamp": a["timestamp"], "block": ev.block_number, "tx": hex0x(ev.tx_hash)}
    w.put_new([
        (K.FLOW_DELIVERY + _u(d_id, 8), _dump(value)),
        (K.FLOW_DELIVERY_BY_EXPORTER + _u(exporter, 4) + _u(d_id, 8), b""),
        (K.FLOW_DELIVERY_BY_APP + _u(app_id, 8) + _u(d_id, 8), b""),
    ])


def _spot_check_announced(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    value = {"id": a["checkId"], "exporter": a["exporter"], "supervisor": a["supervisorId"],
             "population": a["population"], "sampleSize": a["sampleSize"], "seedBlock": a["seedBlock"],
             "announcedBlock": ev.block_number, "state": "announced", "seed": None, "sample": [],
             "reportHash": None, "passed": 0, "failed": 0}
    w.put_new([(K.FLOW_CHECK + _u(a["checkId"], 8), _dump(value)), (K.FLOW_CHECK_OPEN + _u(a["checkId"], 8), b"")])


def _update_check(w: BlockWriter, check_id: int, **fields: Any) -> None:
    key = K.FLOW_CHECK + _u(check_id, 8)
    value = _load(w, key, f"spot check {check_id}")
    value.update(fields)
    w.put(key, _dump(value))


def _sample_drawn(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _update_check(w, a["checkId"], state="drawn", seed=hex0x(a["seed"]), sample=list(a["deliveryIds"]),
                  drawnBlock=ev.block_number)
    w.delete(K.FLOW_CHECK_OPEN + _u(a["checkId"], 8))


def _spot_check_lapsed(w: BlockWriter, ev: Event) -> None:
    _update_check(w, ev.args["checkId"], state="lapsed")
    w.delete(K.FLOW_CHECK_OPEN + _u(ev.args["checkId"], 8))


def _spot_check_concluded(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _update_check(w, a["checkId"], state="concluded", reportHash=hex0x(a["reportHash"]), passed=a["passed"],
                  failed=a["failed"], concludedBlock=ev.block_number)


def _catalogue_changed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    key = K.FLOW_CATALOGUE + a["category"] + a["destination"]
    if a["listed"]:
        w.put(key, _dump({"category": F.category_text(a["category"]),
                          "destination": a["destination"].decode("ascii", "replace"),
                          "maxValidity": a["maxValidity"], "maxVolume": a["maxVolume"],
                          "supervisor": a["supervisorId"], "block": ev.block_number}))
    else:
        w.delete(key)


def _supervisor_added(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    w.put(K.SUPERVISOR + _u(a["supervisorId"], 2), _dump({
        "id": a["supervisorId"], "code": code_text(a["code"]), "name": a["name"], "status": "active",
        "joinedAt": ev.block_number, "removedAt": 0,
        "keys": [{"address": _address(a["key"]), "validFrom": ev.block_number, "validTo": 0}]}))


def _supervisor_removed(w: BlockWriter, ev: Event) -> None:
    key = K.SUPERVISOR + _u(ev.args["supervisorId"], 2)
    value = _load(w, key, f"supervisor {ev.args['supervisorId']}")
    value.update(status="removed", removedAt=ev.block_number)
    for k in value["keys"]:
        if k["validTo"] == 0:
            k["validTo"] = ev.block_number
    w.put(key, _dump(value))


def _supervisor_key_changed(w: BlockWriter, ev: Event) -> None:
    key = K.SUPERVISOR + _u(ev.args["supervisorId"], 2)
    value = _load(w, key, f"supervisor {ev.args['supervisorId']}")
    for k in value["keys"]:
        if k["validTo"] == 0:
            k["validTo"] = ev.block_number
    value["keys"].append({"address": _address(ev.args["newKey"]), "validFrom": ev.block_number, "validTo": 0})
    w.put(key, _dump(value))


def _reason(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "replace")


HANDLERS = {
    "ApplicationFiled": _application_filed,
    "ApplicationApproved": _application_approved,
    "ApplicationRejected": _application_rejected,
    "ApprovalRevoked": _approval_revoked,
    "DeliveryRecorded": _delivery_recorded,
    "SpotCheckAnnounced": _spot_check_announced,
    "SampleDrawn": _sample_drawn,
    "SpotCheckLapsed": _spot_check_lapsed,
    "SpotCheckConcluded": _spot_check_concluded,
    "CatalogueChanged": _catalogue_changed,
    "SupervisorAdded": _supervisor_added,
    "SupervisorRemoved": _supervisor_removed,
    "SupervisorKeyChanged": _supervisor_key_changed,
}


# ---------------------------------------------------------------------- reads


class FlowQueries:
    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def _get(self, key: bytes, missing: str) -> dict[str, Any]:
        raw = self.store.get(key)
        if raw is None:
            raise NotFound(missing)
        value: dict[str, Any] = orjson.loads(raw)
        return value

    def application(self, app_id: int) -> dict[str, Any]:
        return self._get(K.FLOW_APP + _u(app_id, 8), f"no cross-border application {app_id} in this index")

    def applications(self, *, exporter: int | None = None, record: bytes | None = None, status: str | None = None,
                     after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Applications in id order after ``after``; by exporter or record (index scans), filtered by status."""
        if exporter is not None:
            prefix = K.FLOW_APP_BY_EXPORTER + _u(exporter, 4)
        elif record is not None:
            prefix = K.FLOW_APP_BY_RECORD + record
        elif status == "pending":
            prefix = K.FLOW_PENDING
        else:
            prefix = K.FLOW_APP
        out: list[dict[str, Any]] = []
        for key, raw in self.store.scan_from(prefix, prefix + _u(after + 1, 8), limit=2**31):
            app = orjson.loads(raw) if prefix == K.FLOW_APP else self.application(int.from_bytes(key[-8:], "big"))
            if status is None or app["status"] == status:
                out.append(app)
                if len(out) >= limit:
                    break
        return out

    def delivery(self, delivery_id: int) -> dict[str, Any]:
        return self._get(K.FLOW_DELIVERY + _u(delivery_id, 8), f"no delivery {delivery_id} in this index")

    def deliveries(self, *, application: int | None = None, exporter: int | None = None, after: int = 0,
                   limit: int = 100) -> list[dict[str, Any]]:
        if application is not None:
            prefix = K.FLOW_DELIVERY_BY_APP + _u(application, 8)
        elif exporter is not None:
            prefix = K.FLOW_DELIVERY_BY_EXPORTER + _u(exporter, 4)
        else:
            prefix = K.FLOW_DELIVERY
        return [orjson.loads(raw) if prefix == K.FLOW_DELIVERY else self.delivery(int.from_bytes(key[-8:], "big"))
                for key, raw in self.store.scan_from(prefix, prefix + _u(after + 1, 8), limit=limit)]

    def delivery_ids_of(self, exporter: int) -> list[int]:
        """The exporter's deliveries in order: the population a spot check draws its positions from."""
        prefix = K.FLOW_DELIVERY_BY_EXPORTER + _u(exporter, 4)
        return [int.from_bytes(key[-8:], "big") for key, _ in self.store.scan(prefix)]

    def spot_check(self, check_id: int) -> dict[str, Any]:
        return self._get(K.FLOW_CHECK + _u(check_id, 8), f"no spot check {check_id} in this index")

    def spot_checks(self, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for _, raw in
                self.store.scan_from(K.FLOW_CHECK, K.FLOW_CHECK + _u(after + 1, 8), limit=limit)]

    def undrawn_checks(self) -> list[dict[str, Any]]:
        """Spot checks announced and not drawn yet, oldest first."""
        return [self.spot_check(int.from_bytes(key[1:], "big")) for key, _ in self.store.scan(K.FLOW_CHECK_OPEN)]

    def catalogue(self) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for _, raw in self.store.scan(K.FLOW_CATALOGUE)]

    def supervisors(self) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for _, raw in self.store.scan(K.SUPERVISOR)]

    def supervisor_of_key(self, address: bytes) -> int | None:
        """The active supervisor whose current key this is, per the index."""
        want = hex0x(address)
        for s in self.supervisors():
            if s["status"] == "active" and any(k["address"] == want and k["validTo"] == 0 for k in s["keys"]):
                return int(s["id"])
        return None


__all__ = ["HANDLERS", "FlowQueries"]
