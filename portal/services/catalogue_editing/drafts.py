"""Drafts of catalogue records: save, preview, publish or discard, with a version check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import CatalogueChange, CatalogueDraft, Organization, Service, ServiceAtLocation
from .. import catalogue
from ..errors import StaleEdit
from .records import (
    MODELS,
    Record,
    RecordData,
    apply,
    apply_service,
    changed_fields,
    live_record,
    new_record,
    record_name,
    snapshot,
)


def draft_of(session: Session, kind: str, record_id: str) -> CatalogueDraft | None:
    """The unpublished draft of a record, if there is one."""
    return session.scalar(
        select(CatalogueDraft).where(
            CatalogueDraft.kind == kind, CatalogueDraft.record_id == record_id
        )
    )


def draft_data(draft: CatalogueDraft) -> RecordData:
    """The draft's record as a dictionary (see :func:`snapshot`)."""
    data: RecordData = json.loads(draft.data)
    return data


def _change(
    session: Session,
    kind: str,
    record_id: str,
    action: str,
    name: str,
    fields: Sequence[str],
    staff_id: int | None,
    now: datetime,
) -> None:
    session.add(
        CatalogueChange(
            kind=kind,
            record_id=record_id,
            name=name[:200],
            action=action,
            fields=",".join(fields),
            staff_id=staff_id,
            at=now,
        )
    )


def _new_draft(session: Session, draft: CatalogueDraft) -> CatalogueDraft:
    """Add a record's first draft; a colleague's first draft at the same time wins."""
    try:
        with session.begin_nested():
            session.add(draft)
    except IntegrityError:
        raise StaleEdit from None
    return draft


