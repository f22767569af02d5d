"""A demo node served in-process: the demo federation is seeded once per session and copied per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.served import Served, serve


@pytest.fixture(scope="module")
def served(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    src, demo = demo_dir
    dst = tmp_path_factory.mktemp("node") / "data"
    shutil.copytree(src, dst)
    yield from serve(dst, demo)
