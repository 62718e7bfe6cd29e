"""The sandbox's rewards resources, checked over HTTP against the reference (Perk, Perk Category,
Transaction, Voucher, User Voucher, Earning Rules, Redeeming Rules) and the seeded demo gym.

The store's clock is the test's `clock`: Sunday 2026-11-22 18:00 UTC, the demo's "today",
until a test moves it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app.sandbox.store import Store
from tests.helpers import SANDBOX_URL, FakeClock
from tests.sandbox_helpers import (
    MEMBER_PASSWORD,
    admin_token,
    assert_api_error,
    authorize,
    bearer,
    exchange_code,
    member_token,
)

Headers = dict[str, str]
MAYA_VOUCHERS = [52009, 52008, 52007, 52005, 52004, 52002, 52001]
REWARD_FIELDS = {
    "business", "perk_id", "description", "points", "title", "type",
    "must_redeem_at_home_location", "redemption_limit_interval", "redemption_limit_count",
    "redemption_limit_interval_count", "user_redemption_limit_info", "required_level",
    "start_date", "end_date", "from_date", "to_date", "picture_card", "fine_print",
    "external_reward_url", "redemption_instructions", "valid_customer_attributes",
    "display_order", "loc_id",
}  # fmt: skip
USER_VOUCHER_FIELDS = {
    "business", "created_datetime", "details", "expiration_date", "external_coupon_code",
    "location", "network_reward_url", "perk", "perk_description", "perk_fine_print",
    "picture_card", "point_cost", "promotion_fine_print", "reward_url", "status", "title",
    "user", "voucher_id",
}  # fmt: skip


@pytest.fixture
def store(sandbox: Starlette) -> Store:
    store: Store = sandbox.state.store
    return store


@pytest.fixture
def member(sandbox_client: TestClient) -> Headers:
    """Maya (user 1001): every scope the demo app may ask for."""
    return bearer(member_token(sandbox_client))


@pytest.fixture
def admin(sandbox_client: TestClient) -> Headers:
    """Sam (user 1002), ADMIN staff of business 4."""
    return bearer(admin_token(sandbox_client))


@pytest.fixture
def member_with(sandbox_client: TestClient) -> Callable[[str], Headers]:
    """Maya with only the scopes named."""
    return lambda scope: bearer(member_token(sandbox_client, scope=scope))


def token_for(sandbox: Starlette, email: str) -> Headers:
    """Another member, signed in from a browser of their own."""
    with TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as browser:
        authorized = authorize(browser, email=email, password=MEMBER_PASSWORD)
        response = exchange_code(browser, authorized.code, authorized.verifier)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def get_ok(client: TestClient, url: str, headers: Headers) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def objects(client: TestClient, url: str, headers: Headers) -> list[dict[str, Any]]:
    """Every object of a list, following `next`."""
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = get_ok(client, next_url, headers)
        assert set(body["meta"]) == {"limit", "offset", "next", "previous", "total_count"}
        found += body["objects"]
        next_url = body["meta"]["next"]
    return found


def by_id(items: list[dict[str, Any]], key: str = "perk_id") -> dict[int, dict[str, Any]]:
    return {item[key]: item for item in items}


def redeem(
    client: TestClient, headers: Headers, perk: int, location: int = 11, **extra: Any
) -> Any:
    body = {
        "business": "/v2/businesses/4/",
        "location": f"/v2/locations/{location}/",
        "perk": f"/v2/perks/{perk}/",
        "quantity": 1,
        **extra,
    }
    return client.post("/v2/transactions/", headers=headers, json=body)


def balance(store: Store) -> int:
    return store.connections[3001].point_balance


# --- perks and categories ------------------------------------------------------------------------


def test_perks_are_public_and_show_the_references_fields(
    sandbox_client: TestClient, member: Headers
) -> None:
    perks = by_id(objects(sandbox_client, "/v2/perks/?business=4&limit=100", member))
    gold = perks[206]
    assert gold == get_ok(sandbox_client, "/v2/perks/206/", member)
    assert gold["classification"] == "REDEEM"
    assert gold["required_level"] == "/v2/levels/23/"
    assert gold["category"] == "/v2/perk-categories/36/"
    assert gold["resource_uri"] == "/v2/perks/206/"
    assert gold["eligible_at_all_locations"] is True and "eligible_locations" not in gold
    sauna = perks[207]
    assert sauna["eligible_at_all_locations"] is False
    assert sauna["eligible_locations"] == ["/v2/locations/12/"]
    assert sauna["must_redeem_at_home_location"] is True
    assert perks[204]["redemption_limit_interval"] == "MONTH"
    assert perks[204]["redemption_limit_count"] == 1
    assert perks[211]["external_coupon_code"] == "SUMMIT20"
    assert perks[211]["initial_voucher_status"] == "ISSUED"
    assert perks[210]["type"] == "EXTERNAL_REWARD"
    assert perks[210]["external_reward_url"] == "https://partner.example/summit-meal-kit"
    assert (perks[208]["start_date"], perks[208]["end_date"]) == ("2026-06-01", "2026-08-31")
    # "all active redeem perks" (reference, Filtering): INACTIVE ones only when asked for.
    assert 213 not in perks
    assert get_ok(sandbox_client, "/v2/perks/213/", member)["status"] == "INACTIVE"
    inactive = objects(sandbox_client, "/v2/perks/?business=4&status=INACTIVE", member)
    assert 213 in [p["perk_id"] for p in inactive]
    # The Perk endpoint includes what the views hide: bookkeeping, hidden and bonus perks.
    hidden = objects(
        sandbox_client, "/v2/perks/?admin_flagged_as_invisible_to_customers=true", member
    )
    assert [p["perk_id"] for p in hidden] == [109, 110, 212]
    query = "/v2/perks/?business=4&classification=REDEEM&type__in=EXTERNAL_REWARD,BIRTHDAY"
    assert [p["perk_id"] for p in objects(sandbox_client, query, member)] == [210]


def test_perk_pictures_are_served(sandbox_client: TestClient, member: Headers) -> None:
    smoothie = get_ok(sandbox_client, "/v2/perks/201/", member)
    assert smoothie["picture_card"] == f"{SANDBOX_URL}/media/perks/201.svg"
    response = sandbox_client.get("/media/perks/201.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "Free smoothie" in response.text
    assert get_ok(sandbox_client, "/v2/perks/206/", member)["picture_card"] is None
    assert sandbox_client.get("/media/perks/206.svg").status_code == 404
    assert sandbox_client.get("/media/perks/999.svg").status_code == 404


def test_perk_categories_need_a_business(sandbox_client: TestClient, member: Headers) -> None:
    response = sandbox_client.get("/v2/perk-categories/", headers=member)
    assert_api_error(response, 400, "invalid_request_error", field="__all__", code="required")
    response = sandbox_client.get("/v2/perk-categories/?business__in=4,5", headers=member)
    assert_api_error(response, 400, "invalid_request_error", field="business__in")
    cats = objects(sandbox_client, "/v2/perk-categories/?business=4", member)
    assert [c["category_name"] for c in cats][:3] == ["Visits", "Classes & training", "Shop"]
    assert by_id(cats, "category_id")[32]["perks"] == ["/v2/perks/102/", "/v2/perks/103/"]


# --- earning rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("", "business", "required"),
        ("loc_id=11", "business", "required"),
        ("business=abc", "business", "invalid"),
        ("business=99", "business", "invalid"),
        ("business=4&loc_id=51", "loc_id", "invalid"),
        ("business=4&view_as_user=maybe", "view_as_user", "invalid"),
        ("business=4&all_locs=true", "all_locs", "invalid_filter"),
    ],
)
def test_views_check_their_parameters(
    sandbox_client: TestClient, member: Headers, query: str, field: str, code: str
) -> None:
    for view in ("earning", "redeeming"):
        response = sandbox_client.get(f"/v2/{view}/?{query}", headers=member)
        assert_api_error(response, 400, "invalid_request_error", field=field, code=code)


def test_views_need_public_or_user_customer_info(
    sandbox_client: TestClient, member_with: Callable[[str], Headers]
) -> None:
    redeem_only = member_with("USER_REDEEM")
    for view in ("earning", "redeeming"):
        response = sandbox_client.get(f"/v2/{view}/?business=4", headers=redeem_only)
        assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
        response = sandbox_client.post(f"/v2/{view}/?business=4", headers=redeem_only)
        assert_api_error(response, 501, "invalid_request_error", code="method_not_implemented")
    info_only = member_with("USER_CUSTOMER_INFO")
    assert get_ok(sandbox_client, "/v2/earning/?business=4", info_only)["objects"]


def test_earning_rules_in_display_order(sandbox_client: TestClient, member: Headers) -> None:
    rules = objects(sandbox_client, "/v2/earning/?business=4&view_as_user=true", member)
    # Categorised rules first (Visits, Classes & training, Shop), then the rest. Activities,
    # bonus, bookkeeping, hidden and inactive perks are not rules a member sees.
    assert [r["perk_id"] for r in rules] == [101, 102, 103, 104, 105, 106, 107]
    assert {r["loc_id"] for r in rules} == {11}  # Maya's home location
    check_in = rules[0]
    assert check_in["category"] == {
        "category_id": 31,
        "category_name": "Visits",
        "display_order": 1,
    }
    assert check_in["completes_referral"] is True
    assert set(check_in) == {
        "business", "category", "completes_referral", "date_range_bonuses", "description",
        "display_name", "display_order", "frequency_bonuses", "loc_id", "perk_id", "points",
        "time_bonuses", "title", "type",
    }  # fmt: skip
    referral = by_id(rules)[105]
    assert (referral["type"], referral["title"], referral["display_name"]) == (
        "REFERRAL",
        "Referral",
        "Refer a friend",
    )
    assert referral["category"] is None


def test_earning_rules_carry_their_bonuses(sandbox_client: TestClient, member: Headers) -> None:
    rules = by_id(objects(sandbox_client, "/v2/earning/?business=4&view_as_user=true", member))
    check_in, klass = rules[101], rules[102]
    assert check_in["time_bonuses"] == [
        {
            "multiplier": "2.00",
            "perk_id": 121,
            "time_periods": {d: ["5 am to 8 am"] for d in ("Monday", "Wednesday", "Friday")},
        }
    ]
    # Current and upcoming date-range bonuses; the summer one has ended.
    assert check_in["date_range_bonuses"] == [
        {"from_date": "2026-11-20", "multiplier": "3.00", "perk_id": 123, "to_date": "2026-11-29"},
        {"from_date": "2027-01-01", "multiplier": "2.00", "perk_id": 124, "to_date": "2027-01-15"},
    ]
    weekly, monthly = check_in["frequency_bonuses"]
    assert weekly == {
        "bonus_points": 25,
        "earned_count": 2,  # Monday's and Friday's check-ins
        "frequency": "WEEKLY",
        "frequency_bonus_perk_id": 401,
        "perk_id": 126,
        "required_to_earn": 4,
        "start_date": "2026-01-05",
    }
    # November: 7 check-ins and 2 classes (either counts).
    assert (monthly["frequency"], monthly["earned_count"], monthly["required_to_earn"]) == (
        "MONTHLY",
        9,
        12,
    )
    assert [(b["frequency"], b["earned_count"]) for b in klass["frequency_bonuses"]] == [
        ("MONTHLY", 9),
        ("FROM_DATE", 3),
    ]
    assert [b["perk_id"] for b in klass["time_bonuses"]] == [122]
    # Northgate has no lunchtime class boost.
    at_13 = by_id(objects(sandbox_client, "/v2/earning/?business=4&loc_id=13", member))
    assert at_13[102]["time_bonuses"] == []
    assert {r["loc_id"] for r in at_13.values()} == {13}


def test_earned_count_needs_the_member_view(
    sandbox_client: TestClient, member: Headers, admin: Headers
) -> None:
    for url, headers in (
        ("/v2/earning/?business=4", member),
        ("/v2/earning/?business=4&view_as_user=false", member),
        ("/v2/earning/?business=4&view_as_user=true", admin),
    ):
        counts = [
            b["earned_count"]
            for rule in objects(sandbox_client, url, headers)
            for b in rule["frequency_bonuses"]
        ]
        assert counts and set(counts) == {0}, url


def test_frequency_windows_restart(
    sandbox_client: TestClient, member: Headers, clock: FakeClock
) -> None:
    url = "/v2/earning/?business=4&view_as_user=true"

    def progress() -> dict[str, int]:
        rules = objects(sandbox_client, url, member)
        return {b["frequency"]: b["earned_count"] for r in rules for b in r["frequency_bonuses"]}

    assert progress() == {"WEEKLY": 2, "MONTHLY": 9, "FROM_DATE": 3}
    # Weeks and months start at midnight on the gym's clocks (Portland), not UTC's.
    clock.set(datetime(2026, 11, 23, 7, 59, tzinfo=UTC))  # Sunday, 11:59 pm in Portland
    assert progress() == {"WEEKLY": 2, "MONTHLY": 9, "FROM_DATE": 3}
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # Monday, 1 am: a new week
    assert progress() == {"WEEKLY": 0, "MONTHLY": 9, "FROM_DATE": 3}
    clock.set(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))  # still November 30 there
    assert progress() == {"WEEKLY": 0, "MONTHLY": 9, "FROM_DATE": 3}
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # a new month
    assert progress() == {"WEEKLY": 0, "MONTHLY": 0, "FROM_DATE": 3}


def test_default_location(
    sandbox_client: TestClient, member: Headers, admin: Headers, store: Store
) -> None:
    def loc(headers: Headers) -> int:
        return int(
            get_ok(sandbox_client, "/v2/earning/?business=4", headers)["objects"][0]["loc_id"]
        )

    assert loc(admin) == 11  # no connection: the business's first location
    store.connections[3001].home_location_id = 13
    assert loc(member) == 13  # the member's home location


# --- redeeming rules -----------------------------------------------------------------------------


def test_rewards_in_display_order_with_can_redeem(
    sandbox_client: TestClient, member: Headers
) -> None:
    rewards = objects(sandbox_client, "/v2/redeeming/?business=4&view_as_user=true", member)
    # Not listed at Downtown: the Riverside-only pass, the ended tank top, hidden and inactive.
    assert [(r["perk_id"], r["can_redeem"]) for r in rewards] == [
        (201, True),  # affordable
        (202, True),
        (203, True),
        (209, True),  # in its date window
        (211, True),  # coupon code
        (204, False),  # limit reached
        (206, False),  # Gold only; Maya is Silver
        (205, False),  # 2000 points; Maya has 1250
        (210, True),  # external reward
    ]
    for r in rewards:
        assert set(r) == REWARD_FIELDS | {"can_redeem"}
        assert r["loc_id"] == 11


def test_reward_details(sandbox_client: TestClient, member: Headers) -> None:
    url = "/v2/redeeming/?business=4&view_as_user=true"
    rewards = by_id(objects(sandbox_client, url, member))
    assert rewards[204]["user_redemption_limit_info"] == {
        "has_met_limit": True,
        "next_redemption_opportunity": "2026-12-05",
        "redemptions_remaining": 0,
    }
    assert (
        rewards[204]["redemption_limit_interval_count"],
        rewards[204]["redemption_limit_count"],
    ) == (1, 1)
    # The voided bottle redemption does not count against the once-ever limit.
    assert rewards[203]["user_redemption_limit_info"] == {
        "has_met_limit": False,
        "next_redemption_opportunity": "2026-11-22",
        "redemptions_remaining": 1,
    }
    assert rewards[203]["redemption_limit_interval_count"] is None
    assert rewards[201]["user_redemption_limit_info"] is None
    assert rewards[201]["redemption_limit_interval"] == "NO_REDEMPTION_LIMIT"
    assert rewards[206]["required_level"] == "/v2/levels/23/"
    assert rewards[210]["type"] == "EXTERNAL_REWARD"
    assert rewards[210]["external_reward_url"] == "https://partner.example/summit-meal-kit"
    gift = rewards[209]
    assert (gift["start_date"], gift["end_date"]) == ("2026-11-15", "2026-12-31")
    assert (gift["from_date"], gift["to_date"]) == ("2026-11-15", "2026-12-31")
    assert gift["picture_card"] == f"{SANDBOX_URL}/media/perks/209.svg"
    assert rewards[201]["redemption_instructions"] == "Show this voucher at the juice bar."


def test_home_location_reward_is_listed_where_it_is_offered(
    sandbox_client: TestClient, member: Headers
) -> None:
    url = "/v2/redeeming/?business=4&loc_id=12&view_as_user=true"
    sauna = by_id(objects(sandbox_client, url, member))[207]
    assert sauna["must_redeem_at_home_location"] is True
    assert sauna["loc_id"] == 12
    assert sauna["can_redeem"] is False  # Maya's home is Downtown


def test_logged_out_view_has_no_member_details(sandbox_client: TestClient, member: Headers) -> None:
    rewards = objects(sandbox_client, "/v2/redeeming/?business=4", member)
    assert len(rewards) == 9
    for r in rewards:
        assert set(r) == REWARD_FIELDS
        assert r["user_redemption_limit_info"] is None


def test_pending_member_cannot_redeem(sandbox: Starlette, sandbox_client: TestClient) -> None:
    jordan = token_for(sandbox, "pending@example.com")
    url = "/v2/redeeming/?business=4&view_as_user=true"
    rewards = objects(sandbox_client, url, jordan)
    assert rewards and {r["can_redeem"] for r in rewards} == {False}
    assert {r["loc_id"] for r in rewards} == {12}  # Jordan's home location
    response = redeem(sandbox_client, jordan, 202, 12)
    assert_api_error(response, 400, "invalid_request_error", code="pv_connection_not_joined")
    assert sandbox.state.store.connections[3003].point_balance == 120


# --- transactions: point history -----------------------------------------------------------------


def test_point_history_is_the_members_own_newest_first(
    sandbox_client: TestClient, member: Headers
) -> None:
    body = get_ok(sandbox_client, "/v2/transactions/", member)  # no filter needed
    assert body["meta"]["total_count"] == 198
    txns = body["objects"]
    assert txns[0]["transaction_dt"] == "2026-11-20T15:42:00+00:00"  # 7:42 am in Portland
    assert [t["title"] for t in txns[:3]] == [
        "Thanksgiving week triple points",
        "Early bird double points",
        "Gym check-in",
    ]
    dates = [t["transaction_dt"] for t in txns]
    assert dates == sorted(dates, reverse=True)
    assert {t["user"] for t in txns} == {"/v2/users/1001/"}
    first = txns[0]
    assert get_ok(sandbox_client, first["resource_uri"], member) == first
    assert "voucher" not in first  # only transactions with a voucher carry the key


def test_seeded_ledger_adds_up(sandbox_client: TestClient, member: Headers) -> None:
    txns = objects(sandbox_client, "/v2/transactions/?business=4&user=me&limit=100", member)
    assert len(txns) >= 150
    earned = sum(t["points"] * t["quantity"] for t in txns if t["classification"] == "EARN")
    spent = sum(t["points"] * t["quantity"] for t in txns if t["classification"] == "REDEEM")
    conn = get_ok(sandbox_client, "/v2/connections/3001/", member)
    assert earned == conn["lifetime_earned_points"] == 1800
    assert earned - spent == conn["point_balance"] == 1250
    assert spent == 550
    assert max(t["transaction_dt"] for t in txns) == conn["last_transaction_dt"]
    assert all(t["transaction_dt"] < "2026-11-22" for t in txns)
    in_year = [t for t in txns if t["transaction_dt"] >= "2025-11-22"]
    assert len(in_year) >= 150
    # Voids: the original is VOID, a VOID_REF for the negative amount points back at it.
    byid = by_id(txns, "transaction_id")
    refs = [t for t in txns if t["transaction_status"] == "VOID_REF"]
    assert len(refs) == 3
    for ref in refs:
        original = byid[int(ref["transaction_reference"].split("/")[-2])]
        assert original["transaction_status"] == "VOID"
        assert original["transaction_reference"] == ref["resource_uri"]
        assert ref["points"] == -original["points"]
    assert any(t["points"] == 0 and t["quantity"] > 1 for t in txns)  # activities
    # Every voucher a transaction names exists.
    for t in txns:
        if "voucher" in t:
            assert get_ok(sandbox_client, t["voucher"], member)["transaction"] == t["resource_uri"]


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("user=me&biz=4", 198),
        ("business=4&perk__classification=REDEEM", 8),
        ("business=4&perk__classification=EARN&transaction_status=VOID", 2),
        ("transaction_status__in=VOID,VOID_REF", 6),
        ("transaction_dt__gte=2026-11-16T00:00:00Z&transaction_dt__lte=2026-11-21", 5),
        ("transaction_dt__gte=2026-11-01%2000%3A00Z", 16),
        ("perk=101&location=12", 15),
        # 8 workouts logged, 8 cardio and 4 strength sessions (the challenges')
        ("user__emails__email=member@example.com&perk__type=PROGRESS_ACTIVITY", 20),
        ("business=5", 0),
    ],
)
def test_transaction_filters(
    sandbox_client: TestClient, member: Headers, query: str, count: int
) -> None:
    body = get_ok(sandbox_client, f"/v2/transactions/?{query}", member)
    assert body["meta"]["total_count"] == count


def test_transaction_filters_are_checked(sandbox_client: TestClient, member: Headers) -> None:
    for query, field in (("order_by=points", "order_by"), ("transaction_dt__gte=soon", None)):
        response = sandbox_client.get(f"/v2/transactions/?{query}", headers=member)
        assert_api_error(response, 400, "invalid_request_error", field=field)


def test_admins_must_name_a_user(sandbox_client: TestClient, admin: Headers) -> None:
    for query in ("", "business=4", "biz=4&transaction_status=ACTIVE"):
        response = sandbox_client.get(f"/v2/transactions/?{query}", headers=admin)
        assert_api_error(response, 400, "invalid_request_error", field="__all__", code="required")
    body = get_ok(sandbox_client, "/v2/transactions/?user=1001", admin)
    assert body["meta"]["total_count"] == 198
    query = "/v2/transactions/?user__emails__email=pending@example.com"
    assert get_ok(sandbox_client, query, admin)["meta"]["total_count"] == 9
    # Alex is Harbor Yoga's customer: out of reach.
    assert get_ok(sandbox_client, "/v2/transactions/?user=1004", admin)["objects"] == []


def test_members_cannot_see_each_others_transactions(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    jordans = [t.transaction_id for t in store.transactions.values() if t.user_id == 1003]
    response = sandbox_client.get(f"/v2/transactions/{jordans[0]}/", headers=member)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")
    assert get_ok(sandbox_client, "/v2/transactions/?user=1003", member)["objects"] == []


# --- transactions: redeeming ---------------------------------------------------------------------


def test_a_redemption_spends_the_points_and_makes_a_voucher(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = redeem(sandbox_client, member, 201, trans_source_id="app-redeem-1")
    assert response.status_code == 201, response.text
    txn = response.json()
    assert txn["classification"] == "REDEEM"
    assert txn["transaction_status"] == "ACTIVE"
    assert (txn["perk"], txn["location"], txn["user"]) == (
        "/v2/perks/201/",
        "/v2/locations/11/",
        "/v2/users/1001/",
    )
    assert (txn["points"], txn["quantity"], txn["title"]) == (150, 1, "Free smoothie")
    assert txn["trans_source_id"] == "app-redeem-1"
    assert txn["transaction_dt"] == "2026-11-22T18:00:00+00:00"
    assert get_ok(sandbox_client, txn["resource_uri"], member) == txn
    conn = get_ok(sandbox_client, "/v2/connections/3001/", member)
    assert conn["point_balance"] == 1250 - 150
    assert conn["lifetime_earned_points"] == 1800
    voucher_id = int(txn["voucher"].split("/")[-2])
    voucher = get_ok(sandbox_client, f"/v2/user-vouchers/{voucher_id}/", member)
    assert set(voucher) == USER_VOUCHER_FIELDS
    assert voucher["status"] == "UNUSED"  # the perk's initial voucher status
    assert (voucher["point_cost"], voucher["title"]) == (150, "Free smoothie")
    assert voucher["expiration_date"] == "2027-02-20"  # 90 days
    assert voucher["details"] == "Show this voucher at the juice bar."
    assert get_ok(sandbox_client, txn["voucher"], member)["transaction"] == txn["resource_uri"]
    history = get_ok(sandbox_client, "/v2/transactions/?limit=1", member)
    assert history["objects"] == [txn]
    assert get_ok(sandbox_client, "/v2/user-vouchers/?business=4", member)["objects"][0] == voucher


def test_coupon_and_external_rewards_make_issued_vouchers(
    sandbox_client: TestClient, member: Headers
) -> None:
    coupon = redeem(sandbox_client, member, 211).json()
    external = redeem(sandbox_client, member, 210).json()
    for txn, code, url in (
        (coupon, "SUMMIT20", None),
        (external, None, "https://partner.example/summit-meal-kit"),
    ):
        voucher = get_ok(
            sandbox_client, txn["voucher"].replace("vouchers", "user-vouchers"), member
        )
        assert voucher["status"] == "ISSUED"
        assert (voucher["external_coupon_code"], voucher["reward_url"]) == (code, url)


def test_quantity_and_used_vouchers(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    response = redeem(sandbox_client, member, 202, quantity="2", voucher_start_as_used=True)
    assert response.status_code == 201, response.text
    assert response.json()["quantity"] == 2
    assert balance(store) == 1250 - 100
    voucher = get_ok(sandbox_client, response.json()["voucher"], member)
    assert (voucher["status"], voucher["point_cost"]) == ("USED", 100)


def test_external_location_id_names_the_location(
    sandbox_client: TestClient, member: Headers
) -> None:
    body = {
        "business": "/v2/businesses/4/",
        "external_location_id": "sf-dt",
        "perk": "/v2/perks/202/",
        "quantity": 1,
    }
    response = sandbox_client.post("/v2/transactions/", headers=member, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["location"] == "/v2/locations/11/"


def test_a_repeated_trans_source_id_never_spends_twice(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    first = redeem(sandbox_client, member, 201, trans_source_id="tap-42")
    assert first.status_code == 201
    for perk in (201, 202):  # the same id, even for another reward
        again = redeem(sandbox_client, member, perk, trans_source_id="tap-42")
        body = assert_api_error(
            again,
            400,
            "invalid_request_error",
            field="trans_source_id",
            code="pv_txn_duplicate_trans_source_id",
        )
        assert first.json()["resource_uri"] in body["errors"]["trans_source_id"][0]["message"]
    assert balance(store) == 1250 - 150
    found = get_ok(sandbox_client, "/v2/transactions/?business=4&trans_source_id=tap-42", member)
    assert found["objects"] == [first.json()]
    assert len([v for v in store.vouchers.values() if v.user_id == 1001]) == 8


def test_a_refused_redemption_does_not_use_up_its_trans_source_id(
    sandbox_client: TestClient, member: Headers
) -> None:
    refused = redeem(sandbox_client, member, 205, trans_source_id="try-1")
    assert_api_error(refused, 400, "invalid_request_error", code="pv_txn_insufficient_points")
    assert redeem(sandbox_client, member, 201, trans_source_id="try-1").status_code == 201


@pytest.mark.parametrize(
    ("perk", "location", "code"),
    [
        (205, 11, "pv_txn_insufficient_points"),
        (206, 11, "pv_perk_level_required"),
        (204, 11, "pv_perk_redemption_limit_reached"),
        (207, 12, "pv_perk_home_location_only"),
        (207, 11, "pv_perk_not_available_at_location"),
        (208, 11, "pv_perk_not_in_date_range"),
        (213, 11, "pv_perk_inactive"),
    ],
)
def test_redemption_refusals(
    sandbox_client: TestClient,
    member: Headers,
    store: Store,
    perk: int,
    location: int,
    code: str,
) -> None:
    before = len(store.transactions)
    response = redeem(sandbox_client, member, perk, location)
    assert_api_error(response, 400, "invalid_request_error", field="__all__", code=code)
    assert balance(store) == 1250
    assert len(store.transactions) == before


def test_membership_and_connection_refusals(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    store.connections[3001].external_membership_status = "INACTIVE"
    response = redeem(sandbox_client, member, 201)
    assert_api_error(
        response, 400, "invalid_request_error", code="pv_connection_membership_not_active"
    )
    del store.connections[3001]
    response = redeem(sandbox_client, member, 201)
    assert_api_error(response, 400, "invalid_request_error", code="pv_connection_not_found")


def test_the_limit_counts_new_redemptions(sandbox_client: TestClient, member: Headers) -> None:
    assert redeem(sandbox_client, member, 203).status_code == 201
    response = redeem(sandbox_client, member, 203)
    assert_api_error(
        response, 400, "invalid_request_error", code="pv_perk_redemption_limit_reached"
    )
    url = "/v2/redeeming/?business=4&view_as_user=true"
    bottle = by_id(objects(sandbox_client, url, member))[203]
    assert bottle["can_redeem"] is False
    assert bottle["user_redemption_limit_info"] == {
        "has_met_limit": True,
        "next_redemption_opportunity": None,  # once ever
        "redemptions_remaining": 0,
    }


def test_can_redeem_follows_the_balance(
    sandbox_client: TestClient, member: Headers, store: Store
) -> None:
    store.connections[3001].point_balance = 100
    url = "/v2/redeeming/?business=4&view_as_user=true"
    can = {r["perk_id"]: r["can_redeem"] for r in objects(sandbox_client, url, member)}
    assert (can[201], can[202], can[211]) == (False, True, True)
    response = redeem(sandbox_client, member, 201)
    assert_api_error(response, 400, "invalid_request_error", code="pv_txn_insufficient_points")


def test_redeeming_needs_user_redeem(
    sandbox_client: TestClient, member_with: Callable[[str], Headers], store: Store
) -> None:
    response = redeem(sandbox_client, member_with("PUBLIC USER_CUSTOMER_INFO"), 201)
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    response = redeem(sandbox_client, member_with("PUBLIC USER_REDEEM"), 201)
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    assert balance(store) == 1250


def test_staff_redeem_for_a_customer_with_a_used_voucher(
    sandbox_client: TestClient, admin: Headers, store: Store
) -> None:
    """Reference, Transaction POST: with ADMIN_CUSTOMER_REDEEM "This will create a Voucher using
    the initial voucher status for the given perk, unless voucher_start_as_unused is set to
    True ... normally perks redeemed by admins on a user's behalf are marked as USED"."""
    before = balance(store)
    response = redeem(sandbox_client, admin, 201, user="/v2/users/1001/")
    assert response.status_code == 201, response.text
    voucher = get_ok(sandbox_client, response.json()["voucher"], admin)
    assert voucher["status"] == "USED" and balance(store) == before - 150
    unused = redeem(
        sandbox_client, admin, 202, user="/v2/users/1001/", voucher_start_as_unused=True
    )
    assert get_ok(sandbox_client, unused.json()["voucher"], admin)["status"] == "UNUSED"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"business": None}, 400, "business"),
        ({"business": "4"}, 400, "business"),
        ({"perk": "/v2/perks/502/"}, 400, "perk"),
        ({"perk": None}, 400, "perk"),
        ({"location": "/v2/locations/51/"}, 400, "location"),
        ({"location": None}, 400, "location"),
        ({"external_location_id": "SF-DT"}, 400, "location"),  # both
        ({"quantity": 0}, 400, "quantity"),
        ({"quantity": "one"}, 400, "quantity"),
        ({"quantity": None}, 400, "quantity"),
        ({"classification": "REDEEM"}, 400, "classification"),
        ({"trans_source_id": "x" * 129}, 400, "trans_source_id"),
        ({"transaction_dt": "2026-12-01"}, 400, "transaction_dt"),
        ({"transaction_dt": "yesterday"}, 400, "transaction_dt"),
        ({"user": "/v2/users/1003/"}, 403, "__all__"),
        ({"user_email": "pending@example.com"}, 403, "__all__"),
        ({"perk": "/v2/perks/101/"}, 403, "__all__"),  # an EARN perk
    ],
)
def test_redemption_bodies_are_checked(
    sandbox_client: TestClient,
    member: Headers,
    store: Store,
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    body = {
        "business": "/v2/businesses/4/",
        "location": "/v2/locations/11/",
        "perk": "/v2/perks/201/",
        "quantity": 1,
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = sandbox_client.post("/v2/transactions/", headers=member, json=body)
    error_type = "authorization_error" if status == 403 else "invalid_request_error"
    assert_api_error(response, status, error_type, field=field)
    assert balance(store) == 1250


def test_redemption_accepts_its_own_user_and_a_past_date(
    sandbox_client: TestClient, member: Headers
) -> None:
    response = redeem(
        sandbox_client,
        member,
        202,
        user="/v2/users/1001/",
        transaction_dt="2026-11-21 09:30",
        send_email=False,
    )
    assert response.status_code == 201, response.text
    assert response.json()["transaction_dt"] == "2026-11-21T09:30:00+00:00"
    response = sandbox_client.post("/v2/transactions/", headers=member, content=b"not json")
    assert_api_error(response, 400, "invalid_request_error", code="invalid_json")


# --- vouchers ------------------------------------------------------------------------------------


def test_user_vouchers_in_display_order(sandbox_client: TestClient, member: Headers) -> None:
    response = sandbox_client.get("/v2/user-vouchers/", headers=member)
    assert_api_error(response, 400, "invalid_request_error", field="business", code="required")
    vouchers = objects(sandbox_client, "/v2/user-vouchers/?business=4", member)
    # Live vouchers (UNUSED, ISSUED) newest first, then the rest newest first.
    assert [(v["voucher_id"], v["status"]) for v in vouchers] == [
        (52009, "UNUSED"),
        (52008, "ISSUED"),
        (52007, "ISSUED"),
        (52005, "UNUSED"),
        (52004, "VOIDED"),
        (52002, "USED"),
        (52001, "EXPIRED"),
    ]
    byid = by_id(vouchers, "voucher_id")
    assert byid[52005]["expiration_date"] == "2026-11-25"  # within 7 days
    assert byid[52007]["external_coupon_code"] == "SUMMIT20"
    assert byid[52008]["reward_url"] == "https://partner.example/summit-meal-kit"
    assert byid[52009]["reward_url"] is None and byid[52009]["external_coupon_code"] is None
    for v in vouchers:
        assert set(v) == USER_VOUCHER_FIELDS
    one = get_ok(sandbox_client, "/v2/user-vouchers/?voucher_id=52009", member)["objects"]
    assert one == [byid[52009]] == [get_ok(sandbox_client, "/v2/user-vouchers/52009/", member)]


def test_user_vouchers_need_user_customer_info(
    sandbox_client: TestClient, admin: Headers, member_with: Callable[[str], Headers]
) -> None:
    response = sandbox_client.get("/v2/user-vouchers/?business=4", headers=admin)
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")
    response = sandbox_client.patch(
        "/v2/user-vouchers/52009/",
        headers=member_with("PUBLIC USER_REDEEM"),
        json={"status": "USED"},
    )
    assert_api_error(response, 403, "authorization_error", code="insufficient_scope")


def test_mark_a_voucher_used(sandbox_client: TestClient, member: Headers) -> None:
    response = sandbox_client.patch(
        "/v2/user-vouchers/52009/", headers=member, json={"status": "USED"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "USED"
    assert response.json() == get_ok(sandbox_client, "/v2/user-vouchers/52009/", member)
    again = sandbox_client.patch(
        "/v2/user-vouchers/52009/", headers=member, json={"status": "USED"}
    )
    assert_api_error(
        again, 400, "invalid_request_error", field="status", code="pv_voucher_not_unused"
    )


@pytest.mark.parametrize(
    ("voucher", "body", "status", "field", "code"),
    [
        (52006, {"status": "USED"}, 404, "__all__", "not_found"),  # Alex's
        (99999, {"status": "USED"}, 404, "__all__", "not_found"),
        (52009, {"status": "EXPIRED"}, 400, "status", "invalid"),
        (52009, {"status": "UNUSED"}, 400, "status", "invalid"),
        (52009, {}, 400, "status", "invalid"),
        (52009, {"status": "USED", "expiration_date": "2027-01-01"}, 400, "expiration_date", None),
        (52007, {"status": "USED"}, 400, "status", "pv_voucher_not_unused"),  # ISSUED
        (52002, {"status": "USED"}, 400, "status", "pv_voucher_not_unused"),
        (52001, {"status": "USED"}, 400, "status", "pv_voucher_not_unused"),  # EXPIRED
        (52004, {"status": "USED"}, 400, "status", "pv_voucher_not_unused"),  # VOIDED
    ],
)
def test_marking_used_is_refused(
    sandbox_client: TestClient,
    member: Headers,
    voucher: int,
    body: dict[str, Any],
    status: int,
    field: str,
    code: str | None,
) -> None:
    response = sandbox_client.patch(f"/v2/user-vouchers/{voucher}/", headers=member, json=body)
    assert_api_error(response, status, "invalid_request_error", field=field, code=code)


def test_unused_vouchers_expire_with_time(
    sandbox_client: TestClient, member: Headers, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    smoothie = get_ok(sandbox_client, "/v2/user-vouchers/52005/", member)
    assert smoothie["status"] == "EXPIRED"
    response = sandbox_client.patch(
        "/v2/user-vouchers/52005/", headers=member, json={"status": "USED"}
    )
    assert_api_error(response, 400, "invalid_request_error", code="pv_voucher_not_unused")


def test_vouchers_resource(sandbox_client: TestClient, member: Headers, admin: Headers) -> None:
    mine = objects(sandbox_client, "/v2/vouchers/?business=4", member)
    assert sorted(v["voucher_id"] for v in mine) == sorted(MAYA_VOUCHERS)
    assert get_ok(sandbox_client, "/v2/vouchers/52007/", member) == by_id(mine, "voucher_id")[52007]
    # Staff with ADMIN_CUSTOMER_REDEEM see their business's vouchers, not Harbor Yoga's.
    assert len(objects(sandbox_client, "/v2/vouchers/?status=UNUSED", admin)) == 2
    response = sandbox_client.get("/v2/vouchers/52006/", headers=admin)
    assert_api_error(response, 404, "invalid_request_error", code="not_found")
    # Reference, Voucher PATCH: staff change the status ("202 Accepted").
    response = sandbox_client.patch("/v2/vouchers/52007/", headers=admin, json={"status": "USED"})
    assert response.status_code == 202 and response.json()["status"] == "USED", response.text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/v2/transactions/"),
        ("DELETE", "/v2/transactions/40001/"),
        ("PATCH", "/v2/transactions/40001/"),
        ("POST", "/v2/perks/"),
        ("PATCH", "/v2/perks/201/"),
        ("POST", "/v2/user-vouchers/"),
        ("DELETE", "/v2/user-vouchers/52009/"),
    ],
)
def test_other_writes_are_501(
    sandbox_client: TestClient, member: Headers, method: str, url: str
) -> None:
    response = sandbox_client.request(method, url, headers=member, json={"status": "USED"})
    assert_api_error(response, 501, "invalid_request_error", code="method_not_implemented")
