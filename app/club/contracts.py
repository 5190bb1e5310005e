"""Contract offers: the state machine of docs/club.md "Contract offers", in one transaction each."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from uuid import UUID

import asyncpg
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from app.club.events import (
    CONTRACT_DECLINED,
    CONTRACT_OFFERED,
    CONTRACT_SIGNED,
    ContractDeclined,
    ContractOffered,
)
from app.club.models import AuditEvent, AuditSource, ContractAuditLog, ContractStatus, Player, Team
from app.club.signatures import delete_signature, signature_path, store_signature
from app.core.db import native_connection
from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError
from app.outbox import emit
from app.outbox.emit import Nudger, event_insert_sql
from app.tenants.models import Tenant

__all__ = [
    "ContractService",
    "ContractSigner",
    "Offer",
    "OfferResult",
    "PublicContract",
    "Signature",
    "SignedContract",
    "contract_link",
    "contract_token",
]

logger = structlog.get_logger(__name__)


def contract_link(link_template: str, token: str) -> str:
    """The parent's signing link: ``CONTRACT_LINK_URL`` with the token in place of ``{token}`` (the signing page
    this API serves unless a club's own SPA takes the links)."""
    return link_template.replace("{token}", quote(token, safe=""))


def contract_token() -> str:
    """A 256-bit capability token for the signing link."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Offer:
    player_id: UUID
    monthly_fee: int
    target_team_id: UUID | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class OfferResult:
    player_id: UUID
    previous_status: ContractStatus
    new_status: ContractStatus
    token: str
    moved_from_team_ids: list[UUID] | None
    moved_to_team_ids: list[UUID] | None
    previous_signed_state_archived: bool
    actor: str


class ContractService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def offer(self, tenant_id: UUID, offer: Offer, *, actor: str, source: AuditSource) -> OfferResult:
        """Offer (or re-offer) a player's contract.

        - ``none`` / ``declined``: a new token, the fee, status ``offered``; audit ``offer``.
        - ``offered``: 409 unless ``force``; with it, a new token (the old link dies); audit ``re_offer``
          whose old state has the old token.
        - ``signed``: needs a target team that is none of the current teams (422); the whole signed
          state is archived in the audit row, the signed fields cleared, a new token minted, the player
          moved; audit ``tier_change``.
        - A target team must be the tenant's (422); with one, the player is moved to it.

        The player row is locked first, so concurrent offers serialise and the second sees the first's
        result. Everything, including the ``contract.offered`` event, commits together or not at all.
        """
        player = await self._locked_player(tenant_id, offer.player_id)
        target = await self._target_team(tenant_id, offer.target_team_id)
        previous = player.contract_status
        current_team_ids = [team.id for team in player.teams]
        old_state = _state(player)
        archived = False
        if previous is ContractStatus.OFFERED:
            if not offer.force:
                raise StateConflictError("the contract is already offered; send force=true to re-offer with a new link")
            event = AuditEvent.RE_OFFER
        elif previous is ContractStatus.SIGNED:
            if target is None or target.id in current_team_ids:
                raise RuleViolationError(
                    "a signed contract can only be re-offered with a target_team_id that is not a current team"
                )
            event = AuditEvent.TIER_CHANGE
            archived = True
            _clear_signature(player)
        else:
            event = AuditEvent.OFFER
        moved = target is not None and current_team_ids != [target.id]
        if target is not None:
            player.teams = [target]
        player.contract_token = contract_token()
        player.monthly_fee = offer.monthly_fee
        player.contract_status = ContractStatus.OFFERED
        player.contract_offered_at = datetime.now(UTC)
        self._record(
            player, event, old_state if previous is not ContractStatus.NONE else None, actor=actor, source=source
        )
        emit(
            self.session,
            aggregate_type="player",
            aggregate_id=player.id,
            event_type=CONTRACT_OFFERED,
            payload=ContractOffered(
                player_id=player.id,
                player_name=player.name,
                tenant_id=tenant_id,
                team_id=player.teams[0].id if player.teams else None,
                parent_id=player.parent_id,
                monthly_fee=offer.monthly_fee,
                previous_status=previous.value,
            ),
            tenant_id=tenant_id,
        )
        await self.session.commit()
        return OfferResult(
            player_id=player.id,
            previous_status=previous,
            new_status=ContractStatus.OFFERED,
            token=player.contract_token,
            moved_from_team_ids=current_team_ids if moved else None,
            moved_to_team_ids=[target.id] if moved and target is not None else None,
            previous_signed_state_archived=archived,
            actor=actor,
        )

    async def audit(self, tenant_id: UUID, player_id: UUID) -> list[ContractAuditLog]:
        """The player's contract history, newest first (404 for another tenant's player)."""
        exists = await self.session.scalar(
            select(Player.id).where(Player.id == player_id, Player.tenant_id == tenant_id)
        )
        if exists is None:
            raise ResourceNotFoundError(f"no player {player_id}")
        rows = await self.session.scalars(
            select(ContractAuditLog)
            .where(ContractAuditLog.player_id == player_id, ContractAuditLog.tenant_id == tenant_id)
            .order_by(ContractAuditLog.ts.desc(), ContractAuditLog.id.desc())
        )
        return list(rows)

    async def view(self, token: str) -> PublicContract:
        """The contract behind a signing link and its club; an unknown or superseded token is simply not found."""
        row = (
            await self.session.execute(
                select(Player, Tenant)
                .join(Tenant, Tenant.id == Player.tenant_id)
                .where(Player.contract_token == token)
                .options(selectinload(Player.teams))
            )
        ).one_or_none()
        if row is None:
            raise ResourceNotFoundError("no contract at this link")
        return PublicContract(player=row[0], club=row[1])

    async def decline(self, token: str, *, ip: str) -> PublicContract:
        """Decline an offered contract (409 otherwise): status ``declined``, audit, ``contract.declined``."""
        player = await self._locked_by_token(token)
        _require_offered(player, "declined")
        old_state = _state(player)
        player.contract_status = ContractStatus.DECLINED
        self._record(
            player, AuditEvent.DECLINED, old_state, actor=f"public link from {ip}", source=AuditSource.PUBLIC_LINK
        )
        emit(
            self.session,
            aggregate_type="player",
            aggregate_id=player.id,
            event_type=CONTRACT_DECLINED,
            payload=ContractDeclined(**_about(player)),
            tenant_id=player.tenant_id,
        )
        await self.session.commit()
        club = await self.session.get_one(Tenant, player.tenant_id)
        return PublicContract(player=player, club=club)

    def _record(
        self, player: Player, event: AuditEvent, old_state: dict[str, Any] | None, *, actor: str, source: AuditSource
    ) -> None:
        """The one audit writer of the ORM paths: the player's contract before and (as it is now) after."""
        self.session.add(
            ContractAuditLog(
                tenant_id=player.tenant_id,
                player_id=player.id,
                event_type=event,
                old_state=old_state,
                new_state=_state(player),
                actor=actor,
                source=source,
            )
        )

    async def _locked_by_token(self, token: str) -> Player:
        player = await self.session.scalar(
            select(Player)
            .where(Player.contract_token == token)
            .options(selectinload(Player.teams))
            .with_for_update(of=Player)
            .execution_options(populate_existing=True)
        )
        if player is None:
            raise ResourceNotFoundError("no contract at this link")
        return player

    async def _locked_player(self, tenant_id: UUID, player_id: UUID) -> Player:
        player = await self.session.scalar(
            select(Player)
            .where(Player.id == player_id, Player.tenant_id == tenant_id)
            .options(selectinload(Player.teams))
            .with_for_update(of=Player)
            .execution_options(populate_existing=True)
        )
        if player is None:
            raise ResourceNotFoundError(f"no player {player_id}")
        return player

    async def _target_team(self, tenant_id: UUID, team_id: UUID | None) -> Team | None:
        if team_id is None:
            return None
        team = await self.session.scalar(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id))
        if team is None:
            raise RuleViolationError(f"target_team_id {team_id} is not a team of this club")
        return team


