"""What a node does for the C2SP transparency-log interface (api/routes/tlog.py is its thin HTTP face).

* Its own exchange's log, signed as c2sp.org/tlog-checkpoint notes by an Ed25519 note key derived from the node's
  secp256k1 key, never inconsistent with a checkpoint it signed before (store/witness_state.py keeps the last).
* A c2sp.org/tlog-witness: ``add-checkpoint`` requests checked against the note keys trusted for the exchange the
  origin names, the consistency proof from the last size cosigned, and the chain's own leaves where the index has
  them; answered with a tlog-cosignature/v1 line by the node's witness key.
* Note keys: an exchange's are those the Federation lists in its note key history (IFederation.addNoteKey, by
  the exchange's secp256k1 key); the node lists its own at startup if it is not there. A witness trusts, for an
  exchange, the note keys valid at the block it cosigns in (the chain head it reads: a checkpoint carries no time
  of its own, and a tlog-cosignature says the checkpoint was current when the witness signed), never a revoked one.
* Note key bindings, the fallback for deployments whose Federation lists none for an exchange (older contracts,
  older nodes): an EIP-191 statement (core/tlog.binding_statement) signed by an active secp256k1 key of the
  exchange it names, which the node checks and keeps. Once the Federation lists a note key for an exchange, its
  history alone speaks for that exchange, so a revocation on-chain cannot be undone by a binding kept off-chain.
* c2sp.org/tlog-proof bundles of any record.

Refusals of the witness protocol carry the status c2sp.org/tlog-witness gives them (:class:`WitnessRefusal`):
the protocol answers in plain text, not in problem documents.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from eth_account.messages import encode_defunct

from provenance.chain.registry import WriteResult
from provenance.chain.tlog import NoteKeyService
from provenance.core import eip712, merkle, note, tlog
from provenance.core.ids import checksum
from provenance.core.keccak import keccak256
from provenance.errors import (
    ChainError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidSignature,
    NotFound,
    ProvenanceError,
    VerificationError,
)
from provenance.indexer.tlog_tiles import TileQueries
from provenance.services.operations import Operations
from provenance.services.results.tlog import BindingOut
from provenance.store.witness_state import SizeConflict, TlogState

SIGNED = "signed.json"
WITNESSED = "witness.json"
MAX_BINDINGS = 16  # note key bindings kept per exchange
TEXT = "text/plain; charset=utf-8"
SIZE = "text/x.tlog.size"

log = logging.getLogger("provenance.tlog")


class _Repeat(Exception):
    """Raised inside a witness state check to end TlogState.advance before it writes: the checkpoint is the one
    kept."""


class WitnessRefusal(ProvenanceError):
    """Raised when the witness refuses an add-checkpoint request; ``status`` is the one c2sp.org/tlog-witness
    names for the refusal and ``media`` the type of its plain-text body."""

    def __init__(self, status: int, message: str, media: str = TEXT) -> None:
        super().__init__(message)
        self.status = status
        self.media = media


def _parse_binding(statement: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not statement.startswith("provenance note key\n"):
        raise InvalidInput("a binding statement starts with 'provenance note key'")
    for line in statement.split("\n")[1:-1]:
        key, _, value = line.partition(" ")
        if key in fields or key not in ("chain", "registry", "exchange", "vkey", "from"):
            raise InvalidInput(f"a binding statement has an unknown or repeated line {key!r}")
        fields[key] = value
    if set(fields) != {"chain", "registry", "exchange", "vkey", "from"} or not statement.endswith("\n"):
        raise InvalidInput("a binding statement names chain, registry, exchange, vkey and from block")
    return fields


# ASCII digits only, no leading zeroes: str.isdigit() takes "²" (which int() refuses: a 500) and other scripts'
# digits (which int() reads: a second spelling of one statement's number).
_EXCHANGE_ID = re.compile(r"[1-9][0-9]{0,4}")
_BLOCK = re.compile(r"0|[1-9][0-9]{0,18}")


def _decimal_block(text: str) -> int:
    value = text.removeprefix("block ")
    if not _BLOCK.fullmatch(value):
        raise InvalidInput("a binding statement's 'from block' is a decimal block number")
    return int(value)


# The one encoding of a signature the node accepts anywhere: 0x, then r || s || v in 130 lowercase hex digits.
# bytes.fromhex also reads upper case and skips white space, so each statement had many spellings.
_SIGNATURE = re.compile(r"0x[0-9a-f]{130}")
_HEX = frozenset("0123456789abcdefABCDEF")


def _binding_signature(text: str) -> bytes:
    """The 65 bytes of a binding signature written in its one encoding; InvalidInput naming the fault else."""
    if _SIGNATURE.fullmatch(text):
        return bytes.fromhex(text[2:])
    what = "the binding signature is written 0x and 130 lowercase hex digits (65 bytes: r, s, v)"
    digits = text[2:]
    if not text.startswith("0x"):
        raise InvalidInput(f"{what}; it does not start with 0x")
    if not _HEX.issuperset(digits):
        raise InvalidInput(f"{what}; it holds characters that are not hex digits")
    if digits != digits.lower():
        raise InvalidInput(f"{what}; it holds upper-case hex digits")
    raise InvalidInput(f"{what}; it has {len(digits)} digits")


def binding_digest(statement: str) -> bytes:
    """The EIP-191 (version 0x45) digest an exchange's key signs for a binding statement."""
    message = statement.encode()
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def _distinct(bindings: list[BindingOut]) -> list[BindingOut]:
    """One binding per (exchange, statement), the first held. A node before this rule kept each spelling of a
    signature as its own binding; those copies say nothing more and are not served or counted. A copy whose
    signature is in the one accepted encoding is preferred to an earlier one that is not."""
    out: dict[tuple[int, str], BindingOut] = {}
    for b in bindings:
        key = (b.exchange, b.statement)
        held = out.get(key)
        if held is None or (not _SIGNATURE.fullmatch(held.signature) and _SIGNATURE.fullmatch(b.signature)):
            out[key] = b
    return list(out.values())


