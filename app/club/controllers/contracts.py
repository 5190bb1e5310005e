"""Contract offers and their audit (role `admin`)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.contracts import ContractService, Offer, contract_link
from app.club.controllers._responses import WRITE
from app.club.models import AuditSource
from app.club.schemas import (
    MovedTeams,
    OfferRequest,
    OfferResponse,
    body,
)
from app.config import Settings
from app.core.auth import Principal, requires_role
from app.core.deps import AppSettings

__all__ = ["ContractController", "contract_url"]


class ContractController(Controller):
    path = "/api/v1/admin/contracts"
    tags = ["contracts"]
    guards = [requires_role("admin")]

    @post(
        "/offer",
        operation_id="offerContract",
        summary="Offer a player's contract",
        status_code=HTTP_200_OK,
        responses=WRITE,
    )
    async def offer(
        self,
        settings: AppSettings,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[
            OfferRequest,
            body(OfferRequest),
        ],
        force: Annotated[bool, QueryParameter(description="Re-offer an open offer with a new link")] = False,
    ) -> OfferResponse:
        """none/declined → offered; offered → 409 unless `force`; signed → needs a new `target_team_id` (422),
        archives the signed contract in the audit and re-offers. Returns the new signing link."""
        result = await ContractService(db_session).offer(
            principal.tenant.id,
            Offer(data.player_id, data.monthly_fee, data.target_team_id, force),
            actor=principal.actor,
            source=AuditSource.API,
        )
        moved = (
            MovedTeams(from_team_ids=result.moved_from_team_ids or [], to_team_ids=result.moved_to_team_ids or [])
            if result.moved_to_team_ids is not None
            else None
        )
        return OfferResponse(
            player_id=result.player_id,
            previous_status=result.previous_status,
            new_status=result.new_status,
            contract_url=contract_url(settings, result.token),
            moved_teams=moved,
            previous_signed_state_archived=result.previous_signed_state_archived,
            actor=result.actor,
        )


def contract_url(settings: Settings, token: str) -> str:
    """The parent's signing link, built from CONTRACT_LINK_URL."""
    return contract_link(settings.server.contract_link_url, token)
