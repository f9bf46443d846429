"""Figures for the towns and the funder: counts, never people.

Every request counts in cells of month × town × topic group × outcome × channel; its first
response counts in a cell of working days and whether the promised day was kept; each of
its referrals counts under the catalogue organisation it went to. A request that still
exists is counted from the request itself. When the retention purge anonymises it, its
cells are added to :class:`FigureCount` in the same transaction, and from then on the
figures read the kept counts instead: nothing is counted twice and nothing is lost when
the requests themselves are gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, lazyload, load_only

from ..models import Booking, FigureCount, HelpRequest, Referral, RequestEvent
from .choices import TOPIC_GROUPS
from .requests import BERLIN
from .workdays import is_working_day

CHANNEL_GROUPS = ("online", "booking", "staff")
PROMISES = ("kept", "late", "pending", "none")
# What counts as the first response: a colleague wrote or called (reached or not), handed
# the request on, or entered it while talking to the person. Closing alone is no answer.
RESPONSE_KINDS = frozenset({"entered", "staff_message", "call", "referral"})
# Response times of this many working days or more share one bucket.
LAST_BUCKET = 10
# The referral destination of an office typed in by hand: its name is never shown.
OTHER_DESTINATION = ""


class FiguresWouldShrink(Exception):
    """A rebuild would count fewer requests than are kept: their requests are gone."""

    def __init__(self, months: list[tuple[str, int]]) -> None:
        super().__init__(months)
        self.months = months


@dataclass(frozen=True, order=True)
class Cell:
    """One combination of codes that requests are counted under."""

    month: str
    town_id: int
    measure: str
    topic_group: str = ""
    outcome: str = ""
    channel: str = ""
    detail: str = ""
    promise: str = ""


@dataclass(frozen=True)
class Period:
    """The months ``first`` to ``last`` ("YYYY-MM", both included) and optionally one town."""

    first: str
    last: str
    town_id: int | None = None

    def holds(self, cell: Cell) -> bool:
        """Whether ``cell`` lies in the period and town."""
        return self.first <= cell.month <= self.last and (
            self.town_id is None or cell.town_id == self.town_id
        )


def month_of(moment: datetime) -> str:
    """The calendar month of ``moment`` in Europe/Berlin, as "YYYY-MM"."""
    return moment.astimezone(BERLIN).strftime("%Y-%m")


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``; 0 on the same day."""
    days = 0
    current = start
    while current < end:
        current = date.fromordinal(current.toordinal() + 1)
        if is_working_day(current):
            days += 1
    return days


class Handover(NamedTuple):
    """What the figures need of a referral: where it went (a catalogue organisation) and when."""

    organization_id: str | None
    created_at: datetime


class Step(NamedTuple):
    """What the figures need of a timeline event: its kind, its time, whether staff did it."""

    kind: str
    at: datetime
    staff_id: int | None


def channel_group(request: HelpRequest, steps: Sequence[Step], booked: bool) -> str:
    """How the request came: online form, a booked appointment, or entered by staff."""
    if request.channel != "online":
        return "staff"
    if booked and not any(step.kind == "submitted" for step in steps):
        return "booking"
    return "online"


def topic_group(request: HelpRequest) -> str:
    """The group of the request's first topic; a request counts once, under its first topic."""
    return TOPIC_GROUPS.get(request.topics[0], "other") if request.topics else "other"


def response_cell(request: HelpRequest, steps: Sequence[Step], base: Cell, today: date) -> Cell:
    """Working days from receipt to the first response, and whether the promise was kept."""
    received = request.received_at.astimezone(BERLIN).date()
    for event in sorted(steps, key=lambda step: step.at):
        if event.kind in RESPONSE_KINDS and event.staff_id is not None:
            answered = event.at.astimezone(BERLIN).date()
            days = min(working_days_between(received, answered), LAST_BUCKET)
            promise = "kept" if answered <= request.respond_by else "late"
            return replace(base, measure="response", detail=str(days), promise=promise)
    if request.status != "closed" and today <= request.respond_by:
        return replace(base, measure="response", detail="", promise="pending")
    promise = "late" if request.status != "closed" else "none"
    return replace(base, measure="response", detail="", promise=promise)


