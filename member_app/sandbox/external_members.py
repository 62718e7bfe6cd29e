"""External members (reference: External Member, External Member Batch): "external membership
details for a user at a business", as the business's own membership system knows them.

A record is named by (business, `external_system_id`, `external_member_id`), unique together.
Its membership fields are the ones Connection PATCH marks "DEPRECATED - Please use External
Member", so every write copies the fields it sends (`external_membership_status`,
`external_membership_type`, `external_join_dt`, `external_cancel_dt`, the home location) onto
the member's connection, whose `last_mod_dt` "primarily applies to the status attribute and
external membership information".

`POST /v2/external-members/` creates one (201), `PATCH /v2/external-members/{id}/` updates one
(201: the reference's "Returns" says so), and `POST /v2/batch/external-members/` creates or
updates up to 50 (200, one result per item, in order). A transaction may name its member by
these ids too (`link_external_id`; rewards/admin_transactions.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import bodies
from .errors import AUTHORIZATION_ERROR, ApiError, invalid_request
from .profiles import profile_of, trim
from .records import Connection, ExternalMember
from .resources import (
    ALL_METHODS,
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    Written,
    authenticate,
    iso,
    not_implemented,
    required_filters,
    resource_routes,
    uri,
)
from .rewards.awarding import connection_for, member_for_email
from .store import AccessToken, Store, next_id

# Reference, External Member and External Member Batch, Restrictions: ADMIN_CUSTOMER_INFO (only).
SCOPES = ScopeRule(all_of=("ADMIN_CUSTOMER_INFO",))
BATCH_LIMIT = 50  # "Limit of 50 can be posted at a time"
STATUSES = ("ACTIVE", "INACTIVE", None)  # 'Values include "ACTIVE", "INACTIVE", or null'
# The right a non-ADMIN caller lacks, as the 403 names it (admin_business).
_ADMIN_ONLY_TO = "write its external members"

# The parameters of each write, as the reference lists them: what a write may say of the
# membership and the user (PATCH's list), and what names a new record (POST's and the batch's).
DETAIL_PARAMS = (
    "external_membership_type", "external_membership_status", "home_location",
    "external_home_location_id", "external_cancel_dt", "external_join_dt", "birthday",
    "first_name", "last_name",
)  # fmt: skip
IDENTITY_PARAMS = ("user_email", "external_member_id", "external_system_id", "can_receive_emails")
POST_PARAMS = ("business", *IDENTITY_PARAMS, *DETAIL_PARAMS)
BATCH_ITEM_PARAMS = (*IDENTITY_PARAMS, *DETAIL_PARAMS)  # "External Member Parameters"
# The record's fields a write may set, which are the connection's too (Connection: Fields).
MEMBERSHIP_FIELDS = (
    "external_membership_status", "external_membership_type", "external_join_dt",
    "external_cancel_dt", "home_location_id",
)  # fmt: skip


def serialize_external_member(member: ExternalMember, ctx: Context) -> dict[str, Any]:
    key = member.external_member_identifier_id
    return {
        "business": uri("businesses", member.business_id),
        "connection": uri("connections", member.connection_id),
        "created_dt": iso(member.created_dt),
        "external_cancel_dt": iso(member.external_cancel_dt),
        "external_join_dt": iso(member.external_join_dt),
        "external_member_id": member.external_member_id,
        "external_membership_status": member.external_membership_status,
        "external_membership_type": member.external_membership_type,
        "external_system_id": member.external_system_id,
        "home_location": uri("locations", member.home_location_id),
        "id": str(key),  # the reference's examples write it as a string: "id": "3"
        "last_mod_dt": iso(member.last_mod_dt),
        "resource_uri": uri("external-members", key),
        "user": uri("users", member.user_id),
    }


def _zulu(moment: datetime | None) -> str | None:
    """A UTC datetime as External Member Batch's example writes it: "2018-05-02T12:35:00Z"."""
    text = iso(moment)
    return None if text is None else text.replace("+00:00", "Z")


def serialize_batch_item(member: ExternalMember) -> dict[str, Any]:
    """An item of External Member Batch's answer, as its example writes one: ids, no URIs."""
    return {
        "external_membership_status": member.external_membership_status,
        "user_id": member.user_id,
        "resource_id": member.external_member_identifier_id,
        "external_join_dt": _zulu(member.external_join_dt),
        "external_member_id": member.external_member_id,
        "external_system_id": member.external_system_id,
        "external_cancel_dt": _zulu(member.external_cancel_dt),
        "connection_id": member.connection_id,
        "home_location_id": member.home_location_id,
        "external_membership_type": member.external_membership_type,
    }


