"""Hostile files given to the command line: deep, repeated-key, oversized and malformed certificates, snapshots,
signed registrations, flow documents and batch files are refused with exit code 2 and a message naming the
problem, before the node is opened (so nothing is read from the chain or written anywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import batch as cli_batch
from provenance.cli import common as cli_common
from tests.support.cli import run

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 70_000 + "1" + "}" * 70_000
H = "0x" + "ab" * 32


DOCS = {
    "deep.json": DEEP,
    "deep-object.json": DEEP_OBJECT,
    "dup.json": '{"credentialSubject": {"record": {"owner": 999, "owner": 3}}}',
    "nan.json": '{"a": NaN}',
    "surrogate.json": '{"a": "\\ud800"}',
    "empty.json": "{}",
    "signed-dup.json": json.dumps({"request": {"kind": "resource"}, "registrar": 1, "nonce": 0, "deadline": 1,
                                   "signature": "0x00"})[:-1] + ', "registrar": 2}',
    "deep.jsonl": json.dumps({"kind": "resource", "owner": 1, "contentHash": H}) + "\n" + "[" * 20_000 + "\n",
    "dup.jsonl": '{"kind": "resource", "owner": 1, "owner": 2, "contentHash": "' + H + '"}\n',
    "dup-header.csv": f"kind,owner,contentHash,owner\nresource,1,{H},2\n",
    "long-line.csv": f"kind,owner,contentHash\nresource,1,{H}{'x' * 200_000}\n",
    "long-line.jsonl": json.dumps({"kind": "resource", "owner": 1, "contentHash": H, "pad": "x" * 200_000}),
    "not-utf8.jsonl": '{"kind": "resource"}\n'.encode("utf-16").decode("latin-1"),
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    out = {}
    for name, text in DOCS.items():
        out[name] = folder / name
        out[name].write_text(text, "latin-1" if name == "not-utf8.jsonl" else "utf-8")
    return out


def commands(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(name, arguments, what the message must say) for every command that reads a document file."""
    deep, dup = str(f["deep.json"]), str(f["dup.json"])
    trust = ["--trust", "0x" + "11" * 20]
    return [
        ("cert verify deep", ["cert", "verify", deep], "nests more than 64"),
        ("cert verify deep object", ["cert", "verify", str(f["deep-object.json"])], "nests more than 64"),
        ("cert verify repeated key", ["cert", "verify", dup], "repeats the key 'owner'"),
        ("cert verify NaN", ["cert", "verify", str(f["nan.json"])], "NaN"),
        ("cert verify surrogate", ["cert", "verify", str(f["surrogate.json"])], "surrogate"),
        ("cert verify offline, deep snapshot", ["cert", "verify", str(f["empty.json"]), "--offline", "--snapshot",
                                                deep, *trust], "the snapshot"),
        ("cert verify offline, repeated key in snapshot", ["cert", "verify", str(f["empty.json"]), "--offline",
                                                           "--snapshot", dup, *trust], "repeats the key"),
        ("cert recognize deep", ["cert", "recognize", deep], "nests more than 64"),
        ("cert recognize repeated key", ["cert", "recognize", dup], "$.credentialSubject.record"),
        ("register --signed deep", ["register", "--kind", "resource", "--owner", "1", "--content-hash", H,
                                    "--signed", deep], "signed registration"),
        ("register --signed repeated key", ["register", "--kind", "resource", "--owner", "1", "--content-hash", H,
                                            "--signed", str(f["signed-dup.json"])], "repeats the key 'registrar'"),
        ("batch import deep line", ["batch", "import", str(f["deep.jsonl"])], "deep.jsonl:2 nests more than 64"),
        ("batch import repeated key", ["batch", "import", str(f["dup.jsonl"])], "repeats the key 'owner'"),
        ("batch import repeated column", ["batch", "import", str(f["dup-header.csv"])], "column 'owner'"),
        ("batch import long csv line", ["batch", "import", str(f["long-line.csv"])], "long-line.csv:2"),
        ("batch import long jsonl line", ["batch", "import", str(f["long-line.jsonl"])], "more than the 65536"),
        ("batch import not utf-8", ["batch", "import", str(f["not-utf8.jsonl"])], "not UTF-8"),
        ("flow relay-approval deep", ["flow", "relay-approval", deep], "signed approval"),
        ("flow deliver deep manifest", ["flow", "deliver", "1", str(f["empty.json"]), deep], "the manifest"),
        ("flow check take-answers repeated key", ["flow", "check", "take-answers", "1", dup], "the answers"),
        ("flow check verify deep", ["flow", "check", "verify", deep], "the report"),
    ]


