"""node.toml's [api] public_url: the base URL this node writes into the documents it signs and publishes. A bad
one is refused when the configuration is read, naming the setting, rather than signed into certificates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provenance.config import PUBLIC_URL_ENV, ApiConfig, NodeConfig, check_public_url, public_url
from provenance.errors import ConfigError

BASE: dict[str, Any] = {"node": {"key": "SDE"}, "chain": {"backend": "embedded", "chain_id": 1502}}


def test_round_trip_and_trailing_slash(tmp_path: Path) -> None:
    assert NodeConfig.from_dict(tmp_path, BASE).api == ApiConfig()
    assert "[api]" not in NodeConfig.from_dict(tmp_path, BASE).to_toml()
    cfg = NodeConfig.from_dict(tmp_path, {**BASE, "api": {"public_url": "https://sde.example/node/"}})
    assert cfg.api.public_url == "https://sde.example/node"
    cfg.save()
    assert NodeConfig.load(tmp_path).api.public_url == "https://sde.example/node"


@pytest.mark.parametrize("url", ["sde.example", "ftp://sde.example", "https://", "https://sde.example/?x=1",
                                 "https://sde.example/#top", "https://user@sde.example", "https://sde.example:0",
                                 "https://sde.example:99999", "https://sde .example", "https://sde.example/\u00e9",
                                 "https://sde.example/<x>", "", 5, ["https://sde.example"]])
def test_bad_public_url_is_refused_at_load_naming_the_setting(tmp_path: Path, url: Any) -> None:
    (tmp_path / "node.toml").write_text('[node]\nkey = "SDE"\n[chain]\nchain_id = 1502\n[api]\npublic_url = '
                                        + (f'"{url}"' if isinstance(url, str) else repr(url).replace("'", '"'))
                                        + "\n", "utf-8")
    with pytest.raises(ConfigError, match=r"node\.toml: \[api\] public_url"):
        NodeConfig.load(tmp_path)


def test_which_url_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    assert public_url(tmp_path) == "http://127.0.0.1:8080"  # no node.toml: the address scripts/run serves on
    assert public_url(tmp_path, default="http://127.0.0.1:49243") == "http://127.0.0.1:49243"
    NodeConfig.from_dict(tmp_path, {**BASE, "api": {"public_url": "https://sde.example"}}).save()
    assert public_url(tmp_path, default="http://127.0.0.1:49243") == "https://sde.example"
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://override.example/x/")  # what `serve --public-url` sets
    assert public_url(tmp_path) == "https://override.example/x"
    monkeypatch.setenv(PUBLIC_URL_ENV, "javascript:alert(1)")
    with pytest.raises(ConfigError, match=PUBLIC_URL_ENV):
        public_url(tmp_path)
    with pytest.raises(ConfigError, match="--public-url"):
        check_public_url("https://sde.example?q", "--public-url")
