"""The sandbox against the Perkville v2 API reference, word for word (issue 14).

Two kinds of test, each quoting the reference's words:

* the departures fixed in both profiles (`/v2/users/me/` for staff, the bare `/v2/scopes/`, the
  client secret as a GET parameter, a connection's vouchers and a business's promotions, "all
  active redeem perks");
* the reference profile (`create_sandbox(profile="reference")`, `--profile reference`): only the
  reference's endpoints, methods, fields, `meta`, error codes and uses of `me`; no `/logout/`,
  no `prompt`, no batch agreements endpoint.

The reference is read from the shared seeds (`../shared/seeds/` beside the repository); the
tests that need its text are skipped where it is not there.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

import member_app.sandbox
from member_app.cli import _parser
from member_app.demo import build_demo
from member_app.sandbox import Profile, create_sandbox
from member_app.sandbox.profiles import REFERENCE_CODES, REFERENCE_FIELDS
from member_app.sandbox.resources import Resource

from .helpers import APP_URL, SANDBOX_URL, FakeClock
from .sandbox_helpers import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AUTHORIZE_PATH,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    TOKEN_PATH,
    admin_token,
    assert_api_error,
    authorize,
    authorize_params,
    bearer,
    member_token,
    pkce_pair,
    sign_in,
)

Headers = dict[str, str]

REFERENCE_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_fd6257fe3c7100ac.txt"
)
SANDBOX_README = Path(__file__).resolve().parents[1] / "member_app" / "sandbox" / "README.md"

# The reference's section titles, in its order: a resource's section runs to the next title.
SECTION_TITLES = (
    "Agreement Version", "Business", "Business Staff", "Challenge", "Challenge Connection",
    "Challenge Connection Requirement Summary", "Challenge Perk Requirement", "Connection",
    "Connection Attribute", "Connection Balance", "Custom Attribute", "Custom Attribute Value",
    "Email Tracking", "External Location", "External Member", "Frequency Bonus Perk",
    "Frequency Bonus Progress", "Level", "Location", "Perk", "Perk Category", "Promotion",
    "Referral", "Scope", "Transaction", "User", "User Business Agreement", "Voucher",
    "Rewards Program Rules", "Earning Rules", "Redeeming Rules", "User Voucher",
    "Getting Started with API Reports", "Getting Started with Batch Endpoints",
    "External Member Batch", "Transaction Batch", "Using the Identify User Flow",
)  # fmt: skip
# Each resource the reference profile serves, and its section (a batch endpoint by its path
# after /v2/).
SECTIONS = {
    "agreement-versions": "Agreement Version",
    "batch/external-members": "External Member Batch",
    "batch/transactions": "Transaction Batch",
    "businesses": "Business",
    "challenge-connection-requirement-summaries": "Challenge Connection Requirement Summary",
    "challenge-connections": "Challenge Connection",
    "challenge-requirements": "Challenge Perk Requirement",
    "challenges": "Challenge",
    "connection-balances": "Connection Balance",
    "connections": "Connection",
    "earning": "Earning Rules",
    "external-members": "External Member",
    "levels": "Level",
    "locations": "Location",
    "perk-categories": "Perk Category",
    "perks": "Perk",
    "promotions": "Promotion",
    "redeeming": "Redeeming Rules",
    "referrals": "Referral",
    "scopes": "Scope",
    "transactions": "Transaction",
    "user-business-agreements": "User Business Agreement",
    "user-vouchers": "User Voucher",
    "users": "User",
    "vouchers": "Voucher",
}
# Where each resource's objects are read: (URL, "member" or "admin"). The batch endpoints
# cannot be read ("You can't read from this resource"): their answers' items are checked where
# they are written (tests/test_sandbox_earning.py, tests/test_sandbox_external_members.py).
SERVED = {
    "agreement-versions": [("/v2/agreement-versions/?business=4", "member")],
    "batch/external-members": [],
    "batch/transactions": [],
    "businesses": [("/v2/businesses/", "member")],
    "challenge-connection-requirement-summaries": [
        ("/v2/challenge-connection-requirement-summaries/?challenge=801", "admin")
    ],
    "challenge-connections": [("/v2/challenge-connections/?business=4", "admin")],
    "challenge-requirements": [("/v2/challenge-requirements/?business=4", "member")],
    "challenges": [("/v2/challenges/", "member")],
    "connection-balances": [("/v2/connection-balances/?business=4", "admin")],
    "connections": [("/v2/connections/?business=4", "admin")],
    "earning": [("/v2/earning/?business=4&view_as_user=true", "member")],
    # The seed has none: `test_every_served_field_is_one_the_reference_names` writes one first.
    "external-members": [("/v2/external-members/?business=4", "admin")],
    "levels": [("/v2/levels/", "member")],
    "locations": [("/v2/locations/", "member")],
    "perk-categories": [("/v2/perk-categories/?business=4", "member")],
    "perks": [
        ("/v2/perks/?limit=100", "member"),
        ("/v2/perks/?status=INACTIVE", "member"),
    ],
    "promotions": [("/v2/promotions/", "member")],
    "redeeming": [
        ("/v2/redeeming/?business=4&view_as_user=true", "member"),
        ("/v2/redeeming/?business=4", "member"),
    ],
    "referrals": [("/v2/referrals/", "member")],
    "scopes": [("/v2/scopes/", "member")],
    "transactions": [("/v2/transactions/?user=me&limit=100", "member")],
    "user-business-agreements": [("/v2/user-business-agreements/?business=4", "admin")],
    "user-vouchers": [("/v2/user-vouchers/?business=4", "member")],
    "users": [("/v2/users/", "admin"), ("/v2/users/me/", "member")],
    "vouchers": [("/v2/vouchers/?business=4", "member")],
}
# Every resource the sandbox's modules declare.
RESOURCES: list[Resource] = list(
    {
        id(value): value
        for info in pkgutil.walk_packages(
            member_app.sandbox.__path__, f"{member_app.sandbox.__name__}."
        )
        for value in vars(importlib.import_module(info.name)).values()
        if isinstance(value, Resource)
    }.values()
)
ERROR_TYPES = {"oauth_error", "authorization_error", "invalid_request_error", "unknown_error"}
REDEEM = {"business": "/v2/businesses/4/", "location": "/v2/locations/11/", "quantity": 1}


# --- fixtures ------------------------------------------------------------------------------------


def _sandbox(profile: Profile, clock: FakeClock) -> Starlette:
    app = create_sandbox(redirect_uris=[f"{APP_URL}/auth/callback"], profile=profile)
    app.state.store.clock = clock.utc
    return app


@pytest.fixture
def reference(clock: FakeClock) -> Iterator[TestClient]:
    """A client of the sandbox in its reference profile."""
    with TestClient(
        _sandbox("reference", clock), base_url=SANDBOX_URL, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture(params=["default", "reference"])
def either(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[TestClient]:
    """A client of the sandbox in each profile: the departures are fixed in both."""
    with TestClient(
        _sandbox(request.param, clock), base_url=SANDBOX_URL, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def reference_text() -> str:
    if not REFERENCE_FILE.exists():
        pytest.skip(f"the API reference is not at {REFERENCE_FILE}")
    return REFERENCE_FILE.read_text()


def section(text: str, title: str) -> str:
    """The reference's section `title`: from its title line to the next section's."""
    lines = text.splitlines()
    starts = []
    position = 0
    for name in SECTION_TITLES:
        position = next(
            i
            for i in range(position, len(lines) - 1)
            if lines[i] == name and not lines[i - 1] and not lines[i + 1]
        )
        starts.append(position)
        position += 1
    start = starts[SECTION_TITLES.index(title)]
    end = min((s for s in starts if s > start), default=len(lines))
    return "\n".join(lines[start:end])


def resource_of(path: str) -> str:
    """The resource a `/v2/` route serves: "/v2/users/{key}/" → "users", and a batch endpoint
    by its path after /v2/: "/v2/batch/transactions/" → "batch/transactions"."""
    return "/".join(part for part in path.split("/")[2:] if part and not part.startswith("{"))


def names(text: str) -> set[str]:
    """The words of `text`, as written and in lower case ("{CONNECTION_BALANCE_ID}")."""
    words = set(re.findall(r"[A-Za-z_]\w*", text))
    return words | {word.lower() for word in words}


def ok(client: TestClient, url: str, headers: Headers) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, f"{url}: {response.text}"
    return response.json()


def served_objects(client: TestClient, url: str, headers: Headers) -> list[dict[str, Any]]:
    body = ok(client, url, headers)
    if isinstance(body, list):  # /v2/scopes/
        return body
    objects: list[dict[str, Any]] = body.get("objects", [body])
    return objects


def error_codes(response: httpx2.Response) -> list[str]:
    body = response.json()
    return [problem["code"] for problems in body["errors"].values() for problem in problems]


def redeem(client: TestClient, headers: Headers, perk_id: int, source: str) -> httpx2.Response:
    body = {**REDEEM, "perk": f"/v2/perks/{perk_id}/", "trans_source_id": source}
    return client.post("/v2/transactions/", headers=headers, json=body)


# --- departures, fixed in both profiles ----------------------------------------------------------


def test_users_me_is_the_tokens_own_user_even_for_staff(either: TestClient) -> None:
    """User: "Instead of a user ID in the uri, you can call GET /v2/users/me/. This will return
    the User which belongs to the Bearer Token." Staff are nobody's customer, yet theirs."""
    admin = bearer(admin_token(either))
    me = ok(either, "/v2/users/me/", admin)
    assert (me["user_id"], me["resource_uri"]) == (1002, "/v2/users/1002/")
    assert me["emails"] == [{"email": ADMIN_EMAIL, "primary": True}]
    # Only "me" says so: the customer rule still hides the same record by its id.
    assert_api_error(either.get("/v2/users/1002/", headers=admin), 404, "invalid_request_error")
    # Still a User request: its scopes apply.
    public_only = bearer(admin_token(either, scope="PUBLIC"))
    assert either.get("/v2/users/me/", headers=public_only).status_code == 403


