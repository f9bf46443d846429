"""What requests and bookings both store about reaching a person and what they agreed to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .encrypted import BlindIndex, EncryptedText, index_contacts


class ContactDetails:
    """Phone, email and home address, encrypted, with blind indexes for exact lookups.

    The index columns follow the plaintext ones at every flush (:func:`index_contacts`), so
    ``Model.email_index == "Anna@Example.org"`` finds a contact without SQL ever seeing it.
    """

    phone: Mapped[str] = mapped_column(EncryptedText, default="")
    email: Mapped[str] = mapped_column(EncryptedText, default="")
    street: Mapped[str] = mapped_column(EncryptedText, default="")
    postcode: Mapped[str] = mapped_column(EncryptedText, default="")
    city: Mapped[str] = mapped_column(EncryptedText, default="")
    # Keyed hashes of the normalised email and phone, for exact lookups (see crypto.py).
    email_index: Mapped[str] = mapped_column(
        BlindIndex("email"), default="", server_default="", index=True
    )
    phone_index: Mapped[str] = mapped_column(
        BlindIndex("phone"), default="", server_default="", index=True
    )

    @classmethod
    def __declare_last__(cls) -> None:
        index_contacts(cls, {"email_index": "email", "phone_index": "phone"})


class ConsentRecord:
    """What was agreed, when, and under which version of the privacy notice.

    ``consent_purpose``: ``request`` or ``booking`` (the check page's consent), ``staff`` (entered
    by a colleague from a call or at the counter: no online consent, ``consented_at`` empty).
    """

    consented_at: Mapped[datetime | None]
    consent_purpose: Mapped[str] = mapped_column(String(20), default="", server_default="")
    privacy_version: Mapped[str] = mapped_column(String(20), default="", server_default="")
