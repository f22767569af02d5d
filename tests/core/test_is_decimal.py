"""types.is_decimal: the one test of "this text is a number" for parsers of outside text."""

from __future__ import annotations

import pytest

from provenance.errors import InvalidInput
from provenance.types import Grade, Rights, is_decimal


@pytest.mark.parametrize("text", ["0", "7", "0042", "123456789012"])
def test_ascii_digits_are_numbers(text: str) -> None:
    assert is_decimal(text) and int(text) >= 0


@pytest.mark.parametrize("text", ["", "²", "٢", "１", "-1", "+1", " 1", "1.0", "1e3", "1234567890123", "9" * 5000])
def test_other_texts_are_not(text: str) -> None:
    assert not is_decimal(text)


@pytest.mark.parametrize("text", ["²", "٢", "9" * 5000])
def test_the_enum_and_rights_parsers_name_them(text: str) -> None:
    for parse in (Grade.parse, Rights.parse):
        with pytest.raises(InvalidInput):
            parse(text)
