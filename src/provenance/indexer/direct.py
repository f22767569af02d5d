"""Direct registrations applied straight from their logs: the catch-up's hot path.

A catch-up is almost all ``DataRegistered`` logs. Decoding each into an :class:`~provenance.indexer.events.Event`
(a dict of thirteen values) and applying it through the generic handler converted every field to a number and
back to the bytes it came from: the log's words already hold the entry, the record's hashes and its id. Here a
run of consecutive registrations of one block is applied in one loop that slices those bytes straight into the
entry, the leaf, the record value and the keys.

It writes exactly what :func:`provenance.indexer.apply.apply_event` writes for the same logs, key for key and in the
same order (so the undo records are the same bytes too): tests/indexer/test_speed_direct.py compares the two paths'
indexes over registrations of every shape. A log this path does not take as an ordinary registration (malformed,
out-of-range values, a leaf index that does not follow, a collision with a batched record, an unknown parent) goes
through the generic path, which names what is wrong exactly as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import cast

from provenance.chain.base import Log
from provenance.indexer.apply import _bump, _Log, apply_event
from provenance.indexer.catalog import RECORD_ROW, change_log_for_new_rows, set_change_log_size
from provenance.indexer.events import DATA_REGISTERED, EventDecoder
from provenance.store import keys as K
from provenance.store.index import BlockWriter

_sha256 = hashlib.sha256
_HEAD_PACK = K._RECORD_HEAD.pack
# The head's ten words, as one number: kind, grade, source and rights are uint8 (31 zero bytes, then the value),
# the parents array starts right after the head (offset 320), delegated is 0 or 1, the leaf index a uint64.
_HEAD_MASK = int.from_bytes(b"".join((
    (b"\xff" * 31 + b"\x00") * 4, bytes(96), b"\xff" * 32, b"\xff" * 31 + b"\xfe", b"\xff" * 24 + bytes(8))), "big")
_HEAD_WANT = int.from_bytes(bytes(224) + (320).to_bytes(32, "big") + bytes(64), "big")
_BYTE = [bytes((n,)) for n in range(256)]
_BY_KIND = [K.BY_KIND + b for b in _BYTE]
_BY_GRADE = [K.BY_GRADE + b for b in _BYTE]
_ZERO32 = bytes(32)
_LEAF_PREFIX = b"\x00"
_OUTCOME_RECORD = bytes((K.LEAF_RECORD,))
_STATUS_ACTIVE = K.BY_STATUS + b"\x01"
_EMPTY = b""


def apply_logs(w: BlockWriter, logs: Sequence[Log], decoder: EventDecoder, registry: bytes) -> int:
    """Apply one block's logs in order; return how many were events of the deployment."""
    events = 0
    i, n = 0, len(logs)
    while i < n:
        log = logs[i]
        if log.address == registry and log.topics and log.topics[0] == DATA_REGISTERED:
            done = _registrations(w, logs, i)
            events += done
            i += done
            if done:
                continue
        ev = decoder.decode(log)
        if ev is not None:
            apply_event(w, ev)
            events += 1
        i += 1
    return events


