"""The JSON-LD contexts a certificate names, shipped with the package, and a document loader serving only them.

* ``credentials-v2.jsonld``: https://www.w3.org/ns/credentials/v2, the W3C Verifiable Credentials 2.0 context,
  byte for byte as published (w3c/vc-data-model, ``contexts/credentials/v2`` at commit
  979c4af1cfe2224ed7b0ee5ec4d7a009a465812b, last changed in 08b83e46c10ee37b0f4fb44b31459e611e521da0). Its
  SHA-256 is the one the Recommendation states (section B.1), which a test checks.
* ``provenance-registration-v1.jsonld``: https://w3id.org/provenance/registration/v1, this project's context:
  every term a certificate (and a status list credential) uses beyond VC 2.0, under
  ``https://w3id.org/provenance/registration#``.
* ``catalog-v1.jsonld``: https://w3id.org/provenance/catalog/v1, the context of the catalogue's DCAT 3 export
  (provenance.core.dcat): DCAT 3, Dublin Core terms, FOAF, vCard, SKOS and ODRL 2.2 IRIs, and this project's
  few terms under ``https://w3id.org/provenance/catalog#``.

A verifier expands a certificate offline with :func:`document_loader` (the ``documentLoader`` option of pyld,
or any JSON-LD processor taking a callable of that shape): it never reaches the network, and a context other
than these is refused by name rather than fetched.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from provenance.errors import NotFound

VC_V2 = "https://www.w3.org/ns/credentials/v2"
PROVENANCE_V1 = "https://w3id.org/provenance/registration/v1"
CATALOG_V1 = "https://w3id.org/provenance/catalog/v1"
FILES = {VC_V2: "credentials-v2.jsonld", PROVENANCE_V1: "provenance-registration-v1.jsonld",
         CATALOG_V1: "catalog-v1.jsonld"}
VC_V2_SHA256 = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
"""The digest the VC 2.0 Recommendation gives for its context (``openssl dgst -sha256``)."""

MEDIA_TYPE = "application/ld+json"


class UnknownContext(NotFound):
    """Raised when a document names a JSON-LD context that is not shipped with the package."""


@cache
def context_bytes(url: str) -> bytes:
    """The shipped file of a context URL, as published (UnknownContext for any other URL)."""
    name = FILES.get(url)
    if name is None:
        raise UnknownContext(f"the context {url!r} is not shipped with this package; only {sorted(FILES)} are")
    raw = (resources.files(__package__) / name).read_bytes()
    if url == VC_V2 and hashlib.sha256(raw).hexdigest() != VC_V2_SHA256:
        raise UnknownContext(f"the shipped {name} is not the published VC 2.0 context (SHA-256 differs)")
    return raw


def context(url: str) -> Any:
    """The parsed context document (a fresh copy: processors may annotate what they are given)."""
    return json.loads(context_bytes(url))


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A JSON-LD document loader (the RemoteDocument shape pyld expects) that serves only the shipped contexts."""
    return {"contextUrl": None, "documentUrl": url, "document": context(url), "contentType": MEDIA_TYPE}
