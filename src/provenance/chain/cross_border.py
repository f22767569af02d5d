"""Cross-border flows on the chain: applications, approvals, deliveries, spot checks (``contracts/CrossBorder.sol``).

Each write takes its signer explicitly (an exchange key acting under the exporter's mandate, the exporter's own
key, or a supervisor's key) and returns values decoded from the contract's events; reads go to the contract's
views. Every refusal reaches the caller as :class:`~provenance.errors.ContractReverted` naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import CROSS_BORDER, Contracts, TxResult
from provenance.core import eip712
from provenance.core import flows as F
from provenance.core.ids import hex0x
from provenance.errors import ConfigError, ContractReverted, InvalidInput, NotFound


@dataclass(frozen=True)
class Application:
    id: int
    record_id: bytes
    category: str
    assessment_ref: bytes
    purpose_hash: bytes
    exporter: int
    receiver: int
    destination: str
    grade: int
    status: str
    filed_by: int
    decided_by: int
    filed_at: int
    decided_at: int
    expires_at: int
    volume_limit: int
    delivered: int
    deliveries: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "recordId": hex0x(self.record_id), "category": self.category,
                "assessmentRef": hex0x(self.assessment_ref), "purposeHash": hex0x(self.purpose_hash),
                "exporter": self.exporter, "receiver": self.receiver, "destination": self.destination,
                "grade": self.grade, "status": self.status, "filedBy": self.filed_by, "decidedBy": self.decided_by,
                "filedAt": self.filed_at, "decidedAt": self.decided_at, "expiresAt": self.expires_at,
                "volumeLimit": self.volume_limit, "delivered": self.delivered, "deliveries": self.deliveries}


@dataclass(frozen=True)
class SignedApproval:
    """A supervisor's approval of one application on given terms, as an EIP-712 signature anyone may relay."""

    application: int
    expires_at: int
    volume_limit: int
    deadline: int
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"application": self.application, "expiresAt": self.expires_at, "volumeLimit": self.volume_limit,
                "deadline": self.deadline, "signature": hex0x(self.signature)}


@dataclass(frozen=True)
class Drawn:
    check_id: int
    lapsed: bool
    seed: bytes
    sample: list[int]
    tx_hash: bytes


