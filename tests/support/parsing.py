"""Certificate documents' building blocks and odd values, shared by the reader tests (certificates/test_parsing)
and the compiled module's differential tests (core/test_speedups)."""

from __future__ import annotations

import copy
from typing import Any

H32 = "0x" + "ab" * 32
RECORD: dict[str, Any] = {
    "id": H32, "registrar": 1, "owner": 7, "kind": "product", "grade": "general", "source": "enterprise",
    "rights": 3, "contentHash": "0x" + "11" * 32, "metadataHash": "0x" + "22" * 32, "supersedes": "0x" + "00" * 32,
    "parents": ["0x" + "33" * 32, "0x" + "44" * 32], "status": "active", "blockNumber": 9, "batched": True,
}
INCLUSION: dict[str, Any] = {
    "type": "TransparencyLogInclusion", "record": H32, "exchange": 1, "leafIndex": 4, "leafHash": "0x" + "55" * 32,
    "treeSize": 10, "root": "0x" + "66" * 32, "proof": ["0x" + "77" * 32, "0x" + "88" * 32], "anchorBlock": 12,
    "anchorTransaction": "0x" + "99" * 32, "checkpointSignature": "0x" + "aa" * 65,
    "cosignatures": [{"witness": 2, "signer": "0x" + "bb" * 20, "signature": "0x" + "cc" * 65}],
}

# Values at and around every bound and of every wrong shape the readers must tell apart.
ODD_VALUES = [
    None, True, False, 0, 1, 2, 7, 8, -1, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000, 2**64 - 1, 2**64, 1.0, "1",
    "", "0x", "0X" + "ab" * 32, H32, H32.upper().replace("0X", "0x"), "0x" + "ab" * 31, "0x" + "ab" * 33,
    "0x" + "ab" * 20, "0x" + "ab" * 19 + "a", "0x" + "ab" * 15 + " " + "ab" * 17, "0x" + "ab" * 16 + " " + "ab" * 16,
    " " + H32, H32 + " ", "0x" + "zz" * 32, "0x" + "ab" * 65, "0xab", "0x abcd", "product", "resource", "Product",
    "general", "core", "enterprise", "active", "revoked", "TransparencyLogInclusion", [], [H32], [H32] * 256,
    ["0x12"], [H32, 5], {}, {"witness": 2}, [{"witness": 2, "signer": "0x" + "bb" * 20, "signature": "0x01"}],
    [{"witness": 2, "signer": "0x" + "bb" * 19, "signature": "0x01"}],
    [{"witness": 2, "signer": "0x" + "bb" * 10 + " " + "bb" * 10, "signature": "0x01"}],
    [{"witness": True, "signer": "0x" + "bb" * 20, "signature": "0x01"}],
]


KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
PARTNER_KEY = bytes.fromhex("6c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


class Text(str):
    pass


class Obj(dict):  # type: ignore[type-arg]
    pass


def paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*at, i))
    return out


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.copy(doc)
    out[path[0]] = replaced(doc[path[0]], path[1:], value)
    return out


DOC_ODD_VALUES = [*ODD_VALUES, 2**53 - 1, 2**53, -(2**53), 1.5, float("nan"), Text("SDE"), Text(H32), Obj(),
                  ("0x" + "11" * 32,), b"\x00", "https://www.w3.org/ns/credentials/v2",
                  # the characters next to the hex digits, and both cases
                  *("0x" + c * 64 for c in "/:@G`gAFaf"), "0x" + "ab" * 31 + "a\u00e9",
                  "0x" + "ab" * 31 + "\u0661\u0662"]
