"""One GroupMe group per team: the rules behind ``rollcall groupme reconcile``.

Clubs often made their groups by hand before rollcall, with names typed
slightly differently ("U12 Kings-Elite!" vs "u12 kings elite"), so groups are
matched to teams by a normalised name before any new group is made. A team
keeps a group it is already linked to; otherwise a group named after the team
and its season matches; otherwise one named after the team alone, but only when
no other team of the club has that name (two seasons of "U12 Kings" would
otherwise fight over one group). Teams left without a group get a new one
named "<team> <season>", which the next run finds again by name even if the
database write of this run was lost. Every team's group then gets the club's
staff members it is missing.

Several clubs may share one GroupMe account, and two clubs may well both have a
"U12 Kings Elite 2026-27". So a group belongs to at most one tenant
(``groupme_groups``): a club is only ever matched with groups it owns or that
nobody owns yet, and claims those it links; a group another club owns is
invisible to it, and a team whose name only such a group matches gets a group
of its own. A club with its own GroupMe token (``tenants.groupme_access_token``)
is reconciled with it instead of the shared ``GROUPME_ACCESS_TOKEN``.

Running it twice in a row changes nothing the second time; a dry run makes the
same plan but calls no write endpoint and writes nothing to the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer
from sqlalchemy.orm.interfaces import ORMOption

from app.club.models import GroupMeGroupOwner, Team
from app.notify.groupme import GroupMeGroup, GroupMeMember
from app.tenants.models import Tenant, TenantKind

__all__ = [
    "NEW",
    "STAFF_NICKNAME",
    "GroupMeApi",
    "GroupMeReconciler",
    "ReconcileError",
    "ReconcileReport",
    "TeamAction",
    "TeamOutcome",
    "claim_groups",
    "club_access_token",
    "match_groups",
    "normalise_name",
    "team_group_name",
]

NEW = "(new)"
"""What a dry run shows for the id and share URL of a group it would create or share."""
STAFF_NICKNAME = "Club staff"

_APOSTROPHES = re.compile(r"['`\u2019\u02bc]")  # ', `, right single quote, modifier apostrophe
_SEPARATORS = re.compile(r"[\W_]+")


class ReconcileError(Exception):
    """The tenant cannot be reconciled (unknown, or not a club); the message says which."""


class GroupMeApi(Protocol):
    """The GroupMe calls the reconciler makes (:class:`app.notify.groupme.GroupMeClient`)."""

    async def list_groups(self) -> list[GroupMeGroup]: ...

    async def create_group(self, name: str, *, known: Collection[str] = ()) -> GroupMeGroup: ...

    async def add_members(self, group_id: str, members: Sequence[GroupMeMember]) -> str: ...

    async def enable_share(self, group_id: str) -> GroupMeGroup: ...


class TeamAction(StrEnum):
    UNCHANGED = "unchanged"
    LINKED = "linked"
    """The team now points at an existing group it did not point at before."""
    CREATED = "created"
    UPDATED = "updated"
    """Same group as before, but its share URL or staff members changed."""


@dataclass(frozen=True, slots=True)
class TeamOutcome:
    team: str
    season: str
    action: TeamAction
    group_id: str
    share_url: str | None
    staff_added: tuple[str, ...]

    def row(self) -> tuple[str, ...]:
        """The team's cells in the summary table."""
        share_url = self.share_url or "-"
        staff = ",".join(self.staff_added) or "-"
        return (self.team, self.season, self.action.value, self.group_id, share_url, staff)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    tenant: str
    dry_run: bool
    teams: tuple[TeamOutcome, ...]

    @property
    def changed(self) -> bool:
        return any(outcome.action is not TeamAction.UNCHANGED for outcome in self.teams)

    def count(self, action: TeamAction) -> int:
        return sum(1 for outcome in self.teams if outcome.action is action)

    @property
    def staff_added(self) -> int:
        return sum(len(outcome.staff_added) for outcome in self.teams)

    def table(self) -> list[str]:
        """One aligned plain-text row per team under a header; no lines at all when the club has no teams."""
        if not self.teams:
            return []
        rows = [_TABLE_HEADER, *(outcome.row() for outcome in self.teams)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(_TABLE_HEADER))]
        return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]

    def summary(self) -> str:
        """One line for the operator: what changed (or would), or that nothing needs to."""
        prefix = "dry run: " if self.dry_run else ""
        if not self.teams:
            return f"{prefix}nothing to change: tenant {self.tenant} has no teams"
        if not self.changed:
            return f"{prefix}nothing to change: every team already matches its group"
        counts = ", ".join(f"{self.count(action)} {action.value}" for action in _SUMMARY_ORDER)
        return f"{prefix}{counts}; {self.staff_added} staff memberships added"


