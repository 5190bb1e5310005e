"""The club's emails: the welcome email after a contract is signed, and the email blast to unsigned contracts.

Both are outbox handlers: they read everything fresh from the database (the event only says who), and
send through the notifier their relay injects (:meth:`app.notify.delivery.Notifier.send_once`), so an
event delivered twice mails once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from uuid import UUID, uuid4

import msgspec
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.club.contracts import contract_link
from app.club.events import CONTRACT_SIGNED, ContractSigned
from app.club.models import ContractStatus, Parent, Player, Team, player_teams
from app.core.errors import RuleViolationError
from app.notify.delivery import EmailJob, Notifier, skip_email
from app.notify.templates import SubjectTemplate, SubjectTemplateError, brand_of, render
from app.outbox import emit, handler, register_event_type
from app.outbox.registry import Event, Skipped
from app.tenants.models import Tenant

__all__ = [
    "BLAST_AUDIENCES",
    "EMAIL_BLAST_REQUESTED",
    "BlastPlan",
    "BlastRecipient",
    "BlastRequested",
    "EmailBlastService",
    "blast_email",
    "welcome_email",
]

logger = structlog.get_logger(__name__)

EMAIL_BLAST_REQUESTED = "email.blast_requested"
WELCOME_EMAIL = "welcome_email"
BLAST_EMAIL = "blast_email"
BLAST_AUDIENCES = ("unsigned_contracts",)
BLAST_SUBJECT_NAMES = ("club_name", "parent_name", "player_names")
"""The placeholders of a blast's subject."""
DEFAULT_BLAST_SUBJECT = SubjectTemplate.parse(
    "{{ club_name }}: {{ player_names }} — contract waiting for your signature", BLAST_SUBJECT_NAMES
)


class BlastRequested(msgspec.Struct, kw_only=True):
    """One recipient of an email blast (aggregate ``parent``)."""

    blast_id: UUID
    parent_id: UUID
    player_ids: list[UUID]
    subject_template: str | None
    requested_by: str


register_event_type(EMAIL_BLAST_REQUESTED, BlastRequested)


# ---------------------------------------------------------------------------------------------------------
# contract.signed → welcome_email


@handler(CONTRACT_SIGNED, name=WELCOME_EMAIL)
async def welcome_email(event: Event[ContractSigned], session: AsyncSession, notifier: Notifier) -> Skipped | None:
    """Welcome the parent with the team's GroupMe link; skip (with the reason) when there is no one to mail."""
    payload = event.payload
    player = await session.scalar(
        select(Player).where(Player.id == payload.player_id).options(selectinload(Player.teams))
    )
    tenant = await session.get(Tenant, payload.tenant_id)
    job = EmailJob(event.id, WELCOME_EMAIL, payload.tenant_id, "welcome", recipient="")
    brand = brand_of(tenant)
    subject = f"Welcome to {brand.name}"
    if player is None:
        return await skip_email(session, job, subject, "the player no longer exists")
    parent = await session.get(Parent, player.parent_id) if player.parent_id is not None else None
    if parent is None:
        return await skip_email(session, job, subject, "the player has no parent to email")
    if not parent.email or "@" not in parent.email:
        return await skip_email(session, job, subject, f"parent {parent.id} has no email address")
    team = _team_of(player, payload.team_id)
    if team is not None:
        subject = f"Welcome to {team.name}, {brand.name}"
    rendered = await render(
        "welcome",
        subject=subject,
        brand=brand,
        parent_name=parent.name,
        player_name=player.name,
        team_name=team.name if team else None,
        season=team.season if team else None,
        # A team's group is always one its club owns (the database's fk_teams_groupme_group_owned).
        groupme_url=team.groupme_share_url if team else None,
    )
    return await notifier.send_once(session, dataclasses.replace(job, recipient=parent.email), rendered)


def _team_of(player: Player, team_id: UUID | None) -> Team | None:
    """The team the contract was signed for if the player is still on it, else the player's first team; only
    teams of the player's own club count (its name and GroupMe link go into the email)."""
    teams = [team for team in player.teams if team.tenant_id == player.tenant_id]
    for team in teams:
        if team.id == team_id:
            return team
    return teams[0] if teams else None


# ---------------------------------------------------------------------------------------------------------
# POST /admin/email/blast → email.blast_requested (one per parent) → blast_email


@dataclass(frozen=True, slots=True)
class BlastRecipient:
    parent_id: UUID
    name: str
    email: str
    players: list[tuple[UUID, str]]
    """(id, name) of the parent's players with an open offer."""


@dataclass(frozen=True, slots=True)
class BlastPlan:
    blast_id: UUID | None
    recipients: list[BlastRecipient]
    players_without_parent: int
    dry_run: bool


