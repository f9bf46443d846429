"""Member towns: where requests are routed."""

from __future__ import annotations

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Town(Base):
    """A member town with its staff inbox; seeded from configuration, editable as data."""

    __tablename__ = "town"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    postcodes: Mapped[str] = mapped_column(String(80))
    inbox_email: Mapped[str] = mapped_column(String(254))
    street: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    # PEM certificate of the inbox: notifications then carry the whole request, encrypted.
    smime_certificate: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Whether a staff message's text may travel in the email to the resident.
    message_text_in_email: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def postcode_list(self) -> list[str]:
        """The postcodes this town covers."""
        return [p for p in self.postcodes.split(",") if p]
