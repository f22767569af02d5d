"""Signed notes against the specification's and Go's own vectors (tests/vectors/c2sp/signed-note.json, copied from
C2SP/C2SP and golang/mod at the commits it names), and against tlog-scales, a signed-note implementation no one
here wrote."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tlog_scales import signing as ts_signing

from provenance.core import note as N

V = json.loads((Path(__file__).parents[1] / "vectors" / "c2sp" / "signed-note.json").read_text("utf-8"))
GO = V["go"]


def peter() -> N.Verifier:
    return N.Verifier.from_vkey(GO["peter_vkey"])


def enoch() -> N.Verifier:
    return N.Verifier.from_vkey(GO["enoch_vkey"])


def test_spec_example_verifies() -> None:
    ex = V["c2sp_example"]
    n = N.open_note(ex["note"].encode(), N.Keyring([N.Verifier.from_vkey(ex["vkey"])]))
    assert n.text == ex["text"] and len(n.signatures) == 1 and n.unverified == ()
    assert N.Verifier.from_vkey(ex["vkey"]).vkey == ex["vkey"]


@pytest.mark.parametrize("case", V["c2sp_unkeyed"], ids=lambda c: c["source"])
def test_spec_examples_without_keys_parse_and_stay_unverified(case: dict) -> None:
    text, sigs = N.parse(case["note"].encode())
    assert text == case["text"] and case["name"] in [s.name for s in sigs]
    with pytest.raises(N.UnverifiedNote) as err:
        N.open_note(case["note"].encode(), N.Keyring())
    assert err.value.note.text == case["text"] and err.value.note.signatures == ()


def test_go_skey_signs_go_vector_byte_for_byte() -> None:
    s = N.Signer.from_skey(GO["peter_skey"])
    assert s.verifier.vkey == GO["peter_vkey"] and s.skey == GO["peter_skey"]
    assert N.sign(GO["text"], [s]).decode() == GO["signed"]
    assert GO["peter_skey"] not in repr(s)
    # an existing signature by the same key is replaced, not repeated (Go's TestSign)
    stale = N.Signature("PeterNeumann", 0xC74F20A3, b"\x01" * 64)
    assert N.sign(GO["text"], [s], [stale]).decode() == GO["signed"]


def test_go_open_one_known_one_unknown() -> None:
    msg = (GO["text"] + "\n" + GO["peter_sig"] + GO["enoch_sig"]).encode()
    n = N.open_note(msg, N.Keyring([peter()]))
    assert n.text == GO["text"] and [s.name for s in n.signatures] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in n.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = N.open_note(msg, N.Keyring([peter(), enoch()]))
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"] and both.unverified == ()


def test_go_ambiguous_key_refused_only_when_used() -> None:
    other = N.Verifier("EnochRoot", 0xAF0CFE78, N.SIG_ED25519, bytes(32))
    ring = N.Keyring([enoch(), peter(), other])
    with pytest.raises(N.AmbiguousKey, match="ambiguous key EnochRoot\\+af0cfe78"):
        N.open_note((GO["text"] + "\n" + GO["enoch_sig"]).encode(), ring)
    assert N.open_note((GO["text"] + "\n" + GO["peter_sig"]).encode(), ring).signatures
    assert N.Keyring([enoch(), enoch()]).get("EnochRoot", 0xAF0CFE78) == enoch()  # the same key twice is one


def test_go_too_many_signatures() -> None:
    for ring in (N.Keyring([peter()]), N.Keyring()):
        with pytest.raises(N.MalformedNote, match="more than 100"):
            N.open_note(GO["too_many"]["note"].encode(), ring)
    many = (GO["text"] + "\n" + GO["peter_sig"] * 100).encode()  # at the limit: identical lines counted once
    assert len(N.open_note(many, N.Keyring([peter()])).signatures) == 1


def test_go_invalid_signature_refuses_the_note() -> None:
    with pytest.raises(N.InvalidNoteSignature, match="PeterNeumann\\+c74f20a3"):
        N.open_note(GO["invalid_signature"].encode(), N.Keyring([peter()]))


def test_go_duplicates_collapse() -> None:
    n = N.open_note(GO["duplicates"]["note"].encode(), N.Keyring([peter()]))
    assert [s.name for s in n.signatures] == ["PeterNeumann"]
    assert [base64.b64encode(s.key_id.to_bytes(4, "big") + s.signature).decode() for s in n.unverified] \
        == GO["duplicates"]["unverified_b64"]


@pytest.mark.parametrize("msg", [m.encode() for m in GO["bad_messages"]]
                         + [bytes.fromhex(h) for h in GO["bad_message_bytes_hex"]])
def test_go_bad_messages_are_malformed(msg: bytes) -> None:
    with pytest.raises(N.MalformedNote):
        N.open_note(msg, N.Keyring([peter()]))


@pytest.mark.parametrize("vkey", GO["bad_vkeys"])
def test_go_bad_vkeys(vkey: str) -> None:
    with pytest.raises(N.MalformedKey):
        N.Verifier.from_vkey(vkey)


def test_go_every_mangled_vkey_and_skey_is_refused() -> None:
    """Go's TestNewVerifier/TestNewSigner: every proper substring and every byte incremented is refused."""
    for key, parse in ((GO["peter_vkey"], N.Verifier.from_vkey), (GO["peter_skey"], N.Signer.from_skey)):
        b = key.encode()
        bad = [b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1) if (i, j) != (0, len(b))]
        bad += [b[:i] + bytes([b[i] + 1]) + b[i + 1:] for i in range(len(b))]
        for k in bad:
            with pytest.raises(N.MalformedNote):
                parse(k.decode("utf-8", "replace"))


