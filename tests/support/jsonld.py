"""JSON-LD checks of the node's documents: expansion with the shipped contexts only, and the check that expanding
a document drops no term and leaves no IRI relative (certificates, status lists)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyld import jsonld

from provenance import contexts as X

Doc = dict[str, Any]


def expand(doc: Any) -> Any:
    return jsonld.expand(doc, {"documentLoader": X.document_loader})


def leaves(value: Any, *, json_literal: frozenset[str] = frozenset({"eip712"})) -> Counter[str]:
    """Every scalar of a compacted document (a JSON literal's object counted as one)."""
    out: Counter[str] = Counter()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "@context":
                continue
            out += Counter({_literal(v): 1}) if k in json_literal else leaves(v)
    elif isinstance(value, list):
        for v in value:
            out += leaves(v)
    else:
        out[_scalar(value)] += 1
    return out


def _literal(value: Any) -> str:
    import json

    return "json:" + json.dumps(value, sort_keys=True)


def _scalar(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def expanded_leaves(value: Any, iris: set[str]) -> Counter[str]:
    """Every value of an expanded document: @value, @id and @type entries; property IRIs gathered in ``iris``."""
    out: Counter[str] = Counter()
    if isinstance(value, list):
        for v in value:
            out += expanded_leaves(v, iris)
        return out
    assert isinstance(value, dict)
    if "@value" in value:
        v = value["@value"]
        out[_literal(v) if value.get("@type") == "@json" else _scalar(v)] += 1
        return out
    for k, v in value.items():
        if k == "@id":
            out[_scalar(v)] += 1
        elif k == "@type":
            for t in v if isinstance(v, list) else [v]:
                out[f"type:{t}"] += 1
        elif k in ("@list", "@set", "@graph"):
            out += expanded_leaves(v, iris)
        else:
            assert not k.startswith("@"), k
            iris.add(k)
            out += expanded_leaves(v, iris)
    return out


def type_names(value: Any) -> Counter[str]:
    """How often each type name occurs in a compacted document."""
    out: Counter[str] = Counter()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "type":
                out.update(v if isinstance(v, list) else [v])
            elif k != "@context":
                out += type_names(v)
    elif isinstance(value, list):
        for v in value:
            out += type_names(v)
    return out


# Values of terms typed @vocab become IRIs on expansion.
VOCAB = {"str:assertionMethod": "str:https://w3id.org/security#assertionMethod",
         "str:recognition": "str:https://w3id.org/provenance/registration#recognition"}


def assert_nothing_dropped(doc: Doc) -> list[Any]:
    """Expand ``doc``; every scalar it holds is in the expanded form as often, every type name became one type
    IRI, and every property and type is an absolute IRI: no term was dropped or left relative."""
    expanded = expand(doc)
    iris: set[str] = set()
    got = expanded_leaves(expanded, iris)
    types = Counter({k: n for k, n in got.items() if k.startswith("type:")})
    names = type_names(doc)
    want = leaves(doc) - Counter({f"str:{t}": n for t, n in names.items()})
    want = Counter({VOCAB.get(k, k): n for k, n in want.items()})
    assert sum(types.values()) == sum(names.values())
    assert got - types == want, ((got - types) - want, want - (got - types))
    for iri in iris | {k[5:] for k in types}:
        assert iri.startswith(("https://", "http://")), iri
    return expanded  # type: ignore[no-any-return]
