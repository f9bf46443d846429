"""The cache of search results is bounded, forgets the least recently used page first, and
its size is a setting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from portal.config import ConfigError, load_settings
from portal.services.search_cache import ResultCache


def test_it_keeps_at_most_its_size_and_drops_the_least_recently_used() -> None:
    cache: ResultCache[int] = ResultCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now used more recently than "b"
    cache.put("c", 3)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_a_value_is_computed_once_and_then_answered_from_the_cache() -> None:
    cache: ResultCache[list[str]] = ResultCache(10)
    calls: list[int] = []

    def compute() -> list[str]:
        calls.append(1)
        return ["service"]

    assert cache.get_or_compute("key", compute) == ["service"]
    assert cache.get_or_compute("key", compute) == ["service"]
    assert len(calls) == 1
    assert (cache.hits, cache.misses) == (1, 1)


def test_size_zero_keeps_nothing() -> None:
    cache: ResultCache[int] = ResultCache(0)
    cache.put("a", 1)
    assert len(cache) == 0 and cache.get("a") is None


def test_threads_filling_it_at_once_never_pass_its_size() -> None:
    cache: ResultCache[int] = ResultCache(50)

    def fill(offset: int) -> None:
        for n in range(500):
            cache.put((offset, n), n)
            cache.get((offset, n - 1))

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50


def test_a_negative_size_stops_the_start_and_the_environment_sets_it(tmp_path: Path) -> None:
    environ = {"PORTAL_DEBUG": "1", "PORTAL_SEARCH_CACHE_ENTRIES": "-1"}
    with pytest.raises(ConfigError, match="PORTAL_SEARCH_CACHE_ENTRIES must not be negative"):
        load_settings(tmp_path, environ=environ)
    environ["PORTAL_SEARCH_CACHE_ENTRIES"] = "0"
    assert load_settings(tmp_path, environ=environ).search_cache_entries == 0


def test_a_heavy_value_makes_room_by_dropping_the_least_recently_used() -> None:
    cache: ResultCache[str] = ResultCache(5)
    for key in "abcd":
        cache.put(key, key)
    assert cache.get("a") == "a"  # "b" is now the least recently used
    cache.put("listing", "many", weight=3)
    assert cache.weight <= 5
    assert [cache.get(key) for key in ("b", "c", "d", "a")] == [None, None, "d", "a"]
    assert cache.get("listing") == "many"
    cache.put("listing", "fewer", weight=1)  # replacing a value frees its weight
    assert cache.weight == 3


def test_a_value_heavier_than_the_whole_cache_is_not_kept() -> None:
    cache: ResultCache[str] = ResultCache(3)
    cache.put("a", "a")
    cache.put("huge", "x" * 10, weight=10)
    assert cache.get("huge") is None and cache.get("a") == "a"
