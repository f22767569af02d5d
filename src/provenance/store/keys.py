"""The index's key layout and value encodings. Pure: bytes in, bytes out.

Every key starts with one prefix byte. Records get a dense sequence number (``seq``, 5 bytes, big-endian) in
the order the chain registered them, and the secondary indexes and adjacency lists use it instead of the
32-byte id, which keeps an index of a million records under 400 bytes a record. Big-endian numbers make
LevelDB's byte order the numeric order, so prefix scans come back in registration order.

    m <name>                           meta: chain id, genesis hash, contract addresses and code hashes,
                                       schema version, next seq, counts
    c                                  checkpoint: block number (8) + block hash (32) of the last indexed block
    i <id:32>                          seq of a record id
    r <seq:5>                          the record (see encode_record)
    h <contentHash:32> <seq:5>         by content hash, across all registrars
    o <owner:4> <seq:5>                by owner entity
    g <registrar:2> <seq:5>            by registrar exchange
    k <kind:1> <seq:5>                 by kind
    d <grade:1> <seq:5>                by grade
    s <status:1> <seq:5>               by status (moved on every status change)
    p <child seq:5> <parent seq:5>     parent adjacency (the record value also lists parents in order)
    q <parent seq:5> <child seq:5>     child adjacency
    t <seq:5> <block:8> <log:4>        status history: previous, current, reason
    e <entity:4>                       entity: identifier hash, account, registrar, role
    n <entity:4> <exchange:2>          recognition of an entity by an exchange
    a <entity:4> <exchange:2>          mandate (1 granted, 0 withdrawn)
    x <exchange:2>                     exchange: status, code, name
    y <exchange:2> <key:20>            exchange key: valid from, valid to (block numbers)
    b <block:8>                        hash of an indexed block within the reorg window
    u <block:8>                        undo record of a block within the reorg window

  Transparency logs (one per exchange; every registration, direct or batched, is a leaf):
    v <exchange:2>                     the log's compact range (size + perfect-subtree roots, see CompactRange)
    l <exchange:2> <index:8>           a leaf: leaf hash (32), then 0x01 + record seq; or 0x03 + the entry's
                                       length (2) + the entry + why the indexes rejected the batched entry
                                       (UTF-8; 0x00 + why from indexes before the entry was kept); or 0x02 + the
                                       seq of the batched record a later direct registration collided with + its
                                       entry (indexer/logs.py); the entry is kept so that the log's entry bundles
                                       serve every leaf
    w <exchange:2> <level:1> <idx:8>   root of the perfect subtree at level >= 4 (16+ leaves); smaller subtrees
                                       are rehashed from their leaves, which keeps this to 1/8 entry a leaf
    f <exchange:2> <size:8>            anchored checkpoint: root (32), block (8), 1 if the root equals the
                                       index's own recomputation (0 flags a bad anchor), transaction (32),
                                       the exchange's checkpoint signature (65)
    j <exchange:2> <size:8> <wit:2>    a witness's cosignature: signer (20), block (8), signature (65)
    z <block:8> <log:4>                a batched status request the indexes refused: why (UTF-8)
    S <exchange:2> <block:8> <log:4>   an anchored status list: taken at block (8), hash (32)
    C <credential:32> <exchange:2>     an on-chain recognition of a certificate: issuer (2), record id (32),
                                       block (8)
    A P X R D E B K O L V              cross-border applications, deliveries, spot checks, the catalogue and
                                       the supervisors: see provenance.indexer.flows

  The federated catalogue (provenance.indexer.catalog; the SQLite projection reads only these and the records):
    M <seq:5>                          the accepted metadata document of a general-grade record (canonical bytes)
    Q <entity:4>                       the accepted public profile of an organisation (canonical bytes)
    T <n:8>                            change log: b"r" + seq (5) or b"e" + entity id (4), a catalogue row that
                                       may have changed; meta ``catalog_log`` holds n, the number of entries
    N <block:8> <log:4>                a published document or profile the indexes refused: b"r" + record id
                                       (32) or b"e" + entity id (4), then why (UTF-8); meta ``catalog_rejected``
                                       counts them
  The data property register (provenance.indexer.property): one prefix byte ``G``, then a table byte:
    G s <seq:5>                        a record's property state (JSON): counts, listing, the pledge and
                                       dispute in force, renewal, cancellation
    G g <seq:5>                        the record as registered: owner (4), rights (1), metadata hash (32),
                                       kept from its first transfer or change (its log leaf covers these)
    G o <seq:5> <n:4>                  owner change n (JSON)
    G c <seq:5> <n:4>                  change of rights or metadata n (JSON)
    G n <seq:5> <n:4>                  renewal n (JSON)
    G p <seq:5> <pledge:4>             a pledge, ended or not (JSON)
    G e <seq:5>                        an encumbrance in force: pledgee (4), pledge seq (4)
    G E <pledgee:4> <seq:5>            the same, by pledgee
    G a <seq:5> <n:4>                  the record's assessment n, in the order they were made (JSON, with its id)
    G A <seq:5> <assessment id:32>     n of the record's assessment with this id (4)
    G d <seq:5> <dispute:4>            a dispute (JSON)
    G t <kind:1>                       a kind's term in seconds (8)
    G r <entity:4>                     an accredited assessor; G j <entity:4> an appointed arbitrator
    G l <exchange:2>                   an exchange whose listings need a compliance assessment in force
    G w <block:8>                      the time (8) of a block with direct registrations: their terms run from it
  Meta ``catalog_epoch`` is node-local, not chain-derived: rollback and wipe replace it, so the projection knows
  its rows may name undone blocks. :meth:`IndexStore.dump` leaves it out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from provenance.errors import StoreError

META = b"m"
CHECKPOINT = b"c"
ID_SEQ = b"i"
RECORD = b"r"
BY_CONTENT = b"h"
BY_OWNER = b"o"
BY_REGISTRAR = b"g"
BY_KIND = b"k"
BY_GRADE = b"d"
BY_STATUS = b"s"
PARENT = b"p"
CHILD = b"q"
STATUS_HISTORY = b"t"
ENTITY = b"e"
RECOGNITION = b"n"
MANDATE = b"a"
EXCHANGE = b"x"
EXCHANGE_KEY = b"y"
BLOCK_HASH = b"b"
UNDO = b"u"
LOG_STATE = b"v"
LEAF = b"l"
LOG_NODE = b"w"
ANCHOR = b"f"
COSIGNATURE = b"j"
REFUSED_STATUS = b"z"
STATUS_LIST = b"S"
CERT_RECOGNITION = b"C"
# Cross-border flows (layout in provenance.indexer.flows).
FLOW_APP = b"A"
FLOW_PENDING = b"P"
FLOW_APP_BY_EXPORTER = b"X"
FLOW_APP_BY_RECORD = b"R"
FLOW_DELIVERY = b"D"
FLOW_DELIVERY_BY_EXPORTER = b"E"
FLOW_DELIVERY_BY_APP = b"B"
FLOW_CHECK = b"K"
FLOW_CHECK_OPEN = b"O"
FLOW_CATALOGUE = b"L"
SUPERVISOR = b"V"
# The federated catalogue (layout in the docstring above and provenance.indexer.catalog).
CATALOG_METADATA = b"M"
CATALOG_PROFILE = b"Q"
CATALOG_LOG = b"T"
CATALOG_REFUSED = b"N"
CATALOG_EPOCH = "catalog_epoch"
# The data property register (layout in the docstring above and provenance.indexer.property).
PROPERTY = b"G"
PROP_STATE = PROPERTY + b"s"
PROP_REGISTERED = PROPERTY + b"g"
PROP_OWNER = PROPERTY + b"o"
PROP_CHANGE = PROPERTY + b"c"
PROP_RENEWAL = PROPERTY + b"n"
PROP_PLEDGE = PROPERTY + b"p"
PROP_ENCUMBRANCE = PROPERTY + b"e"
PROP_ENCUMBRANCE_BY_PLEDGEE = PROPERTY + b"E"
PROP_ASSESSMENT = PROPERTY + b"a"
PROP_ASSESSMENT_ID = PROPERTY + b"A"
PROP_DISPUTE = PROPERTY + b"d"
PROP_TERM = PROPERTY + b"t"
PROP_ASSESSOR = PROPERTY + b"r"
PROP_ARBITRATOR = PROPERTY + b"j"
PROP_COMPLIANCE = PROPERTY + b"l"
PROP_BLOCK_TIME = PROPERTY + b"w"

LEAF_RECORD = 1
LEAF_REJECTED = 0
LEAF_COLLIDED = 2
LEAF_REJECTED_KEPT = 3
STORED_NODE_LEVEL = 4

# 4: records follow transfers and changes (owner, rights, metadata hash) and the property register's keys exist;
# 5: a rejected or collided leaf keeps its entry (the log's entry bundles serve every leaf), and metadata
# documents are judged by the schemas that refuse control characters and direction overrides, so every index of
# this release holds the same catalogue. An index of an older layout is refused as another deployment's, so it is
# rebuilt (`provenance index rebuild`), never misread.
SCHEMA_VERSION = b"5"
SEQ_BYTES = 5


MAX_SEQ = 2 ** (8 * SEQ_BYTES) - 1  # the largest record sequence number the key layout can hold


def seq_bytes(seq: int) -> bytes:
    return seq.to_bytes(SEQ_BYTES, "big")


def meta(name: str) -> bytes:
    return META + name.encode()


def block_key(prefix: bytes, number: int) -> bytes:
    return prefix + number.to_bytes(8, "big")


@dataclass(frozen=True)
class IndexedRecord:
    """A record as the index holds it (parents by id, in registration order)."""

    id: bytes
    seq: int
    owner: int
    registrar: int
    kind: int
    grade: int
    source: int
    rights: int
    status: int
    delegated: bool
    batched: bool
    leaf_index: int
    block_number: int
    content_hash: bytes
    metadata_hash: bytes
    supersedes: bytes
    parents: tuple[bytes, ...]


# owner u32, registrar u16, kind, grade, source, rights, status, flags u8, block u64, leaf index u64,
# parent count u8 (the status byte is at offset 10, the parent count last)
_RECORD_HEAD = struct.Struct(">IHBBBBBBQQB")
_FLAG_DELEGATED = 1
_FLAG_SUPERSEDES = 2
_FLAG_BATCHED = 4


def encode_record(r: IndexedRecord, parent_seqs: list[int]) -> bytes:
    return encode_record_fields(r.owner, r.registrar, r.kind, r.grade, r.source, r.rights, r.status, r.delegated,
                                r.block_number, r.id, r.content_hash, r.metadata_hash, r.supersedes,
                                [seq_bytes(s) for s in parent_seqs], batched=r.batched, leaf_index=r.leaf_index)


_ZERO32 = bytes(32)


def encode_record_fields(owner: int, registrar: int, kind: int, grade: int, source: int, rights: int, status: int,
                         delegated: bool, block: int, rid: bytes, content: bytes, metadata: bytes, supersedes: bytes,
                         parent_seq_bytes: list[bytes], *, batched: bool = False, leaf_index: int = 0) -> bytes:
    has_sup = supersedes != _ZERO32
    flags = ((_FLAG_DELEGATED if delegated else 0) | (_FLAG_SUPERSEDES if has_sup else 0)
             | (_FLAG_BATCHED if batched else 0))
    head = _RECORD_HEAD.pack(owner, registrar, kind, grade, source, rights, status, flags, block, leaf_index,
                             len(parent_seq_bytes))
    return b"".join((head, rid, content, metadata, supersedes if has_sup else b"", *parent_seq_bytes))


def decode_record(seq: int, value: bytes) -> tuple[IndexedRecord, list[int]]:
    """The record and its parents' seqs (resolve them to ids with the i/r keys)."""
    try:
        (owner, registrar, kind, grade, source, rights, status, flags, block, leaf_index,
         n) = _RECORD_HEAD.unpack_from(value)
        pos = _RECORD_HEAD.size
        rid, content, metadata = value[pos:pos + 32], value[pos + 32:pos + 64], value[pos + 64:pos + 96]
        pos += 96
        supersedes = bytes(32)
        if flags & _FLAG_SUPERSEDES:
            supersedes = value[pos:pos + 32]
            pos += 32
        parents = [int.from_bytes(value[pos + i * SEQ_BYTES:pos + (i + 1) * SEQ_BYTES], "big") for i in range(n)]
        if pos + n * SEQ_BYTES != len(value):
            raise ValueError("length mismatch")
    except (struct.error, ValueError) as exc:
        raise StoreError(f"corrupt index record (seq {seq}): {exc}") from exc
    rec = IndexedRecord(rid, seq, owner, registrar, kind, grade, source, rights, status,
                        bool(flags & _FLAG_DELEGATED), bool(flags & _FLAG_BATCHED), leaf_index, block, content,
                        metadata, supersedes, ())
    return rec, parents


