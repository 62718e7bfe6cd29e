"""The sandbox's External Member API, word for word (reference: External Member, External Member
Batch), in both profiles, with tokens bought the real way.

The demo gym: Maya (member@example.com, user 1001) is a customer of Summit Fitness (business 4)
through connection 3001 (home location 11, membership ACTIVE, "Monthly Unlimited"); Sam
(admin@example.com) is its ADMIN staff; Alex (user 1004) is a customer of business 5 only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from member_app.sandbox import create_sandbox
from member_app.sandbox.profiles import REFERENCE_FIELDS
from member_app.sandbox.seed import demo_store

from .sandbox_helpers import (
    APP_CALLBACK,
    MEMBER_EMAIL,
    admin_token,
    assert_api_error,
    bearer,
    member_token,
)

MAYA = 1001
NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
COLLECTION = "/v2/external-members/"
BATCH = "/v2/batch/external-members/"


@pytest.fixture(params=["default", "reference"])
def api(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    store = demo_store([APP_CALLBACK])
    store.clock = lambda: NOW
    with TestClient(create_sandbox(store, profile=request.param), follow_redirects=False) as client:
        yield client


@pytest.fixture
def staff(api: TestClient) -> dict[str, str]:
    return bearer(admin_token(api))


def _create(api: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    """The reference's POST example, for Maya at Summit Fitness."""
    body = {
        "business": "/v2/businesses/4/",
        "home_location": "/v2/locations/12/",
        "external_member_id": "1111111",
        "external_system_id": "EXAMPLE_SOFTWARE",
        "user_email": MEMBER_EMAIL,
        "external_join_dt": "2018-05-02 12:35:00",
        **fields,
    }
    return api.post(
        COLLECTION, json={k: v for k, v in body.items() if v is not None}, headers=headers
    )


def _get(api: TestClient, url: str, headers: dict[str, str]) -> Any:
    found = api.get(url, headers=headers)
    assert found.status_code == 200, f"{url}: {found.text}"
    return found.json()


def test_post_creates_an_external_member_at_the_members_connection(
    api: TestClient, staff: dict[str, str]
) -> None:
    """POST: "A 201 response with a JSON object of the created External Member"; its fields are
    the example's (`"id": "3"`, a string); the Connection's membership fields are the ones it
    calls "DEPRECATED - Please use External Member", so the connection shows what was sent."""
    made = _create(
        api, staff, external_membership_status="INACTIVE", external_membership_type="Off-peak"
    )
    assert made.status_code == 201, made.text
    member = made.json()
    assert set(member) == REFERENCE_FIELDS["external-members"]
    assert member["id"].isdigit() and member["resource_uri"] == f"{COLLECTION}{member['id']}/"
    assert (
        member["user"] == f"/v2/users/{MAYA}/" and member["connection"] == "/v2/connections/3001/"
    )
    assert member["business"] == "/v2/businesses/4/"
    assert member["external_join_dt"] == "2018-05-02T12:35:00+00:00"
    assert member["external_cancel_dt"] is None and member["home_location"] == "/v2/locations/12/"
    assert _get(api, member["resource_uri"], staff) == member
    conn = _get(api, "/v2/connections/3001/", staff)
    assert conn["external_membership_status"] == "INACTIVE"
    assert conn["external_membership_type"] == "Off-peak"
    assert conn["external_join_dt"] == "2018-05-02T12:35:00+00:00"
    assert conn["home_location"] == "/v2/locations/12/"


def test_post_needs_its_parameters_once(api: TestClient, staff: dict[str, str]) -> None:
    """`business`, `user_email`, `external_member_id`, `external_system_id` are the POST's
    non-OPTIONAL parameters; the same ids again at the business are the same record, so a
    second POST is refused; `home_location` "OR the external_home_location_id parameter, but
    not both"."""
    for missing in ("business", "user_email", "external_member_id", "external_system_id"):
        refused = _create(api, staff, **{missing: None})
        assert_api_error(refused, 400, "invalid_request_error", field=missing, code="required")
    both = _create(api, staff, external_home_location_id="SF-RV")
    assert_api_error(both, 400, "invalid_request_error", field="home_location")
    assert _create(api, staff).status_code == 201
    assert_api_error(_create(api, staff), 400, "invalid_request_error", field="external_member_id")
    by_external = _create(
        api, staff, external_member_id="2", home_location=None, external_home_location_id="sf-rv"
    )
    assert by_external.status_code == 201 and by_external.json()["home_location"] == (
        "/v2/locations/12/"
    )


def test_a_new_email_is_a_new_user_and_names_fill_blanks(
    api: TestClient, staff: dict[str, str]
) -> None:
    """user_email: "The email of the user to which this external member belongs"; first_name:
    "If the user already exists, and does not have a first name on file, we will update the user
    with the provided first name" (birthday likewise)."""
    new = _create(
        api,
        staff,
        user_email="john.doe@example.org",
        first_name="John",
        last_name="Doe",
        birthday="1909-04-23",
        external_member_id="42",
    )
    assert new.status_code == 201, new.text
    user = _get(api, new.json()["user"], staff)
    assert (user["first_name"], user["last_name"], user["birthday"]) == (
        "John",
        "Doe",
        "1909-04-23",
    )
    again = _create(api, staff, first_name="Someone", birthday="2001-01-01")
    assert again.status_code == 201, again.text  # Maya, who has both on file
    maya = _get(api, f"/v2/users/{MAYA}/", staff)
    assert (maya["first_name"], maya["birthday"]) == ("Maya", "1990-04-23")


