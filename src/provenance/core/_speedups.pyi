"""Type stub of the compiled fast paths (_speedups.c)."""

from collections.abc import Sequence
from typing import Any

def configure(contexts: list[str], types: list[str], proof_type: str, eip712_primary: str, eip712_types: str,
              kind: dict[str, int], grade: dict[str, int], source: dict[str, int], status: dict[str, int],
              max_lineage: int, /) -> None: ...
def read(doc: Any, /) -> tuple[Any, ...] | None: ...
def inclusion_root(index: int, size: int, leaf: bytes, proof: Sequence[bytes], /) -> bytes | None: ...
