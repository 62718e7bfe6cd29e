"""The three places the app runs: a phone, inside a gym's app (webview), a shared kiosk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from babel.messages.catalog import Catalog
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, SettingsError
from member_app.cli import _parser
from member_app.demo import build_demo
from member_app.pages.codes import qr_svg
from member_app.paths import TEMPLATES_DIR

from .forms import forms, parse_form
from .helpers import (
    APP_URL,
    GOOD_ENV,
    MAYA,
    SANDBOX_URL,
    FakeClock,
    SignIn,
    make_client,
    path_of,
    session_of,
    visible_text,
    write_catalog,
)

LOGOUT_URL = f"{SANDBOX_URL}/logout/"


@pytest.fixture
def kiosk(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> Iterator[tuple[TestClient, Settings]]:
    """A kiosk whose sign-out goes through the sandbox's sign-out page."""
    yield from make_client(settings, sandbox, clock, mode="kiosk", perkville_logout_url=LOGOUT_URL)


@pytest.fixture
def bare_kiosk(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> Iterator[tuple[TestClient, Settings]]:
    """A kiosk with no logout URL configured: every sign-in must be a fresh login."""
    yield from make_client(settings, sandbox, clock, mode="kiosk")


def done(client: TestClient) -> httpx2.Response:
    """The member taps "Done" in the top bar."""
    form = parse_form(client.get("/").text)
    assert form.action == "/signout"
    return client.post("/signout", data={"csrf": form.fields["csrf"]})


def has_brand_header(html: str) -> bool:
    return '<header class="topbar">' in html


# --- kiosk ----------------------------------------------------------------------------------


def test_kiosk_landing_is_an_attract_screen(kiosk: tuple[TestClient, Settings]) -> None:
    client, _ = kiosk
    page = client.get("/")
    text = visible_text(page.text)
    assert "Tap to see your points" in text
    assert 'class="button button-primary button-start" href="/signin"' in page.text
    assert '<body class="kiosk">' in page.text
    # The shipped languages, each named in its own words.
    assert 'class="attract-languages"' in page.text
    assert all(name in text for name in ("English", "Español", "Français (Canada)"))
    assert "data-language-reset" not in page.text


def spanish_catalog(folder: Path) -> Path:
    """A locale folder with one compiled Spanish message (the app offers what it finds)."""
    catalog = Catalog(locale="es", domain="messages")
    catalog.add("Tap to see your points", "Toca para ver tus puntos")
    return write_catalog(folder, catalog)


SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def test_the_attract_screen_offers_its_languages_and_the_next_person_starts_afresh(
    settings: Settings, sandbox: Starlette, clock: FakeClock, tmp_path: Path
) -> None:
    locales = str(spanish_catalog(tmp_path))
    for client, _ in make_client(settings, sandbox, clock, mode="kiosk", locale_dir=locales):
        page = client.get("/").text
        nav = r'<nav class="attract-languages" aria-label="Language">(.*?)</nav>'
        row = re.search(nav, page, re.S)
        assert row is not None
        buttons = re.findall(r"<button [^>]*>[^<]*</button>", row.group(1))
        assert buttons == [
            '<button type="submit" class="language-button" name="lang" value="en" lang="en" '
            'aria-pressed="true">English</button>',
            '<button type="submit" class="language-button" name="lang" value="es" lang="es" '
            'aria-pressed="false">Español</button>',
        ]
        # One form each, back to the attract screen; no session, so an empty CSRF field.
        chosen = [f for f in forms(page) if f.action == "/language"]
        assert [(f.method, f.hidden) for f in chosen] == [("post", {"csrf": "", "next": "/"})] * 2
        assert "data-language-reset" not in page  # the default language: nothing to reset

        # Someone taps Español: the same screen, in Spanish.
        answer = client.post("/language", data={"lang": "es", "next": "/"}, headers=SAME_ORIGIN)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        page = client.get("/").text
        assert '<html lang="es">' in page
        assert "Toca para ver tus puntos" in visible_text(page)
        assert 'lang="es" aria-pressed="true">Español</button>' in page
        # kiosk.js sends this form once the screen has been left alone for a minute.
        assert '<form hidden method="post" action="/language" data-language-reset>' in page
        resets = [f for f in forms(page) if f.action == "/language" and "lang" in f.hidden]
        assert [f.hidden for f in resets] == [{"csrf": "", "lang": "", "next": "/"}]
        answer = client.post("/language", data=resets[0].hidden, headers=SAME_ORIGIN)
        assert answer.status_code == 303
        page = client.get("/").text
        assert '<html lang="en">' in page
        assert "Tap to see your points" in visible_text(page)
        assert "data-language-reset" not in page


def slides_of(html: str) -> list[str]:
    """The attract screen's offers, each as the words on it, in order."""
    found = re.findall(r'<li class="slide [^"]*" data-slide>(.*?)</li>', html, re.S)
    return [visible_text(slide) for slide in found]


def upstream_calls(client: TestClient) -> float:
    """How many calls the app has made to Perkville so far (its own metrics)."""
    counter = client.app.state.member_app.metrics.upstream_requests
    return sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))


