"""C2SP transparency-log formats over an exchange's RFC 6962 log: checkpoints, cosignatures, witness requests, tiles.

* c2sp.org/tlog-checkpoint: the note text is the origin, the tree size in decimal (no leading zeroes), the
  base64 root hash, then optional non-empty extension lines. An exchange's origin is a schema-less URL naming the
  chain, the registry and the exchange (:func:`origin`), so two deployments never share a log identity.
* c2sp.org/tlog-cosignature (v1, Ed25519, key type 0x04): a signature line whose bytes are a big-endian u64
  timestamp then Ed25519 over ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint's note text.
* c2sp.org/tlog-witness ``add-checkpoint`` request bodies: ``old <size>``, at most 63 base64 proof lines, a blank
  line, the checkpoint note.
* c2sp.org/tlog-tiles: tile paths (``x``-prefixed groups of three digits, ``.p/<W>`` for partial tiles), hash
  tiles (256 hashes wide, level L holds the roots of subtrees of 256**L leaves) and entry bundles (big-endian
  uint16 length-prefixed entries).

Plain values only: checking the signatures of the exchanges the caller trusts is :mod:`provenance.core.note`'s.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from provenance.core import merkle, note
from provenance.core.snapshot import SnapshotExchange
from provenance.errors import InvalidInput, VerificationError

TILE_WIDTH = 256
MAX_PROOF_LINES = 63
MAX_TIMESTAMP = 2**63 - 1
MAX_ENTRY = 0xFFFF
COSIGNATURE_HEADER = b"cosignature/v1\n"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class MalformedCheckpoint(note.MalformedNote):
    """Raised when a note's text is not a c2sp.org/tlog-checkpoint body."""


class MalformedWitnessRequest(InvalidInput):
    """Raised when an add-checkpoint body breaks a rule of c2sp.org/tlog-witness (framing, sizes, proof lines)."""


class MalformedTilePath(InvalidInput):
    """Raised when a tile path is not one c2sp.org/tlog-tiles defines (leading zeroes, width, level)."""


def _decimal(text: str, what: str, exc: type[InvalidInput]) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > 2**64 - 1:
        raise exc(f"{what} is not a decimal without leading zeroes below 2**64")
    return int(text)


def _hash_b64(text: str, what: str, exc: type[InvalidInput]) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as err:
        raise exc(f"{what} is not base64") from err
    if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw).decode() != text:
        raise exc(f"{what} is not the canonical base64 of a 32-byte hash")
    return raw


