"""The tests' keystore passphrase, as a file beside a data directory (what a node reads without a prompt)."""

from __future__ import annotations

from pathlib import Path

from provenance.store.keystore import PassphraseSource

PASSPHRASE = "api-test-passphrase"


def passphrase(folder: Path) -> PassphraseSource:
    path = folder / "passphrase.txt"
    if not path.exists():
        path.write_text(PASSPHRASE)
    return PassphraseSource(env=None, file=path, prompt=False)
