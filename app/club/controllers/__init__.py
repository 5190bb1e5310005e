"""The club's admin API, one module per resource."""

from app.club.controllers.contracts import ContractController, contract_url
from app.club.controllers.email_blast import EmailBlastController
from app.club.controllers.parents import ParentController
from app.club.controllers.players import PlayerController
from app.club.controllers.teams import TeamController

__all__ = [
    "ContractController",
    "EmailBlastController",
    "ParentController",
    "PlayerController",
    "TeamController",
    "contract_url",
]
