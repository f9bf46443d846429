"""Full-text search over the catalogue: one interface, SQLite FTS5 or PostgreSQL behind it.

Both databases index the same folded text (see :func:`fold`): lower case, without diacritics,
Turkish dotless i as i, Arabic letter variants and articles unified. A query is folded the same
way and every word becomes a prefix of its stem, so "Pflege" finds "Pflegedienst",
"fahrdienst" finds "Fahrdienste" and "bakım" finds "bakımı". All words must match; when that
finds nothing, any word may match, best matches first.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from ..models import SearchDocument, Service, ServiceArea, ServiceLanguage, ServiceTopic
from ..models.base import PLAN_EACH_TIME

VISIBLE_STATUSES = ("active", "temporarily closed")
MAX_TERMS = 8
_CHARACTERS = str.maketrans({"ı": "i", "ة": "ه", "ى": "ي", "ـ": None})
_WORD = re.compile(r"\w+")
_LANGUAGE_CODE = re.compile("[a-z]{2,3}")
_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
# PostgreSQL's stored, weighted tsvector (created by the migration, not a mapped column).
PG_DOCUMENT: ColumnElement[Any] = literal_column("catalogue_search_document.search_vector")
# SQLite's FTS5 table of one language's documents (migration 0016), ``{lang}`` filled in.
FTS_TABLE = "catalogue_search_fts_{lang}"


def fold(value: str) -> str:
    """Lower case without diacritics, the form both the index and queries use."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_CHARACTERS)


def _without_article(word: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) >= len(prefix) + 2:
            return word[len(prefix) :]
    return word


def index_text(*parts: str) -> str:
    """The folded words of ``parts`` for the index, Arabic words also without their article."""
    words: list[str] = []
    for part in parts:
        for word in _WORD.findall(fold(part)):
            words.append(word)
            bare = _without_article(word)
            if bare != word:
                words.append(bare)
    return " ".join(words)


def _stem(word: str) -> str:
    if len(word) >= 9:
        return word[:-2]
    if len(word) >= 6:
        return word[:-1]
    return word


def query_terms(query: str) -> list[str]:
    """The prefixes a query searches for, at most :data:`MAX_TERMS` of them."""
    terms: list[str] = []
    for word in _WORD.findall(fold(query)):
        term = _stem(_without_article(word))
        if len(term) >= 2 and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


@dataclass(frozen=True)
class Filters:
    """What a list of services is narrowed to; ``None`` means any."""

    topic: str | None = None
    town: str | None = None
    language: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None


@dataclass(frozen=True)
class ResultPage:
    """One page of service identifiers, best first, and how many there are in all."""

    service_ids: list[str]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


# A listing's order: by name, and for two services of the same name by identifier, so every
# page (and every process) agrees where one ends and the next begins.
BY_NAME = (SearchDocument.title, SearchDocument.service_id)


def _filtered(lang: str, filters: Filters) -> Select[tuple[str]]:
    document = SearchDocument.__table__
    # The language is written into the statement, not bound: PostgreSQL has an index per
    # language (migration 0016) and picks it only for a plan that knows which language.
    statement = (
        select(document.c.service_id)
        .join(Service, Service.id == document.c.service_id)
        .where(
            document.c.lang == literal(lang, literal_execute=True),
            Service.status.in_(VISIBLE_STATUSES),
        )
    )
    # Each filter is a correlated EXISTS, not an IN list: a listing then walks the language's
    # documents in order of name and stops after its page (with IN, SQLite read every member
    # of the list and sorted them all: 45 ms for one page of 10,000).
    if filters.topic:
        statement = statement.where(
            select(ServiceTopic.service_id)
            .where(
                ServiceTopic.service_id == document.c.service_id,
                ServiceTopic.topic == filters.topic,
            )
            .exists()
        )
    if filters.town:
        statement = statement.where(
            select(ServiceArea.service_id)
            .where(
                ServiceArea.service_id == document.c.service_id, ServiceArea.town == filters.town
            )
            .exists()
        )
    if filters.language:
        statement = statement.where(
            select(ServiceLanguage.service_id)
            .where(
                ServiceLanguage.service_id == document.c.service_id,
                ServiceLanguage.code == filters.language,
            )
            .exists()
        )
    if filters.organization_id:
        statement = statement.where(Service.organization_id == filters.organization_id)
    if filters.modified_after:
        statement = statement.where(Service.last_modified >= filters.modified_after)
    return statement


def _by_name(lang: str, filters: Filters) -> Select[tuple[str]]:
    """The visible services of a listing without words, in the order its pages show them."""
    return _filtered(lang, filters).order_by(*BY_NAME)


def _known(lang: str) -> str:
    """``lang`` if it looks like a language code (it names a table), else :class:`ValueError`.

    Callers pass one of ``portal.i18n.CONTENT_LANGUAGES``, which each have their table."""
    if not _LANGUAGE_CODE.fullmatch(lang):
        raise ValueError(f"not a language code: {lang!r}")
    return lang


def _words(dialect: str, terms: list[str], every: bool) -> str:
    """The search's words as the full-text index reads them: every word, or any word."""
    if dialect == "sqlite":
        return (" " if every else " OR ").join(f'"{term}"*' for term in terms)
    return (" & " if every else " | ").join(f"{term}:*" for term in terms)