def origin(chain_id: int, registry: bytes, code: str) -> str:
    """The log identity of an exchange: ``<chain id>.provenance/<registry address>/<exchange code>``."""
    name = f"{chain_id}.provenance/0x{bytes(registry).hex()}/{code}"
    if not note.valid_name(name):
        raise InvalidInput(f"exchange code {code!r} cannot be part of a log origin (a space or '+')")
    return name


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or any(not e or "\n" in e for e in self.extensions):
            raise MalformedCheckpoint("a checkpoint's origin and extension lines are non-empty single lines")
        if not 0 <= self.size < 2**64 or len(self.root) != merkle.HASH_SIZE:
            raise MalformedCheckpoint("a checkpoint has a size below 2**64 and a 32-byte root")

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise MalformedCheckpoint("a checkpoint's text ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise MalformedCheckpoint("a checkpoint has at least three lines, none empty")
        size = _decimal(lines[1], "the checkpoint's tree size", MalformedCheckpoint)
        return cls(lines[0], size, _hash_b64(lines[2], "the checkpoint's root hash", MalformedCheckpoint),
                   tuple(lines[3:]))


def sign_checkpoint(cp: Checkpoint, signer: note.Signer, extra: Sequence[note.Signature] = ()) -> bytes:
    return note.sign(cp.text(), [signer], extra)


def open_checkpoint(msg: bytes, known: note.Keyring) -> tuple[Checkpoint, note.Note]:
    """Verify a checkpoint note by the keys trusted for its origin and parse its text."""
    n = note.open_note(msg, known)
    return Checkpoint.from_text(n.text), n


# ---------------------------------------------------------------------- cosignatures (tlog-cosignature v1)


def cosigned_message(cp: Checkpoint, timestamp: int) -> bytes:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidInput("a cosignature's timestamp is between 0 and 2**63 - 1")
    return COSIGNATURE_HEADER + f"time {timestamp}\n".encode() + cp.text().encode()


def cosign(cp: Checkpoint, signer: note.Signer, timestamp: int) -> note.Signature:
    if signer.sig_type != note.SIG_COSIGNATURE_V1:
        raise note.MalformedKey("a cosigner's key has signature type 0x04")
    if timestamp == 0:
        raise InvalidInput("a witness's cosignature must not omit the timestamp")
    sig = signer.sign(cosigned_message(cp, timestamp))
    return note.Signature(sig.name, sig.key_id, timestamp.to_bytes(8, "big") + sig.signature)


def verify_cosignature(cp: Checkpoint, verifier: note.Verifier, sig: note.Signature) -> int:
    """The timestamp of a valid v1 cosignature by ``verifier``; InvalidNoteSignature otherwise."""
    if (verifier.sig_type != note.SIG_COSIGNATURE_V1 or (sig.name, sig.key_id) != (verifier.name, verifier.key_id)
            or len(sig.signature) != 72):
        raise note.InvalidNoteSignature(sig.name, sig.key_id)
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP or not verifier.verify(cosigned_message(cp, timestamp), sig.signature[8:]):
        raise note.InvalidNoteSignature(sig.name, sig.key_id)
    return timestamp


# ---------------------------------------------------------------------- witness requests (tlog-witness)


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes  # the signed note, verified by the witness against the origin's keys


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    if len(body) > note.MAX_NOTE_BYTES + 100 * MAX_PROOF_LINES:
        raise MalformedWitnessRequest("the add-checkpoint body is too large")
    head, sep, rest = body.partition(b"\n\n")
    if not sep:
        raise MalformedWitnessRequest("an add-checkpoint body has a blank line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedWitnessRequest("the old size and proof lines are ASCII") from exc
    if not lines[0].startswith("old "):
        raise MalformedWitnessRequest("an add-checkpoint body starts with 'old <size>'")
    old = _decimal(lines[0][4:], "the old size", MalformedWitnessRequest)
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedWitnessRequest(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    proof = tuple(_hash_b64(x, "a consistency proof line", MalformedWitnessRequest) for x in lines[1:])
    return AddCheckpoint(old, proof, rest)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], checkpoint_note: bytes) -> bytes:
    lines = [f"old {old_size}\n".encode()] + [base64.b64encode(p) + b"\n" for p in proof]
    return b"".join(lines) + b"\n" + checkpoint_note


# ---------------------------------------------------------------------- proofs (tlog-proof)

PROOF_HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class Proof:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes  # the signed note, verbatim
    extra: bytes | None = None  # opaque, unauthenticated: here the leaf's bytes, whose hash the proof includes


def proof_bundle(index: int, proof: Sequence[bytes], checkpoint_note: bytes, *, extra: bytes | None = None) -> bytes:
    lines = [PROOF_HEADER] + ([f"extra {base64.b64encode(extra).decode()}"] if extra is not None else [])
    lines += [f"index {index}"] + [base64.b64encode(p).decode() for p in proof]
    return ("\n".join(lines) + "\n\n").encode() + checkpoint_note


def parse_proof_bundle(data: bytes) -> Proof:
    head, sep, rest = data.partition(b"\n\n")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise InvalidInput("a tlog-proof's header lines are ASCII") from exc
    if not sep or lines[0] != PROOF_HEADER:
        raise InvalidInput(f"a tlog-proof starts with {PROOF_HEADER} and has a blank line before its checkpoint")
    i, extra = 1, None
    if len(lines) > 1 and lines[1].startswith("extra "):
        try:
            extra = base64.b64decode(lines[1][6:].encode(), validate=True)
        except binascii.Error as exc:
            raise InvalidInput("a tlog-proof's extra line is not base64") from exc
        i = 2
    if len(lines) <= i or not lines[i].startswith("index "):
        raise InvalidInput("a tlog-proof has an 'index <n>' line")
    index = _decimal(lines[i][6:], "the tlog-proof's index", InvalidInput)
    if len(lines) - i - 1 > 64:
        raise InvalidInput("an inclusion proof has at most 64 hashes")
    proof = tuple(_hash_b64(x, "an inclusion proof line", InvalidInput) for x in lines[i + 1:])
    return Proof(index, proof, rest, extra)


def verify_proof(p: Proof, leaf: bytes, known: note.Keyring) -> Checkpoint:
    """Steps 2 and 4 of tlog-proof: the checkpoint signed by a trusted log key, the leaf included under it.
    Witness policy (step 3) is the caller's: the opened note's other signatures are there to check."""
    cp, _ = open_checkpoint(p.checkpoint, known)
    merkle.verify_inclusion(p.index, cp.size, merkle.leaf_hash(leaf), p.proof, cp.root)
    return cp


# ---------------------------------------------------------------------- note keys in the Federation's key history


@dataclass(frozen=True)
class NoteKey:
    """An Ed25519 note key as IFederation lists it: the exchange that listed it and the blocks it was valid in."""

    exchange: int
    public_key: bytes  # 32 bytes, RFC 8032
    added_at: int
    revoked_at: int = 0  # 0 while valid

    def valid_at(self, block: int, removed_at: int = 0) -> bool:
        """IFederation.isNoteKeyValidAt: added at or before ``block``, not revoked at or before it, and the
        exchange not removed at or before it (``removed_at`` 0 while it is a member)."""
        return (self.added_at <= block and (self.revoked_at == 0 or block < self.revoked_at)
                and (removed_at == 0 or block < removed_at))

    def verifier(self, origin: str) -> note.Verifier:
        """The key as a signed-note verifier of the exchange's log: the origin is the key's name."""
        return note.Verifier.ed25519(origin, self.public_key)


# ---------------------------------------------------------------------- binding a note key to an exchange


def binding_statement(*, chain_id: int, registry: bytes, exchange: int, code: str, vkey: str, block: int) -> str:
    """The text an exchange's secp256k1 key signs (EIP-191) to bind its Ed25519 note key off-chain: how nodes bound
    note keys before IFederation kept them (:class:`NoteKey`), still accepted from nodes on older deployments."""
    return (f"provenance note key\nchain {chain_id}\nregistry 0x{bytes(registry).hex()}\nexchange {exchange} {code}\n"
            f"vkey {vkey}\nfrom block {block}\n")


# ---------------------------------------------------------------------- tiles (tlog-tiles)


def tile_path(level: int | None, n: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` or, for level None, ``tile/entries/<N>[.p/<W>]``."""
    if n < 0 or not 1 <= width <= TILE_WIDTH or (level is not None and not 0 <= level <= 63):
        raise MalformedTilePath("a tile has an index >= 0, a width 1..256 and a level 0..63")
    groups = [f"{n % 1000:03d}"]
    while n >= 1000:
        n //= 1000
        groups.insert(0, f"x{n % 1000:03d}")
    tail = "/".join(groups) + ("" if width == TILE_WIDTH else f".p/{width}")
    return f"tile/{'entries' if level is None else level}/{tail}"


# At most seven groups: a tile index is below 2**64 (20 digits), and an unbounded one reached int()'s digit limit.
_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/){0,6}[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """(level or None for entries, index, width) of a tile path; the inverse of :func:`tile_path`."""
    m = _PATH.fullmatch(path)
    if m is None:
        raise MalformedTilePath(f"{path!r} is not a tlog-tiles path")
    level = None if m[1] == "entries" else int(m[1])
    groups = m[2].split("/")
    n = int("".join(g.lstrip("x") for g in groups))
    if n >= 2**64:
        raise MalformedTilePath(f"{path!r} names a tile index beyond 2**64")
    width = int(m[3]) if m[3] else TILE_WIDTH
    if tile_path(level, n, width) != path:  # x000 prefixes and widths of 256 written as partial are not canonical
        raise MalformedTilePath(f"{path!r} is not the canonical path of its tile")
    return level, n, width


def tile_span(level: int, n: int, width: int) -> tuple[int, int, int]:
    """(first leaf, leaves per hash, number of hashes) that hash tile L/N of width W covers."""
    per = TILE_WIDTH ** level
    return n * TILE_WIDTH * per, per, width


def hash_tile(hashes: Sequence[bytes]) -> bytes:
    return b"".join(hashes)


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for e in entries:
        if len(e) > MAX_ENTRY:
            raise InvalidInput("a tlog-tiles entry is at most 65535 bytes")
        out += len(e).to_bytes(2, "big") + e
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise InvalidInput("an entry bundle ends inside a length prefix")
        n = int.from_bytes(data[i:i + 2], "big")
        if i + 2 + n > len(data):
            raise InvalidInput("an entry bundle ends inside an entry")
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


# ---------------------------------------------------------------------- checkpoints checked against a snapshot


class UntrustedCheckpoint(VerificationError):
    """Raised when a checkpoint is not signed by a note key a federation snapshot lists as valid for its log."""


def snapshot_note_keys(exchange: SnapshotExchange, *, at_block: int) -> list[NoteKey]:
    """The note keys an offline verifier trusts for an exchange, from a snapshot taken at ``at_block``: listed at
    or before it and not revoked when the snapshot was taken, and none while the exchange is not an active member.

    A checkpoint carries no time of its own, so a revoked key is refused for every checkpoint, as the witness
    does: whoever holds a revoked key can sign a checkpoint that looks older than the revocation."""
    if exchange.status != "active":
        return []
    keys = [NoteKey(exchange.id, bytes(k), added, revoked) for k, added, revoked in exchange.note_keys]
    return [k for k in keys if k.revoked_at == 0 and k.valid_at(at_block)]


def checkpoint_signed_by_snapshot(msg: bytes, exchange: SnapshotExchange, *, chain_id: int, registry: bytes,
                                  at_block: int) -> tuple[Checkpoint, note.Note]:
    """Open a signed checkpoint of ``exchange``'s log offline: its origin must be the exchange's in this deployment
    and one of its signatures must be by a note key :func:`snapshot_note_keys` trusts. Other signature lines
    (witnesses' cosignatures) are left unchecked in the returned note, for the caller's witness policy.

    UntrustedCheckpoint if the origin is another log's or no trusted key signed it; MalformedNote (or
    MalformedCheckpoint) for a note that is not a checkpoint; InvalidNoteSignature if a trusted key's line does
    not verify."""
    want = origin(chain_id, registry, exchange.code)
    text, _ = note.parse(msg)
    cp = Checkpoint.from_text(text)
    if cp.origin != want:
        raise UntrustedCheckpoint(f"the checkpoint's origin is {cp.origin}, not exchange {exchange.code}'s {want}")
    keys = snapshot_note_keys(exchange, at_block=at_block)
    if not keys:
        raise UntrustedCheckpoint(f"the snapshot lists no valid note key for exchange {exchange.code}")
    try:
        return open_checkpoint(msg, note.Keyring(k.verifier(want) for k in keys))
    except note.UnverifiedNote as exc:
        raise UntrustedCheckpoint(f"no signature of the checkpoint is by a note key the snapshot lists as valid for "
                                  f"exchange {exchange.code}") from exc
