"""One exception tree for the whole node.

Every failure a caller can see is a :class:`ProvenanceError` with a message meant for the person reading
it. Adapters (the chain backends, the key store, the data directory) translate third-party exceptions into
these at their boundary, so that no ``plyvel``, ``eth_*`` or ``http.client`` exception leaks to callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What a refusal means to the caller, whoever refused: the node's own check or a contract's custom error
    (provenance.chain.reverts maps every one of those to a kind)."""

    INVALID_INPUT = "invalid-input"  # the node could not read what it was given
    NOT_FOUND = "not-found"  # the record, entity, application or spot check the call is about does not exist
    FORBIDDEN = "forbidden"  # the caller is known but this key may not do this
    CONFLICT = "conflict"  # the call does not fit the current state; the same call may succeed later
    RULE_VIOLATED = "rule-violated"  # a contract's rule refuses these values
    LIMIT_EXCEEDED = "limit-exceeded"  # a fixed bound of a contract (a volume, a count, a nonce space) is reached


@dataclass(frozen=True)
class Outcome:
    """How one kind of refusal reads over each interface."""

    http_status: int
    exit_code: int


# The one table: the HTTP status (provenance.api.problems) and the CLI exit code (provenance.cli) of a kind.
# Exit 8 stays the family "refused" (forbidden, conflicting or against a contract's rule) as the README
# documents it; a refusal because the subject does not exist reads as not found (404, exit 4) everywhere.
OUTCOMES: Mapping[ErrorKind, Outcome] = {
    ErrorKind.INVALID_INPUT: Outcome(422, 2),
    ErrorKind.NOT_FOUND: Outcome(404, 4),
    ErrorKind.FORBIDDEN: Outcome(403, 8),
    ErrorKind.CONFLICT: Outcome(409, 8),
    ErrorKind.RULE_VIOLATED: Outcome(422, 8),
    ErrorKind.LIMIT_EXCEEDED: Outcome(422, 8),
}


class ProvenanceError(Exception):
    """Raised for any failure the node reports; the message is user-facing."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ProvenanceError):
    """Raised when configuration is missing, malformed or inconsistent."""

    exit_code = 3


class InvalidInput(ProvenanceError, ValueError):
    """Raised when a value given by a user (a hash, an address, an id, an enum name) is malformed."""

    kind = ErrorKind.INVALID_INPUT
    exit_code = OUTCOMES[kind].exit_code


class MalformedJson(InvalidInput):
    """Raised when a document from outside is not I-JSON (RFC 7493): not UTF-8 JSON, a lone surrogate, NaN or
    Infinity, or a number beyond the bound of what it carries (provenance.core.ijson)."""


class NestingTooDeep(MalformedJson):
    """Raised when a document nests arrays and objects deeper than the reader's limit; checked before parsing."""

    def __init__(self, message: str, *, depth: int, limit: int) -> None:
        super().__init__(message)
        self.depth = depth  # the depth found, or limit + 1 where the scan stopped counting
        self.limit = limit


class DuplicateKey(MalformedJson):
    """Raised when an object of a document repeats a member name (RFC 7493 section 2.3); names the key and the
    object's path, so the sender sees which of the two readings was refused."""

    def __init__(self, message: str, *, key: str, path: str) -> None:
        super().__init__(message)
        self.key = key
        self.path = path


class DocumentTooLarge(InvalidInput):
    """Raised when a document, a file or one line of a batch is larger than its stated limit."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class NotFound(ProvenanceError, LookupError):
    """Raised when a record, entity, exchange or key does not exist."""

    kind = ErrorKind.NOT_FOUND
    exit_code = OUTCOMES[kind].exit_code


class Conflict(ProvenanceError):
    """Raised when an operation does not fit the current state (a spot check not yet drawn, a seed block not
    mined yet): the same request may succeed later."""

    kind = ErrorKind.CONFLICT
    exit_code = OUTCOMES[kind].exit_code


class Forbidden(ProvenanceError):
    """Raised when the caller is known but may not do this (an exchange answering for another's exporter)."""

    kind = ErrorKind.FORBIDDEN
    exit_code = OUTCOMES[kind].exit_code


class StoreError(ProvenanceError):
    """Raised when local storage (the data directory, its databases) fails."""

    exit_code = 5


class DataDirLocked(StoreError):
    """Raised when another process already has the data directory open."""


class KeystoreError(ProvenanceError):
    """Raised when a key cannot be created, found or decrypted."""

    exit_code = 6


class ChainError(ProvenanceError):
    """Raised when the chain cannot be reached or does not behave as a chain should."""

    exit_code = 7


class ChainUnavailable(ChainError):
    """Raised when the JSON-RPC endpoint cannot be reached or answers with transport errors."""


class ChainMismatch(ChainError):
    """Raised when the chain or the contracts are not the ones this node was set up for."""


class TransactionTimeout(ChainError):
    """Raised when a sent transaction has no receipt within the configured time; ``tx_hash`` is the transaction's
    (None where the sender did not say), so the caller can ask the chain later what became of it."""

    def __init__(self, message: str, tx_hash: bytes | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionFailed(ChainError):
    """Raised when a transaction was mined but failed without revert data (out of gas, invalid opcode)."""


class ContractReverted(ChainError):
    """Raised when a contract call reverts; carries the custom error decoded by name and arguments.

    Its kind, and so its exit code and HTTP status, comes from provenance.chain.reverts (by the error's name);
    ``exit_code`` here is only the family's code for a caller that does not ask the table."""

    exit_code = OUTCOMES[ErrorKind.RULE_VIOLATED].exit_code

    def __init__(self, contract: str, error: str, args: Mapping[str, Any], data: bytes) -> None:
        self.contract = contract
        self.error = error
        self.args_by_name = dict(args)
        self.data = data
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in self.args_by_name.items())
        super().__init__(f"{contract} refused the call: {error}({rendered})")


class VerificationError(ProvenanceError):
    """Raised when a signature or proof does not verify."""

    exit_code = 9


class InvalidSignature(VerificationError):
    """Raised when a signature is malformed, malleable, or not by the expected key."""


def _render(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)
