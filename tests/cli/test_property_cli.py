"""``provenance property``: governance decisions, an assessment, a pledge whose pledgee signs here (``--sign``) or
in its own wallet (``property consent`` then ``--consent PARTY=FILE``), the encumbrance search, a dispute carried
through its ruling, and refusals with the exit codes of errors.OUTCOMES that write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from provenance.chain.reverts import revert_kind
from provenance.errors import OUTCOMES, ErrorKind
from provenance.services.node import Node
from provenance.store.keystore import PassphraseSource
from tests.support.cli import run

RECORD_HASH = "0x" + "5a" * 32


@pytest.fixture
def node(env: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A one-exchange node (threshold 1: decisions execute at once): an owner, a bank without a mandate, an
    accredited assessor and an appointed arbitrator, and one asset of the owner's with a term of a year."""
    assert run(capsys, "init", "--exchange", "SDE", "--name", "Shanghai Data Exchange", "--scrypt-n", "1024")[0] == 0
    ids: dict[str, Any] = {}
    for n, (label, role) in enumerate((("owner", "supplier"), ("bank", "financial-institution"),
                                       ("assessor", "assessment-institution"),
                                       ("arbiter", "arbitration-institution")), start=1):
        assert run(capsys, "key", "new", label)[0] == 0
        code, ent, err = run(capsys, "entity", "add", "--identifier", f"9131011500000000{n}X", "--account-key", label,
                             "--role", role)
        assert code == 0, err
        ids[label] = ent["id"]  # type: ignore[index]
        if label != "bank":
            assert run(capsys, "entity", "mandate", str(ids[label]), "--exchange", "SDE", "--key", label)[0] == 0
    for args in (("accredit-assessor", str(ids["assessor"])), ("appoint-arbitrator", str(ids["arbiter"])),
                 ("set-term", "asset", "--days", "365")):
        code, out, err = run(capsys, "property", "decide", *args)
        assert code == 0 and out["executed"], err  # type: ignore[index]
    code, reg, err = run(capsys, "register", "--kind", "asset", "--owner", str(ids["owner"]),
                         "--rights", "holding,operation", "--content-hash", RECORD_HASH)
    assert code == 0, err
    ids["record"] = reg["id"]  # type: ignore[index]
    return ids


PLEDGE = ("--amount", "1250000.00", "--currency", "CNY", "--until", "2029-12-31", "--reference", "SPDB-PL-42")


def refusal_code(rule: str) -> int:
    return OUTCOMES[revert_kind(rule)].exit_code


