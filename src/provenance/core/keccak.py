"""Keccak-256 (Ethereum's hash, the pre-standard SHA-3 padding), called on the C implementation directly.

eth-hash's ``keccak`` dispatches through two Python layers on every call (about 1 us, as much as hashing a
few words in C). Record ids, EIP-712 digests and addresses are hashed on every event indexed and every
certificate verified, so those paths call safe-pysha3 (a dependency) directly; eth-hash remains the fallback.
"""

from __future__ import annotations

from collections.abc import Callable

keccak256: Callable[[bytes], bytes]

try:
    from sha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        return _keccak_256(data).digest()  # type: ignore[no-any-return]

except ImportError:  # pragma: no cover - safe-pysha3 is a dependency; without it hashing is only slower
    from eth_hash.auto import keccak as _eth_hash_keccak

    keccak256 = _eth_hash_keccak
