"""The help catalogue: topics, reading services in a language, and keeping the search index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from babel import Locale
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..models import (
    Location,
    Organization,
    SearchDocument,
    Service,
    ServiceAtLocation,
)
from ..models.catalogue import COSTS as COSTS  # the cost codes, for forms and HSDS records
from .catalogue_search import VISIBLE_STATUSES, index_text

SOURCE_LANGUAGE = "de"
# The catalogue's taxonomy. Their labels live in ``portal.labels.CATALOGUE_TOPICS``.
TOPICS = (
    "therapy",
    "transport",
    "household",
    "care",
    "benefits",
    "debt",
    "addiction",
    "older_people",
    "everyday",
    "housing",
)
# The help request's topic that an "ask about this service" request starts with.
REQUEST_TOPIC = {
    "therapy": "therapy",
    "transport": "transport",
    "household": "household",
    "care": "care",
    "benefits": "benefits",
    "debt": "debt",
    "addiction": "therapy",
    "older_people": "everyday",
    "everyday": "everyday",
    "housing": "housing",
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class HasLang(Protocol):
    """A row of text in one language."""

    lang: str


T = TypeVar("T", bound=HasLang)


@dataclass(frozen=True)
class InLanguage(Generic[T]):
    """A record's text in the reader's language, or German when it has none (``fallback``)."""

    text: T
    lang: str
    fallback: bool


def in_language(texts: Sequence[T], lang: str) -> InLanguage[T]:
    """Pick the text in ``lang`` from rows with a ``lang`` attribute, else the German one."""
    by_lang = {row.lang: row for row in texts}
    if lang in by_lang:
        return InLanguage(by_lang[lang], lang, False)
    if SOURCE_LANGUAGE in by_lang:
        return InLanguage(by_lang[SOURCE_LANGUAGE], SOURCE_LANGUAGE, lang != SOURCE_LANGUAGE)
    first = texts[0]
    return InLanguage(first, first.lang, True)


def language_name(code: str, locale: str) -> str:
    """A language's name (ISO 639 code) in ``locale``, capitalised: "Türkisch", "Turkish"."""
    try:
        name = Locale.parse(code).get_display_name(locale) or ""
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:] if name else code


def service_by_id(session: Session, service_id: str) -> Service | None:
    """A visible or hidden service by its HSDS identifier."""
    return session.get(Service, service_id)


def visible_service(session: Session, service_id: str) -> Service | None:
    """A service residents may see (active or temporarily closed), by its identifier."""
    found = service_by_id(session, service_id.lower())
    return found if found is not None and found.status in VISIBLE_STATUSES else None


def services_by_ids(session: Session, ids: Sequence[str]) -> list[Service]:
    """Services in the order of ``ids`` (search results keep their ranking)."""
    statement = select(Service).where(Service.id.in_(ids))
    found = {s.id: s for s in session.scalars(statement)}
    return [found[i] for i in ids if i in found]


def organization_by_id(session: Session, organization_id: str) -> Organization | None:
    """An organisation by its HSDS identifier."""
    return session.get(Organization, organization_id)


def organizations_page(
    session: Session, page: int, per_page: int
) -> tuple[list[Organization], int]:
    """A page of organisations in a stable order, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Organization)) or 0
    rows = session.scalars(
        select(Organization).order_by(Organization.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), int(total)


def services_of(session: Session, organization_id: str) -> list[Service]:
    """Every service an organisation provides."""
    return list(
        session.scalars(
            select(Service).where(Service.organization_id == organization_id).order_by(Service.id)
        )
    )


def has_demo(session: Session) -> bool:
    """Whether the catalogue holds invented demo content (the pages then say so)."""
    return session.scalar(select(Service.id).where(Service.demo.is_(True)).limit(1)) is not None


def reindex(
    session: Session,
    service: Service,
    languages: Iterable[str],
    organization: Organization | None = None,
    fresh: bool = False,
) -> None:
    """Write the service's search documents, one per language (German where one lacks).

    ``fresh`` says the service has no documents yet (a new import), which saves a delete.
    """
    if not fresh:
        session.execute(delete(SearchDocument).where(SearchDocument.service_id == service.id))
    provider = organization or service.organization
    provider_texts = provider.texts if provider else []
    for lang in languages:
        text = in_language(service.texts, lang).text
        provider_text = in_language(provider_texts, lang).text if provider_texts else None
        session.add(
            SearchDocument(
                service_id=service.id,
                lang=lang,
                title=index_text(text.name),
                body=index_text(
                    text.alternate_name,
                    text.description,
                    text.eligibility_description,
                    text.application_process,
                    text.fees_description,
                    provider_text.name if provider_text else "",
                ),
            )
        )


CATALOGUE_TABLES = (
    "catalogue_organization",
    "catalogue_organization_text",
    "catalogue_service",
    "catalogue_service_text",
    "catalogue_service_topic",
    "catalogue_service_area",
    "catalogue_service_language",
    "catalogue_search_document",
)


def refresh_statistics(session: Session) -> None:
    """Let the query planner see the catalogue as it now is (after an import of many records)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(CATALOGUE_TABLES)}"))
    else:
        for table in CATALOGUE_TABLES:
            session.execute(text(f"ANALYZE {table}"))


def delete_service(session: Session, service: Service) -> None:
    """Remove a service with its locations (unless another service shares them) and index."""
    locations = [link.location for link in service.locations]
    session.execute(delete(SearchDocument).where(SearchDocument.service_id == service.id))
    session.delete(service)
    session.flush()
    for location in locations:
        shared = session.scalar(
            select(ServiceAtLocation.id).where(ServiceAtLocation.location_id == location.id)
        )
        if shared is None:
            session.delete(location)
    session.flush()


def clear(session: Session) -> None:
    """Delete the whole catalogue (and forget every catalogue object the session holds)."""
    session.flush()
    session.execute(delete(SearchDocument))
    session.execute(delete(Service))
    session.execute(delete(Location))
    session.execute(delete(Organization))
    session.expunge_all()