class FlowService:
    def __init__(self, contracts: Contracts) -> None:
        if not contracts.has_cross_border:
            raise ConfigError("this deployment has no cross-border contract (node.toml [contracts] cross_border)")
        self.contracts = contracts
        self.chain = contracts.chain
        self.address = contracts.address(CROSS_BORDER)

    # ------------------------------------------------------------------ catalogue

    def set_catalogue(self, signer: LocalAccount, category: str, destination: str, max_validity: int,
                      max_volume: int = 0) -> bytes:
        tx = self._tx(signer, "setCatalogueEntry", F.category_code(category), F.jurisdiction_code(destination),
                      _u64(max_validity, "max validity"), _u64(max_volume, "max volume"))
        return tx.receipt.tx_hash

    def catalogue_entry(self, category: str, destination: str) -> tuple[int, int]:
        validity, volume = self._call("catalogueEntry", F.category_code(category), F.jurisdiction_code(destination))[0]
        return int(validity), int(volume)

    # ------------------------------------------------------------------ applications

    def file(self, signer: LocalAccount, *, record_id: bytes, exporter: int, receiver: int, destination: str,
             category: str, purpose: str, assessment_ref: bytes | None = None) -> tuple[int, str, bytes]:
        """File an application; returns its id, its status right after (approved or pending) and the tx hash."""
        request = (record_id, exporter, receiver, F.jurisdiction_code(destination), F.category_code(category),
                   assessment_ref or bytes(32), F.check_purpose(purpose))
        tx = self._tx(signer, "fileApplication", request)
        app_id = int(tx.event("ApplicationFiled").args["applicationId"])
        status = "approved" if any(e.name == "ApplicationApproved" for e in tx.events) else "pending"
        return app_id, status, tx.receipt.tx_hash

    def approve(self, signer: LocalAccount, application: int, *, expires_at: int = 0, volume_limit: int = 0) -> bytes:
        tx = self._tx(signer, "approveApplication", application, _u64(expires_at, "expiry"),
                      _u64(volume_limit, "volume limit"))
        return tx.receipt.tx_hash

    def approval_digest(self, application: int, expires_at: int, volume_limit: int, deadline: int) -> bytes:
        app = self.application(application)
        return F.approval_digest(self.chain.chain_id, self.address, application, app.record_id, app.exporter,
                                 expires_at, volume_limit, deadline, receiver=app.receiver,
                                 destination=app.destination, category=app.category,
                                 purpose_hash=app.purpose_hash, assessment_ref=app.assessment_ref)

    def approval_typed_data(self, application: int, expires_at: int, volume_limit: int,
                            deadline: int) -> dict[str, object]:
        """The wallet's form of :meth:`approval_digest`: the ``eth_signTypedData_v4`` document a supervisor signs."""
        app = self.application(application)
        return F.approval_typed_data(self.chain.chain_id, self.address, application, app.record_id, app.exporter,
                                     expires_at, volume_limit, deadline, receiver=app.receiver,
                                     destination=app.destination, category=app.category,
                                     purpose_hash=app.purpose_hash, assessment_ref=app.assessment_ref)

    def sign_approval(self, supervisor: LocalAccount, application: int, *, expires_at: int = 0, volume_limit: int = 0,
                      deadline: int) -> SignedApproval:
        digest = self.approval_digest(application, _u64(expires_at, "expiry"), _u64(volume_limit, "volume limit"),
                                      deadline)
        return SignedApproval(application, expires_at, volume_limit, deadline,
                              eip712.sign_digest(digest, bytes(supervisor.key)))

    def approve_signed(self, relayer: LocalAccount, signed: SignedApproval) -> bytes:
        tx = self._tx(relayer, "approveWithSignature", signed.application, signed.expires_at, signed.volume_limit,
                      signed.deadline, signed.signature)
        return tx.receipt.tx_hash

    def reject(self, signer: LocalAccount, application: int, reason: str) -> bytes:
        return self._tx(signer, "rejectApplication", application, reason_code(reason)).receipt.tx_hash

    def revoke(self, signer: LocalAccount, application: int, reason: str) -> bytes:
        return self._tx(signer, "revokeApproval", application, reason_code(reason)).receipt.tx_hash

    def application(self, application: int) -> Application:
        try:
            raw = self._call("getApplication", application)[0]
        except ContractReverted as exc:
            if exc.error == "UnknownApplication":
                raise NotFound(f"no cross-border application {application}") from None
            raise
        (record_id, category, assessment, purpose_hash, exporter, receiver, destination, grade, status, filed_by,
         decided_by, filed_at, decided_at, expires_at, volume_limit, delivered, deliveries) = raw
        return Application(application, record_id, F.category_text(category), assessment, purpose_hash, exporter,
                           receiver, destination.decode("ascii", "replace"), grade, F.APPLICATION_STATUS[status],
                           filed_by, decided_by, filed_at, decided_at, expires_at, volume_limit, delivered, deliveries)

    # ------------------------------------------------------------------ evidence

    def deliver(self, signer: LocalAccount, application: int, manifest_hash: bytes, size: int) -> tuple[int, bytes]:
        tx = self._tx(signer, "recordDelivery", application, _h32(manifest_hash), _u64(size, "size"))
        return int(tx.event("DeliveryRecorded").args["deliveryId"]), tx.receipt.tx_hash

    def deliver_batch(self, signer: LocalAccount,
                      deliveries: list[tuple[int, bytes, int]]) -> tuple[list[int], bytes]:
        if not deliveries:
            raise InvalidInput("a delivery batch needs at least one delivery")
        tx = self._tx(signer, "recordDeliveries", [(a, _h32(m), _u64(s, "size")) for a, m, s in deliveries])
        return [int(e.args["deliveryId"]) for e in tx.events if e.name == "DeliveryRecorded"], tx.receipt.tx_hash

    def delivery(self, delivery_id: int) -> F.RecordedDelivery:
        app, _exporter, size, _ts, _block, manifest = self._call("getDelivery", delivery_id)[0]
        if app == 0:
            raise NotFound(f"no delivery {delivery_id}")
        return F.RecordedDelivery(delivery_id, app, manifest, size)

    def deliveries_of(self, exporter: int) -> list[int]:
        out: list[int] = []
        while True:
            page = [int(i) for i in self._call("deliveriesOf", exporter, len(out), 500)[0]]
            out += page
            if len(page) < 500:
                return out

    # ------------------------------------------------------------------ spot checks

    def announce(self, signer: LocalAccount, exporter: int, sample_size: int) -> tuple[int, int]:
        """Announce a check; returns its id and the block whose hash will seed it."""
        tx = self._tx(signer, "announceSpotCheck", exporter, sample_size)
        ev = tx.event("SpotCheckAnnounced")
        return int(ev.args["checkId"]), int(ev.args["seedBlock"])

    def draw(self, signer: LocalAccount, check_id: int) -> Drawn:
        tx = self._tx(signer, "drawSample", check_id)
        for e in tx.events:
            if e.name == "SampleDrawn":
                return Drawn(check_id, False, e.args["seed"], [int(i) for i in e.args["deliveryIds"]],
                             tx.receipt.tx_hash)
        return Drawn(check_id, True, bytes(32), [], tx.receipt.tx_hash)

    def conclude(self, signer: LocalAccount, check_id: int, sample: list[int], report_hash: bytes, passed: int,
                 failed: int) -> bytes:
        tx = self._tx(signer, "concludeSpotCheck", check_id, sample, _h32(report_hash), passed, failed)
        return tx.receipt.tx_hash

    def spot_check(self, check_id: int) -> dict[str, Any]:
        try:
            raw = self._call("getSpotCheck", check_id)[0]
        except ContractReverted as exc:
            if exc.error == "UnknownSpotCheck":
                raise NotFound(f"no spot check {check_id}") from None
            raise
        (exporter, supervisor, size, state, population, announced, seed_block, passed, failed, seed, sample_hash,
         report_hash) = raw
        return {"id": check_id, "exporter": exporter, "supervisor": supervisor, "sampleSize": size,
                "state": F.CHECK_STATE[state], "population": population, "announcedAt": announced,
                "seedBlock": seed_block, "passed": passed, "failed": failed, "seed": hex0x(seed),
                "sampleHash": hex0x(sample_hash), "reportHash": hex0x(report_hash)}

    def counts(self) -> dict[str, int]:
        apps, deliveries, checks = self._call("counts")
        return {"applications": int(apps), "deliveries": int(deliveries), "spotChecks": int(checks)}

    # ------------------------------------------------------------------ plumbing

    def _call(self, fn: str, *args: Any) -> tuple[Any, ...]:
        return self.contracts.call(CROSS_BORDER, fn, *args)

    def _tx(self, signer: LocalAccount, fn: str, *args: Any) -> TxResult:
        return self.contracts.transact(signer, CROSS_BORDER, fn, *args)


def reason_code(text: str) -> bytes:
    """A reason as the contract keeps it: up to 32 bytes of UTF-8, left-aligned."""
    raw = text.encode()
    if not 0 < len(raw) <= 32:
        raise InvalidInput("a reason is 1 to 32 bytes of text")
    return raw.ljust(32, b"\0")


def _u64(value: int, what: str) -> int:
    if not isinstance(value, int) or not 0 <= value < 2**64:
        raise InvalidInput(f"{what} must be an integer from 0 to 2**64-1")
    return value


def _h32(value: bytes) -> bytes:
    if len(value) != 32:
        raise InvalidInput("a manifest hash is 32 bytes")
    return value


__all__ = ["Application", "Drawn", "FlowService", "SignedApproval", "reason_code"]
