"""Chromium driven by Playwright: how it is started, and signing in through the sandbox's real
pages in it.

Shared by the browser tests (`tests/e2e/`), `bench/lighthouse.py` and
`scripts/screenshots.py`; the last two put the repository root on `sys.path` to import it.

* `sign_in(page, app_url)`: from the app's landing page through Perkville's sign-in and
  consent pages, back on the app's home page.
* `sign_in_at_perkville(page, perkville_url)`: signed in at Perkville only (as a gym's app
  would have done), the app not visited.
* `submit_perkville_sign_in(page)`: fill in and send Perkville's sign-in page, already open.
"""

from __future__ import annotations

from playwright.sync_api import Page, ViewportSize

from member_app.sandbox.seed import MEMBER_EMAIL, MEMBER_PASSWORD

CHROMIUM = "/usr/bin/chromium"  # Debian's: no browser download
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}


def submit_perkville_sign_in(
    page: Page, *, email: str = MEMBER_EMAIL, password: str = MEMBER_PASSWORD
) -> None:
    """On Perkville's sign-in page: the member's email and password, then "Sign in"."""
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(
    page: Page,
    app_url: str,
    *,
    email: str = MEMBER_EMAIL,
    password: str = MEMBER_PASSWORD,
) -> None:
    """From the app's landing page: "Sign in with Perkville", sign in at Perkville, allow the
    app, and wait for the app's home page."""
    page.goto(f"{app_url}/")
    page.get_by_role("link", name="Sign in with Perkville").click()
    submit_perkville_sign_in(page, email=email, password=password)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{app_url}/")


def sign_in_at_perkville(
    page: Page, perkville_url: str, *, email: str = MEMBER_EMAIL, password: str = MEMBER_PASSWORD
) -> None:
    """Sign in on Perkville's own sign-in page, and wait until Perkville says who is signed in."""
    page.goto(f"{perkville_url}/login/?next=/")
    submit_perkville_sign_in(page, email=email, password=password)
    page.get_by_text("Signed in as").wait_for()
