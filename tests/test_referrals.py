"""Refer a friend: the link, the offer, what the member earns, referring by email, and the
friends already referred."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.pages.referrals import referral_offer
from member_app.perkville.community import Promotion

from .forms import parse_form
from .helpers import SignIn, visible_text

MAYA = 1001


def maya_referrals(sandbox: Starlette) -> dict[str, str]:
    """Maya's referrals at the demo gym in the sandbox: email → status."""
    return {
        r.to_email: r.status
        for r in sandbox.state.store.referrals.values()
        if r.from_user_id == MAYA and r.business_id == 4
    }


def csrf_of(client: TestClient) -> str:
    return parse_form(client.get("/referrals").text).fields["csrf"]


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no {name} input"
    return match.group(1)


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/referrals")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Freferrals"


def test_referral_page_shows_link_offer_reward_and_referrals(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    response = client.get("/referrals")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "http://sandbox.test/biz/4/referral/1001/" in text
    assert 'data-copy="#referral-link"' in response.text
    assert 'data-share="http://sandbox.test/biz/4/referral/1001/"' in response.text
    assert "/referrals/qr.svg" in response.text
    # The offer at Maya's home club (Downtown): the all-locations Free Week Pass.
    assert "Free Week Pass" in text
    assert "Give a friend a free week at any Summit Fitness club" in text
    assert "New customers only, 18 or older" in text
    assert "Free Month at Northgate" not in text
    assert "/media/promotions/601.svg" in response.text
    # The headline reads as a sentence; what Maya earns: the REFERRAL earning rule.
    assert "<h1>Refer a friend to Summit Fitness</h1>" in response.text
    assert "You earn 100 points for each friend you refer." in text
    # One word for one thing: referring, never "inviting" or "bringing" a friend.
    assert "invit" not in text.lower()
    assert "bring a friend" not in text.lower()
    # The seeded referrals, newest first, with statuses and dates.
    assert "casey@example.net Sent Referred Nov 18, 2026" in text
    assert "riley@example.net Completed Referred Oct 2, 2026 · Completed Oct 15, 2026" in text
    assert "drew@example.net Void Referred Jun 5, 2026" in text
    assert text.index("casey@") < text.index("riley@") < text.index("drew@")


def test_sending_a_referral_confirms_once_and_lists_it(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    response = client.post(
        "/referrals",
        data={
            "csrf": csrf_of(client),
            "email": "  Robin@Example.net ",
            "first_name": "Robin",
            "last_name": "Park",
            "note": "Come to spin class with me!",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/referrals"
    page = client.get("/referrals")
    text = visible_text(page.text)
    assert "Referral sent!" in text
    assert "robin@example.net Sent Referred" in text
    # One-shot: a reload no longer confirms.
    assert "Referral sent" not in visible_text(client.get("/referrals").text)
    # And in Perkville: a SENT referral from Maya, at her home location, with the details.
    assert maya_referrals(sandbox)["robin@example.net"] == "SENT"
    created = next(
        r for r in sandbox.state.store.referrals.values() if r.to_email == "robin@example.net"
    )
    assert (created.to_first_name, created.to_last_name) == ("Robin", "Park")
    assert created.referral_content == "Come to spin class with me!"
    assert created.location_id == 11


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "Enter a valid email address, like name@example.com."),
        ("", "Enter your friend's email address."),
        ("pending@example.com", "This person is already a customer, so they can't be referred."),
        ("member@example.com", "That's your own email address."),
        ("casey@example.net", "You've already referred this friend."),
    ],
)
def test_refused_referral_is_explained_and_keeps_the_input(
    sign_in: SignIn, client: TestClient, sandbox: Starlette, email: str, message: str
) -> None:
    sign_in()
    before = maya_referrals(sandbox)
    response = client.post(
        "/referrals",
        data={
            "csrf": csrf_of(client),
            "email": email,
            "first_name": "Jo",
            "note": "See you there",
        },
    )
    assert response.status_code == 400
    assert message in visible_text(response.text)
    assert 'aria-invalid="true" aria-describedby="friend-email-error"' in response.text
    assert input_value(response.text, "email") == email
    assert input_value(response.text, "first_name") == "Jo"
    assert ">See you there</textarea>" in response.text
    assert maya_referrals(sandbox) == before


def test_too_long_names_and_note_are_refused_before_perkville(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    before = maya_referrals(sandbox)
    response = client.post(
        "/referrals",
        data={
            "csrf": csrf_of(client),
            "email": "long@example.net",
            "last_name": "x" * 51,
            "note": "y" * 501,
        },
    )
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "Keep names to 50 characters." in text
    assert "Keep your note to 500 characters." in text
    assert maya_referrals(sandbox) == before


def test_referring_needs_the_form_token(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    before = maya_referrals(sandbox)
    response = client.post("/referrals", data={"email": "forged@example.net"})
    assert response.status_code == 403
    assert "Nothing was changed" in visible_text(response.text)
    assert maya_referrals(sandbox) == before


def test_qr_code_of_the_referral_link_is_served(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/referrals/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.text.startswith("<svg")
    assert "QR code of your referral link" in response.text


def test_member_who_has_not_joined_is_sent_to_join(sign_in: SignIn, client: TestClient) -> None:
    sign_in.finish(sign_in.at_perkville(sign_in.start(), email="pending@example.com"))
    response = client.get("/referrals")
    assert response.status_code == 303
    assert response.headers["location"] == "/join"
    assert client.get("/referrals/qr.svg").status_code == 404


def test_a_locations_own_referral_offer_wins_over_the_all_locations_one() -> None:
    """Reference, Promotion: asked for a location, the all-locations offer only stands in
    when the location has none of its own; asked for none, it is the one."""

    def offer(title: str, everywhere: bool) -> Promotion:
        return Promotion.from_api(
            {"title": title, "type": "REFERRAL", "eligible_at_all_locations": everywhere}
        )

    everywhere, downtown = offer("Everywhere", True), offer("Downtown only", False)
    assert referral_offer([everywhere, downtown], 11) == downtown
    assert referral_offer([downtown, everywhere], 11) == downtown
    assert referral_offer([everywhere], 11) == everywhere
    assert referral_offer([downtown, everywhere], None) == everywhere
    assert referral_offer([], 11) is None