_TABLE_HEADER = ("TEAM", "SEASON", "ACTION", "GROUP ID", "SHARE URL", "STAFF ADDED")
_SUMMARY_ORDER = (TeamAction.LINKED, TeamAction.CREATED, TeamAction.UPDATED, TeamAction.UNCHANGED)


def normalise_name(name: str) -> str:
    """The form group and team names are compared in: case, spacing and punctuation do not count.

    "U12 Kings-Elite!" and "u12  kings elite" are the same; apostrophes vanish
    rather than split words, so "St Mary's" and "St Marys" are too.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", folded)).strip()


def team_group_name(team: Team) -> str:
    """The name a new group gets: the season keeps next year's group apart from this year's."""
    return f"{team.name} {team.season}"


def match_groups(teams: Sequence[Team], groups: Sequence[GroupMeGroup]) -> list[GroupMeGroup | None]:
    """For each team (same order), the account's group it belongs to, or None when one must be created.

    A group goes to at most one team. Teams already linked to one of the
    account's groups keep it, before any name is compared.
    """
    by_id = {group.id: group for group in groups}
    matched: list[GroupMeGroup | None] = [by_id.get(team.groupme_group_id or "") for team in teams]
    taken = {group.id for group in matched if group is not None}
    by_name: dict[str, list[GroupMeGroup]] = {}
    for group in groups:
        by_name.setdefault(normalise_name(group.name), []).append(group)
    name_counts = Counter(normalise_name(team.name) for team in teams)
    for index, team in enumerate(teams):
        if matched[index] is not None:
            continue
        names = [normalise_name(team_group_name(team))]
        if name_counts[normalise_name(team.name)] == 1:
            names.append(normalise_name(team.name))
        found = _first_free(by_name, names, taken)
        if found is not None:
            matched[index] = found
            taken.add(found.id)
    return matched


async def claim_groups(session: AsyncSession, tenant_id: UUID, group_ids: Collection[str]) -> set[str]:
    """Record the tenant as the owner of each group nobody owns yet; return those of ``group_ids`` it owns now.

    A group already owned by another tenant stays theirs and is left out of the
    answer. The insert waits for a concurrent, uncommitted claim of the same
    group and then yields to it, so two tenants never both own one; ids are
    claimed in one order, so two claims cannot deadlock. Nothing is committed.
    """
    wanted = sorted(set(group_ids))
    if not wanted:
        return set()
    await session.execute(
        insert(GroupMeGroupOwner)
        .values([{"group_id": group_id, "tenant_id": tenant_id} for group_id in wanted])
        .on_conflict_do_nothing(index_elements=[GroupMeGroupOwner.group_id])
    )
    owned = await session.scalars(
        select(GroupMeGroupOwner.group_id).where(
            GroupMeGroupOwner.group_id.in_(wanted), GroupMeGroupOwner.tenant_id == tenant_id
        )
    )
    return set(owned)


async def club_access_token(session: AsyncSession, tenant_slug: str) -> str | None:
    """The club's own GroupMe access token, or None when it uses the shared account (``GROUPME_ACCESS_TOKEN``)."""
    tenant = await _club(session, tenant_slug, undefer(Tenant.groupme_access_token))
    return tenant.groupme_access_token


async def _club(session: AsyncSession, slug: str, *options: ORMOption) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug).options(*options))
    if tenant is None:
        raise ReconcileError(f"unknown tenant '{slug}' (see `rollcall tenants list`)")
    if tenant.kind is not TenantKind.CLUB:
        raise ReconcileError(f"tenant '{slug}' is a {tenant.kind.value}, not a club: it has no teams")
    return tenant


def _first_free(by_name: dict[str, list[GroupMeGroup]], names: list[str], taken: set[str]) -> GroupMeGroup | None:
    for name in names:
        for group in by_name.get(name, ()):
            if group.id not in taken:
                return group
    return None


