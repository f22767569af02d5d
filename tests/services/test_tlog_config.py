"""The [tlog] section of node.toml: witnesses to push checkpoints to, each request's timeout, attempts per round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provenance.config import NodeConfig, TlogConfig, Witness
from provenance.core import note
from provenance.errors import ConfigError

BASE: dict[str, Any] = {"node": {"key": "SDE"}, "chain": {"backend": "embedded", "chain_id": 1502}}
VKEY = note.Signer("witness.example", bytes(range(32)), note.SIG_COSIGNATURE_V1).verifier.vkey
PLAIN = note.Signer("witness.example", bytes(range(32))).verifier.vkey  # a type 0x01 key cannot cosign


def load(tmp_path: Path, tlog: dict[str, Any]) -> NodeConfig:
    return NodeConfig.from_dict(tmp_path, {**BASE, "tlog": tlog}, source="node.toml")


def test_defaults_and_round_trip(tmp_path: Path) -> None:
    assert NodeConfig.from_dict(tmp_path, BASE).tlog == TlogConfig()
    assert "[tlog]" not in NodeConfig.from_dict(tmp_path, BASE).to_toml()  # nothing written when nothing is set
    cfg = load(tmp_path, {"witnesses": ["https://w.example/tlog/", f"http://127.0.0.1:8001/api/v1/tlog {VKEY}"],
                          "timeout": 2.5, "retries": 5})
    assert cfg.tlog == TlogConfig(witnesses=(Witness("https://w.example/tlog"),
                                             Witness("http://127.0.0.1:8001/api/v1/tlog", VKEY)),
                                  timeout=2.5, retries=5)
    cfg.save()
    assert NodeConfig.load(tmp_path).tlog == cfg.tlog


@pytest.mark.parametrize("tlog", [
    {"witnesses": "http://w.example"},
    {"witnesses": [1]},
    {"witnesses": ["ftp://w.example/tlog"]},
    {"witnesses": ["w.example/tlog"]},
    {"witnesses": ["http://w.example/tlog?x=1"]},
    {"witnesses": ["http:///tlog"]},
    {"witnesses": ["http://w.example/tlog w+0000+AAAA"]},
    {"witnesses": [f"http://w.example/tlog {PLAIN}"]},
    {"witnesses": [f"http://w{i}.example" for i in range(17)]},
    {"timeout": 0},
    {"timeout": 301},
    {"retries": 0},
    {"retries": 11},
    {"retries": "many"},
])
def test_bad_tlog_settings_are_named(tmp_path: Path, tlog: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"node\.toml"):
        load(tmp_path, tlog)
