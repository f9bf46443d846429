"""A bounded cache of search results, keyed by the content revision, for each process.

A search's results depend only on the catalogue, the words (as :func:`query_terms` reads
them), the filters, the language and the page. The content revision
(:func:`portal.services.content.current`) changes in the same transaction as every change to the
catalogue, so an entry keyed by it is never stale, in any process: a change makes a new key,
and the old entries are never asked for again and leave as the least recently used.

Most entries are a page of results (about 5–10 KB). A larger value, such as the whole ordered
listing of a language, is stored with a weight of several entries, so the cache stays as large
in memory as its size promises.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ResultCache(Generic[V]):
    """Values weighing at most ``size`` in all (most weigh 1); the least recently used leave
    first. Safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def weight(self) -> int:
        """What the values kept now weigh together (never more than the size)."""
        return self._weight

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` (now the most recently used), or ``None``."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: V, weight: int = 1) -> None:
        """Store ``value``; drop the least recently used entries until all fit in the size.

        A value heavier than the whole cache is not kept."""
        if weight > self.size:
            return
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._weight -= replaced[1]
            self._entries[key] = (value, weight)
            self._weight += weight
            while self._weight > self.size:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value, or ``compute()`` stored for the next time.

        Two threads missing the same key at once both compute it (the same result); holding the
        lock while a query runs would make every search wait for the slowest one.
        """
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._weight = 0
