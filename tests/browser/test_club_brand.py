"""The signing page wears the club's brand: its colour (with text that stays readable on it) and its logo."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.conftest import Offer, Stack
from tests.browser.test_signing_page import accessibility_violations
from tests.club.pngs import png

LOGO_URL = "https://kings.example.org/logo.png"


async def logo_host(route: Route) -> None:
    """The club's logo host (on the internet, which this machine cannot reach)."""
    await route.fulfill(status=200, content_type="image/png", body=png(64, 64))


@pytest.fixture(autouse=True)
def plain_brand_after(stack: Stack, mint: Callable[..., str]) -> Iterator[None]:
    """The shared stack's club gets its plain look back after each test here."""
    yield
    with stack.admin(mint(tenant="demo-club", roles=["admin"])) as admin:
        assert admin.patch("/tenants/current", json={"brand_color": None, "logo_url": None}).status_code == 200


@pytest.mark.parametrize(
    ("colour", "rgb", "text"),
    [("#0b6e4f", "rgb(11, 110, 79)", "rgb(255, 255, 255)"), ("#f5d90a", "rgb(245, 217, 10)", "rgb(0, 0, 0)")],
)
async def test_the_page_shows_the_club_colour_and_logo(
    page: Page, stack: Stack, offer: Offer, mint: Callable[..., str], axe_source: str, colour: str, rgb: str, text: str
) -> None:
    with stack.admin(mint(tenant="demo-club", roles=["admin"])) as admin:
        changed = admin.patch("/tenants/current", json={"brand_color": colour, "logo_url": LOGO_URL})
        assert changed.status_code == 200, changed.text
    await page.route(f"{LOGO_URL}*", logo_host)
    await page.goto(offer.link)
    header = page.locator("#club")
    await expect(header).to_have_css("background-color", rgb)
    await expect(header).to_have_css("color", text)  # readable on the brand colour
    await expect(page.get_by_role("button", name="Sign", exact=True)).to_have_css("background-color", rgb)
    logo = page.get_by_role("img", name="Demo Youth Soccer Club logo")
    await expect(logo).to_be_visible()
    assert await logo.evaluate("image => image.naturalWidth") == 64
    assert await accessibility_violations(page, axe_source) == []


async def test_a_logo_that_does_not_load_is_left_out(
    page: Page, stack: Stack, offer: Offer, mint: Callable[..., str]
) -> None:
    with stack.admin(mint(tenant="demo-club", roles=["admin"])) as admin:
        assert admin.patch("/tenants/current", json={"logo_url": LOGO_URL}).status_code == 200
    await page.route(f"{LOGO_URL}*", lambda route: route.fulfill(status=404))
    await page.goto(offer.link)
    await expect(page.locator("#club-name")).to_have_text("Demo Youth Soccer Club")
    await expect(page.locator("#club-logo")).to_be_hidden()
