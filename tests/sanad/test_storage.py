"""The object store contract, on the filesystem and on MinIO."""

from __future__ import annotations

import pytest

from sanad.storage import ObjectMissing
from tests.conftest import Backend


def test_put_get_list_delete(backend: Backend) -> None:
    store = backend.store

    store.put("citizens/abc/one.pdf", b"%PDF-one", "application/pdf")
    store.put("citizens/abc/two.pdf", b"%PDF-two", "application/pdf")

    assert store.get("citizens/abc/one.pdf") == b"%PDF-one"
    assert {i.key for i in store.list("citizens/abc/")} == {"citizens/abc/one.pdf", "citizens/abc/two.pdf"}
    store.delete("citizens/abc/one.pdf")
    with pytest.raises(ObjectMissing):
        store.get("citizens/abc/one.pdf")
    store.delete("citizens/abc/one.pdf")  # deleting twice is harmless
    store.delete("citizens/abc/two.pdf")


def test_overwrite_replaces_whole_object(backend: Backend) -> None:
    backend.store.put("citizens/xyz/doc.pdf", b"a" * 1000, "application/pdf")
    backend.store.put("citizens/xyz/doc.pdf", b"b", "application/pdf")

    assert backend.store.get("citizens/xyz/doc.pdf") == b"b"
    backend.store.delete("citizens/xyz/doc.pdf")


def test_a_range_read_gives_those_bytes_only(backend: Backend) -> None:
    data = bytes(range(256)) * 8
    backend.store.put("applications/r/a/submitted.tar", data, "application/x-tar")

    assert backend.store.get_range("applications/r/a/submitted.tar", 512, 300) == data[512:812]
    assert backend.store.get_range("applications/r/a/submitted.tar", 0, 1) == data[:1]
    assert backend.store.get_range("applications/r/a/submitted.tar", 2000, 0) == b""
    with pytest.raises(ObjectMissing):
        backend.store.get_range("applications/r/a/gone.tar", 0, 10)
    backend.store.delete("applications/r/a/submitted.tar")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b", "a/"])
def test_keys_that_could_escape_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        backend.store.put(key, b"x", "text/plain")


def test_ping_succeeds_when_reachable(backend: Backend) -> None:
    backend.store.ping()
