#!/usr/bin/env python3
"""Phone-size screenshots of every page, for docs/screenshots/ (run inside the venv).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo wiring (sandbox + app on free loopback ports), signs in as the demo member
through the real sign-in pages, and captures each page at 390x844 in Debian's Chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/browser.py

from member_app.demo import build_demo
from member_app.sandbox.seed import PENDING_EMAIL
from member_app.serving import ServerThread, bind, url_of
from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_in

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
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    app_sock, sandbox_sock = bind(), bind()
    demo = build_demo(url_of(app_sock), url_of(sandbox_sock))
    with (
        ServerThread(demo.sandbox, sandbox_sock),
        ServerThread(demo.app, app_sock),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=1)
        page = context.new_page()
        app_url = demo.settings.public_url
        page.goto(f"{app_url}/")
        page.screenshot(path=str(out / "00-landing.png"))
        sign_in(page, app_url)
        for name, path in PAGES:
            page.goto(f"{app_url}{path}")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(out / f"{name}.png")
        # The join page, as the member who has not joined yet.
        pending = browser.new_context(viewport=PHONE)
        page = pending.new_page()
        sign_in(page, app_url, email=PENDING_EMAIL)
        page.goto(f"{app_url}/join")
        page.screenshot(path=str(out / "15-join.png"), full_page=True)
        print(out / "15-join.png")
        browser.close()


if __name__ == "__main__":
    main()
