"""Typed calls for the catalogue's publications on the chain (``Registry.publishMetadata`` / ``publishProfiles``).

A registrar publishes the canonical bytes of its general-grade metadata documents, and the profiles of the
organisations it onboarded, in calldata: the contract re-emits them (``MetadataPublished``,
``EntityProfilePublished``) and stores nothing, so every node rebuilds the catalogue from the chain alone. The
calls go through :meth:`Contracts.transact`, so every refusal reaches the caller as
:class:`~provenance.errors.ContractReverted` naming the rule (kinds in ``chain/reverts.py``).

Many documents are split into transactions that each stay under a calldata bound (256 KiB by default) and a gas
budget (12,000,000, below the embedded chain's default transaction gas and any block limit in use), so a large
import never makes a transaction no block can hold. Each transaction is all or none; when there are several,
every one is first tried with ``eth_call`` so a refusal anywhere is raised before anything is sent. Should one
still fail later (the chain moved between the trial and the sending), the transactions already mined stand:
publishing the same bytes again is harmless (the indexes keep the first accepted copy), so the caller repeats
the whole call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import REGISTRY, Contracts
from provenance.errors import DocumentTooLarge, InvalidInput

MAX_DOCUMENT_BYTES = 16384
"""The contract's ``MAX_DOCUMENT_BYTES``: the largest document one publication may carry."""

MAX_TX_CALLDATA = 256 * 1024
"""Default bound on one transaction's calldata, in bytes."""

MAX_TX_GAS = 12_000_000
"""Default gas budget of one transaction, as estimated by :func:`estimate_gas`."""

# Measured on the embedded chain (py-evm, Prague rules; tests/contracts/test_catalog.py checks the estimate is
# never below the gas used): a document byte costs 40 gas, the calldata floor of EIP-7623 (its copy into the log,
# 8 gas a byte, and the hash stay below that floor); a publication's own cost (its two array heads, the record's
# two storage reads, the event's topics) is below 15,000; a transaction's below 60,000 (base fee, the
# federation's check of the sender).
_GAS_PER_BYTE = 40
_GAS_PER_ITEM = 15_000
_GAS_PER_TX = 60_000
_CALLDATA_PER_ITEM = 96  # the id, the document's offset and its length word
_CALLDATA_PER_TX = 4 + 5 * 32  # selector, two array offsets, two lengths, and a word of padding slack


@dataclass(frozen=True)
class Publication:
    """What one publication call sent: a transaction per chunk, in order."""

    tx_hashes: tuple[bytes, ...]
    block_numbers: tuple[int, ...]
    gas_used: tuple[int, ...]
    counts: tuple[int, ...]  # documents carried by each transaction

    @property
    def documents(self) -> int:
        return sum(self.counts)

    @property
    def total_gas(self) -> int:
        return sum(self.gas_used)


def estimate_gas(documents: Sequence[bytes]) -> int:
    """An upper estimate of the gas one transaction carrying ``documents`` uses (used to chunk)."""
    return _GAS_PER_TX + sum(_GAS_PER_ITEM + _GAS_PER_BYTE * (_padded(len(d)) + _CALLDATA_PER_ITEM)
                             for d in documents)


def calldata_size(documents: Sequence[bytes]) -> int:
    """The calldata bytes of one transaction carrying ``documents`` (either function: both subjects are words)."""
    return _CALLDATA_PER_TX + sum(_padded(len(d)) + _CALLDATA_PER_ITEM for d in documents)


def chunk_bounds(documents: Sequence[bytes], *, max_calldata: int = MAX_TX_CALLDATA,
                 max_gas: int = MAX_TX_GAS) -> list[tuple[int, int]]:
    """Split ``documents`` in order into ``[start, end)`` ranges whose transaction stays within both bounds.

    A single document always fits (it is at most ``MAX_DOCUMENT_BYTES``); bounds too small for one are refused."""
    one = calldata_size([b"\0" * MAX_DOCUMENT_BYTES]), estimate_gas([b"\0" * MAX_DOCUMENT_BYTES])
    if max_calldata < one[0] or max_gas < one[1]:
        raise InvalidInput(f"transaction bounds of {max_calldata} calldata bytes and {max_gas} gas cannot carry "
                           f"one document of {MAX_DOCUMENT_BYTES} bytes ({one[0]} bytes, {one[1]} gas)")
    bounds: list[tuple[int, int]] = []
    start, size, gas = 0, _CALLDATA_PER_TX, _GAS_PER_TX
    for i, doc in enumerate(documents):
        item_size = _padded(len(doc)) + _CALLDATA_PER_ITEM
        item_gas = _GAS_PER_ITEM + _GAS_PER_BYTE * item_size
        if i > start and (size + item_size > max_calldata or gas + item_gas > max_gas):
            bounds.append((start, i))
            start, size, gas = i, _CALLDATA_PER_TX, _GAS_PER_TX
        size += item_size
        gas += item_gas
    if start < len(documents):
        bounds.append((start, len(documents)))
    return bounds