AUDIT_STATE: tuple[tuple[str, str], ...] = (
    ("status", "contract_status"),
    ("token", "contract_token"),
    ("monthly_fee", "monthly_fee"),
    ("offered_at", "contract_offered_at"),
    ("signed_at", "contract_signed_at"),
    ("signed_by", "contract_signed_by"),
    ("signed_ip", "contract_signed_ip"),
    ("signature", "contract_signature"),
    ("version", "contract_version"),
)
"""The audit's picture of a contract (its ``old_state`` / ``new_state``): key → ``players`` column, plus
``team_ids``. The token is included: it is the archived link. Both writers build it from here: the ORM paths
with :func:`_state`, the signing statement with :func:`_state_sql`."""


def _state(player: Player) -> dict[str, Any]:
    state: dict[str, Any] = {key: _plain(getattr(player, column)) for key, column in AUDIT_STATE}
    state["team_ids"] = [str(team.id) for team in player.teams]
    return state


def _state_sql(alias: str, team_ids: str) -> str:
    """:func:`_state` as a SQL expression over the players row ``alias`` (timestamps in ISO 8601 either way)."""
    pairs = ", ".join(f"'{key}', {alias}.{column}" for key, column in AUDIT_STATE)
    return f"jsonb_build_object({pairs}, 'team_ids', {team_ids})"


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class PublicContract:
    """A contract as its public link shows it: the player (teams loaded) and the club."""

    player: Player
    club: Tenant


