"""``tlog``: the Ed25519 note keys an exchange signs its C2SP checkpoints with, and checkpoints checked offline.

* ``tlog note-keys [CODE]``: an exchange's note key history as the Federation lists it (default: this node's
  exchange), each key as a C2SP vkey named by the exchange's log origin beside the blocks it was valid in.
* ``tlog revoke-note-key <vkey-or-hex>``: revoke a note key of this node's exchange, e.g. the one a rotated
  secp256k1 key derived. The key the node signs its checkpoints with now is refused without ``--force``: revoked,
  no witness cosigns the node's checkpoints any more, and a key is listed once ever, so it cannot come back.
* ``tlog verify-checkpoint FILE --snapshot FILE``: a signed checkpoint checked against the note keys a signed
  federation snapshot lists (core/tlog.checkpoint_signed_by_snapshot), without a chain.

Opening the node's log service does what ``serve`` does at start: the node lists its own current note key if
the Federation does not yet (a rotation's new key is listed before the old one is revoked).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.cli.common import open_node, read_bounded, read_json
from provenance.core import note
from provenance.core.ids import parse_address
from provenance.core.ijson import EXACT_INT
from provenance.errors import Conflict, InvalidInput, NotFound


def add_parser(sub: Any) -> None:
    tl = sub.add_parser("tlog", help="C2SP note keys of the exchanges' logs; checkpoints checked offline"
                        ).add_subparsers(dest="tlog_command", metavar="ACTION", required=True)
    s = tl.add_parser("note-keys", help="an exchange's Ed25519 note keys with the blocks each was valid in")
    s.add_argument("code", nargs="?", help="exchange code (default: this node's exchange)")
    s.set_defaults(handler=cmd_note_keys)
    s = tl.add_parser("revoke-note-key", help="revoke a note key of this node's exchange (after a key rotation)")
    s.add_argument("note_key", metavar="VKEY-OR-HEX", help="the key as a C2SP vkey or as 32 bytes of hex")
    s.add_argument("--force", action="store_true",
                   help="revoke even the key this node signs its checkpoints with now")
    s.set_defaults(handler=cmd_revoke_note_key)
    s = tl.add_parser("verify-checkpoint", help="check a signed checkpoint against a federation snapshot's note keys")
    s.add_argument("file", type=Path, help="the checkpoint, a c2sp.org/tlog-checkpoint signed note")
    s.add_argument("--snapshot", type=Path, required=True, help="a federation snapshot (`provenance snapshot`)")
    s.add_argument("--trust", action="append", default=[], metavar="ADDRESS",
                   help="a key trusted to sign snapshots (repeatable; default: the acting exchange's keys)")
    s.set_defaults(handler=cmd_verify_checkpoint)


def with_tlog(fn: Callable[[Any, argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """Run a handler with the node's TlogService, the index brought to the chain head first. Its note key is the
    one derived from node.toml's key, the one ``serve`` signs with, whatever ``--as`` names."""

    def run(args: argparse.Namespace) -> Any:
        from provenance.services.operations import Operations
        from provenance.services.tlog import TlogService
        from provenance.store.witness_state import TlogState

        with open_node(args) as node:
            ops = Operations(node)
            ops.sync()
            role, ident = ops.identity()
            svc = TlogService(ops, exchange_id=ident if role == "exchange" else None,
                              key_exchange=ops.acting_exchange, state=TlogState(args.data_dir))
            return fn(svc, args)

    return run


def parse_note_key(text: str) -> tuple[bytes, note.Verifier | None]:
    """(the 32-byte Ed25519 public key, the vkey's verifier or None) of a vkey or of 64 hex digits."""
    t = text.strip()
    if "+" in t:
        v = note.Verifier.from_vkey(t)
        if v.sig_type != note.SIG_ED25519:
            raise InvalidInput(f"{t} is a key of signature type 0x{v.sig_type:02x}; a note key has type 0x01")
        return v.public_key, v
    body = t.removeprefix("0x")
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise InvalidInput(f"invalid note key {text!r}: expected a C2SP vkey or 32 bytes as 64 hex digits")
    return bytes.fromhex(body), None


def _key_doc(k: Any, origin: str, trusted: set[bytes], current: bytes | None) -> dict[str, Any]:
    return {"exchange": k.exchange, "vkey": k.verifier(origin).vkey, "publicKey": "0x" + k.public_key.hex(),
            "addedAt": k.added_at, "revokedAt": k.revoked_at, "trusted": k.public_key in trusted,
            "current": k.public_key == current}


def _current(svc: Any) -> bytes | None:
    return None if svc.log_key is None else bytes(svc.log_key.verifier.public_key)


