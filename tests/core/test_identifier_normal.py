"""An entity's identifier as it is hashed for the registry (one entity per identifier, EntityExists): a code typed
in full-width form or lower case is the same identifier, a zero-width, control, direction-override or space
character inside is refused by name (it would make a second entity look like the first), and Unicode's
upper-casing does not merge different identifiers (straße and STRASSE). Identifiers in ASCII, the unified social
credit codes, hash exactly as before, so entities registered earlier keep their hash."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.core.ids import identifier_hash, normal_identifier
from provenance.core.keccak import keccak256
from provenance.errors import InvalidInput


@pytest.mark.parametrize("spelling", ["91310000MA1K35KX7N", "91310000ma1k35kx7n", " 91310000MA1K35KX7N\n",
                                      "９１３１００００ＭＡ１Ｋ３５ＫＸ７Ｎ", "９１３１００００ｍａ１ｋ３５ｋｘ７ｎ"])
def test_one_code_in_any_width_or_case_is_one_identifier(spelling: str) -> None:
    assert identifier_hash(spelling) == identifier_hash("91310000MA1K35KX7N")


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:#", min_size=1))
def test_ascii_identifiers_hash_as_they_always_did(code: str) -> None:
    assert identifier_hash(code) == keccak256(code.strip().upper().encode())


def test_unicode_upper_casing_does_not_merge_identifiers() -> None:
    assert "straße7".upper() == "STRASSE7"  # what the hash used to merge
    assert identifier_hash("straße7") != identifier_hash("STRASSE7")
    assert normal_identifier("straße7") == "STRAßE7"


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u0000", "\u0007", "\u202e", "\u2066", "\ufeff", " ", "\u3000",
                                  "\u00a0", "\u2028", "\ud800"])
def test_an_unseen_character_inside_is_refused_by_name(char: str) -> None:
    code = f"HOSTILE{char}TEST1"
    with pytest.raises(InvalidInput) as info:
        identifier_hash(code)
    message = str(info.value)
    position = unicodedata.normalize("NFKC", code).index(unicodedata.normalize("NFKC", char)[0])
    assert f"U+{ord(unicodedata.normalize('NFKC', char)[0]):04X}" in message and f"position {position}" in message


@pytest.mark.parametrize("empty", ["", "   ", "\u3000\n"])
def test_an_empty_identifier_is_refused(empty: str) -> None:
    with pytest.raises(InvalidInput, match="must not be empty"):
        identifier_hash(empty)
