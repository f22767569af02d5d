"""Child process for the crash test: catch up the index of a prepared chain, announcing when it starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from provenance.chain.contracts import Contracts, Deployment
from provenance.chain.embedded import EmbeddedChain
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore


def main() -> None:
    chain_dir, index_dir, dep_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    chain = EmbeddedChain(chain_dir)
    contracts = Contracts.attach(chain, Deployment.from_json(json.loads(dep_file.read_text())))
    store = IndexStore(index_dir)
    print("syncing", flush=True)
    status = Follower(chain=chain, contracts=contracts, store=store, max_range=int(sys.argv[4])).sync()
    print("done", status.checkpoint, flush=True)
    store.close()
    chain.close()


if __name__ == "__main__":
    main()