@dataclass(frozen=True, slots=True)
class SignedContract:
    club_name: str
    brand_color: str | None
    logo_url: str | None
    player_name: str
    teams: list[tuple[str, str]]
    """(name, season) of each team."""
    monthly_fee: int | None
    contract_version: str


class ContractSigner:
    """The public link's sign: the hot path, so two native statements on one pooled connection, no ORM.

    1. The token is looked up (an indexed SELECT): unknown or superseded is a 404, a contract that is not
       ``offered`` a 409, and nothing has been written anywhere.
    2. The signature file is stored under a new name.
    3. One autocommitted statement (one statement is one transaction) locks the player by token, flips
       an offered contract to signed and inserts the audit row and the ``contract.signed`` event.

    The file is removed again only when no committed row can name it: the statement signed nothing (of
    two concurrent signs one wins; the 404/409 as in step 1), the server refused it (an error response
    means it rolled back), or it was never sent. When the outcome is unknown (cancelled or cut off with
    the statement on its way) the file stays: an orphaned file is harmless, a signed contract whose
    signature was deleted is not. The storage write happens between the statements on the same
    connection (one pool checkout; autocommit, so no transaction or lock is held meanwhile).
    """

    def __init__(self, engine: AsyncEngine, nudger: Nudger | None = None) -> None:
        self.engine = engine
        self.nudger = nudger

    async def sign(self, token: str, signature: Signature) -> SignedContract:
        async with native_connection(self.engine) as driver:
            status = await driver.fetchval(_SIGNABLE, token)
            if status is None:
                raise _no_contract()
            if status != ContractStatus.OFFERED.value:
                raise _not_signable(status)
            path = signature_path()
            try:
                await store_signature(path, signature.png)
            except BaseException:
                await _forget(path)  # the statement was never sent: no row names the file
                raise
            try:
                row = await driver.fetchrow(
                    _SIGN, token, signature.signed_by, signature.ip, path, signature.contract_version
                )
            except asyncpg.PostgresError:
                await _forget(path)  # the server refused the statement, so it rolled back
                raise
            except BaseException:
                logger.warning("signature_kept_sign_outcome_unknown", path=path)
                raise
        if row is None or not row["signed"]:  # the contract changed since step 1
            await _forget(path)
            raise _no_contract() if row is None else _not_signable(row["previous_status"])
        if self.nudger is not None:
            self.nudger.schedule()
        return SignedContract(
            club_name=row["club_name"],
            brand_color=row["brand_color"],
            logo_url=row["logo_url"],
            player_name=row["name"],
            teams=list(zip(row["team_names"], row["team_seasons"], strict=True)),
            monthly_fee=row["monthly_fee"],
            contract_version=signature.contract_version,
        )