def _next_revision(
    session: Session, draft: CatalogueDraft, revision: int, values: dict[str, Any]
) -> CatalogueDraft:
    """Overwrite the draft only if it is still at ``revision`` (nobody saved meanwhile)."""
    saved = session.execute(
        update(CatalogueDraft)
        .where(CatalogueDraft.id == draft.id, CatalogueDraft.revision == revision)
        .values(revision=CatalogueDraft.revision + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if saved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit
    session.refresh(draft)
    return draft


def save_draft(
    session: Session,
    kind: str,
    record_id: str,
    data: RecordData,
    base_version: int | None,
    revision: int,
    staff_id: int | None,
    now: datetime,
) -> CatalogueDraft:
    """Save an edit as the record's draft, refusing it when it is stale.

    ``base_version`` is the published version the edit started from (``None`` for a new
    record), ``revision`` the draft's revision it started from (0: there was no draft).
    """
    live = live_record(session, kind, record_id)
    if (live.version if live else None) != base_version:
        raise StaleEdit
    values: dict[str, Any] = {
        "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
        "base_version": base_version,
        "updated_by_id": staff_id,
        "updated_at": now,
    }
    draft = draft_of(session, kind, record_id)
    if draft is not None:
        draft = _next_revision(session, draft, revision, values)
    elif revision == 0:
        draft = _new_draft(
            session, CatalogueDraft(kind=kind, record_id=record_id, revision=1, **values)
        )
    else:
        raise StaleEdit  # published or discarded since the edit began
    fields = changed_fields(snapshot(kind, live) if live else None, data)
    _change(session, kind, record_id, "draft", record_name(kind, data), fields, staff_id, now)
    return draft


def host_service(session: Session, kind: str, record_id: str) -> Service | None:
    """A published service that shows this provider or location, to preview a change on."""
    if kind == "organization":
        query = select(Service).where(Service.organization_id == record_id)
    elif kind == "location":
        query = (
            select(Service)
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .where(ServiceAtLocation.location_id == record_id)
        )
    else:
        return live_record(session, kind, record_id)  # type: ignore[return-value]
    return session.scalar(query.order_by(Service.id).limit(1))


def _built(session: Session, kind: str, record_id: str, data: RecordData, now: datetime) -> Any:
    record = new_record(kind, record_id, now)
    apply(session, kind, record, data)
    return record


def preview(session: Session, kind: str, record_id: str, now: datetime) -> Service | None:
    """The public page's service with the draft in it, built for the template, never saved.

    A provider's or a location's draft is shown on a service that uses it. ``None`` without
    a draft, or without a service to show it on.
    """
    draft = draft_of(session, kind, record_id)
    host = host_service(session, kind, record_id)
    if draft is None or (host is None and kind != "service"):
        return None
    data = draft_data(draft)
    service_data = data if kind == "service" or host is None else snapshot("service", host)
    if kind == "organization":
        organization = _built(session, kind, record_id, data, now)
    else:
        organization = session.get(Organization, service_data["organization_id"])
    if organization is None:
        return None
    service = Service(
        id=host.id if host else record_id,
        demo=bool(host and host.demo),
        organization=organization,
        last_modified=host.last_modified if host else now,
    )
    with session.no_autoflush:
        apply_service(session, service, service_data)
        for link in service.locations if kind == "location" else []:
            if link.location is not None and link.location.id == record_id:
                link.location = _built(session, kind, record_id, data, now)
    if service in session:
        session.expunge(service)
    return service


def _claim(session: Session, draft: CatalogueDraft | None, revision: int) -> CatalogueDraft:
    """Take the draft of ``revision`` out of the table, or refuse: one publication wins."""
    if draft is None:
        raise StaleEdit
    claimed = session.execute(
        delete(CatalogueDraft)
        .where(CatalogueDraft.id == draft.id, CatalogueDraft.revision == revision)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit
    session.expunge(draft)
    return draft


def _target(
    session: Session, kind: str, record_id: str, base_version: int | None, now: datetime
) -> tuple[Record, RecordData | None]:
    """The record to publish into, with its published state; its version raised."""
    live = live_record(session, kind, record_id)
    if live is None:
        if base_version is not None:
            raise StaleEdit  # the record was deleted meanwhile
        record = new_record(kind, record_id, now)
        session.add(record)
        return record, None
    before = snapshot(kind, live)
    model = MODELS[kind]
    raised = session.execute(
        update(model)
        .where(model.id == record_id, model.version == base_version)
        .values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    if raised.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit
    session.refresh(live)
    return live, before


def _reindex(session: Session, record: Record, languages: Sequence[str], fresh: bool) -> None:
    """Let the search find the published text (a provider's name is in its services')."""
    if isinstance(record, Service):
        session.refresh(record)
        catalogue.reindex(session, record, languages, fresh=fresh)
    elif isinstance(record, Organization):
        for service in catalogue.services_of(session, record.id):
            catalogue.reindex(session, service, languages, record)


def publish(
    session: Session,
    kind: str,
    record_id: str,
    revision: int,
    staff_id: int | None,
    languages: Sequence[str],
    now: datetime,
) -> list[str]:
    """Make the draft of ``revision`` public; the fields that changed.

    :class:`StaleEdit` when the draft changed since the editor saw it, or the record since
    the draft was made; the caller then rolls back.
    """
    draft = _claim(session, draft_of(session, kind, record_id), revision)
    data = draft_data(draft)
    record, before = _target(session, kind, record_id, draft.base_version, now)
    if isinstance(record, Service | Organization):
        record.last_modified = now
    apply(session, kind, record, data)
    session.flush()
    _reindex(session, record, languages, fresh=before is None)
    fields = changed_fields(before, data)
    action = "created" if before is None else "published"
    _change(session, kind, record_id, action, record_name(kind, data), fields, staff_id, now)
    return fields


def discard(
    session: Session, kind: str, record_id: str, staff_id: int | None, now: datetime
) -> bool:
    """Throw the draft away; whether there was one."""
    draft = draft_of(session, kind, record_id)
    if draft is None:
        return False
    name = record_name(kind, draft_data(draft))
    session.execute(delete(CatalogueDraft).where(CatalogueDraft.id == draft.id))
    _change(session, kind, record_id, "discarded", name, [], staff_id, now)
    return True
