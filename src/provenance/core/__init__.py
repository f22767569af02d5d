"""The pure core: hashing, ids, typed-data digests. No I/O, no web3, plyvel or fastapi."""