def _no_contract() -> ResourceNotFoundError:
    return ResourceNotFoundError("no contract at this link")


def _not_signable(status: str) -> StateConflictError:
    return StateConflictError(f"this contract is {status}; it can no longer be signed")


# Whether a link can be signed, before anything is stored (uq_players_contract_token is its index).
_SIGNABLE = "SELECT contract_status FROM players WHERE contract_token = $1"

# The contract.signed event, built by the outbox from the registered payload (ContractSigned's fields).
_SIGNED_EVENT = event_insert_sql(
    source="signed AS s, teams_of",
    aggregate_type="player",
    aggregate_id="s.id",
    event_type=CONTRACT_SIGNED,
    payload={
        "player_id": "s.id",
        "player_name": "s.name",
        "team_id": "teams_of.first_id",
        "parent_id": "s.parent_id",
        "tenant_id": "s.tenant_id",
    },
    tenant_id="s.tenant_id",
)
# Signing in one statement, so one round trip in autocommit: lock the player by token, flip an offered contract
# to signed, and write the audit row and the contract.signed outbox event. asyncpg's native $n parameters: it
# runs on the pool's driver connection. Built once, at import, from constants.
_SIGN = f"""
    WITH target AS (
        SELECT * FROM players WHERE contract_token = $1 FOR UPDATE
    ), teams_of AS (
        SELECT coalesce(jsonb_agg(t.id::text ORDER BY t.name), '[]'::jsonb) AS ids,
               coalesce(array_agg(t.name ORDER BY t.name), '{{}}') AS team_names,
               coalesce(array_agg(t.season ORDER BY t.name), '{{}}') AS team_seasons,
               (array_agg(t.id ORDER BY t.name))[1] AS first_id
        FROM player_teams AS pt JOIN teams AS t ON t.id = pt.team_id
        WHERE pt.player_id = (SELECT id FROM target)
    ), signed AS (
        UPDATE players AS p
        SET contract_status = 'signed', contract_signed_at = now(), contract_signed_by = $2,
            contract_signed_ip = $3, contract_signature = $4, contract_version = $5, updated_at = now()
        FROM target
        WHERE p.id = target.id AND target.contract_status = 'offered'
        RETURNING p.*
    ), audit AS (
        INSERT INTO contract_audit_log (tenant_id, player_id, event_type, old_state, new_state, actor, source)
        SELECT s.tenant_id, s.id, 'signed', {_state_sql("t", "teams_of.ids")}, {_state_sql("s", "teams_of.ids")},
               $2, 'public_link'
        FROM signed AS s, target AS t, teams_of
    ), event AS (
        {_SIGNED_EVENT}
    )
    SELECT t.contract_status AS previous_status, EXISTS (SELECT 1 FROM signed) AS signed,
           t.name, t.monthly_fee, teams_of.team_names, teams_of.team_seasons,
           club.name AS club_name, club.brand_color, club.logo_url
    FROM target AS t JOIN tenants AS club ON club.id = t.tenant_id, teams_of
    """  # noqa: S608


@dataclass(frozen=True, slots=True)
class Signature:
    signed_by: str
    png: bytes
    contract_version: str
    ip: str


def _require_offered(player: Player, verb: str) -> None:
    if player.contract_status is not ContractStatus.OFFERED:
        raise StateConflictError(f"this contract is {player.contract_status.value}; it can no longer be {verb}")


def _about(player: Player) -> dict[str, Any]:
    """The payload of contract.signed / contract.declined."""
    return {
        "player_id": player.id,
        "player_name": player.name,
        "team_id": player.teams[0].id if player.teams else None,
        "parent_id": player.parent_id,
        "tenant_id": player.tenant_id,
    }


async def _forget(path: str) -> None:
    try:
        await delete_signature(path)
    except Exception as error:  # noqa: BLE001  (an orphaned file is harmless; the original error matters)
        logger.warning("signature_cleanup_failed", path=path, error=str(error)[:200])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _clear_signature(player: Player) -> None:
    player.contract_signed_at = None
    player.contract_signed_by = None
    player.contract_signed_ip = None
    player.contract_signature = None
    player.contract_version = None
