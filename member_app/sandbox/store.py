"""The sandbox's in-memory state: Perkville's records, OAuth clients, codes and tokens.

Plain dataclasses in dictionaries keyed by id (the records are in `records.py`). A fresh `Store`
is a fresh seed; nothing is persisted. The clock is a plain callable so tests can move time
forward (codes expire).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..i18n import N_
from .records import (
    AgreementVersion,
    Business,
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
    Connection,
    DateRangeBonus,
    ExternalMember,
    FrequencyBonus,
    JoinRules,
    Level,
    Location,
    Perk,
    PerkCategory,
    Promotion,
    Referral,
    Staff,
    TimeBonus,
    Transaction,
    User,
    UserBusinessAgreement,
    Voucher,
    utcnow,
)

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
# The consent page's words for each scope (translated where the page shows them).
SCOPE_DESCRIPTIONS = {
    "PUBLIC": N_("See public information about rewards programs"),
    "USER_CUSTOMER_INFO": N_(
        "See your contact information, business connections and vouchers, "
        "and mark your vouchers as used"
    ),
    "USER_REDEEM": N_("Redeem your earned points for rewards"),
    "USER_REFERRAL": N_("Refer friends to the businesses you are connected to"),
    "ADMIN_CUSTOMER_INFO": N_("See your customers' contact information and connections"),
    "ADMIN_CUSTOMER_REDEEM": N_("See and use your customers' vouchers, and redeem for them"),
    "ADMIN_CUSTOMER_GRANT_POINTS": N_("Give points to your customers and invite new ones"),
    "ADMIN_CUSTOMER_REFERRAL": N_("Create referrals on behalf of two people"),
    "ADMIN_PERK": N_("Create and edit the perks of your rewards program"),
    "ADMIN_LOCATION": N_("Create and edit your business's locations"),
    "ADMIN_IDENTIFY_USER": N_("Identify signed-in Perkville users for your app"),
}

_TOKEN_ALPHABET = string.ascii_letters + string.digits


def new_secret(length: int = 30) -> str:
    """An opaque random string shaped like Perkville's tokens (30 letters and digits)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def next_id(table: Mapping[int, object], floor: int) -> int:
    """The id for a record created through the API: one above the table's highest id, and at
    least `floor` + 1."""
    return max([floor, *table]) + 1


# --- OAuth (reference: "OAuth2 Authorization"; oauth.py) -----------------------------------------


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


# --- the Identify User Flow (reference: "Identify Token"; identify.py) ----------------------------


@dataclass
class IdentifyToken:
    token: str
    client_id: str
    admin_user_id: int  # the staff user whose bearer token asked for it
    access_token: str  # that bearer token: it must still be active in step 2
    redirect_uri: str
    state: str
    expires_at: datetime


@dataclass
class IdentifyCode:
    code: str
    user_id: int  # the member who was identified
    admin_user_id: int  # only this admin's tokens may read it (step 3)
    business_id: int
    expires_at: datetime
    used: bool = False


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
    # the rewards program
    perks: dict[int, Perk] = field(default_factory=dict)
    perk_categories: dict[int, PerkCategory] = field(default_factory=dict)
    time_bonuses: dict[int, TimeBonus] = field(default_factory=dict)  # by perk_id
    date_range_bonuses: dict[int, DateRangeBonus] = field(default_factory=dict)  # by perk_id
    frequency_bonuses: dict[int, FrequencyBonus] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)
    vouchers: dict[int, Voucher] = field(default_factory=dict)
    # challenges, referrals and promotions, agreements and joining
    challenges: dict[int, Challenge] = field(default_factory=dict)
    challenge_requirements: dict[int, ChallengePerkRequirement] = field(default_factory=dict)
    challenge_connections: dict[int, ChallengeConnection] = field(default_factory=dict)
    challenge_summaries: dict[int, ChallengeRequirementSummary] = field(default_factory=dict)
    referrals: dict[int, Referral] = field(default_factory=dict)
    promotions: dict[int, Promotion] = field(default_factory=dict)
    agreement_versions: dict[int, AgreementVersion] = field(default_factory=dict)
    user_agreements: dict[int, UserBusinessAgreement] = field(default_factory=dict)
    join_rules: dict[int, JoinRules] = field(default_factory=dict)  # by business_id
    # External Member records (external_members.py); each names a user by the business's own
    # membership system's id, as transactions may (Transaction POST: `external_member_id`).
    external_members: dict[int, ExternalMember] = field(default_factory=dict)
    # the Identify User Flow
    identify_tokens: dict[str, IdentifyToken] = field(default_factory=dict)
    identify_codes: dict[str, IdentifyCode] = field(default_factory=dict)
    clock: Clock = utcnow
    # The locations' time zone (IANA): bonus windows ("5 am to 8 am"), days, weeks and months
    # are read on its clocks; records keep UTC. Perkville keeps one per location (reference,
    # Transaction: "once per calendar day ... based on the timezone of the location"); the
    # sandbox keeps one for all, which the demo's (Portland and Seattle) allow.
    timezone: str = "UTC"

    def now(self) -> datetime:
        return self.clock()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo keeps one instance per name

    def local(self, moment: datetime) -> datetime:
        """`moment` on the locations' clocks (records keep UTC)."""
        return moment.astimezone(self.zone)

    def today(self) -> date:
        """The locations' date of `now()`."""
        return self.local(self.now()).date()

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def email_of(self, user_id: int) -> str | None:
        user = self.users.get(user_id)
        return user.email if user else None

    def connection_of(self, user_id: int, business_id: int) -> Connection | None:
        """The user's connection to the business (a user has at most one), or None."""
        return next(
            (
                c
                for c in self.connections.values()
                if c.user_id == user_id and c.business_id == business_id
            ),
            None,
        )

    def external_member(
        self, business_id: int, system_id: str, member_id: str
    ) -> ExternalMember | None:
        """The business's external member record with these ids (unique together), or None."""
        return next(
            (
                m
                for m in self.external_members.values()
                if m.business_id == business_id
                and m.external_system_id == system_id
                and m.external_member_id == member_id
            ),
            None,
        )

    def is_admin(self, user_id: int, business_id: int) -> bool:
        """Whether the user is ADMIN staff at the business."""
        return business_id in self.staff_businesses(user_id, roles=("ADMIN",))

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
