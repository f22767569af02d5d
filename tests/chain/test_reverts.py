"""One table for failures: every custom error of every contract has one kind, and the CLI exit code and the
HTTP status of each refusal come from that kind, so the same refusal reads the same over both interfaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from provenance.api import ApiSettings, create_app
from provenance.api.auth import TokenStore
from provenance.api.problems import error_response
from provenance.chain.reverts import CONTRACTS, KINDS, UNLISTED, abi_errors, exit_code, revert_kind
from provenance.cli import main
from provenance.errors import Conflict, ContractReverted, ErrorKind, Forbidden, InvalidInput, NotFound
from tests.support.passphrase import passphrase

ROOT = Path(__file__).resolve().parents[2]
# Written out here, not read from the table under test: which exit code goes with which HTTP status. 404 is
# "not found" (exit 4) everywhere; the other refusals are the README's family 8, "refused".
AGREE = {404: 4, 403: 8, 409: 8, 422: 8}


def _committed_errors() -> list[tuple[str, str]]:
    """(contract, error) for every custom error of the committed ABIs, read from the JSON files themselves."""
    out = []
    for contract in CONTRACTS:
        raw = json.loads((ROOT / "src/provenance/chain/artifacts" / f"{contract}.json").read_text("utf-8"))
        out += [(contract, e["name"]) for e in raw["abi"] if e["type"] == "error"]
    return sorted(out)


ERRORS = _committed_errors()


def test_every_abi_error_has_a_kind_and_the_table_names_no_other() -> None:
    declared = {name for _, name in ERRORS}
    assert len(ERRORS) > 100 and {c for c, _ in ERRORS} == set(CONTRACTS)
    assert sorted(declared - set(KINDS)) == [], "an ABI error has no kind in provenance.chain.reverts"
    assert sorted(set(KINDS) - declared) == [], "the table names an error no contract declares"
    assert set().union(*abi_errors().values()) == declared


@pytest.mark.parametrize(("contract", "error"), ERRORS)
def test_cli_exit_code_and_http_status_agree(contract: str, error: str) -> None:
    exc = ContractReverted(contract, error, {"id": 7}, b"")
    status = error_response(exc, "/api/v1/x").status_code
    code = exit_code(exc)
    assert AGREE[status] == code, f"{contract}.{error}: HTTP {status} but exit {code}"
    assert (status == 404) == (KINDS[error] is ErrorKind.NOT_FOUND)
    body = json.loads(error_response(exc, "/api/v1/x").body)
    assert body["rule"] == error and body["status"] == status


@pytest.mark.parametrize(("exc", "status", "code"), [
    (NotFound("no record"), 404, 4),
    (Forbidden("not yours"), 403, 8),
    (Conflict("not drawn yet"), 409, 8),
    (InvalidInput("not a hash"), 422, 2),
])
def test_the_nodes_own_refusals_read_as_the_contracts_do(exc: Exception, status: int, code: int) -> None:
    assert error_response(exc, "/x").status_code == status
    assert exit_code(exc) == code  # type: ignore[arg-type]
    assert json.loads(error_response(exc, "/x").body)["type"].endswith(exc.kind.value)  # type: ignore[attr-defined]


def test_an_error_from_a_newer_contract_is_a_refused_rule() -> None:
    assert revert_kind("SomethingNew") is UNLISTED is ErrorKind.RULE_VIOLATED
    exc = ContractReverted("Registry", "SomethingNew", {}, b"")
    assert (error_response(exc, "/x").status_code, exit_code(exc)) == (422, 8)


def test_set_status_on_an_unknown_record_is_not_found_over_both(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The mapping bug this table fixed: UnknownRecord from setStatus was a 404 over HTTP but exit 8."""
    data = tmp_path / "data"
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", passphrase(tmp_path).file.read_text())  # type: ignore[union-attr]
    monkeypatch.setenv("PROVENANCE_DATA_DIR", str(data))
    assert main(["--json", "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024"]) == 0
    capsys.readouterr()
    unknown = "0x" + "5a" * 32

    code = main(["--json", "status", unknown, "revoked"])
    err = json.loads(capsys.readouterr().err)
    assert err["revert"]["error"] == "UnknownRecord"

    token = TokenStore(data).create("registrar", "desk")
    app = create_app(ApiSettings(data_dir=data, passphrase=passphrase(tmp_path), rate_per_second=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post(f"/api/v1/registrations/{unknown}/status", json={"status": "revoked"},
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404 and r.json()["rule"] == "UnknownRecord", r.text
    assert code == AGREE[r.status_code] == 4
