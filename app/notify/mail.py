"""Email over SMTP (aiosmtplib): compose a multipart message, send it, and say whether a failure is worth a retry.

A failure the next try may not meet (connection refused, timeout, a 4xx answer, bad credentials or a refused
sender, which an operator can fix) raises :class:`EmailDeliveryError`, so the outbox retries the event with
backoff. A refusal that will not change (the server answers 5xx to the recipient or to the content) raises
:class:`EmailRefusedError`: retrying would only repeat it, so the caller records it and moves on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from uuid import UUID

import aiosmtplib

from app.config import SmtpSettings, SmtpTls

__all__ = [
    "SUBJECT_LIMIT",
    "EmailDeliveryError",
    "EmailRefusedError",
    "Mailer",
    "OutgoingEmail",
    "message_id_for",
    "one_line",
]

_QUEUED_AS = re.compile(r"queued as ([\w.@<>-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    """``<...@...>``; derived from the outbox event so a duplicate is recognisable downstream."""


class EmailDeliveryError(Exception):
    """The message may go through on a later try (the outbox retries the event)."""


class EmailRefusedError(Exception):
    """The server refused this message for good (5xx to the recipient or the content)."""


def message_id_for(event_id: UUID, handler: str, recipient: str, sender: str) -> str:
    """A stable Message-ID per (event, handler, recipient): the same email always carries the same one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "rollcall.localhost"
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<{event_id}.{handler}.{digest}@{domain}>"


SUBJECT_LIMIT = 200
"""Characters of a Subject header; longer subjects end in an ellipsis."""


def one_line(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """Header-safe text: no line breaks (header injection), collapsed spaces, bounded length."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def compose(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = email.to
        message["Subject"] = one_line(email.subject)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = email.message_id
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    async def send(self, email: OutgoingEmail) -> str:
        """Send; return the server's queue id when it names one, else the Message-ID."""
        settings = self.settings
        try:
            _, response = await aiosmtplib.send(
                self.compose(email),
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                use_tls=settings.tls is SmtpTls.TLS,
                start_tls=settings.tls is SmtpTls.STARTTLS,
                timeout=settings.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            text = "; ".join(f"{refusal.code} {refusal.message}" for refusal in error.recipients)
            if codes and all(code >= 500 for code in codes):
                raise EmailRefusedError(f"recipient refused: {text}") from error
            raise EmailDeliveryError(f"recipient deferred: {text}") from error
        except aiosmtplib.SMTPDataError as error:
            if error.code >= 500:
                raise EmailRefusedError(f"message refused: {error.code} {error.message}") from error
            raise EmailDeliveryError(f"message deferred: {error.code} {error.message}") from error
        except aiosmtplib.SMTPResponseException as error:
            raise EmailDeliveryError(f"{type(error).__name__}: {error.code} {error.message}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise EmailDeliveryError(f"{type(error).__name__}: {error}") from error
        queued = _QUEUED_AS.search(response or "")
        return queued.group(1) if queued else email.message_id
