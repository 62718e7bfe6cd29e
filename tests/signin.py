"""Signing in with Perkville over HTTP, through the sandbox's real pages, as a browser
without scripts does it.

Shared by the tests (`tests/helpers.py`'s `SignIn`, the replica tests) and the benchmarks, so
it needs only httpx2 and `tests/forms.py`. Any `httpx2.Client` works, Starlette's
`TestClient` included; URLs are absolute, so one client may hold the cookies of both sites.

* `at_perkville(perkville, authorize_url, ...)`: from Perkville's authorize URL to the
  redirect back to the app (signing in and answering the consent page when asked).
* `sign_in(app, perkville, app_url, ...)`: the whole walk, from the app's `/signin` to its
  answer to the callback.
"""

from __future__ import annotations

from urllib.parse import urljoin

import httpx2

from .forms import parse_form


class SignInError(Exception):
    """A step of the sign-in got an answer the walk did not expect."""


def _expect(response: httpx2.Response, status: int, step: str) -> None:
    if response.status_code != status:
        where = response.headers.get("location", "")
        raise SignInError(
            f"{step} answered {response.status_code} (expected {status}) {where}\n"
            f"    {response.text[:300]!r}"
        )


def at_perkville(
    perkville: httpx2.Client,
    authorize_url: str,
    *,
    email: str,
    password: str,
    decision: str = "allow",
) -> str:
    """Open Perkville's authorize URL; sign in if Perkville asks (a 303 to its sign-in page)
    and answer the consent page if it shows one (`decision` is "allow" or "deny"). Returns
    where Perkville sends the browser back: the app's callback URL, with a code or an error."""
    response = perkville.get(authorize_url)
    if response.status_code == 303:  # not signed in at Perkville yet
        login_url = urljoin(authorize_url, response.headers["location"])
        login = perkville.get(login_url)
        _expect(login, 200, "Perkville's sign-in page")
        form = parse_form(login.text)
        response = perkville.post(
            urljoin(login_url, form.action),
            data={"csrf": form.fields.get("csrf", ""), "email": email, "password": password},
        )
        _expect(response, 303, f"Perkville's sign-in as {email}")
        authorize_url = urljoin(login_url, response.headers["location"])
        response = perkville.get(authorize_url)
    if response.status_code == 200:  # the consent page
        form = parse_form(response.text)
        response = perkville.post(
            urljoin(authorize_url, form.action), data={**form.fields, "decision": decision}
        )
    _expect(response, 302, "Perkville's consent")
    location: str = response.headers["location"]
    return location


def sign_in(
    app: httpx2.Client,
    perkville: httpx2.Client,
    app_url: str,
    *,
    email: str,
    password: str,
    start: str = "/signin",
) -> httpx2.Response:
    """The app's `start` page, Perkville's pages, then the app's callback. Returns the app's
    answer to the callback: a 303 to the page the member wanted."""
    response = app.get(f"{app_url}{start}")
    _expect(response, 302, f"the app's {start}")
    callback = at_perkville(perkville, response.headers["location"], email=email, password=password)
    if not callback.startswith(f"{app_url}/auth/callback?"):
        raise SignInError(f"Perkville sent the browser to {callback}, not to the app")
    response = app.get(callback)
    _expect(response, 303, "the app's /auth/callback")
    return response