def cells_of(
    request: HelpRequest,
    steps: Sequence[Step],
    referrals: Iterable[Handover],
    booked: bool,
    today: date,
) -> list[Cell]:
    """Every cell one request counts in: itself, its first response, each referral."""
    base = Cell(
        month=month_of(request.received_at),
        town_id=request.town_id,
        measure="request",
        topic_group=topic_group(request),
        outcome=request.outcome if request.status == "closed" else "open",
        channel=channel_group(request, steps, booked),
    )
    found = [base, response_cell(request, steps, base, today)]
    for referral in referrals:
        found.append(
            Cell(
                month=month_of(referral.created_at),
                town_id=request.town_id,
                measure="referral",
                topic_group=base.topic_group,
                channel=base.channel,
                detail=referral.organization_id or OTHER_DESTINATION,
            )
        )
    return found


def _live_cells(session: Session, requests: list[HelpRequest], today: date) -> Counter[Cell]:
    """Count ``requests``, reading only the columns of their events and referrals needed."""
    ids = [request.id for request in requests]
    steps: dict[int, list[Step]] = {}
    referrals: dict[int, list[Handover]] = {}
    booked: set[int] = set()
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for request_id, kind, at, staff_id in session.execute(
            select(
                RequestEvent.request_id, RequestEvent.kind, RequestEvent.at, RequestEvent.staff_id
            ).where(
                RequestEvent.request_id.in_(part),
                RequestEvent.kind.in_((*RESPONSE_KINDS, "submitted")),
            )
        ):
            steps.setdefault(request_id, []).append(Step(kind, at, staff_id))
        for request_id, organization_id, created_at in session.execute(
            select(Referral.request_id, Referral.organization_id, Referral.created_at)
            .where(Referral.request_id.in_(part))
            .order_by(Referral.id)
        ):
            referrals.setdefault(request_id, []).append(Handover(organization_id, created_at))
        booked.update(
            session.scalars(select(Booking.request_id).where(Booking.request_id.in_(part)))
        )
    counts: Counter[Cell] = Counter()
    for request in requests:
        counts.update(
            cells_of(
                request,
                steps.get(request.id, []),
                referrals.get(request.id, []),
                request.id in booked,
                today,
            )
        )
    return counts


# The columns a request is counted by; none of them personal.
_FACTS = (
    load_only(
        HelpRequest.id,
        HelpRequest.town_id,
        HelpRequest.received_at,
        HelpRequest.respond_by,
        HelpRequest.topics,
        HelpRequest.status,
        HelpRequest.outcome,
        HelpRequest.channel,
    ),
    lazyload(HelpRequest.town),
    lazyload(HelpRequest.assignee),
)


