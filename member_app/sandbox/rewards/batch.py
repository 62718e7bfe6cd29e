"""Transaction Batch (reference: `POST /v2/batch/transactions/`): "a list of transaction data
for a given Business. Limit of 200 can be posted at a time."

Each transaction is checked and written exactly as `POST /v2/transactions/` from a staff token
would do it (`record_staff_transaction`, admin_transactions.py), its references read from
primary keys ("Resource URIs are not supported. Only primary keys are used"), with the batch's
`voucher_start_as_unused` and `limit_to_once_per_calendar_day` ("the following fields will
apply to the entire batch").

"A 200 response with a list of JSON objects representing each transaction's result. Results
will be returned in the order they were given": the created transaction, its ids as strings as
the example writes them, or `{"errors": {"message": ..., "code": ...}}`. Items run in order,
each on what the earlier ones wrote (a `trans_source_id` used earlier in the same batch is a
duplicate); a refused item writes nothing and the others go on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import bodies
from ..errors import ApiError, invalid_request
from ..external_members import read_batch
from ..profiles import error_code, profile_of, trim
from ..records import Transaction
from ..resources import ALL_METHODS, ScopeRule, authenticate, iso, not_implemented
from ..store import AccessToken, Store
from .admin_transactions import StaffTransaction, record_staff_transaction, staff_business

# Reference, Transaction Batch, Restrictions: PUBLIC, and "Both of these".
BATCH_SCOPES = ScopeRule(all_of=("PUBLIC", "ADMIN_CUSTOMER_GRANT_POINTS", "ADMIN_CUSTOMER_REDEEM"))
BATCH_LIMIT = 200
BATCH_PARAMS = (
    "business", "send_email", "voucher_start_as_unused", "limit_to_once_per_calendar_day",
    "transactions",
)  # fmt: skip
# "Transaction Parameters", and `business`: "For each transaction in the 'transactions' list the
# following fields must always be present: Business ID, ..." (optional here; the batch's own).
ITEM_PARAMS = frozenset((
    "business", "location", "external_location_id", "perk", "quantity", "trans_source_id",
    "transaction_dt", "user_email", "user", "first_name", "last_name", "external_member_id",
    "external_system_id",
))  # fmt: skip


def _key(value: int | None) -> str | None:
    return None if value is None else str(value)


def serialize_batch_transaction(txn: Transaction) -> dict[str, Any]:
    """A created transaction as Transaction Batch's example writes it: ids as strings (but
    `transaction_id`), no URIs, `trans_source_id` null when none was sent."""
    return {
        "classification": txn.classification,
        "transaction_dt": iso(txn.transaction_dt),
        "perk": str(txn.perk_id),
        "business": str(txn.business_id),
        "transaction_status": txn.transaction_status,
        "voucher": _key(txn.voucher_id),
        "transaction_reference": _key(txn.transaction_reference_id),
        "location": _key(txn.location_id),
        "user": str(txn.user_id),
        "title": txn.title,
        "trans_source_id": txn.trans_source_id or None,
        "points": txn.points,
        "transaction_id": txn.transaction_id,
        "quantity": txn.quantity,
    }


def _pk(item: dict[str, Any], key: str) -> int | None:
    return None if item.get(key) is None else bodies.pk(item[key], key)


def _one(
    store: Store, token: AccessToken, business_id: int, item: object, flags: dict[str, bool]
) -> dict[str, Any]:
    """Check and write one item of the batch; its result."""
    if not isinstance(item, dict):
        raise invalid_request("invalid", "Each transaction must be a JSON object.", "transactions")
    for key in sorted(item):
        if key not in ITEM_PARAMS:
            raise invalid_request("invalid_field", f"{key!r} is not a transaction parameter.", key)
    if _pk(item, "business") not in (None, business_id):
        raise invalid_request(
            "invalid", "A batch's transactions are all for the batch's business.", "business"
        )
    staff = StaffTransaction(
        business_id, _pk(item, "location"), _pk(item, "perk"), _pk(item, "user"), item, **flags
    )
    return serialize_batch_transaction(record_staff_transaction(store, token, staff))


async def batch_transactions(request: Request) -> Response:
    """POST /v2/batch/transactions/ → 200, one result per transaction, in the order given.
    GET: "You can't read from this resource" (501, as every verb the reference does not take)."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method != "POST":
        raise not_implemented(request)
    BATCH_SCOPES.check(token)
    body = await bodies.read_json(request)
    business_id, items = read_batch(body, BATCH_PARAMS, "transactions", BATCH_LIMIT)
    staff_business(store, token, business_id)
    bodies.flag(body, "send_email", True)  # checked; the sandbox sends no email
    flags = {
        "voucher_start_as_unused": bodies.flag(body, "voucher_start_as_unused", False),
        "limit_to_once_per_calendar_day": bodies.flag(
            body, "limit_to_once_per_calendar_day", False
        ),
    }
    profile = profile_of(request)  # a batch's items are not a resource's: trimmed here
    results = []
    for item in items:
        try:
            result = _one(store, token, business_id, item, flags)
        except ApiError as error:
            # The example's failed item: {"errors": {"message": ..., "code": ...}}.
            code = error_code(error.code, profile)
            result = {"errors": {"message": error.message, "code": code}}
        results.append(trim("batch/transactions", result, profile))
    return JSONResponse({"business": str(business_id), "transactions": results})


routes = [Route("/v2/batch/transactions/", batch_transactions, methods=ALL_METHODS)]
