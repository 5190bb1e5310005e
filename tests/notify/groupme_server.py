"""A GroupMe stand-in on loopback: the v3 endpoints rollcall calls, in-memory groups, injectable failures.

It speaks real HTTP (``ThreadingHTTPServer`` in a thread), so the client under
test runs its real httpx stack. Every request is recorded; ``fail_next`` makes
the next requests answer 429/5xx before the endpoints behave again. Each access
token is an account of its own that sees only its groups (``add_account``).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "gm-test-token-5f1c"
OWNER_USER_ID = "1000"
"""The account's own user id: the creator, hence a member, of every group it creates."""

_ADD_MEMBERS = re.compile(r"^/v3/groups/([^/]+)/members/add$")
_UPDATE = re.compile(r"^/v3/groups/([^/]+)/update$")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None
    status: int

    @property
    def writes(self) -> bool:
        return self.method != "GET"


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: str | None
    after_effect: bool = False
    """Do what was asked, then answer with the failure anyway (a 5xx from a proxy after the work was done)."""


class GroupMeServer:
    """In-memory GroupMe: ``groups`` (id -> group object, in listing order) of the account of ``token``,
    ``accounts`` (token -> its groups), ``requests``, ``fail_next``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.groups: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {token: self.groups}
        self.requests: list[Recorded] = []
        self.url = ""
        self._failures: deque[_Failure] = deque()
        self._ids = itertools.count(90001)
        self._lock = threading.Lock()

    def add_account(self, token: str) -> dict[str, dict[str, Any]]:
        """Another GroupMe account (a club's own), reached with ``token``; returns its groups."""
        with self._lock:
            return self.accounts.setdefault(token, {})

    def add_group(
        self, name: str, *, shared: bool = True, members: tuple[str, ...] = (OWNER_USER_ID,), token: str | None = None
    ) -> dict[str, Any]:
        """A group that already exists in the account of ``token`` (default: the main one), made by hand."""
        with self._lock:
            return self._new_group(self.accounts[token or self.token], name, shared=shared, members=members)

    def fail_next(self, *statuses: int, retry_after: str | None = None, after_effect: bool = False) -> None:
        """Answer the next requests with these statuses (one each), whatever they ask (``after_effect``:
        having done it all the same)."""
        with self._lock:
            self._failures.extend(_Failure(status, retry_after, after_effect) for status in statuses)

    def member_ids(self, group_id: str) -> list[str]:
        [group] = [groups[group_id] for groups in self.accounts.values() if group_id in groups]
        return [member["user_id"] for member in group["members"]]

    def writes(self) -> list[Recorded]:
        return [request for request in self.requests if request.writes]

    @contextmanager
    def running(self) -> Iterator[GroupMeServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                token = self.headers.get("X-Access-Token")
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                status, payload, headers = owner._answer(method, parts.path, query, body, token)
                with owner._lock:
                    owner.requests.append(Recorded(method, parts.path, query, body, token, status))
                encoded = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: object) -> None:
                return None

        return Handler

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Any, token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            if self._failures:
                failure = self._failures.popleft()
                if failure.after_effect:
                    self._route(self.accounts.get(token or "", {}), method, path, query, body)
                headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
                return failure.status, _error(failure.status, "try again later"), headers
            if token is None or token not in self.accounts:
                # Echoes what it was sent, as some servers do: the client must keep it out of its messages.
                return 401, _error(401, f"token {token!r} is not valid"), {}
            return self._route(self.accounts[token], method, path, query, body)

    def _route(
        self, groups: dict[str, dict[str, Any]], method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "GET" and path == "/v3/groups":
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "10"))
            listing = list(groups.values())[(page - 1) * per_page : page * per_page]
            return 200, _ok(200, listing), {}
        if method == "POST" and path == "/v3/groups":
            if not isinstance(body, dict) or not body.get("name"):
                return 400, _error(400, "name is required"), {}
            return 201, _ok(201, self._new_group(groups, body["name"], shared=bool(body.get("share")))), {}
        if method == "POST" and (found := _ADD_MEMBERS.match(path)):
            group = groups.get(found.group(1))
            if group is None:
                return 404, _error(404, "group not found"), {}
            known = {member["user_id"] for member in group["members"]}
            for member in body["members"]:
                if member["user_id"] not in known:
                    group["members"].append({"user_id": member["user_id"], "nickname": member["nickname"]})
                    known.add(member["user_id"])
            return 202, _ok(202, {"results_id": secrets.token_hex(8)}), {}
        if method == "POST" and (found := _UPDATE.match(path)):
            group = groups.get(found.group(1))
            if group is None:
                return 404, _error(404, "group not found"), {}
            if body.get("share") and group["share_url"] is None:
                group["share_url"] = _share_url(group["id"])
            return 200, _ok(200, group), {}
        return 404, _error(404, "not found"), {}

    def _new_group(
        self, groups: dict[str, dict[str, Any]], name: str, *, shared: bool, members: tuple[str, ...] = (OWNER_USER_ID,)
    ) -> dict[str, Any]:
        group_id = str(next(self._ids))
        group = {
            "id": group_id,
            "group_id": group_id,
            "name": name,
            "type": "private",
            "share_url": _share_url(group_id) if shared else None,
            "creator_user_id": OWNER_USER_ID,
            "members": [{"user_id": user_id, "nickname": f"user {user_id}", "id": user_id} for user_id in members],
        }
        groups[group_id] = group
        return group


def _share_url(group_id: str) -> str:
    return f"https://groupme.com/join_group/{group_id}/{secrets.token_urlsafe(6)}"


def _ok(code: int, response: Any) -> dict[str, Any]:
    return {"meta": {"code": code}, "response": response}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"meta": {"code": code, "errors": [message]}, "response": None}
