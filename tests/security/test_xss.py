"""Script from upstream data: whatever Perkville's records say (a business's staff type them),
pages show it as text, never as markup or a script link, and CSP forbids inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ..helpers import MAYA, PENDING_EMAIL, SignIn, visible_text
from ..pages_to_check import MEMBER_PAGES, PENDING_PAGES, SIGNED_OUT_PAGES

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
RAW = (SCRIPT, "<img src=x onerror", "onerror=alert(1)>")
JS_URL = "javascript:alert(1)"
PAGES = [
    *MEMBER_PAGES,
    "/challenges/802",
    "/rewards/210/redeem",
    "/vouchers/52007/code.svg",
    "/vouchers/52009/use",
]


@pytest.fixture
def sandbox(sandbox: Starlette) -> Starlette:
    """Perkville's records with markup in every text the member app shows, set before the app
    starts (it loads the business once at start)."""
    store = sandbox.state.store
    for perk_id in (201, 204, 101, 102, 210):
        perk = store.perks[perk_id]
        perk.title = f"Perk {SCRIPT}"
        perk.description = f"Desc {ATTRIBUTE}"
        perk.fine_print = f"Fine {SCRIPT}{ATTRIBUTE}"
        perk.redemption_instructions = f"Show {SCRIPT}"
    store.perks[210].external_reward_url = JS_URL
    for challenge in store.challenges.values():
        challenge.name = f"Challenge {SCRIPT}"
        challenge.description = f"About {ATTRIBUTE}"
        challenge.fine_print = f"Fine {SCRIPT}"
        challenge.join_message = f"Joined {SCRIPT}"
    for requirement in store.challenge_requirements.values():
        requirement.title = f"Goal {ATTRIBUTE}"
        requirement.detail_link = JS_URL
    for location in store.locations.values():
        location.name = f"Club {ATTRIBUTE}"
    business = store.businesses[4]
    business.name = f"Gym {SCRIPT}"
    business.rewards_program_name = f"Program {ATTRIBUTE}"
    business.fine_print = f"Terms {SCRIPT}"
    for voucher in store.vouchers.values():
        voucher.title = f"Voucher {SCRIPT}"
        voucher.details = f"Details {ATTRIBUTE}"
    store.vouchers[52007].external_coupon_code = f"SUMMIT{SCRIPT}{ATTRIBUTE}"
    store.vouchers[52008].reward_url = JS_URL
    store.users[MAYA].first_name = f"Maya{ATTRIBUTE}"
    for transaction in store.transactions.values():
        transaction.title = f"Txn {SCRIPT}"
    for referral in store.referrals.values():
        referral.to_first_name = f"Casey{SCRIPT}"
        referral.referral_content = f"Note {ATTRIBUTE}"
    for version in store.agreement_versions.values():
        version.text = f"Agree {SCRIPT} [terms{ATTRIBUTE}]({JS_URL})"
    return sandbox


class _Attributes(HTMLParser):
    """Every attribute of every element: what a browser would act on."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(name, value or "") for name, value in attrs]


def attributes(html: str) -> list[tuple[str, str]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.attributes


def assert_inert(path: str, body: str) -> None:
    for raw in RAW:
        assert raw not in body, f"{path} shows upstream markup unescaped: {raw}"
    handlers = [name for name, _ in attributes(body) if name.startswith("on")]
    assert not handlers, f"{path} has event handler attributes: {handlers}"


def script_links(body: str) -> list[str]:
    return [
        value
        for name, value in attributes(body)
        if name in {"href", "src", "action", "formaction"}
        and "".join(value.split()).lower().startswith(("javascript:", "data:text", "vbscript:"))
    ]


def test_markup_from_perkville_is_shown_as_text_on_every_page(
    sign_in: SignIn, client: TestClient
) -> None:
    for path in SIGNED_OUT_PAGES:
        assert_inert(path, client.get(path).text)
    sign_in()
    shown = []
    for path in PAGES:
        response = client.get(path)
        assert response.status_code < 500, path
        assert_inert(path, response.text)
        shown.append(visible_text(response.text))
    # The data did reach the pages, as text: the test would see it if it were markup.
    assert any(SCRIPT in text for text in shown)
    assert any(ATTRIBUTE in text for text in shown)


def test_challenge_goal_links_are_web_links_only(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/challenges/801")
    assert page.status_code == 200
    assert script_links(page.text) == []


def test_reward_and_voucher_links_are_web_links_only(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    for path in ["/rewards", "/vouchers/52008"]:
        page = client.get(path)
        assert page.status_code == 200
        assert script_links(page.text) == [], path


def test_markup_on_the_join_page_is_shown_as_text(sign_in: SignIn, client: TestClient) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email=PENDING_EMAIL))
    for path in PENDING_PAGES:
        response = client.get(path)
        assert response.status_code == 200
        assert_inert(path, response.text)
        assert "Agree <script>" in visible_text(response.text)


def test_csp_forbids_inline_script_and_plugins(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "data:" not in directives.get("script-src", []) + directives["default-src"]


def test_pages_carry_no_inline_script(sign_in: SignIn, client: TestClient) -> None:
    """CSP would block an inline script; our own pages must not need one."""
    sign_in()
    for path in ["/", "/rewards", "/vouchers/52007", "/referrals"]:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), path
        assert not [name for name, _ in attributes(html) if name.startswith("on")], path
