"""The embedded chain: py-evm (through eth-tester's chain setup) persisted to LevelDB in the data directory.

One process owns the chain; every transaction is applied, mined into its own block and committed to disk in
one atomic LevelDB batch before its receipt is returned. A transaction that reverts is not mined at all (on a
private chain nobody needs the failed attempt), and its revert data is returned from the same execution, so
a write costs one EVM run, not a simulation plus a run.

Gas is free (base fee 0 from genesis, as on many consortium chains), so keys need no funding. The base fee
only rises when a block is more than half full, which one-transaction blocks never are.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import plyvel
from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, OpcodeAPI
from eth.chains.base import MiningChain
from eth.constants import GENESIS_PARENT_HASH
from eth.exceptions import HeaderNotFound, InsufficientStack, OutOfGas, Revert, TransactionNotFound
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.opcode import _FastOpcode
from eth.vm.spoof import SpoofTransaction
from eth.vm.stack import Stack
from eth_account.signers.local import LocalAccount
from eth_tester.backends.pyevm.main import get_default_genesis_params
from eth_typing import Address as EthAddress
from eth_typing import BlockNumber
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EthValidationError

from provenance.chain.base import BlockRef, Log, Receipt, Reverted, TxState
from provenance.chain.evm_storage import BatchedAccountDB
from provenance.chain.leveldb import LevelChainDB
from provenance.errors import ChainError, ChainMismatch, DataDirLocked, StoreError, TransactionFailed

DEFAULT_CHAIN_ID = 1502
DEFAULT_TX_GAS = 15_000_000
BLOCK_GAS_LIMIT = 30_000_000
CALL_GAS = 50_000_000

_EVM_PREFIX = b"e:"
_META_CHAIN_ID = b"m:chain_id"


class _FastStack(Stack):
    """py-evm's stack, popping integers in one step (the contracts pop about 30,000 a transaction)."""

    __slots__ = ()

    def pop_ints(self, num_items: int) -> tuple[int, ...]:
        values = self.values
        if num_items > len(values):
            raise InsufficientStack(f"Wanted {num_items} stack items, only had {len(values)}")
        popped = values[-num_items:]
        del values[-num_items:]
        popped.reverse()
        return tuple([x if isinstance(x, int) else int.from_bytes(x, "big") for x in popped])


class _GasInlinedOpcode:
    """A fixed-cost opcode charging its gas directly: py-evm's ``_FastOpcode`` goes through two calls to do it,
    for each of the million opcodes a large transaction runs. Same check, same error."""

    __slots__ = ("gas_cost", "logic_fn", "mnemonic")

    def __init__(self, opcode: Any) -> None:
        self.logic_fn, self.mnemonic, self.gas_cost = opcode.logic_fn, opcode.mnemonic, opcode.gas_cost

    def __call__(self, computation: Any) -> Any:
        meter = computation._gas_meter
        if self.gas_cost > meter.gas_remaining:
            raise OutOfGas(f"Out of gas: Needed {self.gas_cost} - Remaining {meter.gas_remaining} "
                           f"- Reason: {self.mnemonic}")
        meter.gas_remaining -= self.gas_cost
        return self.logic_fn(computation)


class _EmbeddedComputation(PragueComputation):
    opcodes = {code: cast(OpcodeAPI, _GasInlinedOpcode(op)) if type(op) is _FastOpcode else op
               for code, op in PragueComputation.opcodes.items()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stack = _FastStack()


class _EmbeddedState(PragueState):
    account_db_class = BatchedAccountDB
    computation_class = _EmbeddedComputation


class _EmbeddedVM(PragueVM):
    """Prague rules, except that a block may share its parent's second; storage tries are updated in one pass
    per transaction (chain/evm_storage.py: the same roots as py-evm's key-by-key updates, with less work).

    The embedded chain mines one block per transaction, many per second, and block time must follow the
    wall clock: with Ethereum's strictly increasing timestamps the chain's clock would run ahead of real time
    under load, and deadlines and expiries judged by ``block.timestamp`` would fire early. Timestamps still
    never go back.
    """

    _state_class = _EmbeddedState

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            header = header.copy(timestamp=header.timestamp + 1)
        super().validate_header(header, parent_header)


class _EmbeddedMiningChain(MiningChain):
    """eth-tester's tester chain, with the chain id made ours: constant gas limit, Prague rules."""

    vm_configuration = ((BlockNumber(0), _EmbeddedVM),)

    def create_header_from_parent(self, parent_header: BlockHeaderAPI, **header_params: Any) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)


def _chain_class(chain_id: int) -> type[_EmbeddedMiningChain]:
    return cast(type[_EmbeddedMiningChain], type("EmbeddedChain", (_EmbeddedMiningChain,), {"chain_id": chain_id}))


