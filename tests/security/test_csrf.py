"""CSRF: every state-changing route refuses a form without this session's token, and a GET
on an action's address never acts. Routes are found from the app itself, so a new POST route
that is not covered here fails the suite."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from member_app import Settings

from ..forms import forms
from ..helpers import PENDING_EMAIL, SignIn, csrf_of, session_of, visible_text

MAYA_EMAIL = "member@example.com"
UNUSED_VOUCHER = 52009  # Maya's guest pass
OPEN_CHALLENGE = 802  # Maya may join
JOINED_CHALLENGE = 801  # Maya is in it
AFFORDABLE_REWARD = 201  # free smoothie, 150 points


@dataclass(frozen=True)
class Action:
    route: str  # the route's path template, as in app.routes
    path: str
    fields: dict[str, str] = field(default_factory=dict)
    email: str = MAYA_EMAIL
    form_page: str | None = None  # a page whose form supplies the other fields


ACTIONS = [
    Action(
        "/rewards/{perk_id}/redeem",
        f"/rewards/{AFFORDABLE_REWARD}/redeem",
        form_page=f"/rewards/{AFFORDABLE_REWARD}/redeem",
    ),
    Action("/vouchers/{voucher_id}/use", f"/vouchers/{UNUSED_VOUCHER}/use"),
    Action("/challenges/{challenge_id}/join", f"/challenges/{OPEN_CHALLENGE}/join"),
    Action("/challenges/{challenge_id}/leave", f"/challenges/{JOINED_CHALLENGE}/leave"),
    Action(
        "/referrals",
        "/referrals",
        {"email": "friend@example.net", "first_name": "Robin", "last_name": "Friend"},
    ),
    Action("/join", "/join", {"agree-62": "yes", "agree-63": "yes"}, email=PENDING_EMAIL),
    Action("/location", "/location", {"loc_id": "13", "next": "/rewards"}),
    Action("/signout", "/signout"),
    Action("/live/fresh", "/live/fresh"),
]
# /resume is attacked with a kept action in its own module (test_csrf_resume.py).
# /language: a signed-in member's form needs the token, a signed-out visitor's must come from
# this site (Fetch Metadata or Origin); attacked in tests/test_languages.py.
COVERED = {a.route for a in ACTIONS} | {"/resume", "/language"}


def upstream(sandbox: Starlette) -> str:
    """Everything a member's action could change at Perkville, as one comparable text."""
    store = sandbox.state.store
    parts = (
        store.connections,
        store.vouchers,
        store.transactions,
        store.challenge_connections,
        store.referrals,
        store.user_agreements,
    )
    return repr([sorted(part.items()) for part in parts])


def signed_in_as(sign_in: SignIn, email: str) -> None:
    response = sign_in.finish(sign_in.at_perkville(sign_in.start(), email=email))
    assert response.status_code == 303, response.text


def test_every_post_route_is_attacked_here(app: Starlette) -> None:
    posting = {
        route.path
        for route in app.routes
        if isinstance(route, Route) and route.methods and "POST" in route.methods
    }
    assert posting, "no POST routes found"
    assert posting == COVERED, f"POST routes not covered by the CSRF suite: {posting - COVERED}"


def _attack(
    action: Action,
    token: str | None,
    sign_in: SignIn,
    client: TestClient,
    sandbox: Starlette,
    settings: Settings,
) -> None:
    fields = dict(action.fields)
    if action.form_page:
        page = client.get(action.form_page)
        fields.update({k: v for k, v in _form_fields(page.text).items() if k != "csrf"})
    if token is not None:
        fields["csrf"] = token
    before, session_before = upstream(sandbox), session_of(client, settings)
    response = client.post(action.path, data=fields)
    assert response.status_code == 403, response.text
    assert "Nothing was changed" in visible_text(response.text) or "try that again" in (
        visible_text(response.text)
    )
    assert upstream(sandbox) == before
    # Still signed in, with the same session (sign-out and the location choice live there).
    after = session_of(client, settings)
    assert after.get("uid") == session_before.get("uid")
    assert after.get("loc") == session_before.get("loc")


def _form_fields(html: str) -> dict[str, str]:
    form = next((f for f in forms(html) if f.method == "post"), None)
    assert form, "no form on the page"
    return form.fields


@pytest.mark.parametrize("action", ACTIONS, ids=[a.path for a in ACTIONS])
def test_missing_token_is_refused_and_changes_nothing(
    action: Action, sign_in: SignIn, client: TestClient, sandbox: Starlette, settings: Settings
) -> None:
    signed_in_as(sign_in, action.email)
    _attack(action, None, sign_in, client, sandbox, settings)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.path for a in ACTIONS])
def test_another_sessions_token_is_refused_and_changes_nothing(
    action: Action,
    sign_in: SignIn,
    client: TestClient,
    sandbox: Starlette,
    settings: Settings,
    other_browser: SignIn,
) -> None:
    signed_in_as(other_browser, MAYA_EMAIL)
    attackers_token = csrf_of(other_browser.client)
    signed_in_as(sign_in, action.email)
    assert csrf_of(client) != attackers_token
    _attack(action, attackers_token, sign_in, client, sandbox, settings)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.path for a in ACTIONS])
def test_non_ascii_token_is_refused_not_a_server_error(
    action: Action, sign_in: SignIn, client: TestClient, sandbox: Starlette, settings: Settings
) -> None:
    signed_in_as(sign_in, action.email)
    _attack(action, "jeton-forgé-ÿ", sign_in, client, sandbox, settings)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.path for a in ACTIONS])
def test_get_on_an_action_address_does_not_act(
    action: Action, sign_in: SignIn, client: TestClient, sandbox: Starlette, settings: Settings
) -> None:
    signed_in_as(sign_in, action.email)
    before, session_before = upstream(sandbox), session_of(client, settings)
    query = "&".join(f"{k}={v}" for k, v in action.fields.items())
    response = client.get(f"{action.path}?{query}" if query else action.path)
    assert response.status_code in {200, 405}, response.text
    assert upstream(sandbox) == before
    after = session_of(client, settings)
    assert after.get("uid") == session_before.get("uid")
    assert after.get("loc") == session_before.get("loc")