class TlogService:
    """One node's C2SP logs, witness and proofs, over its operations, its index and ``<data-dir>/tlog``."""

    def __init__(self, ops: Operations, *, exchange_id: int | None, key_exchange: Callable[[bytes], int | None],
                 state: TlogState) -> None:
        self.ops = ops
        self.state = state
        self.key_exchange = key_exchange  # the active exchange a secp256k1 key signs for, or None
        dep = ops.node.contracts.deployment
        self.chain_id, self.registry = dep.chain_id, bytes(dep.registry)
        self.tiles = TileQueries(ops.node.index)
        self.note_keys = NoteKeyService(ops.node.contracts)
        account = ops.signer()
        # Derived from the node's secp256k1 key (encrypted in its keystore), with the deployment in the context:
        # stable across restarts, never kept in the clear, and a new key (a rotation) gives a new note key, which
        # the node lists at its next start (the old one stays valid until the exchange revokes it).
        secret, where = bytes(account.key), f"{self.chain_id}/0x{self.registry.hex()}".encode()
        name = f"{self.chain_id}.provenance/0x{self.registry.hex()}/witness/{account.address.lower()}"
        self.witness = note.Signer.derive(name, secret, b"provenance tlog witness key v1 " + where,
                                          note.SIG_COSIGNATURE_V1)
        self.own = exchange_id
        self._lock = threading.Lock()
        self._binding_lock = threading.Lock()  # the quota and the one-statement rule are read and kept together
        self._signed: tuple[int, bytes] | None = None
        self.log_key: note.Signer | None = None
        self.binding: BindingOut | None = None
        self.listed: tlog.NoteKey | None = None
        if self.own is not None:
            self.log_key = note.Signer.derive(self.origin(self.own), secret, b"provenance tlog note key v1 " + where)
            self.binding = self._own_binding()
            self.listed = self.list_own_key()

    # ------------------------------------------------------------------ identities

    def code(self, ex: int) -> str:
        code = self.ops.codes(need=ex).get(ex)
        if code is None:
            raise NotFound(f"no exchange {ex}")
        return code

    def origin(self, ex: int) -> str:
        return tlog.origin(self.chain_id, self.registry, self.code(ex))

    def exchange_of_code(self, code: str) -> int:
        for ex, c in self.ops.codes().items():
            if c == code:
                return ex
        for ex, c in self.ops.codes(need=-1).items():  # read again: exchanges are only ever added
            if c == code:
                return ex
        raise NotFound(f"no exchange {code!r}")

    def exchange_of_origin(self, origin: str) -> int | None:
        prefix = tlog.origin(self.chain_id, self.registry, "")
        if not origin.startswith(prefix):
            return None
        try:
            return self.exchange_of_code(origin[len(prefix):])
        except NotFound:
            return None

    # ------------------------------------------------------------------ note keys on-chain

    def list_own_key(self) -> tlog.NoteKey | None:
        """The node's note key as the Federation lists it, listed now by the node's exchange key if it is not
        there; None (logged) where that cannot be: a Federation without note keys, a key listed by another
        exchange (anyone may list a public key: the contract cannot check Ed25519), or this key revoked."""
        if self.log_key is None or self.own is None:
            return None
        public = self.log_key.verifier.public_key
        with self.ops.lock:
            try:
                have = self.note_keys.get(public)
                if have is None:
                    self.note_keys.add(self.ops.signer(), public)
                    have = self.note_keys.get(public)
            except ChainError as exc:
                log.warning("note key %s not listed on-chain (%s); partners need its binding", public.hex(),
                            exc.message)
                return None
        if have is None or have.exchange != self.own or have.revoked_at:
            log.warning("note key %s is %s on-chain; this node's checkpoints need another key", public.hex(),
                        "revoked" if have and have.exchange == self.own else "another exchange's")
            return None
        return have

    def listed_keys(self, ex: int) -> tuple[list[tlog.NoteKey], int, int]:
        """(the exchange's note key history, its removal block or 0, the chain head), read together. A
        Federation without note keys (an older deployment) lists none."""
        with self.ops.lock:
            head = self.ops.node.chain.block_number()
            try:
                keys = self.note_keys.of(ex)
            except ChainError:
                keys = []
            removed = self.ops.svc.exchange(ex).removed_at
        return keys, removed, head

    def revoke_note_key(self, key: str | None, public_key: bytes) -> WriteResult:
        """Revoke a note key of the exchange whose key ``key`` names (None: the node's), under the node's write
        lock like every other transaction it sends. Whether the key is the one the node signs with now is the
        caller's question (the CLI refuses it without --force)."""
        with self.ops.lock:
            return self.note_keys.revoke(self.ops.signer(key), public_key)

    def trusted(self, ex: int) -> list[note.Verifier]:
        """The note keys a witness trusts for an exchange's log now (see the module docstring)."""
        keys, removed, head = self.listed_keys(ex)
        origin = self.origin(ex)
        if keys:
            # Read after the head, so a key revoked since has revoked_at set: refused although valid at the head.
            return [k.verifier(origin) for k in keys if k.revoked_at == 0 and k.valid_at(head, removed)]
        return [note.Verifier.from_vkey(b.vkey) for b in self.bindings() if b.exchange == ex]

    # ------------------------------------------------------------------ bindings

    def _own_binding(self) -> BindingOut:
        if self.log_key is None or self.own is None:
            raise NotFound("this node speaks for no exchange: it has no note key to bind")
        signer = self.ops.signer()
        for b in self.bindings():
            if b.vkey == self.log_key.verifier.vkey and b.signer.lower() == signer.address.lower():
                return b
        statement = tlog.binding_statement(chain_id=self.chain_id, registry=self.registry, exchange=self.own,
                                           code=self.code(self.own), vkey=self.log_key.verifier.vkey,
                                           block=self.ops.node.chain.block_number())
        sig = "0x" + bytes(signer.sign_message(encode_defunct(text=statement)).signature).hex()
        return self.accept(statement, sig)

    def bindings(self) -> list[BindingOut]:
        """The bindings kept, one per exchange and statement (:func:`_distinct`)."""
        return _distinct([BindingOut.model_validate(b) for b in self.state.bindings()])

    def accept(self, statement: str, signature: str) -> BindingOut:
        """Check a binding statement (this chain and registry, the exchange's code, a vkey named by its origin, a
        signer the chain lists as an active key of that exchange, a signature in its one encoding: 0x and 130
        lowercase hex digits, v 27 or 28, low s) and keep it. A statement already kept for the exchange is not kept
        again, whoever of its keys signed it: the binding held is returned and no slot is used."""
        f = _parse_binding(statement)
        ex_id, _, code = f["exchange"].partition(" ")
        if f["chain"] != str(self.chain_id) or f["registry"] != f"0x{self.registry.hex()}":
            raise InvalidInput("the binding statement is for another chain or registry")
        if not _EXCHANGE_ID.fullmatch(ex_id) or self.code(int(ex_id)) != code or not f["from"].startswith("block "):
            raise InvalidInput("the binding statement's exchange id and code do not match the federation's")
        ex = int(ex_id)
        v = note.Verifier.from_vkey(f["vkey"])
        if v.sig_type != note.SIG_ED25519 or v.name != self.origin(ex):
            raise InvalidInput(f"a note key of exchange {code} is an Ed25519 key named {self.origin(ex)}")
        block = _decimal_block(f["from"])
        try:
            address = bytes(eip712.recover_address(binding_digest(statement), _binding_signature(signature)))
        except InvalidSignature as exc:
            raise InvalidInput(f"the binding signature is refused: {exc.message}") from exc
        signer = checksum(address)
        if self.key_exchange(address) != ex:
            raise Forbidden(f"{signer} is not an active key of exchange {code}")
        with self._binding_lock:
            have = [b for b in self.bindings() if b.exchange == ex]
            for b in have:
                if b.statement == statement:
                    return b
            if len(have) >= MAX_BINDINGS:
                # Bounded so that no exchange grows another node's state without end; rotation past it needs an
                # operator.
                raise Conflict(f"exchange {code} already has {MAX_BINDINGS} note key bindings on this node")
            out = BindingOut(exchange=ex, code=code, origin=v.name, vkey=v.vkey, signer=signer, block=block,
                             statement=statement, signature=signature)
            self.state.add_binding(out.model_dump())
            return out

    def keyring(self, ex: int) -> note.Keyring:
        return note.Keyring(self.trusted(ex))

    # ------------------------------------------------------------------ the node's own log

    def checkpoint(self, ex: int) -> bytes:
        """The node's signed checkpoint of its own log with the cosignatures witnesses gave it (extra signature
        lines, c2sp.org/tlog-cosignature: a client checks those of the witnesses it trusts and ignores the rest)."""
        msg = self.signed_checkpoint(ex)
        size = tlog.Checkpoint.from_text(note.parse(msg)[0]).size
        return msg + b"".join(self.state.cosignatures(self.origin(ex), size))

    def keep_cosignature(self, witness: note.Verifier, msg: bytes, line: bytes) -> tlog.Checkpoint:
        """Check ``line`` is ``witness``'s valid cosignature of the signed checkpoint ``msg`` of this node's log
        and keep it (InvalidNoteSignature or MalformedNote else): only verified lines are served, since a line
        under a key a client trusts that fails to verify makes the client refuse the whole note."""
        text, sigs = note.parse(msg + line)
        cp = tlog.Checkpoint.from_text(text)
        reply = sigs[len(note.parse(msg)[1]):]
        if self.own is None or cp.origin != self.origin(self.own) or not reply:
            raise note.MalformedNote("a cosignature is kept only for this node's own checkpoints, one line or more")
        # tlog-witness lets a witness answer several lines (one per key it holds, an ML-DSA-44 one too): the first
        # that is this witness's key's and verifies is kept, the others (unknown to the node, or failing) are not.
        for sig in reply:
            if (sig.name, sig.key_id) != (witness.name, witness.key_id):
                continue
            try:
                tlog.verify_cosignature(cp, witness, sig)
            except note.InvalidNoteSignature:
                continue
            self.state.keep_cosignature(cp.origin, cp.size, witness.vkey, sig.line().encode())
            return cp
        raise note.InvalidNoteSignature(witness.name, witness.key_id)

    def signed_checkpoint(self, ex: int) -> bytes:
        """The node's checkpoint of its own log at the index's size, signed by its note key (once per size)."""
        if ex != self.own or self.log_key is None:
            raise NotFound(f"this node signs only its own exchange's checkpoints; ask exchange {self.code(ex)}'s")
        log_key = self.log_key
        size = self.tiles.size(ex)
        root = self.tiles.root_at(ex, size)
        with self._lock:
            if self._signed is not None and self._signed[0] == size:
                return self._signed[1]
            msg = tlog.sign_checkpoint(tlog.Checkpoint(self.origin(ex), size, root), log_key)

            def check(last: int, last_root: bytes | None) -> tuple[int, bytes, bytes]:
                # Never sign a checkpoint inconsistent with one signed before (tlog-checkpoint), even after the
                # index was rebuilt or rolled back: refuse, and let the index catch up.
                if size < last:
                    raise Conflict(f"the index has {size} leaves, fewer than the {last} of a signed checkpoint")
                if last_root is not None and size == last and root != last_root:
                    raise VerificationError(f"the index's root at {size} is not the one this node signed")
                if last_root is not None and last < size:
                    merkle.verify_consistency(last, size, last_root, root,
                                              self.tiles.consistency_proof(ex, last, size))
                return size, root, msg

            self.state.advance(SIGNED, self.origin(ex), check)
            self._signed = (size, msg)
            return msg

    # ------------------------------------------------------------------ witness

    def add_checkpoint(self, body: bytes) -> bytes:
        """The cosignature line for a tlog-witness ``add-checkpoint`` body; WitnessRefusal with its status else."""
        try:
            req = tlog.parse_add_checkpoint(body)
            text, _ = note.parse(req.checkpoint)
            cp = tlog.Checkpoint.from_text(text)
        except InvalidInput as exc:
            raise WitnessRefusal(400, exc.message) from exc
        ex = self.exchange_of_origin(cp.origin)
        if ex is None:
            raise WitnessRefusal(404, f"unknown origin {cp.origin}")
        try:
            _, opened = tlog.open_checkpoint(req.checkpoint, self.keyring(ex))
        except VerificationError as exc:
            raise WitnessRefusal(403, exc.message) from exc
        if req.old_size > cp.size:
            raise WitnessRefusal(400, f"old size {req.old_size} is beyond the checkpoint's size {cp.size}")
        if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
            raise WitnessRefusal(422, "a checkpoint of size 0 has the empty tree's root")
        indexed = self.tiles.size(ex)
        if cp.size <= indexed and self.tiles.root_at(ex, cp.size) != cp.root:
            raise WitnessRefusal(422, f"the root at size {cp.size} is not the one the chain's leaves give")
        # What is kept (and served in later proofs) is the text and the log-key lines that verified: a line the
        # sender attached under another name, even this witness's own, would make a client refuse the note.
        verified = (opened.text + "\n" + "".join(sig.line() for sig in opened.signatures)).encode()
        cosigned: list[bytes] = []

        def check(last: int, last_root: bytes | None) -> tuple[int, bytes, bytes]:
            if req.old_size != last:
                raise SizeConflict(cp.origin, last)
            if last == 0:
                if req.proof:
                    raise WitnessRefusal(422, "a proof from size 0 is empty")
            elif last == cp.size:
                if cp.root != last_root:  # tlog-witness: a 409 with the size, as for a stale old size
                    raise SizeConflict(cp.origin, last)
                if req.proof:
                    raise WitnessRefusal(422, f"a consistency proof from size {last} to itself is empty")
                # A repeat is cosigned again (tlog-witness) but leaves the state, and the note kept, as they are.
                cosigned.append(tlog.cosign(cp, self.witness, max(1, int(time.time()))).line().encode())
                raise _Repeat
            else:
                if last_root is None:
                    raise WitnessRefusal(422, f"no root is kept for the size {last} cosigned")
                try:
                    merkle.verify_consistency(last, cp.size, last_root, cp.root, req.proof)
                except VerificationError as exc:
                    raise WitnessRefusal(422, f"the consistency proof does not verify: {exc.message}") from exc
            # Signed under the lock, kept with the state: the checkpoint and this cosignature serve later proofs.
            cosigned.append(tlog.cosign(cp, self.witness, max(1, int(time.time()))).line().encode())
            return cp.size, cp.root, verified + cosigned[0]

        try:
            self.state.advance(WITNESSED, cp.origin, check)
        except _Repeat:
            pass
        except SizeConflict as exc:
            raise WitnessRefusal(409, f"{exc.size}\n", SIZE) from exc
        return cosigned[0]

    # ------------------------------------------------------------------ proofs

    def proof(self, record: bytes) -> str:
        rec = self.ops.indexed(record)
        ex, index = rec.registrar, rec.leaf_index
        if ex == self.own:
            msg = self.checkpoint(ex)
        else:
            kept = self.state.note(WITNESSED, self.origin(ex))
            if kept is None:
                raise NotFound(f"this node holds no checkpoint of exchange {self.code(ex)} (it cosigned none)")
            msg = kept
        cp = tlog.Checkpoint.from_text(note.parse(msg)[0])
        if cp.size <= index:
            raise NotFound(f"leaf {index} is not under the latest checkpoint of size {cp.size}")
        proof = self.tiles.inclusion_proof(ex, index, cp.size)
        return tlog.proof_bundle(index, proof, msg, extra=self.tiles.entry(ex, index)).decode()
