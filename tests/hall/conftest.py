"""Hall test fixtures."""

from tests.hall.kit import hall

__all__ = ["hall"]
