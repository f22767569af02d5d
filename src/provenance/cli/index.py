"""``index``: bringing the lineage index to the chain head, following it, rebuilding it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from provenance.cli.common import bar, with_ops
from provenance.errors import InvalidInput
from provenance.tuning import tune_node


@with_ops
def cmd_index_sync(ops: Any, args: argparse.Namespace) -> Any:
    import threading

    from provenance.services.follow import Follower, Round

    st = ops.sync_index(progress=_sync_progress(args))
    _end_progress(args)
    if args.follow:
        if args.follow <= 0:
            raise InvalidInput("--follow takes a positive number of seconds")
        last = st

        def report(done: Round) -> None:
            nonlocal last
            new = done.synced
            if new is not None:
                if new.events or new.reorgs != last.reorgs:
                    print(json.dumps({"checkpoint": new.checkpoint, "events": new.events, "reorgs": new.reorgs}),
                          flush=True)
                last = new
            if done.drawn:
                print(json.dumps({"drawn": list(done.drawn)}), flush=True)

        # The same loop as serve's follower: the index at the head, and every due spot check drawn.
        from provenance.services.catalog import CatalogService

        following = Follower(ops, interval=args.follow, always_sync=True, catalog=CatalogService(ops))
        try:
            following.run(threading.Event(), on_round=report, keep_going=False)
        except KeyboardInterrupt:
            pass
        st = last
    return {**ops.index_status(), "indexed_events": st.events, "reorgs": st.reorgs}


@with_ops
def cmd_index_rebuild(ops: Any, args: argparse.Namespace) -> Any:
    tune_node(serving=False)  # a long catch-up: the node's interpreter settings, serving nobody
    out = ops.rebuild(progress=_sync_progress(args))
    _end_progress(args)
    return out


def _sync_progress(args: argparse.Namespace) -> Callable[[Any], None] | None:
    """A progress bar of blocks indexed, on a terminal (never in --json output)."""
    if args.json or not sys.stderr.isatty():
        return None

    def show(st: Any) -> None:
        print(f"\r{bar(st.checkpoint, st.target)} indexed block {st.checkpoint} of {st.target}", end="",
              file=sys.stderr, flush=True)

    return show


def _end_progress(args: argparse.Namespace) -> None:
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)


@with_ops
def cmd_index_status(ops: Any, args: argparse.Namespace) -> Any:
    return ops.index_status()
