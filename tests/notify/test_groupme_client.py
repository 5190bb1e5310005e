"""The GroupMe client speaks real HTTP to a local GroupMe stand-in: pages, writes, retries, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.config import GroupMeSettings
from app.notify.groupme import GroupMeClient, GroupMeError, GroupMeMember
from tests.notify.groupme_server import TOKEN, GroupMeServer
from tests.processes import free_port


class Sleeps:
    """Stands in for asyncio.sleep: records the pauses the client asks for, so no test waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def groupme() -> Iterator[GroupMeServer]:
    with GroupMeServer().running() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(url: str, sleeps: Sleeps, **options: Any) -> GroupMeClient:
    token, attempts = options.pop("token", TOKEN), options.pop("max_attempts", 4)
    settings = GroupMeSettings(api_url=url, access_token=token, max_attempts=attempts)
    return GroupMeClient.from_settings(settings, backoff_base_seconds=0.01, sleep=sleeps, **options)


@pytest.fixture
async def client(groupme: GroupMeServer, sleeps: Sleeps) -> AsyncIterator[GroupMeClient]:
    async with make_client(groupme.url, sleeps) as gm:
        yield gm


async def test_list_groups_reads_every_page_until_an_empty_one(groupme: GroupMeServer, client: GroupMeClient) -> None:
    names = [f"Team {number:03}" for number in range(205)]
    for name in names:
        groupme.add_group(name)
    groups = await client.list_groups()
    assert [group.name for group in groups] == names
    assert [(r.query["page"], r.query["per_page"]) for r in groupme.requests] == [
        ("1", "100"),
        ("2", "100"),
        ("3", "100"),
        ("4", "100"),
    ]
    assert groups[0].members[0].user_id == "1000"


async def test_an_account_without_groups_lists_none(client: GroupMeClient) -> None:
    assert await client.list_groups() == []


async def test_create_group_asks_for_a_share_link_and_returns_the_group(
    groupme: GroupMeServer, client: GroupMeClient
) -> None:
    group = await client.create_group("U12 Kings Elite 2026-27")
    assert groupme.groups[group.id]["name"] == "U12 Kings Elite 2026-27"
    assert group.share_url == groupme.groups[group.id]["share_url"]
    assert group.share_url is not None
    assert group.share_url.startswith("https://groupme.com/join_group/")
    [request] = groupme.requests
    assert (request.method, request.path, request.status) == ("POST", "/v3/groups", 201)
    assert request.body == {"name": "U12 Kings Elite 2026-27", "share": True}


async def test_add_members_sends_user_ids_with_nicknames(groupme: GroupMeServer, client: GroupMeClient) -> None:
    group = groupme.add_group("U12 Queens Select")
    results_id = await client.add_members(
        group["id"], [GroupMeMember(user_id="2001", nickname="Coach"), GroupMeMember(user_id="2002", nickname="Ops")]
    )
    assert results_id
    assert groupme.member_ids(group["id"]) == ["1000", "2001", "2002"]
    assert groupme.requests[-1].body == {
        "members": [{"user_id": "2001", "nickname": "Coach"}, {"user_id": "2002", "nickname": "Ops"}]
    }


async def test_enable_share_returns_the_new_share_url(groupme: GroupMeServer, client: GroupMeClient) -> None:
    group = groupme.add_group("U10 Kings", shared=False)
    shared = await client.enable_share(group["id"])
    assert shared.id == group["id"]
    assert shared.share_url is not None
    assert shared.share_url == groupme.groups[group["id"]]["share_url"]
    assert groupme.requests[-1].body == {"share": True}


async def test_every_request_carries_the_access_token_header(groupme: GroupMeServer, client: GroupMeClient) -> None:
    group = await client.create_group("U14 Kings")
    await client.enable_share(group.id)
    await client.list_groups()
    assert {request.token for request in groupme.requests} == {TOKEN}


async def test_429_and_5xx_are_retried_until_groupme_answers(
    groupme: GroupMeServer, client: GroupMeClient, sleeps: Sleeps
) -> None:
    groupme.add_group("U12 Kings")
    groupme.fail_next(429, 500, 503)
    assert [group.name for group in await client.list_groups()] == ["U12 Kings"]
    assert [request.status for request in groupme.requests] == [429, 500, 503, 200, 200]  # the last: empty page
    assert len(sleeps.delays) == 3


async def test_a_create_answered_5xx_is_looked_for_before_it_is_sent_again(
    groupme: GroupMeServer, client: GroupMeClient
) -> None:
    groupme.fail_next(502, after_effect=True)  # GroupMe made the group, but the answer was lost
    group = await client.create_group("U12 Kings")
    assert [group["name"] for group in groupme.groups.values()] == ["U12 Kings"]  # not two
    assert group.id in groupme.groups
    assert [(r.method, r.status) for r in groupme.requests] == [("POST", 502), ("GET", 200), ("GET", 200)]


