"""Challenges, referrals, promotions, agreements and joining the program, from the reference.

Declared like `api.py` (one `Resource` per reference section) on the machinery in
`resources.py`. The writes the reference allows are here too:

* `POST /v2/challenge-connections/` (201) and `PATCH /v2/challenge-connections/{id}/` (202):
  join or leave a challenge as the token's user (`join_status` ACTIVE or INACTIVE).
* `POST /v2/referrals/` (201): refer a friend (USER_REFERRAL), or two customers (ADMIN).
* `PATCH /v2/connections/{id}/` (202): `update_connection`, wired into `api.CONNECTIONS`.
  Joining (status ACTIVE) needs every active REQUIRED-OPT-IN agreement version accepted.
* `POST /v2/batch/user-business-agreements/` (200): how an acceptance is recorded. The
  reference's User Business Agreement resource is read-only ("You can't create new instances");
  Perkville's newer docs record acceptances with an admin-authorized batch call, so that is what
  the sandbox offers (shape modelled on the reference's batch endpoints; see the README).

Every date check uses `store.now()` at request time; "today" is its UTC date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import AUTHORIZATION_ERROR, INVALID_REQUEST_ERROR, ApiError, invalid_request
from .resources import (
    ALL_METHODS,
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    authenticate,
    iso,
    not_implemented,
    read_json,
    resource_routes,
    uri,
)
from .store import (
    AccessToken,
    AgreementVersion,
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
    Connection,
    Promotion,
    Referral,
    Store,
    Transaction,
    UserBusinessAgreement,
)

CUSTOMER_INFO = ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO"))
# Reference, Challenge Connection POST/PATCH: "Required Scopes: USER_CUSTOMER_INFO" (only).
JOIN_CHALLENGE = ScopeRule(all_of=("USER_CUSTOMER_INFO",))
REFERRAL_READ = ScopeRule(any_of=("ADMIN_CUSTOMER_REFERRAL", "USER_REFERRAL"))
# Reference, Referral POST: PUBLIC, one of the *_CUSTOMER_INFO and one of the *_REFERRAL scopes.
REFERRAL_WRITE = (
    ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO")),
    ScopeRule(all_of=(), any_of=("ADMIN_CUSTOMER_REFERRAL", "USER_REFERRAL")),
)
BATCH_AGREEMENTS = ScopeRule(all_of=("PUBLIC", "ADMIN_CUSTOMER_INFO"))
BATCH_LIMIT = 50

USER_CONNECTION_FIELDS = ("status",)
ADMIN_CONNECTION_FIELDS = (
    "external_cancel_dt",
    "external_join_dt",
    "external_home_location_id",
    "external_membership_status",
    "external_membership_type",
    "home_location",
)

_URI = re.compile(r"^(?:https?://[^/]+)?/v2/(?P<name>[a-z-]+)/(?P<key>[0-9]+)/?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


# --- small helpers -------------------------------------------------------------------------------


def today(store: Store) -> date:
    return store.now().astimezone(UTC).date()


def _day(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


def _midnight(text: str | None) -> datetime | None:
    """A date as a datetime (midnight UTC), so date filters take the usual datetime values."""
    day = _day(text)
    return None if day is None else datetime.combine(day, time(), UTC)


def _next_id(table: dict[int, Any], floor: int) -> int:
    return max([floor, *table]) + 1


def _is_admin(store: Store, user_id: int, business_id: int) -> bool:
    return business_id in store.staff_businesses(user_id, roles=("ADMIN",))


def _customer_visible(business_id: int, owner_id: int | None, token: AccessToken, s: Store) -> bool:
    """The reference's rule for customer records: your own with USER_CUSTOMER_INFO; with
    ADMIN_CUSTOMER_INFO, those of a business where you are ADMIN staff."""
    if "USER_CUSTOMER_INFO" in token.scopes and owner_id == token.user_id:
        return True
    return "ADMIN_CUSTOMER_INFO" in token.scopes and _is_admin(s, token.user_id, business_id)


def connection_of(store: Store, user_id: int, business_id: int) -> Connection | None:
    return next(
        (
            c
            for _, c in sorted(store.connections.items())
            if c.user_id == user_id and c.business_id == business_id
        ),
        None,
    )


def _cc_owner(cc: ChallengeConnection, store: Store) -> int | None:
    conn = store.connections.get(cc.connection_id)
    return conn.user_id if conn else None


def _cc_email(cc: ChallengeConnection, store: Store) -> str | None:
    user = store.users.get(_cc_owner(cc, store) or 0)
    return user.email if user else None


def _required_filters(
    label: str, any_of: tuple[str, ...], no_in: str
) -> Callable[[Sequence[Filter]], None]:
    """The reference's "Required Filters": one of `any_of` (any operator), never `no_in__in`."""

    def check(filters: Sequence[Filter]) -> None:
        if any(f.field == no_in and f.op == "in" for f in filters):
            raise invalid_request(
                "invalid_filter",
                f"An IN query on {no_in} is not allowed for {label}.",
                f"{no_in}__in",
            )
        if not any(f.field in any_of for f in filters):
            raise invalid_request(
                "required", f"{label.capitalize()} must be filtered by {' or '.join(any_of)}."
            )

    return check