def test_scopes_answer_the_bare_objects(either: TestClient) -> None:
    """Scope, Example Response: `{"scope": "PUBLIC"}, {"scope": "USER_CUSTOMER_INFO"}, ...`:
    the scope objects themselves, no `meta`/`objects` body."""
    body = ok(either, "/v2/scopes/", bearer(member_token(either)))
    assert body == [
        {"scope": "PUBLIC"},
        {"scope": "USER_CUSTOMER_INFO"},
        {"scope": "USER_REDEEM"},
        {"scope": "USER_REFERRAL"},
    ]


def test_the_client_secret_may_be_a_get_parameter(either: TestClient) -> None:
    """Step 3: "client_secret ... Include the secret here as a GET parameter, or in a Basic
    Auth header" (and the password grant takes the same client credentials)."""
    form = {
        "grant_type": "password",
        "username": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
        "client_id": ADMIN_CLIENT_ID,
    }
    response = either.post(TOKEN_PATH, params={"client_secret": ADMIN_CLIENT_SECRET}, data=form)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    wrong = either.post(TOKEN_PATH, params={"client_secret": "wrong"}, data=form)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_a_connection_lists_its_vouchers(either: TestClient) -> None:
    """Connection, Fields: "vouchers Voucher[] The list of vouchers for this business
    connection"."""
    member = bearer(member_token(either))
    mine = [v["resource_uri"] for v in served_objects(either, "/v2/vouchers/?business=4", member)]
    connection = ok(either, "/v2/connections/3001/", member)
    assert connection["vouchers"] == sorted(mine, key=lambda uri: int(uri.split("/")[3]))
    assert len(mine) == 7  # Maya's seven vouchers at Summit Fitness (README, seed data)
    admin = bearer(admin_token(either))
    assert ok(either, "/v2/connections/3003/", admin)["vouchers"] == []  # Jordan has none


