"""The sandbox's Identify User Flow against the API reference ("Identify Token", Steps 1-3),
and the sign-out page's way back to a registered app."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.sandbox import demo_store
from member_app.sandbox.records import Staff, User

from .helpers import APP_URL, FakeClock, visible_text
from .sandbox_helpers import (
    ADMIN_CLIENT_ID,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    admin_token,
    assert_api_error,
    bearer,
    member_token,
    password_grant,
    query_of,
    sign_in,
)

IDENTIFY_CALLBACK = f"{APP_URL}/auth/identify/callback"
ALEX_EMAIL = "alex@example.com"  # connected to business 5 only


def request_token(
    client: TestClient,
    token: str,
    *,
    redirect_uri: str = IDENTIFY_CALLBACK,
    state: str = "state-42",
    path: str = "/api/identify/",
) -> str:
    response = client.post(
        path, data={"redirect_uri": redirect_uri, "state": state}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["identify_token"])


def sign_in_as(client: TestClient, email: str, password: str = MEMBER_PASSWORD) -> None:
    response = sign_in(client, "/login/?next=/", email, password)
    assert response.status_code == 303, response.text


def visit(client: TestClient, identify_token: str, business_id: int = 4) -> str:
    """A signed-in browser follows the identify link; returns where it is sent."""
    response = client.get(f"/biz/{business_id}/identify", params={"token": identify_token})
    assert response.status_code in {302, 303}, response.text
    return str(response.headers["location"])


def assert_error_page(client: TestClient, location: str, business_id: int = 4) -> None:
    assert location == f"/biz/{business_id}/?identify_error=1"
    page = client.get(location)
    assert page.status_code == 200
    assert "We couldn't confirm who you are" in visible_text(page.text)


def users_by_code(client: TestClient, token: str, code: str) -> list[dict[str, object]]:
    response = client.get("/v2/users/", params={"code": code}, headers=bearer(token))
    assert response.status_code == 200, response.text
    objects: list[dict[str, object]] = response.json()["objects"]
    return objects


@pytest.fixture
def admin(sandbox_client: TestClient) -> str:
    return admin_token(sandbox_client)


# --- step 1: POST /api/identify/ -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/identify/", "/v2/identify/"])
def test_identify_token_is_created_with_its_expiry(
    sandbox_client: TestClient, admin: str, path: str
) -> None:
    response = sandbox_client.post(
        path,
        data={"redirect_uri": IDENTIFY_CALLBACK, "state": "s"},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"expire_datetime", "identify_token"}
    assert len(body["identify_token"]) == 30 and body["identify_token"].isalnum()
    # The seed's "now" is 2026-11-22 18:00 UTC; the token lives 30 minutes.
    assert body["expire_datetime"] == "2026-11-22T18:30:00.000Z"


def test_identify_token_needs_a_bearer_token(sandbox_client: TestClient) -> None:
    data = {"redirect_uri": IDENTIFY_CALLBACK, "state": "s"}
    assert_api_error(sandbox_client.post("/api/identify/", data=data), 401, "oauth_error")
    response = sandbox_client.post("/api/identify/", data=data, headers=bearer("nope"))
    assert_api_error(response, 401, "oauth_error")


def test_identify_token_needs_the_identify_scope(sandbox_client: TestClient) -> None:
    narrow = admin_token(sandbox_client, scope="PUBLIC ADMIN_CUSTOMER_INFO")
    data = {"redirect_uri": IDENTIFY_CALLBACK, "state": "s"}
    response = sandbox_client.post("/api/identify/", data=data, headers=bearer(narrow))
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    sandbox_client.cookies.clear()
    member = member_token(sandbox_client)
    response = sandbox_client.post("/api/identify/", data=data, headers=bearer(member))
    assert_api_error(response, 403, "authorization_error")


def test_identify_token_refuses_a_json_body(sandbox_client: TestClient, admin: str) -> None:
    response = sandbox_client.post(
        "/api/identify/",
        json={"redirect_uri": IDENTIFY_CALLBACK, "state": "s"},
        headers=bearer(admin),
    )
    assert_api_error(response, 400, "oauth_error", code="invalid_request")


@pytest.mark.parametrize("missing", ["redirect_uri", "state"])
def test_redirect_uri_and_state_are_both_required(
    sandbox_client: TestClient, admin: str, missing: str
) -> None:
    data = {"redirect_uri": IDENTIFY_CALLBACK, "state": "s"}
    del data[missing]
    response = sandbox_client.post("/api/identify/", data=data, headers=bearer(admin))
    assert_api_error(response, 400, "invalid_request_error", field=missing, code="required")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        f"{APP_URL}/auth/callback",  # the demo client's, not the admin client's
        f"{IDENTIFY_CALLBACK}/",
        "https://evil.example/auth/identify/callback",
    ],
)
def test_redirect_uri_must_be_registered_for_the_tokens_client(
    sandbox_client: TestClient, admin: str, redirect_uri: str
) -> None:
    response = sandbox_client.post(
        "/api/identify/",
        data={"redirect_uri": redirect_uri, "state": "s"},
        headers=bearer(admin),
    )
    assert_api_error(response, 400, "invalid_request_error", field="redirect_uri")


def test_identify_token_cannot_be_read(sandbox_client: TestClient, admin: str) -> None:
    response = sandbox_client.get("/v2/identify/", headers=bearer(admin))
    assert_api_error(response, 501, "invalid_request_error", code="method_not_implemented")


def test_admin_client_gets_an_identify_callback_per_demo_callback() -> None:
    store = demo_store(["http://a.test/auth/callback", "http://b.test:9000/auth/callback"])
    assert store.clients[ADMIN_CLIENT_ID].redirect_uris == [
        "http://a.test/auth/identify/callback",
        "http://b.test:9000/auth/identify/callback",
    ]


# --- step 2: /biz/{id}/identify ---------------------------------------------------------------


def test_the_whole_flow_identifies_the_signed_in_member(
    sandbox_client: TestClient, admin: str
) -> None:
    identify_token = request_token(sandbox_client, admin, state="xyz987")
    response = sandbox_client.get("/biz/4/identify", params={"token": identify_token})
    # Signed out: the sign-in page first, then back here.
    assert response.status_code == 303
    login_url = response.headers["location"]
    assert query_of(login_url) == {"next": f"/biz/4/identify?token={identify_token}"}
    signed_in = sign_in(sandbox_client, login_url, MEMBER_EMAIL, MEMBER_PASSWORD)
    assert signed_in.status_code == 303
    response = sandbox_client.get(signed_in.headers["location"])
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{IDENTIFY_CALLBACK}?")
    query = query_of(location)
    assert set(query) == {"code", "state"} and query["state"] == "xyz987"

    objects = users_by_code(sandbox_client, admin, query["code"])
    assert [o["user_id"] for o in objects] == [1001]
    assert objects[0]["emails"] == [{"email": MEMBER_EMAIL, "primary": True}]
    assert "code" not in objects[0]


def test_identify_token_is_single_use(sandbox_client: TestClient, admin: str) -> None:
    identify_token = request_token(sandbox_client, admin)
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    assert visit(sandbox_client, identify_token).startswith(f"{IDENTIFY_CALLBACK}?")
    assert_error_page(sandbox_client, visit(sandbox_client, identify_token))


def test_unknown_or_missing_token_shows_the_error_page(sandbox_client: TestClient) -> None:
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    assert_error_page(sandbox_client, visit(sandbox_client, "not-a-token"))
    response = sandbox_client.get("/biz/4/identify")
    assert_error_page(sandbox_client, response.headers["location"])


@pytest.mark.parametrize(("seconds", "ok"), [(30 * 60 - 1, True), (30 * 60, False)])
def test_identify_token_expires_after_30_minutes(
    sandbox_client: TestClient, admin: str, clock: FakeClock, seconds: int, ok: bool
) -> None:
    identify_token = request_token(sandbox_client, admin)
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    clock.advance(seconds)
    location = visit(sandbox_client, identify_token)
    if ok:
        assert location.startswith(f"{IDENTIFY_CALLBACK}?")
    else:
        assert_error_page(sandbox_client, location)


def test_member_not_connected_to_the_business_gets_the_error_page(
    sandbox_client: TestClient, admin: str
) -> None:
    identify_token = request_token(sandbox_client, admin)
    sign_in_as(sandbox_client, ALEX_EMAIL)  # a Harbor Yoga (5) customer only
    location = visit(sandbox_client, identify_token)
    assert_error_page(sandbox_client, location)
    assert IDENTIFY_CALLBACK not in location


def test_token_owner_must_be_admin_at_this_business(sandbox_client: TestClient, admin: str) -> None:
    # Alex is connected to Harbor Yoga (5), where Sam (the token's owner) is not staff.
    identify_token = request_token(sandbox_client, admin)
    sign_in_as(sandbox_client, ALEX_EMAIL)
    assert_error_page(sandbox_client, visit(sandbox_client, identify_token, 5), 5)


def test_token_owner_with_a_non_admin_role_gets_the_error_page(
    sandbox: Starlette, sandbox_client: TestClient, admin: str
) -> None:
    identify_token = request_token(sandbox_client, admin)
    sandbox.state.store.staff[7001].staff_role = "FRONT_DESK"
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    assert_error_page(sandbox_client, visit(sandbox_client, identify_token))


def test_a_revoked_bearer_token_invalidates_its_identify_tokens(
    sandbox: Starlette, sandbox_client: TestClient, admin: str
) -> None:
    identify_token = request_token(sandbox_client, admin)
    del sandbox.state.store.tokens[admin]
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    assert_error_page(sandbox_client, visit(sandbox_client, identify_token))


def test_unknown_business_is_not_found(sandbox_client: TestClient) -> None:
    assert sandbox_client.get("/biz/999/identify", params={"token": "x"}).status_code == 404
    assert sandbox_client.get("/biz/4/").status_code == 404  # no profile page beyond the error


# --- step 3: GET /v2/users/?code= --------------------------------------------------------------


def _code(sandbox_client: TestClient, admin: str) -> str:
    identify_token = request_token(sandbox_client, admin)
    sign_in_as(sandbox_client, MEMBER_EMAIL)
    return query_of(visit(sandbox_client, identify_token))["code"]


def test_code_is_single_use(sandbox_client: TestClient, admin: str) -> None:
    code = _code(sandbox_client, admin)
    assert len(users_by_code(sandbox_client, admin, code)) == 1
    assert users_by_code(sandbox_client, admin, code) == []


@pytest.mark.parametrize(("seconds", "found"), [(29, 1), (30, 0)])
def test_code_expires_after_30_seconds(
    sandbox_client: TestClient, admin: str, clock: FakeClock, seconds: int, found: int
) -> None:
    code = _code(sandbox_client, admin)
    clock.advance(seconds)
    assert len(users_by_code(sandbox_client, admin, code)) == found


def test_unknown_code_selects_nobody(sandbox_client: TestClient, admin: str) -> None:
    assert users_by_code(sandbox_client, admin, "unknown-code") == []
    response = sandbox_client.get("/v2/users/", params={"code__in": "a,b"}, headers=bearer(admin))
    assert_api_error(response, 400, "invalid_request_error", field="code__in")


def test_code_filter_needs_the_identify_scope(sandbox_client: TestClient, admin: str) -> None:
    code = _code(sandbox_client, admin)
    narrow = admin_token(sandbox_client, scope="PUBLIC ADMIN_CUSTOMER_INFO")
    response = sandbox_client.get("/v2/users/", params={"code": code}, headers=bearer(narrow))
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    # The refusal did not use the code up.
    assert len(users_by_code(sandbox_client, admin, code)) == 1


def test_code_is_only_for_the_admin_who_asked(
    sandbox: Starlette, sandbox_client: TestClient, admin: str
) -> None:
    store = sandbox.state.store
    store.users[1009] = User(1009, "Kim", "Park", "kim@example.com", ADMIN_PASSWORD)
    store.staff[7009] = Staff(7009, 1009, 4, "ADMIN")
    other = password_grant(sandbox_client, username="kim@example.com").json()["access_token"]
    code = _code(sandbox_client, admin)
    assert users_by_code(sandbox_client, other, code) == []
    # Another admin's attempt did not use the code up.
    assert len(users_by_code(sandbox_client, admin, code)) == 1


# --- sign-out: back to a registered app's origin ----------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        (f"{APP_URL}/kiosk/signed-out?x=1", f"{APP_URL}/kiosk/signed-out?x=1"),
        ("/login/", "/login/"),
        ("https://evil.example/", "/"),
        ("http://testserver.evil.example/", "/"),
        ("http://testserver@evil.example/", "/"),
        ("https://testserver/", "/"),  # another scheme is another origin
        ("//evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("http://testserver\\@evil.example/", "/"),
    ],
)
def test_logout_returns_only_to_local_pages_or_registered_origins(
    sandbox_client: TestClient, next_url: str, expected: str
) -> None:
    sign_in_as(sandbox_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    response = sandbox_client.get("/logout/", params={"next": next_url})
    assert response.status_code == 303
    assert response.headers["location"] == expected
    assert urlsplit(response.headers["location"]).netloc in {"", "testserver"}
    assert sandbox_client.get("/biz/4/identify", params={"token": "x"}).status_code == 303
