"""The sandbox's community resources, checked over HTTP against the reference (Challenge,
Challenge Connection, Challenge Perk Requirement, Challenge Connection Requirement Summary,
Referral, Promotion, Agreement Version, User Business Agreement, Connection PATCH)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.sandbox.challenges import record_challenge_progress, set_join_status
from member_app.sandbox.seed import MEMBER_EMAIL, PENDING_EMAIL
from member_app.sandbox.seed.challenges import (
    CHALLENGE_COMPLETED,
    CHALLENGE_ENDED_INCOMPLETE,
    CHALLENGE_INELIGIBLE,
    CHALLENGE_JOINED,
    CHALLENGE_OPEN,
    CHALLENGE_UPCOMING,
)
from member_app.sandbox.seed.membership import AGREEMENT_TERMS, AGREEMENT_TERMS_OLD
from member_app.sandbox.store import Store
from tests.helpers import FakeClock
from tests.sandbox_helpers import admin_token, assert_api_error, bearer, member_token

Headers = dict[str, str]
INVALID = "invalid_request_error"


@pytest.fixture
def store(sandbox: Starlette) -> Store:
    """The sandbox's store (its clock is the test's `clock`, at the seed's "today")."""
    store: Store = sandbox.state.store
    return store


def token_for(client: TestClient, email: str = MEMBER_EMAIL, scope: str | None = None) -> Headers:
    """A member's token through the PKCE flow, signed in afresh (whoever was signed in before)."""
    client.cookies.clear()
    token = member_token(client, scope=scope, email=email)
    client.cookies.clear()
    return bearer(token)


@pytest.fixture
def member(sandbox_client: TestClient) -> Headers:
    """Maya (user 1001, connection 3001), every scope the demo app may ask for."""
    return token_for(sandbox_client)


@pytest.fixture
def pending(sandbox_client: TestClient) -> Headers:
    """Jordan (user 1003, connection 3003 PENDING)."""
    return token_for(sandbox_client, PENDING_EMAIL)


@pytest.fixture
def friend(sandbox_client: TestClient) -> Headers:
    """Riley (user 1005, connection 3005 ACTIVE), whom Maya referred."""
    return token_for(sandbox_client, "riley@example.net")


@pytest.fixture
def alex(sandbox_client: TestClient) -> Headers:
    """Alex (user 1004): a customer of business 5 only."""
    return token_for(sandbox_client, "alex@example.com")


@pytest.fixture
def admin(sandbox_client: TestClient) -> Headers:
    """Sam (user 1002, ADMIN staff of business 4)."""
    return bearer(admin_token(sandbox_client))


def get_objects(client: TestClient, url: str, headers: Headers) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"meta", "objects"}
    objects: list[dict[str, Any]] = body["objects"]
    return objects


def uris(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["resource_uri"] for obj in objects]


def join(client: TestClient, headers: Headers, challenge: int, status: str = "ACTIVE") -> Any:
    body = {"challenge": f"/v2/challenges/{challenge}/", "join_status": status}
    return client.post("/v2/challenge-connections/", headers=headers, json=body)


# --- required filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "code"),
    [
        ("/v2/agreement-versions/", "__all__", "required"),
        ("/v2/agreement-versions/?business__in=4,5", "business__in", "invalid_filter"),
        ("/v2/agreement-versions/?is_active=true", "__all__", "required"),
        ("/v2/challenge-requirements/", "__all__", "required"),
        ("/v2/challenge-requirements/?business__in=4,5", "business__in", "invalid_filter"),
        ("/v2/challenge-connections/", "__all__", "required"),
        ("/v2/challenge-connections/?challenge=801", "__all__", "required"),
        ("/v2/challenge-connections/?business__in=4,5&user=1001", "business__in", "invalid_filter"),
        ("/v2/challenge-connection-requirement-summaries/", "__all__", "required"),
        (
            "/v2/challenge-connection-requirement-summaries/?challenge__in=801,803"
            "&challenge_connection=851",
            "challenge__in",
            "invalid_filter",
        ),
        ("/v2/challenge-connection-requirement-summaries/?user=me", "__all__", "required"),
        ("/v2/user-business-agreements/", "__all__", "required"),
        ("/v2/user-business-agreements/?user=me", "__all__", "required"),
        ("/v2/user-business-agreements/?business__in=4,5", "business__in", "invalid_filter"),
        ("/v2/promotions/?sort=title", "sort", "invalid_filter"),
    ],
)
def test_required_filters(
    sandbox_client: TestClient, member: Headers, url: str, field: str, code: str
) -> None:
    response = sandbox_client.get(url, headers=member)
    assert_api_error(response, 400, INVALID, field=field, code=code)


