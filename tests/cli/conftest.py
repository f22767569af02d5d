"""The command line's tests: a fresh data directory and passphrase per test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "test-pass-phrase")
    monkeypatch.setenv("PROVENANCE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"
