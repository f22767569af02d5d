"""Running the command line in-process: one call's exit code, parsed JSON output and stderr."""

from __future__ import annotations

import json

import pytest

from provenance.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    code = main(["--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err