def test_a_business_lists_its_promotions(either: TestClient) -> None:
    """Business, Fields: "promotions Promotion[] An array of Promotion resources, which are
    the collection of promotional perks a business offers"."""
    member = bearer(member_token(either))
    summit = ok(either, "/v2/businesses/4/", member)
    assert summit["promotions"] == ["/v2/promotions/601/", "/v2/promotions/602/"]
    for uri in summit["promotions"]:
        assert ok(either, uri, member)["business"] == "/v2/businesses/4/"
    assert ok(either, "/v2/businesses/5/", member)["promotions"] == []


def test_perks_list_only_active_ones_unless_asked(either: TestClient) -> None:
    """Filtering, "In" filter: `GET /v2/perks?business=889&classification=REDEEM&type__in=...`
    "would query for all active redeem perks at business 889"."""
    member = bearer(member_token(either))
    query = "/v2/perks/?business=4&classification=REDEEM&type__in=STANDARD,EXTERNAL_REWARD"
    listed = served_objects(either, f"{query}&limit=100", member)
    assert listed and {p["status"] for p in listed} == {"ACTIVE"}
    assert 213 not in [p["perk_id"] for p in listed]  # the INACTIVE reward
    inactive = served_objects(either, f"{query}&status=INACTIVE", member)
    assert [p["perk_id"] for p in inactive] == [213]
    assert ok(either, "/v2/perks/213/", member)["status"] == "INACTIVE"