class EmailBlastService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def blast(
        self,
        tenant_id: UUID,
        *,
        audience: str,
        team_id: UUID | None,
        subject_template: str | None,
        dry_run: bool,
        requested_by: str,
    ) -> BlastPlan:
        """Who would get the email; unless ``dry_run``, one ``email.blast_requested`` per parent, in one commit.

        A ``subject_template`` must parse as a blast subject (text with the :data:`BLAST_SUBJECT_NAMES`
        placeholders), so every queued subject renders; otherwise nothing is queued.
        """
        if audience not in BLAST_AUDIENCES:
            raise RuleViolationError(f"audience must be one of: {', '.join(BLAST_AUDIENCES)}")
        if team_id is not None and await self._team(tenant_id, team_id) is None:
            raise RuleViolationError(f"team {team_id} is not one of this club's teams")
        if subject_template is not None:
            _check_subject(subject_template)
        recipients, orphans = await self._recipients(tenant_id, team_id)
        if dry_run or not recipients:
            return BlastPlan(None, recipients, orphans, dry_run)
        blast_id = uuid4()
        for recipient in recipients:
            payload = BlastRequested(
                blast_id=blast_id,
                parent_id=recipient.parent_id,
                player_ids=[player_id for player_id, _ in recipient.players],
                subject_template=subject_template,
                requested_by=requested_by,
            )
            emit(
                self.session,
                aggregate_type="parent",
                aggregate_id=recipient.parent_id,
                event_type=EMAIL_BLAST_REQUESTED,
                payload=payload,
                tenant_id=tenant_id,
            )
        await self.session.commit()
        return BlastPlan(blast_id, recipients, orphans, dry_run)

    async def _team(self, tenant_id: UUID, team_id: UUID) -> Team | None:
        return await self.session.scalar(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id))

    async def _recipients(self, tenant_id: UUID, team_id: UUID | None) -> tuple[list[BlastRecipient], int]:
        query = select(Player).where(Player.tenant_id == tenant_id, Player.contract_status == ContractStatus.OFFERED)
        if team_id is not None:
            query = query.where(
                Player.id.in_(select(player_teams.c.player_id).where(player_teams.c.team_id == team_id))
            )
        players = list(await self.session.scalars(query.order_by(Player.name, Player.id)))
        parent_ids = {player.parent_id for player in players if player.parent_id is not None}
        parents = {
            parent.id: parent for parent in await self.session.scalars(select(Parent).where(Parent.id.in_(parent_ids)))
        }
        by_parent: dict[UUID, list[tuple[UUID, str]]] = {}
        for player in players:
            if player.parent_id is not None:
                by_parent.setdefault(player.parent_id, []).append((player.id, player.name))
        recipients = [
            BlastRecipient(parent.id, parent.name, parent.email, by_parent[parent.id])
            for parent in sorted(parents.values(), key=lambda parent: (parent.name, str(parent.id)))
        ]
        return recipients, sum(1 for player in players if player.parent_id is None)


def _check_subject(template: str) -> None:
    try:
        SubjectTemplate.parse(template, BLAST_SUBJECT_NAMES)
    except SubjectTemplateError as error:
        raise RuleViolationError(f"subject_template: {error}") from None


def _blast_subject(event: Event[BlastRequested], club_name: str, parent_name: str, player_names: list[str]) -> str:
    """The event's subject, or the default one when it is not a blast subject.

    Events queued before subjects were placeholders only may hold any Jinja the old sandbox accepted: one
    that uses only the placeholders renders the same as it did; anything else is never evaluated.
    """
    template = DEFAULT_BLAST_SUBJECT
    if event.payload.subject_template is not None:
        try:
            template = SubjectTemplate.parse(event.payload.subject_template, BLAST_SUBJECT_NAMES)
        except SubjectTemplateError as error:
            logger.warning("blast_subject_replaced", event_id=str(event.id), reason=str(error)[:300])
    values = {"club_name": club_name, "parent_name": parent_name, "player_names": ", ".join(player_names)}
    return template.render(values)


@handler(EMAIL_BLAST_REQUESTED, name=BLAST_EMAIL)
async def blast_email(event: Event[BlastRequested], session: AsyncSession, notifier: Notifier) -> Skipped | None:
    """Mail the parent the signing links of their players whose offer is still open (read now, not at request)."""
    payload = event.payload
    tenant = await session.get(Tenant, event.tenant_id) if event.tenant_id is not None else None
    brand = brand_of(tenant)
    job = EmailJob(event.id, BLAST_EMAIL, event.tenant_id, "blast", recipient="")
    parent = await session.get(Parent, payload.parent_id)
    if parent is None:
        return await skip_email(session, job, brand.name, "the parent no longer exists")
    job = dataclasses.replace(job, recipient=parent.email)
    players = list(
        await session.scalars(
            select(Player)
            .where(
                Player.id.in_(payload.player_ids),
                Player.parent_id == parent.id,
                Player.contract_status == ContractStatus.OFFERED,
            )
            .options(selectinload(Player.teams))
            .order_by(Player.name, Player.id)
        )
    )
    names = [player.name for player in players]
    subject = _blast_subject(event, brand.name, parent.name, names)
    if not players:
        return await skip_email(session, job, subject, "no open offer left: every contract was answered meanwhile")
    link_template = notifier.contract_link_url
    rendered = await render(
        "blast",
        subject=subject,
        brand=brand,
        parent_name=parent.name,
        players=[
            {
                "name": player.name,
                "team": player.teams[0].name if player.teams else None,
                "url": contract_link(link_template, player.contract_token or ""),
            }
            for player in players
        ],
    )
    return await notifier.send_once(session, job, rendered)
