#!/usr/bin/env python3
"""Screenshots of every page at a phone's, a tablet's and a kiosk's size, for
docs/screenshots/ (run inside the venv).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--size 390 --size kiosk]
                                            [--page home --page rewards]

Starts the demo wiring (sandbox + app on free loopback ports), signs in as the demo member
through the real sign-in pages, and captures each page in Debian's Chromium:

* `390-<page>.png`: a phone, 390x844;
* `1024-<page>.png`: a tablet or small laptop, 1024x768;
* `kiosk-<page>.png`: the front-desk kiosk, portrait 1080x1920, with the demo in kiosk mode
  (as `member-app demo --mode kiosk`).

Each member page is captured whole: the window is made as tall as the page, so what lies
below the fold shows too and the phone's tab bar sits at the bottom, where a member sees it.

With `--language es` (or `fr-CA`; repeatable) it captures instead, in that language, the
landing page (the browser asking for the language) and the main member pages (the member
choosing it on More, as a member would): `390-es-01-home.png`, and the kiosk's attract screen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/browser.py

from member_app.demo import Demo, build_demo
from member_app.sandbox.seed import MEMBER_EMAIL, PENDING_EMAIL
from member_app.serving import ServerThread, bind, url_of
from member_app.settings import Mode
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sign_in, submit_perkville_sign_in

# (file name, path): Maya's pages, signed in.
PAGES = [
    ("01-home", "/"),
    ("02-earn", "/earn"),
    ("03-rewards", "/rewards"),
    ("04-redeem", "/rewards/201/redeem"),
    ("05-vouchers", "/vouchers"),
    ("06-voucher-qr", "/vouchers/52007"),
    ("07-voucher-barcode", "/vouchers/52005"),
    ("08-voucher-link", "/vouchers/52008"),
    ("09-mark-used", "/vouchers/52005/use"),
    ("10-history", "/history"),
    ("11-more", "/more"),
    ("12-challenges", "/challenges"),
    ("13-challenge", "/challenges/801"),
    ("14-referrals", "/referrals"),
    ("16-not-found", "/no-such-page"),
]
LANDING = "00-landing"
# The pages captured in each other language.
LANGUAGE_PAGES = ["01-home", "02-earn", "03-rewards", "05-vouchers", "06-voucher-qr", "11-more"]
JOIN = ("15-join", "/join")  # as the member who has not joined yet


@dataclass(frozen=True)
class Size:
    prefix: str
    viewport: ViewportSize
    mode: Mode = "phone"
    touch: bool = False


SIZES = [
    Size("390", {"width": 390, "height": 844}, touch=True),
    Size("1024", {"width": 1024, "height": 768}),
    Size("kiosk", {"width": 1080, "height": 1920}, mode="kiosk", touch=True),
]


@contextmanager
def running_demo(mode: Mode) -> Iterator[Demo]:
    """The demo in `mode`, the sandbox and the app each on a free loopback port."""
    app_sock, sandbox_sock = bind(), bind()
    # A long kiosk idle time: the kiosk must not sign the member out between two shots.
    demo = build_demo(url_of(app_sock), url_of(sandbox_sock), mode=mode, kiosk_idle_seconds=600)
    with ServerThread(demo.sandbox, sandbox_sock), ServerThread(demo.app, app_sock):
        yield demo


def member_signs_in(page: Page, app_url: str, mode: Mode, email: str = MEMBER_EMAIL) -> None:
    """Through the real sign-in pages (a kiosk's starts from its attract screen's way in)."""
    if mode != "kiosk":
        sign_in(page, app_url, email=email)
        return
    page.goto(f"{app_url}/signin")
    submit_perkville_sign_in(page, email=email)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{app_url}/**")


def shoot(page: Page, out: Path, name: str, *, full_page: bool = True) -> None:
    """The page as the window shows it, or whole: the window made as tall as the page, so
    what is fixed to the bottom of the screen (the phone's tab bar) shows at the bottom."""
    path = out / f"{name}.png"
    window = page.viewport_size
    assert window is not None
    if full_page:
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": window["width"], "height": max(height, window["height"])})
    page.screenshot(path=str(path))
    page.set_viewport_size(window)
    print(path)


def new_context(browser: Browser, size: Size, language: str | None = None) -> BrowserContext:
    return browser.new_context(
        viewport=size.viewport, has_touch=size.touch, device_scale_factor=1, locale=language
    )


def choose_language(page: Page, app_url: str, language: str) -> None:
    """The member's own choice, on More."""
    page.goto(f"{app_url}/more")
    page.locator("select[name=lang]").select_option(language)
    page.locator("form[action='/language'] button[type=submit]").click()
    page.wait_for_url(f"{app_url}/more")


def capture_language(browser: Browser, size: Size, out: Path, language: str) -> None:
    with running_demo(size.mode) as demo:
        app_url = demo.settings.public_url
        context = new_context(browser, size, language)
        page = context.new_page()
        page.goto(f"{app_url}/")
        shoot(page, out, f"{size.prefix}-{language}-{LANDING}", full_page=False)
        context.close()
        if size.mode == "kiosk":
            return
        context = new_context(browser, size)  # signs in as English, then chooses
        page = context.new_page()
        member_signs_in(page, app_url, size.mode)
        choose_language(page, app_url, language)
        for name, path in PAGES:
            if name in LANGUAGE_PAGES:
                page.goto(f"{app_url}{path}")
                shoot(page, out, f"{size.prefix}-{language}-{name}")
        context.close()


def capture(browser: Browser, size: Size, out: Path, wanted: set[str]) -> None:
    def want(name: str) -> bool:
        return not wanted or any(w in name for w in wanted)

    with running_demo(size.mode) as demo:
        app_url = demo.settings.public_url
        context = new_context(browser, size)
        page = context.new_page()
        if want(LANDING):
            page.goto(f"{app_url}/")
            shoot(page, out, f"{size.prefix}-{LANDING}", full_page=False)
        member_signs_in(page, app_url, size.mode)
        for name, path in PAGES:
            if want(name):
                page.goto(f"{app_url}{path}")
                shoot(page, out, f"{size.prefix}-{name}")
        context.close()
        name, path = JOIN
        if want(name):
            pending = new_context(browser, size)
            page = pending.new_page()
            member_signs_in(page, app_url, size.mode, PENDING_EMAIL)
            page.goto(f"{app_url}{path}")
            shoot(page, out, f"{size.prefix}-{name}")
            pending.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument(
        "--size",
        action="append",
        choices=[s.prefix for s in SIZES],
        help="only this size (repeatable; default: all)",
    )
    parser.add_argument(
        "--page", action="append", default=[], help="only pages whose name contains this"
    )
    parser.add_argument(
        "--language",
        action="append",
        default=[],
        help="the main pages in this language instead (es, fr-CA; repeatable)",
    )
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size in SIZES:
                if args.size is not None and size.prefix not in args.size:
                    continue
                if args.language:
                    for language in args.language:
                        capture_language(browser, size, out, language)
                else:
                    capture(browser, size, out, set(args.page))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
