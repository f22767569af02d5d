"""A node served in-process by the HTTP API, with a token for each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from provenance.api import ApiSettings, Runtime, create_app
from provenance.api.auth import TokenStore
from tests.support.passphrase import passphrase


@dataclass
class Served:
    client: TestClient
    runtime: Runtime
    data_dir: Path
    tokens: dict[str, str]
    demo: dict[str, Any]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def record(self, name: str) -> str:
        return str(self.demo["records"][name])


def serve(data_dir: Path, demo: dict[str, Any], **settings: Any) -> Iterator[Served]:
    store = TokenStore(data_dir)
    tokens = {
        "admin": store.create("admin", "ops-admin"),
        "registrar": store.create("registrar", "desk"),
        "member": store.create("member", "zjde-node", exchange=2),
        "merchant": store.create("merchant", "lingang", entity=demo["entities"]["m-lingang"]),
    }
    cfg = ApiSettings(data_dir=data_dir, passphrase=passphrase(data_dir.parent),
                      **{"rate_per_second": 0, **settings})
    app = create_app(cfg)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Served(client, app.state.runtime, data_dir, tokens, demo)
