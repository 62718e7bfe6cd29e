"""`POST /v2/transactions/` for every token the reference allows (reference, Transaction POST):
a member redeeming (USER_REDEEM; transactions.py), and a business's own systems with a staff
token: EARN for a customer (ADMIN_CUSTOMER_GRANT_POINTS; awarding.py) and REDEEM on a
customer's behalf (ADMIN_CUSTOMER_REDEEM: "This will create a Voucher using the initial voucher
status for the given perk, unless voucher_start_as_unused is set to True" — USED otherwise).

The member is named by `user`, `user_email` (created if new), or `external_member_id` with
`external_system_id` ("If no User has the provided external member info, we'll create a User
from the provided email ... If no email was provided in the latter case, the Transaction will
fail"); the ids are External Member records (external_members.py).

One function checks and writes one staff transaction, its references already read as ids
(`record_staff_transaction`): this endpoint reads them from URIs, Transaction Batch
(rewards/batch.py) from primary keys. Every rule is checked before anything is written, so a
refused transaction leaves no trace: no new user, connection or external id.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .. import bodies
from ..errors import invalid_request
from ..external_members import business_location, external_id, link_external_id
from ..records import Perk, Transaction
from ..resources import Context, Written, resource_routes
from ..store import AccessToken, Store
from .awarding import Award, award, connection_for, earned_today, member_for_email
from .redeeming import refusal
from .transactions import (
    POST_DO,
    POST_INFO,
    POST_PARAMS,
    TRANSACTIONS,
    create_transaction,
    duplicate_error,
    forbidden,
    serialize_transaction,
    spend,
    transaction_dt_of,
    uri_id,
)

ADMIN_SCOPES = ("ADMIN_CUSTOMER_GRANT_POINTS", "ADMIN_CUSTOMER_REDEEM")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class StaffTransaction:
    """One transaction a business's systems send, its references read as ids: from URIs in
    `POST /v2/transactions/`, from primary keys in Transaction Batch ("Resource URIs are not
    supported. Only primary keys are used"; rewards/batch.py). `values` is the rest, as sent."""

    business_id: int  # checked by `staff_business`
    location_id: int | None
    perk_id: int | None
    user_id: int | None
    values: dict[str, Any]
    voucher_start_as_unused: bool = False
    limit_to_once_per_calendar_day: bool = False


@dataclass(frozen=True)
class _Customer:
    """Whom a transaction is for, found without writing anything: a known user, or the email to
    make one from; and external ids not yet associated with anyone, to associate with them."""

    user_id: int | None
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    link: tuple[str, str] | None = None  # (external_system_id, external_member_id)


def signed_quantity(body: dict[str, Any]) -> int:
    """An earn's quantity: a whole number, negative for a refund ("you may post a negative
    quantity"), never 0."""
    raw = body.get("quantity")
    if raw is None:
        raise invalid_request("required", "quantity is required.", "quantity")
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not re.fullmatch(r"-?\d{1,9}", text) or int(text) == 0:
        raise invalid_request("invalid", "quantity must be a whole number, not 0.", "quantity")
    return int(text)


def staff_business(store: Store, token: AccessToken, business_id: int | None) -> int:
    """The business a staff transaction is for: one where the token's user is staff."""
    if business_id is None or business_id not in store.businesses:
        raise invalid_request("required", "business must name a business.", "business")
    if business_id not in store.staff_businesses(token.user_id):
        raise forbidden("You are not staff at this business.")
    return business_id


def _customer(store: Store, item: StaffTransaction) -> _Customer:
    """The member the transaction is for, named one of the three ways (nothing is written)."""
    values = item.values
    email = values.get("user_email")
    if item.user_id is not None and email is not None:
        raise invalid_request("invalid", "Send user or user_email, not both.", "user")
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email.strip())):
        raise invalid_request("invalid", "user_email must be an email address.", "user_email")
    member_id, system_id = values.get("external_member_id"), values.get("external_system_id")
    if (member_id is None) != (system_id is None):
        raise invalid_request(
            "required",
            "external_member_id and external_system_id go together.",
            "external_system_id" if system_id is None else "external_member_id",
        )
    link = None
    if member_id is not None:
        link = (
            external_id(values, "external_system_id"),
            external_id(values, "external_member_id"),
        )
        # "If included, this external_member_id will be used to identify the User."
        known = store.external_member(item.business_id, *link)
        if known is not None:
            return _Customer(known.user_id)
    first, last = str(values.get("first_name") or ""), str(values.get("last_name") or "")
    if item.user_id is not None:
        if item.user_id not in store.users:
            raise invalid_request("invalid", "No such user.", "user")
        return _Customer(item.user_id, link=link)
    if isinstance(email, str):
        found = store.user_by_email(email)
        return _Customer(found.user_id if found else None, email, first, last, link)
    field = "user_email" if link is not None else "user"
    raise invalid_request("required", "Name the member: user or user_email.", field)


def _settle(store: Store, business_id: int, customer: _Customer) -> int:
    """Make what the transaction needs: the user ("we'll create a new user from the provided
    email"), their connection, and the external ids' association ("If the external_member_id
    does not already exist, then it will become associated with user/user_email")."""
    if customer.user_id is None:
        made = member_for_email(
            store, business_id, customer.email, customer.first_name, customer.last_name
        )
        user_id = made.user_id
    else:
        user_id = customer.user_id
        connection_for(store, user_id, business_id)
    if customer.link is not None:
        link_external_id(store, business_id, *customer.link, user_id)
    return user_id


