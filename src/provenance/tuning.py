"""Interpreter settings for a long-running node, applied once it has started (``provenance serve``, and the
benchmarks that measure what a node does).

* A serving node: the chain writer and the follower are CPU-bound Python threads; with the default 5 ms GIL
  switch interval a read waits behind them for up to 5 ms at every switch. 0.5 ms halves the p95 read latency
  under write load (scripts/bench api: 74 ms at 5 ms, 47 ms at 1 ms, 37 ms at 0.5 ms). A rebuild serves nobody
  and keeps the default: its fetching thread and its indexing thread then switch less (about 5% faster).
* The cyclic garbage collector's defaults (a young collection every 700 net allocations) made batch intake spend
  about 15% of its time collecting: a batch allocates some 50 objects a record and keeps few cycles. The objects
  alive after start-up (modules, py-evm's tables, the app) are frozen, so full collections do not scan them again.
"""

from __future__ import annotations

import gc
import os
import sys

GC_THRESHOLDS = (50_000, 20, 50)


def tune_node(*, serving: bool = True) -> None:
    if serving:
        sys.setswitchinterval(float(os.environ.get("PROVENANCE_SWITCH_INTERVAL", "0.0005")))
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
