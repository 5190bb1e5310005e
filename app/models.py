"""Every ORM model, imported so that the metadata knows the whole schema (Alembic compares against it)."""

from app.club.models import ContractAuditLog, Parent, Player, Team, player_teams
from app.outbox.models import OutboxDelivery, OutboxEvent
from app.tenants.models import Tenant

__all__ = [
    "ContractAuditLog",
    "OutboxDelivery",
    "OutboxEvent",
    "Parent",
    "Player",
    "Team",
    "Tenant",
    "player_teams",
]
