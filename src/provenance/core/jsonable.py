"""Turn node values into JSON: bytes as 0x-hex, enums by name, rights as a list of names."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from provenance.types import Rights


def jsonable(value: Any) -> Any:
    if isinstance(value, Rights):
        return value.labels()
    if isinstance(value, enum.Enum):
        return getattr(value, "label", value.name.lower())
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
