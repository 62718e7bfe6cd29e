"""The sandbox's OAuth pages and token endpoint, checked over HTTP against the reference
(OAuth2 Authorization: authorization code + PKCE, PKCE mobile grant, password grant)."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.sandbox.store import USER_SCOPES, Client
from tests.helpers import FakeClock
from tests.sandbox_helpers import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    APP_CALLBACK,
    AUTHORIZE_PATH,
    DEMO_CLIENT_ID,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    TOKEN_PATH,
    assert_api_error,
    authorize,
    authorize_params,
    bearer,
    exchange_code,
    hidden_inputs,
    password_grant,
    pkce_pair,
    query_of,
    sign_in,
)


def _token_error(response: httpx2.Response, status: int, error: str) -> None:
    """The token endpoint's failure: Perkville's body, plus RFC 6749's `error`."""
    body = assert_api_error(response, status, "oauth_error", field="__all__", code=error)
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert response.headers["cache-control"] == "no-store"


def _signed_in(client: TestClient) -> None:
    """Sign the browser in to the sandbox (a session cookie), without authorizing anything."""
    response = sign_in(client, "/login/?next=/", MEMBER_EMAIL, MEMBER_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def _consent_page(client: TestClient, **params: str) -> httpx2.Response:
    _signed_in(client)
    response = client.get(AUTHORIZE_PATH, params=params)
    assert response.status_code == 200, response.text
    return response


# --- step 1: problems that must not redirect -------------------------------------------------


def test_unknown_client_id_shows_an_error_page_and_never_redirects(
    sandbox_client: TestClient,
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, client_id="no-such-app")
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "unknown client_id" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/auth/callback",
        f"{APP_CALLBACK}/",  # exact match only: no prefix, no trailing slash tolerance
        f"{APP_CALLBACK}?next=/",
        "http://TESTSERVER/auth/callback",
    ],
)
def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(
    sandbox_client: TestClient, redirect_uri: str
) -> None:
    _, challenge = pkce_pair()
    # Even with other errors present (bad response_type), nothing is sent to that address.
    for response_type in ("code", "token"):
        params = authorize_params(challenge, redirect_uri=redirect_uri)
        params["response_type"] = response_type
        response = sandbox_client.get(AUTHORIZE_PATH, params=params)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "redirect_uri" in response.text


def test_redirect_uri_defaults_to_the_first_registered_one(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client, redirect_uri=APP_CALLBACK)
    assert authorized.location.startswith(f"{APP_CALLBACK}?")
    # And when omitted: the first registered URI (the only one here).
    _, challenge = pkce_pair()
    params = authorize_params(challenge, redirect_uri=None)
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert response.status_code == 302  # consent was already given above
    assert response.headers["location"].startswith(f"{APP_CALLBACK}?")


# --- step 1: problems reported to the client, on its redirect URI ----------------------------


def _redirected_error(response: httpx2.Response, error: str, state: str | None) -> None:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{APP_CALLBACK}?")
    query = query_of(location)
    assert query["error"] == error
    assert query.get("error_description")
    assert "code" not in query
    assert query.get("state") == state


def test_response_type_other_than_code_is_redirected_with_an_error(
    sandbox_client: TestClient,
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, state="s1")
    params["response_type"] = "token"
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "unsupported_response_type", "s1")


@pytest.mark.parametrize("method", ["plain", None, "s256"])
def test_only_s256_code_challenges_are_accepted(
    sandbox_client: TestClient, method: str | None
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, state="s2")
    if method is None:
        del params["code_challenge_method"]  # RFC 7636 would read this as "plain"
    else:
        params["code_challenge_method"] = method
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "invalid_request", "s2")


def test_public_client_without_pkce_is_refused(sandbox_client: TestClient) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, state="s3")
    del params["code_challenge"], params["code_challenge_method"]
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "invalid_request", "s3")


def test_malformed_code_challenge_is_refused(sandbox_client: TestClient) -> None:
    params = authorize_params("too-short", state="s4")
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "invalid_request", "s4")


def test_scope_outside_the_clients_allowance_is_refused(sandbox_client: TestClient) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, scope="PUBLIC ADMIN_CUSTOMER_INFO", state="s5")
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "invalid_scope", "s5")


def test_a_redirect_without_state_carries_no_state(sandbox_client: TestClient) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, state=None)
    params["response_type"] = "token"
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    _redirected_error(response, "unsupported_response_type", None)
    assert "state=" not in response.headers["location"]


# --- step 2: sign in, consent ------------------------------------------------------------------


