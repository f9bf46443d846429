"""Pages of search results as the catalogue page and the API show them, cached per revision.

A list of results shows a service's name, provider and the start of its description: they are
read in one query of plain columns (no ORM objects with every relationship), and a
page of them is kept in a :class:`~.search_cache.ResultCache` under the content revision, the
language, the words as the search reads them, the filters and the page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from ..models import OrganizationText, Service, ServiceText
from . import content
from .catalogue import SOURCE_LANGUAGE, has_demo, in_language
from .catalogue_search import (
    Filters,
    ResultPage,
    count_listed,
    listing,
    query_terms,
    search,
    slice_page,
)
from .search_cache import ResultCache

T = TypeVar("T")
# A list shows at most 220 characters of a description (templates/catalogue/index.html); the
# template shortens at a word boundary, which these characters always contain.
DESCRIPTION_CHARS = 300


@dataclass(frozen=True)
class ServiceSummary:
    """What a list of results shows of one service, each text in the language it is really in."""

    id: str
    status: str
    name: str
    description: str
    lang: str
    fallback: bool
    provider: str
    provider_lang: str
    provider_fallback: bool


@dataclass(frozen=True)
class SummaryPage:
    """A page of search results with what the list shows of each."""

    results: ResultPage
    services: list[ServiceSummary]


@dataclass
class _Text:
    """A text row's few columns (not frozen: :class:`.catalogue.HasLang` may write ``lang``)."""

    lang: str
    name: str
    description: str = ""


@functools.lru_cache(maxsize=64)
def _texts_statement(langs: tuple[str, ...] | None) -> Select[Any]:
    """The query of :func:`_rows`, built once per set of languages (the identifiers are the
    bound parameter ``ids``)."""
    wanted_text = ServiceText.service_id == Service.id
    wanted_name = OrganizationText.organization_id == Service.organization_id
    if langs is not None:
        wanted_text &= ServiceText.lang.in_(langs)
        wanted_name &= OrganizationText.lang.in_(langs)
    return (
        select(
            Service.id,
            Service.status,
            ServiceText.lang,
            ServiceText.name,
            func.substr(ServiceText.description, 1, DESCRIPTION_CHARS),
            OrganizationText.lang,
            OrganizationText.name,
        )
        .join(ServiceText, wanted_text)
        .outerjoin(OrganizationText, wanted_name)
        .where(Service.id.in_(bindparam("ids", expanding=True)))
    )


def _rows(session: Session, ids: Sequence[str], langs: Sequence[str] | None) -> Sequence[Any]:
    """Each service of ``ids`` with its texts and its provider's names (those in ``langs`` only,
    when given): one query, a row per pair of texts."""
    statement = _texts_statement(None if langs is None else tuple(langs))
    return list(session.connection().execute(statement, {"ids": list(ids)}))


def _collect(rows: Sequence[Any]) -> dict[str, tuple[str, list[_Text], list[_Text]]]:
    found: dict[str, tuple[str, list[_Text], list[_Text]]] = {}
    for row in rows:
        service_id, status, lang, name, description, provider_lang, provider = row
        _status, texts, providers = found.setdefault(service_id, (status, [], []))
        if all(text.lang != lang for text in texts):
            texts.append(_Text(lang, name, description or ""))
        if provider_lang is not None and all(p.lang != provider_lang for p in providers):
            providers.append(_Text(provider_lang, provider))
    return found


def summaries(session: Session, ids: Sequence[str], lang: str) -> list[ServiceSummary]:
    """The services of ``ids`` in that order, as a list of results shows them in ``lang``.

    Only the texts in ``lang`` and in German are read (what :func:`.catalogue.in_language`
    picks); a service or provider with neither, which an import or an editor hardly leaves, is
    read in every language.
    """
    if not ids:
        return []
    found = _collect(_rows(session, ids, sorted({lang, SOURCE_LANGUAGE})))
    # A service or its provider with neither text: read every language, as in_language falls
    # back to whatever there is.
    missing = [i for i in ids if i not in found or not found[i][2]]
    if missing:
        found.update(_collect(_rows(session, missing, None)))
    shown: list[ServiceSummary] = []
    for service_id in ids:
        if service_id not in found:
            continue
        status, texts, providers = found[service_id]
        texts.sort(key=lambda text: text.lang)
        providers.sort(key=lambda provider: provider.lang)
        text = in_language(texts, lang)
        provider = in_language(providers or [_Text(SOURCE_LANGUAGE, "")], lang)
        shown.append(
            ServiceSummary(
                id=service_id,
                status=status,
                name=text.text.name,
                description=text.text.description,
                lang=text.lang,
                fallback=text.fallback,
                provider=provider.text.name,
                provider_lang=provider.lang,
                provider_fallback=provider.fallback,
            )
        )
    return shown


