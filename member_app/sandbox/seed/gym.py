"""The demo gym's businesses, people and OAuth clients, and the names and credentials the demo,
the tests and the docs use for them.

Business 4, "Summit Fitness", is the program the demo app is configured for. Business 5 exists
so that scope and visibility rules have someone else's data to hide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..records import Business, Connection, Level, Location, Staff, User
from ..store import ADMIN_SCOPES, USER_SCOPES, Client, Store

DEMO_BUSINESS_ID = 4
DEMO_CLIENT_ID = "member-app-demo"
ADMIN_CLIENT_ID = "member-app-admin"
ADMIN_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a published sandbox credential
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "perkville-demo"  # noqa: S105 - a published sandbox credential
PENDING_EMAIL = "pending@example.com"
FRIEND_EMAIL = "riley@example.net"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "perkville-admin"  # noqa: S105 - a published sandbox credential

DEFAULT_REDIRECT_URIS = (
    "http://127.0.0.1:8000/auth/callback",
    "http://localhost:8000/auth/callback",
)


# The demo gym's clocks: its locations are in Portland, OR (and Harbor Yoga's in Seattle). Bonus
# windows, days, weeks and months are read on them (`Store.timezone`); the demo app shows times
# in the same zone (`MEMBER_APP_TIMEZONE`).
DEMO_TIMEZONE = "America/Los_Angeles"

# The seed's "today" (Sunday, 10 am in Portland): vouchers expire, challenges start and bonuses
# run relative to it.
DEMO_NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def demo_clock(start: datetime = DEMO_NOW) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs at real speed, so the demo looks the same
    whatever day it is started (and codes still expire, sessions still time out)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def dt(text: str) -> datetime:
    """A seeded moment, written with its offset ("2026-11-18T16:20:00+00:00"), in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def local(text: str) -> datetime:
    """A seeded moment as the gym's clocks show it ("2026-11-20 07:42": 7:42 am in Portland),
    in UTC, as records keep it."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(DEMO_TIMEZONE)).astimezone(UTC)


def seed_gym(store: Store, redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS) -> None:
    """Add the businesses, their locations and levels, the people, and the OAuth clients.
    `redirect_uris` are registered for the demo (PKCE) client."""
    store.timezone = DEMO_TIMEZONE
    store.businesses = {
        4: Business(
            business_id=4,
            name="Summit Fitness",
            rewards_program_name="Summit Rewards",
            brand_color="#0F766E",
            brand_secondary_color="#F59E0B",
            has_logo=True,
            fine_print=(
                "Points have no cash value. Rewards must be used within 90 days and cannot "
                "be combined with other offers."
            ),
            homepage_url="https://summit-fitness.example/",
            app_connection_message=(
                "Connect your Perkville account to see your points and redeem rewards here."
            ),
            categories=[
                {
                    "category": "Fitness",
                    "category_id": 12,
                    "resource_uri": "/v2/categories/12/",
                    "subcategory": "Gym",
                }
            ],
        ),
        5: Business(
            business_id=5,
            name="Harbor Yoga",
            rewards_program_name="Harbor Perks",
            brand_color="#1D4ED8",
        ),
    }
    # The positional rows below are kept compact on purpose; the formatter would spread each
    # field over its own line.
    # fmt: off
    store.locations = {
        11: Location(
            11, 4, "Summit Fitness Downtown", "120 Market St.", "", "Portland", "OR", "97204",
            external_location_id="SF-DT", latitude="45.5190", longitude="-122.6790",
        ),
        12: Location(
            12, 4, "Summit Fitness Riverside", "88 River Rd.", "Suite 2", "Portland", "OR",
            "97214", external_location_id="SF-RV", latitude="45.5122", longitude="-122.6587",
        ),
        13: Location(
            13, 4, "Summit Fitness Northgate", "4100 N. Gate Ave.", "", "Portland", "OR",
            "97217", external_location_id="SF-NG", latitude="45.5740", longitude="-122.6860",
        ),
        51: Location(51, 5, "Harbor Yoga Waterfront", "1 Pier Way", "", "Seattle", "WA", "98101"),
    }
    store.levels = {
        21: Level(21, 4, "Bronze", 0),
        22: Level(22, 4, "Silver", 750),
        23: Level(23, 4, "Gold", 2500),
    }
    store.users = {
        1001: User(
            1001, "Maya", "Lopez", MEMBER_EMAIL, MEMBER_PASSWORD, "555-0101", "1990-04-23",
            dt("2026-01-10T09:00:00+00:00"),
        ),
        1002: User(
            1002, "Sam", "Rivera", ADMIN_EMAIL, ADMIN_PASSWORD, "555-0102", None,
            dt("2025-06-01T12:00:00+00:00"),
        ),
        1003: User(
            1003, "Jordan", "Lee", PENDING_EMAIL, MEMBER_PASSWORD, "", None,
            dt("2026-02-14T18:30:00+00:00"),
        ),
        1004: User(
            1004, "Alex", "Kim", "alex@example.com", MEMBER_PASSWORD, "", None,
            dt("2026-03-03T08:15:00+00:00"),
        ),
        1005: User(  # Maya's friend: took her referral link, joined, checked in
            1005, "Riley", "Chen", FRIEND_EMAIL, MEMBER_PASSWORD, "", None,
            local("2026-10-14 18:00"),
        ),
    }
    # Points, lifetime points and last_transaction_dt are the sums and the newest line of each
    # member's history (rewards.py checks them on every seed).
    store.connections = {
        3001: Connection(
            3001, 1001, 4, "ACTIVE", point_balance=1250, lifetime_earned_points=1800,
            level_id=22, home_location_id=11, last_visited_location_id=12,
            external_membership_status="ACTIVE", external_membership_type="Monthly Unlimited",
            external_join_dt=local("2025-09-01 10:00"),
            rewards_program_join_dt=local("2025-09-01 10:05"),
            last_mod_dt=local("2026-11-01 10:05"),
            last_transaction_dt=local("2026-11-20 07:42"),
        ),
        3003: Connection(
            3003, 1003, 4, "PENDING", point_balance=120, lifetime_earned_points=120,
            level_id=21, home_location_id=12, last_visited_location_id=12,
            external_membership_status="ACTIVE", external_membership_type="Off-peak",
            external_join_dt=local("2026-10-15 10:00"),
            last_mod_dt=local("2026-10-15 10:00"),
            last_transaction_dt=local("2026-10-30 16:00"),
        ),
        3004: Connection(
            3004, 1004, 5, "ACTIVE", point_balance=640, lifetime_earned_points=900,
            home_location_id=51, last_visited_location_id=51,
            external_membership_status="ACTIVE", external_membership_type="Class pack",
            rewards_program_join_dt=dt("2026-03-03T08:20:00+00:00"),
            last_mod_dt=dt("2026-03-03T08:20:00+00:00"),
            last_transaction_dt=local("2026-10-01 18:30"),
        ),
        3005: Connection(
            3005, 1005, 4, "ACTIVE", point_balance=80, lifetime_earned_points=80,
            level_id=21, home_location_id=12, last_visited_location_id=12,
            external_membership_status="ACTIVE", external_membership_type="Monthly Unlimited",
            external_join_dt=local("2026-10-14 17:50"),
            rewards_program_join_dt=local("2026-10-14 18:00"),
            last_mod_dt=local("2026-10-14 18:00"),
            last_transaction_dt=local("2026-11-19 17:10"),
        ),
    }
    store.staff = {
        7001: Staff(
            7001, 1002, 4, "ADMIN", dt("2025-06-01T12:00:00+00:00"), bill_payer=True,
            staff_description="General manager",
        ),
    }
    # fmt: on
    demo_uris = list(redirect_uris)
    store.clients = {
        DEMO_CLIENT_ID: Client(
            DEMO_CLIENT_ID,
            "Summit Fitness member app",
            demo_uris,
            USER_SCOPES,
            frozenset({"authorization_code"}),
            secret=None,
        ),
        ADMIN_CLIENT_ID: Client(
            ADMIN_CLIENT_ID,
            "Summit Fitness member app (server)",
            # The Identify User Flow's redirect URIs: each demo `<origin>/auth/callback` with
            # `/auth/identify/callback` instead (POST /api/identify/ checks against these).
            [
                uri.removesuffix("/auth/callback") + "/auth/identify/callback"
                for uri in demo_uris
                if uri.endswith("/auth/callback")
            ],
            ADMIN_SCOPES,
            frozenset({"password"}),
            secret=ADMIN_CLIENT_SECRET,
        ),
    }
