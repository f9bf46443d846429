"""Request references like ``SD-2026-00042``: unique, per year, safe under concurrency."""

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import ReferenceCounter


def format_reference(year: int, number: int) -> str:
    """``SD-<year>-<5 digits>``; numbers above 99999 simply grow a digit."""
    return f"SD-{year}-{number:05d}"


def next_reference(session: Session, year: int) -> str:
    """Take the next number of ``year`` inside the caller's transaction.

    The counter row is updated in place, which locks it until the transaction ends: two
    concurrent submissions queue on that lock (PostgreSQL row lock, SQLite write lock) and
    never share a number. A rolled-back transaction gives its number back, a crash after
    commit leaves a gap, which is allowed.
    """
    bump = (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_value=ReferenceCounter.last_value + 1)
        .returning(ReferenceCounter.last_value)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.execute(insert(ReferenceCounter).values(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created the year's row first
        number = session.execute(bump).scalar_one()
    return format_reference(year, number)


def current_count(session: Session, year: int) -> int:
    """How many references ``year`` has handed out so far."""
    value = session.scalar(select(ReferenceCounter.last_value).where(ReferenceCounter.year == year))
    return value or 0
