"""The sandbox's v2 resources, checked over HTTP against the reference (Accessing Endpoints,
Filtering, Pagination, Handling Errors, Business, Connection, Level, Location, Scope, User)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.sandbox_helpers import (
    admin_token,
    assert_api_error,
    bearer,
    member_token,
)

Headers = dict[str, str]

DATETIME_FIELDS = {
    "external_cancel_dt",
    "external_join_dt",
    "rewards_program_join_dt",
    "last_mod_dt",
    "last_transaction_dt",
}


@pytest.fixture
def member(sandbox_client: TestClient) -> Headers:
    """Maya (user 1001), through the PKCE flow with every scope the demo app may ask for."""
    return bearer(member_token(sandbox_client))


@pytest.fixture
def admin(sandbox_client: TestClient) -> Headers:
    """Sam (user 1002, ADMIN staff of business 4), through the password grant."""
    return bearer(admin_token(sandbox_client))


def get_ok(client: TestClient, url: str, headers: Headers) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def get_list(client: TestClient, url: str, headers: Headers) -> dict[str, Any]:
    """A list response: checks the reference's list body and every object's resource_uri."""
    body: dict[str, Any] = get_ok(client, url, headers)
    assert set(body) == {"meta", "objects"}
    assert set(body["meta"]) == {"limit", "offset", "next", "previous", "total_count"}
    assert isinstance(body["objects"], list)
    assert len(body["objects"]) <= body["meta"]["limit"]
    return body


def ids(body: dict[str, Any], key: str) -> list[Any]:
    return [obj[key] for obj in body["objects"]]


def assert_iso_datetimes(obj: dict[str, Any]) -> None:
    """Every datetime is ISO 8601 with an explicit UTC offset (or null)."""
    for name in DATETIME_FIELDS & set(obj):
        value = obj[name]
        if value is None:
            continue
        parsed = datetime.fromisoformat(value)
        assert parsed.utcoffset() is not None, f"{name}={value!r} has no offset"
        assert value.endswith("+00:00"), value


# --- authentication and errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic Zm9vOmJhcg=="}],
)
def test_no_token_is_401_oauth_error_with_a_challenge(
    sandbox_client: TestClient, headers: Headers
) -> None:
    response = sandbox_client.get("/v2/businesses/4/", headers=headers)
    assert_api_error(response, 401, "oauth_error", field="__all__")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_token_is_401(sandbox_client: TestClient) -> None:
    response = sandbox_client.get("/v2/users/me/", headers=bearer("NotARealToken000000000000000"))
    assert_api_error(response, 401, "oauth_error", field="__all__", code="invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_id_is_404_with_an_error_body(sandbox_client: TestClient, admin: Headers) -> None:
    for url in ("/v2/businesses/999/", "/v2/businesses/abc/", "/v2/levels/999/"):
        response = sandbox_client.get(url, headers=admin)
        assert_api_error(response, 404, "invalid_request_error", field="__all__", code="not_found")
    # An unknown resource too.
    response = sandbox_client.get("/v2/no-such-thing/", headers=admin)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsupported_methods_are_501_with_an_error_body(
    sandbox_client: TestClient, admin: Headers, method: str
) -> None:
    urls = ["/v2/businesses/4/", "/v2/businesses/", "/v2/scopes/"]
    if method != "PATCH":  # connections take PATCH (joining): see test_sandbox_community
        urls.append("/v2/connections/3001/")
    for url in urls:
        response = sandbox_client.request(method, url, headers=admin, json={"name": "x"})
        assert_api_error(
            response, 501, "invalid_request_error", field="__all__", code="method_not_implemented"
        )


def test_a_verb_no_route_knows_is_501_too(sandbox_client: TestClient, admin: Headers) -> None:
    response = sandbox_client.request("OPTIONS", "/v2/businesses/4/", headers=admin)
    assert_api_error(response, 501, "invalid_request_error", code="method_not_implemented")


def test_head_answers_like_get(sandbox_client: TestClient, member: Headers) -> None:
    for url in ("/v2/businesses/4/", "/v2/levels/?business=4", "/v2/scopes/"):
        response = sandbox_client.head(url, headers=member)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("application/json")


# --- users ---------------------------------------------------------------------------------------


def test_member_sees_herself_at_users_me(sandbox_client: TestClient, member: Headers) -> None:
    me = get_ok(sandbox_client, "/v2/users/me/", member)
    assert me["user_id"] == 1001
    assert me["first_name"] == "Maya"
    assert me["last_name"] == "Lopez"
    assert me["emails"] == [{"email": "member@example.com", "primary": True}]
    assert me["connections"] == ["/v2/connections/3001/"]
    assert me["resource_uri"] == "/v2/users/1001/"
    assert me["birthday"] == "1990-04-23"
    assert_iso_datetimes(me)
    assert get_ok(sandbox_client, me["resource_uri"], member) == me


def test_member_cannot_see_another_user(sandbox_client: TestClient, member: Headers) -> None:
    for user_id in (1002, 1003, 1004):
        response = sandbox_client.get(f"/v2/users/{user_id}/", headers=member)
        assert_api_error(response, 404, "invalid_request_error", code="not_found")
    body = get_list(sandbox_client, "/v2/users/", member)
    assert ids(body, "user_id") == [1001]
    assert body["meta"]["total_count"] == 1


def test_admin_sees_the_customers_of_their_business_only(
    sandbox_client: TestClient, admin: Headers
) -> None:
    body = get_list(sandbox_client, "/v2/users/", admin)
    assert ids(body, "user_id") == [1001, 1003, 1005]  # Maya, Jordan, Riley
    for obj in body["objects"]:
        assert obj["resource_uri"] == f"/v2/users/{obj['user_id']}/"
        assert_iso_datetimes(obj)
    assert get_ok(sandbox_client, "/v2/users/1003/", admin)["first_name"] == "Jordan"
    # Alex is a customer of Harbor Yoga (business 5) only.
    response = sandbox_client.get("/v2/users/1004/", headers=admin)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")
    # The admin is staff, not a customer, yet /v2/users/me/ is "the User which belongs to the
    # Bearer Token" (reference, User): their own record (test_sandbox_reference.py).
    assert get_ok(sandbox_client, "/v2/users/me/", admin)["user_id"] == 1002
    response = sandbox_client.get("/v2/users/1002/", headers=admin)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")


def test_users_filter_by_email_and_last_mod_dt(sandbox_client: TestClient, admin: Headers) -> None:
    body = get_list(sandbox_client, "/v2/users/?emails__email=Pending@Example.com", admin)
    assert ids(body, "user_id") == [1003]
    body = get_list(sandbox_client, "/v2/users/?last_mod_dt__gte=2026-02-01T00:00:00Z", admin)
    assert ids(body, "user_id") == [1003, 1005]
    body = get_list(sandbox_client, "/v2/users/?last_mod_dt__gte=2026-10-01T00:00:00Z", admin)
    assert ids(body, "user_id") == [1005]


# --- connections --------------------------------------------------------------------------------


def test_connections_need_a_business_or_user_filter(
    sandbox_client: TestClient, admin: Headers
) -> None:
    for url in ("/v2/connections/", "/v2/connections/?status=ACTIVE", "/v2/connections/?limit=5"):
        response = sandbox_client.get(url, headers=admin)
        assert_api_error(response, 400, "invalid_request_error", field="__all__", code="required")


@pytest.mark.parametrize(
    "query",
    ["business__in=4,5", "business__in=4&user=1001", "business__in=4,5&user__emails__email=x@y.z"],
)
def test_connections_refuse_business_in(
    sandbox_client: TestClient, admin: Headers, query: str
) -> None:
    response = sandbox_client.get(f"/v2/connections/?{query}", headers=admin)
    assert_api_error(response, 400, "invalid_request_error", field="business__in")


def test_member_sees_only_her_own_connection(sandbox_client: TestClient, member: Headers) -> None:
    for query in ("user=me", "user=1001", "business=4", "user__in=1001,1003"):
        body = get_list(sandbox_client, f"/v2/connections/?{query}", member)
        assert ids(body, "connection_id") == [3001], query
    conn = body["objects"][0]
    assert conn["user"] == "/v2/users/1001/"
    assert conn["business"] == "/v2/businesses/4/"
    assert conn["point_balance"] == 1250
    assert conn["level"] == "/v2/levels/22/"
    assert conn["resource_uri"] == "/v2/connections/3001/"
    assert conn["external_cancel_dt"] is None
    assert_iso_datetimes(conn)
    assert get_ok(sandbox_client, conn["resource_uri"], member) == conn
    # Jordan's connection at the same business is out of reach.
    response = sandbox_client.get("/v2/connections/3003/", headers=member)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")


def test_admin_sees_the_connections_of_their_business_only(
    sandbox_client: TestClient, admin: Headers
) -> None:
    body = get_list(sandbox_client, "/v2/connections/?business=4", admin)
    assert ids(body, "connection_id") == [3001, 3003, 3005]
    assert body["meta"]["total_count"] == 3
    assert get_list(sandbox_client, "/v2/connections/?business=5", admin)["objects"] == []
    assert ids(get_list(sandbox_client, "/v2/connections/?user=1004", admin), "connection_id") == []
    response = sandbox_client.get("/v2/connections/3004/", headers=admin)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")
    # The admin is not a customer anywhere: "me" finds nothing.
    assert get_list(sandbox_client, "/v2/connections/?user=me", admin)["objects"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("business=4&user=1001", [3001]),
        ("business=4&user__in=1001,1003", [3001, 3003]),
        ("user__in=1003", [3003]),
        ("business=4&point_balance__gte=1250", [3001]),
        ("business=4&point_balance__gt=1250", []),
        ("business=4&point_balance__lte=500", [3003, 3005]),
        ("business=4&point_balance__lt=120", [3005]),
        ("business=4&point_balance__lt=80", []),
        ("business=4&status=PENDING", [3003]),
        ("business=4&status__in=ACTIVE,IMPORTED", [3001, 3005]),
        ("business=4&status=active", [3001, 3005]),  # string filters ignore case
        ("user__emails__email=pending@example.com", [3003]),
        ("business=4&last_mod_dt__gte=2026-10-20T00:00:00Z", [3001]),
        ("business=4&last_mod_dt__gte=2026-10-20T00:00:00%2B00:00", [3001]),
        ("business=4&last_mod_dt__lt=2026-10-20%2000%3A00Z", [3003, 3005]),  # the reference's form
        ("business=4&last_mod_dt__lte=2026-10-15T10:00:00-07:00", [3003, 3005]),  # 17:00 UTC
        ("business=4&last_mod_dt__lt=2026-10-15T10:00:00-07:00", [3005]),
        ("business=4&last_transaction_dt__gte=2026-11-01", [3001, 3005]),
        ("business=4&last_transaction_dt__lt=2026-11-01", [3003]),
        ("business=4&connection_id__in=3001,3004", [3001]),
    ],
)
def test_connection_filters(
    sandbox_client: TestClient, admin: Headers, query: str, expected: list[int]
) -> None:
    body = get_list(sandbox_client, f"/v2/connections/?{query}", admin)
    assert ids(body, "connection_id") == expected
    assert body["meta"]["total_count"] == len(expected)


def test_a_null_field_matches_no_filter(
    sandbox: Starlette, sandbox_client: TestClient, admin: Headers
) -> None:
    sandbox.state.store.connections[3003].last_transaction_dt = None
    for query in ("last_transaction_dt__lt=2026-11-01", "last_transaction_dt__gte=2000-01-01"):
        body = get_list(sandbox_client, f"/v2/connections/?business=4&{query}", admin)
        assert 3003 not in ids(body, "connection_id"), query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("business=4&nickname=x", "nickname"),
        ("business=4&point_balance__startswith=1", "point_balance__startswith"),
        ("business=4&order_by=point_balance", "order_by"),
    ],
)
def test_unknown_filter_field_is_400(
    sandbox_client: TestClient, admin: Headers, query: str, field: str
) -> None:
    response = sandbox_client.get(f"/v2/connections/?{query}", headers=admin)
    assert_api_error(response, 400, "invalid_request_error", field=field, code="invalid_filter")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("business=four", "business"),
        ("business=4&point_balance__gte=lots", "point_balance__gte"),
        ("business=4&user__in=1001,x", "user__in"),
        ("business=4&last_mod_dt__gte=yesterday", "last_mod_dt__gte"),
        ("business=4&user=", "user"),
    ],
)
def test_bad_filter_value_is_400(
    sandbox_client: TestClient, admin: Headers, query: str, field: str
) -> None:
    response = sandbox_client.get(f"/v2/connections/?{query}", headers=admin)
    assert_api_error(response, 400, "invalid_request_error", field=field, code="invalid")


# --- pagination ---------------------------------------------------------------------------------


def test_pagination_links_walk_the_whole_list(sandbox_client: TestClient, member: Headers) -> None:
    first = get_list(sandbox_client, "/v2/locations/?limit=3", member)
    assert first["meta"]["limit"] == 3
    assert first["meta"]["offset"] == 0
    assert first["meta"]["total_count"] == 4
    assert first["meta"]["previous"] is None
    assert ids(first, "location_id") == [11, 12, 13]  # primary-key order

    second = get_list(sandbox_client, first["meta"]["next"], member)
    assert second["meta"]["offset"] == 3
    assert ids(second, "location_id") == [51]
    assert second["meta"]["next"] is None

    back = get_list(sandbox_client, second["meta"]["previous"], member)
    assert back == first


def test_pagination_keeps_the_filters(sandbox_client: TestClient, admin: Headers) -> None:
    page = get_list(sandbox_client, "/v2/connections/?business=4&limit=2", admin)
    assert ids(page, "connection_id") == [3001, 3003]
    assert page["meta"]["total_count"] == 3
    nxt = get_list(sandbox_client, page["meta"]["next"], admin)
    assert ids(nxt, "connection_id") == [3005]
    assert nxt["meta"]["next"] is None


def test_default_limit_is_20_and_offset_skips(sandbox_client: TestClient, member: Headers) -> None:
    body = get_list(sandbox_client, "/v2/locations/", member)
    assert body["meta"]["limit"] == 20
    assert body["meta"]["next"] is None
    skipped = get_list(sandbox_client, "/v2/locations/?offset=2", member)
    assert ids(skipped, "location_id") == [13, 51]
    assert skipped["meta"]["previous"] is not None
    beyond = get_list(sandbox_client, "/v2/locations/?offset=10", member)
    assert beyond["objects"] == []
    assert beyond["meta"]["total_count"] == 4


@pytest.mark.parametrize("limit", ["500", "101", "0"])
def test_large_or_zero_limit_is_clamped_to_100(
    sandbox_client: TestClient, member: Headers, limit: str
) -> None:
    body = get_list(sandbox_client, f"/v2/locations/?limit={limit}", member)
    assert body["meta"]["limit"] == 100
    assert len(body["objects"]) == 4


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "limit=2.5", "offset=-3", "offset=x"])
def test_bad_pagination_parameters_are_400(
    sandbox_client: TestClient, member: Headers, query: str
) -> None:
    response = sandbox_client.get(f"/v2/locations/?{query}", headers=member)
    field = query.split("=")[0]
    assert_api_error(response, 400, "invalid_request_error", field=field, code="invalid")


# --- businesses, levels, locations -------------------------------------------------------------


def test_business_4_is_summit_fitness_with_a_logo_that_serves(
    sandbox_client: TestClient, member: Headers
) -> None:
    biz = get_ok(sandbox_client, "/v2/businesses/4/", member)
    assert biz["business_id"] == 4
    assert biz["name"] == "Summit Fitness"
    assert biz["rewards_program_name"] == "Summit Rewards"
    assert biz["brand_color"] == "#0F766E"
    assert biz["brand_secondary_color"] == "#F59E0B"
    assert biz["resource_uri"] == "/v2/businesses/4/"
    assert biz["locations"] == ["/v2/locations/11/", "/v2/locations/12/", "/v2/locations/13/"]
    assert biz["categories"][0]["resource_uri"] == "/v2/categories/12/"
    assert biz["fine_print"]
    logo = sandbox_client.get(biz["logo_url"])  # an absolute URL on the sandbox, no token
    assert biz["logo_url"].startswith("http://sandbox.test/")
    assert logo.status_code == 200
    assert logo.headers["content-type"].startswith("image/svg+xml")
    assert logo.text.startswith("<svg")

    other = get_ok(sandbox_client, "/v2/businesses/5/", member)
    assert other["name"] == "Harbor Yoga"
    assert other["logo_url"] is None
    assert sandbox_client.get("/media/businesses/5/logo.svg").status_code == 404


def test_businesses_list(sandbox_client: TestClient, member: Headers) -> None:
    body = get_list(sandbox_client, "/v2/businesses/", member)
    assert ids(body, "business_id") == [4, 5]
    one = get_list(sandbox_client, "/v2/businesses/?business_id=5", member)
    assert ids(one, "business_id") == [5]


def test_levels_filtered_by_business(sandbox_client: TestClient, member: Headers) -> None:
    body = get_list(sandbox_client, "/v2/levels/?business=4", member)
    assert [(lv["name"], lv["point_floor"]) for lv in body["objects"]] == [
        ("Bronze", 0),
        ("Silver", 750),
        ("Gold", 2500),
    ]
    for level in body["objects"]:
        assert level["resource_uri"] == f"/v2/levels/{level['level_id']}/"
        assert level["business"] == "/v2/businesses/4/"
        badge = sandbox_client.get(level["badge_url"])
        assert badge.status_code == 200
        assert badge.headers["content-type"].startswith("image/svg+xml")
    assert get_list(sandbox_client, "/v2/levels/?business=5", member)["objects"] == []
    reachable = get_list(sandbox_client, "/v2/levels/?business=4&point_floor__lte=1250", member)
    assert ids(reachable, "level_id") == [21, 22]


def test_locations_filtered_by_business(sandbox_client: TestClient, member: Headers) -> None:
    body = get_list(sandbox_client, "/v2/locations/?business=4", member)
    assert ids(body, "location_id") == [11, 12, 13]
    for loc in body["objects"]:
        assert loc["business"] == "/v2/businesses/4/"
        assert loc["resource_uri"] == f"/v2/locations/{loc['location_id']}/"
        assert get_ok(sandbox_client, loc["resource_uri"], member) == loc
    harbor = get_list(sandbox_client, "/v2/locations/?business=5", member)
    assert ids(harbor, "location_id") == [51]
    by_external = get_list(sandbox_client, "/v2/locations/?external_location_id=SF-RV", member)
    assert ids(by_external, "location_id") == [12]


# --- scopes -------------------------------------------------------------------------------------


def scope_names(client: TestClient, url: str, headers: Headers) -> list[str]:
    """/v2/scopes/ answers the objects themselves, as the reference's example shows them."""
    body = get_ok(client, url, headers)
    assert isinstance(body, list)
    assert all(set(obj) == {"scope"} for obj in body)  # no id, no resource_uri
    return [obj["scope"] for obj in body]


