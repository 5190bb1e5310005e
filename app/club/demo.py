"""Demo data for ``make dev``: the demo club's teams, parents, players and one open contract offer."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.contracts import ContractService, Offer
from app.club.jerseys.models import JerseyOrder, JerseySize, OrderStatus
from app.club.models import AuditSource, ContractStatus, Parent, Player, Program, Team, Tier
from app.tenants.services import TenantService

__all__ = ["DEMO_OFFER_PLAYER", "load_demo_data"]

DEMO_CLUB = "demo-club"
DEMO_SEASON = "2026-27"
DEMO_OFFER_PLAYER = "Avery Okafor"


async def load_demo_data(session: AsyncSession) -> str | None:
    """Create the demo tenants and, once, the demo club's roster; return the token of the open offer.

    Running it again changes nothing (the roster is created only while the club has no team).
    """
    tenants = TenantService(session=session)
    await tenants.ensure_demo_tenants()
    club = await tenants.get_by_slug(DEMO_CLUB)
    if club is None:  # pragma: no cover  (ensure_demo_tenants just created it)
        return None
    if not await session.scalar(select(func.count()).select_from(Team).where(Team.tenant_id == club.id)):
        await _roster(session, club.id)
    return await session.scalar(
        select(Player.contract_token).where(
            Player.tenant_id == club.id,
            Player.name == DEMO_OFFER_PLAYER,
            Player.contract_status == ContractStatus.OFFERED,
        )
    )


async def _roster(session: AsyncSession, tenant_id: UUID) -> None:
    kings = Team(
        tenant_id=tenant_id,
        name="U12 Kings Elite",
        season=DEMO_SEASON,
        program=Program.KINGS,
        tier=Tier.ELITE,
        monthly_fee=12500,
        groupme_share_url="https://groupme.com/join_group/demo/kings",
    )
    queens = Team(
        tenant_id=tenant_id,
        name="U12 Queens Select",
        season=DEMO_SEASON,
        program=Program.QUEENS,
        tier=Tier.SELECT,
        monthly_fee=9500,
    )
    dana = Parent(tenant_id=tenant_id, name="Dana Okafor", email="dana.okafor@example.org", phone="+1 555 0101")
    lee = Parent(tenant_id=tenant_id, name="Lee Martins", email="lee.martins@example.org")
    robin = Parent(tenant_id=tenant_id, name="Robin Chen", email="robin.chen@example.org")
    session.add_all([kings, queens, dana, lee, robin])
    await session.flush()
    players = [
        Player(tenant_id=tenant_id, name=DEMO_OFFER_PLAYER, birth_year=2014, parent_id=dana.id, teams=[kings]),
        Player(tenant_id=tenant_id, name="Jordan Martins", birth_year=2014, parent_id=lee.id, teams=[kings]),
        Player(tenant_id=tenant_id, name="Maya Chen", birth_year=2015, parent_id=robin.id, teams=[queens]),
        Player(tenant_id=tenant_id, name="Sofia Martins", birth_year=2015, parent_id=lee.id, teams=[queens]),
    ]
    session.add_all(players)
    await session.flush()
    session.add_all(_jersey_orders(tenant_id, dana, lee, players))
    await session.commit()
    await ContractService(session).offer(
        tenant_id, Offer(players[0].id, monthly_fee=12500), actor="demo-data", source=AuditSource.CLI
    )


def _jersey_orders(tenant_id: UUID, dana: Parent, lee: Parent, players: list[Player]) -> list[JerseyOrder]:
    """A few orders at different stages, linked to the roster, and one nobody could match yet."""
    avery, jordan, _, sofia = players

    def order(**fields: object) -> JerseyOrder:
        return JerseyOrder(tenant_id=tenant_id, **fields)

    return [
        order(submitter_keycloak_sub="demo-dana", email=dana.email, player_name=avery.name, jersey_number=7,
              size=JerseySize.YOUTH_M, kq=Program.KINGS, tier=Tier.ELITE, status=OrderStatus.PAID,
              parent_id=dana.id, player_id=avery.id),
        order(submitter_keycloak_sub="demo-lee", email=lee.email, player_name=jordan.name, jersey_number=11,
              size=JerseySize.YOUTH_L, kq=Program.KINGS, tier=Tier.ELITE, status=OrderStatus.RECONCILED,
              parent_id=lee.id, player_id=jordan.id),
        order(submitter_keycloak_sub="demo-lee", email=lee.email, player_name=sofia.name, jersey_number=None,
              size=JerseySize.YOUTH_S, kq=Program.QUEENS, tier=Tier.SELECT, status=OrderStatus.SUBMITTED,
              parent_id=lee.id, player_id=sofia.id, notes="Name on the back: SOFIA"),
        order(submitter_keycloak_sub="demo-grandparent", email="pat.okafor@example.org", player_name="Avery O.",
              jersey_number=7, size=JerseySize.ADULT_S, kq=Program.KINGS, tier=Tier.ELITE,
              status=OrderStatus.SUBMITTED, notes="A gift from grandma"),
    ]  # fmt: skip
