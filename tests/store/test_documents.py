"""The document store: content-addressed by keccak-256 (checked with eth-hash, an independent implementation),
idempotent, bounded, persistent, one process at a time, and local profiles beside the documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_hash.auto import keccak

from provenance.core.catalog import MAX_DOCUMENT_BYTES
from provenance.errors import DataDirLocked, DocumentTooLarge, InvalidInput
from provenance.store.documents import DocumentStore


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    doc = '{"title":{"zh":"航运指数"}}'.encode()
    digest = store.put(doc)
    assert digest == keccak(doc)
    assert store.put(doc) == digest
    assert store.get(digest) == doc and store.has(digest)
    other = keccak(b"nothing")
    assert store.get(other) is None and not store.has(other)
    store.close()


def test_documents_and_profiles_survive_a_reopen(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    digest = store.put(b"{}")
    store.put_profile(7, b'{"kind":"individual"}')
    store.put_profile(7, b'{"kind":"individual","name":{"zh":"\xe7\x8e\x8b"}}')  # replaced, not added
    store.close()
    again = DocumentStore(tmp_path / "documents")
    assert again.get(digest) == b"{}"
    assert again.profile(7) == b'{"kind":"individual","name":{"zh":"\xe7\x8e\x8b"}}'
    assert again.profile(8) is None
    assert again.profiles() == [(7, again.profile(7))]
    again.close()


def test_bad_input_is_refused_by_name(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    with pytest.raises(DocumentTooLarge) as exc:
        store.put(b"x" * (MAX_DOCUMENT_BYTES + 1))
    assert exc.value.size == MAX_DOCUMENT_BYTES + 1 and exc.value.limit == MAX_DOCUMENT_BYTES
    assert store.put(b"x" * MAX_DOCUMENT_BYTES) == keccak(b"x" * MAX_DOCUMENT_BYTES)
    with pytest.raises(InvalidInput):
        store.get(b"short")
    with pytest.raises(InvalidInput):
        store.put_profile(2**32, b"{}")
    with pytest.raises(InvalidInput):
        store.put("text")  # type: ignore[arg-type]
    store.close()


def test_a_second_process_cannot_open_it(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    with pytest.raises(DataDirLocked):
        DocumentStore(tmp_path / "documents")
    store.close()
