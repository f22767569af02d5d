"""A node: its data directory, chain, contracts and keys, wired together.

``Node.open(data_dir)`` takes an exclusive lock on the data directory (one process per data directory; a
second gets :class:`DataDirLocked` naming the holder), reads ``node.toml``, opens the chain backend it names
and attaches to the pinned contracts, refusing a chain whose id or contract code differ.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

from eth_account.signers.local import LocalAccount

from provenance.chain.base import Chain
from provenance.chain.contracts import Contracts
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.rpc import RpcChain
from provenance.config import ChainConfig, NodeConfig
from provenance.errors import ConfigError, DataDirLocked
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.store.keystore import Keystore, PassphraseSource

if TYPE_CHECKING:
    from provenance.indexer.catalog_search import CatalogIndex
    from provenance.services.batching import BatchIntake
    from provenance.services.certificates import Certifier
    from provenance.store.documents import DocumentStore

LOCK_NAME = "node.lock"


class DataDirLock:
    """An advisory ``flock`` on ``<data-dir>/node.lock`` holding the owner's pid, released on close or exit."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_NAME
        self._file: IO[str] | None = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "unknown"
            self._file.close()
            self._file = None
            raise DataDirLocked(
                f"the data directory {data_dir} is in use by another process (pid {holder}); stop it first"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def open_chain(data_dir: Path, cfg: ChainConfig) -> Chain:
    if cfg.backend == "embedded":
        return EmbeddedChain(data_dir / "chain", chain_id=cfg.chain_id, sync_writes=cfg.sync_writes)
    return RpcChain(cfg.rpc_url, receipt_timeout=cfg.receipt_timeout)


class Node:
    def __init__(self, *, config: NodeConfig, chain: Chain, contracts: Contracts, keystore: Keystore,
                 lock: DataDirLock) -> None:
        self.config = config
        self.chain = chain
        self.contracts = contracts
        self.keystore = keystore
        self._lock = lock
        self._index: IndexStore | None = None
        self._documents: DocumentStore | None = None
        self._catalog: CatalogIndex | None = None

    @property
    def index(self) -> IndexStore:
        """The lineage index under ``<data-dir>/index``, opened on first use."""
        if self._index is None:
            self._index = IndexStore(self.config.data_dir / "index")
        return self._index

    @property
    def documents(self) -> DocumentStore:
        """The documents this node keeps (metadata documents, local profiles) under ``<data-dir>/documents``:
        not derived from the chain, so an index rebuild never touches them."""
        if self._documents is None:
            from provenance.store.documents import DocumentStore

            self._documents = DocumentStore(self.config.data_dir / "documents")
        return self._documents

    @property
    def catalog(self) -> CatalogIndex:
        """The catalogue's search projection of the index, ``<data-dir>/catalog.sqlite``, opened on first use."""
        if self._catalog is None:
            from provenance.indexer.catalog_search import CatalogIndex

            self._catalog = CatalogIndex(self.config.data_dir / "catalog.sqlite", self.index, self.documents,
                                         block_times=self._block_times)
        return self._catalog

    def _block_times(self, blocks: list[int]) -> dict[int, int]:
        """Block timestamps for the catalogue's listings (its callers hold the node's chain lock)."""
        return {b: self.chain.get_block(b).timestamp for b in blocks}

    def follower(self) -> Follower:
        ix = self.config.index
        return Follower(chain=self.chain, contracts=self.contracts, store=self.index,
                        confirmations=ix.confirmations, reorg_depth=ix.reorg_depth, max_range=ix.max_range)

    def certifier(self) -> Certifier:
        """Certificates, snapshots and witnessing for this node (evidence kept under the data directory)."""
        from provenance.services.certificates import Certifier

        return Certifier(contracts=self.contracts, store=self.index, follower=self.follower(),
                         data_dir=self.config.data_dir)

    def batch_intake(self, signer: LocalAccount, *, max_records: int = 1000, max_delay_ms: int = 200,
                     max_bytes: int = 120_000) -> BatchIntake:
        from provenance.chain.registry import RegistryService
        from provenance.services.batching import BatchIntake

        exchange = RegistryService(self.contracts).active_exchange_of(signer.address)
        return BatchIntake(contracts=self.contracts, store=self.index, follower=self.follower(), signer=signer,
                           exchange=exchange, max_records=max_records, max_delay_ms=max_delay_ms,
                           max_bytes=max_bytes)

    @classmethod
    def open(cls, data_dir: Path, passphrase: PassphraseSource | None = None) -> Node:
        lock = DataDirLock(data_dir)
        chain: Chain | None = None
        try:
            config = NodeConfig.load(data_dir)
            if config.deployment is None:
                raise ConfigError(f"{data_dir}/node.toml names no contracts; run `provenance init` again")
            chain = open_chain(data_dir, config.chain)
            contracts = Contracts.attach(chain, config.deployment)
            keystore = Keystore(data_dir / "keystore", passphrase or PassphraseSource(), scrypt_n=config.scrypt_n)
            return cls(config=config, chain=chain, contracts=contracts, keystore=keystore, lock=lock)
        except BaseException:
            if chain is not None:
                chain.close()
            lock.release()
            raise

    def signer(self, label: str | None = None) -> LocalAccount:
        """The key to sign with: the given label, or the node's default exchange key."""
        return self.keystore.load(label or self.config.key)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
        if self._documents is not None:
            self._documents.close()
        if self._index is not None:
            self._index.close()
        self.chain.close()
        self._lock.release()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