def _only(body: dict[str, Any], allowed: Sequence[str]) -> None:
    for key in sorted(body):
        if key not in allowed:
            raise invalid_request(
                "unknown_field",
                f"{key} is not a parameter of this request (send {', '.join(allowed)}).",
                key,
            )


def _ref(value: object, name: str, field: str) -> int:
    """The id in a resource URI such as "/v2/challenges/5/" (what the reference's writes send)."""
    if isinstance(value, str):
        match = _URI.match(value.strip())
        if match and match["name"] == name:
            return int(match["key"])
    raise invalid_request("invalid", f"{field} must be a URI such as /v2/{name}/5/.", field)


def _pk(value: object, field: str) -> int:
    """A primary key, as the batch endpoints take them ("Resource URIs are not supported")."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise invalid_request("invalid", f"{field} must be an id (a whole number).", field)


def _text(body: dict[str, Any], key: str, max_length: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_request("invalid", f"{key} must be a string.", key)
    if len(value.strip()) > max_length:
        raise invalid_request("max_length", f"{key} must be at most {max_length} characters.", key)
    return value.strip()


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise invalid_request("invalid", f"{key} must be true or false.", key)
    return value


def _email(value: object, field: str) -> str:
    if value is None or value == "":
        raise invalid_request("required", f"{field} is required.", field)
    text = value.strip() if isinstance(value, str) else ""
    if not _EMAIL.match(text) or len(text) > 254:
        raise invalid_request("invalid", "Enter a valid email address.", field)
    return text.lower()


def _datetime(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_request(
            "invalid", f"{field} must be an ISO 8601 datetime, e.g. 2026-11-22T10:00:00Z.", field
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


# --- challenges ----------------------------------------------------------------------------------


def challenge_phase(challenge: Challenge, on: date, cc: ChallengeConnection | None = None) -> str:
    """upcoming, running or ended on the day `on` (start and end days included). A challenge
    connection's own dates, when set, win over the challenge's."""
    start = _day((cc.start_date if cc else None) or challenge.start_date)
    end = _day((cc.end_date if cc else None) or challenge.end_date)
    if start is not None and on < start:
        return "upcoming"
    if end is not None and on > end:
        return "ended"
    return "running"


def serialize_challenge(ch: Challenge, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", ch.business_id),
        "challenge_id": ch.challenge_id,
        "description": ch.description,
        "end_date": ch.end_date,
        "fine_print": ch.fine_print,
        "home_locations": [uri("locations", k) for k in ch.home_location_ids],
        "incomplete_message": ch.incomplete_message,
        "ineligible_message": ch.ineligible_message,
        "join_message": ch.join_message,
        "locations": [uri("locations", k) for k in ch.location_ids],
        "name": ch.name,
        "require_active_membership": ch.require_active_membership,
        "resource_uri": uri("challenges", ch.challenge_id),
        "slug": ch.slug,
        "start_date": ch.start_date,
        "success_message": ch.success_message,
        "use_membership_start_date": ch.use_membership_start_date,
        "valid_customer_attributes": [],
    }


def serialize_requirement(req: ChallengePerkRequirement, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", req.business_id),
        "challenge": uri("challenges", req.challenge_id),
        "challenge_perk_requirement_id": req.challenge_perk_requirement_id,
        "description": req.description,
        "detail_link": req.detail_link,
        "display_order": req.display_order,
        "progress_perk": uri("perks", req.progress_perk_id),
        "required_quantity": req.required_quantity,
        "resource_uri": uri("challenge-requirements", req.challenge_perk_requirement_id),
        "title": req.title,
    }


def serialize_challenge_connection(cc: ChallengeConnection, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", cc.business_id),
        "challenge": uri("challenges", cc.challenge_id),
        "completed": cc.completed,
        "completed_dt": iso(cc.completed_dt),
        "connection": uri("connections", cc.connection_id),
        "created_dt": iso(cc.created_dt),
        "end_date": cc.end_date,
        "join_dt": iso(cc.join_dt),
        "join_status": cc.join_status,
        "last_mod_dt": iso(cc.last_mod_dt),
        "resource_uri": uri("challenge-connections", cc.challenge_connection_id),
        "start_date": cc.start_date,
    }


def serialize_summary(summary: ChallengeRequirementSummary, ctx: Context) -> dict[str, Any]:
    cc = ctx.store.challenge_connections[summary.challenge_connection_id]
    return {
        "challenge": uri("challenges", cc.challenge_id),
        "challenge_connection": uri("challenge-connections", cc.challenge_connection_id),
        "challenge_perk_requirement": uri(
            "challenge-requirements", summary.challenge_perk_requirement_id
        ),
        "completed_dt": iso(summary.completed_dt),
        "completed_requirement": summary.completed_requirement,
        "created_dt": iso(summary.created_dt),
        "earned_quantity": summary.earned_quantity,
        "last_mod_dt": iso(summary.last_mod_dt),
        "resource_uri": uri("challenge-connection-requirement-summaries", summary.summary_id),
    }


def _summary_cc(summary: ChallengeRequirementSummary, store: Store) -> ChallengeConnection:
    return store.challenge_connections[summary.challenge_connection_id]


def _summary_visible(summary: ChallengeRequirementSummary, token: AccessToken, s: Store) -> bool:
    cc = _summary_cc(summary, s)
    return _customer_visible(cc.business_id, _cc_owner(cc, s), token, s)


def _ensure_summaries(store: Store, cc: ChallengeConnection) -> None:
    """One summary per requirement, created (at 0) when the member joins."""
    have = {
        s.challenge_perk_requirement_id
        for s in store.challenge_summaries.values()
        if s.challenge_connection_id == cc.challenge_connection_id
    }
    now = store.now()
    for key, req in sorted(store.challenge_requirements.items()):
        if req.challenge_id == cc.challenge_id and key not in have:
            new_id = _next_id(store.challenge_summaries, 900)
            store.challenge_summaries[new_id] = ChallengeRequirementSummary(
                new_id, cc.challenge_connection_id, key, now, now
            )


def _challenge_error(code: str, message: str) -> ApiError:
    return ApiError(400, INVALID_REQUEST_ERROR, code, message)


def set_join_status(
    store: Store, user_id: int, challenge: Challenge, join_status: object
) -> ChallengeConnection:
    """Join (ACTIVE) or leave (INACTIVE) a challenge as `user_id`: the rules of the reference's
    Challenge Connection POST and PATCH. Returns the created or updated record."""
    if join_status not in ("ACTIVE", "INACTIVE"):
        raise invalid_request(
            "invalid", 'join_status must be either "ACTIVE" or "INACTIVE".', "join_status"
        )
    conn = connection_of(store, user_id, challenge.business_id)
    if conn is None or conn.status == "INACTIVE":
        raise _challenge_error(
            "pv_challenge_no_connection",
            "Only customers of this business who have not left its rewards program can join or "
            "leave its challenges.",
        )
    cc = next(
        (
            c
            for _, c in sorted(store.challenge_connections.items())
            if c.challenge_id == challenge.challenge_id and c.connection_id == conn.connection_id
        ),
        None,
    )
    if cc is not None and cc.join_status == join_status:
        return cc  # already so: nothing changes
    phase = challenge_phase(challenge, today(store), cc)
    if join_status == "ACTIVE":
        if phase == "upcoming":
            raise _challenge_error(
                "pv_challenge_not_started",
                f"This challenge starts on {challenge.start_date}; it cannot be joined yet.",
            )
        if phase == "ended":
            raise _challenge_error(
                "pv_challenge_ended", f"This challenge ended on {challenge.end_date}."
            )
        if challenge.home_location_ids and conn.home_location_id not in challenge.home_location_ids:
            raise _challenge_error(
                "pv_challenge_ineligible",
                "This challenge is only open to members whose home location is one of its "
                "home_locations. Show the challenge's ineligible_message.",
            )
        if challenge.require_active_membership and conn.external_membership_status != "ACTIVE":
            raise _challenge_error(
                "pv_challenge_ineligible",
                "This challenge is only open to members with an active membership. Show the "
                "challenge's ineligible_message.",
            )
    else:
        if cc is not None and cc.completed:
            raise _challenge_error(
                "pv_challenge_completed", "A completed challenge cannot be left."
            )
        if phase == "ended":
            raise _challenge_error(
                "pv_challenge_ended", f"This challenge ended on {challenge.end_date}."
            )
    now = store.now()
    if cc is None:
        new_id = _next_id(store.challenge_connections, 850)
        cc = ChallengeConnection(
            new_id, challenge.challenge_id, conn.connection_id, challenge.business_id,
            join_status, now, now,
        )  # fmt: skip
        store.challenge_connections[new_id] = cc
    cc.join_status = join_status
    cc.join_dt = now if join_status == "ACTIVE" else None
    cc.last_mod_dt = now
    if join_status == "ACTIVE":
        _ensure_summaries(store, cc)
    return cc


def record_challenge_progress(
    store: Store,
    *,
    user_id: int,
    business_id: int,
    perk_id: int,
    quantity: int = 1,
    location_id: int | None = None,
    when: datetime | None = None,
) -> None:
    """Count an earned PROGRESS_ACTIVITY perk towards the user's joined, running challenges.

    For the Transaction resource to call (rewards.py) when it records an EARN of `perk_id`.
    A challenge counts it if the member's join_status is ACTIVE, the day is within its dates,
    and `location_id` is one of its `locations` (or it has none). A requirement completes at
    its required_quantity; the challenge completes when all of its requirements have.
    """
    moment = when or store.now()
    conn = connection_of(store, user_id, business_id)
    if conn is None:
        return
    for cc in list(store.challenge_connections.values()):
        challenge = store.challenges.get(cc.challenge_id)
        if (
            challenge is None
            or cc.connection_id != conn.connection_id
            or cc.join_status != "ACTIVE"
            or cc.completed
            or challenge_phase(challenge, moment.astimezone(UTC).date(), cc) != "running"
            or (challenge.location_ids and location_id not in challenge.location_ids)
        ):
            continue
        _ensure_summaries(store, cc)
        summaries = [
            s
            for s in store.challenge_summaries.values()
            if s.challenge_connection_id == cc.challenge_connection_id
        ]
        for summary in summaries:
            req = store.challenge_requirements[summary.challenge_perk_requirement_id]
            if req.progress_perk_id != perk_id:
                continue
            summary.earned_quantity += quantity
            summary.last_mod_dt = moment
            if (
                not summary.completed_requirement
                and summary.earned_quantity >= req.required_quantity
            ):
                summary.completed_requirement = True
                summary.completed_dt = moment
        if summaries and all(s.completed_requirement for s in summaries):
            cc.completed = True
            cc.completed_dt = moment
            cc.last_mod_dt = moment


async def create_challenge_connection(request: Request, ctx: Context) -> Response:
    """POST /v2/challenge-connections/ {"challenge": URI, "join_status": ...} → 201."""
    JOIN_CHALLENGE.check(ctx.token)
    body = await read_json(request)
    _only(body, ("challenge", "join_status"))
    for key in ("challenge", "join_status"):
        if body.get(key) in (None, ""):
            raise invalid_request("required", f"{key} is required.", key)
    challenge = ctx.store.challenges.get(_ref(body["challenge"], "challenges", "challenge"))
    if challenge is None:
        raise invalid_request("invalid", "No such challenge.", "challenge")
    cc = set_join_status(ctx.store, ctx.token.user_id, challenge, body["join_status"])
    return JSONResponse(serialize_challenge_connection(cc, ctx), status_code=201)


async def update_challenge_connection(
    request: Request, ctx: Context, cc: ChallengeConnection
) -> Response:
    """PATCH /v2/challenge-connections/{id}/ {"join_status": ...} → 202."""
    JOIN_CHALLENGE.check(ctx.token)
    if _cc_owner(cc, ctx.store) != ctx.token.user_id:
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_own_challenge_connection",
            "Only the member of a challenge connection can change its join_status.",
        )
    body = await read_json(request)
    _only(body, ("join_status",))
    if body.get("join_status") in (None, ""):
        raise invalid_request("required", "join_status is required.", "join_status")
    challenge = ctx.store.challenges[cc.challenge_id]
    updated = set_join_status(ctx.store, ctx.token.user_id, challenge, body["join_status"])
    return JSONResponse(serialize_challenge_connection(updated, ctx), status_code=202)


CHALLENGES = Resource(
    "challenges",
    "challenges",
    lambda s: s.challenges,
    serialize_challenge,
    fields={
        "challenge_id": Field(lambda c, s: c.challenge_id),
        "business": Field(lambda c, s: c.business_id),
        "slug": Field(lambda c, s: c.slug, "str"),
        "start_date": Field(lambda c, s: _midnight(c.start_date), "datetime"),
        "end_date": Field(lambda c, s: _midnight(c.end_date), "datetime"),
        "locations": Field(lambda c, s: list(c.location_ids)),
        "home_locations": Field(lambda c, s: list(c.home_location_ids)),
    },
)
CHALLENGE_REQUIREMENTS = Resource(
    "challenge-requirements",
    "challenge perk requirements",
    lambda s: s.challenge_requirements,
    serialize_requirement,
    fields={
        "challenge_perk_requirement_id": Field(lambda r, s: r.challenge_perk_requirement_id),
        "challenge": Field(lambda r, s: r.challenge_id),
        "business": Field(lambda r, s: r.business_id),
        "progress_perk": Field(lambda r, s: r.progress_perk_id),
        "required_quantity": Field(lambda r, s: r.required_quantity),
    },
    check_filters=_required_filters(
        "challenge perk requirements", ("challenge", "business"), "business"
    ),
)
CHALLENGE_CONNECTIONS = Resource(
    "challenge-connections",
    "challenge connections",
    lambda s: s.challenge_connections,
    serialize_challenge_connection,
    CUSTOMER_INFO,
    {
        "business": Field(lambda c, s: c.business_id),
        "challenge": Field(lambda c, s: c.challenge_id),
        "connection": Field(lambda c, s: c.connection_id),
        "connection__user": Field(_cc_owner, "user"),
        "user": Field(_cc_owner, "user"),
        "user__emails__email": Field(_cc_email, "str"),
        "email": Field(_cc_email, "str"),
        "join_status": Field(lambda c, s: c.join_status, "str"),
        "completed": Field(lambda c, s: c.completed, "bool"),
        "join_dt": Field(lambda c, s: c.join_dt, "datetime"),
        "created_dt": Field(lambda c, s: c.created_dt, "datetime"),
        "last_mod_dt": Field(lambda c, s: c.last_mod_dt, "datetime"),
    },
    visible=lambda c, token, s: _customer_visible(c.business_id, _cc_owner(c, s), token, s),
    check_filters=_required_filters(
        "challenge connections",
        ("business", "user", "connection__user", "user__emails__email", "email", "connection"),
        "business",
    ),
    create=create_challenge_connection,
    update=update_challenge_connection,
)
CHALLENGE_SUMMARIES = Resource(
    "challenge-connection-requirement-summaries",
    "challenge connection requirement summaries",
    lambda s: s.challenge_summaries,
    serialize_summary,
    CUSTOMER_INFO,
    {
        "challenge": Field(lambda x, s: _summary_cc(x, s).challenge_id),
        "challenge_connection": Field(lambda x, s: x.challenge_connection_id),
        "challenge_perk_requirement": Field(lambda x, s: x.challenge_perk_requirement_id),
        "user": Field(lambda x, s: _cc_owner(_summary_cc(x, s), s), "user"),
        "user__emails__email": Field(lambda x, s: _cc_email(_summary_cc(x, s), s), "str"),
        "earned_quantity": Field(lambda x, s: x.earned_quantity),
        "completed_requirement": Field(lambda x, s: x.completed_requirement, "bool"),
        "completed_dt": Field(lambda x, s: x.completed_dt, "datetime"),
        "created_dt": Field(lambda x, s: x.created_dt, "datetime"),
        "last_mod_dt": Field(lambda x, s: x.last_mod_dt, "datetime"),
    },
    visible=_summary_visible,
    check_filters=_required_filters(
        "challenge connection requirement summaries",
        ("challenge", "challenge_connection", "challenge_perk_requirement"),
        "challenge",
    ),
)


# --- referrals -----------------------------------------------------------------------------------


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
    return user is not None and connection_of(store, user.user_id, business_id) is not None


async def create_referral(request: Request, ctx: Context) -> Response:
    """POST /v2/referrals/ → 201 with the referral (reference, Referral POST)."""
    store, token = ctx.store, ctx.token
    for rule in REFERRAL_WRITE:
        rule.check(token)
    body = await read_json(request)
    _only(
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
    business_id = _ref(body["business"], "businesses", "business")
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
        token.user_id if from_raw in (None, "") else _ref(from_raw, "users", "referral_from_user")
    )
    if not as_admin and from_id != token.user_id:
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_own_referral",
            "With USER_REFERRAL, referral_from_user must be the token's own user.",
            "referral_from_user",
        )
    referrer = connection_of(store, from_id, business_id)
    if referrer is None or (not as_admin and referrer.status == "INACTIVE"):
        raise invalid_request(
            "pv_referral_referrer_not_customer",
            "The referrer must be a customer of this business (and, referring as yourself, "
            "not have left its rewards program).",
            "referral_from_user",
        )
    to_email = _email(body.get("referral_to_email"), "referral_to_email")
    location_id = None
    if body.get("location") not in (None, ""):
        location_id = _ref(body["location"], "locations", "location")
        location = store.locations.get(location_id)
        if location is None or location.business_id != business_id:
            raise invalid_request("invalid", "No such location at this business.", "location")
    first = _text(body, "referral_to_first_name", 50)
    last = _text(body, "referral_to_last_name", 50)
    content = _text(body, "referral_content", 1000)
    send_email = _flag(body, "send_referral_email", True)
    submit_as_referrer = _flag(body, "submit_as_referrer", False)
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
    new_id = _next_id(store.referrals, 700)
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
    return JSONResponse(serialize_referral(referral, ctx), status_code=201)


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


def _picture_url(promo: Promotion, ctx: Context) -> str:
    return f"{ctx.base_url}/media/promotions/{promo.promotion_id}.svg"


def serialize_promotion(promo: Promotion, ctx: Context) -> dict[str, Any]:
    body: dict[str, Any] = {
        "business": uri("businesses", promo.business_id),
        "detail": promo.detail,
        "eligible_at_all_locations": promo.eligible_at_all_locations,
        "fine_print": promo.fine_print,
        "perk": uri("perks", promo.perk_id),
        "picture_uri": _picture_url(promo, ctx),
        "picture_url": _picture_url(promo, ctx),
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


async def promotion_picture(request: Request) -> Response:
    """/media/promotions/{id}.svg: a generated 620×368 offer card in the brand colours."""
    store: Store = request.app.state.store
    promo = store.promotions.get(int(request.path_params["promotion_id"]))
    if promo is None:
        return Response("Not found", status_code=404)
    biz = store.businesses.get(promo.business_id)
    colour = escape((biz.brand_color if biz else None) or "#333333")
    accent = escape((biz.brand_secondary_color if biz else None) or "#F59E0B")
    title = escape(promo.title if len(promo.title) <= 28 else promo.title[:27] + "…")
    name = escape(biz.name if biz else "")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 620 368" width="620" height="368">'
        f'<rect width="620" height="368" fill="{colour}"/>'
        f'<circle cx="540" cy="70" r="120" fill="{accent}" opacity=".35"/>'
        f'<rect x="60" y="150" width="90" height="70" rx="6" fill="{accent}"/>'
        '<rect x="99" y="150" width="12" height="70" fill="#fff"/>'
        '<rect x="52" y="136" width="106" height="20" rx="4" fill="#fff"/>'
        '<text x="186" y="178" font-family="sans-serif" font-size="34" font-weight="bold" '
        f'fill="#fff">{title}</text>'
        '<text x="186" y="214" font-family="sans-serif" font-size="18" fill="#fff" '
        f'opacity=".85">{name}</text></svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


# --- agreements ----------------------------------------------------------------------------------


def serialize_agreement_version(av: AgreementVersion, ctx: Context) -> dict[str, Any]:
    return {
        "agreement_id": av.agreement_id,
        "agreement_internal_name": av.agreement_internal_name,
        "agreement_type": av.agreement_type,
        "agreement_version_id": av.agreement_version_id,
        "business": uri("businesses", av.business_id),
        "created_dt": iso(av.created_dt),
        "is_active": av.is_active,
        "last_mod_dt": iso(av.last_mod_dt),
        "resource_uri": uri("agreement-versions", av.agreement_version_id),
        "text": av.text,
        "version": av.version,
    }


def serialize_user_agreement(uba: UserBusinessAgreement, ctx: Context) -> dict[str, Any]:
    return {
        "agreement_dt": iso(uba.agreement_dt),
        "agreement_id": uba.agreement_id,
        "agreement_version": uri("agreement-versions", uba.agreement_version_id),
        "business": uri("businesses", uba.business_id),
        "email": uba.email,
        "first_name": uba.first_name,
        "id": uba.user_business_agreement_id,
        "last_name": uba.last_name,
        "resource_uri": uri("user-business-agreements", uba.user_business_agreement_id),
        "user": uri("users", uba.user_id),
    }


def missing_agreements(store: Store, user_id: int, business_id: int) -> list[AgreementVersion]:
    """Active REQUIRED-OPT-IN versions at the business this user has not accepted (that exact
    version: accepting an older version of an agreement does not count)."""
    accepted = {
        u.agreement_version_id for u in store.user_agreements.values() if u.user_id == user_id
    }
    return [
        av
        for _, av in sorted(store.agreement_versions.items())
        if av.business_id == business_id
        and av.is_active
        and av.agreement_type == "REQUIRED-OPT-IN"
        and av.agreement_version_id not in accepted
    ]


AGREEMENT_VERSIONS = Resource(
    "agreement-versions",
    "agreement versions",
    lambda s: s.agreement_versions,
    serialize_agreement_version,
    fields={
        "agreement_version_id": Field(lambda a, s: a.agreement_version_id),
        "agreement": Field(lambda a, s: a.agreement_id),
        "agreement_id": Field(lambda a, s: a.agreement_id),
        "business": Field(lambda a, s: a.business_id),
        "agreement_type": Field(lambda a, s: a.agreement_type, "str"),
        "version": Field(lambda a, s: a.version, "str"),
        "is_active": Field(lambda a, s: a.is_active, "bool"),
        "created_dt": Field(lambda a, s: a.created_dt, "datetime"),
        "last_mod_dt": Field(lambda a, s: a.last_mod_dt, "datetime"),
    },
    check_filters=_required_filters(
        "agreement versions", ("agreement", "agreement_id", "business"), "business"
    ),
)
USER_AGREEMENTS = Resource(
    "user-business-agreements",
    "user business agreements",
    lambda s: s.user_agreements,
    serialize_user_agreement,
    CUSTOMER_INFO,
    {
        "id": Field(lambda u, s: u.user_business_agreement_id),
        "business": Field(lambda u, s: u.business_id),
        "user": Field(lambda u, s: u.user_id, "user"),
        "agreement_id": Field(lambda u, s: u.agreement_id),
        "agreement_version": Field(lambda u, s: u.agreement_version_id),
        "agreement_dt": Field(lambda u, s: u.agreement_dt, "datetime"),
    },
    visible=lambda u, token, s: _customer_visible(u.business_id, u.user_id, token, s),
    check_filters=_required_filters("user business agreements", ("business",), "business"),
)


def _accept_one(store: Store, business_id: int, item: object, ctx: Context) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid_request("invalid", "Each item must be a JSON object.")
    _only(item, ("agreement_version", "user", "user_email"))
    av = store.agreement_versions.get(_pk(item.get("agreement_version"), "agreement_version"))
    if av is None or av.business_id != business_id:
        raise invalid_request(
            "invalid", "No such agreement version at this business.", "agreement_version"
        )
    if not av.is_active:
        raise invalid_request(
            "pv_agreement_version_inactive",
            "Only the active version of an agreement can be accepted.",
            "agreement_version",
        )
    has_user, has_email = item.get("user") is not None, item.get("user_email") is not None
    if has_user == has_email:
        raise invalid_request(
            "required", "user and user_email were not supplied; Supply exactly one of them."
        )
    if has_user:
        user = store.users.get(_pk(item["user"], "user"))
    else:
        user = store.user_by_email(_email(item["user_email"], "user_email"))
    if user is None or connection_of(store, user.user_id, business_id) is None:
        raise invalid_request(
            "pv_agreement_not_customer",
            "Agreements can be recorded only for customers of this business.",
            "user" if has_user else "user_email",
        )
    uba = next(
        (
            u
            for u in store.user_agreements.values()
            if u.user_id == user.user_id and u.agreement_version_id == av.agreement_version_id
        ),
        None,
    )
    if uba is None:  # accepting twice keeps the first record
        new_id = _next_id(store.user_agreements, 660)
        uba = UserBusinessAgreement(
            new_id, av.agreement_version_id, av.agreement_id, user.user_id, business_id,
            user.email, user.first_name, user.last_name, store.now(),
        )  # fmt: skip
        store.user_agreements[new_id] = uba
    return serialize_user_agreement(uba, ctx)


async def batch_user_agreements(request: Request) -> Response:
    """POST /v2/batch/user-business-agreements/: record customers' acceptance of agreement
    versions, as a business ADMIN (200, one result per item, in order)."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method != "POST":
        raise not_implemented(request)
    BATCH_AGREEMENTS.check(token)
    body = await read_json(request)
    _only(body, ("business", "user_business_agreements"))
    business_id = _pk(body.get("business"), "business")
    if business_id not in store.businesses:
        raise invalid_request("invalid", "No such business.", "business")
    if not _is_admin(store, token.user_id, business_id):
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_business_admin",
            "Only ADMIN staff of this business may record its customers' agreements.",
            "business",
        )
    items = body.get("user_business_agreements")
    if not isinstance(items, list) or not items:
        raise invalid_request(
            "required",
            "user_business_agreements must be a non-empty list.",
            "user_business_agreements",
        )
    if len(items) > BATCH_LIMIT:
        raise invalid_request(
            "invalid",
            f"At most {BATCH_LIMIT} agreements can be posted at a time.",
            "user_business_agreements",
        )
    ctx = Context(store, token, str(request.base_url).rstrip("/"))
    results = []
    for item in items:
        try:
            results.append(_accept_one(store, business_id, item, ctx))
        except ApiError as error:
            results.append(error.body())
    return JSONResponse({"business": str(business_id), "user_business_agreements": results})


