"""Figures kept as counts, so that they outlive the requests they were counted from."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

FIGURE_MEASURES = ("request", "response", "referral")


class FigureCount(Base):
    """How many requests (or responses, referrals) fell into one cell of the figures.

    A request is added to these counts in the transaction that anonymises it; until then
    the figures page counts it from the request itself, so nothing is counted twice. No
    column can hold a name or free text: every value is a code, a month or a town.
    """

    __tablename__ = "figure_count"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "town_id",
            "measure",
            "topic_group",
            "outcome",
            "channel",
            "detail",
            "promise",
            name="uq_figure_count_cell",
        ),
        CheckConstraint("measure IN ('request', 'response', 'referral')", name="measure"),
        CheckConstraint("count >= 0", name="count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The calendar month in Europe/Berlin, "YYYY-MM".
    month: Mapped[str] = mapped_column(String(7))
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"))
    measure: Mapped[str] = mapped_column(String(10))
    topic_group: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")
    # online, booking or staff (entered by a colleague after a call or a visit).
    channel: Mapped[str] = mapped_column(String(10), default="")
    # Working days to the first response, or the catalogue organisation referred to.
    detail: Mapped[str] = mapped_column(String(40), default="")
    # Whether the first response came by the promised day: kept, late, pending, none.
    promise: Mapped[str] = mapped_column(String(10), default="")
    count: Mapped[int] = mapped_column(default=0)
