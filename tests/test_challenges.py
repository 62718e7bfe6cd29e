"""Challenges: the member's own, the ones to join and the ones coming up; progress; joining and
leaving (seed: member_app/sandbox/community_seed.py, today 2026-11-22)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.pages.challenges import timing

from .forms import parse_form
from .helpers import MAYA_CONNECTION, SignIn, listed, visible_text

JOINED, OPEN, COMPLETED, INELIGIBLE, UPCOMING, INCOMPLETE = 801, 802, 803, 804, 805, 806
NORTHGATE = 13  # where the Northgate challenge (804) counts


def join_status(sandbox: Starlette, challenge_id: int) -> str | None:
    """Maya's join_status for the challenge, as the sandbox has it (None: no record)."""
    entries = sandbox.state.store.challenge_connections.values()
    return next(
        (
            e.join_status
            for e in entries
            if e.challenge_id == challenge_id and e.connection_id == MAYA_CONNECTION
        ),
        None,
    )


def csrf(client: TestClient) -> dict[str, str]:
    return {"csrf": parse_form(client.get("/challenges").text).fields["csrf"]}


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/challenges")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fchallenges"
    response = client.post(f"/challenges/{OPEN}/join", data={"csrf": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next=%2Fchallenges%2F{OPEN}"


def test_each_section_lists_the_right_challenges(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get("/challenges")
    assert response.status_code == 200
    html = response.text
    assert listed(html, "in-progress") == [JOINED]
    assert listed(html, "completed") == [COMPLETED]
    assert listed(html, "incomplete") == [INCOMPLETE]
    # Downtown (Maya's home): the Northgate challenge counts only at Northgate (test_locations).
    assert listed(html, "available") == [OPEN]
    assert listed(html, "upcoming") == [UPCOMING]
    text = visible_text(html)
    assert "8 days left · Nov 1 to Nov 30, 2026" in text
    assert "1 of 2 goals done" in text
    assert "Completed Oct 24, 2026" in text
    assert "Ended Aug 31, 2026" in text
    assert "Complete 6 strength sessions: 4 of 6" in text
    assert "Starts in 40 days" in text
    assert 'aria-current="page"' in html and 'href="/more" class="tab is-current"' in html


def test_a_location_specific_challenge_is_listed_at_its_location(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    html = client.get(f"/challenges?loc_id={NORTHGATE}").text
    assert listed(html, "available") == [OPEN, INELIGIBLE]  # open first; the other says why
    assert "This challenge is for members of our Northgate club." in visible_text(html)


def test_every_section_says_when_it_is_empty(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sandbox.state.store.challenges.clear()
    sign_in()
    text = visible_text(client.get("/challenges").text)
    assert "You haven't joined a challenge yet." in text
    assert "No challenges to join at Summit Fitness Downtown right now." in text
    assert "No new challenges are scheduled at Summit Fitness Downtown yet." in text


def test_every_page_of_challenges_is_listed(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    store = sandbox.state.store
    extra = range(2001, 2131)  # more than one page of 100
    for key in extra:
        store.challenges[key] = replace(store.challenges[UPCOMING], challenge_id=key)
    sign_in()
    assert listed(client.get("/challenges").text, "upcoming") == [UPCOMING, *extra]


def test_details_show_each_goal_with_its_progress(sign_in: SignIn, client: TestClient) -> None:
    sign_in()
    response = client.get(f"/challenges/{JOINED}")
    assert response.status_code == 200
    html, text = response.text, visible_text(response.text)
    assert "November Check-In Challenge" in text
    assert "Check in 12 times and take 2 group classes" in text  # the description
    assert "Nov 1 to Nov 30, 2026" in text
    assert "8 days left" in text
    assert "Check-ins at any Summit Fitness club count." in text  # the fine print
    assert "Check in 12 times Any club, once a day. 7 of 12" in text
    assert "Take 2 group classes Done" in text
    assert 'aria-label="Check in 12 times: 7 of 12"' in html
    assert 'max="12" value="7"' in html
    assert 'href="https://summit-fitness.example/classes"' in html
    assert f'action="/challenges/{JOINED}/leave"' in html
    assert "/join" not in html


def test_joining_shows_the_join_message_and_moves_it_to_my_challenges(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    page = client.get(f"/challenges/{OPEN}").text
    assert "Join this challenge" in visible_text(page)
    assert join_status(sandbox, OPEN) is None

    response = client.post(f"/challenges/{OPEN}/join", data=csrf(client))
    assert response.status_code == 303
    assert response.headers["location"] == f"/challenges/{OPEN}?joined=1"
    assert join_status(sandbox, OPEN) == "ACTIVE"

    text = visible_text(client.get(response.headers["location"]).text)
    assert "You're in! Every visit now counts towards this challenge." in text
    assert "Take 10 classes 0 of 10" in text
    assert "Leave this challenge" in text
    assert "Join this challenge" not in text
    index = client.get("/challenges").text
    assert listed(index, "in-progress") == [JOINED, OPEN]
    assert OPEN not in listed(index, "available")


def test_leaving_a_challenge_offers_to_join_again(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    response = client.post(f"/challenges/{JOINED}/leave", data=csrf(client))
    assert response.status_code == 303
    assert response.headers["location"] == f"/challenges/{JOINED}?left=1"
    assert join_status(sandbox, JOINED) == "INACTIVE"
    text = visible_text(client.get(response.headers["location"]).text)
    assert "You've left this challenge." in text
    assert "Join this challenge" in text
    index = client.get("/challenges").text
    assert listed(index, "in-progress") == []
    assert JOINED in listed(index, "available")


def test_an_ineligible_member_sees_why_and_cannot_join(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    page = client.get(f"/challenges/{INELIGIBLE}")
    text = visible_text(page.text)
    assert "This challenge is for members of our Northgate club." in text
    assert "Join this challenge" not in text
    assert "/join" not in page.text
    # A form from elsewhere: Perkville refuses, and the member reads the same reason.
    response = client.post(f"/challenges/{INELIGIBLE}/join", data=csrf(client))
    assert response.headers["location"] == f"/challenges/{INELIGIBLE}?problem=ineligible"
    page = client.get(response.headers["location"])
    assert 'role="alert">This challenge is for members of our Northgate club.' in page.text
    assert join_status(sandbox, INELIGIBLE) is None


def test_an_upcoming_challenge_cannot_be_joined_yet(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    page = client.get(f"/challenges/{UPCOMING}")
    text = visible_text(page.text)
    assert "Starts in 40 days" in text
    assert "You can join from Jan 1, 2027." in text
    assert "/join" not in page.text
    response = client.post(f"/challenges/{UPCOMING}/join", data=csrf(client))
    assert response.headers["location"] == f"/challenges/{UPCOMING}?problem=not_started"
    assert "This challenge hasn't started yet." in visible_text(
        client.get(response.headers["location"]).text
    )
    assert join_status(sandbox, UPCOMING) is None


def test_finished_challenges_show_their_outcome_and_no_action(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    done = client.get(f"/challenges/{COMPLETED}")
    text = visible_text(done.text)
    assert "Congratulations, you completed the challenge!" in text
    assert "Completed Oct 24, 2026" in text
    assert "Log 8 cardio sessions Done" in text
    assert 'method="post" action="/challenges/' not in done.text
    missed = client.get(f"/challenges/{INCOMPLETE}")
    text = visible_text(missed.text)
    assert "You'll get it next time!" in text
    assert "Jul 1 to Aug 31, 2026" in text
    assert "4 of 6" in text
    assert 'method="post" action="/challenges/' not in missed.text


def test_unknown_or_malformed_challenge_is_a_friendly_404(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in()
    for path in ("/challenges/999999", "/challenges/abc", "/challenges/-1"):
        response = client.get(path)
        assert response.status_code == 404
        assert "We can't find that challenge" in visible_text(response.text)
    response = client.post("/challenges/999999/join", data=csrf(client))
    assert response.status_code == 404


def test_join_and_leave_need_the_form_token(
    sign_in: SignIn, client: TestClient, sandbox: Starlette
) -> None:
    sign_in()
    assert client.post(f"/challenges/{OPEN}/join", data={"csrf": "forged"}).status_code == 403
    assert client.post(f"/challenges/{JOINED}/leave", data={}).status_code == 403
    assert join_status(sandbox, OPEN) is None
    assert join_status(sandbox, JOINED) == "ACTIVE"


def test_time_left_in_words() -> None:
    on = date(2026, 11, 22)
    assert timing(date(2026, 11, 1), date(2026, 11, 30), on) == "8 days left"
    assert timing(None, date(2026, 11, 23), on) == "1 day left"
    assert timing(None, on, on) == "Last day today"
    assert timing(date(2026, 11, 23), None, on) == "Starts tomorrow"
    assert timing(None, None, on) == "No end date"
    assert timing(None, date(2026, 11, 21), on) == "Ended Nov 21, 2026"
