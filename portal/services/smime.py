"""S/MIME for town inboxes: checking a certificate and encrypting a MIME entity to it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from .errors import CertificateRefused

ENTITY_NAME = "smime.p7m"


@dataclass(frozen=True)
class CertificateInfo:
    """What an administrator needs to recognise a certificate."""

    subject: str
    not_after: datetime


def load_certificate(pem: str, now: datetime) -> x509.Certificate:
    """The certificate in ``pem`` if it can encrypt mail at ``now``; raises CertificateRefused."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise CertificateRefused("unparsable") from None
    if certificate.not_valid_after_utc <= now:
        raise CertificateRefused("expired")
    if certificate.not_valid_before_utc > now:
        raise CertificateRefused("not_yet_valid")
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise CertificateRefused("not_rsa")
    if not _may_encipher(certificate):
        raise CertificateRefused("key_usage")
    return certificate


def _may_encipher(certificate: x509.Certificate) -> bool:
    """Whether the key usage, where the certificate states one, allows key encipherment."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.key_encipherment


def describe(certificate: x509.Certificate) -> CertificateInfo:
    """The subject and expiry of ``certificate``."""
    return CertificateInfo(certificate.subject.rfc4514_string(), certificate.not_valid_after_utc)


def envelope(entity: bytes, certificate: x509.Certificate) -> bytes:
    """``entity`` (a MIME entity with CRLF line ends) as an S/MIME enveloped-data entity."""
    der = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(entity)
        .set_content_encryption_algorithm(algorithms.AES256)
        .add_recipient(certificate)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    part = EmailMessage(policy=SMTP)
    part["Content-Type"] = f"application/pkcs7-mime; smime-type=enveloped-data; name={ENTITY_NAME}"
    part["Content-Disposition"] = f"attachment; filename={ENTITY_NAME}"
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(der).decode("ascii"))
    return part.as_bytes()
