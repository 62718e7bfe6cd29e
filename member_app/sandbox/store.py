"""The sandbox's in-memory state: Perkville's records, OAuth clients, codes and tokens.

Plain dataclasses in dictionaries keyed by id. A fresh `Store` is a fresh seed; nothing is
persisted. The clock is a plain callable so tests can move time forward (codes expire).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Clock = Callable[[], datetime]

USER_SCOPES = ("PUBLIC", "USER_CUSTOMER_INFO", "USER_REDEEM", "USER_REFERRAL")
ADMIN_SCOPES = (
    "PUBLIC",
    "ADMIN_CUSTOMER_INFO",
    "ADMIN_CUSTOMER_REDEEM",
    "ADMIN_CUSTOMER_GRANT_POINTS",
    "ADMIN_CUSTOMER_REFERRAL",
    "ADMIN_PERK",
    "ADMIN_LOCATION",
    "ADMIN_IDENTIFY_USER",
)
SCOPE_DESCRIPTIONS = {
    "PUBLIC": "See public information about rewards programs",
    "USER_CUSTOMER_INFO": (
        "See your contact information, business connections and vouchers, "
        "and mark your vouchers as used"
    ),
    "USER_REDEEM": "Redeem your earned points for rewards",
    "USER_REFERRAL": "Refer friends to the businesses you are connected to",
    "ADMIN_CUSTOMER_INFO": "See your customers' contact information and connections",
    "ADMIN_CUSTOMER_REDEEM": "See and use your customers' vouchers, and redeem for them",
    "ADMIN_CUSTOMER_GRANT_POINTS": "Give points to your customers and invite new ones",
    "ADMIN_CUSTOMER_REFERRAL": "Create referrals on behalf of two people",
    "ADMIN_PERK": "Create and edit the perks of your rewards program",
    "ADMIN_LOCATION": "Create and edit your business's locations",
    "ADMIN_IDENTIFY_USER": "Identify signed-in Perkville users for your app",
}

_TOKEN_ALPHABET = string.ascii_letters + string.digits


def new_secret(length: int = 30) -> str:
    """An opaque random string shaped like Perkville's tokens (30 letters and digits)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class User:
    user_id: int
    first_name: str
    last_name: str
    email: str
    password: str
    phone_number: str = ""
    birthday: str | None = None
    last_mod_dt: datetime = field(default_factory=utcnow)


@dataclass
class Business:
    business_id: int
    name: str
    rewards_program_name: str
    brand_color: str | None = None
    brand_secondary_color: str | None = None
    has_logo: bool = False
    fine_print: str = ""
    homepage_url: str = ""
    app_connection_message: str = ""
    categories: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Location:
    location_id: int
    business_id: int
    name: str
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_code: str = "us"
    external_location_id: str = ""
    latitude: str = ""
    longitude: str = ""


@dataclass
class Level:
    level_id: int
    business_id: int
    name: str
    point_floor: int


@dataclass
class Connection:
    connection_id: int
    user_id: int
    business_id: int
    status: str
    point_balance: int = 0
    lifetime_earned_points: int = 0
    level_id: int | None = None
    home_location_id: int | None = None
    last_visited_location_id: int | None = None
    external_membership_status: str | None = None
    external_membership_type: str = ""
    external_join_dt: datetime | None = None
    external_cancel_dt: datetime | None = None
    rewards_program_join_dt: datetime | None = None
    last_mod_dt: datetime = field(default_factory=utcnow)
    last_transaction_dt: datetime | None = None


@dataclass
class Staff:
    staff_id: int
    user_id: int
    business_id: int
    staff_role: str
    created: datetime = field(default_factory=utcnow)
    bill_payer: bool = False
    staff_description: str = ""


@dataclass
class Client:
    client_id: str
    name: str
    redirect_uris: list[str]
    allowed_scopes: tuple[str, ...]
    grant_types: frozenset[str]
    secret: str | None = None  # None: a public (PKCE mobile grant) client

    @property
    def is_public(self) -> bool:
        return self.secret is None


@dataclass
class AccessToken:
    token: str
    client_id: str
    user_id: int
    scopes: frozenset[str]
    created: datetime
    from_code: str | None = None


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    user_id: int
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None
    expires_at: datetime
    used: bool = False


# --- rewards records (rewards.py): perks, transactions, vouchers ---------------------------------
# (add dataclasses here)

# --- community records (community.py): challenges, referrals, promotions, agreements ------------
# (add dataclasses here)


@dataclass
class Store:
    """Every record the sandbox knows, plus the OAuth state it hands out."""

    users: dict[int, User] = field(default_factory=dict)
    businesses: dict[int, Business] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    levels: dict[int, Level] = field(default_factory=dict)
    connections: dict[int, Connection] = field(default_factory=dict)
    staff: dict[int, Staff] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    # (user_id, client_id) -> scopes the user has already agreed to, so a repeat sign-in
    # (a second tab, a restarted flow) does not ask again.
    consents: dict[tuple[int, str], frozenset[str]] = field(default_factory=dict)
    # --- rewards tables (rewards.py) ---
    # --- community tables (community.py) ---
    clock: Clock = utcnow

    def now(self) -> datetime:
        return self.clock()

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def staff_businesses(self, user_id: int, *, roles: tuple[str, ...] | None = None) -> set[int]:
        """Businesses at which this user is staff (optionally: with one of these roles)."""
        return {
            s.business_id
            for s in self.staff.values()
            if s.user_id == user_id and (roles is None or s.staff_role in roles)
        }

    def issue_token(
        self, client_id: str, user_id: int, scopes: frozenset[str], from_code: str | None = None
    ) -> AccessToken:
        token = AccessToken(new_secret(), client_id, user_id, scopes, self.now(), from_code)
        self.tokens[token.token] = token
        return token