def _matching(statement: Select[tuple[str]], dialect: str, lang: str) -> Select[tuple[str]]:
    """``statement`` narrowed to the documents matching the bound parameter ``words``
    (:func:`_words`), best first."""
    document = SearchDocument.__table__
    if dialect == "sqlite":
        # Each language has its FTS table; the materialised CTE keeps the full-text search the
        # outer loop (run once). ``lang`` is one of the content languages, never free text.
        fts = table(FTS_TABLE.format(lang=_known(lang)), column("rowid"))
        hits = (
            select(
                fts.c.rowid.label("id"),
                literal_column(f"bm25({fts.name}, 4.0, 1.0)").label("rank"),
            )
            .where(text(f"{fts.name} MATCH :words").bindparams(bindparam("words", type_=String)))
            .cte("hits")
            .prefix_with("MATERIALIZED")
        )
        return statement.join(hits, hits.c.id == document.c.id).order_by(
            hits.c.rank, document.c.title
        )
    query = func.to_tsquery(literal_column("'simple'"), bindparam("words", type_=String))
    # Ranked in a materialised CTE of narrow rows: ranking after the window count made
    # PostgreSQL carry every match's tsvector through it, which spilled to disk for a broad
    # word (10,000 matches: 30–50 % slower).
    ranked = (
        statement.where(PG_DOCUMENT.op("@@")(query))
        .add_columns(
            func.ts_rank(PG_DOCUMENT, query).label("rank"), document.c.title.label("title")
        )
        .cte("ranked")
        .prefix_with("MATERIALIZED")
    )
    return select(ranked.c.service_id).order_by(ranked.c.rank.desc(), ranked.c.title)


@functools.lru_cache(maxsize=256)
def _ranked(dialect: str, lang: str, filters: Filters) -> tuple[Select[Any], Select[Any]]:
    """A page of a search and its count, built once per process for each language and set of
    filters (building one costs more than SQLite's own work on it). The words, the page size
    and the offset are bound parameters: ``words``, ``limit``, ``offset``."""
    matching = _matching(_filtered(lang, filters), dialect, lang)
    # One pass: the page's rows carry the total (a window count), so the full-text search
    # runs once; only a page past the end needs the separate count.
    page = (
        matching.add_columns(func.count().over().label("total"))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    counted = select(func.count()).select_from(matching.order_by(None).subquery())
    return page, counted


def _ranked_page(
    session: Session,
    lang: str,
    filters: Filters,
    terms: list[str],
    every: bool,
    page: int,
    per_page: int,
) -> ResultPage:
    dialect = session.get_bind().dialect.name
    statement, counted = _ranked(dialect, lang, filters)
    words = {"words": _words(dialect, terms, every)}
    connection = session.connection()
    rows = connection.execute(
        statement,
        {**words, "limit": per_page, "offset": (page - 1) * per_page},
        execution_options={PLAN_EACH_TIME: True},
    ).all()
    if rows:
        return ResultPage([str(row[0]) for row in rows], int(rows[0][1]), page, per_page)
    found = connection.execute(counted, words, execution_options={PLAN_EACH_TIME: True})
    return ResultPage([], int(found.scalar() or 0), page, per_page)


def _listed_page(
    session: Session, statement: Select[tuple[str]], page: int, per_page: int, total: int | None
) -> ResultPage:
    # A listing by name walks the (lang, title) index and stops after the page.
    rows = session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    if total is None:
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        total = int(session.scalar(counted) or 0)
    return ResultPage([str(row[0]) for row in rows], total, page, per_page)


def search(
    session: Session,
    lang: str,
    query: str = "",
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 10,
    listed: int | None = None,
) -> ResultPage:
    """Services matching ``query`` in language ``lang``, best first; all of them, by name, without.

    ``listed`` is :func:`count_listed` when the caller knows it: a listing without words then
    reads only its page.
    """
    page = max(1, page)
    filters = filters or Filters()
    terms = query_terms(query)
    if not terms:
        return _listed_page(session, _by_name(lang, filters), page, per_page, listed)
    result = _ranked_page(session, lang, filters, terms, True, page, per_page)
    if result.total == 0 and len(terms) > 1:
        result = _ranked_page(session, lang, filters, terms, False, page, per_page)
    return result


def listing(session: Session, lang: str, filters: Filters | None = None) -> tuple[str, ...]:
    """Every visible service of a listing without words, in the order its pages show them.

    One walk of the (lang, title) index: a cache that keeps it answers any page of the listing
    as a slice, where a page deep in the catalogue would walk the index up to its offset
    (page 100 of 10,000 offers: 14 ms on PostgreSQL, each time).
    """
    return tuple(session.scalars(_by_name(lang, filters or Filters())))


def slice_page(
    ids: Sequence[str], page: int, per_page: int, total: int | None = None
) -> ResultPage:
    """Page ``page`` of results kept whole (a :func:`listing`), or of the first ``len(ids)``
    of ``total`` (a search's best matches)."""
    page = max(1, page)
    offset = (page - 1) * per_page
    found = len(ids) if total is None else total
    return ResultPage(list(ids[offset : offset + per_page]), found, page, per_page)


def count_listed(session: Session, lang: str, filters: Filters | None = None) -> int:
    """How many visible services a listing without words has (the same on each of its pages)."""
    statement = _filtered(lang, filters or Filters())
    return int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


def counts_by_topic(session: Session, topics: Iterable[str]) -> dict[str, int]:
    """How many visible services each topic has."""
    codes = list(topics)
    rows = session.execute(
        select(ServiceTopic.topic, func.count())
        .join(Service, Service.id == ServiceTopic.service_id)
        .where(Service.status.in_(VISIBLE_STATUSES), ServiceTopic.topic.in_(codes))
        .group_by(ServiceTopic.topic)
    ).all()
    found = {topic: int(count) for topic, count in rows}
    return {topic: found.get(topic, 0) for topic in codes}