def test_every_byte_of_signature_and_key_id_tampered_is_refused_or_unknown() -> None:
    msg = GO["signed"].encode()
    sig_line = GO["peter_sig"]
    raw = base64.b64decode(sig_line.split(" ")[2])
    for i in range(len(raw)):
        forged = bytearray(raw)
        forged[i] ^= 0x01
        line = f"— PeterNeumann {base64.b64encode(bytes(forged)).decode()}\n"
        bad = (GO["text"] + "\n" + line).encode()
        # a changed key ID makes the key unknown (ignored, so nothing verifies); a changed signature fails
        with pytest.raises((N.InvalidNoteSignature, N.UnverifiedNote)) as err:
            N.open_note(bad, N.Keyring([peter()]))
        assert isinstance(err.value, N.UnverifiedNote if i < 4 else N.InvalidNoteSignature)
    assert N.open_note(msg, N.Keyring([peter()])).signatures


def test_text_tampered_fails() -> None:
    bad = GO["signed"].replace("cryptography", "Cryptography").encode()
    with pytest.raises(N.InvalidNoteSignature):
        N.open_note(bad, N.Keyring([peter()]))


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b", "a\u3000b", "a\x7fb\x01"])
def test_bad_key_names(name: str) -> None:
    assert not N.valid_name(name)
    with pytest.raises(N.MalformedKey):
        N.Verifier.ed25519(name, bytes(32))


def test_non_canonical_base64_and_size_limit() -> None:
    line = GO["peter_sig"].rstrip("\n")
    padded = line[:-1] + "\n"  # drop '=' padding
    with pytest.raises(N.MalformedNote):
        N.parse((GO["text"] + "\n" + padded).encode())
    with pytest.raises(N.MalformedNote, match="larger than"):
        N.parse(b"a" * (N.MAX_NOTE_BYTES + 1))


def test_sign_refuses_bad_text() -> None:
    s = N.Signer.generate("example.com/k")
    for text in ["no newline", "bell\x07\n", ""]:
        with pytest.raises(N.MalformedNote):
            N.sign(text, [s])
    with pytest.raises(N.MalformedNote):
        N.sign("t\n", [])


def test_generated_keys_agree_with_tlog_scales() -> None:
    s = N.Signer.generate("example.com/provenance")
    vk = ts_signing.Vkey.from_string(s.verifier.vkey)
    assert vk.key_id == s.verifier.key_id and vk.pubkey == s.verifier.public_key and vk.sig_type == 1
    assert ts_signing.Vkey(s.name, None, 1, s.verifier.public_key).serialize() == s.verifier.vkey
    msg = N.sign("example.com/provenance\n1\n" + base64.b64encode(bytes(32)).decode() + "\n", [s])
    line = msg.decode().split("\n\n")[1].rstrip("\n")
    theirs = ts_signing.NoteSignature.from_line(line)
    assert (theirs.name, theirs.key_id) == (s.name, s.verifier.key_id)


def test_derived_keys_are_stable_and_separated() -> None:
    secret = bytes(range(32))
    a = N.Signer.derive("example.com/a", secret, b"note key v1")
    assert a.verifier == N.Signer.derive("example.com/a", secret, b"note key v1").verifier  # a restart: the same key
    assert a.seed != N.Signer.derive("example.com/a", secret, b"witness key v1").seed  # contexts apart
    assert a.seed != N.Signer.derive("example.com/a", bytes(32), b"note key v1").seed  # another node key
    assert a.seed not in secret and a.seed != secret
    with pytest.raises(N.MalformedKey):
        N.Signer.derive("example.com/a", secret[:31], b"c")
    with pytest.raises(N.MalformedKey):
        N.Signer.derive("example.com/a", secret, b"")
