"""Every ORM model, imported so that the metadata knows the whole schema (Alembic compares against it)."""

from app.club.jerseys.models import JerseyOrder
from app.club.models import ContractAuditLog, GroupMeGroupOwner, Parent, Player, Team, player_teams
from app.notify.models import EmailLog
from app.outbox.models import OutboxDelivery, OutboxEvent
from app.tenants.models import Tenant

__all__ = [
    "ContractAuditLog",
    "EmailLog",
    "GroupMeGroupOwner",
    "JerseyOrder",
    "OutboxDelivery",
    "OutboxEvent",
    "Parent",
    "Player",
    "Team",
    "Tenant",
    "player_teams",
]