def test_patch_updates_the_membership_and_answers_201(
    api: TestClient, staff: dict[str, str]
) -> None:
    """PATCH: the reference's example (`home_location`, `external_membership_type`: "NEW_TYPE",
    `external_membership_status`: "ACTIVE"); "A 201 response with a JSON object of the updated
    External Member"; its parameters are the membership's and the user's, not the ids."""
    uri = _create(api, staff, external_membership_status="INACTIVE").json()["resource_uri"]
    patch = {
        "home_location": "/v2/locations/11/",
        "external_membership_type": "NEW_TYPE",
        "external_membership_status": "ACTIVE",
        "external_cancel_dt": "2026-11-30T18:00:00Z",
    }
    patched = api.patch(uri, json=patch, headers=staff)
    assert patched.status_code == 201, patched.text
    member = patched.json()
    assert (member["external_membership_type"], member["external_membership_status"]) == (
        "NEW_TYPE",
        "ACTIVE",
    )
    assert member["home_location"] == "/v2/locations/11/"
    assert member["external_cancel_dt"] == "2026-11-30T18:00:00+00:00"
    conn = _get(api, "/v2/connections/3001/", staff)
    assert conn["external_membership_type"] == "NEW_TYPE"
    assert conn["external_membership_status"] == "ACTIVE"
    assert conn["external_cancel_dt"] == "2026-11-30T18:00:00+00:00"
    for bad in ({"external_member_id": "9"}, {"external_membership_status": "LAPSED"}, {}):
        assert_api_error(api.patch(uri, json=bad, headers=staff), 400, "invalid_request_error")
    assert api.delete(uri, headers=staff).status_code == 501  # "You can't delete this resource"


def test_lists_take_the_references_filters(api: TestClient, staff: dict[str, str]) -> None:
    """Required Filters, the reference's "Examples of VALID requests" and "Examples of INVALID
    requests" (with the demo's ids): "either a business filter, user filter, or both", no "IN"
    on business; external_member_id: "When filtering on this attribute, external_system_id is
    REQUIRED"."""
    made = _create(api, staff).json()
    _create(api, staff, external_system_id="OTHER_SOFTWARE")
    valid = [
        "?business=4",
        f"?business=4&user={MAYA}",
        f"?business=4&user__in=1003,{MAYA}",
        f"?user={MAYA}",
        f"?user__in=1003,{MAYA}",
        f"?user__emails__email={MEMBER_EMAIL}",
        "?business=4&external_system_id=EXAMPLE_SOFTWARE",
        "?business=4&external_system_id=EXAMPLE_SOFTWARE&external_member_id=1111111",
    ]
    for query in valid:
        found = _get(api, f"{COLLECTION}{query}", staff)["objects"]
        expected = 1 if "EXAMPLE_SOFTWARE" in query else 2
        assert len(found) == expected and made in found, query
    invalid = [
        "",
        "?business__in=4,5",
        f"?business__in=4,5&user={MAYA}",
        f"?business__in=4,5&user__emails__email={MEMBER_EMAIL}",
        "?external_member_id=1111111",
        "?&external_system_id=EXAMPLE_SOFTWARE&external_member_id=1111111",
        "?business=4&external_member_id=1111111",
    ]
    for query in invalid:
        refused = api.get(f"{COLLECTION}{query}", headers=staff)
        assert_api_error(refused, 400, "invalid_request_error")


def test_only_admin_staff_with_admin_customer_info(api: TestClient, staff: dict[str, str]) -> None:
    """Required scopes: "ADMIN_CUSTOMER_INFO" (no other); ADMIN_CUSTOMER_INFO reaches "those
    Connections which belong to the Business which the User associated with the access token
    is an ADMIN staff member", and so their external members."""
    uri = _create(api, staff).json()["resource_uri"]
    only_info = bearer(admin_token(api, scope="ADMIN_CUSTOMER_INFO"))
    assert _get(api, uri, only_info)["resource_uri"] == uri
    no_info = bearer(admin_token(api, scope="PUBLIC ADMIN_CUSTOMER_GRANT_POINTS"))
    assert_api_error(api.get(uri, headers=no_info), 403, "authorization_error")
    member = bearer(member_token(api))
    assert_api_error(api.get(f"{COLLECTION}?user=1001", headers=member), 403, "authorization_error")
    elsewhere = _create(api, staff, business="/v2/businesses/5/", user_email="alex@example.com")
    assert_api_error(elsewhere, 403, "authorization_error", field="business")


