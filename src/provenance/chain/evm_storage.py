"""py-evm's account storage, with each transaction's storage changes applied to the account's trie in one pass.

py-evm writes a transaction's storage changes into the account's trie one slot at a time: each slot walks from
the root, decoding, re-encoding and hashing every node on its path, so a transaction that writes 400 slots
re-hashes the root 400 times (a third of a large ``registerEntities`` transaction's time). A Merkle Patricia trie
is canonical (its nodes depend only on the set of keys and values; Ethereum Yellow Paper, appendix D), so
applying all of a transaction's changes in one sorted descent gives the same nodes and the same root with each
touched node built once. Decoded nodes are also kept by their encoding (an encoding fixes its content), so the
top of a large trie is not decoded again for every SLOAD. Nothing here changes what the chain computes:
tests/chain/test_embedded_trie.py checks it against py-trie and stock py-evm.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import rlp
from eth.abc import AccountStorageDatabaseAPI, AtomicDatabaseAPI, DatabaseAPI
from eth.db.account import AccountDB
from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB, StorageLookup
from eth_hash.auto import keccak
from eth_typing import Address as EthAddress
from eth_typing import Hash32
from trie import HexaryTrie
from trie.constants import BLANK_NODE, BLANK_NODE_HASH
from trie.utils.nibbles import bytes_to_nibbles

from provenance.errors import StoreError

_NODE_CACHE_ENTRIES = 16_384  # about 30 MB: the top four levels of a trie of a few hundred thousand slots


@functools.lru_cache(maxsize=_NODE_CACHE_ENTRIES)
def _decoded(encoded: bytes) -> Any:
    return rlp.decode(encoded)


def _copy(node: Any) -> Any:
    # HexaryTrie edits the nodes it is given in place; the cached ones must stay as decoded.
    return [_copy(x) if isinstance(x, list) else x for x in node] if isinstance(node, list) else node


class CachingHexaryTrie(HexaryTrie):
    __slots__ = ()

    def get_node(self, node_hash: Any) -> Any:
        if isinstance(node_hash, bytes) and len(node_hash) == 32 and node_hash != BLANK_NODE_HASH:
            return _copy(_decoded(self.db[node_hash]))
        return super().get_node(node_hash)  # type: ignore[no-untyped-call]  # py-trie's nodes are untyped

    def get(self, key: bytes) -> bytes:
        """HexaryTrie.get on the cached nodes, without copying them; a missing node is left to HexaryTrie,
        which names it."""
        try:
            return _lookup(self.db, self.root_hash, bytes_to_nibbles(key))
        except KeyError:
            return super().get(key)


def _lookup(db: Any, root_hash: bytes, nibbles: tuple[int, ...]) -> bytes:
    node: Any = BLANK_NODE if root_hash == BLANK_NODE_HASH else _decoded(db[root_hash])
    i, count = 0, len(nibbles)
    while node != BLANK_NODE:
        if len(node) == 17:
            if i == count:
                return cast(bytes, node[16])
            node = node[nibbles[i]]
            i += 1
        else:
            path, leaf = _hp_decode(node[0])
            end = i + len(path)
            if nibbles[i:end] != path:
                return BLANK_NODE
            if leaf:
                return cast(bytes, node[1]) if end == count else BLANK_NODE
            node, i = node[1], end
        if isinstance(node, bytes) and len(node) == 32:
            node = _decoded(db[node])
    return BLANK_NODE


class _Loaded:
    """A node already in hand (not yet stored), in a branch slot that otherwise holds a reference."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node


def _rlp(item: Any) -> bytes:
    """RLP of a trie node (bytes and lists of them only), as rlp.encode gives it, with less checking: the
    nodes are built here."""
    if isinstance(item, bytes):
        n = len(item)
        if n == 1 and item[0] < 0x80:
            return item
        offset = 0x80
        payload = item
    else:
        payload = b"".join([_rlp(x) for x in item])
        n = len(payload)
        offset = 0xC0
    if n < 56:
        return bytes((offset + n,)) + payload
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(length),)) + length + payload


def _hp_decode(path: bytes) -> tuple[tuple[int, ...], bool]:
    """A leaf's or extension's hex-prefix path: its nibbles, and whether it is a leaf (Yellow Paper, appx. C)."""
    flag = path[0] >> 4
    nibbles = bytes_to_nibbles(path[1:])
    return ((path[0] & 15,) + nibbles if flag & 1 else nibbles), bool(flag & 2)