COMMANDS = [c[0] for c in commands({name: Path(name) for name in DOCS})]


@pytest.mark.parametrize("name", COMMANDS)
def test_hostile_files_exit_2_before_the_node_opens(env: Path, files: dict[str, Path],
                                                   capsys: pytest.CaptureFixture[str], name: str) -> None:
    _name, args, needle = next(c for c in commands(files) if c[0] == name)
    # The data directory was never initialised: had the command opened the node first, it would exit 3.
    code, _, err = run(capsys, *args)
    assert code == 2, (code, err)
    message = json.loads(err)["message"]
    assert needle in message, message
    assert len(message) < 400  # the message names the problem, it does not quote the document
    assert not env.exists()  # nothing was written


def test_a_file_over_the_document_limit_is_refused_unread(env: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common, "MAX_DOCUMENT_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"pad": "x" * 2000}))
    code, _, err = run(capsys, "cert", "verify", str(big))
    assert code == 2 and "more than the 1000 accepted" in err
    monkeypatch.setattr(cli_batch, "MAX_BATCH_BYTES", 1000)
    batch = tmp_path / "big.jsonl"
    batch.write_text((json.dumps({"kind": "resource", "owner": 1, "contentHash": H}) + "\n") * 20)
    code, _, err = run(capsys, "batch", "import", str(batch))
    assert code == 2 and "the batch file" in err and "1000" in err
    assert not env.exists()


def test_on_an_initialised_node_a_repeated_key_certificate_is_refused_and_nothing_is_written(
        env: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    before = sorted((p.relative_to(env), p.stat().st_size) for p in env.rglob("*") if p.is_file())
    for args in (["cert", "verify", str(files["dup.json"])], ["batch", "import", str(files["deep.jsonl"])],
                 ["batch", "import", str(files["dup-header.csv"])]):
        code, _, err = run(capsys, *args)
        assert code == 2, err
    after = sorted((p.relative_to(env), p.stat().st_size) for p in env.rglob("*") if p.is_file())
    assert after == before
    code, info, _ = run(capsys, "info")
    assert code == 0 and info is not None


@pytest.mark.parametrize("text", ["[chain]\nbackend = " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  "[chain]\nx = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n",
                                  "[chain]\nx = " + "[" * 65 + "]" * 65 + "\n"])
def test_a_deep_node_toml_is_a_configuration_error(env: Path, capsys: pytest.CaptureFixture[str],
                                                   text: str) -> None:
    import py_ecc  # noqa: F401 - as in a node: the recursion limit raised to 100,000

    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    toml = env / "node.toml"
    toml.write_text(toml.read_text() + "\n" + text.replace("[chain]\n", "[extra]\n"))
    code, _, err = run(capsys, "info")
    assert code == 3 and "nest more than 64 levels" in json.loads(err)["message"], err


def test_brackets_in_toml_strings_and_comments_do_not_count() -> None:
    from provenance.config import check_toml_depth

    text = ('a = "' + "[" * 100 + '"\nb = \'' + "{" * 100 + "'\n# " + "[" * 100 + '\nc = """\n' + "[" * 100 +
            '\n"""\nd = \'\'\'' + "[" * 100 + "'''\ne = [[1], [2, [3]]]\n[[t]]\n")
    check_toml_depth(text, "t.toml", 3)
    with pytest.raises(Exception, match="nest more than 2"):
        check_toml_depth(text, "t.toml", 2)


@pytest.mark.parametrize("content", ["[" * 20_000 + "]" * 20_000, '{"address": "a", "address": "b"}', "x" * 70_000])
def test_a_hostile_key_file_is_a_keystore_error(env: Path, capsys: pytest.CaptureFixture[str],
                                                content: str) -> None:
    assert run(capsys, "init", "--exchange", "SDE", "--name", "S", "--scrypt-n", "1024")[0] == 0
    (env / "keystore" / ("planted--" + "11" * 20 + ".json")).write_text(content)
    code, _, err = run(capsys, "info")
    assert code == 6 and "unreadable key file planted--" in err, err
