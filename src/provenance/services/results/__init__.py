"""Typed results of the capability services: what a service answers is what the API declares as its
``response_model`` and what the CLI renders, one shape from the service to the wire (issue 19).

Every result is a pydantic model of :class:`Result`. A member left unset is not in the document at all (the API's
routes say ``response_model_exclude_unset=True``, the CLI renders :meth:`Result.document`), so a result keeps the
exact shape the interfaces showed when services answered plain dicts: the members a caller may not see are
absent, not null, and members come in the order the model declares them. One capability's results are in the
module of its name (``results/property.py`` for ``services/property.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """A service's answer. It also reads as its JSON document (``result["pledge"]["amount"]``), so code that
    took the documents (tests, the demo) reads the typed result the same way."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def document(self) -> dict[str, Any]:
        """The result as JSON, as the API answers it and the CLI prints it: unset members left out."""
        return self.model_dump(mode="json", exclude_unset=True)

    def __getitem__(self, name: str) -> Any:
        doc = self.document()
        if name not in doc:
            raise KeyError(name)
        return doc[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.model_fields_set

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default


def documents(value: Any) -> Any:
    """Results, wherever they are in a value (a list of them, a dict a command builds around one), as JSON; the
    rest as it is."""
    if isinstance(value, Result):
        return value.document()
    if isinstance(value, list | tuple):
        return [documents(v) for v in value]
    if isinstance(value, dict):
        return {k: documents(v) for k, v in value.items()}
    return value


__all__ = ["Result", "documents"]
