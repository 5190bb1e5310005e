"""A small async client for the GroupMe v3 API: the four calls the club's team groups need.

GroupMe is where each team's parents and coaches talk; ``rollcall groupme
reconcile`` (rules in :mod:`app.club.groupme`) keeps one group per team. This
module only speaks HTTP: list the account's groups, create a group, add members,
turn on the share link. GroupMe rate-limits (429) and has bad minutes (5xx), so
every call is retried with backoff; any other refusal is a :class:`GroupMeError`
at once, because asking again would get the same answer.

The access token travels in the ``X-Access-Token`` header only; it is never
logged and is scrubbed from every error message.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx
import msgspec
import structlog

from app.config import GroupMeSettings

__all__ = ["GroupMeClient", "GroupMeError", "GroupMeGroup", "GroupMeMember"]

logger = structlog.get_logger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

_AUTH_HEADER = "X-Access-Token"
_RETRIED_STATUSES = frozenset({429})
_MESSAGE_LIMIT = 200


class GroupMeError(Exception):
    """GroupMe refused a call, or kept failing until the attempts ran out; ``status`` is None without an answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GroupMeMember(msgspec.Struct, kw_only=True):
    user_id: str
    nickname: str = ""


class GroupMeGroup(msgspec.Struct, kw_only=True):
    """The fields of a GroupMe group we use; GroupMe sends many more, which are ignored."""

    id: str
    name: str
    share_url: str | None = None
    members: list[GroupMeMember] = []


class _Envelope(msgspec.Struct, Generic[T]):
    """Every GroupMe answer: ``{"meta": {"code": N, "errors": [...]}, "response": ...}``."""

    response: T


class _Meta(msgspec.Struct):
    errors: list[str] = []


class _ErrorEnvelope(msgspec.Struct):
    meta: _Meta = msgspec.field(default_factory=_Meta)


class _AddResult(msgspec.Struct):
    results_id: str = ""


