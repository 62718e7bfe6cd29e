"""Install on a phone, in Chromium: installable (checked through the DevTools Protocol), and the
member's vouchers readable offline until they sign out."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ..browser import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

MEMBER_CACHES = """async () => {
  const names = (await caches.keys()).filter((name) => name.startsWith("member-"));
  let entries = 0;
  for (const name of names) entries += (await (await caches.open(name)).keys()).length;
  return [names.length, entries];
}"""


def wait_for_worker(page: Page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def wait_for_member_copies(page: Page, entries: int, timeout: float = 5.0) -> list[int]:
    """Copies are written after the page is answered: wait until `entries` are kept."""
    deadline = time.monotonic() + timeout
    while True:
        found: list[int] = page.evaluate(MEMBER_CACHES)
        if found[1] >= entries or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_installable_per_devtools(browser: Browser, servers: Servers, tmp_path: Path) -> None:
    # A plain context is an incognito one, which Chromium's installability check always
    # refuses ("in-incognito"): a throw-away persistent profile instead.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{servers.app_url}/")
        wait_for_worker(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert manifest["url"] == f"{servers.app_url}/manifest.webmanifest"
        errors = cdp.send("Page.getInstallabilityErrors")
        assert errors["installabilityErrors"] == []
    finally:
        context.close()


def test_vouchers_offline_until_sign_out(
    page: Page, context: BrowserContext, servers: Servers
) -> None:
    sign_in(page, servers.app_url)
    wait_for_worker(page)

    # Online: the list and a voucher with a code (each kept as it is seen).
    page.goto(f"{servers.app_url}/vouchers")
    links = list(
        dict.fromkeys(
            page.locator("a.voucher-link").evaluate_all("links => links.map(a => a.pathname)")
        )
    )
    assert links
    voucher, code = "", ""
    for link in links:
        page.goto(f"{servers.app_url}{link}")
        if page.locator("#voucher-code").count():
            voucher, code = link, page.locator("#voucher-code").inner_text()
            break
    assert voucher and code
    expect(page.locator("img.code-image")).to_be_visible()
    names, _ = wait_for_member_copies(page, 1 + links.index(voucher) + 2)
    assert names == 1  # one member cache, for this session

    # Offline: reload, back to the list, open the voucher: the code, as of when it was seen.
    context.set_offline(True)
    page.reload()
    expect(page.locator("#voucher-code")).to_have_text(code)
    expect(page.get_by_text(re.compile(r"as of "))).to_be_visible()
    page.goto(f"{servers.app_url}/vouchers")
    expect(page.get_by_text(re.compile(r"as of "))).to_be_visible()
    page.locator(f'a.voucher-link[href="{voucher}"]').click()
    expect(page).to_have_url(f"{servers.app_url}{voucher}")
    expect(page.locator("#voucher-code")).to_have_text(code)
    image = page.locator("img.code-image")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    # A page that was never kept: the offline page, nothing of the member.
    page.goto(f"{servers.app_url}/more")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()

    # Online again, sign out: every copy is gone.
    context.set_offline(False)
    page.goto(f"{servers.app_url}{voucher}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You're signed out")).to_be_visible()
    deadline = time.monotonic() + 5
    while page.evaluate(MEMBER_CACHES) != [0, 0]:
        assert time.monotonic() < deadline, "the member's copies outlived sign-out"
        time.sleep(0.05)

    context.set_offline(True)
    for path in ("/vouchers", voucher):
        page.goto(f"{servers.app_url}{path}")
        expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
        expect(page.get_by_text(code)).to_have_count(0)
        expect(page.locator("#voucher-code")).to_have_count(0)
        expect(page.get_by_text(re.compile(r"as of "))).to_have_count(0)
    context.set_offline(False)
