"""tlog-scales' tile backend over an index's tiles, so that a reader no one here wrote reads an exchange's log as
a tile mirror would serve it (the reader is told the size: no checkpoint)."""

from __future__ import annotations

from provenance.core import tlog
from provenance.errors import NotFound
from provenance.indexer.tlog_tiles import TileQueries


class IndexTileBackend:
    def __init__(self, tiles: TileQueries, exchange: int) -> None:
        self.tiles, self.exchange = tiles, exchange

    def get(self, *path: str) -> bytes | None:
        level, n, width = tlog.parse_tile_path("/".join(path))
        try:
            if level is None:
                return self.tiles.entry_bundle(self.exchange, n, width)
            return self.tiles.hash_tile(self.exchange, level, n, width)
        except NotFound:
            return None
