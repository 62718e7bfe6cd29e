"""The sandbox earns like Perkville (reference: Transaction POST with a staff token, Connection
Balance, Voucher PATCH): what a gym's own systems do, over HTTP, with tokens bought the real way.

The demo gym: Maya (member@example.com, user 1001) has 1,250 points and 1,800 lifetime (Silver;
Gold at 2,500); perks 101 "Gym check-in" (5), 102 "Group fitness class" (15), 104 "Dollar spent
at the pro shop" (1 a dollar); locations 11 and 12.
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
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    APP_CALLBACK,
    MEMBER_EMAIL,
    admin_token,
    assert_api_error,
    bearer,
    hidden_inputs,
    member_token,
    sign_in,
)

MAYA = 1001
# A Wednesday at 21:00 in the gym's zone (Los Angeles): outside every time bonus's window, and
# the week after the demo's Thanksgiving triple points.
QUIET = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


@pytest.fixture(params=["default", "reference"])
def api(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    store = demo_store([APP_CALLBACK])
    store.clock = lambda: QUIET
    app = create_sandbox(store, profile=request.param)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _earn(api: TestClient, token: str, **fields: Any) -> Any:
    body = {
        "business": "/v2/businesses/4/",
        "location": "/v2/locations/11/",
        "perk": "/v2/perks/102/",
        "quantity": 1,
        "user": f"/v2/users/{MAYA}/",
        **fields,
    }
    return api.post("/v2/transactions/", json=body, headers=bearer(token))


def _balance(api: TestClient, token: str, **params: Any) -> dict[str, Any]:
    found = api.get("/v2/connection-balances/", params=params, headers=bearer(token))
    assert found.status_code == 200, found.text
    objects: list[dict[str, Any]] = found.json()["objects"]
    assert len(objects) == 1, objects
    return objects[0]


def test_a_staff_token_awards_points_and_the_balance_moves(api: TestClient) -> None:
    """ "If ADMIN_CUSTOMER_GRANT_POINTS is present, you may create EARN transactions for any
    customers who belong to the Business"; "A 201 response with a JSON object of the created
    Transaction"."""
    token = admin_token(api)
    before = _balance(api, token, business=4, user=MAYA)
    made = _earn(api, token, trans_source_id="class-1")
    assert made.status_code == 201, made.text
    assert made.json()["points"] == 15 and made.json()["user"] == f"/v2/users/{MAYA}/"
    after = _balance(api, token, business=4, user=MAYA)
    assert after["point_balance"] == before["point_balance"] + 15
    assert after["lifetime_earned_points"] == before["lifetime_earned_points"] + 15
    assert after["last_biz_perk_title"] == "Group fitness class"
    assert after["last_mod_dt"] > before["last_mod_dt"]


def test_the_same_trans_source_id_never_awards_twice(api: TestClient) -> None:
    """ "This field is guaranteed to be unique for a business ... avoiding the case where a
    customer may be awarded points twice for a purchase"."""
    token = admin_token(api)
    assert _earn(api, token, trans_source_id="visit-77").status_code == 201
    balance = _balance(api, token, business=4, user=MAYA)["point_balance"]
    again = _earn(api, token, trans_source_id="visit-77")
    assert_api_error(again, 400, "invalid_request_error", field="trans_source_id")
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == balance


def test_once_per_calendar_day_by_the_locations_clock(api: TestClient) -> None:
    """ "If this is true, each user may only earn this perk once per day, based on the timezone
    of the location"."""
    token = admin_token(api)
    first = _earn(api, token, perk="/v2/perks/101/", limit_to_once_per_calendar_day=True)
    assert first.status_code == 201, first.text
    second = _earn(api, token, perk="/v2/perks/101/", limit_to_once_per_calendar_day=True)
    assert_api_error(second, 400, "invalid_request_error")
    # 09:00 UTC on Dec 1 is 01:00 the same day in Los Angeles (QUIET is Dec 1, 21:00 there):
    # another UTC date, the location's same day, so refused; 07:00 UTC is Nov 30 there: allowed.
    same_day = _earn(
        api, token, perk="/v2/perks/101/", limit_to_once_per_calendar_day=True,
        transaction_dt="2026-12-01 09:00",
    )  # fmt: skip
    assert_api_error(same_day, 400, "invalid_request_error")
    day_before = _earn(
        api, token, perk="/v2/perks/101/", limit_to_once_per_calendar_day=True,
        transaction_dt="2026-12-01 07:00",
    )  # fmt: skip
    assert day_before.status_code == 201, day_before.text