def test_assess_pledge_release_and_the_search(node: dict[str, Any], env: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rec, bank = node["record"], str(node["bank"])
    code, out, err = run(capsys, "property", "assess", rec, "--assessor", str(node["assessor"]), "--kind", "valuation",
                         "--amount", "3800000.00", "--currency", "CNY", "--method", "income",
                         "--valuation-date", "2026-11-30", "--report", "valuation report 117")
    assert code == 0, err
    assert out["assessments"][0]["amount"] == "3800000.00"  # type: ignore[index]
    # The bank gave this exchange no mandate: refused by name, nothing written.
    code, _, err = run(capsys, "property", "pledge", rec, "--pledgee", bank, *PLEDGE)
    assert code == refusal_code("NoConsent") == 8 and "NoConsent" in err
    assert run(capsys, "property", "encumbrances")[1] == {"items": [], "next": None}
    # This keystore holds the bank's account key: --sign has the node sign the bank's consent.
    code, out, err = run(capsys, "property", "pledge", rec, "--pledgee", bank, *PLEDGE, "--sign", "pledgee")
    assert code == 0, err
    assert out["pledge"]["amount"] == "1250000.00" and out["pledge"]["valuation"]["method"] == "income"  # type: ignore[index]
    code, found, _ = run(capsys, "property", "encumbrances", "--pledgee", bank)
    assert [i["record"] for i in found["items"]] == [rec]  # type: ignore[index]
    # The bank's own wallet: the typed data from `property consent`, signed with eth-account, given as a file.
    code, typed, err = run(capsys, "property", "consent", "release", rec, "pledgee")
    assert code == 0, err
    with Node.open(env, PassphraseSource()) as opened:
        key = opened.keystore.load("bank")
    sig = Account.sign_typed_data(key.key, full_message=typed["typedData"])  # type: ignore[index]
    consent = env.parent / "consent.json"
    consent.write_text(json.dumps({"deadline": typed["deadline"],  # type: ignore[index]
                                   "signature": "0x" + bytes(sig.signature).hex()}), "utf-8")
    code, out, err = run(capsys, "property", "release", rec, "--consent", f"pledgee={consent}")
    assert code == 0, err
    assert not out["pledged"] and out["pledges"][-1]["ended"] == "released"  # type: ignore[index]
    assert run(capsys, "property", "encumbrances")[1] == {"items": [], "next": None}


def test_withdraw_names_an_assessment_by_its_number_or_its_id(node: dict[str, Any],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    rec, assessor = node["record"], str(node["assessor"])
    ids = []
    for report in ("quality report 1", "quality report 2"):
        code, out, err = run(capsys, "property", "assess", rec, "--assessor", assessor, "--kind", "quality",
                             "--score", "8800", "--standard", "GB/T 36344-2018", "--report", report)
        assert code == 0, err
        ids.append(out["assessment"]["id"])  # type: ignore[index]
    assert [a["index"] for a in out["assessments"]] == [1, 2]  # type: ignore[index]
    code, typed, err = run(capsys, "property", "consent", "withdraw", rec, "assessor", "--assessment", "2")
    assert code == 0 and typed["entity"] == node["assessor"], err  # type: ignore[index]
    code, out, err = run(capsys, "property", "withdraw", rec, ids[1])
    assert code == 0 and out["assessment"] == {"index": 2, "id": ids[1]}, err  # type: ignore[index]
    code, out, err = run(capsys, "property", "withdraw", rec, "1")
    assert code == 0 and [a["withdrawn"] for a in out["assessments"]] == [True, True], err  # type: ignore[index]
    code, _, err = run(capsys, "property", "withdraw", rec, "3")
    assert code == OUTCOMES[ErrorKind.NOT_FOUND].exit_code and "no assessment 3" in err
    code, _, err = run(capsys, "property", "withdraw", rec, "first")
    assert code == OUTCOMES[ErrorKind.INVALID_INPUT].exit_code and "number in the record" in err


def test_dispute_through_its_ruling(node: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    rec = node["record"]
    code, out, err = run(capsys, "property", "dispute", rec, "--claimant", str(node["assessor"]), "--claim", "claim 7")
    assert code == 0 and out["disputed"], err  # type: ignore[index]
    code, _, err = run(capsys, "property", "transfer", rec, "--to", str(node["assessor"]))
    assert code == refusal_code("UnderDispute") and "UnderDispute" in err
    code, out, err = run(capsys, "property", "rule", rec, "--arbitrator", str(node["arbiter"]),
                         "--outcome", "dismissed", "--ruling", "award 1")
    assert code == 0 and out["dispute"]["outcome"] == "dismissed", err  # type: ignore[index]
    code, out, err = run(capsys, "property", "execute", rec)
    assert code == 0 and not out["disputed"] and out["disputes"][0]["executed"], err  # type: ignore[index]
    code, out, err = run(capsys, "property", "cancel", rec, "--reason", "data-destroyed")
    assert code == 0 and out["cancelled"] == "data-destroyed", err  # type: ignore[index]
    assert run(capsys, "show", rec)[1]["status"] == "revoked"  # type: ignore[index]


def test_bad_values_exit_2_and_write_nothing(node: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    rec, bank = node["record"], str(node["bank"])
    invalid = OUTCOMES[ErrorKind.INVALID_INPUT].exit_code
    for bad in (("--amount", "1,250,000"), ("--currency", "RMB"), ("--until", "31/12/2029")):
        args = list(PLEDGE)
        args[args.index(bad[0]) + 1] = bad[1]
        code, _, err = run(capsys, "property", "pledge", rec, "--pledgee", bank, *args, "--sign", "pledgee")
        assert code == invalid, (bad, err)
    code, _, err = run(capsys, "property", "show", "0x" + "ee" * 32)
    assert code == OUTCOMES[ErrorKind.NOT_FOUND].exit_code
    code, _, err = run(capsys, "property", "release", rec, "--consent", "pledgee=/nonexistent/consent.json")
    assert code == invalid and "cannot read" in err
    code, out, _ = run(capsys, "property", "show", rec)
    assert not out["pledged"] and out["pledges"] == [] and out["transfers"] == 0  # type: ignore[index]


def test_human_output_names_the_states(node: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.cli import main

    assert main(["property", "show", node["record"]]) == 0
    out = capsys.readouterr().out
    assert f"record: {node['record']}" in out and "pledged: False" in out and "disputed: False" in out
