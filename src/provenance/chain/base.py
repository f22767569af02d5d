"""The chain interface both backends implement, and the plain values it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from eth_account.signers.local import LocalAccount

from provenance.errors import ChainError


class Log(NamedTuple):
    """One log entry (a tuple: a catch-up makes tens of thousands of them a second)."""

    address: bytes
    topics: list[bytes]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int  # position in the block


@dataclass(frozen=True)
class Receipt:
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int
    status: int
    contract_address: bytes | None
    logs: list[Log]


@dataclass(frozen=True)
class BlockRef:
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


class TxState(NamedTuple):
    """What a chain knows of a transaction it was sent: mined in ``block``; waiting to be mined (``known``, no
    block); or not known at all (dropped from the pool, or lost with a restart: it will not be mined unless
    somebody sends it again)."""

    known: bool
    block: int | None


class Reverted(ChainError):
    """Raised by a backend when execution reverted; the contracts layer decodes ``data`` by name."""

    def __init__(self, data: bytes, message: str = "execution reverted") -> None:
        super().__init__(f"{message} (0x{data.hex()})")
        self.data = data


class Chain(Protocol):
    """What the node needs from a chain. Both backends raise only ProvenanceErrors."""

    @property
    def chain_id(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def block_number(self) -> int: ...

    def get_block(self, number: int) -> BlockRef: ...

    def get_blocks(self, numbers: list[int]) -> list[BlockRef]:
        """Several headers at once (a JSON-RPC batch where the endpoint supports it)."""
        ...

    def get_code(self, address: bytes) -> bytes: ...

    def call(self, to: bytes, data: bytes, *, sender: bytes | None = None, block: int | None = None) -> bytes:
        """Execute a read-only call; raises Reverted with the revert data."""
        ...

    def transact(self, signer: LocalAccount, to: bytes | None, data: bytes, *, gas: int | None = None,
                 value: int = 0) -> Receipt:
        """Send a transaction and wait for its receipt; raises Reverted if it reverts."""
        ...

    def get_logs(self, addresses: list[bytes], from_block: int, to_block: int) -> list[Log]: ...

    def transaction_state(self, tx_hash: bytes) -> TxState:
        """Whether a transaction sent earlier is mined (and where), still waiting, or unknown to the chain."""
        ...

    def close(self) -> None: ...
