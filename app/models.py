"""Every ORM model, imported so that the metadata knows the whole schema (Alembic compares against it)."""

from app.club.jerseys.models import JerseyOrder
from app.club.models import ContractAuditLog, GroupMeGroupOwner, Parent, Player, Team, player_teams
from app.hall.models import (
    BiddingSuspension,
    BookRegistration,
    Dispatch,
    Employer,
    JobBid,
    LaborRequest,
    Member,
    ReferralBook,
    RegistrationActivity,
)
from app.notify.models import EmailLog
from app.outbox.models import OutboxDelivery, OutboxEvent
from app.tenants.models import Tenant

__all__ = [
    "BiddingSuspension",
    "BookRegistration",
    "ContractAuditLog",
    "Dispatch",
    "EmailLog",
    "Employer",
    "GroupMeGroupOwner",
    "JerseyOrder",
    "JobBid",
    "LaborRequest",
    "Member",
    "OutboxDelivery",
    "OutboxEvent",
    "Parent",
    "Player",
    "ReferralBook",
    "RegistrationActivity",
    "Team",
    "Tenant",
    "player_teams",
]
