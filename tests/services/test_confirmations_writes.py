"""A node that indexes only confirmed blocks ([index] confirmations > 0, for a chain whose blocks can be
reorganised) answers its writes without the record it has just written: the registration stands on chain, and
the answer says so (the record null, the batch's items awaiting confirmation) instead of a 404 after the
transaction was sent. Once confirmed, the index holds them as on a node that follows the head."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from provenance.core.ids import hex0x
from provenance.services.operations import Operations
from provenance.services.requests import request_from_json
from provenance.services.results.registrations import BatchOut, RegisteredOut
from tests.support.demo_node import demo_node


def _record() -> Any:
    return request_from_json({"kind": "resource", "owner": 1, "contentHash": "0x" + os.urandom(32).hex()}, "r")


def test_writes_answer_before_the_index_holds_them(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    node = demo_node(demo_dir, tmp_path, confirmations=2)
    try:
        ops = Operations(node)
        ops.sync()
        batch = ops.batch([_record(), _record(), _record()], batch_size=2)
        BatchOut.model_validate(batch)
        assert batch["accepted"] == [] and batch["rejected_by_index"] == []
        assert [x["index"] for x in batch["awaiting_confirmation"]] == [0, 1, 2] and batch["batches"] == 2
        out = ops.register(_record())
        RegisteredOut.model_validate(out)
        assert out["record"] is None and out["block"] > 0
        assert node.index.record(bytes.fromhex(out["id"][2:])) is None
        for _ in range(2):  # two more blocks confirm them
            ops.register(_record())
        for rid in [*(x["id"] for x in batch["awaiting_confirmation"]), out["id"]]:
            rec = node.index.record(bytes.fromhex(rid[2:]))
            assert rec is not None and hex0x(rec.id) == rid
    finally:
        node.close()