def test_fields_the_reference_does_not_name_are_the_default_profiles(
    sandbox_client: TestClient, reference: TestClient
) -> None:
    """Only the default profile sends what the reference names nowhere: `total_count`,
    `next`, `previous`; a promotion's `promotion_id` and `resource_uri`; a user voucher's
    `picture_card` and `reward_url`; the redeeming view's `can_redeem`."""
    extras = {
        "/v2/businesses/": {"total_count", "next", "previous"},
        "/v2/promotions/601/": {"promotion_id", "resource_uri"},
        "/v2/user-vouchers/52008/": {"picture_card", "reward_url"},
    }
    for client, present in ((sandbox_client, True), (reference, False)):
        member = bearer(member_token(client))
        for url, fields in extras.items():
            body = ok(client, url, member)
            shown = set(body["meta"]) if "meta" in body else set(body)
            assert fields <= shown if present else not fields & shown, url
        rules = served_objects(client, "/v2/redeeming/?business=4&view_as_user=true", member)
        assert all(("can_redeem" in rule) is present for rule in rules)


# --- the reference profile ------------------------------------------------------------------------


def test_every_served_field_is_one_the_reference_names(
    reference: TestClient, reference_text: str
) -> None:
    """Every field of every object the reference profile serves is in its allow-list
    (profiles.REFERENCE_FIELDS), and every allow-listed name appears in that resource's
    section of the reference (its example responses or its Fields table)."""
    paths = [route.path for route in reference.app.routes]  # type: ignore[attr-defined]
    served = {resource_of(path) for path in paths if path.startswith("/v2/")} - {"identify"}
    # Every served resource has its allow-list (a new one must be added to profiles.py) and is
    # read here; an allow-list may wait for its resource (Connection Balance).
    assert served <= set(REFERENCE_FIELDS) == set(SECTIONS) == set(SERVED), served
    tokens = {"member": bearer(member_token(reference)), "admin": bearer(admin_token(reference))}
    external_member = {
        "business": "/v2/businesses/4/", "user_email": MEMBER_EMAIL,
        "external_system_id": "DESK", "external_member_id": "M-1",
    }  # fmt: skip
    written = reference.post("/v2/external-members/", headers=tokens["admin"], json=external_member)
    assert written.status_code == 201, written.text
    for name, allowed in REFERENCE_FIELDS.items():
        text = names(section(reference_text, SECTIONS[name]))
        assert allowed <= text, (name, sorted(allowed - text))
        for url, who in SERVED[name] if name in served else []:
            objects = served_objects(reference, url, tokens[who])
            assert objects, url
            for obj in objects:
                assert set(obj) <= allowed, (url, sorted(set(obj) - allowed))


def test_writes_answer_with_the_references_fields_only(reference: TestClient) -> None:
    """What a write returns is the resource as the reference names it too: Transaction POST
    ("A 201 response with a JSON object of the created Transaction"), Challenge Connection POST,
    Referral POST, Connection PATCH, and the User Voucher's "PATCH voucher status to USED"."""
    member = bearer(member_token(reference))
    redeemed = redeem(reference, member, 202, "ref-write-1")
    assert redeemed.status_code == 201, redeemed.text
    assert set(redeemed.json()) <= REFERENCE_FIELDS["transactions"]
    voucher_id = redeemed.json()["voucher"].split("/")[3]
    used = reference.patch(
        f"/v2/user-vouchers/{voucher_id}/", headers=member, json={"status": "USED"}
    )
    assert used.status_code == 202, used.text
    assert set(used.json()) <= REFERENCE_FIELDS["user-vouchers"]
    joined = reference.post(
        "/v2/challenge-connections/",
        headers=member,
        json={"challenge": "/v2/challenges/802/", "join_status": "ACTIVE"},
    )
    assert joined.status_code == 201, joined.text
    assert set(joined.json()) <= REFERENCE_FIELDS["challenge-connections"]
    referred = reference.post(
        "/v2/referrals/",
        headers=member,
        json={"business": "/v2/businesses/4/", "referral_to_email": "new.friend@example.net"},
    )
    assert referred.status_code == 201, referred.text
    assert set(referred.json()) <= REFERENCE_FIELDS["referrals"]
    patched = reference.patch("/v2/connections/3001/", headers=member, json={"status": "ACTIVE"})
    assert patched.status_code == 202, patched.text
    assert set(patched.json()) <= REFERENCE_FIELDS["connections"]