def _hp_encode(nibbles: tuple[int, ...], leaf: bool) -> bytes:
    flag = 0x20 if leaf else 0
    if len(nibbles) % 2:
        out = [flag | 0x10 | nibbles[0]]
        rest = nibbles[1:]
    else:
        out = [flag]
        rest = nibbles
    out += [rest[i] << 4 | rest[i + 1] for i in range(0, len(rest), 2)]
    return bytes(out)


class TrieBatch:
    """Applies many key changes to a hexary trie (stored in ``db``) in one descent; node for node what
    HexaryTrie's key-by-key ``set`` and ``delete`` give. Nodes are decoded Python values as in py-trie: b"" is
    blank, a 2-list a leaf or extension, a 17-list a branch; a parent refers to a child by its hash, or holds it
    inline when its encoding is under 32 bytes. Nodes read are never edited (they may be shared with the cache).
    Keys are handled as nibble tuples, sorted, so the changes under each branch slot are one contiguous run."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def update(self, root_hash: bytes, changes: dict[bytes, bytes]) -> bytes:
        """The new root hash after ``changes`` (key -> value, b"" deleting the key)."""
        items = sorted((bytes_to_nibbles(k), v) for k, v in changes.items())
        root = self._apply(self._load(root_hash), items)
        if root == BLANK_NODE:
            return BLANK_NODE_HASH
        encoded = _rlp(root)  # the root is stored by hash even when small, as HexaryTrie does
        digest = keccak(encoded)
        self.db[digest] = encoded
        return digest

    def _load(self, ref: Any) -> Any:
        if isinstance(ref, _Loaded):
            return ref.node
        if isinstance(ref, list):
            return ref
        if ref == BLANK_NODE or ref == BLANK_NODE_HASH:
            return BLANK_NODE
        return _decoded(self.db[ref])

    def _ref(self, node: Any) -> Any:
        if node == BLANK_NODE:
            return BLANK_NODE
        encoded = _rlp(node)
        if len(encoded) < 32:
            return node
        digest = keccak(encoded)
        self.db[digest] = encoded
        return digest

    def _apply(self, node: Any, items: list[tuple[tuple[int, ...], bytes]]) -> Any:
        if not items:
            return node
        if node == BLANK_NODE:
            return self._build([(k, v) for k, v in items if v])
        slots: list[Any]
        if len(node) == 2:
            key, leaf = _hp_decode(node[0])
            if leaf:
                merged = dict(items)
                merged.setdefault(key, node[1])
                return self._build(sorted((k, v) for k, v in merged.items() if v))
            n = len(key)
            if all(k[:n] == key for k, _ in items):
                before = self._load(node[1])
                child = self._apply(before, [(k[n:], v) for k, v in items])
                return self._prefixed(key, child, node[1] if child is before else None)
            slots = [BLANK_NODE] * 16
            slots[key[0]] = node[1] if n == 1 else _Loaded([_hp_encode(key[1:], False), node[1]])
            value = BLANK_NODE
        else:
            slots, value = list(node[:16]), node[16]
        start, count = 0, len(items)
        while start < count:
            first = items[start][0]
            if not first:
                value = items[start][1]
                start += 1
                continue
            nibble = first[0]
            end = start + 1
            while end < count and items[end][0][0] == nibble:  # sorted: only the first key can be empty
                end += 1
            before = self._load(slots[nibble])
            after = self._apply(before, [(k[1:], v) for k, v in items[start:end]])
            if after is not before:
                slots[nibble] = _Loaded(after)
            start = end
        return self._branch(slots, value)

    def _branch(self, slots: list[Any], value: bytes) -> Any:
        """A branch from its slots, or what it collapses to when it holds fewer than two things."""
        used = [i for i, s in enumerate(slots)
                if s != BLANK_NODE and not (isinstance(s, _Loaded) and s.node == BLANK_NODE)]
        if not used:
            return [_hp_encode((), True), value] if value else BLANK_NODE
        if len(used) == 1 and not value:
            i = used[0]
            return self._prefixed((i,), self._load(slots[i]), None if isinstance(slots[i], _Loaded) else slots[i])
        return [self._ref(s.node) if isinstance(s, _Loaded) else s for s in slots] + [value]

    def _prefixed(self, key: tuple[int, ...], child: Any, child_ref: Any) -> Any:
        """``child`` under ``key`` nibbles: merged into a leaf or extension child, or an extension to a branch
        (``child_ref`` is its stored reference when it is unchanged)."""
        if child == BLANK_NODE:
            return BLANK_NODE
        if len(child) == 2:
            rest, leaf = _hp_decode(child[0])
            return [_hp_encode(key + rest, leaf), child[1]]
        return [_hp_encode(key, False), child_ref if child_ref is not None else self._ref(child)]

    def _build(self, items: list[tuple[tuple[int, ...], bytes]]) -> Any:
        """The trie holding exactly ``items`` (sorted, distinct keys, no empty values)."""
        if not items:
            return BLANK_NODE
        if len(items) == 1:
            return [_hp_encode(items[0][0], True), items[0][1]]
        first, last = items[0][0], items[-1][0]
        n = 0
        while n < len(first) and n < len(last) and first[n] == last[n]:
            n += 1
        if n:
            return [_hp_encode(first[:n], False), self._ref(self._build([(k[n:], v) for k, v in items]))]
        slots: list[Any] = [BLANK_NODE] * 16
        value = BLANK_NODE
        start, count = 0, len(items)
        while start < count:
            key = items[start][0]
            if not key:
                value = items[start][1]
                start += 1
                continue
            end = start + 1
            while end < count and items[end][0][0] == key[0]:
                end += 1
            slots[key[0]] = self._ref(self._build([(k[1:], v) for k, v in items[start:end]]))
            start = end
        return slots + [value]


class _BatchedStorageLookup(StorageLookup):
    """py-evm's storage lookup, with writes held until the trie is next needed and then applied in one pass."""

    _changes: dict[bytes, bytes]

    def _initialize_to_root_hash(self, root_hash: Hash32) -> None:
        super()._initialize_to_root_hash(root_hash)
        self._changes = {}

    def _flush(self) -> None:
        if not self._changes:
            return
        changes, self._changes = self._changes, {}
        trie = self._get_write_trie()
        try:
            trie.root_hash = TrieBatch(trie.db).update(trie.root_hash, changes)
        except KeyError as exc:
            raise StoreError(f"the chain database lacks a storage trie node of account 0x{self._address.hex()} "
                             f"({exc}): it is damaged") from exc

    def _get_write_trie(self) -> HexaryTrie:
        if self._trie_nodes_batch is None:
            self._trie_nodes_batch = BatchDB(self._db, read_through_deletes=True)
        if self._write_trie is None:
            self._write_trie = CachingHexaryTrie(self._trie_nodes_batch, root_hash=self._starting_root_hash,
                                                  prune=True)
        return self._write_trie

    def _get_read_trie(self) -> HexaryTrie:
        self._flush()
        if self._write_trie is not None:
            return self._write_trie
        return CachingHexaryTrie(self._db, root_hash=self._starting_root_hash)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._changes[self._decode_key(key)] = value

    def __delitem__(self, key: bytes) -> None:
        self._changes[self._decode_key(key)] = BLANK_NODE

    @property
    def has_changed_root(self) -> bool:
        return bool(self._changes) or self._write_trie is not None

    def get_changed_root(self) -> Hash32:
        self._flush()
        return super().get_changed_root()

    def commit_to(self, db: DatabaseAPI) -> None:
        self._flush()
        super().commit_to(db)

    def new_trie(self) -> int:
        self._flush()
        return super().new_trie()

    def rollback_trie(self, trie_index: int) -> None:
        self._flush()
        super().rollback_trie(trie_index)


class _BatchedAccountStorageDB(AccountStorageDB):
    def __init__(self, db: AtomicDatabaseAPI, storage_root: Hash32, address: EthAddress) -> None:
        super().__init__(db, storage_root, address)
        # The same chain of layers py-evm builds, on the batched lookup.
        self._storage_lookup = _BatchedStorageLookup(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)


class BatchedAccountDB(AccountDB):
    def _get_address_store(self, address: EthAddress) -> AccountStorageDatabaseAPI:
        store = self._account_stores.get(address)
        if store is None:
            store = _BatchedAccountStorageDB(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store