def _visible(member: ExternalMember, token: AccessToken, store: Store) -> bool:
    """ADMIN_CUSTOMER_INFO, at a business where the token's user is ADMIN staff (the rule of
    the connection the record belongs to)."""
    admin = "ADMIN_CUSTOMER_INFO" in token.scopes
    return admin and store.is_admin(token.user_id, member.business_id)


_required = required_filters(
    "external members", ("business", "user", "user__emails__email"), "business"
)


def _check_filters(filters: Sequence[Filter]) -> None:
    """Required Filters: "either a business filter, user filter, or both", never business__in;
    external_member_id: "When filtering on this attribute, external_system_id is REQUIRED"."""
    _required(filters)
    named = {f.field for f in filters}
    if "external_member_id" in named and "external_system_id" not in named:
        raise invalid_request(
            "required",
            "Filtering on external_member_id needs an external_system_id filter too.",
            "external_system_id",
        )


# --- reading what a write sends -----------------------------------------------------------------


def read_batch(
    body: dict[str, Any], params: Sequence[str], key: str, limit: int
) -> tuple[int, list[Any]]:
    """What a batch request sends (reference: Getting Started with Batch Endpoints): only
    `params`, the business's id ("Resource URIs are not supported. Only primary keys are
    used"), and a list of at most `limit` items under `key`."""
    bodies.only(body, params)
    if body.get("business") is None:
        raise invalid_request("required", "business is required.", "business")
    business_id = bodies.pk(body["business"], "business")
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise invalid_request("required", f"{key} must be a non-empty list.", key)
    if len(items) > limit:
        raise invalid_request(
            "invalid", f"A limit of {limit} can be posted at a time; this has {len(items)}.", key
        )
    return business_id, items


def admin_business(store: Store, token: AccessToken, business_id: int, *, only_to: str) -> int:
    """The business a write is for, where the token's user must be ADMIN staff. `only_to` is
    what the write does, so the 403 tells the caller which right they lack."""
    if business_id not in store.businesses:
        raise invalid_request("invalid", "No such business.", "business")
    if not store.is_admin(token.user_id, business_id):
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "not_business_admin",
            f"Only ADMIN staff of this business may {only_to}.",
            "business",
        )
    return business_id


