"""Text in metadata documents and entity profiles (titles, descriptions, keywords, names, regions) is published
on chain for general grade and shown on every partner's screens: a control character (a NUL ends the search
index's text there), a direction override or isolate (the explorer would show a title reversed) or text made only
of invisible characters is refused, naming the field and the character. A description may hold tabs and line
breaks. jsonschema's own verdict over the shipped schemas agrees with the node's on every case."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from provenance.core import catalog as C
from provenance.dev.catalog_samples import entity_profile, metadata_document
from provenance.errors import InvalidInput

BAD = [("nul\u0000inside title", "control character U+0000 at position 3"),
       ("\u202eevil", "bidirectional control character U+202E at position 0"),
       ("isolate\u2066x", "bidirectional control character U+2066 at position 7"),
       ("bell\u0007", "control character U+0007 at position 4"),
       ("c1\u0085", "control character U+0085 at position 2"),
       ("\u200b\u200b", "holds no visible character"),
       ("\u200b\u3000\ufeff", "holds no visible character")]


def _metadata(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(metadata_document(3, publisher=103, kind="product", lang="both"))
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def _profile(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(entity_profile(4))
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def _jsonschema_valid(name: str, doc: dict[str, Any]) -> bool:
    return Draft202012Validator(C.schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(doc)


@pytest.mark.parametrize(("text", "why"), BAD)
@pytest.mark.parametrize("path", [("title", "en"), ("title", "zh"), ("description", "en"), ("keywords", 0)])
def test_metadata_text_with_unseen_characters_is_refused(path: tuple[Any, ...], text: str, why: str) -> None:
    doc = _metadata(path, text)
    where = "$." + ".".join(str(p) for p in path[:-1]) + (f"[{path[-1]}]" if isinstance(path[-1], int)
                                                           else f".{path[-1]}")
    with pytest.raises(InvalidInput) as info:
        C.parse_metadata(doc)
    assert f"{where}: " in str(info.value) and why in str(info.value)
    assert not _jsonschema_valid("metadata-v1", doc)


@pytest.mark.parametrize(("text", "why"), BAD)
@pytest.mark.parametrize("path", [("name", "en"), ("name", "zh"), ("region",)])
def test_profile_text_with_unseen_characters_is_refused(path: tuple[Any, ...], text: str, why: str) -> None:
    doc = _profile(path, text)
    with pytest.raises(InvalidInput) as info:
        C.parse_profile(doc)
    assert why in str(info.value)
    assert not _jsonschema_valid("entity-profile-v1", doc)


def test_a_description_may_hold_tabs_and_line_breaks_a_title_may_not() -> None:
    multi = "第一行\n第二行\tand a tab\r\n"
    assert C.parse_metadata(_metadata(("description", "zh"), multi)).description["zh"] == multi
    assert _jsonschema_valid("metadata-v1", _metadata(("description", "zh"), multi))
    with pytest.raises(InvalidInput, match=r"\$\.title\.zh: holds the control character U\+000A at position 3"):
        C.parse_metadata(_metadata(("title", "zh"), "第一行\n第二行"))


@pytest.mark.parametrize("text", ["长三角港口集装箱吞吐量指数", "Café ☕ index", "👩‍💻 dev data", "a\u200db", "x"])
def test_ordinary_text_of_any_script_passes(text: str) -> None:
    for path in (("title", "en"), ("description", "zh"), ("keywords", 0)):
        doc = _metadata(path, text)
        C.parse_metadata(doc)
        assert _jsonschema_valid("metadata-v1", doc)
    C.parse_profile(_profile(("name", "en"), text))
