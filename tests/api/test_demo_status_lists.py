"""The demo certificate's status lists resolve on the node the demo is served by (W3C Bitstring Status List: a list
a verifier cannot retrieve is an error).

`serve --demo` fixes its public URL before seeding, so the certificate AHDE issues names lists under the address the
node serves on, and a directory seeded on another address (the session's demo, at 8080) gets its certificate again.
The single demo node holds the keys of all three exchanges: it serves the lists of each exchange it holds a current
key of, each signed by that exchange's key, and anchored on-chain once they record a status change."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from tests.support.passphrase import passphrase
from tests.support.server import node_process

API = "/api/v1"
VC_JWT = "application/vc+jwt"


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("demo-lists")
    shutil.copytree(demo_dir[0], folder / "data")
    passphrase(folder)
    with node_process(folder / "data", folder / "passphrase.txt", "--demo", "--rate", "0", timeout=300) as url:
        yield url, folder / "data"


def _entries(cert: dict[str, Any]) -> list[dict[str, Any]]:
    status = cert["credentialStatus"]
    return status if isinstance(status, list) else [status]


def _bits(doc: dict[str, Any]) -> bytes:
    """The bitstring of an encodedList, decoded with the standard library alone (multibase 'u', base64url, GZIP)."""
    encoded = doc["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def _set(bits: bytes) -> list[int]:
    return [i for i in range(8 * len(bits)) if bits[i >> 3] & (0x80 >> (i & 7))]


def _public_key(keys: dict[str, Any]) -> jwk.JWK:
    (key,) = keys["keys"]
    return jwk.JWK(**{k: key[k] for k in ("kty", "crv", "x", "y")})


def _jws_payload(token: str, key: jwk.JWK) -> Any:
    verifier = jws.JWS()
    verifier.allowed_algs = ["ES256K"]
    verifier.deserialize(token)
    verifier.verify(key)
    return json.loads(verifier.payload)


def test_the_certificate_names_lists_under_the_address_served(node: tuple[str, Path],
                                                              demo_dir: tuple[Path, dict[str, Any]]) -> None:
    url, data = node
    seeded = json.loads((demo_dir[0] / "demo-certificate.json").read_text("utf-8"))
    assert all(e["statusListCredential"].startswith("http://127.0.0.1:8080/") for e in _entries(seeded))
    cert = json.loads((data / "demo-certificate.json").read_text("utf-8"))
    assert cert["issuer"]["code"] == "AHDE" and cert["id"] != seeded["id"]  # issued again for this address
    urls = [e["statusListCredential"] for e in _entries(cert)]
    assert sorted(urls) == [f"{url}{API}/status-lists/AHDE/revocation", f"{url}{API}/status-lists/AHDE/suspension"]
    log = (data.parent / f"serve-{url.rsplit(':', 1)[1]}.log").read_text("utf-8")
    assert f"Public URL in documents:  {url}\n" in log


def test_each_list_is_served_anchored_and_signed_by_its_exchange(node: tuple[str, Path]) -> None:
    url, data = node
    cert = json.loads((data / "demo-certificate.json").read_text("utf-8"))
    chain_id = httpx.get(f"{url}{API}/federation", timeout=30).json()["chain"]["chain_id"]
    ahde = httpx.get(f"{url}{API}/exchanges/AHDE", timeout=30).json()
    current = {k["address"].lower() for k in ahde["keys"] if k["valid_to"] == 0}
    ahde_key = _public_key(httpx.get(f"{url}{API}/jwks", params={"exchange": "AHDE"}, timeout=30).json())
    node_key = _public_key(httpx.get(f"{url}{API}/jwks", timeout=30).json())
    for entry in _entries(cert):
        r = httpx.get(entry["statusListCredential"], headers={"Accept": "application/vc"}, timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vc")
        doc = r.json()
        assert doc["id"] == entry["statusListCredential"] and doc["issuer"]["code"] == "AHDE"
        assert int(r.headers["provenance-anchored-block"]) > 0  # the demo anchored AHDE's lists by AHDE's key
        bits = _bits(doc)
        assert not bits[int(entry["statusListIndex"]) >> 3] & (0x80 >> (int(entry["statusListIndex"]) & 7))
        # AHDE suspended one of its records (the factory energy data) and revoked none.
        assert len(_set(bits)) == (1 if entry["statusPurpose"] == "suspension" else 0)
        t = httpx.get(entry["statusListCredential"], headers={"Accept": VC_JWT}, timeout=30)
        assert t.status_code == 200 and t.headers["content-type"].startswith(VC_JWT), t.text
        token = t.text.strip()
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        kid_address = header["kid"].removeprefix(f"did:pkh:eip155:{chain_id}:").removesuffix("#blockchainAccountId")
        assert kid_address in current  # a current key of the issuing exchange, not the node's (SDE's)
        assert _jws_payload(token, ahde_key) == doc
        with pytest.raises(JWException):
            _jws_payload(token, node_key)


@pytest.fixture(scope="module")
def lacking(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[TestClient, Path]]:
    """The demo directory served in-process without ZJDE's key, and with a key under ZJDE's label that is not
    one of ZJDE's keys on-chain."""
    from provenance.api import ApiSettings, create_app
    from provenance.store.keystore import Keystore

    folder = tmp_path_factory.mktemp("demo-no-zjde")
    data = folder / "data"
    shutil.copytree(demo_dir[0], data)
    (zjde,) = (data / "keystore").glob("ZJDE--*.json")
    zjde.unlink()
    Keystore(data / "keystore", passphrase(folder), scrypt_n=1024).create("ZJDE", bytes(Account.create().key))
    app = create_app(ApiSettings(data_dir=data, passphrase=passphrase(folder), rate_per_second=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, data


def test_an_exchange_whose_key_the_node_lacks_gets_404(lacking: tuple[TestClient, Path]) -> None:
    client, _data = lacking
    for purpose in ("revocation", "suspension"):
        r = client.get(f"{API}/status-lists/ZJDE/{purpose}")
        assert r.status_code == 404 and "no current key of exchange ZJDE" in r.json()["detail"], r.text
        assert client.get(f"{API}/status-lists/2/{purpose}").status_code == 404  # by id too
    assert client.get(f"{API}/jwks", params={"exchange": "ZJDE"}).status_code == 404
    assert client.get(f"{API}/status-lists/XYDE/revocation").status_code == 404  # no such exchange
    assert client.get(f"{API}/status-lists/SDE/revocation").status_code == 200
    assert client.get(f"{API}/status-lists/AHDE/revocation").status_code == 200


def test_the_signer_of_each_exchange(lacking: tuple[TestClient, Path]) -> None:
    client, _data = lacking
    ops = client.app.state.runtime.ops  # type: ignore[attr-defined]
    keystore = ops.node.keystore
    assert ops.exchange_signer("SDE").address == ops.signer().address
    assert ops.exchange_signer("AHDE").address == keystore.address("AHDE")
    assert ops.exchange_signer("3").address == keystore.address("AHDE")
    assert ops.exchange_signer("ZJDE") is None  # its label holds a key the Federation does not know as ZJDE's
    assert ops.serves_exchange("AHDE") and not ops.serves_exchange("ZJDE")
    token = client.get(f"{API}/status-lists/AHDE/suspension", headers={"Accept": VC_JWT}).text.strip()
    sde = _public_key(client.get(f"{API}/jwks").json())
    ahde = _public_key(client.get(f"{API}/jwks", params={"exchange": "AHDE"}).json())
    assert _jws_payload(token, ahde)["issuer"]["code"] == "AHDE"
    with pytest.raises(JWException):
        _jws_payload(token, sde)


def test_a_start_under_another_url_reissues_and_reanchors_once(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.config import PUBLIC_URL_ENV
    from provenance.dev.demo import run_demo

    data = tmp_path / "data"
    shutil.copytree(demo_dir[0], data)
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://ahde.example/node")
    said: list[str] = []
    first = run_demo(data, passphrase(tmp_path), say=said.append)
    assert any(m.startswith("AHDE re-issues a certificate") for m in said), said
    assert "AHDE anchors its status lists (revocation, suspension) on-chain" in said
    assert not any(m.startswith(("SDE anchors its status", "ZJDE anchors its status")) for m in said)  # nothing set
    cert = (data / "demo-certificate.json").read_text("utf-8")
    assert all(e["statusListCredential"].startswith("https://ahde.example/node/api/v1/status-lists/AHDE/")
               for e in _entries(json.loads(cert)))
    said.clear()
    assert run_demo(data, passphrase(tmp_path), say=said.append) == first  # no transaction: the same checkpoint
    assert [m for m in said if not m.startswith("Refused as it should be")] == []  # the rules' demonstration stays
    assert (data / "demo-certificate.json").read_text("utf-8") == cert