def external_id(values: dict[str, Any], key: str) -> str:
    """A required external identifier (`external_system_id`, `external_member_id`): text, or a
    number written as text."""
    value = values.get(key)
    if value is None or value == "":
        raise invalid_request("required", "This field is required.", key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise invalid_request("invalid", f"{key} must be a string.", key)
    if len(str(value).strip()) > 255:
        raise invalid_request("invalid", f"{key} must be at most 255 characters.", key)
    return str(value).strip()


def business_location(
    store: Store,
    business_id: int,
    location_id: int | None,
    external: object,
    fields: tuple[str, str],
) -> int | None:
    """The business's location named by its id or by its `external_location_id` (matched
    ignoring case; "Include this OR the ... parameter, but not both"); None when neither is
    sent. `fields` are the two parameters' names, for the errors."""
    id_field, external_field = fields
    if location_id is not None and external is not None:
        raise invalid_request(
            "invalid", f"Include {id_field} or {external_field}, not both.", id_field
        )
    if location_id is not None:
        loc = store.locations.get(location_id)
        if loc is None or loc.business_id != business_id:
            raise invalid_request("invalid", "No such location at this business.", id_field)
        return location_id
    if external is None:
        return None
    wanted = str(external).strip().lower() if isinstance(external, str | int) else ""
    found = next(
        (
            key
            for key, loc in sorted(store.locations.items())
            if loc.business_id == business_id
            and wanted
            and loc.external_location_id.lower() == wanted
        ),
        None,
    )
    if found is None:
        raise invalid_request(
            "invalid", "No location of this business has that external_location_id.", external_field
        )
    return found


@dataclass(frozen=True)
class _Details:
    """What a write says: the record's membership fields it sends (only those change), and the
    user's names and birthday ("If the user already exists, and does not have a first name on
    file, we will update the user with the provided first name")."""

    membership: dict[str, Any]
    first_name: str
    last_name: str
    birthday: str | None


def _details(
    store: Store, business_id: int, values: dict[str, Any], home_location_id: int | None
) -> _Details:
    """Read and check the details a write sends (nothing is written). `home_location_id` is
    `home_location` already read: a URI in the resource's writes, an id in the batch."""
    membership: dict[str, Any] = {}
    if "external_membership_status" in values:
        status = values["external_membership_status"]
        if status not in STATUSES:
            raise invalid_request(
                "invalid",
                'external_membership_status must be "ACTIVE", "INACTIVE" or null.',
                "external_membership_status",
            )
        membership["external_membership_status"] = status
    if "external_membership_type" in values:
        kind = values["external_membership_type"]
        membership["external_membership_type"] = (
            None if kind is None else bodies.text(values, "external_membership_type", 100)
        )
    for key in ("external_join_dt", "external_cancel_dt"):
        if key in values:
            membership[key] = bodies.moment(values[key], key)
    home = business_location(
        store,
        business_id,
        home_location_id,
        values.get("external_home_location_id"),
        ("home_location", "external_home_location_id"),
    )
    if home is not None:
        membership["home_location_id"] = home
    birthday = values.get("birthday")
    if birthday is not None:
        written = isinstance(birthday, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", birthday)
        try:
            date.fromisoformat(birthday if written else "")
        except ValueError:
            raise invalid_request("invalid", 'birthday must be "YYYY-MM-DD".', "birthday") from None
    return _Details(
        membership,
        bodies.text(values, "first_name", 150),
        bodies.text(values, "last_name", 150),
        birthday,
    )


# --- writing ------------------------------------------------------------------------------------


def link_external_id(
    store: Store, business_id: int, system_id: str, member_id: str, user_id: int
) -> ExternalMember:
    """A new record associating the external ids with the user (Transaction POST: "If the
    external_member_id does not already exist, then it will become associated with
    user/user_email passed into the request"), at their connection (made if they have none)."""
    conn = connection_for(store, user_id, business_id)
    key = next_id(store.external_members, 0)
    now = store.now()
    member = ExternalMember(
        key, business_id, user_id, conn.connection_id, system_id, member_id,
        created_dt=now, last_mod_dt=now,
    )  # fmt: skip
    store.external_members[key] = member
    return member


def _apply(store: Store, member: ExternalMember, details: _Details) -> None:
    """Write the details on the record, its connection and its user."""
    now = store.now()
    targets: list[ExternalMember | Connection] = [member]
    conn = store.connections.get(member.connection_id)
    if conn is not None:
        targets.append(conn)
    for target in targets:
        changed = {k: v for k, v in details.membership.items() if getattr(target, k) != v}
        for key, value in changed.items():
            setattr(target, key, value)
        if changed:
            target.last_mod_dt = now
    user = store.users[member.user_id]
    filled = False
    for key in ("first_name", "last_name", "birthday"):
        value = getattr(details, key)
        if value and not getattr(user, key):
            setattr(user, key, value)
            filled = True
    if filled:
        user.last_mod_dt = now


def _save(
    store: Store,
    business_id: int,
    values: dict[str, Any],
    home_location_id: int | None,
    *,
    create_only: bool,
) -> ExternalMember:
    """Create the record these external ids name, or (`create_only` false: the batch's "If an
    external member already exists, we'll update the record") update it. Everything is checked
    before anything is written."""
    system_id = external_id(values, "external_system_id")
    member_id = external_id(values, "external_member_id")
    member = store.external_member(business_id, system_id, member_id)
    if member is not None and create_only:
        raise invalid_request(
            "pv_external_member_exists",
            f"This business already has external member {member_id} of {system_id} "
            f"({uri('external-members', member.external_member_identifier_id)}); PATCH it.",
            "external_member_id",
        )
    details = _details(store, business_id, values, home_location_id)
    bodies.flag(values, "can_receive_emails", True)  # new users only; the sandbox sends no email
    email = values.get("user_email")
    if member is None:
        if email is None or email == "":
            raise invalid_request("required", "This field is required.", "user_email")
        address = bodies.email(email, "user_email")
        user = member_for_email(store, business_id, address, details.first_name, details.last_name)
        member = link_external_id(store, business_id, system_id, member_id, user.user_id)
    elif email is not None and bodies.email(email, "user_email") != (
        (store.email_of(member.user_id) or "").lower()
    ):
        raise invalid_request(
            "invalid", "This external member belongs to another user.", "user_email"
        )
    _apply(store, member, details)
    return member


def _home_ref(values: dict[str, Any], *, batch: bool) -> int | None:
    """`home_location` as sent: a location URI, or in a batch its id."""
    raw = values.get("home_location")
    if raw is None:
        return None
    return (
        bodies.pk(raw, "home_location") if batch else bodies.ref(raw, "locations", "home_location")
    )


async def create_external_member(request: Request, ctx: Context) -> Written:
    """POST /v2/external-members/ → 201, the created external member."""
    store, token = ctx.store, ctx.token
    SCOPES.check(token)
    body = await bodies.read_json(request)
    bodies.only(body, POST_PARAMS)
    if body.get("business") is None:
        raise invalid_request("required", "business is required.", "business")
    business_id = admin_business(
        store, token, bodies.ref(body["business"], "businesses", "business"), only_to=_ADMIN_ONLY_TO
    )
    member = _save(store, business_id, body, _home_ref(body, batch=False), create_only=True)
    return 201, serialize_external_member(member, ctx)


async def update_external_member(request: Request, ctx: Context, member: ExternalMember) -> Written:
    """PATCH /v2/external-members/{id}/ → 201 ("A 201 response with a JSON object of the updated
    External Member"): the membership details, the user's blanks."""
    SCOPES.check(ctx.token)
    body = await bodies.read_json(request)
    bodies.only(body, DETAIL_PARAMS)
    if not body:
        raise invalid_request("required", f"Send the fields to update: {', '.join(DETAIL_PARAMS)}.")
    details = _details(ctx.store, member.business_id, body, _home_ref(body, batch=False))
    _apply(ctx.store, member, details)
    return 201, serialize_external_member(member, ctx)


def _batch_item(store: Store, business_id: int, item: object) -> dict[str, Any]:
    """One item's result: the record as created or updated, or its error as External Member
    Batch's example writes one: `{"error_type": ..., "errors": {"user_email": ["This field is
    required."]}}`."""
    try:
        if not isinstance(item, dict):
            raise invalid_request("invalid", "Each external member must be a JSON object.")
        bodies.only(item, BATCH_ITEM_PARAMS)
        member = _save(store, business_id, item, _home_ref(item, batch=True), create_only=False)
    except ApiError as error:
        return {"error_type": error.error_type, "errors": {error.field: [error.message]}}
    return serialize_batch_item(member)


async def batch_external_members(request: Request) -> Response:
    """POST /v2/batch/external-members/ → 200: "a list of JSON objects representing each
    external member create/update result. Results will be returned in the order they were
    given". GET: "You can't read from this resource" (501)."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method != "POST":
        raise not_implemented(request)
    SCOPES.check(token)
    body = await bodies.read_json(request)
    business_id, items = read_batch(
        body, ("business", "external_members"), "external_members", BATCH_LIMIT
    )
    admin_business(store, token, business_id, only_to=_ADMIN_ONLY_TO)
    profile = profile_of(request)  # a batch's items are not a resource's: trimmed here
    results = [
        trim("batch/external-members", _batch_item(store, business_id, item), profile)
        for item in items
    ]
    return JSONResponse({"business": str(business_id), "external_members": results})


EXTERNAL_MEMBERS = Resource(
    "external-members",
    "external members",
    lambda s: s.external_members,
    serialize_external_member,
    SCOPES,
    {
        "id": Field(lambda m, s: m.external_member_identifier_id),
        "business": Field(lambda m, s: m.business_id),
        "user": Field(lambda m, s: m.user_id, "user"),
        "user__emails__email": Field(lambda m, s: s.email_of(m.user_id), "str"),
        "connection": Field(lambda m, s: m.connection_id),
        "external_system_id": Field(lambda m, s: m.external_system_id, "str"),
        "external_member_id": Field(lambda m, s: m.external_member_id, "str"),
        "external_membership_type": Field(lambda m, s: m.external_membership_type, "str"),
        "external_membership_status": Field(lambda m, s: m.external_membership_status, "str"),
        "home_location": Field(lambda m, s: m.home_location_id),
        "external_join_dt": Field(lambda m, s: m.external_join_dt, "datetime"),
        "external_cancel_dt": Field(lambda m, s: m.external_cancel_dt, "datetime"),
    },
    visible=_visible,
    check_filters=_check_filters,
    create=create_external_member,
    update=update_external_member,
)

routes = [
    *resource_routes([EXTERNAL_MEMBERS]),
    Route("/v2/batch/external-members/", batch_external_members, methods=ALL_METHODS),
]
