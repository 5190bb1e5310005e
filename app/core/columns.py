"""Column types shared by the models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

__all__ = ["enum_column"]


def enum_column(kind: type[StrEnum], name: str) -> Enum:
    """A Python enum stored as varchar with a CHECK constraint (named ``ck_<table>_<name>``): one definition."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )
