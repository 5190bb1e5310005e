"""The parent's signing link: no login, the token in the URL is the credential. Rate limited per client IP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.contracts import ContractService, ContractSigner, PublicContract, Signature
from app.club.models import ContractStatus
from app.club.schemas import ContractClub, ContractTeam, ContractView, SignRequest, body
from app.club.signatures import decode_signature
from app.config import Settings
from app.core.client_ip import client_ip
from app.core.deps import AppSettings
from app.core.errors import RuleViolationError, problem_responses

__all__ = ["PUBLIC_BODY_LIMIT", "PublicContractController", "SigningDesk"]

PUBLIC_BODY_LIMIT = 1024 * 1024
"""Bytes a request to the public links may send (413 beyond): the largest signature's base64 and the rest."""


@dataclass(frozen=True, slots=True)
class SigningDesk:
    """What the sign endpoint needs from the process, as one dependency (``signing``): each dependency a
    handler declares costs every request its resolution, and this is the hot path."""

    settings: Settings
    signer: ContractSigner


class PublicContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]
    opt = {"exclude_from_auth": True}
    request_max_body_size = PUBLIC_BODY_LIMIT

    @get(
        "/{token:str}",
        operation_id="viewContract",
        summary="What the link asks to sign",
        responses=problem_responses(400, 404, 429),
    )
    async def view(
        self, settings: AppSettings, db_session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> ContractView:
        """The player, team(s), season, monthly fee, contract version and status. Unknown or superseded: 404."""
        return _view(await ContractService(db_session).view(token), settings)

    @post(
        "/{token:str}/sign",
        operation_id="signContract",
        summary="Sign the contract",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 404, 409, 413, 422, 429, 503),
    )
    async def sign(
        self,
        request: Request[Any, Any, Any],
        signing: NamedDependency[SkipValidation[SigningDesk]],
        token: FromPath[str],
        data: Annotated[SignRequest, body(SignRequest)],
    ) -> ContractView:
        """Only an `offered` contract can be signed (409 otherwise); the signature must be a PNG of at most
        512 KiB, 2000x1000 pixels and 8 bits a sample (422); a body over 1 MiB is refused (413)."""
        settings = signing.settings
        if not data.accept_terms:
            raise RuleViolationError("accept_terms must be true to sign")
        if data.contract_version != settings.server.contract_version:
            raise RuleViolationError(f"this link offers contract version {settings.server.contract_version}")
        png = await decode_signature(data.signature_png)
        signature = Signature(
            signed_by=data.signed_by,
            png=png,
            contract_version=data.contract_version,
            ip=client_ip(request, settings.server.trusted_proxies),
        )
        signed = await signing.signer.sign(token, signature)
        teams = [ContractTeam(name=name, season=season) for name, season in signed.teams]
        return ContractView(
            club=ContractClub(name=signed.club_name, brand_color=signed.brand_color, logo_url=signed.logo_url),
            player_name=signed.player_name,
            teams=teams,
            season=teams[0].season if teams else None,
            monthly_fee=signed.monthly_fee,
            contract_version=signed.contract_version,
            status=ContractStatus.SIGNED,
        )

    @post(
        "/{token:str}/decline",
        operation_id="declineContract",
        summary="Decline the contract",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 404, 409, 429),
    )
    async def decline(
        self,
        request: Request[Any, Any, Any],
        settings: AppSettings,
        db_session: NamedDependency[AsyncSession],
        token: FromPath[str],
    ) -> ContractView:
        """Only an `offered` contract can be declined (409 otherwise); the club can offer again later."""
        ip = client_ip(request, settings.server.trusted_proxies)
        return _view(await ContractService(db_session).decline(token, ip=ip), settings)


def _view(contract: PublicContract, settings: Settings) -> ContractView:
    player, club = contract.player, contract.club
    teams = [ContractTeam(name=team.name, season=team.season) for team in player.teams]
    return ContractView(
        club=ContractClub(name=club.name, brand_color=club.brand_color, logo_url=club.logo_url),
        player_name=player.name,
        teams=teams,
        season=teams[0].season if teams else None,
        monthly_fee=player.monthly_fee,
        contract_version=player.contract_version or settings.server.contract_version,
        status=player.contract_status,
    )