def test_meta_is_limit_and_offset(reference: TestClient) -> None:
    """Earning Rules, Example Response: `"meta": {"limit": 20, "offset": 0}`, the reference's
    only `meta`; Pagination: "You can set up a custom page size with the ?limit parameter ...
    use the ?offset parameter". Nothing implies `next`, `previous` or `total_count`."""
    member = bearer(member_token(reference))
    body = ok(reference, "/v2/businesses/?limit=1&offset=1", member)
    assert body["meta"] == {"limit": 1, "offset": 1}
    assert [b["business_id"] for b in body["objects"]] == [5]
    body = ok(reference, "/v2/earning/?business=4", member)
    assert body["meta"] == {"limit": 20, "offset": 0}


def test_me_only_where_the_reference_uses_it(
    reference: TestClient, sandbox_client: TestClient
) -> None:
    """The reference writes `me` twice: "GET /v2/users/me/" (User) and
    "/v2/transactions/?user=me&biz=889" (Filtering). Elsewhere `me` is not a user id: the
    reference profile answers 400 `invalid`, keyed by the filter; the default takes it."""
    member = bearer(member_token(reference))
    assert ok(reference, "/v2/users/me/", member)["user_id"] == 1001
    mine = served_objects(reference, "/v2/transactions/?user=me&biz=4", member)
    assert mine and {t["user"] for t in mine} == {"/v2/users/1001/"}
    elsewhere = {
        "/v2/connections/?user=me": "user",
        "/v2/users/?user_id=me": "user_id",
        "/v2/vouchers/?user=me": "user",
        "/v2/challenge-connections/?user=me": "user",
        "/v2/referrals/?referral_from_user=me": "referral_from_user",
        "/v2/transactions/?user__in=me": "user__in",
    }
    default_member = bearer(member_token(sandbox_client))
    for url, field in elsewhere.items():
        response = reference.get(url, headers=member)
        assert_api_error(response, 400, "invalid_request_error", field=field, code="invalid")
        assert sandbox_client.get(url, headers=default_member).status_code == 200, url


def test_only_insufficient_points_keeps_its_name(reference: TestClient) -> None:
    """Transaction Batch, Example Response: `'code': 'pv_txn_insufficient_points'`, the one
    refusal the reference names. Every other refusal is Handling Errors' shape ("The object
    keys in "errors" tell you the name of the field that had the problem. If the problem was
    with the entire request, then "__all__" is used") with its generic code `invalid`."""
    member = bearer(member_token(reference))
    too_dear = redeem(reference, member, 205, "ref-refusal-1")  # 2000 points; Maya has 1250
    body = assert_api_error(too_dear, 400, "invalid_request_error", field="__all__")
    assert error_codes(too_dear) == ["pv_txn_insufficient_points"]
    assert body["errors"]["__all__"][0]["message"] == (
        "The user doesn't have enough points to complete this transaction."
    )
    refusals = [
        redeem(reference, member, 204, "ref-refusal-2"),  # the monthly limit, met
        reference.post(
            "/v2/challenge-connections/",
            headers=member,
            json={"challenge": "/v2/challenges/804/", "join_status": "ACTIVE"},  # ineligible
        ),
    ]
    for response in refusals:
        assert_api_error(response, 400, "invalid_request_error", field="__all__", code="invalid")
        assert error_codes(response) == ["invalid"]
    # The field stays where the sandbox has one: a repeated trans_source_id, an existing customer.
    assert redeem(reference, member, 202, "ref-dup").status_code == 201
    again = redeem(reference, member, 202, "ref-dup")
    assert_api_error(again, 400, "invalid_request_error", field="trans_source_id", code="invalid")
    referral = reference.post(
        "/v2/referrals/",
        headers=member,
        json={"business": "/v2/businesses/4/", "referral_to_email": "riley@example.net"},
    )
    assert_api_error(
        referral, 400, "invalid_request_error", field="referral_to_email", code="invalid"
    )


