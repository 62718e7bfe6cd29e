"""Open redirects: every address the app takes a "go here next" from stays on its own origin,
whatever a link or a form puts there."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ..helpers import APP_URL, SignIn, csrf_of, raw_get

PAYLOADS = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "http:evil.example",
    "///evil.example",
    "/\\/evil.example",
    " //evil.example",
    "https:/\\evil.example",
    "/.//evil.example",
]


def assert_local(location: str) -> None:
    """A browser following `location` from the app stays on the app's origin."""
    assert not re.search(r"[\x00-\x20\\]", location), location
    assert not re.match(r"^[/\\]{2}", location), location
    target = urlsplit(urljoin(f"{APP_URL}/here", location))
    assert (target.scheme, target.netloc) == ("http", "testserver"), location
    assert "evil.example" not in urlsplit(location).netloc


@pytest.mark.parametrize("payload", PAYLOADS)
def test_next_after_sign_in_stays_on_this_site(sign_in: SignIn, payload: str) -> None:
    authorize = sign_in.start(f"/signin?next={quote(payload, safe='')}")
    response = sign_in.finish(sign_in.at_perkville(authorize))
    assert response.status_code == 303
    assert_local(response.headers["location"])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_next_of_the_identify_start_stays_on_this_site(client: TestClient, payload: str) -> None:
    # Identify is off here: /signin/identify hands over to the PKCE sign-in, next and all.
    response = client.get(f"/signin/identify?next={quote(payload, safe='')}")
    assert response.status_code in {302, 303, 307}
    assert_local(response.headers["location"])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_location_choice_goes_back_only_to_a_local_page(
    sign_in: SignIn, client: TestClient, payload: str
) -> None:
    sign_in()
    response = client.post(
        "/location", data={"csrf": csrf_of(client), "loc_id": "12", "next": payload}
    )
    assert response.status_code == 303
    assert_local(response.headers["location"])


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/",
        "/\\evil.example/",
        "/%5Cevil.example/",
        "/%2F%2Fevil.example/",
        "/rewards/",
        "//evil.example/rewards",
    ],
)
def test_addresses_that_look_like_other_sites_never_leave_this_one(
    client: TestClient, app: Starlette, path: str
) -> None:
    # Signed out, a member page sends the visitor to sign in with the path as `next`; an
    # unknown path with a slash at the end is redirected without it. Neither leaves the site.
    response = raw_get(client, path.encode())
    if response.status_code in {301, 302, 303, 307, 308}:
        assert_local(response.headers["location"])
    else:
        assert response.status_code == 404


def test_sign_in_on_a_forged_host_moves_to_the_configured_public_url(app: Starlette) -> None:
    with TestClient(app, base_url="http://evil.example", follow_redirects=False) as forged:
        response = forged.get("/signin?next=/rewards")
    assert response.status_code == 307
    assert response.headers["location"].startswith(f"{APP_URL}/signin")


@pytest.mark.parametrize("payload", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_sign_out_never_goes_anywhere_but_the_landing_page(
    sign_in: SignIn, client: TestClient, payload: str
) -> None:
    sign_in()
    response = client.post(
        f"/signout?next={quote(payload, safe='')}",
        data={"csrf": csrf_of(client), "next": payload},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?signed_out=1"
