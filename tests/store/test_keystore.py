from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from provenance.errors import InvalidInput, KeystoreError
from provenance.store.keystore import Keystore, PassphraseSource

LIGHT = 2**10


def test_create_and_load_round_trip(tmp_path: Path) -> None:
    ks = Keystore(tmp_path / "ks", lambda: "s3cret", scrypt_n=LIGHT)
    acct = ks.create("SDE")
    path = next((tmp_path / "ks").glob("SDE--*.json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["crypto"]["kdf"] == "scrypt" and doc["version"] == 3
    assert acct.key.hex() not in path.read_text()
    again = Keystore(tmp_path / "ks", lambda: "s3cret", scrypt_n=LIGHT).load("SDE")
    assert again.key == acct.key
    assert ks.labels() == {"SDE": acct.address}


def test_wrong_passphrase(tmp_path: Path) -> None:
    Keystore(tmp_path, lambda: "right", scrypt_n=LIGHT).create("k")
    with pytest.raises(KeystoreError, match="wrong passphrase for key 'k'"):
        Keystore(tmp_path, lambda: "wrong", scrypt_n=LIGHT).load("k")


def test_labels_are_unique_and_safe(tmp_path: Path) -> None:
    ks = Keystore(tmp_path, lambda: "p", scrypt_n=LIGHT)
    ks.create("a")
    with pytest.raises(KeystoreError, match="already exists"):
        ks.create("a")
    for bad in ("../x", "", "a/b", "-x"):
        with pytest.raises(InvalidInput):
            ks.create(bad)
    with pytest.raises(KeystoreError, match="no key labelled 'zz'.*known: a"):
        ks.load("zz")


def test_passphrase_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "pass"
    f.write_text("from-file\n")
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "from-env")
    assert PassphraseSource(file=f).read() == "from-file"  # an explicit file wins
    assert PassphraseSource().read() == "from-env"
    monkeypatch.delenv("PROVENANCE_PASSPHRASE")
    with pytest.raises(KeystoreError, match="no keystore passphrase"):
        PassphraseSource(prompt=False).read()
    with pytest.raises(KeystoreError, match="cannot read the passphrase file"):
        PassphraseSource(file=tmp_path / "missing").read()
    (tmp_path / "empty").write_text("")
    with pytest.raises(KeystoreError, match="is empty"):
        PassphraseSource(file=tmp_path / "empty").read()
