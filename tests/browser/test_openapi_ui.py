"""An admin uses the OpenAPI UI with no internet: it renders from the API's own assets, takes a token and runs a
request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.async_api import Browser, Request, expect

from tests.browser.conftest import Stack


async def test_an_admin_authorizes_and_tries_a_request_offline(
    browser: Browser, stack: Stack, mint: Callable[..., str], screenshot: Callable[[str], Path]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    elsewhere: list[str] = []

    def only_this_api(request: Request) -> None:
        if not request.url.startswith((stack.base_url, "data:")):
            elsewhere.append(request.url)

    page.on("request", only_this_api)
    try:
        await page.goto(f"{stack.base_url}/schema")
        await expect(page.locator(".opblock").first).to_be_visible()
        assert await page.locator(".opblock").count() > 20  # the operations list
        await expect(page.locator(".info .title")).to_contain_text("rollcall API")

        await page.get_by_role("button", name="Authorize").first.click()
        await page.get_by_label("auth-bearer-value").fill(mint(tenant="demo-club", roles=["admin"]))
        await page.get_by_role("button", name="Apply credentials").click()
        await expect(page.locator(".auth-btn-wrapper")).to_contain_text("Logout")  # the token is taken
        await page.locator(".auth-btn-wrapper .btn-done").click()

        operation = page.locator("#operations-tenants-getCurrentTenant")
        await operation.locator(".opblock-summary").click()
        await operation.get_by_role("button", name="Try it out").click()
        await operation.get_by_role("button", name="Execute").click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        await expect(status).to_have_text("200")
        await expect(operation.locator(".live-responses-table")).to_contain_text("Demo Youth Soccer Club")
        await operation.screenshot(path=screenshot("openapi-ui-try-it-out"))
    finally:
        await context.close()
    assert elsewhere == []  # nothing from a CDN or anywhere else


async def test_swagger_path_serves_the_same_ui(browser: Browser, stack: Stack) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{stack.base_url}/schema/swagger")
        await expect(page.locator("#operations-contracts-signContract")).to_be_visible()
    finally:
        await context.close()