def publish_metadata(contracts: Contracts, signer: LocalAccount, ids: Sequence[bytes], documents: Sequence[bytes],
                     *, max_calldata: int = MAX_TX_CALLDATA, max_gas: int = MAX_TX_GAS) -> Publication:
    """Publish ``documents[i]`` as the metadata document of record ``ids[i]``, for the signer's exchange.

    The documents are the canonical bytes whose keccak256 is each record's ``metadataHash``; only general-grade
    records' documents are accepted by the contract (``NotPublicGrade`` otherwise)."""
    subjects = [_record_id(i) for i in ids]
    return _publish(contracts, signer, "publishMetadata", subjects, documents, max_calldata, max_gas)


def publish_profiles(contracts: Contracts, signer: LocalAccount, entity_ids: Sequence[int],
                     documents: Sequence[bytes], *, max_calldata: int = MAX_TX_CALLDATA,
                     max_gas: int = MAX_TX_GAS) -> Publication:
    """Publish ``documents[i]`` as the profile of entity ``entity_ids[i]``, which the signer's exchange onboarded.

    Never call it with an individual's profile: the contract cannot tell, and what is published is public for ever
    (the service keeps individuals' profiles at the onboarding node)."""
    subjects = [_entity_id(e) for e in entity_ids]
    return _publish(contracts, signer, "publishProfiles", subjects, documents, max_calldata, max_gas)


def _publish(contracts: Contracts, signer: LocalAccount, fn: str, subjects: Sequence[Any],
             documents: Sequence[bytes], max_calldata: int, max_gas: int) -> Publication:
    docs = [bytes(d) for d in documents]
    if len(subjects) != len(docs):
        raise InvalidInput(f"{len(subjects)} subjects but {len(docs)} documents: give one document per subject")
    if not docs:
        raise InvalidInput("nothing to publish: give at least one document")
    for subject, doc in zip(subjects, docs, strict=True):
        if not doc:
            raise InvalidInput(f"the document for {_render(subject)} is empty")
        if len(doc) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLarge(f"the document for {_render(subject)} is {len(doc)} bytes, more than the "
                                   f"{MAX_DOCUMENT_BYTES} one publication may carry",
                                   size=len(doc), limit=MAX_DOCUMENT_BYTES)
    bounds = chunk_bounds(docs, max_calldata=max_calldata, max_gas=max_gas)
    if len(bounds) > 1:
        sender = bytes.fromhex(signer.address[2:])
        for start, end in bounds:
            contracts.call(REGISTRY, fn, list(subjects[start:end]), docs[start:end], sender=sender)
    hashes: list[bytes] = []
    blocks: list[int] = []
    gas: list[int] = []
    for start, end in bounds:
        # The gas limit is the backend's (the embedded chain's default, or an estimate with a margin over RPC).
        tx = contracts.transact(signer, REGISTRY, fn, list(subjects[start:end]), docs[start:end])
        hashes.append(tx.receipt.tx_hash)
        blocks.append(tx.receipt.block_number)
        gas.append(tx.receipt.gas_used)
    return Publication(tuple(hashes), tuple(blocks), tuple(gas), tuple(end - start for start, end in bounds))


def _record_id(value: bytes) -> bytes:
    raw = bytes(value)
    if len(raw) != 32:
        raise InvalidInput(f"a record id is 32 bytes, not {len(raw)}")
    return raw


def _entity_id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**32:
        raise InvalidInput(f"entity id {value!r} out of range (1 to 2**32 - 1)")
    return value


def _render(subject: Any) -> str:
    return f"record 0x{subject.hex()}" if isinstance(subject, bytes) else f"entity {subject}"


def _padded(n: int) -> int:
    return (n + 31) // 32 * 32