def test_authorize_sends_a_signed_out_browser_to_the_login_page_and_back(
    sandbox_client: TestClient,
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, scope="PUBLIC USER_CUSTOMER_INFO")
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert response.status_code == 303
    login_url = response.headers["location"]
    assert urlsplit(login_url).path == "/login/"
    next_url = query_of(login_url)["next"]
    assert urlsplit(next_url).path == AUTHORIZE_PATH
    assert query_of(next_url) == params  # every parameter survives the sign-in

    signed_in = sign_in(sandbox_client, login_url, MEMBER_EMAIL, MEMBER_PASSWORD)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == next_url


def test_login_with_a_wrong_password_shows_the_form_again_with_the_email_kept(
    sandbox_client: TestClient,
) -> None:
    response = sign_in(sandbox_client, "/login/?next=/", MEMBER_EMAIL, "not-the-password")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "do not match" in response.text
    assert f'value="{MEMBER_EMAIL}"' in response.text
    assert hidden_inputs(response.text)["csrf"]  # can simply try again
    retry = sign_in(sandbox_client, "/login/?next=/", MEMBER_EMAIL, MEMBER_PASSWORD)
    assert retry.status_code == 303


def test_a_non_ascii_password_is_a_wrong_password_not_a_crash(sandbox_client: TestClient) -> None:
    response = sign_in(sandbox_client, "/login/?next=/", MEMBER_EMAIL, "mot-de-passe-é")
    assert response.status_code == 400
    assert "do not match" in response.text
    _token_error(password_grant(sandbox_client, password="contraseña"), 400, "invalid_grant")