@with_tlog
def cmd_note_keys(svc: Any, args: argparse.Namespace) -> Any:
    if args.code is None and svc.own is None:
        raise NotFound("this node speaks for no exchange: name the exchange whose note keys to list")
    ex = svc.own if args.code is None else svc.exchange_of_code(args.code)
    keys, removed, head = svc.listed_keys(ex)
    origin = svc.origin(ex)
    trusted = {v.public_key for v in svc.trusted(ex)}
    current = _current(svc) if ex == svc.own else None
    doc = {"exchange": svc.code(ex), "id": ex, "origin": origin, "removedAt": removed, "head": head,
           "noteKeys": [_key_doc(k, origin, trusted, current) for k in keys]}
    if args.json:
        return doc
    for line in render_note_keys(doc):
        print(line)
    return None


def render_note_keys(doc: dict[str, Any]) -> list[str]:
    """The history as an operator reads it: each vkey, then the blocks it was valid in and what it is now."""
    lines = [f"exchange {doc['exchange']} ({doc['id']}): {len(doc['noteKeys'])} note key(s), origin {doc['origin']}, "
             f"head {doc['head']}" + (f", removed at block {doc['removedAt']}" if doc["removedAt"] else "")]
    for k in doc["noteKeys"]:
        span = f"added at block {k['addedAt']}, " + (f"revoked at block {k['revokedAt']}" if k["revokedAt"]
                                                      else "not revoked")
        marks = [m for m, on in (("trusted now", k["trusted"]), ("this node's key", k["current"])) if on]
        lines.append(f"- {k['vkey']}")
        lines.append(f"    {span}" + (f" · {' · '.join(marks)}" if marks else ""))
    return lines


def cmd_revoke_note_key(args: argparse.Namespace) -> Any:
    public, vkey = parse_note_key(args.note_key)  # a malformed key costs no chain, index or keystore work
    return with_tlog(lambda svc, a: _revoke(svc, a, public, vkey))(args)


def _revoke(svc: Any, args: argparse.Namespace, public: bytes, vkey: note.Verifier | None) -> Any:
    if svc.own is not None and vkey is not None and vkey.name != svc.origin(svc.own):
        raise InvalidInput(f"the vkey names the log {vkey.name}, not this exchange's {svc.origin(svc.own)}")
    current = _current(svc)
    if public == current and not args.force:
        raise Conflict("this is the note key the node signs its checkpoints with now (derived from its exchange key): "
                       "revoked, witnesses refuse its checkpoints until a key rotation gives a new one, and a note key "
                       "is listed once ever, so it cannot be listed again; rotate the key first (`key rotate`), or "
                       "pass --force")
    w = svc.revoke_note_key(args.key, public)
    out: dict[str, Any] = {"revoked": "0x" + public.hex(), "txHash": "0x" + w.tx_hash.hex(), "block": w.block_number,
                           "gasUsed": w.gas_used, "current": public == current}
    if svc.own is not None:
        out["vkey"] = note.Verifier.ed25519(svc.origin(svc.own), public).vkey
    return out


def cmd_verify_checkpoint(args: argparse.Namespace) -> Any:
    """Offline, as ``cert verify --offline``: the snapshot is trusted if a key given with --trust signed it, else a
    key of the acting exchange (read from the node: the only thing the node is opened for)."""
    from provenance.core.snapshot import SnapshotView
    from provenance.core.tlog import Checkpoint, checkpoint_signed_by_snapshot

    msg = read_bounded(args.file, f"the checkpoint {args.file}", note.MAX_NOTE_BYTES)
    snapshot = read_json(args.snapshot, "snapshot", max_int=EXACT_INT)
    cp = Checkpoint.from_text(note.parse(msg)[0])  # a file that is no checkpoint is refused before the node opens
    view = SnapshotView(snapshot, _trusted_signers(args))
    ex = _exchange_of_origin(view, cp.origin)
    if ex is None:
        raise NotFound(f"the snapshot lists no exchange whose log is {cp.origin}")
    cp, opened = checkpoint_signed_by_snapshot(msg, ex, chain_id=view.chain_id, registry=view.registry,
                                               at_block=view.at_block)
    return {"valid": True, "origin": cp.origin, "exchange": ex.code, "treeSize": cp.size, "root": "0x" + cp.root.hex(),
            "signedBy": [f"{s.name}+{s.key_id:08x}" for s in opened.signatures],
            "unverified": [f"{s.name}+{s.key_id:08x}" for s in opened.unverified],
            "snapshotAtBlock": view.at_block, "anchored": view.anchored_root(ex.id, cp.size) == cp.root}


def _exchange_of_origin(view: Any, origin: str) -> Any:
    from provenance.core.tlog import origin as log_origin

    prefix = log_origin(view.chain_id, view.registry, "")
    return view.exchange(origin[len(prefix):]) if origin.startswith(prefix) else None


def _trusted_signers(args: argparse.Namespace) -> list[bytes]:
    """The snapshot signers trusted: those given with --trust, else the keys of the acting key's exchange (the
    node is opened only then, after both files were read)."""
    from provenance.services.operations import Operations

    trusted: list[bytes] = [parse_address(a) for a in args.trust]
    if not trusted:
        with open_node(args) as node:
            ops = Operations(node)
            trusted = ops.trusted_keys(ops.active_exchange_of(ops.signer(args.key).address))
    return trusted
