"""Unfinished requests, kept on the server under a random key the browser holds."""

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import RequestDraft, utcnow
from .errors import DraftExpired
from .tokens import hash_token, new_token


class DraftAnswers:
    """Base of a flow's typed answers (a frozen dataclass) read from and written to a draft.

    A draft stores its answers as JSON: lists there are tuples here, an answer not given is
    its field's default, and stored keys the type does not know (older drafts) are ignored.
    """

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Self:
        """The typed answers of a draft's stored ``answers``."""
        known = {field.name for field in fields(cls)}  # type: ignore[arg-type]
        values = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in stored.items()
            if name in known and value is not None
        }
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The answers as the draft stores them; answers not given are left out."""
        stored: dict[str, Any] = {}
        for field in fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.default is not MISSING and value == field.default:
                continue
            stored[field.name] = list(value) if isinstance(value, tuple) else value
        return stored


# The answers about the person concerned when someone asks for another, and the home address.
RELATION_ANSWERS = ("subject_name", "relationship", "authority")
ADDRESS_ANSWERS = ("street", "postcode", "city")


@dataclass(frozen=True)
class PersonAnswers(DraftAnswers):
    """What every flow asks: for whom, the person concerned, the town and how to reach the asker."""

    who: str = ""
    subject_name: str = ""
    relationship: str = ""
    authority: str = ""
    town: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""

    @property
    def for_other(self) -> bool:
        """Whether someone asks for another person (who is then named, with the authority)."""
        return self.who == "other"

    def first_empty(self, names: tuple[str, ...]) -> str | None:
        """The first of ``names`` not answered yet."""
        return next((name for name in names if not getattr(self, name)), None)

    def person_columns(self, home: bool) -> dict[str, Any]:
        """The columns of a request or booking that these answers fill, besides the asker's name:
        the person concerned only when asking for another, the address only for a ``home`` visit."""
        other = self.for_other
        return {
            "on_behalf": other,
            "relationship_kind": self.relationship if other else "",
            "subject_name": self.subject_name if other else "",
            "authority": self.authority if other else "",
            "phone": self.phone,
            "email": self.email,
            "street": self.street if home else "",
            "postcode": self.postcode if home else "",
            "city": self.city if home else "",
        }

    def missing_person(self) -> str | None:
        """The first answer about the person concerned still missing, if asking for another."""
        return self.first_empty(RELATION_ANSWERS) if self.for_other else None


def start_draft(session: Session, hours: int, answers: dict[str, Any] | None = None) -> str:
    """Create an empty draft and return the key for the browser's session cookie."""
    key = new_token()
    now = utcnow()
    session.add(
        RequestDraft(
            key_hash=hash_token(key),
            answers=dict(answers or {}),
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return key


def load_draft(session: Session, key: str | None) -> RequestDraft:
    """The live draft for ``key``; :class:`DraftExpired` when there is none."""
    if not key:
        raise DraftExpired()
    draft = session.scalar(select(RequestDraft).where(RequestDraft.key_hash == hash_token(key)))
    if draft is None or draft.expires_at <= utcnow():
        raise DraftExpired()
    return draft


def save_answers(draft: RequestDraft, answers: dict[str, Any], hours: int) -> None:
    """Merge ``answers`` into the draft and keep it alive for another ``hours``."""
    merged = dict(draft.answers)
    merged.update(answers)
    draft.answers = merged
    draft.updated_at = utcnow()
    draft.expires_at = draft.updated_at + timedelta(hours=hours)


def forget_answers(draft: RequestDraft, names: tuple[str, ...]) -> None:
    """Drop answers that no longer apply (e.g. the address after choosing a call back)."""
    draft.answers = {k: v for k, v in draft.answers.items() if k not in names}


def discard_draft(session: Session, draft: RequestDraft) -> None:
    """Delete a draft and everything in it."""
    session.delete(draft)


def purge_expired_drafts(session: Session, now: datetime | None = None) -> int:
    """Delete drafts past their expiry; returns how many."""
    result = session.execute(
        delete(RequestDraft).where(RequestDraft.expires_at <= (now or utcnow()))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