RECORD_ID_OFFSET = _RECORD_HEAD.size


def parent_seqs_of(value: bytes) -> list[int]:
    """The parents' seqs of an encoded record, without decoding the rest (they are its last bytes)."""
    n = value[_RECORD_HEAD.size - 1]
    if not n:
        return []
    tail = value[len(value) - n * SEQ_BYTES:]
    return [int.from_bytes(tail[i:i + SEQ_BYTES], "big") for i in range(0, n * SEQ_BYTES, SEQ_BYTES)]


def record_id_of(value: bytes) -> bytes:
    return value[RECORD_ID_OFFSET:RECORD_ID_OFFSET + 32]


def with_status(value: bytes, status: int) -> bytes:
    """A record value with its status byte replaced (offset 10 of the head)."""
    return value[:10] + bytes([status]) + value[11:]


_RIGHTS_OFFSET = 9
_METADATA_OFFSET = RECORD_ID_OFFSET + 64


def with_owner(value: bytes, owner: int) -> bytes:
    """A record value with its owner (the first 4 bytes of the head) replaced: a transfer."""
    return owner.to_bytes(4, "big") + value[4:]


def with_rights_metadata(value: bytes, rights: int, metadata_hash: bytes) -> bytes:
    """A record value with its rights byte and metadata hash replaced: a change of the same registration."""
    if len(metadata_hash) != 32:
        raise StoreError("a metadata hash is 32 bytes")
    return (value[:_RIGHTS_OFFSET] + bytes([rights]) + value[_RIGHTS_OFFSET + 1:_METADATA_OFFSET] + metadata_hash
            + value[_METADATA_OFFSET + 32:])