def test_a_negative_quantity_takes_points_back(api: TestClient) -> None:
    """ "If you'd like to deduct points for something like a dollar spent rule (e.g. in the event
    of a refund), you may post a negative quantity"."""
    token = admin_token(api)
    before = _balance(api, token, business=4, user=MAYA)["point_balance"]
    refund = _earn(api, token, perk="/v2/perks/104/", quantity=-20)
    assert refund.status_code == 201, refund.text
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == before - 20


def test_transaction_dt_may_not_be_in_the_future_or_over_a_year_old(api: TestClient) -> None:
    """ "This value may not be in the future, or more than 1 year in the past"."""
    token = admin_token(api)
    for when in ("2026-12-03", "2025-11-01"):
        late = _earn(api, token, transaction_dt=when)
        assert_api_error(late, 400, "invalid_request_error", field="transaction_dt")


def test_a_new_email_becomes_a_new_member(api: TestClient) -> None:
    """ "If the User doesn't exist, we'll create a new user from the provided email, award the
    Transaction"."""
    token = admin_token(api)
    made = _earn(api, token, user=None, user_email="new.member@example.org", first_name="Nia")
    assert made.status_code == 201, made.text
    balance = _balance(api, token, business=4, user__emails__email="new.member@example.org")
    assert balance["point_balance"] == 15


def test_external_member_ids_name_the_member_after_first_use(api: TestClient) -> None:
    """ "If the external_member_id does not already exist, then it will become associated with
    user/user_email passed into the request"; "If no email was provided in the latter case, the
    Transaction will fail"."""
    token = admin_token(api)
    ids = {"external_member_id": "M-100", "external_system_id": "DESK"}
    unknown = _earn(api, token, user=None, **ids)
    assert_api_error(unknown, 400, "invalid_request_error")
    assert _earn(api, token, user=None, user_email=MEMBER_EMAIL, **ids).status_code == 201
    again = _earn(api, token, user=None, trans_source_id="ext-2", **ids)
    assert again.status_code == 201 and again.json()["user"] == f"/v2/users/{MAYA}/"


def test_crossing_a_floor_moves_the_level(api: TestClient) -> None:
    """Connection: "level The current level of the user"; the demo's levels count lifetime
    points (Gold from 2,500; Maya has 1,800)."""
    token = admin_token(api)
    made = _earn(api, token, perk="/v2/perks/104/", quantity=700)
    assert made.status_code == 201, made.text
    conn = api.get("/v2/connections/", params={"business": 4, "user": MAYA}, headers=bearer(token))
    assert conn.json()["objects"][0]["level"] == "/v2/levels/23/"


def test_a_member_token_cannot_award(api: TestClient) -> None:
    """ "If USER_REDEEM is present, you may create a REDEEM transaction for only the user
    associated with the bearer token"."""
    token = member_token(api)
    refused = _earn(api, token)
    assert refused.status_code in (400, 403), refused.text
    assert _earn(api, admin_token(api)).status_code == 201


def test_connection_balances_need_a_filter_and_staff(api: TestClient) -> None:
    """ "required to append at least a connection filter, business filter, or user filter";
    Required scopes: PUBLIC, ADMIN_CUSTOMER_INFO."""
    token = admin_token(api)
    bare = api.get("/v2/connection-balances/", headers=bearer(token))
    assert_api_error(bare, 400, "invalid_request_error")
    member = api.get("/v2/connection-balances/?business=4", headers=bearer(member_token(api)))
    assert member.status_code == 403