async def test_a_create_that_failed_before_doing_anything_is_sent_again(
    groupme: GroupMeServer, client: GroupMeClient
) -> None:
    groupme.fail_next(429, 503)
    group = await client.create_group("U12 Kings")
    assert list(groupme.groups) == [group.id]
    methods = [(r.method, r.status) for r in groupme.requests]
    assert methods == [("POST", 429), ("POST", 503), ("GET", 200), ("POST", 201)]  # 429: nothing was done


async def test_a_retried_create_never_takes_a_known_group_of_the_same_name_for_the_new_one(
    groupme: GroupMeServer, client: GroupMeClient
) -> None:
    other_clubs = groupme.add_group("U12 Kings Elite 2026-27")
    groupme.fail_next(503)  # nothing was made: the group of that name in the listing is someone else's

    group = await client.create_group("U12 Kings Elite 2026-27", known={other_clubs["id"]})

    assert group.id != other_clubs["id"]
    assert list(groupme.groups) == [other_clubs["id"], group.id]


async def test_retry_after_is_honoured_up_to_a_cap(
    groupme: GroupMeServer, client: GroupMeClient, sleeps: Sleeps
) -> None:
    groupme.fail_next(429, retry_after="7")
    groupme.fail_next(429, retry_after="3600")
    await client.list_groups()
    assert sleeps.delays == [7.0, 30.0]


async def test_without_retry_after_the_backoff_doubles_with_jitter(
    groupme: GroupMeServer, client: GroupMeClient, sleeps: Sleeps
) -> None:
    groupme.fail_next(500, 502, 503)
    await client.list_groups()
    first, second, third = sleeps.delays
    assert 0.005 <= first <= 0.01
    assert 0.01 <= second <= 0.02
    assert 0.02 <= third <= 0.04


async def test_it_gives_up_after_max_attempts_with_a_clear_error(groupme: GroupMeServer, sleeps: Sleeps) -> None:
    groupme.fail_next(503, 503, 503, 503)
    async with make_client(groupme.url, sleeps, max_attempts=3) as client:
        with pytest.raises(GroupMeError) as refused:
            await client.list_groups()
    assert refused.value.status == 503
    assert str(refused.value) == "GroupMe GET /groups answered 503 after 3 attempts: try again later"
    assert len(groupme.requests) == 3


async def test_other_refusals_are_not_retried(groupme: GroupMeServer, client: GroupMeClient, sleeps: Sleeps) -> None:
    with pytest.raises(GroupMeError) as refused:
        await client.create_group("")
    assert refused.value.status == 400
    assert str(refused.value) == "GroupMe POST /groups answered 400: name is required"
    assert len(groupme.requests) == 1
    assert sleeps.delays == []


async def test_an_unknown_group_is_a_404_error(client: GroupMeClient) -> None:
    with pytest.raises(GroupMeError, match="answered 404: group not found") as refused:
        await client.enable_share("424242")
    assert refused.value.status == 404


async def test_a_refused_token_never_appears_in_the_error(groupme: GroupMeServer, sleeps: Sleeps) -> None:
    wrong = "wrong-token-3a9e77"
    async with make_client(groupme.url, sleeps, token=wrong) as client:
        with pytest.raises(GroupMeError) as refused:
            await client.list_groups()
    assert groupme.requests[0].token == wrong  # the stand-in echoed it back in its error text
    assert refused.value.status == 401
    assert wrong not in str(refused.value)
    assert str(refused.value) == "GroupMe GET /groups answered 401: token '***' is not valid"
    assert sleeps.delays == []


async def test_connection_failures_are_retried_then_reported(sleeps: Sleeps) -> None:
    async with make_client(f"http://127.0.0.1:{free_port()}/v3", sleeps, max_attempts=3) as client:
        with pytest.raises(GroupMeError) as failed:
            await client.list_groups()
    assert failed.value.status is None
    assert str(failed.value) == "GroupMe GET /groups: ConnectError after 3 attempts (no answer)"
    assert len(sleeps.delays) == 2


def test_a_missing_access_token_names_its_variable() -> None:
    with pytest.raises(GroupMeError, match=r"^GROUPME_ACCESS_TOKEN is not set"):
        GroupMeClient.from_settings(GroupMeSettings(access_token=None))


async def test_a_clubs_own_token_is_used_instead_of_the_shared_one(groupme: GroupMeServer) -> None:
    groupme.add_account("club-own-token")
    settings = GroupMeSettings(api_url=groupme.url, access_token=TOKEN)
    async with GroupMeClient.from_settings(settings, access_token="club-own-token") as client:
        await client.list_groups()
    async with GroupMeClient.from_settings(
        GroupMeSettings(api_url=groupme.url), access_token="club-own-token"
    ) as alone:
        await alone.list_groups()
    assert {request.token for request in groupme.requests} == {"club-own-token"}