# --- joining the program: PATCH /v2/connections/{id}/ (wired into api.CONNECTIONS) ---------------


def _status_updates(store: Store, conn: Connection, value: object) -> dict[str, Any]:
    if value not in ("ACTIVE", "INACTIVE"):
        raise invalid_request("invalid", 'status must be "ACTIVE" or "INACTIVE".', "status")
    if value == conn.status:
        return {}
    if value == "INACTIVE":
        return {"status": "INACTIVE"}
    rules = store.join_rules.get(conn.business_id)
    if rules and rules.require_active_membership and conn.external_membership_status != "ACTIVE":
        raise invalid_request(
            "pv_connection_membership_not_active",
            "This business requires an active membership to join its rewards program.",
        )
    missing = missing_agreements(store, conn.user_id, conn.business_id)
    if missing:
        versions = ", ".join(
            uri("agreement-versions", av.agreement_version_id) or "" for av in missing
        )
        raise invalid_request(
            "pv_connection_agreement_required",
            f"Accept the business's required agreements before joining: {versions}.",
        )
    updates: dict[str, Any] = {"status": "ACTIVE"}
    if conn.rewards_program_join_dt is None:  # the first join; a re-join keeps the first date
        updates["rewards_program_join_dt"] = store.now()
    return updates


def _location_updates(store: Store, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    if "home_location" in body and "external_home_location_id" in body:
        raise invalid_request(
            "invalid", "Include home_location or external_home_location_id, not both."
        )
    if "home_location" in body:
        key = _ref(body["home_location"], "locations", "home_location")
        loc = store.locations.get(key)
        if loc is None or loc.business_id != conn.business_id:
            raise invalid_request("invalid", "No such location at this business.", "home_location")
        return {"home_location_id": key}
    if "external_home_location_id" in body:
        wanted = body["external_home_location_id"]
        found = next(
            (
                k
                for k, loc in sorted(store.locations.items())
                if loc.business_id == conn.business_id
                and isinstance(wanted, str)
                and loc.external_location_id
                and loc.external_location_id.lower() == wanted.strip().lower()
            ),
            None,
        )
        if found is None:
            raise invalid_request(
                "invalid",
                "No location of this business has that external_location_id.",
                "external_home_location_id",
            )
        return {"home_location_id": found}
    return {}


def _admin_updates(store: Store, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    updates = _location_updates(store, conn, body)
    for key in ("external_cancel_dt", "external_join_dt"):
        if key in body:
            updates[key] = _datetime(body[key], key)
    if "external_membership_status" in body:
        if body["external_membership_status"] not in ("ACTIVE", "INACTIVE"):
            raise invalid_request(
                "invalid",
                'external_membership_status must be "ACTIVE" or "INACTIVE".',
                "external_membership_status",
            )
        updates["external_membership_status"] = body["external_membership_status"]
    if "external_membership_type" in body:
        updates["external_membership_type"] = _text(body, "external_membership_type", 100)
    return updates


async def update_connection(request: Request, ctx: Context, conn: Connection) -> Response:
    """PATCH /v2/connections/{id}/ → 202 (reference, Connection PATCH).

    USER_CUSTOMER_INFO: only `status` (ACTIVE joins the program, INACTIVE leaves it) of your own
    connection. ADMIN_CUSTOMER_INFO: only the external_* fields and home_location, at a business
    where you are ADMIN staff. Validation is complete before anything changes.
    """
    from .api import serialize_connection  # api.py imports this module

    store, token = ctx.store, ctx.token
    CUSTOMER_INFO.check(token)
    allowed: list[str] = []
    if "USER_CUSTOMER_INFO" in token.scopes and conn.user_id == token.user_id:
        allowed += USER_CONNECTION_FIELDS
    if "ADMIN_CUSTOMER_INFO" in token.scopes and _is_admin(store, token.user_id, conn.business_id):
        allowed += ADMIN_CONNECTION_FIELDS
    body = await read_json(request)
    for key in sorted(body):
        if key not in allowed:
            raise ApiError(
                403,
                AUTHORIZATION_ERROR,
                "field_not_allowed",
                f"You may not PATCH {key} on this connection; you may PATCH only "
                f"{', '.join(allowed) or 'nothing'}.",
                key,
            )
    if not body:
        raise invalid_request("required", f"Send the fields to update: {', '.join(allowed)}.")
    updates = _admin_updates(store, conn, body)
    if "status" in body:
        updates.update(_status_updates(store, conn, body["status"]))
    changed = {k: v for k, v in updates.items() if getattr(conn, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(conn, key, value)
        conn.last_mod_dt = store.now()
    if "rewards_program_join_dt" in changed:  # the first join only
        award_join_bonus(store, conn)
    return JSONResponse(serialize_connection(conn, ctx), status_code=202)


def award_join_bonus(store: Store, conn: Connection) -> None:
    """Joining earns the business's REGISTRATION perk, once, like any earned transaction."""
    perk = next(
        (
            p
            for p in store.perks.values()
            if p.business_id == conn.business_id
            and p.classification == "EARN"
            and p.type == "REGISTRATION"
            and p.status == "ACTIVE"
        ),
        None,
    )
    if perk is None or perk.points <= 0:
        return
    now = store.now()
    txn = Transaction(
        transaction_id=max(store.transactions, default=0) + 1,
        business_id=conn.business_id,
        user_id=conn.user_id,
        perk_id=perk.perk_id,
        location_id=conn.home_location_id,
        title=perk.display_name or perk.title,
        classification="EARN",
        points=perk.points,
        quantity=1,
        transaction_dt=now,
    )
    store.transactions[txn.transaction_id] = txn
    conn.point_balance += perk.points
    conn.lifetime_earned_points += perk.points
    conn.last_transaction_dt = now


RESOURCES = [
    CHALLENGES,
    CHALLENGE_REQUIREMENTS,
    CHALLENGE_CONNECTIONS,
    CHALLENGE_SUMMARIES,
    REFERRALS,
    PROMOTIONS,
    AGREEMENT_VERSIONS,
    USER_AGREEMENTS,
]

routes = [
    *resource_routes(RESOURCES),
    Route("/v2/batch/user-business-agreements/", batch_user_agreements, methods=ALL_METHODS),
    Route("/media/promotions/{promotion_id:int}.svg", promotion_picture),
]
