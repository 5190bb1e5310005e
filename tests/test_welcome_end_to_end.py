"""The club's main flow with real processes: staff offer → parent signs → the worker emails exactly one welcome.

`rollcall serve` and `rollcall worker` run as the operator runs them; the mail server is a real SMTP server
(aiosmtpd) on loopback in this test process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.dev.mail_sink import MailSink
from tests.club.pngs import b64, png
from tests.processes import free_port, rollcall_process, wait_until_ready
from tests.waiting import wait_for_sync

SHARE_URL = "https://groupme.com/join_group/777/JoinUs"


@pytest.mark.usefixtures("tenants")
def test_offer_sign_then_exactly_one_welcome_email(
    env: dict[str, str], mint: Callable[..., str], mail_sink: MailSink, tmp_path: Path
) -> None:
    port = free_port()
    stack_env = {
        **env,
        "SMTP_HOST": mail_sink.host,
        "SMTP_PORT": str(mail_sink.port),
        "SMTP_FROM": "Kings FC <hello@kings.example>",
        "WORKER_METRICS_PORT": "0",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    base = f"http://127.0.0.1:{port}"
    api_args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with (
        rollcall_process(*api_args, env=stack_env, log=tmp_path / "api.log") as api,
        rollcall_process("worker", env=stack_env, log=tmp_path / "worker.log"),
    ):
        wait_until_ready(base, api)
        admin = httpx.Client(
            base_url=f"{base}/api/v1/admin", headers={"Authorization": f"Bearer {mint(roles=['admin'])}"}
        )
        team = admin.post("/teams", json={"name": "U12 Kings", "season": "2026-27", "groupme_share_url": SHARE_URL})
        parent = admin.post("/parents", json={"name": "Dana Rivera", "email": "dana@example.org"})
        player = admin.post(
            "/players",
            json={"name": "<b>Jo</b> & Co", "team_ids": [team.json()["id"]], "parent_id": parent.json()["id"]},
        )
        offer = admin.post("/contracts/offer", json={"player_id": player.json()["id"], "monthly_fee": 12500})
        assert offer.status_code == 200, offer.text
        link = offer.json()["contract_url"]
        assert link.startswith(f"{base}/sign/")  # the parent's signing page; it posts to the contract API
        signed = httpx.post(
            f"{link.replace('/sign/', '/api/v1/contracts/')}/sign",
            json={
                "signed_by": "Dana Rivera",
                "signature_png": b64(png()),
                "contract_version": "2026-1",
                "accept_terms": True,
            },
        )
        assert signed.status_code == 200, signed.text

        wait_for_sync(lambda: len(mail_sink.received()) >= 1, what="the welcome email")

        def outbox_settled() -> list[dict[str, Any]]:
            """The contract.signed events once they are delivered and nothing of the club's outbox is waiting
            or in flight (empty until then)."""
            stats = admin.get("/outbox/stats").json()
            if (stats["pending"], stats["in_flight"]) != (0, 0):
                return []
            page = admin.get("/outbox/events", params={"event_type": "contract.signed"}).json()
            events: list[dict[str, Any]] = page["items"]
            return events if events and all(event["status"] == "delivered" for event in events) else []

        # Sweeps and nudges keep running; once the signed event is delivered (its welcome_email delivery
        # recorded) and nothing waits in the outbox, no more mail can come: count it then.
        [signed_event] = wait_for_sync(outbox_settled, what="the outbox to deliver the contract.signed event")
        assert [(d["handler"], d["outcome"]) for d in signed_event["deliveries"]] == [("welcome_email", "done")]
        [message] = mail_sink.received()

    assert message["To"] == "dana@example.org"
    assert message["Subject"] == "Welcome to U12 Kings, Demo Youth Soccer Club"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert SHARE_URL in text.get_content()
    assert f'href="{SHARE_URL}"' in html.get_content()
    assert "&lt;b&gt;Jo&lt;/b&gt; &amp; Co" in html.get_content()
    assert "<b>Jo</b>" not in html.get_content()
