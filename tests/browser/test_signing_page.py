"""A parent opens the link they were sent, on a phone, and signs or declines; what they see in each case."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Offer, Stack, start_stack
from tests.browser.images import dark_pixels
from tests.club.test_public_link import asyncpg_dsn, storage_root
from tests.waiting import wait_for_sync

SERIOUS = {"serious", "critical"}


async def player(stack: Stack, offer: Offer | None = None) -> asyncpg.Record:
    """The player behind ``offer`` (else the demo's own Avery Okafor)."""
    connection = await asyncpg.connect(asyncpg_dsn(stack.env))
    try:
        if offer is None:
            row = await connection.fetchrow("SELECT * FROM players WHERE name = 'Avery Okafor'")
        else:
            row = await connection.fetchrow("SELECT * FROM players WHERE id = $1::uuid", offer.player_id)
    finally:
        await connection.close()
    assert row is not None
    return row


async def draw_signature(page: Page) -> None:
    """A few strokes with the mouse, as a person draws."""
    box = await page.locator("#pad").bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in (((0.1, 0.6), (0.3, 0.3), (0.45, 0.7)), ((0.5, 0.4), (0.7, 0.65), (0.9, 0.35))):
        await page.mouse.move(x + w * stroke[0][0], y + h * stroke[0][1])
        await page.mouse.down()
        for fx, fy in stroke[1:]:
            await page.mouse.move(x + w * fx, y + h * fy, steps=12)
        await page.mouse.up()


async def accessibility_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.evaluate(axe_source)  # through the debugger, so the page's CSP (scripts from itself only) stays on
    result = await page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": item["id"], "impact": item["impact"], "nodes": [node["target"] for node in item["nodes"]]}
        for item in result
        if item["impact"] in SERIOUS
    ]


def mail_about(stack: Stack, offer: Offer) -> list[Any]:
    """The messages the stack's SMTP server received that name this test's player."""
    return [message for message in stack.mail.received() if offer.player_name in message.as_string()]


def wait_for_mail(stack: Stack, offer: Offer, timeout: float = 30) -> list[Any]:
    return wait_for_sync(lambda: mail_about(stack, offer), within=timeout, what=f"an email about {offer.player_name}")


async def test_a_parent_draws_accepts_and_signs_on_a_phone(
    page: Page, stack: Stack, offer: Offer, axe_source: str, screenshot: Callable[[str], Path]
) -> None:
    await page.goto(offer.link)
    await expect(page.get_by_role("heading", name=f"Player contract for {offer.player_name}")).to_be_visible()
    await expect(page.locator("#club-name")).to_have_text("Demo Youth Soccer Club")
    await expect(page.locator("#teams")).to_have_text("U12 Kings Elite")
    await expect(page.locator("#season")).to_have_text("2026-27")
    await expect(page.locator("#fee")).to_have_text("$125.00")
    await expect(page.locator("#version")).to_have_text("2026-1")
    assert await accessibility_violations(page, axe_source) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone

    await page.get_by_label("Your full name").fill("Dana Okafor")
    await draw_signature(page)
    await page.get_by_label("I accept the terms of this contract").check()
    await page.screenshot(path=screenshot("signing-page-phone"), full_page=True)
    await page.get_by_role("button", name="Sign", exact=True).click()

    await expect(page.get_by_role("heading", name="Thank you: the contract is signed")).to_be_visible()
    await expect(page.locator("#done-text")).to_contain_text(f"{offer.player_name}'s contract with U12 Kings Elite")
    await page.screenshot(path=screenshot("signing-page-phone-signed"), full_page=True)
    assert await accessibility_violations(page, axe_source) == []

    row = await player(stack, offer)
    assert (row["contract_status"], row["contract_signed_by"]) == ("signed", "Dana Okafor")
    stored = (storage_root(stack.env) / row["contract_signature"]).read_bytes()
    assert dark_pixels(stored) > 200  # a real drawing, not a blank canvas

    [welcome] = await asyncio.to_thread(wait_for_mail, stack, offer)
    assert welcome["To"] == "dana.okafor@example.org"
    assert welcome["Subject"] == "Welcome to U12 Kings Elite, Demo Youth Soccer Club"

    await page.goto(offer.link)  # the link again, later
    await expect(page.get_by_role("heading", name="This contract is already signed")).to_be_visible()
    assert len(mail_about(stack, offer)) == 1


async def test_an_empty_canvas_cannot_be_signed(page: Page, stack: Stack, offer: Offer) -> None:
    await page.goto(offer.link)
    await page.get_by_label("Your full name").fill("Dana Okafor")
    await page.get_by_label("I accept the terms of this contract").check()
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.locator("#pad-error")).to_have_text("Please draw your signature (or use your typed name).")
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.locator("#pad-error")).to_be_visible()
    assert posts == []
    assert (await player(stack, offer))["contract_status"] == "offered"


async def test_a_drawing_that_is_cleared_must_be_drawn_again(page: Page, stack: Stack, offer: Offer) -> None:
    await page.goto(offer.link)
    await page.get_by_label("Your full name").fill("Dana Okafor")
    await draw_signature(page)
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_label("I accept the terms of this contract").check()
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.locator("#pad-error")).to_be_visible()
    assert (await player(stack, offer))["contract_status"] == "offered"


