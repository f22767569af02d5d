"""Cross-border flows, the pure part: codes, manifests, approval digests, the spot-check draw and its report.

Everything here mirrors ``contracts/CrossBorder.sol`` byte for byte (tests compare with the contract's views):

* a **category** is 1-32 bytes of ``[A-Z0-9.-]``, left-aligned in a ``bytes32``; a **destination** is an ISO 3166-1
  alpha-2 code other than CN (transfers out of mainland China);
* a **manifest** is the JSON document describing one delivery (its files, their SHA-256 and sizes); the chain
  records ``manifest_hash`` (SHA-256 of its RFC 8785 canonical form) and its size (the sum of its files' sizes);
* a supervisor's **approval** is an EIP-712 signature (its wallet signs the ``eth_signTypedData_v4`` document of
  :func:`approval_typed_data`) over the application and every term of it the contract
  stores (record, exporter, receiver, destination, category, purpose hash, assessment), the approval's terms
  (expiry, volume) and a deadline, under the domain "ProvenanceCrossBorder" of one chain and one contract, so a
  signature for one application cannot approve different terms;
* a spot check's **seed** is ``keccak256(abi.encode(seedBlockHash, chainId, contract, checkId))``; its **sample**
  is drawn without replacement by ``keccak256(abi.encode(seed, counter)) mod population``, skipping repeats.

No I/O: callers hand in what they read from the chain.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_hash.auto import keccak

from provenance.core.canonical import MalformedDocument, as_hex, as_int, as_list, as_str, canonical_json, field, hex0x
from provenance.core.eip712 import typed_data
from provenance.errors import InvalidInput

DOMAIN_NAME = "ProvenanceCrossBorder"
DOMAIN_VERSION = "1"
APPROVAL_TYPE = (
    "Approval(uint64 application,bytes32 recordId,uint32 exporter,uint32 receiver,bytes2 destination,"
    "bytes32 category,bytes32 purposeHash,bytes32 assessmentRef,uint64 expiresAt,uint64 volumeLimit,"
    "uint256 deadline)"
)
MAX_SAMPLE = 64
MAX_PURPOSE = 256
REPORT_TYPE = "SpotCheckReport"

_CATEGORY = re.compile(r"^[A-Z0-9.\-]{1,32}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}$")

APPLICATION_STATUS = ("none", "pending", "approved", "rejected", "revoked")
CHECK_STATE = ("none", "announced", "drawn", "concluded", "lapsed")


def _k(data: bytes) -> bytes:
    return bytes(keccak(data))


# ---------------------------------------------------------------------- codes


def category_code(text: str) -> bytes:
    """A category code as the contract keeps it (left-aligned ASCII in 32 bytes)."""
    if not isinstance(text, str) or not _CATEGORY.match(text):
        raise InvalidInput(f"category {text!r} must be 1-32 characters of A-Z, 0-9, '.' and '-'")
    return text.encode().ljust(32, b"\0")


def category_text(code: bytes) -> str:
    return code.rstrip(b"\0").decode("ascii", "replace")


def jurisdiction_code(text: str) -> bytes:
    if not isinstance(text, str) or not _JURISDICTION.match(text):
        raise InvalidInput(f"destination {text!r} must be an ISO 3166-1 alpha-2 code such as SG")
    if text == "CN":
        raise InvalidInput("destination CN is not cross-border: transfers out of mainland China only")
    return text.encode()


def check_purpose(text: str) -> str:
    if not isinstance(text, str) or not 0 < len(text.encode()) <= MAX_PURPOSE:
        raise InvalidInput(f"purpose must be 1 to {MAX_PURPOSE} bytes of text")
    return text


def assessment_hash(reference: str) -> bytes:
    """The on-chain form of a security-assessment reference given as text (e.g. a CAC filing number)."""
    if not reference.strip():
        raise InvalidInput("an assessment reference must not be empty")
    return _k(reference.strip().encode())


# ---------------------------------------------------------------------- manifests


@dataclass(frozen=True)
class Manifest:
    """One delivery: what was sent, file by file."""

    document: dict[str, Any]
    hash: bytes  # SHA-256 of the canonical JSON
    size: int  # bytes delivered: the sum of the files' sizes


def parse_manifest(document: Any) -> Manifest:
    """Check a manifest's shape: ``{"files": [{"path", "sha256", "size"}, ...], ...}`` with other fields free.

    Paths are unique; sizes are positive and add up to less than 2**64 bytes.
    """
    files = as_list(field(document, "files", "manifest"), "manifest.files")
    if not files:
        raise MalformedDocument("manifest.files must list at least one file")
    seen: set[str] = set()
    total = 0
    for i, f in enumerate(files):
        where = f"manifest.files[{i}]"
        path = as_str(field(f, "path", where), f"{where}.path")
        if not path or path in seen:
            raise MalformedDocument(f"{where}.path must be non-empty and unique")
        seen.add(path)
        as_hex(field(f, "sha256", where), f"{where}.sha256", 32)
        total += as_int(field(f, "size", where), f"{where}.size", lo=1, hi=2**53 - 1)
    if total >= 2**64:
        raise MalformedDocument("manifest: the files' sizes add up to 2**64 bytes or more")
    doc = dict(document)
    return Manifest(doc, hashlib.sha256(canonical_json(doc)).digest(), total)


# ---------------------------------------------------------------------- approvals


def domain_separator(chain_id: int, contract: bytes) -> bytes:
    return _k(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                     [_k(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                      _k(DOMAIN_NAME.encode()), _k(DOMAIN_VERSION.encode()), chain_id, contract]))


def approval_digest(chain_id: int, contract: bytes, application: int, record_id: bytes, exporter: int,
                    expires_at: int, volume_limit: int, deadline: int, *, receiver: int, destination: str,
                    category: str, purpose_hash: bytes, assessment_ref: bytes) -> bytes:
    """Mirrors ``CrossBorder.approvalDigest``: what a supervisor signs to approve an application on these terms.
    ``destination`` and ``category`` are their text forms ("SG", "TRADE.ORDERS"), encoded as the contract stores
    them (left-aligned ``bytes2`` and ``bytes32``, which EIP-712 pads on the right like ``abi.encode``)."""
    struct_hash = _k(encode(
        ["bytes32", "uint64", "bytes32", "uint32", "uint32", "bytes2", "bytes32", "bytes32", "bytes32", "uint64",
         "uint64", "uint256"],
        [_k(APPROVAL_TYPE.encode()), application, record_id, exporter, receiver, jurisdiction_code(destination),
         category_code(category), purpose_hash, assessment_ref, expires_at, volume_limit, deadline]))
    return _k(b"\x19\x01" + domain_separator(chain_id, contract) + struct_hash)


def approval_typed_data(chain_id: int, contract: bytes, application: int, record_id: bytes, exporter: int,
                        expires_at: int, volume_limit: int, deadline: int, *, receiver: int, destination: str,
                        category: str, purpose_hash: bytes, assessment_ref: bytes) -> dict[str, object]:
    """The ``eth_signTypedData_v4`` document of :func:`approval_digest` (same arguments): what a supervisor's
    wallet signs, every stored term of the application shown as the contract holds it (the destination as
    ``bytes2``, the category as ``bytes32``)."""
    return typed_data(DOMAIN_NAME, chain_id, contract, APPROVAL_TYPE,
                      (application, bytes(record_id), exporter, receiver, jurisdiction_code(destination),
                       category_code(category), bytes(purpose_hash), bytes(assessment_ref), expires_at,
                       volume_limit, deadline), version=DOMAIN_VERSION)


# ---------------------------------------------------------------------- spot-check draw


def seed_of(block_hash: bytes, chain_id: int, contract: bytes, check_id: int) -> bytes:
    return _k(encode(["bytes32", "uint256", "address", "uint64"], [block_hash, chain_id, contract, check_id]))


def sample_positions(seed: bytes, population: int, sample_size: int) -> list[int]:
    """Positions (0-based, in draw order) a seed picks out of ``population``: the contract's ``sampleOf``."""
    if len(seed) != 32:
        raise InvalidInput("a seed is 32 bytes")
    if population < 0 or not 0 < sample_size <= MAX_SAMPLE:
        raise InvalidInput(f"sample size must be 1 to {MAX_SAMPLE} and the population not negative")
    if sample_size >= population:
        return list(range(population))
    out: list[int] = []
    counter = 0
    while len(out) < sample_size:
        p = int.from_bytes(_k(seed + counter.to_bytes(32, "big")), "big") % population
        counter += 1
        if p not in out:
            out.append(p)
    return out


