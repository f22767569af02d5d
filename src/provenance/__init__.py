"""provenance: blockchain data registration and provenance node for federated data exchanges."""

import os as _os

# eth-hash picks pycryptodome before pysha3 when both are installed; pycryptodome's keccak costs ~14 us a call
# through ctypes, pysha3's (safe-pysha3, a C extension) ~2 us. py-evm hashes on every storage access and the
# index on every record id, so ask for pysha3 when it is importable. eth-hash chooses its backend on the first
# hash, so this holds as long as nothing hashed before provenance was imported; an explicit setting wins.
try:
    import sha3 as _sha3  # noqa: F401

    _os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
except ImportError:  # pragma: no cover - safe-pysha3 is a dependency; without it hashing is only slower
    pass

__version__ = "0.1.0"
