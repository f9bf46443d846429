"""The in-process page store stays within its bound; entries survive the trip through Redis's
byte format unchanged."""

from __future__ import annotations

from portal.page_cache.store import Entry, MemoryStore


def _entry(size: int, endpoint: str = "public.home") -> Entry:
    return Entry("200 OK", (("Content-Type", "text/html; charset=utf-8"),), b"x" * size, endpoint)


def test_the_memory_store_drops_the_least_recently_used_to_stay_in_its_bound() -> None:
    store = MemoryStore(max_bytes=100_000)
    for number in range(30):
        store.put(f"page-{number}", _entry(10_000))
        store.get("page-0")  # kept in use
    assert store.used <= 100_000
    assert store.get("page-0") is not None and store.get("page-29") is not None
    assert store.get("page-1") is None
    assert len(store) < 30


def test_a_page_larger_than_an_eighth_of_the_bound_is_not_kept() -> None:
    store = MemoryStore(max_bytes=80_000)
    store.put("huge", _entry(20_000))
    assert store.get("huge") is None and store.used == 0


def test_clearing_empties_it() -> None:
    store = MemoryStore(max_bytes=100_000)
    store.put("a", _entry(10))
    store.clear()
    assert store.get("a") is None and store.used == 0


def test_an_entry_comes_back_from_bytes_as_it_went_in() -> None:
    entry = Entry(
        "200 OK",
        (("Content-Type", "application/json"), ("ETag", '"abc"'), ("Vary", "Accept-Language")),
        b'{"name": "Pflegedienst \xc3\xa4"}\n{second line}',
        "api.services",
    )
    assert Entry.loads(entry.dumps()) == entry
