"""Perkville's records, one dataclass per resource of the API reference, as the sandbox stores
them: businesses and their people, the rewards program, challenges, referrals and membership.

Field names follow the reference where they can; ids are plain ints (the API writes them as
resource URIs). Dates without a time (challenge start and end) are ISO strings ("2026-11-30"),
as the API shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- users and businesses (reference: User, Business, Location, Level, Connection, External
# Member, Staff) ---------------------------------------------------------------------------------


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
    external_membership_type: str | None = ""
    external_join_dt: datetime | None = None
    external_cancel_dt: datetime | None = None
    rewards_program_join_dt: datetime | None = None
    last_mod_dt: datetime = field(default_factory=utcnow)
    last_transaction_dt: datetime | None = None
    # Connection Balance's own last_mod_dt: when the points last moved (the connection's
    # last_mod_dt "primarily applies to the status attribute", reference, Connection).
    balance_mod_dt: datetime = field(default_factory=utcnow)


@dataclass
class ExternalMember:
    """A membership record from a business's own membership system (reference: External
    Member), keyed by (business, `external_system_id`, `external_member_id`)."""

    external_member_identifier_id: int  # the API's "id" (EXTERNAL_MEMBER_IDENTIFIER_ID)
    business_id: int
    user_id: int
    connection_id: int
    external_system_id: str
    external_member_id: str
    external_membership_type: str | None = None
    external_membership_status: str | None = None  # ACTIVE, INACTIVE or None
    home_location_id: int | None = None
    external_join_dt: datetime | None = None
    external_cancel_dt: datetime | None = None
    created_dt: datetime = field(default_factory=utcnow)
    last_mod_dt: datetime = field(default_factory=utcnow)


@dataclass
class Staff:
    staff_id: int
    user_id: int
    business_id: int
    staff_role: str
    created: datetime = field(default_factory=utcnow)
    bill_payer: bool = False
    staff_description: str = ""


# --- the rewards program (reference: Perk, Perk Category, Transaction, Voucher) ----------------


@dataclass
class PerkCategory:
    category_id: int
    business_id: int
    category_name: str
    display_order: int | None = None
    created_dt: datetime = field(default_factory=utcnow)
    last_mod_dt: datetime = field(default_factory=utcnow)


@dataclass
class Perk:
    """An earning rule (EARN) or a reward (REDEEM); bonus rules are perks too (TIME_BONUS, …)."""

    perk_id: int
    business_id: int
    classification: str  # EARN | REDEEM
    type: str  # STANDARD, REFERRAL, TIME_BONUS, EXTERNAL_REWARD, PROGRESS_ACTIVITY, …
    title: str
    points: int
    status: str = "ACTIVE"
    description: str = ""
    display_name: str | None = None  # the earning view's name when it differs from the title
    fine_print: str = ""
    redemption_instructions: str = "Print or show on phone"
    initial_voucher_status: str = "UNUSED"
    voucher_expiration_days: int | None = None  # "Days Before Expiration"
    location_ids: tuple[int, ...] | None = None  # None: eligible at all locations
    required_level_id: int | None = None
    redemption_limit_interval: str = "NO_REDEMPTION_LIMIT"
    redemption_limit_count: int | None = None
    redemption_limit_interval_count: int | None = None
    must_redeem_at_home_location: bool = False
    start_date: date | None = None
    end_date: date | None = None
    picture_color: str | None = None  # a generated picture_card in this colour; None: no photo
    external_reward_url: str | None = None
    external_coupon_code: str | None = None
    admin_flagged_as_invisible_to_customers: bool = False
    completes_referral: bool = False
    category_id: int | None = None
    display_order: int | None = None


@dataclass
class TimeBonus:
    """The rule of a TIME_BONUS perk: a multiplier on other perks during weekly time windows."""

    perk_id: int
    base_perk_ids: tuple[int, ...]
    multiplier: str  # "2.00", as the API writes it
    time_periods: dict[str, list[str]]  # {"Monday": ["5 am to 8 am"]}


@dataclass
class DateRangeBonus:
    """The rule of a DATE_RANGE_BONUS perk: a multiplier on other perks between two dates."""

    perk_id: int
    base_perk_ids: tuple[int, ...]
    multiplier: str
    from_date: date
    to_date: date


@dataclass
class FrequencyBonus:
    """A Frequency Bonus Perk: earn a qualifying perk N times in a period, get `perk_id`."""

    frequency_bonus_perk_id: int
    business_id: int
    perk_id: int  # the reward, a FREQUENCY_BONUS perk whose points are the bonus
    qualifying_perk_ids: tuple[int, ...]
    required_to_earn: int
    frequency: str  # WEEKLY | MONTHLY | FROM_DATE
    start_date: date


@dataclass
class Transaction:
    transaction_id: int
    business_id: int
    user_id: int
    perk_id: int
    location_id: int | None
    title: str
    classification: str  # EARN | REDEEM (the perk's)
    points: int  # per unit; a VOID_REF carries the negative of what it voids
    quantity: int
    transaction_dt: datetime
    transaction_status: str = "ACTIVE"  # ACTIVE | VOID | VOID_REF
    trans_source_id: str = ""
    transaction_reference_id: int | None = None
    voucher_id: int | None = None


@dataclass
class Voucher:
    voucher_id: int
    business_id: int
    user_id: int
    perk_id: int
    transaction_id: int | None
    location_id: int | None
    title: str  # the perk's title when it was redeemed
    point_cost: int
    status: str  # UNUSED, USED, ISSUED, EXPIRED, VOIDED, PROCESSING, …
    created_datetime: datetime
    expiration_date: date | None = None
    details: str = ""  # the redemption instructions when it was redeemed
    external_coupon_code: str | None = None
    reward_url: str | None = None
    network_reward_url: str | None = None
    promotion_fine_print: str = ""


# --- challenges, referrals and promotions, agreements and joining -------------------------------


@dataclass
class Challenge:
    challenge_id: int
    business_id: int
    name: str
    slug: str
    description: str = ""
    fine_print: str = ""
    join_message: str = ""
    ineligible_message: str = ""
    success_message: str = ""
    incomplete_message: str = ""
    location_ids: list[int] = field(default_factory=list)  # where progress counts; [] = all
    home_location_ids: list[int] = field(default_factory=list)  # who may join; [] = everyone
    start_date: str | None = None
    end_date: str | None = None
    use_membership_start_date: bool = False
    require_active_membership: bool = False


@dataclass
class ChallengePerkRequirement:
    challenge_perk_requirement_id: int
    challenge_id: int
    business_id: int
    title: str
    required_quantity: int
    progress_perk_id: int | None = None
    description: str = ""
    detail_link: str = ""
    display_order: int | None = None


@dataclass
class ChallengeConnection:
    challenge_connection_id: int
    challenge_id: int
    connection_id: int
    business_id: int
    join_status: str  # ACTIVE | INACTIVE | PENDING
    created_dt: datetime
    last_mod_dt: datetime
    join_dt: datetime | None = None
    completed: bool = False
    completed_dt: datetime | None = None
    start_date: str | None = None
    end_date: str | None = None


@dataclass
class ChallengeRequirementSummary:
    summary_id: int
    challenge_connection_id: int
    challenge_perk_requirement_id: int
    created_dt: datetime
    last_mod_dt: datetime
    earned_quantity: int = 0
    completed_requirement: bool = False
    completed_dt: datetime | None = None


@dataclass
class Referral:
    referral_id: int
    business_id: int
    from_user_id: int
    to_email: str
    status: str  # SENT | COMPLETED | VOID
    created_dt: datetime
    referral_date: datetime
    source: str = "API_SUBMITTED"
    referrer_conn_status: str = "ACTIVE"
    to_user_id: int | None = None
    location_id: int | None = None
    to_first_name: str = ""
    to_last_name: str = ""
    referral_content: str = ""
    distribution_type: str = "EMAIL"
    completed_dt: datetime | None = None
    voucher_id: int | None = None


@dataclass
class Promotion:
    promotion_id: int
    business_id: int
    title: str
    detail: str
    fine_print: str = ""
    type: str = "REFERRAL"
    perk_id: int | None = None
    eligible_at_all_locations: bool = True
    eligible_location_ids: list[int] = field(default_factory=list)


@dataclass
class AgreementVersion:
    agreement_version_id: int
    agreement_id: int
    business_id: int
    agreement_internal_name: str
    agreement_type: str  # REQUIRED-OPT-IN | OPTIONAL-OPT-IN
    version: str
    text: str
    is_active: bool
    created_dt: datetime
    last_mod_dt: datetime


@dataclass
class UserBusinessAgreement:
    user_business_agreement_id: int
    agreement_version_id: int
    agreement_id: int
    user_id: int
    business_id: int
    email: str  # a snapshot of the user at the time of agreement
    first_name: str
    last_name: str
    agreement_dt: datetime


@dataclass
class JoinRules:
    """How a business lets customers join its rewards program (Connection PATCH to ACTIVE)."""

    business_id: int
    require_active_membership: bool = False