def test_every_error_code_is_one_the_reference_writes(reference: TestClient) -> None:
    """Handling Errors: "error_type is always one of these values" (oauth_error,
    authorization_error, invalid_request_error, unknown_error); its codes are `invalid` and
    `required`, and the one refusal it names is `pv_txn_insufficient_points`."""
    member = bearer(member_token(reference))
    no_public = bearer(admin_token(reference, scope="ADMIN_CUSTOMER_INFO"))
    requests: list[tuple[str, str, Headers, int]] = [
        ("GET", "/v2/businesses/", {}, 401),
        ("GET", "/v2/businesses/", bearer("NotARealToken000000000000000"), 401),
        ("GET", "/v2/businesses/4/", no_public, 403),
        ("GET", "/v2/no-such-thing/", member, 404),
        ("GET", "/v2/users/1004/", member, 404),
        ("DELETE", "/v2/connections/3001/", member, 501),
        ("OPTIONS", "/v2/businesses/4/", member, 501),
        ("POST", "/v2/user-business-agreements/", member, 501),
        ("GET", "/v2/connections/", member, 400),
        ("GET", "/v2/connections/?business__in=4,5", member, 400),
        ("GET", "/v2/businesses/?nonsense=1", member, 400),
        ("GET", "/v2/businesses/?limit=x", member, 400),
        ("GET", "/v2/promotions/?promotion_id=601", member, 400),
    ]
    for method, url, headers, status in requests:
        response = reference.request(method, url, headers=headers)
        assert response.status_code == status, (method, url, response.text)
        assert response.json()["error_type"] in ERROR_TYPES
        assert set(error_codes(response)) <= REFERENCE_CODES, (method, url, response.text)
    required = reference.get("/v2/connections/", headers=member)
    assert error_codes(required) == ["required"]


def test_there_is_no_sign_out_page(reference: TestClient) -> None:
    """The reference documents no sign-out page: `/logout/` is the default profile's. The
    reference profile answers it like any unknown path, and its pages do not link to it."""
    _, challenge = pkce_pair()
    start = reference.get(AUTHORIZE_PATH, params=authorize_params(challenge))
    signed_in = sign_in(reference, start.headers["location"], MEMBER_EMAIL, MEMBER_PASSWORD)
    consent = reference.get(signed_in.headers["location"])
    assert consent.status_code == 200 and "Allow" in consent.text
    assert "/logout/" not in consent.text
    home = reference.get("/")
    assert home.status_code == 200 and "Signed in as" in home.text
    assert "/logout/" not in home.text
    for method in ("GET", "POST"):
        assert reference.request(method, "/logout/").status_code == 404


def test_prompt_is_not_a_parameter(reference: TestClient, sandbox_client: TestClient) -> None:
    """Step 1 lists client_id, redirect_uri, response_type, scope, state, code_challenge and
    code_challenge_method: no `prompt`. "This allows the user to use the same cookie for API
    authorization, if they're already logged into your client's application": the sandbox's
    own sign-in persists, so an agreed client goes straight back with a code."""
    for client, signs_in_again in ((reference, False), (sandbox_client, True)):
        authorize(client)  # signed in, and agreed
        _, challenge = pkce_pair()
        again = client.get(
            AUTHORIZE_PATH, params={**authorize_params(challenge), "prompt": "login"}
        )
        if signs_in_again:  # the default profile: OIDC's prompt=login, for kiosks
            assert again.status_code == 303
            assert urlsplit(again.headers["location"]).path == "/login/"
        else:
            assert again.status_code == 302, again.text
            assert again.headers["location"].startswith(f"{APP_URL}/auth/callback?code=")


def test_no_batch_agreements_endpoint(reference: TestClient) -> None:
    """User Business Agreement: "POST You can't create new instances of this resource", and
    Getting Started with Batch Endpoints lists External Member Batch and Transaction Batch
    only: `/v2/batch/user-business-agreements/` answers like an unknown endpoint."""
    admin = bearer(admin_token(reference))
    body = {"business": 4, "user_business_agreements": [{"agreement_version": 62, "user": 1003}]}
    response = reference.post("/v2/batch/user-business-agreements/", headers=admin, json=body)
    unknown = reference.post("/v2/batch/no-such-thing/", headers=admin, json=body)
    assert_api_error(response, 404, "invalid_request_error", field="__all__", code="invalid")
    assert response.json() == unknown.json()


