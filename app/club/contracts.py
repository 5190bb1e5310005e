"""Contract offers: the state machine of SPEC-club.md "Contract offer", in one transaction each."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.club.events import (
    CONTRACT_DECLINED,
    CONTRACT_OFFERED,
    CONTRACT_SIGNED,
    ContractDeclined,
    ContractOffered,
    ContractSigned,
)
from app.club.models import AuditEvent, AuditSource, ContractAuditLog, ContractStatus, Player, Team
from app.club.signatures import delete_signature, store_signature
from app.core.errors import RuleViolationError, StateConflictError
from app.outbox import emit

__all__ = ["ContractService", "Offer", "OfferResult", "Signature", "contract_token"]

logger = structlog.get_logger(__name__)


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
        new_state = _state(player)
        self.session.add(
            ContractAuditLog(
                tenant_id=tenant_id,
                player_id=player.id,
                event_type=event,
                old_state=old_state if previous is not ContractStatus.NONE else None,
                new_state=new_state,
                actor=actor,
                source=source,
            )
        )
        emit(
            self.session,
            "player",
            player.id,
            CONTRACT_OFFERED,
            ContractOffered(
                player_id=player.id,
                player_name=player.name,
                tenant_id=tenant_id,
                team_id=player.teams[0].id if player.teams else None,
                parent_id=player.parent_id,
                monthly_fee=offer.monthly_fee,
                previous_status=previous.value,
            ),
            tenant_id,
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
            raise NotFoundError(f"no player {player_id}")
        rows = await self.session.scalars(
            select(ContractAuditLog)
            .where(ContractAuditLog.player_id == player_id, ContractAuditLog.tenant_id == tenant_id)
            .order_by(ContractAuditLog.ts.desc(), ContractAuditLog.id.desc())
        )
        return list(rows)

    async def view(self, token: str) -> Player:
        """The contract behind a signing link; an unknown or superseded token is simply not found."""
        player = await self.session.scalar(
            select(Player).where(Player.contract_token == token).options(selectinload(Player.teams))
        )
        if player is None:
            raise NotFoundError("no contract at this link")
        return player

    async def sign(self, token: str, signature: Signature) -> Player:
        """Sign an offered contract: signed fields, the stored PNG, audit ``signed`` and ``contract.signed``
        commit together. Anything but ``offered`` is 409 (so of two concurrent signs, one wins)."""
        player = await self._locked_by_token(token)
        _require_offered(player, "signed")
        old_state = _state(player)
        path = await store_signature(player.tenant_id, player.id, signature.png)
        try:
            player.contract_status = ContractStatus.SIGNED
            player.contract_signed_at = datetime.now(UTC)
            player.contract_signed_by = signature.signed_by
            player.contract_signed_ip = signature.ip
            player.contract_signature = path
            player.contract_version = signature.contract_version
            self._record(player, AuditEvent.SIGNED, old_state, actor=signature.signed_by)
            emit(self.session, "player", player.id, CONTRACT_SIGNED, ContractSigned(**_about(player)), player.tenant_id)
            await self.session.commit()
        except BaseException:
            await self.session.rollback()
            await _forget(path)
            raise
        return player

    async def decline(self, token: str, *, ip: str) -> Player:
        """Decline an offered contract (409 otherwise): status ``declined``, audit, ``contract.declined``."""
        player = await self._locked_by_token(token)
        _require_offered(player, "declined")
        old_state = _state(player)
        player.contract_status = ContractStatus.DECLINED
        self._record(player, AuditEvent.DECLINED, old_state, actor=f"public link from {ip}")
        emit(self.session, "player", player.id, CONTRACT_DECLINED, ContractDeclined(**_about(player)), player.tenant_id)
        await self.session.commit()
        return player

    def _record(self, player: Player, event: AuditEvent, old_state: dict[str, Any], *, actor: str) -> None:
        self.session.add(
            ContractAuditLog(
                tenant_id=player.tenant_id,
                player_id=player.id,
                event_type=event,
                old_state=old_state,
                new_state=_state(player),
                actor=actor,
                source=AuditSource.PUBLIC_LINK,
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
            raise NotFoundError("no contract at this link")
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
            raise NotFoundError(f"no player {player_id}")
        return player

    async def _target_team(self, tenant_id: UUID, team_id: UUID | None) -> Team | None:
        if team_id is None:
            return None
        team = await self.session.scalar(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id))
        if team is None:
            raise RuleViolationError(f"target_team_id {team_id} is not a team of this club")
        return team


def _state(player: Player) -> dict[str, Any]:
    """Everything about a player's contract, for the audit (the token included: it is the archived link)."""
    return {
        "status": player.contract_status.value,
        "token": player.contract_token,
        "monthly_fee": player.monthly_fee,
        "offered_at": _iso(player.contract_offered_at),
        "signed_at": _iso(player.contract_signed_at),
        "signed_by": player.contract_signed_by,
        "signed_ip": player.contract_signed_ip,
        "signature": player.contract_signature,
        "version": player.contract_version,
        "team_ids": [str(team.id) for team in player.teams],
    }


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
