"""Editing the catalogue by hand: drafts, preview, publication, history, missing translations.

An edit is saved as a draft (:class:`CatalogueDraft`, the whole record as JSON); the public
pages, the search, the API and the export read only the published tables, so a draft stays
private until an editor publishes it. Every record carries a ``version`` that each publication
raises: a draft made from an older version is refused (:class:`StaleEdit`), so two editors
never silently overwrite each other.
"""

from ..errors import StaleEdit
from .drafts import discard, draft_data, draft_of, host_service, preview, publish, save_draft
from .overview import Listed, Missing, history, listing, location_choices, missing_translations
from .records import (
    KINDS,
    MODELS,
    NAME_REQUIRED,
    REQUIRED_TEXT,
    TEXT_FIELDS,
    RecordData,
    changed_fields,
    live_record,
    new_id,
    record_name,
    snapshot,
)

__all__ = [
    "KINDS",
    "MODELS",
    "NAME_REQUIRED",
    "REQUIRED_TEXT",
    "TEXT_FIELDS",
    "Listed",
    "Missing",
    "RecordData",
    "StaleEdit",
    "changed_fields",
    "discard",
    "draft_data",
    "draft_of",
    "history",
    "host_service",
    "listing",
    "live_record",
    "location_choices",
    "missing_translations",
    "new_id",
    "preview",
    "publish",
    "record_name",
    "save_draft",
    "snapshot",
]
