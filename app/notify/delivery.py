"""Send an email for an outbox event at most once per (event, handler, recipient), and log every outcome.

The rule every email handler follows (:meth:`Notifier.send_once`):

1. An ``email_log`` row with status ``sent`` for (event id, handler, recipient) means it went out: send
   nothing, whatever the outbox thinks (a retried or replayed event never mails twice).
2. Otherwise send. Success writes the ``sent`` row in the handler's transaction, which also records the
   handler's delivery, so both commit together.
3. A transient failure writes a ``failed`` row (with the error) in a transaction of its own, so it
   survives the rollback, then raises: the outbox retries the event with backoff.
4. A permanent refusal writes ``failed`` and ends the handler as skipped with the reason: retrying would
   only repeat it.

The one window left is a crash after the server accepted the message and before the commit; the retry
then sends again, with the same Message-ID, so mail clients and providers can recognise the duplicate.
Concurrent deliveries of one event cannot both send: the relay's delivery record for the handler is
inserted first in the same transaction, and a second worker waits on it and then finds it taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.notify.mail import EmailDeliveryError, EmailRefusedError, Mailer, OutgoingEmail, message_id_for
from app.notify.models import EmailLog, EmailStatus
from app.notify.templates import RenderedEmail
from app.outbox.registry import Skipped

__all__ = ["EmailJob", "Notifier", "skip_email"]

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Notifier:
    """What email handlers need from the process: the mailer and the template of the links people receive.

    The worker builds one at start-up and its relay injects it into every handler that names a ``notifier``
    parameter; tests build theirs around an SMTP server on loopback.
    """

    mailer: Mailer
    contract_link_url: str
    """``CONTRACT_LINK_URL``: ``{token}`` marks where a contract's token goes."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        return cls(Mailer(settings.smtp), settings.server.contract_link_url)

    async def send_once(self, session: AsyncSession, job: EmailJob, rendered: RenderedEmail) -> Skipped | None:
        """Send ``rendered`` to ``job.recipient`` unless the log says it was sent (see the module docstring)."""
        recipient = job.recipient.strip().lower()
        sent = await session.scalar(
            select(EmailLog.id).where(
                EmailLog.event_id == job.event_id,
                EmailLog.handler == job.handler,
                EmailLog.recipient == recipient,
                EmailLog.status == EmailStatus.SENT,
            )
        )
        if sent is not None:
            logger.info("email_already_sent", event_id=str(job.event_id), handler=job.handler, type=job.email_type)
            return None
        email = OutgoingEmail(
            to=job.recipient.strip(),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id_for(job.event_id, job.handler, recipient, self.mailer.settings.sender),
        )
        try:
            provider_id = await self.mailer.send(email)
        except EmailRefusedError as error:
            await _log(session, job, recipient, rendered.subject, EmailStatus.FAILED, error=str(error))
            logger.warning("email_refused", event_id=str(job.event_id), handler=job.handler, error=str(error))
            return Skipped(f"the mail server refused the email: {error}")
        except EmailDeliveryError as error:
            await _log_apart(session, job, recipient, rendered.subject, error=str(error))
            raise
        await _log(
            session, job, recipient, rendered.subject, EmailStatus.SENT, provider_message_id=provider_id, sent=True
        )
        logger.info("email_sent", event_id=str(job.event_id), handler=job.handler, type=job.email_type)
        return None


@dataclass(frozen=True, slots=True)
class EmailJob:
    """One email an event asks for."""

    event_id: UUID
    handler: str
    tenant_id: UUID | None
    email_type: str
    recipient: str


async def skip_email(session: AsyncSession, job: EmailJob, subject: str, reason: str) -> Skipped:
    """Log that the email was deliberately not sent, and end the handler as skipped with ``reason``."""
    await _log(session, job, job.recipient.strip().lower(), subject, EmailStatus.SKIPPED, error=reason)
    return Skipped(reason)


async def _log(
    session: AsyncSession,
    job: EmailJob,
    recipient: str,
    subject: str,
    status: EmailStatus,
    *,
    error: str | None = None,
    provider_message_id: str | None = None,
    sent: bool = False,
) -> None:
    values: dict[str, Any] = {
        "tenant_id": job.tenant_id,
        "event_id": job.event_id,
        "handler": job.handler,
        "recipient": recipient,
        "email_type": job.email_type,
        "subject": subject[:300],
        "status": status,
        "provider_message_id": provider_message_id,
        "error": error[:2000] if error else None,
        "sent_at": datetime.now(UTC) if sent else None,
    }
    statement = insert(EmailLog).values(**values)
    changing = {
        key: statement.excluded[key] for key in ("subject", "status", "provider_message_id", "error", "sent_at")
    }
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_email_log_event_handler_recipient",
            set_={**changing, "updated_at": datetime.now(UTC)},
            where=EmailLog.status != EmailStatus.SENT,  # a sent row is final
        )
    )


async def _log_apart(session: AsyncSession, job: EmailJob, recipient: str, subject: str, *, error: str) -> None:
    """Record a transient failure in its own transaction: the handler's is about to roll back."""
    try:
        async with AsyncSession(session.bind) as apart, apart.begin():
            await _log(apart, job, recipient, subject, EmailStatus.FAILED, error=error)
    except Exception as log_error:  # noqa: BLE001  (the send failure is what matters; the retry logs again)
        logger.warning("email_failure_not_logged", event_id=str(job.event_id), error=str(log_error)[:200])
