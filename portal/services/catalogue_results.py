"""Pages of search results as the catalogue page and the API show them, cached per revision.

A list of results shows a service's name, provider and the start of its description: they are
read in three small queries of plain columns (no ORM objects with every relationship), and a
page of them is kept in a :class:`~.search_cache.ResultCache` under the content revision, the
language, the words as the search reads them, the filters and the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import OrganizationText, Service, ServiceText
from . import content
from .catalogue import has_demo, in_language
from .catalogue_search import Filters, ResultPage, count_listed, query_terms, search
from .search_cache import ResultCache

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


def _texts(session: Session, ids: Sequence[str]) -> dict[str, list[_Text]]:
    rows = session.execute(
        select(
            ServiceText.service_id,
            ServiceText.lang,
            ServiceText.name,
            func.substr(ServiceText.description, 1, DESCRIPTION_CHARS),
        )
        .where(ServiceText.service_id.in_(ids))
        .order_by(ServiceText.service_id, ServiceText.lang)
    ).all()
    texts: dict[str, list[_Text]] = {}
    for service_id, lang, name, description in rows:
        texts.setdefault(service_id, []).append(_Text(lang, name, description or ""))
    return texts


def _provider_names(session: Session, organization_ids: set[str]) -> dict[str, list[_Text]]:
    rows = session.execute(
        select(OrganizationText.organization_id, OrganizationText.lang, OrganizationText.name)
        .where(OrganizationText.organization_id.in_(organization_ids))
        .order_by(OrganizationText.organization_id, OrganizationText.lang)
    ).all()
    names: dict[str, list[_Text]] = {}
    for organization_id, lang, name in rows:
        names.setdefault(organization_id, []).append(_Text(lang, name))
    return names


def summaries(session: Session, ids: Sequence[str], lang: str) -> list[ServiceSummary]:
    """The services of ``ids`` in that order, as a list of results shows them in ``lang``."""
    if not ids:
        return []
    services = {
        row.id: row
        for row in session.execute(
            select(Service.id, Service.status, Service.organization_id).where(Service.id.in_(ids))
        )
    }
    texts = _texts(session, ids)
    providers = _provider_names(session, {row.organization_id for row in services.values()})
    found: list[ServiceSummary] = []
    for service_id in ids:
        row = services.get(service_id)
        if row is None or service_id not in texts:
            continue
        text = in_language(texts[service_id], lang)
        provider = in_language(providers.get(row.organization_id) or [_Text("de", "")], lang)
        found.append(
            ServiceSummary(
                id=service_id,
                status=row.status,
                name=text.text.name,
                description=text.text.description,
                lang=text.lang,
                fallback=text.fallback,
                provider=provider.text.name,
                provider_lang=provider.lang,
                provider_fallback=provider.fallback,
            )
        )
    return found


def _key(session: Session, lang: str, query: str, filters: Filters | None) -> tuple[object, ...]:
    revision = content.current(session).tag
    return (revision, lang, tuple(query_terms(query)), filters or Filters())


def _search(
    session: Session,
    cache: ResultCache[object],
    key: tuple[object, ...],
    lang: str,
    query: str,
    filters: Filters | None,
    page: int,
    per_page: int,
) -> ResultPage:
    listed = None
    if not key[2]:  # no words: a listing, whose count is the same on every page
        counted = cache.get_or_compute(
            ("listed", *key), lambda: count_listed(session, lang, filters)
        )
        assert isinstance(counted, int)
        listed = counted
    return search(session, lang, query, filters, page, per_page, listed)


def ranked(
    session: Session,
    cache: ResultCache[object],
    lang: str,
    query: str = "",
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 10,
) -> ResultPage:
    """:func:`.catalogue_search.search`, answered from ``cache`` when it was asked before."""
    key = _key(session, lang, query, filters)
    found = cache.get_or_compute(
        ("ranked", *key, max(1, page), per_page),
        lambda: _search(session, cache, key, lang, query, filters, page, per_page),
    )
    assert isinstance(found, ResultPage)
    return found


def summary_page(
    session: Session,
    cache: ResultCache[object],
    lang: str,
    display_lang: str,
    query: str = "",
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 10,
) -> SummaryPage:
    """A page of results searched in ``lang``, shown in ``display_lang``, cached like :func:`ranked`."""
    key = _key(session, lang, query, filters)

    def compute() -> SummaryPage:
        results = _search(session, cache, key, lang, query, filters, page, per_page)
        return SummaryPage(results, summaries(session, results.service_ids, display_lang))

    found = cache.get_or_compute(("summary", *key, max(1, page), per_page, display_lang), compute)
    assert isinstance(found, SummaryPage)
    return found


def shows_demo(session: Session, cache: ResultCache[object]) -> bool:
    """:func:`.catalogue.has_demo`, asked once per revision (PostgreSQL scans every service)."""
    key = ("demo", content.current(session).tag)
    return cache.get_or_compute(key, lambda: has_demo(session)) is True