def test_every_route_is_one_the_reference_documents(
    reference: TestClient, reference_text: str
) -> None:
    """Only the reference's endpoints: every `/v2/` and `/api/` path, the identify page and the
    business page are in its text; the rest are the sandbox's own pages (its home page, the
    sign-in of Step 2: "they will be asked to login"), the media the API's URLs point at, the
    simulator's controls and the demo's front desk."""
    own = ("/", "/login/")
    # The media the API hands out, the simulator's controls, and the demo's front desk (the
    # gym's own system, front_desk.py, which calls the API like any client): not Perkville's.
    own_prefixes = ("/media/", "/_sandbox/", "/front-desk/")
    for route in reference.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        pattern = re.sub(r"\\\{[^}]*\\\}", r"[A-Za-z0-9_]+", re.escape(route.path))
        documented = re.search(pattern, reference_text) is not None
        assert documented or route.path in own or route.path.startswith(own_prefixes), route.path


def test_every_write_is_one_the_reference_documents(reference_text: str) -> None:
    """Only the reference's methods: each write the sandbox takes has its section's "POST
    /v2/..." or "PATCH /v2/..." (the User Voucher's: "allows USER_CUSTOMER_INFO scopes to PATCH
    voucher status to USED"); every other verb is "501 Method Not Implemented"."""
    writes = [(r, "POST") for r in RESOURCES if r.create] + [
        (r, "PATCH") for r in RESOURCES if r.update
    ]
    assert writes
    for resource, method in writes:
        text = section(reference_text, SECTIONS[resource.name])
        documented = re.search(rf"{method} /v2/{resource.name}/", text) or (
            resource.name == "user-vouchers" and "PATCH voucher status to USED" in text
        )
        assert documented, (method, resource.name)


def test_every_filter_names_a_field_of_its_resource(
    reference: TestClient, reference_text: str
) -> None:
    """Filtering: "The documentation below specifies what filters are allowed on each
    resource", and "Relational Queries ... Available to fields with the note "SUPPORTS
    RELATIONAL QUERIES"". A filter the reference profile takes names a field of its resource's
    section (or of Filtering's examples), or queries through a field with that note."""
    general = reference_text[: reference_text.index("\nAgreement Version\n")]
    for resource in RESOURCES:
        text = section(reference_text, SECTIONS[resource.name])
        known = names(text) | names(general)
        relational = {
            line.split()[0]
            for line in text.splitlines()
            if "SUPPORTS RELATIONAL QUERIES" in line and line.split()
        }
        for name in [*resource.fields, *resource.lookups]:
            if name == "promotion_id" and resource.name == "promotions":
                continue  # the default profile's only (profiles.DEFAULT_ONLY_FILTERS)
            root = name.split("__")[0]
            assert name in known or root in relational, (resource.name, name)
    member = bearer(member_token(reference))
    response = reference.get("/v2/promotions/?promotion_id=601", headers=member)
    assert_api_error(response, 400, "invalid_request_error", field="promotion_id")


# --- running it ---------------------------------------------------------------------------------


def test_the_commands_take_a_profile() -> None:
    """`member-app sandbox|demo --profile reference`; a reference demo's kiosk has no Perkville
    sign-out page to send the browser through."""
    for command in ("sandbox", "demo"):
        assert _parser().parse_args([command]).profile == "default"
        assert _parser().parse_args([command, "--profile", "reference"]).profile == "reference"
        with pytest.raises(SystemExit):
            _parser().parse_args([command, "--profile", "newest"])
    kiosk = build_demo("http://a.test", "http://b.test", mode="kiosk", profile="reference")
    assert kiosk.settings.perkville_logout_url is None
    assert kiosk.sandbox.state.profile == "reference"
    kiosk.reseed()
    assert kiosk.sandbox.state.profile == "reference"
    with pytest.raises(ValueError):
        create_sandbox(profile="newest")  # type: ignore[arg-type]


def test_the_sandbox_readme_is_current() -> None:
    """The README describes the sandbox as it is: every module in its map, both profiles, and
    no word of a read-only sandbox."""
    text = SANDBOX_README.read_text()
    package = SANDBOX_README.parent
    modules = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "__pycache__" not in str(path)
    ]
    assert [m for m in modules if f"`{m}`" not in text] == []
    assert "--profile reference" in text
    for stale in (
        "All read-only",
        "the sandbox is read-only",
        "Not implemented: every other resource",
        "is still `[]`",
        "are still `[]`",
        "*not* read from the query string",
    ):
        assert stale not in text, stale
