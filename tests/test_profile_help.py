"""The More tab's own pages: the profile (who is signed in, their home club, the program's
terms), help ("Where are my points?"), and the More menu that leads to them and signs out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings
from member_app.web.language import cookie_name

from .forms import find_form
from .helpers import FakeClock, SignIn, identify, make_client, visible_text, write_catalog
from .sandbox_helpers import admin_token, bearer


def sign_in_as(sign_in: SignIn, email: str) -> None:
    assert sign_in.finish(sign_in.at_perkville(sign_in.start(), email=email)).status_code == 303


def main_of(html: str) -> str:
    return html.split("<main", 1)[1]


@pytest.mark.parametrize("path", ["/profile", "/help"])
def test_signed_out_visitor_is_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next=%2F{path[1:]}"


def test_more_leads_to_profile_and_help_and_signs_out(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/more")
    main = main_of(page.text)
    for href in ("/challenges", "/referrals", "/history", "/profile", "/help"):
        assert f'href="{href}"' in main, href
    text = visible_text(main)
    assert "Refer a friend" in text
    assert "Signed in as Maya" in text
    # Signing out is on the page itself, not only in the top bar.
    assert re.search(r'<form method="post" action="/signout">', main)
    assert re.search(r'<button type="submit" class="button [^"]*">Sign out</button>', main)


def test_more_lets_the_member_choose_their_language(
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """More's language picker keeps the member's choice in the language cookie, and the next
    page is in that language (an empty Spanish catalog: only `<html lang>` changes)."""
    write_catalog(tmp_path, Catalog(locale="es"))
    for client, changed in make_client(settings, sandbox, clock, locale_dir=str(tmp_path)):
        sign_in_as(SignIn(client, sandbox_client), "member@example.com")
        more = client.get("/more").text
        assert '<html lang="en">' in more
        assert '<option value="es" lang="es">Español</option>' in more
        form = find_form(more, "/language")
        assert form is not None and form.method == "post"
        assert form.hidden["next"] == "/more" and form.hidden["csrf"]
        chosen = client.post(form.action, data={**form.hidden, "lang": "es"})
        assert chosen.status_code == 303
        assert chosen.headers["location"] == "/more"
        assert chosen.headers["set-cookie"].startswith(f"{cookie_name(changed)}=es;")
        after = client.get(chosen.headers["location"]).text
        assert '<html lang="es">' in after
        assert '<option value="es" lang="es" selected>Español</option>' in after


def test_profile_shows_the_member_their_club_and_the_terms(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    page = client.get("/profile")
    assert page.status_code == 200
    text = visible_text(main_of(page.text))
    # Who is signed in (GET /v2/users/me/), and that they have joined.
    assert "Name Maya Lopez Email member@example.com Summit Rewards Member" in text
    assert "the one Summit Fitness has on file for you" in text
    # Her home club's front desk: Downtown, with its address from the Location.
    assert "Your home club Summit Fitness Downtown 120 Market St. Portland, OR 97204" in text
    # The program's terms in force, by title and version, with their links; the fine print and
    # the business's website.
    assert "Summit Rewards program terms Version 2026.09 By joining Summit Rewards" in text
    assert "Text message offers" not in text  # an opt-in, not the program's terms
    assert '<a href="https://summit-fitness.example/rewards/rules"' in page.text
    assert "Rewards fine print Points have no cash value." in text
    website = '<a href="https://summit-fitness.example/" rel="noopener">Summit Fitness website</a>'
    assert website in page.text
    assert 'href="/help#missing-points"' in page.text
    assert "Perkville" not in text


def test_a_member_who_has_not_joined_is_offered_to_join(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in_as(sign_in, "pending@example.com")
    page = client.get("/profile")
    text = visible_text(main_of(page.text))
    assert "Name Jordan Lee" in text
    assert "Summit Rewards Not joined yet" in text
    assert 'href="/join">Join Summit Rewards</a>' in page.text
    # Riverside's second address line is kept.
    assert "Summit Fitness Riverside 88 River Rd. Suite 2 Portland, OR 97214" in text


def test_a_member_with_no_connection_sees_no_home_club(sign_in: SignIn, client: TestClient) -> None:
    sign_in_as(sign_in, "alex@example.com")
    page = client.get("/profile")
    assert page.status_code == 200
    text = visible_text(main_of(page.text))
    assert "Name Alex Kim" in text
    assert "You don't have a home club yet." in text


def test_an_identified_member_sees_their_own_profile_not_the_staff_account(
    settings: Settings, sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    """In a gym's app the calls carry the staff token acting for the member: the profile must
    still be the member's."""
    for client, _ in make_client(settings, sandbox, clock, signin_flow="identify"):
        identify(client, sandbox_client)
        text = visible_text(main_of(client.get("/profile").text))
        assert "Name Maya Lopez Email member@example.com" in text
        assert "admin@example.com" not in text


def test_help_answers_where_are_my_points(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get("/help")
    assert page.status_code == 200
    main = main_of(page.text)
    text = visible_text(main)
    assert '<section class="card help" id="missing-points"' in main
    assert "Where are my points?" in text
    assert "can take up to 48 hours" in text
    assert "only once a day" in text
    assert "the one Summit Fitness has on file for you" in text
    assert "Ask at the front desk" in text
    # Levels as the program has them, with the same floors the home page counts towards.
    assert "Bronze where everyone starts Silver from 750 points Gold from 2,500 points" in text
    assert "redeeming rewards never lowers it" in text
    # Each answer says what to do next.
    for href in ("/history", "/earn", "/vouchers", "/profile"):
        assert f'href="{href}"' in main, href
    assert "Perkville" not in text


def test_where_are_my_points_explains_the_latest_activity(
    sign_in: SignIn, client: TestClient, sandbox_client: TestClient
) -> None:
    """A class logged at the desk (the admin API) is the member's latest activity on help and
    on history, with the bonus written with it and what may not have arrived yet."""
    token = admin_token(sandbox_client)
    body = {
        "business": "/v2/businesses/4/",
        "location": "/v2/locations/11/",
        "perk": "/v2/perks/102/",
        "quantity": 1,
        "user_email": "member@example.com",
        "trans_source_id": "desk-class-1",
    }
    made = sandbox_client.post("/v2/transactions/", json=body, headers=bearer(token))
    assert made.status_code == 201, made.text
    sign_in()
    for path in ("/help", "/history"):
        text = visible_text(main_of(client.get(path).text))
        # The app's time zone in these tests is UTC: the seed's "now" is 6 PM there.
        assert "Your latest activity Group fitness class · today, 6:00 PM · +45 points" in text
        assert "A bonus added 30 more: Thanksgiving week triple points." in text
        assert "Some activities count once a day" in text
        assert "Visited since 6:00 PM?" in text
    filtered = visible_text(main_of(client.get("/history?kind=redeemed").text))
    assert "Your latest activity" not in filtered