@pytest.mark.parametrize(
    "url",
    [
        "/v2/agreement-versions/?agreement=31",
        "/v2/agreement-versions/?business=4&agreement__in=31,32",
        "/v2/challenge-requirements/?challenge=801",
        "/v2/challenge-connections/?user=me",
        "/v2/challenge-connections/?business=4&connection__user=1001",
        "/v2/challenge-connections/?email=member@example.com",
        "/v2/challenge-connections/?connection=3001",
        "/v2/challenge-connection-requirement-summaries/?challenge=801",
        "/v2/challenge-connection-requirement-summaries/?challenge_connection__in=851,853",
        "/v2/challenge-connection-requirement-summaries/?challenge_perk_requirement=901",
        "/v2/user-business-agreements/?business=4",
        "/v2/challenges/",
        "/v2/promotions/",
        "/v2/referrals/",
    ],
)
def test_valid_filters(sandbox_client: TestClient, member: Headers, url: str) -> None:
    assert get_objects(sandbox_client, url, member)


# --- scopes --------------------------------------------------------------------------------------


def test_scopes(sandbox_client: TestClient) -> None:
    public = token_for(sandbox_client, scope="PUBLIC")
    for url in (
        "/v2/challenge-connections/?user=me",
        "/v2/challenge-connection-requirement-summaries/?challenge=801",
        "/v2/user-business-agreements/?business=4",
        "/v2/referrals/",
    ):
        response = sandbox_client.get(url, headers=public)
        assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    # PUBLIC is enough for the public resources.
    assert get_objects(sandbox_client, "/v2/challenges/?business=4", public)
    assert get_objects(sandbox_client, "/v2/promotions/?business=4", public)
    # Joining a challenge needs USER_CUSTOMER_INFO; referring needs a *_REFERRAL scope too.
    assert_api_error(join(sandbox_client, public, CHALLENGE_OPEN), 403, "authorization_error")
    info_only = token_for(sandbox_client, scope="PUBLIC USER_CUSTOMER_INFO")
    response = sandbox_client.post(
        "/v2/referrals/",
        headers=info_only,
        json={"business": "/v2/businesses/4/", "referral_to_email": "kim@example.net"},
    )
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")


def test_an_admin_token_cannot_join_challenges(sandbox_client: TestClient, admin: Headers) -> None:
    response = join(sandbox_client, admin, CHALLENGE_OPEN)
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    # ... but sees every challenge connection of its business.
    objects = get_objects(sandbox_client, "/v2/challenge-connections/?business=4", admin)
    assert len(objects) == 4


# --- challenges ----------------------------------------------------------------------------------


def test_challenge_shape(sandbox_client: TestClient, member: Headers) -> None:
    challenge = get_objects(sandbox_client, "/v2/challenges/?slug=northgate-grand-opening", member)
    assert len(challenge) == 1
    assert set(challenge[0]) == {
        "business", "challenge_id", "description", "end_date", "fine_print", "home_locations",
        "incomplete_message", "ineligible_message", "join_message", "locations", "name",
        "resource_uri", "require_active_membership", "slug", "start_date", "success_message",
        "use_membership_start_date", "valid_customer_attributes",
    }  # fmt: skip
    assert challenge[0]["home_locations"] == ["/v2/locations/13/"]
    assert challenge[0]["start_date"] == "2026-11-10"
    running = get_objects(
        sandbox_client,
        "/v2/challenges/?business=4&start_date__lte=2026-11-22&end_date__gte=2026-11-22",
        member,
    )
    assert [c["challenge_id"] for c in running] == [CHALLENGE_JOINED, CHALLENGE_OPEN, 804]
    requirement = sandbox_client.get("/v2/challenge-requirements/902/", headers=member).json()
    assert requirement == {
        "business": "/v2/businesses/4/",
        "challenge": "/v2/challenges/801/",
        "challenge_perk_requirement_id": 902,
        "description": "Any group class on the schedule.",
        "detail_link": "https://summit-fitness.example/classes",
        "display_order": 2,
        "progress_perk": "/v2/perks/102/",  # the Group fitness class earning rule
        "required_quantity": 2,
        "resource_uri": "/v2/challenge-requirements/902/",
        "title": "Take 2 group classes",
    }