def test_login_without_the_csrf_token_is_refused(sandbox_client: TestClient) -> None:
    sandbox_client.get("/login/")
    response = sandbox_client.post(
        "/login/", data={"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD}
    )
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_login_never_redirects_off_the_sandbox(sandbox_client: TestClient, next_url: str) -> None:
    response = sign_in(sandbox_client, f"/login/?next={next_url}", MEMBER_EMAIL, MEMBER_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_consent_page_lists_the_requested_scopes_with_descriptions(
    sandbox_client: TestClient,
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, scope="PUBLIC USER_CUSTOMER_INFO USER_REDEEM")
    page = _consent_page(sandbox_client, **params)
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert "Summit Fitness member app" in text
    assert "See public information about rewards programs" in text
    assert "See your contact information, business connections and vouchers" in text
    assert "Redeem your earned points for rewards" in text
    assert "USER_REFERRAL" not in text  # not requested
    # The form carries the request back, plus a CSRF token.
    fields = hidden_inputs(text)
    assert fields.pop("csrf")
    assert fields == params


def test_deny_redirects_with_access_denied_and_the_state(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client, state="deny-me", decision="deny")
    assert authorized.location.startswith(f"{APP_CALLBACK}?")
    assert authorized.params["error"] == "access_denied"
    assert authorized.params["state"] == "deny-me"
    assert "code" not in authorized.params


def test_allow_redirects_with_a_code_and_the_state(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client, state="xyz-789")
    assert authorized.location.startswith(f"{APP_CALLBACK}?")
    assert set(authorized.params) == {"code", "state"}
    assert authorized.params["state"] == "xyz-789"
    assert len(authorized.code) >= 20


def test_consent_post_with_a_bad_csrf_token_never_redirects(sandbox_client: TestClient) -> None:
    _, challenge = pkce_pair()
    page = _consent_page(sandbox_client, **authorize_params(challenge))
    form = hidden_inputs(page.text)
    form["csrf"] = "forged"
    form["decision"] = "allow"
    response = sandbox_client.post(AUTHORIZE_PATH, data=form)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_consent_is_remembered_for_the_same_user_and_client(sandbox_client: TestClient) -> None:
    first = authorize(sandbox_client, scope="PUBLIC USER_CUSTOMER_INFO", state="one")
    assert "code" in first.params

    _, challenge = pkce_pair()
    params = authorize_params(challenge, scope="PUBLIC USER_CUSTOMER_INFO", state="two")
    again = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert again.status_code == 302  # no consent page this time
    query = query_of(again.headers["location"])
    assert query["state"] == "two"
    assert query["code"] != first.code

    # A scope never agreed to asks again.
    params = authorize_params(challenge, scope="PUBLIC USER_REDEEM")
    assert sandbox_client.get(AUTHORIZE_PATH, params=params).status_code == 200


# --- step 3: the token endpoint, authorization code ------------------------------------------


def test_code_exchange_returns_exactly_the_token_fields(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client, scope="PUBLIC USER_CUSTOMER_INFO")
    response = exchange_code(sandbox_client, authorized.code, authorized.verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope"}
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"PUBLIC", "USER_CUSTOMER_INFO"}
    me = sandbox_client.get("/v2/users/me/", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user_id"] == 1001


def test_without_a_scope_parameter_every_allowed_scope_is_granted(
    sandbox_client: TestClient,
) -> None:
    authorized = authorize(sandbox_client)
    body = exchange_code(sandbox_client, authorized.code, authorized.verifier).json()
    assert set(body["scope"].split()) == set(USER_SCOPES)


def test_token_endpoint_refuses_a_json_body(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client)
    response = sandbox_client.post(
        TOKEN_PATH,
        json={
            "grant_type": "authorization_code",
            "code": authorized.code,
            "redirect_uri": APP_CALLBACK,
            "client_id": DEMO_CLIENT_ID,
            "code_verifier": authorized.verifier,
        },
    )
    _token_error(response, 400, "invalid_request")


def test_wrong_code_verifier_is_invalid_grant(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client)
    other_verifier, _ = pkce_pair()
    response = exchange_code(sandbox_client, authorized.code, other_verifier)
    _token_error(response, 400, "invalid_grant")


def test_missing_code_verifier_is_invalid_grant(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client)
    response = exchange_code(sandbox_client, authorized.code, None)
    _token_error(response, 400, "invalid_grant")


def test_unknown_code_is_invalid_grant(sandbox_client: TestClient) -> None:
    verifier, _ = pkce_pair()
    response = exchange_code(sandbox_client, "NoSuchCode0000000000000000000", verifier)
    _token_error(response, 400, "invalid_grant")


def test_replayed_code_is_refused_and_revokes_the_token_it_bought(
    sandbox_client: TestClient,
) -> None:
    authorized = authorize(sandbox_client)
    first = exchange_code(sandbox_client, authorized.code, authorized.verifier)
    assert first.status_code == 200
    token = first.json()["access_token"]
    assert sandbox_client.get("/v2/users/me/", headers=bearer(token)).status_code == 200

    replay = exchange_code(sandbox_client, authorized.code, authorized.verifier)
    _token_error(replay, 400, "invalid_grant")
    revoked = sandbox_client.get("/v2/users/me/", headers=bearer(token))
    assert_api_error(revoked, 401, "oauth_error")


def test_expired_code_is_refused(
    sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    authorized = authorize(sandbox_client)
    clock.advance(5 * 60 + 1)
    response = exchange_code(sandbox_client, authorized.code, authorized.verifier)
    _token_error(response, 400, "invalid_grant")


def test_code_just_inside_five_minutes_is_accepted(
    sandbox: Starlette, sandbox_client: TestClient, clock: FakeClock
) -> None:
    authorized = authorize(sandbox_client)
    clock.advance(4 * 60 + 50)
    response = exchange_code(sandbox_client, authorized.code, authorized.verifier)
    assert response.status_code == 200


def test_redirect_uri_must_match_the_authorize_step(
    sandbox: Starlette, sandbox_client: TestClient
) -> None:
    second_uri = "http://testserver/auth/other-callback"
    sandbox.state.store.clients[DEMO_CLIENT_ID].redirect_uris.append(second_uri)
    authorized = authorize(sandbox_client)  # via APP_CALLBACK
    for wrong in (second_uri, ""):
        response = exchange_code(
            sandbox_client, authorized.code, authorized.verifier, redirect_uri=wrong
        )
        _token_error(response, 400, "invalid_grant")


def test_code_issued_to_another_client_is_refused(
    sandbox: Starlette, sandbox_client: TestClient
) -> None:
    sandbox.state.store.clients["other-app"] = Client(
        "other-app",
        "Some other app",
        [APP_CALLBACK],
        USER_SCOPES,
        frozenset({"authorization_code"}),
    )
    authorized = authorize(sandbox_client)  # issued to member-app-demo
    response = exchange_code(
        sandbox_client, authorized.code, authorized.verifier, client_id="other-app"
    )
    _token_error(response, 400, "invalid_grant")


def test_public_client_sending_a_secret_is_refused(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client)
    data = {
        "grant_type": "authorization_code",
        "code": authorized.code,
        "redirect_uri": APP_CALLBACK,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": "anything",
        "code_verifier": authorized.verifier,
    }
    _token_error(sandbox_client.post(TOKEN_PATH, data=data), 401, "invalid_client")
    response = sandbox_client.post(
        TOKEN_PATH,
        data={k: v for k, v in data.items() if k != "client_secret"},
        auth=(DEMO_CLIENT_ID, "anything"),
    )
    _token_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_or_missing_client_is_invalid_client(sandbox_client: TestClient) -> None:
    authorized = authorize(sandbox_client)
    response = exchange_code(
        sandbox_client, authorized.code, authorized.verifier, client_id="nobody"
    )
    _token_error(response, 401, "invalid_client")
    response = sandbox_client.post(
        TOKEN_PATH, data={"grant_type": "authorization_code", "code": authorized.code}
    )
    _token_error(response, 401, "invalid_client")


# --- the password grant ------------------------------------------------------------------------


def test_password_grant_with_basic_auth(sandbox_client: TestClient) -> None:
    response = password_grant(sandbox_client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope"}
    assert body["token_type"] == "Bearer"
    assert "ADMIN_CUSTOMER_INFO" in body["scope"].split()
    me = sandbox_client.get("/v2/scopes/", headers=bearer(body["access_token"]))
    assert me.status_code == 200


def test_password_grant_with_the_secret_as_a_form_parameter(sandbox_client: TestClient) -> None:
    response = password_grant(
        sandbox_client,
        auth=None,
        extra={"client_id": ADMIN_CLIENT_ID, "client_secret": ADMIN_CLIENT_SECRET},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_password_grant_narrows_to_the_requested_scopes(sandbox_client: TestClient) -> None:
    response = password_grant(sandbox_client, scope="PUBLIC ADMIN_CUSTOMER_INFO")
    assert response.status_code == 200
    assert response.json()["scope"] == "ADMIN_CUSTOMER_INFO PUBLIC"
    refused = password_grant(sandbox_client, scope="PUBLIC USER_REDEEM")
    _token_error(refused, 400, "invalid_scope")


def test_wrong_client_secret_is_invalid_client(sandbox_client: TestClient) -> None:
    response = password_grant(sandbox_client, auth=(ADMIN_CLIENT_ID, "wrong"))
    _token_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")

    form = password_grant(
        sandbox_client, auth=None, extra={"client_id": ADMIN_CLIENT_ID, "client_secret": "wrong"}
    )
    _token_error(form, 401, "invalid_client")
    missing = password_grant(sandbox_client, auth=None, extra={"client_id": ADMIN_CLIENT_ID})
    _token_error(missing, 401, "invalid_client")


def test_malformed_basic_header_is_invalid_client(sandbox_client: TestClient) -> None:
    garbage = base64.b64encode(b"no-colon-here").decode()
    response = sandbox_client.post(
        TOKEN_PATH,
        data={"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"Authorization": f"Basic {garbage}"},
    )
    _token_error(response, 401, "invalid_client")


def test_password_grant_with_a_wrong_password_is_invalid_grant(
    sandbox_client: TestClient,
) -> None:
    _token_error(password_grant(sandbox_client, password="nope"), 400, "invalid_grant")
    unknown = password_grant(sandbox_client, username="nobody@example.com")
    _token_error(unknown, 400, "invalid_grant")


def test_username_is_matched_case_insensitively(sandbox_client: TestClient) -> None:
    response = password_grant(sandbox_client, username=ADMIN_EMAIL.upper())
    assert response.status_code == 200


def test_unsupported_grant_type(sandbox_client: TestClient) -> None:
    response = sandbox_client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET),
    )
    _token_error(response, 400, "unsupported_grant_type")
    missing = sandbox_client.post(
        TOKEN_PATH, data={"client_id": ADMIN_CLIENT_ID, "client_secret": ADMIN_CLIENT_SECRET}
    )
    _token_error(missing, 400, "unsupported_grant_type")


def test_a_grant_the_client_is_not_approved_for_is_unauthorized_client(
    sandbox_client: TestClient,
) -> None:
    # The demo app is a public PKCE client: no password grant (reference, Use Cases).
    response = sandbox_client.post(
        TOKEN_PATH,
        data={
            "grant_type": "password",
            "username": MEMBER_EMAIL,
            "password": MEMBER_PASSWORD,
            "client_id": DEMO_CLIENT_ID,
        },
    )
    _token_error(response, 400, "unauthorized_client")
    # And the admin client may not run the browser flow.
    _, challenge = pkce_pair()
    params = authorize_params(challenge, client_id=ADMIN_CLIENT_ID)
    page = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert page.status_code == 400  # it has no redirect URI to report to
    assert "location" not in page.headers


def test_signing_out_of_the_sandbox_asks_for_a_sign_in_again(sandbox_client: TestClient) -> None:
    authorize(sandbox_client)
    response = sandbox_client.post("/logout/")
    assert response.status_code == 200
    _, challenge = pkce_pair()
    again = sandbox_client.get(AUTHORIZE_PATH, params=authorize_params(challenge))
    assert again.status_code == 303
    assert urlsplit(again.headers["location"]).path == "/login/"
