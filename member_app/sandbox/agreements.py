"""The business's agreements (reference: Agreement Version, User Business Agreement) and how a
customer's acceptance is recorded.

The reference's User Business Agreement resource is read-only ("You can't create new
instances"); Perkville's newer docs record acceptances with an admin-authorized batch call, so
that is what the sandbox offers: `POST /v2/batch/user-business-agreements/` (200), shaped like
the reference's batch endpoints (see the README). Joining the program needs every active
REQUIRED-OPT-IN version accepted (`missing_agreements`; membership.py).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import bodies
from .errors import ApiError, invalid_request
from .external_members import admin_business
from .records import AgreementVersion, UserBusinessAgreement
from .resources import (
    ALL_METHODS,
    CUSTOMER_INFO,
    Context,
    Field,
    Resource,
    ScopeRule,
    authenticate,
    customer_visible,
    iso,
    not_implemented,
    request_context,
    required_filters,
    resource_routes,
    uri,
)
from .store import Store, next_id

BATCH_AGREEMENTS = ScopeRule(all_of=("PUBLIC", "ADMIN_CUSTOMER_INFO"))
BATCH_LIMIT = 50


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
    check_filters=required_filters(
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
    visible=lambda u, token, s: customer_visible(u.business_id, u.user_id, token, s),
    check_filters=required_filters("user business agreements", ("business",), "business"),
)


def _accept_one(store: Store, business_id: int, item: object, ctx: Context) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid_request("invalid", "Each item must be a JSON object.")
    bodies.only(item, ("agreement_version", "user", "user_email"))
    av = store.agreement_versions.get(bodies.pk(item.get("agreement_version"), "agreement_version"))
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
        user = store.users.get(bodies.pk(item["user"], "user"))
    else:
        user = store.user_by_email(bodies.email(item["user_email"], "user_email"))
    if user is None or store.connection_of(user.user_id, business_id) is None:
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
        new_id = next_id(store.user_agreements, 660)
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
    body = await bodies.read_json(request)
    bodies.only(body, ("business", "user_business_agreements"))
    business_id = bodies.pk(body.get("business"), "business")
    admin_business(store, token, business_id, only_to="record its customers' agreements")
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
    ctx = request_context(request, token)
    results = []
    for item in items:
        try:
            results.append(_accept_one(store, business_id, item, ctx))
        except ApiError as error:
            results.append(error.body())
    return JSONResponse({"business": str(business_id), "user_business_agreements": results})


routes = [
    *resource_routes([AGREEMENT_VERSIONS, USER_AGREEMENTS]),
    Route("/v2/batch/user-business-agreements/", batch_user_agreements, methods=ALL_METHODS),
]