def record_staff_transaction(
    store: Store, token: AccessToken, item: StaffTransaction
) -> Transaction:
    """Check one staff transaction against every rule, then write it: EARN through awarding.py,
    REDEEM for the customer (its voucher USED, or UNUSED on request). Raises `ApiError`, having
    written nothing, when a rule refuses it. Returns the transaction the answer describes."""
    values, business_id = item.values, item.business_id
    location_id = business_location(
        store,
        business_id,
        item.location_id,
        values.get("external_location_id"),
        ("location", "external_location_id"),
    )
    if location_id is None:
        raise invalid_request(
            "required", "Send either location or external_location_id (not both).", "location"
        )
    perk = store.perks.get(item.perk_id) if item.perk_id is not None else None
    if perk is None or perk.business_id != business_id:
        raise invalid_request("invalid", "perk must name a perk of this business.", "perk")
    _check_scope(perk, token)
    quantity = signed_quantity(values)
    source = values.get("trans_source_id") or ""
    if not isinstance(source, str) or len(source) > 128:
        raise invalid_request(
            "invalid", "trans_source_id must be text of at most 128 characters.", "trans_source_id"
        )
    when = transaction_dt_of(values, store.now())
    if source:
        for txn in store.transactions.values():
            if txn.business_id == business_id and txn.trans_source_id == source:
                raise duplicate_error(txn, token, store)
    customer = _customer(store, item)
    if perk.classification == "REDEEM":
        if quantity < 1:
            raise invalid_request(
                "invalid", "A redemption's quantity must be at least 1.", "quantity"
            )
        if customer.user_id is None:  # a new email: no connection, no points
            raise invalid_request(
                "pv_connection_not_found", "This user is not a customer of this business."
            )
        problem = refusal(store, customer.user_id, perk, location_id, quantity)
        if problem is not None:
            raise problem
    elif (
        item.limit_to_once_per_calendar_day
        and quantity > 0
        and customer.user_id is not None
        and earned_today(store, customer.user_id, perk.perk_id, when)
    ):
        raise invalid_request(
            "pv_txn_once_per_calendar_day",
            f"{perk.title} was already earned by this member today (the location's day); "
            "limit_to_once_per_calendar_day allows one.",
            "limit_to_once_per_calendar_day",
        )
    user_id = _settle(store, business_id, customer)
    if perk.classification == "REDEEM":
        status = "UNUSED" if item.voucher_start_as_unused else "USED"
        return spend(store, user_id, perk, location_id, quantity, when, source, status)
    return award(store, user_id, Award(business_id, location_id, perk, quantity, when, source))


async def create_any_transaction(request: Request, ctx: Context) -> Written:
    """POST /v2/transactions/, whoever sends it."""
    store, token = ctx.store, ctx.token
    POST_DO.check(token)
    POST_INFO.check(token)
    body = await bodies.read_json(request)
    perk_id = uri_id(body, "perk", "perks")
    perk = store.perks.get(perk_id) if perk_id is not None else None
    admin = token.scopes.intersection(ADMIN_SCOPES)
    names_someone = any(
        body.get(k) is not None for k in ("user", "user_email", "external_member_id")
    )
    member_redeem = "USER_REDEEM" in token.scopes and (
        not admin or (perk is not None and perk.classification == "REDEEM" and not names_someone)
    )
    if member_redeem:
        return await create_transaction(request, ctx)
    return await _admin_transaction(body, ctx)


async def _admin_transaction(body: dict[str, Any], ctx: Context) -> Written:
    store, token = ctx.store, ctx.token
    for key in body:
        if key not in POST_PARAMS:
            raise invalid_request("invalid_field", f"{key!r} is not a transaction parameter.", key)
    if "ADMIN_CUSTOMER_INFO" not in token.scopes:
        raise forbidden("A transaction for a customer needs ADMIN_CUSTOMER_INFO.")
    item = StaffTransaction(
        staff_business(store, token, uri_id(body, "business", "businesses")),
        uri_id(body, "location", "locations"),
        uri_id(body, "perk", "perks"),
        uri_id(body, "user", "users"),
        body,
        voucher_start_as_unused=bodies.flag(body, "voucher_start_as_unused", False),
        limit_to_once_per_calendar_day=bodies.flag(body, "limit_to_once_per_calendar_day", False),
    )
    return 201, serialize_transaction(record_staff_transaction(store, token, item), ctx)


def _check_scope(perk: Perk, token: AccessToken) -> None:
    """ "If ADMIN_CUSTOMER_GRANT_POINTS is present, you may create EARN transactions ...";
    "If ADMIN_CUSTOMER_REDEEM is present, you may create REDEEM transactions ..."."""
    earn = perk.classification == "EARN"
    needed = "ADMIN_CUSTOMER_GRANT_POINTS" if earn else "ADMIN_CUSTOMER_REDEEM"
    if needed not in token.scopes:
        raise forbidden(f"A {perk.classification} transaction for a customer needs {needed}.")


# The Transaction resource, its POST answering every token (used in place of transactions.py's).
routes = resource_routes([dataclasses.replace(TRANSACTIONS, create=create_any_transaction)])
