"""What each event does to the index (see provenance.store.keys for the layout). Deterministic: the same
events in the same order give the same bytes, which is what makes a rebuild equal an incremental index."""

from __future__ import annotations

import struct

from provenance.errors import StoreError
from provenance.indexer.events import Event
from provenance.store import keys as K
from provenance.store.index import BlockWriter


def _counter(w: BlockWriter, name: str) -> int:
    raw = w.get(K.meta(name))
    return int.from_bytes(raw, "big") if raw else 0


def _bump(w: BlockWriter, name: str, by: int = 1) -> int:
    value = _counter(w, name) + by
    w.put(K.meta(name), value.to_bytes(8, "big"))
    return value


def _seq(w: BlockWriter, record_id: bytes) -> int | None:
    raw = w.get(K.ID_SEQ + record_id)
    return None if raw is None else int.from_bytes(raw, "big")


def apply_event(w: BlockWriter, ev: Event) -> None:
    handler = _HANDLERS.get(ev.name)
    if handler is not None:
        handler(w, ev)


def _data_registered(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    rid: bytes = a["id"]
    if w.get(K.ID_SEQ + rid) is not None:
        raise StoreError(f"record 0x{rid.hex()} indexed twice (block {ev.block_number})")
    seq = _bump(w, "records") - 1
    parent_sb = []
    for p in a["parents"]:
        raw = w.get(K.ID_SEQ + p)
        if raw is None:
            raise StoreError(f"parent 0x{p.hex()} of 0x{rid.hex()} is not in the index (block {ev.block_number})")
        parent_sb.append(raw)
    sb = K.seq_bytes(seq)
    content = a["contentHash"]
    value = K.encode_record_fields(a["owner"], a["registrar"], a["kind"], a["grade"], a["source"], a["rights"], 1,
                                   a["delegated"], ev.block_number, rid, content, a["metadataHash"],
                                   a["supersedes"], parent_sb)
    # Every key below contains the new record's id or seq: none can exist yet, so no undo read is needed.
    items = [
        (K.ID_SEQ + rid, sb),
        (K.RECORD + sb, value),
        (K.BY_CONTENT + content + sb, b""),
        (K.BY_OWNER + a["owner"].to_bytes(4, "big") + sb, b""),
        (K.BY_REGISTRAR + a["registrar"].to_bytes(2, "big") + sb, b""),
        (K.BY_KIND + bytes((a["kind"],)) + sb, b""),
        (K.BY_GRADE + bytes((a["grade"],)) + sb, b""),
        (K.BY_STATUS + b"\x01" + sb, b""),
    ]
    for pb in parent_sb:
        items.append((K.PARENT + sb + pb, b""))
        items.append((K.CHILD + pb + sb, b""))
    w.put_new(items)


def _status_changed(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    seq = _seq(w, a["id"])
    if seq is None:
        raise StoreError(f"status change of unindexed record 0x{a['id'].hex()} (block {ev.block_number})")
    sb = K.seq_bytes(seq)
    value = w.get(K.RECORD + sb)
    assert value is not None
    old = value[10]
    w.put(K.RECORD + sb, K.with_status(value, a["current"]))
    w.delete(K.BY_STATUS + bytes([old]) + sb)
    w.put(K.BY_STATUS + bytes([a["current"]]) + sb, b"")
    w.put(K.STATUS_HISTORY + sb + ev.block_number.to_bytes(8, "big") + ev.log_index.to_bytes(4, "big"),
          bytes([a["previous"], a["current"]]) + a["reason"])


def _entity_registered(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    _bump(w, "entities")
    w.put(K.ENTITY + a["entityId"].to_bytes(4, "big"),
          struct.pack(">HB", a["registrar"], a["role"]) + a["identifierHash"] + bytes.fromhex(a["account"][2:]))


def _entity_account_changed(w: BlockWriter, ev: Event) -> None:
    key = K.ENTITY + ev.args["entityId"].to_bytes(4, "big")
    value = w.get(key)
    if value is not None:
        w.put(key, value[:35] + bytes.fromhex(ev.args["newAccount"][2:]))


def _entity_recognized(w: BlockWriter, ev: Event) -> None:
    w.put(K.RECOGNITION + ev.args["entityId"].to_bytes(4, "big") + ev.args["exchangeId"].to_bytes(2, "big"), b"")


def _mandate_changed(w: BlockWriter, ev: Event) -> None:
    w.put(K.MANDATE + ev.args["entityId"].to_bytes(4, "big") + ev.args["exchangeId"].to_bytes(2, "big"),
          b"\x01" if ev.args["granted"] else b"\x00")


def _exchange_added(w: BlockWriter, ev: Event) -> None:
    a = ev.args
    w.put(K.EXCHANGE + a["exchangeId"].to_bytes(2, "big"), b"\x01" + a["code"] + a["name"].encode())


def _exchange_removed(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE + ev.args["exchangeId"].to_bytes(2, "big")
    value = w.get(key)
    if value is not None:
        w.put(key, b"\x02" + value[1:])


def _key_added(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE_KEY + ev.args["exchangeId"].to_bytes(2, "big") + bytes.fromhex(ev.args["key"][2:])
    w.put(key, ev.block_number.to_bytes(8, "big") + bytes(8))


def _key_revoked(w: BlockWriter, ev: Event) -> None:
    key = K.EXCHANGE_KEY + ev.args["exchangeId"].to_bytes(2, "big") + bytes.fromhex(ev.args["key"][2:])
    value = w.get(key)
    if value is not None:
        w.put(key, value[:8] + ev.block_number.to_bytes(8, "big"))


def _threshold_changed(w: BlockWriter, ev: Event) -> None:
    w.put(K.meta("threshold"), ev.args["newThreshold"].to_bytes(2, "big"))


_HANDLERS = {
    "DataRegistered": _data_registered,
    "StatusChanged": _status_changed,
    "EntityRegistered": _entity_registered,
    "EntityAccountChanged": _entity_account_changed,
    "EntityRecognized": _entity_recognized,
    "MandateChanged": _mandate_changed,
    "ExchangeAdded": _exchange_added,
    "ExchangeRemoved": _exchange_removed,
    "KeyAdded": _key_added,
    "KeyRevoked": _key_revoked,
    "ThresholdChanged": _threshold_changed,
}
