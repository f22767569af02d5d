"""The HTTP API: who may call what, what a caller sees, and how bad input is refused (RFC 9457 problems)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_account import Account

from provenance.api.auth import sign_request
from provenance.core import eip712
from provenance.services.requests import request_from_json
from provenance.types import Address
from tests.support.passphrase import passphrase
from tests.support.served import Served

API = "/api/v1"
# POST routes that change nothing (they compute an answer), so anyone may call them.
PUBLIC_POSTS = {f"{API}/registrations/typed-data", f"{API}/certificates/verify", f"{API}/certificates/verify-offline",
                f"{API}/flows/reports/verify", f"{API}/certificates/verify-jwt",
                # C2SP: a witness takes checkpoints from anyone (tlog-witness), and a note key binding is a statement
                # signed by the exchange's key, checked against the chain: the signature is the credential.
                f"{API}/tlog/add-checkpoint", f"{API}/tlog/bindings"}
# Writes a partner's member credential may make: drawing a spot check's sample (no input; the chain fixes the
# outcome) and handing the exporter's answers to a supervisor's node.
MEMBER_WRITES = {f"{API}/flows/spot-checks/{{check_id}}/draw", f"{API}/flows/spot-checks/{{check_id}}/answers"}
# POSTs that read for members and merchants (a consent's typed data, the terms in the body): any credential passes.
CREDENTIAL_READS = {f"{API}/registrations/{{record}}/consent-typed-data"}
PROBLEM = "application/problem+json"


def write_routes(served: Served) -> list[str]:
    doc = served.client.get("/openapi.json").json()
    return sorted(p for p, ops in doc["paths"].items() if "post" in ops and p not in PUBLIC_POSTS)


def body_for(path: str, served: Served) -> dict[str, Any]:
    rid = served.record("port-vessel-traffic")
    bodies = {
        f"{API}/registrations": {"kind": "resource", "owner": 1, "contentHash": "0x" + "31" * 32},
        f"{API}/registrations/batch": {"records": [{"kind": "resource", "owner": 1, "contentHash": "0x" + "32" * 32}]},
        f"{API}/registrations/{{record}}/status": {"status": "suspended"},
        f"{API}/certificates": {"record": rid},
        f"{API}/certificates/recognize": {"certificate": {"x": 1}},
        f"{API}/entities": {"identifier": "91310000MAAUTHZ01", "account": "0x" + "11" * 20},
        f"{API}/snapshots": {"anchor": False},
        f"{API}/supervisors": {"code": "NEWSUP", "name": "New supervisor", "key": "0x" + "13" * 20},
        f"{API}/flows/applications": {"recordId": rid, "exporter": 1, "receiver": 3, "destination": "SG",
                                      "category": "MARITIME.AIS", "purpose": "authz"},
        f"{API}/flows/applications/{{app_id}}/signed-approval": {"deadline": 2**40, "signature": "0x" + "11" * 65},
        f"{API}/flows/applications/{{app_id}}/rejection": {"reason": "authz"},
        f"{API}/flows/applications/{{app_id}}/revocation": {"reason": "authz"},
        f"{API}/flows/deliveries": {"deliveries": [{"application": 1, "manifestHash": "0x" + "d4" * 32, "size": 1}]},
        f"{API}/flows/spot-checks": {"exporter": 1, "sampleSize": 2},
        f"{API}/flows/spot-checks/{{check_id}}/answers": {"answers": {"1": {"files": []}}},
    }
    return bodies.get(path, {})


def concrete(path: str, served: Served) -> str:
    return (path.replace("{record}", served.record("port-vessel-traffic")).replace("{entity}", "2")
            .replace("{app_id}", "2").replace("{check_id}", "1"))


def signed_headers(served: Served, key: bytes, method: str, target: str, body: bytes) -> dict[str, str]:
    return sign_request(key, served.runtime.chain_id, served.runtime.registry, method, target, body)


def partner_key(served: Served) -> bytes:
    from provenance.store.keystore import Keystore

    ks = Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent))
    return bytes(ks.load("ZJDE").key)


def test_every_write_is_refused_without_credentials_or_with_the_wrong_ones(served: Served) -> None:
    routes = write_routes(served)
    assert len(routes) >= 10, routes
    zjde = partner_key(served)
    before = served.client.get(f"{API}/federation").json()["counts"]
    for route in routes:
        path, body = concrete(route, served), body_for(route, served)
        raw = json.dumps(body).encode()
        cases = {
            "none": ({}, 401),
            "unknown token": ({"Authorization": "Bearer pvt_not-a-token"}, 401),
            "not bearer": ({"Authorization": "Basic abc"}, 401),
            "member token": (served.auth("member"), 403),
            "merchant token": (served.auth("merchant"), 403),
            "another exchange's key": (signed_headers(served, zjde, "POST", path, raw), 403),
            "an unregistered key": (signed_headers(served, bytes(Account.create().key), "POST", path, raw), 401),
        }
        if route in MEMBER_WRITES:
            del cases["member token"], cases["another exchange's key"]
        if route in CREDENTIAL_READS:
            del cases["member token"], cases["merchant token"], cases["another exchange's key"]
        for name, (headers, want) in cases.items():
            r = served.client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})
            assert r.status_code == want, (route, name, r.status_code, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["status"] == want and r.json()["detail"]
    assert served.client.get(f"{API}/federation").json()["counts"] == before  # nothing was written


def test_registrar_and_own_key_may_write_and_replays_are_refused(served: Served) -> None:
    c = served.client
    r = c.post(f"{API}/registrations", json={"kind": "resource", "owner": 1, "contentHash": "0x" + "41" * 32},
               headers=served.auth("registrar"))
    assert r.status_code == 201, r.text
    rec = r.json()["record"]
    assert rec["registrar"] == "SDE" and rec["status"] == "active"
    assert c.get(f"{API}/registrations/{rec['id']}").status_code == 200

    from provenance.store.keystore import Keystore

    sde = bytes(Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent)).load("SDE").key)
    path = f"{API}/registrations/{rec['id']}/status"
    raw = json.dumps({"status": "suspended", "reason": "audit"}).encode()
    headers = {**signed_headers(served, sde, "POST", path, raw), "Content-Type": "application/json"}
    assert c.post(path, content=raw, headers=headers).status_code == 200
    assert c.get(f"{API}/registrations/{rec['id']}").json()["status"] == "suspended"
    again = c.post(path, content=raw, headers=headers)
    assert again.status_code == 401 and "replay" in again.json()["detail"]
    # The signature covers the body: the same headers over another body do not verify.
    other = json.dumps({"status": "revoked"}).encode()
    headers = {**signed_headers(served, sde, "POST", path, raw), "Content-Type": "application/json"}
    r = c.post(path, content=other, headers=headers)
    assert r.status_code == 401 and "not made by" in r.json()["detail"]
    # ... and the time: an old signature is refused.
    stale = sign_request(sde, served.runtime.chain_id, served.runtime.registry, "POST", path, raw,
                         timestamp=int(time.time()) - 3600)
    r = c.post(path, content=raw, headers={**stale, "Content-Type": "application/json"})
    assert r.status_code == 401 and "clock" in r.json()["detail"]


def test_contract_refusals_name_the_rule(served: Served) -> None:
    c = served.client
    body = {"kind": "product", "grade": "core", "owner": 1, "contentHash": "0x" + "42" * 32}
    r = c.post(f"{API}/registrations", json=body, headers=served.auth("registrar"))
    assert r.status_code == 422 and r.json()["rule"] == "CoreNotListable", r.text
    body = {"kind": "resource", "owner": 1, "contentHash": "0x" + "43" * 32}
    assert c.post(f"{API}/registrations", json=body, headers=served.auth("registrar")).status_code == 201
    r = c.post(f"{API}/registrations", json=body, headers=served.auth("registrar"))
    assert r.status_code == 409 and r.json()["rule"] == "AlreadyRegistered"
    # Another exchange's record: the registrar rule, as 403.
    r = c.post(f"{API}/registrations/{served.record('logistics-waybills')}/status", json={"status": "revoked"},
               headers=served.auth("admin"))
    assert r.status_code == 403 and r.json()["rule"] == "NotRegistrar"
    r = c.post(f"{API}/registrations", json={**body, "contentHash": "0x" + "44" * 32, "owner": 999},
               headers=served.auth("registrar"))
    assert r.status_code in (403, 422) and r.json()["rule"] in ("NoMandate", "UnknownEntity")


def test_group_commit_keeps_each_request_its_own_outcome(served: Served) -> None:
    """Good and bad registrations submitted together: the good ones land once, each bad one gets its error."""
    from concurrent.futures import ThreadPoolExecutor

    from provenance.errors import ContractReverted

    writer = served.runtime.writer
    good = [request_from_json({"kind": "resource", "owner": 1, "contentHash": "0x" + f"{0x5100 + i:064x}"})
            for i in range(12)]
    bad = request_from_json({"kind": "product", "grade": "core", "owner": 1, "contentHash": "0x" + "52" * 32})
    with ThreadPoolExecutor(8) as pool:
        futures = list(pool.map(writer.submit, [*good[:6], bad, *good[6:], good[0]]))
    results = []
    for f in futures:
        try:
            results.append(f.result(timeout=60))
        except ContractReverted as exc:
            results.append(exc.error)
    assert results[6] == "CoreNotListable"
    assert results[-1] == "AlreadyRegistered" or results[0] == "AlreadyRegistered"
    ids = [r["id"] for r in results if isinstance(r, dict)]
    assert len(ids) == len(set(ids)) == 12
    for rid in ids:
        assert served.client.get(f"{API}/registrations/{rid}").status_code == 200


def test_owner_signature_registers_on_the_owners_consent(served: Served) -> None:
    from provenance.store.keystore import Keystore

    c = served.client
    ks = Keystore(served.data_dir / "keystore", passphrase(served.data_dir.parent))
    owner = served.demo["entities"]["m-lingang"]
    req = {"kind": "product", "owner": owner, "contentHash": "0x" + "61" * 32,
           "parents": [served.record("port-vessel-traffic")]}
    td = c.post(f"{API}/registrations/typed-data", json=req)
    assert td.status_code == 200, td.text
    t = td.json()
    request = request_from_json(req)
    digest = eip712.registration_digest(t["chainId"], Address(bytes.fromhex(t["verifyingContract"][2:])),
                                        t["registrar"], request, t["nonce"], t["deadline"])
    assert "0x" + digest.hex() == t["digest"]
    good = eip712.sign_digest(digest, bytes(ks.load("m-lingang").key))
    forged = eip712.sign_digest(digest, bytes(ks.load("m-hefei").key))
    sig = {"nonce": t["nonce"], "deadline": t["deadline"]}
    r = c.post(f"{API}/registrations", json={**req, "ownerSignature": {**sig, "signature": "0x" + forged.hex()}},
               headers=served.auth("registrar"))
    assert r.status_code == 422 and r.json()["rule"] == "WrongSigner", r.text
    r = c.post(f"{API}/registrations", json={**req, "ownerSignature": {**sig, "signature": "0x" + good.hex()}},
               headers=served.auth("registrar"))
    assert r.status_code == 201 and r.json()["record"]["delegated"] is True, r.text


def test_important_and_core_records_are_redacted_without_a_member_credential(served: Served) -> None:
    c = served.client
    waybills = served.record("logistics-waybills")  # important grade, owned by m-hangzhou
    credit = served.record("personal-credit-files")  # core grade, owned by m-lingang
    anon = c.get(f"{API}/registrations/{waybills}").json()
    assert anon["redacted"] is True and "content_hash" not in anon and "owner" not in anon
    assert c.get(f"{API}/registrations/{waybills}", headers=served.auth("member")).json()["owner"] == 2
    # A merchant sees its own records in full, not others'.
    assert "owner" in c.get(f"{API}/registrations/{credit}", headers=served.auth("merchant")).json()
    assert c.get(f"{API}/registrations/{waybills}", headers=served.auth("merchant")).json()["redacted"] is True
    found = c.get(f"{API}/registrations", params={"grade": "core"}).json()["results"]
    assert found and all(r["redacted"] for r in found)
    asset = served.record("logistics-index-asset")
    nodes = c.get(f"{API}/registrations/{asset}/ancestors").json()["nodes"]
    assert {n["id"] for n in nodes if n.get("redacted")} >= {waybills, asset}
    assert c.get(f"{API}/registrations/{asset}/lineage/prov").status_code == 401
    assert c.get(f"{API}/registrations/{asset}/lineage/prov", headers=served.auth("member")).status_code == 200
    general = served.record("port-vessel-traffic")
    assert "owner" in c.get(f"{API}/registrations/{general}").json()


MALFORMED_IDS = ["0x12", "12" * 32, "0x" + "zz" * 32, "0x" + "ab" * 33, "0X" + "ab" * 32, " 0x" + "ab" * 32, "null"]


@pytest.mark.parametrize("bad", MALFORMED_IDS)
def test_malformed_ids_are_refused_the_same_way_everywhere(served: Served, bad: str) -> None:
    c = served.client
    good = served.record("port-vessel-traffic")
    gets = [f"{API}/registrations/{{}}", f"{API}/registrations/{{}}/ancestors", f"{API}/registrations/{{}}/descendants",
            f"{API}/registrations/{{}}/impact", f"{API}/registrations/{{}}/proof",
            f"{API}/registrations/{{}}/lineage/prov", f"{API}/registrations/{good}/path/{{}}",
            f"{API}/certificates/{{}}", f"{API}/certificates/{{}}/recognitions"]
    for template in gets:
        r = c.get(template.replace("{}", bad))
        assert r.status_code == 422, (template, r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["field"].startswith("path.")
    r = c.get(f"{API}/registrations", params={"content_hash": bad})
    assert r.status_code == 422 and r.json()["field"] == "query.content_hash"
    r = c.post(f"{API}/registrations", json={"kind": "resource", "owner": 1, "contentHash": bad},
               headers=served.auth("registrar"))
    assert r.status_code == 422 and r.json()["field"] == "body.contentHash"
    r = c.post(f"{API}/certificates", json={"record": bad}, headers=served.auth("registrar"))
    assert r.status_code == 422 and r.json()["field"] == "body.record"


def test_problem_documents_for_bad_requests(served: Served) -> None:
    c = served.client
    r = c.post(f"{API}/registrations", content=b"{not json", headers={**served.auth("registrar"),
                                                                      "Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    r = c.post(f"{API}/registrations", json={"kind": "resource", "owner": 1, "contentHash": "0x" + "71" * 32,
                                             "colour": "red"}, headers=served.auth("registrar"))
    assert r.status_code == 422 and r.json()["field"] == "body.colour"
    r = c.get(f"{API}/registrations/{'0x' + '72' * 32}")
    assert r.status_code == 404 and r.json()["type"].endswith("not-found")
    r = c.get(f"{API}/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    r = c.delete(f"{API}/registrations")
    assert r.status_code == 405 and r.headers["content-type"].startswith(PROBLEM)
    r = c.get(f"{API}/registrations", params={"limit": 0})
    assert r.status_code == 422 and r.json()["field"] == "query.limit"
    r = c.get(f"{API}/exchanges/NOPE")
    assert r.status_code == 404 and "NOPE" in r.json()["detail"]
    r = c.post(f"{API}/certificates/verify", json={"hello": "world"})
    assert r.status_code == 200 and r.json()["valid"] is False


def test_body_limit_and_rate_limit(demo_dir: Any, tmp_path: Any) -> None:
    import shutil

    from tests.support.served import serve

    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    gen = serve(tmp_path / "data", demo, max_body_bytes=1000, rate_per_second=5, rate_burst=10)
    served = next(gen)
    try:
        c = served.client
        big = {"kind": "resource", "owner": 1, "contentHash": "0x" + "81" * 32, "pad": "x" * 2000}
        r = c.post(f"{API}/registrations", json=big, headers=served.auth("registrar"))
        assert r.status_code == 413 and r.json()["limit"] == 1000
        # Chunked, with no Content-Length: counted as it arrives.
        r = c.post(f"{API}/certificates/verify", content=iter([b"{" + b" " * 600, b" " * 600 + b"}"]),
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        codes = [c.get("/health").status_code for _ in range(30)]
        assert codes.count(429) >= 15 and codes[:5] == [200] * 5
        r = c.get("/health")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        # A known token is its own client: not throttled by the anonymous flood.
        assert c.get("/health", headers=served.auth("member")).status_code == 200
        # An invented token buys no fresh bucket.
        assert c.get("/health", headers={"Authorization": "Bearer pvt_made-up"}).status_code == 429
    finally:
        gen.close()


def test_no_stack_trace_reaches_a_client(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(served.runtime.ops, "impact", boom)
    r = served.client.get(f"{API}/registrations/{served.record('port-vessel-traffic')}/impact")
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    assert "secret" not in r.text and "Traceback" not in r.text and r.json()["incident"]


def test_health_metrics_and_certificates_round_trip(served: Served) -> None:
    c = served.client
    assert c.get("/health").json()["index"]["lag"] == 0
    asset = served.record("logistics-index-asset")  # registered by AHDE: this SDE node does not certify it
    r = c.post(f"{API}/certificates", json={"record": asset}, headers=served.auth("registrar"))
    assert r.status_code == 422 and "only its registrar" in r.json()["detail"]
    rid = served.record("port-vessel-traffic")
    r = c.post(f"{API}/certificates", json={"record": rid, "days": 30}, headers=served.auth("registrar"))
    assert r.status_code == 201, r.text
    cert = r.json()
    report = c.post(f"{API}/certificates/verify", json=cert).json()
    assert report["valid"] is True and {ch["name"] for ch in report["checks"]} >= {"signature", "inclusion"}
    listed = c.get(f"{API}/certificates").json()
    h = report["credentialHash"]
    assert any(x["credentialHash"] == h for x in listed)
    dl = c.get(f"{API}/certificates/{h}")
    assert dl.status_code == 200 and "attachment" in dl.headers["content-disposition"] and dl.json() == cert
    tampered = json.loads(json.dumps(cert))
    tampered["credentialSubject"]["record"]["grade"] = "core"
    bad = c.post(f"{API}/certificates/verify", json=tampered).json()
    assert bad["valid"] is False and any(not ch["ok"] for ch in bad["checks"])
    snap = c.post(f"{API}/snapshots", json={"anchor": False}, headers=served.auth("admin"))
    assert snap.status_code == 201
    off = c.post(f"{API}/certificates/verify-offline", json={"certificate": cert, "snapshot": snap.json()})
    assert off.status_code == 200 and off.json()["valid"] is True and off.json()["mode"] == "offline"
    text = c.get("/metrics").text
    assert 'provenance_http_requests_total{method="POST",route="/api/v1/certificates",status="201"}' in text
    assert "provenance_index_lag_blocks 0.0" in text and "provenance_registration_queue" in text
    assert 'route="/api/v1/registrations/{record}"' in text or "registrations/{record}" in text


def test_entities_show_recognitions_and_mandates(served: Served) -> None:
    lingang = served.demo["entities"]["m-lingang"]
    doc = served.client.get(f"{API}/entities/{lingang}").json()
    assert doc["recognizedBy"] == ["ZJDE"] and doc["mandates"] == ["SDE"]
    hefei = served.client.get(f"{API}/entities/{served.demo['entities']['m-hefei']}").json()
    assert hefei["recognizedBy"] == [] and hefei["mandates"] == ["AHDE"]
    code = served.demo["merchants"]["m-lingang"]["creditCode"]
    assert served.client.get(f"{API}/entities", params={"identifier": code}).json()["id"] == lingang
    assert served.client.get(f"{API}/entities", params={"identifier": "NOPE"}).status_code == 404


def test_cursors_past_the_last_possible_record_give_an_empty_page(served: Served) -> None:
    """Found by the fuzzer: a cursor beyond what the key layout can hold overflowed into a server error."""
    for params in ({"after": 2**40}, {"after": 2**40 - 1, "status": "superseded"}, {"after": 2**32, "kind": "asset"}):
        r = served.client.get(f"{API}/registrations", params=params)
        assert r.status_code == 200 and r.json()["results"] == [], (params, r.text)
    assert served.client.get(f"{API}/registrations", params={"after": -2}).status_code == 422


def test_onboarding_over_http_carries_the_accounts_consent(served: Served) -> None:
    c, admin = served.client, served.auth("admin")
    account = Account.create()
    query = {"identifier": "91310000CONSENT01", "account": account.address, "role": "demander"}
    doc = c.get(f"{API}/entities/consent", params=query).json()
    typed = doc["typedData"]
    assert set(typed) == {"types", "primaryType", "domain", "message"} and typed["primaryType"] == "Onboarding"
    assert typed["message"]["registrar"] == 1 and typed["message"]["deadline"] == doc["deadline"]
    # The account signs in its wallet (eth-account's independent eth_signTypedData_v4 encoder here).
    signature = "0x" + bytes(Account.sign_typed_data(account.key, full_message=typed).signature).hex()
    body = {"identifier": query["identifier"], "account": account.address, "role": "demander"}
    # No consent for an account this node does not hold, half a consent, another account's signature: refused.
    missing = c.post(f"{API}/entities", json=body, headers=admin)
    assert missing.status_code == 422 and "consent" in missing.json()["detail"]
    half = c.post(f"{API}/entities", json={**body, "consent": signature}, headers=admin)
    assert half.status_code == 422
    other = "0x" + bytes(Account.sign_typed_data(Account.create().key, full_message=typed).signature).hex()
    forged = c.post(f"{API}/entities", json={**body, "consent": other, "deadline": doc["deadline"]}, headers=admin)
    assert forged.status_code in (403, 409, 422) and "WrongSigner" in forged.text
    made = c.post(f"{API}/entities", json={**body, "consent": signature, "deadline": doc["deadline"]}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["account"].lower() == account.address.lower() and made.json()["role"] == "demander"