def test_a_batch_creates_or_updates_each_member_in_order(
    api: TestClient, staff: dict[str, str]
) -> None:
    """External Member Batch: "If an external member already exists, we'll update the record. If
    no external member detail exists for the provided external_member_id and
    external_system_id, we'll create the record"; "Results will be returned in the order they
    were given"; its example's second item, with no user_email, is `"errors": {"user_email":
    ["This field is required."]}`."""
    example = {
        "home_location": "12",
        "external_member_id": "1111111",
        "external_system_id": "EXAMPLE_SOFTWARE",
        "external_join_dt": "2018-05-02 12:35:00",
    }
    items = [
        {**example, "user_email": MEMBER_EMAIL},
        {**example, "external_member_id": "222222"},
        {
            "external_member_id": "1111111",
            "external_system_id": "EXAMPLE_SOFTWARE",
            "external_membership_status": "ACTIVE",
            "external_membership_type": "Basic",
        },
        {**example, "home_location": "/v2/locations/12/"},  # a URI, not an id
    ]
    answer = api.post(BATCH, json={"business": "4", "external_members": items}, headers=staff)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["business"] == "4"
    created, missing, updated, uri = body["external_members"]
    assert created == {
        "external_membership_status": None,
        "user_id": MAYA,
        "resource_id": created["resource_id"],
        "external_join_dt": "2018-05-02T12:35:00Z",
        "external_member_id": "1111111",
        "external_system_id": "EXAMPLE_SOFTWARE",
        "external_cancel_dt": None,
        "connection_id": 3001,
        "home_location_id": 12,
        "external_membership_type": None,
    }
    assert missing == {
        "error_type": "invalid_request_error",
        "errors": {"user_email": ["This field is required."]},
    }
    assert updated["resource_id"] == created["resource_id"]
    assert (updated["external_membership_status"], updated["home_location_id"]) == ("ACTIVE", 12)
    assert set(uri) == {"error_type", "errors"} and "home_location" in uri["errors"]
    for item in body["external_members"]:
        assert set(item) <= REFERENCE_FIELDS["batch/external-members"]
    query = "?business=4&external_system_id=EXAMPLE_SOFTWARE"
    assert len(_get(api, f"{COLLECTION}{query}", staff)["objects"]) == 1  # not 222222
    assert _get(api, "/v2/connections/3001/", staff)["external_membership_type"] == "Basic"


def test_a_batch_takes_at_most_50_and_cannot_be_read(
    api: TestClient, staff: dict[str, str]
) -> None:
    """ "Limit of 50 can be posted at a time"; "GET: You can't read from this resource."."""
    items = [
        {"external_member_id": str(i), "external_system_id": "DESK", "user_email": MEMBER_EMAIL}
        for i in range(51)
    ]
    too_many = api.post(BATCH, json={"business": 4, "external_members": items}, headers=staff)
    assert_api_error(too_many, 400, "invalid_request_error", field="external_members")
    assert _get(api, f"{COLLECTION}?business=4", staff)["objects"] == []
    fifty = api.post(BATCH, json={"business": 4, "external_members": items[:50]}, headers=staff)
    assert fifty.status_code == 200 and len(fifty.json()["external_members"]) == 50
    assert len(_get(api, f"{COLLECTION}?business=4&limit=100", staff)["objects"]) == 50
    assert_api_error(api.get(BATCH, headers=staff), 501, "invalid_request_error")


def test_transactions_name_members_by_their_external_member_records(
    api: TestClient, staff: dict[str, str]
) -> None:
    """Transaction POST: "if the external member ID and external system IDs are present, we'll
    look up the User"; "If the external_member_id does not already exist, then it will become
    associated with user/user_email passed into the request" (an External Member record)."""
    _create(api, staff, external_system_id="DESK", external_member_id="M-7")
    earn = {
        "business": "/v2/businesses/4/",
        "location": "/v2/locations/11/",
        "perk": "/v2/perks/102/",
        "quantity": 1,
    }
    by_ids = {**earn, "external_system_id": "DESK", "external_member_id": "M-7"}
    made = api.post("/v2/transactions/", json=by_ids, headers=staff)
    assert made.status_code == 201 and made.json()["user"] == f"/v2/users/{MAYA}/", made.text
    linking = {
        **earn,
        "external_system_id": "POS",
        "external_member_id": "P-1",
        "user_email": "new.member@example.org",
    }
    assert api.post("/v2/transactions/", json=linking, headers=staff).status_code == 201
    query = f"{COLLECTION}?business=4&external_system_id=POS&external_member_id=P-1"
    (linked,) = _get(api, query, staff)["objects"]
    assert linked["external_membership_status"] is None
    # A reward for someone who is nobody's customer yet: refused, so no user, no association.
    refused = {
        **linking,
        "external_member_id": "P-2",
        "user_email": "other@example.org",
        "perk": "/v2/perks/205/",
    }
    assert api.post("/v2/transactions/", json=refused, headers=staff).status_code == 400
    assert _get(api, f"{COLLECTION}?business=4&external_system_id=POS", staff)["objects"] == [
        linked
    ]
    assert _get(api, "/v2/users/?emails__email=other@example.org", staff)["objects"] == []
