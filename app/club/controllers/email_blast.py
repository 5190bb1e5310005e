"""The email blast to parents of unsigned contracts (role `admin`)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.notifications import EmailBlastService
from app.club.schemas import (
    EmailBlastRecipient,
    EmailBlastRequest,
    EmailBlastResult,
    body,
)
from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses

__all__ = ["EmailBlastController"]


class EmailBlastController(Controller):
    path = "/api/v1/admin/email"
    tags = ["email"]
    guards = [requires_role("admin")]

    @post(
        "/blast",
        operation_id="emailBlast",
        summary="Email the parents of players with an open contract offer",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 413, 422),
    )
    async def blast(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[
            EmailBlastRequest,
            body(EmailBlastRequest),
        ],
    ) -> EmailBlastResult:
        """One email per parent (listing each of their players' signing links), queued in one transaction and
        sent by the workers, each exactly once. `dry_run` returns the recipients and writes nothing."""
        plan = await EmailBlastService(db_session).blast(
            principal.tenant.id,
            audience=data.audience,
            team_id=data.team_id,
            subject_template=data.subject_template,
            dry_run=data.dry_run,
            requested_by=principal.actor,
        )
        return EmailBlastResult(
            blast_id=plan.blast_id,
            dry_run=plan.dry_run,
            recipient_count=len(plan.recipients),
            players_without_parent=plan.players_without_parent,
            recipients=[
                EmailBlastRecipient(
                    parent_id=recipient.parent_id,
                    name=recipient.name,
                    email=recipient.email,
                    player_ids=[player_id for player_id, _ in recipient.players],
                    player_names=[name for _, name in recipient.players],
                )
                for recipient in plan.recipients
            ]
            if plan.dry_run
            else None,
        )