async def test_a_keyboard_user_signs_with_the_typed_name(page: Page, stack: Stack, offer: Offer) -> None:
    await page.goto(offer.link)
    await expect(page.locator("#form-title")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Your full name")).to_be_focused()
    await page.keyboard.type("Dana Okafor")
    order = []
    for _ in range(4):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.id"))
    assert order == ["pad-clear", "pad-typed", "accept", "sign"]
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Space")  # accept
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")  # use my typed name
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")  # sign
    await expect(page.get_by_role("heading", name="Thank you: the contract is signed")).to_be_visible()
    row = await player(stack, offer)
    assert row["contract_status"] == "signed"
    assert dark_pixels((storage_root(stack.env) / row["contract_signature"]).read_bytes()) > 100


async def test_a_parent_declines_after_confirming(page: Page, stack: Stack, offer: Offer, axe_source: str) -> None:
    await page.goto(offer.link)
    await page.get_by_role("button", name="Decline").click()
    await expect(page.locator("#decline-question")).to_be_focused()
    await page.get_by_role("button", name="Keep the offer").click()
    assert (await player(stack, offer))["contract_status"] == "offered"
    await page.get_by_role("button", name="Decline").click()
    await page.get_by_role("button", name="Yes, decline").click()
    await expect(page.get_by_role("heading", name="You declined this contract")).to_be_visible()
    assert await accessibility_violations(page, axe_source) == []
    assert (await player(stack, offer))["contract_status"] == "declined"
    await page.reload()
    await expect(page.get_by_role("heading", name="You declined this contract")).to_be_visible()


async def test_an_unknown_link_says_so(page: Page, stack: Stack, axe_source: str) -> None:
    await page.goto(f"{stack.base_url}/sign/never-issued")
    await expect(page.get_by_role("heading", name="This link doesn't work any more")).to_be_visible()
    assert await accessibility_violations(page, axe_source) == []


async def test_a_link_signed_elsewhere_meanwhile_shows_it_is_signed(page: Page, stack: Stack, offer: Offer) -> None:
    await page.goto(offer.link)
    await page.get_by_label("Your full name").fill("Dana Okafor")
    await draw_signature(page)
    await page.get_by_label("I accept the terms of this contract").check()
    other = await page.context.new_page()  # the other parent, on another device
    await other.goto(offer.link)
    await other.get_by_label("Your full name").fill("Sam Okafor")
    await draw_signature(other)
    await other.get_by_label("I accept the terms of this contract").check()
    await other.get_by_role("button", name="Sign", exact=True).click()
    await expect(other.get_by_role("heading", name="Thank you: the contract is signed")).to_be_visible()
    await page.get_by_role("button", name="Sign", exact=True).click()  # 409
    await expect(page.get_by_role("heading", name="This contract is already signed")).to_be_visible()
    assert (await player(stack, offer))["contract_signed_by"] == "Sam Okafor"


async def test_a_network_error_keeps_the_drawing_for_the_retry(page: Page, stack: Stack, offer: Offer) -> None:
    await page.goto(offer.link)
    await page.get_by_label("Your full name").fill("Dana Okafor")
    await draw_signature(page)
    await page.get_by_label("I accept the terms of this contract").check()
    drawn = await page.evaluate("document.getElementById('pad').toDataURL()")
    await page.context.set_offline(True)
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.locator("#form-status")).to_contain_text("Your signature is kept")
    assert await page.evaluate("document.getElementById('pad').toDataURL()") == drawn
    assert (await player(stack, offer))["contract_status"] == "offered"
    await page.context.set_offline(False)
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.get_by_role("heading", name="Thank you: the contract is signed")).to_be_visible()


@pytest.fixture
def limited_stack(env: dict[str, str], tmp_path: Path) -> Iterator[Stack]:
    """Three requests a minute per client on the public links."""
    yield from start_stack(env, tmp_path, PUBLIC_RATE_LIMIT="3")


async def test_a_rate_limited_parent_is_told_when_to_retry(page: Page, limited_stack: Stack) -> None:
    await page.goto(limited_stack.demo_link)  # request 1: the page's view of the contract
    await page.get_by_label("Your full name").fill("Dana Okafor")
    await draw_signature(page)
    await page.get_by_label("I accept the terms of this contract").check()
    await page.evaluate(  # requests 2 and 3 from elsewhere on the same connection
        "async (url) => { for (let i = 0; i < 2; i++) await fetch(url); }",
        limited_stack.demo_link.replace("/sign/", "/api/v1/contracts/"),
    )
    await page.get_by_role("button", name="Sign", exact=True).click()
    await expect(page.locator("#form-status")).to_contain_text(
        re.compile(r"Too many tries from your connection\. You can try again in \d+ seconds\.")
    )
    await expect(page.get_by_role("button", name="Sign", exact=True)).to_be_disabled()
    assert (await player(limited_stack))["contract_status"] == "offered"