# A listing kept whole weighs one cache entry (a page of results, 5–10 KB) per this many
# services: an identifier with its place in the listing takes about 100 bytes.
IDS_PER_ENTRY = 100
# The best this many matches of a search are read at once (five pages of the catalogue's list,
# one of the API's).
BEST = 50
# Pages of a listing within its first this many services are read one by one (a walk of at
# most this many index entries); reading a listing of 10,000 whole costs 10 ms in Python.
SHALLOW = 100


def _closed(filters: Filters | None) -> bool:
    """Whether ``filters`` are only those chosen from a short list (topic, town, language): a
    listing by a provider or a date, which anyone can vary without end, is not kept whole."""
    return filters is None or (filters.organization_id is None and filters.modified_after is None)


class CachedSearch:
    """The searches of one request, answered from ``cache`` when they were asked before.

    A page of results is kept under the content revision, the language, the words as the
    search reads them (:func:`.catalogue_search.query_terms`), the filters and the page. A
    search's best :data:`BEST` matches are kept together, and so is a listing without words
    once a page past its first :data:`SHALLOW` services is asked: their pages are slices.

    The revision is ``revision`` when the caller knows it already (the page cache read it at
    most a second ago), else read once, on the first search of the request.
    """

    def __init__(
        self, session: Session, cache: ResultCache[object], revision: str | None = None
    ) -> None:
        self.session = session
        self.cache = cache
        self._revision = revision

    @property
    def revision(self) -> str:
        """The content revision's tag, read on first use."""
        if self._revision is None:
            self._revision = content.current(self.session).tag
        return self._revision

    def _key(self, lang: str, query: str, filters: Filters | None) -> tuple[object, ...]:
        return (self.revision, lang, tuple(query_terms(query)), filters or Filters())

    def _search(
        self,
        key: tuple[object, ...],
        lang: str,
        query: str,
        filters: Filters | None,
        page: int,
        per_page: int,
    ) -> ResultPage:
        listed = None
        if not key[2] and _closed(filters):
            # A listing picked from menus. Its first pages are read as pages; a page further on
            # (the API's, walked by a program) reads it whole once, and from then on every page
            # is a slice of it.
            whole = ("listing", *key)
            ids = self.cache.get(whole)
            if ids is None and max(1, page) * per_page > SHALLOW:
                ids = listing(self.session, lang, filters)
                self.cache.put(whole, ids, 1 + len(ids) // IDS_PER_ENTRY)
            if isinstance(ids, tuple):
                return slice_page(ids, page, per_page)
        if key[2] and max(1, page) * per_page <= BEST:
            # Words: the best matches are read at once and kept; the first pages are slices.
            # Ranking costs the same for 10 or 50 (every match is scored), and page 2 of a
            # word in thousands of offers would otherwise score them all again.
            best = self.cache.get_or_compute(
                ("best", *key), lambda: search(self.session, lang, query, filters, 1, BEST)
            )
            assert isinstance(best, ResultPage)
            return slice_page(best.service_ids, page, per_page, best.total)
        if not key[2]:  # no words: a listing, whose count is the same on every page
            counted = self.cache.get_or_compute(
                ("listed", *key), lambda: count_listed(self.session, lang, filters)
            )
            assert isinstance(counted, int)
            listed = counted
        return search(self.session, lang, query, filters, page, per_page, listed)

    def ranked(
        self,
        lang: str,
        query: str = "",
        filters: Filters | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> ResultPage:
        """:func:`.catalogue_search.search`, from the cache when it was asked before."""
        key = self._key(lang, query, filters)
        found = self.cache.get_or_compute(
            ("ranked", *key, max(1, page), per_page),
            lambda: self._search(key, lang, query, filters, page, per_page),
        )
        assert isinstance(found, ResultPage)
        return found

    def summary_page(
        self,
        lang: str,
        display_lang: str,
        query: str = "",
        filters: Filters | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> SummaryPage:
        """A page of results searched in ``lang`` and shown in ``display_lang``."""
        key = self._key(lang, query, filters)

        def compute() -> SummaryPage:
            results = self._search(key, lang, query, filters, page, per_page)
            return SummaryPage(results, summaries(self.session, results.service_ids, display_lang))

        found = self.cache.get_or_compute(
            ("summary", *key, max(1, page), per_page, display_lang), compute
        )
        assert isinstance(found, SummaryPage)
        return found

    def per_revision(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, once per content revision in this process: what public pages show of
        the catalogue and the towns, which changes only with the revision."""
        return cast(T, self.cache.get_or_compute((name, self.revision), compute))

    def shows_demo(self) -> bool:
        """:func:`.catalogue.has_demo`, asked once per revision (PostgreSQL scans every service)."""
        return self.per_revision("demo", lambda: has_demo(self.session)) is True
