"""A fast, exact verdict of the catalogue's JSON Schemas for the documents that pass them. No I/O.

jsonschema's ``Draft202012Validator`` takes about 1.3 ms of CPU for one metadata document; the index validates
every document published on chain and the scale bench publishes 20,000 documents and 90,000 profiles, so that is
most of a partner's catch-up. :func:`compile_schema` turns a schema into plain closures evaluating the few keywords
the two catalogue schemas use, with the semantics of JSON Schema 2020-12 (a keyword ignores instances of other
types; ``pattern`` is ``re.search``; ``format`` calls jsonschema's own format checker; ``$ref`` resolves under
``#/$defs``), about twenty times faster.

It only ever *accepts*: a document it finds valid is valid, and any other (invalid, or holding something it is not
sure of: a float, an unknown keyword, non-string array items under ``uniqueItems``) goes to jsonschema, which gives
the verdict and names the field (core.catalog). So verdicts are jsonschema's on every node whichever path ran;
tests/core/test_catalog.py holds the two to the same verdict over samples and their mutations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "$comment", "examples", "default"})
_FORMATS = Draft202012Validator.FORMAT_CHECKER


class Unsure(Exception):
    """Raised inside a check for an instance the subset cannot judge exactly; the caller asks jsonschema."""


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A check of ``schema``: True if an instance is valid, False if not; raises :class:`Unsure` otherwise."""
    defs: dict[str, Check] = {}
    root = schema

    def ref(target: str) -> Check:
        name = target.removeprefix("#/$defs/")
        if not target.startswith("#/$defs/") or name not in root.get("$defs", {}):
            return _unsure
        if name not in defs:
            defs[name] = _unsure  # a reference cycle is judged by jsonschema
            defs[name] = compile_node(root["$defs"][name])
        return lambda x: defs[name](x)

    def compile_node(node: Any) -> Check:
        if node is True:
            return _true
        if not isinstance(node, Mapping):
            return _unsure
        checks: list[Check] = []
        props: Mapping[str, Any] = node.get("properties", {})
        for key, value in node.items():
            if key in _ANNOTATIONS or key in ("then", "else"):
                continue
            made = _keyword(key, value, node, props, compile_node, ref)
            if made is None:
                return _unsure
            checks.append(made)
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(c(x) for c in checks)

    return compile_node(schema)


def _keyword(key: str, value: Any, node: Mapping[str, Any], props: Mapping[str, Any],
             compile_node: Callable[[Any], Check], ref: Callable[[str], Check]) -> Check | None:
    """The check of one keyword, or None for a keyword (or a form of it) the subset does not evaluate."""
    if key == "type" and isinstance(value, str) and value in _TYPES:
        return _TYPES[value]
    if key == "properties":
        subs = {name: compile_node(sub) for name, sub in value.items()}
        return lambda x: not isinstance(x, dict) or all(subs[k](x[k]) for k in subs if k in x)
    if key == "additionalProperties" and value is False and "patternProperties" not in node:
        allowed = frozenset(props)
        return lambda x: not isinstance(x, dict) or allowed.issuperset(x)
    if key == "required":
        names = tuple(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in names)
    if key == "minProperties":
        return lambda x: not isinstance(x, dict) or len(x) >= value
    if key in ("enum", "const"):
        options = value if key == "enum" else [value]
        if not all(type(o) is str for o in options):
            return None
        allowed_values = frozenset(options)
        return lambda x: type(x) is str and x in allowed_values
    if key == "minLength":
        return lambda x: not isinstance(x, str) or len(x) >= value
    if key == "maxLength":
        return lambda x: not isinstance(x, str) or len(x) <= value
    if key == "pattern":
        search = re.compile(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None
    if key == "format" and value in ("date", "email", "uri"):
        return lambda x: _FORMATS.conforms(x, value)
    if key in ("minimum", "maximum"):
        bound = value

        def within(x: Any) -> bool:
            if type(x) is not int:
                if isinstance(x, float):
                    raise Unsure
                return True
            return bool(x >= bound if key == "minimum" else x <= bound)
        return within
    if key == "items" and isinstance(value, Mapping | bool):
        sub = compile_node(value)
        return lambda x: not isinstance(x, list) or all(sub(v) for v in x)
    if key == "minItems":
        return lambda x: not isinstance(x, list) or len(x) >= value
    if key == "maxItems":
        return lambda x: not isinstance(x, list) or len(x) <= value
    if key == "uniqueItems" and value is True:
        return _unique
    if key == "$ref" and isinstance(value, str):
        return ref(value)
    if key == "anyOf":
        branches = [compile_node(b) for b in value]
        return lambda x: any(b(x) for b in branches)
    if key == "not":
        inner = compile_node(value)
        return lambda x: not inner(x)
    if key == "if":
        condition = compile_node(value)
        then = compile_node(node.get("then", True))
        otherwise = compile_node(node.get("else", True))
        return lambda x: then(x) if condition(x) else otherwise(x)
    return None


def _true(x: Any) -> bool:
    return True


def _unsure(x: Any) -> bool:
    raise Unsure


def _unique(x: Any) -> bool:
    if not isinstance(x, list):
        return True
    if not all(type(v) is str for v in x):
        raise Unsure  # jsonschema's equality of mixed values (1, 1.0, True) is its own to judge
    return len(set(x)) == len(x)


def _integer(x: Any) -> bool:
    if isinstance(x, float):
        raise Unsure  # 1.0 is an integer to jsonschema; canonical documents hold no floats anyway
    return type(x) is int


_TYPES: Mapping[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": _integer,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}