class EmbeddedChain:
    """A persistent single-process EVM chain stored under ``path`` (a LevelDB directory)."""

    kind = "embedded"

    def __init__(self, path: Path, *, chain_id: int | None = None, sync_writes: bool = True) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._level = plyvel.DB(str(path), create_if_missing=True)
        except plyvel.IOError as exc:
            if b"lock" in str(exc).encode().lower() or "lock" in str(exc).lower():
                raise DataDirLocked(f"the chain database {path} is in use by another process") from exc
            raise StoreError(f"cannot open the chain database {path}: {exc}") from exc
        except plyvel.Error as exc:
            raise StoreError(f"cannot open the chain database {path}: {exc}") from exc
        self._db = LevelChainDB(self._level, prefix=_EVM_PREFIX, sync=sync_writes)
        self._lock = threading.RLock()
        # Block time comes from this clock (tests move it forward to judge expiries and deadlines).
        self.clock: Callable[[], float] = time.time
        stored = self._db.get_raw(_META_CHAIN_ID)
        try:
            if stored is None:
                self._chain_id = chain_id if chain_id is not None else DEFAULT_CHAIN_ID
                self._chain = self._create_genesis()
            else:
                self._chain_id = int(stored.decode())
                if chain_id is not None and chain_id != self._chain_id:
                    raise ChainMismatch(
                        f"the embedded chain in {path} has chain id {self._chain_id}, not {chain_id}"
                    )
                self._chain = _chain_class(self._chain_id)(self._db)
        except BaseException:
            self._level.close()
            raise

    def _create_genesis(self) -> _EmbeddedMiningChain:
        params = get_default_genesis_params()
        params["gas_limit"] = BLOCK_GAS_LIMIT
        params["base_fee_per_gas"] = 0
        # Random extra data makes every embedded chain's genesis unique, so an index or a certificate pinned
        # to one chain's genesis hash can never be mistaken for another's, even with the same chain id.
        params["extra_data"] = os.urandom(32)
        with self._db.transaction():
            chain = cast(_EmbeddedMiningChain, _chain_class(self._chain_id).from_genesis(self._db, params, {}))
            self._db.put_raw(_META_CHAIN_ID, str(self._chain_id).encode())
        return chain

    # ------------------------------------------------------------------ reads

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def block_number(self) -> int:
        with self._lock:
            return int(self._chain.get_canonical_head().block_number)

    def get_block(self, number: int) -> BlockRef:
        with self._lock:
            try:
                h = self._chain.get_canonical_block_header_by_number(BlockNumber(number))
            except HeaderNotFound as exc:
                raise ChainError(f"block {number} does not exist (head is {self.block_number()})") from exc
            return BlockRef(h.block_number, h.hash, h.parent_hash, h.timestamp)

    def get_blocks(self, numbers: list[int]) -> list[BlockRef]:
        return [self.get_block(n) for n in numbers]

    def get_code(self, address: bytes) -> bytes:
        with self._lock:
            return bytes(self._chain.get_vm().state.get_code(EthAddress(address)))

    def get_nonce(self, address: bytes) -> int:
        with self._lock:
            return int(self._chain.get_vm().state.get_nonce(EthAddress(address)))

    def call(self, to: bytes, data: bytes, *, sender: bytes | None = None, block: int | None = None) -> bytes:
        sender = sender or bytes(20)
        with self._lock:
            header = (self._chain.get_canonical_head() if block is None
                      else self._chain.get_canonical_block_header_by_number(BlockNumber(block)))
            vm = self._chain.get_vm(at_header=header)
            state = vm.state
            utx = vm.create_unsigned_transaction(
                nonce=state.get_nonce(EthAddress(sender)), gas_price=0, gas=CALL_GAS, to=EthAddress(to), value=0,
                data=data,
            )
            spoof: Any = SpoofTransaction(utx, from_=sender)  # a signed-transaction stand-in, by design
            computation = state.costless_execute_transaction(spoof)
            _raise_if_error(computation)
            return bytes(computation.output)

    def get_logs(self, addresses: list[bytes], from_block: int, to_block: int) -> list[Log]:
        """Logs of canonical blocks from..to (inclusive), read block by block from stored receipts."""
        wanted = set(addresses)
        out: list[Log] = []
        with self._lock:
            head = self.block_number()
            for n in range(max(from_block, 0), min(to_block, head) + 1):
                block = self._chain.get_canonical_block_by_number(BlockNumber(n))
                index = 0
                for tx, receipt in zip(block.transactions, block.get_receipts(self._chain.chaindb), strict=True):
                    for log in receipt.logs:
                        if not wanted or log.address in wanted:
                            out.append(_log(log, n, block.hash, tx.hash, index))
                        index += 1
        return out

    def transaction_state(self, tx_hash: bytes) -> TxState:
        """Mined in a canonical block, or unknown: this chain mines each transaction as it comes, so none waits."""
        with self._lock:
            try:
                number, index = self._chain.chaindb.get_transaction_index(tx_hash)  # type: ignore[arg-type]
                txs = self._chain.get_canonical_block_by_number(number).transactions
            except (TransactionNotFound, HeaderNotFound):
                return TxState(False, None)
            if index < len(txs) and txs[index].hash == tx_hash:
                return TxState(True, int(number))
            return TxState(False, None)  # indexed from a block a rewind orphaned

    # ------------------------------------------------------------------ writes

    def transact(self, signer: LocalAccount, to: bytes | None, data: bytes, *, gas: int | None = None,
                 value: int = 0) -> Receipt:
        with self._lock:
            sender = bytes.fromhex(signer.address[2:])
            vm = self._chain.get_vm()
            nonce = vm.state.get_nonce(EthAddress(sender))
            tx: dict[str, Any] = {
                "type": 2, "chainId": self._chain_id, "nonce": nonce, "value": value, "data": data,
                "gas": gas or DEFAULT_TX_GAS, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0,
                "to": to_checksum_address(to) if to else "",
            }
            raw = signer.sign_transaction(tx).raw_transaction
            evm_tx = vm.get_transaction_builder().decode(bytes(raw))
            pending_before = self._chain.header
            parent = self._chain.get_canonical_head()
            try:
                with self._db.transaction():
                    # The pending header was made when the previous block was mined; give it today's time.
                    self._chain.header = pending_before.copy(timestamp=max(int(self.clock()), parent.timestamp))
                    _, receipt, computation = self._chain.apply_transaction(evm_tx)
                    _raise_if_error(computation)
                    block = self._chain.mine_block(mix_hash=os.urandom(32), blob_gas_used=0)
            except EthValidationError as exc:
                self._chain.header = pending_before
                raise ChainError(f"transaction rejected by the embedded chain: {exc}") from exc
            except BaseException:
                self._chain.header = pending_before
                raise
            created = generate_contract_address(EthAddress(sender), nonce) if not to else None
            logs = [_log(log, block.number, block.hash, evm_tx.hash, i) for i, log in enumerate(receipt.logs)]
            return Receipt(evm_tx.hash, block.number, block.hash, receipt.gas_used, 1, created, logs)

    def mine(self, count: int = 1) -> int:
        """Mine ``count`` empty blocks (the embedded chain otherwise mines only when a transaction comes): used
        where a contract waits for a later block, such as a spot check's seed block. Returns the new head."""
        with self._lock:
            for _ in range(count):
                parent = self._chain.get_canonical_head()
                with self._db.transaction():
                    self._chain.header = self._chain.header.copy(timestamp=max(int(self.clock()), parent.timestamp))
                    self._chain.mine_block(mix_hash=os.urandom(32), blob_gas_used=0)
            return int(self._chain.get_canonical_head().block_number)

    def rewind(self, number: int) -> None:
        """Make block ``number`` the head again: later blocks are orphaned, and the next transactions build a
        competing branch. A development and test tool (it is how the tests make reorgs of a given depth)."""
        with self._lock:
            header = self._chain.get_canonical_block_header_by_number(BlockNumber(number))
            with self._db.transaction():
                self._chain.chaindb._set_as_canonical_chain_head(  # type: ignore[attr-defined]  # no public API
                    self._chain.chaindb.db, header, GENESIS_PARENT_HASH)
            self._chain.header = self._chain.create_header_from_parent(header)

    def close(self) -> None:
        with self._lock:
            if not self._level.closed:
                self._level.close()


def _raise_if_error(computation: Any) -> None:
    if not computation.is_error:
        return
    err = computation.error
    if isinstance(err, Revert):
        raise Reverted(bytes(err.args[0]) if err.args and isinstance(err.args[0], bytes) else b"")
    raise TransactionFailed(f"execution failed: {type(err).__name__} {err}")


def _log(log: Any, block_number: int, block_hash: bytes, tx_hash: bytes, index: int) -> Log:
    return Log(
        address=bytes(log.address),
        topics=[t.to_bytes(32, "big") if isinstance(t, int) else bytes(t) for t in log.topics],
        data=bytes(log.data),
        block_number=block_number,
        block_hash=bytes(block_hash),
        tx_hash=bytes(tx_hash),
        log_index=index,
    )