def sample_hash(delivery_ids: Sequence[int]) -> bytes:
    """keccak256 of the drawn delivery ids, each a 32-byte word (``abi.encodePacked`` of a ``uint64[]`` pads array
    elements): what the contract stores and checks."""
    return _k(b"".join(i.to_bytes(32, "big") for i in delivery_ids))


# ---------------------------------------------------------------------- reports


@dataclass(frozen=True)
class RecordedDelivery:
    id: int
    application: int
    manifest_hash: bytes
    size: int


def judge(recorded: RecordedDelivery, answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """One sampled delivery against the exporter's answer (a manifest, or None for no answer)."""
    out: dict[str, Any] = {"delivery": recorded.id, "application": recorded.application,
                           "recordedManifestHash": hex0x(recorded.manifest_hash), "recordedSize": recorded.size}
    if answer is None:
        return {**out, "answered": False, "ok": False, "reason": "the exporter produced no manifest"}
    try:
        m = parse_manifest(answer)
    except InvalidInput as exc:
        return {**out, "answered": True, "ok": False, "reason": f"malformed manifest: {exc}"}
    out |= {"answered": True, "manifestHash": hex0x(m.hash), "size": m.size}
    if m.hash != recorded.manifest_hash:
        return {**out, "ok": False, "reason": "the manifest's hash differs from the one recorded at delivery"}
    if m.size != recorded.size:  # the hash matched: only a contract-side record of another size could do this
        return {**out, "ok": False, "reason": "the manifest's size differs from the size recorded at delivery"}
    return {**out, "ok": True, "reason": ""}


def build_report(*, chain_id: int, contract: bytes, check_id: int, exporter: int, seed: bytes, population: int,
                 sample_size: int, sample: Sequence[RecordedDelivery],
                 answers: Mapping[int, Mapping[str, Any] | None]) -> dict[str, Any]:
    """The report a supervisor anchors: the draw, and each sampled delivery judged against its answer."""
    outcomes = [judge(d, answers.get(d.id)) for d in sample]
    passed = sum(1 for o in outcomes if o["ok"])
    return {
        "type": REPORT_TYPE,
        "chainId": chain_id,
        "contract": hex0x(contract),
        "check": check_id,
        "exporter": exporter,
        "seed": hex0x(seed),
        "population": population,
        "sampleSize": sample_size,
        "positions": sample_positions(seed, population, sample_size),
        "sample": [d.id for d in sample],
        "outcomes": outcomes,
        "passed": passed,
        "failed": len(outcomes) - passed,
    }


def report_hash(report: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical_json(dict(report))).digest()


def verify_report(report: Any, *, exporter_deliveries: Sequence[int] | None = None,
                  seed_block_hash: bytes | None = None) -> list[str]:
    """Problems with a report, each as a sentence; empty when it holds.

    Offline it checks the draw (the positions are the seed's sample of the population), that the outcomes follow
    from the hashes they carry, and the counts. Given the exporter's delivery ids in order (from the chain), it
    also checks the sampled ids; given the seed block's hash, it also checks the seed.
    """
    problems: list[str] = []
    try:
        if field(report, "type", "report") != REPORT_TYPE:
            raise MalformedDocument(f"report.type must be {REPORT_TYPE}")
        chain_id = as_int(field(report, "chainId", "report"), "report.chainId")
        contract = as_hex(field(report, "contract", "report"), "report.contract", 20)
        check_id = as_int(field(report, "check", "report"), "report.check")
        seed = as_hex(field(report, "seed", "report"), "report.seed", 32)
        population = as_int(field(report, "population", "report"), "report.population")
        size = as_int(field(report, "sampleSize", "report"), "report.sampleSize", lo=1, hi=MAX_SAMPLE)
        positions = [as_int(p, "report.positions[]") for p in as_list(field(report, "positions", "report"),
                                                                          "report.positions")]
        sample = [as_int(p, "report.sample[]") for p in as_list(field(report, "sample", "report"), "report.sample")]
        outcomes = as_list(field(report, "outcomes", "report"), "report.outcomes")
        passed = as_int(field(report, "passed", "report"), "report.passed")
        failed = as_int(field(report, "failed", "report"), "report.failed")
    except InvalidInput as exc:
        return [f"malformed report: {exc}"]
    if seed_block_hash is not None and seed_of(seed_block_hash, chain_id, contract, check_id) != seed:
        problems.append("the seed is not the one the seed block's hash gives")
    if positions != sample_positions(seed, population, size):
        problems.append("the sample differs from the reproducible draw for this seed and population")
    if len(sample) != len(positions) or len(set(sample)) != len(sample):
        problems.append("the sampled deliveries do not match the drawn positions one to one")
    elif exporter_deliveries is not None:
        if len(exporter_deliveries) < population:
            problems.append("the exporter had fewer deliveries than the population the report names")
        elif [exporter_deliveries[p] for p in positions] != sample:
            problems.append("the sampled deliveries are not the exporter's deliveries at the drawn positions")
    if len(outcomes) != len(sample):
        problems.append("the report does not judge each sampled delivery once")
    ok_count = 0
    for i, o in enumerate(outcomes):
        try:
            delivery = as_int(field(o, "delivery", f"outcomes[{i}]"), f"outcomes[{i}].delivery")
            ok = field(o, "ok", f"outcomes[{i}]")
            recorded = as_hex(field(o, "recordedManifestHash", f"outcomes[{i}]"), f"outcomes[{i}].recorded", 32)
            answered = field(o, "answered", f"outcomes[{i}]")
            got = as_hex(o["manifestHash"], f"outcomes[{i}].manifestHash", 32) if "manifestHash" in o else None
        except InvalidInput as exc:
            problems.append(f"malformed outcome: {exc}")
            continue
        if i < len(sample) and delivery != sample[i]:
            problems.append(f"outcome {i} judges delivery {delivery}, not the sampled {sample[i]}")
        consistent = bool(answered) and got == recorded
        if ok is True and not consistent:
            problems.append(f"delivery {delivery} is marked as passed but its manifest hash does not match")
        ok_count += ok is True
    if (passed, failed) != (ok_count, len(outcomes) - ok_count):
        problems.append(f"the counts ({passed} passed, {failed} failed) do not add up from the outcomes")
    return problems


__all__ = [
    "APPLICATION_STATUS", "CHECK_STATE", "MAX_SAMPLE", "Manifest", "RecordedDelivery", "approval_digest",
    "approval_typed_data",
    "assessment_hash",
    "build_report", "category_code", "category_text", "check_purpose", "domain_separator", "judge",
    "jurisdiction_code", "parse_manifest", "report_hash", "sample_hash", "sample_positions", "seed_of",
    "verify_report",
]
