"""Drive the Perkville sandbox the way a real client does: real pages, real forms, real tokens.

Nothing here reaches into the sandbox's store; every token is bought over HTTP:

* `admin_token(client)`: the password grant with the admin client's HTTP Basic credentials.
* `member_token(client)`: the PKCE flow through the sign-in and consent pages, then the code
  exchanged at the token endpoint.

`client` is a `TestClient` on the sandbox (the `sandbox_client` fixture) with
`follow_redirects=False`, so each hop can be checked.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from starlette.testclient import TestClient

from .forms import parse_form

# Published sandbox credentials (member_app/sandbox/README.md).
DEMO_CLIENT_ID = "member-app-demo"
ADMIN_CLIENT_ID = "member-app-admin"
ADMIN_CLIENT_SECRET = "sandbox-secret"
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "perkville-demo"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "perkville-admin"
# The redirect URI the `sandbox` fixture registers for the demo client.
APP_CALLBACK = "http://testserver/auth/callback"

AUTHORIZE_PATH = "/api/authorize/"
TOKEN_PATH = "/api/token/"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a v2 request."""
    return {"Authorization": f"Bearer {token}"}


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge), as RFC 7636 §4.1-4.2 describe them."""
    verifier = secrets.token_urlsafe(48)  # 64 unreserved characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def hidden_inputs(html: str) -> dict[str, str]:
    """name → value of every `<input type="hidden">` on a page (entities decoded)."""
    return parse_form(html).hidden


def query_of(location: str) -> dict[str, str]:
    """The query string of a URL (e.g. a Location header) as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(
    challenge: str,
    *,
    scope: str | None = None,
    state: str | None = "state-123",
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str | None = APP_CALLBACK,
) -> dict[str, str]:
    """Step 1's query string for the PKCE flow (S256)."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if redirect_uri is not None:
        params["redirect_uri"] = redirect_uri
    if scope is not None:
        params["scope"] = scope
    if state is not None:
        params["state"] = state
    return params


def sign_in(client: TestClient, login_url: str, email: str, password: str) -> httpx2.Response:
    """Open the sign-in page at `login_url` (with its ?next=) and submit it. Returns the
    response to the POST: a 303 to `next` on success, the page again (400) on failure."""
    page = client.get(login_url)
    assert page.status_code == 200, page.text
    csrf = hidden_inputs(page.text)["csrf"]
    return client.post(login_url, data={"csrf": csrf, "email": email, "password": password})


def consent(client: TestClient, consent_page_html: str, decision: str = "allow") -> httpx2.Response:
    """Press Allow (or Deny) on the consent page, posting back its hidden fields."""
    form = hidden_inputs(consent_page_html)
    form["decision"] = decision
    return client.post(AUTHORIZE_PATH, data=form)


@dataclass(frozen=True)
class Authorized:
    """Where the sandbox sent the browser back to, and what the app needs for step 3."""

    location: str
    params: dict[str, str]  # the Location's query: code & state, or error
    verifier: str
    redirect_uri: str

    @property
    def code(self) -> str:
        return self.params["code"]


def authorize(
    client: TestClient,
    *,
    scope: str | None = None,
    state: str | None = "state-123",
    email: str = MEMBER_EMAIL,
    password: str = MEMBER_PASSWORD,
    decision: str = "allow",
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = APP_CALLBACK,
) -> Authorized:
    """Walk step 1 and 2 like a browser: authorize → sign in (if needed) → consent (if not
    already given) → the redirect back to the app."""
    verifier, challenge = pkce_pair()
    params = authorize_params(
        challenge, scope=scope, state=state, client_id=client_id, redirect_uri=redirect_uri
    )
    response = client.get(AUTHORIZE_PATH, params=params)
    if response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login/":
        signed_in = sign_in(client, response.headers["location"], email, password)
        assert signed_in.status_code == 303, signed_in.text
        response = client.get(signed_in.headers["location"])
    if response.status_code == 200:  # the consent page
        response = consent(client, response.text, decision)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return Authorized(location, query_of(location), verifier, redirect_uri)


def exchange_code(
    client: TestClient,
    code: str,
    verifier: str | None,
    *,
    redirect_uri: str = APP_CALLBACK,
    client_id: str = DEMO_CLIENT_ID,
) -> httpx2.Response:
    """Step 3 for a public (PKCE mobile grant) client: form-encoded, no secret."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post(TOKEN_PATH, data=data)


def member_token(
    client: TestClient,
    *,
    scope: str | None = None,
    email: str = MEMBER_EMAIL,
    password: str = MEMBER_PASSWORD,
) -> str:
    """A bearer token for the demo member (Maya), bought through the real PKCE flow.

    `email`/`password` sign in someone else (e.g. the pending member); the client must not be
    signed in to the sandbox as another user already (clear its cookies first)."""
    authorized = authorize(client, scope=scope, email=email, password=password)
    response = exchange_code(client, authorized.code, authorized.verifier)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def password_grant(
    client: TestClient,
    *,
    username: str = ADMIN_EMAIL,
    password: str = ADMIN_PASSWORD,
    scope: str | None = None,
    auth: tuple[str, str] | None = (ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET),
    extra: dict[str, str] | None = None,
) -> httpx2.Response:
    """The password grant; by default with the admin client's HTTP Basic credentials."""
    data = {"grant_type": "password", "username": username, "password": password}
    if scope is not None:
        data["scope"] = scope
    data.update(extra or {})
    if auth is None:  # credentials in the form (extra), or none at all
        return client.post(TOKEN_PATH, data=data)
    return client.post(TOKEN_PATH, data=data, auth=auth)


def admin_token(client: TestClient, *, scope: str | None = None) -> str:
    """A bearer token for the demo business admin (Sam, ADMIN of business 4)."""
    response = password_grant(client, scope=scope)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def assert_api_error(
    response: httpx2.Response,
    status: int,
    error_type: str,
    *,
    field: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Check Perkville's error body (reference, "Handling Errors") and return it.

    `{"error_type": ..., "errors": {field: [{"code": ..., "message": ...}, ...]}}`
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error_type"] == error_type
    errors = body["errors"]
    assert isinstance(errors, dict) and errors
    for problems in errors.values():
        assert isinstance(problems, list) and problems
        for problem in problems:
            assert set(problem) == {"code", "message"}
            assert isinstance(problem["code"], str) and problem["code"]
            assert isinstance(problem["message"], str) and problem["message"]
    if field is not None:
        assert field in errors, errors
        if code is not None:
            assert code in [p["code"] for p in errors[field]], errors
    elif code is not None:
        assert code in [p["code"] for ps in errors.values() for p in ps], errors
    return body
