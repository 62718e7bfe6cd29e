"""Reading Perkville's answers: the JSON object a call returns, or the error it stands for
(reference, Handling Errors: an `error_type`, and `errors` keyed by field, each with a `code`
and a `message`)."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx2

from .errors import (
    PerkvilleAuthError,
    PerkvilleDuplicate,
    PerkvilleError,
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleNotImplemented,
    PerkvilleRefused,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)

log = logging.getLogger(__name__)

_ID_SEGMENT = re.compile(r"/[0-9]+(?=/|$)")

# Perkville's own refusal codes start so (pv_txn_insufficient_points, ...); the others are
# field validation codes (required, invalid...).
REFUSAL_PREFIX = "pv_"

_BY_STATUS: dict[int, type[PerkvilleError]] = {
    401: PerkvilleAuthError,
    403: PerkvilleForbidden,
    404: PerkvilleNotFound,
}


def endpoint_of(path: str) -> str:
    """`/v2/user-vouchers/42/` as `/v2/user-vouchers/{id}/` (and an absolute URL's path)."""
    path = httpx2.URL(path).path if "://" in path else path
    return _ID_SEGMENT.sub("/{id}", path)


def objects(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a list answer (reference, Pagination), leaving out anything malformed."""
    found = data.get("objects")
    return [obj for obj in found if isinstance(obj, dict)] if isinstance(found, list) else []


def records(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The records of a list answer, or the answer itself when it is one bare record (it has
    `key`): the Redeeming Rules example answers a bare rule object, not a list."""
    if "objects" not in data and key in data:
        return [data]
    return objects(data)


def more_after(data: dict[str, Any], count: int, asked: int) -> bool:
    """Whether a list goes on after this page of `count` records, asked for `asked` at a time.
    Tastypie's `meta.next` says so when Perkville sends it; the reference's `meta` has only
    `limit` and `offset`, so otherwise a full page means there may be more, full being the
    `limit` Perkville says it used when that is less than asked (a lower cap of its own)."""
    meta = data.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    if "next" in meta:
        return bool(meta["next"])
    used = meta.get("limit")
    cap = used if isinstance(used, int) and not isinstance(used, bool) and used > 0 else asked
    return count >= min(cap, asked)


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` in seconds (the HTTP-date form is treated as "later": no retry)."""
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return float("inf")


def error_details(errors: object) -> list[tuple[str, str, str]]:
    """Each (field, code, message) of an `errors` object, in order:
    `{"field": [{"code", "message"}]}`, the field being `__all__` for the whole request."""
    if not isinstance(errors, dict):
        return []
    return [
        (str(field), str(item.get("code", "")), str(item.get("message", "")))
        for field, items in errors.items()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]


def names_duplicate(codes: tuple[str, ...], fields: tuple[str, ...]) -> bool:
    """Whether a refused transaction speaks of its trans_source_id having been used: the
    reference names no code for it, so a code that says `duplicate` or `trans_source_id`, or
    any error under the `trans_source_id` field (whatever its code)."""
    by_code = any("duplicate" in code or "trans_source_id" in code for code in codes)
    return by_code or "trans_source_id" in fields


def request_error(
    message: str,
    *,
    status: int,
    codes: tuple[str, ...],
    fields: tuple[str, ...] = (),
    error_type: str | None = None,
    transaction: bool = False,
) -> PerkvilleRequestError:
    """What a refused request means. For a `transaction`, an error about its trans_source_id
    says the request may have been made before (`names_duplicate`); otherwise a `pv_*` code
    is a refusal by the program's rules."""
    if transaction and names_duplicate(codes, fields):
        return PerkvilleDuplicate(
            message, status=status, error_type=error_type, codes=codes, fields=fields
        )
    refusal = next((code for code in codes if code.startswith(REFUSAL_PREFIX)), None)
    if refusal is not None:
        return PerkvilleRefused(
            message, code=refusal, status=status, error_type=error_type, codes=codes, fields=fields
        )
    return PerkvilleRequestError(
        message, status=status, error_type=error_type, codes=codes, fields=fields
    )


def parse(response: httpx2.Response, path: str, method: str = "GET") -> dict[str, Any]:
    """The answer's JSON object, or raise the PerkvilleError it stands for. A bare JSON list
    reads as a list's records (`objects`). A write answered 2xx without a JSON body (a 204, an
    empty body) succeeded: it reads as `{}`, and the caller reads back what it needs."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= status < 300:
        if isinstance(body, dict):
            return body
        if isinstance(body, list):
            return {"objects": body}
        if method != "GET":
            return {}
    if status == 501:
        # Reference, Handling Errors: "Method Not Implemented". Perkville is up; asking again
        # will not help.
        raise PerkvilleNotImplemented(f"Perkville does not implement {method} {path}", status=501)
    if status >= 500 or status == 429 or not isinstance(body, dict):
        raise PerkvilleUnavailable(
            f"Perkville answered {status} ({path})",
            status=status,
            retry_after=retry_after(response.headers.get("retry-after")),
        )
    error_type = body.get("error_type") if isinstance(body.get("error_type"), str) else None
    details = error_details(body.get("errors"))
    codes = tuple(code for _, code, _ in details)
    fields = tuple(dict.fromkeys(field for field, _, _ in details))
    message = "; ".join(m for _, _, m in details if m) or f"Perkville answered {status} ({path})"
    log.info("perkville %s on %s: %s %s", status, path, error_type, ",".join(codes))
    cls = _BY_STATUS.get(status)
    if cls is not None:
        raise cls(message, status=status, error_type=error_type, codes=codes, fields=fields)
    raise request_error(
        message,
        status=status,
        codes=codes,
        fields=fields,
        error_type=error_type,
        transaction=endpoint_of(path).endswith("/transactions/"),
    )
