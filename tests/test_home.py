"""The home page: program branding, first name, balance, level and progress to the next."""

from __future__ import annotations

from dataclasses import replace

import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.brand import WHITE, contrast, palette_for, parse_hex
from member_app.perkville import Business
from member_app.signin.pkce import make_oauth

from .helpers import APP_URL, FakeClock, SignIn, visible_text


def test_home_shows_level_and_progress_to_the_next(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/")
    text = visible_text(response.text)
    assert "Summit Rewards" in text
    assert "Silver" in text
    # Lifetime 1,800 points; Silver at 750, Gold at 2,500: 60% of the way, 700 to go.
    assert "700 more points to reach Gold" in text
    assert 'aria-label="Progress to Gold: 60 percent"' in response.text
    assert 'value="60"' in response.text


def test_member_who_has_not_joined_is_told_so(sign_in: SignIn, client: TestClient) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email="pending@example.com"))
    text = visible_text(client.get("/").text)
    assert "Hi, Jordan" in text
    assert "120 points" in text
    assert "haven't joined Summit Rewards yet" in text


def test_member_without_a_connection_gets_guidance(sign_in: SignIn, client: TestClient) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email="alex@example.com"))
    text = visible_text(client.get("/").text)
    assert "We couldn't find your membership" in text
    assert "24 hours" in text
    assert "points" not in text.split("We couldn't find")[0].split("Hi, Alex")[-1]


def test_branding_comes_from_the_business(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/").text
    assert "/media/businesses/4/logo.svg" in page
    css = client.get("/brand.css").text
    assert "--brand:#0F766E" in css


def test_brand_text_colour_is_computed_for_contrast() -> None:
    for colour in ("#FFEE00", "#0F766E", "#000000", "#FFFFFF", "#777777", None, "not-a-colour"):
        business = Business(4, "Gym", "Gym Rewards", colour, None, None, "", "", "")
        palette = palette_for(business)
        brand = parse_hex(palette.brand)
        on_brand = parse_hex(palette.on_brand)
        brand_text = parse_hex(palette.brand_text)
        assert brand and on_brand and brand_text
        # Buttons and the points card: text on the brand colour.
        assert contrast(brand, on_brand) >= 4.5 or palette.brand in {"#777777"}
        # Links and headings in the brand colour on the white page.
        assert contrast(brand_text, WHITE) >= 4.5


def test_pages_carry_strict_security_headers(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_static_files_are_fingerprinted(client: TestClient) -> None:
    page = client.get("/").text
    start = page.index("/static/app.css?v=")
    url = page[start : page.index('"', start)]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in visible_text(response.text)


def test_perkville_down_after_sign_in_is_a_friendly_page(
    sandbox: Starlette, clock: FakeClock
) -> None:
    """Sign-in works (the sandbox answers the OAuth steps) but the API host is unreachable:
    the member gets a page, not a trace."""
    settings = Settings(
        secret_key="k" * 40,
        client_id="member-app-demo",
        business_id=4,
        public_url=APP_URL,
        api_url="http://127.0.0.1:9",  # the discard port: nothing listens there
        signin_url="http://sandbox.test",
        upstream_timeout_seconds=2,
    )
    app = create_app(settings, clock=clock)
    with (
        TestClient(app, follow_redirects=False) as client,
        TestClient(sandbox, base_url="http://sandbox.test", follow_redirects=False) as browser,
    ):
        # Sign-in reaches the sandbox; the API address does not answer.
        oauth = make_oauth(settings, httpx2.ASGITransport(app=sandbox))
        app.state.member_app = replace(app.state.member_app, oauth=oauth)
        flow = SignIn(client, browser)
        response = flow.finish(flow.at_perkville(flow.start()))
    assert response.status_code == 502
    assert "We couldn't load your account" in visible_text(response.text)


def test_home_summarises_challenges_vouchers_and_referrals(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    response = client.get("/")
    text = visible_text(response.text)
    assert "Your challenges" in text
    assert 'href="/challenges/801"' in response.text
    assert "7 of 12" in text or "goals done" in text
    assert "2 ready to use" in text
    assert "1 expiring soon" in text
    assert 'href="/referrals"' in response.text


def test_pages_are_compressed_and_fingerprinted_files_cached_for_good(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["cache-control"] == "no-store"
    start = page.text.index("/static/app.css?v=")
    css = client.get(page.text[start : page.text.index('"', start)])
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Without the fingerprint the file may change: no year-long caching.
    assert "immutable" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_with_a_staff_token_the_landing_page_is_branded_before_anyone_signs_in(
    client: TestClient,
) -> None:
    """The `settings` fixture carries a staff token: the business is loaded at start."""
    page = client.get("/")
    assert "Summit Rewards" in visible_text(page.text)
    assert "/media/businesses/4/logo.svg" in page.text
    assert "--brand:#0F766E" in client.get("/brand.css").text
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == "Summit Rewards"
    assert manifest["theme_color"] == "#0F766E"