def test_changed_balances_are_found_by_last_mod_dt(api: TestClient) -> None:
    """`/v2/connection-balances/?business=6&last_mod_dt__gte=2019-01-01`."""
    token = admin_token(api)
    assert _earn(api, token).status_code == 201
    changed = api.get(
        "/v2/connection-balances/",
        params={"business": 4, "last_mod_dt__gte": QUIET.isoformat()},
        headers=bearer(token),
    ).json()["objects"]
    assert [b["user"] for b in changed] == [f"/v2/users/{MAYA}/"]


def test_staff_mark_a_voucher_used(api: TestClient) -> None:
    """Voucher PATCH: "Valid values are 'USED', 'UNUSED', 'EXPIRED'"; "202 Accepted"."""
    token = admin_token(api)
    used = api.patch("/v2/vouchers/52005/", json={"status": "USED"}, headers=bearer(token))
    assert used.status_code == 202, used.text
    assert used.json()["status"] == "USED"
    voided = api.patch("/v2/vouchers/52007/", json={"status": "VOIDED"}, headers=bearer(token))
    assert_api_error(voided, 400, "invalid_request_error", field="status")


def _desk_form(html: str) -> dict[str, str]:
    return hidden_inputs(html[html.index('action="/front-desk/award"') :])


def test_the_front_desk_checks_a_member_in_through_the_api(api: TestClient) -> None:
    """The demo's front desk: staff sign in, find Maya by email, check her in once a day, log a
    purchase; the same form sent twice awards once (its trans_source_id)."""
    desk = api.get("/front-desk/")
    assert desk.status_code == 303 and desk.headers["location"].startswith("/login/")
    assert sign_in(api, desk.headers["location"], ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    page = api.get("/front-desk/", params={"email": MEMBER_EMAIL})
    assert page.status_code == 200 and "1,250" not in page.text and "1250 points" in page.text
    form = {**_desk_form(page.text), "location": "11", "dollars": "1", "kind": "checkin"}
    done = api.post("/front-desk/award", data=form)
    assert done.status_code == 303
    shown = api.get(done.headers["location"]).text
    assert "+5 points · Gym check-in" in shown and "1255 points" in shown
    again = api.post("/front-desk/award", data=form)  # the same form again
    assert "already" in api.get(again.headers["location"]).text
    fresh = {**_desk_form(shown), "location": "11", "dollars": "1", "kind": "checkin"}
    twice = api.get(api.post("/front-desk/award", data=fresh).headers["location"]).text
    assert "already earned by this member today" in twice and "1255 points" in twice
    buy = {**_desk_form(twice), "location": "12", "dollars": "40", "kind": "purchase"}
    bought = api.get(api.post("/front-desk/award", data=buy).headers["location"]).text
    assert "+40 points · Dollar spent at the pro shop" in bought and "1295 points" in bought


def test_the_front_desk_is_for_staff_only(api: TestClient) -> None:
    desk = api.get("/front-desk/")
    assert sign_in(api, desk.headers["location"], MEMBER_EMAIL, "perkville-demo").status_code == 303
    assert api.get("/front-desk/").status_code == 403
    refused = api.post("/front-desk/award", data={"kind": "checkin", "email": MEMBER_EMAIL})
    assert refused.status_code == 303
    token = admin_token(api)
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == 1250


# --- Transaction Batch (POST /v2/batch/transactions/) -----------------------------------------


def _batch(api: TestClient, token: str, transactions: list[Any], **fields: Any) -> Any:
    body = {"business": "4", "transactions": transactions, **fields}
    return api.post("/v2/batch/transactions/", json=body, headers=bearer(token))


def _item(**fields: Any) -> dict[str, Any]:
    return {"location": "11", "perk": "102", "quantity": "1", "user": str(MAYA), **fields}


def _codes(api: TestClient) -> dict[str, str]:
    """A refusal's code as each profile writes it (the reference profile: only its own)."""
    reference = api.app.state.profile == "reference"  # type: ignore[attr-defined]
    named = ("pv_txn_duplicate_trans_source_id", "pv_txn_once_per_calendar_day", "invalid_field")
    return {code: "invalid" if reference else code for code in named}


def _found(api: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    found = api.get("/v2/transactions/", params={"business": 4, **params}, headers=bearer(token))
    assert found.status_code == 200, found.text
    objects: list[dict[str, Any]] = found.json()["objects"]
    return objects


def test_a_batch_answers_each_transaction_in_order(api: TestClient) -> None:
    """Transaction Batch: "A 200 response with a list of JSON objects representing each
    transaction's result. Results will be returned in the order they were given. If successful,
    the JSON object will include the created transaction details. If unsuccessful, it will
    include an "errors" JSON object"; "Resource URIs are not supported. Only primary keys are
    used". A refused transaction changes nothing; the others go on."""
    token = admin_token(api)
    before = _balance(api, token, business=4, user=MAYA)["point_balance"]
    answer = _batch(
        api,
        token,
        [
            _item(trans_source_id="b-1"),
            _item(perk="999", trans_source_id="b-2"),  # no such perk
            _item(perk="202", trans_source_id="b-3"),  # a Protein bar, 50 points, for Maya
            _item(perk="205", trans_source_id="b-4"),  # 2000 points: Maya has 1250
            _item(perk="/v2/perks/102/", trans_source_id="b-5"),  # a URI, not an id
            _item(user=None, user_email="edward_test@example.org", first_name="Edward"),
            _item(user=None, user_email="rex_test@example.org", perk="202"),  # not a customer
        ],
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["business"] == "4" and len(body["transactions"]) == 7
    earned, no_perk, redeemed, too_dear, uri, new_member, stranger = body["transactions"]
    assert set(earned) == REFERENCE_FIELDS["batch/transactions"] - {"errors"}
    assert earned["classification"] == "EARN" and earned["points"] == 15
    assert (earned["business"], earned["location"], earned["perk"]) == ("4", "11", "102")
    assert earned["user"] == str(MAYA) and earned["trans_source_id"] == "b-1"
    assert isinstance(earned["transaction_id"], int) and earned["voucher"] is None
    assert redeemed["classification"] == "REDEEM" and redeemed["voucher"].isdigit()
    # "'errors': {'message': 'The user doesn't have enough points to complete this
    # transaction.', 'code': 'pv_txn_insufficient_points'}"
    assert too_dear == {
        "errors": {
            "message": "The user doesn't have enough points to complete this transaction.",
            "code": "pv_txn_insufficient_points",
        }
    }
    for refused in (no_perk, uri, stranger):
        assert set(refused) == {"errors"} and set(refused["errors"]) == {"message", "code"}
    assert no_perk["errors"]["code"] == uri["errors"]["code"] == "invalid"
    assert new_member["user"] != str(MAYA) and new_member["points"] == 15
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == before + 15 - 50
    for source in ("b-2", "b-4", "b-5"):
        assert _found(api, token, user=MAYA, trans_source_id=source) == []
    voucher = api.get(f"/v2/vouchers/{redeemed['voucher']}/", headers=bearer(token)).json()
    assert voucher["status"] == "USED"  # "normally perks redeemed by admins ... are marked as USED"
    strangers = api.get("/v2/users/?emails__email=rex_test@example.org", headers=bearer(token))
    assert strangers.json()["objects"] == []  # the refused item made no user


def test_a_batch_takes_at_most_200(api: TestClient) -> None:
    """ "Limit of 200 can be posted at a time": 200 are awarded, 201 are refused whole."""
    token = admin_token(api)
    before = _balance(api, token, business=4, user=MAYA)["point_balance"]
    dollars = [_item(perk="104", trans_source_id=f"till-{i}") for i in range(201)]
    refused = _batch(api, token, dollars)
    assert_api_error(refused, 400, "invalid_request_error", field="transactions")
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == before
    taken = _batch(api, token, dollars[:200])
    assert taken.status_code == 200, taken.text
    assert all("errors" not in t for t in taken.json()["transactions"])
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == before + 200


def test_a_batch_needs_both_admin_scopes(api: TestClient) -> None:
    """Required scopes: "PUBLIC", "Both of these: ADMIN_CUSTOMER_GRANT_POINTS,
    ADMIN_CUSTOMER_REDEEM" (and nothing else); "GET: You can't read from this resource"."""
    one = admin_token(api, scope="PUBLIC ADMIN_CUSTOMER_INFO ADMIN_CUSTOMER_GRANT_POINTS")
    assert_api_error(_batch(api, one, [_item()]), 403, "authorization_error")
    assert_api_error(_batch(api, member_token(api), [_item()]), 403, "authorization_error")
    both = admin_token(api, scope="PUBLIC ADMIN_CUSTOMER_GRANT_POINTS ADMIN_CUSTOMER_REDEEM")
    made = _batch(api, both, [_item()])
    assert made.status_code == 200 and "errors" not in made.json()["transactions"][0], made.text
    read = api.get("/v2/batch/transactions/", headers=bearer(both))
    assert_api_error(read, 501, "invalid_request_error")


def test_trans_source_id_is_unique_inside_and_across_batches(api: TestClient) -> None:
    """trans_source_id: "This field is guaranteed to be unique for a business": the second use,
    in the same batch or a later one, is refused and awards nothing."""
    token = admin_token(api)
    before = _balance(api, token, business=4, user=MAYA)["point_balance"]
    first = _batch(api, token, [_item(trans_source_id="pos-9"), _item(trans_source_id="pos-9")])
    made, again = first.json()["transactions"]
    assert made["trans_source_id"] == "pos-9"
    duplicate = _codes(api)["pv_txn_duplicate_trans_source_id"]
    assert again["errors"]["code"] == duplicate
    later = _batch(api, token, [_item(trans_source_id="pos-9", perk="101")])
    assert later.json()["transactions"][0]["errors"]["code"] == duplicate
    assert _balance(api, token, business=4, user=MAYA)["point_balance"] == before + 15
    assert len(_found(api, token, user=MAYA, trans_source_id="pos-9")) == 1


def test_the_batchs_own_fields_apply_to_every_transaction(api: TestClient) -> None:
    """ "When creating batch Transactions, the following fields will apply to the entire batch:
    ... Voucher start as unused"; limit_to_once_per_calendar_day: "This parameter will apply to
    the entire batch of transactions"; a business the token's user is not staff at is
    refused."""
    token = admin_token(api)
    answer = _batch(
        api,
        token,
        [
            _item(perk="101"),
            _item(perk="101"),
            _item(perk="202", location=None, external_location_id="sf-dt"),
        ],
        voucher_start_as_unused=True,
        limit_to_once_per_calendar_day=True,
        send_email=False,
    )
    checkin, twice, redeemed = answer.json()["transactions"]
    assert checkin["perk"] == "101"
    assert twice["errors"]["code"] == _codes(api)["pv_txn_once_per_calendar_day"]
    assert redeemed["location"] == "11"  # Downtown's external_location_id, SF-DT
    voucher = api.get(f"/v2/vouchers/{redeemed['voucher']}/", headers=bearer(token)).json()
    assert voucher["status"] == "UNUSED"
    elsewhere = api.post(
        "/v2/batch/transactions/",
        json={"business": 5, "transactions": [_item(location="51", perk="301")]},
        headers=bearer(token),
    )
    assert_api_error(elsewhere, 403, "authorization_error")
    per_item = _batch(api, token, [_item(send_email=True)])  # a batch-level field
    assert per_item.json()["transactions"][0]["errors"]["code"] == _codes(api)["invalid_field"]
