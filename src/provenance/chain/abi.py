"""Contract ABIs on eth-abi directly: call encoding, output, event and custom-error decoding.

web3's contract layer is not used: decoding logs with eth-abi directly is an order of magnitude faster, and
keeping the adapter this thin means both backends share exactly the same encoding code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_hash.auto import keccak

from provenance.errors import ChainError


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    source_hash: str
    compiler: dict[str, Any]
    immutable_ranges: tuple[tuple[int, int], ...]

    def code_matches(self, runtime_code: bytes) -> bool:
        """Whether on-chain runtime code is this artifact's, ignoring the immutables set at deployment."""
        expected = self.deployed_bytecode
        if len(runtime_code) != len(expected):
            return False
        masked = bytearray(runtime_code)
        for start, length in self.immutable_ranges:
            masked[start:start + length] = expected[start:start + length]
        return bytes(masked) == expected


@cache
def load_artifact(name: str) -> Artifact:
    """Load a committed artifact (package data): the node needs no compiler at run time."""
    try:
        text = resources.files("provenance.chain.artifacts").joinpath(f"{name}.json").read_text("utf-8")
    except FileNotFoundError as exc:
        raise ChainError(f"contract artifact {name}.json is missing from the package") from exc
    raw = json.loads(text)
    return Artifact(
        name=raw["contractName"],
        abi=raw["abi"],
        bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(raw["deployedBytecode"].removeprefix("0x")),
        source_hash=raw["sourceHash"],
        compiler=raw["compiler"],
        immutable_ranges=tuple(
            (ref["start"], ref["length"]) for refs in raw.get("immutableReferences", {}).values() for ref in refs
        ),
    )


def type_string(param: dict[str, Any]) -> str:
    """The canonical ABI type of a parameter, expanding tuples (structs) recursively."""
    t: str = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(type_string(c) for c in param["components"])
        return f"({inner}){t[len('tuple'):]}"
    return t


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class EventSpec:
    name: str
    topic0: bytes
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        data_types = [t for t, ix in zip(self.types, self.indexed, strict=True) if not ix]
        data_values = iter(decode(data_types, data))
        topic_values = iter(topics[1:])
        out: dict[str, Any] = {}
        for name, t, ix in zip(self.names, self.types, self.indexed, strict=True):
            out[name] = decode([t], next(topic_values))[0] if ix else next(data_values)
        return out


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    selector: bytes
    names: tuple[str, ...]
    types: tuple[str, ...]


class ContractABI:
    def __init__(self, artifact: Artifact) -> None:
        self.name = artifact.name
        self.artifact = artifact
        self.functions: dict[str, FunctionSpec] = {}
        self.events: dict[bytes, EventSpec] = {}
        self.events_by_name: dict[str, EventSpec] = {}
        self.errors: dict[bytes, ErrorSpec] = {}
        self.constructor_inputs: tuple[str, ...] = ()
        for item in artifact.abi:
            kind = item["type"]
            ins = tuple(type_string(p) for p in item.get("inputs", []))
            if kind == "function":
                sig = f"{item['name']}({','.join(ins)})"
                outs = tuple(type_string(p) for p in item.get("outputs", []))
                self.functions[item["name"]] = FunctionSpec(item["name"], keccak(sig.encode())[:4], ins, outs)
            elif kind == "event":
                sig = f"{item['name']}({','.join(ins)})"
                spec = EventSpec(
                    item["name"], keccak(sig.encode()), tuple(p["name"] for p in item["inputs"]), ins,
                    tuple(bool(p["indexed"]) for p in item["inputs"]),
                )
                self.events[spec.topic0] = spec
                self.events_by_name[spec.name] = spec
            elif kind == "error":
                sig = f"{item['name']}({','.join(ins)})"
                err = ErrorSpec(item["name"], keccak(sig.encode())[:4], tuple(p["name"] for p in item["inputs"]), ins)
                self.errors[err.selector] = err
            elif kind == "constructor":
                self.constructor_inputs = ins

    def encode_call(self, fn: str, *args: Any) -> bytes:
        spec = self.functions[fn]
        return spec.selector + encode(list(spec.inputs), list(args))

    def decode_output(self, fn: str, data: bytes) -> tuple[Any, ...]:
        spec = self.functions[fn]
        try:
            return tuple(decode(list(spec.outputs), data))
        except DecodingError as exc:
            raise ChainError(f"{self.name}.{fn} returned undecodable data ({len(data)} bytes)") from exc

    def deploy_data(self, *args: Any) -> bytes:
        return self.artifact.bytecode + encode(list(self.constructor_inputs), list(args))

    def decode_log(self, topics: list[bytes], data: bytes) -> tuple[str, dict[str, Any]] | None:
        if not topics:
            return None
        spec = self.events.get(topics[0])
        if spec is None:
            return None
        return spec.name, spec.decode(topics, data)


_ERROR_STRING = keccak(b"Error(string)")[:4]
_PANIC = keccak(b"Panic(uint256)")[:4]


def decode_revert(abis: list[ContractABI], data: bytes) -> tuple[str, dict[str, Any]]:
    """Decode revert data into (error name, arguments by name), trying every known contract's errors."""
    if len(data) < 4:
        return ("EmptyRevert", {}) if not data else ("MalformedRevert", {"data": data})
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return "Error", {"message": decode(["string"], body)[0]}
        if selector == _PANIC:
            return "Panic", {"code": hex(decode(["uint256"], body)[0])}
        for abi in abis:
            spec = abi.errors.get(selector)
            if spec is not None:
                values = decode(list(spec.types), body)
                return spec.name, dict(zip(spec.names, values, strict=True))
    except DecodingError:
        pass
    return "UnknownError", {"data": data}