def test_kiosk_attract_screen_sells_the_programs_offers(
    kiosk: tuple[TestClient, Settings],
) -> None:
    client, _ = kiosk
    page = client.get("/")
    assert page.status_code == 200
    slides = slides_of(page.text)
    # The earning rules' bonuses on now (the seed's Thanksgiving week, Nov 20 to 29, and its
    # weekly hours), rules sharing a bonus named together; not July's, nor January's yet.
    assert slides[:3] == [
        "3× Bonus on now Triple points For Gym check-in and Group fitness class, until Sunday, "
        "Nov 29.",
        "2× Every week Double points For Gym check-in: Monday, Wednesday and Friday, 5 am to 8 am.",
        "2× Every week Double points For Group fitness class: Tuesday and Thursday, 11 am to 1 pm.",
    ]
    # The referral offer, with what a member earns in the referral page's own words.
    assert slides[3] == (
        "Refer a friend Free Week Pass Give a friend a free week at any Summit Fitness club, "
        "classes included. You earn 100 points for each friend you refer."
    )
    # Top rewards in the business's order, only those anyone can get today (no level needed,
    # in their dates).
    rewards = slides[4:]
    assert len(rewards) == 4
    assert rewards[0] == "Reward Free smoothie 150 points Any 16 oz smoothie from the juice bar."
    assert all(slide.startswith("Reward ") for slide in rewards)
    text = " ".join(slides)
    assert "Private recovery session" not in text  # Gold members only
    assert "Summer tank top" not in text  # over since August
    # The large way in, beside the offers; the screen's own script and styles.
    assert '<a class="button button-primary button-start" href="/signin">' in page.text
    assert '<script src="/static/kiosk.js?v=' in page.text
    assert '<link rel="stylesheet" href="/static/kiosk.css?v=' in page.text


def test_the_attract_screens_prices_match_the_rewards_page(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient
) -> None:
    client, _ = kiosk
    rewards = [s for s in slides_of(client.get("/").text) if s.startswith("Reward ")]
    SignIn(client, sandbox_client)()
    shown = visible_text(client.get("/rewards").text)
    for slide in rewards:
        match = re.fullmatch(r"Reward (.+?) ([\d,]+) points.*", slide)
        assert match is not None, slide
        title, points = match.groups()
        assert re.search(rf"{re.escape(title)} .{{0,80}}?(?<![\d,]){points} points", shown), slide


def test_the_attract_screen_reuses_perkvilles_answers(
    kiosk: tuple[TestClient, Settings],
) -> None:
    client, _ = kiosk
    client.get("/")
    before = upstream_calls(client)
    for _ in range(3):
        assert "Triple points" in visible_text(client.get("/").text)
    assert upstream_calls(client) == before


def test_kiosk_phone_qr_opens_the_app_on_the_members_own_phone(
    kiosk: tuple[TestClient, Settings],
) -> None:
    client, settings = kiosk
    page = client.get("/")
    text = visible_text(page.text)
    assert "Use your phone" in text
    assert "Your password stays off this shared screen." in text
    assert "Or go to testserver" in text
    svg = re.search(r'<svg role="img"[^>]*>.*?</svg>', page.text, re.S)
    assert svg is not None
    assert "<title>QR code: open Summit Rewards on your phone</title>" in svg.group(0)
    # The code encodes the app's public address: the same modules as segno draws for it.
    phone_url = f"{settings.public_url}/?from=kiosk"
    expected = re.search(r' d="([^"]+)"', qr_svg(phone_url, title="").decode())
    assert expected is not None
    assert f' d="{expected.group(1)}"' in svg.group(0)
    # What the phone then shows: the way in, for a phone, not the shared screen's.
    phone = client.get("/?from=kiosk")
    assert '<body class="kiosk">' not in phone.text
    assert 'role="img"' not in phone.text
    assert "Sign in here on your phone" in visible_text(phone.text)
    assert 'href="/signin"' in phone.text


