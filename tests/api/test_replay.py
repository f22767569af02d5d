"""A captured signed request counts once: no re-encoding of its signature, no second signature over the same
message, and no restart of the node makes it count again; the guard stays bounded, refusing rather than forgetting.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import coincurve
import httpx
import pytest
from eth_account import Account
from eth_account.messages import defunct_hash_message
from fastapi.testclient import TestClient

from provenance.api import ApiSettings, create_app
from provenance.api.auth import (
    AuthError,
    ReplayGuard,
    TokenStore,
    recover_request_signer,
    request_digest,
    sign_request,
    signed_request_message,
)
from provenance.config import NodeConfig
from provenance.core.eip712 import SECP256K1_N
from provenance.errors import StoreError
from provenance.store import replay as replay_store
from provenance.store.keystore import Keystore
from provenance.store.replay import FILE_NAME, MAGIC, RECORD
from tests.support.passphrase import passphrase
from tests.support.served import Served
from tests.support.server import node_process

API = "/api/v1"
N = SECP256K1_N
CHAIN, REGISTRY = 31337, bytes(range(20))


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def variants(sig: bytes) -> dict[str, tuple[str, str]]:
    """Every other way to write a 65-byte signature, with (a part of) the reason the node must give."""
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = r + (N - s).to_bytes(32, "big")
    return {
        "v as 0/1": (hx(sig[:64] + bytes([v - 27])), "v must be 27 or 28"),
        "v as 29/30": (hx(sig[:64] + bytes([v + 2])), "v must be 27 or 28"),
        "high-s twin, v flipped": (hx(twin + bytes([55 - v])), "upper half"),
        "high-s twin, v flipped, as 0/1": (hx(twin + bytes([28 - v])), "upper half"),
        "trailing byte": (hx(sig + b"\x00"), "66 bytes"),
        "compact EIP-2098": (hx(r + (((v - 27) << 255) | s).to_bytes(32, "big")), "compact"),
        "r = 0": (hx(bytes(32) + sig[32:]), "out of range"),
        "s = 0": (hx(r + bytes(32) + sig[64:]), "out of range"),
        "s = n": (hx(r + N.to_bytes(32, "big") + sig[64:]), "upper half"),
        "r = n": (hx(N.to_bytes(32, "big") + sig[32:]), "out of range"),
        "uppercase hex": ("0x" + sig.hex().upper(), "lowercase hex"),
        "no 0x": (sig.hex(), "lowercase hex"),
        "0X": ("0X" + sig.hex(), "lowercase hex"),
        "space inside": ("0x" + sig.hex()[:64] + " " + sig.hex()[64:], "lowercase hex"),
    }


def resign(digest: bytes, private_key: bytes) -> bytes:
    """Another canonical signature over ``digest`` (a random nonce, not RFC 6979's): a different signature of the
    same signed request, as a second signing library would make."""
    d, z = int.from_bytes(private_key, "big"), int.from_bytes(digest, "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        point = coincurve.PrivateKey(k.to_bytes(32, "big")).public_key.format(compressed=False)
        x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
        s = pow(k, -1, N) * (z + x * d) % N
        if x >= N or s == 0:
            continue
        parity = y & 1
        if s > N // 2:
            s, parity = N - s, parity ^ 1
        return x.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + parity])


def sde_key(data_dir: Path) -> bytes:
    return bytes(Keystore(data_dir / "keystore", passphrase(data_dir.parent)).load("SDE").key)


def status_of(client: TestClient, rid: str) -> str:
    return str(client.get(f"{API}/registrations/{rid}").json()["status"])


def fresh_record(client: TestClient, headers: dict[str, str]) -> str:
    body = {"kind": "resource", "owner": 1, "contentHash": hx(secrets.token_bytes(32))}
    r = client.post(f"{API}/registrations", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["record"]["id"])


# ---------------------------------------------------------------------- over HTTP, as an attacker replays


def test_every_re_encoding_of_a_captured_signed_request_is_refused(served: Served) -> None:
    c = served.client
    rid = fresh_record(c, served.auth("registrar"))
    key = sde_key(served.data_dir)
    path = f"{API}/registrations/{rid}/status"
    raw = json.dumps({"status": "suspended", "reason": "captured"}).encode()
    captured = sign_request(key, served.runtime.chain_id, served.runtime.registry, "POST", path, raw)
    sig = bytes.fromhex(captured["X-Provenance-Signature"][2:])
    forms = variants(sig)

    def send(signature: str) -> Any:
        headers = {**captured, "X-Provenance-Signature": signature, "Content-Type": "application/json"}
        return c.post(path, content=raw, headers=headers)

    # Sent before the original, each would be a first use if the guard went by the bytes: refused by their form.
    for name, (text, reason) in forms.items():
        r = send(text)
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert reason in r.json()["detail"], (name, r.json()["detail"])
    assert status_of(c, rid) == "active"  # none of them acted

    assert send(captured["X-Provenance-Signature"]).status_code == 200
    assert status_of(c, rid) == "suspended"
    again = send(captured["X-Provenance-Signature"])
    assert again.status_code == 401 and "replay" in again.json()["detail"]

    # The owner re-activates the record; the captured suspension must not come back in any spelling.
    r = c.post(path, json={"status": "active", "reason": "cleared"}, headers=served.auth("registrar"))
    assert r.status_code == 200, r.text
    for name, (text, reason) in forms.items():
        r = send(text)
        assert r.status_code == 401 and reason in r.json()["detail"], (name, r.text)
    ts = int(captured["X-Provenance-Timestamp"])
    digest = bytes(defunct_hash_message(
        primitive=signed_request_message(served.runtime.chain_id, served.runtime.registry, "POST", path, raw, ts)))
    other = resign(digest, key)
    assert other != sig
    assert Account._recover_hash(digest, signature=other) == captured["X-Provenance-Key"]  # valid, canonical
    r = send(hx(other))
    assert r.status_code == 401 and "replay" in r.json()["detail"], r.text
    assert status_of(c, rid) == "active"


def test_signatures_by_unknown_keys_leave_no_entry_in_the_guard(served: Served) -> None:
    """Only a key of a member (or supervisor) can add entries: a flood by fresh keys fills nothing."""
    before = len(served.runtime.replay)
    path = f"{API}/snapshots"
    raw = b'{"anchor": false}'
    for _ in range(5):
        headers = sign_request(bytes(Account.create().key), served.runtime.chain_id, served.runtime.registry,
                               "POST", path, raw)
        r = served.client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 401 and "not a valid key" in r.json()["detail"], r.text
    assert len(served.runtime.replay) == before


@pytest.fixture
def own_node(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[tuple[Path, str]]:
    src, _ = demo_dir
    data = tmp_path / "data"
    shutil.copytree(src, data)
    yield data, TokenStore(data).create("registrar", "desk")


def _app(data: Path) -> Any:
    return create_app(ApiSettings(data_dir=data, passphrase=passphrase(data.parent), rate_per_second=0, docs=False,
                                  web=False))


def test_a_replay_is_refused_after_the_node_restarts(own_node: tuple[Path, str]) -> None:
    data, token = own_node
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(_app(data), raise_server_exceptions=False) as c:
        rid = fresh_record(c, auth)
        path = f"{API}/registrations/{rid}/status"
        raw = json.dumps({"status": "suspended", "reason": "before the restart"}).encode()
        rt = c.app.state.runtime  # type: ignore[attr-defined]
        captured = sign_request(sde_key(data), rt.chain_id, rt.registry, "POST", path, raw)
        headers = {**captured, "Content-Type": "application/json"}
        assert c.post(path, content=raw, headers=headers).status_code == 200
        r = c.post(path, json={"status": "active", "reason": "cleared"}, headers=auth)
        assert r.status_code == 200, r.text
    assert (data / FILE_NAME).stat().st_size == len(MAGIC) + RECORD.size  # one request, on disk before its answer
    with TestClient(_app(data), raise_server_exceptions=False) as c:
        r = c.post(path, content=raw, headers=headers)
        assert r.status_code == 401 and "replay" in r.json()["detail"], r.text
        assert status_of(c, rid) == "active"


def test_a_replay_is_refused_by_a_restarted_server_process(own_node: tuple[Path, str]) -> None:
    data, token = own_node
    passphrase(data.parent)
    dep = NodeConfig.load(data).deployment
    assert dep is not None
    auth = {"Authorization": f"Bearer {token}"}
    with node_process(data, data.parent / "passphrase.txt") as url:
        rid = fresh_record_at(url, auth)
        path = f"{API}/registrations/{rid}/status"
        raw = json.dumps({"status": "suspended", "reason": "before the restart"}).encode()
        headers = {**sign_request(sde_key(data), dep.chain_id, dep.registry, "POST", path, raw),
                   "Content-Type": "application/json"}
        assert httpx.post(url + path, content=raw, headers=headers, timeout=30).status_code == 200
        r = httpx.post(url + path, json={"status": "active", "reason": "cleared"}, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
    with node_process(data, data.parent / "passphrase.txt") as url:
        r = httpx.post(url + path, content=raw, headers=headers, timeout=30)
        assert r.status_code == 401 and "replay" in r.json()["detail"], r.text
        assert httpx.get(f"{url}{API}/registrations/{rid}", timeout=30).json()["status"] == "active"


def test_at_its_bound_the_guard_refuses_with_a_problem_to_retry(own_node: tuple[Path, str]) -> None:
    data, _ = own_node
    with TestClient(_app(data), raise_server_exceptions=False) as c:
        rt = c.app.state.runtime  # type: ignore[attr-defined]
        rt.replay = ReplayGuard(data, capacity=2, per_signer=1)  # room for one request per key
        key, path, raw, now = sde_key(data), f"{API}/snapshots", b'{"anchor": false}', int(time.time())

        def post(ts: int) -> Any:
            headers = sign_request(key, rt.chain_id, rt.registry, "POST", path, raw, timestamp=ts)
            return c.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})

        first = post(now)
        assert first.status_code // 100 == 2, first.text
        r = post(now - 1)  # another request (another time), by the same key
        assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert r.json()["type"].endswith(":rate-limited") and r.headers["retry-after"] == "60"
        assert "the most one key may have" in r.json()["detail"]
        assert len(rt.replay) == 1


def fresh_record_at(url: str, headers: dict[str, str]) -> str:
    body = {"kind": "resource", "owner": 1, "contentHash": hx(secrets.token_bytes(32))}
    r = httpx.post(f"{url}{API}/registrations", json=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["record"]["id"])


# ---------------------------------------------------------------------- the guard itself


def _signed(key: bytes, ts: int, body: bytes = b"{}") -> dict[str, str]:
    h = sign_request(key, CHAIN, REGISTRY, "POST", "/x", body, timestamp=ts)
    return {k.lower(): v for k, v in h.items()}


def _check(headers: dict[str, str], guard: ReplayGuard, now: float, body: bytes = b"{}") -> bytes:
    return recover_request_signer(headers, CHAIN, REGISTRY, "POST", "/x", body, now, guard)


def test_the_digest_is_eip191_and_the_node_signs_canonically() -> None:
    msg = signed_request_message(CHAIN, REGISTRY, "POST", "/x", b"{}", 1_700_000_000)
    assert request_digest(msg) == bytes(defunct_hash_message(primitive=msg))  # eth-account, independently
    key = secrets.token_bytes(32)
    for _ in range(20):
        sig = bytes.fromhex(sign_request(key, CHAIN, REGISTRY, "GET", "/", b"")["X-Provenance-Signature"][2:])
        assert len(sig) == 65 and sig[64] in (27, 28) and int.from_bytes(sig[32:64], "big") <= N // 2


@pytest.mark.parametrize("field,value,reason", [
    ("x-provenance-timestamp", " {ts}", "decimal digits"),
    ("x-provenance-timestamp", "+{ts}", "decimal digits"),
    ("x-provenance-timestamp", "0{ts}", "decimal digits"),
    ("x-provenance-timestamp", "{ts}.0", "decimal digits"),
    ("x-provenance-key", "0x1234", "20 bytes"),
    ("x-provenance-key", "0xzz", "hex"),
])
def test_headers_are_read_in_one_spelling(tmp_path: Path, field: str, value: str, reason: str) -> None:
    now = int(time.time())
    headers = {**_signed(secrets.token_bytes(32), now), field: value.format(ts=now)}
    with pytest.raises(AuthError) as err:
        _check(headers, ReplayGuard(tmp_path, now=now), now)
    assert err.value.status == 401 and reason in err.value.detail


def test_every_encoding_is_refused_before_and_after_the_original(tmp_path: Path) -> None:
    now = int(time.time())
    key = secrets.token_bytes(32)
    guard = ReplayGuard(tmp_path, now=now)
    headers = _signed(key, now)
    sig = bytes.fromhex(headers["x-provenance-signature"][2:])
    for when in ("before", "after"):
        for name, (text, reason) in variants(sig).items():
            with pytest.raises(AuthError) as err:
                _check({**headers, "x-provenance-signature": text}, guard, now)
            assert err.value.status == 401 and reason in err.value.detail, (when, name, err.value.detail)
        if when == "before":
            assert _check(headers, guard, now) == bytes.fromhex(Account.from_key(key).address[2:])
    with pytest.raises(AuthError, match="replay"):
        _check(headers, guard, now)
    assert len(guard) == 1


def test_the_same_message_by_another_key_is_another_request(tmp_path: Path) -> None:
    now = int(time.time())
    guard = ReplayGuard(tmp_path, now=now)
    a, b = _signed(secrets.token_bytes(32), now), _signed(secrets.token_bytes(32), now)
    _check(a, guard, now)
    _check(b, guard, now)
    assert len(guard) == 2


def test_entries_outlive_the_window_by_one_window_then_go(tmp_path: Path) -> None:
    now = 1_800_000_000
    guard = ReplayGuard(tmp_path, now=now)
    h = _signed(secrets.token_bytes(32), now)
    _check(h, guard, now)
    # Within the window the timestamp is accepted and the entry refuses the replay; a node clock stepped back
    # after the window (up to one window) finds the entry still there.
    with pytest.raises(AuthError, match="replay"):
        _check(h, guard, now + 300)
    guard.admit(b"\x01" * 20, b"\x02" * 32, now, now + 599)
    assert len(guard) == 2
    with pytest.raises(AuthError, match="replay"):
        guard.admit(bytes.fromhex(h["x-provenance-key"][2:]), request_digest(
            signed_request_message(CHAIN, REGISTRY, "POST", "/x", b"{}", now)), now, now + 599)
    guard.admit(b"\x03" * 20, b"\x04" * 32, now + 600, now + 600)  # the first two expire at now + 600
    assert len(guard) == 1


def test_a_restarted_guard_refuses_what_it_admitted_and_compacts_what_expired(tmp_path: Path) -> None:
    now = 1_800_000_000
    guard = ReplayGuard(tmp_path, now=now)
    old = _signed(secrets.token_bytes(32), now - 300)
    fresh = _signed(secrets.token_bytes(32), now)
    _check(old, guard, now)
    _check(fresh, guard, now)
    assert (tmp_path / FILE_NAME).stat().st_size == len(MAGIC) + 2 * RECORD.size
    later = now + 400  # old's entry expired at now + 300, fresh's lives to now + 600
    again = ReplayGuard(tmp_path, now=later)
    assert len(again) == 1
    assert (tmp_path / FILE_NAME).stat().st_size == len(MAGIC) + RECORD.size
    with pytest.raises(AuthError, match="replay"):
        again.admit(bytes.fromhex(fresh["x-provenance-key"][2:]), request_digest(
            signed_request_message(CHAIN, REGISTRY, "POST", "/x", b"{}", now)), now, later)


def test_a_torn_last_record_is_dropped_and_damage_elsewhere_is_refused(tmp_path: Path) -> None:
    now = 1_800_000_000
    guard = ReplayGuard(tmp_path, now=now)
    for i in range(3):
        guard.admit(bytes([i]) * 20, bytes([i]) * 32, now, now)
    path = tmp_path / FILE_NAME
    whole = path.read_bytes()
    path.write_bytes(whole + whole[-RECORD.size:-10])  # an append cut short by a crash
    assert len(ReplayGuard(tmp_path, now=now)) == 3
    path.write_bytes(whole[:-1] + bytes([whole[-1] ^ 1]))  # the last record's checksum wrong: torn, dropped
    assert len(ReplayGuard(tmp_path, now=now)) == 2
    damaged = bytearray(whole)
    damaged[len(MAGIC) + 5] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(StoreError, match="damaged at byte 8"):
        ReplayGuard(tmp_path, now=now)
    path.write_bytes(b"NOTMINE!" + whole[8:])
    with pytest.raises(StoreError, match="not a replay-guard file"):
        ReplayGuard(tmp_path, now=now)


def test_at_the_bounds_new_requests_are_refused_and_nothing_is_forgotten(tmp_path: Path) -> None:
    now = 1_800_000_000
    guard = ReplayGuard(tmp_path, now=now, capacity=4, per_signer=2)
    a, b, c = b"\xaa" * 20, b"\xbb" * 20, b"\xcc" * 20
    guard.admit(a, b"\x01" * 32, now, now)
    guard.admit(a, b"\x02" * 32, now, now)
    with pytest.raises(AuthError) as err:
        guard.admit(a, b"\x03" * 32, now, now)
    assert err.value.status == 429 and "the most one key may have" in err.value.detail
    guard.admit(b, b"\x01" * 32, now, now)
    guard.admit(c, b"\x01" * 32, now, now)
    with pytest.raises(AuthError) as err:
        guard.admit(b, b"\x02" * 32, now, now)
    assert err.value.status == 503 and "its limit" in err.value.detail
    with pytest.raises(AuthError, match="replay"):  # still remembered: the bound refuses, it does not evict
        guard.admit(a, b"\x01" * 32, now, now)
    assert len(ReplayGuard(tmp_path, now=now, capacity=4, per_signer=2)) == 4
    guard.admit(b, b"\x02" * 32, now + 1, now + 600)  # the first four expired
    assert len(guard) == 1


def test_the_file_stays_bounded_under_a_flood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_store, "COMPACT_MIN", 64)  # compact as often as a large guard would, proportionally
    guard = ReplayGuard(tmp_path, now=0, capacity=200, per_signer=200)
    signer, refused, largest = b"\x07" * 20, 0, 0
    for i in range(3000):
        now = i // 2  # two requests a second, each living 600 s: about 1,200 would be live, capped at 200
        try:
            guard.admit(signer, i.to_bytes(32, "big"), now, now)
        except AuthError as exc:
            assert exc.status == 503  # the one key holds all of the capacity here
            refused += 1
        assert len(guard) <= 200
        largest = max(largest, (tmp_path / FILE_NAME).stat().st_size)
    assert refused > 0 and largest <= len(MAGIC) + (2 * 200 + 1) * RECORD.size
    assert len(ReplayGuard(tmp_path, now=1499, capacity=200, per_signer=200)) == len(guard)  # all it held


def test_concurrent_uses_of_one_request_admit_exactly_one(tmp_path: Path) -> None:
    now = int(time.time())
    guard = ReplayGuard(tmp_path, now=now)
    headers = _signed(secrets.token_bytes(32), now)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        try:
            _check(headers, guard, now)
            outcomes.append("accepted")
        except AuthError as exc:
            outcomes.append(exc.detail)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("accepted") == 1 and len(outcomes) == 8
    assert all("replay" in o for o in outcomes if o != "accepted")


def test_a_failed_write_refuses_the_request_and_every_later_one(tmp_path: Path) -> None:
    now = 1_800_000_000
    guard = ReplayGuard(tmp_path, now=now)
    seen = guard._seen
    assert seen._fd is not None
    os.close(seen._fd)  # the disk goes away under the guard
    with pytest.raises(StoreError, match="cannot record"):
        guard.admit(b"\x01" * 20, b"\x01" * 32, now, now)
    with pytest.raises(StoreError, match="restart the node"):
        guard.admit(b"\x02" * 20, b"\x02" * 32, now, now)
    assert len(guard) == 0  # a request that was not recorded was not accepted either
    seen._closer.detach()  # type: ignore[union-attr]  # its descriptor is already closed


def test_a_closed_guard_admits_nothing(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path, now=0)
    guard.close()
    with pytest.raises(StoreError, match="closed"):
        guard.admit(b"\x01" * 20, b"\x01" * 32, 0, 0)


def test_a_signed_head_request_is_checked_against_head(served: Served) -> None:
    """The routes serve HEAD as GET, but the signature binds the method as it was sent: a HEAD signed as HEAD
    passes, and one signed as GET (or a GET signed as HEAD) is someone else's message."""
    path = f"{API}/certificates"
    rt, key = served.runtime, sde_key(served.data_dir)
    assert served.client.head(path, headers=sign_request(key, rt.chain_id, rt.registry, "HEAD", path, b"")
                              ).status_code == 200
    for sent, signed in (("HEAD", "GET"), ("GET", "HEAD")):
        headers = sign_request(key, rt.chain_id, rt.registry, signed, path, b"")
        r = served.client.request(sent, path, headers=headers)
        assert r.status_code == 401, (sent, signed, r.text)
        if sent == "GET":
            assert "not made by X-Provenance-Key over this request" in r.json()["detail"]
