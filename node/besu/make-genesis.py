#!/usr/bin/env python3
"""Write the genesis file of the federation's Besu QBFT consortium from its list of validators.

    node/besu/make-genesis.py [--validators validators.json] [--out genesis.json] [--check]
    node/besu/make-genesis.py --dev-keys DIR      # the development validators' key files, for a local trial

The QBFT ``extraData`` is built as Besu's ``QbftExtraDataCodec.encode`` writes it (consensus/qbft, and the
"Configure QBFT consensus" page of the Besu documentation): the RLP list

    [32-byte vanity (zeros), [validator addresses, 20 bytes each], [] (no vote), round 0, [] (no seals)]

where round 0 is RLP's empty scalar (0x80, ``writeIntScalar(0)``), not four zero bytes. The RLP encoder below is
written out (a few lines of the Yellow Paper's appendix B) so that the test can check the result with the ``rlp``
package, code that is not ours. The output is a pure function of the validator list: running the script again
gives the committed genesis.json byte for byte, and ``--check`` says whether it still does.

Standard library only (plus eth-keys for --dev-keys), so an operator can run it anywhere Python 3.11 runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHAIN_ID = 150_200
"""The consortium's chain id: not the embedded chain's 1502, Hardhat's 31337 or any public chain's, so a node
pinned to one can never be pointed at another by mistake."""

GAS_LIMIT = 50_000_000
"""Block gas limit. The largest transactions the node sends: anchorBatch of the API's largest batch (5,000
records, about 4,400 gas a record with one parent under Prague's calldata floor, less under Cancun: 22 M at
most), registerEntities of 150 entities (about 78,200 gas each: 11.7 M), deploying the Registry (under 6 M).
50 M holds the largest with room; gas is free, so the limit is about block processing time, not cost."""

BLOCK_PERIOD_S = 2
"""Seconds between blocks: a registration is final about one period after it is sent."""

REQUEST_TIMEOUT_S = 4
"""Seconds before the validators change round when a proposer is silent (twice the block period, as the docs
suggest, so a round does not time out on a proposal that is merely slow)."""

EPOCH_LENGTH = 30_000
"""Blocks between epochs, where pending validator votes are discarded (Besu's documented default)."""

MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The fixed mixHash every BFT block carries ("ctical byzantine fault tolerance"): Besu refuses another."""

GENESIS_TIMESTAMP = 0x69200000
"""Fixed so that the genesis (and its hash) is reproducible; any time before the network starts will do."""

DEV_KEY_PREFIX = b"provenance besu development validator "
"""Development validators' private keys are keccak256 of this prefix and the validator's name: public by
construction, for a local trial only. A real consortium creates its own keys (README.md)."""

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class GenesisError(Exception):
    """Raised when the validator list cannot make a QBFT genesis."""


# ---------------------------------------------------------------------------- RLP (Yellow Paper, appendix B)

def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


def rlp_encode(item: bytes | int | list[Any]) -> bytes:
    """RLP of a byte string, a non-negative integer (as its minimal big-endian bytes: 0 is the empty string) or
    a list of those."""
    if isinstance(item, list):
        body = b"".join(rlp_encode(x) for x in item)
        return _length_prefix(len(body), 0xC0) + body
    if isinstance(item, int):
        if item < 0:
            raise GenesisError("RLP encodes no negative integer")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _length_prefix(len(item), 0x80) + item


# ---------------------------------------------------------------------------- genesis

def qbft_extra_data(addresses: list[bytes]) -> bytes:
    """The genesis extraData Besu's QbftExtraDataCodec.encodeFromAddresses writes for these validators."""
    return rlp_encode([bytes(32), list(addresses), [], 0, []])


def load_validators(path: Path) -> list[tuple[str, bytes]]:
    """(name, address) of each validator in ``path``, checked: at least four (a BFT network of n validators
    survives floor((n - 1) / 3) faulty ones, so four is the smallest that survives one), distinct."""
    try:
        doc = json.loads(path.read_text("utf-8"))
        entries = doc["validators"]
        out = [(str(v["name"]), v["address"]) for v in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GenesisError(f"{path}: not a validator list ({exc})") from exc
    checked = []
    for name, address in out:
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise GenesisError(f"{path}: validator {name!r}: {address!r} is not a 20-byte hex address")
        checked.append((name, bytes.fromhex(address[2:])))
    if len(checked) < 4:
        raise GenesisError(f"{path}: {len(checked)} validators; QBFT needs at least 4 to survive one fault")
    if len({a for _, a in checked}) != len(checked) or len({n for n, _ in checked}) != len(checked):
        raise GenesisError(f"{path}: a validator name or address appears twice")
    return checked


def genesis(validators: list[tuple[str, bytes]]) -> dict[str, Any]:
    config: dict[str, Any] = {"chainId": CHAIN_ID}
    # Every fork up to Cancun at genesis, named one by one so that no Besu version has to infer one: the
    # contracts are compiled for evmVersion cancun (PUSH0 from Shanghai, MCOPY and transient storage from Cancun).
    for fork in ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg",
                 "istanbul", "muirGlacier", "berlin", "london"):
        config[f"{fork}Block"] = 0
    config["shanghaiTime"] = 0
    config["cancunTime"] = 0
    config["zeroBaseFee"] = True  # base fee 0 in every block: with min-gas-price=0, gas is free
    config["qbft"] = {"blockperiodseconds": BLOCK_PERIOD_S, "epochlength": EPOCH_LENGTH,
                      "requesttimeoutseconds": REQUEST_TIMEOUT_S}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(GENESIS_TIMESTAMP),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "alloc": {},
        "extraData": "0x" + qbft_extra_data([a for _, a in validators]).hex(),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def dev_key(name: str) -> bytes:
    from eth_hash.auto import keccak

    return bytes(keccak(DEV_KEY_PREFIX + name.encode("utf-8")))


def write_dev_keys(validators: list[tuple[str, bytes]], root: Path) -> None:
    """Each development validator's Besu data directory with its node key (``<root>/<name>/key``), refusing a
    list whose addresses are not the development keys' (a real consortium's keys are its own)."""
    from eth_keys import keys

    for name, address in validators:
        private = dev_key(name)
        if keys.PrivateKey(private).public_key.to_canonical_address() != address:
            raise GenesisError(f"validator {name!r} is not a development key: its key is its operator's")
        data = root / name
        data.mkdir(parents=True, exist_ok=True)
        (data / "key").write_text("0x" + private.hex(), "ascii")
        (data / "key").chmod(0o600)
        print(f"{data / 'key'}: {name} 0x{address.hex()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--validators", type=Path, default=HERE / "validators.json")
    ap.add_argument("--out", type=Path, default=HERE / "genesis.json")
    ap.add_argument("--check", action="store_true", help="exit 1 if --out is not what the list makes")
    ap.add_argument("--dev-keys", type=Path, metavar="DIR", help="write the development validators' key files")
    args = ap.parse_args(argv)
    try:
        validators = load_validators(args.validators)
        if args.dev_keys is not None:
            write_dev_keys(validators, args.dev_keys)
            return 0
        text = render(genesis(validators))
        if args.check:
            same = args.out.exists() and args.out.read_bytes() == text.encode("utf-8")
            print(f"{args.out}: {'up to date' if same else 'differs from ' + str(args.validators)}")
            return 0 if same else 1
        args.out.write_text(text, "utf-8")
    except GenesisError as exc:
        print(f"make-genesis: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {len(validators)} validators, chain id {CHAIN_ID}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