def test_scopes_lists_the_tokens_scopes(sandbox_client: TestClient, member: Headers) -> None:
    assert scope_names(sandbox_client, "/v2/scopes/", member) == [
        "PUBLIC",
        "USER_CUSTOMER_INFO",
        "USER_REDEEM",
        "USER_REFERRAL",
    ]


def test_scopes_of_a_narrowed_admin_token(sandbox_client: TestClient) -> None:
    headers = bearer(admin_token(sandbox_client, scope="PUBLIC ADMIN_CUSTOMER_INFO"))
    names = scope_names(sandbox_client, "/v2/scopes/", headers)
    assert names == ["ADMIN_CUSTOMER_INFO", "PUBLIC"]
    assert scope_names(sandbox_client, "/v2/scopes/?scope=PUBLIC", headers) == ["PUBLIC"]
    response = sandbox_client.get("/v2/scopes/?nonsense=1", headers=headers)
    assert_api_error(response, 400, "invalid_request_error", field="nonsense")


def test_a_public_only_token_is_forbidden_customer_data_but_reads_public_data(
    sandbox_client: TestClient,
) -> None:
    headers = bearer(member_token(sandbox_client, scope="PUBLIC"))
    for url in ("/v2/connections/?user=me", "/v2/users/me/", "/v2/connections/3001/"):
        response = sandbox_client.get(url, headers=headers)
        assert_api_error(
            response, 403, "authorization_error", field="__all__", code="insufficient_scope"
        )
    assert get_ok(sandbox_client, "/v2/businesses/4/", headers)["name"] == "Summit Fitness"
    assert get_list(sandbox_client, "/v2/levels/?business=4", headers)["meta"]["total_count"] == 3
    assert scope_names(sandbox_client, "/v2/scopes/", headers) == ["PUBLIC"]


def test_a_token_without_public_is_forbidden_public_data(sandbox_client: TestClient) -> None:
    headers = bearer(admin_token(sandbox_client, scope="ADMIN_CUSTOMER_INFO"))
    response = sandbox_client.get("/v2/businesses/4/", headers=headers)
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    # /v2/scopes/ needs no scope at all (reference, Scope: "Restrictions: None").
    assert scope_names(sandbox_client, "/v2/scopes/", headers) == ["ADMIN_CUSTOMER_INFO"]


def test_unauthenticated_requests_are_401_before_anything_else(
    sandbox_client: TestClient,
) -> None:
    response: httpx2.Response = sandbox_client.post("/v2/businesses/4/")
    assert_api_error(response, 401, "oauth_error")
    response = sandbox_client.get("/v2/connections/")  # missing required filter, too
    assert_api_error(response, 401, "oauth_error")
    response = sandbox_client.get("/v2/locations/?limit=-1&nonsense=1")
    assert_api_error(response, 401, "oauth_error")
