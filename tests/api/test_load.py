"""A load run against a real server process: writers at a fixed rate, readers tailing new registrations.

Checked: no write is lost or duplicated (every 201 is in the index once, the index grew by exactly the writes),
and every reader saw every write, each once. The p95 latencies are printed (the benchmark reports them too;
tests do not assert timings).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenance.api.auth import TokenStore
from provenance.dev.loadrun import write_and_tail
from tests.support.passphrase import passphrase
from tests.support.server import node_process

SECONDS = float(os.environ.get("PROVENANCE_LOAD_SECONDS", "60"))
WRITES_PER_SECOND = 50
READERS = 10


@pytest.mark.slow
def test_load_run_loses_and_duplicates_nothing(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    src, demo = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    store = TokenStore(data)
    writer_token = store.create("registrar", "load-writer")
    reader_token = store.create("member", "load-reader")
    owner = demo["entities"]["m-lingang"]

    with node_process(data, _pass_file(tmp_path)) as url:
        start_count = httpx.get(url + "/health").json()["index"]["records"]
        res = write_and_tail(url + "/api/v1", writer_token=writer_token, reader_token=reader_token, owner=owner,
                             seconds=SECONDS, writes_per_second=WRITES_PER_SECOND, readers=READERS,
                             start_after=start_count - 1)
        end_count = httpx.get(url + "/health").json()["index"]["records"]

    print(f"\nload run: {res.summary()}")
    assert not res.failures, res.failures[:10]
    assert len(res.written) == res.planned and len(set(res.written)) == res.planned
    assert end_count - start_count == res.planned
    for k, seen in enumerate(res.seen):
        assert len(seen) == len(set(seen)), f"reader {k} saw a record twice"
        assert set(seen) == set(res.written), f"reader {k} missed {len(set(res.written) - set(seen))} writes"


def _pass_file(folder: Path) -> Path:
    passphrase(folder)
    return folder / "passphrase.txt"
