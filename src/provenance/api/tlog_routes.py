"""The exchanges' transparency logs in the C2SP formats, so C2SP witnesses, monitors and tile mirrors can watch them.

* ``GET /tlog/<CODE>/checkpoint``: the node's own exchange's log as a c2sp.org/tlog-checkpoint signed with its
  Ed25519 note key (other exchanges' checkpoints are theirs to sign: 404 here).
* ``GET /tlog/<CODE>/tile/<L>/<N>[.p/<W>]`` and ``/tile/entries/<N>[.p/<W>]``: any exchange's log as
  c2sp.org/tlog-tiles, from the index (every index holds every exchange's log); full tiles are immutable.
* ``POST <api>/tlog/add-checkpoint``: a c2sp.org/tlog-witness on every node. It trusts, for an exchange's origin,
  the note keys bound to that exchange (below), checks the consistency proof from the last size it cosigned, and
  also that the root is the one the chain's leaves give where its index has them; it answers with a
  tlog-cosignature/v1 line by its witness key. Statuses are the spec's (404 unknown origin, 403 no trusted
  signature or a bad one, 400 malformed or old size beyond the checkpoint, 409 with ``text/x.tlog.size``, 422
  bad proof or root), as plain text.
* ``GET <api>/tlog/keys``, ``POST <api>/tlog/bindings``: binding note keys to exchanges. The contracts do not keep
  Ed25519 keys yet, so an exchange binds its note key by an EIP-191 statement (core/tlog.binding_statement) signed
  by one of its valid secp256k1 keys; a node accepts a statement whose signer the chain lists as an active key of
  the exchange it names, and keeps it (``<data-dir>/tlog/bindings.json``).
* ``GET <api>/tlog/proof/<record>``: a c2sp.org/tlog-proof of a record (its leaf bytes as ``extra``, the inclusion
  proof, and a checkpoint: the node's own signed one, or for another exchange the latest it cosigned as witness).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from provenance.api.runtime import Runtime
from provenance.core import merkle, note, tlog
from provenance.errors import Conflict, Forbidden, InvalidInput, NotFound, VerificationError
from provenance.indexer.tlog_tiles import TileQueries
from provenance.store.witness_state import SizeConflict, TlogState

TEXT = "text/plain; charset=utf-8"
SIGNED = "signed.json"
WITNESSED = "witness.json"
MAX_BINDINGS = 16  # note key bindings kept per exchange


class BindingIn(BaseModel):
    statement: str
    signature: str


class BindingOut(BaseModel):
    exchange: int
    code: str
    origin: str
    vkey: str
    signer: str
    block: int
    statement: str
    signature: str


class TlogKeysOut(BaseModel):
    origin: str | None
    vkey: str | None
    binding: BindingOut | None
    witness: str  # the witness's cosignature vkey (type 0x04)


class _Refusal(Exception):
    """A witness refusal with its tlog-witness status (not a problem document: the protocol is plain text)."""

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


def _decimal_block(text: str) -> int:
    value = text.removeprefix("block ")
    if not value.isdigit() or (value != "0" and value.startswith("0")) or len(value) > 19:
        raise InvalidInput("a binding statement's 'from block' is a decimal block number")
    return int(value)


class TlogNode:
    """What one node does for the C2SP interface; the routes below are thin."""

    def __init__(self, rt: Runtime, state: TlogState | None = None) -> None:
        self.rt = rt
        self.state = state or TlogState(rt.settings.data_dir)
        self.tiles = TileQueries(rt.node.index)
        account = rt.ops.signer()
        # Derived from the node's secp256k1 key (encrypted in its keystore), with the deployment in the context:
        # stable across restarts, never kept in the clear, and a new key (a rotation) gives new note keys to bind.
        secret, where = bytes(account.key), f"{rt.chain_id}/0x{rt.registry.hex()}".encode()
        name = f"{rt.chain_id}.provenance/0x{rt.registry.hex()}/witness/{account.address.lower()}"
        self.witness = note.Signer.derive(name, secret, b"provenance tlog witness key v1 " + where,
                                          note.SIG_COSIGNATURE_V1)
        self.own = rt.exchange_id
        self._lock = threading.Lock()
        self._signed: tuple[int, bytes] | None = None
        self.log_key: note.Signer | None = None
        self.binding: BindingOut | None = None
        if self.own is not None:
            self.log_key = note.Signer.derive(self.origin(self.own), secret, b"provenance tlog note key v1 " + where)
            self.binding = self._own_binding()

    # ------------------------------------------------------------------ identities

    def code(self, ex: int) -> str:
        code = self.rt.ops.codes(need=ex).get(ex)
        if code is None:
            raise NotFound(f"no exchange {ex}")
        return code

    def origin(self, ex: int) -> str:
        return tlog.origin(self.rt.chain_id, self.rt.registry, self.code(ex))

    def exchange_of_code(self, code: str) -> int:
        for ex, c in self.rt.ops.codes().items():
            if c == code:
                return ex
        for ex, c in self.rt.ops.codes(need=-1).items():  # read again: exchanges are only ever added
            if c == code:
                return ex
        raise NotFound(f"no exchange {code!r}")

    def exchange_of_origin(self, origin: str) -> int | None:
        prefix = tlog.origin(self.rt.chain_id, self.rt.registry, "")
        if not origin.startswith(prefix):
            return None
        try:
            return self.exchange_of_code(origin[len(prefix):])
        except NotFound:
            return None

    # ------------------------------------------------------------------ bindings

    def _own_binding(self) -> BindingOut:
        assert self.log_key is not None and self.own is not None
        signer = self.rt.ops.signer()
        for b in self.state.bindings():
            if b["vkey"] == self.log_key.verifier.vkey and b["signer"].lower() == signer.address.lower():
                return BindingOut(**b)  # type: ignore[arg-type]
        statement = tlog.binding_statement(chain_id=self.rt.chain_id, registry=self.rt.registry, exchange=self.own,
                                           code=self.code(self.own), vkey=self.log_key.verifier.vkey,
                                           block=self.rt.node.chain.block_number())
        sig = "0x" + bytes(signer.sign_message(encode_defunct(text=statement)).signature).hex()
        return self.accept(statement, sig)

    def accept(self, statement: str, signature: str) -> BindingOut:
        """Check a binding statement (this chain and registry, the exchange's code, a vkey named by its origin, a
        signer the chain lists as an active key of that exchange) and keep it."""
        f = _parse_binding(statement)
        ex_id, _, code = f["exchange"].partition(" ")
        if f["chain"] != str(self.rt.chain_id) or f["registry"] != f"0x{self.rt.registry.hex()}":
            raise InvalidInput("the binding statement is for another chain or registry")
        if not ex_id.isdigit() or len(ex_id) > 5 or self.code(int(ex_id)) != code or not f["from"].startswith("block "):
            raise InvalidInput("the binding statement's exchange id and code do not match the federation's")
        ex = int(ex_id)
        v = note.Verifier.from_vkey(f["vkey"])
        if v.sig_type != note.SIG_ED25519 or v.name != self.origin(ex):
            raise InvalidInput(f"a note key of exchange {code} is an Ed25519 key named {self.origin(ex)}")
        try:
            signer = Account.recover_message(encode_defunct(text=statement), signature=bytes.fromhex(
                signature.removeprefix("0x")))
        except Exception as exc:  # eth_account raises several types for a malformed signature
            raise InvalidInput("the binding signature is not a 65-byte secp256k1 signature") from exc
        if self.rt.key_exchange(bytes.fromhex(signer[2:])) != ex:
            raise Forbidden(f"{signer} is not an active key of exchange {code}")
        out = BindingOut(exchange=ex, code=code, origin=v.name, vkey=v.vkey, signer=signer,
                         block=_decimal_block(f["from"]), statement=statement, signature=signature)
        have = [b for b in self.state.bindings() if int(b["exchange"]) == ex]
        if out.model_dump() not in have and len(have) >= MAX_BINDINGS:
            # Bounded so that no exchange grows another node's state without end; rotation past it needs an operator.
            raise Conflict(f"exchange {code} already has {MAX_BINDINGS} note key bindings on this node")
        self.state.add_binding(out.model_dump())
        return out

    def keyring(self, ex: int) -> note.Keyring:
        return note.Keyring(note.Verifier.from_vkey(b["vkey"]) for b in self.state.bindings()
                            if int(b["exchange"]) == ex)

    # ------------------------------------------------------------------ the node's own log

    def checkpoint(self, ex: int) -> bytes:
        if ex != self.own or self.log_key is None:
            raise NotFound(f"this node signs only its own exchange's checkpoints; ask exchange {self.code(ex)}'s")
        size = self.tiles.size(ex)
        root = self.tiles.root_at(ex, size)
        with self._lock:
            if self._signed is not None and self._signed[0] == size:
                return self._signed[1]

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

            assert self.log_key is not None
            msg = tlog.sign_checkpoint(tlog.Checkpoint(self.origin(ex), size, root), self.log_key)
            self.state.advance(SIGNED, self.origin(ex), check)
            self._signed = (size, msg)
            return msg

    # ------------------------------------------------------------------ witness

    def add_checkpoint(self, body: bytes) -> bytes:
        try:
            req = tlog.parse_add_checkpoint(body)
            text, _ = note.parse(req.checkpoint)
            cp = tlog.Checkpoint.from_text(text)
        except InvalidInput as exc:
            raise _Refusal(400, exc.message) from exc
        ex = self.exchange_of_origin(cp.origin)
        if ex is None:
            raise _Refusal(404, f"unknown origin {cp.origin}")
        try:
            tlog.open_checkpoint(req.checkpoint, self.keyring(ex))
        except VerificationError as exc:
            raise _Refusal(403, exc.message) from exc
        if req.old_size > cp.size:
            raise _Refusal(400, f"old size {req.old_size} is beyond the checkpoint's size {cp.size}")
        if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
            raise _Refusal(422, "a checkpoint of size 0 has the empty tree's root")
        indexed = self.tiles.size(ex)
        if cp.size <= indexed and self.tiles.root_at(ex, cp.size) != cp.root:
            raise _Refusal(422, f"the root at size {cp.size} is not the one the chain's leaves give")

        def check(last: int, last_root: bytes | None) -> tuple[int, bytes, bytes]:
            if req.old_size != last:
                raise SizeConflict(cp.origin, last)
            if last == 0:
                if req.proof:
                    raise _Refusal(422, "a proof from size 0 is empty")
            elif last == cp.size:
                if cp.root != last_root or req.proof:
                    raise _Refusal(422, f"the root at size {last} differs from the one cosigned")
            else:
                assert last_root is not None
                try:
                    merkle.verify_consistency(last, cp.size, last_root, cp.root, req.proof)
                except VerificationError as exc:
                    raise _Refusal(422, f"the consistency proof does not verify: {exc.message}") from exc
            # Signed under the lock, kept with the state: the checkpoint and this cosignature serve later proofs.
            cosigned.append(tlog.cosign(cp, self.witness, max(1, int(time.time()))).line().encode())
            return cp.size, cp.root, req.checkpoint + cosigned[0]

        cosigned: list[bytes] = []
        try:
            self.state.advance(WITNESSED, cp.origin, check)
        except SizeConflict as exc:
            raise _Refusal(409, f"{exc.size}\n", "text/x.tlog.size") from exc
        return cosigned[0]

    # ------------------------------------------------------------------ proofs

    def proof(self, record: bytes) -> str:
        rec = self.rt.ops.indexed(record)
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


def install(app: FastAPI, rt: Runtime, *, api: str, ok: Any) -> TlogNode:
    node = TlogNode(rt)
    app.state.tlog = node

    @app.get(f"{api}/tlog/keys", tags=["transparency logs"], responses=ok(TlogKeysOut),
             summary="This node's Ed25519 note key (bound to its exchange) and witness key, as C2SP vkeys")
    async def keys() -> Any:
        return TlogKeysOut(origin=node.log_key.name if node.log_key else None,
                           vkey=node.log_key.verifier.vkey if node.log_key else None,
                           binding=node.binding, witness=node.witness.verifier.vkey)

    @app.get(f"{api}/tlog/bindings", tags=["transparency logs"], responses=ok(list[BindingOut]),
             summary="Note keys this node trusts, each bound to an exchange by a statement its key signed")
    def bindings() -> Any:
        return [BindingOut(**b) for b in node.state.bindings()]  # type: ignore[arg-type]

    @app.post(f"{api}/tlog/bindings", tags=["transparency logs"], responses=ok(BindingOut),
              summary="Trust an exchange's note key: a statement signed (EIP-191) by an active key of the exchange")
    def bind(body: BindingIn) -> Any:
        return node.accept(body.statement, body.signature)

    @app.post(f"{api}/tlog/add-checkpoint", include_in_schema=False)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        try:  # off the event loop: the checks read the index and the state is fsynced
            return Response(await run_in_threadpool(node.add_checkpoint, body), media_type=TEXT)
        except _Refusal as exc:
            return Response(str(exc) if exc.media != TEXT else str(exc) + "\n", status_code=exc.status,
                            media_type=exc.media)

    @app.get("/tlog/{code}/checkpoint", include_in_schema=False)
    def checkpoint(code: str) -> Response:
        return Response(node.checkpoint(node.exchange_of_code(code)), media_type=TEXT,
                        headers={"Cache-Control": "no-cache, max-age=2"})

    @app.get("/tlog/{code}/tile/{path:path}", include_in_schema=False)
    def tile(code: str, path: str) -> Response:
        ex = node.exchange_of_code(code)
        level, n, width = tlog.parse_tile_path("tile/" + path)
        data = (node.tiles.entry_bundle(ex, n, width) if level is None
                else node.tiles.hash_tile(ex, level, n, width))
        cache = "public, max-age=31536000, immutable" if width == tlog.TILE_WIDTH else "public, max-age=60"
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})

    @app.get(f"{api}/tlog/proof/{{record}}", include_in_schema=False)
    def proof(record: str) -> Response:
        try:
            rid = bytes.fromhex(record.removeprefix("0x"))
        except ValueError as exc:
            raise InvalidInput("a record id is 32 bytes of hex") from exc
        if len(rid) != 32:
            raise InvalidInput("a record id is 32 bytes of hex")
        return Response(node.proof(rid), media_type=TEXT,
                        headers={"Content-Disposition": f'attachment; filename="{record}.tlog-proof"'})

    return node
