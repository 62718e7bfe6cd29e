"""The sandbox's two profiles (`create_sandbox(profile=...)`, `--profile`).

* `default`: everything the sandbox does, including what newer Perkville behaviour is assumed to
  be (extra fields, `next`/`previous`/`total_count`, named refusal codes, `me` in every user
  filter, `/logout/`, `prompt=login`, the batch agreements endpoint). Each assumption and its
  source is listed in the README ("Profiles").
* `reference`: exactly what the Perkville v2 API reference documents, no more. The tables below
  are that profile: each resource's fields as the reference names them (its example responses
  and Fields table), `meta` as its only example writes it, the error codes it writes, where it
  uses `me`, and the paths it never mentions.

Nothing here imports the rest of the sandbox: the machinery (`resources.py`), the error handlers
and the OAuth pages ask these tables, in one place each.
"""

from __future__ import annotations

from typing import Any, Literal

from starlette.requests import Request

Profile = Literal["default", "reference"]
PROFILES: tuple[Profile, ...] = ("default", "reference")

# Resource (its /v2/ path name) → the fields the reference names for it: its GET example (and
# its POST/PATCH examples, where the resource has them) and its Fields table. The reference
# profile serves only these; the default profile serves more (README, "Profiles"). A batch
# endpoint's items are keyed by its path after /v2/ ("batch/transactions"): its example's.
# fmt: off
REFERENCE_FIELDS: dict[str, frozenset[str]] = {
    "agreement-versions": frozenset((
        "agreement_id", "agreement_internal_name", "agreement_type", "agreement_version_id",
        "business", "created_dt", "is_active", "last_mod_dt", "resource_uri", "text", "version",
    )),
    # Transaction Batch's example: a created transaction (ids, no URIs), or a failed one's
    # {"errors": {"message", "code"}}.
    "batch/transactions": frozenset((
        "business", "classification", "errors", "location", "perk", "points", "quantity",
        "title", "trans_source_id", "transaction_dt", "transaction_id", "transaction_reference",
        "transaction_status", "user", "voucher",
    )),
    # External Member Batch's example: a created or updated record, or {"error_type", "errors"}.
    "batch/external-members": frozenset((
        "connection_id", "error_type", "errors", "external_cancel_dt", "external_join_dt",
        "external_member_id", "external_membership_status", "external_membership_type",
        "external_system_id", "home_location_id", "resource_id", "user_id",
    )),
    "businesses": frozenset((
        "app_connection_message", "brand_color", "brand_secondary_color", "business_id",
        "categories", "fine_print", "homepage_url", "locations", "logo_url", "name", "perks",
        "perkville_url", "promotions", "resource_uri", "rewards_program_name",
    )),
    "challenge-connection-requirement-summaries": frozenset((
        "challenge", "challenge_connection", "challenge_perk_requirement", "completed_dt",
        "completed_requirement", "created_dt", "earned_quantity", "last_mod_dt", "resource_uri",
    )),
    "challenge-connections": frozenset((
        "business", "challenge", "completed", "completed_dt", "connection", "created_dt",
        "end_date", "join_dt", "join_status", "last_mod_dt", "resource_uri", "start_date",
    )),
    "challenge-requirements": frozenset((
        "business", "challenge", "challenge_perk_requirement_id", "description", "detail_link",
        "display_order", "progress_perk", "required_quantity", "resource_uri", "title",
    )),
    "challenges": frozenset((
        "business", "challenge_id", "description", "end_date", "fine_print", "home_locations",
        "incomplete_message", "ineligible_message", "join_message", "locations", "name",
        "require_active_membership", "resource_uri", "slug", "start_date", "success_message",
        "use_membership_start_date", "valid_customer_attributes",
    )),
    "connection-balances": frozenset((
        "business", "connection", "last_biz_perk_title", "last_mod_dt", "last_transaction_dt",
        "lifetime_earned_points", "lifetime_spent_points", "point_balance", "resource_uri", "user",
    )),
    "connections": frozenset((
        "business", "connection_id", "external_cancel_dt", "external_join_dt",
        "external_membership_status", "external_membership_type", "home_location",
        "last_mod_dt", "last_transaction_dt", "last_visited_location", "level",
        "lifetime_earned_points", "point_balance", "referral_offer_url", "resource_uri",
        "rewards_program_join_dt", "status", "user", "vouchers",
    )),
    "external-members": frozenset((
        "business", "connection", "created_dt", "external_cancel_dt", "external_join_dt",
        "external_member_id", "external_membership_status", "external_membership_type",
        "external_system_id", "home_location", "id", "last_mod_dt", "resource_uri", "user",
    )),
    "earning": frozenset((
        "business", "category", "completes_referral", "date_range_bonuses", "description",
        "display_name", "display_order", "frequency_bonuses", "loc_id", "perk_id", "points",
        "time_bonuses", "title", "type",
    )),
    "levels": frozenset((
        "badge_url", "business", "level_id", "name", "point_floor", "resource_uri",
    )),
    "locations": frozenset((
        "address_1", "address_2", "business", "city", "country_code", "external_location_id",
        "latitude", "location_id", "longitude", "name", "postal_code", "resource_uri", "state",
    )),
    "perk-categories": frozenset((
        "business", "category_id", "category_name", "created_dt", "display_order", "last_mod_dt",
        "perks", "resource_uri",
    )),
    "perks": frozenset((
        "admin_flagged_as_invisible_to_customers", "business", "category", "classification",
        "completes_referral", "description", "eligible_at_all_locations", "eligible_locations",
        "end_date", "external_coupon_code", "external_reward_url", "fine_print",
        "initial_voucher_status", "must_redeem_at_home_location", "perk_id", "picture_card",
        "points", "redemption_instructions", "redemption_limit_count",
        "redemption_limit_interval", "redemption_limit_interval_count", "required_level",
        "resource_uri", "start_date", "status", "title", "type", "valid_customer_attributes",
    )),
    # Neither promotion_id nor resource_uri: the Promotion section names neither.
    "promotions": frozenset((
        "business", "detail", "eligible_at_all_locations", "eligible_locations", "fine_print",
        "perk", "picture_uri", "picture_url", "title", "type",
    )),
    "redeeming": frozenset((
        "business", "description", "display_order", "end_date", "external_reward_url",
        "fine_print", "from_date", "loc_id", "must_redeem_at_home_location", "perk_id",
        "picture_card", "points", "redemption_instructions", "redemption_limit_count",
        "redemption_limit_interval", "redemption_limit_interval_count", "required_level",
        "start_date", "title", "to_date", "type", "user_redemption_limit_info",
        "valid_customer_attributes",
    )),
    # The GET example, the Fields table and the POST example together.
    "referrals": frozenset((
        "business", "completed_dt", "created_dt", "distribution_type", "location",
        "referral_content", "referral_date", "referral_from_user", "referral_source",
        "referral_status", "referral_to_email", "referral_to_user", "referree_external_id",
        "referree_external_id_type", "referrer_conn_status", "resource_uri", "voucher",
    )),
    "scopes": frozenset(("scope",)),
    "transactions": frozenset((
        "business", "classification", "location", "perk", "points", "quantity", "resource_uri",
        "title", "trans_source_id", "transaction_dt", "transaction_id", "transaction_reference",
        "transaction_status", "user", "voucher",
    )),
    "user-business-agreements": frozenset((
        "agreement_dt", "agreement_id", "agreement_version", "business", "email", "first_name",
        "id", "last_name", "resource_uri", "user",
    )),
    # Neither picture_card nor reward_url: the User Voucher section names neither.
    "user-vouchers": frozenset((
        "business", "created_datetime", "details", "expiration_date", "external_coupon_code",
        "location", "network_reward_url", "perk", "perk_description", "perk_fine_print",
        "point_cost", "promotion_fine_print", "status", "title", "user", "voucher_id",
    )),
    "users": frozenset((
        "birthday", "connections", "emails", "first_name", "last_mod_dt", "last_name",
        "phone_number", "resource_uri", "user_id",
    )),
    "vouchers": frozenset((
        "business", "created_datetime", "expiration_date", "external_coupon_code", "location",
        "marketplace_business", "network_reward_url", "perk", "point_cost", "resource_uri",
        "status", "transaction", "user", "voucher_id",
    )),
}
# fmt: on

