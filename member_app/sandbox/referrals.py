"""Referrals (reference: Referral) and the referral offer a referred friend gets (reference:
Promotion).

The write the reference allows: `POST /v2/referrals/` (201) refers a friend as the token's user
(USER_REFERRAL), or two customers as staff (ADMIN_CUSTOMER_REFERRAL).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from . import bodies
from .errors import AUTHORIZATION_ERROR, ApiError, invalid_request
from .media import promotion_picture_url
from .records import Promotion, Referral
from .resources import Context, Field, Resource, ScopeRule, Written, iso, resource_routes, uri
from .store import AccessToken, Store, next_id

REFERRAL_READ = ScopeRule(any_of=("ADMIN_CUSTOMER_REFERRAL", "USER_REFERRAL"))
# Reference, Referral POST: PUBLIC, one of the *_CUSTOMER_INFO and one of the *_REFERRAL scopes.
REFERRAL_WRITE = (
    ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO")),
    ScopeRule(all_of=(), any_of=("ADMIN_CUSTOMER_REFERRAL", "USER_REFERRAL")),
)


def serialize_referral(ref: Referral, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", ref.business_id),
        "completed_dt": iso(ref.completed_dt),
        "created_dt": iso(ref.created_dt),
        "distribution_type": ref.distribution_type,
        "location": uri("locations", ref.location_id),
        "referral_content": ref.referral_content,
        "referral_date": iso(ref.referral_date),
        "referral_from_user": uri("users", ref.from_user_id),
        "referral_source": ref.source,
        "referral_status": ref.status,
        "referral_to_email": ref.to_email,
        "referral_to_user": uri("users", ref.to_user_id),
        "referree_external_id": "",
        "referree_external_id_type": "",
        "referrer_conn_status": ref.referrer_conn_status,
        "resource_uri": uri("referrals", ref.referral_id),
        "voucher": uri("vouchers", ref.voucher_id),
    }


def _referral_visible(ref: Referral, token: AccessToken, store: Store) -> bool:
    """USER_REFERRAL: referrals where you are the referrer or the referee. ADMIN_CUSTOMER_REFERRAL:
    referrals at businesses where you are staff (any role: "authorized to access")."""
    if "USER_REFERRAL" in token.scopes:
        user = store.users.get(token.user_id)
        email = user.email.lower() if user else None
        if token.user_id in (ref.from_user_id, ref.to_user_id) or ref.to_email.lower() == email:
            return True
    return "ADMIN_CUSTOMER_REFERRAL" in token.scopes and ref.business_id in store.staff_businesses(
        token.user_id
    )


def _is_customer(store: Store, email: str, business_id: int) -> bool:
    user = store.user_by_email(email)
    return user is not None and store.connection_of(user.user_id, business_id) is not None


async def create_referral(request: Request, ctx: Context) -> Written:
    """POST /v2/referrals/ → 201 with the referral (reference, Referral POST)."""
    store, token = ctx.store, ctx.token
    for rule in REFERRAL_WRITE:
        rule.check(token)
    body = await bodies.read_json(request)
    bodies.only(
        body,
        (
            "business",
            "location",
            "referral_from_user",
            "referral_to_email",
            "referral_to_first_name",
            "referral_to_last_name",
            "referral_content",
            "send_referral_email",
            "submit_as_referrer",
        ),
    )
    if body.get("business") in (None, ""):
        raise invalid_request("required", "business is required.", "business")
    business_id = bodies.ref(body["business"], "businesses", "business")
    if business_id not in store.businesses:
        raise invalid_request("invalid", "No such business.", "business")
    as_admin = "ADMIN_CUSTOMER_REFERRAL" in token.scopes and "USER_REFERRAL" not in token.scopes
    from_raw = body.get("referral_from_user")
    if as_admin:
        if from_raw in (None, ""):
            raise invalid_request(
                "required", "referral_from_user is required.", "referral_from_user"
            )
        if business_id not in store.staff_businesses(token.user_id):
            raise ApiError(
                403,
                AUTHORIZATION_ERROR,
                "not_business_staff",
                "You may create referrals only at businesses where you are staff.",
                "business",
            )
    from_id = (
        token.user_id
        if from_raw in (None, "")
        else bodies.ref(from_raw, "users", "referral_from_user")
    )
    if not as_admin and from_id != token.user_id:
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_own_referral",
            "With USER_REFERRAL, referral_from_user must be the token's own user.",
            "referral_from_user",
        )
    referrer = store.connection_of(from_id, business_id)
    if referrer is None or (not as_admin and referrer.status == "INACTIVE"):
        raise invalid_request(
            "pv_referral_referrer_not_customer",
            "The referrer must be a customer of this business (and, referring as yourself, "
            "not have left its rewards program).",
            "referral_from_user",
        )
    to_email = bodies.email(body.get("referral_to_email"), "referral_to_email")
    location_id = None
    if body.get("location") not in (None, ""):
        location_id = bodies.ref(body["location"], "locations", "location")
        location = store.locations.get(location_id)
        if location is None or location.business_id != business_id:
            raise invalid_request("invalid", "No such location at this business.", "location")
    first = bodies.text(body, "referral_to_first_name", 50)
    last = bodies.text(body, "referral_to_last_name", 50)
    content = bodies.text(body, "referral_content", 1000)
    send_email = bodies.flag(body, "send_referral_email", True)
    submit_as_referrer = bodies.flag(body, "submit_as_referrer", False)
    from_user = store.users.get(from_id)
    if from_user is not None and from_user.email.lower() == to_email:
        raise invalid_request(
            "pv_referral_self_referral", "You cannot refer yourself.", "referral_to_email"
        )
    existing = _is_customer(store, to_email, business_id)
    status = "SENT"
    if existing and (not as_admin or submit_as_referrer):
        raise invalid_request(
            "pv_referral_existing_customer",
            "This person is already a customer of this business, so they cannot be referred.",
            "referral_to_email",
        )
    if existing:
        status = "COMPLETED"  # ADMIN_CUSTOMER_REFERRAL, submit_as_referrer false: both connected
    elif any(
        r.business_id == business_id
        and r.from_user_id == from_id
        and r.status == "SENT"
        and r.to_email.lower() == to_email
        for r in store.referrals.values()
    ):
        raise invalid_request(
            "pv_referral_already_sent",
            "There is already an open (SENT) referral from this user to this email address.",
            "referral_to_email",
        )
    now = store.now()
    referee = store.user_by_email(to_email)
    new_id = next_id(store.referrals, 700)
    referral = Referral(
        new_id,
        business_id,
        from_id,
        to_email,
        status,
        now,
        now,
        source="API_SUBMITTED",
        referrer_conn_status=referrer.status,
        to_user_id=referee.user_id if referee else None,
        location_id=location_id,
        to_first_name=first,
        to_last_name=last,
        referral_content=content,
        distribution_type="EMAIL" if send_email else "",
        completed_dt=now if status == "COMPLETED" else None,
    )
    store.referrals[new_id] = referral
    return 201, serialize_referral(referral, ctx)


REFERRALS = Resource(
    "referrals",
    "referrals",
    lambda s: s.referrals,
    serialize_referral,
    REFERRAL_READ,
    {
        "business": Field(lambda r, s: r.business_id),
        "location": Field(lambda r, s: r.location_id),
        "referral_from_user": Field(lambda r, s: r.from_user_id, "user"),
        "referral_to_user": Field(lambda r, s: r.to_user_id, "user"),
        "referral_status": Field(lambda r, s: r.status, "str"),
        "referral_source": Field(lambda r, s: r.source, "str"),
        "created_dt": Field(lambda r, s: r.created_dt, "datetime"),
        "referral_date": Field(lambda r, s: r.referral_date, "datetime"),
        "completed_dt": Field(lambda r, s: r.completed_dt, "datetime"),
    },
    visible=_referral_visible,
    create=create_referral,
)


# --- promotions ----------------------------------------------------------------------------------


def serialize_promotion(promo: Promotion, ctx: Context) -> dict[str, Any]:
    body: dict[str, Any] = {
        "business": uri("businesses", promo.business_id),
        "detail": promo.detail,
        "eligible_at_all_locations": promo.eligible_at_all_locations,
        "fine_print": promo.fine_print,
        "perk": uri("perks", promo.perk_id),
        "picture_uri": promotion_picture_url(promo, ctx.base_url),
        "picture_url": promotion_picture_url(promo, ctx.base_url),
        "promotion_id": promo.promotion_id,
        "resource_uri": uri("promotions", promo.promotion_id),
        "title": promo.title,
        "type": promo.type,
    }
    if not promo.eligible_at_all_locations:
        # "if eligible_at_all_locations is True, then eligible_locations won't be included"
        body["eligible_locations"] = [uri("locations", k) for k in promo.eligible_location_ids]
    return body


def _promotion_locations(promo: Promotion, store: Store) -> list[int]:
    """The locations `?location=` finds this promotion at: its own, or, for an all-locations
    promotion, every location of its business without a location-specific one of its type."""
    if not promo.eligible_at_all_locations:
        return list(promo.eligible_location_ids)
    specific = {
        k
        for p in store.promotions.values()
        if p.business_id == promo.business_id
        and p.type == promo.type
        and not p.eligible_at_all_locations
        for k in p.eligible_location_ids
    }
    return [
        k
        for k, loc in sorted(store.locations.items())
        if loc.business_id == promo.business_id and k not in specific
    ]


PROMOTIONS = Resource(
    "promotions",
    "promotions",
    lambda s: s.promotions,
    serialize_promotion,
    fields={
        "promotion_id": Field(lambda p, s: p.promotion_id),
        "business": Field(lambda p, s: p.business_id),
        "location": Field(_promotion_locations),
        "type": Field(lambda p, s: p.type, "str"),
        "eligible_at_all_locations": Field(lambda p, s: p.eligible_at_all_locations, "bool"),
    },
)


routes = resource_routes([REFERRALS, PROMOTIONS])
