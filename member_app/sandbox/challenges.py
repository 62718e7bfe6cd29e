"""Challenges (reference: Challenge, Challenge Perk Requirement, Challenge Connection, Challenge
Connection Requirement Summary): what a business sets, and each member's part in them.

The writes the reference allows: `POST /v2/challenge-connections/` (201) and
`PATCH /v2/challenge-connections/{id}/` (202) join or leave a challenge as the token's user
(`join_status` ACTIVE or INACTIVE). `record_challenge_progress` counts an earned progress perk.

Every date check uses `store.now()` at request time; "today" is its date on the locations' clocks
(`store.today()`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from starlette.requests import Request

from . import bodies
from .errors import AUTHORIZATION_ERROR, INVALID_REQUEST_ERROR, ApiError, invalid_request
from .records import (
    Challenge,
    ChallengeConnection,
    ChallengePerkRequirement,
    ChallengeRequirementSummary,
)
from .resources import (
    CUSTOMER_INFO,
    Context,
    Field,
    Resource,
    ScopeRule,
    Written,
    customer_visible,
    iso,
    required_filters,
    resource_routes,
    uri,
)
from .store import AccessToken, Store, next_id

# Reference, Challenge Connection POST/PATCH: "Required Scopes: USER_CUSTOMER_INFO" (only).
JOIN_CHALLENGE = ScopeRule(all_of=("USER_CUSTOMER_INFO",))


def _day(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


def _midnight(text: str | None) -> datetime | None:
    """A date as a datetime (midnight UTC), so date filters take the usual datetime values."""
    day = _day(text)
    return None if day is None else datetime.combine(day, time(), UTC)


def _cc_owner(cc: ChallengeConnection, store: Store) -> int | None:
    conn = store.connections.get(cc.connection_id)
    return conn.user_id if conn else None


def _cc_email(cc: ChallengeConnection, store: Store) -> str | None:
    return store.email_of(_cc_owner(cc, store) or 0)


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
    return customer_visible(cc.business_id, _cc_owner(cc, s), token, s)


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
            new_id = next_id(store.challenge_summaries, 900)
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
    conn = store.connection_of(user_id, challenge.business_id)
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
    phase = challenge_phase(challenge, store.today(), cc)
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
        new_id = next_id(store.challenge_connections, 850)
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

    For the Transaction resource (rewards/transactions.py) to call when it records an EARN of
    `perk_id`. A challenge counts it if the member's join_status is ACTIVE, the day is within
    its dates, and `location_id` is one of its `locations` (or it has none). A requirement
    completes at its required_quantity; the challenge completes when all of its requirements
    have.
    """
    moment = when or store.now()
    conn = store.connection_of(user_id, business_id)
    if conn is None:
        return
    for cc in list(store.challenge_connections.values()):
        challenge = store.challenges.get(cc.challenge_id)
        if (
            challenge is None
            or cc.connection_id != conn.connection_id
            or cc.join_status != "ACTIVE"
            or cc.completed
            or challenge_phase(challenge, store.local(moment).date(), cc) != "running"
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


async def create_challenge_connection(request: Request, ctx: Context) -> Written:
    """POST /v2/challenge-connections/ {"challenge": URI, "join_status": ...} → 201."""
    JOIN_CHALLENGE.check(ctx.token)
    body = await bodies.read_json(request)
    bodies.only(body, ("challenge", "join_status"))
    for key in ("challenge", "join_status"):
        if body.get(key) in (None, ""):
            raise invalid_request("required", f"{key} is required.", key)
    challenge = ctx.store.challenges.get(bodies.ref(body["challenge"], "challenges", "challenge"))
    if challenge is None:
        raise invalid_request("invalid", "No such challenge.", "challenge")
    cc = set_join_status(ctx.store, ctx.token.user_id, challenge, body["join_status"])
    return 201, serialize_challenge_connection(cc, ctx)


async def update_challenge_connection(
    request: Request, ctx: Context, cc: ChallengeConnection
) -> Written:
    """PATCH /v2/challenge-connections/{id}/ {"join_status": ...} → 202."""
    JOIN_CHALLENGE.check(ctx.token)
    if _cc_owner(cc, ctx.store) != ctx.token.user_id:
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_own_challenge_connection",
            "Only the member of a challenge connection can change its join_status.",
        )
    body = await bodies.read_json(request)
    bodies.only(body, ("join_status",))
    if body.get("join_status") in (None, ""):
        raise invalid_request("required", "join_status is required.", "join_status")
    challenge = ctx.store.challenges[cc.challenge_id]
    updated = set_join_status(ctx.store, ctx.token.user_id, challenge, body["join_status"])
    return 202, serialize_challenge_connection(updated, ctx)


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
    check_filters=required_filters(
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
    visible=lambda c, token, s: customer_visible(c.business_id, _cc_owner(c, s), token, s),
    check_filters=required_filters(
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
    check_filters=required_filters(
        "challenge connection requirement summaries",
        ("challenge", "challenge_connection", "challenge_perk_requirement"),
        "challenge",
    ),
)


routes = resource_routes(
    [CHALLENGES, CHALLENGE_REQUIREMENTS, CHALLENGE_CONNECTIONS, CHALLENGE_SUMMARIES]
)