class GroupMeClient:
    """Use as ``async with GroupMeClient(...) as client``; one connection pool for the whole run."""

    def __init__(
        self,
        *,
        api_url: str,
        access_token: str,
        timeout_seconds: float = 10.0,
        max_attempts: int = 4,
        backoff_base_seconds: float = 0.5,
        backoff_cap_seconds: float = 30.0,
        page_size: int = 100,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._token = access_token
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._page_size = page_size
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            timeout=timeout_seconds,
            headers={_AUTH_HEADER: access_token, "Accept": "application/json"},
        )

    @classmethod
    def from_settings(
        cls, settings: GroupMeSettings, *, access_token: str | None = None, **options: Any
    ) -> GroupMeClient:
        """The client for ``access_token`` (a club's own account), else the configured shared account; with
        neither, an error that names the variable."""
        token = access_token or settings.access_token
        if not token:
            raise GroupMeError("GROUPME_ACCESS_TOKEN is not set: the GroupMe account's access token is required")
        return cls(
            api_url=settings.api_url,
            access_token=token,
            timeout_seconds=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            **options,
        )

    async def __aenter__(self) -> GroupMeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def list_groups(self) -> list[GroupMeGroup]:
        """Every group the account is in, page by page until GroupMe returns an empty page."""
        groups: list[GroupMeGroup] = []
        page = 1
        while True:
            batch = await self._call(
                "GET", "/groups", list[GroupMeGroup], params={"page": page, "per_page": self._page_size}
            )
            if not batch:
                return groups
            groups.extend(batch)
            page += 1

    async def create_group(self, name: str, *, known: Collection[str] = ()) -> GroupMeGroup:
        """A new group with its share link turned on, so parents can join by URL.

        A POST answered 5xx, or not answered at all, may still have created the group; so before trying
        again the account's groups are searched for one of exactly this name, and a retry never makes a
        second group. Groups in ``known`` existed before and are never taken for the new one (another
        club's group may well have the same name). (429 means GroupMe did nothing: that one is simply
        retried.)
        """
        body = {"name": name, "share": True}
        for attempt in range(1, self._max_attempts + 1):
            result = await self._attempt("POST", "/groups", attempt, json=body)
            if isinstance(result, httpx.Response):
                return self._decode("POST", "/groups", result, GroupMeGroup)
            if result != "429":  # a 5xx or no answer: it may have been made after all
                made = [group for group in await self.list_groups() if group.name == name and group.id not in known]
                if made:
                    return made[0]
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    async def add_members(self, group_id: str, members: Sequence[GroupMeMember]) -> str:
        """Add users to a group; GroupMe does it in the background and returns a results id."""
        body = {"members": [msgspec.to_builtins(member) for member in members]}
        result = await self._call("POST", f"/groups/{group_id}/members/add", _AddResult, json=body)
        return result.results_id

    async def enable_share(self, group_id: str) -> GroupMeGroup:
        """Turn on a group's share link; the returned group carries its ``share_url``."""
        return await self._call("POST", f"/groups/{group_id}/update", GroupMeGroup, json={"share": True})

    async def _call(self, method: str, path: str, response_type: type[T], **request: Any) -> T:
        """One API call with retries; decode ``response`` from the envelope as ``response_type``."""
        return self._decode(method, path, await self._send(method, path, **request), response_type)

    def _decode(self, method: str, path: str, answer: httpx.Response, response_type: type[T]) -> T:
        try:
            return msgspec.json.decode(answer.content, type=_Envelope[response_type]).response  # type: ignore[valid-type]
        except msgspec.DecodeError as error:
            raise GroupMeError(
                self._scrub(f"GroupMe {method} {path}: unexpected response ({error})"), status=answer.status_code
            ) from None

    async def _send(self, method: str, path: str, **request: Any) -> httpx.Response:
        """Send until GroupMe answers something other than 429/5xx, or the attempts run out."""
        for attempt in range(1, self._max_attempts + 1):
            result = await self._attempt(method, path, attempt, **request)
            if isinstance(result, httpx.Response):
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    async def _attempt(self, method: str, path: str, attempt: int, **request: Any) -> httpx.Response | str:
        """One try: the answer to keep, or (having paused before the next try) what went wrong: the
        status ("429", "503", …) or the transport error's name. The last try raises instead."""
        last = attempt == self._max_attempts
        try:
            answer = await self._http.request(method, path, **request)
        except httpx.TransportError as error:
            problem = type(error).__name__
            if last:
                raise GroupMeError(f"GroupMe {method} {path}: {problem} after {attempt} attempts (no answer)") from None
            await self._pause(method, path, attempt, problem, None)
            return problem
        if not _retried(answer.status_code):
            if answer.status_code >= 400:
                raise self._refusal(method, path, answer, attempt=None)
            return answer
        if last:
            raise self._refusal(method, path, answer, attempt=attempt)
        await self._pause(method, path, attempt, str(answer.status_code), answer.headers.get("Retry-After"))
        return str(answer.status_code)

    async def _pause(self, method: str, path: str, attempt: int, problem: str, retry_after: str | None) -> None:
        delay = self._delay(attempt, retry_after)
        logger.warning(
            "groupme request retried",
            method=method,
            path=path,
            problem=problem,
            attempt=attempt,
            max_attempts=self._max_attempts,
            delay_seconds=round(delay, 3),
        )
        await self._sleep(delay)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """GroupMe's ``Retry-After`` (seconds) when it gives one, else exponential backoff with jitter; capped."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self._backoff_cap)
            except ValueError:
                pass  # an HTTP date: our own backoff is good enough
        exponential = self._backoff_base * 2.0 ** (attempt - 1)
        return min(exponential, self._backoff_cap) * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not crypto)

    def _refusal(self, method: str, path: str, answer: httpx.Response, *, attempt: int | None) -> GroupMeError:
        status = answer.status_code
        reason = _error_text(answer) or answer.reason_phrase or "error"
        tries = f" after {attempt} attempts" if attempt is not None else ""
        message = f"GroupMe {method} {path} answered {status}{tries}: {reason}"
        return GroupMeError(self._scrub(message), status=status)

    def _scrub(self, message: str) -> str:
        """Never let the access token into a message, whatever the server echoed."""
        return message.replace(self._token, "***") if self._token else message


def _retried(status: int) -> bool:
    return status in _RETRIED_STATUSES or status >= 500


def _error_text(answer: httpx.Response) -> str:
    """GroupMe's ``meta.errors``, or the start of a non-JSON body, shortened to one line."""
    try:
        errors = msgspec.json.decode(answer.content, type=_ErrorEnvelope).meta.errors
        text = "; ".join(errors)
    except msgspec.DecodeError:
        text = answer.text
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