def metadata_of(value: bytes) -> bytes:
    return value[_METADATA_OFFSET:_METADATA_OFFSET + 32]


def record_head(value: bytes) -> tuple[int, int, int, int, int, int, int, int, int, int, int]:
    """(owner, registrar, kind, grade, source, rights, status, flags, block, leaf index, parent count)."""
    return _RECORD_HEAD.unpack_from(value)


def is_batched(flags: int) -> bool:
    return bool(flags & _FLAG_BATCHED)


def leaf_key(exchange: int, index: int) -> bytes:
    return LEAF + exchange.to_bytes(2, "big") + index.to_bytes(8, "big")


def node_key(exchange: int, level: int, index: int) -> bytes:
    return LOG_NODE + exchange.to_bytes(2, "big") + bytes((level,)) + index.to_bytes(8, "big")


def anchor_key(exchange: int, size: int) -> bytes:
    return ANCHOR + exchange.to_bytes(2, "big") + size.to_bytes(8, "big")


def encode_checkpoint(number: int, block_hash: bytes) -> bytes:
    return number.to_bytes(8, "big") + block_hash


def decode_checkpoint(value: bytes) -> tuple[int, bytes]:
    return int.from_bytes(value[:8], "big"), value[8:40]


def encode_undo(entries: list[tuple[bytes, bytes | None]]) -> bytes:
    """(key, previous value or None for 'did not exist'), length-prefixed."""
    out: list[bytes] = []
    put = out.append
    for key, old in entries:
        put(_U16.pack(len(key)))
        put(key)
        if old is None:
            put(_ABSENT)
        else:
            put(_U32.pack(len(old)))
            put(old)
    return b"".join(out)


