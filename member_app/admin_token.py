"""`member-app admin-token`: a staff bearer token (password grant) for PERKVILLE_ADMIN_TOKEN.

Reference, "Resource Owner Password Credentials Grant": one form-encoded POST to `/api/token/`
with the client id and secret as HTTP Basic credentials. The password is asked for with
getpass, used for that one request and never stored, echoed or logged ("DO NOT store the
username and password").

This operator command runs before the app can be configured (the token it prints is part of
that configuration), so it reads its own three variables instead of `Settings.from_env`.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx2

# The admin scopes the app uses: agreements and customer lookups, voucher reads, and the
# Identify User Flow.
DEFAULT_ADMIN_SCOPES = (
    "PUBLIC",
    "ADMIN_CUSTOMER_INFO",
    "ADMIN_CUSTOMER_REDEEM",
    "ADMIN_IDENTIFY_USER",
)
DEFAULT_SIGNIN_URL = "https://www.perkville.com"
TIMEOUT_SECONDS = 15.0


class AdminTokenError(Exception):
    """The grant was refused, or Perkville could not be reached; the message says which."""


@dataclass(frozen=True, slots=True)
class AdminToken:
    access_token: str
    scopes: tuple[str, ...]


def request_admin_token(
    http: httpx2.Client,
    signin_url: str,
    *,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    scopes: Sequence[str] = DEFAULT_ADMIN_SCOPES,
) -> AdminToken:
    """Run the password grant at `signin_url` + `/api/token/` and return the bearer token."""
    url = f"{signin_url.rstrip('/')}/api/token/"
    data = {
        "grant_type": "password",
        "username": username,
        "password": password,
        "scope": " ".join(scopes),
    }
    try:
        response = http.post(url, data=data, auth=(client_id, client_secret))
    except httpx2.TransportError as exc:
        raise AdminTokenError(f"Could not reach {url}: {exc or type(exc).__name__}.") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AdminTokenError(
            f"{url} answered {response.status_code} without a token; is the sign-in URL right?"
        )
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise AdminTokenError(_refusal(response.status_code, body))
    return AdminToken(body["access_token"], tuple(str(body.get("scope", "")).split()))


def _refusal(status: int, body: dict[str, object]) -> str:
    error = body.get("error")
    description = body.get("error_description")
    if error == "invalid_client":
        hint = "the client id or secret is wrong (PERKVILLE_ADMIN_CLIENT_ID / _SECRET)"
    elif error == "invalid_grant":
        hint = "the username or password is wrong"
    elif error in {"invalid_scope", "unauthorized_client"}:
        hint = "this client is not approved for the password grant or these scopes"
    else:
        hint = "the grant was refused"
    detail = f" ({description})" if isinstance(description, str) and description else ""
    return f"Perkville refused the token ({status}): {hint}{detail}."


def run(
    *,
    username: str | None,
    client_id: str | None,
    signin_url: str | None,
    scopes: Sequence[str] | None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Ask for what is missing, run the grant, print the token. Exit code 2 on failure."""
    env = os.environ if environ is None else environ
    url = signin_url or env.get("PERKVILLE_SIGNIN_URL", "").strip() or DEFAULT_SIGNIN_URL
    try:
        client_id = client_id or env.get("PERKVILLE_ADMIN_CLIENT_ID", "").strip()
        client_id = client_id or input("Admin client id: ").strip()
        # The secret never comes from a flag, so it stays out of shell history.
        secret = env.get("PERKVILLE_ADMIN_CLIENT_SECRET", "").strip()
        secret = secret or getpass.getpass("Admin client secret: ")
        username = username or input("Staff username (email): ").strip()
        password = getpass.getpass(f"Perkville password for {username}: ")
    except (EOFError, KeyboardInterrupt):
        print("\nmember-app admin-token: cancelled.", file=sys.stderr)
        return 2
    if not (client_id and secret and username and password):
        print(
            "member-app admin-token: client id, secret, username and password are all needed.",
            file=sys.stderr,
        )
        return 2
    wanted = tuple(scopes) if scopes else DEFAULT_ADMIN_SCOPES
    try:
        with httpx2.Client(timeout=TIMEOUT_SECONDS) as http:
            token = request_admin_token(
                http,
                url,
                client_id=client_id,
                client_secret=secret,
                username=username,
                password=password,
                scopes=wanted,
            )
    except AdminTokenError as exc:
        print(f"member-app admin-token: {exc}", file=sys.stderr)
        return 2
    print(token.access_token)
    print(
        "Set PERKVILLE_ADMIN_TOKEN to this token in the app's environment "
        f"(scopes: {' '.join(token.scopes) or 'none reported'}).",
        file=sys.stderr,
    )
    missing = [s for s in wanted if token.scopes and s not in token.scopes]
    if missing:
        print(f"Warning: Perkville did not grant {' '.join(missing)}.", file=sys.stderr)
    return 0