def _registrations(w: BlockWriter, logs: Sequence[Log], start: int) -> int:
    """Apply the ordinary registrations from ``logs[start]`` on; return how many (0: the first is not one)."""
    fb = int.from_bytes
    put_new = w.put_new
    get = w.get
    state = w.state
    seq = -1  # the counters are taken at the first record, after its log: the order the generic path takes them in
    seen: set[bytes] = set()
    change = 0
    parent_seqs = cast("dict[bytes, bytes] | None", state.get("parent seqs"))
    if parent_seqs is None:
        parent_seqs = state["parent seqs"] = {}
    log: _Log | None = None
    check_collision = False
    registrar = -1
    registrar_bytes = leaf_head = leaf_prefix = by_registrar = b""
    # The registrar's and the owner's topics repeat from log to log (the endpoint's reader shares their bytes):
    # each is read again only when it changes.
    registrar_topic: bytes | None = None
    owner_topic: bytes | None = None
    owner = 0
    owner_bytes = by_owner = b""
    nodes: list[tuple[bytes, bytes]] = []

    def on_node(level: int, index: int, h: bytes) -> None:
        if level >= K.STORED_NODE_LEVEL:
            nodes.append((K.node_key(registrar, level, index), h))

    registry = logs[start].address
    i = start
    for i in range(start, len(logs)):  # noqa: B007 - i is read after the loop
        entry_log = logs[i]
        t = entry_log.topics
        d = entry_log.data
        if (entry_log.address != registry or len(t) != 4 or t[0] != DATA_REGISTERED or len(d) < 352
                or fb(d[:320], "big") & _HEAD_MASK != _HEAD_WANT):
            break
        count = fb(d[320:352], "big")
        if len(d) != 352 + 32 * count or count > 255:
            break
        if t[2] is not registrar_topic:
            reg = fb(t[2], "big")
            if reg > 0xFFFF:
                break
            registrar_topic = t[2]
            if reg != registrar:
                registrar = reg
                registrar_bytes = t[2][30:]
                log = _Log.of(w, reg)
                check_collision = log.may_hold_batched()
                leaf_head = _LEAF_PREFIX + registrar_bytes
                leaf_prefix = K.LEAF + registrar_bytes
                by_registrar = K.BY_REGISTRAR + registrar_bytes
        if t[3] is not owner_topic:
            owner = fb(t[3], "big")
            if owner > 0xFFFFFFFF:
                owner_topic = None
                break
            owner_topic = t[3]
            owner_bytes = t[3][28:]
            by_owner = K.BY_OWNER + owner_bytes
        assert log is not None
        rng = log.range
        leaf_index = fb(d[288:320], "big")
        if rng.size != leaf_index:
            break
        rid = t[1]
        if check_collision and get(K.ID_SEQ + rid) is not None:
            break
        parents = d[352:]
        parent_sb = []
        for at in range(0, 32 * count, 32):
            p = parents[at:at + 32]
            raw = parent_seqs.get(p)
            if raw is None:
                raw = get(K.ID_SEQ + p)
                if raw is None:
                    break
                parent_seqs[p] = raw
            parent_sb.append(raw)
        if len(parent_sb) != count:
            break
        kind, grade = d[31], d[63]
        leaf = _sha256(b"".join((leaf_head, bytes((kind, grade, d[95], d[127])), owner_bytes, d[128:224],
                                 _BYTE[count], parents))).digest()
        supersedes = d[192:224]
        has_sup = supersedes != _ZERO32
        if seq < 0:
            seq = _bump(w, "records", 0)
            seen, change = change_log_for_new_rows(w)
        sb = seq.to_bytes(5, "big")
        seq += 1
        value = b"".join((_HEAD_PACK(owner, registrar, kind, grade, d[95], d[127], 1,
                                     (d[287] == 1) | (2 if has_sup else 0), entry_log.block_number, leaf_index,
                                     count),
                          rid, d[128:192], supersedes if has_sup else _EMPTY, *parent_sb))
        row = RECORD_ROW + sb
        items = [
            (K.ID_SEQ + rid, sb),
            (K.RECORD + sb, value),
            (K.BY_CONTENT + d[128:160] + sb, _EMPTY),
            (by_owner + sb, _EMPTY),
            (by_registrar + sb, _EMPTY),
            (_BY_KIND[kind] + sb, _EMPTY),
            (_BY_GRADE[grade] + sb, _EMPTY),
            (_STATUS_ACTIVE + sb, _EMPTY),
        ]
        for pb in parent_sb:
            items.append((K.PARENT + sb + pb, _EMPTY))
            items.append((K.CHILD + pb + sb, _EMPTY))
        # The catalogue's change log names the new row (touch_record), then the log takes the leaf (_Log.append).
        seen.add(row)
        items.append((K.CATALOG_LOG + change.to_bytes(8, "big"), row))
        change += 1
        items.append((leaf_prefix + leaf_index.to_bytes(8, "big"), leaf + _OUTCOME_RECORD + sb))
        rng.append(leaf, on_node)
        if nodes:
            items += nodes
            nodes.clear()
        put_new(items)
    else:
        i = len(logs)
    if seq >= 0:
        state[("counter", "records")] = seq
        set_change_log_size(w, change)
    return i - start