def encode_undo_absent(keys: list[bytes]) -> bytes:
    """:func:`encode_undo` of ``[(key, None) for key in keys]``, in one step: a block's new keys (most of its
    undo record) need no value and no per-key branch."""
    prefix = _LEN_PREFIX
    try:
        return b"".join([prefix[len(k)] + k + _ABSENT for k in keys])
    except IndexError:  # a key of 256 bytes or more (none is, by the layout above): the general encoder
        return encode_undo([(k, None) for k in keys])


_U16, _U32 = struct.Struct(">H"), struct.Struct(">I")
_ABSENT = b"\xff\xff\xff\xff"
_LEN_PREFIX = tuple(_U16.pack(n) for n in range(256))


def decode_undo(value: bytes) -> list[tuple[bytes, bytes | None]]:
    entries: list[tuple[bytes, bytes | None]] = []
    pos = 0
    while pos < len(value):
        (klen,) = struct.unpack_from(">H", value, pos)
        key = value[pos + 2:pos + 2 + klen]
        pos += 2 + klen
        (vlen,) = struct.unpack_from(">I", value, pos)
        pos += 4
        if vlen == 0xFFFFFFFF:
            entries.append((key, None))
        else:
            entries.append((key, value[pos:pos + vlen]))
            pos += vlen
    return entries