def test_the_kiosk_qr_opens_the_phone_deployment_when_one_is_configured(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    """MEMBER_APP_PHONE_URL: members scanning the code get a phone's session, not a kiosk's."""
    phone_app = "https://rewards.summit.example"
    for client, _ in make_client(settings, sandbox, clock, mode="kiosk", phone_url=phone_app):
        page = client.get("/")
        assert "Or go to rewards.summit.example" in visible_text(page.text)
        expected = re.search(r' d="([^"]+)"', qr_svg(f"{phone_app}/?from=kiosk", title="").decode())
        assert expected is not None
        assert f' d="{expected.group(1)}"' in page.text


@pytest.mark.parametrize("admin_token", [None, "not-a-real-staff-token"])
def test_the_attract_screen_without_the_programs_data_still_has_its_ways_in(
    settings: Settings, sandbox: Starlette, clock: FakeClock, admin_token: str | None
) -> None:
    """No staff token, or one Perkville refuses: no offers, but the name, the button and the
    phone's code."""
    for client, _ in make_client(settings, sandbox, clock, mode="kiosk", admin_token=admin_token):
        page = client.get("/")
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "Tap to see your points" in text
        assert "Use your phone" in text
        assert "On offer now" not in text
        assert slides_of(page.text) == []


def test_kiosk_more_page_says_done(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient
) -> None:
    client, _ = kiosk
    SignIn(client, sandbox_client)()
    main = client.get("/more").text.split("<main", 1)[1]
    assert re.search(r'<button type="submit" class="button [^"]*">Done</button>', main)
    assert "Sign out" not in visible_text(main)
    assert "Tap Done when you're finished" in visible_text(main)


def test_kiosk_member_pages_show_done_and_a_countdown(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient
) -> None:
    client, settings = kiosk
    SignIn(client, sandbox_client)()
    page = client.get("/")
    assert page.headers["cache-control"] == "no-store"
    assert f'data-kiosk-idle="{settings.kiosk_idle_seconds}"' in page.text
    assert 'data-keepalive="/keepalive"' in page.text
    text = visible_text(page.text)
    assert "Done" in text
    assert "Signing out in 1:00 — tap anywhere to stay" in text
    # Chromium applies form-action to the redirect after "Done": Perkville's origin is allowed.
    assert f"form-action 'self' {SANDBOX_URL};" in page.headers["content-security-policy"]
    # A kiosk's cookie ends with the browser session (no Max-Age, no Expires).
    response = client.post("/signout", data={"csrf": parse_form(page.text).fields["csrf"]})
    cookies = response.headers.get_list("set-cookie")
    session = [c for c in cookies if c.startswith(f"{settings.session_cookie}=")]
    assert session and "max-age" not in session[0].lower()
    # Done forgets the member's choice of language too: the next person starts in the default.
    assert "member_lang=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" in cookies


def test_kiosk_session_ends_after_the_kiosk_idle_time(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient, clock: FakeClock
) -> None:
    client, settings = kiosk
    SignIn(client, sandbox_client)()
    # An active member stays: taps (keepalive pings) and pages keep the session going.
    for _ in range(4):
        clock.advance(settings.kiosk_idle_seconds - 20)
        assert client.get("/keepalive").status_code == 204
    assert "1,250 points" in visible_text(client.get("/").text)
    clock.advance(settings.kiosk_idle_seconds + 1)
    response = client.get("/")
    page = visible_text(response.text)
    assert "1,250" not in page
    assert "signed out after a while without activity" in page
    # The member's choice of language goes with them.
    assert "member_lang=; Max-Age=0" in ";".join(response.headers.get_list("set-cookie"))
    assert "member_lang" not in ";".join(client.get("/").headers.get_list("set-cookie"))


def test_kiosk_absolute_limit(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient, clock: FakeClock
) -> None:
    client, settings = kiosk
    SignIn(client, sandbox_client)()
    for _ in range(settings.kiosk_max_seconds // 30):
        clock.advance(30)
        client.get("/keepalive")
    clock.advance(31)
    assert "1,250" not in client.get("/").text


def test_kiosk_done_clears_the_site_and_ends_the_perkville_sign_in(
    kiosk: tuple[TestClient, Settings], sandbox_client: TestClient
) -> None:
    client, _ = kiosk
    SignIn(client, sandbox_client)()
    response = done(client)
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    back = urlencode({"next": f"{APP_URL}/?signed_out=1"})
    assert response.headers["location"] == f"{LOGOUT_URL}?{back}"
    assert "1,250" not in client.get("/").text
    # The browser follows: the sandbox forgets Maya and sends it back to the attract screen.
    assert "Signed in as member@example.com" in sandbox_client.get("/").text
    upstream = sandbox_client.get(path_of(response.headers["location"]))
    assert upstream.status_code == 303
    assert upstream.headers["location"] == f"{APP_URL}/?signed_out=1"
    assert "Signed in as" not in sandbox_client.get("/").text
    assert "You're signed out" in visible_text(client.get("/?signed_out=1").text)


def test_kiosk_sign_in_asks_perkville_for_a_fresh_login(
    bare_kiosk: tuple[TestClient, Settings], sandbox_client: TestClient
) -> None:
    client, _ = bare_kiosk
    query = parse_qs(urlsplit(SignIn(client, sandbox_client).start()).query)
    assert query["prompt"] == ["login"]


def test_the_next_person_at_the_kiosk_cannot_become_the_previous_member(
    bare_kiosk: tuple[TestClient, Settings], sandbox_client: TestClient, settings: Settings
) -> None:
    client, kiosk_settings = bare_kiosk
    sign_in = SignIn(client, sandbox_client)
    sign_in()  # Maya
    assert session_of(client, kiosk_settings)["uid"] == MAYA
    response = done(client)  # Maya taps Done; no logout URL to send the browser through
    assert response.headers["location"] == "/?signed_out=1"
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    # Maya is still signed in at Perkville (in this browser's cookie jar for it) ...
    authorize = sign_in.start()  # the next person taps Start
    without_prompt = authorize.replace("&prompt=login", "").replace("prompt=login&", "")
    assert without_prompt != authorize
    silent = sandbox_client.get(path_of(without_prompt))
    assert silent.status_code == 302  # ... so a plain request would come straight back as her.
    # With prompt=login the sandbox shows its sign-in page instead of Maya's home.
    answer = sandbox_client.get(path_of(authorize))
    assert answer.status_code == 303
    assert urlsplit(answer.headers["location"]).path == "/login/"
    login = sandbox_client.get(answer.headers["location"])
    assert "Sign in to Perkville" in visible_text(login.text)
    assert "Signed in as" not in sandbox_client.get("/").text
    # The next person signs in as themselves and never sees Maya's points.
    form = parse_form(login.text)
    signed_in = sandbox_client.post(
        form.action or "",
        data={
            "csrf": form.fields["csrf"],
            "email": "alex@example.com",
            "password": "perkville-demo",
        },
    )
    consent = sandbox_client.get(signed_in.headers["location"])
    assert consent.status_code == 200
    form = parse_form(consent.text)
    callback = sandbox_client.post(form.action or "", data={**form.fields, "decision": "allow"})
    assert sign_in.finish(callback.headers["location"]).status_code == 303
    assert session_of(client, kiosk_settings)["uid"] != MAYA
    assert "1,250" not in client.get("/").text


def test_phone_sign_out_keeps_the_perkville_sign_in_and_clears_nothing(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in()
    response = done(client)
    assert response.headers["location"] == "/?signed_out=1"
    assert "clear-site-data" not in response.headers
    assert "prompt" not in parse_qs(urlsplit(sign_in.start()).query)


# --- webview --------------------------------------------------------------------------------


def test_embed_hides_the_header_and_is_remembered(
    client: TestClient, sign_in: SignIn, settings: Settings
) -> None:
    assert has_brand_header(client.get("/").text)
    assert not has_brand_header(client.get("/?embed=1").text)
    assert session_of(client, settings)["embed"] is True
    assert not has_brand_header(client.get("/").text)
    sign_in()  # survives the new session made at sign-in
    for path in ("/", "/rewards", "/more"):
        page = client.get(path)
        assert not has_brand_header(page.text), path
        assert 'class="tabbar"' in page.text  # navigation stays
    assert "Sign out" in visible_text(client.get("/more").text)


def test_embed_writes_the_session_only_when_the_flag_changes(client: TestClient) -> None:
    assert "set-cookie" in client.get("/?embed=1").headers
    assert "set-cookie" not in client.get("/?embed=1").headers


def test_webview_mode_never_shows_the_header(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    for client, _ in make_client(settings, sandbox, clock, mode="webview"):
        assert not has_brand_header(client.get("/").text)
        assert "Sign in with Perkville" in visible_text(client.get("/").text)


@pytest.mark.parametrize(
    ("value", "passed"),
    [
        ("myapp://", True),
        ("https://gym.example/app/", True),
        ("myapp://x", False),
        ("evil://", False),
        ("MYAPP://", False),
        ("https://gym.example/app/?next=//evil", False),
        ("", False),
    ],
)
def test_register_at_is_passed_on_only_when_allowed(
    settings: Settings, sandbox: Starlette, clock: FakeClock, value: str, passed: bool
) -> None:
    allowed = ("myapp://", "https://gym.example/app/")
    for client, _ in make_client(settings, sandbox, clock, register_at_urls=allowed):
        location = client.get(f"/signin?{urlencode({'register_at': value})}").headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert query.get("register_at") == ([value] if passed else None)


def _links(html: str) -> set[str]:
    return {
        href
        for href in re.findall(r'href="([^"]+)"', html)
        if href.startswith("/") and not href.startswith(("//", "/static/", "/brand.css"))
    }


@pytest.mark.parametrize("mode", ["phone", "webview", "kiosk"])
def test_no_page_opens_a_new_window(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock, mode: str
) -> None:
    for template in TEMPLATES_DIR.rglob("*.html"):
        assert "_blank" not in template.read_text(), template
    for client, _ in make_client(settings, sandbox, clock, mode=mode):
        assert "target=" not in client.get("/").text
        SignIn(client, sandbox_client)()
        seen: set[str] = set()
        todo = ["/"]
        while todo:
            path = todo.pop()
            if path in seen or path.startswith("/signin") or path.endswith(".svg"):
                continue
            seen.add(path)
            page = client.get(path)
            assert page.status_code == 200, path
            assert "target=" not in page.text, path
            todo.extend(_links(page.text))
        assert {"/earn", "/rewards", "/vouchers", "/more", "/history"} <= seen
        assert len(seen) > 8


# --- settings and the demo switches ---------------------------------------------------------


def test_mode_settings_from_the_environment() -> None:
    plain = Settings.from_env(GOOD_ENV)
    assert (plain.mode, plain.kiosk_idle_seconds, plain.perkville_logout_url) == ("phone", 60, None)
    assert plain.idle_seconds == plain.session_idle_seconds
    kiosk = Settings.from_env(
        {
            **GOOD_ENV,
            "MEMBER_APP_MODE": "Kiosk",
            "MEMBER_APP_KIOSK_IDLE_SECONDS": "90",
            "MEMBER_APP_KIOSK_MAX_SECONDS": "600",
            "PERKVILLE_LOGOUT_URL": "https://www.perkville.com/logout/",
            "PERKVILLE_REGISTER_AT_URLS": "myapp:// https://gym.example/app/",
        }
    )
    assert kiosk.kiosk
    assert (kiosk.idle_seconds, kiosk.max_seconds) == (90, 600)
    assert kiosk.perkville_logout_url == "https://www.perkville.com/logout/"
    assert kiosk.register_at_urls == ("myapp://", "https://gym.example/app/")


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"MEMBER_APP_MODE": "tablet"}, "MEMBER_APP_MODE must be phone, webview or kiosk"),
        ({"MEMBER_APP_KIOSK_IDLE_SECONDS": "5"}, "MEMBER_APP_KIOSK_IDLE_SECONDS must be from 10"),
        ({"MEMBER_APP_KIOSK_IDLE_SECONDS": "4000"}, "MEMBER_APP_KIOSK_IDLE_SECONDS must be"),
        ({"MEMBER_APP_KIOSK_IDLE_SECONDS": "soon"}, "must be a whole number"),
        ({"MEMBER_APP_KIOSK_MAX_SECONDS": "30"}, "must not exceed MEMBER_APP_KIOSK_MAX_SECONDS"),
        ({"PERKVILLE_LOGOUT_URL": "ftp://x/"}, "PERKVILLE_LOGOUT_URL must be an absolute"),
        ({"PERKVILLE_LOGOUT_URL": "https://x/out?a=1"}, "must not carry a query"),
        ({"PERKVILLE_REGISTER_AT_URLS": "myapp"}, "PERKVILLE_REGISTER_AT_URLS entries"),
    ],
)
def test_bad_mode_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**GOOD_ENV, **env})
    assert problem in str(caught.value)


def test_demo_switches() -> None:
    args = _parser().parse_args(["demo", "--mode", "kiosk", "--kiosk-idle-seconds", "30"])
    assert (args.mode, args.kiosk_idle_seconds) == ("kiosk", 30)
    assert _parser().parse_args(["demo"]).mode == "phone"
    for bad in (["--mode", "tablet"], ["--kiosk-idle-seconds", "5"]):
        with pytest.raises(SystemExit):
            _parser().parse_args(["demo", *bad])
    kiosk = build_demo("http://127.0.0.1:8000", "http://127.0.0.1:8001", mode="kiosk")
    assert kiosk.settings.perkville_logout_url == "http://127.0.0.1:8001/logout/"
    assert build_demo("http://a.test", "http://b.test", mode="webview").settings.mode == "webview"
    assert build_demo("http://a.test", "http://b.test").settings.perkville_logout_url is None
