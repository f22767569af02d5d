"""The follower loop is one service: ``provenance index sync --follow`` draws due spot checks as serve does."""

from __future__ import annotations

import _thread
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.services.follow import Follower, Round
from tests.support.passphrase import PASSPHRASE


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_index_sync_follow_draws_a_due_spot_check(demo_dir: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src, demo = demo_dir
    shutil.copytree(src, tmp_path / "data")
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PROVENANCE_DATA_DIR", str(tmp_path / "data"))
    lingang = demo["entities"]["m-lingang"]

    code, check, err = run(capsys, "--as", "CAC", "flow", "check", "announce", str(lingang), "--sample", "2")
    assert code == 0 and check["state"] == "announced", err
    # Any later transaction mines the seed block; nobody draws it by hand.
    code, _, err = run(capsys, "register", "--kind", "resource", "--grade", "general", "--owner", str(lingang),
                       "--content-hash", "0x" + "d7" * 32)
    assert code == 0, err

    # The operator's Ctrl-C, on the round after the loop drew something; and, should it never draw, after a minute.
    real = Follower.round
    seen: list[Round] = []

    def round_then_interrupt(self: Follower) -> Round:
        if seen and seen[-1].drawn:
            raise KeyboardInterrupt
        seen.append(real(self))
        return seen[-1]

    monkeypatch.setattr(Follower, "round", round_then_interrupt)
    backstop = threading.Timer(60, _thread.interrupt_main)
    backstop.start()
    try:
        code = main(["--json", "index", "sync", "--follow", "0.05"])
    finally:
        backstop.cancel()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.dumps({"drawn": [check["id"]]}) in out.splitlines()

    code, shown, err = run(capsys, "flow", "check", "show", str(check["id"]))
    assert code == 0 and shown["state"] == "drawn" and len(shown["sample"]) == 2, err
    assert shown["drawnBlock"] > shown["seedBlock"]
