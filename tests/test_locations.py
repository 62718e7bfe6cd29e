"""Locations: which one the earn, rewards and challenges pages are for, switching it, and
home-location-only rewards."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from .forms import parse_form
from .helpers import SignIn, listed, visible_text

DOWNTOWN, RIVERSIDE, NORTHGATE = 11, 12, 13  # Maya's home, where she last visited, another
SAUNA = 207  # Riverside only, and home-location-only
SAUNA_TITLE = "Riverside sauna day pass"
HOME_ONLY = "Only at your home location (Summit Fitness Downtown)."


def selected_location(html: str) -> int:
    """The location the switcher shows as chosen."""
    match = re.search(r'<option value="(\d+)" selected>', html)
    assert match, "no location selected in the switcher"
    return int(match.group(1))


def choose(client: TestClient, loc_id: int) -> None:
    csrf = parse_form(client.get("/rewards").text).fields["csrf"]
    response = client.post("/location", data={"csrf": csrf, "loc_id": str(loc_id)})
    assert response.status_code == 303


def test_pages_default_to_the_home_location(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    for path in ("/rewards", "/earn", "/challenges"):
        page = client.get(path)
        assert page.status_code == 200
        assert selected_location(page.text) == DOWNTOWN
        assert "Location" in visible_text(page.text)
    assert SAUNA_TITLE not in visible_text(client.get("/rewards").text)


def test_loc_id_in_the_address_shows_that_locations_rewards(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    page = client.get(f"/rewards?loc_id={RIVERSIDE}")
    text = visible_text(page.text)
    assert selected_location(page.text) == RIVERSIDE
    assert SAUNA_TITLE in text
    assert HOME_ONLY in text
    # Links onward keep the location the address asked for.
    assert re.search(rf'href="/rewards/\d+/redeem\?loc_id={RIVERSIDE}"', page.text)


@pytest.mark.parametrize("raw", ["51", "abc", "999", "-12", "12abc"])
def test_unknown_or_foreign_loc_id_is_ignored_with_a_notice(
    sign_in: SignIn, client: TestClient, raw: str
) -> None:
    sign_in()
    page = client.get("/rewards", params={"loc_id": raw})
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "That location isn't part of this program; showing Summit Fitness Downtown." in text
    assert selected_location(page.text) == DOWNTOWN
    assert SAUNA_TITLE not in text


def test_a_saved_choice_applies_to_every_page(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.post(
        "/location",
        data={
            "csrf": parse_form(client.get("/earn").text).fields["csrf"],
            "loc_id": str(RIVERSIDE),
            "next": f"/earn?loc_id={DOWNTOWN}",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/earn"  # the address's loc_id would outrank it
    for path in ("/earn", "/rewards", "/challenges"):
        assert selected_location(client.get(path).text) == RIVERSIDE
    assert SAUNA_TITLE in visible_text(client.get("/rewards").text)
    # The address still wins over the saved choice, for that page only.
    assert selected_location(client.get(f"/rewards?loc_id={DOWNTOWN}").text) == DOWNTOWN
    assert selected_location(client.get("/rewards").text) == RIVERSIDE


def test_choosing_needs_the_csrf_token(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.post("/location", data={"loc_id": str(RIVERSIDE), "next": "/rewards"})
    assert response.status_code == 403
    assert selected_location(client.get("/rewards").text) == DOWNTOWN


def test_only_the_business_locations_and_local_paths_are_accepted(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    csrf = parse_form(client.get("/rewards").text).fields["csrf"]
    response = client.post(
        "/location", data={"csrf": csrf, "loc_id": "51", "next": "https://evil.example/"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/rewards"
    assert selected_location(client.get("/rewards").text) == DOWNTOWN


def test_signed_out_choice_goes_to_sign_in(client: TestClient) -> None:
    response = client.post("/location", data={"loc_id": str(RIVERSIDE)})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_home_only_reward_confirmation_explains_it(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    page = client.get(f"/rewards/{SAUNA}/redeem?loc_id={RIVERSIDE}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert HOME_ONLY in text
    assert "Location Summit Fitness Downtown" in text  # where it would have to be redeemed
    assert "Redeem for" not in text


def test_redeeming_happens_at_the_chosen_location(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    choose(client, RIVERSIDE)
    page = client.get("/rewards")
    link = re.findall(r'href="(/rewards/\d+/redeem)"', page.text)[0]
    confirm = client.get(link)
    assert "Location Summit Fitness Riverside" in visible_text(confirm.text)
    response = client.post(link, data=parse_form(confirm.text).fields)
    assert response.status_code == 303
    perk_id = int(link.split("/")[2])
    spent = [
        t
        for t in sandbox.state.store.transactions.values()
        if t.perk_id == perk_id and t.classification == "REDEEM" and t.points > 0
    ]
    assert spent and spent[-1].location_id == RIVERSIDE


# Challenges (seed: community_seed.py). 804 counts only at Northgate; the rest count anywhere.
CHECK_IN, HUSTLE, CARDIO, NORTHGATE_OPENING, NEW_YEAR, SUMMER = 801, 802, 803, 804, 805, 806


def test_challenges_to_join_are_those_that_count_at_the_chosen_location(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    downtown = client.get("/challenges").text
    assert selected_location(downtown) == DOWNTOWN
    assert listed(downtown, "available") == [HUSTLE]
    assert "Northgate Grand Opening" not in visible_text(downtown)
    choose(client, NORTHGATE)
    northgate = client.get("/challenges").text
    assert selected_location(northgate) == NORTHGATE
    # Listed there, with why Maya (home: Downtown) can't join it.
    assert listed(northgate, "available") == [HUSTLE, NORTHGATE_OPENING]
    assert "This challenge is for members of our Northgate club." in visible_text(northgate)
    # The address outranks the saved choice, for that page only.
    assert listed(client.get(f"/challenges?loc_id={DOWNTOWN}").text, "available") == [HUSTLE]


def test_upcoming_challenges_are_scoped_to_the_chosen_location(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    challenges = sandbox.state.store.challenges
    challenges[NEW_YEAR] = replace(challenges[NEW_YEAR], location_ids=[DOWNTOWN])
    sign_in()
    assert listed(client.get(f"/challenges?loc_id={DOWNTOWN}").text, "upcoming") == [NEW_YEAR]
    northgate = client.get(f"/challenges?loc_id={NORTHGATE}").text
    assert listed(northgate, "upcoming") == []
    assert "No new challenges are scheduled at Summit Fitness Northgate yet." in visible_text(
        northgate
    )


def test_my_challenges_show_at_every_location(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    challenges = sandbox.state.store.challenges
    # Maya's own challenges, each counting at one location only: she still sees them all.
    for challenge_id, loc_id in ((CHECK_IN, NORTHGATE), (CARDIO, RIVERSIDE), (SUMMER, NORTHGATE)):
        challenges[challenge_id] = replace(challenges[challenge_id], location_ids=[loc_id])
    sign_in()
    for loc_id in (DOWNTOWN, RIVERSIDE, NORTHGATE):
        html = client.get(f"/challenges?loc_id={loc_id}").text
        assert listed(html, "in-progress") == [CHECK_IN], loc_id
        assert listed(html, "completed") == [CARDIO], loc_id
        assert listed(html, "incomplete") == [SUMMER], loc_id


def test_no_challenges_to_join_names_the_location(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    challenges = sandbox.state.store.challenges
    challenges[HUSTLE] = replace(challenges[HUSTLE], location_ids=[NORTHGATE])
    sign_in()
    downtown = client.get("/challenges").text
    assert listed(downtown, "available") == []
    text = visible_text(downtown)
    assert "No challenges to join at Summit Fitness Downtown right now." in text
    assert listed(downtown, "in-progress") == [CHECK_IN]  # her own, whatever the location
    assert listed(client.get(f"/challenges?loc_id={NORTHGATE}").text, "available") == [
        HUSTLE,
        NORTHGATE_OPENING,
    ]