class GroupMeReconciler:
    """Brings a club's teams and the GroupMe account's groups into line (see the module docstring)."""

    def __init__(self, session: AsyncSession, client: GroupMeApi, staff_user_ids: Sequence[str]) -> None:
        self._session = session
        self._client = client
        self._staff = tuple(dict.fromkeys(staff_user_ids))

    async def reconcile(self, tenant_slug: str, *, dry_run: bool) -> ReconcileReport:
        """Link, create and staff every team's group; commit once at the end unless ``dry_run``.

        Only groups the club owns or nobody owns are matched, and the matched ones are claimed before
        anything is written to GroupMe; a group another tenant claims meanwhile is dropped and the
        teams are matched again without it.
        """
        tenant = await _club(self._session, tenant_slug)
        teams = await self._teams(tenant.id)
        groups = await self._client.list_groups()
        listed = {group.id for group in groups}
        available = await self._not_owned_by_others(tenant.id, groups)
        matched = match_groups(teams, available)
        while not dry_run:
            wanted = {group.id for group in matched if group is not None}
            lost = wanted - await claim_groups(self._session, tenant.id, wanted)
            if not lost:
                break
            available = [group for group in available if group.id not in lost]
            matched = match_groups(teams, available)
        outcomes = []
        for team, group in zip(teams, matched, strict=True):
            outcomes.append(await self._reconcile_team(tenant.id, team, group, listed, dry_run=dry_run))
        if not dry_run:
            await self._session.commit()
        return ReconcileReport(tenant=tenant_slug, dry_run=dry_run, teams=tuple(outcomes))

    async def _not_owned_by_others(self, tenant_id: UUID, groups: Sequence[GroupMeGroup]) -> list[GroupMeGroup]:
        """The groups that are the tenant's or nobody's yet (another tenant's are never even looked at)."""
        statement = select(GroupMeGroupOwner.group_id, GroupMeGroupOwner.tenant_id).where(
            GroupMeGroupOwner.group_id.in_([group.id for group in groups])
        )
        owners = dict((await self._session.execute(statement)).all())
        return [group for group in groups if owners.get(group.id, tenant_id) == tenant_id]

    async def _teams(self, tenant_id: UUID) -> list[Team]:
        statement = select(Team).where(Team.tenant_id == tenant_id).order_by(Team.season, Team.name, Team.id)
        return list(await self._session.scalars(statement))

    async def _reconcile_team(
        self, tenant_id: UUID, team: Team, group: GroupMeGroup | None, listed: set[str], *, dry_run: bool
    ) -> TeamOutcome:
        if group is None:
            action = TeamAction.CREATED
            group = await self._create(tenant_id, team, listed, dry_run=dry_run)
        else:
            action = TeamAction.UNCHANGED if team.groupme_group_id == group.id else TeamAction.LINKED
        share_url = await self._share_url(group, dry_run=dry_run)
        staff_added = await self._add_staff(group, dry_run=dry_run)
        if action is TeamAction.UNCHANGED and (share_url != team.groupme_share_url or staff_added):
            action = TeamAction.UPDATED
        if not dry_run:
            team.groupme_group_id = group.id
            team.groupme_share_url = share_url
        return TeamOutcome(team.name, team.season, action, group.id, share_url, staff_added)

    async def _create(self, tenant_id: UUID, team: Team, listed: set[str], *, dry_run: bool) -> GroupMeGroup:
        """A new group for the team, claimed for the tenant (``listed``: groups that existed before, and so
        cannot be the one a retried create made, whatever their names)."""
        if dry_run:
            return GroupMeGroup(id=NEW, name=team_group_name(team), share_url=NEW)
        group = await self._client.create_group(team_group_name(team), known=listed)
        if group.id not in await claim_groups(self._session, tenant_id, [group.id]):
            raise ReconcileError(
                f"the GroupMe group {group.id} made for {team.name} {team.season} was claimed by another tenant"
                " meanwhile; nothing was saved, run the command again"
            )
        return group

    async def _share_url(self, group: GroupMeGroup, *, dry_run: bool) -> str | None:
        """The group's share URL, turning sharing on first when the group has none (parents join by it)."""
        if group.share_url is not None:
            return group.share_url
        if dry_run:
            return NEW
        return (await self._client.enable_share(group.id)).share_url

    async def _add_staff(self, group: GroupMeGroup, *, dry_run: bool) -> tuple[str, ...]:
        """Add the configured staff who are not members yet; return their user ids."""
        present = {member.user_id for member in group.members}
        missing = tuple(user_id for user_id in self._staff if user_id not in present)
        if missing and not dry_run:
            members = [GroupMeMember(user_id=user_id, nickname=STAFF_NICKNAME) for user_id in missing]
            await self._client.add_members(group.id, members)
        return missing
