"""The catalogue as open data: a read-only JSON API after the HSDS 3.0 API specification."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException

from .. import db, labels
from ..forms.base import parse_number
from ..i18n import CONTENT_LANGUAGES, DEFAULT_LOCALE, catalog_of
from ..models import Organization
from ..services import catalogue, catalogue_search, hsds
from . import cached_search

bp = Blueprint("api", __name__, url_prefix="/api/hsds")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
PROFILE_URL = "https://github.com/openreferral/specification/tree/3.0"


class BadParameter(HTTPException):
    """A query parameter the API cannot use."""

    code = 400


def _lang() -> str:
    lang = request.args.get("lang", DEFAULT_LOCALE)
    if lang not in CONTENT_LANGUAGES:
        raise BadParameter(f"lang must be one of {', '.join(CONTENT_LANGUAGES)}")
    return lang


def _positive(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_number(raw, maximum)
    if value is None or value < 1:
        raise BadParameter(f"{name} must be a whole number from 1 to {maximum}")
    return value


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise BadParameter(f"{name} must be true or false")
    return raw in ("true", "1")


def _modified_after() -> datetime | None:
    raw = request.args.get("modified_after")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadParameter("modified_after must be a date-time like 2026-11-01T00:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _term_names(lang: str) -> Callable[[str], tuple[str, str]]:
    def names(code: str) -> tuple[str, str]:
        with force_locale(catalog_of(lang)):
            return str(labels.CATALOGUE_TOPICS[code]), str(labels.CATALOGUE_TOPIC_HINTS[code])

    return names


def _page(contents: list[dict[str, Any]], total: int, page: int, per_page: int) -> Response:
    pages = max(1, math.ceil(total / per_page))
    return _json(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": page,
            "size": len(contents),
            "first_page": page == 1,
            "last_page": page >= pages,
            "empty": not contents,
            "contents": contents,
        }
    )


def _json(data: Any, lang: str | None = None) -> Response:
    response = jsonify(data)
    response.headers["Content-Language"] = lang or request.args.get("lang", DEFAULT_LOCALE)
    return response


@bp.after_request
def _open_data_headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    # The records are public (the page cache gives them its public Cache-Control); the words
    # someone searched for ("Schulden", "Sucht") are not for shared caches, as on the
    # catalogue's own search page.
    if request.args.get("search", "").strip():
        response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Language")
    return response


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> tuple[Response, int, list[tuple[str, str]]]:
    code = error.code or 500
    headers = [(name, value) for name, value in error.get_headers() if name == "Allow"]
    return jsonify({"error": error.description, "status": code}), code, headers


@bp.get("/")
def root() -> Response:
    """What this API is: HSDS 3.0, read-only."""
    return _json({"version": hsds.HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


@bp.get("/services")
def services() -> Response:
    """A page of services; ``full=true`` nests everything, ``search`` searches in ``lang``."""
    lang = _lang()
    page = _positive("page", 1, 100_000)
    per_page = _positive("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    full = _flag("full")
    term_id = request.args.get("taxonomy_term_id", "")
    taxonomy_id = request.args.get("taxonomy_id", "")
    topic = hsds.TERM_CODES.get(term_id.lower()) if term_id else None
    if (term_id and topic is None) or (taxonomy_id and taxonomy_id != hsds.TAXONOMY_ID):
        return _page([], 0, page, per_page)
    filters = catalogue_search.Filters(
        topic=topic,
        organization_id=request.args.get("organization_id") or None,
        modified_after=_modified_after(),
    )
    result = cached_search().ranked(
        lang,
        request.args.get("search", "")[:200],
        filters,
        page,
        per_page,
    )
    if full:
        names = _term_names(lang)
        found = catalogue.services_by_ids(db.session(), result.service_ids)
        records = [hsds.service_record(s, lang, names) for s in found]
    else:
        records = hsds.service_records(db.session(), result.service_ids, lang)
    return _page(records, result.total, page, per_page)


@bp.get("/services/<service_id>")
def service(service_id: str) -> Response:
    """One fully nested service."""
    lang = _lang()
    found = catalogue.service_by_id(db.session(), service_id.lower())
    if found is None:
        abort(404, description="No service with this id.")
    return _json(hsds.service_record(found, lang, _term_names(lang), full=True))


@bp.get("/organizations")
def organizations() -> Response:
    """A page of organisations."""
    lang = _lang()
    page = _positive("page", 1, 100_000)
    per_page = _positive("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    rows, total = catalogue.organizations_page(db.session(), page, per_page)
    return _page([_organization(o, lang) for o in rows], total, page, per_page)


def _organization(organization: Organization, lang: str) -> dict[str, Any]:
    return hsds.organization_record(organization, lang)


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str) -> Response:
    """One organisation with the services it provides."""
    lang = _lang()
    found = catalogue.organization_by_id(db.session(), organization_id.lower())
    if found is None:
        abort(404, description="No organization with this id.")
    record = hsds.organization_record(found, lang)
    names = _term_names(lang)
    full = _flag("full_service")
    record["services"] = [
        hsds.service_record(s, lang, names, full=full)
        for s in catalogue.services_of(db.session(), found.id)
    ]
    return _json(record)


@bp.get("/taxonomies")
def taxonomies() -> Response:
    """The catalogue's one taxonomy."""
    return _page([hsds.taxonomy_record()], 1, 1, DEFAULT_PER_PAGE)


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str) -> Response:
    """The taxonomy by id."""
    if taxonomy_id.lower() != hsds.TAXONOMY_ID:
        abort(404, description="No taxonomy with this id.")
    return _json(hsds.taxonomy_record())


@bp.get("/taxonomy_terms")
def taxonomy_terms() -> Response:
    """The topics, named in ``lang``."""
    lang = _lang()
    taxonomy_id = request.args.get("taxonomy_id", hsds.TAXONOMY_ID)
    names = _term_names(lang)
    terms = (
        [hsds.term_record(code, names) for code in catalogue.TOPICS]
        if taxonomy_id == hsds.TAXONOMY_ID
        else []
    )
    return _page(terms, len(terms), 1, max(len(terms), 1))


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> Response:
    """One topic, named in ``lang``."""
    lang = _lang()
    code = hsds.TERM_CODES.get(term_id.lower())
    if code is None:
        abort(404, description="No taxonomy term with this id.")
    return _json(hsds.term_record(code, _term_names(lang)))