def month_start(month: str) -> datetime:
    """The first moment of ``month`` ("YYYY-MM") in Europe/Berlin."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=BERLIN)


def live_counts(session: Session, today: date, period: Period | None = None) -> Counter[Cell]:
    """The cells of the requests not yet anonymised, counted from the requests.

    With ``period``, only requests that can count in it are read: those of its town,
    received before it ends, and received in it or referred on in it.
    """
    query = select(HelpRequest).where(HelpRequest.anonymised_at.is_(None)).options(*_FACTS)
    if period is not None:
        start = month_start(period.first)
        year, number = (int(part) for part in period.last.split("-"))
        end = month_start(f"{year + number // 12:04d}-{number % 12 + 1:02d}")
        referred = select(Referral.request_id).where(Referral.created_at >= start)
        query = query.where(
            HelpRequest.received_at < end,
            or_(HelpRequest.received_at >= start, HelpRequest.id.in_(referred)),
        )
        if period.town_id is not None:
            query = query.where(HelpRequest.town_id == period.town_id)
    requests = list(session.scalars(query))
    return _live_cells(session, requests, today)


def kept_counts(session: Session, period: Period | None = None) -> Counter[Cell]:
    """The cells of anonymised requests, as kept in :class:`FigureCount`, optionally of a period."""
    counts: Counter[Cell] = Counter()
    query = select(FigureCount).where(FigureCount.count > 0)
    if period is not None:
        query = query.where(FigureCount.month.between(period.first, period.last))
        if period.town_id is not None:
            query = query.where(FigureCount.town_id == period.town_id)
    for row in session.scalars(query):
        cell = Cell(
            row.month,
            row.town_id,
            row.measure,
            row.topic_group,
            row.outcome,
            row.channel,
            row.detail,
            row.promise,
        )
        counts[cell] += row.count
    return counts


def counts(session: Session, period: Period, today: date) -> Counter[Cell]:
    """Every cell in ``period``: the requests that exist plus the kept counts, each once."""
    total = live_counts(session, today, period) + kept_counts(session, period)
    return Counter({cell: n for cell, n in total.items() if period.holds(cell)})


def months_with_figures(session: Session, today: date) -> list[str]:
    """Every month from the first with figures to the current one, oldest first."""
    first_kept = session.scalar(select(FigureCount.month).order_by(FigureCount.month).limit(1))
    first_received = session.scalar(
        select(HelpRequest.received_at).order_by(HelpRequest.received_at).limit(1)
    )
    current = today.strftime("%Y-%m")
    candidates = [current]
    if first_kept:
        candidates.append(first_kept)
    if first_received is not None:
        candidates.append(month_of(first_received))
    year, month = (int(part) for part in min(candidates).split("-"))
    found = []
    while f"{year:04d}-{month:02d}" <= current:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _add(session: Session, cell: Cell, amount: int) -> None:
    """Add ``amount`` to a kept cell, creating it when new."""
    key = (
        (FigureCount.month, cell.month),
        (FigureCount.town_id, cell.town_id),
        (FigureCount.measure, cell.measure),
        (FigureCount.topic_group, cell.topic_group),
        (FigureCount.outcome, cell.outcome),
        (FigureCount.channel, cell.channel),
        (FigureCount.detail, cell.detail),
        (FigureCount.promise, cell.promise),
    )
    changed = session.execute(
        update(FigureCount)
        .where(*(column == value for column, value in key))
        .values(count=FigureCount.count + amount)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.add(
            FigureCount(
                month=cell.month,
                town_id=cell.town_id,
                measure=cell.measure,
                topic_group=cell.topic_group,
                outcome=cell.outcome,
                channel=cell.channel,
                detail=cell.detail,
                promise=cell.promise,
                count=amount,
            )
        )
        session.flush()


def keep(session: Session, requests: list[HelpRequest], today: date) -> None:
    """Add the cells of ``requests`` to the kept counts; call it as they are anonymised."""
    for cell, amount in sorted(_live_cells(session, requests, today).items()):
        _add(session, cell, amount)


def _requests_by_month_and_town(counts: Counter[Cell]) -> Counter[tuple[str, int]]:
    totals: Counter[tuple[str, int]] = Counter()
    for cell, count in counts.items():
        if cell.measure == "request":
            totals[cell.month, cell.town_id] += count
    return totals


def rebuild(session: Session, today: date, force: bool = False) -> int:
    """Count the anonymised requests in the database afresh into the kept counts.

    For repairs: the kept counts are replaced by what the anonymised requests still in the
    database give. Where that would count fewer requests in a month and town than are kept
    (their requests were deleted since), nothing changes and :class:`FiguresWouldShrink`
    names the months, unless ``force``. Returns how many requests were counted.
    """
    anonymised = list(
        session.scalars(
            select(HelpRequest).where(HelpRequest.anonymised_at.is_not(None)).options(*_FACTS)
        )
    )
    fresh = _live_cells(session, anonymised, today)
    before = _requests_by_month_and_town(kept_counts(session))
    after = _requests_by_month_and_town(fresh)
    shrinking = sorted(key for key, count in before.items() if after[key] < count)
    if shrinking and not force:
        raise FiguresWouldShrink(shrinking)
    session.execute(delete(FigureCount))
    for cell, amount in sorted(fresh.items()):
        _add(session, cell, amount)
    return len(anonymised)