# Reference, Earning Rules (its only `meta`): {"limit": 20, "offset": 0}; Pagination speaks of
# `limit` and `offset` only.
REFERENCE_META = ("limit", "offset")

# Filters on a field the reference does not name for that resource (the Promotion section names
# no promotion_id): the default profile's only. Every other filter names a field of its
# resource's section, or is a relational query (`perk__type`) on a field the reference marks
# "SUPPORTS RELATIONAL QUERIES".
DEFAULT_ONLY_FILTERS = frozenset({("promotions", "promotion_id")})

# Where the reference uses `me`: GET /v2/users/me/ ("the User which belongs to the Bearer
# Token"; the `me_alias` of users.py) and `?user=me` on transactions (Filtering's examples).
REFERENCE_ME_FILTERS = frozenset({("transactions", "user")})

# The error codes the reference writes: Handling Errors' example (`invalid`, `required`) and the
# one named refusal (Transaction Batch: `pv_txn_insufficient_points`). Every other code becomes
# `invalid`; status, error_type, field and message stay.
REFERENCE_CODES = frozenset({"invalid", "required", "pv_txn_insufficient_points"})
GENERIC_CODE = "invalid"

# Paths the reference never mentions, served by the default profile only: the sign-out page
# (kiosks) and the batch agreement endpoint (README, "Profiles").
DEFAULT_ONLY_PATHS = frozenset({"/logout/", "/v2/batch/user-business-agreements/"})


def profile_of(request: Request) -> Profile:
    """The profile of the sandbox serving `request` (`app.state.profile`)."""
    value = getattr(request.app.state, "profile", "default")
    return "reference" if value == "reference" else "default"


def trim(name: str, data: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """An object of resource `name` as `profile` serves it: the reference profile keeps only the
    fields the reference names for that resource."""
    if profile == "default":
        return data
    allowed = REFERENCE_FIELDS[name]
    return {key: value for key, value in data.items() if key in allowed}


def meta(full: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """A list body's `meta` as `profile` serves it."""
    if profile == "default":
        return full
    return {key: full[key] for key in REFERENCE_META}


def filter_allowed(resource: str, field: str, profile: Profile) -> bool:
    """Whether `profile` filters this resource by `field` (before any `__in`, `__gt`...)."""
    return profile == "default" or (resource, field) not in DEFAULT_ONLY_FILTERS


def me_allowed(resource: str, filter_name: str, profile: Profile) -> bool:
    """Whether `me` stands for the token's user in this filter of this resource."""
    return profile == "default" or (resource, filter_name) in REFERENCE_ME_FILTERS


def error_code(code: str, profile: Profile) -> str:
    """The code an error body carries under `profile`."""
    if profile == "default" or code in REFERENCE_CODES:
        return code
    return GENERIC_CODE
