"""Events the club emits (aggregate ``player``); the notification handlers subscribe to them."""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.outbox import register_event_type

__all__ = [
    "CONTRACT_DECLINED",
    "CONTRACT_OFFERED",
    "CONTRACT_SIGNED",
    "ContractDeclined",
    "ContractOffered",
    "ContractSigned",
]

CONTRACT_OFFERED = "contract.offered"
CONTRACT_SIGNED = "contract.signed"
CONTRACT_DECLINED = "contract.declined"


class ContractOffered(msgspec.Struct, kw_only=True):
    player_id: UUID
    player_name: str
    tenant_id: UUID
    team_id: UUID | None
    parent_id: UUID | None
    monthly_fee: int
    previous_status: str


class ContractSigned(msgspec.Struct, kw_only=True):
    player_id: UUID
    player_name: str
    team_id: UUID | None
    parent_id: UUID | None
    tenant_id: UUID


class ContractDeclined(msgspec.Struct, kw_only=True):
    player_id: UUID
    player_name: str
    team_id: UUID | None
    parent_id: UUID | None
    tenant_id: UUID


register_event_type(CONTRACT_OFFERED, ContractOffered)
register_event_type(CONTRACT_SIGNED, ContractSigned)
register_event_type(CONTRACT_DECLINED, ContractDeclined)