def test_my_challenge_connections(sandbox_client: TestClient, member: Headers) -> None:
    mine = get_objects(sandbox_client, "/v2/challenge-connections/?user=me", member)
    assert [c["challenge"] for c in mine] == [
        f"/v2/challenges/{k}/"
        for k in (CHALLENGE_JOINED, CHALLENGE_COMPLETED, CHALLENGE_ENDED_INCOMPLETE)
    ]
    assert [(c["join_status"], c["completed"]) for c in mine] == [
        ("ACTIVE", False),
        ("ACTIVE", True),
        ("ACTIVE", False),
    ]
    # Another member's challenge connection is invisible, even by business.
    assert "/v2/challenge-connections/857/" not in uris(
        get_objects(sandbox_client, "/v2/challenge-connections/?business=4", member)
    )
    response = sandbox_client.get("/v2/challenge-connections/857/", headers=member)
    assert_api_error(response, 404, INVALID, code="not_found")


def test_join_and_leave_an_open_challenge(sandbox_client: TestClient, member: Headers) -> None:
    response = join(sandbox_client, member, CHALLENGE_OPEN)
    assert response.status_code == 201, response.text
    joined = response.json()
    assert joined["join_status"] == "ACTIVE"
    assert joined["join_dt"] == "2026-11-22T18:00:00+00:00"
    assert joined["connection"] == "/v2/connections/3001/"
    assert joined["completed"] is False
    # A summary per requirement, at zero.
    cc_id = joined["resource_uri"].split("/")[-2]
    summaries = get_objects(
        sandbox_client,
        f"/v2/challenge-connection-requirement-summaries/?challenge_connection={cc_id}",
        member,
    )
    assert [(s["earned_quantity"], s["completed_requirement"]) for s in summaries] == [(0, False)]
    # Joining again changes nothing (201, the same record).
    again = join(sandbox_client, member, CHALLENGE_OPEN)
    assert again.status_code == 201
    assert again.json()["resource_uri"] == joined["resource_uri"]
    # Leave (PATCH), then rejoin.
    left = sandbox_client.patch(
        joined["resource_uri"], headers=member, json={"join_status": "INACTIVE"}
    )
    assert left.status_code == 202, left.text
    assert left.json()["join_status"] == "INACTIVE"
    assert left.json()["join_dt"] is None
    back = sandbox_client.patch(
        joined["resource_uri"], headers=member, json={"join_status": "ACTIVE"}
    )
    assert back.status_code == 202
    assert back.json()["join_status"] == "ACTIVE"
    # Leaving through POST works too.
    assert join(sandbox_client, member, CHALLENGE_OPEN, "INACTIVE").json()["join_status"] == (
        "INACTIVE"
    )


