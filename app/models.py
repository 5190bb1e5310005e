"""Every ORM model, imported so that the metadata knows the whole schema (Alembic compares against it)."""

from app.outbox.models import OutboxDelivery, OutboxEvent
from app.tenants.models import Tenant

__all__ = ["OutboxDelivery", "OutboxEvent", "Tenant"]
