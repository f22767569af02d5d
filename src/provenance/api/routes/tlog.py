"""The exchanges' transparency logs in the C2SP formats, so C2SP witnesses, monitors and tile mirrors can watch them
(what each answer means is provenance.services.tlog's; these routes parse, call it and answer).

* ``GET /tlog/<CODE>/checkpoint``: the node's own exchange's log as a c2sp.org/tlog-checkpoint signed with its
  Ed25519 note key (other exchanges' checkpoints are theirs to sign: 404 here).
* ``GET /tlog/<CODE>/tile/<L>/<N>[.p/<W>]`` and ``/tile/entries/<N>[.p/<W>]``: any exchange's log as
  c2sp.org/tlog-tiles, from the index (every index holds every exchange's log); full tiles are immutable.
* ``POST <api>/tlog/add-checkpoint``: a c2sp.org/tlog-witness on every node, answering with a tlog-cosignature/v1
  line. Statuses are the spec's (404 unknown origin, 403 no trusted signature or a bad one, 400 malformed or old
  size beyond the checkpoint, 409 with ``text/x.tlog.size``, 422 bad proof or root), as plain text.
* ``GET <api>/tlog/keys``: the node's note key (with its listing in the Federation's note key history) and
  witness key; ``GET <api>/tlog/note-keys/<CODE>``: an exchange's note key history as C2SP vkeys;
  ``GET|POST <api>/tlog/bindings``: note keys bound by EIP-191 statements (the fallback for older deployments).
* ``GET <api>/tlog/proof/<record>``: a c2sp.org/tlog-proof of a record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from provenance.api.deps import API, ExchangeRef, ok
from provenance.api.runtime import Runtime
from provenance.core import tlog
from provenance.errors import InvalidInput
from provenance.services.results.tlog import BindingOut, NoteKeyOut, TlogKeysOut
from provenance.services.tlog import TEXT, TlogService, WitnessRefusal
from provenance.services.tlog_push import CheckpointPusher
from provenance.store.witness_state import TlogState


class BindingIn(BaseModel):
    statement: str
    signature: str


def service(rt: Runtime) -> TlogService:
    return TlogService(rt.ops, exchange_id=rt.exchange_id, key_exchange=rt.key_exchange,
                       state=TlogState(rt.settings.data_dir))


def install(app: FastAPI, rt: Runtime) -> None:
    node = service(rt)
    app.state.tlog = node
    cfg = rt.node.config.tlog
    app.state.tlog_pusher = None
    if cfg.witnesses and node.own is not None:
        pusher = app.state.tlog_pusher = CheckpointPusher(node, cfg)
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(a: Any) -> AsyncIterator[Any]:
            async with inner(a) as state:
                pusher.start()
                try:
                    yield state
                finally:  # before the runtime closes (inner's exit), so no push reads a closed index
                    pusher.close()

        app.router.lifespan_context = lifespan

    @app.get(f"{API}/tlog/keys", tags=["transparency logs"], responses=ok(TlogKeysOut),
             summary="This node's Ed25519 note key (bound to its exchange) and witness key, as C2SP vkeys")
    async def keys() -> Any:
        listed = (NoteKeyOut.of(node.listed, node.log_key.name, node.listed.revoked_at == 0)
                  if node.listed and node.log_key else None)
        return TlogKeysOut(origin=node.log_key.name if node.log_key else None,
                           vkey=node.log_key.verifier.vkey if node.log_key else None, listed=listed,
                           binding=node.binding,
                           witness=node.witness.verifier.vkey)

    @app.get(f"{API}/tlog/note-keys/{{code}}", tags=["transparency logs"], responses=ok(list[NoteKeyOut]),
             summary="An exchange's Ed25519 note keys as the Federation lists them, with the blocks they were valid in")
    def note_keys(code: ExchangeRef) -> Any:
        ex = node.exchange_of_code(code)
        keys, _, _ = node.listed_keys(ex)
        trusted = {v.public_key for v in node.trusted(ex)}
        return [NoteKeyOut.of(k, node.origin(ex), k.public_key in trusted) for k in keys]

    @app.get(f"{API}/tlog/bindings", tags=["transparency logs"], responses=ok(list[BindingOut]),
             summary="Note keys this node trusts, each bound to an exchange by a statement its key signed")
    def bindings() -> Any:
        return [b.document() for b in node.bindings()]

    @app.post(f"{API}/tlog/bindings", tags=["transparency logs"], responses=ok(BindingOut),
              summary="Trust an exchange's note key: a statement signed (EIP-191) by an active key of the exchange")
    def bind(body: BindingIn) -> Any:
        return node.accept(body.statement, body.signature)

    @app.post(f"{API}/tlog/add-checkpoint", include_in_schema=False)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        try:  # off the event loop: the checks read the index and the state is fsynced
            return Response(await run_in_threadpool(node.add_checkpoint, body), media_type=TEXT)
        except WitnessRefusal as exc:
            if exc.media != TEXT:
                # As a header, not media_type: Starlette would append "; charset=utf-8" to a text/* type, and Go's
                # tlog-witness clients compare the 409's text/x.tlog.size exactly.
                return Response(exc.message, status_code=exc.status, headers={"content-type": exc.media})
            return Response(exc.message + "\n", status_code=exc.status, media_type=TEXT)

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

    @app.get(f"{API}/tlog/proof/{{record}}", include_in_schema=False)
    def proof(record: str) -> Response:
        try:
            rid = bytes.fromhex(record.removeprefix("0x"))
        except ValueError as exc:
            raise InvalidInput("a record id is 32 bytes of hex") from exc
        if len(rid) != 32:
            raise InvalidInput("a record id is 32 bytes of hex")
        return Response(node.proof(rid), media_type=TEXT,
                        headers={"Content-Disposition": f'attachment; filename="{record}.tlog-proof"'})