def test_the_pending_member_accepts_an_invitation(
    sandbox_client: TestClient, pending: Headers
) -> None:
    invited = sandbox_client.get("/v2/challenge-connections/857/", headers=pending).json()
    assert invited["join_status"] == "PENDING"
    response = sandbox_client.patch(
        "/v2/challenge-connections/857/", headers=pending, json={"join_status": "ACTIVE"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["join_status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("challenge", "status", "code"),
    [
        (CHALLENGE_INELIGIBLE, "ACTIVE", "pv_challenge_ineligible"),
        (CHALLENGE_UPCOMING, "ACTIVE", "pv_challenge_not_started"),
        (CHALLENGE_ENDED_INCOMPLETE, "INACTIVE", "pv_challenge_ended"),
        (CHALLENGE_COMPLETED, "INACTIVE", "pv_challenge_completed"),
    ],
)
def test_challenges_that_cannot_be_joined_or_left(
    sandbox_client: TestClient, member: Headers, challenge: int, status: str, code: str
) -> None:
    response = join(sandbox_client, member, challenge, status)
    assert_api_error(response, 400, INVALID, field="__all__", code=code)


def test_challenge_dates_follow_the_clock(
    sandbox_client: TestClient, member: Headers, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    assert join(sandbox_client, member, CHALLENGE_UPCOMING).status_code == 201
    response = join(sandbox_client, member, CHALLENGE_OPEN)
    assert_api_error(response, 400, INVALID, code="pv_challenge_ended")


def test_ended_challenge_already_joined_is_unchanged(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = join(sandbox_client, member, CHALLENGE_ENDED_INCOMPLETE)
    assert response.status_code == 201
    assert response.json()["resource_uri"] == "/v2/challenge-connections/856/"
    assert response.json()["completed"] is False  # ended without completing: "incomplete"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"join_status": "ACTIVE"}, "challenge", "required"),
        ({"challenge": "/v2/challenges/802/"}, "join_status", "required"),
        ({"challenge": "802", "join_status": "ACTIVE"}, "challenge", "invalid"),
        ({"challenge": "/v2/challenges/999/", "join_status": "ACTIVE"}, "challenge", "invalid"),
        ({"challenge": "/v2/challenges/802/", "join_status": "PENDING"}, "join_status", "invalid"),
        ({"challenge": "/v2/challenges/802/", "join_status": "ACTIVE", "x": 1}, "x", None),
    ],
)
def test_join_validation(
    sandbox_client: TestClient, member: Headers, body: dict[str, Any], field: str, code: str | None
) -> None:
    response = sandbox_client.post("/v2/challenge-connections/", headers=member, json=body)
    assert_api_error(response, 400, INVALID, field=field, code=code)


def test_not_a_customer_cannot_join(sandbox_client: TestClient, alex: Headers) -> None:
    response = join(sandbox_client, alex, CHALLENGE_OPEN)
    assert_api_error(response, 400, INVALID, code="pv_challenge_no_connection")
    response = join(sandbox_client, alex, CHALLENGE_OPEN, "INACTIVE")
    assert_api_error(response, 400, INVALID, code="pv_challenge_no_connection")


def test_cannot_patch_another_members_challenge_connection(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = sandbox_client.patch(
        "/v2/challenge-connections/857/", headers=member, json={"join_status": "ACTIVE"}
    )
    assert_api_error(response, 404, INVALID, code="not_found")


def test_requirement_summaries_show_progress(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    url = "/v2/challenge-connection-requirement-summaries/?challenge_connection__in=851,853,857"
    summaries = get_objects(sandbox_client, url, member)
    assert [
        (s["challenge_perk_requirement"], s["earned_quantity"], s["completed_requirement"])
        for s in summaries
    ] == [
        ("/v2/challenge-requirements/901/", 7, False),
        ("/v2/challenge-requirements/902/", 2, True),
        ("/v2/challenge-requirements/904/", 8, True),
    ]
    assert set(summaries[0]) == {
        "challenge", "challenge_connection", "challenge_perk_requirement", "completed_dt",
        "completed_requirement", "created_dt", "earned_quantity", "last_mod_dt", "resource_uri",
    }  # fmt: skip
    # Five more check-ins (perk 101) complete the November challenge.
    record_challenge_progress(store, user_id=1001, business_id=4, perk_id=101, quantity=5)
    summary = sandbox_client.get(
        "/v2/challenge-connection-requirement-summaries/871/", headers=member
    ).json()
    assert (summary["earned_quantity"], summary["completed_requirement"]) == (12, True)
    cc = sandbox_client.get("/v2/challenge-connections/851/", headers=member).json()
    assert cc["completed"] is True
    assert cc["completed_dt"] == "2026-11-22T18:00:00+00:00"


def test_progress_only_counts_at_the_challenges_locations(store: Store) -> None:
    store.connections[3001].home_location_id = 13  # now eligible for the Northgate challenge
    joined = set_join_status(store, 1001, store.challenges[CHALLENGE_INELIGIBLE], "ACTIVE")
    record_challenge_progress(store, user_id=1001, business_id=4, perk_id=101, location_id=11)
    record_challenge_progress(store, user_id=1001, business_id=4, perk_id=101, location_id=13)
    earned = [
        s.earned_quantity
        for s in store.challenge_summaries.values()
        if s.challenge_connection_id == joined.challenge_connection_id
    ]
    assert earned == [1]


# --- referrals -----------------------------------------------------------------------------------


def refer(client: TestClient, headers: Headers, **fields: Any) -> Any:
    body = {"business": "/v2/businesses/4/", **fields}
    return client.post("/v2/referrals/", headers=headers, json=body)


def test_referral_list(
    sandbox_client: TestClient, member: Headers, pending: Headers, friend: Headers
) -> None:
    mine = get_objects(sandbox_client, "/v2/referrals/?referral_from_user=me", member)
    assert [(r["resource_uri"], r["referral_status"]) for r in mine] == [
        ("/v2/referrals/701/", "SENT"),
        ("/v2/referrals/702/", "COMPLETED"),
        ("/v2/referrals/703/", "VOID"),
    ]
    completed = mine[1]
    assert completed["completed_dt"] == "2026-10-15T17:05:00+00:00"
    assert completed["referral_to_user"] == "/v2/users/1005/"  # Riley, who joined
    assert mine[0]["completed_dt"] is None
    # Alex's referral at Harbor Yoga is not Maya's to see.
    assert "/v2/referrals/704/" not in uris(get_objects(sandbox_client, "/v2/referrals/", member))
    # The referee sees the referral too; Jordan, who was never referred, sees none.
    assert uris(get_objects(sandbox_client, "/v2/referrals/", friend)) == ["/v2/referrals/702/"]
    assert get_objects(sandbox_client, "/v2/referrals/", pending) == []
    sent = get_objects(sandbox_client, "/v2/referrals/?referral_status=SENT", member)
    assert uris(sent) == ["/v2/referrals/701/"]


def test_refer_a_friend(sandbox_client: TestClient, member: Headers) -> None:
    response = refer(
        sandbox_client,
        member,
        location="/v2/locations/12/",
        referral_to_email=" Kim@Example.net ",
        referral_to_first_name="Kim",
        referral_to_last_name="Park",
        referral_content="Try the 6 am class!",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["referral_status"] == "SENT"
    assert created["referral_from_user"] == "/v2/users/1001/"
    assert created["referral_to_email"] == "kim@example.net"
    assert created["referral_to_user"] is None
    assert created["referral_source"] == "API_SUBMITTED"
    assert created["referrer_conn_status"] == "ACTIVE"
    assert created["location"] == "/v2/locations/12/"
    assert created["created_dt"] == created["referral_date"] == "2026-11-22T18:00:00+00:00"
    assert created["completed_dt"] is None and created["voucher"] is None
    assert created["resource_uri"] in uris(
        get_objects(sandbox_client, "/v2/referrals/?referral_from_user=me", member)
    )
    # The same friend again, while the first is open: refused.
    again = refer(sandbox_client, member, referral_to_email="kim@example.net")
    assert_api_error(
        again, 400, INVALID, field="referral_to_email", code="pv_referral_already_sent"
    )


def test_refer_a_perkville_user_of_another_business(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = refer(sandbox_client, member, referral_to_email="alex@example.com")
    assert response.status_code == 201
    assert response.json()["referral_to_user"] == "/v2/users/1004/"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        (
            {"referral_to_email": PENDING_EMAIL},
            "referral_to_email",
            "pv_referral_existing_customer",
        ),
        (
            {"referral_to_email": "member@example.com"},
            "referral_to_email",
            "pv_referral_self_referral",
        ),
        ({"referral_to_email": "not-an-email"}, "referral_to_email", "invalid"),
        ({"referral_to_email": "a b@example.com"}, "referral_to_email", "invalid"),
        ({}, "referral_to_email", "required"),
        ({"referral_to_email": "x@example.net", "business": "4"}, "business", "invalid"),
        ({"referral_to_email": "x@example.net", "business": None}, "business", "required"),
        (
            {"referral_to_email": "x@example.net", "location": "/v2/locations/51/"},
            "location",
            "invalid",
        ),
        ({"referral_to_email": "x@example.net", "referral_content": "x" * 1001}, None, None),
        ({"referral_to_email": "x@example.net", "send_referral_email": "yes"}, None, None),
        ({"referral_to_email": "x@example.net", "referral_to": "y"}, "referral_to", None),
    ],
)
def test_referral_validation(
    sandbox_client: TestClient,
    member: Headers,
    fields: dict[str, Any],
    field: str | None,
    code: str | None,
) -> None:
    response = refer(sandbox_client, member, **fields)
    body = assert_api_error(response, 400, INVALID, field=field, code=code)
    if code == "invalid" and field == "referral_to_email":
        assert body["errors"][field][0]["message"] == "Enter a valid email address."


def test_referral_only_as_yourself_and_where_connected(
    sandbox_client: TestClient, member: Headers, alex: Headers
) -> None:
    response = refer(
        sandbox_client,
        member,
        referral_to_email="x@example.net",
        referral_from_user="/v2/users/1003/",
    )
    assert_api_error(response, 403, "authorization_error", field="referral_from_user")
    response = refer(sandbox_client, alex, referral_to_email="x@example.net")
    assert_api_error(response, 400, INVALID, code="pv_referral_referrer_not_customer")


def test_admin_referral_rules(sandbox_client: TestClient, admin: Headers) -> None:
    # Both already customers, submit_as_referrer false (default): created COMPLETED.
    response = refer(
        sandbox_client, admin, referral_from_user="/v2/users/1001/", referral_to_email=PENDING_EMAIL
    )
    assert response.status_code == 201, response.text
    assert response.json()["referral_status"] == "COMPLETED"
    # submit_as_referrer true: an existing customer is refused.
    response = refer(
        sandbox_client,
        admin,
        referral_from_user="/v2/users/1001/",
        referral_to_email=PENDING_EMAIL,
        submit_as_referrer=True,
    )
    assert_api_error(response, 400, INVALID, code="pv_referral_existing_customer")
    # A new person: SENT.
    response = refer(
        sandbox_client, admin, referral_from_user="/v2/users/1001/", referral_to_email="n@x.org"
    )
    assert response.json()["referral_status"] == "SENT"
    # The admin sees every referral of business 4.
    seen = uris(get_objects(sandbox_client, "/v2/referrals/?business=4", admin))
    assert {"/v2/referrals/701/", "/v2/referrals/702/", "/v2/referrals/703/"} <= set(seen)


# --- promotions ----------------------------------------------------------------------------------


def test_promotions_by_location(sandbox_client: TestClient, member: Headers) -> None:
    every = get_objects(sandbox_client, "/v2/promotions/?business=4", member)
    assert [p["promotion_id"] for p in every] == [601, 602]
    offer = every[0]
    assert offer["type"] == "REFERRAL"
    assert offer["title"] == "Free Week Pass"
    assert offer["eligible_at_all_locations"] is True
    assert "eligible_locations" not in offer
    assert offer["picture_url"] == "http://sandbox.test/media/promotions/601.svg"
    assert every[1]["eligible_locations"] == ["/v2/locations/13/"]
    # A location-specific promotion wins; elsewhere the all-locations one is returned.
    for location, expected in ((11, [601]), (12, [601]), (13, [602]), (51, [])):
        found = get_objects(
            sandbox_client, f"/v2/promotions/?business=4&location={location}", member
        )
        assert [p["promotion_id"] for p in found] == expected, location
    picture = sandbox_client.get("/media/promotions/601.svg")
    assert picture.status_code == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert "Free Week Pass" in picture.text
    assert sandbox_client.get("/media/promotions/999.svg").status_code == 404


# --- agreements and joining the program ----------------------------------------------------------


def test_agreement_versions(sandbox_client: TestClient, member: Headers) -> None:
    versions = get_objects(sandbox_client, "/v2/agreement-versions/?business=4", member)
    assert [v["agreement_version_id"] for v in versions] == [61, 62, 63]
    active = get_objects(
        sandbox_client,
        "/v2/agreement-versions/?business=4&is_active=true&agreement_type=REQUIRED-OPT-IN",
        member,
    )
    assert [v["agreement_version_id"] for v in active] == [AGREEMENT_TERMS]
    assert set(active[0]) == {
        "agreement_id", "agreement_internal_name", "agreement_type", "agreement_version_id",
        "business", "created_dt", "is_active", "last_mod_dt", "resource_uri", "text", "version",
    }  # fmt: skip
    assert active[0]["version"] == "2026.09"


def accept(client: TestClient, admin: Headers, *items: dict[str, Any]) -> Any:
    body = {"business": 4, "user_business_agreements": list(items)}
    return client.post("/v2/batch/user-business-agreements/", headers=admin, json=body)


def test_the_pending_member_joins_after_accepting_the_terms(
    sandbox_client: TestClient, pending: Headers, admin: Headers
) -> None:
    url = "/v2/connections/3003/"
    before = sandbox_client.patch(url, headers=pending, json={"status": "ACTIVE"})
    body = assert_api_error(before, 400, INVALID, code="pv_connection_agreement_required")
    assert "/v2/agreement-versions/62/" in body["errors"]["__all__"][0]["message"]
    assert sandbox_client.get(url, headers=pending).json()["status"] == "PENDING"

    response = accept(sandbox_client, admin, {"agreement_version": AGREEMENT_TERMS, "user": 1003})
    assert response.status_code == 200, response.text
    [record] = response.json()["user_business_agreements"]
    assert record["agreement_version"] == "/v2/agreement-versions/62/"
    assert (record["user"], record["email"], record["first_name"]) == (
        "/v2/users/1003/",
        PENDING_EMAIL,
        "Jordan",
    )
    assert record["agreement_dt"] == "2026-11-22T18:00:00+00:00"
    mine = get_objects(sandbox_client, "/v2/user-business-agreements/?business=4", pending)
    assert uris(mine) == [record["resource_uri"]]

    joined = sandbox_client.patch(url, headers=pending, json={"status": "ACTIVE"})
    assert joined.status_code == 202, joined.text
    connection = joined.json()
    assert connection["status"] == "ACTIVE"
    assert connection["rewards_program_join_dt"] == "2026-11-22T18:00:00+00:00"
    assert connection["last_mod_dt"] == "2026-11-22T18:00:00+00:00"
    assert connection["resource_uri"] == url
    # The join bonus (the REGISTRATION perk, 50 points) is earned with the first join.
    assert connection["point_balance"] == 120 + 50
    assert connection["lifetime_earned_points"] == 120 + 50
    # Idempotent: joining again changes nothing and earns nothing.
    again = sandbox_client.patch(url, headers=pending, json={"status": "ACTIVE"})
    assert again.status_code == 202
    assert again.json()["point_balance"] == 170


def test_joining_needs_an_active_membership(
    sandbox_client: TestClient, pending: Headers, admin: Headers, store: Store
) -> None:
    accept(
        sandbox_client, admin, {"agreement_version": AGREEMENT_TERMS, "user_email": PENDING_EMAIL}
    )
    store.connections[3003].external_membership_status = "INACTIVE"
    response = sandbox_client.patch(
        "/v2/connections/3003/", headers=pending, json={"status": "ACTIVE"}
    )
    assert_api_error(response, 400, INVALID, code="pv_connection_membership_not_active")


def test_leaving_and_rejoining_needs_the_current_terms(
    sandbox_client: TestClient, member: Headers, admin: Headers
) -> None:
    url = "/v2/connections/3001/"
    left = sandbox_client.patch(url, headers=member, json={"status": "INACTIVE"})
    assert left.status_code == 202
    assert left.json()["status"] == "INACTIVE"
    assert left.json()["rewards_program_join_dt"] == "2025-09-01T17:05:00+00:00"
    # Maya accepted version 61 in 2025; the active version is 62.
    response = sandbox_client.patch(url, headers=member, json={"status": "ACTIVE"})
    assert_api_error(response, 400, INVALID, code="pv_connection_agreement_required")
    accept(sandbox_client, admin, {"agreement_version": AGREEMENT_TERMS, "user": 1001})
    rejoined = sandbox_client.patch(url, headers=member, json={"status": "ACTIVE"})
    assert rejoined.status_code == 202
    assert rejoined.json()["rewards_program_join_dt"] == "2025-09-01T17:05:00+00:00"
    assert rejoined.json()["point_balance"] == 1250  # no second join bonus


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        ({"point_balance": 99999}, 403, "point_balance", "field_not_allowed"),
        ({"home_location": "/v2/locations/12/"}, 403, "home_location", "field_not_allowed"),
        ({"status": "ACTIVE", "level": "/v2/levels/23/"}, 403, "level", "field_not_allowed"),
        ({"status": "PENDING"}, 400, "status", "invalid"),
        ({}, 400, "__all__", "required"),
    ],
)
def test_a_member_may_patch_only_the_status(
    sandbox_client: TestClient,
    member: Headers,
    body: dict[str, Any],
    status: int,
    field: str,
    code: str,
) -> None:
    response = sandbox_client.patch("/v2/connections/3001/", headers=member, json=body)
    error_type = "authorization_error" if status == 403 else INVALID
    assert_api_error(response, status, error_type, field=field, code=code)
    assert (
        sandbox_client.get("/v2/connections/3001/", headers=member).json()["point_balance"] == 1250
    )


def test_a_member_cannot_patch_others_connections(
    sandbox_client: TestClient, member: Headers
) -> None:
    for url in ("/v2/connections/3003/", "/v2/connections/3004/"):
        response = sandbox_client.patch(url, headers=member, json={"status": "ACTIVE"})
        assert_api_error(response, 404, INVALID, code="not_found")


def test_an_admin_patches_membership_fields_not_status(
    sandbox_client: TestClient, admin: Headers
) -> None:
    url = "/v2/connections/3003/"
    response = sandbox_client.patch(url, headers=admin, json={"status": "ACTIVE"})
    assert_api_error(response, 403, "authorization_error", field="status", code="field_not_allowed")
    response = sandbox_client.patch(
        url,
        headers=admin,
        json={
            "external_home_location_id": "sf-ng",
            "external_membership_type": "Premium",
            "external_cancel_dt": "2026-12-31 00:00Z",
        },
    )
    assert response.status_code == 202, response.text
    patched = response.json()
    assert patched["home_location"] == "/v2/locations/13/"
    assert patched["external_membership_type"] == "Premium"
    assert patched["external_cancel_dt"] == "2026-12-31T00:00:00+00:00"
    both = sandbox_client.patch(
        url,
        headers=admin,
        json={"home_location": "/v2/locations/11/", "external_home_location_id": "SF-DT"},
    )
    assert_api_error(both, 400, INVALID, field="__all__", code="invalid")


def test_batch_agreement_errors(
    sandbox_client: TestClient, admin: Headers, member: Headers
) -> None:
    response = accept(
        sandbox_client,
        admin,
        {"agreement_version": AGREEMENT_TERMS_OLD, "user": 1003},
        {"agreement_version": AGREEMENT_TERMS, "user": 1003, "user_email": PENDING_EMAIL},
        {"agreement_version": AGREEMENT_TERMS, "user": 1004},
        {"agreement_version": 64, "user": 1003},
        {"agreement_version": AGREEMENT_TERMS, "user_email": "nope"},
        {"agreement_version": AGREEMENT_TERMS, "user": "1003"},
    )
    assert response.status_code == 200, response.text
    results = response.json()["user_business_agreements"]
    codes = [
        next(iter(r["errors"].values()))[0]["code"] if "errors" in r else "ok" for r in results
    ]
    assert codes == [
        "pv_agreement_version_inactive",
        "required",
        "pv_agreement_not_customer",
        "invalid",
        "invalid",
        "ok",
    ]
    assert all(r["error_type"] == INVALID for r in results if "errors" in r)
    # Accepting twice keeps one record.
    again = accept(sandbox_client, admin, {"agreement_version": AGREEMENT_TERMS, "user": 1003})
    assert again.json()["user_business_agreements"][0]["id"] == results[-1]["id"]
    # Admin only, POST only.
    response = accept(sandbox_client, member, {"agreement_version": AGREEMENT_TERMS, "user": 1003})
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    response = sandbox_client.get("/v2/batch/user-business-agreements/", headers=admin)
    assert_api_error(response, 501, INVALID, code="method_not_implemented")
    response = sandbox_client.post(
        "/v2/batch/user-business-agreements/",
        headers=admin,
        json={"business": 5, "user_business_agreements": [{"agreement_version": 64, "user": 1004}]},
    )
    assert_api_error(response, 403, "authorization_error", code="not_business_admin")


def test_user_business_agreements_are_read_only(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = sandbox_client.post(
        "/v2/user-business-agreements/", headers=member, json={"agreement_version": 62}
    )
    assert_api_error(response, 501, INVALID, code="method_not_implemented")
    mine = get_objects(sandbox_client, "/v2/user-business-agreements/?business=4", member)
    assert [(u["id"], u["agreement_version"]) for u in mine] == [
        (661, "/v2/agreement-versions/61/")
    ]
