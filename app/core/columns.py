"""Column types shared by the models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

__all__ = ["enum_column"]


def enum_column(kind: type[StrEnum], name: str, *, length: int = 16) -> Enum:
    """A Python enum stored as varchar(``length``) with a CHECK constraint (named ``ck_<table>_<name>``)."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
