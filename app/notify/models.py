"""The email log: one row per (outbox event, handler, recipient), so a retried event never mails twice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.columns import enum_column
from app.tenants.models import Tenant

__all__ = ["EmailLog", "EmailStatus"]


class EmailStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    """The last try failed; ``error`` says why. A transient failure is retried by the outbox."""
    SKIPPED = "skipped"
    """Deliberately not sent (no recipient address, nothing left to say); ``error`` says why."""


class EmailLog(DefaultBase):
    __tablename__ = "email_log"
    __table_args__ = (
        UniqueConstraint("event_id", "handler", "recipient", name="uq_email_log_event_handler_recipient"),
    )

    id: Mapped[UUID] = mapped_column(PG_UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey(Tenant.id, ondelete="CASCADE"), index=True)
    event_id: Mapped[UUID] = mapped_column(PG_UUID(as_uuid=True))
    """The outbox event that asked for the email (not a foreign key: retention deletes delivered events)."""
    handler: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(255))
    """The address, lower-cased; empty when there was none (then the status is ``skipped``)."""
    email_type: Mapped[str] = mapped_column("type", String(50))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "email_status"))
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
